import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError, UsageError, UserAbort } from '../../../src/errors.js';
import { createLaceworkApi, LaceworkApiError, type EksAuditInput, type LaceworkApi } from '../../../src/lacework/api.js';
import type { LaceworkCredentials } from '../../../src/lacework/credentials.js';
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

const fakes: FakeLacework[] = [];

afterEach(async () => {
  // Every test must leave the fake without a single protocol violation.
  const left = fakes.splice(0);
  for (const fake of left) await fake.stop();
  for (const fake of left) expect(fake.violations).toEqual([]);
  vi.unstubAllEnvs();
});

interface Setup {
  fake: FakeLacework;
  api: LaceworkApi;
  sleeps: number[];
  creds: LaceworkCredentials;
}

async function setup(
  options: { fake?: Partial<FakeLaceworkOptions>; creds?: Partial<LaceworkCredentials>; fetch?: typeof fetch } = {},
): Promise<Setup> {
  const fake = await startFakeLacework({ account: 'acme', keyId: KEY_ID, secret: SECRET, ...options.fake });
  fakes.push(fake);
  const creds: LaceworkCredentials = { account: 'acme', keyId: KEY_ID, secret: SECRET, source: 'test', ...options.creds };
  const sleeps: number[] = [];
  const api = createLaceworkApi(creds, {
    baseUrl: fake.url,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return { fake, api, sleeps, creds };
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
    const shortLived: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/api/v2/access/tokens') || res.status !== 201) return res;
      const body = (await res.json()) as { token: string };
      return new Response(JSON.stringify({ token: body.token, expiresAt: new Date(Date.now() + 5_000).toISOString() }), {
        status: 201,
        headers: { 'Content-Type': 'application/json' },
      });
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
    const { fake, api, sleeps } = await setup({ creds: { secret: 'nope-nope' } });
    const err = await caught(api.createEksAudit(INPUT));
    expect((err as AppError).code).toBe('ApiKeyRejected');
    expect(sleeps).toEqual([]);
    expect(creates(fake)).toHaveLength(0);
  });

  it('names the URL when the server cannot be reached', async () => {
    const port = await freePort();
    const api = createLaceworkApi({ account: 'acme', keyId: KEY_ID, secret: SECRET, source: 'test' }, { baseUrl: `http://127.0.0.1:${port}/` });
    expect(api.baseUrl).toBe(`http://127.0.0.1:${port}`);
    const err = await caught(api.verify());
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('LaceworkUnreachable');
    expect((err as AppError).message).toContain(`http://127.0.0.1:${port}`);
    expect((err as AppError).message).toContain('ECONNREFUSED');
    expect((err as AppError).message).not.toContain(SECRET);
  });
});

describe('base URL', () => {
  const creds: LaceworkCredentials = { account: 'acme.fra', keyId: KEY_ID, secret: SECRET, source: 'test' };

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

  it('surfaces API errors as [METHOD path] status message', async () => {
    const { fake, api, sleeps } = await setup();
    fake.failNextCreates(1, 400, 'Name is invalid');
    const err = await caught(api.createEksAudit(INPUT));
    expect(err).toBeInstanceOf(LaceworkApiError);
    expect((err as AppError).code).toBe('LaceworkApiError');
    expect((err as AppError).message).toBe('[POST /api/v2/CloudAccounts] 400 Name is invalid');
    expect(sleeps).toEqual([]);
  });

  it('reads the {"data": {"message"}} error shape too', async () => {
    const dataShaped: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/api/v2/CloudAccounts/AwsEksAudit')) {
        return new Response(JSON.stringify({ data: { statusMessage: 'Service paused' } }), { status: 409 });
      }
      return fetch(input, init);
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

describe('createEksAudit retries', () => {
  it('retries with backoff while the role is not assumable yet', async () => {
    const { fake, api, sleeps } = await setup();
    fake.failNextCreates(3);
    const created = await api.createEksAudit(INPUT);
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(creates(fake)).toHaveLength(4);
    expect(fake.integrations.size).toBe(1);
    expect(created.intgGuid).toBeTruthy();
  });

  it('caps the pause at 15 s and gives up after retryFor, saying why', async () => {
    const { fake, api, sleeps } = await setup();
    fake.failNextCreates(100);
    const err = (await caught(api.createEksAudit(INPUT, { retryFor: 31_000 }))) as LaceworkApiError;
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 15000]);
    expect(creates(fake)).toHaveLength(6);
    expect(err).toBeInstanceOf(LaceworkApiError);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^\[POST \/api\/v2\/CloudAccounts\] 400 Unable to assume role .* \(gave up after 6 attempts in 30 s\); check that/);
  });

  it.each([
    [429, 'Too many requests'],
    [503, 'Service unavailable'],
    [400, 'Access denied while validating the integration'],
    [400, 'IAM changes are still propagating'],
  ])('retries %i %j', async (status, message) => {
    const { fake, api, sleeps } = await setup();
    fake.failNextCreates(1, status, message);
    await api.createEksAudit(INPUT);
    expect(sleeps).toEqual([1000]);
    expect(fake.integrations.size).toBe(1);
  });

  it('does not retry a 403 about the key itself', async () => {
    const { fake, api, sleeps } = await setup();
    fake.failNextCreates(1, 403, 'Access denied');
    const err = (await caught(api.createEksAudit(INPUT))) as LaceworkApiError;
    expect(err.status).toBe(403);
    expect(sleeps).toEqual([]);
  });

  it('retries network errors, and does not duplicate an integration whose answer was lost', async () => {
    let dropped = false;
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!dropped && init?.method === 'POST' && String(input).endsWith('/api/v2/CloudAccounts')) {
        dropped = true;
        // The server made it, but the answer never arrived.
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    const { fake, api, sleeps } = await setup({ fetch: lossy });
    const created = await api.createEksAudit(INPUT);
    expect(sleeps).toEqual([1000]);
    expect(creates(fake)).toHaveLength(1);
    expect(fake.integrations.size).toBe(1);
    expect(fake.integrations.has(created.intgGuid)).toBe(true);
  });

  it('stops when the signal aborts during a pause', async () => {
    const fake = await startFakeLacework({ account: 'acme', keyId: KEY_ID, secret: SECRET });
    fakes.push(fake);
    fake.failNextCreates(5);
    const controller = new AbortController();
    const api = createLaceworkApi(
      { account: 'acme', keyId: KEY_ID, secret: SECRET, source: 'test' },
      {
        baseUrl: fake.url,
        sleep: () => {
          controller.abort();
          return new Promise(() => {});
        },
      },
    );
    const err = await caught(api.createEksAudit(INPUT, { signal: controller.signal }));
    expect(err).toBeInstanceOf(UserAbort);
    expect(creates(fake)).toHaveLength(1);
  });

  it('stops at once when the signal is already aborted', async () => {
    const { fake, api } = await setup();
    const err = await caught(api.createEksAudit(INPUT, { signal: AbortSignal.abort() }));
    expect(err).toBeInstanceOf(UserAbort);
    expect(fake.requests).toHaveLength(0);
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
