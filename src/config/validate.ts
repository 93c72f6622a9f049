/**
 * Validators shared by flags and wizard questions: each returns undefined when the value is fine,
 * otherwise one line that says what is wrong and what to do. Pure: no I/O, no AWS.
 */
import { checkRegion } from './regions.js';

export { checkRegion };

/**
 * A boolean environment variable, one rule everywhere (issue 10): unset, empty, `0`, `false`, `no` and `off`
 * (any case, surrounding blanks ignored) are off; `1`, `true`, `yes` and any other non-empty value are on
 * (a variable set to something is taken as set, as NO_COLOR's convention has it).
 * So `LW_NONINTERACTIVE=0` and `LW_NONINTERACTIVE=false` leave the wizard on.
 * @param env the environment to read (usually process.env).
 * @param name the variable, e.g. `LW_NONINTERACTIVE`.
 */
export function envFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return false;
  return !['0', 'false', 'no', 'off'].includes(value);
}

/** EKS cluster names: 1-100 characters, start with a letter or digit, then letters, digits, - and _. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** An EKS cluster name (`--region-clusters`, typed names). @returns undefined when fine, else one line. */
export function checkClusterName(name: string): string | undefined {
  if (!CLUSTER_NAME.test(name)) {
    return `'${name}' is not a valid EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100).`;
  }
  return undefined;
}

/** Splits `a, b ,c` into trimmed names, dropping empties and duplicates. */
export function splitClusters(value: string): string[] {
  return [...new Set(value.split(',').map((c) => c.trim()).filter((c) => c !== ''))];
}

/**
 * Parses one `--region-clusters` value, `<region>=<c1,c2>`. Surrounding quotes are dropped, as the
 * reference CLI does.
 */
export function parseRegionClusters(raw: string): { region: string; clusters: string[]; problems: string[] } {
  const value = raw.trim().replace(/^["']|["']$/g, '');
  const eq = value.indexOf('=');
  if (eq < 0) {
    return {
      region: '',
      clusters: [],
      problems: [`--region-clusters '${raw}' must look like <region>=<cluster1,cluster2> (e.g. eu-central-1=prod,stage).`],
    };
  }
  const region = value.slice(0, eq).trim();
  const clusters = splitClusters(value.slice(eq + 1).replace(/^["']|["']$/g, ''));
  const problems: string[] = [];
  const regionProblem = checkRegion(region);
  if (regionProblem) problems.push(`--region-clusters: ${regionProblem}`);
  if (clusters.length === 0) problems.push(`--region-clusters '${raw}' names no cluster; list at least one after '='.`);
  for (const c of clusters) {
    const p = checkClusterName(c);
    if (p) problems.push(`--region-clusters: ${p}`);
  }
  return { region, clusters, problems };
}

/** The kinds of ARN the flags take. */
export type ArnKind = 's3-bucket' | 'iam-role' | 'kms-key' | 'sqs-queue';

const ARN_LABEL: Record<ArnKind, string> = { 's3-bucket': 'an S3 bucket', 'iam-role': 'an IAM role', 'kms-key': 'a KMS key', 'sqs-queue': 'an SQS queue' };

const ARN_SHAPES: Record<ArnKind, { re: RegExp; example: string }> = {
  's3-bucket': { re: /^arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/?$/, example: 'arn:aws:s3:::my-bucket' },
  'iam-role': { re: /^arn:aws:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/, example: 'arn:aws:iam::123456789012:role/my-role' },
  'kms-key': {
    re: /^arn:aws:kms:[a-z]{2}-[a-z]+-\d{1,2}:\d{12}:key\/[A-Za-z0-9-]{1,128}$/,
    example: 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
  'sqs-queue': { re: /^arn:aws:sqs:[a-z]{2}-[a-z]+-\d{1,2}:\d{12}:[\w-]{1,80}(\.fifo)?$/, example: 'arn:aws:sqs:eu-central-1:123456789012:my-queue' },
};

/**
 * An ARN of the given kind, e.g. `checkArn('iam-role', v, '--existing-ca-role-arn')`. A bucket ARN's name must
 * also pass every S3 bucket naming rule ({@link bucketNameProblem}).
 * @returns undefined when fine, else one line starting with `flag`.
 */
export function checkArn(kind: ArnKind, value: string, flag: string): string | undefined {
  const shape = ARN_SHAPES[kind];
  if (!shape.re.test(value)) return `${flag} '${value}' is not ${ARN_LABEL[kind]} ARN (expected e.g. ${shape.example}).`;
  if (kind === 's3-bucket') {
    const name = value.slice('arn:aws:s3:::'.length).replace(/\/$/, '');
    const why = bucketNameProblem(name);
    if (why) return `${flag} '${value}' names no valid S3 bucket: ${why}.`;
  }
  return undefined;
}

/** Bucket name prefixes S3 reserves (see {@link bucketNameProblem}). */
export const RESERVED_BUCKET_PREFIXES: readonly string[] = ['xn--', 'sthree-', 'amzn-s3-demo-'];
/** Bucket name suffixes S3 reserves for access point aliases, Multi-Region Access Points, directory and table buckets. */
export const RESERVED_BUCKET_SUFFIXES: readonly string[] = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * Every naming rule of S3 general purpose buckets, as AWS lists them in the S3 User Guide, "General purpose
 * bucket naming rules" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
 * 3-63 characters; only lower-case letters, digits, dots and hyphens; begins and ends with a letter or digit;
 * no two adjacent dots; not formatted as an IP address; does not start with `xn--`, `sthree-` or
 * `amzn-s3-demo-`; does not end with `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3` or `--table-s3`. Also no dot
 * next to a hyphen (`a.-b`, `a-.b`): the rule of the original DNS-compliant naming guidance, which
 * virtual-hosted-style addressing (the SDK's default) still needs.
 *
 * Buckets made in us-east-1 before March 2018 may have names that break these rules (upper case,
 * underscores); they cannot be used with virtual-hosted-style requests, so they are refused here too.
 * @param name a bucket name (not an ARN).
 * @returns undefined when S3 accepts the name; otherwise the broken rule, as a phrase (no trailing dot).
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `a bucket name is 3-63 characters long ('${name}' has ${name.length})`;
  if (!/^[a-z0-9.-]+$/.test(name)) return `'${name}' has characters other than lower-case letters, digits, '.' and '-'`;
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return `'${name}' must begin and end with a letter or digit`;
  if (name.includes('..')) return `'${name}' has two adjacent dots`;
  if (name.includes('.-') || name.includes('-.')) return `'${name}' has a dot next to a hyphen`;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return `'${name}' is formatted as an IP address`;
  const prefix = RESERVED_BUCKET_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `'${name}' starts with '${prefix}', which S3 reserves`;
  const suffix = RESERVED_BUCKET_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `'${name}' ends with '${suffix}', which S3 reserves`;
  return undefined;
}

/** The deployment id's length: names end in (or contain) 8 hex characters. */
const ID_LENGTH = 8;
/** The longest name the prefix starts: IAM role names (`<prefix>-ca-<8 hex>`) are at most 64 characters. */
export const MAX_PREFIX_LENGTH = 64 - '-ca-'.length - ID_LENGTH;

/**
 * Resource name prefix (`--prefix`). It starts every name the tool makes: the bucket, topic and stream
 * `<prefix><8 hex>` (S3 bucket rules; SNS topic names allow no dots), the IAM roles `<prefix>-ca-<8 hex>`
 * (at most 64 characters), the KMS alias (no dots) and the subscription filters. So it is 1-52 lower-case
 * letters, digits or '-', starting with a letter or digit, and such that `<prefix><8 hex>` passes every S3
 * bucket naming rule for any id (in practice: it must not start with a prefix S3 reserves, e.g. `xn--`;
 * the reserved suffixes cannot occur since the name ends in hex digits).
 * @returns undefined when fine, else one line naming `--prefix`.
 */
export function checkPrefix(prefix: string): string | undefined {
  if (prefix.length < 1 || prefix.length > MAX_PREFIX_LENGTH || !/^[a-z0-9][a-z0-9-]*$/.test(prefix)) {
    return `--prefix '${prefix}' must be 1-${MAX_PREFIX_LENGTH} lower-case letters, digits or '-', starting with a letter or digit (it starts the S3 bucket and IAM role names).`;
  }
  // Every id gives the same verdict here (hex digits cannot complete a reserved prefix or suffix): check one.
  const why = bucketNameProblem(`${prefix}${'0'.repeat(ID_LENGTH)}`);
  if (why) return `--prefix '${prefix}' gives S3 bucket names S3 refuses (${why}); choose another prefix.`;
  return undefined;
}

/** `--bucket-lifecycle-days`: a whole number of days, 1-3650, as typed (a string). @returns undefined when fine, else one line. */
export function checkLifecycleDays(value: string): string | undefined {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3650) {
    return `--bucket-lifecycle-days '${value}' must be a whole number of days from 1 to 3650.`;
  }
  return undefined;
}

/** A 12-digit AWS account id; `flag` names where it came from in the message. @returns undefined when fine, else one line. */
export function checkAwsAccountId(value: string, flag: string): string | undefined {
  if (!/^\d{12}$/.test(value)) return `${flag} '${value}' must be a 12-digit AWS account id.`;
  return undefined;
}

/** `--tag k=v`: AWS tag rules (key 1-128, value 0-256, no `aws:` prefix), and not our own tag keys. */
export function parseTag(raw: string): { key: string; value: string; problem?: string } {
  const eq = raw.indexOf('=');
  const key = (eq < 0 ? raw : raw.slice(0, eq)).trim();
  const value = eq < 0 ? '' : raw.slice(eq + 1).trim();
  if (eq < 0 || key === '') return { key, value, problem: `--tag '${raw}' must look like key=value.` };
  if (key.length > 128 || value.length > 256) return { key, value, problem: `--tag '${raw}': keys are at most 128 characters, values at most 256.` };
  if (/^aws:/i.test(key)) return { key, value, problem: `--tag '${raw}': keys starting with 'aws:' are reserved by AWS.` };
  if (key.startsWith('forticnapp-eks-audit:')) return { key, value, problem: `--tag '${raw}': keys starting with 'forticnapp-eks-audit:' are set by this tool.` };
  if (!/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(key + value)) {
    return { key, value, problem: `--tag '${raw}' has characters AWS does not allow in tags (letters, digits, spaces and _ . : / = + - @).` };
  }
  return { key, value };
}

/** `--integration-name`: 1-128 characters, not blank. @returns undefined when fine, else one line. */
export function checkIntegrationName(name: string): string | undefined {
  if (name.trim() === '' || name.length > 128) return `--integration-name must be 1-128 characters.`;
  return undefined;
}

/** `--filter-pattern`: at most 1024 characters (CloudWatch Logs). @returns undefined when fine, else one line. */
export function checkFilterPattern(pattern: string): string | undefined {
  if (pattern.length > 1024) return `--filter-pattern is longer than CloudWatch Logs allows (1024 characters).`;
  return undefined;
}
