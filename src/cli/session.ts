/** What every command body needs: output, interactivity, state dir, and Ctrl+C handling. */
import { UserAbort } from '../errors.js';
import { envFlag } from '../config/validate.js';
import { checkStateDir, defaultStateDir } from '../state/journal.js';
import { makeOutput, type Output } from './render.js';

export interface Session {
  o: Output;
  /** A person is there to answer: stdin and stdout are terminals, no --non-interactive, LW_NONINTERACTIVE off, no --json. */
  interactive: boolean;
  stateDir: string;
  /** The state dir was given (flag or environment), not the default. */
  stateDirGiven: boolean;
  /** Aborted on the first SIGINT/SIGTERM; a second one exits at once (the journal is durable). */
  signal: AbortSignal;
  /** Stop listening for signals. */
  done(): void;
}

/**
 * Starts a command's session.
 * @throws UsageError `BadInput` (exit 2) when the state dir is a file.
 */
export function startSession(opts: { json?: boolean; color?: boolean; nonInteractive?: boolean; stateDir?: string }, env = process.env): Session {
  const o = makeOutput(opts, env);
  const interactive = !opts.nonInteractive && !envFlag(env, 'LW_NONINTERACTIVE') && !!process.stdin.isTTY && !!process.stdout.isTTY && !opts.json;
  const stateDir = opts.stateDir ?? defaultStateDir(env);
  // commander takes --state-dir from FORTICNAPP_EKS_AUDIT_STATE_DIR too: name the one the path came from.
  checkStateDir(stateDir, opts.stateDir === undefined ? 'the default state directory' : opts.stateDir === env.FORTICNAPP_EKS_AUDIT_STATE_DIR ? 'FORTICNAPP_EKS_AUDIT_STATE_DIR' : '--state-dir');
  const controller = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      o.err.write(`\n${sig === 'SIGINT' ? 'Interrupted' : 'Terminated'}: stopping after the current call (press Ctrl+C again to stop at once).\n`);
      controller.abort(new UserAbort());
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    o,
    interactive,
    stateDir,
    stateDirGiven: opts.stateDir !== undefined,
    signal: controller.signal,
    done() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** A yes/no question (default No) through the wizard's prompter. Ctrl+C at it is a UserAbort. */
export async function confirm(message: string, signal?: AbortSignal): Promise<boolean> {
  const { createPrompter } = await import('../wizard/prompter.js');
  return createPrompter(signal).confirm({ message, default: false });
}
