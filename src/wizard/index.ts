/**
 * The interactive wizard (DESIGN §2, §5): the `lacework generate k8s eks` flow (reference/lacework.md §1.3-1.5),
 * its bugs fixed, shaped like create-astro (reference/style.md §1): a context, then one small module per question
 * group, each awaited in turn, each working on typed answers. A flag answers its question (the question is not
 * asked); a typed answer passes the flag's validator or is asked again; `resolveInputs` runs once, on the result,
 * so provisioning cannot tell a wizard run from a flags run.
 *
 * Order: the AWS account (STS, before any question: without credentials the first screen says so and nothing is
 * asked) -> saved answers for this account -> regions and clusters -> FortiCNAPP credentials (checked once) ->
 * advanced options -> answers saved (never a secret; the file is left alone when nothing changed).
 *
 * How the cli uses it:
 *
 *     const ctx = createWizardContext({ options, aws, say, stateDir, signal });   // throws UsageError for bad flags
 *     const { inputs, homeRegionGiven, credentials, accountId, answersFile } = await runWizard(ctx);
 *
 * The wizard imports nothing from cli/ or provision/; lines reach the person through `ctx.say`, questions through
 * `ctx.prompter` (prompter.ts, the only door to @inquirer).
 */
import { checkAnswers, REGION_CLUSTERS_REQUIRED, resolveInputs } from '../config/resolve.js';
import type { Inputs } from '../config/inputs.js';
import { UsageError, errorMessage } from '../errors.js';
import type { LaceworkCredentials } from '../lacework/credentials.js';
import { saveAnswers } from './answers.js';
import type { Answers, WizardContext } from './context.js';
import { advanced, savedOfAnswers } from './questions/advanced.js';
import { credentials } from './questions/credentials.js';
import { regions } from './questions/regions.js';
import { organization } from './questions/organization.js';
import { savedAnswers } from './questions/saved-answers.js';
import { checkAbort } from './questions/shared.js';

export { createWizardContext, awsLookups, envRegion, type WizardContext, type WizardLookups, type Answers, type Listing, type ClusterInfo } from './context.js';

/** What the wizard gives the setup and plan commands. */
export interface WizardResult {
  /** The resolved inputs (flags and answers together), as `resolveFlags` gives them for a flags-only run. */
  inputs: Inputs;
  /** Whether the home region was chosen (`--home-region`, or the advanced menu) rather than defaulted. */
  homeRegionGiven: boolean;
  /**
   * FortiCNAPP credentials, already checked with a token call (the wizard said the outcome in one line: the cli
   * need not announce another check). `origin` says where the key came from (key file path or profile).
   */
  credentials: LaceworkCredentials;
  /** The AWS account the answers are for (STS GetCallerIdentity, asked before the first question). */
  accountId: string;
  /** The saved-answers file, when saving worked (written, or already up to date). */
  answersFile?: string;
  /** The person chose every member account of the organization, every ACTIVE cluster of these regions. */
  organization?: { regions: string[] };
}

/** The question groups, in order: each reads the context and fills `Answers`. */
const GROUPS: ((ctx: WizardContext, a: Answers) => Promise<void>)[] = [
  organization,
  savedAnswers,
  // The organization path connects every cluster of the chosen regions: no cluster questions.
  (ctx, a) => (a.organization ? Promise.resolve() : regions(ctx, a)),
  credentials,
  advanced,
];

/**
 * Runs the wizard: asks what the flags did not answer and returns what setup needs.
 * @throws UsageError (exit 2): a flag problem (all at once, before anything else), no usable AWS credentials
 *   (`NoAwsCredentials`, `AwsProfileNotFound`, `AwsUnreachable`, `AwsCredentialsRejected`: before the first
 *   question), an unreadable `--api-key-file`, a rejected key the flags gave.
 * @throws UserAbort (exit 130) on Ctrl+C at a question or during a lookup (`ctx.signal`).
 */
export async function runWizard(ctx: WizardContext): Promise<WizardResult> {
  const flagProblems = checkAnswers(ctx.given);
  if (flagProblems.length > 0) throw new UsageError(flagProblems);

  const accountId = await ctx.lookups.accountId();
  ctx.say(`AWS account ${accountId}.`);
  const a: Answers = { accountId, setup: { ...ctx.given }, multiRegion: false, advanced: false };
  for (const ask of GROUPS) {
    checkAbort(ctx.signal);
    await ask(ctx, a);
  }

  const resolved = resolveInputs(a.setup);
  // The organization path finds the clusters per account: the inputs carry only what every account shares.
  if (a.organization) resolved.problems = resolved.problems.filter((p) => p !== REGION_CLUSTERS_REQUIRED);
  // Every answer passed its flag's validator, so this only trips on a combination the questions should have
  // prevented; report it like a flag problem rather than run with it.
  if (resolved.problems.length > 0) throw new UsageError(resolved.problems);
  if (!a.credentials) throw new Error('the credentials question group ended without credentials');

  // Saved before the plan, so a "No" at "Apply these changes?" keeps them too.
  let answersFile: string | undefined;
  try {
    answersFile = saveAnswers(ctx.stateDir, {
      accountId,
      regionClusters: resolved.inputs.regionClusters,
      multiRegion: a.multiRegion,
      advanced: a.advanced,
      options: savedOfAnswers(a.setup),
      ...(a.savedCredentials ? { credentials: a.savedCredentials } : {}),
    }).path;
  } catch (err) {
    ctx.say(`(Could not save these answers for next time: ${errorMessage(err)})`);
  }
  return {
    inputs: resolved.inputs,
    homeRegionGiven: resolved.homeRegionGiven,
    credentials: a.credentials,
    accountId,
    ...(answersFile ? { answersFile } : {}),
    ...(a.organization ? { organization: a.organization } : {}),
  };
}
