/** `permissions`: the IAM policy the person running the tool needs, derived from the calls the code declares. */
import { checkPrefix } from '../../config/validate.js';
import { UsageError } from '../../errors.js';
import type { Report } from '../report.js';
import type { Session } from '../session.js';

export async function permissionsCommand(opts: { prefix?: string }, s: Session): Promise<Report> {
  if (opts.prefix !== undefined) {
    const p = checkPrefix(opts.prefix);
    if (p) throw new UsageError(p);
  }
  const { permissionsPolicy } = await import('../../provision/permissions.js');
  const policy = permissionsPolicy(opts.prefix);
  if (s.o.json) return { command: 'permissions', status: 'ok', exitCode: 0, fields: { policy }, lines: [] };
  // stdout holds only the document, so `permissions > policy.json` is ready for `aws iam create-policy`.
  s.o.err.write(
    s.o.c.dim(
      `The IAM policy for the person running setup, plan, status, list and teardown (details: docs/permissions.md).\n` +
        `Resources are scoped to the prefix ${opts.prefix ?? 'lw-eks-al'} (--prefix to change). --existing-* resources need the same actions on them.\n`,
    ),
  );
  s.o.out.write(JSON.stringify(policy, null, 2) + '\n');
  return { command: 'permissions', status: 'ok', exitCode: 0, fields: {}, lines: [] };
}
