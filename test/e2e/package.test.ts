/**
 * The npm package, checked as a user would: `npm pack` makes a tarball of at most 600 KB (DESIGN §7) with no
 * runtime dependencies; `npm exec --package <tarball> -- forticnapp-eks-audit --help` works in an empty
 * folder (offline, with an empty npm cache); the installed copy finds its lazily loaded chunks (dist/chunks/,
 * the AWS SDK among them); and no file in it carries a home-made module loader (vm.compileFunction).
 *
 * Packs with --ignore-scripts: `npm test` builds first (pretest), and a rebuild here would race the other
 * suites that run the built CLI at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_TARBALL_BYTES = 600_000;

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

/** Every file under dir, as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? filesUnder(path.join(dir, name), rel) : [rel];
  });
}

describe('the npm package', () => {
  let tmp: string;
  let pack: PackResult;
  let tarball: string;
  let unpacked: string;
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
    unpacked = path.join(tmp, 'unpacked');
    mkdirSync(unpacked);
    const untar = sh('tar', ['-xzf', tarball, '-C', unpacked], { cwd: tmp });
    if (untar.code !== 0) throw new Error(`tar failed:\n${untar.stderr}`);
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

  it('is at most 600 KB packed, has no runtime dependencies, and holds the shim, dist/ and the README', () => {
    expect(pack.size).toBeLessThanOrEqual(MAX_TARBALL_BYTES);
    expect(readFileSync(tarball).length).toBe(pack.size);
    const manifest = JSON.parse(readFileSync(path.join(unpacked, 'package/package.json'), 'utf8')) as Record<string, unknown>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies']) {
      expect(Object.keys((manifest[field] as object | undefined) ?? {}), field).toEqual([]);
    }
    expect(manifest.bin).toEqual({ 'forticnapp-eks-audit': 'bin/forticnapp-eks-audit.js' });
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'bin/forticnapp-eks-audit.js', 'dist/cli.js']));
    // Nothing but the shim, the build output, the README and the manifest (no sources, tests, maps).
    expect(files.filter((f) => !/^(bin\/forticnapp-eks-audit\.js|dist\/(cli|chunks\/[\w-]+)\.js|README\.md|package\.json)$/.test(f))).toEqual([]);
  });

  it('carries no home-made module loader: no file in it contains vm.compileFunction', () => {
    const files = filesUnder(path.join(unpacked, 'package'));
    expect(files.length).toBe(pack.files.length);
    const offenders = files.filter((f) => /\bcompileFunction\b/.test(readFileSync(path.join(unpacked, 'package', f), 'latin1')));
    expect(offenders).toEqual([]);
  });

  it('npm exec --package <tarball> -- forticnapp-eks-audit --help works in an empty folder', () => {
    const r = npx(['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: forticnapp-eks-audit \[options\] \[command\]/);
    for (const command of ['setup', 'plan', 'status', 'teardown', 'list', 'permissions']) expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    // Nothing was written next to the user's files.
    expect(readdirSync(empty)).toEqual([]);
  });

  it('the installed copy finds its lazily loaded chunks: a command, and the AWS SDK', () => {
    const perms = npx(['permissions', '--json']);
    expect(perms.code, perms.stderr).toBe(0);
    expect(JSON.parse(perms.stdout)).toMatchObject({ schemaVersion: 1, command: 'permissions', status: 'ok', policy: { Version: '2012-10-17' } });

    // No AWS credentials at all: the SDK loads, looks for them, and the CLI says what to do (exit 2).
    const noCreds = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: path.join(tmp, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'none') };
    const r = npx(['list', '--discover', '--region', 'us-east-1'], noCreds, /^AWS_/);
    expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module/);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/credentials/i);
  });
});
