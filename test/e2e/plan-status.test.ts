/**
 * Issue 5, items 1 and 2: `plan` lists exactly what the following setup creates (and everything as kept
 * afterwards) and changes nothing; `status` is healthy right after setup once an event went through, and
 * names the broken hop after someone deletes a filter or the topic policy by hand. Also `list --discover`,
 * which finds the deployment from its tags when the journal is gone.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { CloudWatchLogsClient, CreateLogStreamCommand, DeleteSubscriptionFilterCommand, PutLogEventsCommand, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { SetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { markFixture } from '../fakes/fault-proxy.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { ACCOUNT, fixtureConfig, runCli, seedCluster, startWorld, type World } from './world.js';

const HOME = 'eu-central-1';
const ARGS = ['--region-clusters', 'eu-central-1=prod,stage', '--region-clusters', 'us-east-1=edge'];

interface Resource {
  kind: string;
  id: string;
  arn?: string;
  region: string;
  action: string;
}
interface PlanJson {
  status: string;
  deploymentId: string;
  homeRegion: string;
  resources: Resource[];
  conflicts: string[];
}
interface SetupJson {
  status: string;
  deploymentId: string;
  resources: Resource[];
  integration?: { intgGuid: string; name: string };
  journal: string;
}
interface HopCheck {
  hop: number;
  check: string;
  resource: string;
  region: string;
  state: 'ok' | 'fail' | 'warn' | 'unchecked';
  detail: string;
  fix?: string;
}
interface StatusJson {
  schemaVersion: number;
  command: string;
  status: string;
  deploymentId: string;
  healthy: boolean;
  checks: HopCheck[];
  error?: { code: string; message: string };
}

const run = requireMotoOrSkip();

describe.runIf(run)('plan, status and list --discover (moto + fake FortiCNAPP)', () => {
  let world: World;
  const cli = (args: string[]) => runCli(world, args);
  const plan = () => cli(['plan', '--non-interactive', '--json', ...ARGS, '--api-key-file', world.keyFile]);
  const setup = () => cli(['setup', '--non-interactive', '--yes', '--json', ...ARGS, '--api-key-file', world.keyFile]);
  const status = (extra: string[] = ['--api-key-file', world.keyFile]) => cli(['status', '--json', ...extra]);

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(async () => {
    await world.reset();
    await seedCluster(world, 'eu-central-1', 'prod');
    await seedCluster(world, 'eu-central-1', 'stage', { audit: true });
    await seedCluster(world, 'us-east-1', 'edge');
  });

  /** One audit event into a cluster's log group: it rides the pipeline to an S3 object (moto is synchronous). */
  async function writeEvent(region: string, cluster: string): Promise<void> {
    const logs = markFixture(new CloudWatchLogsClient(fixtureConfig(world, region)));
    const logGroupName = `/aws/eks/${cluster}/cluster`;
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 'kube-apiserver-audit-1' }));
    const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', stage: 'ResponseComplete', verb: 'create', requestURI: '/api/v1/namespaces/default/pods', auditID: 'e2e-1' };
    await logs.send(new PutLogEventsCommand({ logGroupName, logStreamName: 'kube-apiserver-audit-1', logEvents: [{ timestamp: Date.now(), message: JSON.stringify(event) }] }));
  }

  it('plan lists exactly what setup then creates, changes nothing, and after setup lists everything as kept', async () => {
    const before = await plan();
    expect(before.code, before.stderr).toBe(0);
    const planned = before.json<PlanJson>();
    expect(planned.status).toBe('ok');
    expect(planned.conflicts).toEqual([]);
    expect(world.proxy.mutatingCount()).toBe(0);

    const made = await setup();
    expect(made.code, made.stderr).toBe(0);
    const applied = made.json<SetupJson>();

    // A plan picks a fresh deployment id each time, as setup does: compare names with the id blanked out.
    const norm = (id: string, deploymentId: string) => id.split(deploymentId).join('<id>');
    const key = (r: { kind: string; region: string; id: string }) => `${r.kind} ${r.region} ${r.id}`;
    const journal = readFileSync(applied.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; kind?: string; ref?: Record<string, unknown> });
    const kmsAlias = journal.find((r) => r.t === 'done' && r.kind === 'kms-key')?.ref?.alias;
    // setup reports a KMS key by its key id and the integration by its GUID; the plan names them by alias and name.
    const setupNamed = applied.resources.map((r) => ({
      ...r,
      id: r.kind === 'kms-key' ? String(kmsAlias) : r.kind === 'forticnapp-integration' ? String(applied.integration?.name) : r.id,
    }));
    const expected = planned.resources.map((r) => `${r.action === 'create' ? 'created' : 'kept'} ${key({ ...r, id: norm(r.id, planned.deploymentId) })}`).sort();
    const actual = setupNamed.map((r) => `${r.action} ${key({ ...r, id: norm(r.id, applied.deploymentId) })}`).sort();
    expect(actual).toEqual(expected);
    // 3 clusters: audit logging on 2 (stage had it on), 3 filters, 3 roles, key, bucket, topic, notification, stream, integration.
    expect(planned.resources.filter((r) => r.action === 'create')).toHaveLength(2 + 3 + 3 + 6);
    expect(planned.resources.filter((r) => r.action === 'keep').map((r) => r.kind).sort()).toEqual(['eks-audit-logging', 'log-group', 'log-group', 'log-group']);

    world.proxy.resetCalls();
    const after = await plan();
    expect(after.code, after.stderr).toBe(0);
    const replanned = after.json<PlanJson>();
    expect(replanned.deploymentId).toBe(applied.deploymentId);
    expect(replanned.resources.filter((r) => r.action !== 'keep')).toEqual([]);
    expect(replanned.resources.map((r) => key(r)).sort()).toEqual(planned.resources.map((r) => key({ ...r, id: r.id.split(planned.deploymentId).join(applied.deploymentId) })).sort());
    expect(world.proxy.mutatingCount()).toBe(0);

    const text = await cli(['plan', '--non-interactive', ...ARGS, '--api-key-file', world.keyFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Everything is up to date: setup would change nothing.');
  });

  it('plan names every conflict at once (missing cluster, audit off with --no-enable-audit-logging, no free filter slot) and changes nothing', async () => {
    // Another tool's two filters on edge's log group, to its own stream (moto checks that the stream exists).
    await markFixture(new FirehoseClient(fixtureConfig(world, 'us-east-1'))).send(
      new CreateDeliveryStreamCommand({ DeliveryStreamName: 'other', ExtendedS3DestinationConfiguration: { RoleARN: `arn:aws:iam::${ACCOUNT}:role/x`, BucketARN: 'arn:aws:s3:::other-bucket' } }),
    );
    const logs = markFixture(new CloudWatchLogsClient(fixtureConfig(world, 'us-east-1')));
    const firehose = `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/other`;
    for (const filterName of ['theirs-1', 'theirs-2']) {
      await logs.send(new PutSubscriptionFilterCommand({ logGroupName: '/aws/eks/edge/cluster', filterName, filterPattern: '', destinationArn: firehose }));
    }
    world.proxy.resetCalls();
    const r = await cli(['plan', '--non-interactive', '--json', '--no-enable-audit-logging', '--region-clusters', 'eu-central-1=prod,ghost', '--region-clusters', 'us-east-1=edge', '--api-key-file', world.keyFile]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(lines.some((l) => /'ghost' was not found in eu-central-1/.test(l))).toBe(true);
    expect(lines.some((l) => /Audit logging is off on EKS cluster 'prod'/.test(l))).toBe(true);
    expect(lines.some((l) => /\/aws\/eks\/edge\/cluster .* already has 2 subscription filters \(theirs-1, theirs-2\)/.test(l))).toBe(true);
    expect(r.json<{ status: string; error: { code: string } }>()).toMatchObject({ status: 'failed', error: { code: 'PreflightFailed' } });
    expect(world.proxy.mutatingCount()).toBe(0);
  });

  it('status is healthy right after setup once an event went through, and exits 1 naming the filter someone deleted', async () => {
    const made = await setup();
    expect(made.code, made.stderr).toBe(0);
    const { deploymentId } = made.json<SetupJson>();
    await writeEvent('eu-central-1', 'prod');

    world.proxy.resetCalls();
    const healthy = await status();
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    const report = healthy.json<StatusJson>();
    expect(report).toMatchObject({ schemaVersion: 1, command: 'status', status: 'ok', deploymentId, healthy: true });
    expect(report.checks.filter((c) => c.state !== 'ok')).toEqual([]);
    // Every hop of DESIGN §1 was looked at, and each cluster on its own.
    expect([...new Set(report.checks.map((c) => c.hop))].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(report.checks.filter((c) => c.check === 'subscription-filter')).toHaveLength(3);
    expect(report.checks.find((c) => c.check === 'objects')?.detail).toMatch(/newest object/);
    expect(report.checks.find((c) => c.check === 'forticnapp-integration')?.detail).toMatch(/healthy/);
    expect(world.proxy.mutatingCount()).toBe(0);

    const filter = `lw-eks-al-edge-eks-cw-${deploymentId}`;
    await markFixture(new CloudWatchLogsClient(fixtureConfig(world, 'us-east-1'))).send(
      new DeleteSubscriptionFilterCommand({ logGroupName: '/aws/eks/edge/cluster', filterName: filter }),
    );
    const broken = await status();
    expect(broken.code).toBe(1);
    const bad = broken.json<StatusJson>();
    expect(bad.status).toBe('failed');
    expect(bad.healthy).toBe(false);
    expect(bad.checks.filter((c) => c.state === 'fail').map((c) => `${c.hop} ${c.check} ${c.resource} ${c.region}`)).toEqual([`3 subscription-filter ${filter} us-east-1`]);
    const failing = bad.checks.find((c) => c.state === 'fail');
    expect(failing?.detail).toMatch(/missing/);
    expect(failing?.fix).toMatch(/npx forticnapp-eks-audit setup --region-clusters/);
    expect(bad.error?.message).toContain(filter);

    // The human form names the hop and says how to fix it.
    const text = await cli(['status', '--api-key-file', world.keyFile]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(` 3 ✗ subscription filter ${filter} \\(us-east-1\\): our subscription filter is missing`));
    expect(text.stdout).toMatch(/fix: run setup again/);
    expect(text.stderr).toMatch(/Unhealthy: 1 hop failing: 3 subscription filter/);

    // The fix it prints works: setup puts the filter back and status is healthy again.
    const again = await setup();
    expect(again.code, again.stderr).toBe(0);
    expect((await status()).code).toBe(0);
  });

  it('status exits 1 naming the topic policy when someone replaced it by hand, and gives the command that restores it', async () => {
    const made = await setup();
    expect(made.code, made.stderr).toBe(0);
    const { deploymentId } = made.json<SetupJson>();
    await writeEvent('us-east-1', 'edge');
    expect((await status()).code).toBe(0);

    const topicArn = `arn:aws:sns:${HOME}:${ACCOUNT}:lw-eks-al${deploymentId}`;
    // SNS cannot delete a topic policy: "deleting" it puts back the default, owner-only policy.
    const ownerOnly = {
      Version: '2008-10-17',
      Statement: [{ Sid: '__default_statement_ID', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['SNS:Publish', 'SNS:Subscribe'], Resource: topicArn, Condition: { StringEquals: { 'AWS:SourceOwner': ACCOUNT } } }],
    };
    const sns = markFixture(new SNSClient(fixtureConfig(world, HOME)));
    await sns.send(new SetTopicAttributesCommand({ TopicArn: topicArn, AttributeName: 'Policy', AttributeValue: JSON.stringify(ownerOnly) }));

    const broken = await status();
    expect(broken.code).toBe(1);
    const bad = broken.json<StatusJson>();
    const failing = bad.checks.filter((c) => c.state === 'fail');
    expect(failing.map((c) => `${c.hop} ${c.check}`)).toEqual(['6 topic-policy']);
    expect(failing[0]?.detail).toMatch(/AllowFortiCNAPPToSubscribe and AllowS3ToPublish/);
    const fix = failing[0]?.fix ?? '';
    expect(fix).toMatch(/^aws sns set-topic-attributes --region eu-central-1 --topic-arn \S+ --attribute-name Policy --attribute-value '/);

    // Applying the printed policy (what the aws CLI command would send) makes the hop healthy again.
    const policy = fix.slice(fix.indexOf("'") + 1, fix.lastIndexOf("'"));
    await sns.send(new SetTopicAttributesCommand({ TopicArn: topicArn, AttributeName: 'Policy', AttributeValue: policy }));
    expect((await status()).code).toBe(0);
  });

  it('status without FortiCNAPP credentials leaves that hop unchecked and says how to check it', async () => {
    const made = await setup();
    expect(made.code, made.stderr).toBe(0);
    await writeEvent('eu-central-1', 'stage');
    const r = await status([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const intg = r.json<StatusJson>().checks.find((c) => c.check === 'forticnapp-integration');
    expect(intg).toMatchObject({ hop: 8, state: 'unchecked' });
    expect(intg?.detail).toMatch(/no FortiCNAPP credentials/);
    expect(intg?.fix).toMatch(/--api-key-file/);
  });

  it('list --discover finds a deployment by its tags when the journal is gone', async () => {
    const made = await setup();
    expect(made.code, made.stderr).toBe(0);
    const { deploymentId } = made.json<SetupJson>();
    rmSync(world.stateDir, { recursive: true, force: true });

    world.proxy.resetCalls();
    const plain = await cli(['list', '--json']);
    expect(plain.json<{ deployments: unknown[] }>().deployments).toEqual([]);

    const found = await cli(['list', '--discover', '--region', 'eu-central-1', '--region', 'us-east-1', '--json']);
    expect(found.code, found.stderr).toBe(0);
    const doc = found.json<{ deployments: { deploymentId: string; source: string; accountId: string; discovered: { regions: string[]; resources: { kind: string }[] } }[] }>();
    expect(doc.deployments).toHaveLength(1);
    const d = doc.deployments[0];
    expect(d).toMatchObject({ deploymentId, source: 'aws', accountId: ACCOUNT });
    expect(d?.discovered.regions).toEqual(['eu-central-1', 'global']);
    expect(d?.discovered.resources.map((r) => r.kind).sort()).toEqual(['firehose-stream', 'iam-role', 'iam-role', 'iam-role', 'kms-key', 's3-bucket', 'sns-topic']);
    expect(world.proxy.mutatingCount()).toBe(0);
    const text = await cli(['list', '--discover', '--region', 'eu-central-1']);
    expect(text.stdout).toContain(`teardown --discover --deployment ${deploymentId} --region eu-central-1`);
  });
});
