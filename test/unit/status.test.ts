/**
 * `status` (src/provision/verify.ts, DESIGN §2): the plan of the deployment's recorded inputs read as checks
 * hop by hop (drift is a failure setup repairs), plus the data-flow probes (objects arriving, FortiCNAPP
 * subscribed, FortiCNAPP's own health). On the small in-memory kinds (vi.mock) and fake SSM, S3 and SNS
 * clients: no network.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AwsClients } from '../../src/aws/clients.js';
import { makeNames } from '../../src/config/naming.js';
import { AppError } from '../../src/errors.js';
import type { LaceworkApi } from '../../src/lacework/api.js';
import { checkStatus, type HopCheck } from '../../src/provision/verify.js';
import { RECORD_VERSION, type DeploymentRecord } from '../../src/state/record.js';
import { baseInputs, world, type FakeItem } from './provision/fake-types.js';

vi.mock('../../src/provision/resources/index.js', async () => {
  const f = await import('./provision/fake-types.js');
  return { RESOURCE_TYPES: f.FAKE_TYPES, typeOf: f.fakeTypeOf, KEYS: {} };
});

const ACCOUNT = '123456789012';
const ID = '1b3c2d59';
const HOME = 'eu-central-1';
const names = makeNames('lw-eks-al', ID, ACCOUNT, HOME);
const NOW = Date.parse('2026-11-30T12:00:00Z');

// The real keys (verify.ts looks the bucket, the topic and the integration up by them).
const bucket: FakeItem = { key: 's3-bucket', kind: 's3-bucket', region: HOME, name: names.bucket, want: { versioning: true, days: 180 } };
const topic: FakeItem = { key: 'sns-topic', kind: 'sns-topic', region: HOME, name: names.topic, want: { policy: 'p' } };
const filter: FakeItem = { key: 'subscription-filter/eu-central-1/prod', kind: 'subscription-filter', region: HOME, name: names.filter('prod'), extra: { cluster: 'prod' }, want: { pattern: 'x' } };
const intg: FakeItem = { key: 'forticnapp-integration', kind: 'forticnapp-integration', region: 'global', name: 'EKS Audit Log', want: { name: 'EKS Audit Log' } };

let stateDir: string;
let objects: { Key: string; LastModified: Date }[];
let subscriptions: { SubscriptionArn: string; Endpoint: string; Protocol: string }[];
let setupAt: string;

beforeEach(() => {
  world.reset();
  world.items = [bucket, topic, filter, intg];
  for (const i of world.items) world.cloud.set(i.key, { id: i.name ?? i.key, state: { ...(i.want as object) } });
  stateDir = mkdtempSync(join(tmpdir(), 'fea-status-'));
  objects = [{ Key: `${names.objectPrefix}2026/11/30/11/a.gz`, LastModified: new Date(NOW - 10 * 60_000) }];
  subscriptions = [{ SubscriptionArn: `${names.topicArn}:sub-1`, Endpoint: 'arn:aws:sqs:us-west-2:434813966438:lacework', Protocol: 'sqs' }];
  setupAt = '2026-11-01T00:00:00.000Z';
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

function record(): DeploymentRecord {
  const { regionClusters: _, ...inputs } = baseInputs({ homeRegion: HOME });
  return {
    v: RECORD_VERSION,
    deploymentId: ID,
    accountId: ACCOUNT,
    prefix: 'lw-eks-al',
    homeRegion: HOME,
    status: 'applied',
    inputs,
    externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij',
    credentialSource: { account: 'acme', keyFile: '/home/u/key.json' },
    clusters: { [HOME]: { prod: { auditBefore: false } } },
    updatedAt: setupAt,
    tool: 'forticnapp-eks-audit/0.1.0',
  };
}

const fake = <T extends object>(Ctor: { prototype: T }, send: (c: unknown) => Promise<unknown>): T => Object.assign(Object.create(Ctor.prototype) as T, { send });

const aws = {
  ssm: async (region: string) =>
    fake(SSMClient, async (c) => {
      if (!(c instanceof GetParametersByPathCommand)) throw new Error('unexpected');
      if (region !== HOME || c.input.Path !== `/forticnapp-eks-audit/${ID}/`) return { Parameters: [] };
      const { clusters, ...main } = record();
      return {
        Parameters: [
          { Name: `/forticnapp-eks-audit/${ID}/deployment`, Value: JSON.stringify(main) },
          ...Object.entries(clusters).map(([r, m]) => ({ Name: `/forticnapp-eks-audit/${ID}/clusters/${r}`, Value: JSON.stringify(m) })),
        ],
      };
    }),
  s3: async () =>
    fake(S3Client, async (c) => {
      if (!(c instanceof ListObjectsV2Command)) throw new Error('unexpected');
      expect(c.input).toMatchObject({ Bucket: names.bucket, ExpectedBucketOwner: ACCOUNT });
      return { Contents: objects.filter((o) => o.Key.startsWith(c.input.Prefix ?? '')) };
    }),
  sns: async () =>
    fake(SNSClient, async (c) => {
      if (!(c instanceof ListSubscriptionsByTopicCommand)) throw new Error('unexpected');
      return { Subscriptions: subscriptions };
    }),
  // No role of ours (no deployment of an earlier version to find).
  iam: async () =>
    fake(IAMClient, async (c) => {
      if (!(c instanceof ListRolesCommand)) throw new Error('unexpected');
      return { Roles: [] };
    }),
} as unknown as AwsClients;

const lacework = { verify: async () => {} } as unknown as LaceworkApi;

const status = () => checkStatus({ aws, lacework, stateDir, accountId: ACCOUNT, regionHint: HOME }, { now: () => NOW });
const check = (checks: HopCheck[], name: string) => checks.find((c) => c.check === name || c.resource === name);

describe('checkStatus', () => {
  it('a deployment as setup made it, with objects arriving and FortiCNAPP subscribed, is healthy; checks in hop order', async () => {
    const r = await status();
    expect(r).toMatchObject({ deploymentId: ID, accountId: ACCOUNT, homeRegion: HOME, healthy: true, credentialSource: { keyFile: '/home/u/key.json' } });
    expect(r.inputs.regionClusters).toEqual({ [HOME]: ['prod'] });
    expect(r.checks.map((c) => [c.check, c.state])).toEqual([
      ['s3-bucket', 'ok'],
      ['sns-topic', 'ok'],
      ['subscription-filter', 'ok'],
      ['forticnapp-integration', 'ok'],
      ['objects', 'ok'],
      ['sns-subscriptions', 'ok'],
    ]);
    expect(check(r.checks, 'objects')?.detail).toBe('newest object 10 min old (1 today)');
    expect(check(r.checks, 'sns-subscriptions')?.detail).toMatch(/^1 confirmed \(sqs:arn:aws:sqs/);
  });

  it('drift is a failure that setup repairs: missing, changed (field: now, setup makes), must be replaced', async () => {
    world.cloud.delete(filter.key);
    world.cloud.set(topic.key, { id: names.topic, state: { policy: 'reset by hand' } });
    world.cloud.set(bucket.key, { id: names.bucket, state: { versioning: true, days: 180, broken: 'DELETING' } });
    const r = await status();
    expect(r.healthy).toBe(false);
    expect(check(r.checks, 'subscription-filter')).toMatchObject({ state: 'fail', detail: 'missing', repairBySetup: true });
    expect(check(r.checks, 'sns-topic')).toMatchObject({ state: 'fail', detail: 'policy: reset by hand (setup makes p)', repairBySetup: true });
    expect(check(r.checks, 's3-bucket')).toMatchObject({ state: 'fail', detail: 'must be replaced: it is DELETING', repairBySetup: true });
  });

  it('what it may not read is "not checked" with the fix, not a failure', async () => {
    world.fail.set(`read ${filter.key}`, Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    world.fail.set(`read ${intg.key}`, new AppError('NoCredentials', 'no key'));
    const r = await status();
    expect(r.healthy).toBe(true);
    expect(check(r.checks, 'subscription-filter')).toMatchObject({ state: 'unchecked', detail: expect.stringMatching(/^not allowed to look/), fix: "grant what 'permissions' prints" });
    expect(check(r.checks, 'forticnapp-integration')).toMatchObject({ state: 'unchecked', detail: 'no FortiCNAPP credentials given' });
  });

  it('objects: none for two days is a failure; soon after setup only a warning; yesterday’s folder is looked in too', async () => {
    objects = [];
    expect(check((await status()).checks, 'objects')).toMatchObject({ state: 'fail', detail: 'no object in the last two days: audit events are not arriving' });
    setupAt = new Date(NOW - 5 * 60_000).toISOString();
    expect(check((await status()).checks, 'objects')).toMatchObject({ state: 'warn', detail: 'no object in the last two days; setup finished recently' });
    setupAt = '2026-11-01T00:00:00.000Z';
    objects = [{ Key: `${names.objectPrefix}2026/11/29/23/b.gz`, LastModified: new Date(NOW - 13 * 3_600_000) }];
    expect(check((await status()).checks, 'objects')).toMatchObject({ state: 'fail', detail: 'the newest object is 780 min old: audit events are not arriving' });
  });

  it('FortiCNAPP not subscribed to the topic fails hop 7 (the --sqs-queue-arn subscription does not count, nor a pending one)', async () => {
    subscriptions = [{ SubscriptionArn: 'PendingConfirmation', Endpoint: 'arn:aws:sqs:us-west-2:434813966438:lacework', Protocol: 'sqs' }];
    const r = await status();
    expect(check(r.checks, 'sns-subscriptions')).toMatchObject({ hop: 7, state: 'fail', fix: expect.stringMatching(/run setup again/) });
    expect(r.healthy).toBe(false);
  });

  it('FortiCNAPP reporting the integration unhealthy fails hop 8 with its message', async () => {
    world.cloud.set(intg.key, { id: 'ACME_1', state: { name: 'EKS Audit Log', healthy: false, health: { message: 'AccessDenied on sts:AssumeRole' } } });
    const r = await status();
    expect(check(r.checks, 'forticnapp-health')).toMatchObject({ hop: 8, state: 'fail', detail: 'FortiCNAPP reports the integration unhealthy: AccessDenied on sts:AssumeRole' });
  });

  it('a deployment the account does not have is UnknownDeployment (exit 2)', async () => {
    const err = await checkStatus({ aws, lacework, stateDir, accountId: ACCOUNT, regionHint: HOME }, { prefix: 'other', now: () => NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UnknownDeployment');
    expect((err as AppError).exitCode).toBe(2);
  }, 20_000);
});
