/**
 * Flags -> typed answers -> Inputs: the one conversion of setup's and plan's inputs (DESIGN §2), run once per
 * command. Flags (and the wizard's answers) are typed `SetupAnswers`; `resolveInputs` checks them, fills the
 * defaults and gives the `Inputs` the provisioner takes. Every problem is collected and reported together,
 * each one line naming the flag that fixes it.
 *
 *   answersFromOptions(opts)  commander's option bag -> { answers: SetupAnswers, problems } (parse only)
 *   checkAnswers(answers)     the value of every answer and the cross-field rules -> problems
 *   resolveInputs(answers)    checkAnswers + required inputs + defaults -> { inputs, homeRegionGiven, problems }
 *   resolveFlags(opts)        both steps: what the non-interactive path calls, once
 *
 * The wizard builds its `given` answers with `answersFromOptions`, asks for what is undefined, and calls
 * `resolveInputs` once on the result (no round trip through flag syntax).
 */
import { DEFAULTS, type Inputs } from './inputs.js';
import {
  checkArn,
  checkAwsAccountId,
  checkClusterName,
  checkFilterPattern,
  checkIntegrationName,
  checkLifecycleDays,
  checkPrefix,
  checkRegion,
  parseRegionClusters,
  parseTag,
  type ArnKind,
} from './validate.js';

/** Credential flag values as the user gave them (not merged with the environment: resolveCredentials does that). */
export interface CredentialInputs {
  account?: string;
  subaccount?: string;
  apiKey?: string;
  apiSecret?: string;
  apiKeyFile?: string;
  profile?: string;
}

/** Option values as commander gives them (kebab-case flags camel-cased). */
export interface SetupOptions
  extends CredentialInputs,
    Pick<
      SetupAnswers,
      | 'homeRegion'
      | 'prefix'
      | 'integrationName'
      | 'filterPattern'
      | 'laceworkAwsAccountId'
      | 'existingBucketArn'
      | 'existingCaRoleArn'
      | 'existingCaExternalId'
      | 'existingFirehoseRoleArn'
      | 'existingCwRoleArn'
      | 'kmsKeyArn'
      | 'sqsQueueArn'
    > {
  regionClusters?: string[];
  awsProfile?: string;
  tag?: string[];
  /** commander's `--no-kms`: true unless the flag was given. */
  kms?: boolean;
  bucketLifecycleDays?: string;
  /** commander's `--no-bucket-versioning`: true unless the flag was given. */
  bucketVersioning?: boolean;
  /** commander's `--no-enable-audit-logging`: true unless the flag was given. */
  enableAuditLogging?: boolean;
  nonInteractive?: boolean;
  yes?: boolean;
  json?: boolean;
  color?: boolean;
  stateDir?: string;
  rollback?: boolean;
}

/**
 * The answers to setup's questions, typed: an `Inputs` of which every field may be missing. A field that is
 * undefined was not answered (a flag not given, a question not asked yet) and gets its default in
 * `resolveInputs`. Booleans are set only when they differ from the default: `noKms: true` (`--no-kms`),
 * `bucketVersioning: false`, `enableAuditLogging: false`.
 */
export type SetupAnswers = Partial<Inputs>;

/** What `resolveInputs` and `resolveFlags` give. */
export interface ResolvedInputs {
  /** Complete inputs, defaults filled in; meaningful only when `problems` is empty. */
  inputs: Inputs;
  /** Whether the home region was chosen (`--home-region`, or the wizard's home-region item) rather than defaulted. */
  homeRegionGiven: boolean;
  /** One line per problem, each naming the flag that fixes it; empty when the inputs are usable. */
  problems: string[];
}

/** The problem line for a missing `--region-clusters` (the non-interactive path; the wizard asks instead). */
export const REGION_CLUSTERS_REQUIRED =
  '--region-clusters is required: name the clusters per region, e.g. --region-clusters eu-central-1=prod,stage (repeat for more regions).';

/**
 * region -> clusters from repeated `--region-clusters <region>=<c1,c2>` values; a region given twice merges its
 * lists (duplicates dropped, order kept). A value with a problem is left out and its problems are pushed.
 */
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

/**
 * Commander's option bag -> the answers the flags give. Only parses: a value that cannot become a typed answer
 * (`--region-clusters` without `=`, a bad region or cluster name in it, `--tag` without `=`, lifecycle days that
 * are not a whole number) is left out and reported; every other value is copied as given and checked by
 * `checkAnswers` (so no problem is reported twice). Nothing is defaulted: an absent flag is an absent answer.
 * Credential flags (`--account`, `--api-key`…) are not answers: see lacework/credentials.ts `credentialInputs`.
 */
export function answersFromOptions(opts: SetupOptions): { answers: SetupAnswers; problems: string[] } {
  const problems: string[] = [];
  const answers: SetupAnswers = {};
  if (opts.regionClusters !== undefined && opts.regionClusters.length > 0) {
    const rc = regionClustersFrom(opts.regionClusters, problems);
    if (Object.keys(rc).length > 0) answers.regionClusters = rc;
  }
  if (opts.tag !== undefined && opts.tag.length > 0) {
    const tags: Record<string, string> = {};
    for (const raw of opts.tag) {
      const t = parseTag(raw);
      if (t.problem) problems.push(t.problem);
      else tags[t.key] = t.value;
    }
    answers.tags = tags;
  }
  if (opts.bucketLifecycleDays !== undefined) {
    const p = checkLifecycleDays(opts.bucketLifecycleDays);
    if (p) problems.push(p);
    else answers.bucketLifecycleDays = Number(opts.bucketLifecycleDays);
  }
  const strings = [
    'homeRegion',
    'prefix',
    'integrationName',
    'filterPattern',
    'laceworkAwsAccountId',
    'existingBucketArn',
    'existingCaRoleArn',
    'existingCaExternalId',
    'existingFirehoseRoleArn',
    'existingCwRoleArn',
    'kmsKeyArn',
    'sqsQueueArn',
  ] as const;
  for (const key of strings) {
    const value = opts[key];
    if (value !== undefined) answers[key] = value;
  }
  // commander sets `--no-x` options to true when the flag is absent: only `false` is an answer.
  if (opts.kms === false) answers.noKms = true;
  if (opts.bucketVersioning === false) answers.bucketVersioning = false;
  if (opts.enableAuditLogging === false) answers.enableAuditLogging = false;
  return { answers, problems };
}

const ARN_ANSWERS: [keyof SetupAnswers, ArnKind, string][] = [
  ['existingBucketArn', 's3-bucket', '--existing-bucket-arn'],
  ['existingCaRoleArn', 'iam-role', '--existing-ca-role-arn'],
  ['existingFirehoseRoleArn', 'iam-role', '--existing-firehose-role-arn'],
  ['existingCwRoleArn', 'iam-role', '--existing-cw-role-arn'],
  ['kmsKeyArn', 'kms-key', '--kms-key-arn'],
  ['sqsQueueArn', 'sqs-queue', '--sqs-queue-arn'],
];

/**
 * Checks every answer given, alone and together, with the validators the flags and the wizard's questions use
 * (config/validate.ts). Absent answers are not problems here (see `resolveInputs` for what is required).
 * @returns one line per problem, naming the flag; empty when every given answer is usable.
 */
export function checkAnswers(a: SetupAnswers): string[] {
  const problems: string[] = [];
  for (const [region, clusters] of Object.entries(a.regionClusters ?? {})) {
    const rp = checkRegion(region);
    if (rp) problems.push(`--region-clusters: ${rp}`);
    if (clusters.length === 0) problems.push(`--region-clusters '${region}=' names no cluster; list at least one after '='.`);
    for (const c of clusters) {
      const cp = checkClusterName(c);
      if (cp) problems.push(`--region-clusters: ${cp}`);
    }
  }
  if (a.homeRegion !== undefined) {
    const p = checkRegion(a.homeRegion);
    if (p) problems.push(`--home-region: ${p}`);
  }
  if (a.prefix !== undefined) {
    const p = checkPrefix(a.prefix);
    if (p) problems.push(p);
  }
  for (const [key, value] of Object.entries(a.tags ?? {})) {
    const t = parseTag(`${key}=${value}`);
    if (t.problem) problems.push(t.problem);
  }
  if (Object.keys(a.tags ?? {}).length > 40) problems.push('At most 40 --tag values (AWS allows 50 tags per resource; the tool uses 2).');
  for (const [key, kind, flag] of ARN_ANSWERS) {
    const value = a[key];
    if (typeof value === 'string') {
      const p = checkArn(kind, value, flag);
      if (p) problems.push(p);
    }
  }
  if (a.bucketLifecycleDays !== undefined) {
    const p = checkLifecycleDays(String(a.bucketLifecycleDays));
    if (p) problems.push(p);
  }
  if (a.laceworkAwsAccountId !== undefined) {
    const p = checkAwsAccountId(a.laceworkAwsAccountId, '--lacework-aws-account-id');
    if (p) problems.push(p);
  }
  if (a.integrationName !== undefined) {
    const p = checkIntegrationName(a.integrationName);
    if (p) problems.push(p);
  }
  if (a.filterPattern !== undefined) {
    const p = checkFilterPattern(a.filterPattern);
    if (p) problems.push(p);
  }
  // Together.
  if (a.existingCaRoleArn && !a.existingCaExternalId) {
    problems.push("--existing-ca-role-arn needs --existing-ca-external-id: the external ID that role's trust policy requires.");
  }
  if (a.existingCaExternalId && !a.existingCaRoleArn) {
    problems.push('--existing-ca-external-id goes with --existing-ca-role-arn; give both or neither.');
  }
  if (a.noKms === true && a.kmsKeyArn) problems.push('--no-kms and --kms-key-arn contradict each other; give one.');
  if (a.existingBucketArn && (a.bucketLifecycleDays !== undefined || a.bucketVersioning === false)) {
    problems.push('--bucket-lifecycle-days and --no-bucket-versioning apply to a bucket the tool creates, not to --existing-bucket-arn.');
  }
  return problems;
}

/**
 * Answers -> the inputs of setup and plan: `checkAnswers`, then the required inputs (at least one region with
 * clusters: `REGION_CLUSTERS_REQUIRED`), then the defaults of config/inputs.ts (`DEFAULTS`; the home region is
 * the first region unless given).
 * @returns the inputs, whether the home region was chosen, and every problem (empty when usable). Never throws.
 */
export function resolveInputs(a: SetupAnswers): ResolvedInputs {
  const problems = checkAnswers(a);
  const regionClusters = a.regionClusters ?? {};
  const regions = Object.keys(regionClusters);
  if (regions.length === 0) problems.push(REGION_CLUSTERS_REQUIRED);
  const inputs: Inputs = {
    regionClusters,
    homeRegion: a.homeRegion ?? regions[0] ?? '',
    prefix: a.prefix ?? DEFAULTS.prefix,
    integrationName: a.integrationName,
    tags: a.tags ?? {},
    filterPattern: a.filterPattern ?? DEFAULTS.filterPattern,
    laceworkAwsAccountId: a.laceworkAwsAccountId ?? DEFAULTS.laceworkAwsAccountId,
    existingBucketArn: a.existingBucketArn,
    existingCaRoleArn: a.existingCaRoleArn,
    existingCaExternalId: a.existingCaExternalId,
    existingFirehoseRoleArn: a.existingFirehoseRoleArn,
    existingCwRoleArn: a.existingCwRoleArn,
    kmsKeyArn: a.kmsKeyArn,
    noKms: a.noKms ?? false,
    bucketLifecycleDays: a.bucketLifecycleDays ?? DEFAULTS.bucketLifecycleDays,
    bucketVersioning: a.bucketVersioning ?? true,
    sqsQueueArn: a.sqsQueueArn,
    enableAuditLogging: a.enableAuditLogging ?? true,
  };
  return { inputs, homeRegionGiven: a.homeRegion !== undefined, problems };
}

/**
 * The non-interactive path in one call: `answersFromOptions` then `resolveInputs`, problems of both together
 * (a missing `--region-clusters` included).
 */
export function resolveFlags(opts: SetupOptions): ResolvedInputs {
  const { answers, problems } = answersFromOptions(opts);
  const resolved = resolveInputs(answers);
  // A --region-clusters that was given but unparsable is already reported; "is required" would only add noise.
  const required = problems.some((p) => p.startsWith('--region-clusters')) ? resolved.problems.filter((p) => p !== REGION_CLUSTERS_REQUIRED) : resolved.problems;
  return { ...resolved, problems: [...problems, ...required] };
}
