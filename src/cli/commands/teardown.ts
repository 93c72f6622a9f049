/** `teardown`: removes what a deployment made, newest first; restores cluster logging; keeps log groups. */
import { UsageError, UserAbort } from '../../errors.js';
import { resolveCredentials, type LaceworkCredentials } from '../../lacework/credentials.js';
import { kindLabel } from '../../plan/format.js';
import { needsLacework, pickDeployment, teardownDeployment, teardownItems } from '../../provision/deploy.js';
import type { SetupOptions } from '../../wizard/resolve.js';
import { confirm, startSession } from '../session.js';
import { errorLine, jsonResources, printJson, progressPrinter, say, summarizeResults } from '../render.js';
import { credentialInputs, missingCredentialsProblem } from './setup.js';

interface TeardownOptions extends SetupOptions {
  deployment?: string;
  discover?: boolean;
  region?: string[];
}

export async function teardownCommand(rawOpts: Record<string, unknown>): Promise<number> {
  const opts = rawOpts as TeardownOptions;
  const s = startSession(opts);
  const { o } = s;
  try {
    if (opts.discover) {
      const { discoverCommand } = await import('./discover.js');
      return await discoverCommand(opts as Record<string, unknown>, s);
    }
    const journal = pickDeployment(s.stateDir, opts.deployment);
    for (const w of journal.warnings) o.err.write(`warning: ${w}\n`);
    const items = teardownItems(journal);
    const { header } = journal;
    let credentials: LaceworkCredentials | undefined;
    const problems: string[] = [];
    if (needsLacework(items)) {
      try {
        const c = await resolveCredentials(credentialInputs(opts), process.env);
        credentials = c.credentials;
        if (!credentials) problems.push(missingCredentialsProblem(c.missing) + ' They are needed to delete the FortiCNAPP integration.');
      } catch (err) {
        if (err instanceof UsageError) problems.push(...err.problems);
        else throw err;
      }
    }
    if (items.length > 0 && !s.interactive && !opts.yes) {
      problems.push('--yes is required when not interactive: teardown deletes resources and nobody is there to confirm.');
    }
    if (problems.length > 0) throw new UsageError(problems);

    if (items.length > 0 && !opts.yes) {
      say(o, `Deployment ${header.deploymentId} (AWS account ${header.accountId}, home region ${header.homeRegion}) will be removed:`);
      for (const i of items) say(o, `  - ${kindLabel(i.kind)} ${i.name}${i.region !== 'global' ? ` (${i.region})` : ''}${i.kind === 'log-group' ? ' (kept: it holds the cluster logs)' : ''}`);
      if (!(await confirm('Remove all of this?'))) throw new UserAbort('Cancelled; nothing was removed.');
    }
    const result = await teardownDeployment({ stateDir: s.stateDir, awsProfile: opts.awsProfile, credentials }, journal, { emit: progressPrinter(o), signal: s.signal });
    const base = { schemaVersion: 1 as const, command: 'teardown', deploymentId: result.deploymentId, accountId: result.accountId, homeRegion: result.homeRegion, journal: result.journalPath };
    if (result.errors.length > 0) {
      const message = `Teardown of ${result.deploymentId} could not remove everything: ${result.errors.map((e) => e.message).join('; ')}. Fix the cause and run teardown again; it resumes.`;
      errorLine(o, message);
      if (o.json) printJson(o, { ...base, status: 'failed', resources: jsonResources(result.results), error: { code: 'TeardownIncomplete', message } });
      return s.signal.aborted ? 130 : 3;
    }
    if (o.json) {
      printJson(o, { ...base, status: 'ok', resources: jsonResources(result.results) });
    } else if (result.nothingToDo) {
      say(o, `Deployment ${result.deploymentId} has nothing left to remove.`);
    } else {
      say(o, o.c.green(`Removed deployment ${result.deploymentId}.`));
      summarizeResults(o, result.results);
    }
    return 0;
  } finally {
    s.done();
  }
}
