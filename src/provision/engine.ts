/**
 * The engine: runs a deployment's tasks as a dependency graph with bounded concurrency, journals every
 * change (intent before the call, done after), and undoes this run's changes newest first when a task
 * fails for good or the run is interrupted. It never prints: it emits events for the CLI to render.
 */
import { AppError } from '../errors.js';
import { describeAwsError } from '../aws/errors.js';
import type { Journal } from '../journal/journal.js';
import type { DoneRecord, IntentRecord } from '../journal/records.js';
import { abortableSleep } from './retry.js';
import type { BaseContext, Found, Ref, ResourceKind, StepContext, Task, TeardownHandler } from './step.js';

export type Action = 'created' | 'kept' | 'changed' | 'deleted' | 'restored';

export interface ResourceResult {
  kind: ResourceKind;
  key: string;
  id: string;
  arn?: string;
  region: string;
  action: Action;
}

export type EngineEvent =
  | { type: 'start'; key: string; kind: ResourceKind; region: string; name: string; op: 'create' | 'change' | 'delete' | 'restore' }
  | { type: 'progress'; key: string; message: string }
  | { type: 'done'; key: string; kind: ResourceKind; region: string; name: string; action: Action | 'gone'; ms: number }
  | { type: 'failed'; key: string; kind: ResourceKind; region: string; name: string; message: string }
  | { type: 'phase'; phase: 'apply' | 'rollback' | 'teardown'; message?: string };

export type Emit = (e: EngineEvent) => void;

export interface PlannedTask {
  task: Task;
  found?: Found;
  action: 'create' | 'keep' | 'change';
  /** A crashed run left an intent without `done` for this task. */
  resume?: boolean;
}

/** A counting semaphore; a task gives its slot back while it sleeps so waits don't block others. */
class Slots {
  private free: number;
  private waiters: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** Limits a concurrent map (used for finds and teardown ranks). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) {
      const idx = i++;
      out[idx] = await fn(items[idx] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

export type SetupBase = Omit<StepContext, 'sleep' | 'progress' | 'signal' | 'refs' | 'resuming'>;

/**
 * Looks every task up (read-only) and decides create / keep / change. An intent without `done` in the
 * journal (a crash mid-call) forces create, so a half-made resource is finished rather than kept.
 */
export async function findAll(
  tasks: Task[],
  base: SetupBase,
  signal: AbortSignal,
  unfinished: Set<string>,
  concurrency = 8,
): Promise<PlannedTask[]> {
  const refs = new Map<string, Ref>();
  const ctx: StepContext = { ...base, refs, signal, resuming: false, sleep: (ms) => abortableSleep(ms, signal), progress: () => {} };
  return mapLimit(tasks, concurrency, async (task) => {
    const found = await task.find(ctx);
    const resume = unfinished.has(task.key);
    if (!found) return { task, action: 'create' as const, resume };
    if (resume && task.mode !== 'never') return { task, found, action: 'create' as const, resume };
    return { task, found, action: found.drift ? ('change' as const) : ('keep' as const) };
  });
}

export interface ApplyOutcome {
  status: 'ok' | 'failed' | 'interrupted';
  results: ResourceResult[];
  /** The task that failed for good, and why. */
  failure?: { key: string; kind: ResourceKind; name: string; error: unknown };
  rolledBack: boolean;
  /** What this run made that is still there (after rollback: what could not be undone). */
  leftovers: ResourceResult[];
  refs: Map<string, Ref>;
}

export interface ApplyOptions {
  journal: Journal;
  emit: Emit;
  signal: AbortSignal;
  handlers: Map<ResourceKind, TeardownHandler>;
  concurrency?: number;
  noRollback?: boolean;
}

/** One line for an error: our own messages as they are, AWS errors with their code. */
export function explain(err: unknown): string {
  return err instanceof AppError ? err.message : describeAwsError(err);
}

function resultOf(task: Task, ref: Ref, action: Action): ResourceResult {
  return { kind: task.kind, key: task.key, id: ref.id, arn: ref.arn, region: task.region, action };
}

export async function applyPlan(planned: PlannedTask[], base: SetupBase, opts: ApplyOptions): Promise<ApplyOutcome> {
  const { journal, emit, signal } = opts;
  // Once a task fails for good everything will be rolled back, so the others stop at their next wait
  // instead of finishing (a filter may otherwise retry for minutes before the rollback can start).
  const stop = new AbortController();
  const runSignal = AbortSignal.any([signal, stop.signal]);
  const slots = new Slots(opts.concurrency ?? 10);
  const refs = new Map<string, Ref>();
  const results: ResourceResult[] = [];
  const thisRun: { done: DoneRecord; task: Task }[] = [];
  const intents = new Map<string, IntentRecord>();
  const inPlan = new Set(planned.map((p) => p.task.key));
  let failure: ApplyOutcome['failure'];

  for (const p of planned) {
    if (p.action === 'keep' && p.found) {
      refs.set(p.task.key, p.found.ref);
      results.push(resultOf(p.task, p.found.ref, 'kept'));
    }
  }
  const pending = planned.filter((p) => p.action !== 'keep');
  const finished = new Set(planned.filter((p) => p.action === 'keep').map((p) => p.task.key));
  const failed = new Set<string>();
  const running = new Map<string, Promise<void>>();

  const ctxFor = (task: Task, resuming: boolean): StepContext => ({
    ...base,
    refs,
    signal: runSignal,
    resuming,
    progress: (message) => emit({ type: 'progress', key: task.key, message }),
    sleep: async (ms) => {
      slots.release();
      try {
        await abortableSleep(ms, runSignal);
      } finally {
        await slots.acquire();
      }
    },
  });

  const run = async (p: PlannedTask): Promise<void> => {
    const { task } = p;
    await slots.acquire();
    const t0 = Date.now();
    try {
      if (signal.aborted || failure) return;
      const op = p.action === 'change' ? 'change' : 'create';
      emit({ type: 'start', key: task.key, kind: task.kind, region: task.region, name: task.name, op });
      const intent: IntentRecord = {
        t: 'intent', key: task.key, kind: task.kind, region: task.region, name: task.name, op,
        ...(p.found?.before ? { before: p.found.before } : {}),
        ...(task.hint ? { hint: task.hint } : {}),
        at: new Date().toISOString(),
      };
      journal.append(intent);
      intents.set(task.key, intent);
      const ctx = ctxFor(task, !!p.resume);
      const ref = op === 'change' && task.change && p.found ? await task.change(ctx, p.found) : await task.create(ctx);
      const action = op === 'change' ? 'changed' : 'created';
      const done: DoneRecord = {
        t: 'done', key: task.key, kind: task.kind, region: task.region, name: task.name, action, ref,
        ...(p.found?.before ? { before: p.found.before } : {}),
        at: new Date().toISOString(),
      };
      journal.append(done);
      intents.delete(task.key);
      thisRun.push({ done, task });
      refs.set(task.key, ref);
      results.push(resultOf(task, ref, action));
      finished.add(task.key);
      emit({ type: 'done', key: task.key, kind: task.kind, region: task.region, name: task.name, action, ms: Date.now() - t0 });
    } catch (err) {
      failed.add(task.key);
      const stopped = !signal.aborted && !!failure;
      if (!signal.aborted && !failure) {
        failure = { key: task.key, kind: task.kind, name: task.name, error: err };
        stop.abort(new AppError('Stopped', 'stopped because another step failed'));
      }
      const message = signal.aborted ? 'interrupted' : stopped ? 'stopped because another step failed' : explain(err);
      emit({ type: 'failed', key: task.key, kind: task.kind, region: task.region, name: task.name, message });
    } finally {
      slots.release();
    }
  };

  emit({ type: 'phase', phase: 'apply' });
  while (pending.length > 0 || running.size > 0) {
    if (!signal.aborted && !failure) {
      for (let i = 0; i < pending.length; ) {
        const p = pending[i] as PlannedTask;
        const blocked = p.task.needs.some((k) => inPlan.has(k) && !finished.has(k));
        const doomed = p.task.needs.some((k) => failed.has(k));
        if (doomed) {
          pending.splice(i, 1);
          failed.add(p.task.key);
          continue;
        }
        if (blocked) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        const pr = run(p).finally(() => running.delete(p.task.key));
        running.set(p.task.key, pr);
      }
    } else {
      pending.length = 0;
    }
    if (running.size === 0) {
      if (pending.length > 0 && !failure && !signal.aborted) {
        throw new AppError('PlanCycle', `Internal error: tasks ${pending.map((p) => p.task.key).join(', ')} wait on each other.`);
      }
      break;
    }
    await Promise.race(running.values());
  }

  const interrupted = signal.aborted;
  if (!failure && !interrupted) {
    return { status: 'ok', results, rolledBack: false, leftovers: [], refs };
  }

  // This run's changes, newest first, plus calls that may have landed without a `done`.
  const made = thisRun.map(({ done, task }) => resultOf(task, done.ref, done.action === 'created' ? 'created' : 'changed'));
  if (opts.noRollback) {
    return { status: interrupted ? 'interrupted' : 'failed', results, failure, rolledBack: false, leftovers: made, refs };
  }
  emit({ type: 'phase', phase: 'rollback', message: interrupted ? 'interrupted: undoing this run’s changes' : `undoing this run’s changes` });
  const undoItems: UndoItem[] = [
    ...thisRun.map(({ done }) => ({ key: done.key, kind: done.kind as ResourceKind, region: done.region, name: done.name, done: [done], seq: 0 })),
    ...[...intents.values()].map((intent) => ({ key: intent.key, kind: intent.kind as ResourceKind, region: intent.region, name: intent.name, done: [], pendingIntent: intent, seq: 0 })),
  ].map((item, seq) => ({ ...item, seq }));
  const rollbackCtx: BaseContext = {
    aws: base.aws,
    lacework: base.lacework,
    signal: new AbortController().signal, // rollback itself is not interrupted by the first Ctrl+C
    sleep: (ms) => abortableSleep(ms, new AbortController().signal),
    progress: () => {},
  };
  const undo = await undoAll(undoItems, rollbackCtx, opts.handlers, journal, emit, { deploymentId: base.deploymentId });
  return {
    status: interrupted ? 'interrupted' : 'failed',
    results: undo.results,
    failure,
    rolledBack: undo.leftovers.length === 0,
    leftovers: undo.leftovers,
    refs,
  };
}

export interface UndoItem {
  key: string;
  kind: ResourceKind;
  region: string;
  name: string;
  done: DoneRecord[];
  pendingIntent?: IntentRecord;
  seq: number;
}

/**
 * Undoes items in teardown order (rank), newest first within a rank; items of one rank run
 * concurrently. A created resource is deleted; a changed one restored; an intent without `done`
 * is looked up by name and deleted (or restored) if it landed.
 */
export async function undoAll(
  items: UndoItem[],
  ctx: BaseContext,
  handlers: Map<ResourceKind, TeardownHandler>,
  journal: Journal | undefined,
  emit: Emit,
  hint: { deploymentId?: string },
): Promise<{ results: ResourceResult[]; leftovers: ResourceResult[]; errors: { key: string; message: string }[] }> {
  const byRank = new Map<number, UndoItem[]>();
  for (const item of items) {
    const h = handlers.get(item.kind);
    if (!h) throw new AppError('UnknownKind', `Internal error: no teardown handler for ${item.kind}.`);
    const list = byRank.get(h.rank) ?? [];
    list.push(item);
    byRank.set(h.rank, list);
  }
  const results: ResourceResult[] = [];
  const leftovers: ResourceResult[] = [];
  const errors: { key: string; message: string }[] = [];
  for (const rank of [...byRank.keys()].sort((a, b) => a - b)) {
    const list = (byRank.get(rank) ?? []).sort((a, b) => b.seq - a.seq);
    await mapLimit(list, 8, async (item) => {
      const h = handlers.get(item.kind) as TeardownHandler;
      const created = item.done.find((d) => d.action === 'created');
      const changes = item.done.filter((d) => d.action === 'changed');
      const intent = item.pendingIntent;
      const lastRef = item.done[item.done.length - 1]?.ref;
      const asResult = (action: Action, ref?: Ref): ResourceResult => ({
        kind: item.kind, key: item.key, id: ref?.id ?? item.name, arn: ref?.arn, region: item.region, action,
      });
      const t0 = Date.now();
      // Interrupted (teardown's Ctrl+C): finish the calls under way, start no new ones. What is left stays
      // in the journal, so the next teardown resumes there.
      if (ctx.signal.aborted) {
        errors.push({ key: item.key, message: `${item.kind} ${item.name}: not removed (interrupted)` });
        leftovers.push(asResult(created ? 'created' : 'changed', lastRef));
        return;
      }
      try {
        if (h.keep && (created || intent?.op === 'create')) {
          // Kept, never deleted; reported as kept only if it exists (a create that never landed made nothing).
          const ref = created?.ref ?? (await h.findByName(ctx, item.region, item.name, { ...intent?.hint, ...hint }));
          journal?.append({ t: 'undone', key: item.key, kind: item.kind, how: ref ? 'kept' : 'gone', at: new Date().toISOString() });
          if (ref) results.push(asResult('kept', ref));
          emit({ type: 'done', key: item.key, kind: item.kind, region: item.region, name: item.name, action: ref ? 'kept' : 'gone', ms: 0 });
          return;
        }
        if (created || intent?.op === 'create') {
          emit({ type: 'start', key: item.key, kind: item.kind, region: item.region, name: item.name, op: 'delete' });
          const ref = created?.ref ?? (await h.findByName(ctx, item.region, item.name, { ...intent?.hint, ...hint }));
          if (ref) await h.delete(ctx, ref);
          journal?.append({ t: 'undone', key: item.key, kind: item.kind, how: ref ? 'deleted' : 'gone', at: new Date().toISOString() });
          if (ref) results.push(asResult('deleted', ref));
          emit({ type: 'done', key: item.key, kind: item.kind, region: item.region, name: item.name, action: ref ? 'deleted' : 'gone', ms: Date.now() - t0 });
          return;
        }
        // Only changes: restore the state before the first change of this journal.
        const before = changes[0]?.before ?? intent?.before;
        if (before && h.restore) {
          emit({ type: 'start', key: item.key, kind: item.kind, region: item.region, name: item.name, op: 'restore' });
          await h.restore(ctx, { ref: lastRef, region: item.region, name: item.name, before });
          results.push(asResult('restored', lastRef));
        }
        journal?.append({ t: 'undone', key: item.key, kind: item.kind, how: 'restored', at: new Date().toISOString() });
        emit({ type: 'done', key: item.key, kind: item.kind, region: item.region, name: item.name, action: 'restored', ms: Date.now() - t0 });
      } catch (err) {
        const why = ctx.signal.aborted ? 'interrupted' : explain(err);
        const message = `${item.kind} ${item.name}${item.region !== 'global' ? ` (${item.region})` : ''}: ${why}`;
        errors.push({ key: item.key, message });
        leftovers.push(asResult(created ? 'created' : 'changed', lastRef));
        emit({ type: 'failed', key: item.key, kind: item.kind, region: item.region, name: item.name, message: why });
      }
    });
  }
  return { results, leftovers, errors };
}
