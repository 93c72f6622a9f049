/**
 * The engine (DESIGN §3, §4) with fake tasks and handlers: dependency order and concurrency, the journal's
 * intent/done/undone records, rollback of this run newest first by teardown rank, what happens to tasks
 * still running when one fails, interruption, --no-rollback, a rollback that cannot undo, and undoAll's
 * behaviour on teardown (rank order, Ctrl+C, kept kinds).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan, findAll, undoAll, type EngineEvent, type PlannedTask, type SetupBase, type UndoItem } from '../../../src/provision/engine.js';
import { Journal } from '../../../src/journal/journal.js';
import type { DoneRecord, JournalRecord } from '../../../src/journal/records.js';
import type { BaseContext, Ref, ResourceKind, Task, TeardownHandler } from '../../../src/provision/step.js';

let stateDir: string;
let journal: Journal;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fea-engine-'));
  journal = Journal.open(stateDir, 'aabbccdd');
});
afterEach(() => {
  journal.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const records = () => readFileSync(journal.path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalRecord & { key?: string });

/** A pretend AWS: what exists, and the order of every create and delete. */
class FakeWorld {
  exists = new Map<string, string>();
  log: string[] = [];
  running = 0;
  maxRunning = 0;
}

const base = {} as SetupBase;

interface FakeTaskOpts {
  needs?: string[];
  /** Throw after the resource exists (half-made), or before (nothing made). */
  fail?: 'after' | 'before';
  /** Sleep this long through ctx.sleep after creating (a wait for ACTIVE, a propagation retry). */
  waitMs?: number;
  kind?: ResourceKind;
  region?: string;
}

function fakeTask(w: FakeWorld, key: string, opts: FakeTaskOpts = {}): Task {
  return {
    key,
    kind: opts.kind ?? 'iam-role',
    region: opts.region ?? 'global',
    name: key,
    needs: opts.needs ?? [],
    async find() {
      return w.exists.has(key) ? { ref: { id: key } } : undefined;
    },
    async create(ctx) {
      w.running++;
      w.maxRunning = Math.max(w.maxRunning, w.running);
      try {
        await new Promise((r) => setTimeout(r, 5));
        if (opts.fail === 'before') throw Object.assign(new Error(`User is not authorized to create ${key}`), { name: 'AccessDenied' });
        w.exists.set(key, 'made');
        w.log.push(`create ${key}`);
        if (opts.waitMs) await ctx.sleep(opts.waitMs);
        if (opts.fail === 'after') throw Object.assign(new Error(`User is not authorized to configure ${key}`), { name: 'AccessDenied' });
        return { id: key };
      } finally {
        w.running--;
      }
    },
  };
}

/** Handlers for every kind, with the DESIGN §4 ranks. */
function handlers(w: FakeWorld, opts: { failDelete?: string[]; keep?: ResourceKind[] } = {}): Map<ResourceKind, TeardownHandler> {
  const ranks: Record<ResourceKind, number> = {
    'forticnapp-integration': 0, 'subscription-filter': 10, 'firehose-stream': 20, 's3-bucket-notification': 30, 'sns-subscription': 30,
    'sns-topic': 40, 's3-bucket': 50, 'kms-key': 60, 'iam-role': 70, 'log-group': 80, 'eks-audit-logging': 90,
  };
  return new Map(
    (Object.keys(ranks) as ResourceKind[]).map((kind) => [
      kind,
      {
        kind,
        rank: ranks[kind],
        keep: opts.keep?.includes(kind),
        async delete(_ctx: BaseContext, ref: Ref) {
          if (opts.failDelete?.includes(ref.id)) throw Object.assign(new Error(`cannot delete ${ref.id}`), { name: 'DeleteConflict' });
          w.exists.delete(ref.id);
          w.log.push(`delete ${ref.id}`);
        },
        async restore(_ctx: BaseContext, record: { name: string; before?: Record<string, unknown> }) {
          w.exists.set(record.name, String(record.before?.state));
          w.log.push(`restore ${record.name}`);
        },
        async findByName(_ctx: BaseContext, _region: string, name: string) {
          return w.exists.has(name) ? { id: name } : undefined;
        },
      } satisfies TeardownHandler,
    ]),
  );
}

const plan = (tasks: Task[]): PlannedTask[] => tasks.map((task) => ({ task, action: 'create' as const }));

function apply(w: FakeWorld, tasks: Task[], opts: { signal?: AbortSignal; noRollback?: boolean; failDelete?: string[]; concurrency?: number; events?: EngineEvent[] } = {}) {
  return applyPlan(plan(tasks), base, {
    journal,
    emit: (e) => opts.events?.push(e),
    signal: opts.signal ?? new AbortController().signal,
    handlers: handlers(w, { failDelete: opts.failDelete }),
    noRollback: opts.noRollback,
    concurrency: opts.concurrency,
  });
}

describe('applyPlan', () => {
  it('runs tasks after what they need, independent ones concurrently within the bound, journalling intent then done', async () => {
    const w = new FakeWorld();
    const tasks = [
      fakeTask(w, 'a'), fakeTask(w, 'b'), fakeTask(w, 'c'), fakeTask(w, 'd'),
      fakeTask(w, 'e', { needs: ['a', 'b'] }), fakeTask(w, 'f', { needs: ['e', 'not-in-plan'] }),
    ];
    const out = await apply(w, tasks, { concurrency: 2 });
    expect(out.status).toBe('ok');
    expect(w.maxRunning).toBe(2);
    expect(w.log.indexOf('create e')).toBeGreaterThan(Math.max(w.log.indexOf('create a'), w.log.indexOf('create b')));
    expect(w.log.indexOf('create f')).toBeGreaterThan(w.log.indexOf('create e'));
    const r = records();
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const i = r.findIndex((x) => x.t === 'intent' && x.key === key);
      const d = r.findIndex((x) => x.t === 'done' && x.key === key);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(d).toBeGreaterThan(i);
    }
  });

  it('a permanent failure rolls back what this run made: by teardown rank, newest first within a rank, the half-made resource found by name', async () => {
    const w = new FakeWorld();
    const events: EngineEvent[] = [];
    const tasks = [
      fakeTask(w, 'role-1'),
      fakeTask(w, 'role-2', { needs: ['role-1'] }),
      fakeTask(w, 'key', { kind: 'kms-key', needs: ['role-2'] }),
      fakeTask(w, 'bucket', { kind: 's3-bucket', needs: ['key'], fail: 'after' }),
      fakeTask(w, 'stream', { kind: 'firehose-stream', needs: ['bucket'] }),
    ];
    const out = await apply(w, tasks, { events });
    expect(out.status).toBe('failed');
    expect(out.rolledBack).toBe(true);
    expect(out.leftovers).toEqual([]);
    expect(out.failure).toMatchObject({ key: 'bucket', kind: 's3-bucket' });
    expect((out.failure?.error as Error).name).toBe('AccessDenied');
    // The stream never started; the bucket (half made, no done) goes first, then the key, then the roles newest first.
    expect(w.log.filter((l) => l.startsWith('delete'))).toEqual(['delete bucket', 'delete key', 'delete role-2', 'delete role-1']);
    expect(w.exists.size).toBe(0);
    expect(records().filter((x) => x.t === 'undone').map((x) => x.key)).toEqual(['bucket', 'key', 'role-2', 'role-1']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'failed', key: 'bucket', message: 'AccessDenied: User is not authorized to configure bucket' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'rollback' }));
  });

  it('a failure stops the tasks still waiting (they do not run to their timeout); what they made is rolled back too', async () => {
    const w = new FakeWorld();
    const events: EngineEvent[] = [];
    const started = Date.now();
    const out = await apply(w, [fakeTask(w, 'slow', { kind: 'firehose-stream', waitMs: 60_000 }), fakeTask(w, 'bad', { fail: 'before' })], { events });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(out.status).toBe('failed');
    expect(out.failure?.key).toBe('bad');
    expect(out.rolledBack).toBe(true);
    expect(w.exists.size).toBe(0);
    expect(events).toContainEqual(expect.objectContaining({ type: 'failed', key: 'slow', message: 'stopped because another step failed' }));
  });

  it('interrupted (Ctrl+C): no new task starts, this run is rolled back, status interrupted', async () => {
    const w = new FakeWorld();
    const ctl = new AbortController();
    const tasks = [fakeTask(w, 'a', { waitMs: 60_000 }), fakeTask(w, 'b', { needs: ['a'] })];
    setTimeout(() => ctl.abort(new Error('SIGINT')), 30);
    const out = await apply(w, tasks, { signal: ctl.signal });
    expect(out.status).toBe('interrupted');
    expect(out.failure).toBeUndefined();
    expect(out.rolledBack).toBe(true);
    expect(w.log).toEqual(['create a', 'delete a']);
  });

  it('--no-rollback keeps what was made and reports it; nothing is undone', async () => {
    const w = new FakeWorld();
    const out = await apply(w, [fakeTask(w, 'a'), fakeTask(w, 'b', { needs: ['a'], fail: 'before' })], { noRollback: true });
    expect(out.status).toBe('failed');
    expect(out.rolledBack).toBe(false);
    expect(out.leftovers.map((l) => l.key)).toEqual(['a']);
    expect(w.exists.has('a')).toBe(true);
    expect(records().some((x) => x.t === 'undone')).toBe(false);
  });

  it('a rollback that cannot undo something reports it as left over (the CLI then exits 3)', async () => {
    const w = new FakeWorld();
    const out = await apply(w, [fakeTask(w, 'a'), fakeTask(w, 'b'), fakeTask(w, 'c', { needs: ['a', 'b'], fail: 'before' })], { failDelete: ['a'] });
    expect(out.rolledBack).toBe(false);
    expect(out.leftovers.map((l) => l.key)).toEqual(['a']);
    expect(w.exists.has('b')).toBe(false);
    // What could not be undone stays live in the journal, for teardown ('c' never landed: gone).
    expect(records().filter((x) => x.t === 'undone').map((x) => `${x.key} ${(x as { how: string }).how}`)).toEqual(['c gone', 'b deleted']);
  });

  it('a change is undone by restoring the state before it, not by deleting', async () => {
    const w = new FakeWorld();
    w.exists.set('role', 'old');
    const task: Task = { ...fakeTask(w, 'role'), change: async () => ({ id: 'role' }) };
    const failing = fakeTask(w, 'later', { needs: ['role'], fail: 'before' });
    const out = await applyPlan(
      [{ task, action: 'change', found: { ref: { id: 'role' }, drift: 'trust', before: { state: 'old' } } }, { task: failing, action: 'create' }],
      base,
      { journal, emit: () => {}, signal: new AbortController().signal, handlers: handlers(w) },
    );
    expect(out.rolledBack).toBe(true);
    expect(w.log).toEqual(['restore role']);
    expect(w.exists.get('role')).toBe('old');
  });
});

describe('findAll', () => {
  it('keeps what exists, creates what does not, and finishes (create) what a crashed run left with an intent but no done', async () => {
    const w = new FakeWorld();
    w.exists.set('kept', 'x');
    w.exists.set('half', 'x');
    const observed: Task = { ...fakeTask(w, 'observed'), mode: 'never', find: async () => ({ ref: { id: 'observed' } }) };
    const out = await findAll([fakeTask(w, 'kept'), fakeTask(w, 'half'), fakeTask(w, 'new'), observed], base, new AbortController().signal, new Set(['half', 'observed']));
    expect(out.map((p) => `${p.task.key}:${p.action}${p.resume ? ':resume' : ''}`)).toEqual(['kept:keep', 'half:create:resume', 'new:create', 'observed:keep']);
  });
});

describe('undoAll (teardown)', () => {
  const item = (key: string, kind: ResourceKind, seq: number, opts: { intentOnly?: boolean } = {}): UndoItem => {
    const done: DoneRecord = { t: 'done', key, kind, region: 'global', name: key, action: 'created', ref: { id: key }, at: 'x' };
    return opts.intentOnly
      ? { key, kind, region: 'global', name: key, done: [], pendingIntent: { t: 'intent', key, kind, region: 'global', name: key, op: 'create', at: 'x' }, seq }
      : { key, kind, region: 'global', name: key, done: [done], seq };
  };
  const ctx = (signal = new AbortController().signal): BaseContext => ({ aws: {} as BaseContext['aws'], signal, sleep: async () => {}, progress: () => {} });

  it('goes rank by rank (integration first, cluster logging last), keeps kept kinds, and skips intents that never landed', async () => {
    const w = new FakeWorld();
    for (const k of ['role', 'bucket', 'intg', 'logging', 'filter']) w.exists.set(k, 'x');
    const items = [item('role', 'iam-role', 1), item('logging', 'eks-audit-logging', 2), item('bucket', 's3-bucket', 3), item('intg', 'forticnapp-integration', 4), item('filter', 'subscription-filter', 5), item('group', 'log-group', 6, { intentOnly: true }), item('ghost', 'sns-topic', 7, { intentOnly: true })];
    const out = await undoAll(items, ctx(), handlers(w, { keep: ['log-group'] }), journal, () => {}, {});
    expect(w.log).toEqual(['delete intg', 'delete filter', 'delete bucket', 'delete role', 'delete logging']);
    expect(out.errors).toEqual([]);
    // The log group's create never landed: nothing to report as kept.
    expect(out.results.map((r) => `${r.key} ${r.action}`)).toEqual(['intg deleted', 'filter deleted', 'bucket deleted', 'role deleted', 'logging deleted']);
    expect(records().filter((x) => x.t === 'undone').map((x) => `${x.key} ${(x as { how: string }).how}`)).toEqual([
      'intg deleted', 'filter deleted', 'ghost gone', 'bucket deleted', 'role deleted', 'group gone', 'logging deleted',
    ]);
  });

  it('after Ctrl+C starts nothing new: what is left is reported and stays in the journal for the next run', async () => {
    const w = new FakeWorld();
    for (const k of ['intg', 'role']) w.exists.set(k, 'x');
    const ctl = new AbortController();
    const hs = handlers(w);
    const intg = hs.get('forticnapp-integration') as TeardownHandler;
    hs.set('forticnapp-integration', { ...intg, delete: async (c, ref) => { await intg.delete(c, ref); ctl.abort(); } });
    const out = await undoAll([item('intg', 'forticnapp-integration', 1), item('role', 'iam-role', 2)], ctx(ctl.signal), hs, journal, () => {}, {});
    expect(w.log).toEqual(['delete intg']);
    expect(out.errors).toEqual([{ key: 'role', message: 'iam-role role: not removed (interrupted)' }]);
    expect(out.leftovers.map((l) => l.key)).toEqual(['role']);
    expect(records().filter((x) => x.t === 'undone').map((x) => x.key)).toEqual(['intg']);
  });

  it('a failed delete does not stop the others; it is reported with the error', async () => {
    const w = new FakeWorld();
    for (const k of ['a', 'b']) w.exists.set(k, 'x');
    const out = await undoAll([item('a', 'sns-topic', 1), item('b', 'iam-role', 2)], ctx(), handlers(w, { failDelete: ['a'] }), journal, () => {}, {});
    expect(w.log).toEqual(['delete b']);
    expect(out.errors).toEqual([{ key: 'a', message: 'sns-topic a: DeleteConflict: cannot delete a' }]);
  });
});
