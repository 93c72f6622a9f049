/**
 * FortiCNAPP (Lacework) API v2 client: the access token and the `AwsEksAudit` cloud-account integration.
 * Wire format follows reference/lacework.md §3 (go-sdk `api/`): bare `Authorization: <token>`, `Account-Name` on
 * every call (the token call included) when a subaccount is set, errors decoded from `{"ok":false,"message"}` or
 * `{"data":{"message"|"statusMessage"|"ErrorMsg"}}`.
 *
 * No message made here ever contains the API secret or a token: server text is redacted before it is quoted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pkg from '../../package.json' with { type: 'json' };
import { AppError, UsageError, UserAbort, errorMessage } from '../errors.js';
import type { LaceworkCredentials } from './credentials.js';

/** An `AwsEksAudit` integration as the API returns it (`{"data": {...}}` of create/get, items of list). */
export interface EksAuditIntegration {
  intgGuid: string;
  name: string;
  type: 'AwsEksAudit';
  /** 1 or 0: the API uses an integer, not a boolean. */
  enabled: number;
  isOrg?: number;
  createdOrUpdatedTime?: string;
  createdOrUpdatedBy?: string;
  /** Health as the platform sees it; `details` explains a failure. Times are epoch milliseconds. */
  state?: { ok: boolean; details?: unknown; lastUpdatedTime?: number; lastSuccessfulTime?: number };
  data: {
    snsArn: string;
    s3BucketArn?: string;
    crossAccountCredentials: { roleArn: string; externalId: string };
  };
}

/** What createEksAudit registers. */
export interface EksAuditInput {
  name: string;
  snsArn: string;
  /** Optional; left out of the request when absent or empty (go-sdk `omitempty`). */
  s3BucketArn?: string;
  roleArn: string;
  externalId: string;
}

/** The calls this tool makes. Every method throws AppError; none ever puts the secret or token in a message. */
export interface LaceworkApi {
  /** Base URL in use, without a trailing slash, e.g. `https://acme.lacework.net`. */
  baseUrl: string;
  /**
   * Mints an access token, which proves the account, key id, secret (and subaccount) work.
   * @throws UsageError `ApiKeyRejected` (exit 2) on 401/403; AppError `LaceworkUnreachable` on a network error.
   */
  verify(): Promise<void>;
  /**
   * `POST /api/v2/CloudAccounts` type `AwsEksAudit`. Retried with exponential backoff (1 s doubling, at most 15 s
   * apart) while the platform cannot assume the new role yet (IAM propagation), on 5xx, 429 and network errors,
   * until `retryFor` ms (default 120000) have gone by. A 401 is never retried. After a 5xx or a network error
   * the next attempt first looks for an integration the lost request may already have made, so no duplicate.
   * @throws UserAbort (or the signal's AppError reason) when `signal` aborts, including during a backoff pause.
   */
  createEksAudit(input: EksAuditInput, opts?: { retryFor?: number; signal?: AbortSignal }): Promise<EksAuditIntegration>;
  /**
   * `PATCH /api/v2/CloudAccounts/<guid>` with the create body (reference/lacework.md §3.5): the platform takes the
   * new topic, role or external ID and subscribes to the topic again.
   * @returns the integration, or undefined when the API answers 404 (it was deleted).
   */
  updateEksAudit(guid: string, input: EksAuditInput): Promise<EksAuditIntegration | undefined>;
  /** `GET /api/v2/CloudAccounts/<guid>`; undefined when the API answers 404. */
  getIntegration(guid: string): Promise<EksAuditIntegration | undefined>;
  /** `GET /api/v2/CloudAccounts/AwsEksAudit`: every EKS audit integration of the (sub)account. */
  listEksAudit(): Promise<EksAuditIntegration[]>;
  /** `DELETE /api/v2/CloudAccounts/<guid>`; a 404 counts as done, so teardown can be repeated. */
  deleteIntegration(guid: string): Promise<void>;
}

/** Options of createLaceworkApi; all optional, mostly for tests. */
export interface LaceworkApiOptions {
  /** Default: `LW_API_SERVER_URL`, else `https://<account>.lacework.net`. */
  baseUrl?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: `forticnapp-eks-audit/<package version>`. */
  userAgent?: string;
  /** Backoff pause; default a real timer. Tests inject a recorder to run retries instantly. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout in ms, default 30000: a hung connection must not hang setup. */
  requestTimeout?: number;
}

/** A non-2xx answer of the API. `message` is `[METHOD path] status text`, as go-sdk shows it. */
export class LaceworkApiError extends AppError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** The server's own message (redacted). */
  readonly apiMessage: string;

  constructor(method: string, path: string, status: number, apiMessage: string, note = '') {
    super('LaceworkApiError', `[${method} ${path}] ${status} ${apiMessage}${note}`);
    this.name = 'LaceworkApiError';
    this.status = status;
    this.method = method;
    this.path = path;
    this.apiMessage = apiMessage;
  }
}

const TOKEN_PATH = '/api/v2/access/tokens';
const CLOUD_ACCOUNTS_PATH = '/api/v2/CloudAccounts';
/** Seconds; go-sdk `DefaultTokenExpiryTime`. */
const TOKEN_EXPIRY_SECONDS = 3600;
/** Renew a little before expiry so a token never dies in flight (the reference CLI uses the same 10 s window). */
const TOKEN_RENEW_MARGIN_MS = 10_000;
const DEFAULT_RETRY_FOR_MS = 120_000;
const BACKOFF_START_MS = 1_000;
const BACKOFF_CAP_MS = 15_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The platform's "cannot assume the role yet" answers mention these (Terraform provider retries the same case). */
const NOT_YET_ASSUMABLE = /assum|role|propagat/i;

interface Reply {
  status: number;
  json: unknown;
  text: string;
}

/**
 * Builds the client. Nothing is sent until a method is called; the token is minted on first use and again
 * whenever it is about to expire or the server answers 401 to it.
 */
export function createLaceworkApi(creds: LaceworkCredentials, opts: LaceworkApiOptions = {}): LaceworkApi {
  const baseUrl = resolveBaseUrl(creds, opts.baseUrl);
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const userAgent = opts.userAgent ?? `forticnapp-eks-audit/${pkg.version}`;
  const requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const pause = (ms: number, signal?: AbortSignal) => pauseFor(ms, signal, opts.sleep);

  let token: { value: string; expiresAt: number } | undefined;
  let minting: Promise<string> | undefined;
  /** Every token ever issued to this client, so messages can be scrubbed of all of them. */
  const issuedTokens = new Set<string>();

  /** Replaces the secret and any token in text that came from the server or a lower layer. */
  function redact(text: string): string {
    let out = text;
    for (const sensitive of [creds.secret, ...issuedTokens]) {
      if (sensitive.length > 0) out = out.split(sensitive).join('[redacted]');
    }
    return out;
  }

  async function send(
    method: string,
    path: string,
    init: { body?: unknown; token?: string; secret?: string; signal?: AbortSignal },
  ): Promise<Reply> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': userAgent };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (creds.subaccount !== undefined && creds.subaccount !== '') headers['Account-Name'] = creds.subaccount;
    if (init.token !== undefined) headers.Authorization = init.token;
    if (init.secret !== undefined) headers['X-LW-UAKS'] = init.secret;

    throwIfAborted(init.signal);
    const timeout = AbortSignal.timeout(requestTimeout);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const res = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    } catch (err) {
      throwIfAborted(init.signal);
      if (timeout.aborted) {
        throw new AppError(
          'LaceworkUnreachable',
          `The FortiCNAPP API at ${baseUrl} did not answer ${method} ${path} within ${Math.round(requestTimeout / 1000)} s. Check the network (and any proxy), then try again.`,
          { cause: err },
        );
      }
      throw new AppError(
        'LaceworkUnreachable',
        `Cannot reach the FortiCNAPP API at ${baseUrl} (${redact(networkDetail(err))}). Check the account name${process.env.LW_API_SERVER_URL ? ' and LW_API_SERVER_URL' : ''} and the network, then try again.`,
        { cause: err },
      );
    }
  }

  function apiError(method: string, path: string, reply: Reply): LaceworkApiError {
    return new LaceworkApiError(method, path, reply.status, redact(extractMessage(reply)));
  }

  async function mint(signal?: AbortSignal): Promise<string> {
    const reply = await send('POST', TOKEN_PATH, {
      body: { keyId: creds.keyId, expiryTime: TOKEN_EXPIRY_SECONDS },
      secret: creds.secret,
      signal,
    });
    if (reply.status === 401 || reply.status === 403) {
      const who = `${creds.account}${creds.subaccount ? ` (subaccount ${creds.subaccount})` : ''}`;
      throw new UsageError(
        `The FortiCNAPP API rejected the API key ${redact(creds.keyId)} for account ${who} (${reply.status} ${redact(extractMessage(reply))}): check the key id and secret (download a new key file from Settings > API keys).`,
        'ApiKeyRejected',
      );
    }
    if (!isOk(reply.status)) throw apiError('POST', TOKEN_PATH, reply);
    const body = asRecord(reply.json);
    // The v2 answer is flat; older gateways wrapped it in `data` (an object or a one-element list).
    const data = body?.data;
    const payload = typeof body?.token === 'string' ? body : asRecord(Array.isArray(data) ? data[0] : data);
    const value = payload?.token;
    if (typeof value !== 'string' || value === '') {
      throw new AppError('LaceworkApiError', `[POST ${TOKEN_PATH}] ${reply.status} the answer holds no token. Check that ${baseUrl} is a FortiCNAPP API server.`);
    }
    issuedTokens.add(value);
    const parsedExpiry = typeof payload?.expiresAt === 'string' ? Date.parse(payload.expiresAt) : Number.NaN;
    const expiresAt = Number.isFinite(parsedExpiry) ? parsedExpiry : Date.now() + TOKEN_EXPIRY_SECONDS * 1000;
    token = { value, expiresAt };
    return value;
  }

  /** A valid token; concurrent callers share one mint. */
  function currentToken(signal?: AbortSignal): Promise<string> {
    if (token !== undefined && Date.now() < token.expiresAt - TOKEN_RENEW_MARGIN_MS) return Promise.resolve(token.value);
    minting ??= mint(signal).finally(() => {
      minting = undefined;
    });
    return minting;
  }

  /** An authorized call. A 401 means the token died server-side (revoked, clock skew): mint once more and retry. */
  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Reply> {
    const first = await currentToken(signal);
    const reply = await send(method, path, { body, token: first, signal });
    if (reply.status !== 401) return reply;
    if (token?.value === first) token = undefined;
    const second = await currentToken(signal);
    return send(method, path, { body, token: second, signal });
  }

  function integrationFrom(method: string, path: string, reply: Reply): EksAuditIntegration {
    const data = asRecord(reply.json)?.data;
    if (!isIntegration(data)) {
      throw new AppError('LaceworkApiError', `[${method} ${path}] ${reply.status} the answer holds no integration. Check that ${baseUrl} is a FortiCNAPP API server.`);
    }
    return data;
  }

  async function listEksAudit(): Promise<EksAuditIntegration[]> {
    const path = `${CLOUD_ACCOUNTS_PATH}/AwsEksAudit`;
    const reply = await call('GET', path);
    if (!isOk(reply.status)) throw apiError('GET', path, reply);
    const data = asRecord(reply.json)?.data;
    if (!Array.isArray(data)) {
      throw new AppError('LaceworkApiError', `[GET ${path}] ${reply.status} the answer holds no list. Check that ${baseUrl} is a FortiCNAPP API server.`);
    }
    return data.filter(isIntegration);
  }

  /** After an answer that may have been lost in transit, the integration may exist already: find it. */
  async function findCreated(input: EksAuditInput): Promise<EksAuditIntegration | undefined> {
    try {
      const all = await listEksAudit();
      return all.find(
        (i) =>
          i.name === input.name &&
          i.data.snsArn === input.snsArn &&
          i.data.crossAccountCredentials.roleArn === input.roleArn &&
          i.data.crossAccountCredentials.externalId === input.externalId,
      );
    } catch (err) {
      // Listing is only a guard against duplicates; the create attempt that follows reports real trouble.
      if (err instanceof UsageError || err instanceof UserAbort) throw err;
      return undefined;
    }
  }

  return {
    baseUrl,

    async verify(): Promise<void> {
      await currentToken();
    },

    async createEksAudit(input, createOpts = {}): Promise<EksAuditIntegration> {
      const retryFor = createOpts.retryFor ?? DEFAULT_RETRY_FOR_MS;
      const signal = createOpts.signal;
      const body = createBody(input);
      let wait = BACKOFF_START_MS;
      // Time spent so far: request time plus backoff pauses (counted as asked, so an injected sleep works too).
      let elapsed = 0;
      let attempts = 0;
      let mayExist = false;
      for (;;) {
        throwIfAborted(signal);
        attempts += 1;
        const started = Date.now();
        try {
          if (mayExist) {
            const existing = await findCreated(input);
            if (existing !== undefined) return existing;
          }
          const reply = await call('POST', CLOUD_ACCOUNTS_PATH, body, signal);
          if (!isOk(reply.status)) throw apiError('POST', CLOUD_ACCOUNTS_PATH, reply);
          return integrationFrom('POST', CLOUD_ACCOUNTS_PATH, reply);
        } catch (err) {
          elapsed += Date.now() - started;
          if (!isRetryableCreateError(err) || elapsed + wait > retryFor) throw gaveUp(err, attempts, elapsed);
          mayExist ||= mayHaveLanded(err);
          await pause(wait, signal);
          elapsed += wait;
          wait = Math.min(wait * 2, BACKOFF_CAP_MS);
        }
      }
    },

    async getIntegration(guid: string): Promise<EksAuditIntegration | undefined> {
      const path = `${CLOUD_ACCOUNTS_PATH}/${encodeURIComponent(guid)}`;
      const reply = await call('GET', path);
      if (reply.status === 404) return undefined;
      if (!isOk(reply.status)) throw apiError('GET', path, reply);
      return integrationFrom('GET', path, reply);
    },

    listEksAudit,

    async updateEksAudit(guid: string, input: EksAuditInput): Promise<EksAuditIntegration | undefined> {
      const path = `${CLOUD_ACCOUNTS_PATH}/${encodeURIComponent(guid)}`;
      const reply = await call('PATCH', path, { intgGuid: guid, ...createBody(input) });
      if (reply.status === 404) return undefined;
      if (!isOk(reply.status)) throw apiError('PATCH', path, reply);
      return integrationFrom('PATCH', path, reply);
    },

    async deleteIntegration(guid: string): Promise<void> {
      const path = `${CLOUD_ACCOUNTS_PATH}/${encodeURIComponent(guid)}`;
      const reply = await call('DELETE', path);
      if (reply.status === 404 || isOk(reply.status)) return;
      throw apiError('DELETE', path, reply);
    },
  };
}

/** The create body of reference/lacework.md §3.4, field for field. */
function createBody(input: EksAuditInput): Record<string, unknown> {
  const data: Record<string, unknown> = { snsArn: input.snsArn };
  if (input.s3BucketArn !== undefined && input.s3BucketArn !== '') data.s3BucketArn = input.s3BucketArn;
  data.crossAccountCredentials = { roleArn: input.roleArn, externalId: input.externalId };
  return { name: input.name, type: 'AwsEksAudit', enabled: 1, data };
}

/**
 * Worth another create attempt: the role is not assumable yet (a 4xx that says so), the platform is busy (429, 5xx),
 * or the network failed. A 401 never (the key is wrong); a 403 only when it is about the role, since a plain
 * "access denied" 403 is about the API key's own rights and will not change by waiting.
 */
function isRetryableCreateError(err: unknown): boolean {
  if (err instanceof LaceworkApiError) {
    if (err.status === 429 || err.status >= 500) return true;
    if (err.status === 401) return false;
    if (err.status === 403) return NOT_YET_ASSUMABLE.test(err.apiMessage);
    if (err.status >= 400) return NOT_YET_ASSUMABLE.test(err.apiMessage) || /access/i.test(err.apiMessage);
    return false;
  }
  return err instanceof AppError && err.code === 'LaceworkUnreachable';
}

/** The request may have been processed although we saw no success. */
function mayHaveLanded(err: unknown): boolean {
  if (err instanceof LaceworkApiError) return err.status >= 500;
  return err instanceof AppError && err.code === 'LaceworkUnreachable';
}

/** The last error, saying how long we tried when we did retry. */
function gaveUp(err: unknown, attempts: number, elapsed: number): unknown {
  if (attempts <= 1 || !isRetryableCreateError(err)) return err;
  const note = ` (gave up after ${attempts} attempts in ${Math.round(elapsed / 1000)} s)`;
  if (err instanceof LaceworkApiError) {
    const hint = NOT_YET_ASSUMABLE.test(err.apiMessage)
      ? '; check that the cross-account role trusts the FortiCNAPP principal with this external ID'
      : '';
    return new LaceworkApiError(err.method, err.path, err.status, err.apiMessage, `${note}${hint}`);
  }
  if (err instanceof AppError) return new AppError(err.code, `${err.message}${note}`, { exitCode: err.exitCode, cause: err });
  return err;
}

function resolveBaseUrl(creds: LaceworkCredentials, given: string | undefined): string {
  const fromEnv = process.env.LW_API_SERVER_URL?.trim();
  let url = (given ?? (fromEnv ? fromEnv : undefined) ?? `https://${creds.account}.lacework.net`).trim();
  if (!/^https?:\/\//i.test(url)) url = `https://${url}`;
  return url.replace(/\/+$/, '');
}

/** The server's message, from any of the error shapes go-sdk decodes (`api/errors.go`). */
function extractMessage(reply: Reply): string {
  const body = asRecord(reply.json);
  const data = asRecord(body?.data);
  for (const candidate of [body?.message, data?.message, data?.statusMessage, data?.ErrorMsg]) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return oneLine(candidate);
  }
  const text = reply.text.trim();
  // A proxy's HTML error page says nothing useful in one line.
  if (text !== '' && !text.startsWith('<') && reply.json === undefined) return oneLine(text).slice(0, 200);
  return 'no error message';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function networkDetail(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : errorMessage(err);
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function isIntegration(value: unknown): value is EksAuditIntegration {
  const rec = asRecord(value);
  const data = asRecord(rec?.data);
  return typeof rec?.intgGuid === 'string' && rec.intgGuid !== '' && data !== undefined && asRecord(data.crossAccountCredentials) !== undefined;
}

function abortError(signal: AbortSignal): AppError {
  return signal.reason instanceof AppError ? signal.reason : new UserAbort();
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Sleeps `ms`, cut short by the signal. */
async function pauseFor(ms: number, signal: AbortSignal | undefined, sleep?: (ms: number) => Promise<void>): Promise<void> {
  throwIfAborted(signal);
  if (sleep === undefined) {
    try {
      await delay(ms, undefined, signal ? { signal } : undefined);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      throw err;
    }
    return;
  }
  if (signal === undefined) return sleep(ms);
  let onAbort: (() => void) | undefined;
  // Listen before calling sleep: an abort that happens while sleep starts must still end the pause.
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([sleep(ms), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
