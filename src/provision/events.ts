/**
 * What apply, rollback and teardown report while they run. The provisioner never prints (DESIGN §5): it
 * emits these events and the CLI renders them (a live task list on a terminal, plain lines otherwise).
 */
import type { ResourceKind } from './resource.js';

export type Op = 'create' | 'update' | 'replace' | 'delete' | 'restore';

/** What happened to a resource, in the words teardown's report uses. */
export type Outcome =
  | 'created'
  | 'changed'
  | 'kept'
  | 'deleted'
  | 'already-gone'
  | 'turned-off'
  | 'scheduled-for-deletion'
  | 'restored'
  | 'adopted';

export type ProvisionEvent =
  | { type: 'start'; key: string; kind: ResourceKind; label: string; region: string; name: string; op: Op }
  | { type: 'progress'; key: string; message: string }
  | { type: 'done'; key: string; kind: ResourceKind; label: string; region: string; name: string; outcome: Outcome; ms: number; detail?: string }
  | { type: 'failed'; key: string; kind: ResourceKind; label: string; region: string; name: string; message: string }
  | { type: 'phase'; phase: 'apply' | 'remove' | 'rollback' | 'teardown'; message?: string };

export type Emit = (e: ProvisionEvent) => void;
