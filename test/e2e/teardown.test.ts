/**
 * Teardown end to end on the new model (DESIGN §2, §4; issue 8, issue 10 items 3 and 6), on moto behind the
 * fault proxy with the fake FortiCNAPP. The deployment is found from its record in SSM Parameter Store, so
 * every run here could be on any machine; the journal is only the crash log.
 *   - everything removed on the graph reversed: what uses a resource goes before it (checked on the requests
 *     AWS and FortiCNAPP saw), a versioned bucket emptied, logging restored only where setup turned audit
 *     on, log groups kept and reported, the record deleted last;
 *   - confirmation: without --yes and no terminal exit 2; on a terminal "no" removes nothing;
 *   - killed halfway (SIGKILL) then run again completes; a third run is a no-op success; Ctrl+C: exit 130,
 *     and running again finishes;
 *   - --discover with record and journal gone: found by tags and names, removed, logging left as it is and
 *     said so;
 *   - the lock: a live run stops a second one (exit 2); a killed run's stale lock is taken over;
 *   - issue 10 item 3: a revoked key is exit 2 with every AWS resource and the integration still there;
 *   - issue 10 item 6: each outcome worded right, in text and in JSON.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchLogsClient, DeleteSubscriptionFilterCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DeleteBucketPolicyCommand, DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { markFixture, type RequestView } from '../fakes/fault-proxy.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { AFTER_SETUP, BEFORE, HOME, ONE_OF_EACH, SCOPE, seedThreeClusters, setupArgs, teardownArgs, type SetupResource as Resource } from './fixtures.js';
import { clusterLogging, counts, inventory, leftovers, settled } from './inventory.js';
import { openTerminal, removeTerminalFiles, tmuxAvailable, type Terminal } from './pty.js';
import { deleteRecordParameters, recordParameters } from './records.js';
import { CLI, fixtureConfig, runCli, startWorld, type CliRun, type World } from './world.js';

interface Json {
  status: string;
  deploymentId?: string;
  accountId?: string;
  homeRegion?: string;
  journal?: string;
  discovered?: boolean;
  resources: Resource[];
  error?: { code: string; message: string };
}

/** One mutating request as it reached AWS, or a change asked of FortiCNAPP, in arrival order. */
interface Step {
  /** `iam:DeleteRole lw-eks-al-fh-1234abcd`, `forticnapp:DELETE …`. */
  what: string;
  /** The resource it acts on: `role-fh`, `stream`, `integration`… (undefined: not one of ours). */
  resource?: string;
}

/**
 * One complete deployment of the three clusters, its record included: the record's three parameters (the main
 * one, one per region with clusters) are tagged, so the tagging API lists them too.
 */
const ONE_WITH_RECORD = { ...ONE_OF_EACH, tagged: ONE_OF_EACH.tagged + 3 };

const run = requireMotoOrSkip();
if (run && !tmuxAvailable()) {
  // The confirmation test needs a terminal; without tmux it would prove nothing, so it fails rather than skips.
  throw new Error('tmux is required for the teardown confirmation test (apt-get install tmux)');
}

describe.runIf(run)('teardown (moto behind the fault proxy, fake FortiCNAPP)', () => {
  let world: World;
  let term: Terminal | undefined;

  const setup = (extra: string[] = [], opts: Parameters<typeof runCli>[2] = {}) => runCli(world, setupArgs(world, extra), opts);
  const teardown = (extra: string[] = [], opts: Parameters<typeof runCli>[2] = {}) => runCli(world, teardownArgs(world, extra), opts);
  const ok = (r: CliRun) => {
    expect(r.code, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    return r;
  };
  const setupOk = async (extra: string[] = []) => ok(await setup(extra)).json<Json>();
  /** Mutating AWS requests the CLI made since the last resetCalls (fixtures excluded), `service:Action`. */
  const mutating = () => world.proxy.calls.filter((c) => c.mutating && !c.fixture).map((c) => `${c.service}:${c.action}`);
  /** Changes asked of FortiCNAPP (registrations, updates, deletions). */
  const lwChanges = () => world.lw.requests.filter((r) => r.path.startsWith('/api/v2/CloudAccounts') && r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
  const records = () => recordParameters(world, SCOPE.regions);
  const fx = <T extends Parameters<typeof markFixture>[0]>(c: T) => markFixture(c);

  /** Nothing of ours left: no resource, no registration, no record; logging as given. */
  async function expectNothingLeft(logging: Record<string, string[]> = BEFORE): Promise<void> {
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
    expect(await records()).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(logging);
  }

  /** The whole deployment still there: one of each, its record, logging as setup left it. */
  async function expectAllThere(): Promise<void> {
    expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual(ONE_WITH_RECORD);
    expect(await records()).toHaveLength(3);
    expect(await clusterLogging(world, SCOPE)).toEqual(AFTER_SETUP);
  }

  /**
   * Records, in arrival order, every mutating request that reaches AWS and every change FortiCNAPP is asked
   * for (a proxy rule that never matches, only looks; the fake's own request log, read at each AWS request).
   */
  function recordSteps(deploymentId: string): () => Step[] {
    const aws: { view: RequestView; lwSeen: number }[] = [];
    world.proxy.addRule({
      fault: 'delay',
      mutating: true,
      match: (view) => {
        aws.push({ view, lwSeen: lwChanges().length });
        return false;
      },
    });
    const lwBefore = lwChanges().length;
    const resourceOf = (v: RequestView): string | undefined => {
      const p = v.params;
      switch (v.action) {
        case 'DeleteRole':
        case 'DeleteRolePolicy':
        case 'DetachRolePolicy': {
          const which = /-(ca|fh|cw)-[0-9a-f]{8}$/.exec(p.RoleName ?? '')?.[1];
          return which ? `role-${which}` : undefined;
        }
        case 'DeleteSubscriptionFilter':
          return 'filter';
        case 'DeleteDeliveryStream':
          return 'stream';
        case 'PutBucketNotificationConfiguration':
          return 'notification';
        case 'DeleteTopic':
          return 'topic';
        case 'DeleteObjects':
        case 'DeleteObject':
        case 'DeleteBucket':
        case 'DeleteBucketPolicy':
          return 'bucket';
        case 'DeleteAlias':
        case 'ScheduleKeyDeletion':
          return 'key';
        case 'UpdateClusterConfig':
          return 'logging';
        case 'DeleteParameters':
          return 'record';
        default:
          return undefined;
      }
    };
    return () => {
      const steps: Step[] = [];
      const lw = lwChanges().slice(lwBefore);
      let lwNext = 0;
      for (const { view, lwSeen } of aws) {
        // FortiCNAPP changes answered before this AWS request arrived come first.
        while (lwNext < lw.length && lwNext < lwSeen - lwBefore) steps.push({ what: `forticnapp:${lw[lwNext++]}`, resource: 'integration' });
        const name = view.params.RoleName ?? view.params.name ?? view.params.DeliveryStreamName ?? view.params.Bucket ?? '';
        steps.push({ what: `${view.service}:${view.action}${name ? ` ${name}` : ''}`, resource: resourceOf(view) });
      }
      while (lwNext < lw.length) steps.push({ what: `forticnapp:${lw[lwNext++]}`, resource: 'integration' });
      void deploymentId;
      return steps;
    };
  }

  beforeAll(async () => {
    world = await startWorld();
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
    removeTerminalFiles();
  });
  beforeEach(async () => {
    // edge has no log group: setup makes it, and teardown must keep it.
    await seedThreeClusters(world, { reset: true, edgeLogGroup: false });
  });
  afterEach(() => {
    term?.close();
    term = undefined;
  });

  it('removes everything on the graph reversed (what uses a resource first), empties a versioned bucket, restores logging where setup turned audit on, keeps and reports log groups', async () => {
    const made = await setupOk();
    const id = made.deploymentId as string;
    expect(made.resources.find((r) => r.kind === 'log-group' && r.id === '/aws/eks/edge/cluster')?.action).toBe('created');
    expect(await clusterLogging(world, SCOPE)).toEqual(AFTER_SETUP);
    expect(await records()).not.toEqual([]);
    // Objects in several versions and a delete marker: the bucket must be emptied of all of them first.
    const s3 = fx(new S3Client(fixtureConfig(world, HOME)));
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
    const steps = recordSteps(id);
    const r = ok(await teardown(['--yes']));
    const out = r.json<Json>();
    expect(out).toMatchObject({ status: 'ok', deploymentId: id });
    await expectNothingLeft();
    // Log groups stay (they hold the clusters' logs), the one setup made included.
    const logs = fx(new CloudWatchLogsClient(fixtureConfig(world, 'us-east-1')));
    expect((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/eks/edge/' }))).logGroups?.map((g) => g.logGroupName)).toEqual(['/aws/eks/edge/cluster']);

    // What it reports: every resource deleted, audit logging back off on prod and edge only, log groups kept.
    const by = (kind: string) => out.resources.filter((x) => x.kind === kind).map((x) => `${x.id} ${x.action}${x.outcome ? ` ${x.outcome}` : ''}`).sort();
    expect(by('iam-role')).toEqual([`lw-eks-al-ca-${id} deleted`, `lw-eks-al-cw-${id} deleted`, `lw-eks-al-fh-${id} deleted`]);
    expect(by('subscription-filter')).toHaveLength(3);
    expect(by('eks-audit-logging')).toEqual(['edge changed turned-off', 'prod changed turned-off', 'stage kept']);
    expect(by('log-group')).toEqual(['/aws/eks/edge/cluster kept', '/aws/eks/prod/cluster kept', '/aws/eks/stage/cluster kept']);
    for (const kind of ['forticnapp-integration', 'firehose-stream', 's3-bucket-notification', 'sns-topic', 's3-bucket']) expect(by(kind), kind).toEqual([expect.stringMatching(/ deleted$/)]);
    expect(by('kms-key')).toEqual([expect.stringMatching(/ deleted scheduled-for-deletion$/)]);

    // KMS: the key is scheduled for deletion (not deleted at once), its alias gone.
    const kms = fx(new KMSClient(fixtureConfig(world, HOME)));
    const keyId = made.resources.find((x) => x.kind === 'kms-key')?.resourceId ?? made.resources.find((x) => x.kind === 'kms-key')?.id;
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    expect((await kms.send(new ListAliasesCommand({}))).Aliases?.some((a) => a.AliasName?.includes(id))).toBe(false);

    // Order, from the requests themselves: what uses a resource is gone before the resource goes. The pairs are
    // what AWS and FortiCNAPP use, not a rank list: the integration reads the bucket through the cross-account
    // role when the topic tells it to; a filter writes to the stream as the CloudWatch role; the stream writes
    // to the bucket as the Firehose role, with the key; the bucket notifies the topic; bucket and topic
    // encrypt with the key, whose policy names the Firehose role; the record goes once everything else has.
    const seen = steps();
    const first = (res: string) => seen.findIndex((s) => s.resource === res);
    const last = (res: string) => seen.map((s) => s.resource).lastIndexOf(res);
    const uses: [string, string[]][] = [
      ['integration', ['role-ca', 'topic', 'bucket', 'notification']],
      ['filter', ['stream', 'role-cw']],
      ['stream', ['role-fh', 'bucket', 'key']],
      ['notification', ['topic', 'bucket']],
      ['topic', ['key']],
      ['bucket', ['key']],
      ['key', ['role-fh']],
    ];
    const order = seen.map((s) => s.what).join('\n');
    for (const res of ['integration', 'filter', 'stream', 'notification', 'topic', 'bucket', 'key', 'role-ca', 'role-fh', 'role-cw', 'logging', 'record']) {
      expect(first(res), `no request removed ${res}:\n${order}`).toBeGreaterThanOrEqual(0);
    }
    for (const [user, used] of uses) {
      for (const u of used) expect(last(user), `${user} before ${u}:\n${order}`).toBeLessThan(first(u));
    }
    // The record last of all; the integration before any AWS resource it points at; roles after their inline policies.
    expect(last('record'), order).toBe(seen.length - 1);
    expect(seen.filter((s) => s.resource === 'logging').map((s) => s.what).sort()).toEqual(['eks:UpdateClusterConfig edge', 'eks:UpdateClusterConfig prod']);
    for (const which of ['ca', 'fh', 'cw']) {
      const role = `lw-eks-al-${which}-${id}`;
      const policy = seen.findIndex((s) => s.what === `iam:DeleteRolePolicy ${role}`);
      const del = seen.findIndex((s) => s.what === `iam:DeleteRole ${role}`);
      expect(policy, order).toBeGreaterThanOrEqual(0);
      expect(policy, order).toBeLessThan(del);
    }
    expect(seen.findIndex((s) => s.what.startsWith('s3:DeleteObjects'))).toBeLessThan(seen.findIndex((s) => s.what.startsWith('s3:DeleteBucket ')));

    // A second teardown: nothing to do, success, not one change in AWS or FortiCNAPP.
    world.proxy.clearRules();
    world.proxy.resetCalls();
    const lwBefore = lwChanges().length;
    const again = ok(await teardown(['--yes']));
    expect(again.json<Json>()).toMatchObject({ status: 'ok', resources: [] });
    expect(mutating()).toEqual([]);
    expect(lwChanges().length).toBe(lwBefore);
  }, 90_000);

  it('asks before removing anything: without --yes and no terminal it refuses (exit 2); on a terminal "no" removes nothing, "yes" removes it', async () => {
    const made = await setupOk();
    world.proxy.resetCalls();
    const lwBefore = lwChanges().length;
    const r = await runCli(world, ['teardown', '--api-key-file', world.keyFile]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--yes is required when not interactive');
    expect(mutating()).toEqual([]);

    // A terminal, and no key on the command line: the key file setup recorded is used again.
    term = openTerminal([process.execPath, CLI, 'teardown'], { env: world.env, cwd: world.home, cols: 200 });
    const screen = await term.waitFor('Remove all of this?');
    expect(screen).toContain(`Deployment ${made.deploymentId} (AWS account 123456789012, home region eu-central-1):`);
    expect(screen).toMatch(/EKS audit logging prod \(audit logging back off \(setup turned it on\)\)/);
    expect(screen).toMatch(/EKS audit logging stage \(audit logging stays on \(it was on before setup\)\)/);
    expect(screen).toMatch(/= keep +log group \/aws\/eks\/edge\/cluster \(kept: it holds the cluster’s logs\)/);
    expect(screen).toMatch(/- remove +S3 bucket lw-eks-al/);
    term.type('n');
    term.keys('Enter');
    expect(await term.exitCode()).toBe(130);
    expect(term.screen()).toContain('Cancelled; nothing was removed.');
    expect(mutating()).toEqual([]);
    expect(lwChanges().length).toBe(lwBefore);
    await expectAllThere();

    // And "yes" on a terminal removes it.
    term.close();
    term = openTerminal([process.execPath, CLI, 'teardown'], { env: world.env, cwd: world.home, cols: 200 });
    await term.waitFor('Remove all of this?');
    term.type('y');
    term.keys('Enter');
    expect(await term.exitCode(60_000), term.screen()).toBe(0);
    expect(term.screen()).toContain(`Removed deployment ${made.deploymentId}.`);
    await expectNothingLeft();
  }, 90_000);

  it('a teardown killed halfway (SIGKILL) completes when run again (taking over the lock the killed run left) without redoing what was done; a third run is a no-op success', async () => {
    const made = await setupOk();
    const id = made.deploymentId as string;
    // Killed as it starts on the bucket: what uses the bucket (integration, notification, stream, and the filters
    // that write to the stream) is gone by then; the bucket, the key and the Firehose role, which wait on it, are not.
    let pid = 0;
    let killed = false;
    world.proxy.resetCalls();
    world.proxy.onMutating((_n, call) => {
      if (!killed && call.action !== 'DeleteBucket' && call.action !== 'DeleteObjects') return undefined;
      if (!killed) process.kill(pid, 'SIGKILL');
      killed = true;
      return 'hold';
    });
    const first = await teardown(['--yes'], { onSpawn: (p) => (pid = p) });
    await settled(world.proxy);
    world.proxy.onMutating(null);
    expect(first.code, first.stderr).toBe(137);
    const half = await inventory(world, SCOPE);
    expect(half.integrations).toEqual([]);
    expect(half.filters).toEqual([]);
    expect(half.streams).toEqual([]);
    expect(half.notifications).toEqual([]);
    expect(half.buckets).toHaveLength(1);
    expect(half.kmsKeys).toHaveLength(1);
    expect(half.roles).toContain(`lw-eks-al-fh-${id}`);
    expect(await records()).not.toEqual([]);
    // The killed run could not release its lock: the next run finds a lock of a process that no longer runs.
    const lock = path.join(world.stateDir, 'deployments', id, 'lock');
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid });

    world.proxy.resetCalls();
    const lwBefore = lwChanges().length;
    const second = ok(await teardown(['--yes']));
    const out = second.json<Json>();
    expect(out.status).toBe('ok');
    // It took that stale lock over, and released it.
    expect(existsSync(lock)).toBe(false);
    // It picked up where it stopped: what was gone is reported so, and not asked for again.
    expect(mutating()).not.toContain('firehose:DeleteDeliveryStream');
    expect(mutating()).not.toContain('logs:DeleteSubscriptionFilter');
    expect(lwChanges().length).toBe(lwBefore);
    const of = (kind: string) => out.resources.filter((x) => x.kind === kind);
    expect(of('forticnapp-integration')).toEqual([expect.objectContaining({ action: 'deleted', outcome: 'already-gone' })]);
    expect(of('firehose-stream')).toEqual([expect.objectContaining({ action: 'deleted', outcome: 'already-gone' })]);
    expect(of('s3-bucket')).toEqual([expect.objectContaining({ action: 'deleted' })]);
    expect(of('s3-bucket')[0]?.outcome).toBeUndefined();
    await expectNothingLeft();

    world.proxy.resetCalls();
    const third = ok(await teardown(['--yes']));
    expect(third.json<Json>()).toMatchObject({ status: 'ok', resources: [] });
    expect(mutating()).toEqual([]);
    expect(lwChanges().length).toBe(lwBefore);
    const plain = ok(await runCli(world, ['teardown', '--yes']));
    expect(plain.stdout).toContain(`Nothing to remove: No deployment ${id}`);
  }, 90_000);

  it('Ctrl+C during teardown stops after the calls under way (exit 130, says how to finish); running it again finishes', async () => {
    const made = await setupOk();
    const id = made.deploymentId as string;
    let pid = 0;
    world.proxy.resetCalls();
    // At the stream's deletion: the integration and the filters are gone, the rest is still there.
    world.proxy.onMutating((_n, call) => {
      if (call.action === 'DeleteDeliveryStream') process.kill(pid, 'SIGINT');
    });
    const r = await teardown(['--yes'], { onSpawn: (p) => (pid = p) });
    world.proxy.onMutating(null);
    expect(r.code, r.stderr).toBe(130);
    const out = r.json<Json>();
    expect(out.status).toBe('interrupted');
    expect(out.error?.code).toBe('Interrupted');
    expect(out.error?.message).toContain(`Teardown of ${id} was interrupted before it finished`);
    expect(out.error?.message).toMatch(new RegExp(`Run '.*teardown .*--yes' to finish it`));
    // Nothing that waits on the stream was started: the bucket, the key and the Firehose role are all there.
    expect(mutating()).not.toContain('s3:DeleteBucket');
    expect(mutating()).not.toContain('kms:ScheduleKeyDeletion');
    const left = await inventory(world, SCOPE);
    expect(left.buckets).toHaveLength(1);
    expect(left.kmsKeys).toHaveLength(1);
    expect(left.roles).toContain(`lw-eks-al-fh-${id}`);
    expect(await records()).not.toEqual([]);

    ok(await teardown(['--yes']));
    await expectNothingLeft();
  }, 90_000);

  it('record and journal gone: teardown --discover finds the deployment by tags and names and removes it; cluster logging is left as it is, and it says so', async () => {
    // The CLI's region is us-east-1 (AWS_REGION) and no --region is given: the home region (eu-central-1) and
    // the clusters there are found through what the deployment itself reveals.
    const made = await setupOk();
    const id = made.deploymentId as string;
    expect(await deleteRecordParameters(world, SCOPE.regions)).toBeGreaterThan(0);
    rmSync(world.stateDir, { recursive: true, force: true });

    // Without a record nothing names the key file: the key is needed for the integration.
    const noKey = await runCli(world, ['teardown', '--discover', '--yes', '--json']);
    expect(noKey.code, noKey.stderr).toBe(2);
    expect(noKey.json<Json>().error?.code).toBe('NoCredentials');
    expect(noKey.json<Json>().error?.message).toContain('needed to delete the FortiCNAPP integration');

    world.proxy.resetCalls();
    const r = ok(await runCli(world, ['teardown', '--discover', '--yes', '--api-key-file', world.keyFile]));
    expect(r.stdout).toContain(`Removed deployment ${id}.`);
    const line = (what: string) => r.stdout.split('\n').find((l) => l.includes(what)) ?? `(no line with ${what})`;
    for (const c of ['prod (eu-central-1)', 'stage (eu-central-1)', 'edge (us-east-1)']) {
      expect(line(`EKS audit logging ${c}`)).toMatch(/: audit logging left on \(nothing records its state before setup\)$/);
    }
    for (const c of ['prod', 'stage']) expect(line(`log group /aws/eks/${c}/cluster`)).toMatch(/: kept \(it holds the cluster’s logs\)$/);
    expect(line('log group /aws/eks/edge/cluster')).toMatch(/: kept \(it holds the cluster’s logs\)$/);
    for (const what of ['FortiCNAPP integration', 'Firehose', 'SNS topic', `S3 bucket lw-eks-al${id}`, `IAM role lw-eks-al-ca-${id}`, `IAM role lw-eks-al-fh-${id}`, `IAM role lw-eks-al-cw-${id}`]) {
      expect(line(what), what).toMatch(/: deleted$/);
    }
    expect(line('KMS key')).toMatch(/: scheduled for deletion on \d{4}-\d{2}-\d{2}$/);
    expect(r.stdout.split('\n').filter((l) => l.includes('subscription filter') && l.endsWith(': deleted'))).toHaveLength(3);
    // Logging was not touched: no update of any cluster.
    expect(mutating().filter((m) => m === 'eks:UpdateClusterConfig')).toEqual([]);
    // Everything of ours is gone; the clusters keep audit logging on, as it said.
    await expectNothingLeft(AFTER_SETUP);

    world.proxy.resetCalls();
    const again = await runCli(world, ['teardown', '--discover', '--yes', '--json', '--api-key-file', world.keyFile]);
    expect(again.json<Json>().error?.message ?? '').toContain('No forticnapp-eks-audit deployment was found');
    expect(mutating()).toEqual([]);
  }, 90_000);

  it('a run on a deployment another live run is using stops (exit 2, names the PID); the first run is unharmed', async () => {
    await setupOk();
    // The first teardown is slowed down (its stream deletion takes 8 s) so that the second, however slow the
    // machine, meets its lock.
    world.proxy.addRule({ action: 'DeleteDeliveryStream', fault: 'delay', delayMs: 8000, times: 1 });
    let firstPid = 0;
    const first = teardown(['--yes'], { onSpawn: (p) => (firstPid = p) });
    const lock = await waitForLock();
    const second = await teardown(['--yes']);
    const done = await first;
    ok(done);
    expect(second.code, second.stderr).toBe(2);
    expect(second.json<Json>().error?.code).toBe('DeploymentLocked');
    expect(second.stderr).toContain(`Deployment ${path.basename(path.dirname(lock))} is in use by another run (PID ${firstPid})`);
    expect(existsSync(lock)).toBe(false);
    await expectNothingLeft();
  }, 90_000);

  it('issue 10 item 3: a revoked key at teardown is exit 2, and every AWS resource and the integration are still there', async () => {
    await setupOk();
    // The key was revoked in the console: the token call is refused, as the real API refuses it.
    world.lw.addRule({ method: 'POST', path: '/api/v2/access/tokens', status: 401, message: 'Invalid API key or secret' });
    world.proxy.resetCalls();
    const lwBefore = lwChanges().length;
    const r = await teardown(['--yes']);
    expect(r.code, r.stderr).toBe(2);
    const out = r.json<Json>();
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('ApiKeyRejected');
    expect(mutating()).toEqual([]);
    expect(lwChanges().length).toBe(lwBefore);
    await expectAllThere();

    // The key works again: the same command removes it all.
    world.lw.clearRules();
    ok(await teardown(['--yes']));
    await expectNothingLeft();
  }, 90_000);

  /**
   * Issue 10 item 6: a deployment with a KMS key, prod turned on by setup, stage already on, one filter
   * deleted by hand beforehand. Each outcome in its own words, in text and in JSON.
   */
  describe('the report words each outcome', () => {
    /** Setup, then prod's filter deleted by hand. */
    async function deployAndDeleteProdFilter(): Promise<{ id: string; filter: string }> {
      const made = await setupOk();
      const id = made.deploymentId as string;
      const filter = made.resources.find((x) => x.kind === 'subscription-filter' && x.region === 'eu-central-1' && x.id.includes('-prod-'))?.id as string;
      expect(filter).toBeTruthy();
      const logs = fx(new CloudWatchLogsClient(fixtureConfig(world, 'eu-central-1')));
      await logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: '/aws/eks/prod/cluster', filterName: filter }));
      return { id, filter };
    }
    /** The date a key scheduled now is deleted on (7 days), and the day after (a run across midnight UTC). */
    const inSevenDays = () => [0, 1].map((d) => new Date(Date.now() + (7 + d) * 86_400_000).toISOString().slice(0, 10));

    it('in text', async () => {
      const { id, filter } = await deployAndDeleteProdFilter();
      const r = ok(await runCli(world, ['teardown', '--yes', '--api-key-file', world.keyFile]));
      const lines = r.stdout.split('\n');
      const line = (what: string) => {
        const found = lines.filter((l) => l.includes(what));
        expect(found, `one line with ${what}:\n${r.stdout}`).toHaveLength(1);
        return (found[0] as string).trim();
      };
      expect(lines[0]).toBe(`Removed deployment ${id}.`);
      expect(line(`subscription filter ${filter}`)).toBe(`= subscription filter ${filter} (eu-central-1): already gone`);
      expect(line('EKS audit logging prod')).toBe('~ EKS audit logging prod (eu-central-1): audit logging turned back off');
      expect(line('EKS audit logging edge')).toBe('~ EKS audit logging edge (us-east-1): audit logging turned back off');
      expect(line('EKS audit logging stage')).toBe('= EKS audit logging stage (eu-central-1): audit logging left on (audit logging was on before setup)');
      for (const c of ['prod', 'stage']) expect(line(`log group /aws/eks/${c}/cluster`)).toBe(`= log group /aws/eks/${c}/cluster (eu-central-1): kept (it holds the cluster’s logs)`);
      expect(line('log group /aws/eks/edge/cluster')).toBe('= log group /aws/eks/edge/cluster (us-east-1): kept (it holds the cluster’s logs)');
      const key = line('KMS key');
      expect(key).toMatch(/^- KMS key .* \(eu-central-1\): scheduled for deletion on (\d{4}-\d{2}-\d{2})$/);
      expect(inSevenDays()).toContain(/on (\d{4}-\d{2}-\d{2})$/.exec(key)?.[1]);
      for (const what of ['FortiCNAPP integration', 'Firehose', 'S3 notification', 'SNS topic', `S3 bucket lw-eks-al${id}`, `IAM role lw-eks-al-ca-${id}`, `IAM role lw-eks-al-fh-${id}`, `IAM role lw-eks-al-cw-${id}`, '-edge-eks-cw-', '-stage-eks-cw-']) {
        expect(line(what)).toMatch(/^- .*: deleted$/);
      }
      // Nothing is called deleted that was not (the log groups, stage's logging, the key, the filter that was gone).
      expect(lines.filter((l) => l.endsWith(': deleted'))).toHaveLength(10);
      await expectNothingLeft();
    }, 90_000);

    it('in JSON: the contract’s action, plus outcome and deletionDate', async () => {
      const { id, filter } = await deployAndDeleteProdFilter();
      const out = ok(await teardown(['--yes'])).json<Json>();
      const one = (kind: string, id?: string) => {
        const found = out.resources.filter((x) => x.kind === kind && (id === undefined || x.id === id));
        expect(found, `${kind} ${id ?? ''}`).toHaveLength(1);
        return found[0] as Resource;
      };
      expect(one('subscription-filter', filter)).toMatchObject({ action: 'deleted', outcome: 'already-gone', region: 'eu-central-1' });
      expect(one('eks-audit-logging', 'prod')).toMatchObject({ action: 'changed', outcome: 'turned-off', region: 'eu-central-1' });
      expect(one('eks-audit-logging', 'edge')).toMatchObject({ action: 'changed', outcome: 'turned-off', region: 'us-east-1' });
      expect(one('eks-audit-logging', 'stage')).toMatchObject({ action: 'kept', region: 'eu-central-1' });
      expect(one('eks-audit-logging', 'stage').outcome).toBeUndefined();
      for (const c of ['prod', 'stage', 'edge']) expect(one('log-group', `/aws/eks/${c}/cluster`)).toMatchObject({ action: 'kept' });
      const key = one('kms-key');
      expect(key).toMatchObject({ action: 'deleted', outcome: 'scheduled-for-deletion', region: 'eu-central-1' });
      expect(inSevenDays()).toContain(key.deletionDate?.slice(0, 10));
      expect(key.resourceId).toMatch(/^[0-9a-f-]{36}$/);
      for (const kind of ['forticnapp-integration', 'firehose-stream', 's3-bucket-notification', 'sns-topic', 's3-bucket']) {
        expect(one(kind).action, kind).toBe('deleted');
        expect(one(kind).outcome, kind).toBeUndefined();
      }
      for (const which of ['ca', 'fh', 'cw']) expect(one('iam-role', `lw-eks-al-${which}-${id}`)).toMatchObject({ action: 'deleted' });
      expect(out.resources.filter((x) => x.kind === 'subscription-filter' && x.action === 'deleted' && !x.outcome)).toHaveLength(2);
      // Every action is one of the contract's four.
      for (const x of out.resources) expect(['created', 'changed', 'kept', 'deleted']).toContain(x.action);
      await expectNothingLeft();
    }, 90_000);
  });

  /** The lock file of the one deployment once a run holds it. */
  async function waitForLock(): Promise<string> {
    const root = path.join(world.stateDir, 'deployments');
    for (let i = 0; i < 400; i++) {
      if (existsSync(root)) {
        for (const id of readdirSync(root)) {
          const lock = path.join(root, id, 'lock');
          if (existsSync(lock)) return lock;
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no run took the lock');
  }
});
