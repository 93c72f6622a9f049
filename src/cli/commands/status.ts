/**
 * `status`: the deployment checked hop by hop (DESIGN §1) against AWS and FortiCNAPP, from its record in
 * the account, so any machine can run it. Exit 0 healthy, 1 not; a failing hop names the fix: the exact
 * setup command where setup repairs it.
 */
import { UsageError } from '../../errors.js';
import { createAwsClients } from '../../aws/clients.js';
import type { CredentialInputs } from '../../lacework/credentials.js';
import { laceworkConnector } from '../credentials.js';
import { setupCommand, type InForce } from '../hints.js';
import { statusLines, type Report } from '../report.js';
import type { Session } from '../session.js';
import { deploymentFlagProblems } from '../flags.js';

export interface StatusOptions extends CredentialInputs {
  deployment?: string;
  prefix?: string;
  awsProfile?: string;
}

export async function statusCommand(opts: StatusOptions, s: Session): Promise<Report> {
  const { o } = s;
  const problems = deploymentFlagProblems(opts);
  if (problems.length > 0) throw new UsageError(problems);
  const aws = createAwsClients({ ...(opts.awsProfile ? { profile: opts.awsProfile } : {}) });
  const regionHint = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  const lacework = laceworkConnector(opts, s, '');
  const { checkStatus } = await import('../../provision/verify.js');
  const report = await checkStatus(
    { aws, stateDir: s.stateDir, ...(regionHint ? { regionHint } : {}) },
    {
      ...(opts.deployment ? { deploymentId: opts.deployment } : {}),
      ...(opts.prefix ? { prefix: opts.prefix } : {}),
      connect: (source) => lacework.connect(source, false),
    },
  );
  const inForce: InForce = {
    stateDir: s.stateDir,
    ...(opts.awsProfile ? { awsProfile: opts.awsProfile } : {}),
    ...(lacework.used.keyFile ? { apiKeyFile: lacework.used.keyFile } : {}),
    ...(lacework.used.profile && opts.profile ? { profile: lacework.used.profile } : {}),
  };
  const setupFix = `run setup again, it repairs this: ${setupCommand(report.inputs, inForce)}`;
  const failing = report.checks.filter((c) => c.state === 'fail');
  const fields = {
    deploymentId: report.deploymentId,
    accountId: report.accountId,
    homeRegion: report.homeRegion,
    healthy: report.healthy,
    checks: report.checks.map((c) => ({ ...c, ...(c.repairBySetup ? { fix: setupFix } : {}) })),
  };
  const lines = o.json ? [] : [`Deployment ${report.deploymentId} (AWS account ${report.accountId}, home region ${report.homeRegion})`, ...statusLines(o, report.checks, setupFix)];
  if (failing.length > 0) {
    const message = `Unhealthy: ${failing.length} hop${failing.length === 1 ? '' : 's'} failing: ${failing.map((c) => `${c.hop} ${c.label} ${c.resource}`).join('; ')}.`;
    return { command: 'status', status: 'failed', exitCode: 1, fields, lines, error: { code: 'Unhealthy', message } };
  }
  if (!o.json) {
    const unchecked = report.checks.filter((c) => c.state === 'unchecked').length;
    const warned = report.checks.filter((c) => c.state === 'warn').length;
    const notes = [warned ? `${warned} to watch` : '', unchecked ? `${unchecked} not checked` : ''].filter(Boolean).join(', ');
    lines.push(o.c.green(`Healthy: every hop checked works${notes ? ` (${notes})` : ''}.`));
  }
  return { command: 'status', status: 'ok', exitCode: 0, fields, lines };
}
