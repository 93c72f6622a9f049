/**
 * A fault and latency proxy in front of moto (DESIGN.md §6 failure tests, §7 latency model; issue 11's
 * reusable fault layer).
 *
 * Point the SDK (or the CLI, through `AWS_ENDPOINT_URL`) at {@link FaultProxy.endpoint}. Every request is
 * forwarded to moto unchanged (method, path and query, raw headers including `Host`, body), and the
 * response is relayed back unchanged. Each request is classified (service, region, action, mutating) and
 * attributed to an AWS account, and recorded in {@link FaultProxy.calls}.
 *
 * **Rules** ({@link FaultRule}): *which call* (service, action, region, account, request parameters or any
 * predicate), *which answer* (throttling, a 5xx, or any AWS error: status, error code, message, extra
 * members, in the exact shape of the service's protocol, see `aws-errors.ts`; or a delay before forwarding)
 * and *how many times*. The SDK then sees `err.name`, `err.message` and `err.$metadata.httpStatusCode` as
 * it would from AWS, and its retry strategy treats the answer as it would treat AWS's.
 *
 * **Accounts.** moto maps the access key id of a request's SigV4 `Authorization` header to an account
 * (keys handed out by `AssumeRole` act in the role's account; reference/moto.md §3.1). The proxy learns the
 * same mapping from the STS and IAM answers that pass through it (`AssumeRole*`, `GetSessionToken`,
 * `GetFederationToken`, `CreateAccessKey`), honours `x-moto-account-id`, and otherwise attributes a call to
 * `defaultAccount` (moto's `123456789012`). Every call carries its `account`; rules can select on it.
 *
 * **S3 emulation** (`validateS3Notifications`, on by default in test/e2e/world.ts): `PutBucketNotificationConfiguration`
 * is checked as real S3 checks it and moto does not (overlapping rules; destinations that do not exist or
 * do not let S3 deliver), and refused in S3's XML error shape (see `s3-notifications.ts`). It reads moto's
 * state with SDK calls straight to moto. It applies to fixture requests too (it is AWS's behaviour, not a
 * fault), and a refused request is recorded with `injected: 'validation'` and never counted.
 *
 * Requests carrying the header `x-test-fixture: 1` (see {@link markFixture}) and moto's own `/moto-api/`
 * calls are forwarded and recorded (`fixture: true`), but never faulted, delayed, held or counted.
 *
 * Many clients at once are fine (several CLIs against one proxy, several proxies in one process): rule
 * selection and use counts are updated synchronously per request, and nothing is shared between proxies.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { awsErrorAnswer, type AwsErrorSpec, type AwsProtocol, type HttpAnswer } from './aws-errors.js';
import { type ClientWithStack, DEFAULT_ACCOUNT, withHeader } from './moto-accounts.js';
import { motoLookups } from './moto-lookups.js';
import { checkDestinations, checkOverlap, parseNotificationXml } from './s3-notifications.js';

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
  /** AWS account the call acts in (see the module comment, "Accounts"). */
  account: string;
  /** Whether the call may change AWS state (see {@link isMutating}). */
  mutating: boolean;
  /** Sent with `x-test-fixture: 1` (or a `/moto-api/` call): never faulted, held or counted. */
  fixture: boolean;
  /** HTTP status returned to the client (moto's or the injected one); 0 while pending or when held. */
  status: number;
  /**
   * What the proxy did instead of a plain forward: the fault kind (`throttle`, `error5xx`, `fail`, `error`),
   * `delay` (forwarded late), `hold` or `noreply` (see {@link MutatingDecision}), or `validation` (refused
   * by the S3 emulation).
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
 * A request as rules see it. `params` holds the request's parameters, whatever the protocol: query-string
 * members; form members (query protocols: `RoleArn`, `RoleName`, `TopicArn`…); top-level JSON members (JSON
 * protocols: `logGroupName`, `DeliveryStreamName`…); path labels (EKS: `name`, `clusterName`…; S3: `Bucket`,
 * `Key`). Non-string JSON members are given as JSON text.
 */
export interface RequestView {
  service: string;
  region: string;
  action: string;
  account: string;
  mutating: boolean;
  method: string;
  /** Path and query as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8 text. */
  text: string;
  /** Parsed JSON body (JSON and REST-JSON protocols), else undefined. */
  json: unknown;
  params: Record<string, string>;
}

/**
 * A fault or latency rule: *which call*, *which answer*, *how many times*.
 *
 * Selectors (all given ones must match; fixture requests never match): `service` exactly; `action` exactly
 * or by RegExp; `region` exactly or by RegExp; `account` exactly; `mutating` by value; `params`: each named
 * request parameter (see {@link RequestView.params}) equal to the string or matching the RegExp;
 * `match`: any predicate over the {@link RequestView}. Example: refuse `AssumeRole` into one role only,
 * `{ service: 'sts', action: 'AssumeRole', params: { RoleArn: arn }, fault: 'error', status: 403, code: 'AccessDenied' }`.
 *
 * For each request, every matching `delay` rule applies (their `delayMs` add up, each uses one of its
 * `times`); then the first matching non-delay rule, in the order added, answers the request instead of
 * AWS (after the delay). Default statuses and codes per protocol:
 *
 * | fault | JSON (logs, firehose, kms, sqs, tagging, organizations) | REST-JSON (eks) | query (iam, sts, sns) | S3 |
 * |---|---|---|---|---|
 * | `throttle` | 400 `ThrottlingException` | 429 `ThrottlingException` | 400 `Throttling` | 503 `SlowDown` |
 * | `error5xx` | 500 `InternalFailure` / 503 `ServiceUnavailableException` | same as JSON | 500 `InternalFailure` / 503 `ServiceUnavailable` | 500 `InternalError` / 503 `ServiceUnavailable` |
 * | `fail` | 400 `AccessDeniedException` | 403 `AccessDeniedException` | 403 `AccessDenied` | 403 `AccessDenied` |
 * | `error` | 400 and the given `code` (required) | same | same | same |
 *
 * `status`, `code` and `message` override the defaults; `fields` adds members to the error body (e.g. S3's
 * `ArgumentName`), `headers` to the answer; `queryError` sets SQS's `x-amzn-query-error` code.
 */
export type FaultRule = {
  service?: string;
  action?: string | RegExp;
  region?: string | RegExp;
  account?: string;
  mutating?: boolean;
  params?: Record<string, string | RegExp>;
  match?: (req: RequestView) => boolean;
  fault: 'throttle' | 'error5xx' | 'delay' | 'fail' | 'error';
  /** How many requests this rule may affect. @default Infinity */
  times?: number;
  /** For `delay`: milliseconds to wait before forwarding. @default 0 */
  delayMs?: number;
  status?: number;
  code?: string;
  message?: string | ((req: RequestView) => string);
  fields?: Record<string, string>;
  headers?: Record<string, string>;
  queryError?: string;
};

/** What {@link FaultProxy.addRule} returns: the rule's use count, and a way to take it out again. */
export interface RuleHandle {
  /** Requests this rule has affected so far. */
  readonly hits: number;
  /** Uses left (Infinity when unbounded). */
  readonly left: number;
  remove(): void;
}

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

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Emulate S3's PutBucketNotificationConfiguration checks (module comment). @default false */
  validateS3Notifications?: boolean;
  /** Account of calls whose access key the proxy has not seen handed out. @default '123456789012' */
  defaultAccount?: string;
  /** moto runs with `MOTO_ACCOUNT_ID`: every call acts in this account, whatever its credentials. */
  fixedAccount?: string;
}

/** A running proxy. */
export interface FaultProxy {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  endpoint: string;
  /** Every request in arrival order (fixtures included); entries are updated when the response ends. */
  calls: ProxiedCall[];
  /**
   * Number of non-fixture mutating requests that got past the fault rules, i.e. the last `n` given to
   * the {@link FaultProxy.onMutating} callback: requests forwarded to AWS, plus held/no-reply ones.
   * Requests answered by an injected fault or refused by the S3 emulation are in {@link FaultProxy.calls}
   * but not counted.
   */
  mutatingCount(): number;
  /** Add a rule (evaluated in the order added). Throws when a rule cannot answer (`error` without `code`). */
  addRule(r: FaultRule): RuleHandle;
  /** Remove all rules. */
  clearRules(): void;
  /** Forget recorded calls and restart the mutating count at 0 (rules, the callback and accounts stay). */
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
  /** Switch the S3 PutBucketNotificationConfiguration emulation on or off. */
  validateS3Notifications(on: boolean): void;
  /** The account an access key id acts in, as far as the proxy knows (undefined if never seen handed out). */
  accountOfKey(accessKeyId: string): string | undefined;
  /** Teach the proxy that `accessKeyId` acts in `account` (e.g. keys made without passing through it). */
  learnAccount(accessKeyId: string, account: string): void;
  /** Anything the S3 emulation could not check (a moto error while reading state); should stay empty. */
  emulationErrors: string[];
  /** Close the proxy, dropping held and open connections. */
  stop(): Promise<void>;
}

/** The result of {@link classifyRequest}. */
export interface Classification {
  service: string;
  region: string;
  action: string;
  mutating: boolean;
  protocol: AwsProtocol;
  /** Path labels: EKS `{name}`, `{clusterName}`…; S3 `Bucket` and `Key`. */
  labels?: Record<string, string>;
}

const TARGET_PREFIX_SERVICE: Record<string, string> = {
  Logs_20140328: 'logs',
  Firehose_20150804: 'firehose',
  TrentService: 'kms',
  AmazonSQS: 'sqs',
  ResourceGroupsTaggingAPI_20170126: 'tagging',
  AWSOrganizationsV20161128: 'organizations',
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
      .map((seg) => {
        const label = /^\{(\w+)\+?\}$/.exec(seg);
        return label ? `(?<${label[1]}>[^/]+)` : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    return { method, re: new RegExp(`^${pattern}/?$`), action };
  });
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** S3 operation from method + path-style URL (`/bucket/key?query`). */
function classifyS3(method: string, pathname: string, query: URLSearchParams): { action: string; labels: Record<string, string> } {
  const rest = pathname.replace(/^\//, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const labels: Record<string, string> = {};
  if (bucket === '') return { action: method === 'GET' ? 'ListBuckets' : 'Unknown', labels };
  labels.Bucket = decode(bucket);
  const object = slash >= 0 && slash < rest.length - 1;
  if (object) labels.Key = decode(rest.slice(slash + 1));
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
    if (xid !== null && xid === r.action) return { action: r.action, labels };
    const score = r.query.filter(([k]) => k !== 'x-id').length;
    if (!best || score > best.score) best = { action: r.action, score };
  }
  if (xid) return { action: xid, labels };
  return { action: best?.action ?? 'Unknown', labels };
}

const READ_PREFIXES = /^(Describe|List|Get|Head|Filter|Lookup|Simulate|Search|Query|Select)/;
const READ_ONLY_ACTIONS = new Set([
  'sts:GetCallerIdentity',
  'sts:AssumeRole',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoleWithSAML',
  'sts:GetSessionToken',
  'sts:GetFederationToken',
]);

/**
 * Whether a call may change AWS state: `false` for actions starting with Describe/List/Get/Head (and a few
 * other read verbs: Filter, Lookup, Simulate, Search, Query, Select), for STS GetCallerIdentity/AssumeRole
 * (and the other credential calls), and for S3 GET/HEAD requests; `true` otherwise (including PutLogEvents,
 * CreateLogStream, PutObject). An unclassified call is mutating unless it is a GET or HEAD.
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
    const { action, labels } = classifyS3(method, u.pathname, u.searchParams);
    return { service, region, action, mutating: isMutating(service, action, method), protocol: 'rest-xml', labels };
  }

  let action = 'Unknown';
  let labels: Record<string, string> | undefined;
  if (service === 'eks') {
    for (const r of EKS_ROUTES) {
      if (r.method !== method) continue;
      const m = r.re.exec(u.pathname);
      if (!m) continue;
      action = r.action;
      labels = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decode(v ?? '')]));
      break;
    }
  }
  return { service, region, action, mutating: isMutating(service, action, method), protocol: 'rest-json', ...(labels ? { labels } : {}) };
}

/** The access key id of a SigV4-signed request (`Authorization` header or presigned `X-Amz-Credential`). */
export function accessKeyOf(url: string, headers: http.IncomingHttpHeaders): string | undefined {
  const auth = /Credential=([^/,\s]+)\//.exec(header(headers, 'authorization') ?? '');
  if (auth) return auth[1];
  const q = new URL(url, 'http://proxy.invalid').searchParams.get('X-Amz-Credential');
  return q ? q.split('/')[0] : undefined;
}

const LEARN_FROM = new Set([
  'sts:AssumeRole',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoleWithSAML',
  'sts:GetSessionToken',
  'sts:GetFederationToken',
  'iam:CreateAccessKey',
]);

/**
 * The access key id an STS/IAM answer hands out, and the account it acts in: the account of the
 * `AssumedRoleUser`/`FederatedUser` ARN when the answer has one, else `callerAccount` (GetSessionToken,
 * CreateAccessKey). XML (query protocol) or JSON answers.
 */
export function keyFromAnswer(body: string, callerAccount: string): { accessKeyId: string; account: string } | undefined {
  let key = /<AccessKeyId>\s*([^<\s]+)\s*<\/AccessKeyId>/.exec(body)?.[1];
  let arn = /<Arn>\s*(arn:[^<\s]+)\s*<\/Arn>/.exec(body)?.[1];
  if (!key && body.trimStart().startsWith('{')) {
    const find = (v: unknown, name: string): string | undefined => {
      if (typeof v !== 'object' || v === null) return undefined;
      for (const [k, x] of Object.entries(v)) {
        if (k === name && typeof x === 'string') return x;
        const inner = find(x, name);
        if (inner) return inner;
      }
      return undefined;
    };
    try {
      const doc: unknown = JSON.parse(body);
      key = find(doc, 'AccessKeyId');
      arn = find(doc, 'Arn');
    } catch {
      return undefined;
    }
  }
  if (!key) return undefined;
  const account = /^arn:[^:]+:(?:sts|iam)::(\d{12}):/.exec(arn ?? '')?.[1] ?? callerAccount;
  return { accessKeyId: key, account };
}

/** The request's parameters, as {@link RequestView.params} describes. */
function paramsOf(c: Classification, url: string, headers: http.IncomingHttpHeaders, text: string, json: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(url, 'http://proxy.invalid').searchParams) out[k] = v;
  if ((header(headers, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    for (const [k, v] of Object.entries(json)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  Object.assign(out, c.labels ?? {});
  return out;
}

function makeView(c: Classification, account: string, method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer): RequestView {
  let text: string | undefined;
  let json: unknown;
  let jsonDone = false;
  let params: Record<string, string> | undefined;
  const view = {
    service: c.service,
    region: c.region,
    action: c.action,
    account,
    mutating: c.mutating,
    method,
    url,
    headers,
    body,
    get text() {
      return (text ??= body.toString('utf8'));
    },
    get json() {
      if (!jsonDone) {
        jsonDone = true;
        if (c.protocol === 'json' || c.protocol === 'rest-json') {
          try {
            json = view.text === '' ? undefined : JSON.parse(view.text);
          } catch {
            json = undefined;
          }
        }
      }
      return json;
    },
    get params() {
      return (params ??= paramsOf(c, url, headers, view.text, view.json));
    },
  };
  return view;
}

type LiveRule = FaultRule & { left: number; hits: number };

function ruleMatches(rule: LiveRule, req: RequestView): boolean {
  if (rule.left <= 0) return false;
  if (rule.service !== undefined && rule.service !== req.service) return false;
  if (rule.mutating !== undefined && rule.mutating !== req.mutating) return false;
  if (rule.account !== undefined && rule.account !== req.account) return false;
  if (rule.action !== undefined) {
    if (typeof rule.action === 'string' ? rule.action !== req.action : !rule.action.test(req.action)) return false;
  }
  if (rule.region !== undefined) {
    if (typeof rule.region === 'string' ? rule.region !== req.region : !rule.region.test(req.region)) return false;
  }
  if (rule.params !== undefined) {
    for (const [name, want] of Object.entries(rule.params)) {
      const got = req.params[name];
      if (got === undefined) return false;
      if (typeof want === 'string' ? got !== want : !want.test(got)) return false;
    }
  }
  if (rule.match !== undefined && !rule.match(req)) return false;
  return true;
}

/** The answer a non-delay rule gives (see the table on {@link FaultRule}). */
function faultAnswer(rule: FaultRule, c: Classification, req: RequestView): HttpAnswer {
  const p = c.protocol;
  let status: number;
  let code: string;
  let message: string | undefined = typeof rule.message === 'function' ? rule.message(req) : rule.message;
  switch (rule.fault) {
    case 'throttle':
      status = rule.status ?? (p === 'rest-json' ? 429 : p === 'rest-xml' ? 503 : 400);
      code = rule.code ?? (p === 'query' ? 'Throttling' : p === 'rest-xml' ? 'SlowDown' : 'ThrottlingException');
      message ??= p === 'rest-xml' ? 'Please reduce your request rate.' : 'Rate exceeded';
      break;
    case 'error5xx':
      status = rule.status ?? 500;
      if (status === 503) {
        code = rule.code ?? (p === 'query' || p === 'rest-xml' ? 'ServiceUnavailable' : 'ServiceUnavailableException');
        message ??= 'Service is unavailable. Please try again later.';
      } else {
        code = rule.code ?? (p === 'rest-xml' ? 'InternalError' : 'InternalFailure');
        message ??= 'We encountered an internal error. Please try again.';
      }
      break;
    case 'error':
      status = rule.status ?? 400;
      code = rule.code ?? 'ValidationException';
      message ??= '';
      break;
    default: {
      status = rule.status ?? (p === 'json' ? 400 : 403);
      code = rule.code ?? (p === 'query' || p === 'rest-xml' ? 'AccessDenied' : 'AccessDeniedException');
      const onResource = req.params.RoleArn ? ` on resource: ${req.params.RoleArn}` : '';
      message ??= `User: arn:aws:iam::${req.account}:user/moto is not authorized to perform: ${c.service}:${c.action}${onResource}`;
    }
  }
  const spec: AwsErrorSpec = { status, code, message };
  if (rule.fields) spec.fields = rule.fields;
  if (rule.headers) spec.headers = rule.headers;
  if (rule.queryError) spec.queryError = rule.queryError;
  return awsErrorAnswer(p, spec, { service: c.service, method: req.method, requestContentType: header(req.headers, 'content-type') });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start a proxy on a free 127.0.0.1 port in front of `target` (moto's endpoint, e.g. `http://127.0.0.1:5055`).
 */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: false });
  const calls: ProxiedCall[] = [];
  let rules: LiveRule[] = [];
  let mutatingSeen = 0;
  let callback: MutatingCallback | null = null;
  let seq = 0;
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const keyAccounts = new Map<string, string>();
  const defaultAccount = options.defaultAccount ?? DEFAULT_ACCOUNT;
  let validateS3 = options.validateS3Notifications ?? false;
  let lookups: ReturnType<typeof motoLookups> | undefined;
  const emulationErrors: string[] = [];

  const accountOf = (url: string, headers: http.IncomingHttpHeaders): string => {
    if (options.fixedAccount) return options.fixedAccount;
    const explicit = header(headers, 'x-moto-account-id');
    if (explicit) return explicit;
    const key = accessKeyOf(url, headers);
    return (key && keyAccounts.get(key)) || defaultAccount;
  };

  const settle = (): void => {
    inFlight--;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const send = (res: http.ServerResponse, answer: HttpAnswer): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
    res.end(answer.body);
  };

  /**
   * Forward to moto; `reply=false` completes the request at moto but never answers the client. With
   * `collect`, resolves with the answer's body too (for learning accounts).
   */
  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    call: ProxiedCall,
    started: number,
    reply: boolean,
    collect: boolean,
  ): Promise<Buffer | undefined> =>
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
          const chunks: Buffer[] = [];
          if (collect) up.on('data', (d: Buffer) => chunks.push(d));
          up.once('end', () => {
            call.ms = Date.now() - started;
            resolve(collect ? Buffer.concat(chunks) : undefined);
          });
          up.once('error', () => resolve(undefined));
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
        if (reply) send(res, { status: 502, headers: { 'content-type': 'text/plain' }, body: `fault-proxy: upstream error: ${err.message}` });
        resolve(undefined);
      });
      out.end(body);
    });

  /** S3's own checks of a notification configuration; undefined when S3 would accept it. */
  const s3Validation = async (c: Classification, req: RequestView): Promise<HttpAnswer | undefined> => {
    const bucket = c.labels?.Bucket;
    if (!bucket) return undefined;
    const parsed = parseNotificationXml(req.text);
    let rejection = checkOverlap(parsed.rules);
    if (!rejection) {
      lookups ??= motoLookups(target);
      try {
        rejection = await checkDestinations(parsed.rules, bucket, req.account, lookups);
      } catch (err) {
        emulationErrors.push(`PutBucketNotificationConfiguration ${bucket}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        return undefined;
      }
    }
    if (!rejection) return undefined;
    return awsErrorAnswer('rest-xml', rejection, { service: 's3', method: req.method });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const c = classifyRequest(method, url, req.headers, body);
    const fixture = header(req.headers, 'x-test-fixture') === '1' || c.service === 'moto-api';
    const account = accountOf(url, req.headers);
    const call: ProxiedCall = {
      seq: ++seq,
      service: c.service,
      region: c.region,
      action: c.action,
      account,
      mutating: c.mutating,
      fixture,
      status: 0,
      ms: 0,
      method,
      path: url,
    };
    calls.push(call);
    const view = makeView(c, account, method, url, req.headers, body);

    inFlight++;
    try {
      if (!fixture) {
        let delay = 0;
        let fault: LiveRule | undefined;
        for (const rule of rules) {
          if (rule.fault !== 'delay' && fault) continue;
          if (!ruleMatches(rule, view)) continue;
          rule.left--;
          rule.hits++;
          if (rule.fault === 'delay') delay += rule.delayMs ?? 0;
          else fault = rule;
        }
        if (delay > 0) {
          call.injected = 'delay';
          await sleep(delay);
        }
        if (fault) {
          const f = faultAnswer(fault, c, view);
          call.injected = fault.fault;
          call.status = f.status;
          send(res, f);
          call.ms = Date.now() - started;
          return;
        }
      }
      if (validateS3 && c.service === 's3' && c.action === 'PutBucketNotificationConfiguration') {
        const refused = await s3Validation(c, view);
        if (refused) {
          call.injected = 'validation';
          call.status = refused.status;
          send(res, refused);
          call.ms = Date.now() - started;
          return;
        }
      }
      if (!fixture && c.mutating) {
        const n = ++mutatingSeen;
        const decision = callback?.(n, call);
        if (decision === 'hold') {
          call.injected = 'hold';
          return;
        }
        if (decision === 'noreply') {
          call.injected = 'noreply';
          await forward(req, res, body, call, started, false, false);
          return;
        }
      }
      const learn = LEARN_FROM.has(`${c.service}:${c.action}`);
      const answer = await forward(req, res, body, call, started, true, learn);
      if (learn && answer && call.status === 200) {
        const k = keyFromAnswer(answer.toString('utf8'), account);
        if (k) keyAccounts.set(k.accessKeyId, k.account);
      }
    } finally {
      settle();
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, { status: 502, headers: { 'content-type': 'text/plain' }, body: `fault-proxy: ${String(err)}` });
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
    emulationErrors,
    mutatingCount: () => mutatingSeen,
    addRule(r) {
      if (r.fault === 'error' && !r.code) throw new Error("fault-proxy: a rule with fault 'error' needs a code");
      const live: LiveRule = { ...r, left: r.times ?? Infinity, hits: 0 };
      rules.push(live);
      return {
        get hits() {
          return live.hits;
        },
        get left() {
          return live.left;
        },
        remove() {
          rules = rules.filter((x) => x !== live);
        },
      };
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
    validateS3Notifications(on) {
      validateS3 = on;
    },
    accountOfKey: (key) => keyAccounts.get(key),
    learnAccount(key, account) {
      keyAccounts.set(key, account);
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await closed;
      agent.destroy();
      lookups?.destroy();
    },
  };
  return proxy;
}

/** The structural bit of an AWS SDK v3 client that {@link markFixture} needs. */
export type ClientWithMiddleware = ClientWithStack;

/**
 * Make every request of an SDK v3 client carry `x-test-fixture: 1`, so the proxy records it with
 * `fixture: true` and never faults, holds or counts it. Use it for test set-up and assertions
 * (creating the log group, PutLogEvents, reading the bucket). Returns the same client.
 */
export function markFixture<T extends ClientWithMiddleware>(client: T): T {
  return withHeader(client, 'x-test-fixture', '1');
}
