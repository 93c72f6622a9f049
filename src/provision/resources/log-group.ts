/**
 * The cluster's log group `/aws/eks/<cluster>/cluster`. EKS makes it once logging is on, sometimes later
 * than the filter wants it; we make it if it is missing. It holds the cluster's own logs, so it is never
 * deleted: teardown keeps it and says so.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { isAwsError } from '../../aws/errors.js';
import { PARTITION } from '../../config/naming.js';
import { iamNeeds } from '../../aws/iam.js';
import type { ResourceType } from '../resource.js';
import { clusterPairs, filtersOf } from './clusters.js';
import { KEYS } from './keys.js';

export const logGroup: ResourceType<{ exists: boolean }> = {
  kind: 'log-group',
  label: 'log group',
  hop: 2,
  iam: iamNeeds('eks-log-group', `
    CreateLogGroupCommand  logs:CreateLogGroup | create the cluster log group when EKS has not yet
  `),

  instances(spec) {
    const { names } = spec;
    return clusterPairs(spec.inputs.regionClusters).map(({ region, cluster }) => ({
      key: KEYS.logGroup(region, cluster),
      kind: 'log-group' as const,
      region,
      name: names.logGroup(cluster),
      arn: `arn:${PARTITION}:logs:${region}:${names.accountId}:log-group:${names.logGroup(cluster)}`,
      needs: [],
      extra: { cluster },
    }));
  },

  async read(ctx, inst) {
    // The log group's filters are read anyway (subscription-filter): that answer says whether it exists.
    const filters = await filtersOf(ctx, inst.region, inst.name);
    return filters ? { ref: { id: inst.name, arn: inst.arn, region: inst.region }, state: { exists: true } } : undefined;
  },

  desired() {
    return { exists: true };
  },

  async create(ctx, inst) {
    const logs = await ctx.aws.logs(inst.region);
    try {
      await logs.send(new CreateLogGroupCommand({ logGroupName: inst.name }));
    } catch (err) {
      // EKS made it in the meantime.
      if (!isAwsError(err, 'ResourceAlreadyExistsException')) throw err;
      return { ref: { id: inst.name, arn: inst.arn, region: inst.region }, adopted: true };
    }
    return { ref: { id: inst.name, arn: inst.arn, region: inst.region } };
  },

  async update(_ctx, _inst, _desired, found) {
    return found.ref;
  },

  async delete() {
    return { outcome: 'kept', why: 'it holds the cluster’s logs' };
  },
};
