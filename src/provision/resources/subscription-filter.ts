/**
 * One subscription filter per cluster, on its log group, in the cluster's region, delivering to the
 * home-region stream (same-account cross-region delivery is supported by CloudWatch Logs). CloudWatch Logs
 * sends a test message first and answers "Could not deliver test message" until the stream is ACTIVE and
 * the role has propagated: retried. A log group holds a limited number of filters: we never remove one we
 * did not make, and a full log group is found in preflight (issue 11 item 7).
 */
import { DeleteSubscriptionFilterCommand, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { paginateListServiceQuotas } from '@aws-sdk/client-service-quotas';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound } from '../../aws/errors.js';
import { pipelineArns } from '../../config/naming.js';
import { retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, Instance, ResourceType } from '../resource.js';
import { clusterPairs, filtersOf } from './clusters.js';
import { KEYS } from './keys.js';

interface FilterState extends Record<string, unknown> {
  filterPattern: string;
  destinationArn: string;
  roleArn: string;
  distribution: string;
}

/**
 * Subscription filters per log group when Service Quotas cannot tell: 5, the "Subscription filters per log
 * group" quota on the CloudWatch Logs quotas page (raised from 2; cfn-lint#4688, 2026). The API reference
 * still says two; the quota is what AWS enforces (LimitExceededException).
 */
export const DEFAULT_FILTERS_PER_LOG_GROUP = 5;

/** The quota in force for this account and region, read from Service Quotas where it can be read. */
async function filterQuota(ctx: Ctx, region: string): Promise<number> {
  return ctx.memo.once(`filter-quota:${region}`, async () => {
    try {
      const client = await ctx.aws.serviceQuotas(region);
      for await (const page of paginateListServiceQuotas({ client }, { ServiceCode: 'logs' })) {
        const q = (page.Quotas ?? []).find((x) => /subscription filters per log group/i.test(x.QuotaName ?? ''));
        if (q?.Value) return q.Value;
      }
    } catch {
      // Not allowed to look, or not offered here: the documented default.
    }
    return DEFAULT_FILTERS_PER_LOG_GROUP;
  });
}

const logGroupOf = (inst: Instance) => inst.extra?.logGroup as string;

export const subscriptionFilter: ResourceType<FilterState> = {
  kind: 'subscription-filter',
  label: 'subscription filter',
  hop: 3,
  iam: iamNeeds('eks-log-group', `
    DescribeSubscriptionFiltersCommand  logs:DescribeSubscriptionFilters        | free filter slots; our filter as made; the log group exists
    PutSubscriptionFilterCommand        logs:PutSubscriptionFilter iam:PassRole | stream the audit log group to Firehose with the CloudWatch role
    DeleteSubscriptionFilterCommand     logs:DeleteSubscriptionFilter           | teardown, or a cluster dropped
    ListServiceQuotasCommand            servicequotas:ListServiceQuotas @any    | the subscription-filter quota, when a log group is nearly full
  `),

  instances(spec) {
    const { names, inputs } = spec;
    return clusterPairs(inputs.regionClusters).map(({ region, cluster }) => {
      const needs = [KEYS.stream, KEYS.logGroup(region, cluster)];
      if (!inputs.existingCwRoleArn) needs.push(KEYS.role('cloudwatch'));
      return {
        key: KEYS.filter(region, cluster),
        kind: 'subscription-filter' as const,
        region,
        name: names.filter(cluster),
        needs,
        extra: { cluster, logGroup: names.logGroup(cluster) },
      };
    });
  },

  async read(ctx, inst) {
    const f = (await filtersOf(ctx, inst.region, logGroupOf(inst)))?.find((x) => x.filterName === inst.name);
    if (!f) return undefined;
    return {
      ref: { id: inst.name, region: inst.region, logGroup: logGroupOf(inst) },
      state: { filterPattern: f.filterPattern ?? '', destinationArn: f.destinationArn ?? '', roleArn: f.roleArn ?? '', distribution: f.distribution ?? 'ByLogStream' },
    };
  },

  desired(ctx) {
    const { inputs, names } = ctx.spec;
    return { filterPattern: inputs.filterPattern, destinationArn: names.streamArn, roleArn: pipelineArns(inputs, names).cloudwatchRoleArn, distribution: 'ByLogStream' };
  },

  async conflicts(ctx, inst, found) {
    if (found) return [];
    const filters = await filtersOf(ctx, inst.region, logGroupOf(inst));
    const others = (filters ?? []).map((f) => f.filterName ?? '?');
    if (others.length < 2) return [];
    const quota = await filterQuota(ctx, inst.region);
    if (others.length < quota) return [];
    const cluster = inst.extra?.cluster;
    return [
      `Log group ${logGroupOf(inst)} of cluster '${cluster}' (${inst.region}) already has ${others.length} subscription filters (${others.join(', ')}), the most AWS allows here (${quota}); remove one of them, or leave this cluster out.`,
    ];
  },

  async create(ctx, inst, desired) {
    await put(ctx, inst, desired);
    return { ref: { id: inst.name, region: inst.region, logGroup: logGroupOf(inst) } };
  },

  async update(ctx, inst, desired, found) {
    await put(ctx, inst, desired);
    return found.ref;
  },

  async delete(ctx, inst) {
    const logs = await ctx.aws.logs(inst.region);
    try {
      await logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: logGroupOf(inst), filterName: inst.name }));
      return { outcome: 'deleted' };
    } catch (err) {
      if (isNotFound(err)) return { outcome: 'already-gone' };
      throw err;
    }
  },
};

async function put(ctx: Ctx, inst: Instance, d: FilterState): Promise<void> {
  const logs = await ctx.aws.logs(inst.region);
  try {
    await retryWhileNotReady(
      ctx,
      () =>
        logs.send(
          new PutSubscriptionFilterCommand({
            logGroupName: logGroupOf(inst),
            filterName: inst.name,
            filterPattern: d.filterPattern,
            destinationArn: d.destinationArn,
            roleArn: d.roleArn,
            distribution: d.distribution as 'ByLogStream',
          }),
        ),
      // Terraform retries this for 5 minutes (internal/service/logs/subscription_filter.go).
      { what: `CloudWatch Logs in ${inst.region} to deliver to the Firehose stream with the new role`, deadlineMs: 300_000 },
    );
  } catch (err) {
    // A full log group is not a wait: no retry, the filters named (they may have been added since preflight).
    if (isAwsError(err, 'LimitExceededException')) {
      ctx.memo.forget(`filters:${inst.region}:`);
      const others = ((await filtersOf(ctx, inst.region, logGroupOf(inst))) ?? []).map((f) => f.filterName).filter((n) => n !== inst.name);
      throw new AppError(
        'FilterSlotsFull',
        `Log group ${logGroupOf(inst)} of cluster '${inst.extra?.cluster}' (${inst.region}) has no free subscription-filter slot (it has ${others.join(', ') || 'other filters'}); remove one of them, or leave this cluster out.`,
        { cause: err },
      );
    }
    throw err;
  }
}
