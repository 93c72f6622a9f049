/**
 * The `audit` control-plane log type of a cluster: turned on (the other types are left as they are), and
 * back off on teardown, or when the cluster is dropped, only where this deployment turned it on (the
 * deployment record keeps each cluster's state before setup). EKS runs one update at a time per cluster
 * (ResourceInUseException: wait and retry); "No changes needed" means it is on already. With an update id
 * we poll DescribeUpdate, otherwise DescribeCluster (moto returns no update id; reference/moto.md §3.2).
 */
import { DescribeUpdateCommand, paginateListClusters, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { AppError } from '../../errors.js';
import { isAwsError, messageMatches } from '../../aws/errors.js';
import { PARTITION } from '../../config/naming.js';
import { pollUntil, retryWhileNotReady } from '../retry.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, ResourceType } from '../resource.js';
import { auditEnabled, cluster, clusterPairs } from './clusters.js';
import { KEYS } from './keys.js';

interface LoggingState extends Record<string, unknown> {
  audit: boolean;
  /** Read along: for conflicts. */
  status?: string;
}

/** Sets audit logging on or off and waits until EKS reports it so. */
async function setAuditLogging(ctx: Ctx, region: string, name: string, enabled: boolean): Promise<void> {
  const eks = await ctx.aws.eks(region);
  const what = `EKS cluster ${name} (${region}) to ${enabled ? 'enable' : 'disable'} audit logging`;
  const update = await retryWhileNotReady(
    ctx,
    async () => {
      try {
        return (await eks.send(new UpdateClusterConfigCommand({ name, logging: { clusterLogging: [{ types: ['audit'], enabled }] } }))).update;
      } catch (err) {
        if (isAwsError(err, 'InvalidParameterException') && messageMatches(err, /no changes needed/i)) return undefined;
        throw err;
      }
    },
    // Another update of this cluster is running (ours from a crashed run, or someone else's): EKS allows one at a time.
    { what: `another update of EKS cluster ${name} to finish`, retryable: (e) => isAwsError(e, 'ResourceInUseException'), deadlineMs: 900_000, minDelayMs: 2000, maxDelayMs: 5000 },
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
      // An EKS logging update stays InProgress about 40 s (ministryofjustice/cloud-platform#8501).
      { what, deadlineMs: 900_000, minDelayMs: 1000, maxDelayMs: 2000 },
    );
  }
  ctx.memo.forget(`cluster:${region}:${name}`);
  await pollUntil(
    ctx,
    async () => {
      ctx.memo.forget(`cluster:${region}:${name}`);
      const c = await cluster(ctx, region, name);
      if (!c) throw new AppError('ClusterGone', `EKS cluster ${name} (${region}) no longer exists.`);
      return auditEnabled(c) === enabled ? c : undefined;
    },
    { what, deadlineMs: 900_000, minDelayMs: 1000, maxDelayMs: 2000 },
  );
}

/** Regions among `regions` where a cluster of this name is (for "it is in another region"). */
async function regionsWith(ctx: Ctx, name: string, regions: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const region of regions) {
    const names = await ctx.memo.once(`clusters:${region}`, async () => {
      const client = await ctx.aws.eks(region);
      const all: string[] = [];
      try {
        for await (const page of paginateListClusters({ client }, {})) all.push(...(page.clusters ?? []));
      } catch {
        // Not allowed to list: the hint is only a hint.
      }
      return all;
    });
    if (names.includes(name)) found.push(region);
  }
  return found;
}

export const eksAuditLogging: ResourceType<LoggingState> = {
  kind: 'eks-audit-logging',
  label: 'EKS audit logging',
  hop: 1,
  observed: true,
  iam: iamNeeds('eks-cluster', `
    DescribeClusterCommand      eks:DescribeCluster     | cluster ACTIVE, audit logging on or off
    ListClustersCommand         eks:ListClusters @any   | where a cluster named in the wrong region really is
    UpdateClusterConfigCommand  eks:UpdateClusterConfig | turn the audit log type on (teardown: back off where setup turned it on)
    DescribeUpdateCommand       eks:DescribeUpdate      | wait for the logging update to finish
  `),

  instances(spec) {
    return clusterPairs(spec.inputs.regionClusters).map(({ region, cluster: name }) => ({
      key: KEYS.auditLogging(region, name),
      kind: 'eks-audit-logging' as const,
      region,
      name,
      arn: `arn:${PARTITION}:eks:${region}:${spec.names.accountId}:cluster/${name}`,
      needs: [],
    }));
  },

  async read(ctx, inst) {
    const c = await cluster(ctx, inst.region, inst.name);
    if (!c) return undefined;
    return { ref: { id: inst.name, arn: c.arn ?? inst.arn, region: inst.region }, state: { audit: auditEnabled(c), status: c.status } };
  },

  desired(ctx, inst) {
    // With --no-enable-audit-logging the state is only observed (a conflict where audit is off).
    if (!ctx.spec.inputs.enableAuditLogging) return { audit: ctx.spec.auditBefore.get(`${inst.region}/${inst.name}`) ?? true };
    return { audit: true };
  },

  async conflicts(ctx, inst, found) {
    const { region, name } = inst;
    if (!found) {
      const others = Object.keys(ctx.spec.inputs.regionClusters).filter((r) => r !== region);
      const elsewhere = await regionsWith(ctx, name, others);
      return [
        elsewhere.length > 0
          ? `EKS cluster '${name}' is not in ${region} but in ${elsewhere.join(', ')}: list it as --region-clusters ${elsewhere[0]}=${name}.`
          : `EKS cluster '${name}' was not found in ${region}; check the name and region (aws eks list-clusters --region ${region}).`,
      ];
    }
    const problems: string[] = [];
    if (found.state.status !== 'ACTIVE') {
      problems.push(`EKS cluster '${name}' (${region}) is ${found.state.status}, not ACTIVE; wait until it is ACTIVE, or leave it out.`);
    }
    if (!found.state.audit && !ctx.spec.inputs.enableAuditLogging) {
      problems.push(`Audit logging is off on EKS cluster '${name}' (${region}) and --no-enable-audit-logging was given; drop that flag to let setup turn it on.`);
    }
    return problems;
  },

  async create(_ctx, inst) {
    // Never reached: an absent cluster is a conflict (observed kind).
    throw new AppError('ClusterNotFound', `EKS cluster ${inst.name} was not found in ${inst.region}.`, { exitCode: 2 });
  },

  async update(ctx, inst, desired, found) {
    await setAuditLogging(ctx, inst.region, inst.name, desired.audit);
    return found.ref;
  },

  async delete(ctx, inst) {
    // "Delete" restores the cluster's logging as it was before this deployment touched it.
    const before = ctx.spec.auditBefore.get(`${inst.region}/${inst.name}`);
    ctx.memo.forget(`cluster:${inst.region}:${inst.name}`);
    const c = await cluster(ctx, inst.region, inst.name);
    if (!c) return { outcome: 'already-gone' };
    if (before !== false) return { outcome: 'kept', why: before === true ? 'audit logging was on before setup' : 'nothing records its state before setup' };
    if (!auditEnabled(c)) return { outcome: 'already-gone' };
    await setAuditLogging(ctx, inst.region, inst.name, false);
    return { outcome: 'turned-off' };
  },
};
