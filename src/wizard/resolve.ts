/**
 * Flags and environment variables -> Inputs. Every problem is collected and reported together; a missing
 * input names its flag. The wizard (questions.ts) asks for what flags did not give, with the same validators.
 */
import { DEFAULTS, type Inputs } from '../config/inputs.js';
import {
  checkArn,
  checkAwsAccountId,
  checkFilterPattern,
  checkIntegrationName,
  checkLifecycleDays,
  checkPrefix,
  checkRegion,
  parseRegionClusters,
  parseTag,
} from '../config/validate.js';

/** Option values as commander gives them (kebab-case flags camel-cased). */
export interface SetupOptions {
  regionClusters?: string[];
  homeRegion?: string;
  account?: string;
  subaccount?: string;
  apiKey?: string;
  apiSecret?: string;
  apiKeyFile?: string;
  profile?: string;
  awsProfile?: string;
  prefix?: string;
  integrationName?: string;
  tag?: string[];
  filterPattern?: string;
  laceworkAwsAccountId?: string;
  existingBucketArn?: string;
  existingCaRoleArn?: string;
  existingCaExternalId?: string;
  existingFirehoseRoleArn?: string;
  existingCwRoleArn?: string;
  kmsKeyArn?: string;
  kms?: boolean;
  bucketLifecycleDays?: string;
  bucketVersioning?: boolean;
  sqsQueueArn?: string;
  enableAuditLogging?: boolean;
  nonInteractive?: boolean;
  yes?: boolean;
  json?: boolean;
  color?: boolean;
  stateDir?: string;
  rollback?: boolean;
}

/** region -> clusters from repeated --region-clusters; a region given twice merges its lists. */
export function regionClustersFrom(values: string[] | undefined, problems: string[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const raw of values ?? []) {
    const parsed = parseRegionClusters(raw);
    problems.push(...parsed.problems);
    if (parsed.problems.length > 0) continue;
    map[parsed.region] = [...new Set([...(map[parsed.region] ?? []), ...parsed.clusters])];
  }
  return map;
}

export interface ResolvedInputs {
  /** Inputs without regionClusters problems; regionClusters may be empty (the wizard then asks). */
  inputs: Inputs;
  homeRegionGiven: boolean;
  problems: string[];
}

export function resolveInputs(opts: SetupOptions): ResolvedInputs {
  const problems: string[] = [];
  const regionClusters = regionClustersFrom(opts.regionClusters, problems);
  const regions = Object.keys(regionClusters);
  if (opts.homeRegion) {
    const p = checkRegion(opts.homeRegion);
    if (p) problems.push(`--home-region: ${p}`);
  }
  const prefix = opts.prefix ?? DEFAULTS.prefix;
  const prefixProblem = checkPrefix(prefix);
  if (prefixProblem) problems.push(prefixProblem);

  const tags: Record<string, string> = {};
  for (const raw of opts.tag ?? []) {
    const t = parseTag(raw);
    if (t.problem) problems.push(t.problem);
    else tags[t.key] = t.value;
  }
  if (Object.keys(tags).length > 40) problems.push('At most 40 --tag values (AWS allows 50 tags per resource; the tool uses 2).');

  const arnChecks: [string | undefined, Parameters<typeof checkArn>[0], string][] = [
    [opts.existingBucketArn, 's3-bucket', '--existing-bucket-arn'],
    [opts.existingCaRoleArn, 'iam-role', '--existing-ca-role-arn'],
    [opts.existingFirehoseRoleArn, 'iam-role', '--existing-firehose-role-arn'],
    [opts.existingCwRoleArn, 'iam-role', '--existing-cw-role-arn'],
    [opts.kmsKeyArn, 'kms-key', '--kms-key-arn'],
    [opts.sqsQueueArn, 'sqs-queue', '--sqs-queue-arn'],
  ];
  for (const [value, kind, flag] of arnChecks) {
    if (value !== undefined) {
      const p = checkArn(kind, value, flag);
      if (p) problems.push(p);
    }
  }
  if (opts.existingCaRoleArn && !opts.existingCaExternalId) {
    problems.push('--existing-ca-role-arn needs --existing-ca-external-id: the external ID that role\'s trust policy requires.');
  }
  if (opts.existingCaExternalId && !opts.existingCaRoleArn) {
    problems.push('--existing-ca-external-id goes with --existing-ca-role-arn; give both or neither.');
  }
  if (opts.kms === false && opts.kmsKeyArn) problems.push('--no-kms and --kms-key-arn contradict each other; give one.');
  if (opts.bucketLifecycleDays !== undefined) {
    const p = checkLifecycleDays(opts.bucketLifecycleDays);
    if (p) problems.push(p);
  }
  if (opts.existingBucketArn && (opts.bucketLifecycleDays !== undefined || opts.bucketVersioning === false)) {
    problems.push('--bucket-lifecycle-days and --no-bucket-versioning apply to a bucket the tool creates, not to --existing-bucket-arn.');
  }
  const laceworkAwsAccountId = opts.laceworkAwsAccountId ?? DEFAULTS.laceworkAwsAccountId;
  const acctProblem = checkAwsAccountId(laceworkAwsAccountId, '--lacework-aws-account-id');
  if (acctProblem) problems.push(acctProblem);
  if (opts.integrationName !== undefined) {
    const p = checkIntegrationName(opts.integrationName);
    if (p) problems.push(p);
  }
  const filterPattern = opts.filterPattern ?? DEFAULTS.filterPattern;
  const fp = checkFilterPattern(filterPattern);
  if (fp) problems.push(fp);

  const inputs: Inputs = {
    regionClusters,
    homeRegion: opts.homeRegion ?? regions[0] ?? '',
    prefix,
    integrationName: opts.integrationName,
    tags,
    filterPattern,
    laceworkAwsAccountId,
    existingBucketArn: opts.existingBucketArn,
    existingCaRoleArn: opts.existingCaRoleArn,
    existingCaExternalId: opts.existingCaExternalId,
    existingFirehoseRoleArn: opts.existingFirehoseRoleArn,
    existingCwRoleArn: opts.existingCwRoleArn,
    kmsKeyArn: opts.kmsKeyArn,
    noKms: opts.kms === false,
    bucketLifecycleDays: opts.bucketLifecycleDays !== undefined ? Number(opts.bucketLifecycleDays) : DEFAULTS.bucketLifecycleDays,
    bucketVersioning: opts.bucketVersioning !== false,
    sqsQueueArn: opts.sqsQueueArn,
    enableAuditLogging: opts.enableAuditLogging !== false,
  };
  return { inputs, homeRegionGiven: !!opts.homeRegion, problems };
}
