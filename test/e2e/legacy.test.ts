/**
 * Issue 8 item 10: a deployment made by the previous version (random deployment id, journal version 1, no
 * record in AWS) is adopted by this one. The previous version is the real thing: commit PREVIOUS (the last
 * commit of the journal-based model) is built once into a cache directory under the system temp dir (keyed
 * by the commit, so later runs reuse it) and its own bin runs setup in the same world, with the same
 * environment and state dir. Then this version:
 *   - setup with the same inputs adopts the deployment under its id (same names), says so, and makes only
 *     the role-policy updates this version deliberately tightens (the s3:ResourceAccount condition on the
 *     cross-account and Firehose roles) plus its record; nothing at FortiCNAPP;
 *   - the next setup makes 0 mutating calls;
 *   - teardown leaves nothing and restores cluster logging as before the first setup.
 *
 * Needs git (the commit must be in this clone's history) and npm (the registry, for `npm ci`); without
 * either the suite is skipped with one loud line, except in CI, where that is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { AFTER_SETUP, BEFORE, HOME, ONE_OF_EACH, planArgs, SCOPE, seedThreeClusters, setupArgs, teardownArgs } from './fixtures.js';
import { clusterLogging, counts, inventory, leftovers } from './inventory.js';
import { readRecordParameter, recordedAuditBefore, recordParameters } from './records.js';
import { ACCOUNT, runCli, startWorld, type CliRun, type World } from './world.js';

/** The last commit of the previous model (journal-based, random deployment id). */
const PREVIOUS = '33e7befdd2d84f814a93f6bd861a7f6867175399';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Resource {
  kind: string;
  id: string;
  arn?: string;
  region: string;
  action: string;
  outcome?: string;
  /** This version: the key id, the intgGuid (`id` is the name: the alias, the integration's name). */
  resourceId?: string;
}
interface Json {
  status: string;
  deploymentId: string;
  resources: Resource[];
  journal?: string;
  error?: { code: string; message: string };
}

const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** Why the previous version cannot be built here, or undefined when it can. */
function unbuildable(): string | undefined {
  if (!has('git')) return 'git is not installed';
  if (!has('npm')) return 'npm is not installed';
  if (spawnSync('git', ['-C', ROOT, 'cat-file', '-e', `${PREVIOUS}^{commit}`], { stdio: 'ignore' }).status !== 0) {
    // Not a reason to skip: a shallow clone would hide this suite for good.
    throw new Error(`commit ${PREVIOUS} (the previous version) is not in this clone; fetch the history (git fetch --unshallow, or fetch-depth: 0 in CI)`);
  }
  return undefined;
}

/**
 * The previous version's bin, built once per commit into `<tmp>/fea-prev-<commit>`: `git archive` of the
 * commit, `npm ci`, its own `node build.mjs`. Built in a scratch directory and renamed into place, so a run
 * that was cut off never leaves a half build behind, and two runs at once both end with a whole one.
 */
function previousVersion(): string {
  const dir = path.join(os.tmpdir(), `fea-prev-${PREVIOUS}`);
  const bin = path.join(dir, 'bin/forticnapp-eks-audit.js');
  if (existsSync(path.join(dir, '.built'))) return bin;
  const work = mkdtempSync(path.join(os.tmpdir(), 'fea-prev-build-'));
  try {
    execFileSync('sh', ['-c', 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', 'sh', ROOT, PREVIOUS, work], { stdio: 'pipe' });
    // The lock file as it was then; no scripts are needed (esbuild ships its binary as a package).
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], { cwd: work, stdio: 'pipe', timeout: 300_000 });
    execFileSync(process.execPath, ['build.mjs'], { cwd: work, stdio: 'pipe', timeout: 120_000 });
    writeFileSync(path.join(work, '.built'), `${PREVIOUS}\n`);
    try {
      renameSync(work, dir);
    } catch (err) {
      // Another run finished first: use its build.
      if (!existsSync(path.join(dir, '.built'))) throw err;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`building the previous version (${PREVIOUS}) failed: ${e.message}\n${e.stderr?.toString().slice(-2000) ?? ''}`);
  }
  return bin;
}

const moto = requireMotoOrSkip();
const why = moto ? unbuildable() : undefined;
if (why) {
  if (process.env.CI) throw new Error(`legacy suite: ${why}; CI needs git and npm to build the previous version`);
  process.stderr.write(`\n!!! SKIPPING test/e2e/legacy.test.ts: ${why} (it builds the previous version from git with npm) !!!\n\n`);
}

describe.runIf(moto && !why)('a deployment made by the previous version (random id, journal v1) is adopted', () => {
  let world: World;
  let previous: string;

  const ok = (r: CliRun) => {
    expect(r.code, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    return r;
  };
  /** Mutating AWS calls since the last resetCalls, `service:Action RoleName?`. */
  const mutating = () =>
    world.proxy.calls.filter((c) => c.mutating && !c.fixture).map((c) => `${c.service}:${c.action}`);
  const lwChanges = () => world.lw.requests.filter((r) => r.path.startsWith('/api/v2/CloudAccounts') && r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

  beforeAll(async () => {
    const t0 = Date.now();
    previous = previousVersion();
    process.stderr.write(`legacy: previous version ${PREVIOUS.slice(0, 7)} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${path.dirname(path.dirname(previous))})\n`);
    world = await startWorld();
    await seedThreeClusters(world, { edgeLogGroup: false });
  }, 420_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('setup re-run adopts it under its id (only the tightened role policies and the record written), the next makes 0 changes, teardown leaves nothing', async () => {
    // 1. The previous version sets it up.
    const old = ok(await runCli(world, setupArgs(world), { bin: previous })).json<Json>();
    const id = old.deploymentId;
    const derived = createHash('sha256').update(`${ACCOUNT}:lw-eks-al`).digest('hex').slice(0, 8);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(id).not.toBe(derived);
    const journal = path.join(world.stateDir, 'deployments', id, 'journal.jsonl');
    expect(JSON.parse(readFileSync(journal, 'utf8').split('\n')[0] as string)).toMatchObject({ t: 'header', v: 1, deploymentId: id });
    expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual(ONE_OF_EACH);
    expect(await recordParameters(world, SCOPE.regions)).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(AFTER_SETUP);
    const intgBefore = [...world.lw.integrations.keys()];

    // 2. This version, same inputs, same state dir: adopted under its id, with the same names.
    world.proxy.resetCalls();
    const lwBefore = lwChanges().length;
    const adopt = ok(await runCli(world, setupArgs(world)));
    const now = adopt.json<Json>();
    expect(now.status).toBe('ok');
    expect(now.deploymentId).toBe(id);
    expect(adopt.stderr).toContain(`Adopted deployment ${id}, made by an earlier version (journal ${journal}); it keeps its id and names.`);
    // (The previous version's `id` of a key and of the integration is what this one calls `resourceId`.)
    const names = (j: Json) => j.resources.filter((r) => r.kind !== 'log-group').map((r) => `${r.kind} ${r.region} ${r.resourceId ?? r.id}`).sort();
    expect(names(now)).toEqual(names(old));
    // Only what this version deliberately changes: the S3 statements of the two roles that read or write the
    // bucket gain s3:ResourceAccount (ARCH "Known, deliberate"); and the record it keeps in SSM.
    const changed = now.resources.filter((r) => r.action !== 'kept').map((r) => `${r.kind} ${r.id} ${r.action}`).sort();
    expect(changed).toEqual([`iam-role lw-eks-al-ca-${id} changed`, `iam-role lw-eks-al-fh-${id} changed`]);
    const calls = mutating();
    expect(calls.filter((c) => !c.startsWith('ssm:')).sort()).toEqual(['iam:PutRolePolicy', 'iam:PutRolePolicy']);
    expect(calls.filter((c) => c.startsWith('ssm:')).every((c) => c === 'ssm:PutParameter')).toBe(true);
    expect(lwChanges().length).toBe(lwBefore);
    expect([...world.lw.integrations.keys()]).toEqual(intgBefore);
    // Its record now: this version's, under the old id, knowing where setup turned audit logging on.
    expect(await readRecordParameter(world, HOME, id)).toMatchObject({ deploymentId: id, status: 'applied', integration: { intgGuid: intgBefore[0] } });
    expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual({ ...ONE_OF_EACH, tagged: ONE_OF_EACH.tagged + 3 });

    // 3. The next re-run: nothing to do.
    world.proxy.resetCalls();
    const again = ok(await runCli(world, setupArgs(world))).json<Json>();
    expect(again.deploymentId).toBe(id);
    expect(again.resources.every((r) => r.action === 'kept')).toBe(true);
    expect(mutating()).toEqual([]);
    expect(lwChanges().length).toBe(lwBefore);

    // 4. Teardown: nothing left, logging as before the first setup (prod and edge back off, stage still on).
    const td = ok(await runCli(world, teardownArgs(world, ['--yes']))).json<Json>();
    expect(td.deploymentId).toBe(id);
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
    expect(await recordParameters(world, SCOPE.regions)).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(BEFORE);
  }, 180_000);

  it('from another machine (no journal there, no record in AWS): plan and setup find it by its tagged roles and keep it under its id, never building a second; teardown from a third leaves nothing', async () => {
    await seedThreeClusters(world, { reset: true, edgeLogGroup: false });
    const old = ok(await runCli(world, setupArgs(world), { bin: previous })).json<Json>();
    const id = old.deploymentId;
    const intgBefore = [...world.lw.integrations.keys()];
    const second = mkdtempSync(path.join(os.tmpdir(), 'fea-second-machine-'));
    const third = mkdtempSync(path.join(os.tmpdir(), 'fea-third-machine-'));
    try {
      world.proxy.resetCalls();
      const plan = ok(await runCli(world, planArgs(world, ['--state-dir', second]))).json<Json>();
      expect(plan.deploymentId).toBe(id);
      expect(plan.resources.filter((r) => r.action !== 'keep').map((r) => `${r.kind} ${r.id} ${r.action}`).sort()).toEqual([`iam-role lw-eks-al-ca-${id} change`, `iam-role lw-eks-al-fh-${id} change`]);
      expect(mutating()).toEqual([]);

      const lwBefore = lwChanges().length;
      const adopt = ok(await runCli(world, setupArgs(world, ['--state-dir', second])));
      expect(adopt.json<Json>().deploymentId).toBe(id);
      expect(adopt.stderr).toContain(`Adopted deployment ${id} (home region ${HOME}), made by an earlier version on another machine and found by its tagged roles; it keeps its id and names.`);
      expect(mutating().filter((c) => !c.startsWith('ssm:')).sort()).toEqual(['iam:PutRolePolicy', 'iam:PutRolePolicy']);
      expect(lwChanges().length).toBe(lwBefore);
      expect([...world.lw.integrations.keys()]).toEqual(intgBefore);
      expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual({ ...ONE_OF_EACH, tagged: ONE_OF_EACH.tagged + 3 });
      // What was on before the earlier setup is not known here: the record says so (null), it does not guess.
      expect(await recordedAuditBefore(world, HOME, id)).toEqual({ 'eu-central-1/prod': null, 'eu-central-1/stage': null, 'us-east-1/edge': null });

      world.proxy.resetCalls();
      expect(ok(await runCli(world, setupArgs(world, ['--state-dir', second]))).json<Json>().deploymentId).toBe(id);
      expect(mutating()).toEqual([]);

      // Teardown from a third machine: nothing left; audit logging left on (nobody knows it was off before).
      const td = ok(await runCli(world, teardownArgs(world, ['--yes', '--state-dir', third]))).json<Json>();
      expect(td.deploymentId).toBe(id);
      expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
      expect(world.lw.integrations.size).toBe(0);
      expect(await clusterLogging(world, SCOPE)).toEqual(AFTER_SETUP);
    } finally {
      rmSync(second, { recursive: true, force: true });
      rmSync(third, { recursive: true, force: true });
    }
  }, 180_000);

  it('teardown straight after the previous version’s setup (no re-run, no record in AWS) leaves nothing and restores logging as before', async () => {
    await seedThreeClusters(world, { reset: true, edgeLogGroup: false });
    const id = ok(await runCli(world, setupArgs(world), { bin: previous })).json<Json>().deploymentId;
    expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual(ONE_OF_EACH);
    const td = ok(await runCli(world, teardownArgs(world, ['--yes']))).json<Json>();
    expect(td.deploymentId).toBe(id);
    expect(td.resources.find((r) => r.kind === 'eks-audit-logging' && r.id === 'prod')).toMatchObject({ action: 'changed', outcome: 'turned-off' });
    expect(td.resources.find((r) => r.kind === 'eks-audit-logging' && r.id === 'stage')).toMatchObject({ action: 'kept' });
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
    expect(await recordParameters(world, SCOPE.regions)).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(BEFORE);
  }, 120_000);
});
