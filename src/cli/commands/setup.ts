/** `setup`: the inputs (wizard or flags), the plan shown, confirmed, applied; the outcome and the next commands. */
import { UserAbort } from '../../errors.js';
import type { SetupOptions } from '../../config/resolve.js';
import { explain } from '../../aws/errors.js';
import { credentialSource } from '../credentials.js';
import { retryCommand, statusCommand, teardownCommand } from '../hints.js';
import { counts, jsonResources, planLines, resultLines, setupVerdict, type Report } from '../report.js';
import { progressPrinter, say } from '../render.js';
import { planFromOptions } from '../setup-plan.js';
import { confirm, type Session } from '../session.js';

/** Exit 0 done · 1 failed and rolled back · 2 bad input or a conflict · 3 failed with resources left · 130 interrupted. */
export async function setupCommand(opts: SetupOptions, s: Session, argv: string[]): Promise<Report> {
  const { o } = s;
  const planned = await planFromOptions(opts, s, 'setup', argv);
  if ('organization' in planned) {
    const { organizationCommand } = await import('../organization.js');
    return organizationCommand('setup', { ...opts, organization: true, regions: planned.organization.regions.join(','), allClusters: true }, s, argv, planned);
  }
  const { sp, credentials, inForce } = planned;
  const base = { deploymentId: sp.deploymentId, accountId: sp.accountId, homeRegion: sp.homeRegion };
  const header = `Deployment ${sp.deploymentId} in AWS account ${sp.accountId} (home region ${sp.homeRegion})`;
  const show = (lines: string[]) => {
    // The plan is for people: on stdout, or on stderr under --json (stdout then holds only the document).
    for (const line of lines) (o.json ? o.err : o.out).write(line + '\n');
  };
  for (const n of sp.notes) show([n]);
  if (sp.conflicts.length > 0) {
    show(planLines(header, sp.plan.items, sp.conflicts));
    return {
      command: 'setup',
      status: 'failed',
      exitCode: 2,
      fields: { ...base, conflicts: sp.conflicts },
      lines: [],
      error: { code: 'PreflightFailed', message: `Setup did not start: ${sp.conflicts.length === 1 ? 'a conflict' : `${sp.conflicts.length} conflicts`} (marked in the plan above). Nothing was changed.` },
    };
  }
  if (sp.plan.hasChanges) {
    show(planLines(header, sp.plan.items, []));
    if (s.interactive && !opts.yes && !(await confirm('Apply these changes?', s.signal))) throw new UserAbort('Cancelled; nothing was changed.');
  }
  const { applySetup } = await import('../../provision/deployment.js');
  const result = await applySetup(sp, {
    emit: progressPrinter(o),
    signal: s.signal,
    ...(opts.rollback === false ? { noRollback: true } : {}),
    credentialSource: credentialSource(credentials),
  });
  // Run in a new shell (no terminal) it must not stop at the confirmation question: --yes (issue 10 item 1).
  const next = { status: statusCommand(inForce), teardown: teardownCommand(inForce, ['--yes']) };
  const fields = { ...base, resources: jsonResources(result.results), ...(result.integration ? { integration: result.integration } : {}), journal: result.journalPath, next };
  const again = retryCommand(argv, { drop: [], add: [] });
  if (result.status === 'ok') {
    const lines = result.upToDate
      ? [`Deployment ${sp.deploymentId} is up to date: nothing changed (${result.results.length} resources checked).`]
      : ['', o.c.green(`Done. EKS audit logs now flow to FortiCNAPP (deployment ${sp.deploymentId}): ${counts(result.results)}.`), `Journal: ${result.journalPath}`];
    lines.push(`Check it:   ${next.status}`, `Remove it:  ${next.teardown}`);
    return { command: 'setup', status: 'ok', exitCode: 0, fields, lines: o.json ? [] : lines };
  }

  const interrupted = result.status === 'interrupted';
  const failure = result.failure;
  const why = failure ? `${failure.label} ${failure.name}${failure.region !== 'global' ? ` (${failure.region})` : ''} failed: ${explain(failure.error).replace(/\.$/, '')}.` : interrupted ? 'Interrupted.' : 'Setup failed.';
  const code = interrupted ? 'Interrupted' : failure?.error instanceof Error && 'code' in failure.error ? String((failure.error as { code: unknown }).code) : (failure?.error as Error | undefined)?.name || 'StepFailed';
  const left = result.leftovers.map((r) => `${r.label} ${r.name}`).join(', ');
  const { status, exitCode } = setupVerdict(result);
  let message: string;
  if (result.keptForRetry) {
    message = `${why} The AWS side is in place and kept. Run setup again to register (it changes nothing in AWS): ${again}`;
  } else if (result.removeFailures.length > 0) {
    message = `Setup is applied, but ${result.removeFailures.map((f) => f.message).join('; ')}. Fix the cause and run setup again: ${again}`;
  } else if (result.rolledBack) {
    message = `${why} Everything this run made was removed again.`;
  } else {
    message = `${why} ${opts.rollback === false ? 'Kept (--no-rollback)' : 'Could not undo'}: ${left}. Journal: ${result.journalPath}. Remove it with: ${next.teardown} — or finish it with: ${again}`;
  }
  const lines = o.json ? [] : result.leftovers.length > 0 ? ['What this run made and left:', ...resultLines(o, result.leftovers)] : [];
  say(o, '');
  return { command: 'setup', status, exitCode, fields, lines, error: { code, message } };
}
