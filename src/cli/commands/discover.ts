/**
 * `teardown --discover` (DESIGN §4): the journal is lost, so the deployment is found in AWS by its tags and
 * deterministic names, and at FortiCNAPP by the integration list, then removed in teardown order. Cluster
 * logging is left as it is (nothing records its state before setup) and the output says so.
 */
import { UsageError, UserAbort } from '../../errors.js';
import { checkRegion } from '../../config/regions.js';
import { checkPrefix } from '../../config/validate.js';
import { DEPLOYMENT_ID_SHAPE } from '../../config/naming.js';
import { kindLabel } from '../../plan/format.js';
import { discover, discoveryClients, teardownDiscovered } from '../../provision/discover.js';
import { confirm, type Session } from '../session.js';
import { printJson, progressPrinter, say } from '../render.js';
import { reportTeardown, teardownCommandLine, teardownCredentials, type TeardownOptions } from './teardown.js';

/** The `--discover` path of `teardown`, in the session teardown started; returns the exit code. */
export async function discoverCommand(rawOpts: Record<string, unknown>, s: Session): Promise<number> {
  const opts = rawOpts as TeardownOptions;
  const { o } = s;
  const problems: string[] = [];
  for (const r of opts.region ?? []) {
    const p = checkRegion(r);
    if (p) problems.push(`--region: ${p}`);
  }
  if (opts.prefix !== undefined) {
    const p = checkPrefix(opts.prefix);
    if (p) problems.push(p);
  }
  if (opts.deployment !== undefined && !DEPLOYMENT_ID_SHAPE.test(opts.deployment)) {
    problems.push(`--deployment '${opts.deployment}' is not a deployment id (8 hex characters, as in the resource names, e.g. lw-eks-al-ca-1a2b3c4d).`);
  }
  // The integration can only be found (and deleted) at FortiCNAPP; removing the AWS side alone would leave
  // a registration that fails forever.
  const c = await teardownCredentials(opts, 'They are needed to find and delete the FortiCNAPP integration.');
  problems.push(...c.problems);
  if (!s.interactive && !opts.yes) {
    problems.push('--yes is required when not interactive: teardown deletes resources and nobody is there to confirm.');
  }
  if (problems.length > 0) throw new UsageError(problems);

  const req = { stateDir: s.stateDir, awsProfile: opts.awsProfile, deploymentId: opts.deployment, regions: opts.region, prefix: opts.prefix, credentials: c.credentials };
  const { aws, lacework } = discoveryClients(req);
  if (!o.json) say(o, o.c.dim('Looking for the deployment in AWS (tags and names) and at FortiCNAPP…'));
  const found = await discover(req, aws, lacework);
  const searched = `searched ${found.regions.join(', ')} of AWS account ${found.accountId}`;
  const extra = { discovered: true, regionsSearched: found.regions };
  if (!found.deploymentId || found.items.length === 0) {
    const what = found.deploymentId ? `Nothing of deployment ${found.deploymentId} is left` : 'No forticnapp-eks-audit deployment was found';
    const hint = found.deploymentId ? '' : ' If it lives in other regions, name them with --region.';
    if (o.json) printJson(o, { schemaVersion: 1, command: 'teardown', status: 'ok', ...(found.deploymentId ? { deploymentId: found.deploymentId } : {}), accountId: found.accountId, resources: [], ...extra, ...(found.notes.length ? { notes: found.notes } : {}) });
    else {
      say(o, `${what} (${searched}).${hint}`);
      for (const n of found.notes) say(o, `Note: ${n}`);
    }
    return 0;
  }
  const deploymentId = found.deploymentId;

  if (!opts.yes) {
    say(o, `Found deployment ${deploymentId} (${searched}${found.homeRegion ? `, home region ${found.homeRegion}` : ''}); this will be removed:`);
    for (const i of found.items) say(o, `  - ${kindLabel(i.kind)} ${i.name}${i.region !== 'global' ? ` (${i.region})` : ''}`);
    for (const n of found.notes) say(o, `Note: ${n}`);
    if (!(await confirm('Remove all of this?'))) throw new UserAbort('Cancelled; nothing was removed.');
  }
  const result = await teardownDiscovered(req, { ...found, deploymentId }, aws, lacework, { emit: progressPrinter(o), signal: s.signal });
  const regionFlags = found.regions.flatMap((r) => ['--region', r]);
  return reportTeardown(s, {
    deploymentId,
    accountId: found.accountId,
    homeRegion: found.homeRegion,
    journal: result.journalPath,
    results: result.results,
    errors: result.errors,
    notes: found.notes,
    again: teardownCommandLine(s, opts, deploymentId, ['--discover', ...regionFlags, ...(opts.prefix ? ['--prefix', opts.prefix] : [])]),
    extra,
  });
}
