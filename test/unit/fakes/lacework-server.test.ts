/**
 * The fake FortiCNAPP without moto: rules (which request, which answer, how many times), the failNextCreates
 * alias, PATCH, and that rules never hide a malformed request. Subscriptions against moto:
 * test/e2e/fakes.lacework.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeLacework, type FakeLacework } from '../../fakes/lacework-server.js';
import { call, createBody, KEY_ID, SECRET } from '../../fakes/lacework-client.js';

const ACCOUNT = '123456789012';
const TOPIC = `arn:aws:sns:eu-central-1:${ACCOUNT}:lw-eks-al-1a2b3c4d`;
const fakes: FakeLacework[] = [];

async function fake(): Promise<FakeLacework> {
  const f = await startFakeLacework({ account: 'acme', keyId: KEY_ID, secret: SECRET });
  fakes.push(f);
  return f;
}

afterEach(async () => {
  for (const f of fakes.splice(0)) {
    await f.stop();
    expect(f.violations).toEqual([]);
  }
});

describe('fake FortiCNAPP rules', () => {
  it('answers a chosen method + path with the API error shape and Retry-After, the given number of times', async () => {
    const f = await fake();
    const rule = f.addRule({ method: 'POST', path: '/api/v2/CloudAccounts', status: 503, message: 'Service Unavailable', retryAfter: 2, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC));
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ ok: false, message: 'Service Unavailable' });
      expect(r.headers.get('retry-after')).toBe('2');
      expect(r.headers.get('content-type')).toBe('application/json');
    }
    const ok = await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC));
    expect(ok.status).toBe(201);
    expect(rule.hits).toBe(2);
    expect(f.integrations.size).toBe(1);
    const posts = f.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/CloudAccounts');
    expect(posts.map((r) => [r.status, r.injected ?? false])).toEqual([
      [503, true],
      [503, true],
      [201, false],
    ]);
  });

  it('selects paths by RegExp and requests by predicate; a 403 "Unauthorized Access" on a GET by type', async () => {
    const f = await fake();
    f.addRule({ method: 'GET', path: /^\/api\/v2\/CloudAccounts\/AwsEksAudit$/, status: 403, message: 'Unauthorized Access', times: 1 });
    f.addRule({ match: (r) => r.method === 'PATCH', status: 409, body: { data: { message: 'conflict' } } });
    const listed = await call(f, 'GET', '/api/v2/CloudAccounts/AwsEksAudit');
    expect([listed.status, listed.body]).toEqual([403, { ok: false, message: 'Unauthorized Access' }]);
    expect((await call(f, 'GET', '/api/v2/CloudAccounts/AwsEksAudit')).status).toBe(200);
    const created = (await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC))).body as { data: { intgGuid: string } };
    const patched = await call(f, 'PATCH', `/api/v2/CloudAccounts/${created.data.intgGuid}`, createBody(TOPIC));
    expect([patched.status, patched.body]).toEqual([409, { data: { message: 'conflict' } }]);
  });

  it('a rule with only delayMs slows the answer and lets it through', async () => {
    const f = await fake();
    f.addRule({ path: '/api/v2/CloudAccounts', delayMs: 150, times: 1 });
    const t = Date.now();
    const r = await call(f, 'GET', '/api/v2/CloudAccounts');
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    expect(r.status).toBe(200);
  });

  it('never answers a malformed request by a rule: it stays a 400 violation', async () => {
    const f = await fake();
    f.addRule({ path: '/api/v2/CloudAccounts', status: 503 });
    const bad = await call(f, 'POST', '/api/v2/CloudAccounts', { ...createBody(TOPIC), enabled: true });
    expect(bad.status).toBe(400);
    expect(f.violations.splice(0).join('\n')).toContain('enabled must be the integer 1 or 0');
  });

  it('failNextCreates stays a thin alias: the default message names the role; a new call replaces the old one; clearRules', async () => {
    const f = await fake();
    f.failNextCreates(5);
    f.failNextCreates(1, 400);
    const first = await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC));
    expect(first.body).toEqual({ ok: false, message: `Unable to assume role arn:aws:iam::${ACCOUNT}:role/lw-eks-al-ca-1a2b3c4d (the role is not yet assumable)` });
    expect((await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC))).status).toBe(201);
    f.failNextCreates(3, 500, 'boom');
    f.clearRules();
    expect((await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC))).status).toBe(201);
  });
});

describe('fake FortiCNAPP PATCH', () => {
  it('updates in place, sets createdOrUpdatedTime again (ISO, ms), keeps the GUID; 404 for an unknown one', async () => {
    const f = await fake();
    const created = (await call(f, 'POST', '/api/v2/CloudAccounts', createBody(TOPIC))).body as { data: { intgGuid: string; createdOrUpdatedTime: string } };
    const guid = created.data.intgGuid;
    expect(created.data.createdOrUpdatedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await new Promise((r) => setTimeout(r, 5));
    const other = `arn:aws:sns:eu-central-1:${ACCOUNT}:lw-eks-al-other`;
    const patched = await call(f, 'PATCH', `/api/v2/CloudAccounts/${guid}`, { intgGuid: guid, ...createBody(other, ACCOUNT, 'renamed') });
    expect(patched.status).toBe(200);
    const data = (patched.body as { data: { intgGuid: string; name: string; createdOrUpdatedTime: string; data: { snsArn: string } } }).data;
    expect(data).toMatchObject({ intgGuid: guid, name: 'renamed', data: { snsArn: other } });
    expect(Date.parse(data.createdOrUpdatedTime)).toBeGreaterThan(Date.parse(created.data.createdOrUpdatedTime));
    expect(f.integrations.get(guid)?.name).toBe('renamed');
    const missing = await call(f, 'PATCH', '/api/v2/CloudAccounts/ACME_0000', createBody(TOPIC));
    expect([missing.status, (missing.body as { ok: boolean }).ok]).toEqual([404, false]);
    const wrongGuid = await call(f, 'PATCH', `/api/v2/CloudAccounts/${guid}`, { intgGuid: 'ACME_1', ...createBody(TOPIC) });
    expect(wrongGuid.status).toBe(400);
    expect(f.violations.splice(0)).toEqual([`PATCH /api/v2/CloudAccounts/${guid}: intgGuid does not match the path`]);
  });
});
