/**
 * Preflight: everything that can be checked before the first change, all problems reported together
 * (DESIGN §2). Read-only. Problems are lines that say what to do; the caller exits 2 on any.
 */
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetBucketLocationCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { ListClustersCommand } from '@aws-sdk/client-eks';
import { describeAwsError, httpStatus, isNotFound } from '../aws/errors.js';
import { bucketNameFromArn, type Names } from '../config/naming.js';
import { clustersOf, type Inputs } from '../config/inputs.js';
import type { BaseContext } from './step.js';
import { mapLimit } from './engine.js';
import { auditEnabled, describeCluster } from './steps/eks-audit-logging.js';
import { bucketOwner } from './steps/s3-bucket.js';
import { FILTERS_PER_LOG_GROUP, listFilters } from './steps/subscription-filter.js';

export interface PreflightInput {
  inputs: Inputs;
  names: Names;
  /** true when no journal knows this deployment yet (its bucket name must be free). */
  newDeployment: boolean;
  deploymentId: string;
}

export interface ClusterFacts {
  region: string;
  cluster: string;
  status?: string;
  auditEnabled: boolean;
  /** Filters on the log group that are not ours. */
  otherFilters: string[];
  logGroupExists: boolean;
}

export interface PreflightResult {
  problems: string[];
  clusters: ClusterFacts[];
}

async function clusterProblems(ctx: BaseContext, p: PreflightInput): Promise<{ problems: string[]; facts: ClusterFacts[] }> {
  const problems: string[] = [];
  const facts: ClusterFacts[] = [];
  const regions = Object.keys(p.inputs.regionClusters);
  const listed = new Map<string, Promise<string[]>>();
  const clustersIn = (region: string) => {
    let l = listed.get(region);
    if (!l) {
      l = (async () => {
        const eks = await ctx.aws.eks(region);
        const names: string[] = [];
        let nextToken: string | undefined;
        do {
          const out = await eks.send(new ListClustersCommand({ nextToken }));
          names.push(...(out.clusters ?? []));
          nextToken = out.nextToken;
        } while (nextToken);
        return names;
      })().catch(() => [] as string[]);
      listed.set(region, l);
    }
    return l;
  };
  await mapLimit(clustersOf(p.inputs), 8, async ({ region, cluster }) => {
    const cl = await describeCluster(ctx, region, cluster);
    if (!cl) {
      const elsewhere: string[] = [];
      for (const r of regions.filter((x) => x !== region)) if ((await clustersIn(r)).includes(cluster)) elsewhere.push(r);
      problems.push(
        elsewhere.length > 0
          ? `EKS cluster '${cluster}' is not in ${region} but in ${elsewhere.join(', ')}: list it as --region-clusters ${elsewhere[0]}=${cluster}.`
          : `EKS cluster '${cluster}' was not found in ${region}; check the name and region (aws eks list-clusters --region ${region}).`,
      );
      return;
    }
    const audit = auditEnabled(cl);
    if (cl.status !== 'ACTIVE') {
      problems.push(`EKS cluster '${cluster}' (${region}) is ${cl.status}, not ACTIVE; wait until it is ACTIVE, or leave it out.`);
    }
    if (!audit && !p.inputs.enableAuditLogging) {
      problems.push(
        `Audit logging is off on EKS cluster '${cluster}' (${region}) and --no-enable-audit-logging was given; drop that flag to let setup turn it on.`,
      );
    }
    const logGroup = p.names.logGroup(cluster);
    const filters = await listFilters(ctx, region, logGroup);
    const others = (filters ?? []).filter((f) => f.filterName !== p.names.filter(cluster)).map((f) => f.filterName ?? '?');
    const ours = (filters ?? []).some((f) => f.filterName === p.names.filter(cluster));
    if (!ours && others.length >= FILTERS_PER_LOG_GROUP) {
      problems.push(
        `Log group ${logGroup} of cluster '${cluster}' (${region}) already has ${others.length} subscription filters (${others.join(', ')}), the most AWS allows; remove one, or leave this cluster out.`,
      );
    }
    facts.push({ region, cluster, status: cl.status, auditEnabled: audit, otherFilters: others, logGroupExists: filters !== undefined });
  });
  return { problems, facts };
}

async function roleExists(ctx: BaseContext, arn: string, flag: string): Promise<string | undefined> {
  const iam = await ctx.aws.iam();
  const name = arn.split('/').pop() ?? '';
  try {
    await iam.send(new GetRoleCommand({ RoleName: name }));
    return undefined;
  } catch (err) {
    if (isNotFound(err)) return `${flag} ${arn}: no such role in this account; check the ARN.`;
    return `${flag} ${arn}: could not read the role (${describeAwsError(err)}).`;
  }
}

export async function preflight(ctx: BaseContext, p: PreflightInput): Promise<PreflightResult> {
  const { inputs, names } = p;
  const checks: Promise<string | string[] | undefined>[] = [];
  const clusterCheck = clusterProblems(ctx, p);
  const home = names.homeRegion;

  if (inputs.existingBucketArn) {
    const bucket = bucketNameFromArn(inputs.existingBucketArn);
    checks.push(
      (async () => {
        const s3 = await ctx.aws.s3(home);
        try {
          await s3.send(new HeadBucketCommand({ Bucket: bucket }));
          const loc = (await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint || 'us-east-1';
          if (loc !== home) {
            return `--existing-bucket-arn: bucket ${bucket} is in ${loc}, but the home region is ${home}; S3 notifies only an SNS topic in its own region, so pass --home-region ${loc}.`;
          }
          return undefined;
        } catch (err) {
          if (isNotFound(err)) return `--existing-bucket-arn: bucket ${bucket} does not exist; check the ARN.`;
          if (httpStatus(err) === 403) return `--existing-bucket-arn: bucket ${bucket} belongs to another account or denies access; use a bucket of this account.`;
          throw err;
        }
      })(),
    );
  } else if (p.newDeployment) {
    checks.push(
      (async () => {
        const owner = await bucketOwner(await ctx.aws.s3(home), names.bucket, p.deploymentId);
        if (owner === 'absent' || owner === 'ours') return undefined;
        return `S3 bucket name ${names.bucket} is already taken${owner === 'another-account' ? ' by another AWS account' : ''}; choose another --prefix.`;
      })(),
    );
  }
  if (inputs.existingCaRoleArn) checks.push(roleExists(ctx, inputs.existingCaRoleArn, '--existing-ca-role-arn'));
  if (inputs.existingFirehoseRoleArn) checks.push(roleExists(ctx, inputs.existingFirehoseRoleArn, '--existing-firehose-role-arn'));
  if (inputs.existingCwRoleArn) checks.push(roleExists(ctx, inputs.existingCwRoleArn, '--existing-cw-role-arn'));
  if (inputs.kmsKeyArn) {
    const keyArn = inputs.kmsKeyArn;
    checks.push(
      (async () => {
        const region = keyArn.split(':')[3] ?? '';
        if (region !== home) return `--kms-key-arn: the key is in ${region}, but the bucket, topic and stream live in ${home}; use a key of ${home}.`;
        const kms = await ctx.aws.kms(region);
        try {
          const m = (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata;
          if (m?.KeyState !== 'Enabled') return `--kms-key-arn: the key is ${m?.KeyState ?? 'unusable'}; use an enabled key.`;
          return undefined;
        } catch (err) {
          if (isNotFound(err)) return `--kms-key-arn: no such key; check the ARN.`;
          throw err;
        }
      })(),
    );
  }
  const [cluster, ...rest] = await Promise.all([clusterCheck, ...checks]);
  const problems = [...cluster.problems, ...rest.flat().filter((x): x is string => typeof x === 'string')];
  return { problems, clusters: cluster.facts };
}
