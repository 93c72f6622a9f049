/**
 * A deployment as the commands see it (DESIGN §4): found in the account (its id derives from the account
 * and the prefix; its record lives in SSM Parameter Store of its home region), planned against the inputs,
 * applied, checked, torn down. Any machine, any state dir, converges on the same deployment. The local
 * journal is only the crash log of the run in progress. Never prints: results are data for the CLI.
 */
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { AppError, UsageError } from '../errors.js';
import type { AwsClients } from '../aws/clients.js';
import { bucketRegion, callerAccount } from '../aws/lookups.js';
import { unlessNotFound } from '../aws/errors.js';
import { resourceTags } from '../aws/tags.js';
import { DEFAULTS, defaultInputs, type Inputs } from '../config/inputs.js';
import { KNOWN_REGIONS } from '../config/regions.js';
import { deploymentIdFor, makeNames, newExternalId, type Names } from '../config/naming.js';
import type { LaceworkApi } from '../lacework/api.js';
import { tenantOf } from '../lacework/credentials.js';
import { findJournal, Journal, journalPath, listJournals, replay, type ReadJournal } from '../state/journal.js';
import { acquireLock } from '../state/lock.js';
import { JOURNAL_VERSION, type RunRecord } from '../state/records.js';
import { deleteRecord, listRecords, readRecord, RECORD_VERSION, writeRecord, type CredentialSource, type DeploymentRecord, type StoredRecord } from '../state/record.js';
import pkg from '../../package.json' with { type: 'json' };
import { applyPlan, removeAll, type ApplyOutcome, type ResourceResult } from './apply.js';
import type { Emit } from './events.js';
import { buildPlan, readFailure, type Plan } from './plan.js';
import { externalIdInTrust, parsePolicy, regionsInCloudwatchTrust } from './policies.js';
import { preflight } from './preflight.js';
import { createMemo, type Ctx, type Ref, type Spec } from './resource.js';
import { KEYS } from './resources/keys.js';
import { clustersWithFilters, discoverByTags, rolesOfOurs } from '../state/discovery.js';
import { canonical } from './diff.js';

/** What every command needs to act in one AWS account. */
export interface AccountEnv {
  aws: AwsClients;
  /** undefined when no FortiCNAPP credentials are at hand (status, or a teardown with nothing registered). */
  lacework?: LaceworkApi;
  stateDir: string;
  /** Known already (an organization run); otherwise STS is asked. */
  accountId?: string;
  /** Where to look for a deployment first (AWS_REGION, the SDK's default region). */
  regionHint?: string;
  /** AWS account name, for the default integration name of an organization run. */
  accountName?: string;
}

/** Where a deployment was found. */
export interface Located {
  accountId: string;
  prefix: string;
  deploymentId: string;
  stored?: StoredRecord;
  /** The journal of the random-id version (v1) the deployment was found by, when it has no record yet. */
  legacy?: ReadJournal;
  /**
   * A deployment of the random-id version made on another machine (no record, no journal here), found by its
   * tags: a record rebuilt from what AWS holds (clusters from our filters, the external ID from the
   * cross-account role's trust; each cluster's logging before setup unknown).
   */
  earlier?: DeploymentRecord;
  /** Regions searched for the record. */
  searched: string[];
  warnings: string[];
}

const TOOL = `forticnapp-eks-audit/${pkg.version}`;

/** Inputs as a record keeps them, with the clusters back in. */
export function recordedInputs(record: DeploymentRecord): Inputs {
  const regionClusters: Record<string, string[]> = {};
  for (const [region, map] of Object.entries(record.clusters)) {
    const names = Object.keys(map);
    if (names.length > 0) regionClusters[region] = names;
  }
  return { ...record.inputs, regionClusters } as Inputs;
}

/**
 * A record for a deployment of the random-id version, from its journal (version 1): the inputs of its
 * newest setup, the external ID, the integration, and where it turned audit logging on.
 */
function legacyRecord(j: ReadJournal): DeploymentRecord {
  const runs = j.records.filter((r): r is RunRecord => r.t === 'run' && r.command === 'setup' && !!r.inputs);
  const last = (runs[runs.length - 1]?.inputs ?? {}) as Partial<Inputs>;
  const live = replay(j.records);
  const turnedOn = new Set([...live.values()].filter((s) => s.kind === 'eks-audit-logging' && s.done.some((d) => d.op === 'create')).map((s) => `${s.region}/${s.name}`));
  const clusters: DeploymentRecord['clusters'] = {};
  for (const s of live.values()) {
    if (s.kind !== 'subscription-filter' && s.kind !== 'eks-audit-logging') continue;
    const cluster = s.key.split('/')[2] ?? s.name;
    (clusters[s.region] ??= {})[cluster] = { auditBefore: !turnedOn.has(`${s.region}/${cluster}`) };
  }
  const intg = live.get(KEYS.integration)?.done[0]?.ref;
  const { regionClusters: _, ...inputs } = { ...defaultInputs(j.header.homeRegion, j.header.prefix), ...last };
  return {
    v: RECORD_VERSION,
    deploymentId: j.header.deploymentId,
    accountId: j.header.accountId,
    prefix: j.header.prefix,
    homeRegion: j.header.homeRegion,
    status: [...live.values()].some((s) => s.pendingIntent) ? 'applying' : 'applied',
    inputs,
    externalId: j.header.externalId ?? '',
    ...(intg ? { integration: { intgGuid: intg.id, name: String(intg.name ?? '') } } : {}),
    clusters,
    updatedAt: j.header.at,
    tool: j.header.tool,
  };
}

/**
 * Finds the deployment of (account, prefix), or the one named: its id (derived, or the random id of an
 * earlier version's journal here), and its record in AWS.
 * @param opts.regions regions to look in first; `scanAll` then looks in every region (status and teardown
 *   from a machine that knows nothing else).
 * @throws AppError `JournalCorrupt` (exit 2) when this deployment's journal here is damaged.
 */
export async function locate(
  env: AccountEnv & { accountId: string },
  opts: { prefix: string; deploymentId?: string; regions: string[]; scanAll: boolean },
): Promise<Located> {
  const { journals, damaged, warnings } = listJournals(env.stateDir);
  const legacy = opts.deploymentId
    ? journals.find((j) => j.header.deploymentId === opts.deploymentId && j.header.v === 1)
    : journals.find((j) => j.header.v === 1 && j.header.accountId === env.accountId && j.header.prefix === opts.prefix && replay(j.records).size > 0);
  let deploymentId = opts.deploymentId ?? legacy?.header.deploymentId ?? deploymentIdFor(env.accountId, opts.prefix);
  // A damaged journal of this deployment stops everything (it may hold the only trace of a crashed run).
  const bad = damaged.find((d) => d.deploymentId === deploymentId || (d.header?.accountId === env.accountId && d.header?.prefix === opts.prefix));
  if (bad) throw bad.error;
  const own = journals.find((j) => j.header.deploymentId === deploymentId);

  const searched: string[] = [];
  const tryRegion = async (region: string | undefined) => {
    if (!region || searched.includes(region)) return undefined;
    searched.push(region);
    return readRecord(env.aws, region, deploymentId);
  };
  // The likeliest region alone first (an existing deployment: one call); the others at once.
  const candidates = [...new Set([own?.header.homeRegion, legacy?.header.homeRegion, ...opts.regions, env.regionHint].filter((r): r is string => !!r))];
  let stored = await tryRegion(candidates[0]);
  if (!stored && !legacy) {
    // The bucket's name derives from the id: where it is, the record is (unless --existing-bucket-arn).
    const where = bucketRegion(env.aws, `${opts.prefix}${deploymentId}`, env.accountId).catch(() => undefined);
    const rest = await Promise.all(candidates.slice(1).map((r) => tryRegion(r)));
    stored = rest.find((x) => x);
    const w = await where;
    if (!stored && w && w !== 'not-found' && w !== 'denied') stored = await tryRegion(w);
  }
  if (!stored && !legacy && opts.scanAll) {
    const rest = KNOWN_REGIONS.filter((r) => !searched.includes(r));
    const found = await Promise.all(rest.map(async (r) => ({ r, s: await readRecord(env.aws, r, deploymentId).catch(() => undefined) })));
    searched.push(...rest);
    stored = found.find((f) => f.s)?.s;
  }
  // Nothing under the derived id: an earlier version's deployment (random id) made elsewhere is found by its
  // tagged roles and kept under its id (DESIGN §4), never built a second time beside it.
  let earlier: DeploymentRecord | undefined;
  if (!stored && !legacy && !opts.deploymentId) {
    const id = await earlierByRoles(env.aws, opts.prefix, deploymentId);
    if (id) {
      deploymentId = id;
      // Its home region from its bucket; a record there (an earlier adoption wrote one) is all it takes. Only
      // without one are its clusters looked for, where it says it has them (and the regions asked for).
      const revealed = await revealedRegions(env.aws, makeNames(opts.prefix, id, env.accountId, candidates[0] ?? 'us-east-1'), env.accountId);
      stored = await readRecord(env.aws, revealed.home ?? candidates[0] ?? 'us-east-1', id);
      if (!stored) earlier = (await recordFromAws(env.aws, env.accountId, opts.prefix, id, candidates, undefined, revealed)).record;
    }
  }
  return {
    accountId: env.accountId,
    prefix: opts.prefix,
    deploymentId,
    ...(stored ? { stored } : {}),
    ...(legacy && !stored ? { legacy } : {}),
    ...(earlier ? { earlier } : {}),
    searched,
    warnings,
  };
}

/**
 * The one deployment other than `derivedId` whose IAM roles carry this prefix's names and our tags: made by an
 * earlier version with a random id (an IAM role listing; each role's tags read only when its name fits).
 * @returns its id, or undefined when there is none, or more than one (the plan's conflicts then say what is in the way).
 */
async function earlierByRoles(aws: AwsClients, prefix: string, derivedId: string): Promise<string | undefined> {
  const ids = new Set((await rolesOfOurs(aws, prefix)).filter((r) => r.prefix === prefix && r.deploymentId !== derivedId).map((r) => r.deploymentId));
  return ids.size === 1 ? [...ids][0] : undefined;
}

/**
 * A record for a deployment that has none, from what AWS holds: its clusters (those carrying its filters, in
 * the regions given and those it reveals), the external ID in its cross-account role's trust, default inputs
 * otherwise. Each cluster's logging before setup is unknown (null: teardown leaves it on). `known`: what
 * {@link revealedRegions} already said of it.
 * @returns the record, and every region searched for its clusters.
 */
async function recordFromAws(
  aws: AwsClients,
  accountId: string,
  prefix: string,
  deploymentId: string,
  regions: string[],
  homeHint?: string,
  known?: Revealed,
): Promise<{ record: DeploymentRecord; regions: string[] }> {
  const revealed = known ?? (await revealedRegions(aws, makeNames(prefix, deploymentId, accountId, homeHint ?? regions[0] ?? 'us-east-1'), accountId));
  const all = [...new Set([...regions, ...revealed.regions])];
  const homeRegion = homeHint ?? revealed.home ?? regions[0] ?? 'us-east-1';
  const clusters: DeploymentRecord['clusters'] = {};
  for (const c of await clustersWithFilters(aws, all, prefix, deploymentId)) (clusters[c.region] ??= {})[c.cluster] = { auditBefore: null };
  const { regionClusters: _, ...inputs } = defaultInputs(homeRegion, prefix);
  const record: DeploymentRecord = {
    v: RECORD_VERSION,
    deploymentId,
    accountId,
    prefix,
    homeRegion,
    status: 'applying',
    inputs,
    externalId: revealed.externalId ?? '',
    clusters,
    updatedAt: new Date().toISOString(),
    tool: TOOL,
  };
  return { record, regions: all };
}

/** The record the deployment has: in AWS, or made from an earlier version's journal. */
export function recordOf(located: Located): DeploymentRecord | undefined {
  return located.stored?.record ?? (located.legacy ? legacyRecord(located.legacy) : located.earlier);
}

/** The spec of a deployment with these inputs (the record: audit logging before setup, dropped tags, the integration). */
export function specFor(inputs: Inputs, names: Names, externalId: string, record: DeploymentRecord | undefined): Spec {
  const auditBefore = new Map<string, boolean>();
  for (const [region, map] of Object.entries(record?.clusters ?? {})) for (const [c, s] of Object.entries(map)) if (s.auditBefore !== null) auditBefore.set(`${region}/${c}`, s.auditBefore);
  const dropped = Object.keys(record?.inputs.tags ?? {}).filter((k) => inputs.tags[k] === undefined);
  return {
    inputs,
    names,
    externalId,
    tags: resourceTags(names.deploymentId, inputs.tags),
    auditBefore,
    droppedTagKeys: dropped,
    ...(record?.integration ? { integrationGuid: record.integration.intgGuid } : {}),
    unfinished: record?.status === 'applying',
  };
}

/** Contexts that share refs and the read memo: one per run. */
function contexts(env: AccountEnv) {
  const refs = new Map<string, Ref>();
  const memo = createMemo();
  return (spec: Spec, signal: AbortSignal = new AbortController().signal, progress: (m: string) => void = () => {}): Ctx => ({
    aws: env.aws,
    ...(env.lacework ? { lacework: env.lacework } : {}),
    spec,
    refs,
    memo,
    signal,
    progress,
  });
}

/** What setup will do in one account. */
export interface SetupPlan {
  env: AccountEnv;
  accountId: string;
  deploymentId: string;
  homeRegion: string;
  names: Names;
  located: Located;
  desired: Spec;
  recorded?: Spec;
  record?: DeploymentRecord;
  plan: Plan;
  /** Every problem that stops setup (the plan's and the inputs' own). */
  conflicts: string[];
  /** Things to know (an earlier version's deployment adopted…). */
  notes: string[];
  ctxFor: ReturnType<typeof contexts>;
}

/**
 * Plans setup: identity, the deployment this account has, every read, every diff, every conflict.
 * Read-only (FortiCNAPP: a token and a list).
 * @throws UsageError `ApiKeyRejected`, AWS access problems (exit 2); AppError for reads that fail.
 */
export async function planSetup(env: AccountEnv, request: { inputs: Inputs; homeRegionGiven: boolean; laceworkAccount: string }): Promise<SetupPlan> {
  const inputs = { ...request.inputs };
  const [accountId] = await Promise.all([env.accountId ?? callerAccount(env.aws, inputs.homeRegion), env.lacework?.verify()]);
  const regions = [inputs.homeRegion, ...Object.keys(inputs.regionClusters)];
  const located = await locate({ ...env, accountId }, { prefix: inputs.prefix, regions, scanAll: false });
  const record = recordOf(located);
  const conflicts: string[] = [];
  const notes: string[] = [];
  if (record && record.homeRegion !== inputs.homeRegion) {
    if (request.homeRegionGiven) {
      conflicts.push(
        `Deployment ${located.deploymentId} already lives in home region ${record.homeRegion}; drop --home-region (or pass ${record.homeRegion}). To move it: teardown, then setup with the new --home-region.`,
      );
    }
    inputs.homeRegion = record.homeRegion;
  }
  if (located.legacy) notes.push(`Adopted deployment ${located.deploymentId}, made by an earlier version (journal ${located.legacy.path}); it keeps its id and names.`);
  if (located.earlier) {
    notes.push(
      `Adopted deployment ${located.deploymentId} (home region ${located.earlier.homeRegion}), made by an earlier version on another machine and found by its tagged roles; it keeps its id and names. Its clusters' audit logging before that setup is not known, so teardown will leave it on.`,
    );
  }
  const names = makeNames(inputs.prefix, located.deploymentId, accountId, inputs.homeRegion);
  const externalId = record?.externalId || newExternalId(tenantOf(request.laceworkAccount), accountId);
  const desired = specFor(inputs, names, externalId, record);
  const recorded = record ? specFor(recordedInputs(record), makeNames(record.prefix, record.deploymentId, accountId, record.homeRegion), record.externalId, record) : undefined;
  const ctxFor = contexts(env);
  const [plan, own] = await Promise.all([buildPlan(desired, recorded, ctxFor, { strays: desired.unfinished }), preflight(env.aws, inputs, names)]);
  const failed = readFailure(plan);
  if (failed) throw failed;
  conflicts.push(...own, ...plan.conflicts);
  return { env, accountId, deploymentId: located.deploymentId, homeRegion: inputs.homeRegion, names, located, desired, ...(recorded ? { recorded } : {}), ...(record ? { record } : {}), plan, conflicts, notes, ctxFor };
}

/** The record a setup leaves: the inputs, the clusters (`keep`: also those still to be released), the integration. */
function recordAfter(sp: SetupPlan, status: DeploymentRecord['status'], opts: { keepOld: boolean; integration?: { intgGuid: string; name: string }; credentialSource?: CredentialSource }): DeploymentRecord {
  const clusters: DeploymentRecord['clusters'] = {};
  const old = sp.record?.clusters ?? {};
  if (opts.keepOld) for (const [r, m] of Object.entries(old)) clusters[r] = { ...m };
  for (const [region, names] of Object.entries(sp.desired.inputs.regionClusters)) {
    for (const c of names) {
      const before = old[region]?.[c]?.auditBefore;
      // A cluster new to the deployment: its logging as the plan read it, before setup touched it. One already in
      // it keeps what the record knows, unknown (null) included: the logging read now may be setup's own doing.
      const now = sp.plan.items.find((i) => i.key === KEYS.auditLogging(region, c))?.found?.state.audit;
      (clusters[region] ??= {})[c] = { auditBefore: before !== undefined ? before : now === true };
    }
  }
  const { regionClusters: _, ...inputs } = sp.desired.inputs;
  return {
    v: RECORD_VERSION,
    deploymentId: sp.deploymentId,
    accountId: sp.accountId,
    prefix: sp.desired.inputs.prefix,
    homeRegion: sp.homeRegion,
    status,
    inputs,
    externalId: sp.desired.externalId,
    ...(opts.integration ? { integration: opts.integration } : sp.record?.integration && status === 'applying' ? { integration: sp.record.integration } : {}),
    ...(opts.credentialSource ?? sp.record?.credentialSource ? { credentialSource: opts.credentialSource ?? sp.record?.credentialSource } : {}),
    clusters,
    updatedAt: new Date().toISOString(),
    tool: TOOL,
  };
}

/** Two records that mean the same (times, tool version and credential source aside). */
function sameRecord(a: DeploymentRecord | undefined, b: DeploymentRecord): boolean {
  if (!a) return false;
  const strip = ({ updatedAt: _u, tool: _t, credentialSource: _c, ...rest }: DeploymentRecord) => rest;
  return JSON.stringify(canonical(strip(a))) === JSON.stringify(canonical(strip(b)));
}

/**
 * Converges a first-time setup on the record another run wrote since this plan read the account: its external
 * ID (the role's trust and the registration must agree on one), its clusters' logging before setup (read
 * before either run changed anything), its integration; and look for what that run made (`unfinished`).
 */
function adoptRecord(sp: SetupPlan, record: DeploymentRecord): void {
  sp.record = record;
  sp.desired = { ...specFor(sp.desired.inputs, sp.names, record.externalId, record), unfinished: true };
}

export interface SetupResult extends ApplyOutcome {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  journalPath: string;
  integration?: { intgGuid: string; name: string };
  /** Nothing needed doing: no call changed anything. */
  upToDate: boolean;
}

/**
 * Applies a setup plan: the record first (so that a crash at any point leaves a deployment every machine
 * can find), then the plan, then the record as it ended.
 * @throws UsageError `PreflightFailed` when the plan has conflicts; AppError `DeploymentLocked` (exit 2).
 */
export async function applySetup(
  sp: SetupPlan,
  opts: { emit: Emit; signal: AbortSignal; noRollback?: boolean; credentialSource?: CredentialSource },
): Promise<SetupResult> {
  if (sp.conflicts.length > 0) throw new UsageError(sp.conflicts, 'PreflightFailed');
  const { env } = sp;
  const base = { deploymentId: sp.deploymentId, accountId: sp.accountId, homeRegion: sp.homeRegion };
  const lock = acquireLock(env.stateDir, sp.deploymentId);
  let journal: Journal | undefined;
  try {
    const existing = findJournal(env.stateDir, sp.deploymentId);
    const applied = recordAfter(sp, 'applied', { keepOld: false, ...(sp.record?.integration ? { integration: sp.record.integration } : {}), ...(opts.credentialSource ? { credentialSource: opts.credentialSource } : {}) });
    const journalFile = existing?.path ?? journalPath(env.stateDir, sp.deploymentId);
    if (!sp.plan.hasChanges && sameRecord(sp.record, applied) && sp.located.stored) {
      const results: ResourceResult[] = sp.plan.items.map((i) => ({ key: i.key, kind: i.kind, label: i.label, region: i.region, name: i.name, arn: i.arn ?? i.found?.ref.arn, outcome: 'kept' }));
      return { ...base, status: 'ok', results, rolledBack: false, keptForRetry: false, leftovers: [], removeFailures: [], refs: new Map(), journalPath: journalFile, upToDate: true, ...(sp.record?.integration ? { integration: sp.record.integration } : {}) };
    }
    journal = Journal.open(env.stateDir, sp.deploymentId);
    if (!existing) {
      journal.append({ t: 'header', v: JOURNAL_VERSION, deploymentId: sp.deploymentId, accountId: sp.accountId, homeRegion: sp.homeRegion, prefix: sp.desired.inputs.prefix, at: new Date().toISOString(), tool: TOOL });
    }
    journal.append({ t: 'run', command: 'setup', pid: process.pid, at: new Date().toISOString() });
    const tags = sp.desired.tags;
    let previous = sp.located.stored;
    let stored = previous?.stored;
    const applying = () => recordAfter(sp, 'applying', { keepOld: true, ...(opts.credentialSource ? { credentialSource: opts.credentialSource } : {}) });
    try {
      stored = await writeRecord(env.aws, applying(), stored, tags, { exclusive: !previous });
    } catch (err) {
      const theirs = err instanceof AppError && err.code === 'RecordExists' ? await readRecord(env.aws, sp.homeRegion, sp.deploymentId) : undefined;
      if (!theirs) throw err;
      // Another first-time setup of this deployment (another machine or state dir) claimed it a moment ago: converge on its record.
      adoptRecord(sp, theirs.record);
      previous = theirs;
      stored = await writeRecord(env.aws, applying(), theirs.stored, tags);
    }

    const outcome = await applyPlan(sp.plan, {
      ctxFor: (spec, signal, progress) => sp.ctxFor(spec, signal, progress),
      desired: sp.desired,
      ...(sp.recorded ? { recorded: sp.recorded } : {}),
      journal,
      emit: opts.emit,
      signal: opts.signal,
      ...(opts.noRollback ? { noRollback: true } : {}),
    });
    const intgRef = outcome.refs.get(KEYS.integration);
    const integration = intgRef ? { intgGuid: intgRef.id, name: String(intgRef.name ?? '') } : undefined;
    const cred = opts.credentialSource ? { credentialSource: opts.credentialSource } : {};
    if (outcome.status === 'ok') {
      await writeRecord(env.aws, recordAfter(sp, 'applied', { keepOld: false, ...(integration ? { integration } : {}), ...cred }), stored, tags);
    } else if (outcome.keptForRetry) {
      await writeRecord(env.aws, recordAfter(sp, 'applied', { keepOld: true, ...cred }), stored, tags);
    } else if (outcome.rolledBack) {
      // As before this run: the previous record back, or none when there was none.
      if (previous) await writeRecord(env.aws, previous.record, stored, tags);
      else await deleteRecord(env.aws, sp.homeRegion, stored);
    } else if (outcome.removeFailures.length > 0) {
      await writeRecord(env.aws, recordAfter(sp, 'applied', { keepOld: true, ...(integration ? { integration } : {}), ...cred }), stored, tags);
    }
    return { ...base, ...outcome, journalPath: journal.path, upToDate: false, ...(integration && outcome.status === 'ok' ? { integration } : {}) };
  } finally {
    journal?.close();
    lock.release();
  }
}

/** What teardown will remove. */
export interface TeardownPlan {
  env: AccountEnv;
  accountId: string;
  deploymentId: string;
  homeRegion: string;
  located: Located;
  record: DeploymentRecord;
  recorded: Spec;
  plan: Plan;
  /** The integration is registered: FortiCNAPP credentials are needed. */
  needsLacework: boolean;
  ctxFor: ReturnType<typeof contexts>;
}

/**
 * Plans teardown: the deployment found in the account (or named), every resource it has read.
 * @throws UsageError `UnknownDeployment` (exit 2) when the account has no such deployment.
 */
export async function planTeardown(env: AccountEnv, opts: { deploymentId?: string; prefix?: string; connect?: Connect }): Promise<TeardownPlan> {
  const prefix = opts.prefix ?? DEFAULTS.prefix;
  const accountId = env.accountId ?? (await callerAccount(env.aws, env.regionHint ?? 'us-east-1'));
  const located = await locate({ ...env, accountId }, { prefix, ...(opts.deploymentId ? { deploymentId: opts.deploymentId } : {}), regions: [], scanAll: true });
  const record = recordOf(located);
  if (!record) throw unknownDeployment(located);
  const lw = await connected(env, opts.connect, record.credentialSource, !!record.integration);
  return teardownPlanOf({ ...lw, accountId }, located, record);
}

/** Connects to FortiCNAPP for a deployment: the given client, or what `connect` makes of the recorded credential source. */
export type Connect = (source: CredentialSource | undefined, needed: boolean) => Promise<LaceworkApi | undefined>;

/** The env with its FortiCNAPP client, the key checked (token) before anything else: a rejected key is exit 2 with nothing changed. */
async function connected(env: AccountEnv, connect: Connect | undefined, source: CredentialSource | undefined, needed: boolean): Promise<AccountEnv> {
  const lacework = env.lacework ?? (await connect?.(source, needed));
  await lacework?.verify();
  return { ...env, ...(lacework ? { lacework } : {}) };
}

async function teardownPlanOf(env: AccountEnv & { accountId: string }, located: Located, record: DeploymentRecord, opts: { onlyFound?: boolean } = {}): Promise<TeardownPlan> {
  const names = makeNames(record.prefix, record.deploymentId, env.accountId, record.homeRegion);
  const recorded = specFor(recordedInputs(record), names, record.externalId, record);
  const ctxFor = contexts(env);
  const plan = await buildPlan(undefined, recorded, ctxFor, { strays: true });
  // A deployment found by --discover: only what was found (it may never have had an existing bucket of its own).
  if (opts.onlyFound) plan.items = plan.items.filter((i) => !i.absent);
  const intgItem = plan.items.find((i) => i.key === KEYS.integration);
  const needsLacework = !!record.integration || !!intgItem?.found || (intgItem?.readError instanceof AppError && intgItem.readError.code === 'NoCredentials');
  // Without FortiCNAPP credentials the integration cannot be read; teardown refuses before any change then.
  const failed = readFailure({ ...plan, items: plan.items.filter((i) => !(i.key === KEYS.integration && !env.lacework)) });
  if (failed) throw failed;
  return { env, accountId: env.accountId, deploymentId: record.deploymentId, homeRegion: record.homeRegion, located, record, recorded, plan, needsLacework, ctxFor };
}

/** The error code of a deployment that does not exist in the account. */
export const UNKNOWN_DEPLOYMENT = 'UnknownDeployment';

export function unknownDeployment(located: Located): UsageError {
  return new UsageError(
    `No deployment ${located.deploymentId} (prefix ${located.prefix}) in AWS account ${located.accountId}: no record in SSM Parameter Store (searched ${located.searched.length} regions) and no journal of it here. If resources of an earlier run remain, find them with 'list --discover' and remove them with 'teardown --discover'.`,
    'UnknownDeployment',
  );
}

export interface TeardownResult {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  journalPath: string;
  results: ResourceResult[];
  failures: { key: string; message: string }[];
}

/** Removes everything the deployment has, in reverse dependency order, then its record. */
export async function applyTeardown(tp: TeardownPlan, opts: { emit: Emit; signal: AbortSignal }): Promise<TeardownResult> {
  const { env } = tp;
  if (tp.needsLacework && !env.lacework) {
    throw new UsageError('FortiCNAPP credentials are needed to delete the integration; pass --api-key-file (or --profile, or the LW_* variables).', 'NoCredentials');
  }
  const lock = acquireLock(env.stateDir, tp.deploymentId);
  const hadJournal = !!findJournal(env.stateDir, tp.deploymentId);
  const journal = Journal.open(env.stateDir, tp.deploymentId);
  try {
    if (!hadJournal) {
      journal.append({ t: 'header', v: JOURNAL_VERSION, deploymentId: tp.deploymentId, accountId: tp.accountId, homeRegion: tp.homeRegion, prefix: tp.record.prefix, at: new Date().toISOString(), tool: TOOL });
    }
    journal.append({ t: 'run', command: 'teardown', pid: process.pid, at: new Date().toISOString() });
    opts.emit({ type: 'phase', phase: 'teardown' });
    const ctx = tp.ctxFor(tp.recorded, opts.signal);
    const out = await removeAll(tp.plan.items.filter((i) => i.action === 'remove'), ctx, { journal, emit: opts.emit, signal: opts.signal });
    if (out.failures.length === 0 && tp.located.stored) await deleteRecord(env.aws, tp.homeRegion, tp.located.stored.stored);
    return { deploymentId: tp.deploymentId, accountId: tp.accountId, homeRegion: tp.homeRegion, journalPath: journal.path, results: out.results, failures: out.failures };
  } finally {
    journal.close();
    lock.release();
  }
}

/**
 * Plans a teardown of a deployment found by its tags and names (`teardown --discover`), for when its record
 * is gone too. What nothing records (audit logging before setup) is left as it is, and said so.
 * @throws UsageError `UnknownDeployment` when nothing of ours is found, `AmbiguousDeployment` when several are.
 */
export async function planDiscoveredTeardown(env: AccountEnv, opts: { deploymentId?: string; prefix?: string; regions: string[]; connect?: Connect }): Promise<TeardownPlan> {
  const accountId = env.accountId ?? (await callerAccount(env.aws, env.regionHint ?? opts.regions[0] ?? 'us-east-1'));
  const known = await locate({ ...env, accountId }, { prefix: opts.prefix ?? DEFAULTS.prefix, ...(opts.deploymentId ? { deploymentId: opts.deploymentId } : {}), regions: opts.regions, scanAll: false });
  if (known.stored) return planTeardown({ ...env, accountId }, { deploymentId: known.deploymentId, prefix: known.prefix, ...(opts.connect ? { connect: opts.connect } : {}) });
  const found = (await discoverByTags(env.aws, opts.regions)).filter(
    (d) => (!opts.deploymentId || d.deploymentId === opts.deploymentId) && (!opts.prefix || !d.prefix || d.prefix === opts.prefix),
  );
  if (found.length === 0) {
    throw new UsageError(
      `No forticnapp-eks-audit deployment${opts.deploymentId ? ` ${opts.deploymentId}` : ''} was found in ${opts.regions.join(', ')} of AWS account ${accountId} (tags and IAM roles); if it lives in other regions, name them with --region.`,
      'UnknownDeployment',
    );
  }
  if (found.length > 1) {
    throw new UsageError(`Several deployments were found (${found.map((d) => d.deploymentId).join(', ')}); pass --deployment <id>.`, 'AmbiguousDeployment');
  }
  const d = found[0] as (typeof found)[number];
  const prefix = d.prefix ?? opts.prefix ?? DEFAULTS.prefix;
  // The regions given may hold only part of it (the roles are global): what it reveals is searched too.
  const { record, regions } = await recordFromAws(env.aws, accountId, prefix, d.deploymentId, opts.regions, d.homeRegion);
  const located: Located = { accountId, prefix, deploymentId: d.deploymentId, searched: regions, warnings: [] };
  const lw = await connected(env, opts.connect, undefined, true);
  return teardownPlanOf({ ...lw, accountId }, located, record, { onlyFound: true });
}

/**
 * What a deployment found by its tags reveals about where the rest of it is: its clusters' regions (the
 * CloudWatch role's trust names each), its home region (where its bucket is; GetBucketLocation answers
 * from any region), and the external ID its cross-account role's trust requires.
 */
interface Revealed {
  home?: string;
  regions: string[];
  externalId?: string;
}

async function revealedRegions(aws: AwsClients, names: Names, accountId: string): Promise<Revealed> {
  const iam = await aws.iam();
  const trustOf = async (RoleName: string) => parsePolicy((await unlessNotFound(iam.send(new GetRoleCommand({ RoleName }))))?.Role?.AssumeRolePolicyDocument);
  const [cloudwatch, crossAccount, where] = await Promise.all([trustOf(names.cloudwatchRole), trustOf(names.caRole), bucketRegion(aws, names.bucket, accountId)]);
  const home = where !== 'not-found' && where !== 'denied' ? where : undefined;
  const externalId = externalIdInTrust(crossAccount);
  return { ...(home ? { home } : {}), regions: [...regionsInCloudwatchTrust(cloudwatch), ...(home ? [home] : [])], ...(externalId ? { externalId } : {}) };
}

/** One deployment as `list` shows it. */
export interface DeploymentSummary {
  deploymentId: string;
  accountId: string;
  prefix?: string;
  homeRegion?: string;
  clusters?: number;
  integration?: { intgGuid: string; name: string };
  /** record: found in AWS; journal: an earlier version's deployment known from a journal here; tags: only tagged resources left. */
  source: 'record' | 'journal' | 'tags';
  journal?: string;
  resources?: number;
}

/**
 * Deployments of the account: records in the given regions (and the home regions of journals here), an
 * earlier version's journals with resources left, and with `discover` whatever is still tagged as ours.
 * Torn-down deployments are not listed (their record is gone; a key pending deletion does not count).
 */
export async function listDeployments(env: AccountEnv, opts: { regions: string[]; discover: boolean }): Promise<DeploymentSummary[]> {
  const accountId = env.accountId ?? (await callerAccount(env.aws, env.regionHint ?? opts.regions[0] ?? 'us-east-1'));
  const { journals } = listJournals(env.stateDir);
  const mine = journals.filter((j) => j.header.accountId === accountId);
  const regions = [...new Set([...opts.regions, ...mine.map((j) => j.header.homeRegion), ...(env.regionHint ? [env.regionHint] : [])])];
  const rows = new Map<string, DeploymentSummary>();
  for (const records of await Promise.all(regions.map((r) => listRecords(env.aws, r)))) {
    for (const rec of records) {
      if (rec.accountId !== accountId) continue;
      rows.set(rec.deploymentId, {
        deploymentId: rec.deploymentId,
        accountId,
        prefix: rec.prefix,
        homeRegion: rec.homeRegion,
        clusters: Object.values(rec.clusters).reduce((n, m) => n + Object.keys(m).length, 0),
        ...(rec.integration ? { integration: rec.integration } : {}),
        source: 'record',
      });
    }
  }
  for (const j of mine) {
    const row = rows.get(j.header.deploymentId);
    if (row) row.journal = j.path;
    else if (j.header.v === 1 && replay(j.records).size > 0) {
      const rec = legacyRecord(j);
      rows.set(j.header.deploymentId, { deploymentId: rec.deploymentId, accountId, prefix: rec.prefix, homeRegion: rec.homeRegion, clusters: Object.values(rec.clusters).reduce((n, m) => n + Object.keys(m).length, 0), source: 'journal', journal: j.path });
    }
  }
  if (opts.discover) {
    for (const d of await discoverByTags(env.aws, regions)) {
      if (rows.has(d.deploymentId)) continue;
      rows.set(d.deploymentId, { deploymentId: d.deploymentId, accountId, ...(d.prefix ? { prefix: d.prefix } : {}), ...(d.homeRegion ? { homeRegion: d.homeRegion } : {}), source: 'tags', resources: d.resources.length });
    }
  }
  return [...rows.values()].sort((a, b) => a.deploymentId.localeCompare(b.deploymentId));
}
