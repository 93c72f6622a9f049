import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  normalizeAccount,
  readKeyFile,
  readTomlProfile,
  resolveCredentials,
  tenantOf,
} from '../../../src/lacework/credentials.js';

const SECRET = '_0123456789abcdef0123456789abcdef';
const KEY_ID = 'ACME_0123456789ABCDEF0123456789ABCDEF0123';

let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'lw-cred-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function writeKeyFile(content: unknown, name = 'key.json'): Promise<string> {
  const path = join(home, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function writeToml(text: string): Promise<void> {
  await writeFile(join(home, '.lacework.toml'), text, { mode: 0o600 });
}

/** Runs fn, expects a UsageError, and checks the message never holds the secret. */
async function usageError(fn: () => Promise<unknown>): Promise<UsageError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  const usage = err as UsageError;
  expect(usage.exitCode).toBe(2);
  expect(usage.message).not.toContain(SECRET);
  expect(usage.message.split('\n')).toHaveLength(1);
  return usage;
}

describe('normalizeAccount', () => {
  it.each([
    ['acme', 'acme'],
    ['acme.lacework.net', 'acme'],
    ['acme.fra.lacework.net', 'acme.fra'],
    ['  ACME.Lacework.NET  ', 'acme'],
    ['https://acme.lacework.net/', 'acme'],
    ['https://acme.fra.lacework.net/ui/investigation', 'acme.fra'],
    ['acme.lacework.net:443', 'acme'],
    ['acme.lacework.net.', 'acme'],
    ['acme.fra', 'acme.fra'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeAccount(input)).toBe(expected);
  });
});

describe('tenantOf', () => {
  it('takes the first label, never a cluster', () => {
    expect(tenantOf('acme')).toBe('acme');
    expect(tenantOf('acme.fra')).toBe('acme');
    expect(tenantOf('acme.fra.lacework.net')).toBe('acme');
  });
});

describe('readKeyFile', () => {
  it('reads the console key file, normalizing the account and lower-casing subAccount', async () => {
    const path = await writeKeyFile({ account: 'acme.lacework.net', subAccount: 'Prod-Business', keyId: KEY_ID, secret: SECRET });
    expect(await readKeyFile(path)).toEqual({ account: 'acme', subaccount: 'prod-business', keyId: KEY_ID, secret: SECRET });
  });

  it('accepts a file without account and subAccount', async () => {
    const path = await writeKeyFile({ keyId: KEY_ID, secret: SECRET });
    expect(await readKeyFile(path)).toEqual({ keyId: KEY_ID, secret: SECRET });
  });

  it('names a missing file', async () => {
    const path = join(home, 'nope.json');
    const err = await usageError(() => readKeyFile(path));
    expect(err.code).toBe('KeyFileInvalid');
    expect(err.message).toContain(path);
    expect(err.message).toContain('no such file');
  });

  it('names a directory', async () => {
    const dir = join(home, 'dir.json');
    await mkdir(dir);
    const err = await usageError(() => readKeyFile(dir));
    expect(err.message).toContain('it is a directory');
  });

  it('rejects text that is not JSON without quoting it', async () => {
    // JSON.parse would quote this text (and so the secret) in its own message.
    const path = await writeKeyFile(`{"keyId": "${KEY_ID}", "secret": ${SECRET}}`);
    const err = await usageError(() => readKeyFile(path));
    expect(err.message).toContain(path);
    expect(err.message).toContain('not valid JSON');
    expect(err.message).toContain('Settings > API keys');
  });

  it('rejects JSON that is not an object', async () => {
    const path = await writeKeyFile(`["${SECRET}"]`);
    const err = await usageError(() => readKeyFile(path));
    expect(err.message).toContain('not a JSON object');
  });

  it('says which field is missing', async () => {
    const noKey = await writeKeyFile({ account: 'acme', secret: SECRET }, 'a.json');
    expect((await usageError(() => readKeyFile(noKey))).message).toContain('has no "keyId"');
    const noSecret = await writeKeyFile({ account: 'acme', keyId: KEY_ID }, 'b.json');
    const err = await usageError(() => readKeyFile(noSecret));
    expect(err.message).toContain('has no "secret"');
    expect(err.message).not.toContain('keyId');
    const neither = await writeKeyFile({ account: 'acme', keyId: '', secret: 7 }, 'c.json');
    expect((await usageError(() => readKeyFile(neither))).message).toContain('has no "keyId" and no "secret"');
  });
});

describe('readTomlProfile', () => {
  const TOML = [
    '[default]',
    'account = "acme.lacework.net"',
    `api_key = "${KEY_ID}"`,
    `api_secret = "${SECRET}"`,
    'version = 2',
    '',
    '[prod]',
    'account = "coolcorp"',
    'subaccount = "Prod-Business"',
    'api_key = "COOL_KEY"',
    'api_secret = "cool-secret"',
    'version = 2',
    '',
  ].join('\n');

  it('is undefined without the file', async () => {
    expect(await readTomlProfile('default', home)).toBeUndefined();
    expect(await readTomlProfile('prod', home)).toBeUndefined();
  });

  it('reads the default and a named profile', async () => {
    await writeToml(TOML);
    expect(await readTomlProfile('default', home)).toEqual({ account: 'acme', keyId: KEY_ID, secret: SECRET });
    expect(await readTomlProfile('prod', home)).toEqual({
      account: 'coolcorp',
      subaccount: 'prod-business',
      keyId: 'COOL_KEY',
      secret: 'cool-secret',
    });
  });

  it('is undefined for a missing default profile', async () => {
    await writeToml('[prod]\naccount = "x"\n');
    expect(await readTomlProfile('default', home)).toBeUndefined();
  });

  it('fails for a missing named profile, with the exact guidance', async () => {
    await writeToml(TOML);
    const err = await usageError(() => readTomlProfile('staging', home));
    expect(err.code).toBe('ProfileNotFound');
    expect(err.message).toBe(
      "The profile 'staging' could not be found in ~/.lacework.toml. Run 'lacework configure --profile staging' or pass --api-key-file.",
    );
  });

  it('reports malformed TOML by line, without quoting it', async () => {
    await writeToml(`[default]\naccount = "acme"\napi_secret = ${SECRET}\n`);
    const err = await usageError(() => readTomlProfile('default', home));
    expect(err.code).toBe('ConfigInvalid');
    expect(err.message).toContain('line 3');
  });
});

describe('resolveCredentials', () => {
  const FULL_ENV = { LW_ACCOUNT: 'envco', LW_API_KEY: 'ENV_KEY', LW_API_SECRET: 'env-secret' };

  it('takes everything from flags', async () => {
    const r = await resolveCredentials({ account: 'Acme.lacework.net', subaccount: 'Prod', apiKey: KEY_ID, apiSecret: SECRET }, {}, home);
    expect(r).toEqual({
      credentials: { account: 'acme', subaccount: 'prod', keyId: KEY_ID, secret: SECRET, source: 'flags', origin: {} },
      missing: [],
    });
  });

  it('takes everything from a key file', async () => {
    const path = await writeKeyFile({ account: 'acme.fra.lacework.net', subAccount: 'Team', keyId: KEY_ID, secret: SECRET });
    const r = await resolveCredentials({ apiKeyFile: path }, FULL_ENV, home);
    expect(r.credentials).toEqual({ account: 'acme.fra', subaccount: 'team', keyId: KEY_ID, secret: SECRET, source: `key file ${path}`, origin: { keyFile: path } });
  });

  it('fills the account from --account when the key file has none', async () => {
    const path = await writeKeyFile({ keyId: KEY_ID, secret: SECRET });
    const r = await resolveCredentials({ apiKeyFile: path, account: 'acme' }, {}, home);
    expect(r.credentials).toMatchObject({ account: 'acme', keyId: KEY_ID, secret: SECRET });
    expect(r.credentials?.source).toBe(`flags and key file ${path}`);
  });

  it('takes everything from the environment', async () => {
    const r = await resolveCredentials({}, { ...FULL_ENV, LW_SUBACCOUNT: 'Sub' }, home);
    expect(r.credentials).toEqual({ account: 'envco', subaccount: 'sub', keyId: 'ENV_KEY', secret: 'env-secret', source: 'environment (LW_*)', origin: {} });
  });

  it('ranks flags over the key file over the environment over the profile', async () => {
    await writeToml(`[default]\naccount = "tomlco"\napi_key = "TOML_KEY"\napi_secret = "toml-secret"\n`);
    const path = await writeKeyFile({ keyId: 'FILE_KEY', secret: 'file-secret' });
    const r = await resolveCredentials({ apiKeyFile: path, apiSecret: 'flag-secret' }, { LW_API_KEY: 'ENV_KEY', LW_ACCOUNT: 'envco' }, home);
    expect(r.credentials).toMatchObject({ account: 'envco', keyId: 'FILE_KEY', secret: 'flag-secret' });
    expect(r.credentials?.source).toBe(`flags and key file ${path} and environment (LW_*)`);
  });

  it('falls back to the default profile, field by field', async () => {
    await writeToml(`[default]\naccount = "tomlco"\napi_key = "TOML_KEY"\napi_secret = "toml-secret"\n`);
    const r = await resolveCredentials({}, { LW_API_SECRET: 'env-secret' }, home);
    expect(r.credentials).toEqual({
      account: 'tomlco',
      keyId: 'TOML_KEY',
      secret: 'env-secret',
      source: "environment (LW_*) and profile 'default' in ~/.lacework.toml",
      origin: { profile: 'default' },
    });
  });

  it('uses --profile, then LW_PROFILE', async () => {
    await writeToml(
      `[default]\naccount = "d"\napi_key = "D"\napi_secret = "d"\n[prod]\naccount = "p"\napi_key = "P"\napi_secret = "p"\n[qa]\naccount = "q"\napi_key = "Q"\napi_secret = "q"\n`,
    );
    expect((await resolveCredentials({ profile: 'prod' }, { LW_PROFILE: 'qa' }, home)).credentials).toMatchObject({
      account: 'p',
      source: "profile 'prod' in ~/.lacework.toml",
    });
    expect((await resolveCredentials({}, { LW_PROFILE: 'qa' }, home)).credentials).toMatchObject({ account: 'q' });
  });

  it('fails for a named profile that is missing, even without a ~/.lacework.toml', async () => {
    const err = await usageError(() => resolveCredentials({ profile: 'prod' }, {}, home));
    expect(err.code).toBe('ProfileNotFound');
    await writeToml(`[default]\naccount = "d"\n`);
    await usageError(() => resolveCredentials({}, { LW_PROFILE: 'prod' }, home));
  });

  it('does not read the default profile when nothing is missing', async () => {
    // A broken ~/.lacework.toml must not matter when flags say it all.
    await writeToml('this is not toml');
    const r = await resolveCredentials({}, FULL_ENV, home);
    expect(r.credentials?.source).toBe('environment (LW_*)');
  });

  it('lists what is missing, as flag names', async () => {
    expect(await resolveCredentials({}, {}, home)).toEqual({ missing: ['--account', '--api-key', '--api-secret'] });
    expect(await resolveCredentials({ account: 'acme' }, { LW_API_KEY: 'K' }, home)).toEqual({ missing: ['--api-secret'] });
  });

  it('treats empty and blank values as not given', async () => {
    const r = await resolveCredentials({ account: '  ' }, { LW_ACCOUNT: '', LW_API_KEY: ' K ', LW_API_SECRET: '\tS\n' }, home);
    expect(r).toEqual({ missing: ['--account'] });
    const ok = await resolveCredentials({ account: 'acme' }, { LW_API_KEY: ' K ', LW_API_SECRET: '\tS\n' }, home);
    expect(ok.credentials).toMatchObject({ keyId: 'K', secret: 'S' });
  });

  it('keeps a subaccount only with its own account', async () => {
    const path = await writeKeyFile({ account: 'acme.lacework.net', subAccount: 'team', keyId: KEY_ID, secret: SECRET });
    const other = await resolveCredentials({ apiKeyFile: path, account: 'other' }, {}, home);
    expect(other.credentials?.account).toBe('other');
    expect(other.credentials?.subaccount).toBeUndefined();
    const same = await resolveCredentials({ apiKeyFile: path, account: 'acme.lacework.net' }, {}, home);
    expect(same.credentials?.subaccount).toBe('team');
    const flag = await resolveCredentials({ apiKeyFile: path, account: 'other', subaccount: 'mine' }, {}, home);
    expect(flag.credentials?.subaccount).toBe('mine');
  });

  it('rejects an account that is not a name', async () => {
    const err = await usageError(() => resolveCredentials({ account: 'acme corp', apiKey: KEY_ID, apiSecret: SECRET }, {}, home));
    expect(err.code).toBe('InvalidAccount');
    expect(err.message).toContain("'acme corp'");
  });

  it('records where the key came from: the key file as an absolute path, or the profile name; never the secret', async () => {
    await writeToml(`[default]\naccount = "d"\napi_key = "D"\napi_secret = "d"\n[prod]\naccount = "p"\napi_key = "P"\napi_secret = "p"\n`);
    await writeKeyFile({ keyId: KEY_ID, secret: SECRET }, 'rel key.json');
    const cwd = process.cwd();
    process.chdir(home);
    try {
      const fromFile = await resolveCredentials({ apiKeyFile: 'rel key.json', account: 'acme' }, {}, home);
      expect(fromFile.credentials?.origin).toEqual({ keyFile: join(home, 'rel key.json') });
    } finally {
      process.chdir(cwd);
    }
    expect((await resolveCredentials({ profile: 'prod' }, {}, home)).credentials?.origin).toEqual({ profile: 'prod' });
    expect((await resolveCredentials({}, { LW_PROFILE: 'prod' }, home)).credentials?.origin).toEqual({ profile: 'prod' });
    // The default profile only filled the account: the key came from the environment, nothing to record.
    const envKey = await resolveCredentials({}, { LW_API_KEY: 'K', LW_API_SECRET: 'S' }, home);
    expect(envKey.credentials).toMatchObject({ account: 'd', origin: {} });
    // Flags win over the key file for both key fields: the file is not where the key came from.
    const path = await writeKeyFile({ account: 'acme', keyId: 'FILE_KEY', secret: 'file-secret' });
    const flags = await resolveCredentials({ apiKeyFile: path, apiKey: KEY_ID, apiSecret: SECRET }, {}, home);
    expect(flags.credentials?.origin).toEqual({});
    expect(JSON.stringify(flags.credentials?.origin)).not.toContain(SECRET);
  });

  it('passes key file errors on, secret-free', async () => {
    const path = await writeKeyFile(`{"secret": "${SECRET}"`);
    const err = await usageError(() => resolveCredentials({ apiKeyFile: path }, FULL_ENV, home));
    expect(err.code).toBe('KeyFileInvalid');
  });
});
