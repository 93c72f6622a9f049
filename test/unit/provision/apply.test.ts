/**
 * Apply (DESIGN §3, §4) on small in-memory kinds: creates, updates and replacements in dependency order,
 * then removals in reverse; the journal's intent/done/undone records; rollback of this run's changes newest
 * first (deletes what it made, restores what it changed, leaves what it adopted or kept); the kinds that keep
 * the rest on failure (the FortiCNAPP registration); --no-rollback; a rollback that cannot undo; an
 * interrupt; and removeAll (teardown).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { applyPlan, removeAll, type ApplyEnv } from '../../../src/provision/apply.js';
import type { ProvisionEvent } from '../../../src/provision/events.js';
import { buildPlan, type Plan } from '../../../src/provision/plan.js';
import type { Spec } from '../../../src/provision/resource.js';
import type { Journal } from '../../../src/state/journal.js';
import type { JournalRecord } from '../../../src/state/records.js';
import { contexts, fakeSpec, RetryLater, world, type FakeItem } from './fake-types.js';

vi.mock('../../../src/provision/resources/index.js', async () => {
  const f = await import('./fake-types.js');
  return { RESOURCE_TYPES: f.FAKE_TYPES, typeOf: f.fakeTypeOf, KEYS: {} };
});

beforeEach(() => world.reset());

// role -> key -> bucket -> stream -> filter; topic needs key; integration needs topic and role.
const role: FakeItem = { key: 'role', kind: 'iam-role', region: 'global', want: { trust: 'firehose' } };
const key: FakeItem = { key: 'key', kind: 'kms-key', needs: ['role'], want: { rotation: true } };
const bucket: FakeItem = { key: 'bucket', kind: 's3-bucket', needs: ['key'], want: { versioning: true } };
const topic: FakeItem = { key: 'topic', kind: 'sns-topic', needs: ['key'], want: { policy: 'p' } };
const stream: FakeItem = { key: 'stream', kind: 'firehose-stream', needs: ['role', 'bucket'], want: { buffer: 300 } };
const filter: FakeItem = { key: 'filter', kind: 'subscription-filter', needs: ['stream'], extra: { cluster: 'prod' }, want: { pattern: 'x' } };
const intg: FakeItem = { key: 'intg', kind: 'forticnapp-integration', region: 'global', needs: ['topic', 'role', 'bucket'], want: { name: 'EKS' } };
const ALL = [role, key, bucket, topic, stream, filter, intg];

/** What exists when every item of `items` is as desired. */
function exists(...items: FakeItem[]) {
  for (const i of items) world.cloud.set(i.key, { id: i.name ?? i.key, state: { ...(i.want as object) } });
}

function journal() {
  const records: JournalRecord[] = [];
  return { records, journal: { path: '/tmp/j.jsonl', append: (r: JournalRecord) => void records.push(r) } as unknown as Journal };
}

interface Run {
  plan: Plan;
  env: ApplyEnv;
  events: ProvisionEvent[];
  records: JournalRecord[];
}

async function prepare(desired: Spec, recorded?: Spec, opts: Partial<ApplyEnv> = {}): Promise<Run> {
  const ctxFor = contexts();
  const plan = await buildPlan(desired, recorded, ctxFor, { strays: false });
  const events: ProvisionEvent[] = [];
  const j = journal();
  const env: ApplyEnv = {
    ctxFor: (spec, signal, progress) => ctxFor(spec, signal, progress),
    desired,
    ...(recorded ? { recorded } : {}),
    journal: j.journal,
    emit: (e) => void events.push(e),
    signal: new AbortController().signal,
    ...opts,
  };
  return { plan, env, events, records: j.records };
}

const idx = (a: string) => {
  const i = world.log.indexOf(a);
  expect(i, `${a} in ${world.log.join(', ')}`).toBeGreaterThanOrEqual(0);
  return i;
};
const order = (...calls: string[]) => {
  for (let i = 1; i < calls.length; i++) expect(idx(calls[i - 1] as string), `${calls[i - 1]} before ${calls[i]}: ${world.log.join(', ')}`).toBeLessThan(idx(calls[i] as string));
};
const phases = (events: ProvisionEvent[]) => events.filter((e) => e.type === 'phase').map((e) => (e as { phase: string }).phase);

describe('applyPlan', () => {
  it('creates in dependency order, journals intent then done for each change, and reports each resource', async () => {
    const run = await prepare(fakeSpec(ALL));
    const out = await applyPlan(run.plan, run.env);
    expect(out).toMatchObject({ status: 'ok', rolledBack: false, keptForRetry: false, leftovers: [], removeFailures: [] });
    expect(world.log.filter((l) => l.startsWith('create'))).toHaveLength(7);
    order('create role', 'create key', 'create bucket', 'create stream', 'create filter');
    order('create key', 'create topic', 'create intg');
    order('create bucket', 'create intg');
    expect(out.results.map((r) => [r.key, r.outcome]).sort()).toEqual(ALL.map((i) => [i.key, 'created']).sort());
    expect([...out.refs.keys()].sort()).toEqual(ALL.map((i) => i.key).sort());
    // Each change: an intent, then its done with the ref, nothing in between for that key.
    for (const i of ALL) {
      const mine = run.records.filter((r) => 'key' in r && r.key === i.key);
      expect(mine.map((r) => `${r.t}:${'op' in r ? r.op : ''}`)).toEqual(['intent:create', 'done:create']);
      expect(mine[1]).toMatchObject({ ref: { id: i.key }, kind: i.kind });
    }
    expect(phases(run.events)).toEqual(['apply']);
  });

  it('makes no call for what it keeps, changes what differs (journalling the state before), replaces what must be', async () => {
    exists(role, key, bucket);
    world.cloud.set('topic', { id: 'topic', state: { policy: 'old' } });
    world.cloud.set('stream', { id: 'stream', state: { buffer: 300, broken: 'CREATING_FAILED' } });
    const run = await prepare(fakeSpec([role, key, bucket, topic, stream]));
    expect(run.plan.items.map((i) => i.action)).toEqual(['keep', 'keep', 'keep', 'update', 'replace']);
    const out = await applyPlan(run.plan, run.env);
    expect(out.status).toBe('ok');
    expect([...world.log].sort()).toEqual(['create stream', 'delete stream', 'update topic']);
    expect(world.updates).toEqual([{ key: 'topic', desired: { policy: 'p' }, changes: [{ field: 'policy', from: 'old', to: 'p' }] }]);
    expect(Object.fromEntries(out.results.map((r) => [r.key, r.outcome]))).toEqual({ role: 'kept', key: 'kept', bucket: 'kept', topic: 'changed', stream: 'created' });
    const topicRecords = run.records.filter((r) => 'key' in r && r.key === 'topic');
    expect(topicRecords).toMatchObject([
      { t: 'intent', op: 'update', before: { policy: 'old' } },
      { t: 'done', op: 'update', before: { policy: 'old' } },
    ]);
    // A replacement is journalled as a create (the old one is gone either way).
    expect(run.records.filter((r) => 'key' in r && r.key === 'stream').map((r) => `${r.t}:${'op' in r ? r.op : ''}`)).toEqual(['intent:create', 'done:create']);
    order('delete stream', 'create stream');
  });

  it('removes what the inputs no longer want after every create, in reverse dependency order', async () => {
    const lg: FakeItem = { key: 'old-lg', kind: 'log-group', want: {} };
    const oldStream: FakeItem = { key: 'old-stream', kind: 'firehose-stream', needs: ['old-role'], want: {} };
    const oldFilter: FakeItem = { key: 'old-filter', kind: 'subscription-filter', needs: ['old-stream', 'old-lg'], extra: { cluster: 'gone' }, want: {} };
    const oldRole: FakeItem = { key: 'old-role', kind: 'iam-role', want: {} };
    exists(oldStream, oldFilter, oldRole);
    const desired = fakeSpec([role, key, bucket]);
    const run = await prepare(desired, fakeSpec([role, key, bucket, oldStream, oldFilter, oldRole, lg]));
    const out = await applyPlan(run.plan, run.env);
    expect(out.status).toBe('ok');
    expect(phases(run.events)).toEqual(['apply', 'remove']);
    const lastCreate = Math.max(...['create role', 'create key', 'create bucket'].map(idx));
    for (const d of ['delete old-filter', 'delete old-stream', 'delete old-role']) expect(idx(d)).toBeGreaterThan(lastCreate);
    order('delete old-filter', 'delete old-stream', 'delete old-role');
    // The absent log group was not touched (nothing to remove).
    expect(world.log).not.toContain('delete old-lg');
    expect(out.results.filter((r) => r.outcome === 'deleted').map((r) => r.key).sort()).toEqual(['old-filter', 'old-role', 'old-stream']);
    expect(run.records.filter((r) => r.t === 'done' && r.op === 'delete').map((r) => 'key' in r && r.key)).toHaveLength(3);
  });

  it('on a failure, undoes this run’s creates newest first and restores what it changed, then says failed and rolled back', async () => {
    world.cloud.set('role', { id: 'role', state: { trust: 'old' } });
    world.fail.set('create stream', new Error('stream limit'));
    const run = await prepare(fakeSpec([role, key, bucket, stream, filter]));
    const out = await applyPlan(run.plan, run.env);
    expect(out).toMatchObject({ status: 'failed', rolledBack: true, keptForRetry: false, leftovers: [], failure: { key: 'stream' } });
    expect((out.failure?.error as Error).message).toBe('stream limit');
    expect(world.log).toEqual(['update role', 'create key', 'create bucket', 'delete bucket', 'delete key', 'update role']);
    // The role is as it was before the run: the restore got the old state and the changes reversed.
    expect(world.cloud.get('role')?.state).toEqual({ trust: 'old' });
    expect(world.updates[1]).toEqual({ key: 'role', desired: { trust: 'old' }, changes: [{ field: 'trust', from: 'firehose', to: 'old' }] });
    expect([...world.cloud.keys()]).toEqual(['role']);
    expect(phases(run.events)).toEqual(['apply', 'rollback']);
    const undone = run.records.filter((r) => r.t === 'undone');
    expect(undone.map((r) => [r.key, r.how])).toEqual([
      ['bucket', 'deleted'],
      ['key', 'deleted'],
      ['role', 'restored'],
    ]);
    const failed = run.events.find((e) => e.type === 'failed');
    expect(failed).toMatchObject({ key: 'stream', message: expect.stringContaining('stream limit') });
  });

  it('never rolls back what it adopted (another run made it) or what it kept', async () => {
    exists(role);
    world.adopt.add('key');
    world.fail.set('create stream', new Error('boom'));
    const run = await prepare(fakeSpec([role, key, bucket, stream]));
    const out = await applyPlan(run.plan, run.env);
    expect(out.rolledBack).toBe(true);
    expect(world.log).toEqual(['adopt key', 'create bucket', 'delete bucket']);
    expect([...world.cloud.keys()].sort()).toEqual(['key', 'role']);
    expect(out.results.find((r) => r.key === 'key')?.outcome).toBe('adopted');
    expect(run.records.find((r) => r.t === 'done' && r.key === 'key')).toMatchObject({ adopted: true });
  });

  it('keeps the rest when a kind says a re-run can retry it (the FortiCNAPP registration)', async () => {
    world.fail.set('create intg', new RetryLater('FortiCNAPP is unavailable'));
    const run = await prepare(fakeSpec(ALL));
    const out = await applyPlan(run.plan, run.env);
    expect(out).toMatchObject({ status: 'failed', rolledBack: false, keptForRetry: true, failure: { key: 'intg' } });
    expect(world.log.filter((l) => l.startsWith('delete'))).toEqual([]);
    expect(out.leftovers.map((r) => r.key).sort()).toEqual(['bucket', 'filter', 'key', 'role', 'stream', 'topic']);
    expect(phases(run.events)).toEqual(['apply']);
  });

  it('rolls back when the same kind fails for another reason', async () => {
    world.fail.set('create intg', new Error('bad input'));
    const run = await prepare(fakeSpec([role, key, bucket, topic, intg]));
    const out = await applyPlan(run.plan, run.env);
    expect(out).toMatchObject({ rolledBack: true, keptForRetry: false });
    expect(world.cloud.size).toBe(0);
    order('delete topic', 'delete key', 'delete role');
    order('delete bucket', 'delete key');
  });

  it('with noRollback keeps what it made, and lists it', async () => {
    world.fail.set('create bucket', new Error('boom'));
    const run = await prepare(fakeSpec([role, key, bucket]), undefined, { noRollback: true });
    const out = await applyPlan(run.plan, run.env);
    expect(out).toMatchObject({ status: 'failed', rolledBack: false, keptForRetry: false });
    expect(out.leftovers.map((r) => [r.key, r.outcome])).toEqual([
      ['role', 'created'],
      ['key', 'created'],
    ]);
    expect(world.log).toEqual(['create role', 'create key']);
  });

  it('has nothing to undo when the first change fails', async () => {
    world.fail.set('create role', new Error('denied'));
    const run = await prepare(fakeSpec([role, key]));
    const out = await applyPlan(run.plan, run.env);
    expect(out).toMatchObject({ status: 'failed', rolledBack: true, leftovers: [] });
    expect(phases(run.events)).toEqual(['apply']);
    expect(world.log).toEqual([]);
  });

  it('lists what the rollback could not undo, and what that still needs', async () => {
    world.fail.set('create stream', new Error('boom'));
    world.fail.set('delete bucket', new Error('bucket not empty'));
    const run = await prepare(fakeSpec([role, key, bucket, stream]));
    const out = await applyPlan(run.plan, run.env);
    expect(out.rolledBack).toBe(false);
    // The key and the role stay: the bucket that needs them could not go.
    expect(out.leftovers.map((r) => r.key).sort()).toEqual(['bucket', 'key', 'role']);
    expect(world.log).toEqual(['create role', 'create key', 'create bucket']);
  });

  it('an interrupt (Ctrl+C) stops new changes, rolls back this run’s, and says interrupted', async () => {
    const ac = new AbortController();
    world.during = (op, k) => {
      if (op === 'create' && k === 'bucket') ac.abort();
    };
    const run = await prepare(fakeSpec([role, key, bucket, stream]), undefined, { signal: ac.signal });
    const out = await applyPlan(run.plan, run.env);
    expect(out.status).toBe('interrupted');
    expect(out.rolledBack).toBe(true);
    expect(world.log).toEqual(['create role', 'create key', 'create bucket', 'delete bucket', 'delete key', 'delete role']);
    expect(run.events.find((e) => e.type === 'phase' && e.phase === 'rollback')).toMatchObject({ message: expect.stringMatching(/^interrupted/) });
  });

  it('does not remove anything after a failed forward walk', async () => {
    const old: FakeItem = { key: 'old', kind: 'subscription-filter', extra: { cluster: 'gone' }, want: {} };
    exists(old);
    world.fail.set('create role', new Error('denied'));
    const run = await prepare(fakeSpec([role]), fakeSpec([role, old]));
    await applyPlan(run.plan, run.env);
    expect(world.cloud.has('old')).toBe(true);
    expect(world.log).toEqual([]);
  });

  it('reports a removal that failed (setup: a dropped cluster) as failed, without rolling back the creates', async () => {
    const old: FakeItem = { key: 'old', kind: 'subscription-filter', extra: { cluster: 'gone' }, want: {} };
    exists(old);
    world.fail.set('delete old', new Error('throttled'));
    const run = await prepare(fakeSpec([role]), fakeSpec([role, old]));
    const out = await applyPlan(run.plan, run.env);
    expect(out.status).toBe('failed');
    expect(out.removeFailures).toEqual([{ key: 'old', message: expect.stringMatching(/^fake subscription-filter old \(us-east-1\): .*throttled/) }]);
    expect(out.rolledBack).toBe(false);
    expect(world.cloud.has('role')).toBe(true);
  });
});

describe('removeAll (teardown)', () => {
  async function teardown(items: FakeItem[]) {
    const ctxFor = contexts();
    const recorded = fakeSpec(items);
    const plan = await buildPlan(undefined, recorded, ctxFor, { strays: true });
    const j = journal();
    const events: ProvisionEvent[] = [];
    const out = await removeAll(plan.items.filter((i) => i.action === 'remove'), ctxFor(recorded), { journal: j.journal, emit: (e) => void events.push(e), signal: new AbortController().signal });
    return { out, records: j.records, events };
  }

  it('deletes in reverse dependency order, says what happened to each, and journals intent and done', async () => {
    exists(role, key, bucket, stream, filter);
    const { out, records } = await teardown([role, key, bucket, stream, filter, topic]);
    expect(out.failures).toEqual([]);
    order('delete filter', 'delete stream', 'delete bucket', 'delete key', 'delete role');
    expect(Object.fromEntries(out.results.map((r) => [r.key, [r.outcome, r.detail]]))).toEqual({
      filter: ['deleted', undefined],
      stream: ['deleted', undefined],
      bucket: ['deleted', undefined],
      key: ['scheduled-for-deletion', '2026-12-07T00:00:00.000Z'],
      role: ['deleted', undefined],
      topic: ['already-gone', undefined],
    });
    expect(world.log).not.toContain('delete topic');
    expect(records.filter((r) => r.t === 'done').map((r) => 'key' in r && r.key)).toEqual(['filter', 'stream', 'bucket', 'key', 'role']);
    expect(records.every((r) => !('op' in r) || r.op === 'delete')).toBe(true);
  });

  it('removes strays too', async () => {
    exists(role);
    world.strays.set('role', [{ ref: { id: 'older', region: 'global' }, state: {} }]);
    const { out } = await teardown([role]);
    expect(out.results.map((r) => [r.key, r.outcome])).toEqual(
      expect.arrayContaining([
        ['role', 'deleted'],
        ['role#older', 'deleted'],
      ]),
    );
    expect(world.strays.get('role')).toEqual([]);
  });

  it('goes on past a failure, keeps what the failed one still needs, and names each', async () => {
    exists(role, key, bucket, stream, filter, topic);
    world.fail.set('delete bucket', new Error('BucketNotEmpty'));
    const { out } = await teardown([role, key, bucket, stream, filter, topic]);
    expect([...world.log].sort()).toEqual(['delete filter', 'delete stream', 'delete topic']);
    expect(out.failures.map((f) => f.key).sort()).toEqual(['bucket', 'key', 'role']);
    expect(out.failures.find((f) => f.key === 'bucket')?.message).toMatch(/BucketNotEmpty/);
    expect(out.failures.find((f) => f.key === 'key')?.message).toMatch(/not removed \(something that uses it could not be removed\)/);
  });
});
