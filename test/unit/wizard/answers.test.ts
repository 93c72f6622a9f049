import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answersPath, loadAnswers, saveAnswers } from '../../../src/wizard/answers.js';

let stateDir: string;
beforeEach(() => {
  stateDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'fea-answers-')), 'state');
});
afterEach(() => rmSync(path.dirname(stateDir), { recursive: true, force: true }));

const base = {
  accountId: '123456789012',
  regionClusters: { 'us-east-1': ['prod', 'stage'] },
  multiRegion: false,
  advanced: true,
  options: { bucketLifecycleDays: '90', noKms: true },
  credentials: { method: 'key-file' as const, apiKeyFile: '/home/me/key.json', account: 'acme' },
};

describe('saved answers', () => {
  it('round-trips, per account, in a 0700 directory and a 0600 file', () => {
    const { path: file, written } = saveAnswers(stateDir, base);
    expect(written).toBe(true);
    expect(file).toBe(answersPath(stateDir, '123456789012'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(loadAnswers(stateDir, '123456789012')).toMatchObject({ ...base, version: 1 });
    expect(loadAnswers(stateDir, '210987654321')).toBeUndefined();
  });

  it('tightens a directory that already existed with wider permissions', () => {
    mkdirSync(path.join(stateDir, 'answers'), { recursive: true, mode: 0o755 });
    chmodSync(path.join(stateDir, 'answers'), 0o755);
    saveAnswers(stateDir, base);
    expect(statSync(path.join(stateDir, 'answers')).mode & 0o777).toBe(0o700);
  });

  it('writes only the known fields: a secret carried along by mistake is not written', () => {
    const sneaky = { ...base, apiSecret: 'TOP-SECRET-1', credentials: { ...base.credentials, secret: 'TOP-SECRET-2' } };
    saveAnswers(stateDir, sneaky as unknown as typeof base);
    const text = readFileSync(answersPath(stateDir, base.accountId), 'utf8');
    expect(text).not.toContain('TOP-SECRET');
  });

  it('ignores what no longer validates, field by field; a broken file is no file', () => {
    const file = saveAnswers(stateDir, base).path;
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.regionClusters = { 'us-east-1': ['prod', 'bad name', 7], 'xus-east-1yy': ['x'], 'eu-west-1': 'prod' };
    doc.options = { bucketLifecycleDays: 90, existingBucketArn: 'arn:aws:s3:::b', noKms: 'yes' };
    doc.credentials = { method: 'carrier-pigeon' };
    writeFileSync(file, JSON.stringify(doc));
    const loaded = loadAnswers(stateDir, base.accountId);
    expect(loaded?.regionClusters).toEqual({ 'us-east-1': ['prod'] });
    expect(loaded?.options).toEqual({ existingBucketArn: 'arn:aws:s3:::b' });
    expect(loaded?.credentials).toBeUndefined();

    writeFileSync(file, '{"version": 1, "accountId": "1234');
    expect(loadAnswers(stateDir, base.accountId)).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...doc, version: 2 }));
    expect(loadAnswers(stateDir, base.accountId)).toBeUndefined();
  });

  it('leaves the file alone when nothing changed (issue 10), whatever the key order', () => {
    const file = saveAnswers(stateDir, base).path;
    const before = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    const reordered = { options: { noKms: true, bucketLifecycleDays: '90' }, credentials: { account: 'acme', apiKeyFile: '/home/me/key.json', method: 'key-file' as const }, advanced: true, multiRegion: false, regionClusters: { 'us-east-1': ['prod', 'stage'] }, accountId: '123456789012' };
    expect(saveAnswers(stateDir, reordered)).toEqual({ path: file, written: false });
    expect(readFileSync(file, 'utf8')).toBe(before); // savedAt included
    expect(statSync(file).mtimeMs).toBe(mtime);
    // Any change is written.
    expect(saveAnswers(stateDir, { ...base, regionClusters: { 'us-east-1': ['prod'] } }).written).toBe(true);
    expect(loadAnswers(stateDir, base.accountId)?.regionClusters).toEqual({ 'us-east-1': ['prod'] });
    expect(saveAnswers(stateDir, { ...base, regionClusters: { 'us-east-1': ['prod'] }, credentials: undefined }).written).toBe(true);
  });

  it('refuses to save under something that is not an account id (it becomes a file name)', () => {
    expect(() => saveAnswers(stateDir, { ...base, accountId: '../../etc' })).toThrow();
  });
});
