/**
 * The IAM policy the person running the tool needs (setup, plan, status, list, teardown), derived from the
 * calls each module declares it makes (`iam` of every resource kind, the record, preflight, status, the
 * lookups, discovery, organizations). A test scans src/ for every SDK command sent and fails on one that no
 * declaration lists. Resources are scoped to what the tool names (`lw-eks-al…` with the default prefix)
 * wherever the action supports resource-level permissions; no wildcard actions.
 */
import { iamNeeds, type IamNeed, type Scope } from '../aws/iam.js';
import { DEFAULTS } from '../config/inputs.js';
import { RECORD_IAM } from '../state/record.js';
import { DISCOVERY_IAM } from '../state/discovery.js';
import type { PolicyDocument } from './policies.js';
import { PREFLIGHT_IAM } from './preflight.js';
import { RESOURCE_TYPES } from './resources/index.js';
import { VERIFY_IAM } from './verify.js';
import { ORG_IAM } from '../aws/organizations.js';

/** The calls of src/aws/lookups.ts, shared by the wizard and preflight. */
const LOOKUPS_IAM: IamNeed[] = iamNeeds('any', `
  GetCallerIdentityCommand                                   | which AWS account the credentials belong to (needs no permission)
  ListClustersCommand       eks:ListClusters                 | the wizard’s cluster list
  DescribeClusterCommand    eks:DescribeCluster @eks-cluster | the wizard’s cluster list: status and audit logging
  GetBucketLocationCommand  s3:GetBucketLocation @bucket     | where the deployment’s bucket is (its home region)
`);

/** Every AWS call the tool makes, and what IAM must allow for it. */
export function allIamNeeds(): IamNeed[] {
  return [...RESOURCE_TYPES.flatMap((t) => t.iam), ...RECORD_IAM, ...PREFLIGHT_IAM, ...VERIFY_IAM, ...LOOKUPS_IAM, ...DISCOVERY_IAM, ...ORG_IAM];
}

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
    case 'parameter':
      return ['arn:aws:ssm:*:*:parameter/forticnapp-eks-audit/*'];
    case 'queue':
      return ['arn:aws:sqs:*:*:*'];
    case 'assume-role':
      return ['arn:aws:iam::*:role/*'];
  }
}

const isRead = (action: string) => /^[a-z0-9-]+:(Get|List|Describe|Head)/.test(action);

/** One statement per kind of resource; account-wide reads apart from account-wide writes. */
const STATEMENTS: { sid: string; scopes: Scope[]; only?: (action: string) => boolean; condition?: Record<string, unknown> }[] = [
  { sid: 'ReadAccountWide', scopes: ['any'], only: isRead },
  { sid: 'CreateKeysAccountWide', scopes: ['any'], only: (a) => !isRead(a) },
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
  { sid: 'DeploymentRecord', scopes: ['parameter'] },
  { sid: 'Queues', scopes: ['queue'] },
  { sid: 'OrganizationMemberRoles', scopes: ['assume-role'] },
];

/** iam:PassRole is granted on our roles only, to the two services (the 'pass-role' scope). */
function scopeOf(action: string, scope: Scope): Scope {
  return action === 'iam:PassRole' ? 'pass-role' : scope;
}

/** The policy document, actions sorted. With another `--prefix`, pass it here (the docs show the default). */
export function permissionsPolicy(prefix: string = DEFAULTS.prefix): PolicyDocument {
  const needs = allIamNeeds();
  const statements: Record<string, unknown>[] = [];
  for (const st of STATEMENTS) {
    const actions = [
      ...new Set(needs.flatMap((c) => c.actions.filter((a) => st.scopes.includes(scopeOf(a, c.scope)) && (st.only?.(a) ?? true)))),
    ].sort();
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
