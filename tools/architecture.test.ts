/**
 * The architecture guard in eslint.config.js works: through the ESLint Node API, one
 * deliberately violating import per rule is flagged (relative paths at any depth, static and
 * dynamic), legal imports are not, and no file switches ESLint off wholesale or the guard
 * at all. (That the repository keeps the rules is `npm run lint`.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GUARD_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);

let eslint: ESLint;
beforeAll(() => {
  // Only the guard's rules run: the rest is `npm run lint`'s job, and skipping it keeps this test quick.
  eslint = new ESLint({ cwd: ROOT, overrideConfigFile: path.join(ROOT, 'eslint.config.js'), ruleFilter: ({ ruleId }) => GUARD_RULES.has(ruleId) });
});

/** The guard's messages for `code` linted as if it were the file `file` (repo-relative). */
async function guardMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  expect(result.messages.filter((m) => m.fatal), `${file} did not parse`).toEqual([]);
  return result.messages.filter((m) => m.ruleId && GUARD_RULES.has(m.ruleId)).map((m) => m.message);
}

/** [file it is linted as, import line, what the message must say]. */
const VIOLATIONS: [string, string, RegExp][] = [
  // core → ui, workers, cli, node (any depth), browser-only packages, Node's modules
  ['src/core/analysis/x.ts', "import { useLab } from '../../ui/store';", /must not import src\/ui/],
  ['src/core/x.ts', "import { App } from '../ui/App';", /must not import src\/ui/],
  ['src/core/analysis/x.ts', "import type { DatasetSummary } from '../../../workers/lab.worker';", /must not import workers/],
  ['src/core/mftma/x.ts', "import { parse } from '../../cli/args';", /must not import src\/cli/],
  ['src/core/mftma/x.test.ts', "import { loadBuiltinDataset } from '../../cli/images';", /must not import src\/cli/],
  ['src/core/x.ts', "import { openData } from '../node/open';", /must not import src\/node/],
  ['src/core/data/x.test.ts', "import { loadDatasetFromPath } from '../../node/images';", /must not import src\/node/],
  ['src/core/data/x.ts', "export { ROOT } from '../../node/paths';", /must not import src\/node/],
  ['src/core/x.ts', "import { useState } from 'react';", /free of UI/],
  ['src/core/x.ts', "import * as d3 from 'd3';", /free of UI/],
  ['src/core/x.ts', "import { readFileSync } from 'node:fs';", /no Node modules/],
  ['src/core/x.ts', "import path from 'path';", /no Node modules/],
  // dynamic imports, which no-restricted-imports alone does not see
  ['src/core/mftma/x.test.ts', "export const m = () => import('../../cli/commands/mftma');", /must not import src\/cli/],
  ['workers/x.ts', "export const m = () => import('../src/ui/App');", /must not import src\/ui/],
  ['src/core/x.ts', "export const z = () => import('node:zlib');", /no Node modules/],
  // workers → ui, cli, node
  ['workers/lab.worker.ts', "import { useLab } from '../src/ui/store';", /must not import src\/ui/],
  ['workers/x.ts', "import { parse } from '../src/cli/args';", /must not import src\/cli/],
  ['workers/x.ts', "import { openData } from '../src/node/open';", /must not import src\/node/],
  // cli → ui, workers
  ['src/cli/commands/x.ts', "import type { SampleData } from '../../../workers/lab.worker';", /must not import workers/],
  ['src/cli/x.ts', "import { useLab } from '../ui/store';", /must not import src\/ui/],
  // node → ui, workers, cli
  ['src/node/x.ts', "import { UsageError } from '../cli/args';", /must not import src\/cli/],
  ['src/node/x.ts', "import { decodeImageFile } from '../../workers/images';", /must not import workers/],
  ['src/node/x.ts', "import { useLab } from '../ui/store';", /must not import src\/ui/],
  // ui → cli, node (Node-only code in the browser bundle)
  ['src/ui/components/x.tsx', "import { openData } from '../../node/open';", /must not import src\/node/],
  ['src/ui/x.ts', "import { parse } from '../cli/args';", /must not import src\/cli/],
];

const LEGAL: [string, string][] = [
  ['src/core/analysis/x.ts', "import { LabError } from '../types';\nimport { parseIdx } from '../data/idx';\nimport * as tf from '@tensorflow/tfjs';\nimport { ModelProto } from 'onnx-proto';"],
  // names that only contain a layer's name are not that layer
  ['src/core/x.ts', "import { a } from './model/nodes';\nimport { b } from './uiState';\nimport { c } from './cli-like';"],
  // core tests may read fixtures with Node's modules
  ['src/core/data/x.test.ts', "import { gzipSync } from 'node:zlib';\nimport { readFileSync } from 'node:fs';\nexport const z = () => import('node:zlib');"],
  ['workers/x.ts', "import { LabError } from '../src/core/types';\nimport * as Comlink from 'comlink';"],
  ['src/cli/commands/x.ts', "import { openData } from '../../node/open';\nimport { LabError } from '../../core/types';\nimport { parse } from '../args';"],
  ['src/node/x.ts', "import { detectDataFormat } from '../core/data';\nimport { readFile } from 'node:fs/promises';\nimport { UsageError } from './errors';"],
  ['src/ui/x.ts', "import type { DatasetSummary } from '../../workers/lab.worker';\nimport { useState } from 'react';"],
];

describe('the architecture guard (eslint.config.js)', () => {
  it.each(VIOLATIONS)('flags %s: %s', async (file, code, why) => {
    const messages = await guardMessages(file, code);
    expect(messages.length, `${file}: ${code}`).toBeGreaterThan(0);
    expect(messages.join('\n')).toMatch(why);
  });

  it.each(LEGAL)('lets %s import what it may', async (file, code) => {
    expect(await guardMessages(file, code)).toEqual([]);
  });

  // Whether the repository itself keeps the rules is `npm run lint` (run by `npm test` before
  // the unit tests): linting every file again here would double the slowest part of it.
  it('no file switches ESLint off wholesale, or the guard anywhere', () => {
    // A block eslint-disable without -line / -next-line, or any directive naming a guard rule.
    const wholesale = new RegExp(String.raw`/\*\s*eslint-disable(?![-\w])`);
    const guardOff = new RegExp(String.raw`eslint-disable\S*\s+[^\n]*no-restricted-(imports|syntax)`);
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const d of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, d.name);
        if (d.isDirectory()) {
          if (!['node_modules', 'dist', 'runs', 'artifacts', 'test-results'].includes(d.name) && !d.name.startsWith('.')) walk(rel);
        } else if (/\.(ts|tsx|js|mjs)$/.test(d.name) && rel !== path.join('tools', 'architecture.test.ts')) {
          const text = readFileSync(path.join(ROOT, rel), 'utf8');
          if (wholesale.test(text) || guardOff.test(text)) found.push(rel);
        }
      }
    };
    for (const dir of ['src', 'workers', 'tools', 'bench', 'e2e']) walk(dir);
    expect(found).toEqual([]);
  });
});
