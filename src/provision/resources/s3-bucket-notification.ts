/**
 * The bucket's ObjectCreated notification to the topic. PutBucketNotificationConfiguration replaces the
 * whole configuration and S3 validates every rule in it on each put (overlapping rules, destinations that
 * no longer exist), so ours is merged in by its Id, an existing bucket's other rules are kept exactly, and
 * what S3 would refuse is found in preflight (issue 11 item 2).
 */
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { isNotFound, unlessNotFound } from '../../aws/errors.js';
import { pipelineArns } from '../../config/naming.js';
import { retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, Instance, ResourceType } from '../resource.js';
import { KEYS } from './keys.js';

interface NotificationState extends Record<string, unknown> {
  topicArn: string;
  events: string[];
  prefix: string;
}

type Config = Omit<NotificationConfiguration, '$metadata'>;

/** A rule of any destination type, as S3 compares them. */
interface Rule {
  id: string;
  destination: string;
  events: string[];
  prefix: string;
  suffix: string;
}

const bucketOf = (inst: Instance) => inst.extra?.bucket as string;

async function current(ctx: Ctx, inst: Instance, fresh = false): Promise<Config | undefined> {
  const bucket = bucketOf(inst);
  const read = async () => {
    const s3 = await ctx.aws.s3(inst.region);
    const answer = await unlessNotFound(s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket, ExpectedBucketOwner: ctx.spec.names.accountId })));
    if (!answer) return undefined;
    const { $metadata: _, ...config } = answer;
    return config as Config;
  };
  if (fresh) return read();
  return ctx.memo.once(`notification:${bucket}`, read);
}

function rules(config: Config): Rule[] {
  const filter = (f: { Key?: { FilterRules?: { Name?: string; Value?: string }[] } } | undefined, name: string) =>
    f?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === name)?.Value ?? '';
  return [
    ...(config.TopicConfigurations ?? []).map((c) => ({ id: c.Id ?? '', destination: c.TopicArn ?? '', events: c.Events ?? [], prefix: filter(c.Filter, 'prefix'), suffix: filter(c.Filter, 'suffix') })),
    ...(config.QueueConfigurations ?? []).map((c) => ({ id: c.Id ?? '', destination: c.QueueArn ?? '', events: c.Events ?? [], prefix: filter(c.Filter, 'prefix'), suffix: filter(c.Filter, 'suffix') })),
    ...(config.LambdaFunctionConfigurations ?? []).map((c) => ({
      id: c.Id ?? '',
      destination: c.LambdaFunctionArn ?? '',
      events: c.Events ?? [],
      prefix: filter(c.Filter, 'prefix'),
      suffix: filter(c.Filter, 'suffix'),
    })),
  ];
}

/** `s3:ObjectCreated:*` and `s3:ObjectCreated:Put` share a type; `s3:*` shares every one. */
function eventsOverlap(a: string[], b: string[]): boolean {
  const family = (e: string) => e.split(':').slice(0, 2).join(':');
  return a.some((x) => b.some((y) => x === 's3:*' || y === 's3:*' || (family(x) === family(y) && (x.endsWith(':*') || y.endsWith(':*') || x === y))));
}

/** S3's rule: same event type and filters that can both match one key (AWS S3 user guide, "Configuring event notifications"). */
export function overlaps(a: Rule, b: Rule): boolean {
  const prefixes = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
  const suffixes = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
  return eventsOverlap(a.events, b.events) && prefixes && suffixes;
}

/** The configuration without our entry (or with it replaced by `ours`); every other rule kept as it is. */
function merged(config: Config, id: string, ours?: NonNullable<Config['TopicConfigurations']>[number]): Config {
  const others = (config.TopicConfigurations ?? []).filter((t) => t.Id !== id);
  return { ...config, TopicConfigurations: ours ? [...others, ours] : others };
}

/** Whether a notification destination still exists (topics and queues; a Lambda function is taken on trust). */
async function destinationExists(ctx: Ctx, arn: string): Promise<boolean> {
  const [, , service, region = '', account, name = ''] = arn.split(':');
  try {
    if (service === 'sns') await (await ctx.aws.sns(region)).send(new GetTopicAttributesCommand({ TopicArn: arn }));
    else if (service === 'sqs') await (await ctx.aws.sqs(region)).send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    return true; // not allowed to look: S3 will say
  }
}

export const s3BucketNotification: ResourceType<NotificationState> = {
  kind: 's3-bucket-notification',
  label: 'S3 notification',
  hop: 5,
  iam: iamNeeds('bucket', `
    GetBucketNotificationConfigurationCommand  s3:GetBucketNotification    | merge our notification with the bucket’s others
    PutBucketNotificationConfigurationCommand  s3:PutBucketNotification    | ObjectCreated → SNS topic
    GetTopicAttributesCommand                  sns:GetTopicAttributes @any | an existing bucket’s other notification topics still exist (S3 validates them)
    GetQueueUrlCommand                         sqs:GetQueueUrl @any        | an existing bucket’s other notification queues still exist (S3 validates them)
  `),

  instances(spec) {
    const { inputs, names } = spec;
    const bucket = pipelineArns(inputs, names).bucketName;
    return [
      {
        key: KEYS.notification,
        kind: 's3-bucket-notification',
        region: names.homeRegion,
        name: names.notificationId,
        needs: [...(inputs.existingBucketArn ? [] : [KEYS.bucket]), KEYS.topic],
        extra: { bucket },
      },
    ];
  },

  async read(ctx, inst) {
    const config = await current(ctx, inst);
    const ours = config?.TopicConfigurations?.find((t) => t.Id === inst.name);
    if (!ours) return undefined;
    const rule = rules({ TopicConfigurations: [ours] })[0] as Rule;
    return {
      ref: { id: inst.name, region: inst.region, bucket: bucketOf(inst), topicArn: ours.TopicArn },
      state: { topicArn: rule.destination, events: rule.events, prefix: rule.prefix },
    };
  },

  desired(ctx) {
    const { names } = ctx.spec;
    return { topicArn: names.topicArn, events: ['s3:ObjectCreated:*'], prefix: names.objectPrefix };
  },

  async conflicts(ctx, inst) {
    const config = await current(ctx, inst);
    if (!config) return [];
    const bucket = bucketOf(inst);
    const ours: Rule = { id: inst.name, destination: ctx.spec.names.topicArn, events: ['s3:ObjectCreated:*'], prefix: ctx.spec.names.objectPrefix, suffix: '' };
    const others = rules(config).filter((r) => r.id !== inst.name);
    const problems: string[] = [];
    for (const r of others.filter((o) => overlaps(o, ours))) {
      problems.push(
        `Bucket ${bucket} already has notification rule '${r.id}' (${r.events.join(', ')}${r.prefix ? ` under ${r.prefix}` : ' on every key'} → ${r.destination}), which overlaps ours (${ours.prefix}); S3 refuses overlapping rules. Narrow that rule's prefix so it excludes ${ours.prefix}, or use a dedicated bucket.`,
      );
    }
    const gone = await Promise.all(others.map(async (r) => ((await destinationExists(ctx, r.destination)) ? undefined : r)));
    for (const r of gone) {
      if (r) {
        problems.push(
          `Bucket ${bucket} has notification rule '${r.id}' to ${r.destination}, which no longer exists; S3 validates every rule whenever the configuration changes, so ours cannot be added. Remove or fix that rule first.`,
        );
      }
    }
    return problems;
  },

  async create(ctx, inst, desired) {
    return { ref: await put(ctx, inst, desired) };
  },

  async update(ctx, inst, desired) {
    return put(ctx, inst, desired);
  },

  async delete(ctx, inst) {
    const config = await current(ctx, inst, true);
    if (!config || !(config.TopicConfigurations ?? []).some((t) => t.Id === inst.name)) return { outcome: 'already-gone' };
    const s3 = await ctx.aws.s3(inst.region);
    await s3.send(
      new PutBucketNotificationConfigurationCommand({ Bucket: bucketOf(inst), ExpectedBucketOwner: ctx.spec.names.accountId, NotificationConfiguration: merged(config, inst.name) }),
    );
    return { outcome: 'deleted' };
  },
};

async function put(ctx: Ctx, inst: Instance, desired: NotificationState) {
  const s3 = await ctx.aws.s3(inst.region);
  const config = (await current(ctx, inst, true)) ?? {};
  // S3 validates the topic (its policy, its key) on the put: retried briefly while those settle.
  await retryWhileNotReady(
    ctx,
    () =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucketOf(inst),
          ExpectedBucketOwner: ctx.spec.names.accountId,
          NotificationConfiguration: merged(config, inst.name, {
            Id: inst.name,
            TopicArn: desired.topicArn,
            Events: desired.events as ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: desired.prefix }] } },
          }),
        }),
      ),
    { what: 'S3 to validate the topic as a destination', deadlineMs: 60_000 },
  );
  return { id: inst.name, region: inst.region, bucket: bucketOf(inst), topicArn: desired.topicArn };
}
