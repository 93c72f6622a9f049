/**
 * The import structure of src/ (DESIGN §5, issue 9): one direction, no circle.
 *
 *   cli -> wizard -> org -> provision -> state | aws | lacework -> config -> errors.ts
 *
 * A module may import its own layer and the layers below it, never one above. No command under
 * src/cli/commands imports another command. Type-only imports count like any other: a type imported
 * upward still ties a lower layer to a higher one. Checked by test/unit/structure.test.ts
 * (`npx depcruise src --config .dependency-cruiser.cjs` shows the same).
 */

/** Layers from the top; each may import only what is listed after it. */
const LAYERS = [
  ['cli', '^src/cli/'],
  ['wizard', '^src/wizard/'],
  ['org', '^src/org/'],
  ['provision', '^src/provision/'],
  ['state|aws|lacework', '^src/(state|aws|lacework)/'],
  ['config', '^src/config/'],
  ['errors.ts', '^src/errors[.]ts$'],
];

/** For every layer but the top one: no import of a layer above it. */
const upward = LAYERS.slice(1).map(([name, path], i) => ({
  name: `no-upward-import-from-${name.replace(/\|/g, '-')}`,
  comment: `${name} may not import ${LAYERS.slice(0, i + 1).map(([n]) => n).join(', ')} (import direction: ${LAYERS.map(([n]) => n).join(' -> ')})`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(0, i + 1).map(([, p]) => `(${p})`).join('|') },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle (type-only imports included)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'no-command-imports-another-command',
      comment: 'a command under src/cli/commands imports another command; move what they share to src/cli/ (or below)',
      severity: 'error',
      from: { path: '^src/cli/commands/([^/]+)[.]ts$' },
      to: { path: '^src/cli/commands/', pathNot: '^src/cli/commands/$1[.]ts$' },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'an import that does not resolve (a moved or deleted module)',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    // Keep type-only imports (TypeScript erases them; they still count here).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
