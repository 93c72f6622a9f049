/**
 * Every account of an AWS Organization from one command (DESIGN §8): the accounts selected (the whole
 * organization, some OUs, or a list), each reached through an assumed role, each running exactly the
 * per-account deployment (its own id, record, journal and FortiCNAPP integration). Accounts run
 * concurrently, bounded; setup plans every account before the first change anywhere, and one account's
 * failure rolls back that account only. Never prints: results are data for the CLI.
 */
import pMap from 'p-map';
import { UsageError } from '../errors.js';
import type { AwsClients } from '../aws/clients.js';
import { describeAwsError, explain } from '../aws/errors.js';
import { callerAccount, clusterSummaries, type ClusterSummary } from '../aws/lookups.js';
import { memberClients, organizationAccounts, type OrgAccount } from '../aws/organizations.js';
import { defaultIntegrationName, type Inputs } from '../config/inputs.js';
import type { LaceworkApi } from '../lacework/api.js';
import type { AccountEnv } from '../provision/deployment.js';

/** Which accounts, and how to reach them. */
export interface OrgSelection {
  /** Every ACTIVE account of the organization (narrowed by `ous`). */
  organization: boolean;
  ous: string[];
  /** These accounts (instead of the organization). */
  accounts: string[];
  exclude: string[];
  roleName: string;
  /** Accounts worked on at once. */
  concurrency: number;
}

/** One account ready to work in. */
export interface Member {
  id: string;
  name: string;
  env: AccountEnv;
}

/**
 * The selected accounts, each with clients acting in it. The caller's own account uses the caller's
 * credentials; the others assume `roleName` (the assumption itself happens on the first call, and a role
 * that cannot be assumed fails that account's first call: see `problemOf`).
 * @throws UsageError when the organization cannot be listed.
 */
export async function members(base: AwsClients, sel: OrgSelection, env: { stateDir: string; regionHint?: string; lacework?: LaceworkApi }): Promise<{ caller: string; members: Member[] }> {
  const region = env.regionHint ?? 'us-east-1';
  const caller = await callerAccount(base, region);
  let accounts: OrgAccount[];
  if (sel.organization) accounts = await organizationAccounts(base, { ous: sel.ous, exclude: sel.exclude });
  else accounts = sel.accounts.filter((a) => !sel.exclude.includes(a)).map((id) => ({ id, name: id }));
  if (accounts.length === 0) throw new UsageError('No account selected (every account was excluded, or the OUs hold none).', 'NoAccounts');
  const list = await Promise.all(
    accounts.map(async (a) => ({
      id: a.id,
      name: a.name,
      env: {
        aws: await memberClients(base, caller, a.id, sel.roleName, region),
        stateDir: env.stateDir,
        accountId: a.id,
        accountName: a.name,
        ...(env.regionHint ? { regionHint: env.regionHint } : {}),
        ...(env.lacework ? { lacework: env.lacework } : {}),
      },
    })),
  );
  return { caller, members: list };
}

/** What happened in one account. */
export interface AccountOutcome<T> {
  id: string;
  name: string;
  value?: T;
  error?: unknown;
}

/** Runs `fn` for every account, at most `concurrency` at once; an account's error stays that account's. */
export async function forEachAccount<T>(list: Member[], concurrency: number, fn: (m: Member) => Promise<T>, signal?: AbortSignal): Promise<AccountOutcome<T>[]> {
  return pMap(
    list,
    async (m) => {
      try {
        return { id: m.id, name: m.name, value: await fn(m) };
      } catch (err) {
        return { id: m.id, name: m.name, error: err };
      }
    },
    { concurrency, ...(signal ? { signal } : {}) },
  );
}

/** One line for an account's failure; a role that cannot be assumed says so. */
export function problemOf(err: unknown, roleName: string): string {
  const text = explain(err);
  if (/AssumeRole|not authorized to perform: sts:AssumeRole|AccessDenied.*assume/i.test(text) || /sts:AssumeRole/.test(describeAwsError(err))) {
    return `cannot assume role ${roleName} (${text}); check that the role exists and trusts this account, or pass --assume-role-name (Control Tower: AWSControlTowerExecution), or leave the account out with --exclude-account.`;
  }
  return text;
}

/** Cluster selection per account (DESIGN §8). */
export interface ClusterSelection {
  /** `--regions` with `--all-clusters`: every ACTIVE cluster there. */
  allClustersIn?: string[];
  /** `--region-clusters`: these names, where the account has them. */
  regionClusters?: Record<string, string[]>;
}

/**
 * An account's inputs: the shared inputs with its own clusters (and, unless given, an integration name that
 * names the account). Names it lacks are reported, not an error.
 * @returns undefined inputs when the account has no selected cluster.
 */
export async function accountInputs(m: Member, shared: Inputs, sel: ClusterSelection, prefixGiven: string | undefined): Promise<{ inputs?: Inputs; skipped: string[] }> {
  const regionClusters: Record<string, string[]> = {};
  const skipped: string[] = [];
  const regions = sel.allClustersIn ?? Object.keys(sel.regionClusters ?? {});
  const listed = new Map<string, ClusterSummary[]>();
  await Promise.all(regions.map(async (r) => listed.set(r, await clusterSummaries(m.env.aws, r))));
  for (const region of regions) {
    const have = listed.get(region) ?? [];
    if (sel.allClustersIn) {
      const active = have.filter((c) => c.status === 'ACTIVE').map((c) => c.name);
      if (active.length > 0) regionClusters[region] = active;
    } else {
      const wanted = sel.regionClusters?.[region] ?? [];
      const there = wanted.filter((n) => have.some((c) => c.name === n));
      skipped.push(...wanted.filter((n) => !there.includes(n)).map((n) => `${n} (${region})`));
      if (there.length > 0) regionClusters[region] = there;
    }
  }
  if (Object.keys(regionClusters).length === 0) return { skipped };
  const homeRegion = shared.homeRegion && regions.includes(shared.homeRegion) ? shared.homeRegion : Object.keys(regionClusters)[0] as string;
  const integrationName = shared.integrationName ?? `${defaultIntegrationName(m.id, prefixGiven ?? shared.prefix)}${m.name !== m.id ? ` (${m.name})` : ''}`;
  return { inputs: { ...shared, regionClusters, homeRegion, integrationName }, skipped };
}

/** Every cluster of an account in some regions, with its audit logging (the coverage report's rows). */
export async function inventory(m: Member, regions: string[]): Promise<{ region: string; cluster: ClusterSummary }[]> {
  const out: { region: string; cluster: ClusterSummary }[] = [];
  for (const region of regions) for (const c of await clusterSummaries(m.env.aws, region)) out.push({ region, cluster: c });
  return out;
}

/** The worst exit code of the accounts: 130 > 3 > 1 > 2 > 0. */
export function worstExitCode(codes: number[]): number {
  for (const c of [130, 3, 1, 2]) if (codes.includes(c)) return c;
  return 0;
}
