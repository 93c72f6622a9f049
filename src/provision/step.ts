/**
 * What a step is (DESIGN §3): one module per resource kind under steps/, each producing tasks
 * (find / create / change) for a deployment, and a teardown handler that can delete or restore the
 * resource from its journal record alone.
 */
import type { AwsClients } from '../aws/clients.js';
import type { Inputs } from '../config/inputs.js';
import type { Names } from '../config/naming.js';
import type { LaceworkApi } from '../lacework/api.js';
import type { DoneRecord, Ref } from '../journal/records.js';

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

/** What teardown and rollback need: AWS, FortiCNAPP, and abortable waits. */
export interface BaseContext {
  aws: AwsClients;
  /** undefined when no FortiCNAPP credentials were given (teardown then cannot delete the integration). */
  lacework?: LaceworkApi;
  signal: AbortSignal;
  /** Abortable sleep; inside the engine it also frees the task's concurrency slot while waiting. */
  sleep(ms: number): Promise<void>;
  /** A note about the running task (a retry, a wait), shown as progress. */
  progress(message: string): void;
}

/** What a setup task sees. */
export interface StepContext extends BaseContext {
  inputs: Inputs;
  names: Names;
  accountId: string;
  deploymentId: string;
  externalId: string;
  laceworkAccount: string;
  /** Tags for every taggable resource: ours plus `--tag`s. */
  tags: Record<string, string>;
  /** Refs of tasks already found or made, by key. */
  refs: Map<string, Ref>;
  /** true while a task finishes what a crashed run began (its intent has no `done`). */
  resuming: boolean;
}

export interface Found {
  ref: Ref;
  /** Set when the resource exists but needs a change (e.g. a region missing from a role's trust). */
  drift?: string;
  /** The state before the change, for undo. */
  before?: Record<string, unknown>;
}

export interface Task {
  /** Stable key, used in the journal: `subscription-filter/us-east-1/prod`. */
  key: string;
  kind: ResourceKind;
  /** Region, or 'global' for IAM. */
  region: string;
  /** The resource's deterministic name (for a cluster setting, the cluster). */
  name: string;
  /** Keys of tasks that must be done first (tasks not in the plan count as done). */
  needs: string[];
  /** Read-only lookup by deterministic name or tag; undefined when absent. */
  find(ctx: StepContext): Promise<Found | undefined>;
  /** Makes the resource usable (waits included). Must tolerate a resource left half-made by a crash. */
  create(ctx: StepContext): Promise<Ref>;
  /** Brings an existing resource in line (only when find reported drift). */
  change?(ctx: StepContext, found: Found): Promise<Ref>;
  /**
   * 'never': we only ever observe it (nothing is created when absent: find must then throw or the
   * preflight reported it). Default 'create'.
   */
  mode?: 'create' | 'never';
  /** Recorded in the intent, passed to `findByName` if the `done` never comes. */
  hint?: Record<string, string>;
}

export interface TeardownHandler {
  kind: ResourceKind;
  /** Lower goes first in teardown and rollback (DESIGN §4 order). */
  rank: number;
  /** Kept on teardown (log groups hold the cluster's logs). */
  keep?: boolean;
  /** Deletes the resource; must succeed when it is already gone. */
  delete(ctx: BaseContext, ref: Ref): Promise<void>;
  /** Reverts a change recorded in `done.before` (or `intent.before`). */
  restore?(ctx: BaseContext, record: { ref?: Ref; region: string; name: string; before?: Record<string, unknown> }): Promise<void>;
  /** Looks a resource up by name, for an intent whose `done` never came (crash mid-call). */
  findByName(ctx: BaseContext, region: string, name: string, hint: { deploymentId?: string } & Record<string, string | undefined>): Promise<Ref | undefined>;
}

export type { DoneRecord };
