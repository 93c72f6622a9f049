/**
 * The bucket Firehose writes to: ownership enforced, all public access blocked, versioning, default
 * encryption, lifecycle (current and noncurrent versions), a TLS-only policy, tags. Configuration
 * calls go one at a time: S3 answers OperationAborted to concurrent ones.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AppError } from '../../errors.js';
import { httpStatus, isAwsError, isNotFound } from '../../aws/errors.js';
import { asKeyValue, hasDeploymentTag } from '../../aws/tags.js';
import { DEFAULTS } from '../../config/inputs.js';
import { bucketPolicy } from '../policies.js';
import { retryWhile } from '../retry.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { KEY as KMS_KEY, keyArnOf } from './kms-key.js';

export const KEY = 's3-bucket';

export type BucketOwner = 'absent' | 'ours' | 'untagged' | 'other-deployment-or-tool' | 'another-account';

/** Who owns a bucket name: nobody, this deployment, something else in this account, or another account. */
export async function bucketOwner(s3: S3Client, bucket: string, deploymentId: string): Promise<BucketOwner> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    if (httpStatus(err) === 403) return 'another-account';
    throw err;
  }
  try {
    const { TagSet } = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    return hasDeploymentTag(TagSet, deploymentId) ? 'ours' : 'other-deployment-or-tool';
  } catch (err) {
    if (isNotFound(err)) return 'untagged';
    throw err;
  }
}

const retryAborted = <T>(ctx: BaseContext, what: string, fn: () => Promise<T>) =>
  retryWhile(ctx, fn, (e) => isAwsError(e, 'OperationAborted'), { what, timeoutMs: 60_000 });

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  if (ctx.inputs.existingBucketArn) return [];
  const { names } = ctx;
  const region = names.homeRegion;
  const bucket = names.bucket;
  return [
    {
      key: KEY,
      kind: 's3-bucket',
      region,
      name: bucket,
      needs: [KMS_KEY],
      async find(c) {
        const owner = await bucketOwner(await c.aws.s3(region), bucket, c.deploymentId);
        if (owner === 'absent') return undefined;
        const ref = { id: bucket, arn: names.bucketArn, region };
        // Our random name but no tags: a crashed run made it. Reported absent so that create() finishes its
        // configuration and the journal records it as made by us (a 'change' would never be deleted).
        if (owner === 'untagged') return undefined;
        if (owner !== 'ours') {
          throw new AppError('BucketNameTaken', `S3 bucket name ${bucket} is taken (${owner === 'another-account' ? 'by another AWS account' : 'by something else in this account'}); choose another --prefix.`, { exitCode: 2 });
        }
        return { ref };
      },
      async create(c) {
        const s3 = await c.aws.s3(region);
        try {
          await s3.send(
            new CreateBucketCommand({
              Bucket: bucket,
              ObjectOwnership: 'BucketOwnerEnforced',
              ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
            }),
          );
        } catch (err) {
          if (!isAwsError(err, 'BucketAlreadyOwnedByYou')) throw err;
        }
        const step = (what: string, fn: () => Promise<unknown>) => retryAborted(c, `S3 to accept the bucket's ${what}`, fn);
        // Tags first: they are how teardown --discover recognises the bucket as ours.
        await step('tags', () => s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: asKeyValue(c.tags) } })));
        await step('ownership controls', () =>
          s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })),
        );
        await step('public access block', () =>
          s3.send(
            new PutPublicAccessBlockCommand({
              Bucket: bucket,
              PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
            }),
          ),
        );
        if (c.inputs.bucketVersioning) {
          await step('versioning', () =>
            s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' } })),
          );
        }
        const keyArn = keyArnOf(c);
        await step('default encryption', () =>
          s3.send(
            new PutBucketEncryptionCommand({
              Bucket: bucket,
              ServerSideEncryptionConfiguration: {
                Rules: [
                  keyArn
                    ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }
                    : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
                ],
              },
            }),
          ),
        );
        await step('lifecycle', () =>
          s3.send(
            new PutBucketLifecycleConfigurationCommand({
              Bucket: bucket,
              LifecycleConfiguration: {
                Rules: [
                  {
                    ID: 'eks_audit_log_expiration',
                    Filter: { Prefix: '' },
                    Status: 'Enabled',
                    Expiration: { Days: c.inputs.bucketLifecycleDays },
                    NoncurrentVersionExpiration: { NoncurrentDays: DEFAULTS.noncurrentVersionDays },
                    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
                  },
                ],
              },
            }),
          ),
        );
        await step('TLS-only policy', () => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(bucketPolicy(names.bucketArn)) })));
        return { id: bucket, arn: names.bucketArn, region };
      },
    },
  ];
}

/** Deletes every object version and delete marker, then the bucket. */
async function emptyAndDelete(ctx: BaseContext, bucket: string, region: string): Promise<void> {
  const s3 = await ctx.aws.s3(region);
  for (let attempt = 0; ; attempt++) {
    try {
      let KeyMarker: string | undefined;
      let VersionIdMarker: string | undefined;
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
          .filter((o) => o.Key)
          .map((o) => ({ Key: o.Key as string, VersionId: o.VersionId }));
        for (let i = 0; i < objects.length; i += 1000) {
          await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000), Quiet: true } }));
        }
        if (!page.IsTruncated) break;
        KeyMarker = page.NextKeyMarker;
        VersionIdMarker = page.NextVersionIdMarker;
      }
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      // Firehose may still be flushing a last object in; empty again.
      if (isAwsError(err, 'BucketNotEmpty') && attempt < 5) {
        await ctx.sleep(2000);
        continue;
      }
      throw err;
    }
  }
}

export const teardown: TeardownHandler = {
  kind: 's3-bucket',
  rank: 50,
  delete: (ctx, ref) => emptyAndDelete(ctx, ref.id, String(ref.region)),
  async findByName(ctx, region, name, hint) {
    const owner = await bucketOwner(await ctx.aws.s3(region), name, hint.deploymentId ?? '');
    // Only ever delete a bucket that carries this deployment's tag, or (after our own intent record, the
    // name holding our random id) one that a crash left before it was tagged.
    return owner === 'ours' || owner === 'untagged' ? ({ id: name, arn: `arn:aws:s3:::${name}`, region } satisfies Ref) : undefined;
  },
};
