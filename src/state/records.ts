/**
 * Journal records (DESIGN §4): append-only JSON lines, one record per line. Never a secret in here.
 */
export const JOURNAL_VERSION = 1;

/** What a resource step leaves in its `done` record: everything delete/undo needs, nothing secret. */
export type Ref = Record<string, unknown> & { id: string; arn?: string };

export interface HeaderRecord {
  t: 'header';
  v: number;
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  prefix: string;
  /** FortiCNAPP account (tenant) the integration is registered with. */
  laceworkAccount?: string;
  laceworkSubaccount?: string;
  externalId?: string;
  at: string;
  tool: string;
}

export interface RunRecord {
  t: 'run';
  command: string;
  /** The resolved inputs of this run, without secrets. */
  inputs?: unknown;
  pid: number;
  at: string;
}

export interface IntentRecord {
  t: 'intent';
  key: string;
  kind: string;
  region: string;
  name: string;
  /** 'create' a new resource, or 'change' one that exists (e.g. add a region to a role's trust). */
  op: 'create' | 'change';
  /** What undo needs if this call lands but `done` is never written (e.g. the state before a change). */
  before?: Record<string, unknown>;
  /** What a lookup by name needs besides the name (e.g. the bucket a notification lives on). */
  hint?: Record<string, string>;
  at: string;
}

export interface DoneRecord {
  t: 'done';
  key: string;
  kind: string;
  region: string;
  name: string;
  action: 'created' | 'changed';
  ref: Ref;
  before?: Record<string, unknown>;
  at: string;
}

export interface UndoneRecord {
  t: 'undone';
  key: string;
  kind: string;
  /** 'deleted' (teardown, rollback of a create) or 'restored' (rollback of a change) or 'gone' (already absent). */
  how: 'deleted' | 'restored' | 'gone' | 'kept';
  at: string;
}

export type JournalRecord = HeaderRecord | RunRecord | IntentRecord | DoneRecord | UndoneRecord;
