/** The three IAM roles (cross-account, Firehose, CloudWatch Logs), each with one inline policy. */
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { isAwsError, isNotFound } from '../../aws/errors.js';
import { asKeyValue } from '../../aws/tags.js';
import { bucketNameFromArn, PARTITION } from '../../config/naming.js';
import { regionsOf } from '../../config/inputs.js';
import {
  cloudwatchPolicy,
  cloudwatchTrust,
  crossAccountPolicy,
  crossAccountTrust,
  firehosePolicy,
  firehoseTrust,
  parsePolicy,
  regionsInCloudwatchTrust,
  type PolicyDocument,
} from '../policies.js';
import type { BaseContext, Found, Ref, StepContext, Task, TeardownHandler } from '../step.js';

export type RoleWhich = 'cross-account' | 'firehose' | 'cloudwatch';

export const roleKey = (which: RoleWhich) => `iam-role/${which}`;

/** The bucket the pipeline writes to: ours, or the user's existing one. */
export function bucketArnOf(ctx: Pick<StepContext, 'inputs' | 'names'>): string {
  return ctx.inputs.existingBucketArn ? `arn:${PARTITION}:s3:::${bucketNameFromArn(ctx.inputs.existingBucketArn)}` : ctx.names.bucketArn;
}

/** ARN of a role: the user's existing one or ours. */
export function roleArnOf(ctx: Pick<StepContext, 'inputs' | 'names'>, which: RoleWhich): string {
  const { inputs, names } = ctx;
  if (which === 'cross-account') return inputs.existingCaRoleArn ?? names.roleArn(names.caRole);
  if (which === 'firehose') return inputs.existingFirehoseRoleArn ?? names.roleArn(names.firehoseRole);
  return inputs.existingCwRoleArn ?? names.roleArn(names.cloudwatchRole);
}

interface RoleSpec {
  which: RoleWhich;
  name: string;
  policyName: string;
  trust: (ctx: StepContext, current?: unknown) => PolicyDocument;
  policy: (ctx: StepContext) => PolicyDocument;
}

function specs(ctx: Pick<StepContext, 'names'>): RoleSpec[] {
  const { names } = ctx;
  return [
    {
      which: 'cross-account',
      name: names.caRole,
      policyName: names.caPolicy,
      trust: (c) => crossAccountTrust(c.inputs.laceworkAwsAccountId, c.externalId),
      policy: (c) => crossAccountPolicy(bucketArnOf(c), c.names.topicArn),
    },
    {
      which: 'firehose',
      name: names.firehoseRole,
      policyName: names.firehosePolicy,
      trust: (c) => firehoseTrust(c.names),
      policy: (c) => firehosePolicy(bucketArnOf(c), c.names),
    },
    {
      which: 'cloudwatch',
      name: names.cloudwatchRole,
      policyName: names.cloudwatchPolicy,
      // A later run adding a region keeps the regions already trusted.
      trust: (c, current) => cloudwatchTrust([...regionsInCloudwatchTrust(current), ...regionsOf(c.inputs)], c.accountId),
      policy: (c) => cloudwatchPolicy(c.names.streamArn),
    },
  ];
}

function roleTask(spec: RoleSpec): Task {
  return {
    key: roleKey(spec.which),
    kind: 'iam-role',
    region: 'global',
    name: spec.name,
    needs: [],
    async find(ctx): Promise<Found | undefined> {
      const iam = await ctx.aws.iam();
      try {
        const { Role } = await iam.send(new GetRoleCommand({ RoleName: spec.name }));
        const ref: Ref = { id: spec.name, arn: Role?.Arn, policyName: spec.policyName };
        if (spec.which === 'cloudwatch') {
          const current = parsePolicy(Role?.AssumeRolePolicyDocument);
          const trusted = regionsInCloudwatchTrust(current);
          const missing = regionsOf(ctx.inputs).filter((r) => !trusted.includes(r));
          if (missing.length > 0) {
            return { ref, drift: `trust CloudWatch Logs in ${missing.join(', ')}`, before: { trust: current } };
          }
        }
        return { ref };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(ctx) {
      const iam = await ctx.aws.iam();
      let arn: string | undefined;
      try {
        const out = await iam.send(
          new CreateRoleCommand({
            RoleName: spec.name,
            AssumeRolePolicyDocument: JSON.stringify(spec.trust(ctx)),
            Description: `forticnapp-eks-audit ${spec.which} role (deployment ${ctx.deploymentId})`,
            Tags: asKeyValue(ctx.tags),
          }),
        );
        arn = out.Role?.Arn;
      } catch (err) {
        // A crashed run made it already: bring its trust in line and go on.
        if (!isAwsError(err, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw err;
        const { Role } = await iam.send(new GetRoleCommand({ RoleName: spec.name }));
        arn = Role?.Arn;
        await iam.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: spec.name, PolicyDocument: JSON.stringify(spec.trust(ctx, parsePolicy(Role?.AssumeRolePolicyDocument))) }),
        );
      }
      await iam.send(new PutRolePolicyCommand({ RoleName: spec.name, PolicyName: spec.policyName, PolicyDocument: JSON.stringify(spec.policy(ctx)) }));
      return { id: spec.name, arn: arn ?? ctx.names.roleArn(spec.name), policyName: spec.policyName };
    },
    async change(ctx, found) {
      const iam = await ctx.aws.iam();
      await iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: spec.name, PolicyDocument: JSON.stringify(spec.trust(ctx, found.before?.trust)) }),
      );
      return found.ref;
    },
  };
}

export function tasks(ctx: Pick<StepContext, 'inputs' | 'names'>): Task[] {
  const skip: Record<RoleWhich, boolean> = {
    'cross-account': !!ctx.inputs.existingCaRoleArn,
    firehose: !!ctx.inputs.existingFirehoseRoleArn,
    cloudwatch: !!ctx.inputs.existingCwRoleArn,
  };
  return specs(ctx).filter((s) => !skip[s.which]).map(roleTask);
}

async function deleteRole(ctx: BaseContext, name: string): Promise<void> {
  const iam = await ctx.aws.iam();
  try {
    const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: name }));
    for (const p of inline.PolicyNames ?? []) {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: p })).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
    for (const p of attached.AttachedPolicies ?? []) {
      await iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn })).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    await iam.send(new DeleteRoleCommand({ RoleName: name }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export const teardown: TeardownHandler = {
  kind: 'iam-role',
  rank: 70,
  delete: (ctx, ref) => deleteRole(ctx, ref.id),
  async restore(ctx, record) {
    if (!record.before?.trust) return;
    const iam = await ctx.aws.iam();
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: record.name, PolicyDocument: JSON.stringify(record.before.trust) })).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  },
  async findByName(ctx, _region, name) {
    const iam = await ctx.aws.iam();
    try {
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: name }));
      return { id: name, arn: Role?.Arn };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },
};
