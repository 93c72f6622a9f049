// Bundles the CLI into ONE ESM file, dist/cli.js (DESIGN §7), that starts fast.
//
// Why not a plain esbuild bundle: Node compiles an ES module's whole text before running any of it, so a
// 1.8 MB bundle cost ~170 ms of V8 parsing on every start, `--help` included, although the AWS SDK is only
// reached through dynamic import(). So dist/cli.js holds two things:
//
// 1. The *eager* code: what src/cli/main.ts imports statically (commander, the program, argv, render,
//    errors), about 60 KB. Node compiles only this on start. Its imports of Node builtins are deferred too
//    (see builtinsPlugin).
// 2. *Chunks*, compiled on first use, carried in one block comment at the end of the file (V8 skips a
//    comment almost for free; a 1.7 MB string literal measured ~100 ms to scan, more than the code itself).
//    Each chunk is CommonJS, brotli-compressed and base64-encoded (cheaper for Node to decode on every
//    start than the plain text: −10 ms), and runs through vm.compileFunction, so its frames show up as
//    `dist/cli.js [app]` in stack traces:
//    - `app`: the rest of src/ (commands, wizard, provisioner, FortiCNAPP client), loaded when main.ts
//      dynamic-imports a command. Modules it shares with the eager code (errors.ts, render.ts…) are not
//      copied: the chunk's require() hands it the eager instances, so `instanceof AppError` still holds.
//    - `aws-sdk` and `prompts`: third-party packages, loaded on the first *use* of one of their exports
//      (e.g. `new EKSClient()`), not when a module importing them initialises. Every import of them resolves
//      to a small generated CommonJS module whose exports are getters; esbuild reads named imports of
//      CommonJS modules through property access at the point of use. The getters need the names in
//      advance: they are found with the TypeScript parser (static imports, `(await import('x')).Name`,
//      `const { Name } = await import('x')`, and the same through a `const load = () => import('x')`
//      thunk). A use the scanner cannot follow falls back to every export of the package (printed as a
//      note), so a missed name can never become `undefined` at run time.
//
// Measured on Node 20 (bench/README.md): `--help` went from ~300 ms to ~node's own start + 30 ms.
// BUILD_ANALYZE=1 prints what each part holds; BUILD_MINIFY=0 keeps names readable for CPU profiles.
import { analyzeMetafile, build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import ts from 'typescript';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(ROOT, 'dist/cli.js');
const ENTRY = path.join(ROOT, 'src/cli/main.ts');

/** Third-party packages kept out of every parse until used, one chunk per group. */
export const LAZY_PACKAGES = [
  // The AWS SDK: only once the inputs are known.
  { group: 'aws-sdk', test: (spec) => spec.startsWith('@aws-sdk/') },
  // Prompts: only when the wizard asks its first question (and without the SDK).
  { group: 'prompts', test: (spec) => spec.startsWith('@inquirer/') },
];

const packageGroup = (spec) => LAZY_PACKAGES.find((g) => g.test(spec))?.group;
const isBuiltin = (spec) => !spec.startsWith('node:') ? builtinModules.includes(spec) : builtinModules.includes(spec.slice(5));
const rel = (abs) => path.relative(ROOT, abs).split(path.sep).join('/');

/** The specifiers the chunks require() from the eager code. */
const RUNTIME = 'fea:runtime';
const EAGER = 'fea:eager/';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: process.env.BUILD_MINIFY !== '0',
  legalComments: 'none',
  logLevel: 'warning',
};

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * Names each lazy package must provide: spec -> Set of export names, or 'all' when a use could not be
 * followed. Type-only imports are skipped (they vanish at run time).
 */
function usedNames(files) {
  const used = new Map();
  const notes = [];
  const add = (spec, names) => {
    if (!packageGroup(spec)) return;
    const cur = used.get(spec);
    if (cur === 'all') return;
    if (names === 'all') return void used.set(spec, 'all');
    const set = cur ?? new Set();
    for (const n of names) set.add(n);
    used.set(spec, set);
  };
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (node) => `${rel(file)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const importCallSpec = (node) =>
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])
        ? node.arguments[0].text
        : undefined;
    // `const load = () => import('x')`: calls of `load()` count as import('x').
    const thunks = new Map();
    const thunkBodies = new Set();
    const findThunks = (node) => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isArrowFunction(node.initializer)) {
        const body = node.initializer.body;
        const call = ts.isParenthesizedExpression(body) ? body.expression : body;
        const spec = importCallSpec(call);
        if (spec && packageGroup(spec)) {
          thunks.set(node.name.text, spec);
          thunkBodies.add(call);
        }
      }
      ts.forEachChild(node, findThunks);
    };
    findThunks(sf);
    /** The names read from the value of `import(spec)` at `call`, or 'all'. */
    const namesAt = (call) => {
      let n = call.parent;
      while (n && ts.isParenthesizedExpression(n)) n = n.parent;
      if (!n || !ts.isAwaitExpression(n)) return 'all';
      let p = n.parent;
      while (p && ts.isParenthesizedExpression(p)) p = p.parent;
      if (p && ts.isPropertyAccessExpression(p)) return [p.name.text];
      if (p && ts.isVariableDeclaration(p) && ts.isObjectBindingPattern(p.name)) {
        const names = [];
        for (const el of p.name.elements) {
          if (el.dotDotDotToken) return 'all';
          const key = el.propertyName ?? el.name;
          if (!ts.isIdentifier(key) && !ts.isStringLiteral(key)) return 'all';
          names.push(key.text);
        }
        return names;
      }
      return 'all';
    };
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && packageGroup(node.moduleSpecifier.text)) {
        const spec = node.moduleSpecifier.text;
        const clause = node.importClause;
        if (clause && !clause.isTypeOnly) {
          const names = [];
          if (clause.name) names.push('default');
          const b = clause.namedBindings;
          if (b && ts.isNamespaceImport(b)) {
            notes.push(`${where(node)}: 'import * as' from ${spec}: every export of it is kept`);
            add(spec, 'all');
          } else if (b) {
            for (const el of b.elements) if (!el.isTypeOnly) names.push((el.propertyName ?? el.name).text);
          }
          add(spec, names);
        } else if (!clause) {
          add(spec, []); // a bare side-effect import
        }
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && packageGroup(node.moduleSpecifier.text)) {
        const spec = node.moduleSpecifier.text;
        if (!node.isTypeOnly) {
          if (node.exportClause && ts.isNamedExports(node.exportClause)) {
            add(spec, node.exportClause.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text));
          } else add(spec, 'all');
        }
      } else if (ts.isCallExpression(node)) {
        const spec = importCallSpec(node) ?? (ts.isIdentifier(node.expression) && node.arguments.length === 0 ? thunks.get(node.expression.text) : undefined);
        if (spec && packageGroup(spec) && !thunkBodies.has(node)) {
          const names = namesAt(node);
          if (names === 'all') notes.push(`${where(node)}: cannot see which exports of ${spec} are used: every export of it is kept`);
          add(spec, names);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { used, notes };
}

/** The runtime exports of a package, as this build machine's node_modules has it. */
async function runtimeExports(spec) {
  return Object.keys(await import(import.meta.resolve(spec))).filter((k) => k !== 'default' && k !== '__esModule');
}

/**
 * Where a package that only re-exports other packages (`export { default as confirm } from
 * '@inquirer/confirm'`) really gets `name` from. Importing from there keeps the rest of the barrel out:
 * esbuild cannot drop @inquirer/prompts' unused `editor`, which drags in 500 KB of iconv-lite tables.
 */
function throughBarrel(spec, name) {
  const file = fileURLToPath(import.meta.resolve(spec));
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  for (const st of sf.statements) {
    if (!ts.isExportDeclaration(st) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier) || st.moduleSpecifier.text.startsWith('.')) continue;
    if (!st.exportClause || !ts.isNamedExports(st.exportClause)) continue;
    const el = st.exportClause.elements.find((e) => e.name.text === name);
    if (el) return { spec: st.moduleSpecifier.text, name: (el.propertyName ?? el.name).text };
  }
  return { spec, name };
}

/** Imports of lazy packages become getter modules: nothing loads until an export is read. */
function lazyPackagesPlugin(names, runtimeSpec, { externalRuntime }) {
  return {
    name: 'lazy-packages',
    setup(b) {
      // In a chunk, the runtime is the one of the eager code, handed in through require().
      if (externalRuntime) b.onResolve({ filter: /^fea:runtime$/ }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace === 'lazy-package' || !packageGroup(args.path)) return undefined;
        if (!names.has(args.path)) throw new Error(`${args.importer} imports ${args.path}, which the src/ scan did not see`);
        return { path: args.path, namespace: 'lazy-package' };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(runtimeSpec)}).lazyExports(${JSON.stringify(packageGroup(args.path))}, ${JSON.stringify(args.path)}, ${JSON.stringify([...names.get(args.path)])});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * `import('node:x')` stays an import() even in CommonJS output, and a chunk runs without a module loader;
 * with `static`, static imports of builtins are deferred too (esbuild hoists them to the top of an ESM
 * bundle, so Node would load crypto, timers/promises… on every start).
 */
function builtinsPlugin({ kinds, deferRequire = [] }) {
  return {
    name: 'builtins-as-require',
    setup(b) {
      // commander require()s child_process at load time for a feature we never use (executable
      // subcommands); loading it costs a few ms per start. It is only ever used through property access.
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'require-call' || !deferRequire.includes(args.path.replace(/^node:/, ''))) return undefined;
        return { path: args.path.replace(/^node:/, ''), namespace: 'deferred-builtin' };
      });
      b.onLoad({ filter: /.*/, namespace: 'deferred-builtin' }, (args) => ({
        contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require(${JSON.stringify(`node:${args.path}`)}))[key] });`,
        loader: 'js',
      }));
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!kinds.includes(args.kind) || !isBuiltin(args.path)) return undefined;
        return { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, namespace: 'builtin' };
      });
      b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    },
  };
}

/** Pass 1: the eager set (main.ts's static graph) and the src files main.ts reaches by import(). */
async function eagerGraph() {
  const dynamicTargets = new Set();
  const result = await build({
    ...common,
    entryPoints: [ENTRY],
    format: 'esm',
    write: false,
    metafile: true,
    minify: false,
    outfile: OUT,
    plugins: [
      {
        name: 'cut-dynamic-imports',
        setup(b) {
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind !== 'dynamic-import' || args.pluginData === 'inner') return undefined;
            if (packageGroup(args.path) || isBuiltin(args.path)) return { path: args.path, external: true };
            const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
            if (r.errors.length > 0) return { errors: r.errors };
            dynamicTargets.add(r.path);
            return { path: r.path, external: true };
          });
          b.onResolve({ filter: /.*/ }, (args) => (packageGroup(args.path) ? { path: args.path, external: true } : undefined));
        },
      },
    ],
  });
  const eager = new Set(Object.keys(result.metafile.inputs).map((p) => path.resolve(ROOT, p)));
  return { eager, dynamicTargets: [...dynamicTargets].filter((t) => !eager.has(t)) };
}

/** Builds a chunk: CommonJS source whose module.exports.modules maps a key to a module namespace. */
async function buildChunk(name, entryLines, plugins) {
  const result = await build({
    ...common,
    stdin: { contents: entryLines.join('\n'), resolveDir: ROOT, sourcefile: `chunk-${name}.js`, loader: 'js' },
    format: 'cjs',
    write: false,
    metafile: true,
    // A chunk is CommonJS: `import.meta` would be an empty object there, so using it fails the build.
    logOverride: { 'empty-import-meta': 'error' },
    plugins,
  });
  const code = result.outputFiles[0].text;
  if (/[^.\w$]import\s*\(/.test(code)) throw new Error(`chunk '${name}' still contains a dynamic import(); it cannot run from a string`);
  return { name, code, metafile: result.metafile };
}

/** Marks the comment at the end of dist/cli.js that carries the chunks. */
const MARK = '@forticnapp-eks-audit:chunks';

function chunkComment(chunks) {
  const index = {};
  let payload = '';
  for (const c of chunks) {
    // base64 never contains `*/`, so it cannot end the comment early.
    const enc = brotliCompressSync(Buffer.from(c.code), { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_LGWIN]: 24, [zlib.BROTLI_PARAM_SIZE_HINT]: c.code.length } }).toString('base64');
    index[c.name] = [payload.length, enc.length];
    payload += enc;
  }
  return { text: `\n/*${MARK} ${JSON.stringify(index)}\n${payload}*/\n`, index };
}

/** The loader inside dist/cli.js. `eager` lists the eager modules the chunks import, as [specifier, abs path]. */
function runtimeModule(eager) {
  return `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
${eager.map(([, abs], i) => `import * as e${i} from ${JSON.stringify(abs)};`).join('\n')}
// A namespace object as CommonJS exports: __esModule keeps a default export where esbuild expects it.
const asExports = (ns) => Object.defineProperties({}, { __esModule: { value: true }, ...Object.fromEntries(Object.keys(ns).map((k) => [k, { enumerable: true, get: () => ns[k] }])) });
const EAGER = new Map([${eager.map(([spec], i) => `[${JSON.stringify(spec)}, () => asExports(e${i})]`).join(', ')}]);
const filename = fileURLToPath(import.meta.url);
const nodeRequire = createRequire(filename);
const loaded = new Map();
let text;
function load(name) {
  let modules = loaded.get(name);
  if (!modules) {
    text ??= readFileSync(filename, 'latin1');
    const at = text.lastIndexOf('/*' + ${JSON.stringify(MARK)} + ' ');
    const nl = text.indexOf('\\n', at);
    const where = at < 0 ? undefined : JSON.parse(text.slice(at + ${MARK.length + 3}, nl))[name];
    if (!where) throw new Error(filename + ' is damaged (its ' + name + ' part is missing): reinstall forticnapp-eks-audit.');
    const code = brotliDecompressSync(Buffer.from(text.slice(nl + 1 + where[0], nl + 1 + where[0] + where[1]), 'base64')).toString('utf8');
    const run = compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: filename + ' [' + name + ']' });
    const module = { exports: {} };
    const require = (spec) => (spec === ${JSON.stringify(RUNTIME)} ? api : EAGER.has(spec) ? EAGER.get(spec)() : nodeRequire(spec));
    run.call(module.exports, module.exports, require, module, filename, dirname(filename));
    modules = module.exports.modules;
    loaded.set(name, modules);
  }
  return modules;
}
const api = {
  /** An exports object whose every property loads the package's chunk on first read. */
  lazyExports(group, spec, names) {
    const out = {};
    for (const name of names) Object.defineProperty(out, name, { enumerable: true, get: () => load(group)[spec][name] });
    return out;
  },
  /** A module of the app chunk (loads the chunk). */
  appModule: (key) => load('app')[key],
};
export const { lazyExports, appModule } = api;
`;
}

export async function buildAll() {
  const started = Date.now();
  const { used, notes } = usedNames(sourceFiles(path.join(ROOT, 'src')));
  for (const n of notes) console.log(`build: note: ${n}`);
  const names = new Map();
  for (const [spec, list] of used) {
    const runtime = new Set(await runtimeExports(spec));
    // Names that are not runtime exports are types imported without `type`; they vanish in the bundle.
    names.set(spec, list === 'all' ? runtime : new Set([...list].filter((n) => runtime.has(n))));
  }

  // Third-party chunks: exactly the exports src/ uses, so esbuild can tree-shake the rest.
  const chunks = [];
  for (const { group } of LAZY_PACKAGES) {
    const specs = [...names].filter(([spec]) => packageGroup(spec) === group);
    if (specs.length === 0) continue;
    const lines = [];
    const table = [];
    specs.forEach(([spec, set], i) => {
      const list = [...set];
      if (list.length === 0) lines.push(`import ${JSON.stringify(spec)};`);
      list.forEach((n, j) => {
        const from = throughBarrel(spec, n);
        lines.push(`import { ${from.name} as m${i}_${j} } from ${JSON.stringify(from.spec)};`);
      });
      table.push(`${JSON.stringify(spec)}: { ${list.map((n, j) => `${JSON.stringify(n)}: m${i}_${j}`).join(', ')} }`);
    });
    lines.push(`export const modules = { ${table.join(', ')} };`);
    chunks.push(await buildChunk(group, lines, [builtinsPlugin({ kinds: ['dynamic-import'] })]));
  }

  // The app chunk: every src module main.ts reaches only through import(), eager modules required from main.
  const { eager, dynamicTargets } = await eagerGraph();
  const appLines = dynamicTargets.map((t, i) => `import * as a${i} from ${JSON.stringify(t)};`);
  appLines.push(`export const modules = { ${dynamicTargets.map((t, i) => `${JSON.stringify(rel(t))}: a${i}`).join(', ')} };`);
  const app = await buildChunk('app', appLines, [
    {
      name: 'eager-from-main',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.pluginData === 'inner' || packageGroup(args.path) || isBuiltin(args.path) || args.namespace !== 'file') return undefined;
          const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
          if (r.errors.length > 0) return { errors: r.errors };
          return eager.has(r.path) ? { path: EAGER + rel(r.path), external: true } : undefined;
        });
      },
    },
    lazyPackagesPlugin(names, RUNTIME, { externalRuntime: true }),
    builtinsPlugin({ kinds: ['dynamic-import'] }),
  ]);
  chunks.unshift(app);
  const eagerUsed = [...new Set(Object.values(app.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path)).filter((p) => p.startsWith(EAGER)))]
    .map((spec) => [spec, path.join(ROOT, spec.slice(EAGER.length))]);

  // The eager bundle: main.ts's static graph plus the runtime; import() of app modules goes through it.
  const dynamicSet = new Set(dynamicTargets);
  const main = await build({
    ...common,
    entryPoints: [ENTRY],
    outfile: OUT,
    format: 'esm',
    write: false,
    metafile: true,
    // Bundled CommonJS code (commander) calls require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'chunks',
        setup(b) {
          b.onResolve({ filter: /^fea:runtime$/ }, () => ({ path: 'runtime', namespace: 'fea' }));
          b.onLoad({ filter: /^runtime$/, namespace: 'fea' }, () => ({ contents: runtimeModule(eagerUsed), loader: 'js', resolveDir: ROOT }));
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind !== 'dynamic-import' || args.pluginData === 'inner' || packageGroup(args.path) || isBuiltin(args.path)) return undefined;
            const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
            return dynamicSet.has(r.path) ? { path: rel(r.path), namespace: 'fea-app' } : undefined;
          });
          b.onLoad({ filter: /.*/, namespace: 'fea-app' }, (args) => ({
            contents: `module.exports = require(${JSON.stringify(RUNTIME)}).appModule(${JSON.stringify(args.path)});`,
            loader: 'js',
            resolveDir: ROOT,
          }));
        },
      },
      lazyPackagesPlugin(names, RUNTIME, { externalRuntime: false }),
      builtinsPlugin({ kinds: ['import-statement'], deferRequire: ['child_process'] }),
    ],
  });
  const comment = chunkComment(chunks);
  mkdirSync(path.dirname(OUT), { recursive: true });
  // Write then rename: a CLI started meanwhile (tests run in parallel) never reads half a file.
  writeFileSync(`${OUT}.tmp`, main.outputFiles[0].text + comment.text);
  renameSync(`${OUT}.tmp`, OUT);
  if (process.env.BUILD_ANALYZE) {
    console.log(await analyzeMetafile(main.metafile));
    for (const c of chunks) console.log(`chunk ${c.name}:`, await analyzeMetafile(c.metafile));
  }
  const size = statSync(OUT).size;
  const eagerBytes = main.outputFiles[0].text.length;
  const parts = chunks.map((c) => `${c.name} ${(c.code.length / 1024).toFixed(0)} KiB`).join(', ');
  console.log(`build: dist/cli.js ${(size / 1024).toFixed(0)} KiB: eager ${(eagerBytes / 1024).toFixed(0)} KiB, chunks ${parts} (compressed in the closing comment), ${Date.now() - started} ms`);
  return { size, eagerBytes, chunks: Object.fromEntries(chunks.map((c) => [c.name, c.code.length])) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAll();
}
