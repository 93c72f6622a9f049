/**
 * Test harness for moto's server (reference/moto.md, DESIGN.md §6).
 *
 * Every server is started through `moto_wrapper.py` (moto.md §10: same-account cross-region Firehose
 * destinations for subscription filters) on a free loopback port, never a fixed one, and is stopped by
 * the PID we spawned. Typical use in a vitest file:
 *
 * ```ts
 * const run = requireMotoOrSkip();
 * describe.skipIf(!run)('setup against moto', () => {
 *   let moto: MotoServer;
 *   beforeAll(async () => { moto = await startMoto(); });
 *   afterAll(async () => { await moto?.stop(); });
 *   beforeEach(async () => { await moto.reset(); });
 * });
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running moto server owned by this process. */
export interface MotoServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** The loopback port the server listens on. */
  port: number;
  /** PID of the Python process (the only process {@link MotoServer.stop} ever signals). */
  pid: number;
  /** Wipe all state in every account and region (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /**
   * Seed moto's random generator (`POST /moto-api/seed?a=<n>`), so the ids it makes next (Organizations
   * account ids, KMS key ids, subscription ids…) are the same for the same sequence of calls.
   */
  seed(n: number): Promise<void>;
  /** SIGTERM our own server process, SIGKILL it if it is still alive after 3 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Options for {@link startMoto}. */
export interface StartMotoOptions {
  /** Extra environment for the server process, e.g. `{ MOTO_ACCOUNT_ID: '111122223333' }` (moto.md §5). */
  env?: Record<string, string>;
}

const WRAPPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'moto_wrapper.py');
const PYTHON = process.env.MOTO_PYTHON ?? 'python3';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_BYTES = 16 * 1024;
const INSTALL_HINT = 'pip install "moto[server]==5.2.1"';

let availableCache: boolean | undefined;
let skipNoticePrinted = false;

/**
 * Whether moto's server can be started here: `python3` exists and `moto.server` (which needs the
 * `[server]` extra: flask, werkzeug) is importable. The answer is cached for the process.
 */
export function motoAvailable(): boolean {
  // A run's shared servers are up (startMotoPool): no need to ask Python again.
  if (availableCache === undefined && process.env.FEA_MOTO_POOL) availableCache = true;
  if (availableCache === undefined) {
    const probe = spawnSync(PYTHON, ['-c', 'import moto.server, moto.firehose.models'], {
      stdio: 'ignore',
      timeout: 15_000,
    });
    availableCache = probe.status === 0;
  }
  return availableCache;
}

/**
 * Decide whether e2e suites that need moto should run.
 *
 * - moto available: returns `true`.
 * - moto missing and `CI` set: throws (a missing moto is a failure in CI, DESIGN.md §6).
 * - moto missing locally: prints one loud line to stderr (once per process) and returns `false`.
 *
 * @throws Error when moto is missing and `process.env.CI` is set.
 */
export function requireMotoOrSkip(): boolean {
  if (motoAvailable()) return true;
  if (process.env.CI) {
    throw new Error(`moto_server is required in CI: ${INSTALL_HINT}`);
  }
  if (!skipNoticePrinted) {
    skipNoticePrinted = true;
    process.stderr.write(
      `\n!!! SKIPPING e2e suites: moto_server (python3 + moto[server]) not found. Install it with: ${INSTALL_HINT} !!!\n\n`,
    );
  }
  return false;
}

let emptyAwsFiles: { config: string; credentials: string } | undefined;

/** Two empty files, created once per process, used as the SDK's shared config and credentials files. */
function emptyAwsConfigFiles(): { config: string; credentials: string } {
  if (!emptyAwsFiles) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'moto-aws-'));
    emptyAwsFiles = { config: path.join(dir, 'config'), credentials: path.join(dir, 'credentials') };
    writeFileSync(emptyAwsFiles.config, '');
    writeFileSync(emptyAwsFiles.credentials, '');
  }
  return emptyAwsFiles;
}

/**
 * Environment variables that point the AWS SDK v3 (in this process or a spawned CLI) at `endpoint`
 * with dummy credentials: `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID=testing`, `AWS_SECRET_ACCESS_KEY=testing`,
 * `AWS_REGION=us-east-1`, `AWS_EC2_METADATA_DISABLED=true`, plus `AWS_CONFIG_FILE` and
 * `AWS_SHARED_CREDENTIALS_FILE` set to empty temp files so no real profile can be read.
 *
 * Merging this over `process.env` is NOT enough on its own: when `AWS_PROFILE` is set, the SDK skips the
 * env credentials and looks the profile up (setting it to `''` is not a safe "unset"). Callers must
 * delete `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, `AWS_SESSION_TOKEN`, `AWS_ROLE_ARN`,
 * `AWS_WEB_IDENTITY_TOKEN_FILE` and friends from the environment they spawn with; {@link isolatedAwsEnv}
 * does exactly that. (With the empty config files above, a leaked `AWS_PROFILE` fails loudly instead of
 * reaching a real account.)
 */
export function awsTestEnv(endpoint: string): Record<string, string> {
  const files = emptyAwsConfigFiles();
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: files.config,
    AWS_SHARED_CREDENTIALS_FILE: files.credentials,
  };
}

/**
 * A complete environment for spawning a process against `endpoint`: `base` (default `process.env`)
 * with every `AWS_*` variable removed, then {@link awsTestEnv} on top.
 */
export function isolatedAwsEnv(
  endpoint: string,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined || key.toUpperCase().startsWith('AWS_')) continue;
    env[key] = value;
  }
  return { ...env, ...awsTestEnv(endpoint) };
}

/** Ask the OS for a free loopback port (bind port 0, read it, close). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Servers started by this process, killed if the process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolve once `child` has exited (immediately if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

async function startOnce(port: number, opts: StartMotoOptions): Promise<MotoServer> {
  const child = spawn(PYTHON, [WRAPPER, '-H', '127.0.0.1', '-p', String(port)], {
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      // Let the wrapper exit on its own if this process dies without stopping it.
      MOTO_WRAPPER_WATCH_PARENT: '1',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  installExitHook();

  // werkzeug logs every request; keep draining both pipes so the server never blocks on a full pipe.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError || hasExited(child)) {
      await exited(child).catch(() => undefined);
      const why = spawnError ? String(spawnError) : `exit code ${child.exitCode ?? child.signalCode}`;
      throw new StartError(
        `moto server exited during start-up (${why}):\n${tail}`,
        /address already in use/i.test(tail),
      );
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited(child);
      throw new StartError(`moto server did not answer within ${START_TIMEOUT_MS / 1000}s:\n${tail}`, false);
    }
    await sleep(50);
  }

  const pid = child.pid;
  if (pid === undefined) throw new StartError('moto server has no pid', false);
  return serverAt(endpoint, port, pid, async () => {
    if (hasExited(child)) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!hasExited(child)) child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await exited(child);
    clearTimeout(timer);
  });
}

/**
 * Start moto (through `test/fakes/moto_wrapper.py`) on a free loopback port and wait until it answers.
 * A port grabbed by someone else between picking and binding is retried with a new port.
 *
 * @throws Error with the server's output when it exits early or does not answer within 20 s.
 */
export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(port, opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof StartError && err.portTaken)) throw err;
    }
  }
  throw lastError;
}

/**
 * A pool of moto servers shared by the test files of one vitest run (suite time: every server costs about
 * 1 CPU-s to start and some 3 more the first time each service is used, and the e2e files would otherwise
 * start one each). The e2e project's global setup starts them ({@link startMotoPool}); a test file takes one
 * with {@link leaseMoto}, which wipes it first, and gives it back when it stops it. The pool is described to
 * the workers in `FEA_MOTO_POOL` (JSON: endpoints and a lock directory); a lease is a lock file holding the
 * test process's PID, so a lease left by a process that died is taken over.
 */
export interface MotoPool {
  servers: { endpoint: string; port: number; pid: number }[];
  lockDir: string;
}

/** Starts `size` servers for the run and describes them in `process.env.FEA_MOTO_POOL`; returns the stopper. */
export async function startMotoPool(size: number): Promise<() => Promise<void>> {
  const servers = await Promise.all(Array.from({ length: size }, () => startMoto()));
  const pool: MotoPool = { servers: servers.map(({ endpoint, port, pid }) => ({ endpoint, port, pid })), lockDir: mkdtempSync(path.join(os.tmpdir(), 'moto-pool-')) };
  process.env.FEA_MOTO_POOL = JSON.stringify(pool);
  return async () => {
    delete process.env.FEA_MOTO_POOL;
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(pool.lockDir, { recursive: true, force: true });
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server of the run's pool, wiped, for this process alone until its `stop()` (which gives it back and
 * stops nothing); undefined when there is no pool or every server is leased.
 */
export async function leaseMoto(): Promise<MotoServer | undefined> {
  const pool = process.env.FEA_MOTO_POOL ? (JSON.parse(process.env.FEA_MOTO_POOL) as MotoPool) : undefined;
  for (const server of pool?.servers ?? []) {
    const lock = path.join(pool!.lockDir, String(server.port));
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      const holder = Number(readFileSync(lock, 'utf8'));
      if (holder === process.pid || alive(holder)) continue;
      rmSync(lock, { force: true });
      try {
        writeFileSync(lock, String(process.pid), { flag: 'wx' });
      } catch {
        continue;
      }
    }
    const leased = serverAt(server.endpoint, server.port, server.pid, async () => rmSync(lock, { force: true }));
    await leased.reset();
    return leased;
  }
  return undefined;
}

/** The reset and seed calls of a server at `endpoint`; `stop` is the owner's. */
function serverAt(endpoint: string, port: number, pid: number, stop: () => Promise<void>): MotoServer {
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    pid,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    async seed(n: number) {
      const res = await fetch(`${endpoint}/moto-api/seed?a=${encodeURIComponent(String(n))}`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto seed failed: HTTP ${res.status}`);
    },
    stop: () => (stopping ??= stop()),
  };
}
