/**
 * The wizard, end to end (issue 3 and issue 10, "Done when"): the built CLI in a real pseudo-terminal (tmux), its
 * screen read back, against moto (through the fault proxy) and the fake FortiCNAPP.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireMotoOrSkip } from '../fakes/moto.js';
import { markFixture } from '../fakes/fault-proxy.js';
import { ACCOUNT, CLI, LW, fixtureConfig, runCli, seedCluster, startWorld, type World } from './world.js';
import { openTerminal, removeTerminalFiles, tmuxAvailable, type Terminal } from './pty.js';
import { readRecordParameter } from './records.js';

const run = requireMotoOrSkip();
if (run && !tmuxAvailable()) {
  // The wizard suite needs a pseudo-terminal; without tmux it would prove nothing, so it fails rather than skips.
  throw new Error('tmux is required for the wizard e2e tests (apt-get install tmux)');
}

interface JournalRecord {
  t: string;
  kind?: string;
  region?: string;
  name?: string;
  op?: string;
  homeRegion?: string;
}

/**
 * The one deployment of the world's state dir: its id, what its journal says it did (`<op> <kind> <region>
 * <name>`, the id masked), and the inputs and home region its record in the account keeps.
 */
async function deployment(world: World): Promise<{ id: string; made: string[]; homeRegion: string; inputs: unknown }> {
  const dir = path.join(world.stateDir, 'deployments');
  const ids = readdirSync(dir);
  expect(ids).toHaveLength(1);
  const id = ids[0]!;
  const records = readFileSync(path.join(dir, id, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalRecord);
  const made = records
    .filter((r) => r.t === 'done')
    .map((r) => `${r.op} ${r.kind} ${r.region} ${(r.name ?? '').split(id).join('<id>')}`)
    .sort();
  const homeRegion = records.find((r) => r.t === 'header')?.homeRegion ?? '';
  const record = await readRecordParameter(world, homeRegion, id);
  return { id, made, homeRegion, inputs: record?.inputs };
}

/**
 * The plan the wizard showed: its item lines (between the `Deployment … (home region …)` header and the
 * counts line), and the counts.
 */
function shownPlan(screen: string): { items: string[]; total: number } {
  const lines = screen.split('\n');
  const start = lines.findIndex((l) => /^Deployment [0-9a-f]{8} in AWS account \d{12} \(home region [a-z0-9-]+\)$/.test(l));
  const end = lines.findIndex((l, i) => i > start && /^\d+ to create, \d+ to change, \d+ to replace, \d+ to remove, \d+ to keep\.$/.test(l));
  expect(start, screen).toBeGreaterThanOrEqual(0);
  expect(end, screen).toBeGreaterThan(start);
  const total = [...(lines[end] ?? '').matchAll(/(\d+) to/g)].reduce((n, m) => n + Number(m[1]), 0);
  return { items: lines.slice(start + 1, end).filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim()), total };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every file under `dir` whose content contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) hits.push(...filesContaining(p, needle));
    else if (st.isFile() && readFileSync(p).includes(needle)) hits.push(p);
  }
  return hits;
}

describe.skipIf(!run)('wizard in a pseudo-terminal', () => {
  let world: World;
  let term: Terminal | undefined;

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    term?.close();
    removeTerminalFiles();
    await world?.stop();
  });
  beforeEach(async () => {
    await world.reset();
  });
  afterEach(() => {
    term?.close();
    term = undefined;
  });

  /**
   * The built CLI in a fresh terminal (80 columns would wrap the plan; 200 keeps one line per item).
   * @param without variables of the world's environment to leave out (e.g. the AWS credentials).
   */
  function wizard(args: string[], env: Record<string, string> = {}, without: string[] = []): Terminal {
    const cwd = path.join(world.home, 'cwd');
    mkdirSync(cwd, { recursive: true });
    const full: Record<string, string> = { ...world.env, ...env };
    for (const k of without) delete full[k];
    term = openTerminal([process.execPath, CLI, ...args], { env: full, cwd });
    return term;
  }

  /** Answers a question once it is the active one ("? <question>"); the plan before "Apply" may take a while on a busy machine. */
  async function answer(t: Terminal, question: string, ...keys: string[]): Promise<string> {
    const screen = await t.waitFor(`? ${question}`, { timeoutMs: 30_000 });
    for (const k of keys) {
      if (k.startsWith('text:')) t.type(k.slice(5));
      else t.keys(k);
    }
    return screen;
  }

  it('1. single region, clusters picked from the list, key file path typed: same resources and integration as the flags path', async () => {
    await seedCluster(world, 'us-east-1', 'prod');
    await seedCluster(world, 'us-east-1', 'stage', { audit: true });
    const t = wizard([]);
    await answer(t, 'Integrate clusters in more than one region?', 'Enter');
    await t.waitFor(/❯ us-east-1\n {2}af-south-1\n/); // a list of regions, AWS_REGION first
    t.keys('Up'); // the list wraps round to a region it does not list
    await t.waitFor('❯ Another region: type its name', { after: 'AWS region of the EKS clusters:' });
    t.keys('Down');
    await t.waitFor(/❯ us-east-1\n/, { after: 'Another region' });
    await answer(t, 'AWS region of the EKS clusters:', 'Enter');
    const list = await t.waitFor(/stage\s+audit logging on/);
    expect(list).toMatch(/◯ prod\s+audit logging off \(setup turns it on\)/);
    await answer(t, 'EKS clusters in us-east-1 to send audit logs from:', 'Space', 'Down', 'Space', 'Enter');
    await answer(t, 'How will you give the FortiCNAPP API key?', 'Enter');
    await answer(t, 'Path of the API key file', `text:${world.keyFile}`, 'Enter');
    await answer(t, 'Configure advanced integration options?', 'Enter');
    const plan = await answer(t, 'Apply these changes?', 'text:y', 'Enter');
    expect(plan).toMatch(/~ turn on +EKS audit logging prod \(audit: off → on\)/);
    expect(plan).toMatch(/= keep +EKS audit logging stage/);
    expect(await t.exitCode()).toBe(0);
    const screen = t.screen();
    expect(screen).toContain('Done. EKS audit logs now flow to FortiCNAPP');
    // Each resource once in the plan shown, and the plan shown once.
    const shown = shownPlan(screen);
    expect(shown.items).toHaveLength(shown.total);
    expect(new Set(shown.items).size).toBe(shown.items.length);
    for (const item of shown.items) expect(screen.split(item).length - 1, item).toBe(1);
    expect(shown.items.filter((i) => /subscription filter lw-eks-al-(prod|stage)-eks-cw-/.test(i))).toHaveLength(2);
    // The invocation that ran (node <path>, not npx) and the options in force; it runs as printed in cli.test.ts.
    expect(screen).toMatch(new RegExp(`Remove it: +${esc(`node ${CLI} teardown --deployment `)}[0-9a-f]{8}${esc(` --state-dir ${world.stateDir} --api-key-file ${world.keyFile} --yes`)}\n`));
    expect(screen).not.toContain(LW.secret);
    expect(screen).toContain('AWS account ' + ACCOUNT + '.');
    // The key check is announced once, with its outcome.
    expect(screen.match(/FortiCNAPP API key accepted/g)).toHaveLength(1);

    const viaWizard = await deployment(world);
    const wizardIntegrations = [...world.lw.integrations.values()];
    expect(wizardIntegrations).toHaveLength(1);
    expect(world.lw.violations).toEqual([]);

    expect(viaWizard.made).toContain('create subscription-filter us-east-1 lw-eks-al-prod-eks-cw-<id>');
    expect(viaWizard.made).toContain('update eks-audit-logging us-east-1 prod');
    expect(viaWizard.inputs).toMatchObject({ prefix: 'lw-eks-al', bucketLifecycleDays: 180, bucketVersioning: true });

    // The same clusters by flags: the plan is this deployment, every resource and the integration as it is.
    const flags = await runCli(world, ['plan', '--region-clusters', 'us-east-1=prod,stage', '--api-key-file', world.keyFile, '--json']);
    expect(flags.code, flags.stderr).toBe(0);
    const planned = flags.json<{ deploymentId: string; resources: { kind: string; id: string; action: string }[] }>();
    expect(planned.deploymentId).toBe(viaWizard.id);
    expect(planned.resources).toHaveLength(shown.total);
    expect(planned.resources.filter((r) => r.action !== 'keep')).toEqual([]);
    expect(planned.resources.filter((r) => r.kind === 'forticnapp-integration')).toHaveLength(1);
  });

  it('2. two regions, and the advanced menu with an existing bucket ARN', async () => {
    await seedCluster(world, 'us-east-1', 'prod');
    await seedCluster(world, 'eu-west-1', 'euprod');
    const s3 = markFixture(new S3Client(fixtureConfig(world, 'us-east-1')));
    await s3.send(new CreateBucketCommand({ Bucket: 'acme-eks-audit-logs' }));
    const t = wizard([]);
    await answer(t, 'Integrate clusters in more than one region?', 'text:y', 'Enter');
    await answer(t, 'AWS region of the EKS clusters:', 'Enter');
    await t.waitFor('prod');
    await answer(t, 'EKS clusters in us-east-1 to send audit logs from:', 'Space', 'Enter');
    await answer(t, 'Configure another AWS region?', 'text:y', 'Enter');
    await answer(t, 'Next AWS region:', 'text:eu-west-1'); // typing jumps to the region in the list
    await t.waitFor(/❯ eu-west-1/);
    t.keys('Enter');
    await t.waitFor(/euprod\s+audit logging off/);
    await answer(t, 'EKS clusters in eu-west-1 to send audit logs from:', 'Space', 'Enter');
    await answer(t, 'Configure another AWS region?', 'Enter');
    await answer(t, 'How will you give the FortiCNAPP API key?', 'Enter');
    await answer(t, 'Path of the API key file', `text:${world.keyFile}`, 'Enter');
    await answer(t, 'Configure advanced integration options?', 'text:y', 'Enter');
    await answer(t, 'Which options would you like to configure?', 'Enter'); // the first item: bucket settings
    await answer(t, 'Use an existing S3 bucket?', 'text:y', 'Enter');
    await answer(t, 'ARN of the existing bucket', 'text:arn:aws:s3:::no-such-audit-bucket', 'Enter');
    await t.waitFor('Bucket no-such-audit-bucket does not exist; check the ARN.');
    t.keys('C-u');
    t.type('arn:aws:s3:::acme-eks-audit-logs');
    t.keys('Enter');
    const menu = await answer(t, 'Which options would you like to configure?', 'Enter'); // Done is the default now
    expect(menu).toContain('✔ ARN of the existing bucket for the EKS audit logs: arn:aws:s3:::acme-eks-audit-logs');
    const plan = await answer(t, 'Apply these changes?', 'text:y', 'Enter');
    expect(plan).not.toMatch(/create S3 bucket/);
    expect(plan).toMatch(/eu-west-1:[\s\S]*subscription filter lw-eks-al-euprod-eks-cw-/);
    expect(await t.exitCode()).toBe(0);

    const { made, inputs, homeRegion } = await deployment(world);
    expect(made.filter((m) => m.includes('s3-bucket '))).toEqual([]);
    expect(made).toContain('create subscription-filter us-east-1 lw-eks-al-prod-eks-cw-<id>');
    expect(made).toContain('create subscription-filter eu-west-1 lw-eks-al-euprod-eks-cw-<id>');
    expect(homeRegion).toBe('us-east-1');
    expect(inputs).toMatchObject({ existingBucketArn: 'arn:aws:s3:::acme-eks-audit-logs' });
    const integrations = [...world.lw.integrations.values()];
    expect(integrations).toHaveLength(1);
    expect(integrations[0]!.data.s3BucketArn).toBe('arn:aws:s3:::acme-eks-audit-logs');
  });

  it('3. a bad region, an unknown cluster and a bad key file path are each asked again with the reason; a quoted path is read', async () => {
    await seedCluster(world, 'us-east-1', 'prod');
    mkdirSync(path.join(world.home, 'Downloads'), { recursive: true });
    writeFileSync(path.join(world.home, 'Downloads', 'acme key.json'), readFileSync(world.keyFile), { mode: 0o600 });
    world.proxy.addRule({ service: 'eks', action: 'ListClusters', fault: 'fail' }); // listing denied: names are typed
    const t = wizard(['plan']);
    await answer(t, 'Integrate clusters in more than one region?', 'Enter');
    await answer(t, 'AWS region of the EKS clusters:', 'text:another');
    await t.waitFor(/❯ Another region: type its name/);
    t.keys('Enter');
    await answer(t, 'AWS region name (e.g. eu-central-1):', 'text:xus-east-1yy', 'Enter');
    await t.waitFor("'xus-east-1yy' is not an AWS region name (expected something like eu-central-1).");
    t.keys('C-u');
    t.type('us-east-1');
    t.keys('Enter');
    await t.waitFor(/Cannot list the EKS clusters in us-east-1 \(listing is not allowed: AccessDenied/);
    await answer(t, 'Comma-separated names of the EKS clusters in us-east-1', 'text: prod , ghost', 'Enter');
    await t.waitFor("EKS cluster 'ghost' was not found in us-east-1; check the name (aws eks list-clusters --region us-east-1).");
    t.keys('C-u');
    t.type(' prod ');
    t.keys('Enter');
    await answer(t, 'How will you give the FortiCNAPP API key?', 'Enter');
    await answer(t, 'Path of the API key file', 'text:~/Downloads/missing-key.json', 'Enter');
    await t.waitFor(`Cannot read the API key file ${world.home}/Downloads/missing-key.json: no such file.`);
    t.keys('C-u');
    t.type("'~/Downloads/acme key.json' "); // as a file dragged into the terminal arrives
    t.keys('Enter');
    await answer(t, 'Configure advanced integration options?', 'Enter');
    expect(await t.exitCode()).toBe(0);
    const screen = t.screen();
    expect(screen).toContain('✔ Comma-separated names of the EKS clusters in us-east-1 to send audit logs from: prod');
    expect(screen).toContain(`FortiCNAPP API key accepted (account acme; from key file ${world.home}/Downloads/acme key.json).`);
    expect(screen).toMatch(/subscription filter lw-eks-al-prod-eks-cw-/);
    expect(screen).toContain('Nothing was changed (this is a plan).');
    expect(screen).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m); // no stack trace
    expect(world.proxy.mutatingCount()).toBe(0);
  });

  it('4. a ~/.lacework.toml profile (temp HOME) skips the credential questions', async () => {
    await seedCluster(world, 'us-east-1', 'prod');
    // A HOME of its own, so the profile cannot leak into the other tests.
    const home = path.join(world.home, 'home-with-profile');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      path.join(home, '.lacework.toml'),
      `[default]\naccount = "acme"\napi_key = "${LW.keyId}"\napi_secret = "${LW.secret}"\nversion = 2\n`,
      { mode: 0o600 },
    );
    // --region-clusters answers the region questions too: the only question left is the advanced one.
    const t = wizard(['plan', '--region-clusters', 'us-east-1=prod'], { HOME: home });
    const screen = await answer(t, 'Configure advanced integration options?', 'Enter');
    expect(screen).toContain("FortiCNAPP API key accepted (account acme; from profile 'default' in ~/.lacework.toml).");
    expect(screen).not.toContain('more than one region');
    expect(await t.exitCode()).toBe(0);
    expect(t.screen()).not.toContain('How will you give the FortiCNAPP API key?');
    expect(t.screen()).toContain('Nothing was changed (this is a plan).');
  });

  it('5. Ctrl+C at the secret prompt: exit 130, no AWS change, the secret nowhere on disk', async () => {
    await seedCluster(world, 'us-east-1', 'prod');
    const secret = 'TYPED-SECRET-3f9a7c1e5b2d8046';
    const t = wizard(['setup']);
    await answer(t, 'Integrate clusters in more than one region?', 'Enter');
    await answer(t, 'AWS region of the EKS clusters:', 'Enter');
    await answer(t, 'EKS clusters in us-east-1 to send audit logs from:', 'Space', 'Enter');
    await answer(t, 'How will you give the FortiCNAPP API key?', 'Down', 'Enter');
    await answer(t, 'FortiCNAPP account', 'text:acme', 'Enter');
    await answer(t, 'FortiCNAPP API key id:', `text:${LW.keyId}`, 'Enter');
    await answer(t, 'FortiCNAPP API secret', `text:${secret}`);
    await t.waitFor('*'.repeat(secret.length));
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    const screen = t.screen();
    expect(screen).toContain('Interrupted at a question: nothing was changed.');
    expect(screen).not.toContain(secret);
    expect(world.proxy.mutatingCount()).toBe(0);
    expect(existsSync(path.join(world.stateDir, 'deployments'))).toBe(false);
    expect(existsSync(path.join(world.stateDir, 'answers'))).toBe(false); // saved only once the inputs are complete
    expect(filesContaining(world.home, secret)).toEqual([]);
    expect(world.lw.requests).toEqual([]); // not even sent
  });

  it('6. no TTY and no flags: exit 2 naming --region-clusters', async () => {
    const r = await runCli(world, ['setup']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--region-clusters is required');
    expect(world.proxy.mutatingCount()).toBe(0);
  });

  it('7. the saved-answers offer appears on the second run and fills the defaults', async () => {
    await seedCluster(world, 'eu-west-1', 'alpha');
    await seedCluster(world, 'eu-west-1', 'beta');
    const first = wizard(['plan']);
    await answer(first, 'Integrate clusters in more than one region?', 'Enter');
    await answer(first, 'AWS region of the EKS clusters:', 'text:eu-west-1');
    await first.waitFor(/❯ eu-west-1/);
    first.keys('Enter');
    await first.waitFor(/beta\s+audit logging off/);
    await answer(first, 'EKS clusters in eu-west-1 to send audit logs from:', 'Down', 'Space', 'Enter'); // beta only
    await answer(first, 'How will you give the FortiCNAPP API key?', 'Enter');
    await answer(first, 'Path of the API key file', `text:${world.keyFile}`, 'Enter');
    await answer(first, 'Configure advanced integration options?', 'text:y', 'Enter');
    await answer(first, 'Which options would you like to configure?', 'Enter');
    await answer(first, 'Use an existing S3 bucket?', 'Enter');
    await answer(first, 'Days before audit-log objects in the new bucket expire: (180)', 'text:90', 'Enter');
    await answer(first, 'Turn on versioning on the new bucket?', 'Enter');
    await answer(first, 'Which options would you like to configure?', 'Enter');
    expect(await first.exitCode()).toBe(0);
    first.close();
    const saved = path.join(world.stateDir, 'answers', `${ACCOUNT}.json`);
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(readFileSync(saved, 'utf8')).not.toContain(LW.secret);
    const savedText = readFileSync(saved, 'utf8');

    const second = wizard(['plan']);
    const offer = await answer(second, 'Previous answers for this AWS account found. Load them as defaults? (y/N)', 'text:y', 'Enter');
    expect(offer).toContain(`Previous answers for AWS account ${ACCOUNT}`);
    expect(offer).toContain('eu-west-1: beta');
    await answer(second, 'Integrate clusters in more than one region? (y/N)', 'Enter');
    await answer(second, 'AWS region of the EKS clusters:');
    await second.waitFor(/❯ eu-west-1/); // the saved region, not AWS_REGION
    second.keys('Enter');
    const box = await second.waitFor(/◉ beta/);
    expect(box).toMatch(/◯ alpha/);
    await answer(second, 'EKS clusters in eu-west-1 to send audit logs from:', 'Enter');
    await answer(second, 'How will you give the FortiCNAPP API key?', 'Enter');
    await answer(second, `Path of the API key file downloaded from the FortiCNAPP console (Settings > API keys): (${world.keyFile})`, 'Enter');
    await answer(second, 'Configure advanced integration options? (Y/n)', 'Enter');
    // The menu starts on Done (the saved options are in place); the bucket item describes them.
    await answer(second, 'Which options would you like to configure?');
    expect(await second.waitFor(/❯ Done/)).toBeTruthy();
    second.keys(...Array<string>(6).fill('Up'));
    await second.waitFor('new bucket, objects expire after 90 days, versioning on');
    second.keys(...Array<string>(6).fill('Down'));
    await second.waitFor(/❯ Done/);
    second.keys('Enter');
    expect(await second.exitCode()).toBe(0);
    const plan = second.screen();
    expect(plan).toMatch(/subscription filter lw-eks-al-beta-eks-cw-/);
    expect(plan).not.toMatch(/lw-eks-al-alpha-eks-cw-/);
    expect(readFileSync(saved, 'utf8')).toBe(savedText); // the same answers: the file is not rewritten
  });

  it('8. no AWS credentials: the first screen says so in one line, no question, exit 2', async () => {
    const t = wizard(['setup'], {}, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    expect(await t.exitCode()).toBe(2);
    const screen = t.screen();
    expect(screen).toContain('No AWS credentials found. Run in AWS CloudShell, or configure credentials');
    expect(screen).not.toMatch(/^\? /m); // no question was drawn
    expect(screen).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
    expect(world.proxy.mutatingCount()).toBe(0);
  });

  it('9. AWS_PROFILE naming a profile that does not exist: named, before any question, exit 2', async () => {
    const t = wizard(['setup'], { AWS_PROFILE: 'nope' });
    expect(await t.exitCode()).toBe(2);
    const screen = t.screen();
    expect(screen).toContain("AWS profile 'nope' (from AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials.");
    expect(screen).not.toMatch(/^\? /m); // no question was drawn
  });

  it('10. LW_NONINTERACTIVE=0 or false leaves the wizard on (its first question); =1 or true turns it off (exit 2 naming the flag)', async () => {
    await seedCluster(world, 'us-east-1', 'prod');
    const terminals = ['0', 'false', '1', 'true'].map((v) => ({ v, t: openTerminal([process.execPath, CLI, 'plan'], { env: { ...world.env, LW_NONINTERACTIVE: v }, cwd: world.home }) }));
    try {
      await Promise.all(
        terminals.map(async ({ v, t }) => {
          if (v === '0' || v === 'false') {
            await answer(t, 'Integrate clusters in more than one region?', 'C-c');
            expect(await t.exitCode(), `LW_NONINTERACTIVE=${v}`).toBe(130);
          } else {
            expect(await t.exitCode(), `LW_NONINTERACTIVE=${v}`).toBe(2);
            expect(t.screen(), `LW_NONINTERACTIVE=${v}`).toContain('--region-clusters is required');
            expect(t.screen()).not.toMatch(/^\? /m);
          }
        }),
      );
    } finally {
      for (const { t } of terminals) t.close();
    }
  });
});
