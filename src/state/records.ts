/**
 * Journal records (DESIGN §4): the crash log of the run in progress, append-only JSON lines, one record
 * per line. Never a secret in here. Version 2; version 1 journals (written by the random-id version) are
 * read too, so that their deployments are adopted (see journal.ts `upgrade`).
 */
export const JOURNAL_VERSION = 2;

/** What a resource leaves behind to be found and removed again: names and ARNs, nothing secret. */
export interface Ref {
  /** The resource's own id: a name, a key id, an intgGuid… */
  id: string;
  arn?: string;
  /** Region, or 'global'. */
  region: string;
  /** Kind-specific extras (a log group, a bucket, a key's alias). Strings and booleans only. */
  [extra: string]: string | boolean | undefined;
}

export interface HeaderRecord {
  t: 'header';
  v: number;
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  prefix: string;
  at: string;
  tool: string;
  /** Version 1 only: the external ID and FortiCNAPP account (version 2 keeps them in the deployment record). */
  externalId?: string;
  laceworkAccount?: string;
  laceworkSubaccount?: string;
}

export interface RunRecord {
  t: 'run';
  command: string;
  /** Version 1 only: the resolved inputs of the run (version 2 keeps them in the deployment record). */
  inputs?: unknown;
  pid: number;
  at: string;
}

/** The step about to make one change (or a few calls that belong together). */
export type Op = 'create' | 'update' | 'delete';

export interface IntentRecord {
  t: 'intent';
  key: string;
  kind: string;
  region: string;
  name: string;
  op: Op;
  /** The state before an update: what a rollback puts back. */
  before?: unknown;
  at: string;
}

export interface DoneRecord {
  t: 'done';
  key: string;
  kind: string;
  region: string;
  name: string;
  op: Op;
  ref: Ref;
  /** The resource was there already (another run made it at the same moment): not ours to roll back. */
  adopted?: boolean;
  before?: unknown;
  at: string;
}

export interface UndoneRecord {
  t: 'undone';
  key: string;
  kind: string;
  /** 'deleted' (rollback of a create), 'restored' (rollback of an update), 'gone' (already absent). */
  how: 'deleted' | 'restored' | 'gone' | 'kept';
  at: string;
}

export type JournalRecord = HeaderRecord | RunRecord | IntentRecord | DoneRecord | UndoneRecord;
