/**
 * The one Firehose stream (home region) every cluster's filter delivers to. Creating it fails while the
 * new role has not propagated (retried, src/aws/errors.ts `notYetUsable`), then it is polled until ACTIVE
 * (Firehose has no SDK waiter). Destination, buffering and encryption change in place (UpdateDestination,
 * StartDeliveryStreamEncryption); a stream that failed to create is replaced.
 */
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  ListTagsForDeliveryStreamCommand,
  StartDeliveryStreamEncryptionCommand,
  TagDeliveryStreamCommand,
  UntagDeliveryStreamCommand,
  UpdateDestinationCommand,
  type CompressionFormat,
  type DeliveryStreamDescription,
  type DeliveryStreamEncryptionConfigurationInput,
} from '@aws-sdk/client-firehose';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound, unlessNotFound } from '../../aws/errors.js';
import { asKeyValue, managedTags, tagMap, tagsToRemove } from '../../aws/tags.js';
import { DEFAULTS } from '../../config/inputs.js';
import { pipelineArns } from '../../config/naming.js';
import { pause, pollUntil, retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, Instance, ResourceType } from '../resource.js';
import { KEYS } from './keys.js';
import { keyArnOf } from './kms-key.js';

interface StreamState extends Record<string, unknown> {
  status: string;
  bucketArn: string;
  roleArn: string;
  prefix: string;
  errorPrefix: string;
  bufferSeconds: number;
  bufferMb: number;
  compression: string;
  encryption: string;
  tags: Record<string, string>;
}

async function describe(ctx: Ctx, region: string, name: string): Promise<DeliveryStreamDescription | undefined> {
  const fh = await ctx.aws.firehose(region);
  return (await unlessNotFound(fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }))))?.DeliveryStreamDescription;
}

function encryptionOf(d: DeliveryStreamDescription): string {
  const e = d.DeliveryStreamEncryptionConfiguration;
  if (!e?.KeyType || e.Status === 'DISABLED' || e.Status === 'DISABLING') return '(none)';
  return e.KeyType === 'CUSTOMER_MANAGED_CMK' ? `CUSTOMER_MANAGED_CMK ${e.KeyARN ?? ''}` : e.KeyType;
}

/** The S3 destination as CreateDeliveryStream and UpdateDestination take it. */
function destination(d: StreamState) {
  return {
    RoleARN: d.roleArn,
    BucketARN: d.bucketArn,
    Prefix: d.prefix,
    ErrorOutputPrefix: d.errorPrefix,
    BufferingHints: { IntervalInSeconds: d.bufferSeconds, SizeInMBs: d.bufferMb },
    // CloudWatch Logs already gzips what it sends.
    CompressionFormat: d.compression as CompressionFormat,
  };
}

function encryptionInput(encryption: string): DeliveryStreamEncryptionConfigurationInput {
  return encryption.startsWith('CUSTOMER_MANAGED_CMK ')
    ? { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: encryption.slice('CUSTOMER_MANAGED_CMK '.length) }
    : { KeyType: 'AWS_OWNED_CMK' };
}

async function waitActive(ctx: Ctx, region: string, name: string): Promise<DeliveryStreamDescription> {
  return pollUntil(
    ctx,
    async () => {
      const d = await describe(ctx, region, name);
      if (!d) return undefined;
      if (d.DeliveryStreamStatus === 'CREATING_FAILED') {
        throw new AppError('FirehoseCreateFailed', `Firehose stream ${name} failed to create: ${d.FailureDescription?.Details ?? d.FailureDescription?.Type ?? 'no reason given'}. Run setup again: it replaces the stream.`);
      }
      const enc = d.DeliveryStreamEncryptionConfiguration?.Status;
      return d.DeliveryStreamStatus === 'ACTIVE' && enc !== 'ENABLING' && enc !== 'DISABLING' ? d : undefined;
    },
    // Firehose takes 30-60 s from CREATING to ACTIVE (terraform-provider-aws#17049).
    { what: `Firehose stream ${name} to become ACTIVE`, deadlineMs: 600_000, minDelayMs: 1000, maxDelayMs: 2000 },
  );
}

async function create(ctx: Ctx, inst: Instance, d: StreamState): Promise<{ adopted: boolean; arn?: string }> {
  const fh = await ctx.aws.firehose(inst.region);
  let adopted = false;
  try {
    await retryWhileNotReady(
      ctx,
      () =>
        fh.send(
          new CreateDeliveryStreamCommand({
            DeliveryStreamName: inst.name,
            DeliveryStreamType: 'DirectPut',
            ExtendedS3DestinationConfiguration: { ...destination(d), CloudWatchLoggingOptions: { Enabled: false } },
            DeliveryStreamEncryptionConfigurationInput: encryptionInput(d.encryption),
            Tags: asKeyValue(d.tags),
          }),
        ),
      { what: 'the Firehose role to become assumable by Firehose' },
    );
  } catch (err) {
    // Made at the same moment by another run of this deployment.
    if (!isAwsError(err, 'ResourceInUseException')) throw err;
    adopted = true;
  }
  const out = await waitActive(ctx, inst.region, inst.name);
  return { adopted, arn: out.DeliveryStreamARN };
}

async function remove(ctx: Ctx, inst: Instance): Promise<boolean> {
  const fh = await ctx.aws.firehose(inst.region);
  let force = false;
  for (;;) {
    try {
      await fh.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: inst.name, ...(force ? { AllowForceDelete: true } : {}) }));
    } catch (err) {
      if (isNotFound(err)) return false;
      // Deleting a stream that is still CREATING fails; wait and try again.
      if (!isAwsError(err, 'ResourceInUseException')) throw err;
      await pause(2000, ctx.signal);
      continue;
    }
    const gone = await pollUntil(
      ctx,
      async () => {
        const d = await describe(ctx, inst.region, inst.name);
        if (!d) return 'gone' as const;
        return d.DeliveryStreamStatus === 'DELETING_FAILED' ? ('failed' as const) : undefined;
      },
      { what: `Firehose stream ${inst.name} to be deleted`, deadlineMs: 600_000, minDelayMs: 1000, maxDelayMs: 5000 },
    );
    if (gone === 'gone' || force) return true;
    force = true;
  }
}

export const firehoseStream: ResourceType<StreamState> = {
  kind: 'firehose-stream',
  label: 'Firehose stream',
  hop: 4,
  // Firehose makes a grant on a customer managed key in the caller's name: granted on the key, not the stream.
  iam: iamNeeds('stream', `
    DescribeDeliveryStreamCommand         firehose:DescribeDeliveryStream                                       | stream exists, ACTIVE, configured as asked
    ListTagsForDeliveryStreamCommand      firehose:ListTagsForDeliveryStream                                    | tags as made
    CreateDeliveryStreamCommand           firehose:CreateDeliveryStream firehose:TagDeliveryStream iam:PassRole | the delivery stream to S3, tagged, encrypted with the KMS key
    CreateDeliveryStreamCommand           kms:CreateGrant kms:DescribeKey @kms-key                              | Firehose’s grant on the KMS key, in your name
    UpdateDestinationCommand              firehose:UpdateDestination iam:PassRole                               | destination or buffering changed
    StartDeliveryStreamEncryptionCommand  firehose:StartDeliveryStreamEncryption                                | encryption changed (--no-kms, --kms-key-arn)
    StartDeliveryStreamEncryptionCommand  kms:CreateGrant kms:DescribeKey @kms-key                              | Firehose’s grant on the KMS key, in your name
    TagDeliveryStreamCommand              firehose:TagDeliveryStream                                            | tags changed
    UntagDeliveryStreamCommand            firehose:UntagDeliveryStream                                          | a --tag dropped
    DeleteDeliveryStreamCommand           firehose:DeleteDeliveryStream                                         | teardown
  `),

  instances(spec) {
    const { inputs, names } = spec;
    const needs: string[] = [];
    if (!inputs.existingFirehoseRoleArn) needs.push(KEYS.role('firehose'));
    if (!inputs.existingBucketArn) needs.push(KEYS.bucket);
    if (!inputs.noKms && !inputs.kmsKeyArn) needs.push(KEYS.kmsKey);
    return [{ key: KEYS.stream, kind: 'firehose-stream', region: names.homeRegion, name: names.stream, arn: names.streamArn, needs }];
  },

  async read(ctx, inst) {
    const d = await describe(ctx, inst.region, inst.name);
    if (!d) return undefined;
    const fh = await ctx.aws.firehose(inst.region);
    const dest = d.Destinations?.[0];
    const s3 = dest?.ExtendedS3DestinationDescription;
    const tags = tagMap((await fh.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: inst.name }))).Tags);
    return {
      ref: { id: inst.name, arn: d.DeliveryStreamARN ?? inst.arn, region: inst.region, versionId: d.VersionId, destinationId: dest?.DestinationId },
      state: {
        status: d.DeliveryStreamStatus ?? 'UNKNOWN',
        bucketArn: s3?.BucketARN ?? '',
        roleArn: s3?.RoleARN ?? '',
        prefix: s3?.Prefix ?? '',
        errorPrefix: s3?.ErrorOutputPrefix ?? '',
        bufferSeconds: s3?.BufferingHints?.IntervalInSeconds ?? 0,
        bufferMb: s3?.BufferingHints?.SizeInMBs ?? 0,
        compression: s3?.CompressionFormat ?? '',
        encryption: encryptionOf(d),
        tags: managedTags(tags, ctx.spec.tags, ctx.spec.droppedTagKeys),
        sourceType: d.DeliveryStreamType ?? '',
      },
    };
  },

  desired(ctx) {
    const { inputs, names } = ctx.spec;
    const arns = pipelineArns(inputs, names);
    const key = keyArnOf(ctx);
    return {
      status: 'ACTIVE',
      bucketArn: arns.bucketArn,
      roleArn: arns.firehoseRoleArn,
      prefix: names.objectPrefix,
      errorPrefix: names.errorPrefix,
      bufferSeconds: DEFAULTS.firehoseBufferSeconds,
      bufferMb: DEFAULTS.firehoseBufferMb,
      compression: 'UNCOMPRESSED',
      encryption: key ? `CUSTOMER_MANAGED_CMK ${key}` : 'AWS_OWNED_CMK',
      tags: ctx.spec.tags,
    };
  },

  replaceWhy(found) {
    if (found.state.status === 'CREATING_FAILED') return 'it failed to create';
    if (found.state.status === 'DELETING' || found.state.status === 'DELETING_FAILED') return `it is ${found.state.status}`;
    if (found.state.sourceType !== 'DirectPut' || !found.state.bucketArn) return 'it is not a DirectPut stream to S3 (made by hand?)';
    return undefined;
  },

  async create(ctx, inst, desired) {
    const made = await create(ctx, inst, desired);
    return { ref: { id: inst.name, arn: made.arn ?? inst.arn, region: inst.region }, adopted: made.adopted };
  },

  async update(ctx, inst, desired, found, changes) {
    const fh = await ctx.aws.firehose(inst.region);
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has('status')) {
      // Not ACTIVE yet (CREATING): wait for it; it was made with the same configuration.
      await waitActive(ctx, inst.region, inst.name);
    }
    if (['bucketArn', 'roleArn', 'prefix', 'errorPrefix', 'bufferSeconds', 'bufferMb', 'compression'].some((f) => fields.has(f))) {
      await retryWhileNotReady(
        ctx,
        async () => {
          const d = await describe(ctx, inst.region, inst.name);
          await fh.send(
            new UpdateDestinationCommand({
              DeliveryStreamName: inst.name,
              CurrentDeliveryStreamVersionId: d?.VersionId,
              DestinationId: d?.Destinations?.[0]?.DestinationId,
              ExtendedS3DestinationUpdate: destination(desired),
            }),
          );
        },
        { what: 'Firehose to accept the changed destination' },
      );
    }
    if (fields.has('encryption')) {
      await retryWhileNotReady(
        ctx,
        () => fh.send(new StartDeliveryStreamEncryptionCommand({ DeliveryStreamName: inst.name, DeliveryStreamEncryptionConfigurationInput: encryptionInput(desired.encryption) })),
        { what: 'Firehose to accept the KMS key' },
      );
      await waitActive(ctx, inst.region, inst.name);
    }
    if (fields.has('tags')) {
      const remove = tagsToRemove(found.state.tags, desired.tags);
      if (remove.length > 0) await fh.send(new UntagDeliveryStreamCommand({ DeliveryStreamName: inst.name, TagKeys: remove }));
      await fh.send(new TagDeliveryStreamCommand({ DeliveryStreamName: inst.name, Tags: asKeyValue(desired.tags) }));
    }
    return found.ref;
  },

  async delete(ctx, inst) {
    return (await remove(ctx, inst)) ? { outcome: 'deleted' } : { outcome: 'already-gone' };
  },
};
