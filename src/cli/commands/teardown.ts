/**
 * `teardown`: removes what the deployment made, in reverse dependency order (DESIGN §4); restores cluster
 * logging where setup turned audit on; keeps log groups and says so. The deployment is found in the
 * account (its record), so any machine can tear it down. FortiCNAPP credentials are checked and everything
 * is read before the first change: a rejected key is exit 2 with nothing removed. Confirms unless --yes.
 */
import { UsageError, UserAbort } from '../../errors.js';
import { createAwsClients } from '../../aws/clients.js';
import { deploymentFlagProblems } from '../flags.js';
import type { CredentialInputs } from '../../lacework/credentials.js';
import type { TeardownPlan } from '../../provision/deployment.js';
import { laceworkConnector } from '../credentials.js';
import { teardownCommand as teardownLine, type InForce } from '../hints.js';
import { jsonResources, planLine, resultLines, teardownVerdict, type Report } from '../report.js';
import { progressPrinter, say } from '../render.js';
import { confirm, type Session } from '../session.js';

export interface TeardownOptions extends CredentialInputs {
  deployment?: string;
  prefix?: string;
  discover?: boolean;
  region?: string[];
  yes?: boolean;
  awsProfile?: string;
  json?: boolean;
}

/** Exit 0 done (or nothing to remove) · 2 bad input · 3 something left · 130 interrupted. */
export async function teardownCommand(opts: TeardownOptions, s: Session): Promise<Report> {
  const { o } = s;
  const problems = deploymentFlagProblems(opts);
  if (opts.discover && !(opts.region?.length || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION)) {
    problems.push('teardown --discover needs the regions to search: --region <region> (repeatable).');
  }
  if (!s.interactive && !opts.yes) problems.push('--yes is required when not interactive: teardown deletes resources and nobody is there to confirm.');
  if (problems.length > 0) throw new UsageError(problems);

  const aws = createAwsClients({ ...(opts.awsProfile ? { profile: opts.awsProfile } : {}) });
  const regionHint = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  const env = { aws, stateDir: s.stateDir, ...(regionHint ? { regionHint } : {}) };
  const lacework = laceworkConnector(opts, s, 'They are needed to delete the FortiCNAPP integration.');
  const connect = lacework.connect;
  const { planTeardown, planDiscoveredTeardown, applyTeardown, UNKNOWN_DEPLOYMENT } = await import('../../provision/deployment.js');
  let tp: TeardownPlan;
  try {
    tp = opts.discover
      ? await planDiscoveredTeardown(env, { ...(opts.deployment ? { deploymentId: opts.deployment } : {}), ...(opts.prefix ? { prefix: opts.prefix } : {}), regions: opts.region?.length ? opts.region : [regionHint as string], connect })
      : await planTeardown(env, { ...(opts.deployment ? { deploymentId: opts.deployment } : {}), ...(opts.prefix ? { prefix: opts.prefix } : {}), connect });
  } catch (err) {
    // Nothing recorded and nothing found: there is nothing to remove (a repeated teardown succeeds).
    if (err instanceof UsageError && err.code === UNKNOWN_DEPLOYMENT && !opts.discover) {
      return { command: 'teardown', status: 'ok', exitCode: 0, fields: { resources: [] }, lines: [`Nothing to remove: ${err.problems.join(' ')}`] };
    }
    throw err;
  }
  const inForce: InForce = {
    stateDir: s.stateDir,
    ...(opts.awsProfile ? { awsProfile: opts.awsProfile } : {}),
    ...(lacework.used.keyFile ? { apiKeyFile: lacework.used.keyFile } : {}),
    ...(lacework.used.profile && opts.profile ? { profile: lacework.used.profile } : {}),
    prefix: tp.record.prefix,
    deploymentId: tp.deploymentId,
  };
  const base = { deploymentId: tp.deploymentId, accountId: tp.accountId, homeRegion: tp.homeRegion };
  const removals = tp.plan.items.filter((i) => i.action === 'remove');
  if (!opts.yes) {
    say(o, `Deployment ${tp.deploymentId} (AWS account ${tp.accountId}, home region ${tp.homeRegion}):`);
    for (const i of removals.filter((x) => !x.absent)) say(o, planLine(i));
    if (!(await confirm('Remove all of this?', s.signal))) throw new UserAbort('Cancelled; nothing was removed.');
  }
  const result = await applyTeardown(tp, { emit: progressPrinter(o), signal: s.signal });
  const again = teardownLine(inForce, [...(opts.discover ? ['--discover', ...(opts.region ?? []).flatMap((r) => ['--region', r])] : []), '--yes']);
  const fields = { ...base, resources: jsonResources(result.results), journal: result.journalPath, ...(opts.discover ? { discovered: true } : {}) };
  const lines = o.json ? [] : resultLines(o, result.results);
  if (result.failures.length > 0) {
    const interrupted = s.signal.aborted;
    const message = interrupted
      ? `Teardown of ${tp.deploymentId} was interrupted before it finished (${result.failures.length} left). The journal ${result.journalPath} keeps what happened. Run '${again}' to finish it; it picks up where it stopped.`
      : `Teardown of ${tp.deploymentId} could not remove everything: ${result.failures.map((f) => f.message).join('; ')}. Fix the cause and run '${again}'; it picks up where it stopped.`;
    return { command: 'teardown', ...teardownVerdict(result.failures.length, interrupted), fields, lines, error: { code: interrupted ? 'Interrupted' : 'TeardownIncomplete', message } };
  }
  if (!o.json) lines.unshift(o.c.green(`Removed deployment ${tp.deploymentId}.`));
  return { command: 'teardown', status: 'ok', exitCode: 0, fields, lines };
}
