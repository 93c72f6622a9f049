/**
 * Issue 2 (on the resource model of issue 8): the whole pipeline from flags, on moto (through the
 * cross-region wrapper) with the fake FortiCNAPP. Each test checks what a user would: what AWS holds
 * afterwards, what FortiCNAPP holds, what the CLI said and its exit code. Convergence (second machine,
 * changed inputs, drift, races) is in converge.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DescribeDeliveryStreamCommand, FirehoseClient, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  DescribeSubscriptionFiltersCommand,
  PutLogEventsCommand,
  PutSubscriptionFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { markFixture } from '../fakes/fault-proxy.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { ACCOUNT, LW, fixtureConfig, runCli, seedCluster, startWorld, type World } from './world.js';
import { BEFORE, HOME, REGION_CLUSTER_ARGS as ARGS, SCOPE, seedThreeClusters, setupArgs } from './fixtures.js';
import { clusterLogging, inventory, leftovers } from './inventory.js';

interface SetupJson {
  schemaVersion: number;
  command: string;
  status: string;
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  resources: { kind: string; id: string; arn?: string; region: string; action: string }[];
  integration?: { intgGuid: string; name: string };
  journal: string;
  error?: { code: string; message: string };
}

const run = requireMotoOrSkip();

describe.runIf(run)('setup from flags (moto + fake FortiCNAPP)', () => {
  let world: World;
  const iam = () => markFixture(new IAMClient(fixtureConfig(world, 'us-east-1')));
  const s3 = () => markFixture(new S3Client(fixtureConfig(world, HOME)));
  const logs = (region: string) => markFixture(new CloudWatchLogsClient(fixtureConfig(world, region)));
  const setup = (extra: string[] = [], env?: Record<string, string>) => runCli(world, setupArgs(world, extra), { env });

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });
  beforeEach(async () => {
    await seedThreeClusters(world, { reset: true });
  });

  /** Every IAM role whose name starts with the default prefix. */
  async function ourRoles(): Promise<string[]> {
    const out = await iam().send(new ListRolesCommand({}));
    return (out.Roles ?? []).map((r) => r.RoleName ?? '').filter((n) => n.startsWith('lw-eks-al'));
  }

  async function inlinePolicy(role: string): Promise<{ Statement: { Action: string | string[]; Resource: string | string[] }[] }> {
    const names = await iam().send(new ListRolePoliciesCommand({ RoleName: role }));
    expect(names.PolicyNames).toHaveLength(1);
    const p = await iam().send(new GetRolePolicyCommand({ RoleName: role, PolicyName: names.PolicyNames?.[0] }));
    return JSON.parse(decodeURIComponent(p.PolicyDocument ?? ''));
  }

  async function trust(role: string): Promise<{ Statement: Record<string, unknown>[] }> {
    const r = await iam().send(new GetRoleCommand({ RoleName: role }));
    return JSON.parse(decodeURIComponent(r.Role?.AssumeRolePolicyDocument ?? ''));
  }

  it('builds every resource of the pipeline with the reference configuration, tightened, and registers one integration', async () => {
    const r = await setup();
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<SetupJson>();
    expect(out).toMatchObject({ schemaVersion: 1, command: 'setup', status: 'ok', accountId: ACCOUNT, homeRegion: HOME });
    const id = out.deploymentId;
    // Derived, not random: the first 8 hex of SHA-256 over "<account>:<prefix>".
    expect(id).toBe(createHash('sha256').update(`${ACCOUNT}:lw-eks-al`).digest('hex').slice(0, 8));
    const byKind = (k: string) => out.resources.filter((x) => x.kind === k);
    expect(byKind('iam-role')).toHaveLength(3);
    expect(byKind('subscription-filter').map((f) => f.region).sort()).toEqual(['eu-central-1', 'eu-central-1', 'us-east-1']);
    // Audit logging is a setting of the cluster: turned on (changed) on prod and edge; stage had it on already (kept).
    expect(byKind('eks-audit-logging').map((x) => `${x.id}:${x.action}`).sort()).toEqual(['edge:changed', 'prod:changed', 'stage:kept']);
    // The log groups are the clusters' (seeded here): kept.
    expect(byKind('log-group').map((x) => `${x.id}:${x.action}`).sort()).toEqual(['/aws/eks/edge/cluster:kept', '/aws/eks/prod/cluster:kept', '/aws/eks/stage/cluster:kept']);

    // EKS: audit logging on for all three clusters.
    for (const [region, name] of [['eu-central-1', 'prod'], ['eu-central-1', 'stage'], ['us-east-1', 'edge']] as const) {
      const c = await markFixture(new EKSClient(fixtureConfig(world, region))).send(new DescribeClusterCommand({ name }));
      expect(c.cluster?.logging?.clusterLogging?.some((l) => l.enabled && l.types?.includes('audit'))).toBe(true);
    }

    // IAM: three roles, trust with conditions, one inline least-privilege policy each.
    expect((await ourRoles()).sort()).toEqual([`lw-eks-al-ca-${id}`, `lw-eks-al-cw-${id}`, `lw-eks-al-fh-${id}`]);
    const ca = await trust(`lw-eks-al-ca-${id}`);
    const caStmt = ca.Statement[0] as { Principal: { AWS: string }; Condition: { StringEquals: Record<string, string> } };
    expect(caStmt.Principal.AWS).toBe('arn:aws:iam::434813966438:role/lacework-platform');
    const externalId = caStmt.Condition.StringEquals['sts:ExternalId'] as string;
    expect(externalId).toMatch(new RegExp(`^lweid:aws:v2:acme:${ACCOUNT}:.{10}$`));
    const fhTrust = (await trust(`lw-eks-al-fh-${id}`)).Statement[0] as { Principal: { Service: string }; Condition: Record<string, Record<string, string>> };
    expect(fhTrust.Principal.Service).toBe('firehose.amazonaws.com');
    expect(fhTrust.Condition.StringEquals?.['aws:SourceAccount']).toBe(ACCOUNT);
    const cwTrust = (await trust(`lw-eks-al-cw-${id}`)).Statement[0] as { Principal: { Service: string[] }; Condition: Record<string, Record<string, unknown>> };
    expect(cwTrust.Principal.Service.sort()).toEqual(['logs.eu-central-1.amazonaws.com', 'logs.us-east-1.amazonaws.com']);
    expect(cwTrust.Condition.StringEquals?.['aws:SourceAccount']).toBe(ACCOUNT);
    for (const role of [`lw-eks-al-ca-${id}`, `lw-eks-al-cw-${id}`, `lw-eks-al-fh-${id}`]) {
      for (const st of (await inlinePolicy(role)).Statement) {
        const actions = ([] as string[]).concat(st.Action);
        expect(actions.every((a) => !a.includes('*')), `${role} has a wildcard action`).toBe(true);
        if (([] as string[]).concat(st.Resource).includes('*')) expect(actions).toEqual(['iam:ListAccountAliases']);
      }
    }
    const fhPolicy = await inlinePolicy(`lw-eks-al-fh-${id}`);
    expect(fhPolicy.Statement[0]?.Resource).toEqual([`arn:aws:s3:::lw-eks-al${id}/eks_audit_logs/${ACCOUNT}/*`, `arn:aws:s3:::lw-eks-al${id}/eks_audit_logs_errors/${ACCOUNT}/*`]);

    // KMS: one key, rotation on, alias.
    const kms = markFixture(new KMSClient(fixtureConfig(world, HOME)));
    const aliases = await kms.send(new ListAliasesCommand({}));
    const alias = aliases.Aliases?.find((a) => a.AliasName === `alias/lw-eks-al-key-${id}`);
    expect(alias?.TargetKeyId).toBeTruthy();
    const key = await kms.send(new DescribeKeyCommand({ KeyId: alias?.TargetKeyId }));
    expect(key.KeyMetadata?.KeyState).toBe('Enabled');
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: alias?.TargetKeyId }))).KeyRotationEnabled).toBe(true);
    const keyArn = key.KeyMetadata?.Arn;

    // S3: ownership enforced, public access blocked, versioning, KMS default encryption, lifecycle, TLS-only, notification.
    const bucket = `lw-eks-al${id}`;
    const b = s3();
    expect((await b.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true,
    });
    expect((await b.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('BucketOwnerEnforced');
    expect((await b.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    const enc = (await b.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0];
    expect(enc?.ApplyServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn });
    const rule = (await b.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules?.[0];
    expect(rule?.Expiration?.Days).toBe(180);
    expect(rule?.NoncurrentVersionExpiration?.NoncurrentDays).toBeGreaterThan(0);
    const policy = JSON.parse((await b.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}');
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const tags = (await b.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet;
    expect(tags).toContainEqual({ Key: 'forticnapp-eks-audit:deployment', Value: id });
    const topicArn = `arn:aws:sns:${HOME}:${ACCOUNT}:${bucket}`;
    const notif = await b.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    expect(notif.TopicConfigurations).toHaveLength(1);
    expect(notif.TopicConfigurations?.[0]).toMatchObject({ TopicArn: topicArn, Events: ['s3:ObjectCreated:*'] });
    // AWS answers "Prefix", moto "prefix": compare the rule name without case.
    const rules = notif.TopicConfigurations?.[0]?.Filter?.Key?.FilterRules ?? [];
    expect(rules.map((x) => `${x.Name?.toLowerCase()}=${x.Value}`)).toEqual([`prefix=eks_audit_logs/${ACCOUNT}/`]);

    // SNS: encrypted with the key; FortiCNAPP may subscribe, S3 of this bucket may publish.
    const attrs = (await markFixture(new SNSClient(fixtureConfig(world, HOME))).send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes ?? {};
    expect(attrs.KmsMasterKeyId).toBe(keyArn);
    const tp = JSON.parse(attrs.Policy ?? '{}');
    expect(tp.Statement).toContainEqual(expect.objectContaining({ Action: 'sns:Subscribe', Principal: { AWS: 'arn:aws:iam::434813966438:role/lacework-platform' } }));
    expect(tp.Statement).toContainEqual(
      expect.objectContaining({ Action: 'sns:Publish', Principal: { Service: 's3.amazonaws.com' }, Condition: expect.objectContaining({ ArnLike: { 'AWS:SourceArn': `arn:aws:s3:*:*:${bucket}` } }) }),
    );

    // Firehose: ACTIVE, into the bucket under the prefix, with the Firehose role.
    const fh = await markFixture(new FirehoseClient(fixtureConfig(world, HOME))).send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: bucket }));
    expect(fh.DeliveryStreamDescription?.DeliveryStreamStatus).toBe('ACTIVE');
    const dest = fh.DeliveryStreamDescription?.Destinations?.[0]?.ExtendedS3DestinationDescription;
    expect(dest).toMatchObject({ BucketARN: `arn:aws:s3:::${bucket}`, Prefix: `eks_audit_logs/${ACCOUNT}/`, RoleARN: `arn:aws:iam::${ACCOUNT}:role/lw-eks-al-fh-${id}` });

    // Filters: one per cluster, each to the home-region stream (us-east-1 across regions), with the CloudWatch role.
    for (const [region, name] of [['eu-central-1', 'prod'], ['eu-central-1', 'stage'], ['us-east-1', 'edge']] as const) {
      const f = await logs(region).send(new DescribeSubscriptionFiltersCommand({ logGroupName: `/aws/eks/${name}/cluster` }));
      expect(f.subscriptionFilters).toHaveLength(1);
      expect(f.subscriptionFilters?.[0]).toMatchObject({
        filterName: `lw-eks-al-${name}-eks-cw-${id}`,
        destinationArn: `arn:aws:firehose:${HOME}:${ACCOUNT}:deliverystream/${bucket}`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/lw-eks-al-cw-${id}`,
      });
    }

    // FortiCNAPP: exactly one AwsEksAudit integration matching what AWS holds.
    expect(world.lw.violations).toEqual([]);
    const integrations = [...world.lw.integrations.values()];
    expect(integrations).toHaveLength(1);
    expect(integrations[0]).toMatchObject({
      type: 'AwsEksAudit',
      enabled: 1,
      data: { snsArn: topicArn, s3BucketArn: `arn:aws:s3:::${bucket}`, crossAccountCredentials: { roleArn: `arn:aws:iam::${ACCOUNT}:role/lw-eks-al-ca-${id}`, externalId } },
    });
    expect(out.integration?.intgGuid).toBe(integrations[0]?.intgGuid);

    // The deployment record, in SSM Parameter Store of the home region: what any machine needs, never the secret.
    const ssm = markFixture(new SSMClient(fixtureConfig(world, HOME)));
    const params = (await ssm.send(new GetParametersByPathCommand({ Path: `/forticnapp-eks-audit/${id}/`, Recursive: true }))).Parameters ?? [];
    const record = new Map(params.map((p) => [p.Name ?? '', JSON.parse(p.Value ?? 'null')]));
    expect([...record.keys()].sort()).toEqual([`/forticnapp-eks-audit/${id}/clusters/eu-central-1`, `/forticnapp-eks-audit/${id}/clusters/us-east-1`, `/forticnapp-eks-audit/${id}/deployment`]);
    expect(record.get(`/forticnapp-eks-audit/${id}/deployment`)).toMatchObject({
      deploymentId: id,
      accountId: ACCOUNT,
      prefix: 'lw-eks-al',
      homeRegion: HOME,
      status: 'applied',
      externalId,
      integration: { intgGuid: integrations[0]?.intgGuid },
      credentialSource: { keyFile: world.keyFile },
    });
    // Each cluster's audit logging before setup: what teardown restores.
    expect(record.get(`/forticnapp-eks-audit/${id}/clusters/eu-central-1`)).toEqual({ prod: { auditBefore: false }, stage: { auditBefore: true } });
    expect(record.get(`/forticnapp-eks-audit/${id}/clusters/us-east-1`)).toEqual({ edge: { auditBefore: false } });
    expect(params.map((p) => p.Value).join('\n')).not.toContain(LW.secret);
  });

  it('carries an audit event from each cluster into the bucket and onto the queue FortiCNAPP subscribed', async () => {
    const r = await setup();
    expect(r.code, r.stderr).toBe(0);
    const { deploymentId: id } = r.json<SetupJson>();
    const bucket = `lw-eks-al${id}`;
    for (const [region, name] of [['eu-central-1', 'prod'], ['eu-central-1', 'stage'], ['us-east-1', 'edge']] as const) {
      const l = logs(region);
      const group = `/aws/eks/${name}/cluster`;
      await l.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'kube-apiserver-audit-1' }));
      const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `audit-${name}`, stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/default/pods', verb: 'create' };
      await l.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 'kube-apiserver-audit-1', logEvents: [{ timestamp: Date.now(), message: JSON.stringify(event) }] }));
    }
    // Objects land under eks_audit_logs/<account>/ (ListObjectsV2: the TLS-only policy blocks moto's plain-HTTP GetObject, moto.md §3.5).
    const listed = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `eks_audit_logs/${ACCOUNT}/` }));
    expect(listed.KeyCount).toBe(3);
    // The fake platform's queue got one ObjectCreated notification per object, naming keys under the prefix.
    const sqs = markFixture(new SQSClient(fixtureConfig(world, HOME)));
    const queueUrl = await world.lw.queueUrl(HOME);
    const keys: string[] = [];
    for (let i = 0; i < 5 && keys.length < 3; i++) {
      const msgs = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      for (const m of msgs.Messages ?? []) {
        const inner = JSON.parse(JSON.parse(m.Body ?? '{}').Message ?? '{}');
        for (const rec of inner.Records ?? []) {
          if (String(rec.eventName).startsWith('ObjectCreated')) keys.push(decodeURIComponent(String(rec.s3.object.key).replace(/\+/g, ' ')));
        }
      }
    }
    expect(keys).toHaveLength(3);
    expect(keys.every((k) => k.startsWith(`eks_audit_logs/${ACCOUNT}/`))).toBe(true);
    expect(keys.sort()).toEqual((listed.Contents ?? []).map((c) => c.Key).sort());
  });

  it('a second identical run makes no mutating AWS call, no second registration, and says it is up to date', async () => {
    expect((await setup()).code).toBe(0);
    world.proxy.resetCalls();
    const posts = () => world.lw.requests.filter((q) => q.method === 'POST' && q.path === '/api/v2/CloudAccounts').length;
    expect(posts()).toBe(1);
    const again = await runCli(world, ['setup', '--non-interactive', '--yes', ...ARGS, '--api-key-file', world.keyFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
    expect(world.proxy.calls.filter((c) => !c.fixture && c.mutating).map((c) => `${c.service}:${c.action}`)).toEqual([]);
    expect(posts()).toBe(1);
    expect(world.lw.integrations.size).toBe(1);
  });

  it('adding a cluster in a new region later adds only its filter, its logging and that region in the role trust', async () => {
    const first = await setup();
    expect(first.code).toBe(0);
    const { deploymentId: id } = first.json<SetupJson>();
    await seedCluster(world, 'us-west-2', 'west');
    world.proxy.resetCalls();
    const r = await setup(['--region-clusters', 'us-west-2=west']);
    expect(r.code, r.stderr).toBe(0);
    const mutating = world.proxy.calls.filter((c) => !c.fixture && c.mutating).map((c) => `${c.service}:${c.action}`);
    expect(mutating.filter((c) => !c.startsWith('ssm:')).sort()).toEqual(['eks:UpdateClusterConfig', 'iam:UpdateAssumeRolePolicy', 'logs:PutSubscriptionFilter']);
    // The record (SSM Parameter Store) is written, and gains the new region's clusters.
    expect([...new Set(mutating.filter((c) => c.startsWith('ssm:')))]).toEqual(['ssm:PutParameter']);
    const ssm = markFixture(new SSMClient(fixtureConfig(world, HOME)));
    const west = (await ssm.send(new GetParametersByPathCommand({ Path: `/forticnapp-eks-audit/${id}/clusters/`, Recursive: true }))).Parameters ?? [];
    expect(JSON.parse(west.find((p) => p.Name?.endsWith('/us-west-2'))?.Value ?? 'null')).toEqual({ west: { auditBefore: false } });
    const out = r.json<SetupJson>();
    expect(out.deploymentId).toBe(id);
    expect(out.resources.filter((x) => x.action !== 'kept').map((x) => `${x.kind}:${x.id}:${x.action}`).sort()).toEqual([
      'eks-audit-logging:west:changed',
      `iam-role:lw-eks-al-cw-${id}:changed`,
      `subscription-filter:lw-eks-al-west-eks-cw-${id}:created`,
    ]);
    const cw = (await trust(`lw-eks-al-cw-${id}`)).Statement[0] as { Principal: { Service: string[] } };
    expect(cw.Principal.Service.sort()).toEqual(['logs.eu-central-1.amazonaws.com', 'logs.us-east-1.amazonaws.com', 'logs.us-west-2.amazonaws.com']);
    expect(world.lw.integrations.size).toBe(1);
  });

  it('a log group AWS says is full: setup stops at its filter, names the cluster and the filters there, rolls everything back (exit 1), leaves the other filters alone', async () => {
    // Another tool's two filters on prod's log group, to its own stream. AWS now allows five filters per log group
    // (cfn-lint#4688), which preflight assumes where Service Quotas cannot be read (moto cannot); moto still refuses
    // a third. So on moto the refusal comes from PutSubscriptionFilter itself, as it would on AWS for a log group
    // with five, and this checks what setup makes of it.
    const fh = markFixture(new FirehoseClient(fixtureConfig(world, 'eu-central-1')));
    await fh.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'other-tool', ExtendedS3DestinationConfiguration: { RoleARN: `arn:aws:iam::${ACCOUNT}:role/x`, BucketARN: 'arn:aws:s3:::other-tool-bucket' } }));
    const l = logs('eu-central-1');
    for (const n of ['datadog', 'splunk']) {
      await l.send(new PutSubscriptionFilterCommand({ logGroupName: '/aws/eks/prod/cluster', filterName: n, filterPattern: '', destinationArn: `arn:aws:firehose:eu-central-1:${ACCOUNT}:deliverystream/other-tool` }));
    }
    world.proxy.resetCalls();
    const r = await setup();
    expect(r.code, r.stderr).toBe(1);
    const out = r.json<SetupJson>();
    expect(out).toMatchObject({ status: 'rolled-back', error: { code: 'FilterSlotsFull' } });
    expect(out.error?.message).toMatch(/\/aws\/eks\/prod\/cluster of cluster 'prod' \(eu-central-1\) has no free subscription-filter slot \(it has datadog, splunk\)/);
    expect(out.error?.message).toMatch(/Everything this run made was removed again/);
    // Nothing of ours is left, logging is as before, and the record is gone with the rest.
    expect(leftovers(await inventory(world, SCOPE))).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(BEFORE);
    const ssm = markFixture(new SSMClient(fixtureConfig(world, HOME)));
    expect((await ssm.send(new GetParametersByPathCommand({ Path: '/forticnapp-eks-audit/', Recursive: true }))).Parameters ?? []).toEqual([]);
    const f = await l.send(new DescribeSubscriptionFiltersCommand({ logGroupName: '/aws/eks/prod/cluster' }));
    expect(f.subscriptionFilters?.map((x) => x.filterName).sort()).toEqual(['datadog', 'splunk']);
  });

  it('a wrong API secret (401, as the real API answers) fails in preflight with exit 2 and creates nothing', async () => {
    const badKey = path.join(world.home, 'bad-key.json');
    writeFileSync(badKey, JSON.stringify({ account: 'acme.lacework.net', keyId: LW.keyId, secret: '_wrong-secret-0123456789abcdefghij' }));
    world.proxy.resetCalls();
    const r = await runCli(world, ['setup', '--non-interactive', '--yes', '--json', ...ARGS, '--api-key-file', badKey]);
    expect(r.code).toBe(2);
    expect(r.json<SetupJson>().error?.code).toBe('ApiKeyRejected');
    expect(r.stderr + r.stdout).not.toContain('_wrong-secret');
    expect(world.proxy.calls.filter((c) => !c.fixture && c.mutating)).toEqual([]);
    expect(await ourRoles()).toEqual([]);
    expect((await s3().send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
  });

  it('keeps a 0600 journal with an intent/done pair per change and never the API secret', async () => {
    const r = await setup();
    expect(r.code).toBe(0);
    const out = r.json<SetupJson>();
    const journal = out.journal;
    expect(journal.startsWith(world.stateDir)).toBe(true);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(journal)).mode & 0o777).toBe(0o700);
    const text = readFileSync(journal, 'utf8');
    expect(text).not.toContain(LW.secret);
    expect(r.stdout + r.stderr).not.toContain(LW.secret);
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as { t: string; key?: string; action?: string });
    expect(records[0]?.t).toBe('header');
    const intents = records.filter((x) => x.t === 'intent').map((x) => x.key);
    const dones = records.filter((x) => x.t === 'done').map((x) => x.key);
    expect(dones.sort()).toEqual([...intents].sort());
    // Every change reported as created/changed has its pair; kept resources have none.
    const changed = out.resources.filter((x) => x.action !== 'kept');
    expect(dones).toHaveLength(changed.length);
    for (const [i, rec] of records.entries()) {
      if (rec.t === 'done') expect(records.slice(0, i).some((p) => p.t === 'intent' && p.key === rec.key)).toBe(true);
    }
    expect(readdirSync(world.stateDir, { recursive: true }).join('\n')).not.toContain('lock');
  });

  it('reports every bad input at once, exit 2, before touching AWS', async () => {
    world.proxy.resetCalls();
    const r = await runCli(world, [
      'setup', '--non-interactive', '--yes',
      '--region-clusters', 'eu-centrl-1=prod',
      '--region-clusters', 'us-east-1=bad name',
      '--existing-bucket-arn', 'arn:aws:s3:::',
      '--bucket-lifecycle-days', '0',
      '--existing-ca-role-arn', `arn:aws:iam::${ACCOUNT}:role/ca`,
      '--api-key-file', path.join(world.home, 'missing.json'),
    ]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(r.stderr).toMatch(/eu-centrl-1/);
    expect(r.stderr).toMatch(/bad name/);
    expect(r.stderr).toMatch(/--existing-bucket-arn/);
    expect(r.stderr).toMatch(/--bucket-lifecycle-days/);
    expect(r.stderr).toMatch(/--existing-ca-external-id/);
    expect(r.stderr).toMatch(/missing\.json/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(world.proxy.calls.filter((c) => !c.fixture)).toEqual([]);
  });

  it('names a cluster that is missing, or in another region, in preflight', async () => {
    world.proxy.resetCalls();
    const r = await runCli(world, ['setup', '--non-interactive', '--yes', '--region-clusters', 'eu-central-1=prod,edge,ghost', '--region-clusters', 'us-east-1=stage2', '--api-key-file', world.keyFile]);
    expect(r.code).toBe(2);
    // Each problem is marked in the plan, under the cluster it concerns; the error line counts them.
    expect(r.stdout).toMatch(/EKS audit logging edge\n +! conflict: EKS cluster 'edge' is not in eu-central-1 but in us-east-1: list it as --region-clusters us-east-1=edge/);
    expect(r.stdout).toMatch(/EKS audit logging ghost\n +! conflict: EKS cluster 'ghost' was not found in eu-central-1/);
    expect(r.stdout).toMatch(/EKS audit logging stage2\n +! conflict: EKS cluster 'stage2' was not found in us-east-1/);
    expect(r.stderr).toMatch(/Setup did not start: 3 conflicts \(marked in the plan above\)\. Nothing was changed\./);
    expect(world.proxy.calls.filter((c) => !c.fixture && c.mutating)).toEqual([]);
  });
});
