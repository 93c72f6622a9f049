/**
 * The bucket's ObjectCreated notification to the topic. PutBucketNotificationConfiguration replaces the
 * whole configuration, so ours is merged in by its Id (an existing bucket keeps its other notifications),
 * and removed the same way.
 */
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import { isNotFound } from '../../aws/errors.js';
import { bucketNameFromArn } from '../../config/naming.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { bucketArnOf } from './iam-role.js';
import { KEY as BUCKET_KEY } from './s3-bucket.js';
import { KEY as TOPIC_KEY } from './sns-topic.js';

export const KEY = 's3-bucket-notification';

async function current(ctx: BaseContext, region: string, bucket: string): Promise<NotificationConfiguration | undefined> {
  const s3 = await ctx.aws.s3(region);
  try {
    const { $metadata: _, ...config } = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    return config;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The configuration without our entry (or with it replaced by `ours`). */
function merged(config: NotificationConfiguration, id: string, ours?: NonNullable<NotificationConfiguration['TopicConfigurations']>[number]) {
  const others = (config.TopicConfigurations ?? []).filter((t) => t.Id !== id);
  const out: NotificationConfiguration = {
    ...config,
    TopicConfigurations: ours ? [...others, ours] : others,
  };
  return out;
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  const { names } = ctx;
  const region = names.homeRegion;
  const bucket = bucketNameFromArn(bucketArnOf(ctx));
  return [
    {
      key: KEY,
      kind: 's3-bucket-notification',
      region,
      name: names.notificationId,
      needs: [BUCKET_KEY, TOPIC_KEY],
      hint: { bucket },
      async find(c) {
        const config = await current(c, region, bucket);
        const ours = config?.TopicConfigurations?.find((t) => t.Id === names.notificationId && t.TopicArn === names.topicArn);
        return ours ? { ref: { id: names.notificationId, arn: names.topicArn, bucket, region } } : undefined;
      },
      async create(c) {
        const s3 = await c.aws.s3(region);
        const config = (await current(c, region, bucket)) ?? {};
        const topicArn = c.refs.get(TOPIC_KEY)?.arn ?? names.topicArn;
        await s3.send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: bucket,
            NotificationConfiguration: merged(config, names.notificationId, {
              Id: names.notificationId,
              TopicArn: topicArn,
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: names.objectPrefix }] } },
            }),
          }),
        );
        return { id: names.notificationId, arn: topicArn, bucket, region };
      },
    },
  ];
}

export const teardown: TeardownHandler = {
  kind: 's3-bucket-notification',
  rank: 30,
  async delete(ctx, ref) {
    const region = String(ref.region);
    const bucket = String(ref.bucket);
    const config = await current(ctx, region, bucket);
    if (!config || !(config.TopicConfigurations ?? []).some((t) => t.Id === ref.id)) return;
    const s3 = await ctx.aws.s3(region);
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: merged(config, ref.id) })).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  },
  async findByName(ctx, region, name, hint) {
    // The intent names the bucket; without it (discovery) the id is `<our bucket>-forticnapp`.
    const bucket = hint.bucket ?? name.replace(/-forticnapp$/, '');
    const config = await current(ctx, region, bucket);
    const ours = config?.TopicConfigurations?.find((t) => t.Id === name);
    return ours ? ({ id: name, arn: ours.TopicArn, bucket, region } satisfies Ref) : undefined;
  },
};
