/** Every resource kind, in the order of the data path (DESIGN §1). The graph orders by `needs`; this breaks ties. */
import type { ResourceKind, ResourceType } from '../resource.js';
import { eksAuditLogging } from './eks-audit-logging.js';
import { firehoseStream } from './firehose-stream.js';
import { forticnappIntegration } from './forticnapp-integration.js';
import { iamRole } from './iam-role.js';
import { kmsKey } from './kms-key.js';
import { logGroup } from './log-group.js';
import { s3Bucket } from './s3-bucket.js';
import { s3BucketNotification } from './s3-bucket-notification.js';
import { snsSubscription } from './sns-subscription.js';
import { snsTopic } from './sns-topic.js';
import { subscriptionFilter } from './subscription-filter.js';

export const RESOURCE_TYPES: ResourceType[] = [
  eksAuditLogging,
  logGroup,
  iamRole,
  kmsKey,
  s3Bucket,
  snsTopic,
  s3BucketNotification,
  firehoseStream,
  subscriptionFilter,
  forticnappIntegration,
  snsSubscription,
] as ResourceType[];

const BY_KIND = new Map<ResourceKind, ResourceType>(RESOURCE_TYPES.map((t) => [t.kind, t]));

/** The module of a kind. */
export function typeOf(kind: ResourceKind): ResourceType {
  const t = BY_KIND.get(kind);
  if (!t) throw new Error(`no resource module for ${kind}`);
  return t;
}

export { KEYS } from './keys.js';
