/**
 * One subscription filter per cluster, on its log group, in the cluster's region, delivering to the
 * home-region stream (same-account cross-region delivery is supported by CloudWatch Logs). CloudWatch
 * Logs sends a test message first and answers "Could not deliver test message" until the stream is
 * ACTIVE and the role has propagated: retried with backoff.
 */
import {
  DeleteSubscriptionFilterCommand,
  DescribeSubscriptionFiltersCommand,
  PutSubscriptionFilterCommand,
  type SubscriptionFilter,
} from '@aws-sdk/client-cloudwatch-logs';
import { AppError } from '../../errors.js';
import { isAwsError, isNotFound, messageMatches } from '../../aws/errors.js';
import { clustersOf } from '../../config/inputs.js';
import { retryWhile } from '../retry.js';
import type { BaseContext, Ref, StepContext, Task, TeardownHandler } from '../step.js';
import { roleArnOf, roleKey } from './iam-role.js';
import { KEY as STREAM_KEY } from './firehose-stream.js';
import { keyOf as logGroupKey } from './log-group.js';

export const keyOf = (region: string, cluster: string) => `subscription-filter/${region}/${cluster}`;

/** AWS allows this many subscription filters per log group (PutSubscriptionFilter API reference). */
export const FILTERS_PER_LOG_GROUP = 2;

export async function listFilters(ctx: BaseContext, region: string, logGroupName: string): Promise<SubscriptionFilter[] | undefined> {
  const logs = await ctx.aws.logs(region);
  try {
    return (await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName }))).subscriptionFilters ?? [];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  const { names } = ctx;
  return clustersOf(ctx.inputs).map(({ region, cluster }) => {
    const name = names.filter(cluster);
    const logGroupName = names.logGroup(cluster);
    const put = async (c: StepContext): Promise<Ref> => {
      const logs = await c.aws.logs(region);
      const destinationArn = c.refs.get(STREAM_KEY)?.arn ?? names.streamArn;
      try {
        await retryWhile(
          c,
          () =>
            logs.send(
              new PutSubscriptionFilterCommand({
                logGroupName,
                filterName: name,
                filterPattern: c.inputs.filterPattern,
                destinationArn,
                roleArn: roleArnOf(c, 'cloudwatch'),
                distribution: 'ByLogStream',
              }),
            ),
          (e) =>
            (isAwsError(e, 'InvalidParameterException') && messageMatches(e, /could not deliver test message/i)) ||
            (isAwsError(e, 'OperationAbortedException') && messageMatches(e, /try again/i)),
          { what: `CloudWatch Logs in ${region} to deliver to the Firehose stream with the new role`, timeoutMs: 300_000 },
        );
      } catch (err) {
        if (isAwsError(err, 'LimitExceededException')) {
          throw new AppError(
            'FilterSlotsFull',
            `Log group ${logGroupName} of cluster ${cluster} (${region}) has no free subscription-filter slot (${err instanceof Error ? err.message : ''}); remove one of its other filters, or leave this cluster out.`,
            { exitCode: 2, cause: err },
          );
        }
        throw err;
      }
      return { id: name, arn: names.logGroupArn(region, cluster), region, logGroup: logGroupName, cluster };
    };
    return {
      key: keyOf(region, cluster),
      kind: 'subscription-filter' as const,
      region,
      name,
      needs: [STREAM_KEY, roleKey('cloudwatch'), logGroupKey(region, cluster)],
      hint: { logGroup: logGroupName },
      async find(c: StepContext) {
        const f = (await listFilters(c, region, logGroupName))?.find((x) => x.filterName === name);
        if (!f) return undefined;
        const ref: Ref = { id: name, arn: names.logGroupArn(region, cluster), region, logGroup: logGroupName, cluster };
        const drift =
          f.destinationArn !== names.streamArn
            ? 'point it at the stream'
            : f.roleArn !== roleArnOf(c, 'cloudwatch')
              ? 'use the CloudWatch role'
              : f.filterPattern !== c.inputs.filterPattern
                ? 'update its filter pattern'
                : undefined;
        return drift
          ? { ref, drift, before: { filterPattern: f.filterPattern, destinationArn: f.destinationArn, roleArn: f.roleArn, logGroup: logGroupName } }
          : { ref };
      },
      create: put,
      change: (c) => put(c),
    };
  });
}

export const teardown: TeardownHandler = {
  kind: 'subscription-filter',
  rank: 10,
  async delete(ctx, ref) {
    const logs = await ctx.aws.logs(String(ref.region));
    await logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: String(ref.logGroup), filterName: ref.id })).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  },
  async restore(ctx, record) {
    const b = record.before;
    if (!b) return;
    const logs = await ctx.aws.logs(record.region);
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: String(b.logGroup),
        filterName: record.name,
        filterPattern: String(b.filterPattern ?? ''),
        destinationArn: String(b.destinationArn),
        roleArn: b.roleArn ? String(b.roleArn) : undefined,
      }),
    );
  },
  async findByName(ctx, region, name, hint) {
    if (!hint.logGroup) return undefined;
    const f = (await listFilters(ctx, region, hint.logGroup))?.find((x) => x.filterName === name);
    return f ? { id: name, region, logGroup: hint.logGroup } : undefined;
  },
};
