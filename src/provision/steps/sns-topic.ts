/** The SNS topic S3 announces new objects on, and its policy (FortiCNAPP may subscribe, S3 may publish). */
import { CreateTopicCommand, DeleteTopicCommand, GetTopicAttributesCommand, SetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { isNotFound } from '../../aws/errors.js';
import { asKeyValue } from '../../aws/tags.js';
import { bucketNameFromArn } from '../../config/naming.js';
import { topicPolicy } from '../policies.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { bucketArnOf } from './iam-role.js';
import { KEY as KMS_KEY, keyArnOf } from './kms-key.js';

export const KEY = 'sns-topic';

async function getTopic(ctx: BaseContext, region: string, arn: string): Promise<Record<string, string> | undefined> {
  const sns = await ctx.aws.sns(region);
  try {
    return (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes ?? {};
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  const { names } = ctx;
  const region = names.homeRegion;
  return [
    {
      key: KEY,
      kind: 'sns-topic',
      region,
      name: names.topic,
      needs: [KMS_KEY],
      hint: { arn: names.topicArn },
      async find(c) {
        const attrs = await getTopic(c, region, names.topicArn);
        return attrs ? { ref: { id: names.topic, arn: names.topicArn, region } } : undefined;
      },
      async create(c) {
        const sns = await c.aws.sns(region);
        const keyArn = keyArnOf(c);
        const out = await sns.send(
          new CreateTopicCommand({
            Name: names.topic,
            Attributes: keyArn ? { KmsMasterKeyId: keyArn } : {},
            Tags: asKeyValue(c.tags),
          }),
        );
        const arn = out.TopicArn ?? names.topicArn;
        // Replaces the default policy as a whole (reference/aws-resources.md §5.3).
        const policy = topicPolicy(arn, bucketNameFromArn(bucketArnOf(c)), c.accountId, c.inputs.laceworkAwsAccountId);
        await sns.send(new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'Policy', AttributeValue: JSON.stringify(policy) }));
        return { id: names.topic, arn, region };
      },
    },
  ];
}

export const teardown: TeardownHandler = {
  kind: 'sns-topic',
  rank: 40,
  async delete(ctx, ref) {
    const sns = await ctx.aws.sns(String(ref.region));
    await sns.send(new DeleteTopicCommand({ TopicArn: ref.arn })).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  },
  async findByName(ctx, region, name, hint) {
    let arn = hint.arn;
    if (!arn) {
      const sts = await ctx.aws.sts(region);
      const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      arn = `arn:aws:sns:${region}:${(await sts.send(new GetCallerIdentityCommand({}))).Account}:${name}`;
    }
    return (await getTopic(ctx, region, arn)) ? ({ id: name, arn, region } satisfies Ref) : undefined;
  },
};
