import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { builtinModules } from 'node:module';

/**
 * A relative import that reaches into layer folder `name` (src/ui, workers, src/cli, src/node)
 * at any depth: './ui', '../../ui/store', '../../../workers/lab.worker', '../src/node/open'.
 */
const layerImport = (name) => `^\\.\\.?/(?:.*/)?${name}(?:/|$)`;
const LAYER_NAMES = { ui: 'src/ui', workers: 'workers/', cli: 'src/cli', node: 'src/node' };

/** Test code in src/core: Node's own modules allowed (see below). */
const CORE_TEST_FILES = ['src/core/**/*.test.ts', 'src/core/**/testFixtures.ts'];

/**
 * no-restricted-imports options forbidding the given layers; `browserOnly` also forbids the
 * browser-only packages (React, zustand, comlink, D3) and Node's modules (core runs in both).
 */
function restrictImports(layers, { browserOnly = false } = {}) {
  return ['error', {
    ...(browserOnly ? { paths: builtinModules.filter((m) => !m.startsWith('_')).map((name) => ({ name, message: 'core runs in the browser too: no Node modules' })) } : {}),
    patterns: [
      ...layers.map((l) => ({ regex: layerImport(l), message: `this layer must not import ${LAYER_NAMES[l]} (see the architecture guard in eslint.config.js)` })),
      ...(browserOnly ? [
        { group: ['react', 'react-dom', 'zustand', 'comlink', 'd3', 'd3-*'], message: 'core stays free of UI and worker plumbing' },
        { group: ['node:*'], message: 'core runs in the browser too: no Node modules' },
      ] : []),
    ],
  }];
}

/** The same ban for `import('…')` expressions, which no-restricted-imports does not see (`browserOnly`: node:* too). */
function restrictDynamicImports(layers, { browserOnly = false } = {}) {
  return ['error', ...layers.map((l) => ({
    // esquery regexes cannot hold a "/", even escaped: \x2F stands for it.
    selector: `ImportExpression > Literal.source[value=/${layerImport(l).replaceAll('/', '\\x2F')}/]`,
    message: `this layer must not import ${LAYER_NAMES[l]} (see the architecture guard in eslint.config.js)`,
  })), ...(browserOnly ? [{ selector: 'ImportExpression > Literal.source[value=/^node:/]', message: 'core runs in the browser too: no Node modules' }] : [])];
}

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'e2e/artifacts', 'test-results', 'public', 'tools/zoo/runs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  // The architecture guard (README "Architecture"; proved by tools/architecture.test.ts): core is
  // pure and imports no other layer; workers and the Node layer build on core only; the CLI on
  // core and the Node layer; the UI on core and workers (never Node code).
  {
    files: ['src/core/**/*.ts'],
    ignores: CORE_TEST_FILES,
    rules: { 'no-restricted-imports': restrictImports(['ui', 'workers', 'cli', 'node'], { browserOnly: true }), 'no-restricted-syntax': restrictDynamicImports(['ui', 'workers', 'cli', 'node'], { browserOnly: true }) },
  },
  {
    // Core tests run in Node and may read their fixtures with Node's modules; they still may
    // not lean on another layer (a test that needs the CLI or the Node loader lives there).
    files: CORE_TEST_FILES,
    rules: { 'no-restricted-imports': restrictImports(['ui', 'workers', 'cli', 'node'], { browserOnly: false }), 'no-restricted-syntax': restrictDynamicImports(['ui', 'workers', 'cli', 'node']) },
  },
  {
    files: ['workers/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports(['ui', 'cli', 'node']), 'no-restricted-syntax': restrictDynamicImports(['ui', 'cli', 'node']) },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports(['ui', 'workers']), 'no-restricted-syntax': restrictDynamicImports(['ui', 'workers']) },
  },
  {
    files: ['src/node/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports(['ui', 'workers', 'cli']), 'no-restricted-syntax': restrictDynamicImports(['ui', 'workers', 'cli']) },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': restrictImports(['cli', 'node']), 'no-restricted-syntax': restrictDynamicImports(['cli', 'node']) },
  },
  {
    // tfjs-webgpu's synchronous read-back goes through a canvas and returns zeros on software
    // adapters (Chromium's SwiftShader): product code reads tensors with `await data()` only.
    files: ['src/**/*.{ts,tsx}', 'workers/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { property: 'dataSync', message: 'returns zeros on WebGPU software adapters: use await data()' },
        { property: 'arraySync', message: 'returns zeros on WebGPU software adapters: use await array()' },
        { property: 'bufferSync', message: 'returns zeros on WebGPU software adapters: use await buffer()' }],
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
