/**
 * `teardown`: removes what a deployment made, newest first (DESIGN §4); restores cluster logging where we
 * turned audit on; keeps log groups and says so. Confirms unless --yes. Running it again resumes an
 * interrupted teardown, and once everything is gone it is a no-op that succeeds.
 */
import { UsageError, UserAbort } from '../../errors.js';
import { resolveCredentials, type LaceworkCredentials } from '../../lacework/credentials.js';
import { defaultStateDir, listJournals, replay, type ReadJournal } from '../../journal/journal.js';
import type { RunRecord } from '../../journal/records.js';
import { kindLabel } from '../../plan/format.js';
import type { ResourceResult } from '../../provision/engine.js';
import { needsLacework, pickDeployment, teardownDeployment, teardownItems } from '../../provision/deploy.js';
import type { SetupOptions } from '../../wizard/resolve.js';
import { confirm, startSession, type Session } from '../session.js';
import { errorLine, jsonResources, printJson, progressPrinter, say, summarizeResults, warn } from '../render.js';
import { credentialInputs, missingCredentialsProblem } from './setup.js';

/** Flags of `teardown` (DESIGN §2). */
export interface TeardownOptions extends SetupOptions {
  deployment?: string;
  discover?: boolean;
  region?: string[];
}

/**
 * The exact command a person runs to finish the job: the state dir when it is not the default, and the
 * credential and profile flags this run was given (never a secret: --api-secret is left for them to add).
 */
export function teardownCommandLine(s: Session, opts: TeardownOptions, deploymentId: string, extra: string[] = []): string {
  const args = ['npx forticnapp-eks-audit teardown', `--deployment ${deploymentId}`, ...extra];
  if (s.stateDir !== defaultStateDir({})) args.push(`--state-dir ${shellQuote(s.stateDir)}`);
  if (opts.awsProfile) args.push(`--aws-profile ${shellQuote(opts.awsProfile)}`);
  if (opts.apiKeyFile) args.push(`--api-key-file ${shellQuote(opts.apiKeyFile)}`);
  if (opts.profile) args.push(`--profile ${shellQuote(opts.profile)}`);
  return args.join(' ');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** FortiCNAPP credentials from flags, environment or profile; a problem line when they are needed but missing. */
export async function teardownCredentials(opts: TeardownOptions, why: string): Promise<{ credentials?: LaceworkCredentials; problems: string[] }> {
  try {
    const c = await resolveCredentials(credentialInputs(opts), process.env);
    if (c.credentials) return { credentials: c.credentials, problems: [] };
    return { problems: [`${missingCredentialsProblem(c.missing)} ${why}`] };
  } catch (err) {
    if (err instanceof UsageError) return { problems: err.problems };
    throw err;
  }
}

/** What a teardown ends with, shared by the journal and the --discover paths. */
export interface TeardownOutcome {
  deploymentId: string;
  accountId?: string;
  homeRegion?: string;
  journal?: string;
  results: ResourceResult[];
  errors: { key: string; message: string }[];
  notes: string[];
  /** How to run it again (printed when something is left). */
  again: string;
  extra?: Record<string, unknown>;
}

/** Prints the outcome and returns the exit code: 0 done · 3 something left · 130 interrupted. */
export function reportTeardown(s: Session, r: TeardownOutcome): number {
  const { o } = s;
  const base = {
    schemaVersion: 1 as const,
    command: 'teardown',
    deploymentId: r.deploymentId,
    ...(r.accountId ? { accountId: r.accountId } : {}),
    ...(r.homeRegion ? { homeRegion: r.homeRegion } : {}),
    ...(r.journal ? { journal: r.journal } : {}),
    ...r.extra,
  };
  if (r.errors.length > 0) {
    const interrupted = s.signal.aborted;
    const left = r.errors.map((e) => e.message);
    const where = r.journal ? ` The journal ${r.journal} keeps what is left.` : '';
    const message = interrupted
      ? `Teardown of ${r.deploymentId} was interrupted before it finished (${left.length} left).${where} Run '${r.again}' to finish it; it resumes where it stopped.`
      : `Teardown of ${r.deploymentId} could not remove everything: ${left.join('; ')}.${where} Fix the cause and run '${r.again}' again; it resumes where it stopped.`;
    errorLine(o, message);
    if (o.json) {
      printJson(o, {
        ...base,
        status: interrupted ? 'interrupted' : 'failed',
        resources: jsonResources(r.results),
        ...(r.notes.length ? { notes: r.notes } : {}),
        error: { code: interrupted ? 'Interrupted' : 'TeardownIncomplete', message },
      });
    }
    return interrupted ? 130 : 3;
  }
  if (o.json) {
    printJson(o, { ...base, status: 'ok', resources: jsonResources(r.results), ...(r.notes.length ? { notes: r.notes } : {}) });
  } else {
    say(o, o.c.green(`Removed deployment ${r.deploymentId}.`));
    summarizeResults(o, r.results);
    for (const n of r.notes) say(o, `Note: ${n}`);
  }
  return 0;
}

/** Clusters of the deployment, from the inputs its setup runs journalled. */
function clustersOf(journal: ReadJournal): { region: string; cluster: string }[] {
  const seen = new Map<string, { region: string; cluster: string }>();
  for (const r of journal.records) {
    if (r.t !== 'run') continue;
    const rc = ((r as RunRecord).inputs as { regionClusters?: Record<string, string[]> } | undefined)?.regionClusters ?? {};
    for (const [region, clusters] of Object.entries(rc)) for (const cluster of clusters) seen.set(`${region}/${cluster}`, { region, cluster });
  }
  return [...seen.values()];
}

/** What the person should know after a journal teardown: logging put back or left, log groups kept. */
function journalNotes(journal: ReadJournal, results: ResourceResult[]): string[] {
  const notes: string[] = [];
  const clusters = clustersOf(journal);
  const restored = results.filter((r) => r.kind === 'eks-audit-logging' && r.action === 'deleted').map((r) => `${r.id} (${r.region})`);
  const turnedOn = new Set(teardownItems(journal).filter((i) => i.kind === 'eks-audit-logging').map((i) => `${i.region}/${i.name}`));
  const untouched = clusters.filter((c) => !turnedOn.has(`${c.region}/${c.cluster}`)).map((c) => `${c.cluster} (${c.region})`);
  if (restored.length > 0) notes.push(`Audit logging turned back off where setup had turned it on: ${restored.join(', ')}.`);
  if (untouched.length > 0) notes.push(`Cluster logging left as it was before setup (audit was already on): ${untouched.join(', ')}.`);
  if (clusters.length > 0) {
    notes.push(`Log groups kept (they hold the clusters' logs): ${clusters.map((c) => `/aws/eks/${c.cluster}/cluster (${c.region})`).join(', ')}.`);
  }
  return notes;
}

/** `teardown [--deployment <id>] [--yes] [--discover]`: returns the exit code (0, 2 via UsageError, 3, 130). */
export async function teardownCommand(rawOpts: Record<string, unknown>): Promise<number> {
  const opts = rawOpts as TeardownOptions;
  const s = startSession(opts);
  const { o } = s;
  try {
    if (opts.discover) {
      const { discoverCommand } = await import('./discover.js');
      return await discoverCommand(opts as Record<string, unknown>, s);
    }
    if ((opts.region?.length ?? 0) > 0 || opts.prefix !== undefined) {
      warn(o, '--region and --prefix only apply with --discover; the journal says where everything is.');
    }
    if (!opts.deployment) {
      // Several deployments, all torn down already: nothing is left anywhere, which is a success.
      const { journals } = listJournals(s.stateDir);
      if (journals.length > 1 && journals.every((j) => replay(j.records).size === 0)) {
        if (o.json) printJson(o, { schemaVersion: 1, command: 'teardown', status: 'ok', resources: [] });
        else say(o, `No deployment known in ${s.stateDir} has anything left to remove.`);
        return 0;
      }
    }
    const journal = pickDeployment(s.stateDir, opts.deployment);
    for (const w of journal.warnings) warn(o, w);
    const items = teardownItems(journal);
    const { header } = journal;
    const again = teardownCommandLine(s, opts, header.deploymentId);
    if (items.length === 0) {
      // Everything is gone already: a repeated teardown succeeds without touching AWS.
      if (o.json) printJson(o, { schemaVersion: 1, command: 'teardown', status: 'ok', deploymentId: header.deploymentId, accountId: header.accountId, homeRegion: header.homeRegion, resources: [], journal: journal.path });
      else say(o, `Deployment ${header.deploymentId} has nothing left to remove.`);
      return 0;
    }
    const problems: string[] = [];
    let credentials: LaceworkCredentials | undefined;
    if (needsLacework(items)) {
      const c = await teardownCredentials(opts, 'They are needed to delete the FortiCNAPP integration.');
      credentials = c.credentials;
      problems.push(...c.problems);
    }
    if (!s.interactive && !opts.yes) {
      problems.push('--yes is required when not interactive: teardown deletes resources and nobody is there to confirm.');
    }
    if (problems.length > 0) throw new UsageError(problems);

    if (!opts.yes) {
      say(o, `Deployment ${header.deploymentId} (AWS account ${header.accountId}, home region ${header.homeRegion}) will be removed:`);
      for (const i of items) {
        const what = i.kind === 'log-group' ? ' (kept: it holds the cluster logs)' : i.kind === 'eks-audit-logging' ? ' (audit logging back off: setup turned it on)' : '';
        say(o, `  - ${kindLabel(i.kind)} ${i.name}${i.region !== 'global' ? ` (${i.region})` : ''}${what}`);
      }
      if (!(await confirm('Remove all of this?'))) throw new UserAbort('Cancelled; nothing was removed.');
    }
    const result = await teardownDeployment({ stateDir: s.stateDir, awsProfile: opts.awsProfile, credentials }, journal, { emit: progressPrinter(o), signal: s.signal });
    return reportTeardown(s, {
      deploymentId: result.deploymentId,
      accountId: result.accountId,
      homeRegion: result.homeRegion,
      journal: result.journalPath,
      results: result.results,
      errors: result.errors,
      notes: result.errors.length === 0 ? journalNotes(journal, result.results) : [],
      again,
    });
  } finally {
    s.done();
  }
}
