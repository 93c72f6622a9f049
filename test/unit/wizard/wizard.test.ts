import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError, UserAbort, AppError } from '../../../src/errors.js';
import { resolveInputs, type SetupOptions } from '../../../src/wizard/resolve.js';
import { wizard, type ClusterInfo, type Listing, type WizardAws, type WizardDeps } from '../../../src/wizard/wizard.js';
import { answersPath, saveAnswers } from '../../../src/wizard/answers.js';
import type { LaceworkCredentials } from '../../../src/lacework/credentials.js';
import { CTRL_C, DEFAULT, fakePrompter, type FakePrompter, type Step } from './fake-prompter.js';

const ACCOUNT_ID = '123456789012';
const KEY = { account: 'acme.lacework.net', keyId: 'ACME_0123456789ABCDEF0123456789ABCDEF', secret: '_s3cr3t-0123456789abcdef0123456789' };

/** commander's defaults for the `--no-x` options: a run without flags looks like this. */
const NO_FLAGS: SetupOptions = { kms: true, bucketVersioning: true, enableAuditLogging: true, rollback: true, color: true };

interface World {
  clusters: Record<string, ClusterInfo[]>;
  deniedRegions: Set<string>;
  buckets: Record<string, string>;
  calls: string[];
}

function fakeAws(w: World): WizardAws {
  return {
    async accountId() {
      w.calls.push('sts');
      return ACCOUNT_ID;
    },
    async listClusters(region): Promise<Listing> {
      w.calls.push(`list:${region}`);
      if (w.deniedRegions.has(region)) return { denied: 'AccessDeniedException: not allowed' };
      return { clusters: w.clusters[region] ?? [] };
    },
    async describeCluster(region, name) {
      w.calls.push(`describe:${region}:${name}`);
      return w.clusters[region]?.find((c) => c.name === name) ?? 'not-found';
    },
    async bucketRegion(bucket) {
      w.calls.push(`bucket:${bucket}`);
      return w.buckets[bucket] ?? 'not-found';
    },
  };
}

let tmp: string;
let home: string;
let stateDir: string;
let keyFile: string;
let world: World;
let said: string[];
let verified: LaceworkCredentials[];
let rejectKeys: Set<string>;

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fea-wizard-unit-'));
  home = path.join(tmp, 'home');
  stateDir = path.join(tmp, 'state');
  keyFile = path.join(tmp, 'key.json');
  writeFileSync(keyFile, JSON.stringify(KEY));
  world = {
    clusters: {
      'us-east-1': [
        { name: 'prod', status: 'ACTIVE', auditEnabled: false },
        { name: 'stage', status: 'ACTIVE', auditEnabled: true },
        { name: 'new', status: 'CREATING', auditEnabled: false },
      ],
      'eu-west-1': [{ name: 'euprod', status: 'ACTIVE', auditEnabled: false }],
    },
    deniedRegions: new Set(),
    buckets: { 'my-logs': 'us-east-1', 'far-logs': 'eu-west-1' },
    calls: [],
  };
  said = [];
  verified = [];
  rejectKeys = new Set();
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function deps(prompter: FakePrompter, env: NodeJS.ProcessEnv = { AWS_REGION: 'us-east-1' }): WizardDeps {
  return {
    prompter,
    aws: fakeAws(world),
    env,
    home,
    stateDir,
    say: (l) => said.push(l),
    async verifyCredentials(c) {
      verified.push(c);
      if (rejectKeys.has(c.keyId)) throw new UsageError('The FortiCNAPP API rejected the key (401 Invalid API key or secret).', 'ApiKeyRejected');
    },
  };
}

const keyFileSteps = (): Step[] => [
  { expect: /How will you give the FortiCNAPP API key/, answer: 'key-file' },
  { expect: /Path of the API key file/, answer: keyFile },
];

async function run(opts: SetupOptions, script: Step[], env?: NodeJS.ProcessEnv) {
  const p = fakePrompter(script);
  const result = await wizard({ ...NO_FLAGS, ...opts }, deps(p, env));
  expect(p.remaining()).toEqual([]);
  return { result, p };
}

describe('wizard: regions and clusters', () => {
  it('single region: lists the clusters with their audit state and gives what the flags would', async () => {
    const { result, p } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in us-east-1/, answer: ['prod', 'stage'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    const region = p.asked.find((a) => /AWS region/.test(a.message));
    expect(region?.default).toBe('us-east-1'); // AWS_REGION
    const box = p.asked.find((a) => a.kind === 'checkbox');
    expect(box?.choices?.map((c) => [c.value, c.name.replace(/\s+/g, ' '), c.disabled ?? false])).toEqual([
      ['prod', 'prod audit logging off (setup turns it on)', false],
      ['stage', 'stage audit logging on', false],
      ['new', 'new audit logging off (setup turns it on)', 'CREATING, not ACTIVE'],
    ]);
    const flags = resolveInputs({ ...NO_FLAGS, regionClusters: ['us-east-1=prod,stage'], apiKeyFile: keyFile });
    expect(result.inputs).toEqual(flags);
    expect(result.credentials).toMatchObject({ account: 'acme', keyId: KEY.keyId, secret: KEY.secret, source: `key file ${keyFile}` });
  });

  it('multi-region: loops until "no", refuses a region twice and a region without clusters', async () => {
    world.clusters['eu-north-1'] = [];
    const { result, p } = await run({}, [
      { expect: /more than one region/, answer: true },
      { expect: /AWS region/, answer: 'us-east-1', rejected: ['xus-east-1yy', 'us-gov-west-1', 'eu-north-1'] },
      { expect: /EKS clusters in us-east-1/, answer: ['prod'] },
      { expect: /another AWS region/, answer: true },
      { expect: /Next AWS region/, answer: 'eu-west-1', rejected: ['us-east-1'] },
      { expect: /EKS clusters in eu-west-1/, answer: ['euprod'] },
      { expect: /another AWS region/, answer: false },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(p.asked[1]?.reasons).toEqual([
      "'xus-east-1yy' is not an AWS region name (expected something like eu-central-1).",
      "Region 'us-gov-west-1' is not supported: FortiCNAPP does not ingest EKS audit logs from GovCloud or China.",
      'There are no EKS clusters in eu-north-1; type the region your clusters run in.',
    ]);
    expect(p.asked[4]?.reasons).toEqual(['us-east-1 is already configured; type another region.']);
    expect(result.inputs.inputs.regionClusters).toEqual({ 'us-east-1': ['prod'], 'eu-west-1': ['euprod'] });
    expect(result.inputs.inputs.homeRegion).toBe('us-east-1');
    expect(result.inputs.homeRegionGiven).toBe(false);
  });

  it('a "No" to more than one region asks exactly one region (the reference asked a second anyway)', async () => {
    const { result } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'eu-west-1' },
      { expect: /EKS clusters in eu-west-1/, answer: ['euprod'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(Object.keys(result.inputs.inputs.regionClusters)).toEqual(['eu-west-1']);
  });

  it('an empty pick is refused with the reason', async () => {
    const p = fakePrompter([
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in us-east-1/, answer: [] },
    ]);
    await expect(wizard(NO_FLAGS, deps(p))).rejects.toThrow(/Pick at least one cluster/);
  });

  it('listing denied: names are typed, trimmed, validated and looked up one by one', async () => {
    world.deniedRegions.add('us-east-1');
    const { result, p } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'us-east-1' },
      { expect: /Comma-separated names of the EKS clusters in us-east-1/, answer: ' prod , stage ', rejected: [' ', 'prod, -bad', 'prod, ghost', 'new'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(said.some((l) => l.includes('Cannot list the EKS clusters in us-east-1') && l.includes('AccessDenied'))).toBe(true);
    expect(p.asked[2]?.reasons).toEqual([
      'Name at least one cluster (comma-separated, e.g. prod,stage).',
      "'-bad' is not a valid EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100).",
      "EKS cluster 'ghost' was not found in us-east-1; check the name (aws eks list-clusters --region us-east-1).",
      "EKS cluster 'new' is CREATING, not ACTIVE; wait until it is ACTIVE, or leave it out.",
    ]);
    expect(result.inputs.inputs.regionClusters).toEqual({ 'us-east-1': ['prod', 'stage'] });
  });

  it('--no-enable-audit-logging: clusters with audit off cannot be picked', async () => {
    const { p } = await run({ enableAuditLogging: false }, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in us-east-1/, answer: ['stage'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    const prod = p.asked.find((a) => a.kind === 'checkbox')?.choices?.find((c) => c.value === 'prod');
    expect(prod?.disabled).toBe('audit logging off and --no-enable-audit-logging given');
  });

  it('a region where no cluster could be ticked is refused at the region, with the reason', async () => {
    world.clusters['eu-west-2'] = [{ name: 'late', status: 'CREATING', auditEnabled: true }];
    const p = fakePrompter([
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'us-east-1', rejected: ['eu-west-1', 'eu-west-2'] },
      { expect: /EKS clusters in us-east-1/, answer: ['stage'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    await wizard({ ...NO_FLAGS, enableAuditLogging: false }, deps(p));
    expect(p.asked[1]?.reasons).toEqual([
      'Audit logging is off on every EKS cluster in eu-west-1 and --no-enable-audit-logging was given; drop that flag to let setup turn it on, or type another region.',
      'No EKS cluster in eu-west-2 is ACTIVE (late: CREATING); wait until one is, or type another region.',
    ]);
  });

  it('--region-clusters answers the region questions: none is asked, and no cluster listing', async () => {
    const { result } = await run({ regionClusters: ['us-east-1=prod'] }, [...keyFileSteps(), { expect: /advanced/, answer: false }]);
    expect(result.inputs.inputs.regionClusters).toEqual({ 'us-east-1': ['prod'] });
    expect(world.calls.filter((c) => c.startsWith('list:'))).toEqual([]);
  });

  it('bad flags are reported together before any question (exit 2), as with --non-interactive', async () => {
    const p = fakePrompter([]);
    const err = await wizard({ ...NO_FLAGS, regionClusters: ['nowhere=prod'], bucketLifecycleDays: '0' }, deps(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).problems).toHaveLength(2);
    expect((err as UsageError).exitCode).toBe(2);
  });
});

describe('wizard: FortiCNAPP credentials', () => {
  const opts: SetupOptions = { regionClusters: ['us-east-1=prod'] };

  it('LW_* variables resolve: no credential question, and it says which were used', async () => {
    const { result } = await run(opts, [{ expect: /advanced/, answer: false }], {
      LW_ACCOUNT: 'acme',
      LW_API_KEY: KEY.keyId,
      LW_API_SECRET: KEY.secret,
    });
    expect(result.credentials.source).toBe('environment (LW_*)');
    expect(said).toContain('FortiCNAPP credentials found: using environment (LW_*).');
  });

  it('a ~/.lacework.toml profile resolves: no credential question, and it says which', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, '.lacework.toml'), `[default]\naccount = "acme"\napi_key = "${KEY.keyId}"\napi_secret = "${KEY.secret}"\n`);
    const { result } = await run(opts, [{ expect: /advanced/, answer: false }], {});
    expect(result.credentials).toMatchObject({ account: 'acme', keyId: KEY.keyId, source: "profile 'default' in ~/.lacework.toml" });
    expect(verified).toEqual([]); // not typed: setup's own check reports a rejected key
  });

  it('a bad key file path is asked again with the reason; ~ is the home directory', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(home, 'Downloads'), { recursive: true });
    writeFileSync(path.join(home, 'Downloads', 'key.json'), JSON.stringify(KEY));
    writeFileSync(path.join(tmp, 'broken.json'), '{"keyId": "x", "secret": ');
    const { result, p } = await run(opts, [
      { expect: /How will you give/, answer: 'key-file' },
      { expect: /Path of the API key file/, answer: '~/Downloads/key.json', rejected: ['', path.join(tmp, 'missing.json'), path.join(tmp, 'broken.json')] },
      { expect: /advanced/, answer: false },
    ]);
    const reasons = p.asked[1]?.reasons ?? [];
    expect(reasons[0]).toMatch(/Type the path/);
    expect(reasons[1]).toMatch(/Cannot read the API key file .*missing\.json: no such file/);
    expect(reasons[2]).toMatch(/is not valid JSON/);
    expect(result.credentials.keyId).toBe(KEY.keyId);
  });

  it('a key file without an account asks for the account', async () => {
    writeFileSync(keyFile, JSON.stringify({ keyId: KEY.keyId, secret: KEY.secret }));
    const { result } = await run(opts, [
      ...keyFileSteps(),
      { expect: /FortiCNAPP account/, answer: 'https://Acme.lacework.net/ui', rejected: ['not an account!'] },
      { expect: /advanced/, answer: false },
    ]);
    expect(result.credentials.account).toBe('acme');
  });

  it('typed key: secret asked masked, checked at once, asked again when the API rejects it', async () => {
    rejectKeys.add('WRONG_KEY');
    const { result, p } = await run(opts, [
      { expect: /How will you give/, answer: 'typed' },
      { expect: /FortiCNAPP account/, answer: 'acme' },
      { expect: /API key id/, answer: 'WRONG_KEY', rejected: ['', 'two words'] },
      { expect: /API secret/, answer: 'whatever-secret', rejected: [''] },
      { expect: /How will you give/, answer: DEFAULT },
      { expect: /FortiCNAPP account/, answer: DEFAULT },
      { expect: /API key id/, answer: KEY.keyId },
      { expect: /API secret/, answer: KEY.secret },
      { expect: /advanced/, answer: false },
    ]);
    expect(p.asked.filter((a) => /API secret/.test(a.message)).map((a) => [a.kind, a.default])).toEqual([
      ['password', undefined],
      ['password', undefined],
    ]);
    expect(p.asked[4]?.default).toBe('typed'); // asked again, same method
    expect(p.asked[5]?.default).toBe('acme'); // the account typed before
    expect(said.some((l) => l.includes('rejected the key'))).toBe(true);
    expect(said.join('\n')).not.toContain('whatever-secret');
    expect(result.credentials).toMatchObject({ account: 'acme', keyId: KEY.keyId, secret: KEY.secret, source: 'your answers' });
  });

  it('a flag given key file that cannot be read ends the run like the flags path (exit 2), no question', async () => {
    const p = fakePrompter([]);
    await expect(wizard({ ...NO_FLAGS, regionClusters: ['us-east-1=prod'], apiKeyFile: path.join(tmp, 'nope.json') }, deps(p))).rejects.toMatchObject({
      code: 'KeyFileInvalid',
      exitCode: 2,
    });
  });
});

describe('wizard: advanced options', () => {
  const start = (): Step[] => [...keyFileSteps(), { expect: /advanced/, answer: true }];

  it('existing bucket: ARN validated like its flag, then checked to exist in the home region', async () => {
    const { result, p } = await run({ regionClusters: ['us-east-1=prod'] }, [
      ...start(),
      { expect: /Which options/, answer: 'bucket' },
      { expect: /Use an existing S3 bucket/, answer: true },
      {
        expect: /ARN of the existing bucket/,
        answer: 'arn:aws:s3:::my-logs',
        rejected: ['my-logs', 'arn:aws:s3:::ghost-bucket', 'arn:aws:s3:::far-logs'],
      },
      { expect: /Which options/, answer: DEFAULT },
    ]);
    const reasons = p.asked[5]?.reasons ?? [];
    expect(reasons[0]).toMatch(/^'my-logs' is not an? .*ARN \(expected e\.g\. arn:aws:s3:::my-bucket\)\.$/); // the flag's check, flag name dropped
    expect(reasons.slice(1)).toEqual([
      'Bucket ghost-bucket does not exist; check the ARN.',
      'Bucket far-logs is in eu-west-1, but the home region is us-east-1; S3 notifies only an SNS topic in its own region, so pick a bucket in us-east-1.',
    ]);
    expect(p.asked[6]?.default).toBe('done'); // after an item, Enter finishes
    expect(result.inputs.inputs.existingBucketArn).toBe('arn:aws:s3:::my-logs');
  });

  it('every menu item sets the option its flag sets; the result equals the flags run', async () => {
    const { result, p } = await run({ regionClusters: ['us-east-1=prod', 'eu-west-1=euprod'] }, [
      ...start(),
      { expect: /Which options/, answer: 'bucket' },
      { expect: /Use an existing S3 bucket/, answer: false },
      { expect: /expire/, answer: '30', rejected: ['0', '3651', 'ten'] },
      { expect: /versioning/, answer: false },
      { expect: /Which options/, answer: 'caRole' },
      { expect: /cross-account IAM role/, answer: 'arn:aws:iam::123456789012:role/ca', rejected: ['arn:aws:iam::1234:role/x'] },
      { expect: /External ID/, answer: 'lweid:aws:v2:acme:123456789012:abc', rejected: ['x'] },
      { expect: /Which options/, answer: 'firehose' },
      { expect: /existing Firehose IAM role\?/, answer: true },
      { expect: /ARN of the existing Firehose/, answer: 'arn:aws:iam::123456789012:role/fh', rejected: [''] },
      { expect: /Which options/, answer: 'cwRole' },
      { expect: /CloudWatch Logs IAM role/, answer: 'arn:aws:iam::123456789012:role/cw' },
      { expect: /Which options/, answer: 'homeRegion' },
      { expect: /Home region/, answer: 'eu-west-1' },
      { expect: /Which options/, answer: 'kms' },
      { expect: /Encryption/, answer: 'existing' },
      {
        expect: /existing KMS key/,
        answer: 'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234',
        rejected: ['arn:aws:kms:us-east-1:123456789012:key/abcd-1234', 'alias/mine'],
      },
      { expect: /Which options/, answer: 'integrationName' },
      { expect: /integration name/, answer: 'EKS prod', rejected: [''] },
      { expect: /Which options/, answer: 'done' },
    ]);
    const kmsReasons = p.asked.find((a) => /existing KMS key/.test(a.message))?.reasons;
    expect(kmsReasons?.[0]).toBe('The key is in us-east-1, but the bucket, topic and stream live in eu-west-1; use a key of eu-west-1.');
    expect(kmsReasons?.[1]).toMatch(/^'alias\/mine' is not an? .*ARN \(expected e\.g\. arn:aws:kms:/);
    const flags = resolveInputs({
      ...NO_FLAGS,
      regionClusters: ['us-east-1=prod', 'eu-west-1=euprod'],
      apiKeyFile: keyFile,
      bucketLifecycleDays: '30',
      bucketVersioning: false,
      existingCaRoleArn: 'arn:aws:iam::123456789012:role/ca',
      existingCaExternalId: 'lweid:aws:v2:acme:123456789012:abc',
      existingFirehoseRoleArn: 'arn:aws:iam::123456789012:role/fh',
      existingCwRoleArn: 'arn:aws:iam::123456789012:role/cw',
      kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234',
      integrationName: 'EKS prod',
      homeRegion: 'eu-west-1',
    });
    expect(result.inputs).toEqual(flags);
    expect(result.inputs.homeRegionGiven).toBe(true);
  });

  it('"no KMS" sets what --no-kms sets; the default integration name stays a default', async () => {
    const { result } = await run({ regionClusters: ['us-east-1=prod'] }, [
      ...start(),
      { expect: /Which options/, answer: 'kms' },
      { expect: /Encryption/, answer: 'none' },
      { expect: /Which options/, answer: 'integrationName' },
      { expect: /integration name/, answer: DEFAULT },
      { expect: /Which options/, answer: 'done' },
    ]);
    expect(result.inputs.inputs.noKms).toBe(true);
    expect(result.inputs.inputs.kmsKeyArn).toBeUndefined();
    expect(result.inputs.inputs.integrationName).toBeUndefined();
  });

  it('items set by flags are shown disabled, naming the flag; the home-region item needs two regions', async () => {
    const { p } = await run({ regionClusters: ['us-east-1=prod'], kms: false, existingCwRoleArn: 'arn:aws:iam::123456789012:role/cw' }, [
      ...start(),
      { expect: /Which options/, answer: 'done' },
    ]);
    const menu = p.asked.find((a) => /Which options/.test(a.message));
    expect(menu?.choices?.map((c) => c.name)).toEqual([
      'Configure bucket settings',
      'Configure and use an existing cross-account IAM role',
      'Configure Firehose settings',
      'Configure and use an existing CloudWatch IAM role',
      'Configure SNS and KMS encryption settings',
      'Customize integration name',
      'Done',
    ]);
    expect(menu?.choices?.find((c) => c.value === 'kms')?.disabled).toBe('set by --no-kms');
    expect(menu?.choices?.find((c) => c.value === 'cwRole')?.disabled).toBe('set by --existing-cw-role-arn');
    expect(menu?.default).toBe('bucket');
  });

  it('choosing a new bucket after an existing one drops the existing one (and vice versa), never both', async () => {
    const { result } = await run({ regionClusters: ['us-east-1=prod'] }, [
      ...start(),
      { expect: /Which options/, answer: 'bucket' },
      { expect: /Use an existing S3 bucket/, answer: false },
      { expect: /expire/, answer: '30' },
      { expect: /versioning/, answer: false },
      { expect: /Which options/, answer: 'bucket' },
      { expect: /Use an existing S3 bucket/, answer: true },
      { expect: /ARN of the existing bucket/, answer: 'arn:aws:s3:::my-logs' },
      { expect: /Which options/, answer: 'done' },
    ]);
    expect(result.inputs.problems).toEqual([]);
    expect(result.inputs.inputs).toMatchObject({ existingBucketArn: 'arn:aws:s3:::my-logs', bucketLifecycleDays: 180, bucketVersioning: true });
  });
});

describe('wizard: saved answers', () => {
  const firstRun: Step[] = [
    { expect: /more than one region/, answer: false },
    { expect: /AWS region/, answer: 'eu-west-1' },
    { expect: /EKS clusters in eu-west-1/, answer: ['euprod'] },
    { expect: /How will you give/, answer: 'typed' },
    { expect: /FortiCNAPP account/, answer: 'acme' },
    { expect: /API key id/, answer: KEY.keyId },
    { expect: /API secret/, answer: KEY.secret },
    { expect: /advanced/, answer: true },
    { expect: /Which options/, answer: 'bucket' },
    { expect: /Use an existing S3 bucket/, answer: false },
    { expect: /expire/, answer: '90' },
    { expect: /versioning/, answer: DEFAULT },
    { expect: /Which options/, answer: 'done' },
  ];

  it('no offer on a first run; the answers are saved 0600 in a 0700 directory, without the secret', async () => {
    const { result } = await run({}, firstRun);
    expect(result.answersFile).toBe(answersPath(stateDir, ACCOUNT_ID));
    const text = readFileSync(answersPath(stateDir, ACCOUNT_ID), 'utf8');
    expect(text).not.toContain(KEY.secret);
    expect(JSON.parse(text)).toMatchObject({
      accountId: ACCOUNT_ID,
      regionClusters: { 'eu-west-1': ['euprod'] },
      advanced: true,
      options: { bucketLifecycleDays: '90' },
      credentials: { method: 'typed', account: 'acme' },
    });
    expect(statSync(answersPath(stateDir, ACCOUNT_ID)).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(answersPath(stateDir, ACCOUNT_ID))).mode & 0o777).toBe(0o700);
    expect(readdirSync(path.dirname(answersPath(stateDir, ACCOUNT_ID)))).toEqual([`${ACCOUNT_ID}.json`]); // no temp file left
  });

  it('second run: offered (default No); "yes" makes them the defaults, Enter through reproduces the run', async () => {
    const first = await run({}, firstRun);
    const { result, p } = await run({}, [
      { expect: /Previous answers .* Load them/, answer: true },
      { expect: /more than one region/, answer: DEFAULT },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in eu-west-1/, answer: DEFAULT },
      { expect: /How will you give/, answer: DEFAULT },
      { expect: /FortiCNAPP account/, answer: DEFAULT },
      { expect: /API key id/, answer: KEY.keyId },
      { expect: /API secret/, answer: KEY.secret },
      { expect: /advanced/, answer: DEFAULT },
      { expect: /Which options/, answer: DEFAULT },
    ]);
    expect(p.asked[0]?.default).toBe(false);
    expect(p.asked[2]?.default).toBe('eu-west-1'); // not AWS_REGION
    expect(p.asked[3]?.choices?.find((c) => c.value === 'euprod')?.checked).toBe(true);
    expect(p.asked[8]?.default).toBe(true);
    expect(said.some((l) => l.startsWith(`Previous answers for AWS account ${ACCOUNT_ID}`) && l.includes('eu-west-1: euprod'))).toBe(true);
    expect(result.inputs).toEqual(first.result.inputs);
  });

  it('"no" to the offer asks with the usual defaults', async () => {
    await run({}, firstRun);
    const { p } = await run({}, [
      { expect: /Previous answers/, answer: DEFAULT },
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'us-east-1' },
      { expect: /EKS clusters in us-east-1/, answer: ['prod'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: DEFAULT },
    ]);
    expect(p.asked[2]?.default).toBe('us-east-1');
    expect(p.asked[3]?.choices?.every((c) => !c.checked)).toBe(true);
    expect(p.asked[6]?.message).toMatch(/advanced/);
    expect(p.asked[6]?.default).toBe(false);
  });

  it('answers of another AWS account are not offered', async () => {
    saveAnswers(stateDir, { accountId: '210987654321', regionClusters: { 'us-east-1': ['prod'] }, multiRegion: false, advanced: false, options: {} });
    const { p } = await run({ regionClusters: ['us-east-1=prod'] }, [...keyFileSteps(), { expect: /advanced/, answer: false }]);
    expect(p.asked.some((a) => /Previous answers/.test(a.message))).toBe(false);
  });

  it('the first question needs no AWS call when nothing was saved; STS only once saved answers exist', async () => {
    const p = fakePrompter([{ expect: /more than one region/, answer: CTRL_C }]);
    await expect(wizard(NO_FLAGS, deps(p))).rejects.toBeInstanceOf(UserAbort);
    expect(world.calls).toEqual([]);
  });
});

describe('wizard: Ctrl+C', () => {
  it('at the secret prompt: UserAbort (exit 130), and no answers saved', async () => {
    const p = fakePrompter([
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters/, answer: ['prod'] },
      { expect: /How will you give/, answer: 'typed' },
      { expect: /FortiCNAPP account/, answer: 'acme' },
      { expect: /API key id/, answer: KEY.keyId },
      { expect: /API secret/, answer: CTRL_C },
    ]);
    const err = await wizard(NO_FLAGS, deps(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserAbort);
    expect((err as AppError).exitCode).toBe(130);
    expect(existsSync(path.join(stateDir, 'answers'))).toBe(false);
  });

  it('a Ctrl+C during a lookup (the session signal) stops before the next question', async () => {
    const controller = new AbortController();
    const p = fakePrompter([
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters/, answer: ['prod'] },
    ]);
    const d: WizardDeps = { ...deps(p), signal: controller.signal };
    const list = d.aws.listClusters;
    d.aws.listClusters = async (region) => {
      controller.abort(); // SIGINT while the terminal is not in raw mode: the session aborts its signal
      return list(region);
    };
    await expect(wizard(NO_FLAGS, d)).rejects.toBeInstanceOf(UserAbort);
    expect(p.remaining()).toEqual([]);
    expect(p.asked.map((a) => a.kind)).toEqual(['confirm', 'input', 'checkbox']); // no credential question after it
  });
});
