/**
 * Issue 5 items 1 and 2, on the resource model of issue 8: `plan` lists exactly what the following setup
 * does, with the same names, and changes nothing; `status` is healthy right after setup once an event
 * went through, names the broken hop after a hand edit, and the setup command it prints as the fix works as
 * printed. Also where status finds its FortiCNAPP credentials, and `list` / `list --discover` when the
 * journal, then the record, is gone. The convergence cases (every kind of drift, changed inputs, races)
 * are in converge.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renameSync, rmSync } from 'node:fs';
import { CloudWatchLogsClient, CreateLogStreamCommand, DeleteSubscriptionFilterCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteParametersCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { markFixture } from '../fakes/fault-proxy.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { ACCOUNT, CLI, fixtureConfig, runCli, startWorld, type CliRun, type World } from './world.js';
import { HOME, planArgs, seedThreeClusters, setupArgs, statusArgs } from './fixtures.js';

interface Resource {
  kind: string;
  id: string;
  arn?: string;
  region: string;
  action: string;
  changes?: { field: string; from: string; to: string }[];
  conflicts?: string[];
}
interface PlanJson {
  status: string;
  deploymentId: string;
  homeRegion: string;
  resources: Resource[];
  conflicts: string[];
  error?: { code: string; message: string };
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

/** The words of a command line the CLI printed (its own quoting: plain words and '…' with '\'' inside). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] as string));
  return out;
}

describe.runIf(run)('plan, status and list (moto + fake FortiCNAPP)', () => {
  let world: World;
  const cli = (args: string[]) => runCli(world, args);
  const plan = (extra: string[] = []) => cli(planArgs(world, extra));
  const setup = () => cli(setupArgs(world));
  const status = (extra: string[] = ['--api-key-file', world.keyFile]) => cli(['status', '--json', ...extra]);
  const ok = (r: CliRun) => {
    expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r;
  };
  /**
   * Runs a command line exactly as the CLI printed it. Its invocation is `node <the CLI>`, or `npx
   * forticnapp-eks-audit` when the CLI sees npm's exec environment (vitest started with npx passes it on).
   */
  const runPrinted = (line: string) => {
    const w = words(line);
    expect([['node', CLI].join(' '), 'npx forticnapp-eks-audit']).toContain(w.slice(0, 2).join(' '));
    return cli(w.slice(2));
  };
  const INVOCATION = `(?:npx forticnapp-eks-audit|node ${CLI.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`;

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(async () => {
    await seedThreeClusters(world, { reset: true });
  });

  /** One audit event into a cluster's log group: it rides the pipeline to an S3 object (moto is synchronous). */
  async function writeEvent(region: string, cluster: string): Promise<void> {
    const logs = markFixture(new CloudWatchLogsClient(fixtureConfig(world, region)));
    const logGroupName = `/aws/eks/${cluster}/cluster`;
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 'kube-apiserver-audit-1' }));
    const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', stage: 'ResponseComplete', verb: 'create', requestURI: '/api/v1/namespaces/default/pods', auditID: 'e2e-1' };
    await logs.send(new PutLogEventsCommand({ logGroupName, logStreamName: 'kube-apiserver-audit-1', logEvents: [{ timestamp: Date.now(), message: JSON.stringify(event) }] }));
  }

  it('plan lists exactly what setup then does, under the same names, changes nothing, and afterwards lists everything as kept', async () => {
    const before = ok(await plan());
    const planned = before.json<PlanJson>();
    expect(planned).toMatchObject({ status: 'ok', conflicts: [] });
    expect(world.proxy.mutatingCount()).toBe(0);
    expect(world.lw.requests.filter((q) => q.method !== 'GET' && q.path.startsWith('/api/v2/CloudAccounts'))).toEqual([]);
    // 3 clusters: audit logging turned on on 2 (stage had it on), 3 filters, 3 roles, key, bucket, topic, notification, stream, integration.
    const byAction = (a: string) => planned.resources.filter((r) => r.action === a).map((r) => r.kind).sort();
    expect(byAction('create')).toHaveLength(3 + 3 + 6);
    expect(byAction('change')).toEqual(['eks-audit-logging', 'eks-audit-logging']);
    expect(byAction('keep')).toEqual(['eks-audit-logging', 'log-group', 'log-group', 'log-group']);

    const applied = ok(await setup()).json<SetupJson>();
    expect(applied.deploymentId).toBe(planned.deploymentId);
    const did: Record<string, string> = { create: 'created', change: 'changed', keep: 'kept' };
    const row = (r: Resource, action: string) => `${action} ${r.kind} ${r.region} ${r.id}`;
    expect(applied.resources.map((r) => row(r, r.action)).sort()).toEqual(planned.resources.map((r) => row(r, did[r.action] ?? r.action)).sort());

    world.proxy.resetCalls();
    const replanned = ok(await plan()).json<PlanJson>();
    expect(replanned.deploymentId).toBe(applied.deploymentId);
    expect(replanned.resources.filter((r) => r.action !== 'keep')).toEqual([]);
    expect(replanned.resources.map((r) => `${r.kind} ${r.region} ${r.id}`).sort()).toEqual(planned.resources.map((r) => `${r.kind} ${r.region} ${r.id}`).sort());
    expect(world.proxy.mutatingCount()).toBe(0);

    const text = ok(await cli(planArgs(world).filter((a) => a !== '--json')));
    expect(text.stdout).toContain(`Deployment ${applied.deploymentId} in AWS account ${ACCOUNT} (home region ${HOME})`);
    expect(text.stdout).toMatch(/0 to create, 0 to change, 0 to replace, 0 to remove, 18 to keep\./);
    expect(text.stdout).toContain('Everything is up to date: setup would change nothing.');
  });

  it('plan names every conflict at once, from AWS and from FortiCNAPP, each under its resource, and changes nothing', async () => {
    // An integration of another account already carries the name asked for.
    world.lw.integrations.set('OTHER_0123456789', {
      intgGuid: 'OTHER_0123456789',
      name: 'EKS audit shared',
      type: 'AwsEksAudit',
      enabled: 1,
      data: { snsArn: 'arn:aws:sns:eu-central-1:210987654321:theirs', crossAccountCredentials: { roleArn: 'arn:aws:iam::210987654321:role/theirs', externalId: 'lweid:aws:v2:acme:210987654321:0123456789' } },
    });
    // (A log group with no free filter slot is a conflict too, but only where AWS's limit can be reached: moto
    // refuses a third filter while AWS, and preflight, allow five. setup.test.ts covers that refusal.)
    world.proxy.resetCalls();
    const args = ['plan', '--non-interactive', '--no-enable-audit-logging', '--integration-name', 'EKS audit shared', '--region-clusters', 'eu-central-1=prod,ghost', '--region-clusters', 'us-east-1=edge', '--api-key-file', world.keyFile];
    const r = await cli([...args, '--json']);
    expect(r.code).toBe(2);
    const doc = r.json<PlanJson>();
    expect(doc).toMatchObject({ status: 'failed', error: { code: 'PreflightFailed', message: '4 conflicts would stop setup (marked in the plan).' } });
    const where = doc.resources.filter((x) => x.conflicts?.length).map((x) => `${x.kind} ${x.id}: ${x.conflicts?.join(' | ')}`).sort();
    expect(where).toHaveLength(4);
    expect(where[0]).toMatch(/^eks-audit-logging edge: Audit logging is off on EKS cluster 'edge' \(us-east-1\) and --no-enable-audit-logging was given/);
    expect(where[1]).toMatch(/^eks-audit-logging ghost: EKS cluster 'ghost' was not found in eu-central-1/);
    expect(where[2]).toMatch(/^eks-audit-logging prod: Audit logging is off on EKS cluster 'prod' \(eu-central-1\)/);
    expect(where[3]).toMatch(/^forticnapp-integration EKS audit shared: The FortiCNAPP integration name 'EKS audit shared' is already used by integration OTHER_0123456789 .*choose another --integration-name/);
    expect(doc.conflicts).toHaveLength(4);

    const text = await cli(args);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/\+ create +FortiCNAPP integration EKS audit shared\n +! conflict: The FortiCNAPP integration name/);
    expect(text.stdout).toMatch(/Setup cannot start until the conflicts are resolved\./);
    expect(world.proxy.mutatingCount()).toBe(0);
    expect(world.lw.requests.filter((q) => q.method !== 'GET' && q.path.startsWith('/api/v2/CloudAccounts'))).toEqual([]);
    expect([...world.lw.integrations.keys()]).toEqual(['OTHER_0123456789']);
  });

  it('status is healthy right after setup once an event went through, names the filter someone deleted, and the setup command it prints repairs it', async () => {
    const made = ok(await setup());
    const { deploymentId } = made.json<SetupJson>();

    // Right after setup nothing has arrived yet: a warning, not a failure.
    const early = ok(await status()).json<StatusJson>();
    expect(early.checks.filter((c) => c.state !== 'ok').map((c) => `${c.hop} ${c.check} ${c.state}`)).toEqual(['5 objects warn']);

    await writeEvent('eu-central-1', 'prod');
    world.proxy.resetCalls();
    const healthy = ok(await status());
    const report = healthy.json<StatusJson>();
    expect(report).toMatchObject({ schemaVersion: 1, command: 'status', status: 'ok', deploymentId, healthy: true });
    expect(report.checks.filter((c) => c.state !== 'ok')).toEqual([]);
    // Every hop of DESIGN §1 was looked at, and each cluster on its own.
    expect([...new Set(report.checks.map((c) => c.hop))].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(report.checks.filter((c) => c.check === 'subscription-filter')).toHaveLength(3);
    expect(report.checks.filter((c) => c.check === 'eks-audit-logging').map((c) => c.detail)).toEqual(['audit logging is on', 'audit logging is on', 'audit logging is on']);
    expect(report.checks.find((c) => c.check === 'objects')?.detail).toMatch(/newest object \d+ min old/);
    expect(report.checks.find((c) => c.check === 'sns-subscriptions')?.detail).toMatch(/^1 confirmed \(sqs:arn:aws:sqs:/);
    expect(report.checks.find((c) => c.check === 'forticnapp-integration')).toMatchObject({ hop: 8, state: 'ok' });
    expect(world.proxy.mutatingCount()).toBe(0);

    const filter = `lw-eks-al-edge-eks-cw-${deploymentId}`;
    await markFixture(new CloudWatchLogsClient(fixtureConfig(world, 'us-east-1'))).send(
      new DeleteSubscriptionFilterCommand({ logGroupName: '/aws/eks/edge/cluster', filterName: filter }),
    );
    const broken = await status();
    expect(broken.code).toBe(1);
    const bad = broken.json<StatusJson>();
    expect(bad).toMatchObject({ status: 'failed', healthy: false, error: { code: 'Unhealthy' } });
    const failing = bad.checks.filter((c) => c.state === 'fail');
    expect(failing.map((c) => `${c.hop} ${c.check} ${c.resource} ${c.region} ${c.detail}`)).toEqual([`3 subscription-filter ${filter} us-east-1 missing`]);
    expect(failing[0]?.fix).toMatch(new RegExp(`^run setup again, it repairs this: ${INVOCATION} setup --non-interactive --yes --region-clusters eu-central-1=prod,stage --region-clusters us-east-1=edge --home-region eu-central-1 --state-dir ${world.stateDir} --api-key-file ${world.keyFile}$`));
    expect(bad.error?.message).toBe(`Unhealthy: 1 hop failing: 3 subscription filter ${filter}.`);

    // The human form names the hop and prints the fix under it.
    const text = await cli(statusArgs(world).filter((a) => a !== '--json'));
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(` 3 ✗ subscription filter ${filter} \\(us-east-1\\): missing\\n +fix: run setup again, it repairs this: `));
    expect(text.stderr).toMatch(/Unhealthy: 1 hop failing: 3 subscription filter/);

    // The command it prints works as printed: the filter is back and status is healthy again.
    const fix = (failing[0]?.fix ?? '').replace('run setup again, it repairs this: ', '');
    world.proxy.resetCalls();
    ok(await runPrinted(fix));
    expect(world.proxy.calls.filter((c) => !c.fixture && c.mutating && c.service !== 'ssm').map((c) => `${c.service}:${c.action}`)).toEqual(['logs:PutSubscriptionFilter']);
    ok(await status());
  });

  it('status without credential flags uses the key file setup recorded; with that file gone, it leaves the FortiCNAPP hop unchecked and says how to check it', async () => {
    ok(await setup());
    await writeEvent('eu-central-1', 'stage');
    const recorded = ok(await status([])).json<StatusJson>();
    expect(recorded.checks.find((c) => c.check === 'forticnapp-integration')).toMatchObject({ hop: 8, state: 'ok' });
    expect(world.lw.requests.filter((q) => q.path === '/api/v2/access/tokens').length).toBeGreaterThan(1);

    renameSync(world.keyFile, `${world.keyFile}.moved`);
    try {
      const r = ok(await status([]));
      const intg = r.json<StatusJson>().checks.find((c) => c.check === 'forticnapp-integration');
      expect(intg).toMatchObject({ hop: 8, state: 'unchecked' });
      expect(intg?.detail).toMatch(/no FortiCNAPP credentials/);
      expect(intg?.fix).toMatch(/--api-key-file/);
    } finally {
      renameSync(`${world.keyFile}.moved`, world.keyFile);
    }
  });

  it('a KMS key of yours (--kms-key-arn): setup says what its key policy lacks; with that added, setup and status are fine; a key policy reset by hand fails status at the key', async () => {
    const kms = markFixture(new KMSClient(fixtureConfig(world, HOME)));
    const keyArn = (await kms.send(new CreateKeyCommand({ Description: 'team key' }))).KeyMetadata?.Arn as string;
    const rootOnly = (await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy as string;
    const refused = await cli(setupArgs(world, ['--kms-key-arn', keyArn]));
    expect(refused.code).toBe(2);
    const line = refused.json<PlanJson>().conflicts.find((c) => c.startsWith('--kms-key-arn')) ?? '';
    expect(line).toContain('Ask the key owner to add these statements to the key policy');
    expect(world.proxy.mutatingCount()).toBe(0);

    // The key owner adds exactly what the line says.
    const statements = JSON.parse(line.slice(line.indexOf('['))) as unknown[];
    const policy = JSON.parse(rootOnly) as { Statement: unknown[] };
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: JSON.stringify({ ...policy, Statement: [...policy.Statement, ...statements] }) }));
    ok(await cli(setupArgs(world, ['--kms-key-arn', keyArn])));
    const healthy = ok(await status()).json<StatusJson>();
    expect(healthy.checks.find((c) => c.check === 'kms-key-policy')).toMatchObject({ hop: 4, resource: keyArn, state: 'ok' });

    // Someone puts the default policy back: the pipeline can no longer use the key, and status says so at the key.
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: rootOnly }));
    const broken = await status();
    expect(broken.code).toBe(1);
    const check = broken.json<StatusJson>().checks.find((c) => c.check === 'kms-key-policy');
    expect(check).toMatchObject({ hop: 4, state: 'fail' });
    expect(check?.detail).toContain('the key policy does not let the pipeline use the key');
    expect(check?.fix).toMatch(/key owner/);
  });

  it('list finds the deployment from its record when the journal is gone, and list --discover by its tags when the record is gone too', async () => {
    const made = ok(await setup());
    const { deploymentId } = made.json<SetupJson>();
    rmSync(world.stateDir, { recursive: true, force: true });
    type ListJson = { deployments: { deploymentId: string; source: string; accountId: string; homeRegion?: string; clusters?: number; resources?: number }[] };

    world.proxy.resetCalls();
    const plain = ok(await cli(['list', '--json', '--region', HOME])).json<ListJson>();
    expect(plain.deployments).toEqual([expect.objectContaining({ deploymentId, source: 'record', accountId: ACCOUNT, homeRegion: HOME, clusters: 3 })]);

    // The record deleted by hand as well: only the tags are left to find it by.
    const ssm = markFixture(new SSMClient(fixtureConfig(world, HOME)));
    const names = ((await ssm.send(new GetParametersByPathCommand({ Path: `/forticnapp-eks-audit/${deploymentId}/`, Recursive: true }))).Parameters ?? []).map((p) => p.Name as string);
    expect(names).toHaveLength(3);
    await ssm.send(new DeleteParametersCommand({ Names: names }));
    expect(ok(await cli(['list', '--json', '--region', HOME])).json<ListJson>().deployments).toEqual([]);

    const found = ok(await cli(['list', '--discover', '--region', 'eu-central-1', '--region', 'us-east-1', '--json'])).json<ListJson>();
    // The stream, the bucket, the topic, the key and the three roles carry our tags.
    expect(found.deployments).toEqual([expect.objectContaining({ deploymentId, source: 'tags', accountId: ACCOUNT, homeRegion: HOME, resources: 7 })]);
    expect(world.proxy.mutatingCount()).toBe(0);
    const text = ok(await cli(['list', '--discover', '--region', 'eu-central-1']));
    expect(text.stdout).toMatch(new RegExp(`^${deploymentId} .*no record: 7 tagged resources left`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`remove it: ${INVOCATION} teardown --deployment ${deploymentId} --state-dir ${world.stateDir} --discover --region eu-central-1`));
  });
});
