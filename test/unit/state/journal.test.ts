/** The journal (DESIGN §4): append-only JSON lines with fsync, 0700/0600, torn last line, replay. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { Journal, defaultStateDir, journalPath, listJournals, readJournal, replay } from '../../../src/journal/journal.js';
import { JOURNAL_VERSION, type HeaderRecord, type JournalRecord } from '../../../src/journal/records.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fea-journal-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const header = (id = 'aabbccdd'): HeaderRecord => ({
  t: 'header', v: JOURNAL_VERSION, deploymentId: id, accountId: '123456789012', homeRegion: 'eu-central-1', prefix: 'lw-eks-al', at: '2026-01-01T00:00:00Z', tool: 'forticnapp-eks-audit/0.1.0',
});
const at = '2026-01-01T00:00:01Z';
const intent = (key: string, op: 'create' | 'change' = 'create'): JournalRecord => ({ t: 'intent', key, kind: 'iam-role', region: 'global', name: key, op, at });
const done = (key: string, action: 'created' | 'changed' = 'created'): JournalRecord => ({ t: 'done', key, kind: 'iam-role', region: 'global', name: key, action, ref: { id: key }, at });
const undone = (key: string): JournalRecord => ({ t: 'undone', key, kind: 'iam-role', how: 'deleted', at });

function write(records: JournalRecord[], id = 'aabbccdd'): string {
  const j = Journal.open(stateDir, id);
  for (const r of records) j.append(r);
  j.close();
  return j.path;
}

describe('Journal', () => {
  it('lives at <state-dir>/deployments/<id>/journal.jsonl, directory 0700 and file 0600, one JSON record per line', () => {
    const path = write([header(), intent('a'), done('a')]);
    expect(path).toBe(journalPath(stateDir, 'aabbccdd'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'deployments', 'aabbccdd')).mode & 0o777).toBe(0o700);
    expect(statSync(join(stateDir, 'deployments')).mode & 0o777).toBe(0o700);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(lines.slice(0, 3).map((l) => (JSON.parse(l) as JournalRecord).t)).toEqual(['header', 'intent', 'done']);
  });

  it('appends to an existing journal (a later run adds to what an earlier one wrote)', () => {
    write([header(), intent('a'), done('a')]);
    write([intent('b')]);
    expect(readJournal(journalPath(stateDir, 'aabbccdd')).records.map((r) => r.t)).toEqual(['header', 'intent', 'done', 'intent']);
  });

  it('drops a torn last line with a warning, and refuses a damaged line elsewhere', () => {
    const path = write([header(), intent('a')]);
    appendFileSync(path, '{"t":"done","key":"a","ki');
    const j = readJournal(path);
    expect(j.records.map((r) => r.t)).toEqual(['header', 'intent']);
    expect(j.warnings).toHaveLength(1);
    expect(j.warnings[0]).toContain('incomplete');
    expect(replay(j.records).get('a')?.pendingIntent).toBeDefined();

    const broken = join(stateDir, 'broken.jsonl');
    writeFileSync(broken, `${JSON.stringify(header())}\n{oops\n${JSON.stringify(intent('a'))}\n`);
    expect(() => readJournal(broken)).toThrow(/damaged at line 2/);
  });

  it('refuses a journal without a header, or of another version', () => {
    const noHeader = join(stateDir, 'a.jsonl');
    writeFileSync(noHeader, `${JSON.stringify(intent('a'))}\n`);
    expect(() => readJournal(noHeader)).toThrow(AppError);
    expect(() => readJournal(noHeader)).toThrow(/no header/);
    const future = join(stateDir, 'b.jsonl');
    writeFileSync(future, `${JSON.stringify({ ...header(), v: JOURNAL_VERSION + 1 })}\n`);
    expect(() => readJournal(future)).toThrow(/version/);
  });

  it('lists every deployment, skipping unreadable journals with a warning', () => {
    write([header('aaaaaaaa'), intent('a'), done('a')], 'aaaaaaaa');
    write([header('bbbbbbbb')], 'bbbbbbbb');
    mkdirSync(join(stateDir, 'deployments', 'cccccccc'));
    writeFileSync(join(stateDir, 'deployments', 'cccccccc', 'journal.jsonl'), 'not json\nnor this\n');
    mkdirSync(join(stateDir, 'deployments', 'dddddddd')); // a lock dir left by --discover: no journal
    const { journals, warnings } = listJournals(stateDir);
    expect(journals.map((j) => j.header.deploymentId)).toEqual(['aaaaaaaa', 'bbbbbbbb']);
    expect(warnings).toHaveLength(1);
    expect(listJournals(join(stateDir, 'nowhere'))).toEqual({ journals: [], warnings: [] });
  });

  it('takes the state dir from FORTICNAPP_EKS_AUDIT_STATE_DIR, else ~/.forticnapp-eks-audit', () => {
    expect(defaultStateDir({ FORTICNAPP_EKS_AUDIT_STATE_DIR: '/x/y' })).toBe('/x/y');
    expect(defaultStateDir({})).toMatch(/\.forticnapp-eks-audit$/);
  });
});

describe('replay', () => {
  it('a done clears its intent; an intent without done stays pending (a crash mid-call)', () => {
    const s = replay([header(), intent('a'), done('a'), intent('b')]);
    expect(s.get('a')).toMatchObject({ done: [expect.objectContaining({ t: 'done' })] });
    expect(s.get('a')?.pendingIntent).toBeUndefined();
    expect(s.get('b')).toMatchObject({ done: [], pendingIntent: expect.objectContaining({ t: 'intent', key: 'b' }) });
  });

  it('undone removes a key (teardown or rollback finished it); a later create brings it back', () => {
    expect(replay([header(), intent('a'), done('a'), undone('a')]).size).toBe(0);
    const again = replay([header(), intent('a'), done('a'), undone('a'), intent('a'), done('a')]);
    expect(again.get('a')?.done).toHaveLength(1);
    // An undone for a key never seen (a discovered resource) is ignored.
    expect(replay([header(), undone('zz')]).size).toBe(0);
  });

  it('keeps every create/change of a key in order, and its newest position for ordering', () => {
    const s = replay([header(), intent('a'), done('a'), intent('b'), done('b'), intent('a', 'change'), done('a', 'changed')]);
    expect(s.get('a')?.done.map((d) => (d as { action: string }).action)).toEqual(['created', 'changed']);
    expect(s.get('a')?.seq).toBeGreaterThan(s.get('b')?.seq ?? Infinity);
  });
});
