/**
 * The local journal, the crash log of a run (DESIGN §4): `<state-dir>/deployments/<id>/journal.jsonl`,
 * directory 0700, file 0600, one write + fsync per record so a record is on disk before the next AWS call.
 * Losing it never loses the deployment (that lives in AWS: record.ts); a damaged one is exit 2
 * `JournalCorrupt` naming the file and the line.
 */
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync, existsSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { AppError, UsageError } from '../errors.js';
import { JOURNAL_VERSION, type DoneRecord, type HeaderRecord, type IntentRecord, type JournalRecord, type Ref } from './records.js';

/** `FORTICNAPP_EKS_AUDIT_STATE_DIR`, else `~/.forticnapp-eks-audit`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FORTICNAPP_EKS_AUDIT_STATE_DIR || join(homedir(), '.forticnapp-eks-audit');
}

export function deploymentDir(stateDir: string, deploymentId: string): string {
  return join(stateDir, 'deployments', deploymentId);
}

export function journalPath(stateDir: string, deploymentId: string): string {
  return join(deploymentDir(stateDir, deploymentId), 'journal.jsonl');
}

/**
 * Refuses a state dir that cannot hold journals: a path that exists and is not a directory.
 * @param from where the path came from, as the message names it: `--state-dir` (the default),
 *   `FORTICNAPP_EKS_AUDIT_STATE_DIR`, or `the default state directory`.
 * @throws UsageError `BadInput` (exit 2).
 */
export function checkStateDir(stateDir: string, from = '--state-dir'): void {
  let isDir = true;
  try {
    isDir = statSync(stateDir).isDirectory();
  } catch {
    return; // missing: made on first use
  }
  if (!isDir) {
    const fix = from === '--state-dir' ? 'pass a directory (it is created if missing)' : 'move that file away, or pass --state-dir <a directory> (it is created if missing)';
    throw new UsageError(`${from} ${stateDir} is a file, not a directory; ${fix}.`, 'BadInput');
  }
}

/** mkdir -p with mode 0700 (also on a directory that existed with a wider mode). @throws UsageError when a part is a file. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      throw new UsageError(`Cannot make the state directory ${dir}: a part of that path is a file; pass another --state-dir.`, 'BadInput');
    }
    throw err;
  }
}

/**
 * A run cut off while writing leaves a last line without its newline; appending to it would glue the next
 * record onto it (a damaged middle line: JournalCorrupt on every later command). So before appending: a
 * complete record gets its newline, a torn one is cut off (readJournal drops it with a warning anyway).
 */
function endLastLine(path: string, fd: number): void {
  const text = readFileSync(path);
  if (text.length === 0 || text[text.length - 1] === 0x0a) return;
  const start = text.lastIndexOf(0x0a) + 1;
  let complete = true;
  try {
    JSON.parse(text.subarray(start).toString('utf8'));
  } catch {
    complete = false;
  }
  if (complete) writeSync(fd, '\n');
  else ftruncateSync(fd, start);
  fsyncSync(fd);
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
    endLastLine(path, fd);
    return new Journal(path, fd);
  }

  /** One write and one fsync: the record is on disk before the caller's next AWS call. */
  append(record: JournalRecord): void {
    if (this.fd < 0) return;
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

/** A version 1 record in version 2 terms (intent 'change' -> 'update'; done 'action' -> 'op'). */
function upgrade(r: JournalRecord & Record<string, unknown>): JournalRecord {
  if (r.t === 'intent' && (r.op as string) === 'change') return { ...r, op: 'update' };
  if (r.t === 'done' && r.op === undefined) {
    const ref = { ...(r.ref as Ref), region: String((r.ref as Ref | undefined)?.region ?? r.region) } as Ref;
    return { ...r, op: r.action === 'changed' ? 'update' : 'create', ref } as DoneRecord;
  }
  return r;
}

/**
 * Reads a journal. A torn last line (a run killed while writing it) is dropped with a warning.
 * @throws AppError `JournalCorrupt` (exit 2) naming the file and line for any other damaged line, or a missing header;
 *   `JournalVersion` (exit 2) for a version this tool does not read.
 */
export function readJournal(path: string): ReadJournal {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  const warnings: string[] = [];
  const damaged = (line: number, why: string) =>
    new AppError(
      'JournalCorrupt',
      `Journal ${path} is damaged at line ${line} (${why}); fix or delete that line, or move the file away (the deployment itself is recorded in AWS, so setup, status and teardown still find it).`,
      { exitCode: 2 },
    );
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw damaged(i + 1, 'not JSON');
      warnings.push(`The last line of ${path} was incomplete (a run was cut off while writing it); it was ignored.`);
      return;
    }
    const t = (parsed as { t?: unknown } | null)?.t;
    if (typeof parsed !== 'object' || parsed === null || !['header', 'run', 'intent', 'done', 'undone'].includes(String(t))) {
      throw damaged(i + 1, 'not a journal record');
    }
    records.push(upgrade(parsed as JournalRecord & Record<string, unknown>));
  });
  const header = records.find((r): r is HeaderRecord => r.t === 'header');
  if (!header) throw damaged(1, 'no header record');
  if (header.v !== JOURNAL_VERSION && header.v !== 1) {
    throw new AppError('JournalVersion', `Journal ${path} has version ${header.v}; this tool reads versions 1 and ${JOURNAL_VERSION}. Use the tool version that wrote it.`, { exitCode: 2 });
  }
  return { path, header, records, warnings };
}

/** The journal of one deployment, or undefined when this state dir has none. @throws as readJournal. */
export function findJournal(stateDir: string, deploymentId: string): ReadJournal | undefined {
  const path = journalPath(stateDir, deploymentId);
  return existsSync(path) ? readJournal(path) : undefined;
}

/** A journal that could not be read, and what it probably is. */
export interface DamagedJournal {
  path: string;
  deploymentId: string;
  error: AppError;
  /** The header, when its line could still be read. */
  header?: HeaderRecord;
}

/** Every deployment journal under the state dir; damaged ones apart (with their header when it is readable). */
export function listJournals(stateDir: string): { journals: ReadJournal[]; damaged: DamagedJournal[]; warnings: string[] } {
  const root = join(stateDir, 'deployments');
  const journals: ReadJournal[] = [];
  const damaged: DamagedJournal[] = [];
  const warnings: string[] = [];
  if (!existsSync(root)) return { journals, damaged, warnings };
  for (const id of readdirSync(root).sort()) {
    const path = join(root, id, 'journal.jsonl');
    if (!existsSync(path)) continue;
    try {
      const j = readJournal(path);
      journals.push(j);
      warnings.push(...j.warnings);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      let header: HeaderRecord | undefined;
      try {
        const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0] ?? '') as HeaderRecord;
        if (first?.t === 'header') header = first;
      } catch {
        // the header line itself is damaged
      }
      damaged.push({ path, deploymentId: id, error: err, ...(header ? { header } : {}) });
    }
  }
  return { journals, damaged, warnings };
}

/** The state of one resource key after replaying the journal. */
export interface KeyState {
  key: string;
  kind: string;
  region: string;
  name: string;
  /** The create/update records that have not been undone, oldest first. */
  done: DoneRecord[];
  /** An intent with no `done` after it: the call may or may not have landed. */
  pendingIntent?: IntentRecord;
  /** Position of the newest record, for ordering. */
  seq: number;
}

/** Replays the records into per-key state: what exists according to this journal. */
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
      if (r.op === 'delete') s.done = [];
      else s.done.push(r);
    } else {
      s.done = [];
      s.pendingIntent = undefined;
    }
  });
  for (const [k, s] of states) if (s.done.length === 0 && !s.pendingIntent) states.delete(k);
  return states;
}
