/**
 * The append-only journal: `<state-dir>/deployments/<id>/journal.jsonl`, directory 0700, file 0600,
 * one write + fsync per record so a record is on disk before the next AWS call.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { AppError } from '../errors.js';
import { JOURNAL_VERSION, type DoneRecord, type HeaderRecord, type IntentRecord, type JournalRecord } from './records.js';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FORTICNAPP_EKS_AUDIT_STATE_DIR || join(homedir(), '.forticnapp-eks-audit');
}

export function deploymentDir(stateDir: string, deploymentId: string): string {
  return join(stateDir, 'deployments', deploymentId);
}

export function journalPath(stateDir: string, deploymentId: string): string {
  return join(deploymentDir(stateDir, deploymentId), 'journal.jsonl');
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export class Journal {
  private fd: number;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /** Opens (creating if needed) the journal of a deployment for appending. */
  static open(stateDir: string, deploymentId: string): Journal {
    ensureDir(join(stateDir, 'deployments'));
    ensureDir(deploymentDir(stateDir, deploymentId));
    const path = journalPath(stateDir, deploymentId);
    const fd = openSync(path, 'a', 0o600);
    chmodSync(path, 0o600);
    return new Journal(path, fd);
  }

  append(record: JournalRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export interface ReadJournal {
  path: string;
  header: HeaderRecord;
  records: JournalRecord[];
  warnings: string[];
}

/** Reads a journal. A torn last line is dropped with a warning; a torn line elsewhere is an error. */
export function readJournal(path: string): ReadJournal {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new AppError('JournalCorrupt', `Journal ${path} is damaged at line ${i + 1}; fix or remove that line, or use 'teardown --discover'.`);
      warnings.push(`The last line of ${path} was incomplete (a run was cut off while writing it); it was ignored.`);
    }
  });
  const header = records.find((r): r is HeaderRecord => r.t === 'header');
  if (!header) throw new AppError('JournalCorrupt', `Journal ${path} has no header record; use 'teardown --discover' instead.`);
  if (header.v !== JOURNAL_VERSION) {
    throw new AppError('JournalVersion', `Journal ${path} has version ${header.v}; this tool reads version ${JOURNAL_VERSION}. Use the tool version that wrote it.`);
  }
  return { path, header, records, warnings };
}

/** Every deployment journal under the state dir, unreadable ones skipped with a warning. */
export function listJournals(stateDir: string): { journals: ReadJournal[]; warnings: string[] } {
  const root = join(stateDir, 'deployments');
  const journals: ReadJournal[] = [];
  const warnings: string[] = [];
  if (!existsSync(root)) return { journals, warnings };
  for (const id of readdirSync(root).sort()) {
    const path = join(root, id, 'journal.jsonl');
    if (!existsSync(path)) continue;
    try {
      const j = readJournal(path);
      journals.push(j);
      warnings.push(...j.warnings);
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  return { journals, warnings };
}

/** The state of one resource key after replaying the journal. */
export interface KeyState {
  key: string;
  kind: string;
  region: string;
  name: string;
  /** The newest create/change records that have not been undone, oldest first. */
  done: DoneRecord[];
  /** An intent with no `done` after it: the call may or may not have landed. */
  pendingIntent?: IntentRecord;
  /** Position of the newest record, for ordering. */
  seq: number;
}

/** Replays the records into per-key state: what exists now according to the journal. */
export function replay(records: JournalRecord[]): Map<string, KeyState> {
  const states = new Map<string, KeyState>();
  records.forEach((r, seq) => {
    if (r.t !== 'intent' && r.t !== 'done' && r.t !== 'undone') return;
    let s = states.get(r.key);
    if (!s) {
      if (r.t === 'undone') return;
      s = { key: r.key, kind: r.kind, region: r.region, name: r.name, done: [], seq };
      states.set(r.key, s);
    }
    s.seq = seq;
    if (r.t === 'intent') {
      s.pendingIntent = r;
    } else if (r.t === 'done') {
      s.pendingIntent = undefined;
      s.done.push(r);
    } else {
      s.done = [];
      s.pendingIntent = undefined;
    }
  });
  for (const [k, s] of states) if (s.done.length === 0 && !s.pendingIntent) states.delete(k);
  return states;
}
