/**
 * Small in-memory resource kinds for the plan and apply tests: a pretend cloud (what exists, by instance key),
 * a log of every mutating call in order, and knobs for failures, adoption, conflicts, strays and replacement.
 * The test files swap them in for src/provision/resources/index.ts with vi.mock, so plan.ts and apply.ts run
 * unchanged on kinds that call no AWS at all.
 */
import type { AwsClients } from '../../../src/aws/clients.js';
import { DEFAULTS, type Inputs } from '../../../src/config/inputs.js';
import { makeNames } from '../../../src/config/naming.js';
import {
  createMemo,
  type Change,
  type Ctx,
  type Found,
  type Instance,
  type ResourceKind,
  type ResourceType,
  type Spec,
  type State,
} from '../../../src/provision/resource.js';
import type { Ref } from '../../../src/state/records.js';

/** One instance a fake spec wants, with its desired state (a function of the refs known so far, when it names upstream). */
export interface FakeItem {
  key: string;
  kind: ResourceKind;
  region?: string;
  name?: string;
  needs?: string[];
  extra?: Record<string, string>;
  want: State | ((ctx: Ctx) => State);
}

export interface FakeSpec extends Spec {
  fake: FakeItem[];
}

/** A failure the platform says to simply retry later (the kind `forticnapp-integration` keeps the rest then). */
export class RetryLater extends Error {}

export interface Existing {
  id: string;
  state: State;
}

/** The pretend cloud and its knobs; `reset()` before each test. */
export const world = {
  cloud: new Map<string, Existing>(),
  /** `create k`, `update k`, `delete k` in the order the calls were made (also rollback's). */
  log: [] as string[],
  /** `<op> <key>` -> the error that call throws (op: read, create, update, delete). */
  fail: new Map<string, unknown>(),
  /** Keys whose create finds the resource made already by another run (adopted). */
  adopt: new Set<string>(),
  conflicts: new Map<string, string[]>(),
  /** Instance key -> what belongs to the deployment beside the instance. */
  strays: new Map<string, Found[]>(),
  /** Calls of `update` in order, with the desired state and changes they got. */
  updates: [] as { key: string; desired: State; changes: Change[] }[],
  /** Hook run inside each mutating call before it lands (to abort a signal mid-run, for instance). */
  during: undefined as ((op: string, key: string) => void) | undefined,
  /** The instances of a spec made by the product itself (status: specFor), which has no `fake` list. */
  items: [] as FakeItem[],
  reset() {
    this.items = [];
    this.cloud.clear();
    this.log.length = 0;
    this.fail.clear();
    this.adopt.clear();
    this.conflicts.clear();
    this.strays.clear();
    this.updates.length = 0;
    this.during = undefined;
  },
};

const tick = () => new Promise<void>((r) => setImmediate(r));

function itemOf(ctx: Ctx, inst: Instance): FakeItem {
  const it = ((ctx.spec as Partial<FakeSpec>).fake ?? world.items).find((i) => i.key === inst.key);
  if (!it) throw new Error(`no fake item ${inst.key} in this spec`);
  return it;
}

async function act(op: string, key: string): Promise<void> {
  await tick();
  world.during?.(op, key);
  const err = world.fail.get(`${op} ${key}`);
  if (err !== undefined) throw err;
  world.log.push(`${op} ${key}`);
}

function fakeType(kind: ResourceKind): ResourceType {
  const type: ResourceType = {
    kind,
    label: `fake ${kind}`,
    hop: 1,
    iam: [],
    instances(spec) {
      return ((spec as Partial<FakeSpec>).fake ?? world.items)
        .filter((i) => i.kind === kind)
        .map((i) => ({ key: i.key, kind, region: i.region ?? 'us-east-1', name: i.name ?? i.key, needs: i.needs ?? [], ...(i.extra ? { extra: i.extra } : {}) }));
    },
    async read(_ctx, inst) {
      await tick();
      const err = world.fail.get(`read ${inst.key}`);
      if (err !== undefined) throw err;
      const c = world.cloud.get(inst.key);
      return c ? { ref: { id: c.id, region: inst.region }, state: { ...c.state } } : undefined;
    },
    desired(ctx, inst) {
      const want = itemOf(ctx, inst).want;
      return typeof want === 'function' ? want(ctx) : { ...want };
    },
    replaceWhy(found) {
      return typeof found.state.broken === 'string' ? `it is ${found.state.broken}` : undefined;
    },
    async conflicts(_ctx, inst) {
      return world.conflicts.get(inst.key) ?? [];
    },
    async create(_ctx, inst, desired) {
      if (world.adopt.has(inst.key)) {
        await act('adopt', inst.key);
        world.cloud.set(inst.key, { id: inst.name, state: desired });
        return { ref: { id: inst.name, region: inst.region }, adopted: true };
      }
      await act('create', inst.key);
      world.cloud.set(inst.key, { id: inst.name, state: desired });
      return { ref: { id: inst.name, region: inst.region } };
    },
    async update(_ctx, inst, desired, found, changes) {
      await act('update', inst.key);
      world.updates.push({ key: inst.key, desired, changes });
      world.cloud.set(inst.key, { id: found.ref.id, state: desired });
      return found.ref;
    },
    async delete(_ctx, inst, ref: Ref) {
      await act('delete', inst.key);
      const strays = world.strays.get(inst.key.split('#')[0] ?? '');
      if (strays && inst.key.includes('#')) {
        world.strays.set(inst.key.split('#')[0] ?? '', strays.filter((s) => s.ref.id !== ref.id));
        return { outcome: 'deleted' };
      }
      if (!world.cloud.has(inst.key)) return { outcome: 'already-gone' };
      world.cloud.delete(inst.key);
      return kind === 'kms-key' ? { outcome: 'scheduled-for-deletion', date: '2026-12-07T00:00:00.000Z' } : { outcome: 'deleted' };
    },
    async strays(_ctx, inst) {
      return world.strays.get(inst.key) ?? [];
    },
  };
  if (kind === 'forticnapp-integration') {
    // As the real module: a failure of the platform keeps the AWS side; re-made upstream forces an update.
    type.leavesUpstreamOnFailure = (err) => err instanceof RetryLater;
    type.refresh = (_ctx, _inst, upstream) => {
      const remade = upstream.filter((u) => u.action === 'create' || u.action === 'replace');
      return remade.length > 0 ? [{ field: 'subscribed', from: `${remade.map((u) => u.key).join(' and ')} re-created`, to: 'subscribes again' }] : [];
    };
  }
  return type;
}

const KINDS: ResourceKind[] = [
  'eks-audit-logging',
  'log-group',
  'iam-role',
  'kms-key',
  's3-bucket',
  'sns-topic',
  's3-bucket-notification',
  'firehose-stream',
  'subscription-filter',
  'forticnapp-integration',
  'sns-subscription',
];

export const FAKE_TYPES: ResourceType[] = KINDS.map(fakeType);

export function fakeTypeOf(kind: ResourceKind): ResourceType {
  const t = FAKE_TYPES.find((x) => x.kind === kind);
  if (!t) throw new Error(`no fake type ${kind}`);
  return t;
}

export const baseInputs = (over: Partial<Inputs> = {}): Inputs => ({
  regionClusters: { 'us-east-1': ['prod'] },
  homeRegion: 'us-east-1',
  prefix: DEFAULTS.prefix,
  tags: {},
  filterPattern: DEFAULTS.filterPattern,
  laceworkAwsAccountId: DEFAULTS.laceworkAwsAccountId,
  noKms: false,
  bucketLifecycleDays: DEFAULTS.bucketLifecycleDays,
  bucketVersioning: true,
  enableAuditLogging: true,
  ...over,
});

/** A spec whose instances are `items` (the fake kinds read `spec.fake`). */
export function fakeSpec(items: FakeItem[], over: Partial<Spec> = {}): FakeSpec {
  return {
    inputs: baseInputs(),
    names: makeNames('lw-eks-al', '1b3c2d59', '123456789012', 'us-east-1'),
    externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij',
    tags: {},
    auditBefore: new Map(),
    droppedTagKeys: [],
    unfinished: false,
    ...over,
    fake: items,
  };
}

/** Contexts sharing refs and memo, as deployment.ts makes them for one run. */
export function contexts() {
  const refs = new Map<string, Ref>();
  const memo = createMemo();
  return (spec: Spec, signal: AbortSignal = new AbortController().signal, progress: (m: string) => void = () => {}): Ctx => ({
    aws: {} as AwsClients,
    spec,
    refs,
    memo,
    signal,
    progress,
  });
}
