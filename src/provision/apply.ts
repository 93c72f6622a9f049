/**
 * Apply a plan (DESIGN §3, §4): creates, updates and replacements walk the graph forward, removals walk it
 * in reverse, and a failure rolls back what this run made by walking those in reverse. Every change is
 * journalled (intent before, done after). Never prints: it emits events.
 */
import { AppError, UserAbort } from '../errors.js';
import { explain } from '../aws/errors.js';
import type { Journal } from '../state/journal.js';
import type { Emit, Op, Outcome } from './events.js';
import { walk } from './graph.js';
import { WEIGHT, type Plan, type PlanItem } from './plan.js';
import type { Ctx, DeleteOutcome, Found, Ref, Spec, State } from './resource.js';
import { typeOf } from './resources/index.js';

/** What happened to one resource. */
export interface ResourceResult {
  key: string;
  kind: PlanItem['kind'];
  label: string;
  region: string;
  name: string;
  /** The resource's id (a key id, an intgGuid…), when it differs from its name. */
  id?: string;
  arn?: string;
  outcome: Outcome;
  /** scheduled-for-deletion: the date (ISO); kept: why. */
  detail?: string;
}

export interface ApplyOutcome {
  status: 'ok' | 'failed' | 'interrupted';
  results: ResourceResult[];
  /** The step that failed for good, and why. */
  failure?: { key: string; label: string; name: string; region: string; error: unknown };
  /** After a failure: everything this run made was undone. */
  rolledBack: boolean;
  /** After a failure: the rest was kept on purpose (a registration a re-run can retry). */
  keptForRetry: boolean;
  /** What this run made that is still there although it failed (after rollback: what could not be undone). */
  leftovers: ResourceResult[];
  /** Removals that failed (setup: a dropped cluster's filter; teardown: anything). */
  removeFailures: { key: string; message: string }[];
  refs: Map<string, Ref>;
}

export interface ApplyEnv {
  /** A context for a spec, with the given signal (refs and memo shared). */
  ctxFor(spec: Spec, signal: AbortSignal, progress: (message: string) => void): Ctx;
  desired?: Spec;
  recorded?: Spec;
  journal?: Journal;
  emit: Emit;
  /** The user's interrupt (Ctrl+C). */
  signal: AbortSignal;
  noRollback?: boolean;
}

const now = () => new Date().toISOString();


function resultOf(item: PlanItem, outcome: Outcome, ref?: Ref, detail?: string): ResourceResult {
  const id = ref?.id && ref.id !== item.name ? ref.id : undefined;
  return { key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, ...(id ? { id } : {}), arn: item.arn ?? ref?.arn, outcome, ...(detail ? { detail } : {}) };
}

function outcomeOf(d: DeleteOutcome): { outcome: Outcome; detail?: string } {
  switch (d.outcome) {
    case 'kept':
      return { outcome: 'kept', detail: d.why };
    case 'scheduled-for-deletion':
      return { outcome: 'scheduled-for-deletion', detail: d.date };
    default:
      return { outcome: d.outcome };
  }
}

const abortReason = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new UserAbort());

/**
 * Removes the plan's `remove` items, walking the graph in reverse: a resource goes once everything that
 * needs it is gone; what waits on a removal that failed stays (it is still needed).
 */
export async function removeAll(items: PlanItem[], ctx: Ctx, env: Pick<ApplyEnv, 'journal' | 'emit' | 'signal'>): Promise<{ results: ResourceResult[]; failures: { key: string; message: string }[] }> {
  const results: ResourceResult[] = [];
  const failures: { key: string; message: string }[] = [];
  const byKey = new Map(items.map((i) => [i.key, i]));
  const nodes = items.map((i) => ({ key: i.key, needs: i.instance.needs, weight: WEIGHT[i.kind] }));
  const out = await walk(
    nodes,
    'reverse',
    async (node) => {
      const item = byKey.get(node.key) as PlanItem;
      if (item.absent || !item.found) {
        results.push(resultOf(item, 'already-gone'));
        env.emit({ type: 'done', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, outcome: 'already-gone', ms: 0 });
        return;
      }
      const t0 = Date.now();
      env.emit({ type: 'start', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, op: 'delete' });
      env.journal?.append({ t: 'intent', key: item.key, kind: item.kind, region: item.region, name: item.name, op: 'delete', at: now() });
      try {
        const d = outcomeOf(await typeOf(item.kind).delete(ctx, item.instance, item.found.ref));
        env.journal?.append({ t: 'done', key: item.key, kind: item.kind, region: item.region, name: item.name, op: 'delete', ref: item.found.ref, at: now() });
        results.push(resultOf(item, d.outcome, item.found.ref, d.detail));
        env.emit({ type: 'done', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, outcome: d.outcome, ms: Date.now() - t0, ...(d.detail ? { detail: d.detail } : {}) });
      } catch (err) {
        const why = env.signal.aborted ? 'interrupted' : explain(err);
        env.emit({ type: 'failed', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, message: why });
        throw err;
      }
    },
    { stopOnFailure: false, signal: env.signal },
  );
  for (const [key, err] of out.failed) {
    const item = byKey.get(key) as PlanItem;
    failures.push({ key, message: `${item.label} ${item.name}${item.region !== 'global' ? ` (${item.region})` : ''}: ${env.signal.aborted ? 'interrupted' : explain(err)}` });
  }
  for (const key of out.skipped) {
    const item = byKey.get(key) as PlanItem;
    failures.push({ key, message: `${item.label} ${item.name}${item.region !== 'global' ? ` (${item.region})` : ''}: not removed (${env.signal.aborted ? 'interrupted' : 'something that uses it could not be removed'})` });
  }
  return { results, failures };
}

interface Made {
  item: PlanItem;
  op: Op;
  ref: Ref;
  /** The state after the change (for an update's rollback). */
  after?: State;
}

/**
 * What steps that failed part way left behind, read afresh: a create's resource (or, when it cannot be found by
 * name, the first of its strays: a key without its alias), an update's resource to restore. Unreadable: skipped
 * (the journal holds the intent; teardown finds it).
 */
async function halfMade(items: PlanItem[], ctx: Ctx): Promise<Made[]> {
  ctx.memo.forget('');
  const out: Made[] = [];
  for (const item of items) {
    const type = typeOf(item.kind);
    try {
      if (item.action === 'update') {
        if (item.found) out.push({ item, op: 'update', ref: item.found.ref, after: type.desired(ctx, item.instance) });
        continue;
      }
      const found = (await type.read(ctx, item.instance)) ?? (await type.strays?.(ctx, item.instance, undefined))?.[0];
      if (found) out.push({ item, op: 'create', ref: found.ref });
    } catch {
      // Cannot tell what is there.
    }
  }
  return out;
}

/**
 * Applies a plan: forward over creates, updates and replacements; then removals in reverse. On a failure:
 * rollback of this run's changes (unless `noRollback`, or the failing kind says a re-run can simply retry).
 */
export async function applyPlan(plan: Plan, env: ApplyEnv): Promise<ApplyOutcome> {
  const { emit, journal, signal } = env;
  // After the first failure the others stop at their next wait instead of finishing (a filter could otherwise
  // retry for minutes before the rollback starts).
  const stop = new AbortController();
  const runSignal = AbortSignal.any([signal, stop.signal]);
  const ctxOf = (spec: Spec, key: string) => env.ctxFor(spec, runSignal, (message) => emit({ type: 'progress', key, message }));
  const desired = env.desired as Spec;
  const results: ResourceResult[] = [];
  const made: Made[] = [];
  /** Steps that began changing something (a failed one may have done part of it). */
  const started = new Set<string>();
  const forward = plan.items.filter((i) => i.action !== 'remove');
  const byKey = new Map(forward.map((i) => [i.key, i]));
  const refs = ctxOf(desired, '').refs;

  emit({ type: 'phase', phase: 'apply' });
  const walked = await walk(
    forward.map((i) => ({ key: i.key, needs: i.instance.needs, weight: WEIGHT[i.kind] })),
    'forward',
    async (node) => {
      const item = byKey.get(node.key) as PlanItem;
      if (item.action === 'keep') {
        results.push(resultOf(item, 'kept', item.found?.ref));
        return;
      }
      if (runSignal.aborted) throw abortReason(runSignal);
      const type = typeOf(item.kind);
      const ctx = ctxOf(desired, item.key);
      const op: Op = item.action === 'update' ? 'update' : item.action === 'replace' ? 'replace' : 'create';
      const t0 = Date.now();
      emit({ type: 'start', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, op });
      started.add(item.key);
      const want = type.desired(ctx, item.instance);
      journal?.append({
        t: 'intent', key: item.key, kind: item.kind, region: item.region, name: item.name, op: op === 'replace' ? 'create' : op,
        ...(op === 'update' && item.found ? { before: item.found.state } : {}), at: now(),
      });
      try {
        let ref: Ref;
        let adopted = false;
        if (op === 'update') {
          ref = await type.update(ctx, item.instance, want, item.found as Found, item.changes);
        } else {
          if (op === 'replace' && item.found) await type.delete(ctx, item.instance, item.found.ref);
          const m = await type.create(ctx, item.instance, want);
          ref = m.ref;
          adopted = !!m.adopted;
        }
        refs.set(item.key, ref);
        journal?.append({
          t: 'done', key: item.key, kind: item.kind, region: item.region, name: item.name, op: op === 'replace' ? 'create' : op, ref,
          ...(adopted ? { adopted } : {}), ...(op === 'update' && item.found ? { before: item.found.state } : {}), at: now(),
        });
        if (!adopted) made.push({ item, op, ref, after: want });
        const outcome: Outcome = adopted ? 'adopted' : op === 'update' ? 'changed' : 'created';
        results.push(resultOf(item, outcome, ref));
        emit({ type: 'done', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, outcome, ms: Date.now() - t0 });
      } catch (err) {
        const message = signal.aborted ? 'interrupted' : stop.signal.aborted && !(err instanceof AppError && err.code === 'WaitTimeout') ? 'stopped: another step failed' : explain(err);
        emit({ type: 'failed', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, message });
        throw err;
      }
    },
    { stopOnFailure: true, signal, onFirstFailure: () => stop.abort(new AppError('Stopped', 'stopped because another step failed')) },
  );

  const interrupted = signal.aborted;
  const firstFailed = [...walked.failed.entries()].find(([, e]) => !(e instanceof AppError && e.code === 'Stopped'))?? [...walked.failed.entries()][0];
  if (!firstFailed && !interrupted) {
    // Removals, in reverse: what the inputs no longer want.
    const removals = plan.items.filter((i) => i.action === 'remove' && !i.absent);
    let removeFailures: { key: string; message: string }[] = [];
    if (removals.length > 0) {
      emit({ type: 'phase', phase: 'remove' });
      const rctx = env.ctxFor(env.recorded ?? desired, signal, () => {});
      const out = await removeAll(removals, rctx, { journal, emit, signal });
      results.push(...out.results);
      removeFailures = out.failures;
    }
    return {
      status: signal.aborted ? 'interrupted' : removeFailures.length > 0 ? 'failed' : 'ok',
      results,
      rolledBack: false,
      keptForRetry: false,
      leftovers: [],
      removeFailures,
      refs,
    };
  }

  const failedItem = firstFailed ? byKey.get(firstFailed[0]) : undefined;
  const failure = failedItem && firstFailed
    ? { key: failedItem.key, label: failedItem.label, name: failedItem.name, region: failedItem.region, error: firstFailed[1] }
    : undefined;
  const madeResults = made.map((m) => resultOf(m.item, m.op === 'update' ? 'changed' : 'created', m.ref));
  const keepForRetry = !interrupted && !!failedItem && !!typeOf(failedItem.kind).leavesUpstreamOnFailure?.(firstFailed?.[1]);
  // A step that failed (or was stopped) half way may have left something (a bucket whose policy was refused, a key
  // without its alias, a cluster update sent): it is undone with the rest.
  if (!keepForRetry && !env.noRollback) {
    made.push(...(await halfMade(plan.items.filter((i) => walked.failed.has(i.key) && started.has(i.key)), env.ctxFor(desired, new AbortController().signal, () => {}))));
  }
  /** The outcome of a run that did not finish: what is left of it, and whether that is on purpose. */
  const unfinished = (leftovers: ResourceResult[], keptForRetry: boolean): ApplyOutcome => ({
    status: interrupted ? 'interrupted' : 'failed',
    results,
    ...(failure ? { failure } : {}),
    rolledBack: leftovers.length === 0,
    keptForRetry,
    leftovers,
    removeFailures: [],
    refs,
  });
  if (keepForRetry || env.noRollback || made.length === 0) return unfinished(madeResults, keepForRetry);

  // Rollback: this run's changes, newest dependents first (the same graph reversed). Not interrupted by the
  // first Ctrl+C (a second one exits at once; the journal says what is left).
  emit({ type: 'phase', phase: 'rollback', message: interrupted ? 'interrupted: undoing this run’s changes' : 'undoing this run’s changes' });
  const calm = new AbortController().signal;
  const madeByKey = new Map(made.map((m) => [m.item.key, m]));
  const leftovers: ResourceResult[] = [];
  const undone = await walk(
    made.map((m) => ({ key: m.item.key, needs: m.item.instance.needs, weight: WEIGHT[m.item.kind] })),
    'reverse',
    async (node) => {
      const m = madeByKey.get(node.key) as Made;
      const { item } = m;
      const type = typeOf(item.kind);
      const ctx = env.ctxFor(desired, calm, (message) => emit({ type: 'progress', key: item.key, message }));
      const t0 = Date.now();
      emit({ type: 'start', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, op: m.op === 'update' ? 'restore' : 'delete' });
      try {
        if (m.op === 'update' && item.found) {
          const back = item.changes.map((c) => ({ field: c.field, from: c.to, to: c.from }));
          await type.update(ctx, item.instance, item.found.state, { ref: m.ref, state: m.after ?? {} }, back);
          journal?.append({ t: 'undone', key: item.key, kind: item.kind, how: 'restored', at: now() });
          emit({ type: 'done', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, outcome: 'restored', ms: Date.now() - t0 });
        } else {
          const d = outcomeOf(await type.delete(ctx, item.instance, m.ref));
          journal?.append({ t: 'undone', key: item.key, kind: item.kind, how: d.outcome === 'already-gone' ? 'gone' : 'deleted', at: now() });
          emit({ type: 'done', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, outcome: d.outcome, ms: Date.now() - t0, ...(d.detail ? { detail: d.detail } : {}) });
        }
      } catch (err) {
        emit({ type: 'failed', key: item.key, kind: item.kind, label: item.label, region: item.region, name: item.name, message: explain(err) });
        throw err;
      }
    },
    { stopOnFailure: false },
  );
  for (const key of [...undone.failed.keys(), ...undone.skipped]) {
    const m = madeByKey.get(key) as Made;
    leftovers.push(resultOf(m.item, m.op === 'update' ? 'changed' : 'created', m.ref));
  }
  return unfinished(leftovers, false);
}
