import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

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
  {
    // Core must stay pure: no React, DOM-framework, store or worker imports.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['react', 'react-dom', 'zustand', 'comlink', 'd3', '*/ui/*', '*/workers/*', 'node:*'] }],
    },
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
