/**
 * `npm run bench:startup` (the first half of `npm run bench`): the start-up budgets of DESIGN §7, measured
 * side by side in one run, so that the ratios hold on a noisy machine:
 * - `node -e 0` (Node alone), `--help`, and the time to the wizard's first question on a pseudo-terminal
 *   (which comes after the AWS account is known: STS GetCallerIdentity, answered by a local moto server as
 *   CloudShell's credentials would let AWS answer it), in interleaved rounds (each round runs each once, in a rotating order); medians, p25–p75, and each
 *   figure's ratio to `node -e 0` in the same round (budgets: `--help` ≤ 2×, first question ≤ 3×). The
 *   pseudo-terminal figures are compared with `node -e 0` timed by the same harness (first_question.py).
 * - What `--help` and the first question load: the dist/ files, whether the AWS SDK is among them, and if
 *   so the static import chain that pulls it in (from esbuild's metafile).
 * - The packed tarball (≤ 600 KB), dist/ (size, files) and the build time.
 * Exits 1 when a budget is missed. `--rounds N` (default 20). Needs python3 for the pseudo-terminal, and
 * moto_server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isolatedAwsEnv, startMoto } from '../test/fakes/moto.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin/forticnapp-eks-audit.js');
const DIST = path.join(ROOT, 'dist');
const FIRST_QUESTION = path.join(ROOT, 'bench/first_question.py');
const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
const ROUNDS = process.argv.includes('--rounds') ? Number(arg('--rounds')) : 20;
const BUILDS = 3;
const BUDGET = { help: 2, firstQuestion: 3, tarballBytes: 600_000 };

interface Meta {
  inputs: Record<string, { imports: { path: string; kind: string }[] }>;
  outputs: Record<string, { bytes: number; entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return (sorted[lo] ?? NaN) + ((sorted[Math.ceil(at)] ?? NaN) - (sorted[lo] ?? NaN)) * (at - lo);
};
const spread = (xs: number[], f: (x: number) => string) => `${f(quantile(xs, 0.5))} (${f(quantile(xs, 0.25))}–${f(quantile(xs, 0.75))})`;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const times = (x: number) => `${x.toFixed(2)}×`;
const kib = (x: number) => `${(x / 1024).toFixed(0)} KiB`;
const kb = (x: number) => `${(x / 1000).toFixed(0)} kB`;
const sdk = (input: string) => /node_modules\/@aws-sdk\//.test(input);
const short = (input: string) => input.replace(/^.*?node_modules\//, 'node_modules/');

/** Wall time of a command with stdout and stderr piped, from spawn until it has exited. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${stderr}`))));
  });
}

/** first_question.py: ms until `? question` shows on a pseudo-terminal, or (exit) until the command ends. */
function onPty(argv: string[], env: NodeJS.ProcessEnv, exit = false): number {
  const r = spawnSync('python3', [FIRST_QUESTION, ...(exit ? ['--exit'] : []), '30', ...argv], { env, encoding: 'utf8' });
  const out = (r.stdout ?? '').trim();
  if (r.status !== 0) throw new Error(`no ${exit ? 'exit' : 'question'} on the pseudo-terminal: ${out || r.stderr}`);
  return Number(out);
}

/** The dist/ files a run loads (a resolve hook logs them), each once. */
function loadedFiles(tmp: string, run: (nodeArgs: string[]) => void): string[] {
  const log = path.join(tmp, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const hooks = path.join(tmp, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith(${JSON.stringify(pathToFileURL(DIST).href + '/')})) appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}\n`);
  const register = path.join(tmp, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  run(['--import', pathToFileURL(register).href]);
  const urls = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean));
  return [...urls].map((u) => path.relative(ROOT, fileURLToPath(u)).split(path.sep).join('/'));
}

/** What the loaded files hold, and the shortest static import chain from a loaded entry to the AWS SDK. */
function describeLoad(files: string[], meta: Meta) {
  const outputs = files.map((f) => meta.outputs[f]).filter((o) => o !== undefined);
  const bytes = outputs.reduce((sum, o) => sum + o.bytes, 0);
  const sdkBytes = outputs.reduce((sum, o) => sum + Object.entries(o.inputs).filter(([i]) => sdk(i)).reduce((s, [, v]) => s + v.bytesInOutput, 0), 0);
  // Breadth-first over static imports from the modules that were imported (statically or by import()).
  const roots = outputs.map((o) => o.entryPoint).filter((e): e is string => e !== undefined);
  const prev = new Map<string, string | undefined>(roots.map((r) => [r, undefined]));
  const queue = [...roots];
  let chain: string[] | undefined;
  while (queue.length > 0 && !chain) {
    const cur = queue.shift() as string;
    if (sdk(cur)) {
      chain = [];
      for (let n: string | undefined = cur; n !== undefined; n = prev.get(n)) chain.unshift(short(n));
      break;
    }
    for (const imp of meta.inputs[cur]?.imports ?? []) {
      if (imp.kind === 'dynamic-import' || prev.has(imp.path)) continue;
      prev.set(imp.path, cur);
      queue.push(imp.path);
    }
  }
  return { files: files.length, bytes, sdkBytes, chain };
}

function distSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      const sub = distSize(p);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += st.size;
      files++;
    }
  }
  return { bytes, files };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r, j) => (j === 1 ? widths.map((w) => '-'.repeat(w)) : r).map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')).join('\n');
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fea-bench-startup-'));
  // The wizard asks its first question once it knows the AWS account (issue 10): STS answers from here.
  const moto = await startMoto();
  try {
    // The build, timed; the last one also writes the metafile.
    const builds: number[] = [];
    const metaFile = path.join(tmp, 'meta.json');
    for (let i = 0; i < BUILDS; i++) builds.push(await timed(process.execPath, [path.join(ROOT, 'build.mjs'), ...(i === BUILDS - 1 ? ['--metafile', metaFile] : [])], process.env));
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;

    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    const pack = (JSON.parse(packed.stdout) as { size: number; unpackedSize: number; entryCount: number }[])[0];
    if (!pack) throw new Error('npm pack printed nothing');
    const dist = distSize(DIST);

    // A first run with nothing saved: no LW_ settings, an empty HOME and state dir; AWS credentials and
    // region in the environment as in CloudShell, the endpoint at moto.
    const env: NodeJS.ProcessEnv = { ...isolatedAwsEnv(moto.endpoint), HOME: tmp, FORTICNAPP_EKS_AUDIT_STATE_DIR: path.join(tmp, 'state'), TERM: 'xterm-256color' };
    for (const k of Object.keys(env)) if (/^(LW_|AWS_PROFILE$|npm_)/.test(k)) delete env[k];
    const node = process.execPath;
    const runs = {
      node: () => timed(node, ['-e', '0'], env),
      help: () => timed(node, [CLI, '--help'], env),
      nodePty: async () => onPty([node, '-e', '0'], env, true),
      question: async () => onPty([node, CLI], env),
    };
    const helpLoads = describeLoad(loadedFiles(tmp, (a) => void spawnSync(node, [...a, CLI, '--help'], { env })), meta);
    const questionLoads = describeLoad(loadedFiles(tmp, (a) => void onPty([node, ...a, CLI], env)), meta);

    // Interleaved rounds, after one untimed round (disk cache).
    const names = Object.keys(runs) as (keyof typeof runs)[];
    const t: Record<keyof typeof runs, number[]> = { node: [], help: [], nodePty: [], question: [] };
    for (const name of names) await runs[name]();
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length] as keyof typeof runs;
        t[name].push(await runs[name]());
      }
      if (process.stderr.isTTY) process.stderr.write(`\rbench: round ${round + 1}/${ROUNDS}`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    const helpRatio = t.help.map((x, i) => x / (t.node[i] as number));
    const questionRatio = t.question.map((x, i) => x / (t.nodePty[i] as number));

    const results: boolean[] = [];
    const check = (pass: boolean) => (results.push(pass), pass ? 'ok' : 'MISSED');
    const loads = (l: ReturnType<typeof describeLoad>) =>
      `${l.files} of ${dist.files} dist files, ${kib(l.bytes)}; AWS SDK: ${l.sdkBytes > 0 ? `${kib(l.sdkBytes)}` : 'none'}`;
    const rows: string[][] = [
      ['figure', `median (p25–p75), ${ROUNDS} interleaved rounds`, 'ratio to node -e 0, same round', 'budget (DESIGN §7)', ''],
      ['', '', '', '', ''],
      ['node -e 0 (piped)', spread(t.node, ms), '', '', ''],
      ['--help (piped)', spread(t.help, ms), spread(helpRatio, times), `≤ ${BUDGET.help}×`, check(quantile(helpRatio, 0.5) <= BUDGET.help)],
      ['node -e 0 (pseudo-terminal)', spread(t.nodePty, ms), '', '', ''],
      ['first question (pseudo-terminal)', spread(t.question, ms), spread(questionRatio, times), `≤ ${BUDGET.firstQuestion}×`, check(quantile(questionRatio, 0.5) <= BUDGET.firstQuestion)],
      ['  --help loads', loads(helpLoads), '', '', ''],
      ['  first question loads', loads(questionLoads), '', '', ''],
      ['tarball (npm pack)', `${kb(pack.size)} (${pack.entryCount} files, ${kb(pack.unpackedSize)} unpacked)`, '', `≤ ${kb(BUDGET.tarballBytes)}`, check(pack.size <= BUDGET.tarballBytes)],
      ['dist/', `${kib(dist.bytes)} in ${dist.files} files (cli.js ${kib(meta.outputs['dist/cli.js']?.bytes ?? NaN)})`, '', '', ''],
      ['build (node build.mjs)', `${spread(builds, (x) => `${(x / 1000).toFixed(2)} s`)}, ${BUILDS} builds`, '', '', ''],
    ];
    process.stdout.write(`\n${table(rows)}\n`);
    for (const [what, l] of [['--help', helpLoads], ['The first question', questionLoads]] as const) {
      if (l.chain) process.stdout.write(`\n${what} loads the AWS SDK through this static import chain:\n  ${l.chain.join('\n    → ')}\n`);
    }
    process.stdout.write(`\n${results.every(Boolean) ? 'every start-up budget met' : 'some start-up budget was MISSED'}\n`);
    return results.every(Boolean) ? 0 : 1;
  } finally {
    await moto.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = await main();
