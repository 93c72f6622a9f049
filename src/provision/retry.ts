/**
 * Waiting for AWS to catch up (DESIGN §3 "Retries"). Throttling and 5xx are the SDK's retry strategy's
 * job (src/aws/clients.ts). What is left is eventual consistency: a role, key or topic made moments ago
 * that another service cannot use yet, and resources that take time (a stream becoming ACTIVE, an EKS
 * logging update). Both use short, capped, jittered steps with an overall deadline, so a retry lands within
 * about 2 s of the moment the thing becomes usable (issue 11 item 9), and every wait that runs out says
 * what it waited for.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import pRetry from 'p-retry';
import { createWaiter, WaiterState } from '@smithy/util-waiter';
import { AppError, UserAbort } from '../errors.js';
import { backoffScale } from '../aws/backoff.js';
import { describeAwsError, notYetUsable } from '../aws/errors.js';

/** What a retry or a wait needs of its caller. */
export interface WaitContext {
  signal: AbortSignal;
  /** A note shown as progress ("waiting for …"). */
  progress(message: string): void;
}

export interface RetryOptions {
  /** What is being waited for, as the end of "Timed out after 60 s waiting for <what>". */
  what: string;
  /** Give up after this long (ms, before scaling). @default 180000 */
  deadlineMs?: number;
  /** First pause (ms, before scaling). @default 500 */
  minDelayMs?: number;
  /** Longest pause (ms, before scaling). @default 2000 */
  maxDelayMs?: number;
  /** Which errors mean "not yet". @default notYetUsable (src/aws/errors.ts: every known wording in one place) */
  retryable?: (err: unknown) => boolean;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new UserAbort();
}

/**
 * Calls `fn` until it succeeds, retrying while the error is a "not yet usable" answer.
 * @throws the error itself when it is not retryable; AppError `WaitTimeout` naming `what` and the last AWS
 *   answer when the deadline passes; the signal's reason when aborted.
 */
export async function retryWhileNotReady<T>(ctx: WaitContext, fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const scale = backoffScale();
  const retryable = opts.retryable ?? notYetUsable;
  const deadline = (opts.deadlineMs ?? 180_000) * scale;
  const started = performance.now();
  try {
    return await pRetry(fn, {
      retries: Number.POSITIVE_INFINITY,
      factor: 2,
      minTimeout: Math.max(1, (opts.minDelayMs ?? 500) * scale),
      maxTimeout: Math.max(1, (opts.maxDelayMs ?? 2000) * scale),
      randomize: true,
      maxRetryTime: deadline,
      signal: ctx.signal,
      shouldRetry: ({ error }) => retryable(error),
      onFailedAttempt: ({ error }) => {
        if (retryable(error)) ctx.progress(`waiting for ${opts.what}`);
      },
    });
  } catch (err) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    if (retryable(err)) {
      const s = Math.round((performance.now() - started) / 1000);
      throw new AppError('WaitTimeout', `Timed out after ${s} s waiting for ${opts.what}: ${describeAwsError(err)}`, { cause: err });
    }
    throw err;
  }
}

export interface PollOptions {
  what: string;
  /** Give up after this long (ms, before scaling). */
  deadlineMs: number;
  /** @default 1000 */
  minDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
}

/**
 * Polls `check` until it returns a value (not undefined), with the SDK's waiter backoff (jittered,
 * capped). `check` may throw to fail at once (e.g. CREATING_FAILED).
 * @throws AppError `WaitTimeout` naming `what`; the signal's reason when aborted.
 */
export async function pollUntil<T>(ctx: WaitContext, check: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const scale = backoffScale();
  let value: T | undefined;
  const minDelay = ((opts.minDelayMs ?? 1000) * scale) / 1000;
  const maxDelay = Math.max(minDelay, ((opts.maxDelayMs ?? 5000) * scale) / 1000);
  const started = performance.now();
  let polls = 0;
  const result = await createWaiter(
    { client: {}, minDelay, maxDelay, maxWaitTime: Math.max(minDelay * 2, (opts.deadlineMs * scale) / 1000), abortSignal: ctx.signal },
    undefined,
    async () => {
      if (polls++ > 0) ctx.progress(`waiting for ${opts.what}`);
      value = await check();
      return { state: value === undefined ? WaiterState.RETRY : WaiterState.SUCCESS };
    },
  );
  if (result.state === WaiterState.SUCCESS) return value as T;
  if (ctx.signal.aborted) throw abortReason(ctx.signal);
  const s = Math.round((performance.now() - started) / 1000);
  throw new AppError('WaitTimeout', `Timed out after ${s} s waiting for ${opts.what}.`);
}

/** A pause that ends early (rejecting with the signal's reason) when the signal aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleepFor(ms * backoffScale(), undefined, { signal }).catch(() => {
    throw abortReason(signal);
  });
}
