/**
 * Turns on the `audit` control-plane log type of a cluster (the other types are left as they are), and
 * back off on teardown only where we turned it on. EKS runs one update at a time per cluster
 * (ResourceInUseException: wait and retry); "No changes needed" means it is on already. With an update
 * id we poll DescribeUpdate, otherwise DescribeCluster.
 */
import {
  DescribeClusterCommand,
  DescribeUpdateCommand,
  UpdateClusterConfigCommand,
  type Cluster,
} from '@aws-sdk/client-eks';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound, messageMatches } from '../../aws/errors.js';
import { clustersOf } from '../../config/inputs.js';
import { pollUntil, retryWhile } from '../retry.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';

export const keyOf = (region: string, cluster: string) => `eks-audit-logging/${region}/${cluster}`;

export function auditEnabled(cluster: Cluster | undefined): boolean {
  return (cluster?.logging?.clusterLogging ?? []).some((l) => l.enabled && (l.types ?? []).includes('audit'));
}

export async function describeCluster(ctx: BaseContext, region: string, name: string): Promise<Cluster | undefined> {
  const eks = await ctx.aws.eks(region);
  try {
    return (await eks.send(new DescribeClusterCommand({ name }))).cluster;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Sets audit logging on or off and waits until EKS reports it so. */
export async function setAuditLogging(ctx: BaseContext, region: string, name: string, enabled: boolean): Promise<Cluster | undefined> {
  const eks = await ctx.aws.eks(region);
  const what = `EKS cluster ${name} (${region}) to ${enabled ? 'enable' : 'disable'} audit logging`;
  const update = await retryWhile(
    ctx,
    async () => {
      try {
        return (await eks.send(new UpdateClusterConfigCommand({ name, logging: { clusterLogging: [{ types: ['audit'], enabled }] } }))).update;
      } catch (err) {
        if (isAwsError(err, 'InvalidParameterException') && messageMatches(err, /no changes needed/i)) return undefined;
        throw err;
      }
    },
    // Another update of this cluster is running (ours from a crashed run, or someone else's).
    (e) => isAwsError(e, 'ResourceInUseException'),
    { what: `another update of EKS cluster ${name} to finish`, timeoutMs: 900_000, firstDelayMs: 5000, maxDelayMs: 20_000 },
  );
  if (update?.id) {
    const updateId = update.id;
    await pollUntil(
      ctx,
      async () => {
        const u = (await eks.send(new DescribeUpdateCommand({ name, updateId }))).update;
        if (u?.status === 'Failed' || u?.status === 'Cancelled') {
          const why = (u.errors ?? []).map((e) => `${e.errorCode}: ${e.errorMessage}`).join('; ');
          throw new AppError('EksUpdateFailed', `EKS could not ${enabled ? 'enable' : 'disable'} audit logging on ${name} (${region}): ${u.status}${why ? ` (${why})` : ''}.`);
        }
        return u?.status === 'Successful' ? u : undefined;
      },
      { what, timeoutMs: 900_000, firstDelayMs: 5000, maxDelayMs: 15_000 },
    );
  }
  return pollUntil(
    ctx,
    async () => {
      const c = await describeCluster(ctx, region, name);
      if (!c) throw new AppError('ClusterGone', `EKS cluster ${name} (${region}) no longer exists.`);
      return auditEnabled(c) === enabled ? c : undefined;
    },
    { what, timeoutMs: 900_000, firstDelayMs: 2000, maxDelayMs: 15_000 },
  );
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  return clustersOf(ctx.inputs).map(({ region, cluster }) => ({
    key: keyOf(region, cluster),
    kind: 'eks-audit-logging' as const,
    region,
    name: cluster,
    needs: [],
    // With --no-enable-audit-logging we only look; preflight has already failed where audit is off.
    mode: ctx.inputs.enableAuditLogging ? ('create' as const) : ('never' as const),
    async find(c: StepContext) {
      const cl = await describeCluster(c, region, cluster);
      if (!cl) throw new AppError('ClusterNotFound', `EKS cluster ${cluster} was not found in ${region}.`, { exitCode: 2 });
      return auditEnabled(cl) ? { ref: { id: cluster, arn: cl.arn, region } } : undefined;
    },
    async create(c: StepContext) {
      if (!c.inputs.enableAuditLogging) {
        throw new AppError('AuditLoggingOff', `Audit logging is off on ${cluster} (${region}) and --no-enable-audit-logging was given.`, { exitCode: 2 });
      }
      const cl = await setAuditLogging(c, region, cluster, true);
      return { id: cluster, arn: cl?.arn, region, auditWasEnabled: false } satisfies Ref;
    },
  }));
}

export const teardown: TeardownHandler = {
  kind: 'eks-audit-logging',
  rank: 90,
  async delete(ctx, ref) {
    // "Delete" restores the cluster's logging as it was: audit back off (we only record clusters where we turned it on).
    const region = String(ref.region);
    const cl = await describeCluster(ctx, region, ref.id);
    if (!cl || !auditEnabled(cl)) return;
    await setAuditLogging(ctx, region, ref.id, false);
  },
  async findByName(ctx, region, name) {
    const cl = await describeCluster(ctx, region, name);
    return cl && auditEnabled(cl) ? ({ id: name, arn: cl.arn, region } satisfies Ref) : undefined;
  },
};
