/**
 * The wizard's flow (index.ts and the question groups) with a scripted prompter that refuses unexpected
 * questions, fake AWS lookups and a fake token call. What a run gives is compared with what the same choices
 * give as flags (`resolveFlags`): the wizard and the flags path must not be told apart.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients.js';
import { resolveFlags, type SetupOptions } from '../../../src/config/resolve.js';
import { AppError, UsageError, UserAbort } from '../../../src/errors.js';
import type { LaceworkCredentials } from '../../../src/lacework/credentials.js';
import { answersPath, saveAnswers } from '../../../src/wizard/answers.js';
import { createWizardContext, runWizard, type ClusterInfo, type Listing, type WizardContext, type WizardLookups } from '../../../src/wizard/index.js';
import { CTRL_C, DEFAULT, fakePrompter, type FakePrompter, type Step } from './fake-prompter.js';

const ACCOUNT_ID = '123456789012';
const KEY = { account: 'acme.lacework.net', keyId: 'ACME_0123456789ABCDEF0123456789ABCDEF', secret: '_s3cr3t-0123456789abcdef0123456789' };

/** commander's defaults for the `--no-x` options: a run without flags looks like this. */
const NO_FLAGS: SetupOptions = { kms: true, bucketVersioning: true, enableAuditLogging: true, rollback: true, color: true };

interface World {
  clusters: Record<string, ClusterInfo[]>;
  deniedRegions: Set<string>;
  failedRegions: Set<string>;
  buckets: Record<string, string>;
  calls: string[];
  /** What STS answers: the account, or an error (no credentials…). */
  sts: () => Promise<string>;
  /** The account manages an AWS Organization. */
  organization: boolean;
}

function fakeLookups(w: World): WizardLookups {
  return {
    async accountId() {
      w.calls.push('sts');
      return w.sts();
    },
    async clusters(region): Promise<Listing> {
      w.calls.push(`list:${region}`);
      if (w.deniedRegions.has(region)) return { denied: 'AccessDeniedException: not allowed' };
      if (w.failedRegions.has(region)) return { failed: 'UnrecognizedClientException: The security token included in the request is invalid; is the region enabled for this account?' };
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
    async managesOrganization() {
      w.calls.push('organization');
      return w.organization;
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
  mkdirSync(home);
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
    failedRegions: new Set(),
    buckets: { 'my-logs': 'us-east-1', 'far-logs': 'eu-west-1' },
    calls: [],
    sts: async () => ACCOUNT_ID,
    organization: false,
  };
  said = [];
  verified = [];
  rejectKeys = new Set();
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** The context the cli would build (createWizardContext), with the fakes in place of AWS and the API. */
function context(prompter: FakePrompter, opts: SetupOptions = {}, env: NodeJS.ProcessEnv = { AWS_REGION: 'us-east-1' }): WizardContext {
  const ctx = createWizardContext({
    options: { ...NO_FLAGS, ...opts },
    aws: {} as AwsClients,
    say: (l) => said.push(l),
    stateDir,
    prompter,
    env,
    home,
    async verifyCredentials(c) {
      verified.push(c);
      if (rejectKeys.has(c.keyId)) throw new UsageError('The FortiCNAPP API rejected the key (401 Invalid API key or secret).', 'ApiKeyRejected');
    },
  });
  return { ...ctx, lookups: fakeLookups(world) };
}

const keyFileSteps = (): Step[] => [
  { expect: /How will you give the FortiCNAPP API key/, answer: 'key-file' },
  { expect: /Path of the API key file/, answer: keyFile },
];

async function run(opts: SetupOptions, script: Step[], env?: NodeJS.ProcessEnv) {
  const p = fakePrompter(script);
  const result = await runWizard(context(p, opts, env));
  expect(p.remaining()).toEqual([]);
  return { result, p };
}

/** What the same choices give as flags. */
function flags(opts: SetupOptions) {
  const r = resolveFlags({ ...NO_FLAGS, ...opts });
  expect(r.problems).toEqual([]);
  return { inputs: r.inputs, homeRegionGiven: r.homeRegionGiven };
}

describe('wizard: AWS first', () => {
  it('the AWS account is asked before the first question, and said', async () => {
    const p = fakePrompter([{ expect: /more than one region/, answer: CTRL_C }]);
    await expect(runWizard(context(p))).rejects.toBeInstanceOf(UserAbort);
    expect(world.calls).toEqual(['sts', 'organization']);
    expect(said).toEqual([`AWS account ${ACCOUNT_ID}.`]);
  });

  it('no AWS credentials: the one clear line, exit 2, and not a single question', async () => {
    world.sts = async () => {
      throw new UsageError("No AWS credentials found. Run in AWS CloudShell, or configure credentials ('aws configure', 'aws sso login', AWS_PROFILE or --aws-profile) and run again.", 'NoAwsCredentials');
    };
    const p = fakePrompter([]);
    const err = await runWizard(context(p)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NoAwsCredentials', exitCode: 2 });
    expect(p.asked).toEqual([]);
    expect(said).toEqual([]);
  });

  it('bad flags are reported together before anything, AWS included (exit 2), as with --non-interactive', async () => {
    const p = fakePrompter([]);
    const err = (() => {
      try {
        context(p, { regionClusters: ['nowhere=prod'], bucketLifecycleDays: '0', prefix: 'xn--eks' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).problems).toHaveLength(3);
    expect((err as UsageError).exitCode).toBe(2);
    // A context built by hand with bad answers is refused by runWizard itself.
    const ctx = { ...context(p), given: { prefix: 'BAD' } };
    await expect(runWizard(ctx)).rejects.toMatchObject({ problems: [expect.stringMatching(/^--prefix 'BAD'/)] });
    expect(world.calls).toEqual([]);
  });
});

describe('wizard: the organization offer', () => {
  it('an organization’s management account is offered every member account; "yes" asks the regions and no cluster question', async () => {
    world.organization = true;
    const { result, p } = await run({}, [
      { expect: /manages an AWS Organization/, answer: true },
      { expect: /Regions to connect every ACTIVE cluster/, answer: ['us-east-1', 'eu-west-1'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(p.asked.find((a) => /manages an AWS Organization/.test(a.message))?.default).toBe(false);
    expect(result.organization).toEqual({ regions: ['us-east-1', 'eu-west-1'] });
    expect(world.calls.some((c) => c.startsWith('list:'))).toBe(false);
  });

  it('"no" goes on with this account’s regions and clusters; an account outside an organization is not asked', async () => {
    world.organization = true;
    const { result } = await run({}, [
      { expect: /manages an AWS Organization/, answer: false },
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in us-east-1/, answer: ['prod'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(result.organization).toBeUndefined();
    expect(result.inputs.regionClusters).toEqual({ 'us-east-1': ['prod'] });
  });
});

describe('wizard: regions and clusters', () => {
  it('single region: a list with AWS_REGION first, the clusters with their audit state; gives what the flags would', async () => {
    const { result, p } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in us-east-1/, answer: ['prod', 'stage'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    const region = p.asked.find((a) => /AWS region/.test(a.message));
    expect(region?.kind).toBe('select');
    expect(region?.default).toBe('us-east-1');
    expect(region?.choices?.[0]?.value).toBe('us-east-1');
    expect(region?.choices?.at(-1)).toMatchObject({ value: 'type-it', name: 'Another region: type its name' });
    expect(region?.choices?.filter((c) => c.value === 'us-east-1')).toHaveLength(1);
    const box = p.asked.find((a) => a.kind === 'checkbox');
    expect(box?.choices?.map((c) => [c.value, c.name.replace(/\s+/g, ' '), c.disabled ?? false])).toEqual([
      ['prod', 'prod audit logging off (setup turns it on)', false],
      ['stage', 'stage audit logging on', false],
      ['new', 'new audit logging off (setup turns it on)', 'CREATING, not ACTIVE'],
    ]);
    expect({ inputs: result.inputs, homeRegionGiven: result.homeRegionGiven }).toEqual(flags({ regionClusters: ['us-east-1=prod,stage'] }));
    expect(result.accountId).toBe(ACCOUNT_ID);
    expect(result.credentials).toMatchObject({ account: 'acme', keyId: KEY.keyId, secret: KEY.secret, source: `key file ${keyFile}`, origin: { keyFile } });
  });

  it('multi-region: loops until "no"; a region without clusters is refused with the reason, then shown disabled; a region can be typed', async () => {
    world.clusters['eu-north-1'] = [];
    const { result, p } = await run({}, [
      { expect: /more than one region/, answer: true },
      { expect: /AWS region/, answer: 'eu-north-1' },
      { expect: /AWS region/, answer: 'type-it' },
      { expect: /AWS region name/, answer: 'us-east-1', rejected: ['xus-east-1yy', 'us-gov-west-1', 'eu-north-1'] },
      { expect: /EKS clusters in us-east-1/, answer: ['prod'] },
      { expect: /another AWS region/, answer: true },
      { expect: /Next AWS region/, answer: 'eu-west-1' },
      { expect: /EKS clusters in eu-west-1/, answer: ['euprod'] },
      { expect: /another AWS region/, answer: false },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(said).toContain('There are no EKS clusters in eu-north-1; pick the region your clusters run in.');
    expect(p.asked[2]?.choices?.find((c) => c.value === 'eu-north-1')?.disabled).toBe('no EKS clusters');
    expect(p.asked[3]?.reasons).toEqual([
      "'xus-east-1yy' is not an AWS region name (expected something like eu-central-1).",
      "Region 'us-gov-west-1' is not supported: FortiCNAPP does not ingest EKS audit logs from GovCloud or China.",
      'eu-north-1: no EKS clusters; type another region.',
    ]);
    // The second region's list leaves out the first.
    expect(p.asked[6]?.choices?.some((c) => c.value === 'us-east-1')).toBe(false);
    expect(result.inputs.regionClusters).toEqual({ 'us-east-1': ['prod'], 'eu-west-1': ['euprod'] });
    expect(result.inputs.homeRegion).toBe('us-east-1');
    expect(result.homeRegionGiven).toBe(false);
  });

  it('a "No" to more than one region asks exactly one region (the reference asked a second anyway)', async () => {
    const { result } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'eu-west-1' },
      { expect: /EKS clusters in eu-west-1/, answer: ['euprod'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(Object.keys(result.inputs.regionClusters)).toEqual(['eu-west-1']);
  });

  it('an AWS_REGION that is no region is not offered first', async () => {
    const { p } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'us-east-1' },
      { expect: /EKS clusters in us-east-1/, answer: ['prod'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ], { AWS_REGION: 'us-gov-west-1' });
    expect(p.asked[1]?.choices?.[0]?.value).toBe('af-south-1');
    expect(p.asked[1]?.choices?.some((c) => c.value === 'us-gov-west-1')).toBe(false);
  });

  it('an empty pick is refused with the reason', async () => {
    const p = fakePrompter([
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
      { expect: /EKS clusters in us-east-1/, answer: [] },
    ]);
    await expect(runWizard(context(p))).rejects.toThrow(/Pick at least one cluster/);
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
    expect(said).toContain('Cannot list the EKS clusters in us-east-1 (listing is not allowed: AccessDeniedException: not allowed); type their names instead.');
    expect(p.asked[2]?.reasons).toEqual([
      'Name at least one cluster (comma-separated, e.g. prod,stage).',
      "'-bad' is not a valid EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100).",
      "EKS cluster 'ghost' was not found in us-east-1; check the name (aws eks list-clusters --region us-east-1).",
      "EKS cluster 'new' is CREATING, not ACTIVE; wait until it is ACTIVE, or leave it out.",
    ]);
    expect(result.inputs.regionClusters).toEqual({ 'us-east-1': ['prod', 'stage'] });
  });

  it('listing failed (not denied): the reason, and another region', async () => {
    world.failedRegions.add('me-south-1');
    const { p } = await run({}, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'me-south-1' },
      { expect: /AWS region/, answer: 'us-east-1' },
      { expect: /EKS clusters in us-east-1/, answer: ['prod'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(said.find((l) => l.startsWith('Cannot list the EKS clusters in me-south-1'))).toMatch(/is the region enabled for this account\?\); pick another region\.$/);
    expect(p.asked[2]?.choices?.find((c) => c.value === 'me-south-1')?.disabled).toBe('its clusters cannot be listed');
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

  it('a region where no cluster could be ticked is refused with the reason, and disabled in the list that follows', async () => {
    world.clusters['eu-west-2'] = [{ name: 'late', status: 'CREATING', auditEnabled: true }];
    const { p } = await run({ enableAuditLogging: false }, [
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: 'eu-west-1' },
      { expect: /AWS region/, answer: 'eu-west-2' },
      { expect: /AWS region/, answer: 'us-east-1' },
      { expect: /EKS clusters in us-east-1/, answer: ['stage'] },
      ...keyFileSteps(),
      { expect: /advanced/, answer: false },
    ]);
    expect(said.slice(1, 3)).toEqual([
      'Audit logging is off on every EKS cluster in eu-west-1 and --no-enable-audit-logging was given; drop that flag to let setup turn it on, or pick another region.',
      'No EKS cluster in eu-west-2 is ACTIVE (late: CREATING); wait until one is, or pick another region.',
    ]);
    const third = p.asked[3]?.choices ?? [];
    expect(third.find((c) => c.value === 'eu-west-1')?.disabled).toBe('audit logging off on every cluster');
    expect(third.find((c) => c.value === 'eu-west-2')?.disabled).toBe('no ACTIVE cluster');
  });

  it('--region-clusters answers the region questions: none is asked, and no cluster listing', async () => {
    const { result } = await run({ regionClusters: ['us-east-1=prod'] }, [...keyFileSteps(), { expect: /advanced/, answer: false }]);
    expect(result.inputs.regionClusters).toEqual({ 'us-east-1': ['prod'] });
    expect(world.calls.filter((c) => c.startsWith('list:'))).toEqual([]);
  });
});

describe('wizard: FortiCNAPP credentials', () => {
  const opts: SetupOptions = { regionClusters: ['us-east-1=prod'] };
  const accepted = () => said.filter((l) => l.startsWith('FortiCNAPP API key accepted'));

  it('LW_* variables resolve: no credential question; the key is checked and that is said once', async () => {
    const { result } = await run(opts, [{ expect: /advanced/, answer: false }], { LW_ACCOUNT: 'acme', LW_API_KEY: KEY.keyId, LW_API_SECRET: KEY.secret });
    expect(result.credentials).toMatchObject({ source: 'environment (LW_*)', origin: {} });
    expect(accepted()).toEqual(['FortiCNAPP API key accepted (account acme; from environment (LW_*)).']);
    expect(verified).toHaveLength(1);
    expect(said.some((l) => /Checking/.test(l))).toBe(false);
  });

  it('a ~/.lacework.toml profile resolves: no credential question, and it says which', async () => {
    writeFileSync(path.join(home, '.lacework.toml'), `[default]\naccount = "acme"\napi_key = "${KEY.keyId}"\napi_secret = "${KEY.secret}"\n`);
    const { result } = await run(opts, [{ expect: /advanced/, answer: false }], {});
    expect(result.credentials).toMatchObject({ account: 'acme', keyId: KEY.keyId, source: "profile 'default' in ~/.lacework.toml", origin: { profile: 'default' } });
    expect(accepted()).toEqual(["FortiCNAPP API key accepted (account acme; from profile 'default' in ~/.lacework.toml)."]);
  });

  it('a LW_* key the API rejects: said, then asked (the typed key wins over LW_*)', async () => {
    rejectKeys.add('OLD_KEY');
    const { result, p } = await run(
      opts,
      [
        { expect: /How will you give/, answer: 'typed' },
        { expect: /FortiCNAPP account/, answer: DEFAULT },
        { expect: /API key id/, answer: KEY.keyId },
        { expect: /API secret/, answer: KEY.secret },
        { expect: /advanced/, answer: false },
      ],
      { LW_ACCOUNT: 'acme', LW_API_KEY: 'OLD_KEY', LW_API_SECRET: 'old-secret' },
    );
    expect(said).toContain('✗ The FortiCNAPP API rejected the key (401 Invalid API key or secret).');
    expect(said).toContain('The key from environment (LW_*) does not work; give another one.');
    expect(p.asked[1]?.default).toBe('acme');
    expect(result.credentials).toMatchObject({ keyId: KEY.keyId, source: 'your answers' });
  });

  it('a bad key file path is asked again with the reason; ~ is the home directory; a shell-quoted path is unquoted', async () => {
    mkdirSync(path.join(home, 'Downloads'), { recursive: true });
    writeFileSync(path.join(home, 'Downloads', 'acme key.json'), JSON.stringify(KEY));
    writeFileSync(path.join(tmp, 'broken.json'), '{"keyId": "x", "secret": ');
    const { result, p } = await run(opts, [
      { expect: /How will you give/, answer: 'key-file' },
      {
        expect: /Path of the API key file/,
        answer: "'~/Downloads/acme key.json' ",
        rejected: ['', path.join(tmp, 'missing.json'), path.join(tmp, 'broken.json'), '~/Downloads/acme key.json.bak'],
      },
      { expect: /advanced/, answer: false },
    ]);
    const reasons = p.asked[1]?.reasons ?? [];
    expect(reasons[0]).toMatch(/Type the path/);
    expect(reasons[1]).toMatch(/Cannot read the API key file .*missing\.json: no such file/);
    expect(reasons[2]).toMatch(/is not valid JSON/);
    expect(reasons[3]).toBe(
      `Cannot read the API key file ${home}/Downloads/acme key.json.bak: no such file. Pass the path of the JSON key file, or download a new key file from the FortiCNAPP console (Settings > API keys).`,
    );
    expect(result.credentials).toMatchObject({ keyId: KEY.keyId, origin: { keyFile: path.join(home, 'Downloads', 'acme key.json') } });
  });

  it.each([["~/Downloads/acme\\ key.json"], ['"~/Downloads/acme key.json"']])('the path %s (as ls and drag-and-drop give it) is read', async (typed) => {
    mkdirSync(path.join(home, 'Downloads'), { recursive: true });
    writeFileSync(path.join(home, 'Downloads', 'acme key.json'), JSON.stringify(KEY));
    const { result } = await run(opts, [
      { expect: /How will you give/, answer: 'key-file' },
      { expect: /Path of the API key file/, answer: typed },
      { expect: /advanced/, answer: false },
    ]);
    expect(result.credentials.source).toBe(`key file ${path.join(home, 'Downloads', 'acme key.json')}`);
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
    expect(accepted()).toHaveLength(1);
    expect(result.credentials).toMatchObject({ account: 'acme', keyId: KEY.keyId, secret: KEY.secret, source: 'your answers', origin: {} });
  });

  it('a flag-given key file that cannot be read ends the run like the flags path (exit 2), no question', async () => {
    const p = fakePrompter([]);
    await expect(runWizard(context(p, { regionClusters: ['us-east-1=prod'], apiKeyFile: path.join(tmp, 'nope.json') }))).rejects.toMatchObject({
      code: 'KeyFileInvalid',
      exitCode: 2,
    });
  });

  it('a key the flags gave that the API rejects ends the run (exit 2): the command line is what to fix', async () => {
    rejectKeys.add(KEY.keyId);
    const p = fakePrompter([]);
    await expect(runWizard(context(p, { regionClusters: ['us-east-1=prod'], apiKeyFile: keyFile }))).rejects.toMatchObject({
      code: 'ApiKeyRejected',
      exitCode: 2,
    });
  });
});

describe('wizard: advanced options', () => {
  const start = (): Step[] => [...keyFileSteps(), { expect: /advanced/, answer: true }];

  it('existing bucket: ARN validated like its flag (naming rules included), then checked to exist in the home region', async () => {
    const { result, p } = await run({ regionClusters: ['us-east-1=prod'] }, [
      ...start(),
      { expect: /Which options/, answer: 'bucket' },
      { expect: /Use an existing S3 bucket/, answer: true },
      {
        expect: /ARN of the existing bucket/,
        answer: 'arn:aws:s3:::my-logs',
        rejected: ['my-logs', 'arn:aws:s3:::xn--logs', 'arn:aws:s3:::ghost-bucket', 'arn:aws:s3:::far-logs'],
      },
      { expect: /Which options/, answer: DEFAULT },
    ]);
    const reasons = p.asked[5]?.reasons ?? [];
    expect(reasons[0]).toMatch(/^'my-logs' is not an? .*ARN \(expected e\.g\. arn:aws:s3:::my-bucket\)\.$/); // the flag's check, flag name dropped
    expect(reasons.slice(1)).toEqual([
      "'arn:aws:s3:::xn--logs' names no valid S3 bucket: 'xn--logs' starts with 'xn--', which S3 reserves.",
      'Bucket ghost-bucket does not exist; check the ARN.',
      'Bucket far-logs is in eu-west-1, but the home region is us-east-1; S3 notifies only an SNS topic in its own region, so pick a bucket in us-east-1.',
    ]);
    expect(p.asked[6]?.default).toBe('done'); // after an item, Enter finishes
    expect(result.inputs.existingBucketArn).toBe('arn:aws:s3:::my-logs');
  });

  it('every menu item sets the answer its flag sets; the result equals the flags run', async () => {
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
    expect({ inputs: result.inputs, homeRegionGiven: result.homeRegionGiven }).toEqual(
      flags({
        regionClusters: ['us-east-1=prod', 'eu-west-1=euprod'],
        bucketLifecycleDays: '30',
        bucketVersioning: false,
        existingCaRoleArn: 'arn:aws:iam::123456789012:role/ca',
        existingCaExternalId: 'lweid:aws:v2:acme:123456789012:abc',
        existingFirehoseRoleArn: 'arn:aws:iam::123456789012:role/fh',
        existingCwRoleArn: 'arn:aws:iam::123456789012:role/cw',
        kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234',
        integrationName: 'EKS prod',
        homeRegion: 'eu-west-1',
      }),
    );
    expect(result.homeRegionGiven).toBe(true);
  });

  it('"no KMS" sets what --no-kms sets; the default integration name stays a default', async () => {
    const { result, p } = await run({ regionClusters: ['us-east-1=prod'] }, [
      ...start(),
      { expect: /Which options/, answer: 'kms' },
      { expect: /Encryption/, answer: 'none' },
      { expect: /Which options/, answer: 'integrationName' },
      { expect: /integration name/, answer: DEFAULT },
      { expect: /Which options/, answer: 'done' },
    ]);
    expect(p.asked.find((a) => /integration name/.test(a.message))?.default).toBe(`EKS Audit Log ${ACCOUNT_ID}`);
    expect(result.inputs.noKms).toBe(true);
    expect(result.inputs.kmsKeyArn).toBeUndefined();
    expect(result.inputs.integrationName).toBeUndefined();
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
    expect(result.inputs).toMatchObject({ existingBucketArn: 'arn:aws:s3:::my-logs', bucketLifecycleDays: 180, bucketVersioning: true });
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

  it('second run: offered (default No); "yes" makes them the defaults; Enter through reproduces the run and leaves the file alone', async () => {
    const first = await run({}, firstRun);
    const file = answersPath(stateDir, ACCOUNT_ID);
    const before = readFileSync(file, 'utf8');
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
    expect(p.asked[2]?.choices?.[0]?.value).toBe('eu-west-1');
    expect(p.asked[3]?.choices?.find((c) => c.value === 'euprod')?.checked).toBe(true);
    expect(p.asked[8]?.default).toBe(true);
    expect(said.some((l) => l.startsWith(`Previous answers for AWS account ${ACCOUNT_ID}`) && l.includes('eu-west-1: euprod'))).toBe(true);
    expect(result.inputs).toEqual(first.result.inputs);
    expect(readFileSync(file, 'utf8')).toBe(before); // not rewritten: nothing changed (savedAt included)
    expect(result.answersFile).toBe(file);
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
    expect(JSON.parse(readFileSync(answersPath(stateDir, ACCOUNT_ID), 'utf8'))).toMatchObject({ regionClusters: { 'us-east-1': ['prod'] } });
  });

  it('answers of another AWS account are not offered', async () => {
    saveAnswers(stateDir, { accountId: '210987654321', regionClusters: { 'us-east-1': ['prod'] }, multiRegion: false, advanced: false, options: {} });
    const { p } = await run({ regionClusters: ['us-east-1=prod'] }, [...keyFileSteps(), { expect: /advanced/, answer: false }]);
    expect(p.asked.some((a) => /Previous answers/.test(a.message))).toBe(false);
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
    const err = await runWizard(context(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserAbort);
    expect((err as AppError).exitCode).toBe(130);
    expect(existsSync(path.join(stateDir, 'answers'))).toBe(false);
  });

  it('a Ctrl+C during a lookup (the session signal) stops before the next question', async () => {
    const controller = new AbortController();
    const p = fakePrompter([
      { expect: /more than one region/, answer: false },
      { expect: /AWS region/, answer: DEFAULT },
    ]);
    const ctx: WizardContext = { ...context(p), signal: controller.signal };
    const list = ctx.lookups.clusters;
    ctx.lookups = {
      ...ctx.lookups,
      clusters: async (region) => {
        controller.abort(); // SIGINT while the terminal is not in raw mode: the session aborts its signal
        return list(region);
      },
    };
    await expect(runWizard(ctx)).rejects.toBeInstanceOf(UserAbort);
    expect(p.remaining()).toEqual([]);
    expect(p.asked.map((a) => a.kind)).toEqual(['confirm', 'select']); // no checkbox after it
  });
});
