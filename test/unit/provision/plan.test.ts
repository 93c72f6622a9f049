/**
 * Plan = read + diff (DESIGN §2, §3) on small in-memory kinds: create, keep, update (field: from -> to),
 * replace (and why), remove (and absent), conflicts, read errors, changes forced by upstream (refresh), and
 * strays. Read-only: no mutating call is ever made.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { buildPlan, readFailure, type Plan } from '../../../src/provision/plan.js';
import type { Spec } from '../../../src/provision/resource.js';
import { baseInputs, contexts, fakeSpec, world, type FakeItem } from './fake-types.js';

vi.mock('../../../src/provision/resources/index.js', async () => {
  const f = await import('./fake-types.js');
  return { RESOURCE_TYPES: f.FAKE_TYPES, typeOf: f.fakeTypeOf, KEYS: {} };
});

beforeEach(() => world.reset());

const role: FakeItem = { key: 'role', kind: 'iam-role', region: 'global', name: 'lw-role', want: { policy: { Statement: [{ Sid: 'A', Action: 's3:GetObject' }] }, tags: ['a'] } };
const topic: FakeItem = { key: 'topic', kind: 'sns-topic', needs: ['role'], want: { encrypted: true, name: 'lw-topic' } };
const intg: FakeItem = { key: 'intg', kind: 'forticnapp-integration', region: 'global', needs: ['topic', 'role'], want: { name: 'EKS', snsArn: 'arn:topic' } };

const plan = (desired: Spec | undefined, recorded?: Spec, strays = false): Promise<Plan> => buildPlan(desired, recorded, contexts(), { strays });
const byKey = (p: Plan) => Object.fromEntries(p.items.map((i) => [i.key, i]));

describe('buildPlan', () => {
  it('creates what is absent, keeps what matches, in one item per instance with its name and region', async () => {
    world.cloud.set('role', { id: 'lw-role', state: { policy: { Statement: [{ Action: 's3:GetObject', Sid: 'A' }] }, tags: ['a'] } });
    const p = await plan(fakeSpec([role, topic]));
    const items = byKey(p);
    expect(items.role).toMatchObject({ action: 'keep', changes: [], region: 'global', name: 'lw-role', kind: 'iam-role', label: 'fake iam-role' });
    expect(items.topic).toMatchObject({ action: 'create', changes: [], region: 'us-east-1', name: 'topic' });
    expect(items.topic?.found).toBeUndefined();
    expect(p.hasChanges).toBe(true);
    expect(p.conflicts).toEqual([]);
    expect(world.log).toEqual([]);
  });

  it('says nothing to do when everything matches (policy key order does not matter)', async () => {
    world.cloud.set('role', { id: 'lw-role', state: { tags: ['a'], policy: { Statement: [{ Action: 's3:GetObject', Sid: 'A' }] }, extraFieldNotDesired: 1 } });
    const p = await plan(fakeSpec([role]));
    expect(p.items.map((i) => i.action)).toEqual(['keep']);
    expect(p.hasChanges).toBe(false);
  });

  it('updates what differs, listing each field as from -> to', async () => {
    world.cloud.set('topic', { id: 'topic', state: { encrypted: false, name: 'lw-topic' } });
    world.cloud.set('role', { id: 'lw-role', state: { policy: { Statement: [{ Sid: 'A', Action: 's3:PutObject' }] }, tags: ['a', 'b'] } });
    const items = byKey(await plan(fakeSpec([role, topic])));
    expect(items.topic).toMatchObject({ action: 'update', changes: [{ field: 'encrypted', from: 'off', to: 'on' }] });
    expect(items.role?.action).toBe('update');
    expect(items.role?.changes).toEqual([
      { field: 'policy', from: 'edited', to: 'as setup makes it' },
      { field: 'tags', from: 'a, b', to: 'a' },
    ]);
    expect(items.role?.found?.ref).toEqual({ id: 'lw-role', region: 'global' });
  });

  it('replaces what cannot be changed in place, saying why', async () => {
    world.cloud.set('topic', { id: 'topic', state: { encrypted: true, name: 'lw-topic', broken: 'CREATING_FAILED' } });
    const items = byKey(await plan(fakeSpec([topic])));
    expect(items.topic).toMatchObject({ action: 'replace', why: 'it is CREATING_FAILED', changes: [] });
  });

  it('removes what the deployment has but the inputs no longer want; absent ones are "remove, absent" and change nothing', async () => {
    const filterA: FakeItem = { key: 'filter/a', kind: 'subscription-filter', extra: { cluster: 'a' }, want: {} };
    const filterB: FakeItem = { key: 'filter/b', kind: 'subscription-filter', extra: { cluster: 'b' }, want: {} };
    world.cloud.set('filter/a', { id: 'f-a', state: {} });
    world.cloud.set('filter/b', { id: 'f-b', state: {} });
    const recorded = fakeSpec([filterA, filterB]);
    const p = await plan(fakeSpec([filterA]), recorded);
    expect(byKey(p)['filter/b']).toMatchObject({ action: 'remove', why: 'cluster b (us-east-1) is no longer in the inputs' });
    expect(byKey(p)['filter/b']?.found?.ref.id).toBe('f-b');
    expect(p.hasChanges).toBe(true);

    world.cloud.delete('filter/b');
    const again = await plan(fakeSpec([filterA]), recorded);
    expect(byKey(again)['filter/b']).toMatchObject({ action: 'remove', absent: true });
    expect(again.hasChanges).toBe(false);
  });

  it('words a removal by kind: audit logging restored as recorded, log groups kept, --no-kms', async () => {
    const logging: FakeItem = { key: 'logging/a', kind: 'eks-audit-logging', name: 'a', want: {} };
    const lg: FakeItem = { key: 'lg/a', kind: 'log-group', want: {} };
    const key: FakeItem = { key: 'key', kind: 'kms-key', want: {} };
    for (const k of ['logging/a', 'lg/a', 'key']) world.cloud.set(k, { id: k, state: {} });
    const recorded = fakeSpec([logging, lg, key], { auditBefore: new Map([['us-east-1/a', false]]) });
    const items = byKey(await plan(fakeSpec([], { inputs: baseInputs({ noKms: true }) }), recorded));
    expect(items['logging/a']?.why).toBe('cluster dropped: audit logging back off (setup turned it on)');
    expect(items['lg/a']?.why).toMatch(/^cluster dropped: the log group stays/);
    expect(items.key?.why).toBe('--no-kms');
    // Teardown (nothing desired): what happens to each, without "dropped".
    const down = byKey(await plan(undefined, fakeSpec([logging, lg], { auditBefore: new Map([['us-east-1/a', true]]) })));
    expect(down['logging/a']?.why).toBe('audit logging stays on (it was on before setup)');
    expect(down['lg/a']?.why).toBe('kept: it holds the cluster’s logs');
  });

  it('collects every conflict into the plan, and still plans everything', async () => {
    world.conflicts.set('topic', ['topic name taken by account 999']);
    world.conflicts.set('role', ['role full']);
    const p = await plan(fakeSpec([role, topic]));
    expect(p.items).toHaveLength(2);
    expect(byKey(p).topic?.conflicts).toEqual(['topic name taken by account 999']);
    expect([...p.conflicts].sort()).toEqual(['role full', 'topic name taken by account 999']);
  });

  it('keeps a read error on its item (status: not checked); readFailure turns it into the command’s error', async () => {
    world.fail.set('read topic', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const p = await plan(fakeSpec([role, topic]));
    expect(byKey(p).topic?.readError).toBeDefined();
    expect(byKey(p).role?.action).toBe('create');
    const err = readFailure(p);
    expect(err).toBeInstanceOf(AppError);
    expect(err?.code).toBe('ReadFailed');
    expect(err?.message).toMatch(/^Could not read fake sns-topic topic \(us-east-1\): .*Rate exceeded/);

    // An AppError (no FortiCNAPP credentials…) is passed on as it is.
    world.reset();
    const own = new AppError('NoCredentials', 'no key');
    world.fail.set('read intg', own);
    expect(readFailure(await plan(fakeSpec([intg])))).toBe(own);
    world.reset();
    expect(readFailure(await plan(fakeSpec([intg])))).toBeUndefined();
  });

  it('stops at once when a read fails because the run was interrupted', async () => {
    const ac = new AbortController();
    ac.abort();
    world.fail.set('read role', new Error('aborted'));
    await expect(buildPlan(fakeSpec([role]), undefined, (s) => contexts()(s, ac.signal), { strays: false })).rejects.toThrow('aborted');
  });

  it('updates a kept integration when what it needs is re-created (refresh), and not otherwise', async () => {
    world.cloud.set('role', { id: 'lw-role', state: { policy: { Statement: [{ Sid: 'A', Action: 's3:GetObject' }] }, tags: ['a'] } });
    world.cloud.set('intg', { id: 'guid-1', state: { name: 'EKS', snsArn: 'arn:topic' } });
    const p = await plan(fakeSpec([role, topic, intg]));
    expect(byKey(p).topic?.action).toBe('create');
    expect(byKey(p).intg).toMatchObject({ action: 'update', changes: [{ field: 'subscribed', from: 'topic re-created', to: 'subscribes again' }] });

    world.cloud.set('topic', { id: 'topic', state: { encrypted: true, name: 'lw-topic' } });
    expect(byKey(await plan(fakeSpec([role, topic, intg]))).intg?.action).toBe('keep');
    // A replaced upstream forces it too.
    world.cloud.set('topic', { id: 'topic', state: { encrypted: true, name: 'lw-topic', broken: 'DELETING' } });
    expect(byKey(await plan(fakeSpec([role, topic, intg]))).intg?.action).toBe('update');
  });

  it('shares what it read with the run (refs by key)', async () => {
    world.cloud.set('role', { id: 'lw-role', state: {} });
    const ctxFor = contexts();
    await buildPlan(fakeSpec([role, topic]), undefined, ctxFor, { strays: false });
    const refs = ctxFor(fakeSpec([])).refs;
    expect([...refs.keys()]).toEqual(['role']);
  });

  it('lists strays as removals (key#id, "left by an earlier run") only when asked to', async () => {
    world.cloud.set('role', { id: 'lw-role', state: { policy: { Statement: [{ Sid: 'A', Action: 's3:GetObject' }] }, tags: ['a'] } });
    world.strays.set('role', [{ ref: { id: 'lw-role-old', region: 'global', arn: 'arn:old' }, state: {} }]);
    expect((await plan(fakeSpec([role]))).items).toHaveLength(1);
    const p = await plan(fakeSpec([role]), undefined, true);
    expect(p.items.map((i) => [i.key, i.action, i.name, i.arn, i.why])).toEqual([
      ['role', 'keep', 'lw-role', undefined, undefined],
      ['role#lw-role-old', 'remove', 'lw-role-old', 'arn:old', 'left by an earlier run'],
    ]);
    expect(p.hasChanges).toBe(true);
  });

  it('plans a teardown: everything recorded is a removal, strays included', async () => {
    world.cloud.set('role', { id: 'lw-role', state: {} });
    world.strays.set('topic', [{ ref: { id: 'extra', region: 'us-east-1' }, state: {} }]);
    const p = await plan(undefined, fakeSpec([role, topic]), true);
    expect(p.items.map((i) => [i.key, i.action, !!i.absent])).toEqual([
      ['role', 'remove', false],
      ['topic', 'remove', true],
      ['topic#extra', 'remove', false],
    ]);
  });
});
