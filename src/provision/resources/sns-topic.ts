/**
 * The SNS topic S3 announces new objects on: encrypted with the key (unless `--no-kms`), its policy
 * (FortiCNAPP may subscribe; this bucket of this account may publish), our tags. SetTopicAttributes
 * `Policy` replaces the whole policy, so the full document is sent (reference/aws-resources.md §5.3).
 */
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListTagsForResourceCommand,
  SetTopicAttributesCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-sns';
import { unlessNotFound } from '../../aws/errors.js';
import { asKeyValue, managedTags, tagMap, tagsToRemove } from '../../aws/tags.js';
import { pipelineArns } from '../../config/naming.js';
import { parsePolicy, topicPolicy } from '../policies.js';
import { retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { ResourceType } from '../resource.js';
import { KEYS } from './keys.js';
import { keyArnOf } from './kms-key.js';

interface TopicState extends Record<string, unknown> {
  policy: unknown;
  encryptionKey: string;
  tags: Record<string, string>;
}

export const snsTopic: ResourceType<TopicState> = {
  kind: 'sns-topic',
  label: 'SNS topic',
  hop: 6,
  iam: iamNeeds('topic', `
    GetTopicAttributesCommand   sns:GetTopicAttributes          | topic exists; its policy and key
    ListTagsForResourceCommand  sns:ListTagsForResource         | tags as made
    CreateTopicCommand          sns:CreateTopic sns:TagResource sns:SetTopicAttributes | the topic with its policy (FortiCNAPP may subscribe, the bucket may publish), KMS-encrypted, tagged
    SetTopicAttributesCommand   sns:SetTopicAttributes          | topic policy or key changed
    TagResourceCommand          sns:TagResource                 | tags changed
    UntagResourceCommand        sns:UntagResource               | a --tag dropped
    DeleteTopicCommand          sns:DeleteTopic                 | teardown
  `),

  instances(spec) {
    const { inputs, names } = spec;
    const needs = inputs.noKms || inputs.kmsKeyArn ? [] : [KEYS.kmsKey];
    return [{ key: KEYS.topic, kind: 'sns-topic', region: names.homeRegion, name: names.topic, arn: names.topicArn, needs }];
  },

  async read(ctx, inst) {
    const sns = await ctx.aws.sns(inst.region);
    const TopicArn = inst.arn as string;
    const answer = await unlessNotFound(sns.send(new GetTopicAttributesCommand({ TopicArn })));
    if (!answer) return undefined;
    const attrs = answer.Attributes ?? {};
    const tags = tagMap((await sns.send(new ListTagsForResourceCommand({ ResourceArn: TopicArn }))).Tags);
    return {
      ref: { id: inst.name, arn: TopicArn, region: inst.region },
      state: { policy: parsePolicy(attrs.Policy), encryptionKey: attrs.KmsMasterKeyId ?? '', tags: managedTags(tags, ctx.spec.tags, ctx.spec.droppedTagKeys) },
    };
  },

  desired(ctx, inst) {
    const { inputs, names } = ctx.spec;
    return {
      policy: topicPolicy(inst.arn as string, pipelineArns(inputs, names).bucketName, names.accountId, inputs.laceworkAwsAccountId),
      encryptionKey: keyArnOf(ctx) ?? '',
      tags: ctx.spec.tags,
    };
  },

  async create(ctx, inst, desired) {
    const sns = await ctx.aws.sns(inst.region);
    // CreateTopic returns the existing topic for the same name: a run racing this one converges on one topic.
    const out = await retryWhileNotReady(
      ctx,
      () =>
        sns.send(
          // The policy with the topic, in one call (CreateTopic's `Policy` attribute): no moment without it.
          new CreateTopicCommand({
            Name: inst.name,
            Attributes: { Policy: JSON.stringify(desired.policy), ...(desired.encryptionKey ? { KmsMasterKeyId: desired.encryptionKey } : {}) },
            Tags: asKeyValue(desired.tags),
          }),
        ),
      { what: 'SNS to accept the new KMS key' },
    );
    return { ref: { id: inst.name, arn: out.TopicArn ?? (inst.arn as string), region: inst.region } };
  },

  async update(ctx, inst, desired, found, changes) {
    const sns = await ctx.aws.sns(inst.region);
    const TopicArn = found.ref.arn as string;
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has('policy')) {
      await sns.send(new SetTopicAttributesCommand({ TopicArn, AttributeName: 'Policy', AttributeValue: JSON.stringify(desired.policy) }));
    }
    if (fields.has('encryptionKey')) {
      await retryWhileNotReady(
        ctx,
        () => sns.send(new SetTopicAttributesCommand({ TopicArn, AttributeName: 'KmsMasterKeyId', AttributeValue: desired.encryptionKey })),
        { what: 'SNS to accept the KMS key' },
      );
    }
    if (fields.has('tags')) {
      const remove = tagsToRemove(found.state.tags, desired.tags);
      if (remove.length > 0) await sns.send(new UntagResourceCommand({ ResourceArn: TopicArn, TagKeys: remove }));
      await sns.send(new TagResourceCommand({ ResourceArn: TopicArn, Tags: asKeyValue(desired.tags) }));
    }
    return found.ref;
  },

  async delete(ctx, inst) {
    const sns = await ctx.aws.sns(inst.region);
    // Succeeds for a topic that is already gone.
    await sns.send(new DeleteTopicCommand({ TopicArn: inst.arn }));
    return { outcome: 'deleted' };
  },
};
