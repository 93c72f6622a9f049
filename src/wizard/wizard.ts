/**
 * The interactive wizard (issue 3): the `lacework generate k8s eks` flow (reference/lacework.md §1.3-1.5),
 * its bugs fixed, on the flags' code path. Every answer is written into the same `SetupOptions` a command
 * line would give, and the result goes through the same `resolveInputs` and `resolveCredentials` as
 * `--non-interactive`, so provisioning cannot tell a wizard run from a flags run. A flag answers its
 * question (the question is not asked); a typed answer passes the flag's validator or is asked again.
 *
 * Order: saved answers for this AWS account -> more than one region? -> region -> clusters (a checkbox of
 * what the region really has, audit logging state shown; typed names when listing is denied) -> another
 * region? -> FortiCNAPP credentials (LW_* / ~/.lacework.toml when they resolve; else key file or typed key)
 * -> advanced options menu -> answers saved (never a secret). setup.ts then shows the plan and confirms.
 *
 * Loading the AWS SDK: the first question comes before any SDK use when nothing was saved before. When saved
 * answers exist in the state dir, the wizard must know the AWS account to offer the right file, so it calls
 * STS GetCallerIdentity first (one call; the SDK then loads before the first question, by necessity).
 * Otherwise STS starts in the background once the first question is answered.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { UsageError, AppError, UserAbort, errorMessage } from '../errors.js';
import { defaultIntegrationName } from '../config/inputs.js';
import { splitClusters } from '../config/validate.js';
import { say } from '../cli/render.js';
import { resolveCredentials, readKeyFile, type CredentialInputs, type LaceworkCredentials } from '../lacework/credentials.js';
import type { Session } from '../cli/session.js';
import { credentialInputs, type Gathered } from '../cli/commands/setup.js';
import { resolveInputs, type SetupOptions } from './resolve.js';
import { createPrompter, type Choice, type Prompter } from './prompter.js';
import { hasSavedAnswers, loadAnswers, saveAnswers, type SavedAnswers, type SavedCredentials } from './answers.js';
import { ADVANCED_MENU, QUESTIONS as Q, flagOf, type AdvancedItem } from './questions.js';
import type { AwsClients } from '../aws/clients.js';

/** A cluster as the checkbox shows it. */
export interface ClusterInfo {
  name: string;
  /** EKS status, e.g. ACTIVE or CREATING; undefined when DescribeCluster was denied. */
  status?: string;
  /** undefined when DescribeCluster was denied. */
  auditEnabled?: boolean;
}

/** What listing a region's clusters gave. */
export type Listing = { clusters: ClusterInfo[] } | { denied: string } | { failed: string };

/** The read-only AWS lookups the wizard makes (injected, so the flow is unit-tested without AWS). */
export interface WizardAws {
  /** STS GetCallerIdentity. @throws UsageError NoAwsCredentials. */
  accountId(): Promise<string>;
  /** ListClusters, then DescribeCluster of each (bounded concurrency). Never throws. */
  listClusters(region: string): Promise<Listing>;
  /** DescribeCluster; 'not-found', or `{ denied }` when the caller may not look. */
  describeCluster(region: string, name: string): Promise<ClusterInfo | 'not-found' | { denied: string }>;
  /** Region of a bucket: 'not-found', or 'denied' (another account's bucket, or no access). */
  bucketRegion(bucket: string): Promise<string | 'not-found' | 'denied'>;
}

/** Everything the wizard touches besides the options. */
export interface WizardDeps {
  prompter: Prompter;
  aws: WizardAws;
  env: NodeJS.ProcessEnv;
  /** Home directory for `~/.lacework.toml` and `~/` in typed paths; default os.homedir(). */
  home?: string;
  stateDir: string;
  /** A line for the person (never a secret). */
  say(line: string): void;
  /** Mints a FortiCNAPP token with typed credentials. @throws AppError with a message fit to show. */
  verifyCredentials(c: LaceworkCredentials): Promise<void>;
  /** The session's signal: checked between questions so a Ctrl+C during a lookup stops the wizard. */
  signal?: AbortSignal;
}

/** What the wizard produced, besides what setup needs: where the answers went (for tests and messages). */
export interface WizardResult extends Gathered {
  answersFile?: string;
}

/** Entry point used by setup.ts on a terminal. */
export async function runWizard(opts: SetupOptions, s: Session, _command: 'setup' | 'plan'): Promise<Gathered> {
  const aws = await realWizardAws(opts.awsProfile, process.env);
  const result = await wizard(opts, {
    prompter: createPrompter(s.signal),
    aws,
    env: process.env,
    stateDir: s.stateDir,
    say: (line) => say(s.o, line),
    signal: s.signal,
    async verifyCredentials(c) {
      const { createLaceworkApi } = await import('../lacework/api.js');
      await createLaceworkApi(c).verify();
    },
  });
  return { inputs: result.inputs, credentials: result.credentials };
}

/** The region STS and the first region question default to: AWS_REGION, then AWS_DEFAULT_REGION. */
export function envRegion(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
}

/** Options the person gave as flags: commander fills `--no-x` options with `true`, so only `false` counts. */
function given(opts: SetupOptions, key: keyof SetupOptions): boolean {
  const v = opts[key];
  if (key === 'kms' || key === 'bucketVersioning') return v === false;
  return v !== undefined && !(Array.isArray(v) && v.length === 0);
}

function expandPath(path: string, home: string): string {
  const p = path.replace(/^~(?=$|\/)/, home);
  return isAbsolute(p) ? p : resolvePath(p);
}

/**
 * The wizard proper: asks what the flags did not answer and returns what setup needs.
 * @throws UsageError (exit 2) for bad flags, UserAbort (exit 130) on Ctrl+C.
 */
export async function wizard(opts: SetupOptions, d: WizardDeps): Promise<WizardResult> {
  const p = d.prompter;
  const home = d.home ?? homedir();
  const checkAbort = () => {
    if (d.signal?.aborted) throw new UserAbort('Interrupted: nothing was changed.');
  };

  // Flags are checked once, up front, with every problem at once (as --non-interactive does): a wrong flag is a
  // typo to fix on the command line, not a question to answer.
  const flagProblems = resolveInputs(opts).problems;
  if (flagProblems.length > 0) throw new UsageError(flagProblems);

  const answers: SetupOptions = { ...opts };

  // Account id, needed to pick (and later save) this account's answers. Memoized; a failure is kept for
  // whoever awaits it, never left as an unhandled rejection while a question is open.
  let accountP: Promise<string> | undefined;
  const account = () => {
    if (!accountP) {
      accountP = d.aws.accountId();
      accountP.catch(() => {});
    }
    return accountP;
  };

  // 1. Saved answers (reference §1.3: "Previous IaC generation detected, load cached values?", default No).
  let saved: SavedAnswers | undefined;
  if (hasSavedAnswers(d.stateDir)) {
    const found = loadAnswers(d.stateDir, await account());
    if (found) {
      const when = found.savedAt ? ` (saved ${found.savedAt.slice(0, 16).replace('T', ' ')} UTC)` : '';
      d.say(`Previous answers for AWS account ${found.accountId}${when}: ${describeRegionClusters(found.regionClusters)}.`);
      if (await p.confirm({ message: Q.loadSaved.message, default: false })) saved = found;
    }
  }

  // 2. Regions and clusters, unless --region-clusters answered them (no "configure additional?" question: a
  // flag answers its question; the reference's R0 let a "no multi-region" answer add a second region anyway).
  let multiRegion = Object.keys(resolveInputs(opts).inputs.regionClusters).length > 1;
  if (!given(opts, 'regionClusters')) {
    const savedRegions = Object.keys(saved?.regionClusters ?? {});
    multiRegion = await p.confirm({ message: Q.multiRegion.message, default: saved ? savedRegions.length > 1 || saved.multiRegion : false });
    void account(); // start STS (and the SDK) while the person reads the next question
    const regionClusters: Record<string, string[]> = {};
    for (let i = 0; ; i++) {
      checkAbort();
      const { region, clusters } = await askRegion(d, opts, i, savedRegions[i] ?? (i === 0 ? envRegion(d.env) : undefined), regionClusters, saved, account);
      regionClusters[region] = clusters;
      if (!multiRegion) break;
      checkAbort();
      const more = await p.confirm({ message: Q.anotherRegion.message, default: i + 1 < savedRegions.length });
      if (!more) break;
    }
    answers.regionClusters = Object.entries(regionClusters).map(([r, c]) => `${r}=${c.join(',')}`);
  }

  // 3. FortiCNAPP credentials.
  checkAbort();
  const { credentials, savedCredentials } = await askCredentials(d, opts, answers, saved?.credentials, home);

  // 4. Advanced options.
  checkAbort();
  const savedOptions = saved?.options ?? {};
  const hasSavedOptions = Object.values(savedOptions).some((v) => v !== undefined);
  const advanced = await p.confirm({ message: Q.advanced.message, default: saved ? saved.advanced || hasSavedOptions : false });
  if (advanced) {
    await advancedMenu(d, opts, answers, saved, account);
  }

  const resolved = resolveInputs(answers);
  // Every answer passed its flag's validator, so this only trips on a combination the menu should have
  // prevented; report it like a flag problem rather than run with it.
  if (resolved.problems.length > 0) throw new UsageError(resolved.problems);

  // 5. Save the answers (never a secret) before the plan, so a "No" at "Apply these changes?" keeps them too.
  let answersFile: string | undefined;
  try {
    const accountId = await account();
    answersFile = saveAnswers(d.stateDir, {
      accountId,
      regionClusters: resolved.inputs.regionClusters,
      multiRegion,
      advanced,
      options: {
        existingBucketArn: answers.existingBucketArn,
        bucketLifecycleDays: answers.bucketLifecycleDays,
        bucketVersioning: answers.bucketVersioning === false ? false : undefined,
        existingCaRoleArn: answers.existingCaRoleArn,
        existingCaExternalId: answers.existingCaExternalId,
        existingFirehoseRoleArn: answers.existingFirehoseRoleArn,
        existingCwRoleArn: answers.existingCwRoleArn,
        kmsKeyArn: answers.kmsKeyArn,
        noKms: answers.kms === false ? true : undefined,
        integrationName: answers.integrationName,
        homeRegion: answers.homeRegion,
      },
      ...(savedCredentials ? { credentials: savedCredentials } : {}),
    });
  } catch (err) {
    if (err instanceof UsageError) throw err; // no AWS credentials: setup could not go on anyway
    d.say(`(Could not save these answers for next time: ${errorMessage(err)})`);
  }
  return { inputs: resolved, credentials, ...(answersFile ? { answersFile } : {}) };
}

function describeRegionClusters(rc: Record<string, string[]>): string {
  const parts = Object.entries(rc).map(([r, c]) => `${r}: ${c.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'no clusters';
}

/** One pass of the region loop: the region (validated, and listed while validating), then its clusters. */
async function askRegion(
  d: WizardDeps,
  opts: SetupOptions,
  index: number,
  defaultRegion: string | undefined,
  chosen: Record<string, string[]>,
  saved: SavedAnswers | undefined,
  account: () => Promise<string>,
): Promise<{ region: string; clusters: string[] }> {
  const listings = new Map<string, Promise<Listing>>();
  const listing = (region: string) => {
    let l = listings.get(region);
    if (!l) {
      l = d.aws.listClusters(region);
      listings.set(region, l);
    }
    return l;
  };
  const auditLocked = opts.enableAuditLogging === false;
  const region = await d.prompter.input({
    message: index === 0 ? Q.region.message : 'Next AWS region:',
    default: defaultRegion && !chosen[defaultRegion] ? defaultRegion : undefined,
    async validate(value) {
      const bad = Q.region.validate(value);
      if (bad) return bad;
      if (chosen[value]) return `${value} is already configured; type another region.`;
      const l = await listing(value);
      if ('clusters' in l) {
        // A checkbox with nothing to tick could never be answered: say why here, at the region.
        if (l.clusters.length === 0) return `There are no EKS clusters in ${value}; type the region your clusters run in.`;
        const active = l.clusters.filter((c) => c.status === 'ACTIVE' || c.status === undefined);
        if (active.length === 0) {
          return `No EKS cluster in ${value} is ACTIVE (${l.clusters.map((c) => `${c.name}: ${c.status}`).join(', ')}); wait until one is, or type another region.`;
        }
        if (auditLocked && active.every((c) => c.auditEnabled === false)) {
          return `Audit logging is off on every EKS cluster in ${value} and --no-enable-audit-logging was given; drop that flag to let setup turn it on, or type another region.`;
        }
      }
      return undefined;
    },
  });
  const l = await listing(region);
  const savedClusters = saved?.regionClusters[region] ?? [];
  if ('clusters' in l) {
    const width = Math.max(...l.clusters.map((c) => c.name.length));
    const choices: Choice<string>[] = l.clusters.map((c) => {
      const audit =
        c.auditEnabled === undefined ? 'audit logging: unknown' : c.auditEnabled ? 'audit logging on' : auditLocked ? 'audit logging off' : 'audit logging off (setup turns it on)';
      const notActive = c.status !== undefined && c.status !== 'ACTIVE' ? `${c.status}, not ACTIVE` : undefined;
      const blocked = c.auditEnabled === false && auditLocked ? 'audit logging off and --no-enable-audit-logging given' : undefined;
      return {
        value: c.name,
        name: `${c.name.padEnd(width)}  ${audit}`,
        short: c.name,
        checked: savedClusters.includes(c.name) && !notActive && !blocked,
        ...(notActive || blocked ? { disabled: notActive ?? blocked } : {}),
      };
    });
    const clusters = await d.prompter.checkbox({
      message: Q.clusters.message(region),
      choices,
      validate: (picked) => (picked.length === 0 ? 'Pick at least one cluster: Space ticks it, Enter confirms.' : undefined),
    });
    return { region, clusters };
  }
  if ('failed' in l) {
    // Bad AWS credentials fail every call; say so plainly (NoAwsCredentials, exit 2) instead of asking for names.
    await account();
  }
  const why = 'denied' in l ? `listing is not allowed: ${l.denied}` : l.failed;
  d.say(`Cannot list the EKS clusters in ${region} (${why}); type their names instead.`);
  const typed = await d.prompter.input({
    message: Q.clusterNames.message(region),
    default: savedClusters.length > 0 ? savedClusters.join(',') : undefined,
    async validate(value) {
      const bad = Q.clusterNames.validate(value);
      if (bad) return bad;
      const problems: string[] = [];
      for (const name of splitClusters(value)) {
        const c = await d.aws.describeCluster(region, name);
        if (c === 'not-found') problems.push(`EKS cluster '${name}' was not found in ${region}; check the name (aws eks list-clusters --region ${region}).`);
        else if ('denied' in c) continue; // may not look: preflight tells if it is wrong
        else if (c.status !== undefined && c.status !== 'ACTIVE') problems.push(`EKS cluster '${name}' is ${c.status}, not ACTIVE; wait until it is ACTIVE, or leave it out.`);
        else if (c.auditEnabled === false && auditLocked) problems.push(`Audit logging is off on '${name}' and --no-enable-audit-logging was given; leave it out.`);
      }
      return problems.length > 0 ? problems.join(' ') : undefined;
    },
  });
  return { region, clusters: splitClusters(typed) };
}

type Method = 'key-file' | 'typed';

/**
 * FortiCNAPP credentials: flags, LW_* and ~/.lacework.toml first (said which, not asked); otherwise the key
 * file path or the key typed in. Typed credentials are tried at once (a token call) and asked again if the
 * API rejects them, so a typo costs a retype, not a rerun.
 */
async function askCredentials(
  d: WizardDeps,
  opts: SetupOptions,
  answers: SetupOptions,
  saved: SavedCredentials | undefined,
  home: string,
): Promise<{ credentials: LaceworkCredentials; savedCredentials?: SavedCredentials }> {
  const p = d.prompter;
  const fromFlags: CredentialInputs = credentialInputs(opts);
  // Throws UsageError for a bad --api-key-file or a missing --profile: flag problems end the run (exit 2).
  const first = await resolveCredentials(fromFlags, d.env, home);
  if (first.credentials) {
    d.say(`FortiCNAPP credentials found: using ${first.credentials.source}.`);
    return { credentials: first.credentials };
  }

  let method: Method = saved?.method ?? 'key-file';
  let keyFile = saved?.apiKeyFile;
  let typedAccount = saved?.account;
  for (;;) {
    if (d.signal?.aborted) throw new UserAbort('Interrupted: nothing was changed.');
    method = await p.select<Method>({
      message: Q.credentialMethod.message,
      default: method,
      choices: [
        { value: 'key-file', name: 'Path of the API key file downloaded from the FortiCNAPP console', short: 'key file' },
        { value: 'typed', name: 'Type the account, API key id and secret', short: 'type the key' },
      ],
    });
    const inputs: CredentialInputs = { ...fromFlags };
    if (method === 'key-file') {
      const path = await p.input({
        message: Q.apiKeyFile.message,
        default: keyFile,
        async validate(value) {
          if (value === '') return 'Type the path of the downloaded JSON key file, e.g. ~/Downloads/ACME_ABC123.json.';
          try {
            await readKeyFile(expandPath(value, home));
            return undefined;
          } catch (err) {
            return errorMessage(err); // names the path and what is wrong; never the secret
          }
        },
      });
      keyFile = path;
      inputs.apiKeyFile = expandPath(path, home);
    }
    // What is still missing after the key file (a key file may lack the account) or for a typed key.
    const partial = await resolveCredentials(inputs, d.env, home);
    if (!partial.credentials) {
      if (partial.missing.includes('--account')) {
        inputs.account = await p.input({ message: Q.account.message, default: typedAccount ?? d.env.LW_ACCOUNT?.trim(), validate: Q.account.validate });
        typedAccount = inputs.account;
      }
      if (partial.missing.includes('--api-key')) {
        inputs.apiKey = await p.input({ message: Q.apiKey.message, validate: Q.apiKey.validate });
      }
      if (partial.missing.includes('--api-secret')) {
        inputs.apiSecret = await p.password({ message: Q.apiSecret.message, validate: Q.apiSecret.validate });
      }
    }
    const r = await resolveCredentials(inputs, d.env, home);
    if (!r.credentials) throw new UsageError(`FortiCNAPP credentials are still incomplete (missing ${r.missing.join(', ')}).`);
    const typed = inputs.account !== opts.account || inputs.apiKey !== opts.apiKey || inputs.apiSecret !== opts.apiSecret;
    const credentials: LaceworkCredentials = typed
      ? { ...r.credentials, source: r.credentials.source.replace(/^flags\b/, given(opts, 'account') || given(opts, 'apiKey') ? 'flags and your answers' : 'your answers') }
      : r.credentials;
    try {
      d.say('Checking the FortiCNAPP API key…');
      await d.verifyCredentials(credentials);
      d.say(`FortiCNAPP API key accepted (account ${credentials.account}${credentials.subaccount ? `, sub-account ${credentials.subaccount}` : ''}).`);
    } catch (err) {
      if (err instanceof UserAbort) throw err;
      // A rejected key or an unreachable account: say why and ask again (never quoting the secret).
      d.say(`✗ ${err instanceof AppError ? err.message : errorMessage(err)}`);
      continue;
    }
    answers.apiKeyFile = inputs.apiKeyFile;
    answers.account = inputs.account;
    answers.apiKey = inputs.apiKey;
    answers.apiSecret = inputs.apiSecret;
    return {
      credentials,
      savedCredentials: {
        method,
        ...(method === 'key-file' && keyFile ? { apiKeyFile: keyFile } : {}),
        ...(credentials.account ? { account: credentials.account } : {}),
      },
    };
  }
}

/** Current value of an advanced item, for the menu's descriptions. */
function describeItem(item: AdvancedItem, a: SetupOptions, homeDefault: string): string | undefined {
  switch (item) {
    case 'bucket':
      return a.existingBucketArn
        ? `existing bucket ${a.existingBucketArn}`
        : `new bucket, objects expire after ${a.bucketLifecycleDays ?? '180'} days, versioning ${a.bucketVersioning === false ? 'off' : 'on'}`;
    case 'caRole':
      return a.existingCaRoleArn ? `existing role ${a.existingCaRoleArn}` : 'a new role is created';
    case 'firehose':
      return a.existingFirehoseRoleArn ? `existing Firehose role ${a.existingFirehoseRoleArn}` : 'a new Firehose role is created';
    case 'cwRole':
      return a.existingCwRoleArn ? `existing role ${a.existingCwRoleArn}` : 'a new role is created';
    case 'kms':
      return a.kmsKeyArn ? `existing key ${a.kmsKeyArn}` : a.kms === false ? 'no KMS key' : 'a new KMS key is created';
    case 'integrationName':
      return a.integrationName ? `"${a.integrationName}"` : 'the default name';
    case 'homeRegion':
      return a.homeRegion ?? `${homeDefault} (the first region)`;
    default:
      return undefined;
  }
}

/** The advanced menu (reference §1.5), shown again after each item until Done. */
async function advancedMenu(
  d: WizardDeps,
  opts: SetupOptions,
  a: SetupOptions,
  saved: SavedAnswers | undefined,
  account: () => Promise<string>,
): Promise<void> {
  const p = d.prompter;
  const so = saved?.options ?? {};
  // Saved values become the current values of the items the flags did not set: Enter through the menu
  // ("Done") reproduces the last run; any item can still be changed.
  const fill = <K extends keyof SetupOptions>(key: K, value: SetupOptions[K] | undefined) => {
    if (!given(opts, key) && value !== undefined) a[key] = value;
  };
  fill('existingBucketArn', so.existingBucketArn);
  if (!so.existingBucketArn) {
    fill('bucketLifecycleDays', so.bucketLifecycleDays);
    if (so.bucketVersioning === false) fill('bucketVersioning', false);
  }
  if (so.existingCaRoleArn && so.existingCaExternalId && !given(opts, 'existingCaRoleArn')) {
    a.existingCaRoleArn = so.existingCaRoleArn;
    a.existingCaExternalId = so.existingCaExternalId;
  }
  fill('existingFirehoseRoleArn', so.existingFirehoseRoleArn);
  fill('existingCwRoleArn', so.existingCwRoleArn);
  if (!given(opts, 'kmsKeyArn') && !given(opts, 'kms')) {
    if (so.kmsKeyArn) a.kmsKeyArn = so.kmsKeyArn;
    else if (so.noKms) a.kms = false;
  }
  fill('integrationName', so.integrationName);
  const regions = () => (a.regionClusters ?? []).map((rc) => rc.slice(0, rc.indexOf('=')).trim());
  if (so.homeRegion && regions().includes(so.homeRegion)) fill('homeRegion', so.homeRegion);
  const home = () => a.homeRegion ?? regions()[0] ?? '';

  let last: AdvancedItem = hasAny(so) ? 'done' : 'bucket';
  for (;;) {
    if (d.signal?.aborted) throw new UserAbort('Interrupted: nothing was changed.');
    const choices: Choice<AdvancedItem>[] = ADVANCED_MENU.filter((m) => m.item !== 'homeRegion' || regions().length > 1).map((m) => {
      const setBy = m.flags.filter((f) => given(opts, f)).map(flagOf);
      const description = describeItem(m.item, a, home());
      return {
        value: m.item,
        name: m.name,
        ...(description ? { description } : {}),
        ...(setBy.length > 0 ? { disabled: `set by ${setBy.join(', ')}` } : {}),
      };
    });
    const item = await p.select<AdvancedItem>({ message: Q.advancedMenu.message, choices, default: last });
    if (item === 'done') return;
    switch (item) {
      case 'bucket':
        await bucketSettings(d, a, home);
        break;
      case 'caRole': {
        const arn = await p.input({ message: Q.existingCaRoleArn.message, default: a.existingCaRoleArn, validate: Q.existingCaRoleArn.validate });
        if (arn === '') {
          a.existingCaRoleArn = undefined;
          a.existingCaExternalId = undefined;
        } else {
          a.existingCaRoleArn = arn;
          a.existingCaExternalId = await p.input({ message: Q.existingCaExternalId.message, default: a.existingCaExternalId, validate: Q.existingCaExternalId.validate });
        }
        break;
      }
      case 'firehose': {
        const use = await p.confirm({ message: Q.useExistingFirehoseRole.message, default: a.existingFirehoseRoleArn !== undefined });
        a.existingFirehoseRoleArn = use
          ? await p.input({ message: Q.existingFirehoseRoleArn.message, default: a.existingFirehoseRoleArn, validate: Q.existingFirehoseRoleArn.validate })
          : undefined;
        break;
      }
      case 'cwRole': {
        const arn = await p.input({ message: Q.existingCwRoleArn.message, default: a.existingCwRoleArn, validate: Q.existingCwRoleArn.validate });
        a.existingCwRoleArn = arn === '' ? undefined : arn;
        break;
      }
      case 'kms': {
        const choice = await p.select<'new' | 'existing' | 'none'>({
          message: Q.kmsChoice.message,
          default: a.kmsKeyArn ? 'existing' : a.kms === false ? 'none' : 'new',
          choices: [
            { value: 'new', name: 'Create a KMS key for them (default)' },
            { value: 'existing', name: 'Use an existing KMS key' },
            { value: 'none', name: 'No KMS key: SSE-S3 on the bucket, AWS-owned key on the stream, unencrypted topic' },
          ],
        });
        if (choice === 'existing') {
          a.kmsKeyArn = await p.input({
            message: Q.kmsKeyArn.message,
            default: a.kmsKeyArn,
            validate: (v) => {
              const bad = Q.kmsKeyArn.validate(v);
              if (bad) return bad;
              const region = v.split(':')[3];
              return region !== home() ? `The key is in ${region}, but the bucket, topic and stream live in ${home()}; use a key of ${home()}.` : undefined;
            },
          });
          a.kms = true;
        } else {
          a.kmsKeyArn = undefined;
          a.kms = choice === 'none' ? false : true;
        }
        break;
      }
      case 'integrationName': {
        const byDefault = defaultIntegrationName(await account());
        const name = await p.input({
          message: Q.integrationName.message,
          default: a.integrationName ?? byDefault,
          validate: Q.integrationName.validate,
        });
        // The default stays a default (not a saved choice), so it follows the account if that ever changes.
        a.integrationName = name === byDefault ? undefined : name;
        break;
      }
      case 'homeRegion': {
        a.homeRegion = await p.select<string>({
          message: Q.homeRegion.message,
          default: home(),
          choices: regions().map((r) => ({ value: r, name: r })),
        });
        // A key or bucket picked for the old home region no longer fits: drop it now rather than fail in preflight.
        if (a.kmsKeyArn && a.kmsKeyArn.split(':')[3] !== home()) {
          d.say(`The KMS key ${a.kmsKeyArn} is not in ${home()}; a new key will be created (or pick one of ${home()} under encryption settings).`);
          a.kmsKeyArn = undefined;
        }
        if (a.existingBucketArn && !given(opts, 'existingBucketArn')) {
          const where = await d.aws.bucketRegion(a.existingBucketArn.replace(/^arn:aws:s3:::/, '').replace(/\/$/, ''));
          if (where !== home()) {
            d.say(`The bucket ${a.existingBucketArn} is not in ${home()}; a new bucket will be created (or pick one of ${home()} under bucket settings).`);
            a.existingBucketArn = undefined;
          }
        }
        break;
      }
    }
    last = 'done'; // after an item, Enter finishes (the reference asked "Configure another…?" instead)
  }
}

function hasAny(o: object): boolean {
  return Object.values(o).some((v) => v !== undefined);
}

/** Bucket settings: an existing bucket (checked: it exists, this account can reach it, home region) or the new one's. */
async function bucketSettings(d: WizardDeps, a: SetupOptions, home: () => string): Promise<void> {
  const p = d.prompter;
  const useExisting = await p.confirm({ message: Q.useExistingBucket.message, default: a.existingBucketArn !== undefined });
  if (useExisting) {
    a.existingBucketArn = await p.input({
      message: Q.existingBucketArn.message,
      default: a.existingBucketArn,
      async validate(v) {
        const bad = Q.existingBucketArn.validate(v);
        if (bad) return bad;
        const bucket = v.replace(/^arn:aws:s3:::/, '').replace(/\/$/, '');
        const where = await d.aws.bucketRegion(bucket);
        if (where === 'not-found') return `Bucket ${bucket} does not exist; check the ARN.`;
        if (where === 'denied') return `Bucket ${bucket} belongs to another account or denies access; use a bucket of this account.`;
        if (where !== home()) {
          return `Bucket ${bucket} is in ${where}, but the home region is ${home()}; S3 notifies only an SNS topic in its own region, so pick a bucket in ${home()}${(a.regionClusters ?? []).length > 1 ? ' or choose the home region first' : ''}.`;
        }
        return undefined;
      },
    });
    // These apply to a bucket the tool creates only (resolve.ts refuses the combination).
    a.bucketLifecycleDays = undefined;
    a.bucketVersioning = true;
    return;
  }
  a.existingBucketArn = undefined;
  a.bucketLifecycleDays = await p.input({
    message: Q.bucketLifecycleDays.message,
    default: a.bucketLifecycleDays ?? '180',
    validate: Q.bucketLifecycleDays.validate,
  });
  a.bucketVersioning = await p.confirm({ message: Q.bucketVersioning.message, default: a.bucketVersioning !== false });
}

/** The AWS lookups over the SDK, loaded on first use. */
export async function realWizardAws(profile: string | undefined, env: NodeJS.ProcessEnv, clients?: AwsClients): Promise<WizardAws> {
  let awsP: Promise<AwsClients> | undefined;
  const aws = () => (awsP ??= clients ? Promise.resolve(clients) : import('../aws/clients.js').then((m) => m.createAwsClients({ profile })));
  const errors = () => import('../aws/errors.js');
  const describe = async (region: string, name: string): Promise<ClusterInfo | 'not-found' | { denied: string }> => {
    const { DescribeClusterCommand } = await import('@aws-sdk/client-eks');
    const { isNotFound, isAccessDenied, describeAwsError } = await errors();
    const eks = await (await aws()).eks(region);
    try {
      const c = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
      const audit = (c?.logging?.clusterLogging ?? []).some((l) => l.enabled && (l.types ?? []).includes('audit'));
      return { name, status: c?.status, auditEnabled: audit };
    } catch (err) {
      if (isNotFound(err)) return 'not-found';
      if (isAccessDenied(err)) return { denied: describeAwsError(err) };
      throw err;
    }
  };
  return {
    async accountId() {
      const { callerAccount } = await import('../provision/deploy.js');
      return callerAccount(await aws(), envRegion(env) ?? 'us-east-1');
    },
    async listClusters(region) {
      const { ListClustersCommand } = await import('@aws-sdk/client-eks');
      const { isAccessDenied, describeAwsError } = await errors();
      const names: string[] = [];
      try {
        const eks = await (await aws()).eks(region);
        let nextToken: string | undefined;
        do {
          const out = await eks.send(new ListClustersCommand({ nextToken }));
          names.push(...(out.clusters ?? []));
          nextToken = out.nextToken;
        } while (nextToken);
      } catch (err) {
        return isAccessDenied(err) ? { denied: describeAwsError(err) } : { failed: describeAwsError(err) };
      }
      const { mapLimit } = await import('../provision/engine.js');
      const clusters = await mapLimit(names.sort(), 8, async (name): Promise<ClusterInfo> => {
        try {
          const c = await describe(region, name);
          return c === 'not-found' || 'denied' in c ? { name } : c; // deleted meanwhile, or may not look: shown as unknown
        } catch {
          return { name };
        }
      });
      return { clusters };
    },
    describeCluster: describe,
    async bucketRegion(bucket) {
      const { GetBucketLocationCommand } = await import('@aws-sdk/client-s3');
      const { isNotFound, httpStatus } = await errors();
      // GetBucketLocation answers for a bucket of any region from us-east-1 (HeadBucket would redirect).
      const s3 = await (await aws()).s3('us-east-1');
      try {
        return (await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint || 'us-east-1';
      } catch (err) {
        if (isNotFound(err)) return 'not-found';
        if (httpStatus(err) === 403) return 'denied';
        throw err;
      }
    },
  };
}

