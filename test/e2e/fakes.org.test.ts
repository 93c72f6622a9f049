/**
 * Organizations fixtures on moto (issue 12): what moto does for Organizations and cross-account AssumeRole
 * (the facts listed at the top of fixtures.ts), seedOrganization, accountConfig, denyAssumeRole, and an
 * inventory taken account by account.
 */
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListAccountsCommand, ListAccountsForParentCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markFixture } from '../fakes/fault-proxy.js';
import { DUMMY_CREDENTIALS } from '../fakes/moto-accounts.js';
import { requireMotoOrSkip, startMoto } from '../fakes/moto.js';
import { accountConfig, denyAssumeRole, MANAGEMENT_ACCOUNT, seedOrganization, type SeededOrganization } from './fixtures.js';
import { clusterLogging, inventory, leftovers } from './inventory.js';
import { fixtureConfig, startWorld, type World } from './world.js';

const run = requireMotoOrSkip();
const REGIONS = ['eu-central-1', 'us-east-1'];

describe.skipIf(!run)('an organization in moto', () => {
  let world: World;
  let org: SeededOrganization;

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(async () => {
    await world.reset();
    org = await seedOrganization(world, {
      members: 3,
      regions: REGIONS,
      clustersPerRegion: 2,
      ous: { prod: [0, 1] },
      auditOn: (_a, region, name) => region === 'us-east-1' && name === 'app2',
    });
  });

  it('has the management account and three ACTIVE members, two of them in an OU', async () => {
    const o = markFixture(new OrganizationsClient(fixtureConfig(world, 'us-east-1')));
    const accounts = (await o.send(new ListAccountsCommand({}))).Accounts ?? [];
    expect(accounts.map((a) => [a.Id, a.Name, a.Status])).toEqual([
      [MANAGEMENT_ACCOUNT, 'master', 'ACTIVE'],
      ...org.members.map((m) => [m.id, m.name, 'ACTIVE']),
    ]);
    expect(new Set(org.accounts.map((a) => a.id)).size).toBe(4);
    const inProd = (await o.send(new ListAccountsForParentCommand({ ParentId: org.ous.prod }))).Accounts ?? [];
    expect(inProd.map((a) => a.Id).sort()).toEqual([org.members[0]?.id, org.members[1]?.id].sort());
    expect(org.members.map((m) => m.ou)).toEqual([org.ous.prod, org.ous.prod, undefined]);
  });

  it('puts each member account clusters and log groups in that account only; accountConfig acts there', async () => {
    for (const m of org.members) {
      for (const region of REGIONS) {
        const cfg = await accountConfig(world, m.id, region);
        expect((await markFixture(new STSClient(cfg)).send(new GetCallerIdentityCommand({}))).Account).toBe(m.id);
        const eks = markFixture(new EKSClient(cfg));
        expect(((await eks.send(new ListClustersCommand({}))).clusters ?? []).sort()).toEqual(['app1', 'app2']);
        expect((await eks.send(new DescribeClusterCommand({ name: 'app1' }))).cluster?.arn).toBe(`arn:aws:eks:${region}:${m.id}:cluster/app1`);
        const groups = (await markFixture(new CloudWatchLogsClient(cfg)).send(new DescribeLogGroupsCommand({}))).logGroups ?? [];
        expect(groups.map((g) => g.logGroupName).sort()).toEqual(['/aws/eks/app1/cluster', '/aws/eks/app2/cluster']);
      }
      // CreateAccount made the role the tool assumes, trusting the management account.
      const role = await markFixture(new IAMClient(await accountConfig(world, m.id, 'us-east-1'))).send(new GetRoleCommand({ RoleName: 'OrganizationAccountAccessRole' }));
      expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).toContain(`arn:aws:iam::${MANAGEMENT_ACCOUNT}:root`);
      expect(await clusterLogging(world, org.scope(m.id))).toEqual({
        'eu-central-1/app1': [],
        'eu-central-1/app2': [],
        'us-east-1/app1': [],
        'us-east-1/app2': ['api', 'audit'],
      });
      expect(leftovers(await inventory(world, org.scope(m.id)))).toEqual([]);
    }
    // The management account has none of them.
    const mgmt = markFixture(new EKSClient(fixtureConfig(world, 'eu-central-1')));
    expect((await mgmt.send(new ListClustersCommand({}))).clusters ?? []).toEqual([]);
    // The proxy saw the assumed keys handed out and attributes their calls to the member account.
    const member = org.members[2]?.id ?? '';
    const byAccount = world.proxy.calls.filter((c) => c.service === 'eks' && c.action === 'ListClusters').map((c) => c.account);
    expect(byAccount).toContain(member);
    expect(byAccount.at(-1)).toBe(MANAGEMENT_ACCOUNT);
  });

  it('denyAssumeRole makes one member role unassumable (moto never refuses), until removed', async () => {
    const [a, b] = org.members;
    const sts = new STSClient({ ...fixtureConfig(world, 'us-east-1'), maxAttempts: 1 });
    const rule = denyAssumeRole(world, a?.id ?? '');
    const roleA = `arn:aws:iam::${a?.id}:role/OrganizationAccountAccessRole`;
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: roleA, RoleSessionName: 'forticnapp-eks-audit' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${MANAGEMENT_ACCOUNT}:user/moto is not authorized to perform: sts:AssumeRole on resource: ${roleA}`,
      $metadata: { httpStatusCode: 403 },
    });
    const ok = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${b?.id}:role/OrganizationAccountAccessRole`, RoleSessionName: 'x' }));
    expect(ok.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${b?.id}:assumed-role/OrganizationAccountAccessRole/x`);
    rule.remove();
    await sts.send(new AssumeRoleCommand({ RoleArn: roleA, RoleSessionName: 'forticnapp-eks-audit' }));
  });

  it('moto: AssumeRole into an account outside the organization, or a role that does not exist, still succeeds', async () => {
    const sts = markFixture(new STSClient(fixtureConfig(world, 'us-east-1')));
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::999988887777:role/NoSuchRole', RoleSessionName: 's' }));
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::999988887777:assumed-role/NoSuchRole/s');
  });
});

describe.skipIf(!run)('moto with MOTO_ACCOUNT_ID', () => {
  it('ignores assumed credentials: every call acts in the fixed account (so organizations need it unset)', async () => {
    const moto = await startMoto({ env: { MOTO_ACCOUNT_ID: '111122223333' } });
    try {
      const cfg = { endpoint: moto.endpoint, region: 'us-east-1', credentials: DUMMY_CREDENTIALS };
      const c = (await new STSClient(cfg).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::444455556666:role/R', RoleSessionName: 's' }))).Credentials;
      const assumed = new STSClient({ ...cfg, credentials: { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' } });
      expect((await assumed.send(new GetCallerIdentityCommand({}))).Account).toBe('111122223333');
    } finally {
      await moto.stop();
    }
  });
});
