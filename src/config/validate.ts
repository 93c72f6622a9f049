/**
 * Validators shared by flags and wizard questions: each returns undefined when the value is fine,
 * otherwise one line that says what is wrong and what to do.
 */
import { checkRegion } from './regions.js';

export { checkRegion };

/** EKS cluster names: 1-100 characters, start with a letter or digit, then letters, digits, - and _. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

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

export function checkArn(kind: ArnKind, value: string, flag: string): string | undefined {
  const shape = ARN_SHAPES[kind];
  if (!shape.re.test(value)) return `${flag} '${value}' is not ${ARN_LABEL[kind]} ARN (expected e.g. ${shape.example}).`;
  return undefined;
}

/**
 * Resource name prefix. It starts the bucket name (`<prefix><8 hex>`, at most 63, lower case) and the role
 * names (`<prefix>-ca-<8 hex>`, at most 64), so it is kept to 40 lower-case letters, digits and dashes.
 */
export function checkPrefix(prefix: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(prefix)) {
    return `--prefix '${prefix}' must be 1-40 lower-case letters, digits or '-', starting with a letter or digit (it starts the S3 bucket name).`;
  }
  return undefined;
}

export function checkLifecycleDays(value: string): string | undefined {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3650) {
    return `--bucket-lifecycle-days '${value}' must be a whole number of days from 1 to 3650.`;
  }
  return undefined;
}

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

export function checkIntegrationName(name: string): string | undefined {
  if (name.trim() === '' || name.length > 128) return `--integration-name must be 1-128 characters.`;
  return undefined;
}

export function checkFilterPattern(pattern: string): string | undefined {
  if (pattern.length > 1024) return `--filter-pattern is longer than CloudWatch Logs allows (1024 characters).`;
  return undefined;
}
