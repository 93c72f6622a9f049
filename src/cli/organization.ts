/**
 * setup, plan, status, teardown and list for the accounts of an AWS Organization (DESIGN §8): `--organization`
 * (narrowed by `--ou`) or `--accounts`, minus `--exclude-account`; each account through `--assume-role-name`.
 * Progress: one live row per account on a terminal. JSON: one document with an entry per account and
 * totals. Exit 0 when every account succeeded, else the worst account's code; the summary names the failed
 * accounts and the command that retries just those.
 */
import { UsageError } from '../errors.js';
import { createAwsClients } from '../aws/clients.js';
import { explain } from '../aws/errors.js';
import { checkAwsAccountId, checkRegion } from '../config/validate.js';
import { resolveFlags, type SetupOptions } from '../config/resolve.js';
import { credentialInputs, resolveCredentials, type LaceworkCredentials } from '../lacework/credentials.js';
import type { ProvisionEvent } from '../provision/events.js';
import { accountInputs, forEachAccount, inventory, members, problemOf, worstExitCode, type Member, type OrgSelection } from '../org/run.js';
import { credentialSource, missingCredentialsProblem } from './credentials.js';
import { retryCommand } from './hints.js';
import { counts, setupVerdict, teardownVerdict, type Report } from './report.js';
import { progressPrinter } from './render.js';
import { confirm, type Session } from './session.js';

type Opts = SetupOptions & {
  organization?: boolean;
  ou?: string[];
  excludeAccount?: string[];
  accounts?: string;
  assumeRoleName?: string;
  maxConcurrentAccounts?: string;
  regions?: string;
  allClusters?: boolean;
  deployment?: string;
};

interface Row {
  accountId: string;
  name: string;
  status: 'ok' | 'failed' | 'rolled-back' | 'interrupted' | 'skipped';
  exitCode: number;
  deploymentId?: string;
  detail?: string;
  error?: { code: string; message: string };
  [extra: string]: unknown;
}

function selection(opts: Opts, problems: string[]): OrgSelection {
  const accounts = (opts.accounts ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (opts.organization && accounts.length > 0) problems.push('--organization and --accounts select accounts two ways; give one.');
  for (const a of [...accounts, ...(opts.excludeAccount ?? [])]) {
    const p = checkAwsAccountId(a, 'account');
    if (p) problems.push(`--accounts / --exclude-account: ${p}`);
  }
  for (const ou of opts.ou ?? []) if (!/^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/.test(ou)) problems.push(`--ou '${ou}' is not an organizational unit id (ou-xxxx-xxxxxxxx).`);
  if ((opts.ou ?? []).length > 0 && !opts.organization) problems.push('--ou narrows --organization; add --organization.');
  const concurrency = Number(opts.maxConcurrentAccounts ?? '20');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100) problems.push('--max-concurrent-accounts must be a whole number from 1 to 100.');
  const roleName = opts.assumeRoleName ?? 'OrganizationAccountAccessRole';
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) problems.push(`--assume-role-name '${roleName}' is not an IAM role name.`);
  return { organization: !!opts.organization, ous: opts.ou ?? [], accounts, exclude: opts.excludeAccount ?? [], roleName, concurrency };
}

function regionsOf(opts: Opts, problems: string[]): string[] {
  const regions = (opts.regions ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of regions) {
    const p = checkRegion(r);
    if (p) problems.push(`--regions: ${p}`);
  }
  return regions;
}

/** One live row per account: its own progress collapsed into "n of m done". */
function accountProgress(s: Session): (m: Member, op: 'plan' | 'apply' | 'status' | 'teardown') => { emit: (e: ProvisionEvent) => void; finish(ok: boolean, text: string): void } {
  const print = progressPrinter(s.o);
  return (m, op) => {
    const key = `account/${m.id}`;
    let done = 0;
    let started = 0;
    print({ type: 'start', key, kind: 'iam-role', label: 'account', region: 'global', name: `${m.id} (${m.name})`, op: op === 'teardown' ? 'delete' : op === 'apply' ? 'update' : 'restore' });
    return {
      emit(e) {
        if (e.type === 'start') started++;
        if (e.type === 'done') done++;
        if (e.type === 'failed') print({ type: 'progress', key, message: `${e.label} ${e.name}: ${e.message}` });
        else if (e.type === 'start' || e.type === 'done') print({ type: 'progress', key, message: `${done} of ${Math.max(started, done)} steps done` });
      },
      finish(ok, text) {
        if (ok) print({ type: 'done', key, kind: 'iam-role', label: 'account', region: 'global', name: `${m.id} (${m.name})`, outcome: 'kept', ms: 0, detail: text });
        else print({ type: 'failed', key, kind: 'iam-role', label: 'account', region: 'global', name: `${m.id} (${m.name})`, message: text });
      },
    };
  };
}

async function credentials(opts: Opts, needed: boolean): Promise<LaceworkCredentials | undefined> {
  const c = await resolveCredentials(credentialInputs(opts), process.env);
  if (c.credentials) return c.credentials;
  if (needed) throw new UsageError(missingCredentialsProblem(c.missing), 'NoCredentials');
  return undefined;
}

function totals(rows: Row[]): Record<string, number> {
  const t: Record<string, number> = { accounts: rows.length };
  for (const r of rows) t[r.status] = (t[r.status] ?? 0) + 1;
  return t;
}

function summary(command: string, rows: Row[], argv: string[], s: Session, extraLines: string[] = [], extraFields: Record<string, unknown> = {}): Report {
  const failed = rows.filter((r) => r.status !== 'ok' && r.status !== 'skipped');
  const exitCode = worstExitCode(rows.map((r) => r.exitCode));
  const lines = s.o.json
    ? []
    : [
        ...rows.map((r) => `${r.status === 'ok' ? s.o.c.green('✓') : r.status === 'skipped' ? '-' : s.o.c.red('✗')} ${r.accountId} (${r.name}): ${r.error ? r.error.message : r.detail ?? r.status}`),
        ...extraLines,
      ];
  const retry = failed.length > 0 ? retryCommand(argv, { drop: ['--organization', '--ou', '--exclude-account', '--accounts'], add: ['--accounts', failed.map((r) => r.accountId).join(',')] }) : undefined;
  const fields = { accounts: rows, totals: totals(rows), ...(retry ? { retry } : {}), ...extraFields };
  if (failed.length === 0) return { command, status: 'ok', exitCode: 0, fields, lines };
  return {
    command,
    status: exitCode === 130 ? 'interrupted' : 'failed',
    exitCode,
    fields,
    lines,
    error: { code: 'AccountsFailed', message: `${failed.length} of ${rows.length} accounts failed: ${failed.map((r) => r.accountId).join(', ')}. Retry just those: ${retry}` },
  };
}

/**
 * Runs a command for the selected accounts.
 * @param preset what the wizard already gathered (its organization offer): the checked credentials and the
 *   inputs every account shares.
 */
export async function organizationCommand(
  name: string,
  raw: Record<string, unknown>,
  s: Session,
  argv: string[],
  preset?: { credentials: LaceworkCredentials; inputs: ReturnType<typeof resolveFlags>['inputs'] },
): Promise<Report> {
  const opts = raw as Opts;
  const problems: string[] = [];
  const sel = selection(opts, problems);
  const regions = regionsOf(opts, problems);
  if (opts.allClusters && regions.length === 0) problems.push('--all-clusters needs --regions <r1,r2>: the regions to look in.');
  if (!s.interactive && !opts.yes && (name === 'setup' || name === 'teardown')) {
    problems.push(`--yes is required when not interactive: ${name} changes every selected account and nobody is there to confirm.`);
  }
  let shared: ReturnType<typeof resolveFlags> | undefined;
  if (preset) shared = { inputs: preset.inputs, homeRegionGiven: !!opts.homeRegion, problems: [] };
  else if (name === 'setup' || name === 'plan') {
    shared = resolveFlags(opts);
    problems.push(...shared.problems.filter((p) => !(opts.allClusters && /--region-clusters/.test(p))));
    if (!opts.allClusters && Object.keys(shared.inputs.regionClusters).length === 0 && !problems.some((p) => /--region-clusters/.test(p))) {
      problems.push('Name the clusters: --regions <r1,r2> --all-clusters, or --region-clusters <region>=<c1,c2>.');
    }
  }
  let creds: LaceworkCredentials | undefined = preset?.credentials;
  try {
    creds ??= await credentials(opts, name === 'setup' || name === 'plan' || name === 'teardown');
  } catch (err) {
    if (err instanceof UsageError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length > 0) throw new UsageError(problems);

  const base = createAwsClients({ ...(opts.awsProfile ? { profile: opts.awsProfile } : {}) });
  const regionHint = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || regions[0];
  const { createLaceworkApi } = await import('../lacework/api.js');
  const lacework = creds ? createLaceworkApi(creds) : undefined;
  await lacework?.verify();
  const { members: list } = await members(base, sel, { stateDir: s.stateDir, ...(regionHint ? { regionHint } : {}), ...(lacework ? { lacework } : {}) });
  const progress = accountProgress(s);
  /** An account's step with its live row: a failure marks the row with the account's problem and is passed on. */
  const step =
    <T>(op: Parameters<typeof progress>[1], fn: (m: Member, p: ReturnType<typeof progress>) => Promise<T>) =>
    async (m: Member): Promise<T> => {
      const p = progress(m, op);
      try {
        return await fn(m, p);
      } catch (err) {
        p.finish(false, problemOf(err, sel.roleName));
        throw err;
      }
    };
  const deployment = await import('../provision/deployment.js');

  if (name === 'setup' || name === 'plan') {
    const sharedInputs = (shared as ReturnType<typeof resolveFlags>).inputs;
    const clusterSel = opts.allClusters ? { allClustersIn: regions } : { regionClusters: sharedInputs.regionClusters };
    // Every account planned before the first change anywhere.
    const plans = await forEachAccount(
      list,
      sel.concurrency,
      step('plan', async (m, p) => {
        const { inputs, skipped } = await accountInputs(m, sharedInputs, clusterSel, opts.prefix);
        if (!inputs) {
          p.finish(true, 'no cluster selected here');
          return { skipped };
        }
        const sp = await deployment.planSetup(m.env, { inputs, homeRegionGiven: !!opts.homeRegion, laceworkAccount: (creds as LaceworkCredentials).account });
        p.finish(sp.conflicts.length === 0, sp.conflicts.length === 0 ? `${sp.plan.items.filter((i) => i.action !== 'keep').length} to change` : `${sp.conflicts.length} conflicts`);
        return { sp, skipped };
      }),
      s.signal,
    );
    const planRows: Row[] = plans.map((r) => {
      if (r.error) return { accountId: r.id, name: r.name, status: 'failed', exitCode: 2, error: { code: 'AccountPreflightFailed', message: problemOf(r.error, sel.roleName) } };
      const v = r.value as { sp?: Awaited<ReturnType<typeof deployment.planSetup>>; skipped: string[] };
      const skipped = v.skipped.length ? { skippedClusters: v.skipped } : {};
      if (!v.sp) return { accountId: r.id, name: r.name, status: 'skipped', exitCode: 0, detail: `no selected cluster${v.skipped.length ? ` (not here: ${v.skipped.join(', ')})` : ''}`, ...skipped };
      const sp = v.sp;
      const changes = sp.plan.items.filter((i) => i.action !== 'keep' && !(i.action === 'remove' && i.absent)).length;
      if (sp.conflicts.length > 0) {
        return { accountId: r.id, name: r.name, status: 'failed', exitCode: 2, deploymentId: sp.deploymentId, error: { code: 'PreflightFailed', message: sp.conflicts.join(' ') }, ...skipped };
      }
      return {
        accountId: r.id,
        name: r.name,
        status: 'ok',
        exitCode: 0,
        deploymentId: sp.deploymentId,
        detail: changes === 0 ? 'up to date' : `${changes} to change`,
        resources: sp.plan.items.filter((i) => !(i.action === 'remove' && i.absent)).map((i) => ({ kind: i.kind, id: i.name, region: i.region, action: i.action === 'update' ? 'change' : i.action })),
        ...skipped,
      };
    });
    const blocked = planRows.filter((r) => r.status === 'failed');
    if (name === 'setup' && blocked.length === 0 && s.interactive && !opts.yes) {
      for (const r of planRows) s.o.out.write(`  ${r.accountId} (${r.name}): ${r.status === 'skipped' ? r.detail : r.detail ?? ''}\n`);
      const changing = planRows.filter((r) => r.status === 'ok' && r.detail !== 'up to date').length;
      if (!(await confirm(`Apply these changes in ${changing} account${changing === 1 ? '' : 's'}?`, s.signal))) {
        return { command: 'setup', status: 'interrupted', exitCode: 130, fields: { accounts: planRows }, lines: [], error: { code: 'Interrupted', message: 'Cancelled; nothing was changed.' } };
      }
    }
    if (name === 'plan' || blocked.length > 0) {
      const report = summary(name, planRows, argv, s);
      if (blocked.length > 0 && name === 'setup') {
        report.error = { code: 'PreflightFailed', message: `Setup did not start in any account: ${blocked.length} of ${planRows.length} accounts have problems (listed above). Nothing was changed anywhere.` };
        report.exitCode = 2;
        delete report.fields.retry;
      }
      return report;
    }
    const applied = await forEachAccount(
      list.filter((m) => plans.find((p) => p.id === m.id && (p.value as { sp?: unknown })?.sp)),
      sel.concurrency,
      step('apply', async (m, p) => {
        const sp = (plans.find((x) => x.id === m.id)?.value as { sp: Awaited<ReturnType<typeof deployment.planSetup>> }).sp;
        const r = await deployment.applySetup(sp, { emit: p.emit, signal: s.signal, ...(opts.rollback === false ? { noRollback: true } : {}), credentialSource: credentialSource(creds as LaceworkCredentials) });
        p.finish(r.status === 'ok', r.status === 'ok' ? (r.upToDate ? 'up to date' : counts(r.results)) : r.failure ? explain(r.failure.error) : r.status);
        return r;
      }),
      s.signal,
    );
    const rows: Row[] = planRows.map((row) => {
      const a = applied.find((x) => x.id === row.accountId);
      if (!a) return row;
      if (a.error) return { ...row, status: 'failed', exitCode: 1, error: { code: 'AccountFailed', message: problemOf(a.error, sel.roleName) } };
      const r = a.value as Awaited<ReturnType<typeof deployment.applySetup>>;
      const { status, exitCode } = setupVerdict(r);
      return {
        accountId: row.accountId,
        name: row.name,
        status,
        exitCode,
        deploymentId: r.deploymentId,
        detail: r.status === 'ok' ? (r.upToDate ? 'up to date' : counts(r.results)) : undefined,
        ...(r.integration ? { integration: r.integration } : {}),
        journal: r.journalPath,
        ...(row.skippedClusters ? { skippedClusters: row.skippedClusters } : {}),
        ...(r.failure ? { error: { code: 'SetupFailed', message: `${r.failure.label} ${r.failure.name} failed: ${explain(r.failure.error)}${r.rolledBack ? '; this account was rolled back' : ''}` } } : {}),
      };
    });
    return summary('setup', rows, argv, s);
  }

  if (name === 'teardown') {
    const out = await forEachAccount(
      list,
      sel.concurrency,
      step('teardown', async (m, p) => {
        const tp = await deployment.planTeardown(m.env, { ...(opts.prefix ? { prefix: opts.prefix } : {}) }).catch((err: unknown) => {
          if (err instanceof UsageError && err.code === deployment.UNKNOWN_DEPLOYMENT) return undefined;
          throw err;
        });
        if (!tp) {
          p.finish(true, 'nothing to remove');
          return undefined;
        }
        const r = await deployment.applyTeardown(tp, { emit: p.emit, signal: s.signal });
        p.finish(r.failures.length === 0, r.failures.length === 0 ? `removed (${counts(r.results)})` : `${r.failures.length} left`);
        return r;
      }),
      s.signal,
    );
    const rows: Row[] = out.map((a) => {
      if (a.error) return { accountId: a.id, name: a.name, status: 'failed', exitCode: a.error instanceof UsageError ? 2 : 3, error: { code: 'TeardownFailed', message: problemOf(a.error, sel.roleName) } };
      const r = a.value;
      if (!r) return { accountId: a.id, name: a.name, status: 'skipped', exitCode: 0, detail: 'nothing to remove' };
      return r.failures.length === 0
        ? { accountId: a.id, name: a.name, status: 'ok', exitCode: 0, deploymentId: r.deploymentId, detail: `removed (${counts(r.results)})` }
        : { accountId: a.id, name: a.name, ...teardownVerdict(r.failures.length, s.signal.aborted), deploymentId: r.deploymentId, error: { code: 'TeardownIncomplete', message: r.failures.map((f) => f.message).join('; ') } };
    });
    return summary('teardown', rows, argv, s);
  }

  if (name === 'list') {
    const out = await forEachAccount(list, sel.concurrency, (m) => deployment.listDeployments(m.env, { regions, discover: false }), s.signal);
    const rows: Row[] = out.map((a) =>
      a.error
        ? { accountId: a.id, name: a.name, status: 'failed', exitCode: 2, error: { code: 'ListFailed', message: problemOf(a.error, sel.roleName) } }
        : { accountId: a.id, name: a.name, status: 'ok', exitCode: 0, deployments: a.value, detail: (a.value ?? []).map((d) => d.deploymentId).join(', ') || 'no deployment' },
    );
    return summary('list', rows, argv, s);
  }

  // status: a coverage report of every cluster in the selected accounts and regions.
  const { checkStatus } = await import('../provision/verify.js');
  const out = await forEachAccount(
    list,
    sel.concurrency,
    step('status', async (m, p) => {
      const report = await checkStatus(m.env, { ...(opts.prefix ? { prefix: opts.prefix } : {}) }).catch((err: unknown) => {
        if (err instanceof UsageError && err.code === deployment.UNKNOWN_DEPLOYMENT) return undefined;
        throw err;
      });
      const where = regions.length > 0 ? regions : [...new Set(report ? Object.keys(report.inputs.regionClusters) : [])];
      const clusters = await inventory(m, where);
      const pipelineOk = !!report && !report.checks.some((c) => c.state === 'fail' && !['eks-audit-logging', 'log-group', 'subscription-filter'].includes(c.check));
      const rows = clusters.map(({ region, cluster }) => {
        const connected = report?.inputs.regionClusters[region]?.includes(cluster.name) ?? false;
        const filterOk = connected && !!report?.checks.find((c) => c.check === 'subscription-filter' && c.region === region && c.resource.includes(`-${cluster.name}-eks-cw-`))?.state.match(/ok|warn/);
        const covered = !!cluster.auditEnabled && filterOk && pipelineOk;
        return { region, cluster: cluster.name, status: cluster.status, auditLogging: cluster.auditEnabled ?? null, subscriptionFilter: filterOk, pipelineHealthy: pipelineOk, covered };
      });
      const covered = rows.filter((r) => r.covered).length;
      p.finish(covered === rows.length, `${covered} of ${rows.length} clusters covered`);
      return { report, rows, covered };
    }),
    s.signal,
  );
  const rows: Row[] = out.map((a) => {
    if (a.error) return { accountId: a.id, name: a.name, status: 'failed', exitCode: 2, error: { code: 'StatusFailed', message: problemOf(a.error, sel.roleName) } };
    const v = a.value as { report?: { deploymentId: string; healthy: boolean }; rows: { covered: boolean; cluster: string; region: string }[]; covered: number };
    const missing = v.rows.filter((r) => !r.covered).map((r) => `${r.cluster} (${r.region})`);
    return {
      accountId: a.id,
      name: a.name,
      status: missing.length === 0 ? 'ok' : 'failed',
      exitCode: missing.length === 0 ? 0 : 1,
      ...(v.report ? { deploymentId: v.report.deploymentId, healthy: v.report.healthy } : {}),
      clusters: v.rows,
      detail: `${v.covered} of ${v.rows.length} clusters covered`,
      ...(missing.length > 0 ? { error: { code: 'NotCovered', message: `not covered: ${missing.join(', ')}` } } : {}),
    };
  });
  const all = out.flatMap((a) => (a.value as { rows: unknown[] } | undefined)?.rows ?? []).length;
  const covered = out.reduce((n, a) => n + ((a.value as { covered: number } | undefined)?.covered ?? 0), 0);
  const report = summary('status', rows, argv, s, [`${covered} of ${all} clusters covered.`], { coverage: { covered, clusters: all } });
  if (report.error) report.error.message = `${covered} of ${all} clusters covered. ${report.error.message} (run setup with --all-clusters to connect new clusters).`;
  return report;
}
