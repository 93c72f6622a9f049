/** Interactive wizard (issue 3). Until it lands, a terminal run takes the flags path and only confirms the plan. */
import type { Session } from '../cli/session.js';
import type { Gathered } from '../cli/commands/setup.js';
import type { SetupOptions } from './resolve.js';

export async function runWizard(opts: SetupOptions, _s: Session, command: 'setup' | 'plan'): Promise<Gathered> {
  const { gatherFromFlags } = await import('../cli/commands/setup.js');
  // The confirmation question stands in for --yes on a terminal.
  return gatherFromFlags({ ...opts, yes: true }, command);
}
