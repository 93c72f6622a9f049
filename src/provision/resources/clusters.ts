/**
 * Lookups several kinds share about one cluster, each read once per run (Memo): the cluster itself
 * (DescribeCluster) and the subscription filters of its log group (DescribeSubscriptionFilters, which also
 * tells whether the log group exists: ResourceNotFoundException when it does not).
 */
import { DescribeClusterCommand, type Cluster } from '@aws-sdk/client-eks';
import { DescribeSubscriptionFiltersCommand, type SubscriptionFilter } from '@aws-sdk/client-cloudwatch-logs';
import { unlessNotFound } from '../../aws/errors.js';
import type { Ctx } from '../resource.js';

/** The cluster, or undefined when it does not exist. */
export function cluster(ctx: Pick<Ctx, 'aws' | 'memo'>, region: string, name: string): Promise<Cluster | undefined> {
  return ctx.memo.once(`cluster:${region}:${name}`, async () => {
    const eks = await ctx.aws.eks(region);
    return (await unlessNotFound(eks.send(new DescribeClusterCommand({ name }))))?.cluster;
  });
}

export function auditEnabled(c: Cluster | undefined): boolean {
  return (c?.logging?.clusterLogging ?? []).some((l) => l.enabled && (l.types ?? []).includes('audit'));
}

/** The filters on a log group, or undefined when the log group does not exist. */
export function filtersOf(ctx: Pick<Ctx, 'aws' | 'memo'>, region: string, logGroupName: string): Promise<SubscriptionFilter[] | undefined> {
  return ctx.memo.once(`filters:${region}:${logGroupName}`, async () => {
    const logs = await ctx.aws.logs(region);
    const answer = await unlessNotFound(logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName })));
    return answer ? (answer.subscriptionFilters ?? []) : undefined;
  });
}

/** `(region, cluster)` pairs of the inputs. */
export function clusterPairs(regionClusters: Record<string, string[]>): { region: string; cluster: string }[] {
  return Object.entries(regionClusters).flatMap(([region, clusters]) => clusters.map((c) => ({ region, cluster: c })));
}
