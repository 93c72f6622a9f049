/**
 * `npm run bench:org` (issue 12 item 7): `setup --organization` wall time for 1, 10 and 50 member accounts
 * (3 clusters each, one per region) on moto behind the latency model (bench/README.md), as a ratio to one
 * account's wall time (goal: ≤ 1.3× at 10, ≤ 3× at 50 with the default 20 accounts at once), and the tool's
 * own peak memory (maximum resident set size, from /usr/bin/time) at 50 accounts: CloudShell is small.
 * Needs moto (python3 + moto[server]) like the e2e tests, and runs the built CLI (dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isolatedAwsEnv, motoAvailable, startMoto } from '../test/fakes/moto.js';
import { startFaultProxy } from '../test/fakes/fault-proxy.js';
import { startFakeLacework } from '../test/fakes/lacework-server.js';
import { seedOrganization } from '../test/e2e/fixtures.js';
import type { World } from '../test/e2e/world.js';
import { startLatencyProxy, type LatencyModel } from './latency-model.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin/forticnapp-eks-audit.js');
/** Real AWS waits divided by this (BENCH_ORG_SCALE, default 10): a smaller one spreads moto's load over real-length waits. */
const SCALE = Number(process.env.BENCH_ORG_SCALE) || 10;
const MODEL: LatencyModel = { eksUpdateMs: 40_000 / SCALE, firehoseActiveMs: 45_000 / SCALE, iamPropagationMs: 10_000 / SCALE };
const REGIONS = ['eu-central-1', 'us-east-1', 'us-west-2'];
const SIZES = (process.env.BENCH_ORG_SIZES ?? '1,10,50').split(',').map(Number);
const GOAL: Record<number, number> = { 10: 1.3, 50: 3 };
const LW = { account: 'acme', keyId: 'ACME_0123456789ABCDEF0123456789ABCDEF', secret: '_s3cr3t-0123456789abcdef0123456789' };

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Runs the CLI under /usr/bin/time: wall time, exit code, peak RSS (KiB), CPU (s), output. */
function timed(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null; rssKiB: number; cpuS: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const useTime = existsSync('/usr/bin/time');
    const child = useTime
      ? spawn('/usr/bin/time', ['-f', 'maxrss=%M cpu=%U+%S', process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? 'NaN');
      const cpu = /cpu=([\d.]+)\+([\d.]+)/.exec(stderr);
      resolve({ ms: performance.now() - t0, code, rssKiB: rss, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, stdout, stderr });
    });
  });
}

async function main(): Promise<number> {
  if (!motoAvailable()) {
    process.stderr.write('bench needs moto_server: pip install "moto[server]==5.2.1"\n');
    return 2;
  }
  const moto = await startMoto();
  const model = await startLatencyProxy(moto.endpoint, MODEL);
  const proxy = await startFaultProxy(model.endpoint);
  const home = mkdtempSync(path.join(os.tmpdir(), 'fea-bench-org-'));
  const keyFile = path.join(home, 'key.json');
  writeFileSync(keyFile, JSON.stringify({ account: 'acme.lacework.net', keyId: LW.keyId, secret: LW.secret }));
  // The fixtures need only these parts of a test world: moto, the proxy (fixture requests pass every proxy
  // untouched), and the assumed-role cache.
  const world = { moto, proxy, options: { motoEnv: {} }, assumed: new Map() } as unknown as World;
  const rows: { accounts: number; ms: number; rssKiB: number; calls: number; cpuS: number; motoCpuS: number }[] = [];
  try {
    for (const n of SIZES) {
      await moto.reset();
      world.assumed.clear();
      const lw = await startFakeLacework({ ...LW, subscribe: { endpoint: moto.endpoint } });
      await seedOrganization(world, { members: n, regions: REGIONS, seed: 11 });
      rmSync(path.join(home, 'state'), { recursive: true, force: true });
      model.configure(MODEL);
      proxy.resetCalls();
      const env: NodeJS.ProcessEnv = {
        ...isolatedAwsEnv(proxy.endpoint),
        HOME: home,
        FORTICNAPP_EKS_AUDIT_STATE_DIR: path.join(home, 'state'),
        FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE: String(1 / SCALE),
        LW_API_SERVER_URL: lw.url,
        NO_COLOR: '1',
      };
      const motoBefore = cpuOf(moto.pid);
      const r = await timed(['setup', '--organization', '--regions', REGIONS.join(','), '--all-clusters', '--non-interactive', '--yes', '--json', '--api-key-file', keyFile], env);
      await lw.stop();
      if (r.code !== 0) throw new Error(`setup --organization (${n} accounts) failed: ${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
      rows.push({ accounts: n, ms: r.ms, rssKiB: r.rssKiB, calls: proxy.calls.filter((c) => !c.fixture).length, cpuS: r.cpuS, motoCpuS: cpuOf(moto.pid) - motoBefore });
      process.stderr.write(`bench: ${n} accounts done (${s(r.ms)})\n`);
    }
  } finally {
    await proxy.stop();
    await model.stop();
    await moto.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const one = rows.find((r) => r.accounts === 1)?.ms ?? rows[0]?.ms ?? 1;
  let ok = true;
  process.stdout.write(`\nsetup --organization, 3 clusters per account (one in each of ${REGIONS.join(', ')}), latency model ÷${SCALE}, default concurrency 20\n\n`);
  process.stdout.write('accounts | wall     | ratio to 1 account | goal   | AWS calls | peak RSS | CPU: tool / moto\n');
  process.stdout.write('-------- | -------- | ------------------ | ------ | --------- | -------- | ----------------\n');
  for (const r of rows) {
    const ratio = r.ms / one;
    const goal = GOAL[r.accounts];
    const pass = goal === undefined || ratio <= goal;
    ok &&= pass;
    process.stdout.write(
      `${String(r.accounts).padEnd(8)} | ${s(r.ms).padEnd(8)} | ${ratio.toFixed(2).padEnd(18)} | ${goal ? `<= ${goal}x` : '      '} ${goal ? (pass ? 'ok' : 'MISSED') : ''} | ${String(r.calls).padEnd(9)} | ${(Number.isNaN(r.rssKiB) ? 'n/a' : `${(r.rssKiB / 1024).toFixed(0)} MiB`).padEnd(8)} | ${r.cpuS.toFixed(1)} s / ${r.motoCpuS.toFixed(1)} s\n`,
    );
  }
  // moto is one Python process (one core at most, under its lock): when its CPU nears the wall time, the
  // figure measures moto, not the tool.
  process.stdout.write(`\nmoto serves requests on one core at most: where its CPU nears the wall time, the wall time is moto's.\n`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
