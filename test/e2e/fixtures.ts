/**
 * Shared e2e fixtures: the seeded three-cluster world most suites use, and an AWS Organization with member
 * accounts and clusters (issue 12, DESIGN §8).
 *
 * ## The three clusters
 * eu-central-1 `prod` (logging off) and `stage` (api+audit already on), us-east-1 `edge` (logging off); each
 * with its `/aws/eks/<name>/cluster` log group unless asked otherwise. The home region is eu-central-1.
 *
 * ## What moto 5.2.1 does for Organizations and STS (verified with SDK v3 through the fault proxy; the tests
 * in test/e2e/fakes.org.test.ts keep checking it)
 * - The server must run without `MOTO_ACCOUNT_ID` (that variable wins over everything, so assumed credentials
 *   would act in it). Dummy credentials act in 123456789012, which becomes the management account.
 * - `CreateOrganization` answers at once: `MasterAccountId` 123456789012, `MasterAccountEmail`
 *   `master@example.com`; `ListAccounts` then lists the management account as `Name: "master"`,
 *   `Status`/`State` `ACTIVE`, `JoinedMethod: "CREATED"`.
 * - `CreateAccount` completes synchronously: its `CreateAccountStatus` already has `State: "SUCCEEDED"` and
 *   the new 12-digit `AccountId` (random; repeatable after `moto.seed(n)`); `DescribeCreateAccountStatus`
 *   says the same. The account is `ACTIVE` in `ListAccounts` at once, under the root.
 * - `CreateAccount` also creates the role `OrganizationAccountAccessRole` (or the `RoleName` given) in the
 *   new account, trusting `arn:aws:iam::<management>:root`.
 * - `ListRoots`, `CreateOrganizationalUnit`, `MoveAccount`, `ListAccountsForParent`, `ListParents` work;
 *   `CloseAccount` sets the account `SUSPENDED`. A member account can `DescribeOrganization` too.
 * - `AssumeRole` into `arn:aws:iam::<any 12 digits>:role/<anything>` succeeds: the role need not exist and
 *   trust/external ID are not checked (IAM enforcement off). Each call hands out new `ASIA…` keys;
 *   `AssumedRoleUser.Arn` is `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
 * - Calls signed with those keys act in that account: `GetCallerIdentity` names it; EKS clusters, log groups,
 *   roles… made with them are in that account only (their ARNs carry it) and invisible to the management
 *   account. moto maps the access key id of the SigV4 header to the account; the fault proxy learns the same
 *   mapping from the AssumeRole answers it relays, so its `calls` carry the right `account`.
 * - A role that cannot be assumed is therefore something only the fault proxy can produce (a rule on
 *   `sts:AssumeRole` with `params: { RoleArn }`); see {@link denyAssumeRole}.
 * - `x-moto-account-id` (header) also switches the account per request; fixtures here use it to seed member
 *   accounts without AssumeRole traffic (`asAccount`).
 * - `POST /moto-api/reset` forgets the organization and every assumed key.
 */
import { CreateAccountCommand, CreateOrganizationalUnitCommand, CreateOrganizationCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { RuleHandle } from '../fakes/fault-proxy.js';
import { markFixture } from '../fakes/fault-proxy.js';
import type { Scope } from './inventory.js';
import { ACCOUNT, fixtureConfig, seedCluster, type World } from './world.js';

// ---------------------------------------------------------------------------------------------------------
// The three clusters
// ---------------------------------------------------------------------------------------------------------

/** Home region of the three-cluster fixture. */
export const HOME = 'eu-central-1';

/** The seeded clusters: region, name and whether audit logging is on before setup. */
export const THREE_CLUSTERS: ReadonlyArray<{ region: string; name: string; audit: boolean }> = [
  { region: 'eu-central-1', name: 'prod', audit: false },
  { region: 'eu-central-1', name: 'stage', audit: true },
  { region: 'us-east-1', name: 'edge', audit: false },
];

/** What inventory() and clusterLogging() look at for the three clusters. */
export const SCOPE: Scope = {
  regions: ['eu-central-1', 'us-east-1'],
  clusters: THREE_CLUSTERS.map(({ region, name }) => ({ region, name })),
};

/** Each cluster's enabled log types as seeded (clusterLogging's shape). */
export const BEFORE: Readonly<Record<string, string[]>> = { 'eu-central-1/prod': [], 'eu-central-1/stage': ['api', 'audit'], 'us-east-1/edge': [] };

/** ... and after a successful setup. */
export const AFTER_SETUP: Readonly<Record<string, string[]>> = {
  'eu-central-1/prod': ['audit'],
  'eu-central-1/stage': ['api', 'audit'],
  'us-east-1/edge': ['audit'],
};

/** counts(inventory(…, { withTagging: true })) of one complete deployment of the three clusters. */
export const ONE_OF_EACH = {
  roles: 3,
  buckets: 1,
  topics: 1,
  streams: 1,
  kmsKeys: 1,
  kmsAliases: 1,
  filters: 3,
  notifications: 1,
  subscriptions: 1,
  integrations: 1,
  tagged: 4,
} as const;

/** `--region-clusters` for the three clusters. */
export const REGION_CLUSTER_ARGS: readonly string[] = ['--region-clusters', 'eu-central-1=prod,stage', '--region-clusters', 'us-east-1=edge'];

/** `setup --non-interactive --yes --json <the three clusters> --api-key-file <world's key> …extra`. */
export function setupArgs(world: World, extra: string[] = []): string[] {
  return ['setup', '--non-interactive', '--yes', '--json', ...REGION_CLUSTER_ARGS, '--api-key-file', world.keyFile, ...extra];
}

/** `plan --non-interactive --json <the three clusters> --api-key-file <world's key> …extra`. */
export function planArgs(world: World, extra: string[] = []): string[] {
  return ['plan', '--non-interactive', '--json', ...REGION_CLUSTER_ARGS, '--api-key-file', world.keyFile, ...extra];
}

/** `teardown --json --api-key-file <world's key> …extra`. */
export function teardownArgs(world: World, extra: string[] = []): string[] {
  return ['teardown', '--json', '--api-key-file', world.keyFile, ...extra];
}

/** `status --json --api-key-file <world's key> …extra`. */
export function statusArgs(world: World, extra: string[] = []): string[] {
  return ['status', '--json', '--api-key-file', world.keyFile, ...extra];
}

/**
 * Seed the three clusters (fixture requests). `edgeLogGroup: false` leaves edge without its log group (setup
 * then makes it); `reset: true` resets the world first.
 */
export async function seedThreeClusters(world: World, opts: { edgeLogGroup?: boolean; reset?: boolean } = {}): Promise<void> {
  if (opts.reset) await world.reset();
  for (const c of THREE_CLUSTERS) {
    const logGroup = c.name === 'edge' ? opts.edgeLogGroup !== false : true;
    await seedCluster(world, c.region, c.name, { audit: c.audit, logGroup });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Accounts and organizations
// ---------------------------------------------------------------------------------------------------------

/** The management account of a seeded organization (moto's default account). */
/** One resource as setup and teardown report it in --json (DESIGN §2). */
export interface SetupResource {
  kind: string;
  id: string;
  arn?: string;
  region: string;
  action: 'created' | 'changed' | 'kept' | 'deleted';
  outcome?: string;
  resourceId?: string;
  deletionDate?: string;
}

export const MANAGEMENT_ACCOUNT = ACCOUNT;

/** The role the tool assumes in member accounts by default (DESIGN §8). */
export const ORG_ROLE = 'OrganizationAccountAccessRole';

/** SDK v3 client config: region, the proxy's endpoint, credentials, path-style S3. */
export interface AccountConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  forcePathStyle: boolean;
}

/**
 * SDK client config acting in `account`, for assertions account by account: the management account gets
 * the dummy credentials; any other account gets credentials from a (fixture-marked) AssumeRole into
 * `arn:aws:iam::<account>:role/<role>` (default `OrganizationAccountAccessRole`), cached in the world until
 * its next reset. Calls made with it act in that account at moto and are attributed to it by the proxy.
 * Wrap clients in `markFixture` as usual.
 */
export async function accountConfig(world: World, account: string, region: string, role = ORG_ROLE): Promise<AccountConfig> {
  const base = fixtureConfig(world, region);
  if (account === MANAGEMENT_ACCOUNT) return base;
  let creds = world.assumed.get(account);
  if (!creds) {
    const sts = markFixture(new STSClient(fixtureConfig(world, 'us-east-1')));
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${role}`, RoleSessionName: 'fixture' }));
    sts.destroy();
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`AssumeRole into ${account} gave no credentials`);
    creds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    world.assumed.set(account, creds);
  }
  return { ...base, credentials: creds };
}

/** One account of a seeded organization. */
export interface SeededAccount {
  id: string;
  name: string;
  email: string;
  management: boolean;
  /** Organizational unit id, when {@link OrgSeedOptions.ous} put it in one; else undefined (the root). */
  ou?: string;
  /** Clusters seeded in this account, with their log groups. */
  clusters: { region: string; name: string }[];
}

/** A seeded organization. */
export interface SeededOrganization {
  organizationId: string;
  rootId: string;
  management: SeededAccount;
  members: SeededAccount[];
  /** Management first, then members in creation order. */
  accounts: SeededAccount[];
  /** OU name → id, for {@link OrgSeedOptions.ous}. */
  ous: Record<string, string>;
  /** The inventory scope of one account: its regions and clusters, `account` set. */
  scope(account: string): Scope;
}

/** Options of {@link seedOrganization}. */
export interface OrgSeedOptions {
  /** Number of member accounts to create. */
  members: number;
  /** Regions with clusters in every member account. */
  regions: string[];
  /** Clusters per region per member account (named `app1`, `app2`, …). @default 1 */
  clustersPerRegion?: number;
  /** Also seed the same clusters in the management account. @default false */
  managementClusters?: boolean;
  /** Whether a cluster starts with audit logging on. @default never */
  auditOn?: (account: string, region: string, cluster: string) => boolean;
  /** Whether a cluster gets its log group. @default always */
  logGroup?: (account: string, region: string, cluster: string) => boolean;
  /** OUs under the root: name → indexes (0-based) of the members to move into it. */
  ous?: Record<string, number[]>;
  /** Member names are `<namePrefix>-<i>` (1-based). @default 'member' */
  namePrefix?: string;
  /** Seed moto's random generator first, so account ids repeat from run to run. */
  seed?: number;
}

/**
 * An AWS Organization in moto (fixture requests): the management account (123456789012), `members` member
 * accounts made with `CreateAccount` (each with its `OrganizationAccountAccessRole`), optional OUs, and in
 * each member account `clustersPerRegion` ACTIVE clusters per region with their log groups, made in that
 * account. The world should be fresh (reset) and moto must run without `MOTO_ACCOUNT_ID`.
 */
export async function seedOrganization(world: World, opts: OrgSeedOptions): Promise<SeededOrganization> {
  if (world.options.motoEnv.MOTO_ACCOUNT_ID) throw new Error('seedOrganization: moto runs with MOTO_ACCOUNT_ID; accounts cannot differ');
  if (opts.seed !== undefined) await world.moto.seed(opts.seed);
  const org = markFixture(new OrganizationsClient(fixtureConfig(world, 'us-east-1')));
  try {
    const created = await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const organizationId = created.Organization?.Id ?? '';
    const rootId = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
    const prefix = opts.namePrefix ?? 'member';
    const members: SeededAccount[] = [];
    for (let i = 1; i <= opts.members; i++) {
      const name = `${prefix}-${i}`;
      const email = `${name}@example.com`;
      const status = (await org.send(new CreateAccountCommand({ AccountName: name, Email: email }))).CreateAccountStatus;
      if (status?.State !== 'SUCCEEDED' || !status.AccountId) throw new Error(`CreateAccount ${name}: ${JSON.stringify(status)}`);
      members.push({ id: status.AccountId, name, email, management: false, clusters: [] });
    }
    const ous: Record<string, string> = {};
    for (const [ouName, indexes] of Object.entries(opts.ous ?? {})) {
      const ou = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: ouName }))).OrganizationalUnit?.Id ?? '';
      ous[ouName] = ou;
      for (const i of indexes) {
        const m = members[i];
        if (!m) throw new Error(`seedOrganization: no member #${i} for OU ${ouName}`);
        await org.send(new MoveAccountCommand({ AccountId: m.id, SourceParentId: rootId, DestinationParentId: ou }));
        m.ou = ou;
      }
    }
    const management: SeededAccount = { id: MANAGEMENT_ACCOUNT, name: 'master', email: 'master@example.com', management: true, clusters: [] };
    const perRegion = opts.clustersPerRegion ?? 1;
    const withClusters = opts.managementClusters ? [management, ...members] : members;
    // Accounts in parallel (each its own moto backend); clusters within an account one after another.
    await Promise.all(
      withClusters.map(async (a) => {
        for (const region of opts.regions) {
          for (let i = 1; i <= perRegion; i++) {
            const name = `app${i}`;
            await seedCluster(world, region, name, {
              account: a.id,
              audit: opts.auditOn?.(a.id, region, name) ?? false,
              logGroup: opts.logGroup?.(a.id, region, name) ?? true,
            });
            a.clusters.push({ region, name });
          }
        }
      }),
    );
    const accounts = [management, ...members];
    return {
      organizationId,
      rootId,
      management,
      members,
      accounts,
      ous,
      scope(account: string): Scope {
        const a = accounts.find((x) => x.id === account);
        if (!a) throw new Error(`seedOrganization: ${account} is not in the organization`);
        return { regions: [...opts.regions], clusters: a.clusters.map((c) => ({ ...c })), account };
      },
    };
  } finally {
    org.destroy();
  }
}

/**
 * Make `sts:AssumeRole` into `role` of `account` fail as AWS does when the role's trust does not allow the
 * caller (403 `AccessDenied`, "User: … is not authorized to perform: sts:AssumeRole on resource: <role ARN>").
 * moto itself never refuses an AssumeRole. Returns the proxy rule (remove() to lift it).
 */
export function denyAssumeRole(world: World, account: string, role = ORG_ROLE): RuleHandle {
  return world.proxy.addRule({ service: 'sts', action: 'AssumeRole', params: { RoleArn: `arn:aws:iam::${account}:role/${role}` }, fault: 'fail' });
}
