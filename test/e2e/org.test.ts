/**
 * Issue 12: every account of an AWS Organization from one command, on moto (without MOTO_ACCOUNT_ID, so
 * assumed credentials act in the member account) and the fake FortiCNAPP. Each test checks account by
 * account with that account's own credentials.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { markFixture } from '../fakes/fault-proxy.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { accountConfig, denyAssumeRole, seedOrganization, type SeededOrganization } from './fixtures.js';
import { clusterLogging, counts, inventory, leftovers } from './inventory.js';
import { runCli, seedCluster, startWorld, type World } from './world.js';

const REGIONS = ['eu-central-1', 'us-east-1'];
const run = requireMotoOrSkip();

interface OrgJson {
  status: string;
  accounts: { accountId: string; name: string; status: string; exitCode: number; deploymentId?: string; error?: { code: string; message: string }; clusters?: { cluster: string; region: string; covered: boolean }[] }[];
  totals: Record<string, number>;
  retry?: string;
  coverage?: { covered: number; clusters: number };
  error?: { code: string; message: string };
}

describe.runIf(run)('every account of an organization (moto Organizations + AssumeRole, fake FortiCNAPP)', () => {
  let world: World;
  let org: SeededOrganization;
  const orgArgs = (command: string, extra: string[] = []) => [
    command, '--organization', '--regions', REGIONS.join(','), ...(command === 'setup' || command === 'plan' ? ['--all-clusters'] : []),
    '--non-interactive', ...(command === 'setup' || command === 'teardown' ? ['--yes'] : []), '--json', '--api-key-file', world.keyFile, ...extra,
  ];
  const mutatingIn = (account: string) => world.proxy.calls.filter((c) => !c.fixture && c.mutating && c.account === account).map((c) => `${c.service}:${c.action}`);

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(async () => {
    await world.reset();
    // A management account and 3 members, one cluster per region in each member; one member starts with audit on.
    org = await seedOrganization(world, { members: 3, regions: REGIONS, seed: 7 });
  });

  it('1-2. setup --organization builds the pipeline in every account, one integration each, events reach each account’s bucket and the platform; a second run changes nothing anywhere', async () => {
    const r = await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json<OrgJson>();
    expect(doc.status).toBe('ok');
    // The management account has no cluster: skipped, not failed.
    const byId = new Map(doc.accounts.map((a) => [a.accountId, a]));
    expect(byId.get(org.management.id)?.status).toBe('skipped');
    for (const m of org.members) expect(byId.get(m.id)?.status, JSON.stringify(byId.get(m.id))).toBe('ok');
    expect(world.lw.integrations.size).toBe(org.members.length);
    const roles = [...world.lw.integrations.values()].map((i) => i.data.crossAccountCredentials.roleArn.split(':')[4]).sort();
    expect(roles).toEqual(org.members.map((m) => m.id).sort());

    for (const m of org.members) {
      const inv = await inventory(world, org.scope(m.id));
      expect(counts(inv), m.id).toMatchObject({ roles: 3, buckets: 1, topics: 1, streams: 1, kmsKeys: 1, filters: 2, notifications: 1, integrations: 1 });
      expect(await clusterLogging(world, org.scope(m.id))).toEqual({ 'eu-central-1/app1': ['audit'], 'us-east-1/app1': ['audit'] });
      // An audit event written in the member's log group lands in that member's bucket and on the platform's queue.
      const home = REGIONS[0] as string;
      const logs = markFixture(new CloudWatchLogsClient(await accountConfig(world, m.id, home)));
      await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/eks/app1/cluster', logStreamName: 'audit-1' }));
      await logs.send(new PutLogEventsCommand({ logGroupName: '/aws/eks/app1/cluster', logStreamName: 'audit-1', logEvents: [{ timestamp: Date.now(), message: JSON.stringify({ kind: 'Event', auditID: `a-${m.id}`, stage: 'ResponseComplete' }) }] }));
      const id = byId.get(m.id)?.deploymentId as string;
      const s3 = markFixture(new S3Client(await accountConfig(world, m.id, home)));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: `lw-eks-al${id}`, Prefix: `eks_audit_logs/${m.id}/` }));
      expect(listed.KeyCount, m.id).toBe(1);
      const sqs = markFixture(new SQSClient(await accountConfig(world, m.id, home)));
      const msgs = await sqs.send(new ReceiveMessageCommand({ QueueUrl: await world.lw.queueUrl(home, m.id), MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const created = (msgs.Messages ?? []).flatMap((x) => (JSON.parse(JSON.parse(x.Body ?? '{}').Message ?? '{}').Records ?? []) as { eventName: string }[]).filter((rec) => rec.eventName.startsWith('ObjectCreated'));
      expect(created.length, m.id).toBe(1);
    }

    world.proxy.resetCalls();
    const again = await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 });
    expect(again.code, again.stderr).toBe(0);
    for (const m of [org.management, ...org.members]) expect(mutatingIn(m.id), m.id).toEqual([]);
    expect(world.lw.integrations.size).toBe(org.members.length);
  }, 300_000);

  it('3. a cluster created since setup shows as not covered; setup again adds only it; then every cluster is covered', async () => {
    expect((await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 })).code).toBe(0);
    const m = org.members[1] as SeededOrganization['members'][number];
    await seedCluster(world, 'us-east-1', 'newcomer', { account: m.id });
    const st = await runCli(world, orgArgs('status'), { timeoutMs: 240_000 });
    expect(st.code, st.stderr).toBe(1);
    const doc = st.json<OrgJson>();
    const row = doc.accounts.find((a) => a.accountId === m.id);
    expect(row?.clusters?.find((c) => c.cluster === 'newcomer')?.covered).toBe(false);
    expect(doc.coverage).toEqual({ covered: 6, clusters: 7 });
    expect(st.stderr).toMatch(/6 of 7 clusters covered/);

    world.proxy.resetCalls();
    expect((await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 })).code).toBe(0);
    for (const other of org.members.filter((x) => x.id !== m.id)) expect(mutatingIn(other.id), other.id).toEqual([]);
    const changed = mutatingIn(m.id);
    expect(changed).toContain('eks:UpdateClusterConfig');
    expect(changed).toContain('logs:PutSubscriptionFilter');
    expect(changed.filter((c) => c === 'logs:PutSubscriptionFilter')).toHaveLength(1);

    const after = await runCli(world, orgArgs('status'), { timeoutMs: 240_000 });
    expect(after.code, after.stderr).toBe(0);
    expect(after.json<OrgJson>().coverage).toEqual({ covered: 7, clusters: 7 });
  }, 300_000);

  it('4. a member whose role cannot be assumed is named in preflight (exit 2, nothing changed anywhere); excluded, the rest succeed', async () => {
    const bad = org.members[0] as SeededOrganization['members'][number];
    denyAssumeRole(world, bad.id);
    world.proxy.resetCalls();
    const r = await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(2);
    const doc = r.json<OrgJson>();
    expect(doc.accounts.find((a) => a.accountId === bad.id)?.error?.message).toMatch(/cannot assume role OrganizationAccountAccessRole/);
    expect(world.proxy.calls.filter((c) => !c.fixture && c.mutating && c.action !== 'AssumeRole')).toEqual([]);
    expect(world.lw.integrations.size).toBe(0);

    const ok = await runCli(world, orgArgs('setup', ['--exclude-account', bad.id]), { timeoutMs: 240_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(world.lw.integrations.size).toBe(org.members.length - 1);
  }, 300_000);

  it('5. a failure in one account rolls that account back; the others complete; the summary names it and the retry command completes it', async () => {
    const bad = org.members[2] as SeededOrganization['members'][number];
    // A permanent failure of that account's stream (the proxy knows each call's account).
    const rule = world.proxy.addRule({ service: 'firehose', action: 'CreateDeliveryStream', account: bad.id, fault: 'error', code: 'InvalidArgumentException', message: 'Firehose says no' , status: 400 });
    const r = await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 });
    expect([1, 3]).toContain(r.code);
    const doc = r.json<OrgJson>();
    const row = doc.accounts.find((a) => a.accountId === bad.id);
    expect(row?.status).toBe('rolled-back');
    expect(leftovers(await inventory(world, org.scope(bad.id)))).toEqual([]);
    for (const m of org.members.filter((x) => x.id !== bad.id)) expect(doc.accounts.find((a) => a.accountId === m.id)?.status).toBe('ok');
    expect(doc.retry).toContain(`--accounts ${bad.id}`);
    expect(doc.error?.message).toContain(bad.id);

    rule.remove();
    const words = (doc.retry as string).split(' ').slice(2); // drop `node <bin>`
    const retried = await runCli(world, words, { timeoutMs: 240_000 });
    expect(retried.code, retried.stderr).toBe(0);
    expect(counts(await inventory(world, org.scope(bad.id)))).toMatchObject({ streams: 1, filters: 2, integrations: 1 });
  }, 300_000);

  it('6. teardown --organization leaves nothing in any account and no integration; logging restored', async () => {
    expect((await runCli(world, orgArgs('setup'), { timeoutMs: 240_000 })).code).toBe(0);
    const t = await runCli(world, orgArgs('teardown'), { timeoutMs: 240_000 });
    expect(t.code, t.stderr).toBe(0);
    for (const m of org.members) {
      expect(leftovers(await inventory(world, org.scope(m.id))), m.id).toEqual([]);
      expect(await clusterLogging(world, org.scope(m.id))).toEqual({ 'eu-central-1/app1': [], 'us-east-1/app1': [] });
    }
    expect(world.lw.integrations.size).toBe(0);
  }, 300_000);
});
