/**
 * AWS SDK v3 client factory: one client per service and region, created on first use. The SDK modules
 * are imported lazily so that `--help` and the wizard's first question never load them.
 *
 * Throttling and 5xx are the SDK's job: adaptive retry mode (the SDK's client-side rate limiter plus
 * exponential backoff). Requests in flight are bounded per factory (one AWS account): a graph of 50
 * clusters starts its waits at once, but never more than {@link AwsOptions.maxInFlight} requests.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { STSClient } from '@aws-sdk/client-sts';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, RetryStrategyV2 } from '@smithy/types';
import pLimit from 'p-limit';
import { backoffScale } from './backoff.js';

export interface AwsOptions {
  /** Named profile (`--aws-profile`); otherwise the SDK's default chain, which reads AWS_PROFILE itself. */
  profile?: string;
  /** Credentials to use instead of the default chain (an assumed role of an organization member account). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Total attempts per call for throttling and 5xx. @default 8 */
  maxAttempts?: number;
  /** Requests in flight at once across all clients of this factory. @default 12 */
  maxInFlight?: number;
}

/** Every AWS client the tool uses. Methods are async because the SDK module loads on first use. */
export interface AwsClients {
  eks(region: string): Promise<EKSClient>;
  logs(region: string): Promise<CloudWatchLogsClient>;
  firehose(region: string): Promise<FirehoseClient>;
  s3(region: string): Promise<S3Client>;
  sns(region: string): Promise<SNSClient>;
  iam(): Promise<IAMClient>;
  kms(region: string): Promise<KMSClient>;
  sts(region: string): Promise<STSClient>;
  ssm(region: string): Promise<SSMClient>;
  sqs(region: string): Promise<SQSClient>;
  serviceQuotas(region: string): Promise<ServiceQuotasClient>;
  organizations(): Promise<OrganizationsClient>;
  tagging(region: string): Promise<ResourceGroupsTaggingAPIClient>;
  /** The options the factory was made with (an organization run derives member factories from them). */
  readonly options: AwsOptions;
}

// The SDK warns on Node 20 that future releases will need Node 22. The tool supports Node 20
// (CloudShell), so the warning would only alarm users; moto.md §9.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

interface Sendable {
  middlewareStack: { add(mw: unknown, opts: { step: 'deserialize'; name: string; priority?: 'low' | 'high' }): void };
}

/**
 * The SDK classes `LimitExceededException` as throttling (@smithy `THROTTLING_ERROR_CODES`) and retries it up to
 * `maxAttempts` times; in CloudWatch Logs and Firehose it means a resource quota is reached (a log group's
 * subscription-filter slots, the number of streams), which no wait changes (issue 11 item 7).
 */
const QUOTA_ERRORS = ['LimitExceededException'];

/** `strategy`, except that errors named in `names` are never retried. */
function notRetrying(strategy: RetryStrategyV2, names: string[]): RetryStrategyV2 {
  return {
    acquireInitialRetryToken: (scope) => strategy.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry: (token, info) =>
      names.includes(info.error?.name ?? '') ? Promise.reject(info.error) : strategy.refreshRetryTokenForRetry(token, info),
    recordSuccess: (token) => strategy.recordSuccess(token),
  };
}

/**
 * Makes the clients of one AWS identity.
 * @param options profile or credentials, retry attempts, request concurrency.
 */
export function createAwsClients(options: AwsOptions = {}): AwsClients {
  const cache = new Map<string, Promise<unknown>>();
  const limit = pLimit(options.maxInFlight ?? 12);
  const maxAttempts = options.maxAttempts ?? 8;

  const config = async (region: string, quotaErrors: string[] = []) => {
    const scale = backoffScale();
    const { AdaptiveRetryStrategy, ConfiguredRetryStrategy } = await import('@smithy/core/retry');
    // Tests scale every backoff down (FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE); the product uses the SDK's adaptive mode.
    const strategy: RetryStrategyV2 =
      scale < 1
        ? new ConfiguredRetryStrategy(maxAttempts, (attempt: number) => Math.max(1, Math.min(20_000, 100 * 2 ** attempt) * scale))
        : new AdaptiveRetryStrategy(async () => maxAttempts);
    return {
      region,
      maxAttempts,
      retryStrategy: quotaErrors.length > 0 ? notRetrying(strategy, quotaErrors) : strategy,
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
  };

  /** Every attempt (retries included) waits for a slot; backoff pauses do not hold one. */
  const limited = <T extends Sendable>(client: T): T => {
    client.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>) => (args: unknown) => limit(() => next(args)),
      { step: 'deserialize', name: 'forticnappInFlightLimit', priority: 'low' },
    );
    return client;
  };

  function once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let hit = cache.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = make();
      cache.set(key, hit);
    }
    return hit;
  }
  return {
    options,
    eks: (region) => once(`eks:${region}`, async () => limited(new (await import('./sdk/eks.js')).EKSClient(await config(region)))),
    logs: (region) =>
      once(`logs:${region}`, async () => limited(new (await import('./sdk/cloudwatch-logs.js')).CloudWatchLogsClient(await config(region, QUOTA_ERRORS)))),
    firehose: (region) =>
      once(`firehose:${region}`, async () => limited(new (await import('./sdk/firehose.js')).FirehoseClient(await config(region, QUOTA_ERRORS)))),
    s3: (region) => once(`s3:${region}`, async () => limited(new (await import('./sdk/s3.js')).S3Client(await config(region)))),
    sns: (region) => once(`sns:${region}`, async () => limited(new (await import('./sdk/sns.js')).SNSClient(await config(region)))),
    // IAM is global; its endpoint lives in us-east-1.
    iam: () => once('iam', async () => limited(new (await import('./sdk/iam.js')).IAMClient(await config('us-east-1')))),
    kms: (region) => once(`kms:${region}`, async () => limited(new (await import('./sdk/kms.js')).KMSClient(await config(region)))),
    sts: (region) => once(`sts:${region}`, async () => limited(new (await import('./sdk/sts.js')).STSClient(await config(region)))),
    ssm: (region) => once(`ssm:${region}`, async () => limited(new (await import('./sdk/ssm.js')).SSMClient(await config(region)))),
    sqs: (region) => once(`sqs:${region}`, async () => limited(new (await import('./sdk/sqs.js')).SQSClient(await config(region)))),
    serviceQuotas: (region) =>
      once(`servicequotas:${region}`, async () => limited(new (await import('./sdk/service-quotas.js')).ServiceQuotasClient(await config(region)))),
    // Organizations is global; its endpoint lives in us-east-1.
    organizations: () =>
      once('organizations', async () => limited(new (await import('./sdk/organizations.js')).OrganizationsClient(await config('us-east-1')))),
    tagging: (region) =>
      once(`tagging:${region}`, async () =>
        limited(new (await import('./sdk/resource-groups-tagging-api.js')).ResourceGroupsTaggingAPIClient(await config(region))),
      ),
  };
}
