/**
 * The resource model (DESIGN §3): one module per resource kind under resources/, each the only place that
 * knows its kind. `plan` = read + diff of every instance (plus the instances the deployment has that the
 * inputs no longer want); `setup` = that plan applied on one graph; `status` = read + diff against what the
 * deployment recorded, plus the data-flow probes; `teardown` = delete, on the same graph reversed.
 */
import type { AwsClients } from '../aws/clients.js';
import type { Inputs } from '../config/inputs.js';
import type { Names } from '../config/naming.js';
import type { LaceworkApi } from '../lacework/api.js';
import type { Ref } from '../state/records.js';
import type { WaitContext } from './retry.js';

export type { Ref };

export type ResourceKind =
  | 'eks-audit-logging'
  | 'log-group'
  | 'iam-role'
  | 'kms-key'
  | 's3-bucket'
  | 'sns-topic'
  | 's3-bucket-notification'
  | 'firehose-stream'
  | 'subscription-filter'
  | 'forticnapp-integration'
  | 'sns-subscription';

/** What the inputs ask of one deployment, and what every module derives its instances and desired state from. */
export interface Spec {
  inputs: Inputs;
  names: Names;
  externalId: string;
  /** Tags for every taggable resource: ours plus `--tag`s. */
  tags: Record<string, string>;
  /** Audit logging before this deployment first touched a cluster, by `<region>/<cluster>` (from the record). */
  auditBefore: ReadonlyMap<string, boolean>;
  /** `--tag` keys an earlier setup set that these inputs no longer have (their tags are removed). */
  droppedTagKeys: readonly string[];
  /** The FortiCNAPP integration this deployment registered, from its record. */
  integrationGuid?: string;
  /** An earlier run did not finish (crashed or still running): look for what it may have left half-made. */
  unfinished: boolean;
}

/** One resource a deployment has or wants. */
export interface Instance {
  /** Stable key, used in the journal and the graph: `subscription-filter/us-east-1/edge`. */
  key: string;
  kind: ResourceKind;
  /** Region, or 'global'. */
  region: string;
  /** The resource's deterministic name (for cluster logging: the cluster). */
  name: string;
  /** ARN known before it exists (deterministic), when there is one. */
  arn?: string;
  /** Keys of the instances that must exist first. */
  needs: string[];
  /** Kind-specific facts (the cluster of a filter, which role). */
  extra?: Record<string, string>;
}

/** A state a module compares: flat fields of strings, numbers, booleans, string lists or policy documents. */
export type State = Record<string, unknown>;

export interface Found<S extends State = State> {
  ref: Ref;
  state: S;
}

/** One field that differs: `field: from → to`, as people read it. */
export interface Change {
  field: string;
  from: string;
  to: string;
}

/** What was made. `adopted`: it was there already (another run made it at the same moment); not ours to roll back. */
export interface Made {
  ref: Ref;
  adopted?: boolean;
}

/** What delete did (teardown's report words it): `scheduled` carries the deletion date (ISO). */
export type DeleteOutcome =
  | { outcome: 'deleted' }
  | { outcome: 'already-gone' }
  | { outcome: 'turned-off' }
  | { outcome: 'kept'; why: string }
  | { outcome: 'scheduled-for-deletion'; date: string };

/** Per-run memo for lookups several kinds share (a cluster, a log group's filters, a topic's subscriptions). */
export interface Memo {
  once<T>(key: string, read: () => Promise<T>): Promise<T>;
  /** Forget a lookup (after a change that makes it stale). */
  forget(prefix: string): void;
}

export function createMemo(): Memo {
  const cache = new Map<string, Promise<unknown>>();
  return {
    once<T>(key: string, read: () => Promise<T>): Promise<T> {
      let hit = cache.get(key) as Promise<T> | undefined;
      if (!hit) {
        hit = read();
        cache.set(key, hit);
        hit.catch(() => cache.delete(key));
      }
      return hit;
    },
    forget(prefix: string) {
      for (const k of [...cache.keys()]) if (k.startsWith(prefix)) cache.delete(k);
    },
  };
}

/** What every module call sees. */
export interface Ctx extends WaitContext {
  aws: AwsClients;
  /** undefined when no FortiCNAPP credentials are at hand (status without them). */
  lacework?: LaceworkApi;
  spec: Spec;
  /** Refs known so far by key: what plan read, replaced by what apply made. */
  refs: Map<string, Ref>;
  memo: Memo;
}

export type { IamNeed, Scope } from '../aws/iam.js';
import type { IamNeed } from '../aws/iam.js';

/** A resource kind: everything the tool knows about it. */
export interface ResourceType<S extends State = State> {
  kind: ResourceKind;
  /** For people: 'S3 bucket'. */
  label: string;
  /** Row of the data-path table (DESIGN §1) that status reports it under. */
  hop: number;
  /** The AWS calls it makes and the IAM actions they need. */
  iam: IamNeed[];
  /** The instances a deployment with this spec has. */
  instances(spec: Spec): Instance[];
  /** Current state, or undefined when absent. Read-only. */
  read(ctx: Ctx, inst: Instance): Promise<Found<S> | undefined>;
  /** The desired state; a ref in `ctx.refs` missing means that resource is made in this run. */
  desired(ctx: Ctx, inst: Instance): S;
  /** Compares; default: field by field (provision/diff.ts). */
  diff?(desired: S, current: S): Change[];
  /** When the existing resource cannot be changed in place: why it is replaced. */
  replaceWhy?(found: Found<S>): string | undefined;
  /** Problems that must stop setup before its first change (a name owned by another account, full slots…). */
  conflicts?(ctx: Ctx, inst: Instance, found: Found<S> | undefined): Promise<string[]>;
  /** Only observed: absent means a conflict, never a create (cluster logging). */
  observed?: boolean;
  create(ctx: Ctx, inst: Instance, desired: S): Promise<Made>;
  update(ctx: Ctx, inst: Instance, desired: S, found: Found<S>, changes: Change[]): Promise<Ref>;
  /** Must succeed when the resource is already gone. */
  delete(ctx: Ctx, inst: Instance, ref: Ref): Promise<DeleteOutcome>;
  /**
   * Resources of this kind that belong to the deployment without being the instance (a key a crash left
   * without its alias, a second registration): teardown removes them, setup after an unfinished run too.
   */
  strays?(ctx: Ctx, inst: Instance, found: Found<S> | undefined): Promise<Found<S>[]>;
  /**
   * A failure of this kind that a later run can simply retry (the FortiCNAPP registration): apply keeps what
   * the run made instead of rolling it back, and says to run setup again.
   */
  leavesUpstreamOnFailure?(err: unknown): boolean;
  /** Plan-time: changes forced by what happens upstream (the integration re-registers after a topic re-creation). */
  refresh?(ctx: Ctx, inst: Instance, upstream: { key: string; action: PlanAction }[]): Change[];
}

export type PlanAction = 'create' | 'update' | 'replace' | 'remove' | 'keep';
