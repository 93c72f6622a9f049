/**
 * What `setup` and `plan` share: the inputs (flags, environment, or the wizard on a terminal), the
 * credentials, and the plan of the account. The provisioner is imported here, after the questions, so the
 * wizard's first question never loads the AWS SDK's clients (DESIGN §7).
 */
import { UsageError } from '../errors.js';
import { createAwsClients, type AwsClients } from '../aws/clients.js';
import { resolveFlags, type SetupOptions } from '../config/resolve.js';
import { credentialInputs, resolveCredentials, type LaceworkCredentials } from '../lacework/credentials.js';
import type { SetupPlan } from '../provision/deployment.js';
import type { Inputs } from '../config/inputs.js';
import { missingCredentialsProblem } from './credentials.js';
import type { InForce } from './hints.js';
import { say, warn } from './render.js';
import type { Session } from './session.js';

export interface Planned {
  sp: SetupPlan;
  credentials: LaceworkCredentials;
  aws: AwsClients;
  inForce: InForce;
}

/** The wizard's organization offer was taken: every member account, every ACTIVE cluster of these regions. */
export interface OrganizationChosen {
  organization: { regions: string[] };
  credentials: LaceworkCredentials;
  inputs: Inputs;
}

/** The non-interactive path: flags and environment only; every problem reported at once. */
async function fromFlags(opts: SetupOptions, command: 'setup' | 'plan') {
  const resolved = resolveFlags(opts);
  const problems = [...resolved.problems];
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
  return { inputs: resolved.inputs, homeRegionGiven: resolved.homeRegionGiven, credentials };
}

/** Gathers the inputs and plans setup in the account. @throws UsageError (exit 2) for every bad input. */
export async function planFromOptions(opts: SetupOptions, s: Session, command: 'setup' | 'plan', argv: string[]): Promise<Planned | OrganizationChosen> {
  const { o } = s;
  if (opts.apiSecret !== undefined && argv.some((a) => a === '--api-secret' || a === '-s' || a.startsWith('--api-secret=') || a === '--api_secret' || a.startsWith('--api_secret='))) {
    warn(o, '--api-secret is visible to other users in ps and stays in your shell history; prefer --api-key-file or LW_API_SECRET.');
  }
  const aws = createAwsClients({ ...(opts.awsProfile ? { profile: opts.awsProfile } : {}) });
  let gathered: { inputs: Inputs; homeRegionGiven: boolean; credentials: LaceworkCredentials; organization?: { regions: string[] } };
  if (s.interactive) {
    const { createWizardContext, runWizard } = await import('../wizard/index.js');
    gathered = await runWizard(createWizardContext({ options: opts, aws, say: (l) => say(o, l), stateDir: s.stateDir, signal: s.signal }));
  } else {
    gathered = await fromFlags(opts, command);
    if (!o.json) say(o, o.c.dim(`FortiCNAPP credentials: ${gathered.credentials.source}. Reading the account…`));
  }
  const { credentials } = gathered;
  if (gathered.organization) return { organization: gathered.organization, credentials, inputs: gathered.inputs };
  const [{ planSetup }, { createLaceworkApi }] = await Promise.all([import('../provision/deployment.js'), import('../lacework/api.js')]);
  const lacework = createLaceworkApi(credentials);
  const regionHint = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  const sp = await planSetup(
    { aws, lacework, stateDir: s.stateDir, ...(regionHint ? { regionHint } : {}) },
    { inputs: gathered.inputs, homeRegionGiven: gathered.homeRegionGiven, laceworkAccount: credentials.account },
  );
  const inForce: InForce = {
    stateDir: s.stateDir,
    ...(opts.awsProfile ? { awsProfile: opts.awsProfile } : {}),
    ...(credentials.origin.keyFile ? { apiKeyFile: credentials.origin.keyFile } : {}),
    ...(credentials.origin.profile && opts.profile ? { profile: credentials.origin.profile } : {}),
    prefix: sp.desired.inputs.prefix,
    deploymentId: sp.deploymentId,
  };
  return { sp, credentials, aws, inForce };
}
