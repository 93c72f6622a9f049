/**
 * The resolved inputs of setup and plan: what every flag, environment variable or wizard answer
 * comes down to. Never holds a secret (the FortiCNAPP credentials travel separately).
 */
export interface Inputs {
  /** region -> cluster names, in the order given. */
  regionClusters: Record<string, string[]>;
  /** Where the bucket, SNS topic, KMS key and Firehose stream live. */
  homeRegion: string;
  prefix: string;
  /** FortiCNAPP integration name; undefined means the default derived from the account id. */
  integrationName?: string;
  tags: Record<string, string>;
  filterPattern: string;
  laceworkAwsAccountId: string;
  existingBucketArn?: string;
  existingCaRoleArn?: string;
  existingCaExternalId?: string;
  existingFirehoseRoleArn?: string;
  existingCwRoleArn?: string;
  /** A KMS key of the user's, used instead of creating one. */
  kmsKeyArn?: string;
  /** No KMS at all: SSE-S3 on the bucket, AWS-owned key on the stream, unencrypted topic. */
  noKms: boolean;
  bucketLifecycleDays: number;
  bucketVersioning: boolean;
  /** Also subscribe this queue to the topic ourselves. */
  sqsQueueArn?: string;
  /** false: never touch cluster logging; preflight fails where audit is off. */
  enableAuditLogging: boolean;
}

export const DEFAULTS = {
  prefix: 'lw-eks-al',
  laceworkAwsAccountId: '434813966438',
  bucketLifecycleDays: 180,
  /** Noncurrent versions expire this many days after they stop being current (the reference keeps them forever). */
  noncurrentVersionDays: 30,
  kmsDeletionWindowDays: 7,
  firehoseBufferSeconds: 300,
  firehoseBufferMb: 100,
  /** The reference module's default (reference/aws-resources.md §1.11). */
  filterPattern:
    '{ $.stage = "ResponseComplete" && $.requestURI != "/version" && $.requestURI != "/version?*" && $.requestURI != "/metrics" && $.requestURI != "/metrics?*" && $.requestURI != "/logs" && $.requestURI != "/logs?*" && $.requestURI != "/swagger*" && $.requestURI != "/livez*" && $.requestURI != "/readyz*" && $.requestURI != "/healthz*" }',
} as const;

/** Inputs with every default: what a journal without its run record stands for. */
export function defaultInputs(homeRegion: string, prefix: string = DEFAULTS.prefix): Inputs {
  return {
    regionClusters: {},
    homeRegion,
    prefix,
    tags: {},
    filterPattern: DEFAULTS.filterPattern,
    laceworkAwsAccountId: DEFAULTS.laceworkAwsAccountId,
    noKms: false,
    bucketLifecycleDays: DEFAULTS.bucketLifecycleDays,
    bucketVersioning: true,
    enableAuditLogging: true,
  };
}

/**
 * The integration name when `--integration-name` is not given: one per AWS account, and per prefix when a
 * second deployment in the account uses another prefix (two integrations must not share a name).
 */
export function defaultIntegrationName(accountId: string, prefix: string = DEFAULTS.prefix): string {
  return prefix === DEFAULTS.prefix ? `EKS Audit Log ${accountId}` : `EKS Audit Log ${accountId} ${prefix}`;
}

/** Every region the inputs touch, home region first, no duplicates. */
export function regionsOf(inputs: Pick<Inputs, 'regionClusters' | 'homeRegion'>): string[] {
  return [...new Set([inputs.homeRegion, ...Object.keys(inputs.regionClusters)])];
}

export interface ClusterRef {
  region: string;
  cluster: string;
}

export function clustersOf(inputs: Pick<Inputs, 'regionClusters'>): ClusterRef[] {
  return Object.entries(inputs.regionClusters).flatMap(([region, clusters]) =>
    clusters.map((cluster) => ({ region, cluster })),
  );
}
