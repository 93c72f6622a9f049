/**
 * The import structure of src/ (DESIGN §5, issue 9 "Done when"): no import circle, no upward import
 * (cli -> wizard -> org -> provision -> state | aws | lacework -> config -> errors.ts), no command under
 * src/cli/commands importing another, nothing below cli/ importing cli/. The rules live in
 * .dependency-cruiser.cjs; this runs dependency-cruiser on src/ with them (type-only imports count) and
 * prints every violation. It also runs the same rules on a small tree that breaks each of them, so a rule
 * that stopped matching (a moved directory, a typo in a path) cannot pass silently.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const BIN = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}
interface Cruise {
  summary: { violations: Violation[]; error: number; totalCruised: number };
  modules: { source: string; dependencies: { resolved: string; dependencyTypes: string[] }[] }[];
}

/** Runs dependency-cruiser with the repo's rules in `cwd` on `src`. */
async function cruise(cwd: string): Promise<Cruise> {
  const out = await promisify(execFile)(process.execPath, [BIN, 'src', '--config', CONFIG, '--output-type', 'json'], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    // Exit code = number of errors; the JSON is on stdout either way.
    (err: { stdout?: string; stderr?: string }) => {
      if (!err.stdout) throw new Error(`dependency-cruiser failed: ${err.stderr ?? String(err)}`);
      return { stdout: err.stdout };
    },
  );
  return JSON.parse(out.stdout) as Cruise;
}

/** One line per violation: rule, from -> to, and the imported names (type-only marked). */
function describeViolations(result: Cruise, srcRoot: string): string[] {
  const typeOnly = new Set(result.modules.flatMap((m) => m.dependencies.filter((d) => d.dependencyTypes.includes('type-only')).map((d) => `${m.source} -> ${d.resolved}`)));
  return result.summary.violations.map((v) => {
    const file = path.join(srcRoot, v.from);
    let names = '';
    try {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const spec = path.relative(path.dirname(v.from), v.to).replace(/\.ts$/, '');
      const m = new RegExp(`import\\s+(type\\s+)?\\{([^}]*)\\}\\s+from\\s+'(\\./)?${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.js'`).exec(text);
      if (m) names = ` { ${(m[2] ?? '').replace(/\s+/g, ' ').trim()} }`;
    } catch {
      // names are a help, not the point
    }
    const cycle = v.cycle ? ` (circle: ${[v.from, ...v.cycle.map((c) => c.name)].join(' -> ')})` : '';
    return `${v.rule.name}: ${v.from} -> ${v.to}${names}${typeOnly.has(`${v.from} -> ${v.to}`) ? ' [type-only]' : ''}${cycle}`;
  });
}

const LAYERS = ['cli', 'wizard', 'org', 'provision', 'state', 'aws', 'lacework', 'config'];

let tmp: string | undefined;
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A tree that breaks every rule once (each import below is one violation). */
function brokenTree(): string {
  tmp = mkdtempSync(path.join(tmpdir(), 'fea-structure-'));
  const files: Record<string, string> = {
    'src/errors.ts': "import { x } from './config/inputs.js';\nexport const e = x;\n",
    'src/config/inputs.ts': "export const x = 1;\nimport type { Api } from '../lacework/api.js';\nexport type A = Api;\n",
    'src/lacework/api.ts': "export interface Api { a: number }\nexport { p } from '../provision/plan.js';\n",
    'src/state/journal.ts': "import { p } from '../provision/plan.js';\nexport const j = p;\n",
    'src/aws/clients.ts': "import { c } from '../cli/main.js';\nexport const k = c;\n",
    'src/provision/plan.ts': "import { o } from '../org/run.js';\nexport const p = o;\n",
    'src/org/run.ts': "import { w } from '../wizard/index.js';\nexport const o = 1; export const ww = w;\n",
    'src/wizard/index.ts': "import { h } from '../cli/hints.js';\nexport const w = h;\n",
    'src/cli/hints.ts': 'export const h = 1;\n',
    'src/cli/main.ts': "export const c = 1;\nexport const load = () => import('./commands/setup.js');\n",
    'src/cli/commands/setup.ts': "import { t } from './teardown.js';\nexport const s = t;\n",
    'src/cli/commands/teardown.ts': "export const t = 1;\nimport { gone } from '../nowhere.js';\nexport const g = gone;\n",
    'src/cli/commands/status.ts': "import { b } from './status-b.js';\nexport const a = 1; export const bb = b;\n",
    'src/cli/commands/status-b.ts': "import { a } from './status.js';\nexport const b = a;\n",
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    writeFileSync(path.join(tmp, rel), text);
  }
  return tmp;
}

describe('import structure of src/', () => {
  // Both cruises at once: each takes about two seconds, mostly loading TypeScript.
  const real = cruise(ROOT);
  const broken = cruise(brokenTree());

  it('puts every module of src/ in a layer (or errors.ts at the bottom)', () => {
    const top = readdirSync(path.join(ROOT, 'src'));
    expect(top.filter((name) => !LAYERS.includes(name) && name !== 'errors.ts')).toEqual([]);
  });

  it('has no import circle, no upward import, no command importing another, nothing unresolved', async () => {
    const result = await real;
    expect(result.summary.totalCruised).toBeGreaterThan(60);
    const lines = describeViolations(result, ROOT);
    expect(lines, `\n${lines.join('\n')}\n`).toEqual([]);
  });

  it('counts type-only and dynamic imports (they are in the graph it checks)', async () => {
    const result = await real;
    const types = result.modules.flatMap((m) => m.dependencies.filter((d) => d.dependencyTypes.includes('type-only')));
    const dynamic = result.modules.flatMap((m) => m.dependencies.filter((d) => d.dependencyTypes.includes('dynamic-import') && d.resolved.startsWith('src/')));
    expect(types.length).toBeGreaterThan(20);
    expect(dynamic.length).toBeGreaterThan(3);
  });

  it('catches each kind of violation (the rules still match the layout)', async () => {
    const result = await broken;
    // A circle is reported from one of its modules (which one is dependency-cruiser's choice).
    const line = (v: Violation) => (v.rule.name === 'no-circular' ? `no-circular: ${[v.from, v.to].sort().join(' <-> ')}` : `${v.rule.name}: ${v.from} -> ${v.to}`);
    const got = [...new Set(result.summary.violations.map(line))].sort();
    expect(got).toEqual(
      [
        'no-circular: src/cli/commands/status-b.ts <-> src/cli/commands/status.ts',
        'no-command-imports-another-command: src/cli/commands/setup.ts -> src/cli/commands/teardown.ts',
        'no-command-imports-another-command: src/cli/commands/status-b.ts -> src/cli/commands/status.ts',
        'no-command-imports-another-command: src/cli/commands/status.ts -> src/cli/commands/status-b.ts',
        'no-unresolvable-import: src/cli/commands/teardown.ts -> ../nowhere.js',
        'no-upward-import-from-config: src/config/inputs.ts -> src/lacework/api.ts',
        'no-upward-import-from-errors.ts: src/errors.ts -> src/config/inputs.ts',
        'no-upward-import-from-org: src/org/run.ts -> src/wizard/index.ts',
        'no-upward-import-from-provision: src/provision/plan.ts -> src/org/run.ts',
        'no-upward-import-from-state-aws-lacework: src/aws/clients.ts -> src/cli/main.ts',
        'no-upward-import-from-state-aws-lacework: src/lacework/api.ts -> src/provision/plan.ts',
        'no-upward-import-from-state-aws-lacework: src/state/journal.ts -> src/provision/plan.ts',
        'no-upward-import-from-wizard: src/wizard/index.ts -> src/cli/hints.ts',
      ].sort(),
    );
  });
});
