/**
 * The command line as a person or a script meets it (issue 10, "Done when" items 1, 2, 4, 5 and 8; items 3 and
 * 6 are in teardown.test.ts, item 7 and LW_NONINTERACTIVE in wizard.test.ts), against moto behind the fault
 * proxy and the fake FortiCNAPP, one world for the file:
 *   1. the wizard in a pseudo-terminal with a shell-quoted key path, then its "Remove it:" line run as printed
 *      in a new shell (no terminal, no LW_* variables) removes everything;
 *   2. setup with --state-dir, --aws-profile and --api-key-file and no credentials in the environment: every
 *      command line it prints starts with the invocation that ran (node <absolute path>) and exits 0 as printed;
 *   4. with --json every parser mistake, on every command, is one JSON document (status failed, error.code),
 *      exit 2; without it one error line; an unknown command says so and lists the commands;
 *   5. an unreachable endpoint, a missing AWS profile, a state dir that is a file: the real cause, exit 2;
 *   8. every command's --help: one notation for environment variables, groups, examples, exit codes.
 * The two deployments (1 and 2) live side by side: their own prefixes, regions and integration names.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { clusterLogging, inventory, leftovers, type Scope } from './inventory.js';
import { openTerminal, removeTerminalFiles, tmuxAvailable, type Terminal } from './pty.js';
import { recordParameters } from './records.js';
import { CLI, seedCluster, startWorld, type World } from './world.js';

const run = requireMotoOrSkip();
if (run && !tmuxAvailable()) {
  // Item 1 needs a pseudo-terminal; without tmux it would prove nothing, so it fails rather than skips.
  throw new Error('tmux is required for the cli e2e tests (apt-get install tmux)');
}

interface Doc {
  schemaVersion: number;
  command: string;
  status: string;
  deploymentId?: string;
  error?: { code: string; message: string };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with exactly `env` (nothing inherited), stdin closed: no terminal, as in a script. */
function exec(file: string, args: string[], env: Record<string, string>, cwd = os.tmpdir()): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The built CLI, as `node <absolute path of the bin>`. */
const cli = (args: string[], env: Record<string, string>) => exec(process.execPath, [CLI, ...args], env);

/** A line exactly as printed, run by a shell (as a person pastes it). */
const shell = (line: string, env: Record<string, string>) => exec('/bin/sh', ['-c', line], env);

const show = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** The one JSON document on stdout: the whole of stdout parses as one object. */
function onlyDocument(r: Ran): Doc {
  let doc: unknown;
  expect(() => (doc = JSON.parse(r.stdout)), show(r)).not.toThrow();
  expect(typeof doc === 'object' && doc !== null && !Array.isArray(doc), show(r)).toBe(true);
  return doc as Doc;
}

/** A loopback port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

const NODE_DIR = path.dirname(process.execPath);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Every case at once (up to vitest's maxConcurrency), except the two deployments: one after the other, so neither
// inventory reads the other's resources while they are being deleted.
describe.runIf(run)('the command line (issue 10)', { concurrent: true }, () => {
  let world: World;
  let tmp: string;
  const terms: Terminal[] = [];

  /**
   * A new shell's environment: a PATH with node, a HOME, nothing of this process (no npm_* variables, no LW_*
   * credentials), and `extra`. The fake FortiCNAPP's address (LW_API_SERVER_URL) and the shorter backoff are
   * the test rig's, like AWS_ENDPOINT_URL.
   */
  const newShell = (home: string, extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: `${NODE_DIR}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    LW_API_SERVER_URL: world.lw.url,
    FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE: '0.02',
    ...extra,
  });
  /** AWS as in CloudShell: credentials and region in the environment, the endpoint at the proxy. */
  const awsEnv = (): Record<string, string> => ({
    AWS_ENDPOINT_URL: world.proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
  });
  /** A fresh directory under the file's temp dir. */
  const dir = (name: string) => {
    const d = path.join(tmp, name);
    mkdirSync(d, { recursive: true });
    return d;
  };

  beforeAll(async () => {
    world = await startWorld();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'fea-cli-'));
    writeFileSync(path.join(tmp, 'no-aws-config'), '');
    writeFileSync(path.join(tmp, 'no-aws-credentials'), '');
    await world.reset();
    // Item 1's cluster (the wizard offers AWS_REGION first) and item 2's, in different regions.
    await seedCluster(world, 'us-east-1', 'web');
    await seedCluster(world, 'eu-central-1', 'payments', { audit: true });
    await seedCluster(world, 'eu-central-1', 'batch');
  });
  afterAll(async () => {
    for (const t of terms) t.close();
    removeTerminalFiles();
    await world?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('printed command lines work as printed', { sequential: true }, () => {
    it('1. the wizard with a shell-quoted key path, then its "Remove it:" line in a new shell (no terminal, no LW_*): exit 0, nothing left', async () => {
      const home = dir('one-home');
      const keyDir = dir('one-downloads');
      const keyFile = path.join(keyDir, 'acme key.json');
      writeFileSync(keyFile, readFileSync(world.keyFile), { mode: 0o600 });
      const env = newShell(home, awsEnv());
      const t = openTerminal([process.execPath, CLI], { env, cwd: home });
      terms.push(t);
      const answer = async (question: string, ...keys: string[]) => {
        await t.waitFor(`? ${question}`, { timeoutMs: 20_000 });
        for (const k of keys) (k.startsWith('text:') ? t.type(k.slice(5)) : t.keys(k));
      };
      await answer('Integrate clusters in more than one region?', 'Enter');
      await t.waitFor(/❯ us-east-1/);
      await answer('AWS region of the EKS clusters:', 'Enter');
      await t.waitFor(/web\s+audit logging off/);
      await answer('EKS clusters in us-east-1 to send audit logs from:', 'Space', 'Enter');
      await answer('How will you give the FortiCNAPP API key?', 'Enter');
      await answer('Path of the API key file', `text:'${keyFile}'`, 'Enter'); // as ls or a drag-and-drop gives it
      await t.waitFor(`FortiCNAPP API key accepted (account acme; from key file ${keyFile}).`);
      await answer('Configure advanced integration options?', 'Enter');
      await answer('Apply these changes?', 'text:y', 'Enter');
      expect(await t.exitCode(60_000), t.screen()).toBe(0);
      const screen = t.screen();
      expect(screen).toContain('Done. EKS audit logs now flow to FortiCNAPP');
      const removeIt = /^Remove it: +(.+)$/m.exec(screen)?.[1]?.trim() ?? '';
      // The invocation that ran (node <absolute path>: no npx from a clone), the deployment, the key file quoted.
      expect(removeIt).toMatch(new RegExp(`^node ${escape(CLI)} teardown --deployment [0-9a-f]{8} `));
      expect(removeIt).toContain(`--api-key-file '${keyFile}'`);
      const deploymentId = /--deployment ([0-9a-f]{8})/.exec(removeIt)?.[1] ?? '';
      const scope: Scope = { regions: ['us-east-1'], clusters: [{ region: 'us-east-1', name: 'web' }], deploymentId };
      const before = await inventory(world, scope);
      expect(before.streams).toHaveLength(1);
      expect(before.integrations).toHaveLength(1);
      expect(await clusterLogging(world, scope)).toEqual({ 'us-east-1/web': ['audit'] });

      // A new shell: no terminal, nothing but the AWS environment of CloudShell.
      const td = await shell(removeIt, newShell(home, awsEnv()));
      expect(td.code, show(td)).toBe(0);
      expect(td.stdout).toContain(`Removed deployment ${deploymentId}.`);
      expect(leftovers(await inventory(world, scope))).toEqual([]);
      expect((await recordParameters(world, ['us-east-1'])).filter((p) => p.includes(deploymentId))).toEqual([]);
      expect(await clusterLogging(world, scope)).toEqual({ 'us-east-1/web': [] }); // back off: setup had turned it on
    }, 90_000);

    it('2. setup --state-dir --aws-profile --api-key-file with no credentials in the environment: every printed line starts with node <absolute path> and exits 0 as printed', async () => {
      const base = dir('two base');
      const home = dir('two base/home');
      const stateDir = path.join(base, 'state dir');
      const keyFile = path.join(base, 'acme-key.json');
      writeFileSync(keyFile, readFileSync(world.keyFile), { mode: 0o600 });
      // The profile, in files of their own; the environment has no AWS credentials, no region and no LW_*.
      const config = path.join(base, 'aws-config');
      const credentials = path.join(base, 'aws-credentials');
      writeFileSync(config, '[profile audit-admin]\nregion = eu-central-1\n');
      writeFileSync(credentials, '[audit-admin]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
      const env = newShell(home, {
        AWS_ENDPOINT_URL: world.proxy.endpoint,
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: credentials,
        AWS_EC2_METADATA_DISABLED: 'true',
      });
      const r = await cli(
        [
          'setup', '--non-interactive', '--yes', '--region-clusters', 'eu-central-1=payments,batch', '--prefix', 'clitwo', '--integration-name', 'CLI two',
          '--state-dir', stateDir, '--aws-profile', 'audit-admin', '--api-key-file', keyFile,
        ],
        env,
      );
      expect(r.code, show(r)).toBe(0);
      const printed = `${r.stdout}\n${r.stderr}`.split('\n').flatMap((l) => {
        const at = l.indexOf(`node ${CLI} `);
        return at >= 0 ? [l.slice(at).trim()] : [];
      });
      // Every line that names the tool names it as it was started; `npx …` appears nowhere.
      expect(`${r.stdout}${r.stderr}`).not.toContain('npx ');
      expect(printed.map((l) => l.split(' ')[2])).toEqual(['status', 'teardown']);
      for (const line of printed) {
        expect(line).toContain(` --state-dir '${stateDir}'`);
        expect(line).toContain(' --aws-profile audit-admin');
        expect(line).toContain(` --api-key-file '${keyFile}'`);
      }
      const deploymentId = /--deployment ([0-9a-f]{8})/.exec(printed[0] ?? '')?.[1] ?? '';
      expect(deploymentId).toMatch(/^[0-9a-f]{8}$/);

      // Each, as printed, in the order printed: status, then teardown.
      for (const line of printed) {
        const ran = await shell(line, env);
        expect(ran.code, `${line}\n${show(ran)}`).toBe(0);
      }
      const scope: Scope = { regions: ['eu-central-1'], clusters: [{ region: 'eu-central-1', name: 'payments' }, { region: 'eu-central-1', name: 'batch' }], prefix: 'clitwo', deploymentId };
      expect(leftovers(await inventory(world, scope))).toEqual([]);
      expect((await recordParameters(world, ['eu-central-1'])).filter((p) => p.includes(deploymentId))).toEqual([]);
      expect(await clusterLogging(world, scope)).toEqual({ 'eu-central-1/payments': ['api', 'audit'], 'eu-central-1/batch': [] });
    }, 90_000);
  });

  describe('4. with --json every parser mistake is one JSON document, exit 2', () => {
    const cases: { argv: string[]; command: string; code: string; names: string }[] = [
      { argv: ['setup', '--json', '--bogus'], command: 'setup', code: 'UnknownOption', names: "'--bogus'" },
      { argv: ['setup', '--json', '--region-clusters'], command: 'setup', code: 'OptionMissingArgument', names: '--region-clusters' },
      { argv: ['setup', '--json', 'extra-arg'], command: 'setup', code: 'ExcessArguments', names: "'setup'" },
      { argv: ['plan', '--json', '--bogus'], command: 'plan', code: 'UnknownOption', names: "'--bogus'" },
      { argv: ['plan', '--json', '--home-region'], command: 'plan', code: 'OptionMissingArgument', names: '--home-region' },
      { argv: ['plan', '--json', 'extra-arg'], command: 'plan', code: 'ExcessArguments', names: "'plan'" },
      { argv: ['status', '--json', '--bogus'], command: 'status', code: 'UnknownOption', names: "'--bogus'" },
      { argv: ['status', '--json', '--deployment'], command: 'status', code: 'OptionMissingArgument', names: '--deployment' },
      { argv: ['status', '--json', 'extra-arg'], command: 'status', code: 'ExcessArguments', names: "'status'" },
      { argv: ['teardown', '--json', '--bogus'], command: 'teardown', code: 'UnknownOption', names: "'--bogus'" },
      { argv: ['teardown', '--json', '--deployment'], command: 'teardown', code: 'OptionMissingArgument', names: '--deployment' },
      { argv: ['teardown', '--json', 'extra-arg'], command: 'teardown', code: 'ExcessArguments', names: "'teardown'" },
      { argv: ['list', '--json', '--bogus'], command: 'list', code: 'UnknownOption', names: "'--bogus'" },
      { argv: ['list', '--json', '--region'], command: 'list', code: 'OptionMissingArgument', names: '--region' },
      { argv: ['list', '--json', 'extra-arg'], command: 'list', code: 'ExcessArguments', names: "'list'" },
      { argv: ['permissions', '--json', '--bogus'], command: 'permissions', code: 'UnknownOption', names: "'--bogus'" },
      { argv: ['permissions', '--json', '--prefix'], command: 'permissions', code: 'OptionMissingArgument', names: '--prefix' },
      { argv: ['permissions', '--json', 'extra-arg'], command: 'permissions', code: 'ExcessArguments', names: "'permissions'" },
      { argv: ['frobnicate', '--json'], command: 'setup', code: 'UnknownCommand', names: "'frobnicate'" },
      { argv: ['--json', 'frobnicate'], command: 'setup', code: 'UnknownCommand', names: "'frobnicate'" },
      { argv: ['--json', '--bogus'], command: 'setup', code: 'UnknownOption', names: "'--bogus'" },
    ];
    for (const c of cases) {
      it(c.argv.join(' '), async () => {
        const r = await cli(c.argv, newShell(tmp, awsEnv()));
        expect(r.code, show(r)).toBe(2);
        const doc = onlyDocument(r);
        expect(doc).toMatchObject({ schemaVersion: 1, command: c.command, status: 'failed', error: { code: c.code } });
        expect(doc.error?.message).toContain(c.names);
      });
    }

    it('an unknown command names the commands; a command put after its flags says where it goes', async () => {
      const unknown = onlyDocument(await cli(['frobnicate', '--json'], newShell(tmp, awsEnv())));
      for (const name of ['setup', 'plan', 'status', 'teardown', 'list', 'permissions']) expect(unknown.error?.message).toContain(name);
      const late = await cli(['--json', 'status'], newShell(tmp, awsEnv()));
      expect(late.code).toBe(2);
      expect(onlyDocument(late).error?.message).toContain('status --json');
    });
  });

  describe('4. without --json: one error line for people, nothing on stdout', () => {
    it('an unknown command says it is unknown and lists the commands', async () => {
      const r = await cli(['frobnicate'], newShell(tmp, awsEnv()));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([
        "error: Unknown command 'frobnicate'. The commands are: setup, plan, status, teardown, list, permissions (setup is the default). Run with --help for usage.",
      ]);
    });

    it('help for an unknown command is the same message, not a bare "(outputHelp)"', async () => {
      const r = await cli(['help', 'frobnicate'], newShell(tmp, awsEnv()));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("Unknown command 'frobnicate'");
      expect(r.stderr).not.toContain('outputHelp');
    });

    it('a parser mistake is one line, with the hint once', async () => {
      const r = await cli(['status', '--deployment'], newShell(tmp, awsEnv()));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual(["error: option '--deployment <id>' argument missing (run with --help for usage)"]);
    });
  });

  describe('5. errors name the real cause, exit 2', () => {
    it('an unreachable AWS endpoint: the endpoint and AWS_ENDPOINT_URL named (AwsUnreachable), in JSON and in text', async () => {
      const port = await closedPort();
      const env = newShell(tmp, { ...awsEnv(), AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
      const [json, text] = await Promise.all([
        cli(['status', '--json'], env),
        cli(['setup', '--non-interactive', '--yes', '--region-clusters', 'eu-central-1=payments', '--api-key-file', world.keyFile], env),
      ]);
      expect(json.code, show(json)).toBe(2);
      const doc = onlyDocument(json);
      expect(doc.error?.code).toBe('AwsUnreachable');
      expect(doc.error?.message).toContain(`Cannot reach the AWS endpoint 127.0.0.1:${port}`);
      expect(doc.error?.message).toContain(`AWS_ENDPOINT_URL (http://127.0.0.1:${port})`);
      expect(doc.error?.message).not.toMatch(/credentials/i);
      expect(text.code, show(text)).toBe(2);
      expect(text.stderr).toMatch(new RegExp(`^error: Cannot reach the AWS endpoint 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Check the network connection`, 'm'));
      expect(text.stderr).not.toMatch(/No usable AWS credentials|InternalError|\n\s+at /);
    });

    it('AWS_PROFILE naming a profile that does not exist: the profile and where it came from (AwsProfileNotFound)', async () => {
      const [fromEnv, fromFlag] = await Promise.all([
        cli(['status', '--json'], newShell(tmp, { ...awsEnv(), AWS_PROFILE: 'nope' })),
        cli(['list', '--aws-profile', 'nope'], newShell(tmp, awsEnv())),
      ]);
      expect(fromEnv.code, show(fromEnv)).toBe(2);
      const doc = onlyDocument(fromEnv);
      expect(doc.error?.code).toBe('AwsProfileNotFound');
      expect(doc.error?.message).toContain("AWS profile 'nope' (from AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials.");
      expect(doc.error?.message).toContain('unset AWS_PROFILE');
      expect(fromFlag.code, show(fromFlag)).toBe(2);
      expect(fromFlag.stderr).toContain("error: AWS profile 'nope' (from --aws-profile) is not in ~/.aws/config or ~/.aws/credentials.");
      expect(fromFlag.stderr).toContain('leave out --aws-profile');
    });

    it('--state-dir a regular file: BadInput naming it, in JSON and in text, nothing made', async () => {
      const file = path.join(dir('five'), 'state-is-a-file');
      writeFileSync(file, 'not a directory\n');
      const [json, text, fromEnv] = await Promise.all([
        cli(['status', '--json', '--state-dir', file], newShell(tmp, awsEnv())),
        cli(['setup', '--non-interactive', '--yes', '--region-clusters', 'eu-central-1=payments', '--api-key-file', world.keyFile, '--state-dir', file], newShell(tmp, awsEnv())),
        cli(['list', '--json'], { ...newShell(tmp, awsEnv()), FORTICNAPP_EKS_AUDIT_STATE_DIR: file }),
      ]);
      // The same path from the environment is named as such.
      expect(fromEnv.code, show(fromEnv)).toBe(2);
      expect(onlyDocument(fromEnv)).toMatchObject({ error: { code: 'BadInput', message: `FORTICNAPP_EKS_AUDIT_STATE_DIR ${file} is a file, not a directory; move that file away, or pass --state-dir <a directory> (it is created if missing).` } });
      expect(json.code, show(json)).toBe(2);
      expect(onlyDocument(json)).toMatchObject({ status: 'failed', error: { code: 'BadInput', message: `--state-dir ${file} is a file, not a directory; pass a directory (it is created if missing).` } });
      expect(text.code, show(text)).toBe(2);
      expect(text.stderr.trim().split('\n')).toEqual([`error: --state-dir ${file} is a file, not a directory; pass a directory (it is created if missing).`]);
      expect(readFileSync(file, 'utf8')).toBe('not a directory\n');
    });
  });

  describe('8. --help of every command, as a person reads it', () => {
    const help = async (args: string[]) => {
      const r = await cli([...args, '--help'], newShell(tmp));
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    /** The option lines of a help text: flag column, description. */
    const options = (text: string) => [...text.matchAll(/^ {2}(-[^\s,]+(?:, --\S+)?(?: <[^>]+>)?) +(.*)$/gm)].map((m) => m[1] as string);
    /** Every example: the command lines after `$ `, with their continuation lines joined. */
    const examples = (text: string) =>
      (text.split(/^Examples:$/m)[1] ?? '')
        .split(/^Exit codes:$/m)[0]!
        .replace(/\\\n\s+/g, '')
        .split('\n')
        .filter((l) => l.trim().startsWith('$ '))
        .map((l) => l.trim().slice(2));
    /** The text with commander's wrapping undone (a description continued on the next line joined to it). */
    const unwrapped = (text: string) => text.replace(/\n {10,}/g, ' ');
    const EXIT_CODES = /^Exit codes:\n {2}0 +done\n {2}1 +failed, and nothing it made is left \(rolled back\)[^\n]*\n {2}2 +bad usage or input, or a plan with a conflict: nothing was changed\n {2}3 +failed, and resources are left[^\n]*\n {2}130 +interrupted$/m;
    /** Names that look like environment variables, outside commander's `(env: NAME)` notation (lines unwrapped). */
    const otherEnvNotation = (text: string) => [...unwrapped(text).replace(/\(env: [A-Z_]+\)/g, '').matchAll(/[[(]?\b(?:LW|AWS|FORTICNAPP|NO)_[A-Z_]+\b[\])]?/g)].map((m) => m[0]);

    it('the top-level help says what setup does, in paragraphs wrapped at 80 columns, and lists every command', async () => {
      const text = await help([]);
      const description = text.split('\n\nOptions:')[0]!.split('\n\n').slice(1);
      const prose = description.join(' ').replace(/\s+/g, ' ');
      expect(prose).toContain('setup (the default command) turns on the audit log type of each cluster you name');
      expect(prose).toMatch(/registers the integration with FortiCNAPP/);
      // Each paragraph fills its lines: none longer than 80, none but its last much shorter (no hard breaks mid-sentence).
      for (const p of description) {
        const lines = p.split('\n');
        expect(Math.max(...lines.map((l) => l.length)), p).toBeLessThanOrEqual(80);
        for (const l of lines.slice(0, -1)) expect(l.length, `a short line inside a paragraph:\n${p}`).toBeGreaterThan(60);
      }
      for (const c of ['setup', 'plan', 'status', 'teardown', 'list', 'permissions']) expect(text).toMatch(new RegExp(`^ {2}${c} \\[options\\] +\\S`, 'm'));
      expect(text).toMatch(EXIT_CODES);
      expect(examples(text).length).toBeGreaterThanOrEqual(3);
      expect(otherEnvNotation(text)).toEqual([]);
    });

    it('setup: the flags grouped, what to connect first, each environment variable as (env: NAME) once, examples that use its own flags, exit codes', async () => {
      const text = await help(['setup']);
      const headings = [...text.matchAll(/^(\S[^\n]*):$/gm)].map((m) => m[1]);
      expect(headings).toEqual(['What to connect', 'FortiCNAPP credentials', 'AWS', 'AWS Organizations (every member account)', 'Advanced', 'Output and behaviour', 'Options', 'Examples', 'Exit codes']);
      expect(options(text)[0]).toBe('--region-clusters <region=c1,c2>');
      const envs = [...unwrapped(text).matchAll(/\(env: ([A-Z_]+)\)/g)].map((m) => m[1]).sort();
      expect(envs).toEqual(['AWS_PROFILE', 'FORTICNAPP_EKS_AUDIT_STATE_DIR', 'LW_ACCOUNT', 'LW_API_KEY', 'LW_API_SECRET', 'LW_NONINTERACTIVE', 'LW_PROFILE', 'LW_SUBACCOUNT', 'NO_COLOR']);
      expect(otherEnvNotation(text)).toEqual([]);
      expect(text).toMatch(EXIT_CODES);
    });

    it('plan: no flag says it applies anything (it takes setup\'s flags, --yes included, and changes nothing)', async () => {
      const text = unwrapped(await help(['plan']));
      expect(text).toMatch(/^ {2}-y, --yes +.*plan never applies anything/m);
      expect(text).not.toMatch(/^ {2}-y, --yes +apply/m);
    });

    it('--help into a reader that has already gone (`--help | head`): exit 0, no stack trace', async () => {
      const child = spawn(process.execPath, [CLI, 'setup', '--help'], { env: newShell(tmp), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first byte: every write meets EPIPE
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    });

    for (const command of ['setup', 'plan', 'status', 'teardown', 'list', 'permissions']) {
      it(`${command}: groups, one env notation, examples of this command with flags it has, exit codes`, async () => {
        const text = await help([command]);
        expect(text).toMatch(new RegExp(`^Usage: forticnapp-eks-audit ${command} \\[options\\]$`, 'm'));
        // Grouped: at least one heading of its own besides commander's "Options:" (which holds only --help).
        const groups = [...text.matchAll(/^(\S[^\n]*):$/gm)].map((m) => m[1]).filter((h) => !['Options', 'Examples', 'Exit codes'].includes(h as string));
        expect(groups.length, text).toBeGreaterThanOrEqual(1);
        expect(text.split(/^Options:$/m)[1]?.split(/^Examples:$/m)[0]?.trim()).toMatch(/^-h, --help +display help for command$/);
        expect(otherEnvNotation(text)).toEqual([]);
        const own = new Set(options(text).flatMap((o) => o.split(/, | /)).filter((w) => w.startsWith('-')));
        const ex = examples(text);
        expect(ex.length, text).toBeGreaterThanOrEqual(1);
        for (const line of ex) {
          expect(line.split(' ').slice(0, 2)).toEqual(['forticnapp-eks-audit', command]);
          for (const flag of line.split(' ').filter((w) => w.startsWith('-'))) expect(own, `${line}: ${flag}`).toContain(flag);
        }
        expect(text).toMatch(EXIT_CODES);
      });
    }
  });
});
