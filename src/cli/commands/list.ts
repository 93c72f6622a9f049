/** `list`: the deployments of the account (their records) and those an earlier version's journals here know; with --discover, whatever is still tagged as ours. Torn-down ones are not listed. */
import { UsageError } from '../../errors.js';
import { createAwsClients } from '../../aws/clients.js';
import { deploymentFlagProblems } from '../flags.js';
import { teardownCommand, type InForce } from '../hints.js';
import type { Report } from '../report.js';
import type { Session } from '../session.js';

export interface ListOptions {
  region?: string[];
  discover?: boolean;
  awsProfile?: string;
}

export async function listCommand(opts: ListOptions, s: Session): Promise<Report> {
  const { o } = s;
  const problems = deploymentFlagProblems(opts);
  const regionHint = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  const regions = [...new Set([...(opts.region ?? []), ...(regionHint ? [regionHint] : [])])];
  if (opts.discover && regions.length === 0) problems.push('list --discover needs the regions to search: --region <region> (repeatable).');
  if (problems.length > 0) throw new UsageError(problems);
  const aws = createAwsClients({ ...(opts.awsProfile ? { profile: opts.awsProfile } : {}) });
  const { listDeployments } = await import('../../provision/deployment.js');
  const rows = await listDeployments({ aws, stateDir: s.stateDir, ...(regionHint ? { regionHint } : {}) }, { regions, discover: !!opts.discover });
  const lines: string[] = [];
  if (!o.json) {
    if (rows.length === 0) lines.push(`No deployments in this AWS account${regions.length ? ` (looked in ${regions.join(', ')})` : ''} or in ${s.stateDir}.`);
    for (const r of rows) {
      const parts = [r.deploymentId, `account ${r.accountId}`];
      if (r.prefix) parts.push(`prefix ${r.prefix}`);
      if (r.homeRegion) parts.push(`home ${r.homeRegion}`);
      if (r.clusters !== undefined) parts.push(`${r.clusters} cluster${r.clusters === 1 ? '' : 's'}`);
      if (r.integration) parts.push(`integration ${r.integration.name}`);
      if (r.source === 'tags') parts.push(`no record: ${r.resources ?? 0} tagged resources left`);
      if (r.source === 'journal') parts.push('made by an earlier version (journal here)');
      lines.push(parts.join('  '));
      if (r.journal) lines.push(o.c.dim(`    journal ${r.journal}`));
      if (r.source === 'tags') {
        const inForce: InForce = { stateDir: s.stateDir, ...(opts.awsProfile ? { awsProfile: opts.awsProfile } : {}), deploymentId: r.deploymentId };
        lines.push(o.c.dim(`    remove it: ${teardownCommand(inForce, ['--discover', ...regions.flatMap((x) => ['--region', x])])}`));
      }
    }
  }
  return { command: 'list', status: 'ok', exitCode: 0, fields: { deployments: rows }, lines };
}
