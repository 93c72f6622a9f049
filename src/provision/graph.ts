/**
 * One dependency graph, walked both ways (DESIGN §3): forward for apply (a node starts once everything it
 * needs is done), in reverse for rollback and teardown (a node goes once everything that needs it is gone;
 * the arrows are reversed, as aws-cdk's buildDestroyWorkGraph does). No hand-kept order.
 *
 * Every node that is ready starts at once: most of the work is waiting (an EKS update, a stream becoming
 * ACTIVE, IAM propagation), and the requests themselves are bounded by the client factory. Ready nodes
 * start longest chain first, so the critical path queues first.
 */

export interface GraphNode {
  key: string;
  /** Keys this node needs (keys not in the walk count as done). */
  needs: string[];
  /** Typical duration in seconds, for "longest chain first". @default 1 */
  weight?: number;
}

export type Direction = 'forward' | 'reverse';

export interface WalkResult {
  done: Set<string>;
  failed: Map<string, unknown>;
  /** Not started: something it waits on failed, or the walk stopped. */
  skipped: Set<string>;
}

export interface WalkOptions {
  /** After a failure, start nothing new (apply). Otherwise only what waits on the failure is skipped (teardown). */
  stopOnFailure: boolean;
  /** Once aborted, nothing new starts. */
  signal?: AbortSignal;
  /** Called once with the first failure, before the walk waits for what is running (apply aborts their waits). */
  onFirstFailure?(key: string, err: unknown): void;
}

/** For each node, the keys it waits on in this direction. */
function prerequisites<N extends GraphNode>(nodes: N[], direction: Direction): Map<string, Set<string>> {
  const keys = new Set(nodes.map((n) => n.key));
  const pre = new Map<string, Set<string>>(nodes.map((n) => [n.key, new Set<string>()]));
  for (const n of nodes) {
    for (const need of n.needs) {
      if (!keys.has(need) || need === n.key) continue;
      if (direction === 'forward') pre.get(n.key)?.add(need);
      else pre.get(need)?.add(n.key);
    }
  }
  return pre;
}

/** Weight of the longest chain that starts at each node, in walk order. */
function chainWeights<N extends GraphNode>(nodes: N[], pre: Map<string, Set<string>>): Map<string, number> {
  const after = new Map<string, string[]>(nodes.map((n) => [n.key, []]));
  for (const [k, ps] of pre) for (const p of ps) after.get(p)?.push(k);
  const weight = new Map(nodes.map((n) => [n.key, n.weight ?? 1]));
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const chain = (k: string): number => {
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    if (visiting.has(k)) throw new Error(`dependency cycle through ${k}`);
    visiting.add(k);
    const w = (weight.get(k) ?? 1) + Math.max(0, ...(after.get(k) ?? []).map(chain));
    visiting.delete(k);
    memo.set(k, w);
    return w;
  };
  for (const n of nodes) chain(n.key);
  return memo;
}

/**
 * Visits every node in dependency order.
 * @throws Error on a dependency cycle (a bug in the modules' `needs`), before anything runs.
 */
export async function walk<N extends GraphNode>(nodes: N[], direction: Direction, visit: (node: N) => Promise<void>, opts: WalkOptions): Promise<WalkResult> {
  const pre = prerequisites(nodes, direction);
  const priority = chainWeights(nodes, pre);
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const done = new Set<string>();
  const failed = new Map<string, unknown>();
  const skipped = new Set<string>();
  const pending = new Set(nodes.map((n) => n.key));
  const running = new Map<string, Promise<void>>();

  const stopped = () => opts.signal?.aborted || (opts.stopOnFailure && failed.size > 0);
  for (;;) {
    if (!stopped()) {
      const ready = [...pending]
        .filter((k) => [...(pre.get(k) ?? [])].every((p) => done.has(p)))
        .sort((a, b) => (priority.get(b) ?? 0) - (priority.get(a) ?? 0));
      for (const k of ready) {
        pending.delete(k);
        const node = byKey.get(k) as N;
        running.set(
          k,
          visit(node).then(
            () => {
              done.add(k);
              running.delete(k);
            },
            (err: unknown) => {
              if (failed.size === 0) opts.onFirstFailure?.(k, err);
              failed.set(k, err);
              running.delete(k);
            },
          ),
        );
      }
      // What waits on a failure can never run.
      let changed = true;
      while (changed) {
        changed = false;
        for (const k of [...pending]) {
          if ([...(pre.get(k) ?? [])].some((p) => failed.has(p) || skipped.has(p))) {
            pending.delete(k);
            skipped.add(k);
            changed = true;
          }
        }
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const k of pending) skipped.add(k);
  return { done, failed, skipped };
}
