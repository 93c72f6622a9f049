/**
 * Every policy document the tool writes (reference/aws-resources.md §1), tightened where DESIGN §7 says:
 * service trusts carry confused-deputy conditions, no wildcard actions, `Resource: "*"` only for
 * iam:ListAccountAliases, a TLS-only bucket policy, and the Firehose error prefix inside the role's policy.
 */
import type { Names } from '../config/naming.js';
import { PARTITION } from '../config/naming.js';

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Record<string, unknown>[];
}

const doc = (...Statement: Record<string, unknown>[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

export const laceworkPrincipal = (laceworkAccountId: string) => `arn:${PARTITION}:iam::${laceworkAccountId}:role/lacework-platform`;

/** FortiCNAPP's platform role may assume the cross-account role only with our external ID. */
export function crossAccountTrust(laceworkAccountId: string, externalId: string): PolicyDocument {
  return doc({
    Sid: 'FortiCNAPPAssumeRole',
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { AWS: laceworkPrincipal(laceworkAccountId) },
    Condition: { StringEquals: { 'sts:ExternalId': externalId } },
  });
}

/** The bucket must belong to this account: its name is predictable, so another account could take it (DESIGN §3). */
const inThisAccount = (accountId: string) => ({ StringEquals: { 's3:ResourceAccount': accountId } });

/**
 * What FortiCNAPP may do with the role: read the objects (of this account's bucket), subscribe to the topic,
 * read the account alias; with a key of the user's (`--kms-key-arn`), decrypt with it (our own key's policy
 * already lets principals of the account decrypt).
 */
export function crossAccountPolicy(bucketArn: string, topicArn: string, accountId: string, userKeyArn?: string): PolicyDocument {
  return doc(
    { Sid: 'S3Permissions', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [bucketArn, `${bucketArn}/*`], Condition: inThisAccount(accountId) },
    { Sid: 'SNSPermissions', Effect: 'Allow', Action: ['sns:GetTopicAttributes', 'sns:Subscribe', 'sns:Unsubscribe'], Resource: topicArn },
    { Sid: 'AccountAliasPermissions', Effect: 'Allow', Action: ['iam:ListAccountAliases'], Resource: '*' },
    ...(userKeyArn ? [{ Sid: 'DecryptWithTheKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: userKeyArn }] : []),
  );
}

export function firehoseTrust(names: Names): PolicyDocument {
  return doc({
    Sid: 'FirehoseAssumeRole',
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { Service: 'firehose.amazonaws.com' },
    Condition: {
      StringEquals: { 'aws:SourceAccount': names.accountId },
      ArnLike: { 'aws:SourceArn': names.streamArn },
    },
  });
}

/**
 * Firehose writes objects (into this account's bucket) under the delivery prefix and, on errors, under the
 * error prefix; with a key of the user's, it encrypts with it (our own key names the role in its policy).
 */
export function firehosePolicy(bucketArn: string, names: Names, userKeyArn?: string): PolicyDocument {
  return doc(
    {
      Sid: 'FirehoseWriteAuditLogs',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: [`${bucketArn}/${names.objectPrefix}*`, `${bucketArn}/${names.errorPrefix}*`],
      Condition: inThisAccount(names.accountId),
    },
    ...(userKeyArn
      ? [{ Sid: 'EncryptWithTheKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: userKeyArn }]
      : []),
  );
}

/** CloudWatch Logs of each region used may assume the role, for log groups of this account only. */
export function cloudwatchTrust(regions: string[], accountId: string): PolicyDocument {
  const sorted = [...new Set(regions)].sort();
  return doc({
    Sid: 'CloudWatchLogsAssumeRole',
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { Service: sorted.map((r) => `logs.${r}.amazonaws.com`) },
    Condition: {
      StringEquals: { 'aws:SourceAccount': accountId },
      ArnLike: { 'aws:SourceArn': sorted.map((r) => `arn:${PARTITION}:logs:${r}:${accountId}:*`) },
    },
  });
}

export function cloudwatchPolicy(streamArn: string): PolicyDocument {
  return doc({ Sid: 'PutAuditLogsIntoFirehose', Effect: 'Allow', Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Resource: streamArn });
}

/** One statement of a policy document, as these readers look at it. */
export interface Stmt {
  Effect?: string;
  Principal?: string | { AWS?: string | string[]; Service?: string | string[] };
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A value IAM allows as one string or a list of them, as a list. */
export const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The statements of a parsed policy document (IAM allows one statement object as well as a list). */
export function statementsOf(policy: unknown): Stmt[] {
  const stmts = (policy as { Statement?: Stmt | Stmt[] } | undefined)?.Statement ?? [];
  return Array.isArray(stmts) ? stmts : [stmts];
}

/** Regions a CloudWatch trust policy (ours) admits, read back from its service principals. */
export function regionsInCloudwatchTrust(policy: unknown): string[] {
  const services = statementsOf(policy).flatMap((s) => (typeof s.Principal === 'object' ? list(s.Principal.Service) : []));
  return services.map((s) => /^logs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(s)?.[1]).filter((r): r is string => !!r);
}

/** The `sts:ExternalId` a trust policy requires (ours: one statement, StringEquals), if any. */
export function externalIdInTrust(policy: unknown): string | undefined {
  for (const s of statementsOf(policy)) {
    const id = s.Condition?.StringEquals?.['sts:ExternalId'];
    if (typeof id === 'string') return id;
  }
  return undefined;
}

/**
 * Key policy of the one KMS key (bucket, topic, stream). Service statements carry aws:SourceAccount;
 * principals of this account may decrypt (that is how the cross-account role reads the objects).
 */
export function kmsKeyPolicy(names: Names, firehoseRoleArn: string, laceworkAccountId: string): PolicyDocument {
  const acct = names.accountId;
  return doc(
    { Sid: 'EnableAccountRoot', Effect: 'Allow', Principal: { AWS: `arn:${PARTITION}:iam::${acct}:root` }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'AllowFirehoseRole',
      Effect: 'Allow',
      Principal: { AWS: firehoseRoleArn },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      Resource: '*',
    },
    {
      Sid: 'AllowS3AndSNSServices',
      Effect: 'Allow',
      Principal: { Service: ['s3.amazonaws.com', 'sns.amazonaws.com'] },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': acct } },
    },
    {
      Sid: 'AllowFortiCNAPP',
      Effect: 'Allow',
      Principal: { AWS: laceworkPrincipal(laceworkAccountId) },
      Action: ['kms:Decrypt', 'kms:DescribeKey'],
      Resource: '*',
    },
    {
      Sid: 'AllowAccountPrincipalsToDecrypt',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['kms:Decrypt', 'kms:ReEncryptFrom'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': acct } },
    },
  );
}

/** FortiCNAPP may subscribe; S3 (this bucket, this account) may publish. */
export function topicPolicy(topicArn: string, bucketName: string, accountId: string, laceworkAccountId: string): PolicyDocument {
  return doc(
    { Sid: 'AllowFortiCNAPPToSubscribe', Effect: 'Allow', Principal: { AWS: laceworkPrincipal(laceworkAccountId) }, Action: 'sns:Subscribe', Resource: topicArn },
    {
      Sid: 'AllowS3ToPublish',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { StringEquals: { 'AWS:SourceAccount': accountId }, ArnLike: { 'AWS:SourceArn': `arn:${PARTITION}:s3:*:*:${bucketName}` } },
    },
  );
}

/** Refuses every request that does not use TLS. */
export function bucketPolicy(bucketArn: string): PolicyDocument {
  return doc({
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
}

/** Compares two policy documents regardless of key order (IAM returns them URL-encoded; decode first). */
export function samePolicy(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, norm((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/** IAM returns policy documents URL-encoded. */
export function parsePolicy(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text.startsWith('%7B') || text.startsWith('%7b') ? decodeURIComponent(text) : text);
  } catch {
    return undefined;
  }
}

/** Whether an IAM action pattern (`kms:*`, `kms:GenerateDataKey*`) covers an action. */
function covers(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return re.test(action);
}

function allows(stmts: Stmt[], principal: { aws?: string; service?: string }, actions: string[]): boolean {
  return actions.every((action) =>
    stmts.some((s) => {
      if (s.Effect !== 'Allow') return false;
      const p = s.Principal;
      const who =
        p === '*' ||
        (typeof p === 'object' &&
          ((principal.aws !== undefined && list(p.AWS).some((a) => a === '*' || a === principal.aws)) ||
            (principal.service !== undefined && list(p.Service).includes(principal.service))));
      return who && list(s.Action).some((a) => covers(a, action));
    }),
  );
}

/**
 * What a KMS key policy lacks for the pipeline to use a key of the user's (`--kms-key-arn`, issue 11 item 3):
 * IAM policies of the account must be enabled (the account root allowed `kms:*`, the AWS default; our roles
 * then get their KMS rights from their own policies), and S3 must be allowed to encrypt for the encrypted
 * topic it publishes to, SNS to use the key for the topic (reference/aws-resources.md §1.1; AWS SNS developer
 * guide, "Configure AWS KMS permissions for AWS services"). Conditions are not evaluated: a statement
 * that allows with conditions counts as allowing.
 * @returns the statements the key owner must add (empty when none is missing).
 */
export function keyPolicyGaps(policy: unknown, accountId: string, roleArns: string[]): Record<string, unknown>[] {
  const all = statementsOf(policy);
  const root = `arn:${PARTITION}:iam::${accountId}:root`;
  const gaps: Record<string, unknown>[] = [];
  const serviceActions = ['kms:GenerateDataKey*', 'kms:Decrypt'];
  const rootEnabled = allows(all, { aws: root }, ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant']) || allows(all, { aws: accountId }, ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant']);
  if (!rootEnabled) {
    const missing = roleArns.filter((r) => !allows(all, { aws: r }, ['kms:Decrypt', 'kms:GenerateDataKey']));
    if (missing.length > 0) {
      gaps.push({
        Sid: 'AllowForticnappEksAuditRoles',
        Effect: 'Allow',
        Principal: { AWS: missing },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
        Resource: '*',
      });
    }
  }
  const services = ['s3.amazonaws.com', 'sns.amazonaws.com'].filter((svc) => !allows(all, { service: svc }, serviceActions.map((a) => a.replace('*', ''))));
  if (services.length > 0) {
    gaps.push({
      Sid: 'AllowS3AndSNSForEksAuditLogs',
      Effect: 'Allow',
      Principal: { Service: services },
      Action: serviceActions,
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
    });
  }
  return gaps;
}
