/**
 * The journal (DESIGN §4): append-only JSON lines with fsync, directory 0700 and file 0600; version 2
 * records; version 1 journals (the random-id version) read in version 2 terms; a torn last line dropped with
 * a warning, any other damaged line `JournalCorrupt` (exit 2) naming file and line; replay.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, UsageError } from '../../../src/errors.js';
import {
  checkStateDir,
  defaultStateDir,
  ensureDir,
  findJournal,
  Journal,
  journalPath,
  listJournals,
  readJournal,
  replay,
} from '../../../src/state/journal.js';
import { JOURNAL_VERSION, type DoneRecord, type HeaderRecord, type JournalRecord } from '../../../src/state/records.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fea-journal-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const at = '2026-11-30T00:00:01Z';
const header = (id = '1b3c2d59', v = JOURNAL_VERSION): HeaderRecord => ({
  t: 'header', v, deploymentId: id, accountId: '123456789012', homeRegion: 'eu-central-1', prefix: 'lw-eks-al', at, tool: 'forticnapp-eks-audit/0.1.0',
});
const intent = (key: string, op: 'create' | 'update' | 'delete' = 'create', before?: unknown): JournalRecord => ({
  t: 'intent', key, kind: 'iam-role', region: 'global', name: key, op, ...(before !== undefined ? { before } : {}), at,
});
const done = (key: string, op: 'create' | 'update' | 'delete' = 'create', extra: Partial<DoneRecord> = {}): JournalRecord => ({
  t: 'done', key, kind: 'iam-role', region: 'global', name: key, op, ref: { id: key, region: 'global' }, ...extra, at,
});
const undone = (key: string, how: 'deleted' | 'restored' | 'gone' = 'deleted'): JournalRecord => ({ t: 'undone', key, kind: 'iam-role', how, at });

function write(records: JournalRecord[], id = '1b3c2d59'): string {
  const j = Journal.open(stateDir, id);
  for (const r of records) j.append(r);
  j.close();
  return j.path;
}

function corruptError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected JournalCorrupt');
}

describe('Journal', () => {
  it('lives at <state-dir>/deployments/<id>/journal.jsonl, directories 0700 and file 0600, one JSON record per line', () => {
    const path = write([header(), intent('a'), done('a')]);
    expect(path).toBe(join(stateDir, 'deployments', '1b3c2d59', 'journal.jsonl'));
    expect(path).toBe(journalPath(stateDir, '1b3c2d59'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'deployments', '1b3c2d59')).mode & 0o777).toBe(0o700);
    expect(statSync(join(stateDir, 'deployments')).mode & 0o777).toBe(0o700);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toEqual([JSON.stringify(header()), JSON.stringify(intent('a')), JSON.stringify(done('a')), '']);
  });

  it('tightens a state dir that existed with a wider mode', () => {
    const dir = join(stateDir, 'deployments');
    mkdirSync(dir, { mode: 0o755 });
    write([header()]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('appends to an existing journal (a later run adds to what an earlier one wrote)', () => {
    write([header(), intent('a'), done('a')]);
    write([{ t: 'run', command: 'setup', pid: 1, at }, intent('b')]);
    expect(readJournal(journalPath(stateDir, '1b3c2d59')).records.map((r) => r.t)).toEqual(['header', 'intent', 'done', 'run', 'intent']);
  });

  it('does nothing once closed', () => {
    const j = Journal.open(stateDir, '1b3c2d59');
    j.append(header());
    j.close();
    j.append(intent('late'));
    j.close();
    expect(readJournal(j.path).records).toHaveLength(1);
  });

  it('reads version 2 records back as written', () => {
    const records = [header(), { t: 'run', command: 'setup', pid: 42, at } as JournalRecord, intent('a', 'update', { policy: 'old' }), done('a', 'update', { before: { policy: 'old' } }), done('b', 'create', { adopted: true }), undone('a', 'restored')];
    const j = readJournal(write(records));
    expect(j.header).toEqual(header());
    expect(j.records).toEqual(records);
    expect(j.warnings).toEqual([]);
  });

  it('reads a version 1 journal in version 2 terms: intent "change" is an update, done "action" becomes "op", the ref gets its region', () => {
    const path = join(stateDir, 'v1.jsonl');
    const v1 = [
      { ...header('k3x9abcd', 1), externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij', laceworkAccount: 'acme' },
      { t: 'run', command: 'setup', inputs: { homeRegion: 'eu-central-1', regionClusters: { 'eu-central-1': ['prod'] } }, pid: 7, at },
      { t: 'intent', key: 'sns-topic', kind: 'sns-topic', region: 'eu-central-1', name: 'lw-eks-alk3x9abcd', op: 'create', at },
      { t: 'done', key: 'sns-topic', kind: 'sns-topic', region: 'eu-central-1', name: 'lw-eks-alk3x9abcd', action: 'created', ref: { id: 'arn:aws:sns:eu-central-1:123456789012:lw-eks-alk3x9abcd' }, at },
      { t: 'intent', key: 'iam-role/ca', kind: 'iam-role', region: 'global', name: 'lw-eks-al-ca-k3x9abcd', op: 'change', at },
      { t: 'done', key: 'iam-role/ca', kind: 'iam-role', region: 'global', name: 'lw-eks-al-ca-k3x9abcd', action: 'changed', ref: { id: 'lw-eks-al-ca-k3x9abcd', region: 'global' }, at },
    ];
    writeFileSync(path, v1.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const j = readJournal(path);
    expect(j.header).toMatchObject({ v: 1, deploymentId: 'k3x9abcd', externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij' });
    expect(j.records[2]).toMatchObject({ t: 'intent', op: 'create' });
    expect(j.records[3]).toMatchObject({ t: 'done', op: 'create', ref: { id: 'arn:aws:sns:eu-central-1:123456789012:lw-eks-alk3x9abcd', region: 'eu-central-1' } });
    expect(j.records[4]).toMatchObject({ t: 'intent', op: 'update' });
    expect(j.records[5]).toMatchObject({ t: 'done', op: 'update', ref: { region: 'global' } });
    const live = replay(j.records);
    expect([...live.keys()]).toEqual(['sns-topic', 'iam-role/ca']);
    expect(live.get('iam-role/ca')?.done.map((d) => d.op)).toEqual(['update']);
  });

  it('drops a torn last line with a warning (a run killed while writing it)', () => {
    const path = write([header(), intent('a')]);
    appendFileSync(path, '{"t":"done","key":"a","ki');
    const j = readJournal(path);
    expect(j.records.map((r) => r.t)).toEqual(['header', 'intent']);
    expect(j.warnings).toEqual([`The last line of ${path} was incomplete (a run was cut off while writing it); it was ignored.`]);
    expect(replay(j.records).get('a')?.pendingIntent).toBeDefined();
    // Trailing blank lines do not make it a middle line.
    appendFileSync(path, '\n\n');
    expect(readJournal(path).warnings).toHaveLength(1);
  });

  it('a run after a torn last line appends cleanly: the journal stays readable', () => {
    const path = write([header(), intent('a')]);
    appendFileSync(path, '{"t":"done","key":"a","ki');
    expect(readJournal(path).warnings).toHaveLength(1);
    // The next run (setup after the crash) opens the journal and appends.
    write([{ t: 'run', command: 'setup', pid: 2, at }, intent('b'), done('b')]);
    const j = readJournal(path);
    expect(j.records.map((r) => r.t)).toEqual(['header', 'intent', 'run', 'intent', 'done']);
    expect(replay(j.records).get('b')?.done).toHaveLength(1);
  });

  it('a complete last record whose newline was not written is kept, and the next record goes on its own line', () => {
    const path = write([header()]);
    appendFileSync(path, JSON.stringify(intent('a')));
    write([done('a')]);
    expect(readJournal(path).records.map((r) => r.t)).toEqual(['header', 'intent', 'done']);
  });

  it('refuses a damaged line elsewhere: JournalCorrupt, exit 2, naming the file and the line', () => {
    const path = join(stateDir, 'broken.jsonl');
    writeFileSync(path, `${JSON.stringify(header())}\n${JSON.stringify(intent('a'))}\n{oops\n${JSON.stringify(done('a'))}\n`);
    const err = corruptError(() => readJournal(path));
    expect(err.code).toBe('JournalCorrupt');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`Journal ${path} is damaged at line 3 (not JSON)`);
    expect(err.message).toMatch(/recorded in AWS/);
  });

  it('refuses a line that is JSON but no journal record', () => {
    for (const [bad, line] of [['{"x":1}', 2], ['[1,2]', 2], ['null', 2], ['"text"', 2], ['{"t":"bogus"}', 2]] as const) {
      const path = join(stateDir, `bad-${line}-${bad.length}.jsonl`);
      writeFileSync(path, `${JSON.stringify(header())}\n${bad}\n${JSON.stringify(intent('a'))}\n`);
      const err = corruptError(() => readJournal(path));
      expect(err.code, bad).toBe('JournalCorrupt');
      expect(err.message, bad).toContain(`damaged at line ${line} (not a journal record)`);
    }
  });

  it('refuses a journal without a header (line 1), and one of a version it does not read', () => {
    const noHeader = join(stateDir, 'a.jsonl');
    writeFileSync(noHeader, `${JSON.stringify(intent('a'))}\n`);
    const e1 = corruptError(() => readJournal(noHeader));
    expect(e1.code).toBe('JournalCorrupt');
    expect(e1.message).toContain('damaged at line 1 (no header record)');
    const future = join(stateDir, 'b.jsonl');
    writeFileSync(future, `${JSON.stringify(header('1b3c2d59', JOURNAL_VERSION + 1))}\n`);
    const e2 = corruptError(() => readJournal(future));
    expect(e2.code).toBe('JournalVersion');
    expect(e2.exitCode).toBe(2);
    expect(e2.message).toContain(`version ${JOURNAL_VERSION + 1}`);
  });

  it('finds the journal of a deployment, or says there is none', () => {
    expect(findJournal(stateDir, '1b3c2d59')).toBeUndefined();
    write([header()]);
    expect(findJournal(stateDir, '1b3c2d59')?.header.deploymentId).toBe('1b3c2d59');
  });

  it('lists every deployment’s journal, damaged ones apart with their header when it is readable', () => {
    write([header('aaaaaaaa'), intent('a'), done('a')], 'aaaaaaaa');
    const torn = write([header('bbbbbbbb')], 'bbbbbbbb');
    appendFileSync(torn, '{"t":"in');
    mkdirSync(join(stateDir, 'deployments', 'cccccccc'));
    writeFileSync(join(stateDir, 'deployments', 'cccccccc', 'journal.jsonl'), `${JSON.stringify(header('cccccccc'))}\nnot json\n{}\n`);
    mkdirSync(join(stateDir, 'deployments', 'dddddddd'));
    writeFileSync(join(stateDir, 'deployments', 'dddddddd', 'journal.jsonl'), 'not json\nnor this\n');
    mkdirSync(join(stateDir, 'deployments', 'eeeeeeee')); // a lock dir left by --discover: no journal
    const { journals, damaged, warnings } = listJournals(stateDir);
    expect(journals.map((j) => j.header.deploymentId)).toEqual(['aaaaaaaa', 'bbbbbbbb']);
    expect(warnings).toHaveLength(1);
    expect(damaged.map((d) => [d.deploymentId, d.error.code, d.header?.deploymentId])).toEqual([
      ['cccccccc', 'JournalCorrupt', 'cccccccc'],
      ['dddddddd', 'JournalCorrupt', undefined],
    ]);
    expect(listJournals(join(stateDir, 'nowhere'))).toEqual({ journals: [], damaged: [], warnings: [] });
  });

  it('takes the state dir from FORTICNAPP_EKS_AUDIT_STATE_DIR, else ~/.forticnapp-eks-audit', () => {
    expect(defaultStateDir({ FORTICNAPP_EKS_AUDIT_STATE_DIR: '/x/y' })).toBe('/x/y');
    expect(defaultStateDir({})).toMatch(/\.forticnapp-eks-audit$/);
  });

  it('refuses a state dir that is a file, or under one (BadInput, exit 2)', () => {
    const file = join(stateDir, 'file');
    writeFileSync(file, '');
    expect(() => checkStateDir(file)).toThrow(UsageError);
    expect(() => checkStateDir(file)).toThrow(/is a file, not a directory/);
    expect(() => checkStateDir(join(stateDir, 'missing'))).not.toThrow();
    expect(() => ensureDir(join(file, 'sub'))).toThrow(/a part of that path is a file/);
  });
});

describe('replay', () => {
  it('a done clears its intent; an intent without done stays pending (a crash mid-call)', () => {
    const s = replay([header(), intent('a'), done('a'), intent('b')]);
    expect(s.get('a')).toMatchObject({ kind: 'iam-role', region: 'global', name: 'a', done: [expect.objectContaining({ t: 'done', op: 'create' })] });
    expect(s.get('a')?.pendingIntent).toBeUndefined();
    expect(s.get('b')).toMatchObject({ done: [], pendingIntent: expect.objectContaining({ t: 'intent', key: 'b' }) });
  });

  it('undone removes a key (rollback finished it); a later create brings it back; an unknown undone is ignored', () => {
    expect(replay([header(), intent('a'), done('a'), undone('a')]).size).toBe(0);
    const again = replay([header(), intent('a'), done('a'), undone('a'), intent('a'), done('a')]);
    expect(again.get('a')?.done).toHaveLength(1);
    expect(replay([header(), undone('zz')]).size).toBe(0);
  });

  it('a delete done removes a key (teardown); a delete intent without done leaves it pending', () => {
    expect(replay([header(), intent('a'), done('a'), intent('a', 'delete'), done('a', 'delete')]).size).toBe(0);
    const half = replay([header(), intent('a'), done('a'), intent('a', 'delete')]);
    expect(half.get('a')?.pendingIntent?.op).toBe('delete');
    expect(half.get('a')?.done).toHaveLength(1);
  });

  it('keeps every create and update of a key in order, and its newest position for ordering', () => {
    const s = replay([header(), intent('a'), done('a'), intent('b'), done('b'), intent('a', 'update'), done('a', 'update')]);
    expect(s.get('a')?.done.map((d) => d.op)).toEqual(['create', 'update']);
    expect(s.get('a')?.seq).toBeGreaterThan(s.get('b')?.seq ?? Infinity);
  });
});
