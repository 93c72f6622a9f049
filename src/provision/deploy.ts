/**
 * Setup, plan and teardown as the CLI runs them: identity, the deployment this account already has (or a
 * new one), preflight, the plan, then the engine. Never prints; the CLI renders what comes back.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { AppError, UsageError } from '../errors.js';
import { createAwsClients, type AwsClients } from '../aws/clients.js';
import { describeAwsError } from '../aws/errors.js';
import { resourceTags } from '../aws/tags.js';
import type { Inputs } from '../config/inputs.js';
import { makeNames, newDeploymentId, newExternalId, type Names } from '../config/naming.js';
import { createLaceworkApi, type LaceworkApi } from '../lacework/api.js';
import { tenantOf, type LaceworkCredentials } from '../lacework/credentials.js';
import { Journal, journalPath, listJournals, replay, readJournal, type ReadJournal } from '../journal/journal.js';
import { acquireLock } from '../journal/lock.js';
import { JOURNAL_VERSION } from '../journal/records.js';
import { buildPlan, type Plan } from '../plan/plan.js';
import { applyPlan, findAll, undoAll, type ApplyOutcome, type Emit, type ResourceResult, type SetupBase, type UndoItem } from './engine.js';
import { preflight, type PreflightResult } from './preflight.js';
import { abortableSleep } from './retry.js';
import type { BaseContext, ResourceKind } from './step.js';
import { allTasks, HANDLERS } from './steps/index.js';
import { KEY as INTEGRATION_KEY } from './steps/forticnapp-integration.js';
import pkg from '../../package.json' with { type: 'json' };

export interface Environment {
  stateDir: string;
  awsProfile?: string;
  /** Injected in tests; otherwise made from the profile. */
  aws?: AwsClients;
}

export interface SetupRequest extends Environment {
  inputs: Inputs;
  /** false when the home region only defaulted to the first region (an existing deployment's wins). */
  homeRegionGiven: boolean;
  credentials: LaceworkCredentials;
}

export interface Prepared {
  request: SetupRequest;
  base: SetupBase;
  names: Names;
  accountId: string;
  deploymentId: string;
  /** The journal this deployment already has, if any. */
  existing?: ReadJournal;
  plan: Plan;
  planned: Awaited<ReturnType<typeof findAll>>;
  preflight: PreflightResult;
  journalPath: string;
}

export async function callerAccount(aws: AwsClients, region: string): Promise<string> {
  try {
    const sts = await aws.sts(region);
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Account) throw new Error('GetCallerIdentity returned no account');
    return out.Account;
  } catch (err) {
    throw new UsageError(
      `No usable AWS credentials (${describeAwsError(err)}). Run in AWS CloudShell, or configure credentials (aws configure, AWS_PROFILE or --aws-profile).`,
      'NoAwsCredentials',
    );
  }
}

/** The deployment this account already has with this prefix (and resources left), newest first. */
export function existingDeployment(stateDir: string, accountId: string, prefix: string): ReadJournal | undefined {
  const { journals } = listJournals(stateDir);
  return journals
    .filter((j) => j.header.accountId === accountId && j.header.prefix === prefix && replay(j.records).size > 0)
    .sort((a, b) => b.header.at.localeCompare(a.header.at))[0];
}

/**
 * The FortiCNAPP client setup uses. A registration that has been sent is never cut off: when the run is
 * interrupted (or stopped because another step failed) while a request is in flight, the abort waits for
 * that answer. Cutting it off would leave the registration to land at FortiCNAPP after the rollback had
 * looked for it and found nothing; waiting means it comes back, is journalled, and is rolled back. Backoff
 * pauses between attempts still end at once. Requests are bounded by the client's own timeout.
 */
export function patientLaceworkApi(credentials: LaceworkCredentials): LaceworkApi {
  let inFlight = 0;
  const whenIdle: (() => void)[] = [];
  const api = createLaceworkApi(credentials, {
    fetch: async (input, init) => {
      inFlight++;
      try {
        return await fetch(input, init);
      } finally {
        inFlight--;
        if (inFlight === 0) for (const f of whenIdle.splice(0)) f();
      }
    },
  });
  return {
    ...api,
    async createEksAudit(input, opts = {}) {
      const outer = opts.signal;
      if (!outer) return api.createEksAudit(input, opts);
      const gate = new AbortController();
      const onAbort = () => {
        const close = () => gate.abort(outer.reason);
        if (inFlight === 0) close();
        else whenIdle.push(close);
      };
      if (outer.aborted) onAbort();
      else outer.addEventListener('abort', onAbort, { once: true });
      try {
        return await api.createEksAudit(input, { ...opts, signal: gate.signal });
      } finally {
        outer.removeEventListener('abort', onAbort);
      }
    },
  };
}

/** Everything up to the plan: read-only. Throws UsageError (exit 2) with every preflight problem. */
export async function prepare(request: SetupRequest, signal: AbortSignal): Promise<Prepared> {
  const aws = request.aws ?? createAwsClients({ profile: request.awsProfile });
  const lacework = patientLaceworkApi(request.credentials);
  const inputs = { ...request.inputs };

  const [accountId] = await Promise.all([
    callerAccount(aws, inputs.homeRegion),
    // Rejects with UsageError ApiKeyRejected on a wrong key: reported before anything else.
    lacework.verify(),
  ]);

  const existing = existingDeployment(request.stateDir, accountId, inputs.prefix);
  if (existing) {
    if (!request.homeRegionGiven) inputs.homeRegion = existing.header.homeRegion;
    else if (existing.header.homeRegion !== inputs.homeRegion) {
      throw new UsageError(
        `This account already has deployment ${existing.header.deploymentId} with home region ${existing.header.homeRegion}; drop --home-region (or pass ${existing.header.homeRegion}), or tear that deployment down first.`,
      );
    }
  }
  const deploymentId = existing?.header.deploymentId ?? newDeploymentId();
  const names = makeNames(inputs.prefix, deploymentId, accountId, inputs.homeRegion);
  const externalId = existing?.header.externalId ?? newExternalId(tenantOf(request.credentials.account), accountId);

  const ctx: BaseContext = { aws, lacework, signal, sleep: (ms) => abortableSleep(ms, signal), progress: () => {} };
  const pre = await preflight(ctx, { inputs, names, newDeployment: !existing, deploymentId });
  if (pre.problems.length > 0) throw new UsageError(pre.problems, 'PreflightFailed');

  const base: SetupBase = {
    aws,
    lacework,
    inputs,
    names,
    accountId,
    deploymentId,
    externalId,
    laceworkAccount: request.credentials.account,
    tags: resourceTags(deploymentId, inputs.tags),
  };
  const tasks = allTasks({ inputs, names, accountId });
  // Only an unfinished *create* is finished by create(); an unfinished change is decided afresh by find
  // (forcing create there would record the resource as made by this run, and a rollback would delete it).
  const unfinished = new Set(existing ? [...replay(existing.records).values()].filter((s) => s.pendingIntent?.op === 'create').map((s) => s.key) : []);
  const planned = await findAll(tasks, base, signal, unfinished);
  const plan = buildPlan({ deploymentId, accountId, homeRegion: inputs.homeRegion, conflicts: [] }, planned);
  return {
    request: { ...request, inputs },
    base,
    names,
    accountId,
    deploymentId,
    existing,
    plan,
    planned,
    preflight: pre,
    journalPath: journalPath(request.stateDir, deploymentId),
  };
}

/** The inputs as journalled: no secrets (there are none in Inputs; credentials stay out). */
function publicInputs(inputs: Inputs): Inputs {
  return inputs;
}

export interface ApplyResult extends ApplyOutcome {
  journalPath: string;
  integration?: { intgGuid: string; name: string };
}

export async function applyPrepared(
  prepared: Prepared,
  opts: { emit: Emit; signal: AbortSignal; noRollback?: boolean },
): Promise<ApplyResult> {
  const { request, base, deploymentId } = prepared;
  const lock = acquireLock(request.stateDir, deploymentId);
  const journal = Journal.open(request.stateDir, deploymentId);
  try {
    if (!prepared.existing) {
      journal.append({
        t: 'header',
        v: JOURNAL_VERSION,
        deploymentId,
        accountId: prepared.accountId,
        homeRegion: base.inputs.homeRegion,
        prefix: base.inputs.prefix,
        laceworkAccount: request.credentials.account,
        ...(request.credentials.subaccount ? { laceworkSubaccount: request.credentials.subaccount } : {}),
        externalId: base.externalId,
        at: new Date().toISOString(),
        tool: `forticnapp-eks-audit/${pkg.version}`,
      });
    }
    journal.append({ t: 'run', command: 'setup', inputs: publicInputs(base.inputs), pid: process.pid, at: new Date().toISOString() });
    const outcome = await applyPlan(prepared.planned, base, {
      journal,
      emit: opts.emit,
      signal: opts.signal,
      handlers: HANDLERS,
      noRollback: opts.noRollback,
    });
    const intg = outcome.refs.get(INTEGRATION_KEY);
    return {
      ...outcome,
      journalPath: journal.path,
      ...(intg && outcome.status === 'ok' ? { integration: { intgGuid: intg.id, name: String(intg.name ?? '') } } : {}),
    };
  } finally {
    journal.close();
    lock.release();
  }
}

export interface TeardownRequest extends Environment {
  deploymentId?: string;
  credentials?: LaceworkCredentials;
}

export interface TeardownResult {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  journalPath: string;
  results: ResourceResult[];
  errors: { key: string; message: string }[];
  /** Nothing was left to remove. */
  nothingToDo: boolean;
}

/** Picks the deployment: the one named, or the only one with resources left. */
export function pickDeployment(stateDir: string, deploymentId: string | undefined): ReadJournal {
  if (deploymentId) {
    try {
      return readJournal(journalPath(stateDir, deploymentId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UsageError(`No journal for deployment ${deploymentId} in ${stateDir}; check --deployment and --state-dir, or use 'teardown --discover'.`, 'UnknownDeployment');
      }
      throw err;
    }
  }
  const { journals } = listJournals(stateDir);
  const live = journals.filter((j) => replay(j.records).size > 0);
  if (live.length === 1) return live[0] as ReadJournal;
  if (live.length === 0) {
    if (journals.length === 1) return journals[0] as ReadJournal;
    throw new UsageError(`No deployment with resources left is known in ${stateDir}; pass --deployment <id>, --state-dir, or use 'teardown --discover'.`, 'UnknownDeployment');
  }
  throw new UsageError(
    `Several deployments are known (${live.map((j) => j.header.deploymentId).join(', ')}); pass --deployment <id>.`,
    'AmbiguousDeployment',
  );
}

/** What teardown would remove, from the journal alone. */
export function teardownItems(journal: ReadJournal): UndoItem[] {
  return [...replay(journal.records).values()].map((s) => ({
    key: s.key,
    kind: s.kind as ResourceKind,
    region: s.region,
    name: s.name,
    done: s.done,
    pendingIntent: s.pendingIntent,
    seq: s.seq,
  }));
}

export function needsLacework(items: UndoItem[]): boolean {
  return items.some((i) => i.kind === 'forticnapp-integration');
}

export async function teardownDeployment(
  request: TeardownRequest,
  journalRead: ReadJournal,
  opts: { emit: Emit; signal: AbortSignal },
): Promise<TeardownResult> {
  const { header } = journalRead;
  const aws = request.aws ?? createAwsClients({ profile: request.awsProfile });
  const lacework = request.credentials ? createLaceworkApi(request.credentials) : undefined;
  const items = teardownItems(journalRead);
  const base = { deploymentId: header.deploymentId, accountId: header.accountId, homeRegion: header.homeRegion, journalPath: journalRead.path };
  if (items.length === 0) return { ...base, results: [], errors: [], nothingToDo: true };
  const account = await callerAccount(aws, header.homeRegion);
  if (account !== header.accountId) {
    throw new UsageError(
      `Deployment ${header.deploymentId} is in AWS account ${header.accountId}, but your credentials are for ${account}; use credentials of ${header.accountId}.`,
      'WrongAccount',
    );
  }
  const lock = acquireLock(request.stateDir, header.deploymentId);
  const journal = Journal.open(request.stateDir, header.deploymentId);
  try {
    journal.append({ t: 'run', command: 'teardown', pid: process.pid, at: new Date().toISOString() });
    opts.emit({ type: 'phase', phase: 'teardown' });
    const ctx: BaseContext = { aws, lacework, signal: opts.signal, sleep: (ms) => abortableSleep(ms, opts.signal), progress: () => {} };
    const out = await undoAll(items, ctx, HANDLERS, journal, opts.emit, { deploymentId: header.deploymentId });
    return { ...base, results: out.results, errors: out.errors, nothingToDo: false };
  } finally {
    journal.close();
    lock.release();
  }
}

export { AppError };
