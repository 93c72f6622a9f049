/** `plan`: the inputs of setup, read against the account; every create, change, replacement, removal and conflict, with the names setup will use. Changes nothing. */
import type { SetupOptions } from '../../config/resolve.js';
import { jsonPlanItem, planLines, type Report } from '../report.js';
import { planFromOptions } from '../setup-plan.js';
import type { Session } from '../session.js';

/** Exit 0 with the plan; 2 when a conflict would stop setup (the whole plan is still shown). */
export async function planCommand(opts: SetupOptions, s: Session, argv: string[]): Promise<Report> {
  const planned = await planFromOptions(opts, s, 'plan', argv);
  if ('organization' in planned) {
    const { organizationCommand } = await import('../organization.js');
    return organizationCommand('plan', { ...opts, organization: true, regions: planned.organization.regions.join(','), allClusters: true }, s, argv, planned);
  }
  const { sp } = planned;
  const header = `Deployment ${sp.deploymentId} in AWS account ${sp.accountId} (home region ${sp.homeRegion})`;
  const lines = s.o.json ? [] : [...sp.notes, ...planLines(header, sp.plan.items, sp.conflicts)];
  if (!s.o.json) lines.push(sp.conflicts.length > 0 ? 'Setup cannot start until the conflicts are resolved.' : sp.plan.hasChanges ? 'Nothing was changed (this is a plan).' : 'Everything is up to date: setup would change nothing.');
  const fields = {
    deploymentId: sp.deploymentId,
    accountId: sp.accountId,
    homeRegion: sp.homeRegion,
    resources: sp.plan.items.filter((i) => !(i.action === 'remove' && i.absent)).map(jsonPlanItem),
    conflicts: sp.conflicts,
    ...(sp.notes.length ? { notes: sp.notes } : {}),
  };
  if (sp.conflicts.length > 0) {
    return { command: 'plan', status: 'failed', exitCode: 2, fields, lines, error: { code: 'PreflightFailed', message: `${sp.conflicts.length} conflict${sp.conflicts.length === 1 ? '' : 's'} would stop setup (marked in the plan).` } };
  }
  return { command: 'plan', status: 'ok', exitCode: 0, fields, lines };
}
