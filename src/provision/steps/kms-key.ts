/**
 * The one KMS key (and its alias) that encrypts the bucket, the topic and the stream. Its policy names
 * the Firehose role, so the role must exist first; KMS rejects a principal IAM has not propagated yet
 * (MalformedPolicyDocumentException), which is retried with backoff.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound } from '../../aws/errors.js';
import { asTagKeyValue } from '../../aws/tags.js';
import { DEFAULTS } from '../../config/inputs.js';
import { TAG_DEPLOYMENT } from '../../config/naming.js';
import { kmsKeyPolicy } from '../policies.js';
import { retryWhile } from '../retry.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { roleArnOf, roleKey } from './iam-role.js';

export const KEY = 'kms-key';

/** The key ARN everything encrypts with: ours, the user's (`--kms-key-arn`), or none (`--no-kms`). */
export function keyArnOf(ctx: Pick<StepContext, 'inputs' | 'refs'>): string | undefined {
  if (ctx.inputs.noKms) return undefined;
  return ctx.inputs.kmsKeyArn ?? ctx.refs.get(KEY)?.arn;
}

async function describe(ctx: BaseContext, region: string, keyId: string): Promise<Ref | undefined> {
  const kms = await ctx.aws.kms(region);
  try {
    const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    if (!m?.KeyId || m.KeyState === 'PendingDeletion') return undefined;
    return { id: m.KeyId, arn: m.Arn, region };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A key of this deployment found by tag (a crash may have left a key without its alias). */
async function findByTag(ctx: BaseContext, region: string, deploymentId: string): Promise<Ref | undefined> {
  const tagging = await ctx.aws.tagging(region);
  const out = await tagging.send(
    new GetResourcesCommand({ TagFilters: [{ Key: TAG_DEPLOYMENT, Values: [deploymentId] }], ResourceTypeFilters: ['kms:key'] }),
  );
  for (const r of out.ResourceTagMappingList ?? []) {
    if (!r.ResourceARN) continue;
    const ref = await describe(ctx, region, r.ResourceARN);
    if (ref) return ref;
  }
  return undefined;
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  if (ctx.inputs.noKms || ctx.inputs.kmsKeyArn) return [];
  const { names } = ctx;
  return [
    {
      key: KEY,
      kind: 'kms-key',
      region: names.homeRegion,
      name: names.kmsAlias,
      needs: [roleKey('firehose')],
      async find(c) {
        const ref = await describe(c, names.homeRegion, names.kmsAlias);
        return ref ? { ref: { ...ref, alias: names.kmsAlias } } : undefined;
      },
      async create(c) {
        const kms = await c.aws.kms(names.homeRegion);
        // Only a crashed run can have left a key without its alias; look for it by tag then (a slow call).
        let ref = c.resuming ? await findByTag(c, names.homeRegion, c.deploymentId) : undefined;
        if (!ref) {
          const policy = JSON.stringify(kmsKeyPolicy(names, roleArnOf(c, 'firehose'), c.inputs.laceworkAwsAccountId));
          const out = await retryWhile(
            c,
            () =>
              kms.send(
                new CreateKeyCommand({
                  Description: `forticnapp-eks-audit: encrypts EKS audit logs read by FortiCNAPP (deployment ${c.deploymentId})`,
                  Policy: policy,
                  Tags: asTagKeyValue(c.tags),
                  MultiRegion: false,
                }),
              ),
            (e) => isAwsError(e, 'MalformedPolicyDocumentException'),
            { what: 'the new Firehose role to be usable in a KMS key policy', timeoutMs: 180_000 },
          );
          const m = out.KeyMetadata;
          if (!m?.KeyId) throw new AppError('KmsCreateFailed', 'KMS CreateKey returned no key id.');
          ref = { id: m.KeyId, arn: m.Arn, region: names.homeRegion };
        }
        const keyId = ref.id;
        await retryWhile(c, () => kms.send(new EnableKeyRotationCommand({ KeyId: keyId })), (e) => isAwsError(e, 'NotFoundException', 'DisabledException'), {
          what: 'the new KMS key to accept rotation settings',
          timeoutMs: 60_000,
        });
        try {
          await kms.send(new CreateAliasCommand({ AliasName: names.kmsAlias, TargetKeyId: keyId }));
        } catch (err) {
          if (!isAwsError(err, 'AlreadyExistsException')) throw err;
        }
        return { ...ref, alias: names.kmsAlias };
      },
    },
  ];
}

export const teardown: TeardownHandler = {
  kind: 'kms-key',
  rank: 60,
  async delete(ctx, ref) {
    const region = String(ref.region);
    const kms = await ctx.aws.kms(region);
    if (typeof ref.alias === 'string') {
      await kms.send(new DeleteAliasCommand({ AliasName: ref.alias })).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    try {
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: ref.id, PendingWindowInDays: DEFAULTS.kmsDeletionWindowDays }));
    } catch (err) {
      // Already pending deletion, or gone.
      if (!isNotFound(err) && !isAwsError(err, 'KMSInvalidStateException')) throw err;
    }
  },
  async findByName(ctx, region, name, hint) {
    const ref = (await describe(ctx, region, name)) ?? (hint.deploymentId ? await findByTag(ctx, region, hint.deploymentId) : undefined);
    return ref ? { ...ref, alias: name } : undefined;
  },
};
