/**
 * AWS SDK v3 client factory: one client per service and region, created on first use. The SDK modules
 * are imported lazily so that `--help` and the wizard's first question never load them.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { STSClient } from '@aws-sdk/client-sts';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';

export interface AwsOptions {
  /** Named profile (`--aws-profile`); otherwise the SDK's default chain, which reads AWS_PROFILE itself. */
  profile?: string;
  /** Total attempts per call for throttling and 5xx, with the SDK's adaptive retry mode. */
  maxAttempts?: number;
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
  tagging(region: string): Promise<ResourceGroupsTaggingAPIClient>;
}

// The SDK warns on Node 20 that future releases will need Node 22. The tool supports Node 20
// (CloudShell), so the warning would only alarm users; moto.md §9.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export function createAwsClients(options: AwsOptions = {}): AwsClients {
  const cache = new Map<string, Promise<unknown>>();
  const config = (region: string) => ({
    region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    ...(options.profile ? { profile: options.profile } : {}),
  });
  function once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let hit = cache.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = make();
      cache.set(key, hit);
    }
    return hit;
  }
  return {
    eks: (region) => once(`eks:${region}`, async () => new (await import('@aws-sdk/client-eks')).EKSClient(config(region))),
    logs: (region) =>
      once(`logs:${region}`, async () => new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient(config(region))),
    firehose: (region) =>
      once(`firehose:${region}`, async () => new (await import('@aws-sdk/client-firehose')).FirehoseClient(config(region))),
    s3: (region) => once(`s3:${region}`, async () => new (await import('@aws-sdk/client-s3')).S3Client(config(region))),
    sns: (region) => once(`sns:${region}`, async () => new (await import('@aws-sdk/client-sns')).SNSClient(config(region))),
    // IAM is global; its endpoint lives in us-east-1.
    iam: () => once('iam', async () => new (await import('@aws-sdk/client-iam')).IAMClient(config('us-east-1'))),
    kms: (region) => once(`kms:${region}`, async () => new (await import('@aws-sdk/client-kms')).KMSClient(config(region))),
    sts: (region) => once(`sts:${region}`, async () => new (await import('@aws-sdk/client-sts')).STSClient(config(region))),
    tagging: (region) =>
      once(`tagging:${region}`, async () =>
        new (await import('@aws-sdk/client-resource-groups-tagging-api')).ResourceGroupsTaggingAPIClient(config(region)),
      ),
  };
}
