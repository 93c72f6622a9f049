/** `setup` and `plan`: inputs (flags, environment, wizard), preflight, plan, confirm, apply, report. */
import { UsageError, UserAbort, AppError, errorMessage } from '../../errors.js';
import { describeAwsError } from '../../aws/errors.js';
import { credentialInputs, resolveCredentials, type LaceworkCredentials } from '../../lacework/credentials.js';
import { formatPlan } from '../../plan/format.js';
import { isUpToDate } from '../../plan/plan.js';
import { applyPrepared, prepare, type Prepared } from '../../provision/deploy.js';
import { resolveInputs, type SetupOptions } from '../../wizard/resolve.js';
import { confirm, startSession, type Session } from '../session.js';
import { errorLine, jsonResources, printJson, progressPrinter, say, summarizeResults, warn } from '../render.js';

export { credentialInputs };

export function missingCredentialsProblem(missing: string[]): string {
  return `FortiCNAPP credentials are incomplete (missing ${missing.join(', ')}): pass --api-key-file <downloaded key file>, or --account, --api-key and --api-secret (or LW_ACCOUNT, LW_API_KEY, LW_API_SECRET, or a ~/.lacework.toml profile with --profile).`;
}

export interface Gathered {
  inputs: ReturnType<typeof resolveInputs>;
  credentials: LaceworkCredentials;
}

async function gather(opts: SetupOptions, s: Session, command: 'setup' | 'plan'): Promise<Gathered> {
  if (s.interactive) {
    const wizard = await import('../../wizard/wizard.js');
    return wizard.runWizard(opts, s, command);
  }
  return gatherFromFlags(opts, command);
}

/** The non-interactive path: flags and environment only; every problem reported at once. */
export async function gatherFromFlags(opts: SetupOptions, command: 'setup' | 'plan'): Promise<Gathered> {
  const resolved = resolveInputs(opts);
  const problems = [...resolved.problems];
  if (Object.keys(resolved.inputs.regionClusters).length === 0 && !resolved.problems.some((p) => p.startsWith('--region-clusters'))) {
    problems.push('--region-clusters is required: name the clusters per region, e.g. --region-clusters eu-central-1=prod,stage (repeat for more regions).');
  }
  let credentials: LaceworkCredentials | undefined;
  try {
    const c = await resolveCredentials(credentialInputs(opts), process.env);
    if (c.credentials) credentials = c.credentials;
    else problems.push(missingCredentialsProblem(c.missing));
  } catch (err) {
    if (err instanceof UsageError) problems.push(...err.problems);
    else throw err;
  }
  if (command === 'setup' && !opts.yes) {
    problems.push('--yes is required when not interactive: nobody is there to confirm the plan (run "plan" first to see it).');
  }
  if (problems.length > 0 || !credentials) throw new UsageError(problems);
  return { inputs: resolved, credentials };
}

export async function setupCommand(command: 'setup' | 'plan', rawOpts: Record<string, unknown>): Promise<number> {
  const opts = rawOpts as SetupOptions;
  const s = startSession(opts);
  const { o } = s;
  try {
    if (opts.apiSecret !== undefined && process.argv.some((a) => a === '--api-secret' || a === '-s' || a.startsWith('--api-secret=') || a === '--api_secret')) {
      warn(o, '--api-secret is visible to other users in ps and stays in your shell history; prefer --api-key-file or LW_API_SECRET.');
    }
    const { inputs: resolved, credentials } = await gather(opts, s, command);
    if (!o.json) say(o, o.c.dim(`FortiCNAPP credentials: ${credentials.source}. Checking AWS and FortiCNAPP…`));
    const prepared = await prepare(
      { inputs: resolved.inputs, homeRegionGiven: resolved.homeRegionGiven, credentials, stateDir: s.stateDir, awsProfile: opts.awsProfile },
      s.signal,
    );
    if (command === 'plan') return reportPlan(s, prepared);
    return await applyAndReport(s, prepared, opts);
  } finally {
    s.done();
  }
}

function reportPlan(s: Session, prepared: Prepared): number {
  const { o } = s;
  if (o.json) {
    printJson(o, {
      schemaVersion: 1,
      command: 'plan',
      status: 'ok',
      deploymentId: prepared.deploymentId,
      accountId: prepared.accountId,
      homeRegion: prepared.plan.homeRegion,
      resources: prepared.plan.items.map((i) => ({ kind: i.kind, id: i.name, region: i.region, action: i.action, ...(i.detail ? { detail: i.detail } : {}) })),
      conflicts: prepared.plan.conflicts,
    });
  } else {
    for (const line of formatPlan(prepared.plan)) say(o, line);
    say(o, isUpToDate(prepared.plan) ? 'Everything is up to date: setup would change nothing.' : 'Nothing was changed (this is a plan).');
  }
  return 0;
}

async function applyAndReport(s: Session, prepared: Prepared, opts: SetupOptions): Promise<number> {
  const { o } = s;
  const base = {
    schemaVersion: 1 as const,
    command: 'setup',
    deploymentId: prepared.deploymentId,
    accountId: prepared.accountId,
    homeRegion: prepared.plan.homeRegion,
  };
  if (isUpToDate(prepared.plan)) {
    const results = prepared.planned.map((p) => ({
      kind: p.task.kind, key: p.task.key, id: p.found?.ref.id ?? p.task.name, arn: p.found?.ref.arn, region: p.task.region, action: 'kept' as const,
    }));
    const intg = prepared.planned.find((p) => p.task.kind === 'forticnapp-integration')?.found?.ref;
    if (o.json) {
      printJson(o, { ...base, status: 'ok', resources: jsonResources(results), ...(intg ? { integration: { intgGuid: intg.id, name: String(intg.name ?? '') } } : {}), journal: prepared.journalPath });
    } else {
      say(o, `Deployment ${prepared.deploymentId} is up to date: nothing to change (${results.length} resources checked).`);
    }
    return 0;
  }
  if (!o.json || s.interactive) for (const line of formatPlan(prepared.plan)) (o.json ? o.err : o.out).write(line + '\n');
  if (s.interactive && !opts.yes) {
    if (!(await confirm('Apply these changes?'))) throw new UserAbort('Cancelled; nothing was changed.');
  }
  const result = await applyPrepared(prepared, { emit: progressPrinter(o), signal: s.signal, noRollback: opts.rollback === false });
  const failure = result.failure;
  const { teardownCommandLine } = await import('./teardown.js');
  const teardownCmd = teardownCommandLine(s, opts, prepared.deploymentId);
  if (result.status === 'ok') {
    if (o.json) {
      printJson(o, { ...base, status: 'ok', resources: jsonResources(result.results), integration: result.integration, journal: result.journalPath });
    } else {
      say(o, '');
      say(o, o.c.green(`Done. EKS audit logs now flow to FortiCNAPP (deployment ${prepared.deploymentId}).`));
      summarizeResults(o, result.results);
      say(o, `Journal: ${result.journalPath}`);
      say(o, `Check it:    npx forticnapp-eks-audit status --deployment ${prepared.deploymentId}`);
      say(o, `Remove it:   ${teardownCmd}`);
    }
    return 0;
  }
  const interrupted = result.status === 'interrupted';
  const why = failure
    ? `${failure.kind} ${failure.name} failed: ${failure.error instanceof AppError ? failure.error.message : describeAwsError(failure.error)}`
    : 'Interrupted.';
  const sentence = why.endsWith('.') ? why : `${why}.`;
  const code = failure?.error instanceof AppError ? failure.error.code : failure ? (failure.error as Error)?.name || 'StepFailed' : 'Interrupted';
  let message: string;
  let exitCode: number;
  let status: 'failed' | 'rolled-back' | 'interrupted';
  if (result.rolledBack) {
    message = `${sentence} Everything this run made was removed again.`;
    exitCode = interrupted ? 130 : 1;
    status = interrupted ? 'interrupted' : 'rolled-back';
  } else {
    const left = result.leftovers.map((r) => `${r.kind} ${r.id}`).join(', ');
    message = `${sentence} ${opts.rollback === false ? 'Kept (--no-rollback)' : 'Could not undo'}: ${left}. Journal: ${result.journalPath}. Run '${teardownCmd}' to remove it, or run setup again to resume.`;
    exitCode = interrupted ? 130 : 3;
    status = interrupted ? 'interrupted' : 'failed';
  }
  errorLine(o, message);
  if (o.json) {
    printJson(o, { ...base, status, resources: jsonResources(result.results), journal: result.journalPath, error: { code, message } });
  }
  return exitCode;
}

export { errorMessage };
