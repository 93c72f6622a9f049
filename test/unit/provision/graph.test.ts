/**
 * The one dependency graph (DESIGN §3), walked forward for apply and in reverse for rollback and teardown:
 * order, concurrency of what is ready, longest chain first, what a failure skips, stopOnFailure, abort, and
 * a cycle refused before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { walk, type GraphNode } from '../../../src/provision/graph.js';

const node = (key: string, needs: string[] = [], weight?: number): GraphNode => ({ key, needs, ...(weight !== undefined ? { weight } : {}) });

/** A visit that logs start and end, and lets every other ready node start before it ends. */
function recorder(fail: Record<string, unknown> = {}) {
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const visit = async (n: GraphNode) => {
    log.push(`start ${n.key}`);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setImmediate(r));
    running--;
    if (n.key in fail) {
      log.push(`fail ${n.key}`);
      throw fail[n.key];
    }
    log.push(`end ${n.key}`);
  };
  return { log, visit, max: () => maxRunning, starts: () => log.filter((l) => l.startsWith('start ')).map((l) => l.slice(6)) };
}

const before = (log: string[], a: string, b: string) => {
  expect(log.indexOf(a), `${a} in ${log.join(', ')}`).toBeGreaterThanOrEqual(0);
  expect(log.indexOf(b), `${b} in ${log.join(', ')}`).toBeGreaterThanOrEqual(0);
  expect(log.indexOf(a), `${a} before ${b}: ${log.join(', ')}`).toBeLessThan(log.indexOf(b));
};

// role -> key -> bucket -> topic -> notification; stream needs role and bucket; filter needs stream.
const pipeline = (): GraphNode[] => [
  node('filter', ['stream', 'logging']),
  node('notification', ['bucket', 'topic']),
  node('topic', ['key']),
  node('stream', ['role', 'bucket']),
  node('bucket', ['key']),
  node('key', ['role']),
  node('role'),
  node('logging'),
];

describe('walk forward', () => {
  it('starts a node only after everything it needs is done', async () => {
    const r = recorder();
    const out = await walk(pipeline(), 'forward', r.visit, { stopOnFailure: true });
    expect([...out.done].sort()).toEqual(['bucket', 'filter', 'key', 'logging', 'notification', 'role', 'stream', 'topic']);
    expect(out.failed.size).toBe(0);
    expect(out.skipped.size).toBe(0);
    for (const n of pipeline()) for (const need of n.needs) before(r.log, `end ${need}`, `start ${n.key}`);
  });

  it('runs what is ready at the same time', async () => {
    const r = recorder();
    await walk([node('a'), node('b'), node('c'), node('d', ['a', 'b', 'c'])], 'forward', r.visit, { stopOnFailure: true });
    expect(r.max()).toBe(3);
    expect(r.starts()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats needs outside the walk as done, and ignores a node needing itself', async () => {
    const r = recorder();
    const out = await walk([node('a', ['not-in-this-walk']), node('b', ['b', 'a'])], 'forward', r.visit, { stopOnFailure: true });
    expect([...out.done]).toEqual(['a', 'b']);
  });

  it('starts the longest chain first (weights add up along the chain)', async () => {
    const r = recorder();
    // 'short' alone weighs 10; 'head' -> 'slow' weighs 1 + 40. Both are ready at once: the chain goes first.
    await walk([node('short', [], 10), node('head', [], 1), node('slow', ['head'], 40), node('light', [])], 'forward', r.visit, { stopOnFailure: true });
    expect(r.starts().slice(0, 3)).toEqual(['head', 'short', 'light']);
  });

  it('counts a default weight of 1 per node: a long chain of light nodes beats a single one', async () => {
    const r = recorder();
    await walk([node('single'), node('c1'), node('c2', ['c1']), node('c3', ['c2'])], 'forward', r.visit, { stopOnFailure: false });
    expect(r.starts()[0]).toBe('c1');
  });

  it('after a failure, skips what waits on it; with stopOnFailure, starts nothing new at all', async () => {
    const boom = new Error('boom');
    const r = recorder({ key: boom });
    const out = await walk(pipeline(), 'forward', r.visit, { stopOnFailure: true });
    expect(out.failed.get('key')).toBe(boom);
    // 'logging' and 'role' started with the first wave; nothing started after the failure.
    expect([...out.done].sort()).toEqual(['logging', 'role']);
    expect([...out.skipped].sort()).toEqual(['bucket', 'filter', 'notification', 'stream', 'topic']);
    expect(r.starts()).not.toContain('bucket');
  });

  it('without stopOnFailure, goes on with everything that does not depend on the failure', async () => {
    const r = recorder({ topic: new Error('no topic') });
    const out = await walk(pipeline(), 'forward', r.visit, { stopOnFailure: false });
    expect([...out.failed.keys()]).toEqual(['topic']);
    expect([...out.skipped]).toEqual(['notification']);
    expect([...out.done].sort()).toEqual(['bucket', 'filter', 'key', 'logging', 'role', 'stream']);
  });

  it('skips what depends on a skipped node, transitively', async () => {
    const r = recorder({ a: new Error('a') });
    const out = await walk([node('a'), node('b', ['a']), node('c', ['b']), node('d', ['c']), node('x')], 'forward', r.visit, { stopOnFailure: false });
    expect([...out.skipped].sort()).toEqual(['b', 'c', 'd']);
    expect([...out.done]).toEqual(['x']);
  });

  it('calls onFirstFailure once, with the first failure, while the others still run', async () => {
    const seen: string[] = [];
    const r = recorder({ a: new Error('a'), b: new Error('b') });
    const out = await walk([node('a'), node('b'), node('c')], 'forward', r.visit, {
      stopOnFailure: false,
      onFirstFailure: (key) => seen.push(key),
    });
    expect(seen).toEqual(['a']);
    expect(out.failed.size).toBe(2);
    expect([...out.done]).toEqual(['c']);
  });

  it('starts nothing once the signal is aborted; what did not start is skipped', async () => {
    const ac = new AbortController();
    const started: string[] = [];
    const out = await walk(
      [node('a'), node('b', ['a']), node('c', ['b'])],
      'forward',
      async (n) => {
        started.push(n.key);
        if (n.key === 'a') ac.abort();
      },
      { stopOnFailure: true, signal: ac.signal },
    );
    expect(started).toEqual(['a']);
    expect([...out.done]).toEqual(['a']);
    expect([...out.skipped].sort()).toEqual(['b', 'c']);
  });

  it('an empty graph is done at once', async () => {
    expect(await walk([], 'forward', async () => {}, { stopOnFailure: true })).toEqual({ done: new Set(), failed: new Map(), skipped: new Set() });
  });
});

describe('walk reverse', () => {
  it('removes a node only after everything that needs it is gone', async () => {
    const r = recorder();
    const out = await walk(pipeline(), 'reverse', r.visit, { stopOnFailure: false });
    expect(out.done.size).toBe(8);
    for (const n of pipeline()) for (const need of n.needs) before(r.log, `end ${n.key}`, `start ${need}`);
  });

  it('starts the longest chain of removals first', async () => {
    const r = recorder();
    // Reversed, 'leaf' -> 'mid' -> 'root' is the long chain; 'lonely' stands alone.
    await walk([node('root'), node('mid', ['root']), node('leaf', ['mid']), node('lonely', [], 2)], 'reverse', r.visit, { stopOnFailure: false });
    expect(r.starts()).toEqual(['leaf', 'lonely', 'mid', 'root']);
  });

  it('keeps what a failed removal still needs, and removes the rest', async () => {
    const r = recorder({ stream: new Error('in use') });
    const out = await walk(pipeline(), 'reverse', r.visit, { stopOnFailure: false });
    expect([...out.failed.keys()]).toEqual(['stream']);
    // The stream needs the role and the bucket; the key is needed by the bucket.
    expect([...out.skipped].sort()).toEqual(['bucket', 'key', 'role']);
    expect([...out.done].sort()).toEqual(['filter', 'logging', 'notification', 'topic']);
  });
});

describe('cycles', () => {
  it('refuses a dependency cycle before visiting anything, naming a node on it', async () => {
    const visited: string[] = [];
    const nodes = [node('a', ['c']), node('b', ['a']), node('c', ['b']), node('free')];
    for (const direction of ['forward', 'reverse'] as const) {
      await expect(walk(nodes, direction, async (n) => void visited.push(n.key), { stopOnFailure: false })).rejects.toThrow(/dependency cycle through [abc]/);
    }
    expect(visited).toEqual([]);
  });

  it('refuses a two-node cycle', async () => {
    await expect(walk([node('a', ['b']), node('b', ['a'])], 'forward', async () => {}, { stopOnFailure: true })).rejects.toThrow(/dependency cycle/);
  });
});
