/**
 * Bounded exponential backoff for eventual consistency (IAM propagation, a stream becoming ACTIVE).
 * Throttling and 5xx are the SDK's retry strategy's job; these loops handle what the SDK cannot know
 * is temporary. Every wait has a timeout whose message says what was being waited for.
 */
import { AppError } from '../errors.js';
import { describeAwsError } from '../aws/errors.js';
import type { BaseContext } from './step.js';

export interface BackoffOptions {
  /** What we are waiting for, as the end of "Timed out after 120 s waiting for <what>". */
  what: string;
  timeoutMs: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** Test and benchmark hook: scales every backoff delay (e.g. 0.01 under moto, where nothing is slow). */
export function backoffScale(): number {
  const s = Number(process.env.FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

function delays(opts: BackoffOptions): () => number {
  const scale = backoffScale();
  let next = (opts.firstDelayMs ?? 1000) * scale;
  const max = (opts.maxDelayMs ?? 15_000) * scale;
  return () => {
    const d = next;
    next = Math.min(max, next * 2);
    // Full jitter around the nominal delay keeps parallel waiters from marching in step.
    return d / 2 + Math.random() * (d / 2);
  };
}

/** Calls fn until it succeeds; retries while `retryable(err)` holds, until the timeout. */
export async function retryWhile<T>(
  ctx: BaseContext,
  fn: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  opts: BackoffOptions,
): Promise<T> {
  const start = Date.now();
  const next = delays(opts);
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err)) throw err;
      const elapsed = Date.now() - start;
      if (elapsed >= opts.timeoutMs * backoffScale()) {
        throw new AppError('WaitTimeout', `Timed out after ${Math.round(elapsed / 1000)} s waiting for ${opts.what}: ${describeAwsError(err)}`, { cause: err });
      }
      ctx.progress(`waiting for ${opts.what}`);
      await ctx.sleep(next());
    }
  }
}

/** Polls `check` until it returns a value other than undefined, or the timeout. */
export async function pollUntil<T>(ctx: BaseContext, check: () => Promise<T | undefined>, opts: BackoffOptions): Promise<T> {
  const start = Date.now();
  const next = delays({ firstDelayMs: 500, maxDelayMs: 5000, ...opts });
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    const elapsed = Date.now() - start;
    if (elapsed >= opts.timeoutMs * backoffScale()) {
      throw new AppError('WaitTimeout', `Timed out after ${Math.round(elapsed / 1000)} s waiting for ${opts.what}.`);
    }
    ctx.progress(`waiting for ${opts.what}`);
    await ctx.sleep(next());
  }
}

/** A sleep that rejects when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason ?? new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
