/** Every step, in the order DESIGN §3 gives (the engine orders by `needs`; this order breaks ties). */
import type { ResourceKind, StepContext, Task, TeardownHandler } from '../step.js';
import * as eksAuditLogging from './eks-audit-logging.js';
import * as iamRole from './iam-role.js';
import * as kmsKey from './kms-key.js';
import * as s3Bucket from './s3-bucket.js';
import * as snsTopic from './sns-topic.js';
import * as notification from './s3-bucket-notification.js';
import * as firehoseStream from './firehose-stream.js';
import * as logGroup from './log-group.js';
import * as subscriptionFilter from './subscription-filter.js';
import * as integration from './forticnapp-integration.js';
import * as snsSubscription from './sns-subscription.js';

const STEPS = [eksAuditLogging, iamRole, kmsKey, s3Bucket, snsTopic, notification, firehoseStream, logGroup, subscriptionFilter, integration, snsSubscription];

/** Every task of a deployment with these inputs. */
export function allTasks(ctx: Pick<StepContext, 'inputs' | 'names' | 'accountId'>): Task[] {
  return STEPS.flatMap((s) => s.tasks(ctx));
}

export const HANDLERS: Map<ResourceKind, TeardownHandler> = new Map(STEPS.map((s) => [s.teardown.kind, s.teardown]));
