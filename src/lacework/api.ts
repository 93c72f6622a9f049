/**
 * FortiCNAPP (Lacework) API v2 client: the access token and the `AwsEksAudit` cloud-account integration.
 * Wire format follows reference/lacework.md §3 (go-sdk `api/`): bare `Authorization: <token>`, `Account-Name` on
 * every call (the token call included) when a subaccount is set, errors decoded from `{"ok":false,"message"}` or
 * `{"data":{"message"|"statusMessage"|"ErrorMsg"}}`.
 *
 * No message made here ever contains the API secret or a token: server text is redacted before it is quoted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pRetry from 'p-retry';
import pkg from '../../package.json' with { type: 'json' };
import { backoffScale } from '../aws/backoff.js';
import { AppError, UsageError, UserAbort, errorMessage } from '../errors.js';
import type { LaceworkCredentials } from './credentials.js';
import { httpTransport, type HttpTransport } from './http.js';

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

/** What every call of {@link LaceworkApi} takes. */
export interface CallOptions {
  /** Ends the call, including its backoff pauses, with UserAbort (or the signal's AppError reason). */
  signal?: AbortSignal;
}

/**
 * The calls this tool makes. Every method throws AppError; none ever puts the secret or token in a message.
 *
 * **Retries** (issue 11 item 4). Every call (token, list, get, create, update, delete) is retried on the
 * answers that can be transient: 429 and 5xx, a network error or a request that timed out, and a 403 to a
 * token that was just minted (the platform says "Unauthorized Access" now and then; the token is minted again
 * first, as the reference CLI drops its cached token on any 403). Pauses: 1-2 s first, then 2 s, never sooner
 * than the answer's `Retry-After`; a call gives up after {@link RETRY_LIMITS} (60 s, the create 120 s; a 403
 * after 20 s of 403s), all scaled by `FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE` (tests). The error it then throws
 * says what the answer probably means and that a re-run resumes, and has `retryable` set.
 */
export interface LaceworkApi {
  /** Base URL in use, without a trailing slash, e.g. `https://acme.lacework.net`. */
  baseUrl: string;
  /**
   * Mints an access token, which proves the account, key id, secret (and subaccount) work.
   * @throws UsageError `ApiKeyRejected` (exit 2) on 401/403; AppError `LaceworkUnreachable` when the network
   *   failed on every attempt; LaceworkApiError when the platform kept answering 429/5xx.
   */
  verify(opts?: CallOptions): Promise<void>;
  /**
   * `POST /api/v2/CloudAccounts` type `AwsEksAudit`. Besides the transient answers every call retries, a 4xx
   * saying the platform cannot assume the new role yet (IAM propagation) is retried, until `retryFor` ms (default
   * 120000, before scaling) have gone by. A 401 is never retried. After a 5xx or a network error the next attempt
   * first looks for an integration the lost request may already have made, so no duplicate.
   * @throws UserAbort (or the signal's AppError reason) when `signal` aborts, including during a backoff pause;
   *   a request already sent is awaited first (its integration may exist then: the caller rolls it back).
   */
  createEksAudit(input: EksAuditInput, opts?: CallOptions & { retryFor?: number }): Promise<EksAuditIntegration>;
  /**
   * `PATCH /api/v2/CloudAccounts/<guid>` with the create body (reference/lacework.md §3.5): the platform takes the
   * new topic, role or external ID and subscribes to the topic again. Retried as the create (it names a role too).
   * @returns the integration, or undefined when the API answers 404 (it was deleted).
   */
  updateEksAudit(guid: string, input: EksAuditInput, opts?: CallOptions): Promise<EksAuditIntegration | undefined>;
  /** `GET /api/v2/CloudAccounts/<guid>`; undefined when the API answers 404. */
  getIntegration(guid: string, opts?: CallOptions): Promise<EksAuditIntegration | undefined>;
  /** `GET /api/v2/CloudAccounts/AwsEksAudit`: every EKS audit integration of the (sub)account. */
  listEksAudit(opts?: CallOptions): Promise<EksAuditIntegration[]>;
  /** `DELETE /api/v2/CloudAccounts/<guid>`; a 404 counts as done, so teardown can be repeated. */
  deleteIntegration(guid: string, opts?: CallOptions): Promise<void>;
}

/** Options of createLaceworkApi; all optional, mostly for tests. */
export interface LaceworkApiOptions {
  /** Default: `LW_API_SERVER_URL`, else `https://<account>.lacework.net`. */
  baseUrl?: string;
  /** Default: `node:https` (./http.ts); the global fetch fits too. */
  fetch?: HttpTransport;
  /** Default: `forticnapp-eks-audit/<package version>`. */
  userAgent?: string;
  /** Per-request timeout in ms, default 30000: a hung connection must not hang setup (the call is then retried). */
  requestTimeout?: number;
}

/** A non-2xx answer of the API. `message` is `[METHOD path] status text`, as go-sdk shows it. */
export class LaceworkApiError extends AppError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** The server's own message (redacted). */
  readonly apiMessage: string;
  /** `Retry-After` of the answer, in ms (before scaling), when it had one. */
  readonly retryAfterMs: number | undefined;
  /**
   * The answer is of a kind that can go away by itself (429, 5xx, 403 to a good token, the role not yet
   * assumable) and the retries ran out: running the command again later can succeed. False for answers that
   * will not change (400 validation errors, 404, 409).
   */
  readonly retryable: boolean;

  constructor(
    method: string,
    path: string,
    status: number,
    apiMessage: string,
    note = '',
    more: { retryAfterMs?: number; retryable?: boolean } = {},
  ) {
    super('LaceworkApiError', `[${method} ${path}] ${status} ${apiMessage}${note}`);
    this.name = 'LaceworkApiError';
    this.status = status;
    this.method = method;
    this.path = path;
    this.apiMessage = apiMessage;
    this.retryAfterMs = more.retryAfterMs;
    this.retryable = more.retryable ?? false;
  }
}

/**
 * The real (unscaled) retry limits of every call, in ms; docs/troubleshooting.md states them.
 * `FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE` multiplies every one of them (and `Retry-After`) in tests.
 */
export const RETRY_LIMITS = {
  /** First pause (jittered: 1-2 s), doubling... */
  minDelayMs: 1_000,
  /** ...up to this. Short steps: a retry lands within about 2 s of the platform being ready (issue 11 item 9). */
  maxDelayMs: 2_000,
  /** Every call but the create gives up after this long. */
  callMs: 60_000,
  /** The create (`retryFor`): long enough for a new IAM role to become assumable by the platform. */
  createMs: 120_000,
  /** 403 answers to a token that works are retried this long; after that they are taken to mean what they say. */
  forbiddenMs: 20_000,
  /** A `Retry-After` longer than this is not waited for: the call gives up at once, saying so. */
  maxRetryAfterMs: 60_000,
} as const;

const TOKEN_PATH = '/api/v2/access/tokens';
const CLOUD_ACCOUNTS_PATH = '/api/v2/CloudAccounts';
/** Seconds; go-sdk `DefaultTokenExpiryTime`. */
const TOKEN_EXPIRY_SECONDS = 3600;
/** Renew a little before expiry so a token never dies in flight (the reference CLI uses the same 10 s window). */
const TOKEN_RENEW_MARGIN_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The platform's "cannot assume the role yet" answers mention these (Terraform provider retries the same case). */
const NOT_YET_ASSUMABLE = /assum|role|propagat/i;

interface Reply {
  status: number;
  json: unknown;
  text: string;
  /** `Retry-After` in ms, when the answer had a usable one. */
  retryAfterMs?: number;
}

/**
 * Network failures that name a wrong address rather than a blip: the host does not exist, nothing listens there,
 * or TLS cannot be set up. Retrying them only delays the message; everything else (a reset, a timeout, a
 * temporary DNS failure, an unknown cause) is retried.
 */
const PERMANENT_NETWORK = /^(ENOTFOUND|ECONNREFUSED|CERT_|ERR_TLS|ERR_SSL|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_INVALID_URL)/;

/** `LaceworkUnreachable`: the request got no answer at all. `transient` when trying again can help. */
class Unreachable extends AppError {
  readonly transient: boolean;
  constructor(message: string, transient: boolean, cause: unknown) {
    super('LaceworkUnreachable', message, { cause });
    this.transient = transient;
  }
}

/** What a failed attempt was, for the retry decision and the final message. */
type Transient = 'busy' | 'unreachable' | 'forbidden' | 'role';

/** One call as the retry helper sees it. */
interface Op {
  method: string;
  path: string;
  /** The call names the cross-account role (create, update): "cannot assume the role yet" answers are retried. */
  namesRole: boolean;
  /** Give up after this long (ms, before scaling). */
  deadlineMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Builds the client. Nothing is sent until a method is called; the token is minted on first use and again
 * whenever it is about to expire or the server answers 401 or 403 to it.
 */
export function createLaceworkApi(creds: LaceworkCredentials, opts: LaceworkApiOptions = {}): LaceworkApi {
  const baseUrl = resolveBaseUrl(creds, opts.baseUrl);
  const fetchImpl = opts.fetch ?? httpTransport;
  const userAgent = opts.userAgent ?? `forticnapp-eks-audit/${pkg.version}`;
  const requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS;

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
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      return { status: res.status, json, text, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (err) {
      throwIfAborted(init.signal);
      if (timeout.aborted) {
        throw new Unreachable(
          `The FortiCNAPP API at ${baseUrl} did not answer ${method} ${path} within ${Math.round(requestTimeout / 1000)} s. Check the network (and any proxy), then try again.`,
          true,
          err,
        );
      }
      const detail = networkDetail(err);
      throw new Unreachable(
        `Cannot reach the FortiCNAPP API at ${baseUrl} (${redact(detail)}). Check the account name${process.env.LW_API_SERVER_URL ? ' and LW_API_SERVER_URL' : ''} and the network, then try again.`,
        !PERMANENT_NETWORK.test(detail),
        err,
      );
    }
  }

  function apiError(method: string, path: string, reply: Reply): LaceworkApiError {
    return new LaceworkApiError(method, path, reply.status, redact(extractMessage(reply)), '', { retryAfterMs: reply.retryAfterMs });
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

  /**
   * An authorized request. A 401 means the token died server-side (revoked, clock skew): mint once more and send
   * again. A 403 is returned as it is, but the token is forgotten, so the retry (if any) mints a new one first.
   */
  async function call(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Reply> {
    const first = await currentToken(signal);
    const reply = await send(method, path, { body, token: first, signal });
    if (reply.status === 403 && token?.value === first) token = undefined;
    if (reply.status !== 401) return reply;
    if (token?.value === first) token = undefined;
    const second = await currentToken(signal);
    const again = await send(method, path, { body, token: second, signal });
    if (again.status === 403 && token?.value === second) token = undefined;
    return again;
  }

  /**
   * Runs `attempt` until it succeeds, retrying transient answers (see {@link LaceworkApi}) with p-retry: short
   * capped jittered pauses, never shorter than `Retry-After`, within the op's deadline.
   * @throws the error itself when it is not transient; the last error, saying how long it was tried and what it
   *   probably means, when the retries ran out; UserAbort (or the signal's reason) when aborted.
   */
  async function withRetry<T>(op: Op, attempt: (n: number) => Promise<T>): Promise<T> {
    const scale = backoffScale();
    const deadline = op.deadlineMs * scale;
    const started = performance.now();
    let attempts = 0;
    let forbiddenSince: number | undefined;
    /** Why to stop although the answer is transient (the 403 budget ran out, Retry-After beyond the deadline). */
    let stop: string | undefined;
    try {
      return await pRetry(
        async (n) => {
          attempts = n;
          return attempt(n);
        },
        {
          retries: Number.POSITIVE_INFINITY,
          factor: 2,
          minTimeout: Math.max(1, RETRY_LIMITS.minDelayMs * scale),
          maxTimeout: Math.max(1, RETRY_LIMITS.maxDelayMs * scale),
          randomize: true,
          maxRetryTime: deadline,
          ...(op.signal ? { signal: op.signal } : {}),
          onFailedAttempt: async ({ error }) => {
            const kind = transientKind(error, op.namesRole);
            if (kind === undefined) return;
            const now = performance.now();
            if (kind === 'forbidden') {
              forbiddenSince ??= now;
              if (now - forbiddenSince >= RETRY_LIMITS.forbiddenMs * scale) stop = 'forbidden';
            } else {
              forbiddenSince = undefined;
            }
            const retryAfter = error instanceof LaceworkApiError ? error.retryAfterMs : undefined;
            if (stop !== undefined || retryAfter === undefined) return;
            if (retryAfter > RETRY_LIMITS.maxRetryAfterMs || now - started + retryAfter * scale > deadline) {
              stop = `asked to retry after ${Math.round(retryAfter / 1000)} s`;
              return;
            }
            // p-retry's own (short) pause follows: never sooner than the platform asked.
            await pauseFor(retryAfter * scale, op.signal);
          },
          shouldRetry: ({ error }) => stop === undefined && transientKind(error, op.namesRole) !== undefined,
        },
      );
    } catch (err) {
      if (op.signal?.aborted) throw abortError(op.signal);
      const kind = transientKind(err, op.namesRole);
      if (kind === undefined || (attempts <= 1 && stop === undefined)) throw err;
      const seconds = Math.round((performance.now() - started) / 1000);
      const tried = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${seconds} s${stop?.startsWith('asked') ? `; FortiCNAPP ${stop}` : ''}`;
      throw gaveUp(err, kind, op, tried);
    }
  }

  function integrationFrom(method: string, path: string, reply: Reply): EksAuditIntegration {
    const data = asRecord(reply.json)?.data;
    if (!isIntegration(data)) {
      throw new AppError('LaceworkApiError', `[${method} ${path}] ${reply.status} the answer holds no integration. Check that ${baseUrl} is a FortiCNAPP API server.`);
    }
    return data;
  }

  const BY_TYPE_PATH = `${CLOUD_ACCOUNTS_PATH}/AwsEksAudit`;

  /** One list request (no retry of its own). */
  async function listOnce(signal: AbortSignal | undefined): Promise<EksAuditIntegration[]> {
    const reply = await call('GET', BY_TYPE_PATH, undefined, signal);
    if (!isOk(reply.status)) throw apiError('GET', BY_TYPE_PATH, reply);
    const data = asRecord(reply.json)?.data;
    if (!Array.isArray(data)) {
      throw new AppError('LaceworkApiError', `[GET ${BY_TYPE_PATH}] ${reply.status} the answer holds no list. Check that ${baseUrl} is a FortiCNAPP API server.`);
    }
    return data.filter(isIntegration);
  }

  /** After an answer that may have been lost in transit, the integration may exist already: find it. */
  async function findCreated(input: EksAuditInput, signal: AbortSignal | undefined): Promise<EksAuditIntegration | undefined> {
    try {
      const all = await listOnce(signal);
      return all.find(
        (i) =>
          i.name === input.name &&
          i.data.snsArn === input.snsArn &&
          i.data.crossAccountCredentials.roleArn === input.roleArn &&
          i.data.crossAccountCredentials.externalId === input.externalId,
      );
    } catch (err) {
      // A failed look is retried as a whole (the create is not sent without it): a duplicate is worse than a pause.
      if (transientKind(err, false) !== undefined) throw err;
      if (err instanceof UsageError || err instanceof UserAbort) throw err;
      // Anything else: listing is only a guard; the create that follows reports real trouble.
      return undefined;
    }
  }

  const guidPath = (guid: string) => `${CLOUD_ACCOUNTS_PATH}/${encodeURIComponent(guid)}`;
  const op = (method: string, path: string, signal: AbortSignal | undefined, more: Partial<Op> = {}): Op => ({
    method,
    path,
    namesRole: false,
    deadlineMs: RETRY_LIMITS.callMs,
    signal,
    ...more,
  });

  return {
    baseUrl,

    async verify(callOpts = {}): Promise<void> {
      await withRetry(op('POST', TOKEN_PATH, callOpts.signal), () => currentToken(callOpts.signal));
    },

    async createEksAudit(input, createOpts = {}): Promise<EksAuditIntegration> {
      const signal = createOpts.signal;
      const body = createBody(input);
      let mayExist = false;
      return withRetry(
        op('POST', CLOUD_ACCOUNTS_PATH, signal, { namesRole: true, deadlineMs: createOpts.retryFor ?? RETRY_LIMITS.createMs }),
        async () => {
          if (mayExist) {
            const existing = await findCreated(input, signal);
            if (existing !== undefined) return existing;
          }
          try {
            // Not cut short by the signal once sent: the platform may make the integration anyway, and only an
            // awaited answer lets the caller roll it back (the signal still ends the retries and pauses).
            const reply = await call('POST', CLOUD_ACCOUNTS_PATH, body, undefined);
            if (!isOk(reply.status)) throw apiError('POST', CLOUD_ACCOUNTS_PATH, reply);
            return integrationFrom('POST', CLOUD_ACCOUNTS_PATH, reply);
          } catch (err) {
            // The platform may have made it although we saw no success: look before the next attempt.
            mayExist ||= mayHaveLanded(err);
            throw err;
          }
        },
      );
    },

    async getIntegration(guid, callOpts = {}): Promise<EksAuditIntegration | undefined> {
      const path = guidPath(guid);
      return withRetry(op('GET', path, callOpts.signal), async () => {
        const reply = await call('GET', path, undefined, callOpts.signal);
        if (reply.status === 404) return undefined;
        if (!isOk(reply.status)) throw apiError('GET', path, reply);
        return integrationFrom('GET', path, reply);
      });
    },

    async listEksAudit(callOpts = {}): Promise<EksAuditIntegration[]> {
      return withRetry(op('GET', BY_TYPE_PATH, callOpts.signal), () => listOnce(callOpts.signal));
    },

    async updateEksAudit(guid, input, callOpts = {}): Promise<EksAuditIntegration | undefined> {
      const path = guidPath(guid);
      return withRetry(op('PATCH', path, callOpts.signal, { namesRole: true }), async () => {
        const reply = await call('PATCH', path, { intgGuid: guid, ...createBody(input) }, callOpts.signal);
        if (reply.status === 404) return undefined;
        if (!isOk(reply.status)) throw apiError('PATCH', path, reply);
        return integrationFrom('PATCH', path, reply);
      });
    },

    async deleteIntegration(guid, callOpts = {}): Promise<void> {
      const path = guidPath(guid);
      await withRetry(op('DELETE', path, callOpts.signal), async () => {
        const reply = await call('DELETE', path, undefined, callOpts.signal);
        if (reply.status === 404 || isOk(reply.status)) return;
        throw apiError('DELETE', path, reply);
      });
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
 * Whether an error can go away by itself, and why: the platform is busy (429, 5xx), the network failed or timed
 * out, a 403 to a token the platform just issued, or (for calls that name the role) a 4xx saying the new role
 * cannot be assumed yet. A 401 never (the token call handles it: the key is wrong), nor other 4xx.
 */
function transientKind(err: unknown, namesRole: boolean): Transient | undefined {
  if (err instanceof LaceworkApiError) {
    if (err.status === 429 || err.status >= 500) return 'busy';
    if (namesRole && err.status >= 400 && err.status !== 401 && NOT_YET_ASSUMABLE.test(err.apiMessage)) return 'role';
    if (err.status === 403) return err.path === TOKEN_PATH ? undefined : 'forbidden';
    if (namesRole && err.status === 400 && /access/i.test(err.apiMessage)) return 'role';
    return undefined;
  }
  return err instanceof Unreachable && err.transient ? 'unreachable' : undefined;
}

/** The request may have been processed although we saw no success. */
function mayHaveLanded(err: unknown): boolean {
  if (err instanceof LaceworkApiError) return err.status >= 500;
  return err instanceof AppError && err.code === 'LaceworkUnreachable';
}

/** What the platform's refusal of each call probably means (for the 403 hint). */
function rightsFor(op: Op): string {
  if (op.method === 'POST' || op.method === 'PATCH') return 'add and change cloud account integrations';
  if (op.method === 'DELETE') return 'delete cloud account integrations';
  return 'read cloud account integrations';
}

const RERUN = 'Run the command again once that is fixed: it resumes where this run stopped.';

/** The last error of a transient kind after the retries ran out, saying how long, what it probably means, and that a re-run resumes. */
function gaveUp(err: unknown, kind: Transient, op: Op, tried: string): AppError {
  if (err instanceof LaceworkApiError) {
    let hint: string;
    if (kind === 'forbidden') {
      hint = ` (still refused after ${tried}): the API key probably lacks the rights to ${rightsFor(op)} (a read-only or service user's key; use a key of an administrator, Settings > API keys), or it belongs to another FortiCNAPP account or sub-account than the one meant (pass --subaccount <name> for a sub-account of an organization). ${RERUN}`;
    } else if (kind === 'role') {
      hint = ` (gave up after ${tried}): FortiCNAPP still cannot assume the cross-account role; check that it trusts the FortiCNAPP principal with this external ID. ${RERUN}`;
    } else {
      hint = ` (gave up after ${tried}): FortiCNAPP is overloaded or unavailable. Run the command again later: it resumes where this run stopped.`;
    }
    return new LaceworkApiError(err.method, err.path, err.status, err.apiMessage, hint, { retryAfterMs: err.retryAfterMs, retryable: true });
  }
  const app = err instanceof AppError ? err : new AppError('LaceworkUnreachable', errorMessage(err));
  return new AppError(app.code, `${app.message.replace(/\.$/, '')} (gave up after ${tried}). A re-run resumes where this run stopped.`, {
    exitCode: app.exitCode,
    cause: err,
  });
}

/** `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
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

/** The error code of a failed request (`node:http` sets it on the error; fetch on its `cause`), else its message. */
function networkDetail(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  for (const e of [err, cause]) {
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (typeof code === 'string') return code;
  }
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
async function pauseFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw err;
  }
}
