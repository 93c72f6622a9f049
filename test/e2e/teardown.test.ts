/**
 * Issue 4: teardown end to end, on moto behind the fault proxy with the fake FortiCNAPP.
 *   - completeness and order (DESIGN §4), confirmation unless --yes, log groups kept and reported, cluster
 *     logging restored only where setup turned audit on, a versioned bucket emptied first;
 *   - "Done when" 6: a teardown interrupted halfway (SIGKILL, or Ctrl+C) completes when run again, and a
 *     third run is a no-op success;
 *   - "Done when" 4: journal deleted after setup, `teardown --discover` removes everything;
 *   - the lock: a second run on a deployment in use stops with a clear message; a stale lock is taken over.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DeleteBucketPolicyCommand, DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { markFixture } from '../fakes/fault-proxy.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { clusterLogging, counts, inventory, leftovers, settled, type Scope } from './inventory.js';
import { CLI, fixtureConfig, runCli, seedCluster, startWorld, type World } from './world.js';
import { openTerminal, tmuxAvailable, type Terminal } from './pty.js';

const HOME = 'eu-central-1';
const SCOPE: Scope = {
  regions: ['eu-central-1', 'us-east-1'],
  clusters: [
    { region: 'eu-central-1', name: 'prod' },
    { region: 'eu-central-1', name: 'stage' },
    { region: 'us-east-1', name: 'edge' },
  ],
};
const BEFORE = { 'eu-central-1/prod': [], 'eu-central-1/stage': ['api', 'audit'], 'us-east-1/edge': [] };
const AFTER_SETUP = { 'eu-central-1/prod': ['audit'], 'eu-central-1/stage': ['api', 'audit'], 'us-east-1/edge': ['audit'] };

interface Json {
  status: string;
  deploymentId?: string;
  journal?: string;
  resources: { kind: string; id: string; region: string; action: string }[];
  notes?: string[];
  error?: { code: string; message: string };
  regionsSearched?: string[];
}

const run = requireMotoOrSkip();
if (run && !tmuxAvailable()) {
  // The confirmation test needs a terminal; without tmux it would prove nothing, so it fails rather than skips.
  throw new Error('tmux is required for the teardown confirmation test (apt-get install tmux)');
}

describe.runIf(run)('teardown (moto behind the fault proxy, fake FortiCNAPP)', () => {
  let world: World;
  let term: Terminal | undefined;

  const setup = (extra: string[] = [], opts: Parameters<typeof runCli>[2] = {}) =>
    runCli(world, ['setup', '--non-interactive', '--yes', '--json', '--region-clusters', 'eu-central-1=prod,stage', '--region-clusters', 'us-east-1=edge', '--api-key-file', world.keyFile, ...extra], opts);
  const teardown = (extra: string[] = [], opts: Parameters<typeof runCli>[2] = {}) =>
    runCli(world, ['teardown', '--json', '--api-key-file', world.keyFile, ...extra], opts);
  /** Mutating requests the proxy saw (AWS) since the last resetCalls, in order. */
  const mutating = () => world.proxy.calls.filter((c) => c.mutating && !c.fixture).map((c) => c.action);

  async function setupOk(extra: string[] = []): Promise<Json> {
    const r = await setup(extra);
    expect(r.code, r.stderr).toBe(0);
    return r.json<Json>();
  }

  async function expectNothingLeft(logging: Record<string, string[]> = BEFORE): Promise<void> {
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(logging);
  }

  beforeAll(async () => {
    world = await startWorld();
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(async () => {
    await world.reset();
    await seedCluster(world, 'eu-central-1', 'prod');
    await seedCluster(world, 'eu-central-1', 'stage', { audit: true });
    // edge has no log group: setup makes it, and teardown must keep it.
    await seedCluster(world, 'us-east-1', 'edge', { logGroup: false });
  });
  afterEach(() => {
    term?.close();
    term = undefined;
  });

  it('removes everything in DESIGN §4 order, empties a versioned bucket, restores logging where setup turned audit on, keeps and reports log groups', async () => {
    const made = await setupOk();
    const id = made.deploymentId as string;
    expect(made.resources.find((r) => r.kind === 'log-group' && r.id === '/aws/eks/edge/cluster')?.action).toBe('created');
    expect(await clusterLogging(world, SCOPE)).toEqual(AFTER_SETUP);
    // Objects in several versions and a delete marker: the bucket must be emptied of all of them first.
    const s3 = markFixture(new S3Client(fixtureConfig(world, HOME)));
    const bucket = `lw-eks-al${id}`;
    // moto applies the TLS-only Deny to the test's own object calls (moto.md §8.3): drop the policy first.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    for (const body of ['one', 'two', 'three']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `eks_audit_logs/x/${body.length}.json`, Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'eks_audit_logs/x/3.json', Body: 'again' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'eks_audit_logs/x/5.json' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.Versions).toHaveLength(4);
    expect(versions.DeleteMarkers).toHaveLength(1);

    world.proxy.resetCalls();
    const r = await teardown(['--yes']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<Json>();
    expect(out.status).toBe('ok');
    await expectNothingLeft();

    // What it reports: every resource deleted, audit logging restored on prod and edge only, the log group it made kept.
    const by = (kind: string) => out.resources.filter((x) => x.kind === kind).map((x) => `${x.id} ${x.action}`).sort();
    expect(by('iam-role')).toEqual([`lw-eks-al-ca-${id} deleted`, `lw-eks-al-cw-${id} deleted`, `lw-eks-al-fh-${id} deleted`]);
    expect(by('subscription-filter')).toHaveLength(3);
    expect(by('eks-audit-logging')).toEqual(['edge deleted', 'prod deleted']);
    expect(by('log-group')).toEqual(['/aws/eks/edge/cluster kept']);
    for (const kind of ['forticnapp-integration', 'firehose-stream', 's3-bucket-notification', 'sns-topic', 's3-bucket', 'kms-key']) expect(by(kind), kind).toHaveLength(1);
    expect(out.notes?.join('\n')).toMatch(/Audit logging turned back off where setup had turned it on: (prod \(eu-central-1\)|edge \(us-east-1\)), /);
    expect(out.notes?.join('\n')).toContain('audit was already on): stage (eu-central-1)');
    expect(out.notes?.join('\n')).toContain('Log groups kept');
    const logs = markFixture(new CloudWatchLogsClient(fixtureConfig(world, 'us-east-1')));
    const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/eks/edge/' }));
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(['/aws/eks/edge/cluster']);

    // KMS: the key is scheduled for deletion (not deleted at once), its alias gone.
    const kms = markFixture(new KMSClient(fixtureConfig(world, HOME)));
    const keyId = made.resources.find((x) => x.kind === 'kms-key')?.id;
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    expect((await kms.send(new ListAliasesCommand({}))).Aliases?.some((a) => a.AliasName?.includes(id))).toBe(false);

    // Order: each rank's deletes before the next rank's (integration first, then filters, stream, notification,
    // topic, bucket, key, roles, cluster logging last).
    const journal = readFileSync(out.journal as string, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; kind?: string });
    const undone = journal.filter((x) => x.t === 'undone').map((x) => x.kind as string);
    const RANK = ['forticnapp-integration', 'subscription-filter', 'firehose-stream', 's3-bucket-notification', 'sns-topic', 's3-bucket', 'kms-key', 'iam-role', 'log-group', 'eks-audit-logging'];
    expect(undone.map((k) => RANK.indexOf(k))).toEqual([...undone.map((k) => RANK.indexOf(k))].sort((a, b) => a - b));
    expect(undone[0]).toBe('forticnapp-integration');
    const calls = mutating();
    const first = (re: RegExp) => calls.findIndex((a) => re.test(a));
    const last = (re: RegExp) => calls.length - 1 - [...calls].reverse().findIndex((a) => re.test(a));
    const steps = [/^DeleteSubscriptionFilter$/, /^DeleteDeliveryStream$/, /^PutBucketNotificationConfiguration$/, /^DeleteTopic$/, /^(DeleteObjects|DeleteBucket)$/, /^(DeleteAlias|ScheduleKeyDeletion)$/, /^(DeleteRolePolicy|DeleteRole)$/, /^UpdateClusterConfig$/];
    for (let i = 1; i < steps.length; i++) {
      expect(last(steps[i - 1] as RegExp), `${steps[i - 1]} before ${steps[i]}`).toBeLessThan(first(steps[i] as RegExp));
    }
    // Inline policies go before their role; the bucket is emptied before it is deleted.
    expect(first(/^DeleteRolePolicy$/)).toBeLessThan(first(/^DeleteRole$/));
    expect(first(/^DeleteObjects$/)).toBeLessThan(first(/^DeleteBucket$/));

    // A second teardown: nothing to do, success, not one call to AWS.
    world.proxy.resetCalls();
    const again = await teardown(['--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<Json>()).toMatchObject({ status: 'ok', resources: [] });
    expect(world.proxy.calls.filter((c) => !c.fixture)).toEqual([]);
    const plain = await runCli(world, ['teardown', '--yes']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`Deployment ${id} has nothing left to remove.`);
  }, 60_000);

  it('asks before removing anything: without --yes and no terminal it refuses (exit 2); in a terminal, "no" removes nothing', async () => {
    await setupOk();
    world.proxy.resetCalls();
    const r = await runCli(world, ['teardown', '--api-key-file', world.keyFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes is required when not interactive');
    expect(mutating()).toEqual([]);

    term = openTerminal([process.execPath, CLI, 'teardown', '--api-key-file', world.keyFile], { env: world.env, cwd: world.home, cols: 200 });
    const screen = await term.waitFor('Remove all of this?');
    expect(screen).toMatch(/will be removed:/);
    expect(screen).toMatch(/EKS audit logging prod \(eu-central-1\) \(audit logging back off: setup turned it on\)/);
    expect(screen).toMatch(/\/aws\/eks\/edge\/cluster \(us-east-1\) \(kept: it holds the cluster logs\)/);
    term.type('n');
    term.keys('Enter');
    expect(await term.exitCode()).toBe(130);
    expect(term.screen()).toContain('Cancelled; nothing was removed.');
    expect(mutating()).toEqual([]);
    expect(leftovers(await inventory(world, SCOPE)).length).toBeGreaterThan(0);

    // And "yes" in a terminal removes it.
    term.close();
    term = openTerminal([process.execPath, CLI, 'teardown', '--api-key-file', world.keyFile], { env: world.env, cwd: world.home, cols: 200 });
    await term.waitFor('Remove all of this?');
    term.type('y');
    term.keys('Enter');
    expect(await term.exitCode()).toBe(0);
    await expectNothingLeft();
  }, 60_000);

  it('a teardown killed halfway completes when run again; a third run is a no-op success', async () => {
    // How many mutating requests a whole teardown makes.
    await setupOk();
    world.proxy.resetCalls();
    expect((await teardown(['--yes'])).code).toBe(0);
    const whole = world.proxy.mutatingCount();
    expect(whole).toBeGreaterThan(10);

    await world.reset();
    await seedCluster(world, 'eu-central-1', 'prod');
    await seedCluster(world, 'eu-central-1', 'stage', { audit: true });
    await seedCluster(world, 'us-east-1', 'edge', { logGroup: false });
    await setupOk();
    let pid = 0;
    const half = Math.floor(whole / 2);
    world.proxy.resetCalls();
    world.proxy.holdAfter(half, () => process.kill(pid, 'SIGKILL'));
    const killed = await teardown(['--yes'], { onSpawn: (p) => (pid = p) });
    await settled(world.proxy);
    world.proxy.onMutating(null);
    expect(killed.code).toBe(137);
    // Halfway: some of it is gone, some is still there.
    const left = leftovers(await inventory(world, SCOPE));
    expect(left.length).toBeGreaterThan(0);

    world.proxy.resetCalls();
    const second = await teardown(['--yes']);
    expect(second.code, second.stderr).toBe(0);
    // It resumed: it did not redo the deletes the first run finished (fewer calls than a whole teardown).
    expect(world.proxy.mutatingCount()).toBeLessThan(whole);
    await expectNothingLeft();

    world.proxy.resetCalls();
    const third = await teardown(['--yes']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.json<Json>()).toMatchObject({ status: 'ok', resources: [] });
    expect(world.proxy.calls.filter((c) => !c.fixture)).toEqual([]);
  }, 90_000);

  it('Ctrl+C during teardown stops after the calls under way (exit 130, says how to finish); running it again finishes', async () => {
    const made = await setupOk();
    let pid = 0;
    world.proxy.resetCalls();
    // At the Firehose deletion: the integration and the filters are gone, the rest is still there.
    world.proxy.onMutating((_n, call) => {
      if (call.action === 'DeleteDeliveryStream') process.kill(pid, 'SIGINT');
    });
    const r = await teardown(['--yes'], { onSpawn: (p) => (pid = p) });
    world.proxy.onMutating(null);
    expect(r.code, r.stderr).toBe(130);
    const out = r.json<Json>();
    expect(out.status).toBe('interrupted');
    expect(out.error?.message).toContain('was interrupted before it finished');
    expect(out.error?.message).toContain(`teardown --deployment ${made.deploymentId}`);
    // It started nothing after the interruption: the roles (deleted after the bucket and key) are all still there.
    expect(mutating()).not.toContain('DeleteRole');
    expect((await inventory(world, SCOPE)).roles).toHaveLength(3);

    const again = await teardown(['--yes']);
    expect(again.code, again.stderr).toBe(0);
    await expectNothingLeft();
  }, 60_000);

  it('journal deleted after setup: teardown --discover finds the deployment by tags and names and removes everything; cluster logging is left as it is and said so', async () => {
    const made = await setupOk();
    const id = made.deploymentId as string;
    rmSync(world.stateDir, { recursive: true, force: true });

    const noKey = await runCli(world, ['teardown', '--discover', '--yes']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('needed to find and delete the FortiCNAPP integration');

    const r = await teardown(['--discover', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<Json>();
    expect(out).toMatchObject({ status: 'ok', deploymentId: id, discovered: true });
    // The CLI's own region is us-east-1 (AWS_REGION); the home region was found through the deployment itself.
    expect(out.regionsSearched).toEqual(['eu-central-1', 'us-east-1']);
    const kinds = out.resources.filter((x) => x.action === 'deleted').map((x) => x.kind).sort();
    expect(kinds).toEqual(['firehose-stream', 'forticnapp-integration', 'iam-role', 'iam-role', 'iam-role', 'kms-key', 's3-bucket', 's3-bucket-notification', 'sns-topic', 'subscription-filter', 'subscription-filter', 'subscription-filter']);
    expect(out.resources.filter((x) => x.action === 'kept').map((x) => x.id).sort()).toEqual(['/aws/eks/edge/cluster', '/aws/eks/prod/cluster', '/aws/eks/stage/cluster']);
    expect(out.notes?.join('\n')).toMatch(/Cluster logging was left as it is .*without the journal nothing records where audit logging was off/);
    expect(out.notes?.join('\n')).toMatch(/Log groups kept/);
    // Everything of ours is gone; the clusters keep audit logging on, as the note says.
    await expectNothingLeft(AFTER_SETUP);

    const again = await teardown(['--discover', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<Json>()).toMatchObject({ status: 'ok', resources: [] });
    const plain = await runCli(world, ['teardown', '--discover', '--yes', '--api-key-file', world.keyFile]);
    expect(plain.stdout).toContain('No forticnapp-eks-audit deployment was found');
  }, 60_000);

  it('teardown --discover after a crash left a key without its alias and no journal: found by tag, removed', async () => {
    // Killed right after CreateKey (2 cluster updates and 6 IAM calls come first): the key has no alias yet.
    let pid = 0;
    world.proxy.onMutating((_n, call) => {
      if (call.action === 'EnableKeyRotation') {
        process.kill(pid, 'SIGKILL');
        return 'hold';
      }
      return undefined;
    });
    const killed = await setup([], { onSpawn: (p) => (pid = p) });
    await settled(world.proxy);
    world.proxy.onMutating(null);
    expect(killed.code).toBe(137);
    expect((await inventory(world, SCOPE)).kmsKeys).toHaveLength(1);
    expect((await inventory(world, SCOPE)).kmsAliases).toEqual([]);
    rmSync(world.stateDir, { recursive: true, force: true });

    const r = await teardown(['--discover', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<Json>().resources.filter((x) => x.kind === 'kms-key' && x.action === 'deleted')).toHaveLength(1);
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
  }, 60_000);

  it('teardown --discover with two deployments asks which (--deployment), then removes only that one', async () => {
    const a = await setupOk();
    // A second deployment in the same account, with another prefix and one cluster.
    const b = await runCli(world, ['setup', '--non-interactive', '--yes', '--json', '--prefix', 'other', '--region-clusters', 'us-east-1=edge', '--api-key-file', world.keyFile]);
    expect(b.code, b.stderr).toBe(0);
    const bId = b.json<Json>().deploymentId as string;
    rmSync(world.stateDir, { recursive: true, force: true });

    const which = await teardown(['--discover', '--yes']);
    expect(which.code).toBe(2);
    expect(which.stderr).toMatch(new RegExp(`Several deployments were found .*${a.deploymentId}.*pass --deployment <id>`));
    expect(which.stderr).toContain(bId);

    const r = await teardown(['--discover', '--yes', '--deployment', a.deploymentId as string]);
    expect(r.code, r.stderr).toBe(0);
    expect(leftovers(await inventory(world, { ...SCOPE, deploymentId: a.deploymentId }, { withTagging: true }))).toEqual([]);
    // The other deployment is untouched: all of it is still there.
    const other = await inventory(world, { ...SCOPE, prefix: 'other', deploymentId: bId }, { withTagging: true });
    expect(counts(other)).toEqual({ roles: 3, buckets: 1, topics: 1, streams: 1, kmsKeys: 1, kmsAliases: 1, filters: 1, notifications: 1, subscriptions: 1, integrations: 1, tagged: 4 });

    const rest = await teardown(['--discover', '--yes']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.json<Json>().deploymentId).toBe(bId);
    expect(leftovers(await inventory(world, { ...SCOPE, prefix: 'other' }, { withTagging: true }))).toEqual([]);
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
  }, 90_000);

  it('a run on a deployment that is in use stops with a clear message; the first run is unharmed', async () => {
    // The first setup is slowed down (its stream takes 3 s) so that the others meet its lock.
    world.proxy.addRule({ action: 'CreateDeliveryStream', fault: 'delay', delayMs: 3000 });
    let firstPid = 0;
    const first = setup([], { onSpawn: (p) => (firstPid = p) });
    const lock = await waitForLock();
    const secondSetup = await setup();
    const td = await teardown(['--yes']);
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    for (const r of [secondSetup, td]) {
      expect(r.code).toBe(2);
      expect(r.json<Json>().error?.code).toBe('DeploymentLocked');
      expect(r.stderr).toContain(`Deployment ${path.basename(path.dirname(lock))} is in use by another run (PID ${firstPid})`);
    }
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it('a lock left by a process that no longer runs is taken over', async () => {
    const made = await setupOk();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const lock = path.join(world.stateDir, 'deployments', made.deploymentId as string, 'lock');
    writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), at: new Date().toISOString() }));
    const r = await teardown(['--yes']);
    expect(r.code, r.stderr).toBe(0);
    await expectNothingLeft();
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  /** The lock file of the one deployment once a run holds it. */
  async function waitForLock(): Promise<string> {
    const root = path.join(world.stateDir, 'deployments');
    for (let i = 0; i < 200; i++) {
      if (existsSync(root)) {
        for (const id of readdirSync(root)) {
          const lock = path.join(root, id, 'lock');
          if (existsSync(lock)) return lock;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no run took the lock');
  }
});
