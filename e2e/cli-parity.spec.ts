/**
 * One definition, the same numbers (issue #20): for every analysis kind, the CLI's `--json`
 * result and the result the lab's worker computes for the same request are identical, on a
 * zoo model pair in compare mode, with a fixed seed, both on the WASM backend (Node's and
 * Chromium's). The CLI prints the request it ran (`request`), the page runs exactly that through
 * window.layerwise.analysis and returns it serialised as the CLI serialises results.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

const run = promisify(execFile);

/** Small settings per kind so the whole suite stays in minutes; every kind of the lab is listed (a test checks). */
const CASES: Record<string, string[]> = {
  slice: ['--n', '8', '--attack', 'pgd', '--steps', '3', '--eps', '0.15'],
  curve: ['--n', '20', '--attack', 'pgd', '--steps', '3', '--ladder', '0,0.1,0.2'],
  tsne: ['--n', '24', '--attack', 'fgsm', '--eps', '0.2', '--iters', '100', '--seeds', '2', '--perplexity', '5'],
  logits: ['--n', '40', '--attack', 'fgsm', '--eps', '0.2'],
  dependency: ['--n', '60', '--attack', 'fgsm', '--eps', '0.2'],
  mftma: ['--manifolds', 'class', '--perturb', 'gaussian', '--sweep', '0.1', '--P', '3', '--M', '4'],
  collision: ['--per-class', '2', '--m', '3', '--projections', '1', '--max-iter', '20', '--eps-list', '1,2', '--layers', 'conv1'],
  cka: ['--n', '40', '--attack', 'fgsm', '--eps', '0.2'],
};

/**
 * Numbers may differ only where JavaScript's Math.exp/log/pow differ in the last bit between
 * Node's and Chromium's V8 (float64 summaries such as a KL or an entropy): relative 1e-9. Every
 * float32 tensor result (the WASM kernels are the same binary) and every count must be equal, and
 * chaotic computations (t-SNE) use detmath.ts so that their layouts are identical.
 */
const REL = 1e-9;

/** The first place where two results differ, or null. */
function firstDifference(a: unknown, b: unknown, path = 'result'): string | null {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= REL * Math.max(1, Math.abs(a), Math.abs(b)) ? null : `${path}: lab ${a}, CLI ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      // Wall-clock timings are measurements of the run, not results.
      if (k === 'seconds') continue;
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: lab ${JSON.stringify(a)}, CLI ${JSON.stringify(b)}`;
}

const MODEL = 'mnist-small-st';
const COMPARE = 'mnist-small-pgd-linf';

async function cli(kind: string, args: string[]): Promise<{ request: unknown; result: unknown }> {
  const { stdout } = await run('node', ['src/cli/layerwise.mjs', kind, '--model', MODEL, '--compare', COMPARE, '--data', 'mnist-test', '--seed', '7', '--backend', 'wasm', '--json', ...args], { maxBuffer: 1 << 28 });
  return JSON.parse(stdout);
}

test('every kind of the lab has a CLI parity case', async () => {
  const { stdout } = await run('node', ['src/cli/layerwise.mjs', '--help']);
  const kinds = [...stdout.matchAll(/^ {2}(\w+) +--model M --data D \[--compare M2\]/gm)].map((m) => m[1]);
  expect(kinds.length).toBeGreaterThanOrEqual(7);
  for (const kind of kinds) expect(Object.keys(CASES), `no parity case for ${kind}`).toContain(kind);
});

test('the CLI and the lab worker give identical results for every kind', async ({ page }) => {
  test.setTimeout(900_000);
  const { stdout } = await run('node', ['src/cli/layerwise.mjs', '--help']);
  const kinds = Object.keys(CASES).filter((k) => new RegExp(`^ {2}${k} +--model`, 'm').test(stdout));
  await page.goto(`/#model=${MODEL}&data=mnist-test&n=8&seed=7&backend=wasm&vs=${COMPARE}`);
  await expect(page.getByTestId('backend-badge')).toContainText('wasm', { timeout: 120_000 });
  await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('shown-attack')).not.toBeEmpty({ timeout: 120_000 });
  for (const kind of kinds) {
    const fromCli = await cli(kind, CASES[kind]);
    const fromLab = JSON.parse(await page.evaluate(([k, r]) => (window as unknown as { layerwise: { analysis(k: string, r: unknown): Promise<string> } }).layerwise.analysis(k, r), [kind, fromCli.request] as const));
    expect(firstDifference(fromLab, fromCli.result), `${kind}: the lab's result differs from the CLI's`).toBeNull();
  }
});

test("a view's Copy CLI command reproduces the numbers the view shows", async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto(`/#model=${MODEL}&data=mnist-test&n=8&seed=5&backend=wasm&attack=pgd&steps=3&view=curve&ceps=0,0.1,0.2&cn=20`);
  await expect(page.getByTestId('backend-badge')).toContainText('wasm', { timeout: 120_000 });
  await page.getByTestId('curve-run').click();
  await expect(page.getByTestId('curve-summary')).toContainText('0.2→', { timeout: 300_000 });
  const shown = (await page.getByTestId('curve-summary').textContent()) ?? '';
  await page.getByTestId('curve-copy-cli').click();
  const command = (await page.getByTestId('curve-cli-command').textContent()) ?? '';
  expect(command).toBe(`layerwise curve --model ${MODEL} --data mnist-test --seed 5 --steps 3 --ladder 0,0.1,0.2 --n 20`);
  const [, kind, ...args] = command.split(' ');
  const { stdout } = await run('node', ['src/cli/layerwise.mjs', kind, ...args, '--backend', 'wasm', '--json'], { maxBuffer: 1 << 26 });
  const points = (JSON.parse(stdout) as { result: { a: { points: { eps: number; robustAccuracy: number }[] } } }).result.a.points;
  // The view prints robust accuracy to 0.1 %: the CLI's numbers, formatted the same way, are in it.
  for (const p of points) expect(shown).toContain(`${p.eps}→${(100 * p.robustAccuracy).toFixed(1)}%`);
});
