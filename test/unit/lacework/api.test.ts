import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, UsageError, UserAbort } from '../../../src/errors.js';
import { createLaceworkApi, LaceworkApiError, parseRetryAfter, RETRY_LIMITS, type EksAuditInput, type LaceworkApi } from '../../../src/lacework/api.js';
import type { LaceworkCredentials } from '../../../src/lacework/credentials.js';
import { httpTransport, type HttpTransport } from '../../../src/lacework/http.js';
import { startFakeLacework, type FakeLacework, type FakeLaceworkOptions } from '../../fakes/lacework-server.js';

const SECRET = '_s3cr3t0123456789abcdef0123456789';
const KEY_ID = 'ACME_0123456789ABCDEF0123456789ABCDEF0123';
const ACCOUNT_ID = '123456789012';
const INPUT: EksAuditInput = {
  name: 'EKS audit acme',
  snsArn: `arn:aws:sns:us-east-1:${ACCOUNT_ID}:lw-eks-al-1a2b3c4d`,
  s3BucketArn: 'arn:aws:s3:::lw-eks-al-1a2b3c4d',
  roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/lw-eks-al-ca-1a2b3c4d`,
  // The random tail may hold ':' and '/'.
  externalId: `lweid:aws:v2:acme:${ACCOUNT_ID}:aB3:/=,.@-`,
};

/** Every backoff of the client, scaled: 1-2 s steps become 10-20 ms, the 60 s call deadline 600 ms. */
const SCALE = 0.01;

const fakes: FakeLacework[] = [];

beforeEach(() => {
  vi.stubEnv('FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE', String(SCALE));
});

afterEach(async () => {
  // Every test must leave the fake without a single protocol violation.
  const left = fakes.splice(0);
  for (const fake of left) await fake.stop();
  for (const fake of left) expect(fake.violations).toEqual([]);
  vi.unstubAllEnvs();
});

/** A request as the client sent it, with the time it went out (ms, performance.now()). */
interface Sent {
  method: string;
  path: string;
  at: number;
}

interface Setup {
  fake: FakeLacework;
  api: LaceworkApi;
  /** Every request in order, with its time. */
  sent: Sent[];
  creds: LaceworkCredentials;
}

const CREDS: LaceworkCredentials = { account: 'acme', keyId: KEY_ID, secret: SECRET, source: 'test', origin: {} };

async function setup(
  options: { fake?: Partial<FakeLaceworkOptions>; creds?: Partial<LaceworkCredentials>; fetch?: HttpTransport; requestTimeout?: number } = {},
): Promise<Setup> {
  const fake = await startFakeLacework({ account: 'acme', keyId: KEY_ID, secret: SECRET, ...options.fake });
  fakes.push(fake);
  const creds: LaceworkCredentials = { ...CREDS, ...options.creds };
  const sent: Sent[] = [];
  const inner = options.fetch ?? httpTransport;
  const recording: HttpTransport = (input, init) => {
    const url = new URL(input);
    sent.push({ method: init.method, path: url.pathname, at: performance.now() });
    return inner(input, init);
  };
  const api = createLaceworkApi(creds, {
    baseUrl: fake.url,
    fetch: recording,
    ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
  });
  return { fake, api, sent, creds };
}

/** Gaps (ms) between consecutive requests matching method and path. */
function gaps(sent: Sent[], method: string, path: string): number[] {
  const times = sent.filter((r) => r.method === method && r.path === path).map((r) => r.at);
  return times.slice(1).map((t, i) => t - (times[i] ?? t));
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

function tokenCalls(fake: FakeLacework) {
  return fake.requests.filter((r) => r.path === '/api/v2/access/tokens');
}

function creates(fake: FakeLacework) {
  return fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/CloudAccounts');
}

describe('token', () => {
  it('mints a token as reference/lacework.md §3.2 says', async () => {
    const { fake, api } = await setup();
    await api.verify();
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/api/v2/access/tokens');
    expect(req?.body).toEqual({ keyId: KEY_ID, expiryTime: 3600 });
    expect(req?.headers).toMatchObject({
      'x-lw-uaks': '[redacted]',
      'content-type': 'application/json',
      accept: 'application/json',
    });
    expect(req?.headers['user-agent']).toMatch(/^forticnapp-eks-audit\/\d+\.\d+\.\d+/);
    expect(req?.headers['account-name']).toBeUndefined();
  });

  it('sends Account-Name on every call, the token call included', async () => {
    const { fake, api } = await setup({ fake: { subaccount: 'prod-business' }, creds: { subaccount: 'prod-business' } });
    await api.verify();
    await api.listEksAudit();
    expect(fake.requests).toHaveLength(2);
    for (const req of fake.requests) expect(req.headers['account-name']).toBe('prod-business');
  });

  it('reuses one token across calls', async () => {
    const { fake, api } = await setup();
    await api.verify();
    await Promise.all([api.listEksAudit(), api.listEksAudit(), api.getIntegration('ACME_NOPE')]);
    expect(tokenCalls(fake)).toHaveLength(1);
  });

  it('mints one token for concurrent first calls', async () => {
    const { fake, api } = await setup();
    await Promise.all([api.listEksAudit(), api.listEksAudit(), api.listEksAudit()]);
    expect(tokenCalls(fake)).toHaveLength(1);
  });

  it('re-mints when the server says the token expired', async () => {
    const { fake, api } = await setup();
    await api.listEksAudit();
    fake.expireTokens();
    await api.listEksAudit();
    expect(tokenCalls(fake)).toHaveLength(2);
  });

  it('re-mints when its own clock says the token is about to expire', async () => {
    // Rewrite expiresAt to 5 s from now: inside the 10 s renewal margin.
    const shortLived: HttpTransport = async (input, init) => {
      const res = await httpTransport(input, init);
      if (!String(input).endsWith('/api/v2/access/tokens') || res.status !== 201) return res;
      const body = JSON.parse(await res.text()) as { token: string };
      const text = JSON.stringify({ token: body.token, expiresAt: new Date(Date.now() + 5_000).toISOString() });
      return { ...res, text: () => Promise.resolve(text) };
    };
    const { fake, api } = await setup({ fetch: shortLived });
    await api.listEksAudit();
    await api.listEksAudit();
    expect(tokenCalls(fake)).toHaveLength(2);
    expect(fake.requests.every((r) => r.path === '/api/v2/access/tokens' || r.headers.authorization !== undefined)).toBe(true);
  });

  it.each<[string, Partial<LaceworkCredentials>]>([
    ['a wrong secret', { secret: '_wrong0123456789abcdef0123456789' }],
    ['a wrong key id', { keyId: 'ACME_WRONG' }],
  ])('turns 401 for %s into UsageError ApiKeyRejected', async (_what, bad) => {
    const { api } = await setup({ creds: bad });
    const err = await caught(api.verify());
    expect(err).toBeInstanceOf(UsageError);
    const usage = err as UsageError;
    expect(usage.code).toBe('ApiKeyRejected');
    expect(usage.exitCode).toBe(2);
    expect(usage.message).toContain('rejected the API key');
    expect(usage.message).toContain('401 Invalid API key or secret');
    expect(usage.message).toContain('Settings > API keys');
    expect(usage.message).not.toContain(SECRET);
    expect(usage.message).not.toContain(bad.secret ?? SECRET);
  });

  it('never retries a rejected key on create', async () => {
    const { fake, api } = await setup({ creds: { secret: 'nope-nope' } });
    const err = await caught(api.createEksAudit(INPUT));
    expect((err as AppError).code).toBe('ApiKeyRejected');
    expect(tokenCalls(fake)).toHaveLength(1);
    expect(creates(fake)).toHaveLength(0);
  });

  it('names the URL when the server cannot be reached, at once: a refused connection is a wrong address, not a blip', async () => {
    const port = await freePort();
    const api = createLaceworkApi(CREDS, { baseUrl: `http://127.0.0.1:${port}/` });
    expect(api.baseUrl).toBe(`http://127.0.0.1:${port}`);
    const err = await caught(api.verify());
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('LaceworkUnreachable');
    expect((err as AppError).message).toContain(`http://127.0.0.1:${port}`);
    expect((err as AppError).message).toContain('ECONNREFUSED');
    expect((err as AppError).message).not.toContain('gave up');
    expect((err as AppError).message).not.toContain(SECRET);
  });
});

describe('base URL', () => {
  const creds: LaceworkCredentials = { ...CREDS, account: 'acme.fra' };

  it('defaults to https://<account>.lacework.net', () => {
    vi.stubEnv('LW_API_SERVER_URL', '');
    expect(createLaceworkApi(creds).baseUrl).toBe('https://acme.fra.lacework.net');
  });

  it('honours LW_API_SERVER_URL, and an explicit baseUrl over it', () => {
    vi.stubEnv('LW_API_SERVER_URL', 'http://localhost:8080/');
    expect(createLaceworkApi(creds).baseUrl).toBe('http://localhost:8080');
    expect(createLaceworkApi(creds, { baseUrl: 'https://other.example' }).baseUrl).toBe('https://other.example');
  });
});

describe('CloudAccounts', () => {
  it('creates, reads, lists and deletes an AwsEksAudit integration', async () => {
    const { fake, api } = await setup();
    const created = await api.createEksAudit(INPUT);
    expect(created).toMatchObject({
      name: INPUT.name,
      type: 'AwsEksAudit',
      enabled: 1,
      data: {
        snsArn: INPUT.snsArn,
        s3BucketArn: INPUT.s3BucketArn,
        crossAccountCredentials: { roleArn: INPUT.roleArn, externalId: INPUT.externalId },
      },
    });
    expect(creates(fake)[0]?.body).toEqual({
      name: INPUT.name,
      type: 'AwsEksAudit',
      enabled: 1,
      data: {
        snsArn: INPUT.snsArn,
        s3BucketArn: INPUT.s3BucketArn,
        crossAccountCredentials: { roleArn: INPUT.roleArn, externalId: INPUT.externalId },
      },
    });
    expect(fake.integrations.has(created.intgGuid)).toBe(true);

    const got = await api.getIntegration(created.intgGuid);
    expect(got?.intgGuid).toBe(created.intgGuid);
    expect(got?.state?.ok).toBe(true);
    expect(typeof got?.state?.lastSuccessfulTime).toBe('number');

    const listed = await api.listEksAudit();
    expect(listed.map((i) => i.intgGuid)).toEqual([created.intgGuid]);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === '/api/v2/CloudAccounts/AwsEksAudit')).toBe(true);

    await api.deleteIntegration(created.intgGuid);
    expect(fake.integrations.size).toBe(0);
    expect(await api.getIntegration(created.intgGuid)).toBeUndefined();
    // A second delete (teardown run twice) is fine.
    await api.deleteIntegration(created.intgGuid);
    expect(tokenCalls(fake)).toHaveLength(1);
  });

  it('leaves s3BucketArn out when there is none', async () => {
    const { fake, api } = await setup();
    await api.createEksAudit({ ...INPUT, s3BucketArn: '' });
    await api.createEksAudit({ ...INPUT, s3BucketArn: undefined });
    for (const req of creates(fake)) expect(Object.keys((req.body as { data: object }).data)).toEqual(['snsArn', 'crossAccountCredentials']);
  });

  it('surfaces API errors as [METHOD path] status message, and does not retry what will not change', async () => {
    const { fake, api } = await setup();
    fake.failNextCreates(1, 400, 'Name is invalid');
    const err = await caught(api.createEksAudit(INPUT));
    expect(err).toBeInstanceOf(LaceworkApiError);
    expect((err as AppError).code).toBe('LaceworkApiError');
    expect((err as AppError).message).toBe('[POST /api/v2/CloudAccounts] 400 Name is invalid');
    expect((err as LaceworkApiError).retryable).toBe(false);
    expect(creates(fake)).toHaveLength(1);
  });

  it('reads the {"data": {"message"}} error shape too', async () => {
    const dataShaped: HttpTransport = async (input, init) => {
      if (String(input).endsWith('/api/v2/CloudAccounts/AwsEksAudit')) {
        return new Response(JSON.stringify({ data: { statusMessage: 'Service paused' } }), { status: 409 });
      }
      return httpTransport(input, init);
    };
    const { api } = await setup({ fetch: dataShaped });
    const err = await caught(api.listEksAudit());
    expect((err as AppError).message).toBe('[GET /api/v2/CloudAccounts/AwsEksAudit] 409 Service paused');
  });

  it('never quotes the secret, even when the server echoes it', async () => {
    const { fake, api } = await setup();
    fake.failNextCreates(1, 400, `Invalid field value ${SECRET}`);
    const err = (await caught(api.createEksAudit(INPUT))) as AppError;
    expect(err.message).not.toContain(SECRET);
    expect(err.message).toContain('[redacted]');
  });
});

describe('retries: every call, every transient answer (issue 11 item 4)', () => {
  const GUID_PATH = /^\/api\/v2\/CloudAccounts\/ACME_[0-9A-F]+$/;

  /** Each call of the client, run against a fake that has one integration; `path` selects its requests. */
  const CALLS: { name: string; method: string; path: string | RegExp; run: (api: LaceworkApi, guid: string) => Promise<unknown> }[] = [
    { name: 'token', method: 'POST', path: '/api/v2/access/tokens', run: (api) => api.verify() },
    { name: 'list', method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', run: (api) => api.listEksAudit() },
    { name: 'get', method: 'GET', path: GUID_PATH, run: (api, guid) => api.getIntegration(guid) },
    { name: 'create', method: 'POST', path: '/api/v2/CloudAccounts', run: (api) => api.createEksAudit({ ...INPUT, name: 'second' }) },
    { name: 'update', method: 'PATCH', path: GUID_PATH, run: (api, guid) => api.updateEksAudit(guid, { ...INPUT, name: 'renamed' }) },
    { name: 'delete', method: 'DELETE', path: GUID_PATH, run: (api, guid) => api.deleteIntegration(guid) },
  ];

  /** A fake with one integration made through a client other than the one under test (fresh token state). */
  async function withOne(): Promise<Setup & { guid: string }> {
    const s = await setup();
    const other = createLaceworkApi(CREDS, { baseUrl: s.fake.url });
    const { intgGuid } = await other.createEksAudit(INPUT);
    s.fake.requests.length = 0;
    return { ...s, guid: intgGuid };
  }

  const ANSWERS: [number, string][] = [
    [429, 'Too many requests'],
    [500, 'Internal Server Error'],
    [502, 'Bad Gateway'],
    [503, 'Service Unavailable'],
    [403, 'Unauthorized Access'],
  ];

  for (const c of CALLS) {
    for (const [status, message] of ANSWERS) {
      // A 403 to the token call itself is the key being refused: ApiKeyRejected (below), never retried.
      if (c.name === 'token' && status === 403) continue;
      it(`${c.name}: ${status} ${message} once, then it works`, async () => {
        const { fake, api, guid } = await withOne();
        const rule = fake.addRule({ method: c.method, path: c.path, status, message, times: 1 });
        await c.run(api, guid);
        expect(rule.hits).toBe(1);
        const mine = fake.requests.filter((r) => r.method === c.method && (typeof c.path === 'string' ? r.path === c.path : c.path.test(r.path)));
        expect(mine[0]?.status).toBe(status);
        expect(mine).toHaveLength(2);
        expect(mine[1]?.status).toBeLessThan(300);
        // A 403 drops the token: the retry mints a new one first, as the reference CLI does.
        if (status === 403) expect(tokenCalls(fake)).toHaveLength(2);
      });
    }

    it(`${c.name}: a network error once (the connection reset), then it works`, async () => {
      let dropped = false;
      const matches = (url: string, method: string) => method === c.method && (typeof c.path === 'string' ? new URL(url).pathname === c.path : c.path.test(new URL(url).pathname));
      const flaky: HttpTransport = async (input, init) => {
        if (!dropped && matches(String(input), init?.method ?? 'GET')) {
          dropped = true;
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
        }
        return httpTransport(input, init);
      };
      const s = await withOne();
      const api = createLaceworkApi(CREDS, { baseUrl: s.fake.url, fetch: flaky });
      await c.run(api, s.guid);
      expect(dropped).toBe(true);
    });
  }

  it('a request that hangs past the request timeout is retried', async () => {
    const { fake, api } = await setup({ requestTimeout: 100 });
    fake.addRule({ method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', delayMs: 400, times: 1 });
    expect(await api.listEksAudit()).toEqual([]);
    expect(fake.requests.filter((r) => r.path === '/api/v2/CloudAccounts/AwsEksAudit')).toHaveLength(2);
  });

  it('retries the create while the role is not assumable yet, in short capped steps', async () => {
    const { fake, api, sent } = await setup();
    fake.failNextCreates(4);
    const created = await api.createEksAudit(INPUT);
    expect(creates(fake)).toHaveLength(5);
    expect(fake.integrations.size).toBe(1);
    expect(created.intgGuid).toBeTruthy();
    // 1-2 s, then 2 s (scaled): the first pause jittered, none longer than the 2 s cap (plus request time).
    const g = gaps(sent, 'POST', '/api/v2/CloudAccounts');
    expect(g).toHaveLength(4);
    for (const ms of g) {
      expect(ms).toBeGreaterThanOrEqual(RETRY_LIMITS.minDelayMs * SCALE - 1);
      expect(ms).toBeLessThan(RETRY_LIMITS.maxDelayMs * SCALE + 40);
    }
  });

  it.each([
    [400, 'Access denied while validating the integration'],
    [400, 'IAM changes are still propagating'],
    [403, 'Unable to assume role arn:aws:iam::123456789012:role/x'],
  ])('create and update retry %i %j (the role is not usable yet)', async (status, message) => {
    const { fake, api } = await setup();
    fake.failNextCreates(1, status, message);
    const made = await api.createEksAudit(INPUT);
    expect(creates(fake)).toHaveLength(2);
    fake.addRule({ method: 'PATCH', status, message, times: 1 });
    await api.updateEksAudit(made.intgGuid, INPUT);
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
  });

  it('gives up the create after retryFor, saying why, marked retryable', async () => {
    const { fake, api } = await setup();
    fake.failNextCreates(1000);
    const t0 = performance.now();
    const err = (await caught(api.createEksAudit(INPUT, { retryFor: 20_000 }))) as LaceworkApiError;
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(20_000 * SCALE);
    expect(took).toBeLessThan(20_000 * SCALE + 300);
    expect(err).toBeInstanceOf(LaceworkApiError);
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^\[POST \/api\/v2\/CloudAccounts\] 400 Unable to assume role .* \(gave up after \d+ attempts in \d+ s\): FortiCNAPP still cannot assume the cross-account role/);
    expect(err.message).toContain('resumes where this run stopped');
  });

  it('a persistent 403 on the create: retried for a while, then the hint (key rights, --subaccount) and that a re-run resumes', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'POST', path: '/api/v2/CloudAccounts', status: 403, message: 'Unauthorized Access' });
    const t0 = performance.now();
    const err = (await caught(api.createEksAudit(INPUT))) as LaceworkApiError;
    const took = performance.now() - t0;
    // The 403 budget, not the create's 120 s.
    expect(took).toBeGreaterThanOrEqual(RETRY_LIMITS.forbiddenMs * SCALE);
    expect(took).toBeLessThan(RETRY_LIMITS.forbiddenMs * SCALE + 300);
    expect(err).toBeInstanceOf(LaceworkApiError);
    expect(err.status).toBe(403);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^\[POST \/api\/v2\/CloudAccounts\] 403 Unauthorized Access \(still refused after \d+ attempts in \d+ s\)/);
    expect(err.message).toContain('lacks the rights to add and change cloud account integrations');
    expect(err.message).toContain('--subaccount');
    expect(err.message).toContain('resumes where this run stopped');
    expect(err.message).not.toContain(SECRET);
    // Each retry had a fresh token.
    expect(tokenCalls(fake).length).toBe(creates(fake).length);
    expect(fake.integrations.size).toBe(0);
  });

  it('a persistent 403 on a read names the right to read', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', status: 403, message: 'Unauthorized Access' });
    const err = (await caught(api.listEksAudit())) as LaceworkApiError;
    expect(err.status).toBe(403);
    expect(err.message).toContain('lacks the rights to read cloud account integrations');
  });

  it('persistent 503 on any call: gives up after the call deadline, says the platform is unavailable and that a re-run resumes', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', status: 503 });
    const t0 = performance.now();
    const err = (await caught(api.listEksAudit())) as LaceworkApiError;
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(RETRY_LIMITS.callMs * SCALE);
    expect(took).toBeLessThan(RETRY_LIMITS.callMs * SCALE + 300);
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/\(gave up after \d+ attempts in \d+ s\): FortiCNAPP is overloaded or unavailable\. Run the command again later: it resumes/);
  });

  it('the token call: 503 retried, a network blip retried, but a rejected key never', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'POST', path: '/api/v2/access/tokens', status: 503, times: 2 });
    await api.verify();
    expect(tokenCalls(fake)).toHaveLength(3);
    const bad = await setup({ creds: { secret: '_wrong0123456789abcdef0123456789' } });
    const err = (await caught(bad.api.listEksAudit())) as UsageError;
    expect(err.code).toBe('ApiKeyRejected');
    expect(tokenCalls(bad.fake)).toHaveLength(1);
  });

  it('honours Retry-After: never sooner than the platform asked', async () => {
    const { fake, api, sent } = await setup();
    fake.addRule({ method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', status: 429, retryAfter: 10, times: 1 });
    await api.listEksAudit();
    const [gap] = gaps(sent, 'GET', '/api/v2/CloudAccounts/AwsEksAudit');
    // 10 s asked (100 ms scaled), plus the client's own short step.
    expect(gap).toBeGreaterThanOrEqual(10_000 * SCALE);
    expect(gap).toBeLessThan(10_000 * SCALE + RETRY_LIMITS.maxDelayMs * SCALE + 100);
  });

  it('a Retry-After beyond the limit is not waited for: it gives up at once, saying so', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'POST', path: '/api/v2/CloudAccounts', status: 429, retryAfter: 3600, times: 1 });
    fake.addRule({ method: 'POST', path: '/api/v2/CloudAccounts', status: 503, times: 1 });
    const err = (await caught(api.createEksAudit(INPUT))) as LaceworkApiError;
    expect(err.status).toBe(429);
    expect(err.message).toContain('FortiCNAPP asked to retry after 3600 s');
    expect(err.retryable).toBe(true);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('does not retry a 404 (get and update say undefined, delete is done) or a 409', async () => {
    const { fake, api } = await setup();
    expect(await api.getIntegration('ACME_NOPE')).toBeUndefined();
    expect(await api.updateEksAudit('ACME_NOPE', INPUT)).toBeUndefined();
    await api.deleteIntegration('ACME_NOPE');
    fake.addRule({ method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', status: 409, message: 'Conflict' });
    const err = (await caught(api.listEksAudit())) as LaceworkApiError;
    expect(err.status).toBe(409);
    expect(err.retryable).toBe(false);
    expect(fake.requests.filter((r) => r.status === 409)).toHaveLength(1);
  });

  it.each(['ENOTFOUND', 'ECONNREFUSED'])('does not retry %s (a wrong address)', async (code) => {
    let n = 0;
    const broken: HttpTransport = async () => {
      n += 1;
      throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
    };
    const api = createLaceworkApi(CREDS, { baseUrl: 'https://acme.lacework.net', fetch: broken });
    const err = (await caught(api.verify())) as AppError;
    expect(err.code).toBe('LaceworkUnreachable');
    expect(err.message).toContain(code);
    expect(n).toBe(1);
  });

  it('a network error that persists: gives up, saying so and that a re-run resumes', async () => {
    const broken: HttpTransport = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    };
    const api = createLaceworkApi(CREDS, { baseUrl: 'https://acme.lacework.net', fetch: broken });
    const err = (await caught(api.verify())) as AppError;
    expect(err.code).toBe('LaceworkUnreachable');
    expect(err.message).toMatch(/Cannot reach the FortiCNAPP API at https:\/\/acme\.lacework\.net \(ECONNRESET\).* \(gave up after \d+ attempts in \d+ s\)\. A re-run resumes/);
  });

  it('does not duplicate an integration whose answer was lost (a network error or a 5xx after the platform made it)', async () => {
    let dropped = false;
    const lossy: HttpTransport = async (input, init) => {
      const res = await httpTransport(input, init);
      if (!dropped && init?.method === 'POST' && String(input).endsWith('/api/v2/CloudAccounts')) {
        dropped = true;
        // The server made it, but the answer never arrived.
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    const { fake, api } = await setup({ fetch: lossy });
    const created = await api.createEksAudit(INPUT);
    expect(creates(fake)).toHaveLength(1);
    expect(fake.integrations.size).toBe(1);
    expect(fake.integrations.has(created.intgGuid)).toBe(true);
  });

  it('the look for a lost registration is itself retried: a 503 on that list never leads to a blind second create', async () => {
    let dropped = false;
    const lossy: HttpTransport = async (input, init) => {
      const res = await httpTransport(input, init);
      if (!dropped && init?.method === 'POST' && String(input).endsWith('/api/v2/CloudAccounts')) {
        dropped = true;
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    const { fake, api } = await setup({ fetch: lossy });
    fake.addRule({ method: 'GET', path: '/api/v2/CloudAccounts/AwsEksAudit', status: 503, times: 2 });
    await api.createEksAudit(INPUT);
    expect(creates(fake)).toHaveLength(1);
    expect(fake.integrations.size).toBe(1);
  });

  it('stops when the signal aborts during a pause', async () => {
    const { fake, api } = await setup();
    // A long Retry-After (30 s, 300 ms scaled): the abort lands inside the pause.
    fake.addRule({ method: 'POST', path: '/api/v2/CloudAccounts', status: 429, retryAfter: 30 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const t0 = performance.now();
    const err = await caught(api.createEksAudit(INPUT, { signal: controller.signal }));
    expect(performance.now() - t0).toBeLessThan(250);
    expect(err).toBeInstanceOf(UserAbort);
    expect(creates(fake)).toHaveLength(1);
  });

  it('a create already sent is awaited when the signal aborts: the integration it made is there to roll back', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'POST', path: '/api/v2/CloudAccounts', delayMs: 200, times: 1 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await caught(api.createEksAudit(INPUT, { signal: controller.signal }));
    expect(err).toBeInstanceOf(UserAbort);
    // The answer came back (201) before the abort was reported; the caller finds the integration and removes it.
    expect(creates(fake).map((r) => r.status)).toEqual([201]);
    expect(fake.integrations.size).toBe(1);
  });

  it('stops with the signal\'s own AppError reason', async () => {
    const { fake, api } = await setup();
    fake.addRule({ method: 'GET', status: 503 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AppError('Stopped', 'stopped because another step failed')), 50);
    const err = (await caught(api.listEksAudit({ signal: controller.signal }))) as AppError;
    expect(err.code).toBe('Stopped');
  });

  it('stops at once when the signal is already aborted', async () => {
    const { fake, api } = await setup();
    const err = await caught(api.createEksAudit(INPUT, { signal: AbortSignal.abort() }));
    expect(err).toBeInstanceOf(UserAbort);
    expect(fake.requests).toHaveLength(0);
  });

  it('states the real (unscaled) limits that docs/troubleshooting.md gives', () => {
    expect(RETRY_LIMITS).toEqual({ minDelayMs: 1000, maxDelayMs: 2000, callMs: 60_000, createMs: 120_000, forbiddenMs: 20_000, maxRetryAfterMs: 60_000 });
  });
});

describe('the fake itself', () => {
  async function tokenFor(fake: FakeLacework): Promise<string> {
    const res = await fetch(`${fake.url}/api/v2/access/tokens`, {
      method: 'POST',
      headers: { 'X-LW-UAKS': SECRET, 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'forticnapp-eks-audit/0.0.0' },
      body: JSON.stringify({ keyId: KEY_ID, expiryTime: 3600 }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; expiresAt: string };
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now() + 3_500_000);
    return body.token;
  }

  it('answers a malformed request with 400 and records a violation', async () => {
    const { fake } = await setup();
    const token = await tokenFor(fake);
    const base = { Accept: 'application/json', 'Content-Type': 'application/json', 'User-Agent': 'forticnapp-eks-audit/0.0.0' };
    const bad = [
      { headers: { ...base, Authorization: `Bearer ${token}` }, body: INPUT },
      { headers: { ...base, Authorization: token }, body: { name: 'x', type: 'AwsEksAudit', enabled: true, data: {} } },
      {
        headers: { ...base, Authorization: token },
        body: {
          name: 'x',
          type: 'AwsEksAudit',
          enabled: 1,
          data: { snsArn: INPUT.snsArn, crossAccountCredentials: { roleArn: INPUT.roleArn, externalId: `lweid:aws:v2:other:${ACCOUNT_ID}:0123456789` } },
        },
      },
      { headers: { ...base, Authorization: token, 'X-LW-UAKS': SECRET }, body: undefined },
    ];
    for (const b of bad) {
      const res = await fetch(`${fake.url}/api/v2/CloudAccounts`, {
        method: b.body === undefined ? 'GET' : 'POST',
        headers: b.headers,
        body: b.body === undefined ? undefined : JSON.stringify(b.body),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { ok: boolean; message: string };
      expect(body.ok).toBe(false);
      expect(body.message).toMatch(/^Invalid request: /);
    }
    const found = fake.violations.splice(0);
    expect(found.join('\n')).toContain('bare token');
    expect(found.join('\n')).toContain('enabled must be the integer 1 or 0');
    expect(found.join('\n')).toContain('tenant "other"');
    expect(found.join('\n')).toContain('X-LW-UAKS (the secret) sent');
    expect(found.join('\n')).not.toContain(SECRET);
    expect(fake.integrations.size).toBe(0);
  });

  it('answers 401 to an expired token without calling it a violation', async () => {
    const { fake } = await setup();
    const token = await tokenFor(fake);
    fake.expireTokens();
    const res = await fetch(`${fake.url}/api/v2/CloudAccounts/AwsEksAudit`, {
      headers: { Authorization: token, Accept: 'application/json', 'User-Agent': 'forticnapp-eks-audit/0.0.0' },
    });
    expect(res.status).toBe(401);
    expect(fake.violations).toEqual([]);
  });
});

// The fake's subscriptions against moto (create, PATCH, delete, member accounts) are tested in
// test/e2e/fakes.lacework.test.ts, behind the shared requireMotoOrSkip().

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
