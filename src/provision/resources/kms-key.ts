/**
 * The one KMS key (and its alias) that encrypts the bucket, the topic and the stream, unless `--kms-key-arn`
 * (the user's key) or `--no-kms`. Its policy names the Firehose role, so the role comes first; KMS rejects a
 * principal IAM has not propagated yet (MalformedPolicyDocumentException), which is retried. A key has no
 * name of its own: the alias is how every run finds it, and a key a crash left without its alias is found
 * by its tags (`strays`).
 */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound, unlessNotFound } from '../../aws/errors.js';
import { asTagKeyValue, managedTags, tagMap, tagsToRemove, TAG_KEYS } from '../../aws/tags.js';
import { DEFAULTS } from '../../config/inputs.js';
import { PARTITION, pipelineArns } from '../../config/naming.js';
import { kmsKeyPolicy, parsePolicy } from '../policies.js';
import { retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, Found, Instance, Ref, ResourceType } from '../resource.js';
import { KEYS } from './keys.js';

interface KeyState extends Record<string, unknown> {
  keyState: string;
  policy: unknown;
  rotation: boolean;
  tags: Record<string, string>;
}

/** The key everything encrypts with: ours (once read or made), the user's (`--kms-key-arn`), or none (`--no-kms`). */
export function keyArnOf(ctx: Pick<Ctx, 'spec' | 'refs'>): string | undefined {
  const { inputs } = ctx.spec;
  if (inputs.noKms) return undefined;
  return inputs.kmsKeyArn ?? ctx.refs.get(KEYS.kmsKey)?.arn ?? PENDING_KEY;
}

/** Stands for our key in a desired state while it does not exist yet (plan shows it as such). */
export const PENDING_KEY = '(the new KMS key)';

async function describe(ctx: Ctx, region: string, keyId: string): Promise<KeyMetadata | undefined> {
  const kms = await ctx.aws.kms(region);
  return (await unlessNotFound(kms.send(new DescribeKeyCommand({ KeyId: keyId }))))?.KeyMetadata;
}

async function stateOf(ctx: Ctx, region: string, m: KeyMetadata): Promise<KeyState> {
  const kms = await ctx.aws.kms(region);
  const keyId = m.KeyId as string;
  const [policy, rotation, tags] = await Promise.all([
    kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })).then((o) => parsePolicy(o.Policy)),
    m.KeyState === 'Enabled' ? kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })).then((o) => !!o.KeyRotationEnabled) : Promise.resolve(false),
    kms.send(new ListResourceTagsCommand({ KeyId: keyId })).then((o) => tagMap(o.Tags)),
  ]);
  return { keyState: m.KeyState ?? 'Unknown', policy, rotation, tags: managedTags(tags, ctx.spec.tags, ctx.spec.droppedTagKeys) };
}

const refOf = (m: KeyMetadata, region: string, alias: string): Ref => ({ id: m.KeyId as string, arn: m.Arn, region, alias });

/** Keys tagged with this deployment (not pending deletion), by the tagging API. */
async function taggedKeys(ctx: Ctx, region: string): Promise<KeyMetadata[]> {
  const tagging = await ctx.aws.tagging(region);
  const out = await tagging.send(
    new GetResourcesCommand({ TagFilters: [{ Key: TAG_KEYS.deployment, Values: [ctx.spec.names.deploymentId] }], ResourceTypeFilters: ['kms:key'] }),
  );
  const keys: KeyMetadata[] = [];
  for (const r of out.ResourceTagMappingList ?? []) {
    if (!r.ResourceARN) continue;
    const m = await describe(ctx, region, r.ResourceARN);
    if (m?.KeyId && m.KeyState !== 'PendingDeletion') keys.push(m);
  }
  return keys;
}

async function scheduleDeletion(ctx: Ctx, region: string, keyId: string): Promise<string | undefined> {
  const kms = await ctx.aws.kms(region);
  try {
    const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: DEFAULTS.kmsDeletionWindowDays }));
    return out.DeletionDate?.toISOString();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    // Already pending deletion: report the date it was given.
    if (isAwsError(err, 'KMSInvalidStateException')) return (await describe(ctx, region, keyId))?.DeletionDate?.toISOString();
    throw err;
  }
}

export const kmsKey: ResourceType<KeyState> = {
  kind: 'kms-key',
  label: 'KMS key',
  hop: 4,
  iam: iamNeeds('kms-key', `
    DescribeKeyCommand           kms:DescribeKey            | the key behind our alias, its state
    GetKeyPolicyCommand          kms:GetKeyPolicy           | its key policy as made; a key of yours can be used
    GetKeyRotationStatusCommand  kms:GetKeyRotationStatus   | yearly rotation on
    ListResourceTagsCommand      kms:ListResourceTags       | tags as made
    CreateKeyCommand             kms:CreateKey @any         | the key that encrypts bucket, topic and stream (KMS has no key ARN before it exists)
    CreateKeyCommand             kms:TagResource            | the key is tagged at creation
    EnableKeyRotationCommand     kms:EnableKeyRotation      | yearly key rotation
    CreateAliasCommand           kms:CreateAlias @kms-alias | alias/<prefix>-key-<id>, how the key is found again
    CreateAliasCommand           kms:CreateAlias            | the alias names the key
    PutKeyPolicyCommand          kms:PutKeyPolicy           | key policy drift
    EnableKeyCommand             kms:EnableKey              | a key someone disabled
    CancelKeyDeletionCommand     kms:CancelKeyDeletion      | a key someone scheduled for deletion (it holds the data)
    TagResourceCommand           kms:TagResource            | tags changed
    UntagResourceCommand         kms:UntagResource          | a --tag dropped
    DeleteAliasCommand           kms:DeleteAlias @kms-alias | teardown
    DeleteAliasCommand           kms:DeleteAlias            | teardown
    ScheduleKeyDeletionCommand   kms:ScheduleKeyDeletion    | teardown (7-day window)
    GetResourcesCommand          tag:GetResources @any      | a key a crashed run left without its alias
  `),

  instances(spec) {
    const { inputs, names } = spec;
    if (inputs.noKms || inputs.kmsKeyArn) return [];
    return [
      {
        key: KEYS.kmsKey,
        kind: 'kms-key',
        region: names.homeRegion,
        name: names.kmsAlias,
        arn: `arn:${PARTITION}:kms:${names.homeRegion}:${names.accountId}:${names.kmsAlias}`,
        needs: inputs.existingFirehoseRoleArn ? [] : [KEYS.role('firehose')],
      },
    ];
  },

  async read(ctx, inst) {
    const m = await describe(ctx, inst.region, inst.name);
    if (!m?.KeyId) return undefined;
    return { ref: refOf(m, inst.region, inst.name), state: await stateOf(ctx, inst.region, m) };
  },

  desired(ctx) {
    const { names, inputs } = ctx.spec;
    return {
      keyState: 'Enabled',
      policy: kmsKeyPolicy(names, pipelineArns(inputs, names).firehoseRoleArn, inputs.laceworkAwsAccountId),
      rotation: true,
      tags: ctx.spec.tags,
    };
  },

  async create(ctx, inst, desired) {
    const region = inst.region;
    const kms = await ctx.aws.kms(region);
    // After a run that did not finish, a key of ours may exist without its alias: adopt it rather than make another.
    let m = ctx.spec.unfinished ? (await taggedKeys(ctx, region))[0] : undefined;
    if (!m) {
      const out = await retryWhileNotReady(
        ctx,
        () =>
          kms.send(
            new CreateKeyCommand({
              Description: `forticnapp-eks-audit: encrypts EKS audit logs read by FortiCNAPP (deployment ${ctx.spec.names.deploymentId})`,
              Policy: JSON.stringify(desired.policy),
              Tags: asTagKeyValue(desired.tags),
              MultiRegion: false,
            }),
          ),
        { what: 'the new Firehose role to be usable in a KMS key policy' },
      );
      m = out.KeyMetadata;
      if (!m?.KeyId) throw new AppError('KmsCreateFailed', 'KMS CreateKey returned no key id.');
    }
    const keyId = m.KeyId as string;
    await retryWhileNotReady(ctx, () => kms.send(new EnableKeyRotationCommand({ KeyId: keyId })), { what: 'the new KMS key to accept rotation settings', deadlineMs: 60_000 });
    try {
      await kms.send(new CreateAliasCommand({ AliasName: inst.name, TargetKeyId: keyId }));
    } catch (err) {
      if (!isAwsError(err, 'AlreadyExistsException')) throw err;
      // Another run made the alias at the same moment: use its key (when it is ours) and let ours go.
      const theirs = await describe(ctx, region, inst.name);
      if (!theirs?.KeyId || theirs.KeyId === keyId) return { ref: refOf(m, region, inst.name) };
      const tags = tagMap((await kms.send(new ListResourceTagsCommand({ KeyId: theirs.KeyId }))).Tags);
      if (tags[TAG_KEYS.deployment] !== ctx.spec.names.deploymentId) throw err;
      await scheduleDeletion(ctx, region, keyId);
      return { ref: refOf(theirs, region, inst.name), adopted: true };
    }
    return { ref: refOf(m, region, inst.name) };
  },

  async update(ctx, inst, desired, found, changes) {
    const kms = await ctx.aws.kms(inst.region);
    const keyId = found.ref.id;
    const fields = new Set(changes.map((c) => c.field));
    // A key someone scheduled for deletion or disabled still holds the data written with it: bring it back.
    if (found.state.keyState === 'PendingDeletion') await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    if (found.state.keyState !== 'Enabled') await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    if (fields.has('policy')) {
      await retryWhileNotReady(ctx, () => kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(desired.policy) })), {
        what: 'the Firehose role to be usable in the key policy',
      });
    }
    if (fields.has('rotation') || fields.has('keyState')) {
      await retryWhileNotReady(ctx, () => kms.send(new EnableKeyRotationCommand({ KeyId: keyId })), { what: 'the KMS key to accept rotation settings', deadlineMs: 60_000 });
    }
    if (fields.has('tags')) {
      const remove = tagsToRemove(found.state.tags, desired.tags);
      if (remove.length > 0) await kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: remove }));
      await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: asTagKeyValue(desired.tags) }));
    }
    return found.ref;
  },

  async delete(ctx, inst, ref) {
    const kms = await ctx.aws.kms(inst.region);
    const alias = typeof ref.alias === 'string' ? ref.alias : undefined;
    // A key found without its alias (a stray): since then this run (create adopts it) or another may have given it
    // the alias; then it is the deployment's key, and stays.
    if (!alias && (await describe(ctx, inst.region, ctx.spec.names.kmsAlias))?.KeyId === ref.id) {
      return { outcome: 'kept', why: 'it is the deployment’s key (its alias points to it)' };
    }
    if (alias) {
      await kms.send(new DeleteAliasCommand({ AliasName: alias })).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    const date = await scheduleDeletion(ctx, inst.region, ref.id);
    return date ? { outcome: 'scheduled-for-deletion', date } : { outcome: 'already-gone' };
  },

  async strays(ctx, inst, found) {
    // Keys tagged as ours that the alias does not point to: left by a crash between CreateKey and CreateAlias.
    const keys = await taggedKeys(ctx, inst.region);
    return keys
      .filter((m) => m.KeyId !== found?.ref.id)
      .map((m): Found<KeyState> => ({ ref: { id: m.KeyId as string, arn: m.Arn, region: inst.region }, state: { keyState: m.KeyState ?? '', policy: undefined, rotation: false, tags: {} } }));
  },
};
