/**
 * A fault and latency proxy in front of moto (DESIGN.md §6 failure tests, §7 latency model).
 *
 * Point the SDK (or the CLI, through `AWS_ENDPOINT_URL`) at {@link FaultProxy.endpoint}. Every request is
 * forwarded to moto unchanged (method, path and query, raw headers including `Host`, body), and the
 * response is relayed back unchanged. Each request is classified (service, region, action, mutating) and
 * recorded in {@link FaultProxy.calls}; {@link FaultRule}s can throttle it, fail it with a 5xx or a
 * permanent error (in the error shape of the service's protocol, so the SDK's retry strategy treats it as
 * it would real AWS), or delay it.
 *
 * Requests carrying the header `x-test-fixture: 1` (see {@link markFixture}) and moto's own `/moto-api/`
 * calls are forwarded and recorded (`fixture: true`), but never faulted, delayed, held or counted.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { BuildMiddleware, MiddlewareStack } from '@smithy/types';

/** One request seen by the proxy. */
export interface ProxiedCall {
  /** Arrival order of all requests (fixtures included), from 1. */
  seq: number;
  /** Signing name from the SigV4 credential scope (`logs`, `s3`, `iam`, `tagging`…), or `moto-api`/`unknown`. */
  service: string;
  /** Region from the SigV4 credential scope (`us-east-1` for IAM), or `''`. */
  region: string;
  /** API operation name (`PutSubscriptionFilter`, `PutBucketPolicy`, `UpdateClusterConfig`…), or `Unknown`. */
  action: string;
  /** Whether the call may change AWS state (see {@link isMutating}). */
  mutating: boolean;
  /** Sent with `x-test-fixture: 1` (or a `/moto-api/` call): never faulted, held or counted. */
  fixture: boolean;
  /** HTTP status returned to the client (moto's or the injected one); 0 while pending or when held. */
  status: number;
  /**
   * What the proxy did instead of a plain forward: the fault kind (`throttle`, `error5xx`, `fail`),
   * `delay` (forwarded late), `hold` or `noreply` (see {@link MutatingDecision}).
   */
  injected?: string;
  /** Milliseconds from arrival to the end of the response (0 while pending or when held). */
  ms: number;
  /** HTTP method. */
  method: string;
  /** Request path and query, as received. */
  path: string;
}

/**
 * A fault or latency rule. A rule matches a request when every given selector matches
 * (`service` exactly, `action` exactly or by RegExp, `mutating` by value) and it has uses left.
 * Fixture requests never match.
 *
 * For each request, every matching `delay` rule applies (their `delayMs` add up, each uses one of its
 * `times`); then the first matching non-delay rule, in the order added, answers the request instead of
 * AWS (after the delay). Default statuses and codes per protocol:
 *
 * | fault | JSON (logs, firehose, kms, sqs, tagging) | REST-JSON (eks) | query (iam, sts, sns) | S3 |
 * |---|---|---|---|---|
 * | `throttle` | 400 `ThrottlingException` | 429 `ThrottlingException` | 400 `Throttling` | 503 `SlowDown` |
 * | `error5xx` | 500 `InternalFailure` / 503 `ServiceUnavailableException` | same as JSON | 500 `InternalFailure` / 503 `ServiceUnavailable` | 500 `InternalError` / 503 `ServiceUnavailable` |
 * | `fail` | 400 `AccessDeniedException` | 403 `AccessDeniedException` | 403 `AccessDenied` | 403 `AccessDenied` |
 *
 * `status`, `code` and `message` override the defaults.
 */
export type FaultRule = {
  service?: string;
  action?: string | RegExp;
  mutating?: boolean;
  fault: 'throttle' | 'error5xx' | 'delay' | 'fail';
  /** How many requests this rule may affect. @default Infinity */
  times?: number;
  /** For `delay`: milliseconds to wait before forwarding. @default 0 */
  delayMs?: number;
  status?: number;
  code?: string;
  message?: string;
};

/**
 * What to do with a counted mutating request, returned by an {@link FaultProxy.onMutating} callback.
 *
 * - `undefined` / `'forward'`: forward it normally.
 * - `'hold'`: never forward it and never answer it (the client's socket stays open until it dies or the
 *   proxy stops). AWS never sees it.
 * - `'noreply'`: forward it to AWS and let it complete there, but never answer the client.
 */
export type MutatingDecision = 'forward' | 'hold' | 'noreply' | undefined | void;

/** Callback for {@link FaultProxy.onMutating}. */
export type MutatingCallback = (n: number, call: ProxiedCall) => MutatingDecision;

/** A running proxy. */
export interface FaultProxy {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  endpoint: string;
  /** Every request in arrival order (fixtures included); entries are updated when the response ends. */
  calls: ProxiedCall[];
  /**
   * Number of non-fixture mutating requests that got past the fault rules, i.e. the last `n` given to
   * the {@link FaultProxy.onMutating} callback: requests forwarded to AWS, plus held/no-reply ones.
   * Requests answered by an injected fault are in {@link FaultProxy.calls} but not counted.
   */
  mutatingCount(): number;
  /** Add a rule (evaluated in the order added). */
  addRule(r: FaultRule): void;
  /** Remove all rules. */
  clearRules(): void;
  /** Forget recorded calls and restart the mutating count at 0 (rules and the callback stay). */
  resetCalls(): void;
  /**
   * Register (or with `null`, remove) the callback for counted mutating requests.
   *
   * `cb(n, call)` runs synchronously just BEFORE the n-th (1-based) non-fixture mutating request is
   * forwarded to AWS: after its body has been read, after any `delay` rules, and only if no fault rule
   * answered it. `n` is therefore the order in which mutating requests reach AWS.
   *
   * Kill after the N-th mutating request (see also {@link FaultProxy.holdAfter}):
   * `onMutating((n) => { if (n > N) { if (n === N + 1) child.kill('SIGKILL'); return 'hold'; } })`.
   * Then exactly requests 1..N reached AWS and each completes there even though the client dies
   * (await {@link FaultProxy.idle} before inspecting state); no later mutating request reaches AWS.
   * Whether the client saw the response to request N (or to others in flight) is a race: it did if that
   * response arrived before it sent request N+1; with concurrent requests it may not have.
   * To make "request N was applied but its answer was lost" deterministic, return `'noreply'` for n === N.
   */
  onMutating(cb: MutatingCallback | null): void;
  /**
   * Shortcut for the kill-after-N pattern: hold every counted mutating request with n > `n`, and call
   * `onFirstHold` (e.g. `() => child.kill('SIGKILL')`) once, for request n + 1.
   */
  holdAfter(n: number, onFirstHold?: () => void): void;
  /** Resolves when no request is being delayed or forwarded (held requests do not count). */
  idle(): Promise<void>;
  /** Close the proxy, dropping held and open connections. */
  stop(): Promise<void>;
}

type Protocol = 'json' | 'rest-json' | 'query' | 'rest-xml';

/** The result of {@link classifyRequest}. */
export interface Classification {
  service: string;
  region: string;
  action: string;
  mutating: boolean;
  protocol: Protocol;
}

const TARGET_PREFIX_SERVICE: Record<string, string> = {
  Logs_20140328: 'logs',
  Firehose_20150804: 'firehose',
  TrentService: 'kms',
  AmazonSQS: 'sqs',
  ResourceGroupsTaggingAPI_20170126: 'tagging',
};

const QUERY_SERVICES = new Set(['iam', 'sts', 'sns', 'ec2', 'sqs', 'cloudformation', 'elasticloadbalancing']);

/** Operation bindings of the EKS REST-JSON API (from `@aws-sdk/client-eks`): `METHOD /path Operation`. */
const EKS_ROUTES = compileRoutes([
  'POST /clusters/{clusterName}/certificate-authorities/{id}/activate ActivateCertificateAuthority',
  'POST /clusters/{clusterName}/access-entries/{principalArn}/access-policies AssociateAccessPolicy',
  'POST /clusters/{clusterName}/encryption-config/associate AssociateEncryptionConfig',
  'POST /clusters/{clusterName}/identity-provider-configs/associate AssociateIdentityProviderConfig',
  'POST /clusters/{name}/updates/{updateId}/cancel-update CancelUpdate',
  'POST /clusters/{clusterName}/access-entries CreateAccessEntry',
  'POST /clusters/{clusterName}/addons CreateAddon',
  'POST /clusters/{clusterName}/capabilities CreateCapability',
  'POST /clusters/{clusterName}/certificate-authorities CreateCertificateAuthority',
  'POST /clusters CreateCluster',
  'POST /eks-anywhere-subscriptions CreateEksAnywhereSubscription',
  'POST /clusters/{clusterName}/fargate-profiles CreateFargateProfile',
  'POST /clusters/{clusterName}/node-groups CreateNodegroup',
  'POST /clusters/{clusterName}/pod-identity-associations CreatePodIdentityAssociation',
  'DELETE /clusters/{clusterName}/access-entries/{principalArn} DeleteAccessEntry',
  'DELETE /clusters/{clusterName}/addons/{addonName} DeleteAddon',
  'DELETE /clusters/{clusterName}/capabilities/{capabilityName} DeleteCapability',
  'DELETE /clusters/{clusterName}/certificate-authorities/{id} DeleteCertificateAuthority',
  'DELETE /clusters/{name} DeleteCluster',
  'DELETE /eks-anywhere-subscriptions/{id} DeleteEksAnywhereSubscription',
  'DELETE /clusters/{clusterName}/fargate-profiles/{fargateProfileName} DeleteFargateProfile',
  'DELETE /clusters/{clusterName}/node-groups/{nodegroupName} DeleteNodegroup',
  'DELETE /clusters/{clusterName}/pod-identity-associations/{associationId} DeletePodIdentityAssociation',
  'DELETE /cluster-registrations/{name} DeregisterCluster',
  'GET /clusters/{clusterName}/access-entries/{principalArn} DescribeAccessEntry',
  'GET /clusters/{clusterName}/addons/{addonName} DescribeAddon',
  'GET /addons/configuration-schemas DescribeAddonConfiguration',
  'GET /addons/supported-versions DescribeAddonVersions',
  'GET /clusters/{clusterName}/capabilities/{capabilityName} DescribeCapability',
  'GET /clusters/{clusterName}/certificate-authorities/{id} DescribeCertificateAuthority',
  'GET /clusters/{name} DescribeCluster',
  'GET /cluster-versions DescribeClusterVersions',
  'GET /eks-anywhere-subscriptions/{id} DescribeEksAnywhereSubscription',
  'GET /clusters/{clusterName}/fargate-profiles/{fargateProfileName} DescribeFargateProfile',
  'POST /clusters/{clusterName}/identity-provider-configs/describe DescribeIdentityProviderConfig',
  'GET /clusters/{clusterName}/insights/{id} DescribeInsight',
  'GET /clusters/{clusterName}/insights-refresh DescribeInsightsRefresh',
  'GET /clusters/{clusterName}/node-groups/{nodegroupName} DescribeNodegroup',
  'GET /clusters/{clusterName}/pod-identity-associations/{associationId} DescribePodIdentityAssociation',
  'GET /clusters/{name}/updates/{updateId} DescribeUpdate',
  'DELETE /clusters/{clusterName}/access-entries/{principalArn}/access-policies/{policyArn} DisassociateAccessPolicy',
  'POST /clusters/{clusterName}/identity-provider-configs/disassociate DisassociateIdentityProviderConfig',
  'GET /clusters/{clusterName}/access-entries ListAccessEntries',
  'GET /access-policies ListAccessPolicies',
  'GET /clusters/{clusterName}/addons ListAddons',
  'GET /clusters/{clusterName}/access-entries/{principalArn}/access-policies ListAssociatedAccessPolicies',
  'GET /clusters/{clusterName}/capabilities ListCapabilities',
  'GET /clusters/{clusterName}/certificate-authorities ListCertificateAuthorities',
  'GET /clusters ListClusters',
  'GET /eks-anywhere-subscriptions ListEksAnywhereSubscriptions',
  'GET /clusters/{clusterName}/fargate-profiles ListFargateProfiles',
  'GET /clusters/{clusterName}/identity-provider-configs ListIdentityProviderConfigs',
  'POST /clusters/{clusterName}/insights ListInsights',
  'GET /clusters/{clusterName}/node-groups ListNodegroups',
  'GET /clusters/{clusterName}/pod-identity-associations ListPodIdentityAssociations',
  'GET /tags/{resourceArn} ListTagsForResource',
  'GET /clusters/{name}/updates ListUpdates',
  'POST /cluster-registrations RegisterCluster',
  'POST /clusters/{clusterName}/insights-refresh StartInsightsRefresh',
  'POST /tags/{resourceArn} TagResource',
  'DELETE /tags/{resourceArn} UntagResource',
  'POST /clusters/{clusterName}/access-entries/{principalArn} UpdateAccessEntry',
  'POST /clusters/{clusterName}/addons/{addonName}/update UpdateAddon',
  'POST /clusters/{clusterName}/capabilities/{capabilityName} UpdateCapability',
  'POST /clusters/{name}/update-config UpdateClusterConfig',
  'POST /clusters/{name}/updates UpdateClusterVersion',
  'POST /eks-anywhere-subscriptions/{id} UpdateEksAnywhereSubscription',
  'POST /clusters/{clusterName}/node-groups/{nodegroupName}/update-config UpdateNodegroupConfig',
  'POST /clusters/{clusterName}/node-groups/{nodegroupName}/update-version UpdateNodegroupVersion',
  'POST /clusters/{clusterName}/pod-identity-associations/{associationId} UpdatePodIdentityAssociation',
]);

/**
 * Operation bindings of the S3 REST-XML API (from `@aws-sdk/client-s3`), relative to the bucket:
 * `/` is a bucket-level call, `/{Key+}` an object-level call; the query lists the keys (and fixed
 * values) that select the operation.
 */
const S3_ROUTES = [
  'DELETE /{Key+}?x-id=AbortMultipartUpload AbortMultipartUpload',
  'POST /{Key+} CompleteMultipartUpload',
  'PUT /{Key+}?x-id=CopyObject CopyObject',
  'PUT / CreateBucket',
  'POST /{Key+}?uploads CreateMultipartUpload',
  'DELETE / DeleteBucket',
  'DELETE /?analytics DeleteBucketAnalyticsConfiguration',
  'DELETE /?cors DeleteBucketCors',
  'DELETE /?encryption DeleteBucketEncryption',
  'DELETE /?intelligent-tiering DeleteBucketIntelligentTieringConfiguration',
  'DELETE /?inventory DeleteBucketInventoryConfiguration',
  'DELETE /?lifecycle DeleteBucketLifecycle',
  'DELETE /?metrics DeleteBucketMetricsConfiguration',
  'DELETE /?ownershipControls DeleteBucketOwnershipControls',
  'DELETE /?policy DeleteBucketPolicy',
  'DELETE /?replication DeleteBucketReplication',
  'DELETE /?tagging DeleteBucketTagging',
  'DELETE /?website DeleteBucketWebsite',
  'DELETE /{Key+}?x-id=DeleteObject DeleteObject',
  'POST /?delete DeleteObjects',
  'DELETE /{Key+}?tagging DeleteObjectTagging',
  'DELETE /?publicAccessBlock DeletePublicAccessBlock',
  'GET /?accelerate GetBucketAccelerateConfiguration',
  'GET /?acl GetBucketAcl',
  'GET /?analytics&x-id=GetBucketAnalyticsConfiguration GetBucketAnalyticsConfiguration',
  'GET /?cors GetBucketCors',
  'GET /?encryption GetBucketEncryption',
  'GET /?intelligent-tiering&x-id=GetBucketIntelligentTieringConfiguration GetBucketIntelligentTieringConfiguration',
  'GET /?inventory&x-id=GetBucketInventoryConfiguration GetBucketInventoryConfiguration',
  'GET /?lifecycle GetBucketLifecycleConfiguration',
  'GET /?location GetBucketLocation',
  'GET /?logging GetBucketLogging',
  'GET /?metrics&x-id=GetBucketMetricsConfiguration GetBucketMetricsConfiguration',
  'GET /?notification GetBucketNotificationConfiguration',
  'GET /?ownershipControls GetBucketOwnershipControls',
  'GET /?policy GetBucketPolicy',
  'GET /?policyStatus GetBucketPolicyStatus',
  'GET /?replication GetBucketReplication',
  'GET /?requestPayment GetBucketRequestPayment',
  'GET /?tagging GetBucketTagging',
  'GET /?versioning GetBucketVersioning',
  'GET /?website GetBucketWebsite',
  'GET /{Key+}?x-id=GetObject GetObject',
  'GET /{Key+}?acl GetObjectAcl',
  'GET /{Key+}?attributes GetObjectAttributes',
  'GET /{Key+}?legal-hold GetObjectLegalHold',
  'GET /?object-lock GetObjectLockConfiguration',
  'GET /{Key+}?retention GetObjectRetention',
  'GET /{Key+}?tagging GetObjectTagging',
  'GET /{Key+}?torrent GetObjectTorrent',
  'GET /?publicAccessBlock GetPublicAccessBlock',
  'HEAD / HeadBucket',
  'HEAD /{Key+} HeadObject',
  'GET /?analytics&x-id=ListBucketAnalyticsConfigurations ListBucketAnalyticsConfigurations',
  'GET /?intelligent-tiering&x-id=ListBucketIntelligentTieringConfigurations ListBucketIntelligentTieringConfigurations',
  'GET /?inventory&x-id=ListBucketInventoryConfigurations ListBucketInventoryConfigurations',
  'GET /?metrics&x-id=ListBucketMetricsConfigurations ListBucketMetricsConfigurations',
  'GET /?uploads ListMultipartUploads',
  'GET / ListObjects',
  'GET /?list-type=2 ListObjectsV2',
  'GET /?versions ListObjectVersions',
  'GET /{Key+}?x-id=ListParts ListParts',
  'PUT /?accelerate PutBucketAccelerateConfiguration',
  'PUT /?acl PutBucketAcl',
  'PUT /?analytics PutBucketAnalyticsConfiguration',
  'PUT /?cors PutBucketCors',
  'PUT /?encryption PutBucketEncryption',
  'PUT /?intelligent-tiering PutBucketIntelligentTieringConfiguration',
  'PUT /?inventory PutBucketInventoryConfiguration',
  'PUT /?lifecycle PutBucketLifecycleConfiguration',
  'PUT /?logging PutBucketLogging',
  'PUT /?metrics PutBucketMetricsConfiguration',
  'PUT /?notification PutBucketNotificationConfiguration',
  'PUT /?ownershipControls PutBucketOwnershipControls',
  'PUT /?policy PutBucketPolicy',
  'PUT /?replication PutBucketReplication',
  'PUT /?requestPayment PutBucketRequestPayment',
  'PUT /?tagging PutBucketTagging',
  'PUT /?versioning PutBucketVersioning',
  'PUT /?website PutBucketWebsite',
  'PUT /{Key+}?x-id=PutObject PutObject',
  'PUT /{Key+}?acl PutObjectAcl',
  'PUT /{Key+}?legal-hold PutObjectLegalHold',
  'PUT /?object-lock PutObjectLockConfiguration',
  'PUT /{Key+}?retention PutObjectRetention',
  'PUT /{Key+}?tagging PutObjectTagging',
  'PUT /?publicAccessBlock PutPublicAccessBlock',
  'POST /{Key+}?restore RestoreObject',
  'POST /{Key+}?select&select-type=2 SelectObjectContent',
  'PUT /{Key+}?x-id=UploadPart UploadPart',
  'PUT /{Key+}?x-id=UploadPartCopy UploadPartCopy',
].map((line) => {
  const [method = '', target = '', action = ''] = line.split(' ');
  const [pathPart = '', query = ''] = target.split('?');
  const keys = new URLSearchParams(query);
  return { method, object: pathPart !== '/', query: [...keys.entries()], action };
});

interface Route {
  method: string;
  re: RegExp;
  action: string;
}

function compileRoutes(lines: string[]): Route[] {
  return lines.map((line) => {
    const [method = '', template = '', action = ''] = line.split(' ');
    const pattern = template
      .split('/')
      .map((seg) => (seg.startsWith('{') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return { method, re: new RegExp(`^${pattern}/?$`), action };
  });
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** S3 operation from method + path-style URL (`/bucket/key?query`). */
function classifyS3(method: string, pathname: string, query: URLSearchParams): string {
  const rest = pathname.replace(/^\//, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === '') return method === 'GET' ? 'ListBuckets' : 'Unknown';
  const object = slash >= 0 && slash < rest.length - 1;
  const xid = query.get('x-id');
  let best: { action: string; score: number } | undefined;
  for (const r of S3_ROUTES) {
    if (r.method !== method || r.object !== object) continue;
    let ok = true;
    for (const [k, v] of r.query) {
      if (k === 'x-id') {
        if (xid !== null && xid !== v) ok = false;
        continue;
      }
      if (!query.has(k) || (v !== '' && query.get(k) !== v)) ok = false;
    }
    if (!ok) continue;
    if (xid !== null && xid === r.action) return r.action;
    const score = r.query.filter(([k]) => k !== 'x-id').length;
    if (!best || score > best.score) best = { action: r.action, score };
  }
  if (xid) return xid;
  return best?.action ?? 'Unknown';
}

const READ_PREFIXES = /^(Describe|List|Get|Head|Filter|Lookup|Simulate|Search|Query|Select)/;
const READ_ONLY_ACTIONS = new Set(['sts:GetCallerIdentity', 'sts:AssumeRole', 'sts:AssumeRoleWithWebIdentity', 'sts:GetSessionToken']);

/**
 * Whether a call may change AWS state: `false` for actions starting with Describe/List/Get/Head (and a few
 * other read verbs: Filter, Lookup, Simulate, Search, Query, Select), for STS GetCallerIdentity/AssumeRole,
 * and for S3 GET/HEAD requests; `true` otherwise (including PutLogEvents, CreateLogStream, PutObject).
 * An unclassified call is mutating unless it is a GET or HEAD.
 */
export function isMutating(service: string, action: string, method: string): boolean {
  if (READ_ONLY_ACTIONS.has(`${service}:${action}`)) return false;
  if (service === 's3' && (method === 'GET' || method === 'HEAD')) return false;
  if (action === 'Unknown') return method !== 'GET' && method !== 'HEAD';
  return !READ_PREFIXES.test(action);
}

/**
 * Classify one request: service and region from the SigV4 credential scope (`Authorization` header or
 * `X-Amz-Credential` query parameter), action from `X-Amz-Target` (JSON protocols), `Action=` in the
 * query string or form body (query protocols), or method + path (EKS, S3 path-style).
 */
export function classifyRequest(
  method: string,
  url: string,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
): Classification {
  const u = new URL(url, 'http://proxy.invalid');
  let service = 'unknown';
  let region = '';
  const scope =
    /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(header(headers, 'authorization') ?? '') ??
    /^[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request$/.exec(u.searchParams.get('X-Amz-Credential') ?? '');
  if (scope) {
    region = scope[1] ?? '';
    service = scope[2] ?? 'unknown';
  }

  const target = header(headers, 'x-amz-target');
  if (target) {
    const dot = target.lastIndexOf('.');
    if (service === 'unknown') service = TARGET_PREFIX_SERVICE[target.slice(0, dot)] ?? 'unknown';
    const action = target.slice(dot + 1);
    return { service, region, action, mutating: isMutating(service, action, method), protocol: 'json' };
  }

  if (u.pathname.startsWith('/moto-api')) {
    return { service: 'moto-api', region, action: u.pathname, mutating: false, protocol: 'rest-json' };
  }

  let queryAction = u.searchParams.get('Action');
  const contentType = header(headers, 'content-type') ?? '';
  if (!queryAction && contentType.startsWith('application/x-www-form-urlencoded')) {
    queryAction = new URLSearchParams(body.toString('utf8')).get('Action');
  }
  if (queryAction || QUERY_SERVICES.has(service)) {
    const action = queryAction ?? 'Unknown';
    return { service, region, action, mutating: isMutating(service, action, method), protocol: 'query' };
  }

  if (service === 's3') {
    const action = classifyS3(method, u.pathname, u.searchParams);
    return { service, region, action, mutating: isMutating(service, action, method), protocol: 'rest-xml' };
  }

  let action = 'Unknown';
  if (service === 'eks') {
    action = EKS_ROUTES.find((r) => r.method === method && r.re.test(u.pathname))?.action ?? 'Unknown';
  }
  return { service, region, action, mutating: isMutating(service, action, method), protocol: 'rest-json' };
}

interface FaultResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An error response in the shape real AWS uses for `protocol`. */
function buildFault(
  rule: FaultRule,
  c: Classification,
  method: string,
  requestContentType: string | undefined,
): FaultResponse {
  const p = c.protocol;
  let status: number;
  let code: string;
  let message: string;
  switch (rule.fault) {
    case 'throttle':
      status = rule.status ?? (p === 'rest-json' ? 429 : p === 'rest-xml' ? 503 : 400);
      code = rule.code ?? (p === 'query' ? 'Throttling' : p === 'rest-xml' ? 'SlowDown' : 'ThrottlingException');
      message = rule.message ?? (p === 'rest-xml' ? 'Please reduce your request rate.' : 'Rate exceeded');
      break;
    case 'error5xx':
      status = rule.status ?? 500;
      if (status === 503) {
        code = rule.code ?? (p === 'query' || p === 'rest-xml' ? 'ServiceUnavailable' : 'ServiceUnavailableException');
        message = rule.message ?? 'Service is unavailable. Please try again later.';
      } else {
        code = rule.code ?? (p === 'rest-xml' ? 'InternalError' : 'InternalFailure');
        message = rule.message ?? 'We encountered an internal error. Please try again.';
      }
      break;
    default:
      status = rule.status ?? (p === 'json' ? 400 : 403);
      code = rule.code ?? (p === 'query' || p === 'rest-xml' ? 'AccessDenied' : 'AccessDeniedException');
      message =
        rule.message ??
        `User: arn:aws:iam::123456789012:user/moto is not authorized to perform: ${c.service}:${c.action}`;
  }
  const requestId = randomUUID();
  switch (p) {
    case 'json':
      return {
        status,
        headers: {
          'content-type': requestContentType?.startsWith('application/x-amz-json')
            ? requestContentType
            : 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': code,
        },
        body: JSON.stringify({ __type: code, message }),
      };
    case 'rest-json':
      return {
        status,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code },
        body: JSON.stringify({ message }),
      };
    case 'query':
      return {
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'rest-xml':
      return {
        status,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': requestId },
        // S3 answers HEAD errors with no body; the SDK then names the error after the status.
        body:
          method === 'HEAD'
            ? ''
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code>` +
              `<Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId>` +
              `<HostId>${requestId}</HostId></Error>`,
      };
  }
}

function ruleMatches(rule: FaultRule & { left: number }, c: Classification): boolean {
  if (rule.left <= 0) return false;
  if (rule.service !== undefined && rule.service !== c.service) return false;
  if (rule.mutating !== undefined && rule.mutating !== c.mutating) return false;
  if (rule.action !== undefined) {
    if (typeof rule.action === 'string' ? rule.action !== c.action : !rule.action.test(c.action)) return false;
  }
  return true;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start a proxy on a free 127.0.0.1 port in front of `target` (moto's endpoint, e.g. `http://127.0.0.1:5055`).
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: false });
  const calls: ProxiedCall[] = [];
  let rules: Array<FaultRule & { left: number }> = [];
  let mutatingSeen = 0;
  let callback: MutatingCallback | null = null;
  let seq = 0;
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const settle = (): void => {
    inFlight--;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const send = (res: http.ServerResponse, status: number, headers: Record<string, string>, body: string): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };

  /** Forward to moto; `reply=false` completes the request at moto but never answers the client. */
  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    call: ProxiedCall,
    started: number,
    reply: boolean,
  ): Promise<void> =>
    new Promise((resolve) => {
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] ?? '';
        // The body is already buffered, so a `100-continue` handshake with moto is pointless.
        if (name.toLowerCase() === 'expect') continue;
        headers.push(name, req.rawHeaders[i + 1] ?? '');
      }
      const out = http.request(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (up) => {
          call.status = up.statusCode ?? 0;
          up.once('end', () => {
            call.ms = Date.now() - started;
            resolve();
          });
          up.once('error', () => resolve());
          if (!reply || res.destroyed) {
            up.resume();
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
          // A client killed mid-answer closes `res`; drain the rest so this request still ends (idle()).
          res.once('close', () => up.resume());
          up.pipe(res);
        },
      );
      out.once('error', (err) => {
        call.status = 502;
        call.ms = Date.now() - started;
        if (reply) send(res, 502, { 'content-type': 'text/plain' }, `fault-proxy: upstream error: ${err.message}`);
        resolve();
      });
      out.end(body);
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const c = classifyRequest(method, url, req.headers, body);
    const fixture = header(req.headers, 'x-test-fixture') === '1' || c.service === 'moto-api';
    const call: ProxiedCall = {
      seq: ++seq,
      service: c.service,
      region: c.region,
      action: c.action,
      mutating: c.mutating,
      fixture,
      status: 0,
      ms: 0,
      method,
      path: url,
    };
    calls.push(call);

    inFlight++;
    try {
      if (!fixture) {
        let delay = 0;
        let fault: FaultRule | undefined;
        for (const rule of rules) {
          if (!ruleMatches(rule, c)) continue;
          if (rule.fault === 'delay') {
            rule.left--;
            delay += rule.delayMs ?? 0;
          } else if (!fault) {
            rule.left--;
            fault = rule;
          }
        }
        if (delay > 0) {
          call.injected = 'delay';
          await sleep(delay);
        }
        if (fault) {
          const f = buildFault(fault, c, method, header(req.headers, 'content-type'));
          call.injected = fault.fault;
          call.status = f.status;
          send(res, f.status, f.headers, f.body);
          call.ms = Date.now() - started;
          return;
        }
        if (c.mutating) {
          const n = ++mutatingSeen;
          const decision = callback?.(n, call);
          if (decision === 'hold') {
            call.injected = 'hold';
            return;
          }
          if (decision === 'noreply') {
            call.injected = 'noreply';
            await forward(req, res, body, call, started, false);
            return;
          }
        }
      }
      await forward(req, res, body, call, started, true);
    } finally {
      settle();
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, 502, { 'content-type': 'text/plain' }, `fault-proxy: ${String(err)}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Clients that die mid-request (the kill-after-N tests) reset their sockets; that is expected.
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('fault-proxy: no address');

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${addr.port}`,
    calls,
    mutatingCount: () => mutatingSeen,
    addRule(r) {
      rules.push({ ...r, left: r.times ?? Infinity });
    },
    clearRules() {
      rules = [];
    },
    resetCalls() {
      calls.length = 0;
      mutatingSeen = 0;
      seq = 0;
    },
    onMutating(cb) {
      callback = cb;
    },
    holdAfter(n, onFirstHold) {
      callback = (i) => {
        if (i <= n) return undefined;
        if (i === n + 1) onFirstHold?.();
        return 'hold';
      };
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
  };
  return proxy;
}

/** The structural bit of an AWS SDK v3 client that {@link markFixture} needs. */
export interface ClientWithMiddleware {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  middlewareStack: MiddlewareStack<any, any>;
}

/**
 * Make every request of an SDK v3 client carry `x-test-fixture: 1`, so the proxy records it with
 * `fixture: true` and never faults, holds or counts it. Use it for test set-up and assertions
 * (creating the log group, PutLogEvents, reading the bucket). Returns the same client.
 */
export function markFixture<T extends ClientWithMiddleware>(client: T): T {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const mw: BuildMiddleware<any, any> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> } | undefined;
    if (request && typeof request === 'object' && request.headers) request.headers['x-test-fixture'] = '1';
    return next(args);
  };
  client.middlewareStack.add(mw, { step: 'build', name: 'testFixtureHeader', override: true });
  return client;
}
