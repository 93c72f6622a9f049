/** `teardown --discover` (issue 4): finds a deployment's resources by tags and names when the journal is lost. */
import { UsageError } from '../../errors.js';
import type { Session } from '../session.js';

export async function discoverCommand(_opts: Record<string, unknown>, _s: Session): Promise<number> {
  throw new UsageError("'teardown --discover' is not available in this version; run teardown with the journal (--state-dir).", 'NotImplemented');
}
