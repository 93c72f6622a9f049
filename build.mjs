// Builds the CLI with esbuild's standard code splitting (DESIGN §7): src/cli/main.ts -> dist/cli.js, plus
// chunks under dist/chunks/. Each dynamic import() in src/ starts a chunk that Node reads only when that
// import() runs, so what `--help` and the first question load is decided by where the source puts them.
//   node build.mjs              build; silent on success (a summary with --verbose or as `npm run build`)
//   node build.mjs --if-stale   build only if src/, package.json, … changed since dist/ was built (npm start)
//   node build.mjs --analyze    also print what each output file holds (esbuild's metafile analysis)
//   node build.mjs --metafile <file>   also write esbuild's metafile there (bench/startup.ts reads it)
import { readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(ROOT, 'dist');
const INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.mjs'];
const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || process.env.npm_lifecycle_event === 'build';

/** The newest mtime under p (directories count too: a deleted file changes its directory's). */
const newest = (p) => {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return st?.mtimeMs ?? 0;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((name) => newest(path.join(p, name))));
};
const builtAt = statSync(path.join(DIST, 'cli.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (args.includes('--if-stale') && builtAt > Math.max(...INPUTS.map((p) => newest(path.join(ROOT, p))))) process.exit(0);

const started = Date.now();
const { analyzeMetafile, build } = await import('esbuild');
// Build next to dist/ and swap it in: a CLI started meanwhile (tests run in parallel) never sees half of it.
const tmp = path.join(ROOT, '.tmp', `dist-${process.pid}`);
const result = await build({
  entryPoints: { cli: path.join(ROOT, 'src/cli/main.ts') },
  outdir: tmp,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
  mainFields: ['module', 'main'], // the SDK's ES module build tree-shakes better
  minify: true, legalComments: 'none', metafile: true, logLevel: 'warning',
  // Bundled CommonJS (commander) calls require(); give each ES module chunk one.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
}).catch(() => process.exit(1)); // esbuild has printed the errors
// dist/cli.js carries the build's start time: a source saved during the build makes the next one rebuild.
utimesSync(path.join(tmp, 'cli.js'), started / 1000, started / 1000);
const old = path.join(ROOT, '.tmp', `dist-old-${process.pid}`);
try { renameSync(DIST, old); } catch (err) { if (err.code !== 'ENOENT') throw err; }
renameSync(tmp, DIST);
rmSync(old, { recursive: true, force: true });

// The metafile names outputs as written (.tmp/dist-<pid>/…); name them where they are now (dist/…).
const meta = JSON.parse(JSON.stringify(result.metafile).replaceAll(`${path.relative(ROOT, tmp).split(path.sep).join('/')}/`, 'dist/'));
if (args.includes('--metafile')) writeFileSync(args[args.indexOf('--metafile') + 1], JSON.stringify(meta));
if (args.includes('--analyze')) console.log(await analyzeMetafile(meta));
if (verbose) {
  const outputs = Object.values(meta.outputs);
  const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
  const total = kib(outputs.reduce((sum, o) => sum + o.bytes, 0));
  console.log(`build: dist/ ${outputs.length} files, ${total} (cli.js ${kib(meta.outputs['dist/cli.js'].bytes)}), ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
