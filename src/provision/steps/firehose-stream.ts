/**
 * The one Firehose stream (home region) every cluster's filter delivers to. CreateDeliveryStream fails
 * while the new role has not propagated ("Firehose is unable to assume role"): retried with backoff.
 * Then polled until ACTIVE; the SDK has no waiter for it.
 */
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  type DeliveryStreamDescription,
} from '@aws-sdk/client-firehose';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound, messageMatches } from '../../aws/errors.js';
import { asKeyValue } from '../../aws/tags.js';
import { DEFAULTS } from '../../config/inputs.js';
import { pollUntil, retryWhile } from '../retry.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { bucketArnOf, roleArnOf, roleKey } from './iam-role.js';
import { KEY as KMS_KEY, keyArnOf } from './kms-key.js';
import { KEY as BUCKET_KEY } from './s3-bucket.js';

export const KEY = 'firehose-stream';

async function describe(ctx: BaseContext, region: string, name: string): Promise<DeliveryStreamDescription | undefined> {
  const fh = await ctx.aws.firehose(region);
  try {
    return (await fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }))).DeliveryStreamDescription;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const IAM_NOT_READY = /unable to assume role|not authorized to|access was denied|is not authorized|role.*(does not exist|not found)/i;

async function waitActive(ctx: BaseContext, region: string, name: string): Promise<DeliveryStreamDescription> {
  return pollUntil(
    ctx,
    async () => {
      const d = await describe(ctx, region, name);
      if (!d) return undefined;
      if (d.DeliveryStreamStatus === 'CREATING_FAILED') {
        throw new AppError('FirehoseCreateFailed', `Firehose stream ${name} failed to create: ${d.FailureDescription?.Details ?? d.FailureDescription?.Type ?? 'no reason given'}. Run teardown, then setup again.`);
      }
      return d.DeliveryStreamStatus === 'ACTIVE' ? d : undefined;
    },
    { what: `Firehose stream ${name} to become ACTIVE`, timeoutMs: 600_000, firstDelayMs: 2000, maxDelayMs: 10_000 },
  );
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  const { names } = ctx;
  const region = names.homeRegion;
  return [
    {
      key: KEY,
      kind: 'firehose-stream',
      region,
      name: names.stream,
      needs: [roleKey('firehose'), BUCKET_KEY, KMS_KEY],
      async find(c) {
        const d = await describe(c, region, names.stream);
        // Only an ACTIVE stream is kept as it is; CREATING is waited for in create().
        if (!d || d.DeliveryStreamStatus !== 'ACTIVE') return undefined;
        return { ref: { id: names.stream, arn: d.DeliveryStreamARN ?? names.streamArn, region } };
      },
      async create(c) {
        const fh = await c.aws.firehose(region);
        const keyArn = keyArnOf(c);
        try {
          await retryWhile(
            c,
            () =>
              fh.send(
                new CreateDeliveryStreamCommand({
                  DeliveryStreamName: names.stream,
                  DeliveryStreamType: 'DirectPut',
                  ExtendedS3DestinationConfiguration: {
                    RoleARN: roleArnOf(c, 'firehose'),
                    BucketARN: bucketArnOf(c),
                    Prefix: names.objectPrefix,
                    ErrorOutputPrefix: names.errorPrefix,
                    BufferingHints: { IntervalInSeconds: DEFAULTS.firehoseBufferSeconds, SizeInMBs: DEFAULTS.firehoseBufferMb },
                    // CloudWatch Logs already gzips what it sends.
                    CompressionFormat: 'UNCOMPRESSED',
                    CloudWatchLoggingOptions: { Enabled: false },
                  },
                  DeliveryStreamEncryptionConfigurationInput: keyArn ? { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: keyArn } : { KeyType: 'AWS_OWNED_CMK' },
                  Tags: asKeyValue(c.tags),
                }),
              ),
            (e) => isAwsError(e, 'InvalidArgumentException') && messageMatches(e, IAM_NOT_READY),
            { what: 'the Firehose role to become assumable by Firehose', timeoutMs: 180_000 },
          );
        } catch (err) {
          // A crashed run created it already.
          if (!isAwsError(err, 'ResourceInUseException')) throw err;
        }
        const d = await waitActive(c, region, names.stream);
        return { id: names.stream, arn: d.DeliveryStreamARN ?? names.streamArn, region };
      },
    },
  ];
}

export const teardown: TeardownHandler = {
  kind: 'firehose-stream',
  rank: 20,
  async delete(ctx, ref) {
    const region = String(ref.region);
    const fh = await ctx.aws.firehose(region);
    let force = false;
    for (;;) {
      try {
        await fh.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: ref.id, ...(force ? { AllowForceDelete: true } : {}) }));
      } catch (err) {
        if (isNotFound(err)) return;
        // Deleting a stream that is still CREATING fails; wait and try again.
        if (!isAwsError(err, 'ResourceInUseException')) throw err;
        await ctx.sleep(2000);
        continue;
      }
      const gone = await pollUntil(
        ctx,
        async () => {
          const d = await describe(ctx, region, ref.id);
          if (!d) return 'gone' as const;
          return d.DeliveryStreamStatus === 'DELETING_FAILED' ? ('failed' as const) : undefined;
        },
        { what: `Firehose stream ${ref.id} to be deleted`, timeoutMs: 600_000, firstDelayMs: 2000, maxDelayMs: 10_000 },
      );
      if (gone === 'gone' || force) return;
      force = true;
    }
  },
  async findByName(ctx, region, name) {
    const d = await describe(ctx, region, name);
    return d ? ({ id: name, arn: d.DeliveryStreamARN, region } satisfies Ref) : undefined;
  },
};
