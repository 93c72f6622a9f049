/**
 * A minimal client of the fake FortiCNAPP API for the fake's own tests, written from reference/lacework.md
 * (not the product's client, so the fake is checked on its own): token, then JSON calls with the bare token.
 */
import type { FakeLacework } from './lacework-server.js';

export const KEY_ID = 'ACME_0123456789ABCDEF0123456789ABCDEF0123';
export const SECRET = '_s3cr3t0123456789abcdef0123456789';

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export async function tokenFor(fake: FakeLacework): Promise<string> {
  const res = await fetch(`${fake.url}/api/v2/access/tokens`, {
    method: 'POST',
    headers: { 'X-LW-UAKS': SECRET, 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'forticnapp-eks-audit/0.0.0' },
    body: JSON.stringify({ keyId: KEY_ID, expiryTime: 3600 }),
  });
  const body = (await res.json()) as { token: string };
  return body.token;
}

/** One API call with a fresh token. */
export async function call(fake: FakeLacework, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
  const headers: Record<string, string> = {
    Authorization: token ?? (await tokenFor(fake)),
    Accept: 'application/json',
    'User-Agent': 'forticnapp-eks-audit/0.0.0',
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${fake.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** The create body of reference/lacework.md §3.4 for a topic in `account`. */
export function createBody(snsArn: string, account = snsArn.split(':')[4] ?? '123456789012', name = 'EKS audit acme') {
  return {
    name,
    type: 'AwsEksAudit',
    enabled: 1,
    data: {
      snsArn,
      crossAccountCredentials: { roleArn: `arn:aws:iam::${account}:role/lw-eks-al-ca-1a2b3c4d`, externalId: `lweid:aws:v2:acme:${account}:0123456789` },
    },
  };
}
