/**
 * Issue 4, "Done when" 2, 3 and 5: setup under faults, through the fault proxy in front of moto.
 *   - every kind of AWS call throttled three times and failed with a 5xx twice: setup still succeeds;
 *   - a permanent failure at each step kind: everything this run made is rolled back, exit 1, and the
 *     message names the failed step and the AWS error; when the rollback itself cannot undo something,
 *     exit 3 with the journal and the exact teardown command, which then finishes the job;
 *   - Ctrl+C (SIGINT) or SIGTERM in the middle of setup: rolled back, exit 130;
 *   - --no-rollback keeps what was made, and a later setup resumes it without duplicates.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { markFixture, startFaultProxy } from '../fakes/fault-proxy.js';
import { startFakeLacework } from '../fakes/lacework-server.js';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { clusterLogging, counts, inventory, leftovers, settled, type Scope } from './inventory.js';
import { LW, fixtureConfig, runCli, seedCluster, startWorld, type CliRun, type World } from './world.js';

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
const ONE_OF_EACH = { roles: 3, buckets: 1, topics: 1, streams: 1, kmsKeys: 1, kmsAliases: 1, filters: 3, notifications: 1, subscriptions: 1, integrations: 1, tagged: 4 };

interface SetupJson {
  status: string;
  deploymentId: string;
  journal: string;
  error?: { code: string; message: string };
}

const run = requireMotoOrSkip();

describe.runIf(run)('setup under faults (moto behind the fault proxy)', () => {
  let world: World;
  /** `service action` of every request a clean setup makes, reads included. */
  let kinds: { service: string; action: string }[] = [];

  const setupArgs = (extra: string[] = []) => [
    'setup', '--non-interactive', '--yes', '--json',
    '--region-clusters', 'eu-central-1=prod,stage', '--region-clusters', 'us-east-1=edge',
    '--api-key-file', world.keyFile, ...extra,
  ];
  const setup = (extra: string[] = [], opts: Parameters<typeof runCli>[2] = {}) => runCli(world, setupArgs(extra), opts);

  /** prod: logging off (and, with `edgeLogGroup: false`, edge has no log group for setup to make). */
  async function seed(opts: { edgeLogGroup?: boolean } = {}): Promise<void> {
    await world.reset();
    await seedCluster(world, 'eu-central-1', 'prod');
    await seedCluster(world, 'eu-central-1', 'stage', { audit: true });
    await seedCluster(world, 'us-east-1', 'edge', { logGroup: opts.edgeLogGroup });
  }

  async function expectNothingLeft(): Promise<void> {
    expect(leftovers(await inventory(world, SCOPE, { withTagging: true }))).toEqual([]);
    expect(await clusterLogging(world, SCOPE)).toEqual(BEFORE);
  }

  beforeAll(async () => {
    world = await startWorld();
    await seed();
    world.proxy.resetCalls();
    const clean = await setup();
    expect(clean.code, clean.stderr).toBe(0);
    const seen = new Map<string, { service: string; action: string }>();
    for (const c of world.proxy.calls) if (!c.fixture) seen.set(`${c.service} ${c.action}`, { service: c.service, action: c.action });
    kinds = [...seen.values()];
    // Sanity: the classification found real operations of every service setup uses.
    expect(new Set(kinds.map((k) => k.service))).toEqual(new Set(['sts', 'eks', 'logs', 'iam', 'kms', 's3', 'sns', 'firehose']));
    expect(kinds.some((k) => k.action === 'Unknown')).toBe(false);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  beforeEach(async () => {
    await seed();
  });

  it('every kind of call throttled three times and failed with a 5xx twice: setup still succeeds, with one of each', async () => {
    for (const k of kinds) {
      world.proxy.addRule({ ...k, fault: 'throttle', times: 3 });
      world.proxy.addRule({ ...k, fault: 'error5xx', times: 2 });
    }
    // FortiCNAPP answers 503 twice too; the client looks for a registration the lost request may have made.
    world.lw.failNextCreates(2, 503, 'Service Unavailable');
    world.proxy.resetCalls();
    // Slow by design: the SDK's adaptive retry backs off (1 s base for throttling, doubling) and its client-side
    // rate limiter drops to 0.5 requests/s after each throttle, for real; about 6 s per throttled kind.
    const r = await setup([], { timeoutMs: 280_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<SetupJson>().status).toBe('ok');
    // Every kind really got its three throttles and two 5xx answers before going through.
    const injected = (k: { service: string; action: string }, fault: string) =>
      world.proxy.calls.filter((c) => c.service === k.service && c.action === k.action && c.injected === fault).length;
    const short = kinds.filter((k) => injected(k, 'throttle') !== 3 || injected(k, 'error5xx') !== 2);
    expect(short).toEqual([]);
    expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual(ONE_OF_EACH);
    expect(world.lw.violations).toEqual([]);
  }, 300_000);

  /** One permanent failure per step kind, at a call that leaves something half made where there is one. */
  const STEP_FAILURES: { kind: string; action?: string; note: string; edgeLogGroup?: boolean; sqs?: boolean; forticnapp?: boolean }[] = [
    { kind: 'eks-audit-logging', action: 'UpdateClusterConfig', note: 'the first cluster update' },
    { kind: 'iam-role', action: 'PutRolePolicy', note: 'a role exists without its policy' },
    { kind: 'kms-key', action: 'EnableKeyRotation', note: 'the key exists without its alias: found by tag' },
    { kind: 's3-bucket', action: 'PutBucketPolicy', note: 'the bucket exists with half its settings' },
    { kind: 'sns-topic', action: 'SetTopicAttributes', note: 'the topic exists without its policy' },
    { kind: 's3-bucket-notification', action: 'PutBucketNotificationConfiguration', note: 'bucket and topic exist' },
    { kind: 'firehose-stream', action: 'CreateDeliveryStream', note: 'everything upstream exists' },
    { kind: 'log-group', action: 'CreateLogGroup', note: 'edge has no log group yet', edgeLogGroup: false },
    { kind: 'subscription-filter', action: 'PutSubscriptionFilter', note: 'one filter fails, others may be made' },
    { kind: 'sns-subscription', action: 'Subscribe', note: 'with --sqs-queue-arn', sqs: true },
    { kind: 'forticnapp-integration', note: 'FortiCNAPP refuses the registration', forticnapp: true },
  ];

  for (const f of STEP_FAILURES) {
    it(`a permanent failure at ${f.kind} (${f.note}): rolled back, nothing left, exit 1, the message names the step and the error`, async () => {
      if (f.edgeLogGroup === false) await seed({ edgeLogGroup: false });
      const extra: string[] = [];
      if (f.sqs) {
        const sqs = markFixture(new SQSClient(fixtureConfig(world, HOME)));
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'our-own-queue' }));
        const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        extra.push('--sqs-queue-arn', attrs.Attributes?.QueueArn ?? '');
      }
      if (f.action) world.proxy.addRule({ action: f.action, fault: 'fail', times: 1 });
      if (f.forticnapp) world.lw.failNextCreates(1, 400, 'Invalid S3 bucket ARN in the integration data');
      world.proxy.resetCalls();
      const r = await setup(extra);
      expect(r.code, r.stderr).toBe(1);
      const out = r.json<SetupJson>();
      expect(out.status).toBe('rolled-back');
      const message = out.error?.message ?? '';
      // The step (its kind and name) and the error, as AWS or FortiCNAPP gave it.
      expect(message).toMatch(new RegExp(`^${f.kind} \\S.* failed: `));
      if (f.action) expect(message).toContain(`AccessDenied`);
      if (f.action) expect(message).toContain(`:${f.action}`);
      if (f.forticnapp) expect(message).toContain('400 Invalid S3 bucket ARN');
      expect(message).toContain('Everything this run made was removed again');
      expect(r.stderr).toContain(message);
      // The fault really hit (and only once): the failure is the injected one.
      if (f.action) expect(world.proxy.calls.filter((c) => c.injected === 'fail')).toHaveLength(1);
      await expectNothingLeft();
      // The journal agrees: nothing left to tear down.
      const td = await runCli(world, ['teardown', '--yes', '--json', '--api-key-file', world.keyFile]);
      expect(td.code, td.stderr).toBe(0);
      expect(td.json<{ resources: unknown[] }>().resources).toEqual([]);
    }, 60_000);
  }

  it('when the rollback cannot undo something: exit 3, the journal and the exact teardown command, which then removes the rest', async () => {
    world.proxy.addRule({ action: 'PutBucketPolicy', fault: 'fail', times: 1 });
    // The rollback cannot delete the roles (three of them).
    world.proxy.addRule({ action: 'DeleteRole', fault: 'fail', times: 3 });
    const r = await setup();
    expect(r.code, r.stderr).toBe(3);
    const out = r.json<SetupJson>();
    expect(out.status).toBe('failed');
    const message = out.error?.message ?? '';
    expect(message).toMatch(/^s3-bucket \S+ failed: AccessDenied/);
    expect(message).toContain(`Journal: ${out.journal}`);
    expect(message).toMatch(/Could not undo: (iam-role \S+(, )?){3}\./);
    const command = /Run '([^']+)'/.exec(message)?.[1] ?? '';
    expect(command).toMatch(new RegExp(`^npx forticnapp-eks-audit teardown --deployment ${out.deploymentId}\\b`));
    // What is left is exactly the three roles.
    const left = await inventory(world, SCOPE);
    expect(leftovers(left)).toEqual(left.roles.map((x) => `roles ${x}`));
    expect(left.roles).toHaveLength(3);

    // The printed command, as given (plus --yes: no one is here to confirm), removes the rest.
    world.proxy.clearRules();
    const args = command.replace(/^npx forticnapp-eks-audit /, '').split(' ');
    const td = await runCli(world, [...args, '--yes']);
    expect(td.code, td.stderr).toBe(0);
    await expectNothingLeft();
  }, 60_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} in the middle of setup: this run's changes are undone, exit 130`, async () => {
      let pid = 0;
      // Halfway through (the 12th of 26 mutating requests): roles, key and bucket exist, more is under way.
      world.proxy.onMutating((n) => {
        if (n === 12) process.kill(pid, signal);
      });
      const r = await setup([], { onSpawn: (p) => (pid = p) });
      world.proxy.onMutating(null);
      expect(r.code, r.stderr).toBe(130);
      const out = r.json<SetupJson>();
      expect(out.status).toBe('interrupted');
      expect(out.error?.message).toContain('Everything this run made was removed again');
      expect(r.stderr).toMatch(signal === 'SIGINT' ? /Interrupted/ : /Terminated/);
      await expectNothingLeft();
    }, 60_000);
  }

  it('Ctrl+C while the FortiCNAPP registration is in flight: the answer is awaited, journalled and rolled back, nothing left there', async () => {
    // FortiCNAPP takes a second to register (its SNS subscription is slow), and the CLI talks to it through
    // a proxy that reports the registration request as it goes out: Ctrl+C lands while it is in flight.
    const slowAws = await startFaultProxy(world.moto.endpoint);
    slowAws.addRule({ action: 'Subscribe', fault: 'delay', delayMs: 1000 });
    // The rollback's topic deletion waits until FortiCNAPP has subscribed, as it would have on AWS.
    world.proxy.addRule({ action: 'DeleteTopic', fault: 'delay', delayMs: 2000 });
    const lw = await startFakeLacework({ ...LW, subscribe: { endpoint: slowAws.endpoint } });
    const lwProxy = await startFaultProxy(lw.url);
    try {
      let pid = 0;
      let sent = false;
      lwProxy.onMutating((_n, call) => {
        if (call.method === 'POST' && call.path === '/api/v2/CloudAccounts') {
          sent = true;
          process.kill(pid, 'SIGINT');
        }
      });
      const r = await setup([], { onSpawn: (p) => (pid = p), env: { LW_API_SERVER_URL: lwProxy.endpoint } });
      expect(sent).toBe(true);
      expect(r.code, r.stderr).toBe(130);
      expect(r.json<SetupJson>().error?.message).toContain('Everything this run made was removed again');
      await settled(lwProxy);
      await settled(slowAws);
      expect([...lw.integrations.keys()]).toEqual([]);
      expect(lw.violations).toEqual([]);
      expect(leftovers(await inventory(world, SCOPE))).toEqual([]);
    } finally {
      await lwProxy.stop();
      await lw.stop();
      await slowAws.stop();
    }
  }, 60_000);

  it('a second Ctrl+C stops at once, mid-rollback; what is left is in the journal and teardown removes it', async () => {
    let pid = 0;
    let second = false;
    world.proxy.onMutating((n, call) => {
      if (n === 12) process.kill(pid, 'SIGINT');
      // The rollback's first delete: press Ctrl+C again and never let that delete through.
      if (n > 12 && /^(Delete|Schedule)/.test(call.action)) {
        if (!second) process.kill(pid, 'SIGINT');
        second = true;
        return 'hold';
      }
      return undefined;
    });
    const r = await setup([], { onSpawn: (p) => (pid = p) });
    world.proxy.onMutating(null);
    expect(second).toBe(true);
    expect(r.code).toBe(130);
    // It stopped at once: the rollback did not finish.
    expect(leftovers(await inventory(world, SCOPE)).length).toBeGreaterThan(0);
    const td = await runCli(world, ['teardown', '--yes', '--json', '--api-key-file', world.keyFile]);
    expect(td.code, td.stderr).toBe(0);
    await expectNothingLeft();
  }, 60_000);

  it('--no-rollback keeps what was made (exit 3, resumable); setup again finishes it with one of each', async () => {
    world.proxy.addRule({ action: 'CreateDeliveryStream', fault: 'fail', times: 1 });
    const r = await setup(['--no-rollback']);
    expect(r.code, r.stderr).toBe(3);
    const message = r.json<SetupJson>().error?.message ?? '';
    expect(message).toMatch(/^firehose-stream \S+ failed: AccessDenied/);
    expect(message).toContain('Kept (--no-rollback)');
    expect(message).toContain('run setup again to resume');
    const kept = counts(await inventory(world, SCOPE));
    expect(kept).toMatchObject({ roles: 3, buckets: 1, topics: 1, kmsKeys: 1, streams: 0, filters: 0, integrations: 0 });

    const again = await setup();
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<SetupJson>().deploymentId).toBe(r.json<SetupJson>().deploymentId);
    expect(counts(await inventory(world, SCOPE, { withTagging: true }))).toEqual(ONE_OF_EACH);
  }, 60_000);

  it('interrupting runs leave journals that a re-run reads: a run killed twice still ends with one of each', async () => {
    // Two crashes in a row at different points, then a clean run.
    for (const n of [5, 14]) {
      let pid = 0;
      world.proxy.holdAfter(n, () => process.kill(pid, 'SIGKILL'));
      const killed: CliRun = await setup([], { onSpawn: (p) => (pid = p) });
      await settled(world.proxy);
      world.proxy.onMutating(null);
      expect(killed.code).toBe(137);
    }
    const again = await setup();
    expect(again.code, again.stderr).toBe(0);
    const got = counts(await inventory(world, SCOPE, { withTagging: true }));
    expect(isDeepStrictEqual(got, ONE_OF_EACH), JSON.stringify(got)).toBe(true);
  }, 60_000);
});
