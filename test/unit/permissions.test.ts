/**
 * The permissions policy stays honest (issue 10). Every AWS SDK command sent anywhere in src/ — `new
 * XxxCommand(`, the SDK paginators `paginateXxx(` (which send `XxxCommand`), and the credential provider
 * that assumes roles — is declared in some `IamNeed` list (`allIamNeeds()`), with the IAM actions of its own
 * service; no declaration names a command nothing sends; every declared action reaches the policy; the
 * account-wide statement holds reads only; and docs/permissions.md holds exactly the policy `permissions`
 * prints, and the table of calls, derived from the same declarations.
 *
 * To regenerate the doc's two derived blocks after a change: UPDATE_PERMISSIONS_DOC=1 npx vitest run test/unit/permissions.test.ts
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { IamNeed } from '../../src/aws/iam.js';
import { allIamNeeds, permissionsPolicy, resourcesOf } from '../../src/provision/permissions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = path.join(ROOT, 'docs/permissions.md');

/** SDK client package -> the IAM service prefix of its actions. */
const SERVICE: Record<string, string> = {
  '@aws-sdk/client-eks': 'eks',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-firehose': 'firehose',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-organizations': 'organizations',
  '@aws-sdk/client-service-quotas': 'servicequotas',
  '@aws-sdk/client-resource-groups-tagging-api': 'tag',
};

/** Functions of the SDK that send a command themselves (credential providers). */
const INDIRECT: Record<string, { client: string; command: string }> = {
  // @aws-sdk/credential-providers: assumes the role with STS AssumeRole (an organization's member accounts).
  fromTemporaryCredentials: { client: '@aws-sdk/client-sts', command: 'AssumeRoleCommand' },
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Sent {
  /** `@aws-sdk/client-x/XxxCommand` -> where */
  used: Map<string, string[]>;
  /** Calls the scan could not tie to an SDK client. */
  unresolved: string[];
}

/** Every SDK command sent in src/, by `client/Command`, with the client read from each file's imports. */
/** The package src/aws/sdk/<name>.ts re-exports from. */
function sdkPackage(name: string): string {
  return /from '(@aws-sdk\/[^']+)'/.exec(readFileSync(path.join(ROOT, 'src/aws/sdk', `${name}.ts`), 'utf8'))?.[1] ?? `unknown sdk module ${name}`;
}

function commandsSent(): Sent {
  const used = new Map<string, string[]>();
  const unresolved: string[] = [];
  const add = (client: string, command: string, where: string) => {
    const key = `${client}/${command}`;
    used.set(key, [...(used.get(key) ?? []), where]);
  };
  for (const file of tsFiles(path.join(ROOT, 'src'))) {
    // Comments may mention commands without sending them.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const rel = path.relative(ROOT, file);
    // local name -> [package, exported name], from `import { A, B as C } from '@aws-sdk/x'` and
    // `const { A, B: C } = await import('@aws-sdk/x')`.
    const local = new Map<string, [string, string]>();
    const imports = [
      ...[...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)].map((m) => ({ names: m[1] ?? '', pkg: m[2] ?? '', sep: /\s+as\s+/ })),
      ...[...text.matchAll(/const\s*\{([^}]*)\}\s*=\s*await\s+import\('(@aws-sdk\/[^']+)'\)/g)].map((m) => ({ names: m[1] ?? '', pkg: m[2] ?? '', sep: /\s*:\s*/ })),
      // Dynamic imports go through src/aws/sdk/<package>.ts (esbuild cannot tree-shake import() of a package).
      ...[...text.matchAll(/const\s*\{([^}]*)\}\s*=\s*await\s+import\('\.\/sdk\/([^']+)\.js'\)/g)].map((m) => ({ names: m[1] ?? '', pkg: sdkPackage(m[2] ?? ''), sep: /\s*:\s*/ })),
    ];
    for (const { names, pkg, sep } of imports) {
      for (const raw of names.split(',')) {
        const item = raw.trim().replace(/^type\s+/, '');
        if (!item) continue;
        const [exported = '', alias] = item.split(sep).map((x) => x.trim());
        local.set(alias ?? exported, [pkg, exported]);
      }
    }
    for (const m of text.matchAll(/new\s+([A-Z]\w*Command)\s*\(/g)) {
      const hit = local.get(m[1] ?? '');
      if (!hit || !SERVICE[hit[0]]) unresolved.push(`${rel}: new ${m[1]}(`);
      else add(hit[0], hit[1], rel);
    }
    for (const m of text.matchAll(/\b(paginate[A-Z]\w*)\s*\(/g)) {
      const hit = local.get(m[1] ?? '');
      if (!hit || !SERVICE[hit[0]]) unresolved.push(`${rel}: ${m[1]}(`);
      else add(hit[0], `${hit[1].replace(/^paginate/, '')}Command`, rel);
    }
    // A waiter sends its own Describe/Get command: this scan does not know which yet.
    for (const m of text.matchAll(/\b(waitUntil[A-Z]\w*|waitFor[A-Z]\w*)\s*\(/g)) {
      if (local.has(m[1] ?? '')) unresolved.push(`${rel}: ${m[1]}( (an SDK waiter: teach this test which command it sends)`);
    }
    for (const [fn, sent] of Object.entries(INDIRECT)) {
      if (local.has(fn) && new RegExp(`\\b${fn}\\s*\\(`).test(text)) add(sent.client, sent.command, `${rel}: ${fn}(`);
    }
  }
  return { used, unresolved };
}

const prefixOf = (action: string) => action.split(':')[0] ?? '';
const serviceOfKey = (key: string) => SERVICE[key.slice(0, key.lastIndexOf('/'))] ?? '';

/**
 * The sent commands (`client/Command`) a declaration is for: those of its command name whose service one of
 * its actions belongs to; a declaration of only other services' actions (the KMS grant Firehose makes for
 * CreateDeliveryStream) is for the one client that sends that command. STS's identity call needs no action.
 */
function declaredKeys(need: IamNeed, sent: Iterable<string>): string[] {
  const candidates = [...sent].filter((k) => k.endsWith(`/${need.command}`));
  if (need.actions.length === 0) return candidates.filter((k) => serviceOfKey(k) === 'sts');
  const own = candidates.filter((k) => need.actions.some((a) => prefixOf(a) === serviceOfKey(k)));
  return own.length > 0 ? own : candidates.length === 1 ? candidates : [];
}

/** The service of an ARN a statement grants on (`*` for any). sts:AssumeRole is granted on roles. */
const arnService = (arn: string) => (arn === '*' ? '*' : (arn.split(':')[2] ?? ''));
const grantedOn = (action: string) => (action === 'sts:AssumeRole' ? 'iam' : prefixOf(action));

const isRead = (action: string) => /^[a-z0-9-]+:(Get|List|Describe|Head)[A-Za-z0-9]*$/.test(action);

/** The table of calls in docs/permissions.md: one row per declaration (identical ones merged, their reasons joined). */
function callTable(needs: IamNeed[]): string {
  const rows = new Map<string, { service: string; api: string; actions: string[]; resources: string[]; why: string[] }>();
  const sent = [...commandsSent().used.keys()];
  for (const n of needs) {
    const client = (declaredKeys(n, sent)[0] ?? '').replace(/\/\w+$/, '');
    const resources = [...new Set(n.actions.map((a) => (a === 'iam:PassRole' ? 'pass-role' : n.scope)))].flatMap((s) => resourcesOf(s as IamNeed['scope']));
    const key = JSON.stringify([client, n.command, n.actions, resources]);
    const row = rows.get(key) ?? { service: client.replace('@aws-sdk/client-', ''), api: n.command.replace(/Command$/, ''), actions: n.actions, resources: [...new Set(resources)], why: [] };
    if (!row.why.includes(n.why)) row.why.push(n.why);
    rows.set(key, row);
  }
  const cell = (xs: string[]) => (xs.length === 0 ? '(none)' : xs.map((x) => `\`${x}\``).join(', '));
  return [
    '| call | IAM actions | on | why |',
    '|---|---|---|---|',
    ...[...rows.values()].map((r) => `| \`${r.service}\` ${r.api} | ${cell(r.actions)} | ${r.actions.length === 0 ? '' : cell(r.resources)} | ${r.why.join('; ')} |`),
  ].join('\n');
}

const policyBlock = () => `<!-- policy:begin -->\n\`\`\`json\n${JSON.stringify(permissionsPolicy(), null, 2)}\n\`\`\`\n<!-- policy:end -->`;
const tableBlock = () => `<!-- calls:begin -->\n${callTable(allIamNeeds())}\n<!-- calls:end -->`;
const POLICY_RE = /<!-- policy:begin -->[\s\S]*?<!-- policy:end -->/;
const TABLE_RE = /<!-- calls:begin -->[\s\S]*?<!-- calls:end -->/;

if (process.env.UPDATE_PERMISSIONS_DOC === '1') {
  const doc = readFileSync(DOC, 'utf8');
  writeFileSync(DOC, doc.replace(POLICY_RE, () => policyBlock()).replace(TABLE_RE, () => tableBlock()));
}

describe('permissions', () => {
  const { used, unresolved } = commandsSent();
  const needs = allIamNeeds();

  it('ties every SDK command the code sends to its client', () => {
    expect(unresolved).toEqual([]);
    // A sanity floor: the scan really sees the provisioner's, the record's and the paginators' calls.
    expect(used.size).toBeGreaterThan(80);
    for (const k of ['@aws-sdk/client-ssm/GetParametersByPathCommand', '@aws-sdk/client-eks/ListClustersCommand', '@aws-sdk/client-sts/AssumeRoleCommand', '@aws-sdk/client-s3/PutBucketPolicyCommand']) {
      expect(used.has(k), k).toBe(true);
    }
  });

  it('declares every command sent in src/ in some IamNeed list, with actions of the command’s own service', () => {
    const missing = [...used.keys()]
      .filter((k) => !needs.some((n) => n.command === k.slice(k.lastIndexOf('/') + 1) && (n.actions.length === 0 ? serviceOfKey(k) === 'sts' : n.actions.some((a) => prefixOf(a) === serviceOfKey(k)))))
      .map((k) => `${k} (sent in ${[...new Set(used.get(k))].join(', ')})`);
    expect(missing, 'add these to the `iam` of the module that sends them (allIamNeeds in src/provision/permissions.ts)').toEqual([]);
  });

  it('declares no command that nothing sends', () => {
    const stale = needs.filter((n) => declaredKeys(n, used.keys()).length === 0).map((n) => `${n.command} (${n.actions.join(', ')}: ${n.why})`);
    expect(stale, 'remove these declarations, or the scan misses a way the code sends them').toEqual([]);
  });

  it('names each action plainly (no wildcard), and the call’s own action where IAM uses the API’s name', () => {
    for (const n of needs) {
      expect(n.command).toMatch(/^[A-Z]\w+Command$/);
      for (const a of n.actions) expect(a, n.command).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    }
    // S3's IAM names differ from its API names (HeadBucket is s3:ListBucket…); STS's identity call needs none.
    const byCommand = new Map<string, Set<string>>();
    for (const n of needs) for (const k of declaredKeys(n, used.keys())) for (const a of n.actions) byCommand.set(k, (byCommand.get(k) ?? new Set()).add(a));
    for (const [key, actions] of byCommand) {
      const [, , pkg = '', command = ''] = /^(@aws-sdk\/)([^/]+)\/(\w+)$/.exec(key) ?? [];
      const prefix = SERVICE[`@aws-sdk/${pkg}`];
      if (!prefix || prefix === 's3') continue;
      expect([...actions], key).toContain(`${prefix}:${command.replace(/Command$/, '')}`);
    }
    expect(needs.filter((n) => n.actions.length === 0).map((n) => n.command)).toEqual(['GetCallerIdentityCommand']);
  });

  it('grants every declared action, on the resources of its scope', () => {
    const policy = permissionsPolicy();
    for (const n of needs) {
      for (const a of n.actions) {
        const want = resourcesOf(a === 'iam:PassRole' ? 'pass-role' : n.scope);
        const grants = policy.Statement.filter((s) => (s.Action as string[]).includes(a) && want.every((r) => (s.Resource as string[]).includes(r)));
        expect(grants.length, `${a} for ${n.command} on ${want.join(', ')}`).toBeGreaterThan(0);
      }
    }
  });

  it('grants each action only on resources of its own service (a KMS action on a stream ARN never matches)', () => {
    const wrong = permissionsPolicy().Statement.flatMap((s) =>
      (s.Action as string[]).flatMap((a) => (s.Resource as string[]).filter((r) => arnService(r) !== '*' && arnService(r) !== grantedOn(a)).map((r) => `${String(s.Sid)}: ${a} on ${r}`)),
    );
    expect(wrong, 'declare these actions with a scope of their own service').toEqual([]);
  });

  it('ReadAccountWide holds only Get, List, Describe and Head actions (issue 10); the only other account-wide action is kms:CreateKey', () => {
    const policy = permissionsPolicy();
    const read = policy.Statement.find((s) => s.Sid === 'ReadAccountWide');
    expect(read?.Resource).toEqual(['*']);
    expect((read?.Action as string[]).filter((a) => !isRead(a))).toEqual([]);
    expect((read?.Action as string[]).length).toBeGreaterThan(0);
    const star = policy.Statement.filter((s) => (s.Resource as string[]).includes('*'));
    expect(star.flatMap((s) => s.Action as string[]).filter((a) => !isRead(a))).toEqual(['kms:CreateKey']);
    expect(star.map((s) => s.Sid)).toEqual(['ReadAccountWide', 'CreateKeysAccountWide']);
    for (const s of policy.Statement) expect((s.Action as string[]).every((a) => !a.includes('*')), String(s.Sid)).toBe(true);
  });

  it('scopes resources to the prefix, and passes roles only to Firehose and CloudWatch Logs', () => {
    const policy = permissionsPolicy();
    const pass = policy.Statement.filter((s) => (s.Action as string[]).includes('iam:PassRole'));
    expect(pass).toEqual([
      {
        Sid: 'PassRolesToFirehoseAndLogs',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: resourcesOf('pass-role'),
        Condition: { StringEquals: { 'iam:PassedToService': ['firehose.amazonaws.com', 'logs.amazonaws.com'] } },
      },
    ]);
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
    const other = JSON.stringify(permissionsPolicy('acme-x'));
    expect(other).toContain('arn:aws:iam::*:role/acme-x-*');
    expect(other).toContain('arn:aws:s3:::acme-x*');
    expect(other).not.toContain('lw-eks-al');
  });

  it('docs/permissions.md holds the policy the permissions command prints', () => {
    const block = /<!-- policy:begin -->\s*```json\n([\s\S]*?)```\s*<!-- policy:end -->/.exec(readFileSync(DOC, 'utf8'))?.[1];
    expect(block, 'docs/permissions.md needs the policy between <!-- policy:begin --> and <!-- policy:end -->').toBeDefined();
    expect(JSON.parse(block ?? '{}'), 'docs/permissions.md is out of date: UPDATE_PERMISSIONS_DOC=1 npx vitest run test/unit/permissions.test.ts').toEqual(permissionsPolicy());
  });

  it('docs/permissions.md lists every call with its actions, resources and reason, as declared', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(TABLE_RE.exec(doc)?.[0], 'docs/permissions.md is out of date: UPDATE_PERMISSIONS_DOC=1 npx vitest run test/unit/permissions.test.ts').toBe(tableBlock());
  });
});
