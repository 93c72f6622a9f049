/**
 * The wizard's context (create-astro's `Context`, reference/style.md §1): what every question group may use,
 * injected so that the groups are tested with a scripted prompter and fake lookups, and so that the wizard
 * imports nothing from cli/ or provision/. `given` holds what the flags answered, typed: a question whose
 * answer is already there is not asked (astro's `ctx.x ?? prompt`).
 *
 * `Answers` is what the groups fill in, one after the other (index.ts); `resolveInputs` turns its `setup` part
 * into `Inputs` once, at the end.
 */
import { homedir } from 'node:os';
import type { AwsClients } from '../aws/clients.js';
import type { ClusterSummary } from '../aws/lookups.js';
import { answersFromOptions, checkAnswers, type SetupAnswers, type SetupOptions } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { credentialInputs, type CredentialInputs, type LaceworkCredentials } from '../lacework/credentials.js';
import type { SavedAnswers, SavedCredentials } from './answers.js';
import { createPrompter, type Prompter } from './prompter.js';

/** A cluster as the checkbox shows it (name, EKS status, audit logging state; the last two unknown when denied). */
export type ClusterInfo = ClusterSummary;

/** What listing a region's clusters gave: the clusters, or why not (denied: type names; failed: another region). */
export type Listing = { clusters: ClusterInfo[] } | { denied: string } | { failed: string };

/** The read-only AWS lookups the wizard makes. `awsLookups` gives them over aws/lookups.ts; tests pass fakes. */
export interface WizardLookups {
  /**
   * The AWS account of the credentials in force (STS GetCallerIdentity).
   * @throws UsageError NoAwsCredentials | AwsProfileNotFound | AwsUnreachable | AwsCredentialsRejected (exit 2).
   */
  accountId(): Promise<string>;
  /** Every cluster of the region with status and audit state. Never throws: a failure is a `Listing` too. */
  clusters(region: string): Promise<Listing>;
  /** One cluster: 'not-found', or `{ denied }` when the caller may not look. @throws other AWS errors. */
  describeCluster(region: string, name: string): Promise<ClusterInfo | 'not-found' | { denied: string }>;
  /** Region of a bucket of this account: 'not-found', or 'denied' (another account's, or no access). @throws other AWS errors. */
  bucketRegion(bucket: string): Promise<string | 'not-found' | 'denied'>;
  /** Whether the caller's account manages an AWS Organization (false when it cannot tell). Never throws. */
  managesOrganization(): Promise<boolean>;
}

/** Everything a question group may use. */
export interface WizardContext {
  /** What the flags answered, typed (config/resolve.ts `answersFromOptions`); undefined fields are asked. */
  given: SetupAnswers;
  /** The FortiCNAPP credential flags as given; merged with LW_* and ~/.lacework.toml by the credentials group. */
  credentialFlags: CredentialInputs;
  /** The only door to the terminal's questions. */
  prompter: Prompter;
  lookups: WizardLookups;
  /** Shows one line to the person (never a secret). */
  say(line: string): void;
  /** Environment: AWS_REGION (default region), LW_* credentials, LW_PROFILE. */
  env: NodeJS.ProcessEnv;
  /** Home directory: `~/.lacework.toml`, and `~` in typed paths. */
  home: string;
  /** Where saved answers live (`<stateDir>/answers/<account>.json`). */
  stateDir: string;
  /** The session's signal: checked between questions, so a Ctrl+C during a lookup stops the wizard. */
  signal?: AbortSignal;
  /** Mints a FortiCNAPP token with the credentials. @throws an AppError whose message is fit to show. */
  verifyCredentials(c: LaceworkCredentials): Promise<void>;
}

/** What the question groups decide, filled in one group after the other. */
export interface Answers {
  /** The AWS account (known before the first question). */
  accountId: string;
  /** Setup's answers: the flags' (`given`) plus the person's. */
  setup: SetupAnswers;
  /** The saved answers the person chose to load (their values are the questions' defaults). */
  saved?: SavedAnswers;
  /** Whether the person said the clusters are in more than one region. */
  multiRegion: boolean;
  /** FortiCNAPP credentials, checked with a token call. */
  credentials?: LaceworkCredentials;
  /** How the key was given, to offer again next time (never the secret); undefined when flags, LW_* variables or a profile gave it. */
  savedCredentials?: SavedCredentials;
  /** Whether the advanced menu was opened. */
  advanced: boolean;
  /** Every member account of the organization, every ACTIVE cluster of these regions (the organization offer). */
  organization?: { regions: string[] };
}

/** The region STS and the first region question default to: AWS_REGION, then AWS_DEFAULT_REGION. */
export function envRegion(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
}

/**
 * The wizard's lookups over aws/lookups.ts (the SDK loads on the first call).
 * @param aws the command's client factory.
 * @param opts.env where AWS_REGION (the STS region) and AWS_PROFILE are read.
 * @param opts.signal stops a cluster listing in progress.
 */
export function awsLookups(aws: AwsClients, opts: { env: NodeJS.ProcessEnv; signal?: AbortSignal }): WizardLookups {
  const lookups = () => import('../aws/lookups.js');
  const errors = () => import('../aws/errors.js');
  let account: Promise<string> | undefined;
  const accountId = () => {
    account ??= lookups().then((l) => l.callerAccount(aws, envRegion(opts.env) ?? 'us-east-1', opts.env));
    return account;
  };
  return {
    accountId,
    async clusters(region) {
      const [l, e] = await Promise.all([lookups(), errors()]);
      try {
        return { clusters: await l.clusterSummaries(aws, region, opts.signal ? { signal: opts.signal } : {}) };
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (e.isAccessDenied(err)) return { denied: e.describeAwsError(err) };
        // An opt-in region the account has not enabled answers as if the credentials were bad.
        const optIn = e.isAwsError(err, 'UnrecognizedClientException', 'InvalidClientTokenId') ? '; is the region enabled for this account?' : '';
        return { failed: `${e.describeAwsError(err)}${optIn}` };
      }
    },
    async describeCluster(region, name) {
      const [l, e] = await Promise.all([lookups(), errors()]);
      try {
        const c = await l.describeCluster(aws, region, name);
        return c ? { name, status: c.status, auditEnabled: l.auditLoggingEnabled(c) } : 'not-found';
      } catch (err) {
        if (e.isAccessDenied(err)) return { denied: e.describeAwsError(err) };
        throw err;
      }
    },
    async bucketRegion(bucket) {
      const l = await lookups();
      return l.bucketRegion(aws, bucket, await accountId());
    },
    async managesOrganization() {
      const { managesOrganization } = await import('../aws/organizations.js');
      return managesOrganization(aws, await accountId());
    },
  };
}

/**
 * Builds the context the cli passes to `runWizard`, from commander's options.
 * @param o.options the command's options (flags become `given`; credential flags become `credentialFlags`).
 * @param o.aws the command's AWS client factory (its profile is the one in force).
 * @param o.say how a line reaches the person (the cli's output; never a secret is passed).
 * @param o.stateDir the state dir in force (`--state-dir`).
 * @param o.signal the session's signal (Ctrl+C).
 * @param o.prompter default: the terminal prompter (`createPrompter(signal)`).
 * @param o.env default process.env. @param o.home default os.homedir().
 * @param o.verifyCredentials default: a token call with lacework/api.ts.
 * @throws UsageError (exit 2) with every flag problem at once: a wrong flag is a typo to fix on the command line,
 *   not a question to answer (as with --non-interactive).
 */
export function createWizardContext(o: {
  options: SetupOptions;
  aws: AwsClients;
  say(line: string): void;
  stateDir: string;
  signal?: AbortSignal;
  prompter?: Prompter;
  env?: NodeJS.ProcessEnv;
  home?: string;
  verifyCredentials?(c: LaceworkCredentials): Promise<void>;
}): WizardContext {
  const { answers, problems } = answersFromOptions(o.options);
  const all = [...problems, ...checkAnswers(answers)];
  if (all.length > 0) throw new UsageError(all);
  const env = o.env ?? process.env;
  return {
    given: answers,
    credentialFlags: credentialInputs(o.options),
    prompter: o.prompter ?? createPrompter(o.signal),
    lookups: awsLookups(o.aws, { env, ...(o.signal ? { signal: o.signal } : {}) }),
    say: o.say,
    env,
    home: o.home ?? homedir(),
    stateDir: o.stateDir,
    ...(o.signal ? { signal: o.signal } : {}),
    verifyCredentials:
      o.verifyCredentials ??
      (async (c) => {
        const { createLaceworkApi } = await import('../lacework/api.js');
        await createLaceworkApi(c).verify();
      }),
  };
}
