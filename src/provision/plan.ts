/**
 * Plan = read + diff (DESIGN §2, §3). Every instance the inputs want is read and compared with its desired
 * state; every instance the deployment has that the inputs no longer want (a dropped cluster, a KMS key
 * after `--no-kms`) is a removal. Read-only. Conflicts are part of the plan: the whole plan is shown with
 * each conflict marked, and setup refuses to start while there is one.
 */
import { AppError } from '../errors.js';
import { describeAwsError } from '../aws/errors.js';
import { diffFields } from './diff.js';
import type { Change, Ctx, Found, Instance, PlanAction, ResourceType, Spec, State } from './resource.js';
import { RESOURCE_TYPES, typeOf } from './resources/index.js';

export interface PlanItem {
  key: string;
  kind: Instance['kind'];
  /** For people: 'S3 bucket'. */
  label: string;
  region: string;
  name: string;
  /** ARN when it is known before the resource exists, or what it is. */
  arn?: string;
  hop: number;
  action: PlanAction;
  /** update: the fields that differ; replace: why in `why`. */
  changes: Change[];
  /** replace: why the resource cannot be changed in place; remove: why it goes. */
  why?: string;
  /** Problems that stop setup. */
  conflicts: string[];
  /** remove of something that is not there (teardown reports it "already gone"). */
  absent?: boolean;
  /** An error reading it (status reports it as not checked; setup stops). */
  readError?: unknown;
  instance: Instance;
  found?: Found;
}

export interface Plan {
  items: PlanItem[];
  /** Every conflict, items' and the inputs' own (existing resources, keys, roles). */
  conflicts: string[];
  /** Something to do in AWS or FortiCNAPP. */
  hasChanges: boolean;
}

/** Typical seconds per kind, for "longest chain first" (DESIGN §7 latency model). */
export const WEIGHT: Record<Instance['kind'], number> = {
  'eks-audit-logging': 40,
  'log-group': 1,
  'iam-role': 10,
  'kms-key': 2,
  's3-bucket': 3,
  'sns-topic': 1,
  's3-bucket-notification': 1,
  'firehose-stream': 45,
  'subscription-filter': 2,
  'forticnapp-integration': 5,
  'sns-subscription': 1,
};

export function instancesOf(spec: Spec): Instance[] {
  return RESOURCE_TYPES.flatMap((t) => t.instances(spec));
}

function itemOf(inst: Instance, type: ResourceType, action: PlanAction, extra: Partial<PlanItem> = {}): PlanItem {
  return { key: inst.key, kind: inst.kind, label: type.label, region: inst.region, name: inst.name, arn: inst.arn, hop: type.hop, action, changes: [], conflicts: [], instance: inst, ...extra };
}

async function readSafely(ctx: Ctx, type: ResourceType, inst: Instance): Promise<{ found?: Found; error?: unknown }> {
  try {
    return { found: await type.read(ctx, inst) };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return { error: err };
  }
}

/**
 * Builds the plan.
 * @param desired the spec of the inputs (undefined for teardown: nothing is wanted).
 * @param recorded the spec of what the deployment has (from its record), undefined for a new deployment.
 * @param ctxFor a context for reads and diffs with a given spec (refs and memo shared by all).
 * @param opts.strays also look for what belongs to the deployment without being an instance (teardown, or after an unfinished run).
 */
export async function buildPlan(
  desired: Spec | undefined,
  recorded: Spec | undefined,
  ctxFor: (spec: Spec) => Ctx,
  opts: { strays: boolean },
): Promise<Plan> {
  const wanted = desired ? instancesOf(desired) : [];
  const wantedKeys = new Set(wanted.map((i) => i.key));
  const had = recorded ? instancesOf(recorded).filter((i) => !wantedKeys.has(i.key)) : [];
  const dctx = desired ? ctxFor(desired) : undefined;
  const rctx = recorded ? ctxFor(recorded) : undefined;

  const reads = await Promise.all([
    ...wanted.map(async (inst) => ({ inst, wanted: true, ...(await readSafely(dctx as Ctx, typeOf(inst.kind), inst)) })),
    ...had.map(async (inst) => ({ inst, wanted: false, ...(await readSafely(rctx as Ctx, typeOf(inst.kind), inst)) })),
  ]);
  for (const r of reads) if (r.found) (dctx ?? rctx)?.refs.set(r.inst.key, r.found.ref);

  const items: PlanItem[] = [];
  for (const r of reads) {
    const type = typeOf(r.inst.kind);
    if (r.error !== undefined) {
      items.push(itemOf(r.inst, type, r.wanted ? 'keep' : 'remove', { readError: r.error, found: r.found }));
      continue;
    }
    if (!r.wanted) {
      const why = removalWhy(r.inst, recorded as Spec, desired);
      items.push(itemOf(r.inst, type, 'remove', { ...(why ? { why } : {}), found: r.found, ...(r.found ? {} : { absent: true }) }));
      continue;
    }
    const ctx = dctx as Ctx;
    const conflicts = type.conflicts ? await type.conflicts(ctx, r.inst, r.found) : [];
    if (!r.found) {
      items.push(itemOf(r.inst, type, 'create', { conflicts }));
      continue;
    }
    const want = type.desired(ctx, r.inst);
    const replaceWhy = type.replaceWhy?.(r.found);
    if (replaceWhy) {
      items.push(itemOf(r.inst, type, 'replace', { why: replaceWhy, conflicts, found: r.found }));
      continue;
    }
    const changes = (type.diff ?? diffFields)(want as State, r.found.state);
    items.push(itemOf(r.inst, type, changes.length > 0 ? 'update' : 'keep', { changes, conflicts, found: r.found }));
  }

  // Changes forced by what happens upstream (the integration after the topic is re-created).
  if (dctx) {
    const byKey = new Map(items.map((i) => [i.key, i]));
    for (const item of items) {
      const type = typeOf(item.kind);
      if (!type.refresh || item.action !== 'keep') continue;
      const upstream = item.instance.needs.map((k) => byKey.get(k)).filter((u): u is PlanItem => !!u).map((u) => ({ key: u.key, action: u.action }));
      const forced = type.refresh(dctx, item.instance, upstream);
      if (forced.length > 0) {
        item.action = 'update';
        item.changes = forced;
      }
    }
  }

  if (opts.strays) {
    const ctx = (dctx ?? rctx) as Ctx;
    for (const item of [...items]) {
      const type = typeOf(item.kind);
      if (!type.strays || item.readError) continue;
      for (const stray of await type.strays(ctx, item.instance, item.found)) {
        const inst: Instance = { ...item.instance, key: `${item.key}#${stray.ref.id}`, name: stray.ref.id, arn: stray.ref.arn };
        items.push(itemOf(inst, type, 'remove', { why: 'left by an earlier run', found: stray }));
      }
    }
  }

  const conflicts = items.flatMap((i) => i.conflicts);
  const hasChanges = items.some((i) => i.action !== 'keep' && !(i.action === 'remove' && i.absent));
  return { items, conflicts, hasChanges };
}

function removalWhy(inst: Instance, recorded: Spec, desired: Spec | undefined): string {
  if (inst.kind === 'eks-audit-logging') {
    const before = recorded.auditBefore.get(`${inst.region}/${inst.name}`);
    const what = before === false ? 'audit logging back off (setup turned it on)' : before === true ? 'audit logging stays on (it was on before setup)' : 'audit logging left as it is (nothing records its state before setup)';
    return desired ? `cluster dropped: ${what}` : what;
  }
  if (inst.kind === 'log-group') return desired ? 'cluster dropped: the log group stays (it holds the cluster’s logs)' : 'kept: it holds the cluster’s logs';
  if (!desired) return '';
  const cluster = inst.extra?.cluster;
  if (cluster) return `cluster ${cluster} (${inst.region}) is no longer in the inputs`;
  if (inst.kind === 'kms-key') return desired.inputs.noKms ? '--no-kms' : '--kms-key-arn given';
  if (inst.kind === 's3-bucket') return '--existing-bucket-arn given';
  if (inst.kind === 'iam-role') return 'an existing role given instead';
  if (inst.kind === 'sns-subscription') return recorded.inputs.sqsQueueArn !== desired.inputs.sqsQueueArn ? '--sqs-queue-arn changed' : 'no longer wanted';
  return 'no longer wanted';
}

/** The first read error of a plan, as a failure of the command (setup and teardown cannot go on without it). */
export function readFailure(plan: Plan): AppError | undefined {
  const bad = plan.items.find((i) => i.readError !== undefined);
  if (!bad) return undefined;
  const err = bad.readError;
  if (err instanceof AppError) return err;
  return new AppError('ReadFailed', `Could not read ${bad.label} ${bad.name}${bad.region !== 'global' ? ` (${bad.region})` : ''}: ${describeAwsError(err)}`, { cause: err });
}
