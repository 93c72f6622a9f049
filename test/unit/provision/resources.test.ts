/**
 * The real resource modules, without AWS: the instances each set of inputs gives (stable keys, deterministic
 * names, needs that name instances of the same deployment), the graph they make (no cycle, DESIGN §3's
 * order), and the modules' pure helpers (S3's rule for overlapping notifications, audit logging on, the key
 * everything encrypts with).
 */
import { describe, expect, it } from 'vitest';
import type { Inputs } from '../../../src/config/inputs.js';
import { makeNames } from '../../../src/config/naming.js';
import { walk } from '../../../src/provision/graph.js';
import { instancesOf, WEIGHT } from '../../../src/provision/plan.js';
import type { Instance, Spec } from '../../../src/provision/resource.js';
import { auditEnabled, clusterPairs } from '../../../src/provision/resources/clusters.js';
import { RESOURCE_TYPES, typeOf } from '../../../src/provision/resources/index.js';
import { KEYS } from '../../../src/provision/resources/keys.js';
import { keyArnOf, PENDING_KEY } from '../../../src/provision/resources/kms-key.js';
import { overlaps } from '../../../src/provision/resources/s3-bucket-notification.js';
import { baseInputs } from './fake-types.js';

const ACCOUNT = '123456789012';
const names = makeNames('lw-eks-al', '1b3c2d59', ACCOUNT, 'eu-central-1');

function spec(over: Partial<Inputs> = {}): Spec {
  return {
    inputs: baseInputs({ homeRegion: 'eu-central-1', regionClusters: { 'eu-central-1': ['prod', 'dev'], 'us-east-1': ['edge'] }, ...over }),
    names,
    externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij',
    tags: {},
    auditBefore: new Map(),
    droppedTagKeys: [],
    unfinished: false,
  };
}

const VARIANTS: [string, Partial<Inputs>][] = [
  ['defaults', {}],
  ['--no-kms', { noKms: true }],
  ['--kms-key-arn', { kmsKeyArn: `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` }],
  ['--sqs-queue-arn', { sqsQueueArn: `arn:aws:sqs:eu-central-1:${ACCOUNT}:audit` }],
  [
    'every --existing-*',
    {
      existingBucketArn: 'arn:aws:s3:::their-bucket',
      existingCaRoleArn: `arn:aws:iam::${ACCOUNT}:role/their-ca`,
      existingCaExternalId: 'their-external-id',
      existingFirehoseRoleArn: `arn:aws:iam::${ACCOUNT}:role/their-fh`,
      existingCwRoleArn: `arn:aws:iam::${ACCOUNT}:role/their-cw`,
    },
  ],
];

const keysOf = (insts: Instance[]) => insts.map((i) => i.key);

describe('instances', () => {
  it('every kind has its module, once, and the modules declare their calls', () => {
    expect(new Set(RESOURCE_TYPES.map((t) => t.kind)).size).toBe(RESOURCE_TYPES.length);
    for (const t of RESOURCE_TYPES) {
      expect(typeOf(t.kind)).toBe(t);
      expect(WEIGHT[t.kind], t.kind).toBeGreaterThan(0);
      for (const need of t.iam) expect(need.command, t.kind).toMatch(/^[A-Z]\w+Command$/);
    }
  });

  it('the default inputs give one of each pipeline resource and three per cluster, under the stable keys and deterministic names', () => {
    const insts = instancesOf(spec());
    expect(keysOf(insts).sort()).toEqual(
      [
        KEYS.role('cross-account'),
        KEYS.role('firehose'),
        KEYS.role('cloudwatch'),
        KEYS.kmsKey,
        KEYS.bucket,
        KEYS.topic,
        KEYS.notification,
        KEYS.stream,
        KEYS.integration,
        ...[
          ['eu-central-1', 'prod'],
          ['eu-central-1', 'dev'],
          ['us-east-1', 'edge'],
        ].flatMap(([r, c]) => [KEYS.auditLogging(r as string, c as string), KEYS.logGroup(r as string, c as string), KEYS.filter(r as string, c as string)]),
      ].sort(),
    );
    const by = Object.fromEntries(insts.map((i) => [i.key, i]));
    expect(by[KEYS.bucket]).toMatchObject({ name: 'lw-eks-al1b3c2d59', region: 'eu-central-1' });
    expect(by[KEYS.role('cross-account')]).toMatchObject({ name: 'lw-eks-al-ca-1b3c2d59', region: 'global', arn: `arn:aws:iam::${ACCOUNT}:role/lw-eks-al-ca-1b3c2d59` });
    expect(by[KEYS.filter('us-east-1', 'edge')]).toMatchObject({ name: 'lw-eks-al-edge-eks-cw-1b3c2d59', region: 'us-east-1', extra: { cluster: 'edge' } });
    expect(by[KEYS.stream]?.arn).toBe(names.streamArn);
    expect(by[KEYS.integration]?.name).toBe(`EKS Audit Log ${ACCOUNT}`);
    expect(instancesOf({ ...spec(), inputs: { ...spec().inputs, integrationName: 'Mine' } }).find((i) => i.key === KEYS.integration)?.name).toBe('Mine');
  });

  it('what the user brings is not an instance; --no-kms and --kms-key-arn have no key of ours; --sqs-queue-arn adds the subscription', () => {
    const keys = (over: Partial<Inputs>) => new Set(keysOf(instancesOf(spec(over))));
    const existing = keys(VARIANTS[4]?.[1] ?? {});
    for (const k of [KEYS.bucket, KEYS.role('cross-account'), KEYS.role('firehose'), KEYS.role('cloudwatch')]) expect(existing.has(k), k).toBe(false);
    expect(existing.has(KEYS.notification)).toBe(true);
    expect(keys({ noKms: true }).has(KEYS.kmsKey)).toBe(false);
    expect(keys({ kmsKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/x' }).has(KEYS.kmsKey)).toBe(false);
    expect(keys({}).has(KEYS.subscription)).toBe(false);
    expect(keys({ sqsQueueArn: `arn:aws:sqs:eu-central-1:${ACCOUNT}:audit` }).has(KEYS.subscription)).toBe(true);
  });

  it.each(VARIANTS)('%s: keys are unique and every need names an instance of the same deployment', (_name, over) => {
    const insts = instancesOf(spec(over));
    const keys = new Set(keysOf(insts));
    expect(keys.size).toBe(insts.length);
    for (const i of insts) for (const need of i.needs) expect(keys.has(need), `${i.key} needs ${need}`).toBe(true);
  });
});

describe('the graph of the real modules', () => {
  it.each(VARIANTS)('%s: has no cycle, forward or reverse', async (_name, over) => {
    const nodes = instancesOf(spec(over)).map((i) => ({ key: i.key, needs: i.needs, weight: WEIGHT[i.kind] }));
    for (const direction of ['forward', 'reverse'] as const) {
      const out = await walk(nodes, direction, async () => {}, { stopOnFailure: true });
      expect(out.done.size).toBe(nodes.length);
    }
  });

  it('follows DESIGN §3’s order: roles -> key -> bucket and topic -> notification; bucket -> stream -> filters; the registration after topic, notification, role and bucket', async () => {
    const nodes = instancesOf(spec({ sqsQueueArn: `arn:aws:sqs:eu-central-1:${ACCOUNT}:audit` })).map((i) => ({ key: i.key, needs: i.needs, weight: WEIGHT[i.kind] }));
    const ended: string[] = [];
    await walk(nodes, 'forward', async (n) => {
      await new Promise((r) => setImmediate(r));
      ended.push(n.key);
    }, { stopOnFailure: true });
    const at = (k: string) => ended.indexOf(k);
    const chain = (...ks: string[]) => ks.slice(1).forEach((k, i) => expect(at(ks[i] as string), `${ks[i]} before ${k}`).toBeLessThan(at(k)));
    chain(KEYS.role('firehose'), KEYS.kmsKey, KEYS.bucket, KEYS.stream, KEYS.filter('us-east-1', 'edge'));
    chain(KEYS.kmsKey, KEYS.topic, KEYS.notification, KEYS.integration);
    chain(KEYS.bucket, KEYS.notification);
    chain(KEYS.role('cross-account'), KEYS.integration);
    chain(KEYS.role('cloudwatch'), KEYS.filter('eu-central-1', 'prod'));
    chain(KEYS.logGroup('eu-central-1', 'prod'), KEYS.filter('eu-central-1', 'prod'));
    chain(KEYS.topic, KEYS.subscription);
  });

  it('starts the slow critical path first: the Firehose role and the clusters’ audit logging lead the first wave', async () => {
    const nodes = instancesOf(spec()).map((i) => ({ key: i.key, needs: i.needs, weight: WEIGHT[i.kind] }));
    const started: string[] = [];
    await walk(nodes, 'forward', async (n) => void started.push(n.key), { stopOnFailure: true });
    expect(started[0]).toBe(KEYS.role('firehose'));
    expect(started.slice(1, 4).every((k) => k.startsWith('eks-audit-logging/'))).toBe(true);
  });
});

describe('pure helpers', () => {
  const rule = (events: string[], prefix = '', suffix = '') => ({ id: 'r', destination: 'arn:aws:sns:eu-central-1:1:t', events, prefix, suffix });

  it('overlaps: S3’s rule — same event type and filters that can both match one key', () => {
    const ours = rule(['s3:ObjectCreated:*'], 'eks_audit_logs/123456789012/');
    expect(overlaps(rule(['s3:ObjectCreated:*']), ours)).toBe(true); // every key
    expect(overlaps(rule(['s3:ObjectCreated:Put'], 'eks_audit_logs/'), ours)).toBe(true); // a shorter prefix of ours
    expect(overlaps(rule(['s3:ObjectCreated:*'], 'eks_audit_logs/123456789012/sub/'), ours)).toBe(true); // a longer one
    expect(overlaps(rule(['s3:*'], 'eks'), ours)).toBe(true);
    expect(overlaps(rule(['s3:ObjectCreated:*'], 'other/'), ours)).toBe(false); // disjoint prefixes
    expect(overlaps(rule(['s3:ObjectRemoved:*']), ours)).toBe(false); // another event type
    expect(overlaps(rule(['s3:ObjectCreated:Put']), rule(['s3:ObjectCreated:Post']))).toBe(false);
    expect(overlaps(rule(['s3:ObjectCreated:Put']), rule(['s3:ObjectCreated:Put']))).toBe(true);
    expect(overlaps(rule(['s3:ObjectRemoved:Delete', 's3:ObjectCreated:Copy']), ours)).toBe(true); // any pair of events
    // Suffixes: overlap only when one ends the other.
    expect(overlaps(rule(['s3:ObjectCreated:*'], '', '.gz'), rule(['s3:ObjectCreated:*'], '', 'log.gz'))).toBe(true);
    expect(overlaps(rule(['s3:ObjectCreated:*'], '', '.gz'), rule(['s3:ObjectCreated:*'], '', '.json'))).toBe(false);
    expect(overlaps(rule(['s3:ObjectCreated:*'], 'a/', '.gz'), ours)).toBe(false);
  });

  it('auditEnabled: an enabled clusterLogging entry that has the audit type', () => {
    expect(auditEnabled(undefined)).toBe(false);
    expect(auditEnabled({ logging: { clusterLogging: [{ enabled: false, types: ['audit'] }, { enabled: true, types: ['api'] }] } })).toBe(false);
    expect(auditEnabled({ logging: { clusterLogging: [{ enabled: true, types: ['api', 'audit'] }] } })).toBe(true);
  });

  it('clusterPairs: every (region, cluster) of the inputs, in order', () => {
    expect(clusterPairs({ 'eu-central-1': ['prod', 'dev'], 'us-east-1': ['edge'], 'ap-south-1': [] })).toEqual([
      { region: 'eu-central-1', cluster: 'prod' },
      { region: 'eu-central-1', cluster: 'dev' },
      { region: 'us-east-1', cluster: 'edge' },
    ]);
  });

  it('keyArnOf: none with --no-kms, the user’s with --kms-key-arn, ours once known, else the pending placeholder', () => {
    const refs = new Map();
    expect(keyArnOf({ spec: spec({ noKms: true }), refs })).toBeUndefined();
    expect(keyArnOf({ spec: spec({ kmsKeyArn: 'arn:user' }), refs })).toBe('arn:user');
    expect(keyArnOf({ spec: spec(), refs })).toBe(PENDING_KEY);
    refs.set(KEYS.kmsKey, { id: 'k', arn: 'arn:ours', region: 'eu-central-1' });
    expect(keyArnOf({ spec: spec(), refs })).toBe('arn:ours');
  });
});
