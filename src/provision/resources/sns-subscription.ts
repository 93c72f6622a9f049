/** With `--sqs-queue-arn`: we subscribe that queue to the topic ourselves (otherwise FortiCNAPP subscribes itself). */
import { SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { isAwsError, isNotFound } from '../../aws/errors.js';
import { iamNeeds } from '../../aws/iam.js';
import type { ResourceType } from '../resource.js';
import { subscriptionsOf } from './forticnapp-integration.js';
import { KEYS } from './keys.js';

export const snsSubscription: ResourceType<{ confirmed: boolean }> = {
  kind: 'sns-subscription',
  label: 'SNS subscription',
  hop: 7,
  iam: iamNeeds('topic', `
    SubscribeCommand    sns:Subscribe   | --sqs-queue-arn
    UnsubscribeCommand  sns:Unsubscribe | teardown of --sqs-queue-arn
  `),

  instances(spec) {
    const queueArn = spec.inputs.sqsQueueArn;
    if (!queueArn) return [];
    return [{ key: KEYS.subscription, kind: 'sns-subscription', region: spec.names.homeRegion, name: queueArn, needs: [KEYS.topic] }];
  },

  async read(ctx, inst) {
    const { names } = ctx.spec;
    const s = ((await subscriptionsOf(ctx, inst.region, names.topicArn)) ?? []).find((x) => x.Endpoint === inst.name && x.Protocol === 'sqs');
    if (!s?.SubscriptionArn) return undefined;
    const confirmed = s.SubscriptionArn.startsWith('arn:');
    return { ref: { id: s.SubscriptionArn, arn: confirmed ? s.SubscriptionArn : undefined, region: inst.region }, state: { confirmed } };
  },

  desired() {
    return { confirmed: true };
  },

  async create(ctx, inst) {
    const sns = await ctx.aws.sns(inst.region);
    const out = await sns.send(new SubscribeCommand({ TopicArn: ctx.spec.names.topicArn, Protocol: 'sqs', Endpoint: inst.name, ReturnSubscriptionArn: true }));
    const arn = out.SubscriptionArn ?? '';
    return { ref: { id: arn, arn: arn.startsWith('arn:') ? arn : undefined, region: inst.region } };
  },

  async update(_ctx, _inst, _desired, found) {
    // Pending confirmation: only the queue's owner can confirm it (status says so); nothing to send.
    return found.ref;
  },

  async delete(ctx, inst, ref) {
    if (!ref.arn) return { outcome: 'kept', why: 'pending confirmation: it has no subscription ARN to remove' };
    const sns = await ctx.aws.sns(inst.region);
    try {
      await sns.send(new UnsubscribeCommand({ SubscriptionArn: ref.arn }));
      return { outcome: 'deleted' };
    } catch (err) {
      if (isNotFound(err) || isAwsError(err, 'InvalidParameterException')) return { outcome: 'already-gone' };
      throw err;
    }
  },
};
