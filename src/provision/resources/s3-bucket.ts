/**
 * The bucket Firehose writes to (unless `--existing-bucket-arn`): ownership enforced, all public access
 * blocked, versioning, default encryption, lifecycle (current and noncurrent versions), a TLS-only policy,
 * tags. Its name is predictable, so every call carries ExpectedBucketOwner and a bucket of our name owned by
 * another account is a conflict, never used (DESIGN §3). Configuration calls go one at a time: S3 answers
 * OperationAborted to concurrent ones (retried).
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
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
import { httpStatus, isAwsError, isNotFound } from '../../aws/errors.js';
import { asKeyValue, managedTags, tagMap, TAG_KEYS } from '../../aws/tags.js';
import { DEFAULTS } from '../../config/inputs.js';
import { bucketPolicy, parsePolicy } from '../policies.js';
import { pause, retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, ResourceType } from '../resource.js';
import { KEYS } from './keys.js';
import { keyArnOf } from './kms-key.js';

interface BucketState extends Record<string, unknown> {
  tags: Record<string, string>;
  publicAccessBlock: Record<string, boolean>;
  versioning: string;
  encryption: string;
  lifecycle: Record<string, number>;
  policy: unknown;
  ownership: string;
  /** Read along, not desired: who the bucket is, for conflicts. */
  owner?: 'another-account' | 'ours' | 'untagged' | 'other-deployment';
  deployment?: string;
}

const ALL_BLOCKED = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
const RULE_ID = 'eks_audit_log_expiration';

/** Undefined for S3's "there is none" answers (NoSuch…), the value otherwise. */
async function orNone<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err) && !isAwsError(err, 'NoSuchBucket')) return undefined;
    throw err;
  }
}

const encryptionOf = (keyArn: string | undefined) => (keyArn ? `aws:kms ${keyArn}` : 'AES256');

export const s3Bucket: ResourceType<BucketState> = {
  kind: 's3-bucket',
  label: 'S3 bucket',
  hop: 5,
  iam: iamNeeds('bucket', `
    GetBucketPolicyCommand                  s3:GetBucketPolicy                             | bucket exists and is this account’s; its policy
    GetBucketTaggingCommand                 s3:GetBucketTagging                            | the bucket carries this deployment’s tag
    GetPublicAccessBlockCommand             s3:GetBucketPublicAccessBlock                  | public access still blocked
    GetBucketVersioningCommand              s3:GetBucketVersioning                         | versioning as asked
    GetBucketEncryptionCommand              s3:GetEncryptionConfiguration                  | default encryption as asked
    GetBucketLifecycleConfigurationCommand  s3:GetLifecycleConfiguration                   | lifecycle as asked
    GetBucketOwnershipControlsCommand       s3:GetBucketOwnershipControls                  | ownership enforced
    CreateBucketCommand                     s3:CreateBucket s3:PutBucketOwnershipControls  | the bucket, ownership enforced
    PutBucketTaggingCommand                 s3:PutBucketTagging                            | tags
    DeleteBucketTaggingCommand              s3:PutBucketTagging                            | tags
    PutBucketOwnershipControlsCommand       s3:PutBucketOwnershipControls                  | ownership enforced (no ACLs)
    PutPublicAccessBlockCommand             s3:PutBucketPublicAccessBlock                  | all four public-access blocks
    PutBucketVersioningCommand              s3:PutBucketVersioning                         | versioning
    PutBucketEncryptionCommand              s3:PutEncryptionConfiguration                  | default encryption with the KMS key
    PutBucketLifecycleConfigurationCommand  s3:PutLifecycleConfiguration                   | objects and old versions expire
    PutBucketPolicyCommand                  s3:PutBucketPolicy                             | TLS-only bucket policy
    ListObjectVersionsCommand               s3:ListBucketVersions                          | teardown: empty the bucket
    DeleteObjectsCommand                    s3:DeleteObject s3:DeleteObjectVersion @object | teardown: every version and delete marker
    DeleteBucketCommand                     s3:DeleteBucket                                | teardown
  `),

  instances(spec) {
    const { inputs, names } = spec;
    if (inputs.existingBucketArn) return [];
    const needs = inputs.noKms || inputs.kmsKeyArn ? [] : [KEYS.kmsKey];
    return [{ key: KEYS.bucket, kind: 's3-bucket', region: names.homeRegion, name: names.bucket, arn: names.bucketArn, needs }];
  },

  async read(ctx, inst) {
    const s3 = await ctx.aws.s3(inst.region);
    const Bucket = inst.name;
    const ExpectedBucketOwner = ctx.spec.names.accountId;
    let policy: unknown;
    try {
      policy = parsePolicy((await s3.send(new GetBucketPolicyCommand({ Bucket, ExpectedBucketOwner }))).Policy);
    } catch (err) {
      if (isAwsError(err, 'NoSuchBucket')) return undefined;
      if (httpStatus(err) === 403) {
        return { ref: { id: Bucket, arn: inst.arn, region: inst.region }, state: { owner: 'another-account' } as BucketState };
      }
      if (!isNotFound(err)) throw err;
    }
    const [tagging, pab, versioning, encryption, lifecycle, ownership] = await Promise.all([
      orNone(s3.send(new GetBucketTaggingCommand({ Bucket, ExpectedBucketOwner }))),
      orNone(s3.send(new GetPublicAccessBlockCommand({ Bucket, ExpectedBucketOwner }))),
      s3.send(new GetBucketVersioningCommand({ Bucket, ExpectedBucketOwner })),
      orNone(s3.send(new GetBucketEncryptionCommand({ Bucket, ExpectedBucketOwner }))),
      orNone(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket, ExpectedBucketOwner }))),
      orNone(s3.send(new GetBucketOwnershipControlsCommand({ Bucket, ExpectedBucketOwner }))),
    ]);
    const tags = tagMap(tagging?.TagSet);
    const deployment = tags[TAG_KEYS.deployment];
    const rule = encryption?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    const ours = lifecycle?.Rules?.find((r) => r.ID === RULE_ID);
    const c = pab?.PublicAccessBlockConfiguration;
    return {
      ref: { id: Bucket, arn: inst.arn, region: inst.region },
      state: {
        tags: managedTags(tags, ctx.spec.tags, ctx.spec.droppedTagKeys),
        publicAccessBlock: {
          BlockPublicAcls: !!c?.BlockPublicAcls,
          BlockPublicPolicy: !!c?.BlockPublicPolicy,
          IgnorePublicAcls: !!c?.IgnorePublicAcls,
          RestrictPublicBuckets: !!c?.RestrictPublicBuckets,
        },
        versioning: versioning.Status ?? 'Suspended',
        encryption: rule ? (rule.SSEAlgorithm === 'AES256' ? 'AES256' : `${rule.SSEAlgorithm} ${rule.KMSMasterKeyID ?? ''}`.trim()) : '(none)',
        lifecycle: ours
          ? {
              expirationDays: ours.Expiration?.Days ?? 0,
              noncurrentDays: ours.NoncurrentVersionExpiration?.NoncurrentDays ?? 0,
              abortIncompleteUploadDays: ours.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? 0,
            }
          : {},
        policy,
        ownership: ownership?.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? '(none)',
        owner: deployment === undefined ? 'untagged' : deployment === ctx.spec.names.deploymentId ? 'ours' : 'other-deployment',
        deployment,
      },
    };
  },

  desired(ctx, inst) {
    const { inputs } = ctx.spec;
    return {
      tags: ctx.spec.tags,
      publicAccessBlock: ALL_BLOCKED,
      versioning: inputs.bucketVersioning ? 'Enabled' : 'Suspended',
      encryption: encryptionOf(keyArnOf(ctx)),
      lifecycle: { expirationDays: inputs.bucketLifecycleDays, noncurrentDays: DEFAULTS.noncurrentVersionDays, abortIncompleteUploadDays: 7 },
      policy: bucketPolicy(inst.arn as string),
      ownership: 'BucketOwnerEnforced',
    };
  },

  async conflicts(ctx, inst, found) {
    if (found?.state.owner === 'another-account') {
      return [`S3 bucket name ${inst.name} is taken by another AWS account (bucket names are global); choose another --prefix.`];
    }
    if (found?.state.owner === 'other-deployment') {
      return [`S3 bucket ${inst.name} belongs to another deployment (${found.state.deployment}); choose another --prefix.`];
    }
    return [];
  },

  async create(ctx, inst, desired) {
    const s3 = await ctx.aws.s3(inst.region);
    let adopted = false;
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: inst.name,
          ObjectOwnership: 'BucketOwnerEnforced',
          ...(inst.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: inst.region as BucketLocationConstraint } }),
        }),
      );
    } catch (err) {
      // Made at the same moment by another run of this deployment (the name is ours: derived from account and prefix).
      if (!isAwsError(err, 'BucketAlreadyOwnedByYou')) throw err;
      adopted = true;
    }
    // Tags first: they are how every later run recognises the bucket as this deployment's. Ownership came with
    // CreateBucket (ObjectOwnership), unless another run made the bucket.
    const parts = ['tags', ...(adopted ? ['ownership'] : []), 'publicAccessBlock', 'versioning', 'encryption', 'lifecycle', 'policy'];
    await configure(ctx, s3, inst.name, desired, new Set(parts), true);
    return { ref: { id: inst.name, arn: inst.arn, region: inst.region }, adopted };
  },

  async update(ctx, inst, desired, found, changes) {
    const s3 = await ctx.aws.s3(inst.region);
    await configure(ctx, s3, inst.name, desired, new Set(changes.map((c) => c.field)));
    return found.ref;
  },

  async delete(ctx, inst) {
    return emptyAndDelete(ctx, inst.name, inst.region);
  },
};

/** Applies the named parts of the desired configuration, one call at a time. */
async function configure(ctx: Ctx, s3: S3Client, Bucket: string, d: BucketState, parts: Set<string>, creating = false): Promise<void> {
  const ExpectedBucketOwner = ctx.spec.names.accountId;
  const step = (what: string, fn: () => Promise<unknown>) => retryWhileNotReady(ctx, fn, { what: `S3 to accept the bucket's ${what}`, deadlineMs: 60_000 });
  if (parts.has('tags')) {
    if (Object.keys(d.tags).length > 0) {
      // PutBucketTagging replaces the whole set: keep tags someone else put on the bucket.
      const current = tagMap((await orNone(s3.send(new GetBucketTaggingCommand({ Bucket, ExpectedBucketOwner }))))?.TagSet);
      for (const k of ctx.spec.droppedTagKeys) delete current[k];
      await step('tags', () => s3.send(new PutBucketTaggingCommand({ Bucket, ExpectedBucketOwner, Tagging: { TagSet: asKeyValue({ ...current, ...d.tags }) } })));
    } else {
      await step('tags', () => s3.send(new DeleteBucketTaggingCommand({ Bucket, ExpectedBucketOwner })));
    }
  }
  if (parts.has('ownership')) {
    await step('ownership controls', () =>
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket, ExpectedBucketOwner, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })),
    );
  }
  if (parts.has('publicAccessBlock')) {
    await step('public access block', () => s3.send(new PutPublicAccessBlockCommand({ Bucket, ExpectedBucketOwner, PublicAccessBlockConfiguration: ALL_BLOCKED })));
  }
  // A new bucket asked to stay unversioned needs no call: S3 starts it so.
  if (parts.has('versioning') && !(creating && d.versioning === 'Suspended')) {
    await step('versioning', () =>
      s3.send(new PutBucketVersioningCommand({ Bucket, ExpectedBucketOwner, VersioningConfiguration: { Status: d.versioning as 'Enabled' | 'Suspended', MFADelete: 'Disabled' } })),
    );
  }
  if (parts.has('encryption')) {
    const keyArn = d.encryption.startsWith('aws:kms ') ? d.encryption.slice('aws:kms '.length) : undefined;
    await step('default encryption', () =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ExpectedBucketOwner,
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
  }
  if (parts.has('lifecycle')) {
    const l = d.lifecycle;
    await step('lifecycle', () =>
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          ExpectedBucketOwner,
          LifecycleConfiguration: {
            Rules: [
              {
                ID: RULE_ID,
                Filter: { Prefix: '' },
                Status: 'Enabled',
                Expiration: { Days: l.expirationDays },
                NoncurrentVersionExpiration: { NoncurrentDays: l.noncurrentDays },
                AbortIncompleteMultipartUpload: { DaysAfterInitiation: l.abortIncompleteUploadDays },
              },
            ],
          },
        }),
      ),
    );
  }
  if (parts.has('policy')) {
    await step('TLS-only policy', () => s3.send(new PutBucketPolicyCommand({ Bucket, ExpectedBucketOwner, Policy: JSON.stringify(d.policy) })));
  }
}

/** Deletes every object version and delete marker, then the bucket. ListObjectVersions has no SDK paginator. */
async function emptyAndDelete(ctx: Ctx, Bucket: string, region: string): Promise<{ outcome: 'deleted' } | { outcome: 'already-gone' }> {
  const s3 = await ctx.aws.s3(region);
  const ExpectedBucketOwner = ctx.spec.names.accountId;
  for (let attempt = 0; ; attempt++) {
    try {
      let KeyMarker: string | undefined;
      let VersionIdMarker: string | undefined;
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket, ExpectedBucketOwner, KeyMarker, VersionIdMarker }));
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
          .filter((o) => o.Key)
          .map((o) => ({ Key: o.Key as string, VersionId: o.VersionId }));
        for (let i = 0; i < objects.length; i += 1000) {
          await s3.send(new DeleteObjectsCommand({ Bucket, ExpectedBucketOwner, Delete: { Objects: objects.slice(i, i + 1000), Quiet: true } }));
        }
        if (!page.IsTruncated) break;
        KeyMarker = page.NextKeyMarker;
        VersionIdMarker = page.NextVersionIdMarker;
      }
      await s3.send(new DeleteBucketCommand({ Bucket, ExpectedBucketOwner }));
      return { outcome: 'deleted' };
    } catch (err) {
      if (isNotFound(err)) return attempt === 0 ? { outcome: 'already-gone' } : { outcome: 'deleted' };
      // Firehose may still be flushing a last object in; empty again.
      if (isAwsError(err, 'BucketNotEmpty') && attempt < 5) {
        await pause(2000, ctx.signal);
        continue;
      }
      throw err;
    }
  }
}
