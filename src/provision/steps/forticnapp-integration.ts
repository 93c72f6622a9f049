/**
 * The FortiCNAPP integration (`POST /api/v2/CloudAccounts`, type AwsEksAudit). The platform cannot
 * assume the new role until IAM has propagated; the client retries with backoff instead of the
 * reference module's fixed 20 s sleep.
 */
import { AppError } from '../../errors.js';
import { defaultIntegrationName } from '../../config/inputs.js';
import type { EksAuditIntegration } from '../../lacework/api.js';
import type { Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { bucketArnOf, roleArnOf, roleKey } from './iam-role.js';
import { KEY as BUCKET_KEY } from './s3-bucket.js';
import { KEY as NOTIFICATION_KEY } from './s3-bucket-notification.js';
import { KEY as TOPIC_KEY } from './sns-topic.js';

export const KEY = 'forticnapp-integration';

const refOf = (i: EksAuditIntegration): Ref => ({ id: i.intgGuid, name: i.name, region: 'global' });

export function integrationName(ctx: Pick<StepContext, 'inputs' | 'accountId'>): string {
  return ctx.inputs.integrationName ?? defaultIntegrationName(ctx.accountId);
}

/** This deployment's integration at FortiCNAPP (same cross-account role and topic), if registered. */
async function registered(c: StepContext): Promise<EksAuditIntegration | undefined> {
  if (!c.lacework) throw new AppError('NoCredentials', 'FortiCNAPP credentials are needed to register the integration.', { exitCode: 2 });
  return (await c.lacework.listEksAudit()).find(
    (i) => i.data?.crossAccountCredentials?.roleArn === roleArnOf(c, 'cross-account') && i.data?.snsArn === c.names.topicArn,
  );
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names' | 'accountId'>): Task[] {
  const name = integrationName(ctx);
  return [
    {
      key: KEY,
      kind: 'forticnapp-integration',
      region: 'global',
      name,
      needs: [roleKey('cross-account'), TOPIC_KEY, BUCKET_KEY, NOTIFICATION_KEY],
      hint: { roleArn: roleArnOf(ctx, 'cross-account'), snsArn: ctx.names.topicArn },
      async find(c) {
        const mine = await registered(c);
        return mine ? { ref: refOf(mine) } : undefined;
      },
      async create(c) {
        if (!c.lacework) throw new AppError('NoCredentials', 'FortiCNAPP credentials are needed to register the integration.', { exitCode: 2 });
        // A crashed run may have registered it after its intent record: never register a second one.
        if (c.resuming) {
          const mine = await registered(c);
          if (mine) return refOf(mine);
        }
        c.progress('registering with FortiCNAPP (retried until the new role can be assumed)');
        const created = await c.lacework.createEksAudit(
          {
            name,
            snsArn: c.refs.get(TOPIC_KEY)?.arn ?? c.names.topicArn,
            s3BucketArn: bucketArnOf(c),
            roleArn: roleArnOf(c, 'cross-account'),
            externalId: c.inputs.existingCaExternalId ?? c.externalId,
          },
          { signal: c.signal },
        );
        return refOf(created);
      },
    },
  ];
}

export const teardown: TeardownHandler = {
  kind: 'forticnapp-integration',
  rank: 0,
  async delete(ctx, ref) {
    if (!ctx.lacework) {
      throw new AppError('NoCredentials', `FortiCNAPP credentials are needed to delete integration ${ref.id}; pass --api-key-file (or --account/--api-key/--api-secret).`, { exitCode: 2 });
    }
    await ctx.lacework.deleteIntegration(ref.id);
  },
  async findByName(ctx, _region, name, hint) {
    if (!ctx.lacework) return undefined;
    const all = await ctx.lacework.listEksAudit();
    const mine = all.find((i) =>
      hint.roleArn ? i.data?.crossAccountCredentials?.roleArn === hint.roleArn && (!hint.snsArn || i.data?.snsArn === hint.snsArn) : i.name === name,
    );
    return mine ? refOf(mine) : undefined;
  },
};
