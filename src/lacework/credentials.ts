/**
 * FortiCNAPP (Lacework) API credentials: where they come from and how they are merged.
 *
 * Sources, highest precedence first (reference/lacework.md §4; DESIGN §2):
 *   1. flags (`--account`, `--subaccount`, `--api-key`, `--api-secret`)
 *   2. the JSON key file downloaded from the console (`--api-key-file`)
 *   3. the environment (`LW_ACCOUNT`, `LW_SUBACCOUNT`, `LW_API_KEY`, `LW_API_SECRET`)
 *   4. a profile in `~/.lacework.toml` (`--profile` / `LW_PROFILE`, else `default` if present)
 * Each field is taken from the first source that has it, so a key file without `account` plus `--account` works.
 *
 * Nothing here ever puts a secret into an error message: parse errors of the key file and of the TOML file
 * are summarised (the parsers' own messages quote the offending text, which may be the secret).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { UsageError } from '../errors.js';

/** Fully resolved credentials for the FortiCNAPP API. */
export interface LaceworkCredentials {
  /** Normalized account: the subdomain of `<account>.lacework.net`, e.g. `acme` or `acme.fra`. */
  account: string;
  /** Sub-account of an organization account, lower-cased; sent as the `Account-Name` header. */
  subaccount?: string;
  /** API key id. */
  keyId: string;
  /** API secret. Never print, log or journal it. */
  secret: string;
  /** Where the credentials came from, for humans: 'key file ./k.json', 'flags', "profile 'prod' in ~/.lacework.toml"… */
  source: string;
  /**
   * The source to record with a deployment so that teardown and status can find the key again (DESIGN §2, §4):
   * `keyFile` is the absolute path of the key file when that file supplied the key (id or secret); `profile` is
   * the `~/.lacework.toml` profile name when a profile did. Both absent when the key came from flags or LW_*
   * variables. Never the secret.
   */
  origin: CredentialOrigin;
}

/** Where the API key came from, in a form a later run can use again (see `LaceworkCredentials.origin`). */
export interface CredentialOrigin {
  /** Absolute path of the downloaded JSON key file. */
  keyFile?: string;
  /** Profile name in `~/.lacework.toml`, e.g. `default` or `prod`. */
  profile?: string;
}

import type { CredentialInputs } from '../config/resolve.js';

export type { CredentialInputs };

/** Just the credential flags of a command's options (whatever else the options hold stays out). */
export function credentialInputs(opts: CredentialInputs): CredentialInputs {
  return {
    account: opts.account,
    subaccount: opts.subaccount,
    apiKey: opts.apiKey,
    apiSecret: opts.apiSecret,
    apiKeyFile: opts.apiKeyFile,
    profile: opts.profile,
  };
}

/** What a key file or a `~/.lacework.toml` profile holds. Account already normalized, subaccount lower-cased. */
export interface PartialCredentials {
  account?: string;
  subaccount?: string;
  keyId?: string;
  secret?: string;
}

/** Contents of a console key file: keyId and secret are always there. */
export interface KeyFileCredentials extends PartialCredentials {
  keyId: string;
  secret: string;
}

const KEY_FILE_HINT = 'download a new key file from the FortiCNAPP console (Settings > API keys)';

/** An account, once normalized: DNS labels separated by dots. */
const ACCOUNT_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Reduces whatever the user typed to the account subdomain, as go-sdk's `lwdomain.New` does:
 * `acme.lacework.net` -> `acme`, `acme.fra.lacework.net` -> `acme.fra` (the cluster is kept), `acme` -> `acme`.
 * Also trims, lower-cases and drops a scheme, a port and anything after the host (people paste the console URL).
 */
export function normalizeAccount(account: string): string {
  let value = account.trim().toLowerCase();
  value = value.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  value = value.replace(/[/?#].*$/, '');
  value = value.replace(/:\d*$/, '');
  value = value.replace(/\.+$/, '');
  value = value.replace(/\.lacework\.net$/, '');
  return value;
}

/**
 * The tenant name used in the external ID (`lweid:aws:v2:<tenant>:...`): the account's first label,
 * so `acme.fra` -> `acme` (reference/lacework.md §5: `lwdomain.New(client.URL()).Account`; never the subaccount).
 */
export function tenantOf(account: string): string {
  const normalized = normalizeAccount(account);
  return normalized.split('.')[0] ?? normalized;
}

/**
 * Reads the JSON key file downloaded from the console:
 * `{"account": "acme.lacework.net", "subAccount": "prod", "keyId": "...", "secret": "..."}`.
 * `account` is normalized and `subAccount` lower-cased, as the reference CLI does.
 * @throws UsageError (code `KeyFileInvalid`) naming the path and the problem; the message never holds the secret.
 */
export async function readKeyFile(path: string): Promise<KeyFileCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read the API key file ${path}: ${describeFsError(err)}. Pass the path of the JSON key file, or ${KEY_FILE_HINT}.`, 'KeyFileInvalid');
  }
  let parsed: unknown;
  try {
    // A UTF-8 BOM (Windows editors) is not JSON whitespace.
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    // JSON.parse's message quotes the text around the error, which may be the secret: never pass it on.
    throw new UsageError(`The API key file ${path} is not valid JSON. Pass the JSON key file as downloaded, or ${KEY_FILE_HINT}.`, 'KeyFileInvalid');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`The API key file ${path} is not a JSON object. Pass the JSON key file as downloaded, or ${KEY_FILE_HINT}.`, 'KeyFileInvalid');
  }
  const obj = parsed as Record<string, unknown>;
  const keyId = stringField(obj, 'keyId');
  const secret = stringField(obj, 'secret');
  const absent = [keyId === undefined ? '"keyId"' : undefined, secret === undefined ? '"secret"' : undefined].filter((f) => f !== undefined);
  if (keyId === undefined || secret === undefined) {
    throw new UsageError(`The API key file ${path} has no ${absent.join(' and no ')}. ${capitalize(KEY_FILE_HINT)}.`, 'KeyFileInvalid');
  }
  const result: KeyFileCredentials = { keyId, secret };
  const account = stringField(obj, 'account');
  if (account !== undefined) result.account = normalizeAccount(account);
  // The console writes `subAccount`; accept the lower-case spelling too (the TOML file uses it).
  const subaccount = stringField(obj, 'subAccount') ?? stringField(obj, 'subaccount');
  if (subaccount !== undefined) result.subaccount = subaccount.toLowerCase();
  return result;
}

/**
 * Reads one profile of `~/.lacework.toml` (keys `account`, `subaccount`, `api_key`, `api_secret`).
 * @param home home directory; defaults to `os.homedir()`.
 * @returns undefined when the file does not exist, or when the profile is `default` and absent.
 * @throws UsageError (`ProfileNotFound`) for a missing non-default profile; (`ConfigInvalid`) for a malformed file.
 */
export async function readTomlProfile(name: string, home: string = homedir()): Promise<PartialCredentials | undefined> {
  const path = join(home, '.lacework.toml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new UsageError(`Cannot read ~/.lacework.toml: ${describeFsError(err)}. Fix its permissions or pass --api-key-file.`, 'ConfigInvalid');
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    // smol-toml's message includes the offending line, which may hold a secret: report the position only.
    const where = err instanceof TomlError ? ` (line ${err.line})` : '';
    throw new UsageError(`~/.lacework.toml is not valid TOML${where}. Fix it with 'lacework configure' or pass --api-key-file.`, 'ConfigInvalid');
  }
  const table = doc[name];
  if (table === undefined) {
    if (name === 'default') return undefined;
    throw new UsageError(profileNotFound(name), 'ProfileNotFound');
  }
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new UsageError(`The profile '${name}' in ~/.lacework.toml is not a table. Run 'lacework configure --profile ${name}' or pass --api-key-file.`, 'ConfigInvalid');
  }
  const profile = table as Record<string, unknown>;
  const result: PartialCredentials = {};
  const account = stringField(profile, 'account');
  if (account !== undefined) result.account = normalizeAccount(account);
  const subaccount = stringField(profile, 'subaccount');
  if (subaccount !== undefined) result.subaccount = subaccount.toLowerCase();
  const keyId = stringField(profile, 'api_key');
  if (keyId !== undefined) result.keyId = keyId;
  const secret = stringField(profile, 'api_secret');
  if (secret !== undefined) result.secret = secret;
  return result;
}

/** One place credentials can come from, with the fields it holds. */
interface Source {
  label: string;
  values: PartialCredentials;
  /** What `origin` records when this source supplies the key. */
  origin?: CredentialOrigin;
}

/**
 * Merges flags, the key file, the environment and `~/.lacework.toml` (precedence in that order, field by field).
 *
 * The subaccount belongs to an account: a source's subaccount is used only when that source names no account or
 * the same account as the one chosen, so `--account other` never inherits the key file's `subAccount` for `acme`.
 * The implicit `default` profile is read only when something is still missing; a profile named by `--profile`
 * or `LW_PROFILE` is always read and must exist.
 *
 * @returns `credentials` (with `origin`: the key file's absolute path or the profile name that supplied the key)
 *   when account, key id and secret are all known; otherwise `missing` lists the flags
 *   that would supply what is absent ('--account', '--api-key', '--api-secret'), for the caller to ask or fail.
 * @throws UsageError for an unreadable key file, a missing named profile, a malformed `~/.lacework.toml`,
 *   or an account that is not a valid name.
 */
export async function resolveCredentials(
  given: CredentialInputs,
  env: NodeJS.ProcessEnv,
  home?: string,
): Promise<{ credentials?: LaceworkCredentials; missing: string[] }> {
  const sources: Source[] = [];

  sources.push({
    label: 'flags',
    values: {
      account: clean(given.account, normalizeAccount),
      subaccount: clean(given.subaccount, lower),
      keyId: clean(given.apiKey),
      secret: clean(given.apiSecret),
    },
  });

  const keyFilePath = clean(given.apiKeyFile);
  if (keyFilePath !== undefined) {
    sources.push({ label: `key file ${keyFilePath}`, values: await readKeyFile(keyFilePath), origin: { keyFile: resolvePath(keyFilePath) } });
  }

  sources.push({
    label: 'environment (LW_*)',
    values: {
      account: clean(env.LW_ACCOUNT, normalizeAccount),
      subaccount: clean(env.LW_SUBACCOUNT, lower),
      keyId: clean(env.LW_API_KEY),
      secret: clean(env.LW_API_SECRET),
    },
  });

  const namedProfile = clean(given.profile) ?? clean(env.LW_PROFILE);
  const stillMissing = () => (['account', 'keyId', 'secret'] as const).some((f) => firstValue(sources, f) === undefined);
  if (namedProfile !== undefined || stillMissing()) {
    const profileName = namedProfile ?? 'default';
    const profile = await readTomlProfile(profileName, home);
    // readTomlProfile returns undefined for a missing file; a profile the user named must exist all the same.
    if (profile === undefined && profileName !== 'default') {
      throw new UsageError(profileNotFound(profileName), 'ProfileNotFound');
    }
    if (profile !== undefined) sources.push({ label: `profile '${profileName}' in ~/.lacework.toml`, values: profile, origin: { profile: profileName } });
  }

  const account = firstValue(sources, 'account');
  const keyId = firstValue(sources, 'keyId');
  const secret = firstValue(sources, 'secret');
  const missing: string[] = [];
  if (account === undefined) missing.push('--account');
  if (keyId === undefined) missing.push('--api-key');
  if (secret === undefined) missing.push('--api-secret');
  if (account === undefined || keyId === undefined || secret === undefined) return { missing };

  if (!ACCOUNT_PATTERN.test(account.value)) {
    throw new UsageError(
      `The FortiCNAPP account '${account.value}' (from ${account.source.label}) is not a valid account name. Pass the account as 'acme' or 'acme.lacework.net'.`,
      'InvalidAccount',
    );
  }

  const subaccount = sources.find(
    (s) => s.values.subaccount !== undefined && (s.values.account === undefined || s.values.account === account.value),
  )?.values.subaccount;

  // Named in precedence order, so the text reads the same whichever field came from where.
  const used = new Set([account.source, keyId.source, secret.source]);
  const labels = sources.filter((s) => used.has(s)).map((s) => s.label);
  // The key (id and secret) is what a later run must find again; the account alone is not worth recording.
  const origin: CredentialOrigin = { ...keyId.source.origin, ...secret.source.origin };
  const credentials: LaceworkCredentials = {
    account: account.value,
    keyId: keyId.value,
    secret: secret.value,
    source: labels.join(' and '),
    origin,
  };
  if (subaccount !== undefined) credentials.subaccount = subaccount;
  return { credentials, missing };
}

function firstValue(sources: Source[], field: keyof PartialCredentials): { value: string; source: Source } | undefined {
  for (const source of sources) {
    const value = source.values[field];
    if (value !== undefined) return { value, source };
  }
  return undefined;
}

/** Trims; an empty or whitespace-only value counts as not given (e.g. `LW_ACCOUNT=` in a shell profile). */
function clean(value: string | undefined, transform: (v: string) => string = (v) => v): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const result = transform(trimmed);
  return result === '' ? undefined : result;
}

function lower(value: string): string {
  return value.toLowerCase();
}

/** A trimmed non-empty string field, or undefined (absent, empty or not a string). */
function stringField(obj: Record<string, unknown>, key: string): string | undefined {
  const value = obj[key];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function profileNotFound(name: string): string {
  return `The profile '${name}' could not be found in ~/.lacework.toml. Run 'lacework configure --profile ${name}' or pass --api-key-file.`;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function describeFsError(err: unknown): string {
  if (isErrno(err, 'ENOENT')) return 'no such file';
  if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) return 'permission denied';
  if (isErrno(err, 'EISDIR')) return 'it is a directory';
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'unreadable';
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
