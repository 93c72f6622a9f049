/**
 * Issue 8 item 11 (issue 4 "Done when" 1): the CLI is killed (SIGKILL, no chance to clean up) after the N-th
 * mutating AWS request, for EVERY N of a two-region setup. Then
 *   - `teardown` must leave nothing: no resource with our names or tags in any service, no registration at
 *     the fake FortiCNAPP, no deployment record in SSM, and every cluster's logging as it was before setup;
 *   - separately, running `setup` again must finish with exactly one of each resource (and one record).
 *
 * The fault proxy counts mutating requests as they reach moto and holds every one after the N-th, so exactly
 * requests 1..N happened; whatever the CLI wrote before dying (journal, record) is all the next run gets.
 *
 * Wall time (issue 9): every case starts from a freshly reset and seeded world, so cases are independent and
 * can run anywhere. They run on a small pool of worlds (each its own moto, proxy and fake FortiCNAPP; about
 * 100 MiB and 1 s to start), each world taking the next case as it finishes one, so no world idles while
 * another still has a queue. The first two cases are the uninterrupted setups (N = all of them, one per
 * check); the first to finish says how many N there are.
 *
 * The sweep is CPU-bound: two CLI processes per case at about 0.9 s of CPU each, plus moto, the seed and the
 * inventory, come to some 150 s of CPU for the 56 cases, so on 2 cores it takes at least ~75 s however it is
 * split, and a third world buys nothing there. The pool is as large as the machine has cores, up to 3.
 * FEA_CRASH_WORLDS sets the pool size; FEA_CRASH_N=12,24 runs only those N (to look at a failure).
 */
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { AFTER_SETUP, BEFORE, ONE_OF_EACH, SCOPE, seedThreeClusters, setupArgs, teardownArgs } from './fixtures.js';
import { clusterLogging, counts, inventory, leftovers, settled } from './inventory.js';
import { recordParameters } from './records.js';
import { runCli, startWorld, type CliRun, type World } from './world.js';

const run = requireMotoOrSkip();

/** Worlds in the pool. */
const POOL = Math.max(1, Number(process.env.FEA_CRASH_WORLDS) || Math.min(3, os.availableParallelism()));

/** Only these N (FEA_CRASH_N), or every N. */
const ONLY = (process.env.FEA_CRASH_N ?? '').split(',').filter(Boolean).map(Number);

/** One complete deployment of the three clusters, with its record (three tagged SSM parameters). */
const ONE_WITH_RECORD = { ...ONE_OF_EACH, tagged: ONE_OF_EACH.tagged + 3 };

type Check = 'teardown' | 'rerun';
/** Kill after request n (Infinity: never; the setup runs to the end). */
interface Case {
  n: number;
  check: Check;
}
interface Dirty {
  n: number;
  exit: number | null;
  left?: string[];
  counts?: Record<string, number>;
  logging?: Record<string, string[]>;
  records?: string[];
  error?: string;
  stderr?: string;
}

/**
 * Bounds one step of a case, so that a hang anywhere (moto, the proxy, a child that never closes its pipes)
 * fails with the step's name and what the proxy still had in flight, instead of the whole sweep timing out.
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

/** One world of the pool and the steps of a case on it. */
class CrashWorld {
  private constructor(readonly world: World) {}

  static async start(): Promise<CrashWorld> {
    return new CrashWorld(await startWorld());
  }

  /** prod: logging off; stage: audit already on (setup must not touch it); edge: off, in the second region. */
  async seed(): Promise<void> {
    await within(this.world, 30_000, 'reset and seeding', seedThreeClusters(this.world, { reset: true }));
  }

  /** A CLI run, bounded (runCli kills the child after its own timeout; this also covers pipes that never close). */
  cli(args: string[], opts: Parameters<typeof runCli>[2] = {}): Promise<CliRun> {
    return within(this.world, 150_000, `forticnapp-eks-audit ${args[0]}`, runCli(this.world, args, opts));
  }

  /** Resources, cluster logging and records, bounded. */
  look(): Promise<{ inv: Awaited<ReturnType<typeof inventory>>; logging: Record<string, string[]>; records: string[] }> {
    const w = this.world;
    return within(w, 60_000, 'the inventory', (async () => {
      const [inv, logging, records] = await Promise.all([inventory(w, SCOPE, { withTagging: true }), clusterLogging(w, SCOPE), recordParameters(w, SCOPE.regions)]);
      return { inv, logging, records };
    })());
  }

  /**
   * Runs setup and SIGKILLs it as the (n+1)-th mutating request arrives; that request and later ones never
   * reach AWS. With n = Infinity it runs to the end. Returns how many mutating requests reached AWS.
   */
  async setupKilledAfter(n: number): Promise<number> {
    const { world } = this;
    let pid = 0;
    let killed = false;
    world.proxy.resetCalls();
    if (Number.isFinite(n)) {
      world.proxy.holdAfter(n, () => {
        killed = true;
        process.kill(pid, 'SIGKILL');
      });
    }
    const r = await this.cli(setupArgs(this.world), { onSpawn: (p) => (pid = p) });
    // Requests forwarded before the kill finish at moto; then stop holding, for the next run.
    await within(world, 35_000, 'the killed run’s last requests', settled(world.proxy));
    world.proxy.onMutating(null);
    const reached = Math.min(world.proxy.mutatingCount(), Number.isFinite(n) ? n : Infinity);
    if (killed) {
      if (r.code !== 137) throw new Error(`setup killed after request ${n} exited ${r.code}`);
    } else if (r.code !== 0) {
      throw new Error(`setup ${Number.isFinite(n) ? `(not killed: only ${reached} mutating requests)` : '(uninterrupted)'} exited ${r.code}:\n${r.stderr.slice(-2000)}`);
    }
    return reached;
  }

  /** One case: fresh world, setup killed after n, then the check. Undefined when it holds. */
  async runCase(c: Case, onCount: (total: number) => void): Promise<Dirty | undefined> {
    let follow: CliRun | undefined;
    try {
      await this.seed();
      const reached = await this.setupKilledAfter(c.n);
      if (!Number.isFinite(c.n)) onCount(reached);
      if (c.check === 'teardown') {
        follow = await this.cli(teardownArgs(this.world, ['--yes']));
        const { inv, logging, records } = await this.look();
        const left = leftovers(inv);
        if (follow.code === 0 && left.length === 0 && records.length === 0 && isDeepStrictEqual(logging, BEFORE)) return undefined;
        return { n: c.n, exit: follow.code, left, logging, records, stderr: follow.stderr.slice(-2000) };
      }
      follow = await this.cli(setupArgs(this.world));
      const { inv, logging, records } = await this.look();
      const got = counts(inv);
      const status = follow.code === 0 ? follow.json<{ status: string }>().status : undefined;
      if (status === 'ok' && isDeepStrictEqual(got, ONE_WITH_RECORD) && isDeepStrictEqual(logging, AFTER_SETUP) && records.length === 3) return undefined;
      return { n: c.n, exit: follow.code, counts: got, logging, records, stderr: follow.stderr.slice(-2000) };
    } catch (err) {
      return { n: c.n, exit: follow?.code ?? null, error: err instanceof Error ? err.message : String(err), ...(follow ? { stderr: follow.stderr.slice(-2000) } : {}) };
    }
  }
}

describe.runIf(run)('killed after every mutating request of a two-region setup', () => {
  const dirty: Record<Check, Dirty[]> = { teardown: [], rerun: [] };
  const tried: Record<Check, number> = { teardown: 0, rerun: 0 };
  let total = 0;
  const counted: number[] = [];
  let worlds: CrashWorld[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    worlds = await Promise.all(Array.from({ length: POOL }, () => CrashWorld.start()));
    // The uninterrupted setups first (they tell how many N there are), and N = 1 for worlds that would wait.
    const queue: Case[] = [
      { n: Infinity, check: 'teardown' },
      { n: Infinity, check: 'rerun' },
      { n: 1, check: 'teardown' },
      { n: 1, check: 'rerun' },
    ];
    let resolveTotal: (n: number) => void = () => {};
    const known = new Promise<number>((r) => (resolveTotal = r));
    let filled = false;
    const onCount = (n: number) => {
      counted.push(n);
      resolveTotal(n);
    };
    const next = async (): Promise<Case | undefined> => {
      const c = queue.shift();
      if (c || filled) return c;
      total = await known;
      if (!filled) {
        filled = true;
        // The rest, longest first (a later kill means a longer setup), so that no world is left with a long one at the end.
        for (let n = total - 1; n >= 2; n--) queue.push({ n, check: 'teardown' }, { n, check: 'rerun' });
        if (ONLY.length > 0) queue.splice(0, queue.length, ...queue.filter((q) => ONLY.includes(q.n)));
      }
      return queue.shift();
    };
    await Promise.all(
      worlds.map(async (cw) => {
        for (let c = await next(); c; c = await next()) {
          tried[c.check]++;
          const d = await cw.runCase(c, onCount);
          if (d) dirty[c.check].push(d);
        }
      }),
    );
    process.stderr.write(
      `crash sweep: N = 1..${total} (${tried.teardown} teardown cases, ${tried.rerun} re-run cases) on ${POOL} worlds in ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
        `teardown clean in ${tried.teardown - dirty.teardown.length}, re-run with exactly one of each in ${tried.rerun - dirty.rerun.length}\n`,
    );
  }, 900_000);
  afterAll(async () => {
    await Promise.all(worlds.map((cw) => cw.world.stop()));
  });

  it.skipIf(ONLY.length > 0)('every N was tried, for both checks', () => {
    expect(total).toBeGreaterThanOrEqual(20);
    // Both uninterrupted setups made the same number of mutating requests.
    expect(counted).toEqual([total, total]);
    expect(tried).toEqual({ teardown: total, rerun: total });
  });

  it('for every N, teardown afterwards leaves nothing in any service, no record, nothing at FortiCNAPP, and cluster logging as before', () => {
    expect(dirty.teardown.sort((a, b) => a.n - b.n)).toEqual([]);
  });

  it('for every N, running setup again finishes with exactly one of each resource and one record', () => {
    expect(dirty.rerun.sort((a, b) => a.n - b.n)).toEqual([]);
  });

  // The sweep meets this only when the requests happen to come in this order: killed after the key is made and
  // before it has its alias. The re-run adopts that key; it must not then also remove it as one left behind.
  it('killed between CreateKey and CreateAlias: the re-run keeps the key it adopts (not scheduled for deletion)', async () => {
    const cw = worlds[0] as CrashWorld;
    const { world } = cw;
    await cw.seed();
    let pid = 0;
    let killed = false;
    world.proxy.resetCalls();
    world.proxy.onMutating((_n, call) => {
      if (!killed && call.action !== 'EnableKeyRotation') return undefined;
      if (!killed) process.kill(pid, 'SIGKILL');
      killed = true;
      return 'hold';
    });
    const r = await cw.cli(setupArgs(world), { onSpawn: (p) => (pid = p) });
    await settled(world.proxy);
    world.proxy.onMutating(null);
    expect(r.code).toBe(137);
    const half = await inventory(world, SCOPE);
    expect([half.kmsKeys.length, half.kmsAliases.length]).toEqual([1, 0]);
    const again = await cw.cli(setupArgs(world));
    expect(again.code, again.stderr).toBe(0);
    const { inv } = await cw.look();
    expect(counts(inv)).toEqual(ONE_WITH_RECORD);
    // The key the alias names is the one the crashed run made, and it is enabled.
    expect(inv.kmsKeys).toEqual(half.kmsKeys);
  }, 120_000);
});
