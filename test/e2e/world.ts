/**
 * An isolated world for one e2e file: moto (through the cross-region wrapper) behind the fault proxy, a
 * fake FortiCNAPP, a temp HOME and state dir, a key file, and a way to run the built CLI in it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startMoto, isolatedAwsEnv, type MotoServer } from '../fakes/moto.js';
import { startFaultProxy, markFixture, type FaultProxy } from '../fakes/fault-proxy.js';
import { startFakeLacework, type FakeLacework } from '../fakes/lacework-server.js';

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
  /** Wipe AWS, FortiCNAPP and local state between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint);
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
    async reset() {
      await moto.reset();
      proxy.clearRules();
      proxy.resetCalls();
      proxy.onMutating(null);
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

export function runCli(world: World, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...world.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** AWS SDK client config for test fixtures: straight to moto, requests marked as fixtures. */
export function fixtureConfig(world: World, region: string) {
  return { region, endpoint: world.proxy.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, forcePathStyle: true };
}

/** An ACTIVE EKS cluster with its log group (moto's EKS does not make it), audit logging optionally on. */
export async function seedCluster(world: World, region: string, name: string, opts: { audit?: boolean; logGroup?: boolean } = {}): Promise<void> {
  const eks = markFixture(new EKSClient(fixtureConfig(world, region)));
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster-role`,
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
    }),
  );
  if (opts.audit) {
    await eks.send(new UpdateClusterConfigCommand({ name, logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: true }] } }));
  }
  if (opts.logGroup !== false) {
    const logs = markFixture(new CloudWatchLogsClient(fixtureConfig(world, region)));
    await logs.send(new CreateLogGroupCommand({ logGroupName: `/aws/eks/${name}/cluster` }));
  }
}
