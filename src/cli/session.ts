/** What every command body needs: output, interactivity, state dir, and Ctrl+C handling. */
import { defaultStateDir } from '../journal/journal.js';
import { UserAbort } from '../errors.js';
import { makeOutput, type Output } from './render.js';

export interface Session {
  o: Output;
  interactive: boolean;
  stateDir: string;
  /** Aborted on the first SIGINT/SIGTERM; a second one exits at once (the journal is durable). */
  signal: AbortSignal;
  /** Stop listening for signals. */
  done(): void;
}

export function startSession(opts: { json?: boolean; color?: boolean; nonInteractive?: boolean; stateDir?: string }, env = process.env): Session {
  const o = makeOutput(opts, env);
  const interactive = !opts.nonInteractive && !env.LW_NONINTERACTIVE && !!process.stdin.isTTY && !!process.stdout.isTTY && !opts.json;
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
    stateDir: opts.stateDir ?? defaultStateDir(env),
    signal: controller.signal,
    done() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** A yes/no question (default No). Ctrl+C at it is a UserAbort. */
export async function confirm(message: string): Promise<boolean> {
  const { confirm: ask } = await import('../wizard/inquirer.js');
  try {
    return await ask({ message, default: false });
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') throw new UserAbort();
    throw err;
  }
}
