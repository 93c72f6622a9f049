/**
 * The FortiCNAPP integration (`/api/v2/CloudAccounts`, type AwsEksAudit, reference/lacework.md §3). The
 * platform subscribes its own queue to the topic after registration, so "the integration works" includes
 * that subscription: when the topic, the cross-account role or the external ID is re-created (or the
 * subscription is gone), the integration is updated (PATCH) so that the platform subscribes again.
 * The platform cannot assume a new role until IAM has propagated: the client retries the registration.
 */
import { paginateListSubscriptionsByTopic, type Subscription } from '@aws-sdk/client-sns';
import { AppError } from '../../errors.js';
import { isNotFound } from '../../aws/errors.js';
import { defaultIntegrationName } from '../../config/inputs.js';
import { pipelineArns } from '../../config/naming.js';
import { LaceworkApiError, type EksAuditIntegration, type LaceworkApi } from '../../lacework/api.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, Found, Instance, ResourceType } from '../resource.js';
import { KEYS } from './keys.js';

interface IntegrationState extends Record<string, unknown> {
  name: string;
  snsArn: string;
  s3BucketArn: string;
  roleArn: string;
  externalId: string;
  enabled: number;
  /** FortiCNAPP has a confirmed subscription on the topic (anyone's but `--sqs-queue-arn`'s). */
  subscribed: boolean;
}

function api(ctx: Ctx): LaceworkApi {
  if (!ctx.lacework) throw new AppError('NoCredentials', 'FortiCNAPP credentials are needed to look at the integration; pass --api-key-file.', { exitCode: 2 });
  return ctx.lacework;
}

/** Subscriptions of the topic, read once per run (the explicit SQS subscription uses them too). */
export function subscriptionsOf(ctx: Ctx, region: string, topicArn: string): Promise<Subscription[] | undefined> {
  return ctx.memo.once(`subscriptions:${topicArn}`, async () => {
    const client = await ctx.aws.sns(region);
    const subs: Subscription[] = [];
    try {
      for await (const page of paginateListSubscriptionsByTopic({ client }, { TopicArn: topicArn })) subs.push(...(page.Subscriptions ?? []));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return subs;
  });
}

/** Every registration of this deployment: same cross-account role and topic. Oldest first. */
async function registrations(ctx: Ctx): Promise<EksAuditIntegration[]> {
  const { caRoleArn, topicArn } = pipelineArns(ctx.spec.inputs, ctx.spec.names);
  const all = await api(ctx).listEksAudit({ signal: ctx.signal });
  return all
    .filter((i) => i.data?.crossAccountCredentials?.roleArn === caRoleArn && i.data?.snsArn === topicArn)
    .sort((a, b) => (a.createdOrUpdatedTime ?? '').localeCompare(b.createdOrUpdatedTime ?? '') || a.intgGuid.localeCompare(b.intgGuid));
}

async function stateOf(ctx: Ctx, inst: Instance, i: EksAuditIntegration): Promise<Found<IntegrationState>> {
  const { names, inputs } = ctx.spec;
  const subs = (await subscriptionsOf(ctx, names.homeRegion, names.topicArn)) ?? [];
  const subscribed = subs.some((s) => s.SubscriptionArn?.startsWith('arn:') && s.Endpoint !== inputs.sqsQueueArn);
  return {
    ref: { id: i.intgGuid, region: 'global', name: i.name },
    state: {
      name: i.name,
      snsArn: i.data?.snsArn ?? '',
      s3BucketArn: i.data?.s3BucketArn ?? '',
      roleArn: i.data?.crossAccountCredentials?.roleArn ?? '',
      externalId: i.data?.crossAccountCredentials?.externalId ?? '',
      enabled: i.enabled,
      subscribed,
      healthy: i.state?.ok !== false,
      health: i.state?.details,
    },
  };
}

function input(d: IntegrationState) {
  return { name: d.name, snsArn: d.snsArn, s3BucketArn: d.s3BucketArn, roleArn: d.roleArn, externalId: d.externalId };
}

export const forticnappIntegration: ResourceType<IntegrationState> = {
  kind: 'forticnapp-integration',
  label: 'FortiCNAPP integration',
  hop: 8,
  iam: iamNeeds('topic', `
    ListSubscriptionsByTopicCommand  sns:ListSubscriptionsByTopic | FortiCNAPP is subscribed to the topic
  `),

  instances(spec) {
    const { inputs, names } = spec;
    const needs: string[] = [KEYS.topic, KEYS.notification];
    if (!inputs.existingCaRoleArn) needs.push(KEYS.role('cross-account'));
    if (!inputs.existingBucketArn) needs.push(KEYS.bucket);
    return [
      {
        key: KEYS.integration,
        kind: 'forticnapp-integration',
        region: 'global',
        name: inputs.integrationName ?? defaultIntegrationName(names.accountId, inputs.prefix),
        needs,
      },
    ];
  },

  async read(ctx, inst) {
    const lw = api(ctx);
    let found = ctx.spec.integrationGuid ? await lw.getIntegration(ctx.spec.integrationGuid, { signal: ctx.signal }) : undefined;
    found ??= (await registrations(ctx))[0];
    return found ? stateOf(ctx, inst, found) : undefined;
  },

  desired(ctx, inst) {
    const { inputs, names } = ctx.spec;
    const arns = pipelineArns(inputs, names);
    return {
      name: inst.name,
      snsArn: arns.topicArn,
      s3BucketArn: arns.bucketArn,
      roleArn: arns.caRoleArn,
      externalId: inputs.existingCaExternalId ?? ctx.spec.externalId,
      enabled: 1,
      subscribed: true,
    };
  },

  async conflicts(ctx, inst, found) {
    if (found?.state.name === inst.name) return [];
    // One name, one integration: two deployments (or accounts) under one name cannot be told apart in the console.
    const { caRoleArn } = pipelineArns(ctx.spec.inputs, ctx.spec.names);
    const taken = (await api(ctx).listEksAudit({ signal: ctx.signal })).find((i) => i.name === inst.name && i.data?.crossAccountCredentials?.roleArn !== caRoleArn);
    return taken
      ? [`The FortiCNAPP integration name '${inst.name}' is already used by integration ${taken.intgGuid} (role ${taken.data?.crossAccountCredentials?.roleArn}); choose another --integration-name.`]
      : [];
  },

  async create(ctx, inst, desired) {
    const lw = api(ctx);
    // After an unfinished run the registration may have landed: never register a second one.
    if (ctx.spec.unfinished) {
      const mine = (await registrations(ctx))[0];
      if (mine) {
        const updated = (await lw.updateEksAudit(mine.intgGuid, input(desired), { signal: ctx.signal })) ?? mine;
        return { ref: { id: updated.intgGuid, region: 'global', name: updated.name } };
      }
    }
    ctx.progress('registering with FortiCNAPP (retried until the new role can be assumed)');
    const made = await lw.createEksAudit(input(desired), { signal: ctx.signal });
    // Two runs at once register twice: both keep the oldest registration, and each removes its own younger one.
    const oldest = (await registrations(ctx))[0];
    if (oldest && oldest.intgGuid !== made.intgGuid) {
      await lw.deleteIntegration(made.intgGuid, { signal: ctx.signal });
      return { ref: { id: oldest.intgGuid, region: 'global', name: oldest.name }, adopted: true };
    }
    return { ref: { id: made.intgGuid, region: 'global', name: made.name } };
  },

  async update(ctx, inst, desired, found) {
    const lw = api(ctx);
    const updated = await lw.updateEksAudit(found.ref.id, input(desired), { signal: ctx.signal });
    if (updated) return { id: updated.intgGuid, region: 'global', name: updated.name };
    // Deleted in FortiCNAPP since the plan read it: register again.
    const made = await lw.createEksAudit(input(desired), { signal: ctx.signal });
    return { id: made.intgGuid, region: 'global', name: made.name };
  },

  async delete(ctx, _inst, ref) {
    await api(ctx).deleteIntegration(ref.id, { signal: ctx.signal });
    return { outcome: 'deleted' };
  },

  refresh(_ctx, _inst, upstream) {
    const remade = upstream.filter((u) => (u.key === KEYS.topic || u.key === KEYS.role('cross-account')) && (u.action === 'create' || u.action === 'replace'));
    return remade.length > 0
      ? [{ field: 'subscribed', from: `${remade.map((u) => (u.key === KEYS.topic ? 'topic' : 'role')).join(' and ')} re-created`, to: 'FortiCNAPP subscribes again' }]
      : [];
  },

  async strays(ctx, _inst, found) {
    const all = await registrations(ctx);
    const tmp = all.filter((i) => i.intgGuid !== found?.ref.id);
    return Promise.all(tmp.map((i) => stateOf(ctx, _inst, i)));
  },

  leavesUpstreamOnFailure(err) {
    // A registration that failed for a reason of the platform's (its rights, its availability, the role not yet
    // assumable) can simply be tried again: the AWS side stays (issue 11 item 4). An answer that will not change
    // (a 400 about the request itself) is a failure like any other: rolled back.
    if (err instanceof LaceworkApiError) return err.retryable;
    return err instanceof AppError && ['LaceworkUnreachable', 'LaceworkRefused'].includes(err.code);
  },
};
