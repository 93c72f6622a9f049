/**
 * Issue 5, item 3: the npm package. `npm pack` makes a tarball of at most 1 MB holding the shim, the one
 * bundle and the README, with no dependencies; `npm exec --package <tarball> -- forticnapp-eks-audit --help`
 * works in an empty folder (offline, with an empty npm cache), and the installed copy can load its
 * lazily compiled parts (the app and the AWS SDK) from where npm put it.
 *
 * Packs with --ignore-scripts: `npm test` builds first (pretest), and a rebuild here would race the other
 * suites that run the built CLI at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_TARBALL_BYTES = 1_000_000;

interface PackResult {
  name: string;
  version: string;
  size: number;
  filename: string;
  files: { path: string }[];
}

/** Runs a command; npm's own environment variables from the outer `npm test` are dropped. */
function sh(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; drop?: RegExp }) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k) && !opts.drop?.test(k)) env[k] = v;
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...env, ...opts.env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('the npm package', () => {
  let tmp: string;
  let pack: PackResult;
  let tarball: string;
  let empty: string;
  let npmEnv: Record<string, string>;

  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist/cli.js'))) {
      const built = sh(process.execPath, ['build.mjs'], { cwd: ROOT });
      if (built.code !== 0) throw new Error(`build failed:\n${built.stderr}`);
    }
    tmp = mkdtempSync(path.join(os.tmpdir(), 'fea-pack-'));
    const packed = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
    if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
    pack = (JSON.parse(packed.stdout) as PackResult[])[0] as PackResult;
    tarball = path.join(tmp, pack.filename);
    empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    // A fresh npm cache and HOME: nothing installed before can help.
    npmEnv = { HOME: tmp, npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const npx = (args: string[], env: Record<string, string> = {}, drop?: RegExp) =>
    sh('npm', ['exec', '--yes', '--offline', '--package', tarball, '--', 'forticnapp-eks-audit', ...args], { cwd: empty, env: { ...npmEnv, ...env }, drop });

  it('packs the shim, one bundle and the README into at most 1 MB, with no dependencies', () => {
    expect(pack.files.map((f) => f.path).sort()).toEqual(['README.md', 'bin/forticnapp-eks-audit.js', 'dist/cli.js', 'package.json']);
    expect(pack.size).toBeLessThanOrEqual(MAX_TARBALL_BYTES);
    expect(readFileSync(tarball).length).toBe(pack.size);
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; bin: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {})).toEqual([]);
    expect(manifest.bin).toEqual({ 'forticnapp-eks-audit': 'bin/forticnapp-eks-audit.js' });
  });

  it('npm exec --package <tarball> -- forticnapp-eks-audit --help works in an empty folder', () => {
    const r = npx(['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: forticnapp-eks-audit \[options\] \[command\]/);
    for (const command of ['setup', 'plan', 'status', 'teardown', 'list', 'permissions']) expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    // Nothing was written next to the user's files.
    expect(readdirSync(empty)).toEqual([]);
  });

  it('the installed copy runs its lazily compiled parts: the app, and the AWS SDK', () => {
    const perms = npx(['permissions', '--json']);
    expect(perms.code, perms.stderr).toBe(0);
    expect(JSON.parse(perms.stdout)).toMatchObject({ schemaVersion: 1, command: 'permissions', status: 'ok', policy: { Version: '2012-10-17' } });

    // No AWS credentials at all: the SDK loads, looks for them, and the CLI says what to do (exit 2).
    const noCreds = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: path.join(tmp, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'none') };
    const r = npx(['list', '--discover', '--region', 'us-east-1'], noCreds, /^AWS_/);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/No usable AWS credentials \(.*(credentials|Credential).*\)/);
  });
});
