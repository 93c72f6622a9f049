/**
 * The permissions policy stays honest: every AWS SDK command sent anywhere in src/ has its IAM actions in
 * src/provision/permissions.ts (and no entry is left over from code that is gone), and docs/permissions.md
 * holds exactly the policy `permissions` prints.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SDK_CALLS, permissionsPolicy, resourcesOf } from '../../src/provision/permissions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `client/Command` for every `new XxxCommand(` in src/, the client read from the file's imports. */
function commandsSent(): { used: Map<string, string[]>; unresolved: string[] } {
  const used = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of tsFiles(path.join(ROOT, 'src'))) {
    // Comments may mention commands (`new XxxCommand(`) without sending them.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    // local name -> [client, exported name], from `import { A, B as C } from '@aws-sdk/x'` and
    // `const { A, B: C } = await import('@aws-sdk/x')`.
    const local = new Map<string, [string, string]>();
    const imports = [
      ...[...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)].map((m) => ({ list: m[1] ?? '', client: m[2] ?? '', sep: /\s+as\s+/ })),
      ...[...text.matchAll(/const\s*\{([^}]*)\}\s*=\s*await\s+import\('(@aws-sdk\/[^']+)'\)/g)].map((m) => ({ list: m[1] ?? '', client: m[2] ?? '', sep: /\s*:\s*/ })),
    ];
    for (const { list, client, sep } of imports) {
      for (const raw of list.split(',')) {
        const item = raw.trim().replace(/^type\s+/, '');
        if (!item) continue;
        const [exported, alias] = item.split(sep).map((x) => x.trim());
        local.set(alias ?? exported ?? '', [client, exported ?? '']);
      }
    }
    for (const m of text.matchAll(/new\s+([A-Z]\w*Command)\s*\(/g)) {
      const name = m[1] ?? '';
      const hit = local.get(name);
      const where = `${path.relative(ROOT, file)}: ${name}`;
      if (!hit) {
        unresolved.push(where);
        continue;
      }
      const key = `${hit[0]}/${hit[1]}`;
      used.set(key, [...(used.get(key) ?? []), where]);
    }
  }
  return { used, unresolved };
}

describe('permissions', () => {
  const { used, unresolved } = commandsSent();
  const table = new Set(SDK_CALLS.map((c) => `${c.client}/${c.command}`));

  it('finds the client of every SDK command the code sends', () => {
    expect(unresolved).toEqual([]);
    // A sanity floor: the scan really sees the provisioner's calls.
    expect(used.size).toBeGreaterThan(40);
  });

  it('maps every SDK command in src/ to IAM actions', () => {
    const missing = [...used.keys()].filter((k) => !table.has(k)).map((k) => `${k} (${used.get(k)?.join(', ')})`);
    expect(missing, 'add these to SDK_CALLS in src/provision/permissions.ts').toEqual([]);
  });

  it('has no entry for a command the code no longer sends', () => {
    expect([...table].filter((k) => !used.has(k))).toEqual([]);
  });

  it('names each action plainly: no wildcard, and the API name of the call for services that use it', () => {
    const prefix: Record<string, string> = {
      '@aws-sdk/client-eks': 'eks',
      '@aws-sdk/client-cloudwatch-logs': 'logs',
      '@aws-sdk/client-firehose': 'firehose',
      '@aws-sdk/client-iam': 'iam',
      '@aws-sdk/client-kms': 'kms',
      '@aws-sdk/client-sns': 'sns',
      '@aws-sdk/client-resource-groups-tagging-api': 'tag',
    };
    for (const c of SDK_CALLS) {
      for (const { action } of c.actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
      const p = prefix[c.client];
      // S3's IAM names differ from its API names (HeadBucket is s3:ListBucket…); STS identity needs none.
      if (p) expect(c.actions[0]?.action, c.command).toBe(`${p}:${c.command.replace(/Command$/, '')}`);
    }
  });

  it('scopes resources: "*" only for actions that cannot be scoped, PassRole only to Firehose and CloudWatch Logs', () => {
    const policy = permissionsPolicy();
    const star = policy.Statement.filter((s) => (s.Resource as string[]).includes('*')).flatMap((s) => s.Action as string[]);
    expect(star.sort()).toEqual(['eks:ListClusters', 'iam:ListRoles', 'kms:CreateKey', 'kms:TagResource', 'tag:GetResources']);
    const pass = policy.Statement.find((s) => (s.Action as string[]).includes('iam:PassRole'));
    expect(pass).toMatchObject({
      Action: ['iam:PassRole'],
      Resource: resourcesOf('pass-role'),
      Condition: { StringEquals: { 'iam:PassedToService': ['firehose.amazonaws.com', 'logs.amazonaws.com'] } },
    });
    expect(JSON.stringify(permissionsPolicy('acme-x'))).toContain('arn:aws:iam::*:role/acme-x-*');
  });

  it('docs/permissions.md holds the policy the permissions command prints', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/permissions.md'), 'utf8');
    const block = /<!-- policy:begin -->\s*```json\n([\s\S]*?)```\s*<!-- policy:end -->/.exec(doc)?.[1];
    expect(block, 'docs/permissions.md needs the policy between <!-- policy:begin --> and <!-- policy:end -->').toBeDefined();
    expect(
      JSON.parse(block ?? '{}'),
      'docs/permissions.md is out of date: replace its JSON block with the output of `node bin/forticnapp-eks-audit.js permissions`',
    ).toEqual(permissionsPolicy());
  });
});
