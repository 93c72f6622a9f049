/** With --sqs-queue-arn: we subscribe that queue to the topic ourselves (otherwise FortiCNAPP subscribes itself). */
import { ListSubscriptionsByTopicCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { isAwsError, isNotFound } from '../../aws/errors.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { KEY as TOPIC_KEY } from './sns-topic.js';

export const KEY = 'sns-subscription';

async function findSubscription(ctx: BaseContext, region: string, topicArn: string, endpoint: string): Promise<Ref | undefined> {
  const sns = await ctx.aws.sns(region);
  let NextToken: string | undefined;
  try {
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      const s = (page.Subscriptions ?? []).find((x) => x.Endpoint === endpoint && x.Protocol === 'sqs');
      if (s?.SubscriptionArn) return { id: s.SubscriptionArn, arn: s.SubscriptionArn, region, topicArn, endpoint };
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return undefined;
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  const queueArn = ctx.inputs.sqsQueueArn;
  if (!queueArn) return [];
  const { names } = ctx;
  const region = names.homeRegion;
  return [
    {
      key: KEY,
      kind: 'sns-subscription',
      region,
      name: queueArn,
      needs: [TOPIC_KEY],
      hint: { topicArn: names.topicArn },
      async find(c) {
        const ref = await findSubscription(c, region, names.topicArn, queueArn);
        return ref ? { ref } : undefined;
      },
      async create(c) {
        const sns = await c.aws.sns(region);
        const out = await sns.send(new SubscribeCommand({ TopicArn: names.topicArn, Protocol: 'sqs', Endpoint: queueArn, ReturnSubscriptionArn: true }));
        const arn = out.SubscriptionArn ?? '';
        return { id: arn, arn, region, topicArn: names.topicArn, endpoint: queueArn };
      },
    },
  ];
}

export const teardown: TeardownHandler = {
  kind: 'sns-subscription',
  rank: 30,
  async delete(ctx, ref) {
    if (!ref.arn || !ref.arn.startsWith('arn:')) return; // "pending confirmation" has no ARN to unsubscribe
    const sns = await ctx.aws.sns(String(ref.region));
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: ref.arn })).catch((e) => {
      if (!isNotFound(e) && !isAwsError(e, 'InvalidParameterException')) throw e;
    });
  },
  async findByName(ctx, region, name, hint) {
    return hint.topicArn ? findSubscription(ctx, region, hint.topicArn, name) : undefined;
  },
};
