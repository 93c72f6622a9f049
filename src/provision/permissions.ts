/**
 * The IAM policy the person running the tool needs (setup, plan, status, list --discover, teardown),
 * derived from the AWS calls the code makes: {@link SDK_CALLS} lists every SDK command sent anywhere in
 * src/ and the IAM actions it needs (a test scans src/ for `new XxxCommand(` and fails on a command
 * missing here, or on an entry no code sends any more). Resources are scoped to what the tool names
 * (DESIGN §1: `lw-eks-al…` with the default prefix) wherever the action supports resource-level
 * permissions; no wildcard actions.
 */
import { DEFAULTS } from '../config/inputs.js';
import type { PolicyDocument } from './policies.js';

/** Which resources an action is granted on; see {@link resourcesOf}. */
export type Scope =
  | 'any'
  | 'eks-cluster'
  | 'eks-log-group'
  | 'any-log-group'
  | 'role'
  | 'pass-role'
  | 'kms-key'
  | 'kms-alias'
  | 'bucket'
  | 'object'
  | 'topic'
  | 'stream';

/** One SDK command the tool sends and what IAM must allow for it. */
export interface SdkCall {
  /** The client package, e.g. `@aws-sdk/client-eks`. */
  client: string;
  /** The command class, e.g. `DescribeClusterCommand`. */
  command: string;
  /** IAM actions it needs, and on what; empty when the call needs no permission (sts:GetCallerIdentity). */
  actions: { action: string; scope: Scope }[];
  /** Why the tool sends it (shown in docs/permissions.md). */
  why: string;
}

const a = (action: string, scope: Scope) => ({ action, scope });

/** Every AWS SDK command in src/, kept honest by test/unit/permissions.test.ts. */
export const SDK_CALLS: SdkCall[] = [
  // STS
  { client: '@aws-sdk/client-sts', command: 'GetCallerIdentityCommand', actions: [], why: 'which AWS account the credentials belong to (needs no permission)' },
  // EKS
  { client: '@aws-sdk/client-eks', command: 'ListClustersCommand', actions: [a('eks:ListClusters', 'any')], why: 'wizard choices; where a cluster named in the wrong region really is' },
  { client: '@aws-sdk/client-eks', command: 'DescribeClusterCommand', actions: [a('eks:DescribeCluster', 'eks-cluster')], why: 'cluster ACTIVE, audit logging on or off' },
  { client: '@aws-sdk/client-eks', command: 'UpdateClusterConfigCommand', actions: [a('eks:UpdateClusterConfig', 'eks-cluster')], why: 'turn the audit log type on (teardown: back off where setup turned it on)' },
  { client: '@aws-sdk/client-eks', command: 'DescribeUpdateCommand', actions: [a('eks:DescribeUpdate', 'eks-cluster')], why: 'wait for the logging update to finish' },
  // CloudWatch Logs
  { client: '@aws-sdk/client-cloudwatch-logs', command: 'DescribeLogGroupsCommand', actions: [a('logs:DescribeLogGroups', 'any-log-group')], why: 'does /aws/eks/<cluster>/cluster exist' },
  { client: '@aws-sdk/client-cloudwatch-logs', command: 'CreateLogGroupCommand', actions: [a('logs:CreateLogGroup', 'eks-log-group')], why: 'create the cluster log group when EKS has not yet' },
  { client: '@aws-sdk/client-cloudwatch-logs', command: 'DescribeSubscriptionFiltersCommand', actions: [a('logs:DescribeSubscriptionFilters', 'eks-log-group')], why: 'free filter slots; our filter as made' },
  {
    client: '@aws-sdk/client-cloudwatch-logs',
    command: 'PutSubscriptionFilterCommand',
    actions: [a('logs:PutSubscriptionFilter', 'eks-log-group'), a('iam:PassRole', 'pass-role')],
    why: 'stream the audit log group to Firehose with the CloudWatch role',
  },
  { client: '@aws-sdk/client-cloudwatch-logs', command: 'DeleteSubscriptionFilterCommand', actions: [a('logs:DeleteSubscriptionFilter', 'eks-log-group')], why: 'teardown' },
  // Firehose
  { client: '@aws-sdk/client-firehose', command: 'DescribeDeliveryStreamCommand', actions: [a('firehose:DescribeDeliveryStream', 'stream')], why: 'stream exists and is ACTIVE' },
  {
    client: '@aws-sdk/client-firehose',
    command: 'CreateDeliveryStreamCommand',
    actions: [
      a('firehose:CreateDeliveryStream', 'stream'),
      a('firehose:TagDeliveryStream', 'stream'),
      a('iam:PassRole', 'pass-role'),
      // Firehose makes a grant on the customer managed key in the caller's name.
      a('kms:CreateGrant', 'kms-key'),
      a('kms:DescribeKey', 'kms-key'),
    ],
    why: 'the delivery stream to S3, tagged, encrypted with the KMS key',
  },
  { client: '@aws-sdk/client-firehose', command: 'DeleteDeliveryStreamCommand', actions: [a('firehose:DeleteDeliveryStream', 'stream')], why: 'teardown' },
  // IAM
  { client: '@aws-sdk/client-iam', command: 'GetRoleCommand', actions: [a('iam:GetRole', 'role')], why: 'role exists, its trust policy' },
  { client: '@aws-sdk/client-iam', command: 'GetRolePolicyCommand', actions: [a('iam:GetRolePolicy', 'role')], why: 'status: inline policy as made; teardown --discover' },
  { client: '@aws-sdk/client-iam', command: 'CreateRoleCommand', actions: [a('iam:CreateRole', 'role'), a('iam:TagRole', 'role')], why: 'the cross-account, Firehose and CloudWatch roles, tagged' },
  { client: '@aws-sdk/client-iam', command: 'PutRolePolicyCommand', actions: [a('iam:PutRolePolicy', 'role')], why: 'each role’s inline policy' },
  { client: '@aws-sdk/client-iam', command: 'UpdateAssumeRolePolicyCommand', actions: [a('iam:UpdateAssumeRolePolicy', 'role')], why: 'trust CloudWatch Logs of a newly added region' },
  { client: '@aws-sdk/client-iam', command: 'ListRolePoliciesCommand', actions: [a('iam:ListRolePolicies', 'role')], why: 'teardown: inline policies first' },
  { client: '@aws-sdk/client-iam', command: 'DeleteRolePolicyCommand', actions: [a('iam:DeleteRolePolicy', 'role')], why: 'teardown' },
  { client: '@aws-sdk/client-iam', command: 'ListAttachedRolePoliciesCommand', actions: [a('iam:ListAttachedRolePolicies', 'role')], why: 'teardown: detach before delete' },
  { client: '@aws-sdk/client-iam', command: 'DetachRolePolicyCommand', actions: [a('iam:DetachRolePolicy', 'role')], why: 'teardown' },
  { client: '@aws-sdk/client-iam', command: 'DeleteRoleCommand', actions: [a('iam:DeleteRole', 'role')], why: 'teardown' },
  { client: '@aws-sdk/client-iam', command: 'ListRolesCommand', actions: [a('iam:ListRoles', 'any')], why: '--discover (list, teardown): IAM roles are not in the tagging API' },
  { client: '@aws-sdk/client-iam', command: 'ListRoleTagsCommand', actions: [a('iam:ListRoleTags', 'role')], why: '--discover (list, teardown): which deployment a role belongs to' },
  // KMS
  { client: '@aws-sdk/client-kms', command: 'DescribeKeyCommand', actions: [a('kms:DescribeKey', 'kms-key')], why: 'key exists and is enabled (looked up by alias)' },
  { client: '@aws-sdk/client-kms', command: 'CreateKeyCommand', actions: [a('kms:CreateKey', 'any'), a('kms:TagResource', 'any')], why: 'the key that encrypts bucket, topic and stream, tagged at creation' },
  { client: '@aws-sdk/client-kms', command: 'EnableKeyRotationCommand', actions: [a('kms:EnableKeyRotation', 'kms-key')], why: 'yearly key rotation' },
  { client: '@aws-sdk/client-kms', command: 'CreateAliasCommand', actions: [a('kms:CreateAlias', 'kms-alias'), a('kms:CreateAlias', 'kms-key')], why: 'alias/<prefix>-key-<id>, how the key is found again' },
  { client: '@aws-sdk/client-kms', command: 'DeleteAliasCommand', actions: [a('kms:DeleteAlias', 'kms-alias'), a('kms:DeleteAlias', 'kms-key')], why: 'teardown' },
  { client: '@aws-sdk/client-kms', command: 'ScheduleKeyDeletionCommand', actions: [a('kms:ScheduleKeyDeletion', 'kms-key')], why: 'teardown (7-day window)' },
  // S3
  { client: '@aws-sdk/client-s3', command: 'HeadBucketCommand', actions: [a('s3:ListBucket', 'bucket')], why: 'bucket exists / name taken' },
  { client: '@aws-sdk/client-s3', command: 'GetBucketLocationCommand', actions: [a('s3:GetBucketLocation', 'bucket')], why: 'an existing bucket is in the home region' },
  { client: '@aws-sdk/client-s3', command: 'GetBucketTaggingCommand', actions: [a('s3:GetBucketTagging', 'bucket')], why: 'the bucket carries this deployment’s tag' },
  { client: '@aws-sdk/client-s3', command: 'CreateBucketCommand', actions: [a('s3:CreateBucket', 'bucket'), a('s3:PutBucketOwnershipControls', 'bucket')], why: 'the bucket, ownership enforced' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketTaggingCommand', actions: [a('s3:PutBucketTagging', 'bucket')], why: 'tags' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketOwnershipControlsCommand', actions: [a('s3:PutBucketOwnershipControls', 'bucket')], why: 'ownership enforced (no ACLs)' },
  { client: '@aws-sdk/client-s3', command: 'PutPublicAccessBlockCommand', actions: [a('s3:PutBucketPublicAccessBlock', 'bucket')], why: 'all four public-access blocks' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketVersioningCommand', actions: [a('s3:PutBucketVersioning', 'bucket')], why: 'versioning' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketEncryptionCommand', actions: [a('s3:PutEncryptionConfiguration', 'bucket')], why: 'default encryption with the KMS key' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketLifecycleConfigurationCommand', actions: [a('s3:PutLifecycleConfiguration', 'bucket')], why: 'objects and old versions expire' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketPolicyCommand', actions: [a('s3:PutBucketPolicy', 'bucket')], why: 'TLS-only bucket policy' },
  { client: '@aws-sdk/client-s3', command: 'GetBucketNotificationConfigurationCommand', actions: [a('s3:GetBucketNotification', 'bucket')], why: 'merge our notification with the bucket’s others' },
  { client: '@aws-sdk/client-s3', command: 'PutBucketNotificationConfigurationCommand', actions: [a('s3:PutBucketNotification', 'bucket')], why: 'ObjectCreated → SNS topic' },
  { client: '@aws-sdk/client-s3', command: 'ListObjectsV2Command', actions: [a('s3:ListBucket', 'bucket')], why: 'status: objects arriving under the prefix' },
  { client: '@aws-sdk/client-s3', command: 'ListObjectVersionsCommand', actions: [a('s3:ListBucketVersions', 'bucket')], why: 'teardown: empty the bucket' },
  { client: '@aws-sdk/client-s3', command: 'DeleteObjectsCommand', actions: [a('s3:DeleteObject', 'object'), a('s3:DeleteObjectVersion', 'object')], why: 'teardown: every version and delete marker' },
  { client: '@aws-sdk/client-s3', command: 'DeleteBucketCommand', actions: [a('s3:DeleteBucket', 'bucket')], why: 'teardown' },
  // SNS
  { client: '@aws-sdk/client-sns', command: 'GetTopicAttributesCommand', actions: [a('sns:GetTopicAttributes', 'topic')], why: 'topic exists; its policy' },
  { client: '@aws-sdk/client-sns', command: 'CreateTopicCommand', actions: [a('sns:CreateTopic', 'topic'), a('sns:TagResource', 'topic')], why: 'the topic, KMS-encrypted, tagged' },
  { client: '@aws-sdk/client-sns', command: 'SetTopicAttributesCommand', actions: [a('sns:SetTopicAttributes', 'topic')], why: 'topic policy: FortiCNAPP may subscribe, the bucket may publish' },
  { client: '@aws-sdk/client-sns', command: 'ListSubscriptionsByTopicCommand', actions: [a('sns:ListSubscriptionsByTopic', 'topic')], why: 'subscriptions and whether they are confirmed' },
  { client: '@aws-sdk/client-sns', command: 'SubscribeCommand', actions: [a('sns:Subscribe', 'topic')], why: '--sqs-queue-arn' },
  { client: '@aws-sdk/client-sns', command: 'UnsubscribeCommand', actions: [a('sns:Unsubscribe', 'topic')], why: 'teardown of --sqs-queue-arn' },
  { client: '@aws-sdk/client-sns', command: 'DeleteTopicCommand', actions: [a('sns:DeleteTopic', 'topic')], why: 'teardown' },
  // Resource Groups Tagging API
  { client: '@aws-sdk/client-resource-groups-tagging-api', command: 'GetResourcesCommand', actions: [a('tag:GetResources', 'any')], why: 'find a key left by a crashed run; --discover (list, teardown)' },
];

/** The ARNs an action of this scope is granted on, for resources named with `prefix`. */
export function resourcesOf(scope: Scope, prefix: string = DEFAULTS.prefix): string[] {
  switch (scope) {
    case 'any':
      return ['*'];
    case 'eks-cluster':
      return ['arn:aws:eks:*:*:cluster/*'];
    case 'eks-log-group':
      return ['arn:aws:logs:*:*:log-group:/aws/eks/*'];
    case 'any-log-group':
      return ['arn:aws:logs:*:*:log-group:*'];
    case 'role':
    case 'pass-role':
      return [`arn:aws:iam::*:role/${prefix}-*`];
    case 'kms-key':
      return ['arn:aws:kms:*:*:key/*'];
    case 'kms-alias':
      return [`arn:aws:kms:*:*:alias/${prefix}-key-*`];
    case 'bucket':
      return [`arn:aws:s3:::${prefix}*`];
    case 'object':
      return [`arn:aws:s3:::${prefix}*/*`];
    case 'topic':
      return [`arn:aws:sns:*:*:${prefix}*`];
    case 'stream':
      return [`arn:aws:firehose:*:*:deliverystream/${prefix}*`];
  }
}

const STATEMENTS: { sid: string; scopes: Scope[]; condition?: Record<string, unknown> }[] = [
  { sid: 'ReadAccountWide', scopes: ['any'] },
  { sid: 'EksClusters', scopes: ['eks-cluster'] },
  { sid: 'FindLogGroups', scopes: ['any-log-group'] },
  { sid: 'EksLogGroups', scopes: ['eks-log-group'] },
  { sid: 'Roles', scopes: ['role'] },
  // Only to the two services that use our roles: Firehose (its own role) and CloudWatch Logs (the filter's).
  { sid: 'PassRolesToFirehoseAndLogs', scopes: ['pass-role'], condition: { StringEquals: { 'iam:PassedToService': ['firehose.amazonaws.com', 'logs.amazonaws.com'] } } },
  { sid: 'KmsKeys', scopes: ['kms-key'] },
  { sid: 'KmsAlias', scopes: ['kms-alias'] },
  { sid: 'Bucket', scopes: ['bucket'] },
  { sid: 'BucketObjects', scopes: ['object'] },
  { sid: 'Topic', scopes: ['topic'] },
  { sid: 'DeliveryStream', scopes: ['stream'] },
];

/**
 * The policy document: one statement per kind of resource, actions sorted. With another `--prefix`, pass it
 * here (the docs show the default).
 */
export function permissionsPolicy(prefix: string = DEFAULTS.prefix): PolicyDocument {
  const statements: Record<string, unknown>[] = [];
  for (const st of STATEMENTS) {
    const actions = [...new Set(SDK_CALLS.flatMap((c) => c.actions.filter((x) => st.scopes.includes(x.scope)).map((x) => x.action)))].sort();
    if (actions.length === 0) continue;
    statements.push({
      Sid: st.sid,
      Effect: 'Allow',
      Action: actions,
      Resource: st.scopes.flatMap((s) => resourcesOf(s, prefix)),
      ...(st.condition ? { Condition: st.condition } : {}),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}
