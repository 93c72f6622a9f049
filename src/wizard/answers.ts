/**
 * Saved wizard answers, one file per AWS account: `<stateDir>/answers/<accountId>.json` (directory 0700,
 * file 0600, written whole through a temp file, fsync and rename). A later run offers to load them as
 * the defaults of its questions (reference/lacework.md §1.3, but scoped to the AWS account rather than to
 * an API key, and without the one-hour expiry: the clusters of an account rarely change that fast).
 *
 * Never a secret: the type has no field for one, and `saveAnswers` writes only the fields below. Values read
 * back are only defaults, so a malformed or stale file is ignored field by field instead of failing the run.
 */
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, chmodSync, writeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkAwsAccountId, checkClusterName, checkRegion } from '../config/validate.js';

/** Version of the saved-answers file; a file of another version is ignored (loadAnswers). */
export const ANSWERS_VERSION = 1;

/** Advanced options as the matching flags hold them (strings where the flag takes a string). */
export interface SavedOptions {
  existingBucketArn?: string;
  bucketLifecycleDays?: string;
  bucketVersioning?: boolean;
  existingCaRoleArn?: string;
  /** Not a secret: AWS documents the external ID as a shared identifier, and the journal keeps it too. */
  existingCaExternalId?: string;
  existingFirehoseRoleArn?: string;
  existingCwRoleArn?: string;
  kmsKeyArn?: string;
  noKms?: boolean;
  integrationName?: string;
  homeRegion?: string;
}

/** How the FortiCNAPP key was given last time, without the key itself. */
export interface SavedCredentials {
  method: 'key-file' | 'typed';
  /** Absolute path of the downloaded key file (the file holds the secret; its path does not). */
  apiKeyFile?: string;
  /** FortiCNAPP account name, e.g. `acme`. */
  account?: string;
}

/** One account's saved answers, as the file holds them. */
export interface SavedAnswers {
  version: typeof ANSWERS_VERSION;
  /** ISO time of the save. */
  savedAt: string;
  accountId: string;
  regionClusters: Record<string, string[]>;
  multiRegion: boolean;
  /** Whether the advanced menu was opened (the default of that question next time). */
  advanced: boolean;
  options: SavedOptions;
  credentials?: SavedCredentials;
}

/** `<stateDir>/answers`: the directory of saved answers (0700). */
export function answersDir(stateDir: string): string {
  return join(stateDir, 'answers');
}

/** `<stateDir>/answers/<accountId>.json`: one account's saved answers (0600). */
export function answersPath(stateDir: string, accountId: string): string {
  return join(answersDir(stateDir), `${accountId}.json`);
}

const OPTION_STRINGS = [
  'existingBucketArn',
  'bucketLifecycleDays',
  'existingCaRoleArn',
  'existingCaExternalId',
  'existingFirehoseRoleArn',
  'existingCwRoleArn',
  'kmsKeyArn',
  'integrationName',
  'homeRegion',
] as const;

/**
 * The answers saved for `accountId`, or undefined (none, unreadable, another version or another account).
 * Region/cluster entries that no longer pass the validators are dropped, as are fields of the wrong type.
 */
export function loadAnswers(stateDir: string, accountId: string): SavedAnswers | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(answersPath(stateDir, accountId), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.version !== ANSWERS_VERSION || r.accountId !== accountId) return undefined;

  const regionClusters: Record<string, string[]> = {};
  if (typeof r.regionClusters === 'object' && r.regionClusters !== null) {
    for (const [region, clusters] of Object.entries(r.regionClusters as Record<string, unknown>)) {
      if (checkRegion(region) || !Array.isArray(clusters)) continue;
      const names = clusters.filter((c): c is string => typeof c === 'string' && !checkClusterName(c));
      if (names.length > 0) regionClusters[region] = names;
    }
  }
  const options: SavedOptions = {};
  const o = (typeof r.options === 'object' && r.options !== null ? r.options : {}) as Record<string, unknown>;
  for (const k of OPTION_STRINGS) if (typeof o[k] === 'string') options[k] = o[k] as string;
  if (typeof o.bucketVersioning === 'boolean') options.bucketVersioning = o.bucketVersioning;
  if (typeof o.noKms === 'boolean') options.noKms = o.noKms;

  let credentials: SavedCredentials | undefined;
  const c = r.credentials as Record<string, unknown> | undefined;
  if (c && (c.method === 'key-file' || c.method === 'typed')) {
    credentials = { method: c.method };
    if (typeof c.apiKeyFile === 'string') credentials.apiKeyFile = c.apiKeyFile;
    if (typeof c.account === 'string') credentials.account = c.account;
  }
  return {
    version: ANSWERS_VERSION,
    savedAt: typeof r.savedAt === 'string' ? r.savedAt : '',
    accountId,
    regionClusters,
    multiRegion: r.multiRegion === true,
    advanced: r.advanced === true,
    options,
    ...(credentials ? { credentials } : {}),
  };
}

/**
 * Writes the answers for their account, replacing what was there, unless the file already holds the very same
 * answers (then it is left alone, its `savedAt` included: issue 10). Only the known fields are copied, so an
 * object carrying more (a secret by mistake) still writes none of it. Written whole: a temp file (0600), fsync,
 * rename; the directory is made (or tightened to) 0700.
 * @returns the file's path, and whether it was written.
 * @throws Error when `accountId` is not a 12-digit account id (it becomes the file name), or on a write failure.
 */
export function saveAnswers(stateDir: string, answers: Omit<SavedAnswers, 'version' | 'savedAt'>): { path: string; written: boolean } {
  const accountProblem = checkAwsAccountId(answers.accountId, 'account id');
  if (accountProblem) throw new Error(accountProblem);
  const options: SavedOptions = {};
  for (const k of OPTION_STRINGS) if (answers.options[k] !== undefined) options[k] = answers.options[k];
  if (answers.options.bucketVersioning !== undefined) options.bucketVersioning = answers.options.bucketVersioning;
  if (answers.options.noKms !== undefined) options.noKms = answers.options.noKms;
  const content = {
    accountId: answers.accountId,
    regionClusters: answers.regionClusters,
    multiRegion: answers.multiRegion,
    advanced: answers.advanced,
    options,
    ...(answers.credentials
      ? {
          credentials: {
            method: answers.credentials.method,
            ...(answers.credentials.apiKeyFile !== undefined ? { apiKeyFile: answers.credentials.apiKeyFile } : {}),
            ...(answers.credentials.account !== undefined ? { account: answers.credentials.account } : {}),
          },
        }
      : {}),
  };
  const path = answersPath(stateDir, answers.accountId);
  const current = loadAnswers(stateDir, answers.accountId);
  if (current && sameAnswers(current, content)) return { path, written: false };

  const dir = answersDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // mkdir's mode does not apply to a directory that already existed
  const doc: SavedAnswers = { version: ANSWERS_VERSION, savedAt: new Date().toISOString(), ...content };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600); // in case a stale temp file of the same name existed with wider permissions
    writeSync(fd, JSON.stringify(doc, null, 2) + '\n');
    fsyncSync(fd); // on disk before the rename makes it the answers file
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return { path, written: true };
}

/** Same answers, whatever the key order and `savedAt` (a loaded file is already reduced to the known fields). */
function sameAnswers(current: SavedAnswers, next: Omit<SavedAnswers, 'version' | 'savedAt'>): boolean {
  const { version: _v, savedAt: _s, ...rest } = current;
  return canonical(rest) === canonical(next);
}

/** JSON with object keys sorted and undefined members dropped, for comparisons. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
