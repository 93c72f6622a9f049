/**
 * The cluster's log group `/aws/eks/<cluster>/cluster`. EKS makes it once logging is on, sometimes
 * later than the filter wants it; we make it if it is missing. It holds the cluster's logs, so
 * teardown keeps it and says so.
 */
import { CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { isAwsError } from '../../aws/errors.js';
import { clustersOf } from '../../config/inputs.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';

export const keyOf = (region: string, cluster: string) => `log-group/${region}/${cluster}`;

export async function findLogGroup(ctx: BaseContext, region: string, name: string): Promise<Ref | undefined> {
  const logs = await ctx.aws.logs(region);
  const out = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  const g = (out.logGroups ?? []).find((lg) => lg.logGroupName === name);
  return g ? { id: name, arn: g.arn?.replace(/:\*$/, ''), region } : undefined;
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  return clustersOf(ctx.inputs).map(({ region, cluster }) => {
    const name = ctx.names.logGroup(cluster);
    return {
      key: keyOf(region, cluster),
      kind: 'log-group' as const,
      region,
      name,
      needs: [],
      async find(c: StepContext) {
        const ref = await findLogGroup(c, region, name);
        return ref ? { ref } : undefined;
      },
      async create(c: StepContext) {
        const logs = await c.aws.logs(region);
        try {
          await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
        } catch (err) {
          // EKS made it in the meantime.
          if (!isAwsError(err, 'ResourceAlreadyExistsException')) throw err;
        }
        return (await findLogGroup(c, region, name)) ?? { id: name, region };
      },
    };
  });
}

export const teardown: TeardownHandler = {
  kind: 'log-group',
  rank: 80,
  keep: true,
  async delete() {
    // Never deleted: it holds the cluster's own logs.
  },
  findByName: (ctx, region, name) => findLogGroup(ctx, region, name),
};
