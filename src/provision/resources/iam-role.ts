/**
 * The three IAM roles (cross-account for FortiCNAPP, Firehose -> S3, CloudWatch Logs -> Firehose), each with
 * its trust policy, one inline policy (it lives and dies with the role) and our tags. A role given with
 * `--existing-*-role-arn` is the user's: no instance (preflight checks it).
 */
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import { isAwsError, isNotFound, unlessNotFound } from '../../aws/errors.js';
import { asKeyValue, managedTags, tagMap, tagsToRemove, TAG_KEYS } from '../../aws/tags.js';
import { regionsOf } from '../../config/inputs.js';
import { pipelineArns } from '../../config/naming.js';
import {
  cloudwatchPolicy,
  cloudwatchTrust,
  crossAccountPolicy,
  crossAccountTrust,
  firehosePolicy,
  firehoseTrust,
  parsePolicy,
  type PolicyDocument,
} from '../policies.js';
import { iamNeeds } from '../../aws/iam.js';
import type { Ctx, Instance, ResourceType, Spec } from '../resource.js';
import { KEYS, type RoleWhich } from './keys.js';

interface RoleState extends Record<string, unknown> {
  trust: unknown;
  policy: unknown;
  tags: Record<string, string>;
}

function roleNames(spec: Spec): Record<RoleWhich, { role: string; policy: string }> {
  const n = spec.names;
  return {
    'cross-account': { role: n.caRole, policy: n.caPolicy },
    firehose: { role: n.firehoseRole, policy: n.firehosePolicy },
    cloudwatch: { role: n.cloudwatchRole, policy: n.cloudwatchPolicy },
  };
}

const which = (inst: Instance) => inst.extra?.which as RoleWhich;
const policyName = (inst: Instance) => inst.extra?.policy as string;

/** The trust and inline policy a role of this deployment has. */
function documents(spec: Spec, w: RoleWhich): { trust: PolicyDocument; policy: PolicyDocument } {
  const { inputs, names } = spec;
  const arns = pipelineArns(inputs, names);
  const userKey = inputs.noKms ? undefined : inputs.kmsKeyArn;
  switch (w) {
    case 'cross-account':
      return {
        trust: crossAccountTrust(inputs.laceworkAwsAccountId, spec.externalId),
        policy: crossAccountPolicy(arns.bucketArn, names.topicArn, names.accountId, userKey),
      };
    case 'firehose':
      return { trust: firehoseTrust(names), policy: firehosePolicy(arns.bucketArn, names, userKey) };
    case 'cloudwatch':
      return { trust: cloudwatchTrust(regionsOf(inputs), names.accountId), policy: cloudwatchPolicy(names.streamArn) };
  }
}

async function getRole(ctx: Ctx, name: string): Promise<Role | undefined> {
  const iam = await ctx.aws.iam();
  return (await unlessNotFound(iam.send(new GetRoleCommand({ RoleName: name }))))?.Role;
}

async function putTags(ctx: Ctx, name: string, desired: Record<string, string>, current: Record<string, string>): Promise<void> {
  const iam = await ctx.aws.iam();
  const remove = tagsToRemove(current, desired);
  if (remove.length > 0) await iam.send(new UntagRoleCommand({ RoleName: name, TagKeys: remove }));
  await iam.send(new TagRoleCommand({ RoleName: name, Tags: asKeyValue(desired) }));
}

export const iamRole: ResourceType<RoleState> = {
  kind: 'iam-role',
  label: 'IAM role',
  hop: 3,
  iam: iamNeeds('role', `
    GetRoleCommand                   iam:GetRole                  | the role, its trust policy and tags
    GetRolePolicyCommand             iam:GetRolePolicy            | its inline policy as made
    CreateRoleCommand                iam:CreateRole iam:TagRole   | the cross-account, Firehose and CloudWatch roles, tagged
    PutRolePolicyCommand             iam:PutRolePolicy            | each role’s inline policy
    UpdateAssumeRolePolicyCommand    iam:UpdateAssumeRolePolicy   | bring a trust policy in line (a region added or dropped, drift)
    TagRoleCommand                   iam:TagRole                  | tags changed
    UntagRoleCommand                 iam:UntagRole                | a --tag dropped
    ListRolePoliciesCommand          iam:ListRolePolicies         | teardown: inline policies first
    DeleteRolePolicyCommand          iam:DeleteRolePolicy         | teardown
    ListAttachedRolePoliciesCommand  iam:ListAttachedRolePolicies | teardown: detach before delete
    DetachRolePolicyCommand          iam:DetachRolePolicy         | teardown
    DeleteRoleCommand                iam:DeleteRole               | teardown
  `),

  instances(spec) {
    const { inputs, names } = spec;
    const existing: Record<RoleWhich, string | undefined> = {
      'cross-account': inputs.existingCaRoleArn,
      firehose: inputs.existingFirehoseRoleArn,
      cloudwatch: inputs.existingCwRoleArn,
    };
    const all = roleNames(spec);
    return (['cross-account', 'firehose', 'cloudwatch'] as RoleWhich[])
      .filter((w) => !existing[w])
      .map((w) => ({
        key: KEYS.role(w),
        kind: 'iam-role' as const,
        region: 'global',
        name: all[w].role,
        arn: names.roleArn(all[w].role),
        needs: [],
        extra: { which: w, policy: all[w].policy },
      }));
  },

  async read(ctx, inst) {
    const role = await getRole(ctx, inst.name);
    if (!role) return undefined;
    const iam = await ctx.aws.iam();
    let policy: unknown;
    try {
      policy = parsePolicy((await iam.send(new GetRolePolicyCommand({ RoleName: inst.name, PolicyName: policyName(inst) }))).PolicyDocument);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const tags = managedTags(tagMap(role.Tags), ctx.spec.tags, ctx.spec.droppedTagKeys);
    return {
      ref: { id: inst.name, arn: role.Arn ?? inst.arn, region: 'global' },
      state: { trust: parsePolicy(role.AssumeRolePolicyDocument), policy, tags, deployment: tagMap(role.Tags)[TAG_KEYS.deployment] },
    };
  },

  desired(ctx, inst) {
    return { ...documents(ctx.spec, which(inst)), tags: ctx.spec.tags };
  },

  async conflicts(ctx, inst, found) {
    // A role of our name made by something else (not tagged with this deployment) is never taken over.
    const owner = found?.state.deployment;
    if (found && owner !== undefined && owner !== ctx.spec.names.deploymentId) {
      return [`IAM role ${inst.name} belongs to another deployment (${String(owner)}); choose another --prefix.`];
    }
    return [];
  },

  async create(ctx, inst, desired) {
    const iam = await ctx.aws.iam();
    let adopted = false;
    let arn = inst.arn;
    try {
      const out = await iam.send(
        new CreateRoleCommand({
          RoleName: inst.name,
          AssumeRolePolicyDocument: JSON.stringify(desired.trust),
          Description: `forticnapp-eks-audit ${which(inst)} role (deployment ${ctx.spec.names.deploymentId})`,
          Tags: asKeyValue(desired.tags),
        }),
      );
      arn = out.Role?.Arn ?? arn;
    } catch (err) {
      // Another run made it at the same moment (or a crashed run did): adopt it when it carries our tag.
      if (!isAwsError(err, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw err;
      const role = await getRole(ctx, inst.name);
      if (tagMap(role?.Tags)[TAG_KEYS.deployment] !== ctx.spec.names.deploymentId) throw err;
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: inst.name, PolicyDocument: JSON.stringify(desired.trust) }));
      adopted = true;
    }
    await iam.send(new PutRolePolicyCommand({ RoleName: inst.name, PolicyName: policyName(inst), PolicyDocument: JSON.stringify(desired.policy) }));
    return { ref: { id: inst.name, arn, region: 'global' }, adopted };
  },

  async update(ctx, inst, desired, found, changes) {
    const iam = await ctx.aws.iam();
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has('trust')) {
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: inst.name, PolicyDocument: JSON.stringify(desired.trust) }));
    }
    if (fields.has('policy')) {
      await iam.send(new PutRolePolicyCommand({ RoleName: inst.name, PolicyName: policyName(inst), PolicyDocument: JSON.stringify(desired.policy) }));
    }
    if (fields.has('tags')) await putTags(ctx, inst.name, desired.tags, found.state.tags);
    return found.ref;
  },

  async delete(ctx, inst) {
    const iam = await ctx.aws.iam();
    try {
      const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: inst.name }));
      for (const p of inline.PolicyNames ?? []) {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: inst.name, PolicyName: p })).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      }
      const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: inst.name }));
      for (const p of attached.AttachedPolicies ?? []) {
        await iam.send(new DetachRolePolicyCommand({ RoleName: inst.name, PolicyArn: p.PolicyArn })).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      }
      await iam.send(new DeleteRoleCommand({ RoleName: inst.name }));
      return { outcome: 'deleted' };
    } catch (err) {
      if (isNotFound(err)) return { outcome: 'already-gone' };
      throw err;
    }
  },
};
