/**
 * A fake FortiCNAPP (Lacework) API v2 for tests: node:http on 127.0.0.1, a free port.
 *
 * It follows reference/lacework.md §3 to the letter and checks every request against it: headers (Accept,
 * Content-Type with a body, X-LW-UAKS only on the token call, a bare issued and unexpired token in Authorization
 * on every other call, Account-Name exactly when a subaccount is configured, our User-Agent) and body shapes
 * (token body; AwsEksAudit create/update body with integer `enabled`, well-formed ARNs, a v2 external ID for this
 * tenant). A malformed request gets 400 `{"ok":false,"message":...}` and is recorded in `violations`, so a test
 * can assert `violations` is empty. Wrong key id or secret gets 401 `{"ok":false,"message":"Invalid API key or
 * secret"}`, as the real API answers; that is not a violation.
 *
 * Like the real platform, with `subscribe` set it keeps an SQS queue subscribed to each integration's SNS topic:
 * after a create, and after every PATCH it checks the subscription and makes it again when it is missing (a new
 * topic, or the same topic ARN deleted and made again: the old subscription went with the old topic); a delete
 * unsubscribes. On moto the queue is in the topic's own account (moto's cross-account SNS->SQS delivery is wrong,
 * reference/moto.md §3.6), so every account of an organization gets its own platform queue.
 *
 * Rules ({@link FakeLaceworkRule}) answer chosen requests with the API's error shape (`{"ok":false,"message":...}`),
 * optionally with `Retry-After`, a given number of times, or delay them; they apply to requests that passed the
 * header and body checks, before the fake's own logic (so a rule can fail a create that would otherwise work).
 *
 * Never logs anything, and never records the secret (the X-LW-UAKS header is redacted in `requests`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ListSubscriptionsByTopicCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EksAuditIntegration } from '../../src/lacework/api.js';
import { asAccount, DEFAULT_ACCOUNT, DUMMY_CREDENTIALS, parseArn } from './moto-accounts.js';

/** One request as the fake saw it. Header names are lower-case; `x-lw-uaks` is recorded as `[redacted]`. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it was not JSON, or undefined without a body. */
  body: unknown;
  /** Status the fake answered (0 until it has). */
  status: number;
  /** Answered by a {@link FakeLaceworkRule} (its status) rather than by the fake's own logic. */
  injected?: boolean;
}

/**
 * Which request (all given selectors must match), which answer, how many times.
 *
 * - `method`: exact (`POST`, `GET`, `PATCH`, `DELETE`); `path`: the path without query, exactly or by RegExp
 *   (e.g. `/^\/api\/v2\/CloudAccounts\/[^/]+$/`); `match`: any predicate over the recorded request.
 * - `status` (with `message`, default `"Service Unavailable"`-like text per status) answers
 *   `{"ok": false, "message": ...}` (reference/lacework.md §3.5), or `body` exactly; `retryAfter` adds a
 *   `Retry-After` header (seconds, or an HTTP date string), `headers` any other.
 * - `delayMs` waits before answering; without `status` the request then goes on normally (latency only).
 * - `times`: how many requests it affects (default: all).
 */
export interface FakeLaceworkRule {
  method?: string;
  path?: string | RegExp;
  match?: (req: RecordedRequest) => boolean;
  status?: number;
  message?: string | ((req: RecordedRequest) => string);
  body?: unknown;
  retryAfter?: number | string;
  headers?: Record<string, string>;
  delayMs?: number;
  times?: number;
}

/** What {@link FakeLacework.addRule} returns. */
export interface FakeLaceworkRuleHandle {
  /** Requests this rule has answered (or delayed) so far. */
  readonly hits: number;
  remove(): void;
}

export interface FakeLaceworkOptions {
  /** Account the fake serves, e.g. `acme` or `acme.fra`; its first label is the tenant expected in external IDs. */
  account: string;
  keyId: string;
  secret: string;
  /** When set, every request must carry `Account-Name: <subaccount>`; when not, none may. */
  subaccount?: string;
  /** Subscribe a same-account SQS queue to each integration's topic on this moto endpoint. */
  subscribe?: { endpoint: string; queueName?: string };
  /** Expected User-Agent; default `forticnapp-eks-audit/<version>`. */
  userAgent?: RegExp;
}

export interface FakeLacework {
  /** Base URL, e.g. `http://127.0.0.1:41234`; pass it as `baseUrl` or `LW_API_SERVER_URL`. */
  url: string;
  /** Live store, by intgGuid. Tests may edit it (e.g. set `state.ok = false`). */
  integrations: Map<string, EksAuditIntegration>;
  requests: RecordedRequest[];
  /** Every way a request broke reference/lacework.md; should stay empty. Never holds the secret. */
  violations: string[];
  /**
   * The next `n` well-formed creates fail with `status` (default 400) and `message` (default: role not
   * assumable). A thin alias of {@link FakeLacework.addRule}; each call replaces the previous one's rule.
   */
  failNextCreates(n: number, status?: number, message?: string): void;
  /** Add a rule (evaluated in the order added; the first that matches answers). */
  addRule(rule: FakeLaceworkRule): FakeLaceworkRuleHandle;
  /** Remove every rule (including failNextCreates'). */
  clearRules(): void;
  /** Make every issued token expire now, as if an hour had passed. */
  expireTokens(): void;
  /**
   * URL of the queue the fake subscribes in `region` of `account` (default 123456789012; created if
   * missing). Needs `subscribe`.
   */
  queueUrl(region: string, account?: string): Promise<string>;
  /** Subscription ARN the fake made for an integration, if any. */
  subscriptionOf(intgGuid: string): string | undefined;
  stop(): Promise<void>;
}

const TOKEN_PATH = '/api/v2/access/tokens';
const CLOUD_ACCOUNTS_PATH = '/api/v2/CloudAccounts';
const DEFAULT_QUEUE_NAME = 'forticnapp-eks-audit-fake';

const SNS_ARN = /^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const S3_BUCKET_ARN = /^arn:aws(?:-[a-z]+)*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
// The 10 random characters may contain ':' and '/', so anchor on both ends (reference/lacework.md §5).
const EXTERNAL_ID = /^lweid:aws:v2:([^:]+):(\d{12}):.{10}$/;

/** Starts the fake. Call `stop()` when done (afterEach/afterAll). */
export async function startFakeLacework(opts: FakeLaceworkOptions): Promise<FakeLacework> {
  const tenant = tenantOfAccount(opts.account);
  const expectedUserAgent = opts.userAgent ?? /^forticnapp-eks-audit\/\S+$/;
  const integrations = new Map<string, EksAuditIntegration>();
  const subscriptions = new Map<string, string>();
  const tokens = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  type LiveRule = FakeLaceworkRule & { left: number; hits: number };
  let rules: LiveRule[] = [];
  let failCreatesRule: LiveRule | undefined;

  const queueName = opts.subscribe?.queueName ?? DEFAULT_QUEUE_NAME;
  const awsClients = new Map<string, { sns: SNSClient; sqs: SQSClient }>();
  /** SNS and SQS clients acting in `account` (moto's `x-moto-account-id`), in `region`. */
  function clientsFor(region: string, account: string): { sns: SNSClient; sqs: SQSClient } {
    const endpoint = opts.subscribe?.endpoint;
    if (endpoint === undefined) throw new Error('startFakeLacework: `subscribe` was not configured');
    const key = `${account}/${region}`;
    let clients = awsClients.get(key);
    if (clients === undefined) {
      const config = { region, endpoint, credentials: DUMMY_CREDENTIALS };
      clients = { sns: asAccount(new SNSClient(config), account), sqs: asAccount(new SQSClient(config), account) };
      awsClients.set(key, clients);
    }
    return clients;
  }
  /** Region and account of a topic or subscription ARN. */
  const whereOf = (arn: string) => {
    const p = parseArn(arn);
    return { region: p?.region ?? '', account: p?.account || DEFAULT_ACCOUNT };
  };

  async function ensureQueue(region: string, account: string): Promise<{ url: string; arn: string }> {
    const { sqs } = clientsFor(region, account);
    // CreateQueue is idempotent for the same name and attributes, and survives a moto reset between tests.
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const url = created.QueueUrl;
    if (url === undefined) throw new Error('CreateQueue returned no QueueUrl');
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const arn = attrs.Attributes?.QueueArn;
    if (arn === undefined) throw new Error('GetQueueAttributes returned no QueueArn');
    return { url, arn };
  }

  async function subscribe(snsArn: string): Promise<string> {
    const { region, account } = whereOf(snsArn);
    const queue = await ensureQueue(region, account);
    const { sns } = clientsFor(region, account);
    const out = await sns.send(
      new SubscribeCommand({ TopicArn: snsArn, Protocol: 'sqs', Endpoint: queue.arn, ReturnSubscriptionArn: true }),
    );
    if (out.SubscriptionArn === undefined) throw new Error('Subscribe returned no SubscriptionArn');
    return out.SubscriptionArn;
  }

  /** Whether `subscriptionArn` is still among the topic's subscriptions (false when the topic is gone). */
  async function stillSubscribed(snsArn: string, subscriptionArn: string): Promise<boolean> {
    const { region, account } = whereOf(snsArn);
    const { sns } = clientsFor(region, account);
    try {
      let NextToken: string | undefined;
      do {
        const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: snsArn, NextToken }));
        if ((page.Subscriptions ?? []).some((s) => s.SubscriptionArn === subscriptionArn)) return true;
        NextToken = page.NextToken;
      } while (NextToken);
      return false;
    } catch {
      return false;
    }
  }

  async function unsubscribe(guid: string): Promise<void> {
    const arn = subscriptions.get(guid);
    subscriptions.delete(guid);
    // SNS hands back the same subscription for the same topic and queue: keep it while another integration uses it.
    if (arn === undefined || [...subscriptions.values()].includes(arn)) return;
    const { region, account } = whereOf(arn);
    try {
      await clientsFor(region, account).sns.send(new UnsubscribeCommand({ SubscriptionArn: arn }));
    } catch {
      // The topic may be gone already (teardown order, or a moto reset); the platform shrugs too.
    }
  }

  /**
   * The platform after a create or an update: the integration's topic has our queue subscribed. Keeps a
   * subscription that still exists; replaces one to another topic; makes it again when it is gone.
   */
  async function reconcile(guid: string, snsArn: string): Promise<void> {
    const current = subscriptions.get(guid);
    if (current !== undefined) {
      const sameTopic = current.startsWith(`${snsArn}:`);
      if (sameTopic && (await stillSubscribed(snsArn, current))) return;
      if (!sameTopic) await unsubscribe(guid);
      else subscriptions.delete(guid);
    }
    subscriptions.set(guid, await subscribe(snsArn));
  }

  function violation(req: RecordedRequest, problems: string[]): void {
    for (const p of problems) violations.push(`${req.method} ${req.path}: ${p}`);
  }

  /** The first rule that matches `req` (using one of its `times`), if any. */
  function ruleFor(req: RecordedRequest, path: string): LiveRule | undefined {
    for (const rule of rules) {
      if (rule.left <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) continue;
      if (rule.path !== undefined && (typeof rule.path === 'string' ? rule.path !== path : !rule.path.test(path))) continue;
      if (rule.match !== undefined && !rule.match(req)) continue;
      rule.left -= 1;
      rule.hits += 1;
      return rule;
    }
    return undefined;
  }

  async function handle(httpReq: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = httpReq.method ?? 'GET';
    const rawPath = httpReq.url ?? '/';
    const path = rawPath.split('?')[0] ?? rawPath;
    const text = await readBody(httpReq);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(httpReq.headers)) {
      if (value === undefined) continue;
      headers[name] = name === 'x-lw-uaks' ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown;
    let bodyIsJson = true;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        bodyIsJson = false;
      }
    }
    const req: RecordedRequest = { method, path: rawPath, headers, body, status: 0 };
    requests.push(req);
    const answer = (status: number, json: unknown, extra: Record<string, string> = {}) => {
      req.status = status;
      send(res, status, json, extra);
    };

    const reject = (problems: string[]) => {
      violation(req, problems);
      answer(400, { ok: false, message: `Invalid request: ${problems.join('; ')}` });
    };

    // Headers every call must get right (reference/lacework.md §3.3).
    const problems: string[] = [];
    const isTokenCall = path === TOKEN_PATH;
    if (headers.accept !== 'application/json') problems.push(`Accept must be "application/json", got ${show(headers.accept)}`);
    if (text !== '') {
      if (headers['content-type'] !== 'application/json') {
        problems.push(`Content-Type must be "application/json" with a body, got ${show(headers['content-type'])}`);
      }
      if (!bodyIsJson) problems.push('body is not JSON');
      if (method === 'GET' || method === 'DELETE') problems.push(`${method} must not carry a body`);
    }
    if (opts.subaccount !== undefined) {
      if (headers['account-name'] !== opts.subaccount) {
        problems.push(`Account-Name must be "${opts.subaccount}", got ${show(headers['account-name'])}`);
      }
    } else if (headers['account-name'] !== undefined) {
      problems.push(`Account-Name sent (${show(headers['account-name'])}) but the account has no subaccount`);
    }
    if (!expectedUserAgent.test(headers['user-agent'] ?? '')) {
      problems.push(`User-Agent ${show(headers['user-agent'])} does not match ${String(expectedUserAgent)}`);
    }
    if (isTokenCall) {
      if (httpReq.headers['x-lw-uaks'] === undefined) problems.push('X-LW-UAKS header missing on the token call');
    } else {
      if (httpReq.headers['x-lw-uaks'] !== undefined) problems.push('X-LW-UAKS (the secret) sent on a call that is not the token call');
      const auth = headers.authorization;
      if (auth === undefined) problems.push('Authorization header missing');
      else if (/^bearer\s/i.test(auth)) problems.push('Authorization must be the bare token (go-sdk sends no "Bearer " prefix)');
      else if (!tokens.has(auth)) problems.push('Authorization holds a token this server never issued');
    }
    if (problems.length > 0) return reject(problems);

    // Which route, and is the request well formed for it (reference/lacework.md §3.2-§3.5)?
    type Route =
      | { kind: 'token' }
      | { kind: 'list' }
      | { kind: 'create' }
      | { kind: 'by-type'; type: string }
      | { kind: 'get' | 'patch' | 'delete'; id: string };
    let route: Route;
    if (isTokenCall) {
      if (method !== 'POST') return reject([`${method} is not allowed on ${TOKEN_PATH}`]);
      const shape = checkTokenBody(body);
      if (shape.length > 0) return reject(shape);
      route = { kind: 'token' };
    } else if (path === CLOUD_ACCOUNTS_PATH) {
      if (method === 'GET') route = { kind: 'list' };
      else if (method === 'POST') {
        const shape = checkIntegrationBody(body, tenant);
        if (shape.length > 0) return reject(shape);
        route = { kind: 'create' };
      } else return reject([`${method} is not allowed on ${CLOUD_ACCOUNTS_PATH}`]);
    } else if (path.startsWith(`${CLOUD_ACCOUNTS_PATH}/`)) {
      const id = decodeURIComponent(path.slice(CLOUD_ACCOUNTS_PATH.length + 1));
      // A type name takes the GUID's place to list by type (go-sdk `ListByType`); GUIDs carry '_' and digits.
      if (/^[A-Za-z]+$/.test(id)) {
        if (method !== 'GET') return reject([`${method} is not allowed on a list by type`]);
        route = { kind: 'by-type', type: id };
      } else if (method === 'GET') route = { kind: 'get', id };
      else if (method === 'PATCH') {
        const shape = checkIntegrationBody(body, tenant, id);
        if (shape.length > 0) return reject(shape);
        route = { kind: 'patch', id };
      } else if (method === 'DELETE') route = { kind: 'delete', id };
      else return reject([`${method} is not allowed on ${CLOUD_ACCOUNTS_PATH}/<guid>`]);
    } else {
      violation(req, ['no such route in reference/lacework.md']);
      return answer(404, { ok: false, message: `Not found: ${method} ${path}` });
    }

    // Rules: a well-formed request the test wants answered otherwise (or later).
    const rule = ruleFor(req, path);
    if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    if (rule?.status !== undefined) {
      req.injected = true;
      const extra: Record<string, string> = { ...rule.headers };
      if (rule.retryAfter !== undefined) extra['Retry-After'] = String(rule.retryAfter);
      const message = typeof rule.message === 'function' ? rule.message(req) : (rule.message ?? defaultMessage(rule.status));
      return answer(rule.status, rule.body !== undefined ? rule.body : { ok: false, message }, extra);
    }

    if (route.kind === 'token') {
      const tokenBody = body as { keyId: string; expiryTime?: number };
      if (tokenBody.keyId !== opts.keyId || httpReq.headers['x-lw-uaks'] !== opts.secret) {
        return answer(401, { ok: false, message: 'Invalid API key or secret' });
      }
      const expirySeconds = tokenBody.expiryTime ?? 3600;
      const token = `_${randomBytes(24).toString('hex')}`;
      const expiresAt = Date.now() + expirySeconds * 1000;
      tokens.set(token, expiresAt);
      return answer(201, { token, expiresAt: new Date(expiresAt).toISOString() });
    }

    // The token is known (checked above); an expired one is ordinary life, not a client bug.
    if ((tokens.get(headers.authorization ?? '') ?? 0) <= Date.now()) {
      return answer(401, { ok: false, message: 'Invalid or expired access token' });
    }

    switch (route.kind) {
      case 'list':
        return answer(200, { data: [...integrations.values()].map(clone) });
      case 'by-type':
        return answer(200, { data: [...integrations.values()].filter((i) => i.type === route.type).map(clone) });
      case 'create': {
        const input = body as CreateBody;
        const guid = `${tenant.toUpperCase().replace(/[^A-Z0-9]/g, '')}_${randomBytes(24).toString('hex').toUpperCase()}`;
        if (opts.subscribe !== undefined) {
          try {
            await reconcile(guid, input.data.snsArn);
          } catch (err) {
            return answer(400, { ok: false, message: subscribeFailure(input.data.snsArn, err) });
          }
        }
        const integration = toIntegration(guid, input);
        integrations.set(guid, integration);
        return answer(201, { data: clone(integration) });
      }
      case 'get': {
        const existing = integrations.get(route.id);
        if (existing === undefined) return answer(404, { ok: false, message: `Integration ${route.id} not found` });
        return answer(200, { data: clone(existing) });
      }
      case 'patch': {
        const existing = integrations.get(route.id);
        if (existing === undefined) return answer(404, { ok: false, message: `Integration ${route.id} not found` });
        const input = body as CreateBody;
        if (opts.subscribe !== undefined) {
          try {
            await reconcile(route.id, input.data.snsArn);
          } catch (err) {
            return answer(400, { ok: false, message: subscribeFailure(input.data.snsArn, err) });
          }
        }
        const updated = toIntegration(route.id, input, existing);
        integrations.set(route.id, updated);
        return answer(200, { data: clone(updated) });
      }
      case 'delete': {
        if (!integrations.has(route.id)) return answer(404, { ok: false, message: `Integration ${route.id} not found` });
        if (opts.subscribe !== undefined) await unsubscribe(route.id);
        integrations.delete(route.id);
        req.status = 204;
        res.writeHead(204).end();
        return;
      }
    }
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake itself; answer 500 so the client sees it, and make the test see it too.
      violations.push(`fake server error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, 500, { ok: false, message: 'fake server error' });
      else res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const addRule = (rule: FakeLaceworkRule): FakeLaceworkRuleHandle => {
    const live: LiveRule = { ...rule, left: rule.times ?? Infinity, hits: 0 };
    rules.push(live);
    return {
      get hits() {
        return live.hits;
      },
      remove() {
        rules = rules.filter((r) => r !== live);
      },
    };
  };

  return {
    url: `http://127.0.0.1:${port}`,
    integrations,
    requests,
    violations,
    failNextCreates(n: number, status = 400, message?: string): void {
      if (failCreatesRule) rules = rules.filter((r) => r !== failCreatesRule);
      failCreatesRule = undefined;
      if (n <= 0) return;
      addRule({
        method: 'POST',
        path: CLOUD_ACCOUNTS_PATH,
        status,
        times: n,
        message:
          message ??
          ((req) => {
            const roleArn = (req.body as CreateBody).data.crossAccountCredentials.roleArn;
            return `Unable to assume role ${roleArn} (the role is not yet assumable)`;
          }),
      });
      failCreatesRule = rules.at(-1);
    },
    addRule,
    clearRules(): void {
      rules = [];
      failCreatesRule = undefined;
    },
    expireTokens(): void {
      for (const token of tokens.keys()) tokens.set(token, 0);
    },
    async queueUrl(region: string, account = DEFAULT_ACCOUNT): Promise<string> {
      return (await ensureQueue(region, account)).url;
    },
    subscriptionOf(intgGuid: string): string | undefined {
      return subscriptions.get(intgGuid);
    },
    async stop(): Promise<void> {
      for (const { sns, sqs } of awsClients.values()) {
        sns.destroy();
        sqs.destroy();
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The API's message for a topic it cannot subscribe to (the SDK error's name says why). */
function subscribeFailure(snsArn: string, err: unknown): string {
  const name = err instanceof Error ? err.name : 'Error';
  return `Unable to subscribe to SNS topic ${snsArn}: ${name}`;
}

/** A plausible message for a status when a rule gives none. */
function defaultMessage(status: number): string {
  const known: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Unauthorized Access',
    404: 'Not Found',
    409: 'Conflict',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return known[status] ?? `HTTP ${status}`;
}

interface CreateBody {
  name: string;
  type: 'AwsEksAudit';
  enabled: number;
  data: { snsArn: string; s3BucketArn?: string; crossAccountCredentials: { roleArn: string; externalId: string } };
}

/**
 * The stored integration for a create (or, with `existing`, a PATCH): `createdOrUpdatedTime` is the time of
 * this change (ISO 8601 with milliseconds), the health state starts over.
 */
function toIntegration(guid: string, input: CreateBody, existing?: EksAuditIntegration): EksAuditIntegration {
  const now = Date.now();
  const data: EksAuditIntegration['data'] = {
    snsArn: input.data.snsArn,
    crossAccountCredentials: { ...input.data.crossAccountCredentials },
  };
  if (input.data.s3BucketArn !== undefined) data.s3BucketArn = input.data.s3BucketArn;
  return {
    intgGuid: guid,
    name: input.name,
    type: 'AwsEksAudit',
    enabled: input.enabled,
    isOrg: existing?.isOrg ?? 0,
    createdOrUpdatedTime: new Date(now).toISOString(),
    createdOrUpdatedBy: 'fake-user@example.com',
    state: { ok: true, details: {}, lastUpdatedTime: now, lastSuccessfulTime: now },
    data,
  };
}

/** `{"keyId": "...", "expiryTime": 3600}`; expiryTime optional, whole seconds, at most 86400 (docs). */
function checkTokenBody(body: unknown): string[] {
  const obj = record(body);
  if (obj === undefined) return ['token body must be a JSON object'];
  const problems = unexpectedKeys(obj, ['keyId', 'expiryTime'], 'token body');
  if (typeof obj.keyId !== 'string' || obj.keyId === '') problems.push('token body: keyId must be a non-empty string');
  if (obj.expiryTime !== undefined) {
    const e = obj.expiryTime;
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 86400) {
      problems.push(`token body: expiryTime must be an integer from 1 to 86400, got ${show(e)}`);
    }
  }
  return problems;
}

/** The create body of reference/lacework.md §3.4 (PATCH may add `intgGuid`, which must match the path). */
function checkIntegrationBody(body: unknown, tenant: string, guid?: string): string[] {
  const obj = record(body);
  if (obj === undefined) return ['body must be a JSON object'];
  const allowed = guid === undefined ? ['name', 'type', 'enabled', 'data'] : ['intgGuid', 'name', 'type', 'enabled', 'data'];
  const problems = unexpectedKeys(obj, allowed, 'body');
  if (guid !== undefined && obj.intgGuid !== undefined && obj.intgGuid !== guid) problems.push('intgGuid does not match the path');
  if (typeof obj.name !== 'string' || obj.name.trim() === '') problems.push('name must be a non-empty string');
  if (obj.type !== 'AwsEksAudit') problems.push(`type must be "AwsEksAudit", got ${show(obj.type)}`);
  if (obj.enabled !== 1 && obj.enabled !== 0) problems.push(`enabled must be the integer 1 or 0, got ${show(obj.enabled)}`);
  const data = record(obj.data);
  if (data === undefined) return [...problems, 'data must be an object'];
  problems.push(...unexpectedKeys(data, ['snsArn', 's3BucketArn', 'crossAccountCredentials'], 'data'));
  if (typeof data.snsArn !== 'string' || !SNS_ARN.test(data.snsArn)) problems.push(`data.snsArn is not an SNS topic ARN: ${show(data.snsArn)}`);
  if ('s3BucketArn' in data) {
    // go-sdk sends it `omitempty`: absent, never "".
    if (typeof data.s3BucketArn !== 'string' || !S3_BUCKET_ARN.test(data.s3BucketArn)) {
      problems.push(`data.s3BucketArn is not an S3 bucket ARN (leave it out when there is none): ${show(data.s3BucketArn)}`);
    }
  }
  const cred = record(data.crossAccountCredentials);
  if (cred === undefined) return [...problems, 'data.crossAccountCredentials must be an object'];
  problems.push(...unexpectedKeys(cred, ['roleArn', 'externalId'], 'data.crossAccountCredentials'));
  const roleMatch = typeof cred.roleArn === 'string' ? ROLE_ARN.exec(cred.roleArn) : null;
  if (roleMatch === null) problems.push(`data.crossAccountCredentials.roleArn is not an IAM role ARN: ${show(cred.roleArn)}`);
  const idMatch = typeof cred.externalId === 'string' ? EXTERNAL_ID.exec(cred.externalId) : null;
  if (idMatch === null) {
    problems.push(`data.crossAccountCredentials.externalId is not a v2 external ID (lweid:aws:v2:<tenant>:<account>:<10 chars>): ${show(cred.externalId)}`);
  } else {
    if (idMatch[1] !== tenant) problems.push(`externalId tenant "${idMatch[1]}" is not this account's tenant "${tenant}"`);
    if (roleMatch !== null && idMatch[2] !== roleMatch[1]) {
      problems.push(`externalId AWS account ${idMatch[2]} is not the role's account ${roleMatch[1]}`);
    }
  }
  return problems;
}

function unexpectedKeys(obj: Record<string, unknown>, allowed: string[], where: string): string[] {
  return Object.keys(obj)
    .filter((k) => !allowed.includes(k))
    .map((k) => `${where}: unexpected key "${k}"`);
}

/** `acme.lacework.net` / `acme.fra` -> `acme`; written here, not imported, so the fake checks the product independently. */
function tenantOfAccount(account: string): string {
  const host = account.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\.lacework\.net.*$/, '');
  return host.split('.')[0] ?? host;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function show(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...extra, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
