/**
 * Issue 4, "Done when" 1: the CLI is killed (SIGKILL, no chance to clean up) after the N-th mutating AWS
 * request, for EVERY N of a two-region setup. Then
 *   - `teardown` must leave nothing with our names or tags in any service, no registration at the fake
 *     FortiCNAPP, and every cluster's logging as it was before setup;
 *   - separately, running `setup` again must finish with exactly one of each resource.
 *
 * The fault proxy counts mutating requests as they reach moto and holds every one after the N-th, so exactly
 * requests 1..N happened; whatever the CLI journalled before dying is all teardown and the re-run get.
 * Each scenario has one moto and one world, reset between cases; the cases run one after another.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { clusterLogging, counts, inventory, leftovers, settled, type Scope } from './inventory.js';
import { runCli, seedCluster, startWorld, type CliRun, type World } from './world.js';

const SCOPE: Scope = {
  regions: ['eu-central-1', 'us-east-1'],
  clusters: [
    { region: 'eu-central-1', name: 'prod' },
    { region: 'eu-central-1', name: 'stage' },
    { region: 'us-east-1', name: 'edge' },
  ],
};

const run = requireMotoOrSkip();

/**
 * Bounds one step of a case, so that a hang anywhere (moto, the proxy, a child that never closes its pipes)
 * fails with the step's name and what the proxy still had in flight, instead of the whole test timing out.
 */
async function within<T>(world: World, ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const open = world.proxy.calls.filter((c) => c.status === 0 && c.injected !== 'hold').map((c) => `${c.service} ${c.action}${c.fixture ? ' (fixture)' : ''}`);
      reject(new Error(`${what} did not finish within ${ms / 1000} s; requests open at the proxy: ${open.join(', ') || 'none'}`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One world of its own (moto, proxy, fake FortiCNAPP) and what the cases need to know about it. */
class CrashWorld {
  /** Mutating requests of a clean run, counted by {@link CrashWorld.start}. */
  total = 0;
  /** Cluster logging as seeded, before any setup. */
  before: Record<string, string[]> = {};

  private constructor(readonly world: World) {}

  static async start(): Promise<CrashWorld> {
    const cw = new CrashWorld(await startWorld());
    await cw.seed();
    cw.before = await clusterLogging(cw.world, SCOPE);
    expect(cw.before).toEqual({ 'eu-central-1/prod': [], 'eu-central-1/stage': ['api', 'audit'], 'us-east-1/edge': [] });
    // A clean run tells how many mutating requests there are to crash after.
    cw.world.proxy.resetCalls();
    const clean = await runCli(cw.world, cw.setupArgs());
    expect(clean.code, clean.stderr).toBe(0);
    cw.total = cw.world.proxy.mutatingCount();
    expect(cw.total).toBeGreaterThanOrEqual(20);
    return cw;
  }

  setupArgs(): string[] {
    return [
      'setup', '--non-interactive', '--yes', '--json',
      '--region-clusters', 'eu-central-1=prod,stage', '--region-clusters', 'us-east-1=edge',
      '--api-key-file', this.world.keyFile,
    ];
  }

  /** prod: logging off; stage: audit already on (setup must not touch it); edge: off, in the second region. */
  async seed(): Promise<void> {
    await within(this.world, 30_000, 'reset', this.world.reset());
    await within(
      this.world,
      30_000,
      'seeding the clusters',
      (async () => {
        await seedCluster(this.world, 'eu-central-1', 'prod');
        await seedCluster(this.world, 'eu-central-1', 'stage', { audit: true });
        await seedCluster(this.world, 'us-east-1', 'edge');
      })(),
    );
  }

  /** A CLI run, bounded (runCli kills the child after its own timeout; this also covers pipes that never close). */
  cli(args: string[], opts: Parameters<typeof runCli>[2] = {}): Promise<CliRun> {
    return within(this.world, 150_000, `forticnapp-eks-audit ${args[0]}`, runCli(this.world, args, opts));
  }

  /** The inventory and cluster logging, bounded. */
  async look(): Promise<{ inv: Awaited<ReturnType<typeof inventory>>; logging: Record<string, string[]> }> {
    return within(this.world, 60_000, 'the inventory', (async () => ({ inv: await inventory(this.world, SCOPE, { withTagging: true }), logging: await clusterLogging(this.world, SCOPE) }))());
  }

  /** Runs setup and SIGKILLs it as the (n+1)-th mutating request arrives; that request and later ones never reach AWS. */
  async setupKilledAfter(n: number): Promise<CliRun> {
    const { world } = this;
    let pid = 0;
    let killed = false;
    world.proxy.holdAfter(n, () => {
      killed = true;
      process.kill(pid, 'SIGKILL');
    });
    const r = await this.cli(this.setupArgs(), { onSpawn: (p) => (pid = p) });
    // Requests forwarded before the kill finish at moto; then stop holding, for the next run.
    await settled(world.proxy);
    world.proxy.onMutating(null);
    // The kill must have happened, at n+1 (the last n lets setup finish: there is no request n+1).
    expect(killed, `kill after request ${n}`).toBe(n < this.total);
    expect(r.code, r.stderr).toBe(n < this.total ? 137 : 0);
    return r;
  }
}

// The two scenarios share nothing (each has its own moto), so they run side by side; the cases of each run
// one after another.
describe.runIf(run).concurrent('killed after every mutating request of a two-region setup', () => {
  it('for every N, teardown afterwards leaves nothing in any service or at FortiCNAPP, and cluster logging as before', async () => {
    const cw = await CrashWorld.start();
    try {
      const { world } = cw;
      const dirty: { n: number; teardownExit: number | null; left: string[]; logging: Record<string, string[]>; stderr?: string }[] = [];
      for (let n = 1; n <= cw.total; n++) {
        await cw.seed();
        await cw.setupKilledAfter(n);
        const td = await cw.cli(['teardown', '--yes', '--json', '--api-key-file', world.keyFile]);
        const { inv, logging } = await cw.look();
        const left = leftovers(inv);
        if (td.code !== 0 || left.length > 0 || !isDeepStrictEqual(logging, cw.before)) {
          dirty.push({ n, teardownExit: td.code, left, logging, stderr: td.stderr.slice(-2000) });
        }
      }
      process.stderr.write(`crash points (teardown): ${cw.total} tried, ${cw.total - dirty.length} clean\n`);
      expect(dirty).toEqual([]);
    } finally {
      await cw.world.stop();
    }
  }, 600_000);

  it('for every N, running setup again finishes with exactly one of each resource', async () => {
    const cw = await CrashWorld.start();
    try {
      const { world } = cw;
      const wrong: { n: number; exit: number | null; counts: Record<string, number>; logging: Record<string, string[]>; stderr?: string }[] = [];
      // Tagged (tagging API): the stream, the bucket, the topic and the key; IAM roles are not in it.
      const one = { roles: 3, buckets: 1, topics: 1, streams: 1, kmsKeys: 1, kmsAliases: 1, filters: 3, notifications: 1, subscriptions: 1, integrations: 1, tagged: 4 };
      const on = { 'eu-central-1/prod': ['audit'], 'eu-central-1/stage': ['api', 'audit'], 'us-east-1/edge': ['audit'] };
      for (let n = 1; n <= cw.total; n++) {
        await cw.seed();
        await cw.setupKilledAfter(n);
        const again = await cw.cli(cw.setupArgs());
        const { inv, logging } = await cw.look();
        const got = counts(inv);
        const ok = again.code === 0 && again.json<{ status: string }>().status === 'ok' && isDeepStrictEqual(got, one) && isDeepStrictEqual(logging, on);
        if (!ok) wrong.push({ n, exit: again.code, counts: got, logging, stderr: again.stderr.slice(-2000) });
      }
      process.stderr.write(`crash points (re-run setup): ${cw.total} tried, ${cw.total - wrong.length} with exactly one of each\n`);
      expect(wrong).toEqual([]);
    } finally {
      await cw.world.stop();
    }
  }, 600_000);
});
