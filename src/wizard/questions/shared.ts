/**
 * What the question groups share: one definition per input (the flag and environment variable that answer it,
 * the question the wizard asks when nothing did, and the validator both use). The validators are those of
 * src/config/validate.ts (the ones config/resolve.ts applies to flags), with the leading flag name turned into
 * words, so a typed answer and a flag are refused for the same reason.
 *
 * Wording follows the reference CLI (reference/lacework.md §1.4-1.5) where it is right, and fixes it
 * where it is not (the "comma-seperated" typo; unvalidated optional ARNs; untrimmed cluster lists).
 */
import {
  checkArn,
  checkClusterName,
  checkIntegrationName,
  checkLifecycleDays,
  checkRegion,
  splitClusters,
  type ArnKind,
} from '../../config/validate.js';
import type { SetupAnswers } from '../../config/resolve.js';
import { resolveCredentials, type CredentialInputs } from '../../lacework/credentials.js';
import { UserAbort } from '../../errors.js';

/** A question and what else can answer it. */
export interface Question {
  /** The answer (or credential input) this question gives, when it has one. */
  option?: keyof SetupAnswers | keyof CredentialInputs;
  /** The flag that answers it instead (DESIGN §2). */
  flag?: string;
  /** The environment variable that answers it, or gives its default. */
  env?: string;
  /** The question as shown; a function where it names the region it is about. */
  message: string | ((region: string) => string);
  /** Same check as the flag's: undefined when fine, else the reason (shown while asking again). */
  validate?: (value: string) => string | undefined | Promise<string | undefined>;
}

/**
 * A flag's problem line, reworded for the person who typed the answer: `--flag 'x' must…` -> `'x' must…`,
 * `--flag: …` -> `…`, `--flag must…` -> `<Label> must…`.
 */
export function forAnswer(problem: string | undefined, flag: string, label: string): string | undefined {
  if (problem === undefined) return undefined;
  if (problem.startsWith(`${flag}: `)) return problem.slice(flag.length + 2);
  if (problem.startsWith(`${flag} '`)) return problem.slice(flag.length + 1);
  if (problem.startsWith(`${flag} `)) return `${label.charAt(0).toUpperCase()}${label.slice(1)} ${problem.slice(flag.length + 1)}`;
  return problem;
}

/** An ARN answer; empty is allowed where `optional` (it means "none: let the tool create one"). */
export function arnValidator(kind: ArnKind, flag: string, optional: boolean): (value: string) => string | undefined {
  return (value) => {
    if (value === '') return optional ? undefined : 'An ARN is required here.';
    return forAnswer(checkArn(kind, value, flag), flag, 'the ARN');
  };
}

/** A region answer: the same check as `--region-clusters <region>=…` and `--home-region`. */
export function validateRegion(value: string): string | undefined {
  if (value === '') return 'Type a region, e.g. eu-central-1.';
  return checkRegion(value);
}

/** Typed cluster names (when they cannot be listed): trimmed, split on commas, each a valid EKS name. */
export function validateClusterNames(value: string): string | undefined {
  const names = splitClusters(value);
  if (names.length === 0) return 'Name at least one cluster (comma-separated, e.g. prod,stage).';
  const problems = names.map(checkClusterName).filter((p): p is string => p !== undefined);
  return problems.length > 0 ? problems.join(' ') : undefined;
}

/**
 * A FortiCNAPP account name, checked by the very code that resolves credentials from flags (so `acme`,
 * `acme.lacework.net` and a pasted console URL are accepted exactly as `--account` accepts them).
 */
export async function validateAccount(value: string): Promise<string | undefined> {
  try {
    // Key id and secret placeholders keep resolveCredentials from looking at any other source.
    const r = await resolveCredentials({ account: value, apiKey: 'placeholder', apiSecret: 'placeholder' }, {});
    return r.credentials ? undefined : 'Type the account name, e.g. acme or acme.lacework.net.';
  } catch (err) {
    return (err as Error).message;
  }
}

/** An API key id: one word (the token call tells whether it is right). */
export function validateKeyId(value: string): string | undefined {
  if (value === '') return 'Type the API key id (the "keyId" of the downloaded key file).';
  if (/\s/.test(value)) return 'An API key id has no spaces; paste the "keyId" value only.';
  return undefined;
}

/** An API secret: non-empty. Never quoted back in a message. */
export function validateSecret(value: string): string | undefined {
  if (value === '') return 'Type the API secret (the "secret" of the downloaded key file).';
  if (/\s/.test(value)) return 'An API secret has no spaces; paste the "secret" value only.';
  return undefined;
}

/** An external ID for an existing cross-account role (AWS: 2-1224 characters of letters, digits and +=,.@:/-). */
export function validateExternalId(value: string): string | undefined {
  // AWS: 2-1224 characters of letters, digits and +=,.@:/-
  if (!/^[\w+=,.@:\/-]{2,1224}$/.test(value)) {
    return 'An external ID is 2-1224 letters, digits or +=,.@:/- characters: the one the role\'s trust policy requires.';
  }
  return undefined;
}

/** Every question the wizard asks: its wording, and the validator shared with the flag that answers it. */
export const QUESTIONS = {
  loadSaved: {
    message: 'Previous answers for this AWS account found. Load them as defaults?',
  },
  multiRegion: {
    message: 'Integrate clusters in more than one region?',
  },
  region: {
    option: 'regionClusters',
    flag: '--region-clusters',
    env: 'AWS_REGION',
    message: 'AWS region of the EKS clusters:',
    validate: validateRegion,
  },
  typedRegion: {
    option: 'regionClusters',
    flag: '--region-clusters',
    message: 'AWS region name (e.g. eu-central-1):',
    validate: validateRegion,
  },
  clusters: {
    option: 'regionClusters',
    flag: '--region-clusters',
    message: (region: string) => `EKS clusters in ${region} to send audit logs from:`,
  },
  clusterNames: {
    option: 'regionClusters',
    flag: '--region-clusters',
    message: (region: string) => `Comma-separated names of the EKS clusters in ${region} to send audit logs from:`,
    validate: validateClusterNames,
  },
  anotherRegion: {
    message: 'Configure another AWS region?',
  },
  credentialMethod: {
    message: 'How will you give the FortiCNAPP API key?',
  },
  apiKeyFile: {
    option: 'apiKeyFile',
    flag: '--api-key-file',
    message: 'Path of the API key file downloaded from the FortiCNAPP console (Settings > API keys):',
  },
  account: {
    option: 'account',
    flag: '--account',
    env: 'LW_ACCOUNT',
    message: 'FortiCNAPP account (acme or acme.lacework.net):',
    validate: validateAccount,
  },
  apiKey: {
    option: 'apiKey',
    flag: '--api-key',
    env: 'LW_API_KEY',
    message: 'FortiCNAPP API key id:',
    validate: validateKeyId,
  },
  apiSecret: {
    option: 'apiSecret',
    flag: '--api-secret',
    env: 'LW_API_SECRET',
    message: 'FortiCNAPP API secret (hidden):',
    validate: validateSecret,
  },
  advanced: {
    message: 'Configure advanced integration options?',
  },
  advancedMenu: {
    message: 'Which options would you like to configure?',
  },
  useExistingBucket: {
    option: 'existingBucketArn',
    flag: '--existing-bucket-arn',
    message: 'Use an existing S3 bucket?',
  },
  existingBucketArn: {
    option: 'existingBucketArn',
    flag: '--existing-bucket-arn',
    message: 'ARN of the existing bucket for the EKS audit logs:',
    validate: arnValidator('s3-bucket', '--existing-bucket-arn', false),
  },
  bucketLifecycleDays: {
    option: 'bucketLifecycleDays',
    flag: '--bucket-lifecycle-days',
    message: 'Days before audit-log objects in the new bucket expire:',
    validate: (v: string) => forAnswer(checkLifecycleDays(v), '--bucket-lifecycle-days', 'lifecycle days'),
  },
  bucketVersioning: {
    option: 'bucketVersioning',
    flag: '--no-bucket-versioning',
    message: 'Turn on versioning on the new bucket?',
  },
  existingCaRoleArn: {
    option: 'existingCaRoleArn',
    flag: '--existing-ca-role-arn',
    message: 'ARN of the existing cross-account IAM role (empty: create one):',
    validate: arnValidator('iam-role', '--existing-ca-role-arn', true),
  },
  existingCaExternalId: {
    option: 'existingCaExternalId',
    flag: '--existing-ca-external-id',
    message: 'External ID that role requires:',
    validate: validateExternalId,
  },
  useExistingFirehoseRole: {
    option: 'existingFirehoseRoleArn',
    flag: '--existing-firehose-role-arn',
    message: 'Use an existing Firehose IAM role?',
  },
  existingFirehoseRoleArn: {
    option: 'existingFirehoseRoleArn',
    flag: '--existing-firehose-role-arn',
    message: 'ARN of the existing Firehose IAM role:',
    validate: arnValidator('iam-role', '--existing-firehose-role-arn', false),
  },
  existingCwRoleArn: {
    option: 'existingCwRoleArn',
    flag: '--existing-cw-role-arn',
    message: 'ARN of the existing CloudWatch Logs IAM role (empty: create one):',
    validate: arnValidator('iam-role', '--existing-cw-role-arn', true),
  },
  kmsChoice: {
    option: 'kmsKeyArn',
    flag: '--kms-key-arn',
    message: 'Encryption of the bucket, SNS topic and Firehose stream:',
  },
  kmsKeyArn: {
    option: 'kmsKeyArn',
    flag: '--kms-key-arn',
    message: 'ARN of the existing KMS key:',
    validate: arnValidator('kms-key', '--kms-key-arn', false),
  },
  integrationName: {
    option: 'integrationName',
    flag: '--integration-name',
    message: 'FortiCNAPP integration name:',
    validate: (v: string) => forAnswer(checkIntegrationName(v), '--integration-name', 'the integration name'),
  },
  homeRegion: {
    option: 'homeRegion',
    flag: '--home-region',
    message: 'Home region (holds the bucket, SNS topic, KMS key and Firehose stream):',
    validate: validateRegion,
  },
} satisfies Record<string, Question>;

/** The advanced menu, in the reference's order (its "output location" item has no meaning here). */
export type AdvancedItem = 'bucket' | 'caRole' | 'firehose' | 'cwRole' | 'kms' | 'integrationName' | 'homeRegion' | 'done';

/** Each item with the answers it sets: a flag that gave one of them disables the item ("set by --flag"). */
export const ADVANCED_MENU: { item: AdvancedItem; name: string; answers: (keyof SetupAnswers)[] }[] = [
  { item: 'bucket', name: 'Configure bucket settings', answers: ['existingBucketArn', 'bucketLifecycleDays', 'bucketVersioning'] },
  { item: 'caRole', name: 'Configure and use an existing cross-account IAM role', answers: ['existingCaRoleArn', 'existingCaExternalId'] },
  { item: 'firehose', name: 'Configure Firehose settings', answers: ['existingFirehoseRoleArn'] },
  { item: 'cwRole', name: 'Configure and use an existing CloudWatch IAM role', answers: ['existingCwRoleArn'] },
  { item: 'kms', name: 'Configure SNS and KMS encryption settings', answers: ['kmsKeyArn', 'noKms'] },
  { item: 'integrationName', name: 'Customize integration name', answers: ['integrationName'] },
  { item: 'homeRegion', name: 'Choose the home region', answers: ['homeRegion'] },
  { item: 'done', name: 'Done', answers: [] },
];

/** The flag that gives an answer, spelled as on the command line, for "set by --flag" notes. */
export function flagOf(answer: keyof SetupAnswers): string {
  const special: Partial<Record<keyof SetupAnswers, string>> = {
    noKms: '--no-kms',
    bucketVersioning: '--no-bucket-versioning',
    enableAuditLogging: '--no-enable-audit-logging',
    tags: '--tag',
  };
  return special[answer] ?? `--${answer.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Throws UserAbort when the session was interrupted (a Ctrl+C that came during a lookup, between questions). */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new UserAbort('Interrupted: nothing was changed.');
}
