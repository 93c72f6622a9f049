/**
 * `status` (DESIGN §2): the deployment checked hop by hop along the data path (§1). It is the plan of the
 * deployment's own recorded inputs (read + diff: anything that differs is drift, and setup repairs it),
 * plus the data-flow probes that are not resources: a KMS key of the user's still usable by the pipeline,
 * objects arriving, FortiCNAPP subscribed to the topic, FortiCNAPP's own view of the integration.
 * Read-only. Never prints.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AppError } from '../errors.js';
import { describeAwsError, isAccessDenied } from '../aws/errors.js';
import { iamNeeds, type IamNeed } from '../aws/iam.js';
import { callerAccount } from '../aws/lookups.js';
import { DEFAULTS, type Inputs } from '../config/inputs.js';
import { makeNames, pipelineArns } from '../config/naming.js';
import { locate, recordedInputs, recordOf, specFor, unknownDeployment, type AccountEnv, type Connect } from './deployment.js';
import { buildPlan, type PlanItem } from './plan.js';
import { userKeyProblems } from './preflight.js';
import { createMemo, type Ctx, type Ref, type Spec } from './resource.js';
import { subscriptionsOf } from './resources/forticnapp-integration.js';
import { KEYS } from './resources/keys.js';

export const VERIFY_IAM: IamNeed[] = iamNeeds('bucket', `
  ListObjectsV2Command  s3:ListBucket | status: objects arriving under the prefix
`);

/** ok: works · fail: broken (exit 1) · warn: not (yet) proven, not broken · unchecked: could not look. */
export type HopState = 'ok' | 'fail' | 'warn' | 'unchecked';

/** One check of one resource on the data path. */
export interface HopCheck {
  /** Row of the data-path table in DESIGN §1 (1 audit logging … 8 FortiCNAPP reads the object). */
  hop: number;
  /** The resource kind, or a probe: `kms-key-policy`, `objects`, `sns-subscriptions`, `forticnapp-health`. */
  check: string;
  /** For people: 'S3 bucket'. */
  label: string;
  resource: string;
  /** Region, or 'global'. */
  region: string;
  state: HopState;
  detail: string;
  /** How to fix it, when it is not "run setup again". */
  fix?: string;
  /** Setup repairs it (the CLI shows the exact setup command). */
  repairBySetup?: boolean;
}

export interface StatusReport {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  /** The inputs setup last applied: the setup command that repairs is built from them. */
  inputs: Inputs;
  /** Where the FortiCNAPP key came from at setup (path or profile name). */
  credentialSource?: { keyFile?: string; profile?: string };
  checks: HopCheck[];
  healthy: boolean;
}

/** A setup that finished less than this long ago may not have delivered its first object yet. */
const FIRST_OBJECT_GRACE_MS = 30 * 60_000;
/** Newest object older than this means nothing arrives (Firehose flushes every 300 s). */
const RECENT_MS = 60 * 60_000;

function describeItem(item: PlanItem): Omit<HopCheck, 'hop' | 'check' | 'label' | 'resource' | 'region'> {
  if (item.readError !== undefined) {
    const err = item.readError;
    if (err instanceof AppError && err.code === 'NoCredentials') {
      return { state: 'unchecked', detail: 'no FortiCNAPP credentials given', fix: 'pass --api-key-file (or --profile, or the LW_* variables) to check it' };
    }
    return {
      state: 'unchecked',
      detail: isAccessDenied(err) ? `not allowed to look (${describeAwsError(err)})` : `could not check: ${err instanceof AppError ? err.message : describeAwsError(err)}`,
      ...(isAccessDenied(err) ? { fix: "grant what 'permissions' prints" } : {}),
    };
  }
  if (item.conflicts.length > 0 && item.kind === 'eks-audit-logging' && !item.found) {
    return { state: 'fail', detail: `EKS cluster ${item.name} no longer exists in ${item.region}`, fix: 'run setup without it: the filter goes, the log group stays' };
  }
  switch (item.action) {
    case 'keep':
      return { state: 'ok', detail: item.kind === 'eks-audit-logging' ? 'audit logging is on' : 'as setup made it' };
    case 'create':
      return { state: 'fail', detail: 'missing', repairBySetup: true };
    case 'replace':
      return { state: 'fail', detail: `must be replaced: ${item.why}`, repairBySetup: true };
    default:
      return { state: 'fail', detail: item.changes.map((c) => `${c.field}: ${c.from} (setup makes ${c.to})`).join('; '), repairBySetup: true };
  }
}

/**
 * Checks the deployment of (account, prefix), or the one named.
 * @throws UsageError `UnknownDeployment` (exit 2) when there is none.
 */
export async function checkStatus(env: AccountEnv, opts: { deploymentId?: string; prefix?: string; now?: () => number; connect?: Connect }): Promise<StatusReport> {
  const accountId = env.accountId ?? (await callerAccount(env.aws, env.regionHint ?? 'us-east-1'));
  const located = await locate({ ...env, accountId }, { prefix: opts.prefix ?? DEFAULTS.prefix, ...(opts.deploymentId ? { deploymentId: opts.deploymentId } : {}), regions: [], scanAll: true });
  const record = recordOf(located);
  if (!record) throw unknownDeployment(located);
  // Status without FortiCNAPP credentials still checks AWS; the integration hop is then "not checked".
  const lacework = env.lacework ?? (await opts.connect?.(record.credentialSource, false));
  await lacework?.verify();
  const names = makeNames(record.prefix, record.deploymentId, accountId, record.homeRegion);
  const inputs = recordedInputs(record);
  const spec: Spec = { ...specFor(inputs, names, record.externalId, record), unfinished: false };
  const refs = new Map<string, Ref>();
  const memo = createMemo();
  const signal = new AbortController().signal;
  const ctx: Ctx = { aws: env.aws, ...(lacework ? { lacework } : {}), spec, refs, memo, signal, progress: () => {} };
  const plan = await buildPlan(spec, undefined, () => ctx, { strays: false });
  const checks: HopCheck[] = plan.items.map((item) => ({
    hop: item.hop,
    check: item.kind,
    label: item.label,
    resource: item.name,
    region: item.region,
    ...describeItem(item),
  }));
  checks.push(...(await probes(ctx, plan.items, inputs, record.updatedAt, opts.now ?? Date.now)));
  checks.sort((a, b) => a.hop - b.hop);
  return {
    deploymentId: record.deploymentId,
    accountId,
    homeRegion: record.homeRegion,
    inputs,
    ...(record.credentialSource ? { credentialSource: record.credentialSource } : {}),
    checks,
    healthy: !checks.some((c) => c.state === 'fail'),
  };
}

/** `YYYY/MM/DD/` of a UTC day: Firehose writes objects under `<prefix>YYYY/MM/DD/HH/`. */
const dayPath = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '/') + '/';

async function probes(ctx: Ctx, items: PlanItem[], inputs: Inputs, setupAt: string, now: () => number): Promise<HopCheck[]> {
  const { names } = ctx.spec;
  const arns = pipelineArns(inputs, names);
  const out: HopCheck[] = [];
  const guard = async (hop: number, check: string, label: string, resource: string, region: string, fn: () => Promise<Pick<HopCheck, 'state' | 'detail' | 'fix'>>) => {
    try {
      out.push({ hop, check, label, resource, region, ...(await fn()) });
    } catch (err) {
      out.push({ hop, check, label, resource, region, state: 'unchecked', detail: `could not check: ${describeAwsError(err)}` });
    }
  };
  // A key of the user's is no resource of ours, but the pipeline needs it (issue 11 item 3): its state and policy.
  if (inputs.kmsKeyArn && !inputs.noKms) {
    const keyArn = inputs.kmsKeyArn;
    await guard(4, 'kms-key-policy', 'KMS key (yours)', keyArn, names.homeRegion, async () => {
      const problems = await userKeyProblems(ctx.aws, keyArn, inputs, names);
      if (problems.length === 0) return { state: 'ok', detail: 'enabled, and its key policy lets the pipeline use it' };
      return { state: 'fail', detail: problems.join(' '), fix: 'the key owner fixes the key (or its policy) as said; nothing else needs to change' };
    });
  }
  const bucketThere = inputs.existingBucketArn || items.find((i) => i.key === KEYS.bucket)?.found;
  if (bucketThere) {
    await guard(5, 'objects', 'objects arriving', `s3://${arns.bucketName}/${names.objectPrefix}`, names.homeRegion, async () => {
      const s3 = await ctx.aws.s3(names.homeRegion);
      let newest: Date | undefined;
      let count = 0;
      for (const day of [dayPath(now()), dayPath(now() - 86_400_000)]) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: arns.bucketName, Prefix: names.objectPrefix + day, ExpectedBucketOwner: names.accountId }));
        for (const o of page.Contents ?? []) {
          count++;
          if (o.LastModified && (!newest || o.LastModified > newest)) newest = o.LastModified;
        }
        if (newest) break;
      }
      const age = newest ? now() - newest.getTime() : undefined;
      if (age !== undefined && age <= RECENT_MS) return { state: 'ok', detail: `newest object ${Math.max(0, Math.round(age / 60_000))} min old (${count} today)` };
      const what = newest ? `the newest object is ${Math.round((age ?? 0) / 60_000)} min old` : 'no object in the last two days';
      if (now() - Date.parse(setupAt) < FIRST_OBJECT_GRACE_MS) {
        return { state: 'warn', detail: `${what}; setup finished recently`, fix: 'Firehose delivers within about 5 minutes of the first audit events (300 s buffer); check again shortly' };
      }
      return { state: 'fail', detail: `${what}: audit events are not arriving`, fix: 'the hops above show where the path breaks; if all are ok, check that the clusters are in use and the filter pattern matches their events' };
    });
  }
  if (items.find((i) => i.key === KEYS.topic)?.found) {
    await guard(7, 'sns-subscriptions', 'SNS subscriptions', names.topic, names.homeRegion, async () => {
      const subs = (await subscriptionsOf(ctx, names.homeRegion, names.topicArn)) ?? [];
      const confirmed = subs.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
      const platform = confirmed.filter((s) => s.Endpoint !== inputs.sqsQueueArn);
      if (platform.length === 0) {
        return {
          state: 'fail',
          detail: 'FortiCNAPP is not subscribed to the topic: it is never told about new objects',
          fix: 'run setup again: it updates the integration so that FortiCNAPP subscribes again',
        };
      }
      return { state: 'ok', detail: `${confirmed.length} confirmed (${confirmed.map((s) => `${s.Protocol}:${s.Endpoint}`).join(', ')})` };
    });
  }
  const intg = items.find((i) => i.key === KEYS.integration);
  if (intg?.found && intg.found.state.healthy === false) {
    const d = intg.found.state.health as { message?: unknown } | string | undefined;
    const why = typeof d === 'string' ? d : typeof d?.message === 'string' ? d.message : d === undefined ? '' : JSON.stringify(d);
    out.push({
      hop: 8,
      check: 'forticnapp-health',
      label: 'FortiCNAPP reads the objects',
      resource: intg.name,
      region: 'global',
      state: 'fail',
      detail: `FortiCNAPP reports the integration unhealthy${why ? `: ${why.slice(0, 300)}` : ''}`,
      fix: 'FortiCNAPP reads through the cross-account role (its trust needs the external ID) and the topic; its own error is in the console (Settings > Integrations > Cloud accounts)',
    });
  }
  return out;
}
