/**
 * The one place names are made. Every resource name derives from the prefix and the deployment id, and
 * the id derives from the AWS account and the prefix (DESIGN §4), so every machine, every operator and a
 * crashed run's successor name the same resources (reference/aws-resources.md §1.0 draws the id at random;
 * deployments made that way by an earlier version keep theirs).
 */
import { createHash, randomInt } from 'node:crypto';

export const TAG_DEPLOYMENT = 'forticnapp-eks-audit:deployment';
export const TAG_MANAGED_BY = 'forticnapp-eks-audit:managed-by';
export const MANAGED_BY = 'forticnapp-eks-audit';
export const PARTITION = 'aws';

/** The deployment id of (account, prefix): the first 8 hex of SHA-256 over `<account>:<prefix>`. */
export function deploymentIdFor(accountId: string, prefix: string): string {
  return createHash('sha256').update(`${accountId}:${prefix}`).digest('hex').slice(0, 8);
}

export const DEPLOYMENT_ID_SHAPE = /^[0-9a-f]{8}$/;

const EXTERNAL_ID_CHARSET = '=,.@:/-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890';

/** External ID v2: `lweid:aws:v2:<tenant>:<account>:<10 random>` from a cryptographic RNG. */
export function newExternalId(tenant: string, accountId: string): string {
  let suffix = '';
  for (let i = 0; i < 10; i++) suffix += EXTERNAL_ID_CHARSET[randomInt(EXTERNAL_ID_CHARSET.length)];
  return `lweid:aws:v2:${tenant}:${accountId}:${suffix}`;
}

export interface Names {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  bucket: string;
  topic: string;
  stream: string;
  caRole: string;
  firehoseRole: string;
  cloudwatchRole: string;
  caPolicy: string;
  firehosePolicy: string;
  cloudwatchPolicy: string;
  kmsAlias: string;
  /** Id of our TopicConfiguration inside the bucket's notification configuration. */
  notificationId: string;
  /** Object key prefix Firehose writes to and S3 notifies on. */
  objectPrefix: string;
  errorPrefix: string;
  filter(cluster: string): string;
  logGroup(cluster: string): string;
  roleArn(name: string): string;
  topicArn: string;
  streamArn: string;
  bucketArn: string;
  logGroupArn(region: string, cluster: string): string;
}

export function makeNames(prefix: string, deploymentId: string, accountId: string, homeRegion: string): Names {
  const base = `${prefix}${deploymentId}`;
  const roleArn = (name: string) => `arn:${PARTITION}:iam::${accountId}:role/${name}`;
  return {
    deploymentId,
    accountId,
    homeRegion,
    bucket: base,
    topic: base,
    stream: base,
    caRole: `${prefix}-ca-${deploymentId}`,
    firehoseRole: `${prefix}-fh-${deploymentId}`,
    cloudwatchRole: `${prefix}-cw-${deploymentId}`,
    caPolicy: `${prefix}-cross-acct-policy-${deploymentId}`,
    firehosePolicy: `${prefix}-fh-policy-${deploymentId}`,
    cloudwatchPolicy: `${prefix}-cw-policy-${deploymentId}`,
    kmsAlias: `alias/${prefix}-key-${deploymentId}`,
    notificationId: `${base}-forticnapp`,
    objectPrefix: `eks_audit_logs/${accountId}/`,
    errorPrefix: `eks_audit_logs_errors/${accountId}/`,
    filter: (cluster) => `${prefix}-${cluster}-eks-cw-${deploymentId}`,
    logGroup: (cluster) => `/aws/eks/${cluster}/cluster`,
    roleArn,
    topicArn: `arn:${PARTITION}:sns:${homeRegion}:${accountId}:${base}`,
    streamArn: `arn:${PARTITION}:firehose:${homeRegion}:${accountId}:deliverystream/${base}`,
    bucketArn: `arn:${PARTITION}:s3:::${base}`,
    logGroupArn: (region, cluster) => `arn:${PARTITION}:logs:${region}:${accountId}:log-group:/aws/eks/${cluster}/cluster`,
  };
}

/** The bucket name inside an S3 bucket ARN (`arn:aws:s3:::name`, a trailing `/` trimmed). */
export function bucketNameFromArn(arn: string): string {
  return arn.replace(/\/+$/, '').split(':').pop() ?? '';
}

/** The ARNs the pipeline uses, whoever made the resource: ours, or the user's `--existing-*` ones. */
export interface PipelineArns {
  bucketName: string;
  bucketArn: string;
  caRoleArn: string;
  firehoseRoleArn: string;
  cloudwatchRoleArn: string;
  topicArn: string;
  streamArn: string;
}

export function pipelineArns(
  inputs: { existingBucketArn?: string; existingCaRoleArn?: string; existingFirehoseRoleArn?: string; existingCwRoleArn?: string },
  names: Names,
): PipelineArns {
  const bucketName = inputs.existingBucketArn ? bucketNameFromArn(inputs.existingBucketArn) : names.bucket;
  return {
    bucketName,
    bucketArn: `arn:${PARTITION}:s3:::${bucketName}`,
    caRoleArn: inputs.existingCaRoleArn ?? names.roleArn(names.caRole),
    firehoseRoleArn: inputs.existingFirehoseRoleArn ?? names.roleArn(names.firehoseRole),
    cloudwatchRoleArn: inputs.existingCwRoleArn ?? names.roleArn(names.cloudwatchRole),
    topicArn: names.topicArn,
    streamArn: names.streamArn,
  };
}
