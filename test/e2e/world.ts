/**
 * An isolated world for one e2e file: moto (through the cross-region wrapper) behind the fault proxy, a
 * fake FortiCNAPP, a temp HOME and state dir, a key file, and a way to run the built CLI in it.
 *
 * The proxy emulates S3's PutBucketNotificationConfiguration checks by default (overlapping rules,
 * destinations S3 cannot deliver to; test/fakes/s3-notifications.ts), because real S3 always makes them.
 * moto runs without `MOTO_ACCOUNT_ID`, so Organizations and cross-account AssumeRole work (assumed
 * credentials act in the member account); see test/e2e/fixtures.ts for the seeded fixtures.
 *
 * Several worlds may run at once in one process: each has its own moto, proxy, fake and directories.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { leaseMoto, startMoto, isolatedAwsEnv, type MotoServer } from '../fakes/moto.js';
import { startFaultProxy, markFixture, type FaultProxy } from '../fakes/fault-proxy.js';
import { startFakeLacework, type FakeLacework } from '../fakes/lacework-server.js';
import { asAccount } from '../fakes/moto-accounts.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin/forticnapp-eks-audit.js');

export const LW = { account: 'acme', keyId: 'ACME_0123456789ABCDEF0123456789ABCDEF', secret: '_s3cr3t-0123456789abcdef0123456789' };
export const ACCOUNT = '123456789012';

export interface World {
  moto: MotoServer;
  proxy: FaultProxy;
  lw: FakeLacework;
  home: string;
  stateDir: string;
  keyFile: string;
  /** The environment the CLI runs with. */
  env: Record<string, string>;
  /** Options the world was started with (defaults filled in). */
  options: Required<WorldOptions>;
  /**
   * Credentials from fixture AssumeRole calls, by account (see `accountConfig` in fixtures.ts); emptied by
   * {@link World.reset}, since a moto reset forgets the keys.
   */
  assumed: Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
  /**
   * Wipe AWS, FortiCNAPP and local state between tests: moto reset, proxy rules, calls and callback cleared
   * (S3 emulation back to the world's option), a new fake FortiCNAPP, no state dir.
   */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startWorld}. */
export interface WorldOptions {
  /** Emulate S3's notification checks in the proxy (see the module comment). @default true */
  validateS3Notifications?: boolean;
  /** Extra environment for moto (not `MOTO_ACCOUNT_ID` if the test needs Organizations). @default {} */
  motoEnv?: Record<string, string>;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const options: Required<WorldOptions> = { validateS3Notifications: opts.validateS3Notifications ?? true, motoEnv: opts.motoEnv ?? {} };
  // A server of the run's pool when the world needs no special moto (suite time), else one of its own.
  const moto = (Object.keys(options.motoEnv).length === 0 ? await leaseMoto() : undefined) ?? (await startMoto({ env: options.motoEnv }));
  const proxy = await startFaultProxy(moto.endpoint, {
    validateS3Notifications: options.validateS3Notifications,
    ...(options.motoEnv.MOTO_ACCOUNT_ID ? { fixedAccount: options.motoEnv.MOTO_ACCOUNT_ID } : {}),
  });
  let lw = await startFakeLacework({ ...LW, subscribe: { endpoint: moto.endpoint } });
  const home = mkdtempSync(path.join(os.tmpdir(), 'fea-home-'));
  const keyFile = path.join(home, 'acme-key.json');
  writeFileSync(keyFile, JSON.stringify({ account: 'acme.lacework.net', keyId: LW.keyId, secret: LW.secret }));
  const world: World = {
    moto,
    proxy,
    lw,
    home,
    stateDir: path.join(home, 'state'),
    keyFile,
    env: {},
    options,
    assumed: new Map(),
    async reset() {
      await moto.reset();
      world.assumed.clear();
      proxy.clearRules();
      proxy.resetCalls();
      proxy.onMutating(null);
      proxy.validateS3Notifications(options.validateS3Notifications);
      await world.lw.stop();
      lw = await startFakeLacework({ ...LW, subscribe: { endpoint: moto.endpoint } });
      world.lw = lw;
      world.env.LW_API_SERVER_URL = lw.url;
      rmSync(world.stateDir, { recursive: true, force: true });
    },
    async stop() {
      await world.lw.stop();
      await proxy.stop();
      await moto.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(isolatedAwsEnv(proxy.endpoint))) {
    if (!k.startsWith('LW_')) base[k] = v;
  }
  world.env = {
    ...base,
    HOME: home,
    FORTICNAPP_EKS_AUDIT_STATE_DIR: world.stateDir,
    FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE: '0.02',
    LW_API_SERVER_URL: lw.url,
    NO_COLOR: '1',
  };
  return world;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

/** Runs the CLI (or `opts.bin`, another build of it) in the world; killed after `timeoutMs` (default 120 s). */
export function runCli(world: World, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; onSpawn?: (pid: number) => void; bin?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? CLI, ...args], { env: { ...world.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) opts.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null),
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      });
    });
  });
}

/**
 * AWS SDK client config for test fixtures, through the proxy with dummy credentials (the management
 * account, 123456789012). Wrap the client in `markFixture` so the proxy never faults or counts it; for
 * another account see `accountConfig` in fixtures.ts.
 */
export function fixtureConfig(world: World, region: string) {
  return { region, endpoint: world.proxy.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, forcePathStyle: true };
}

/**
 * An ACTIVE EKS cluster with its log group (moto's EKS does not make it), audit logging optionally on;
 * in `account` when given (moto's `x-moto-account-id`), else the management account.
 */
export async function seedCluster(
  world: World,
  region: string,
  name: string,
  opts: { audit?: boolean; logGroup?: boolean; account?: string } = {},
): Promise<void> {
  const account = opts.account ?? ACCOUNT;
  const as = <T extends Parameters<typeof markFixture>[0]>(client: T): T => markFixture(opts.account ? asAccount(client, opts.account) : client);
  const eks = as(new EKSClient(fixtureConfig(world, region)));
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: `arn:aws:iam::${account}:role/eks-cluster-role`,
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
    }),
  );
  if (opts.audit) {
    await eks.send(new UpdateClusterConfigCommand({ name, logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: true }] } }));
  }
  if (opts.logGroup !== false) {
    const logs = as(new CloudWatchLogsClient(fixtureConfig(world, region)));
    await logs.send(new CreateLogGroupCommand({ logGroupName: `/aws/eks/${name}/cluster` }));
  }
}
