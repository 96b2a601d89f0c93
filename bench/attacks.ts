/**
 * attacks: PGD (L-inf) and APGD-CE image-steps per second, batched as the lab runs them,
 * for every zoo model (public/models/index.json; epoch snapshots skipped unless
 * --snapshots) on every backend, against
 *   (a) the raw forward+backward throughput of the same model on the same backend, same
 *       batch, same loss, same sync pattern (no download per pass, one at the end), and
 *   (b) a straightforward per-sample loop (the same attack at batch size 1).
 * The overhead is reported both for the whole attack (fixed clean/re-evaluation passes and
 * checks included, amortised over S iterations as a real run amortises them) and per
 * iteration (marginal cost of one more step, fixed costs excluded). Exactly what is timed
 * and how the baseline is matched: bench/browser/measure.ts. Target: overhead ≤ 0.10.
 *
 *   npm run bench -- attacks [--backends cpu,wasm] [--models id,…] [--attacks pgd,apgd-ce]
 *     [--n 32] [--steps 40] [--short 10] [--repeats 3] [--per-sample 4] [--eps 0.3]
 *     [--snapshots] [--json]
 *   npm run bench -- attacks --browser [--backends webgl,webgpu] [--n 32] [--steps 10] …
 *     (headless Debian Chromium via Playwright, the page bench/browser/attacks.html served
 *     by a Vite dev server on 127.0.0.1; see bench/browser/run.ts)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { arg } from './common';
import { ROOT } from '../src/node/paths';
import { selectBackend, type BackendName } from '../src/core/backend';
import { loadLabModel } from '../src/core/model/model';
import { nodeModelReader } from '../src/node/files';
import { loadBuiltinDataset } from '../src/node/images';
import { classBalancedSample, takeSamples } from '../src/core/data/sampler';
import { DEFAULT_ATTACK_BATCH } from '../src/core/attacks/runner';
import { measureAttack, type BenchAttack, type MeasureConfig, type Measurement } from './browser/measure';

export interface ZooEntry {
  id: string;
  dataset: string;
}

export interface BenchRow extends Measurement {
  backend: string;
  model: string;
}

/** Models of the zoo index; snapshot ids (listed under another model's snapshots) are skipped unless asked for. */
export async function zooModels(includeSnapshots: boolean, only: string[] | null): Promise<ZooEntry[]> {
  const index = JSON.parse(await readFile(path.join(ROOT, 'public/models/index.json'), 'utf8')) as {
    id: string;
    dataset?: string;
    snapshots?: { id: string }[];
  }[];
  const out: ZooEntry[] = [];
  for (const e of index) {
    out.push({ id: e.id, dataset: e.dataset ?? 'mnist-test' });
    if (includeSnapshots) for (const s of e.snapshots ?? []) if (s.id !== e.id) out.push({ id: s.id, dataset: e.dataset ?? 'mnist-test' });
  }
  return only ? out.filter((m) => only.includes(m.id)) : out;
}

/** The first n class-balanced test images of a model's data set (seed 0). */
export async function benchSamples(dataset: string, n: number) {
  const ds = await loadBuiltinDataset(dataset, path.join(ROOT, 'public'));
  const s = takeSamples(ds, classBalancedSample(ds.labels, ds.classNames.length, n, 0));
  return { images: s.images, labels: s.labels, shape: [s.height, s.width, s.channels] as [number, number, number] };
}

/** Default ε: the MNIST standard 0.3 for one channel, 8/255 for colour images. */
export function defaultEps(channels: number): number {
  return channels === 1 ? 0.3 : 8 / 255;
}

export interface BenchOptions {
  backends: string[];
  models: ZooEntry[];
  attacks: BenchAttack[];
  n: number;
  steps: number;
  shortSteps: number;
  repeats: number;
  perSampleN: number;
  eps: number | null;
}

/**
 * Defaults are the lab's own settings where the machine allows: the batch of `runAttack`
 * (DEFAULT_ATTACK_BATCH = 32) and PGD-40's step count in Node; 10 steps in the browser, whose
 * software adapters run a step 20–50× slower (per-step overhead is unaffected by S; the whole-run
 * overhead amortises the ~1 raw pass of fixed cost over S, so it is pessimistic at S = 10).
 */
function options(args: string[], browser: boolean, models: ZooEntry[]): BenchOptions {
  const steps = Number(arg(args, 'steps', browser ? '10' : '40'));
  return {
    backends: arg(args, 'backends', arg(args, 'backend', browser ? 'webgl,webgpu' : 'cpu,wasm')).split(','),
    models,
    attacks: arg(args, 'attacks', 'pgd,apgd-ce').split(',') as BenchAttack[],
    n: Number(arg(args, 'n', String(DEFAULT_ATTACK_BATCH))),
    steps,
    shortSteps: Number(arg(args, 'short', String(Math.max(1, Math.floor(steps / 4))))),
    repeats: Number(arg(args, 'repeats', browser ? '2' : '3')),
    perSampleN: Number(arg(args, 'per-sample', browser ? '2' : '4')),
    eps: args.includes('--eps') ? Number(arg(args, 'eps', '0.3')) : null,
  };
}

const f1 = (v: number | null) => (v === null ? '—' : v.toFixed(1));
const f2 = (v: number | null) => (v === null ? '—' : v.toFixed(2));
const pct = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}%`;

export function formatTable(rows: BenchRow[]): string {
  const head = ['backend', 'model', 'attack', 'n×S', 'attack img-steps/s', 'raw fwd+bwd img/s', 'overhead (whole)', 'overhead (per step)', 'fixed (raw passes)', 'per-sample img-steps/s', 'batched/per-sample'];
  const body = rows.map((r) => [
    r.backend,
    r.model,
    r.attack,
    `${r.n}×${r.steps}`,
    f1(r.attackImageStepsPerSecond),
    f1(r.rawImageStepsPerSecond),
    pct(r.wholeOverhead),
    pct(r.perStepOverhead),
    f2(r.fixedRawPasses),
    f1(r.perSampleImageStepsPerSecond),
    r.batchedSpeedup === null ? '—' : `${r.batchedSpeedup.toFixed(2)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * Node clock: CPU seconds of this process. The cpu and wasm backends run every kernel
 * synchronously on the calling thread, so this is the work done, undisturbed by other
 * processes on a shared machine (wall time there varied by ±30 % between identical runs).
 */
const processCpuClock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function runNode(opts: BenchOptions): Promise<BenchRow[]> {
  tf.env().set('PROD', true);
  const rows: BenchRow[] = [];
  for (const requested of opts.backends) {
    const state = await selectBackend(requested as BackendName, { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
    if (state.active !== requested) {
      console.error(`bench attacks: backend ${requested} unavailable (${state.fallbackReason}); skipped`);
      continue;
    }
    for (const entry of opts.models) {
      const file = path.join(ROOT, 'public/models', entry.id, 'model.json');
      const reader = nodeModelReader(file);
      const model = await loadLabModel(reader.name, reader.read, file);
      try {
        const input = await benchSamples(entry.dataset, opts.n);
        for (const attack of opts.attacks) {
          const cfg: MeasureConfig = { attack, eps: opts.eps ?? defaultEps(input.shape[2]), n: opts.n, steps: opts.steps, shortSteps: opts.shortSteps, repeats: opts.repeats, perSampleN: opts.perSampleN };
          const m = await measureAttack(model.logits, input, cfg, processCpuClock);
          const row: BenchRow = { backend: state.active, model: entry.id, ...m };
          rows.push(row);
          console.error(formatTable([row]).split('\n')[2]);
        }
      } finally {
        model.dispose();
      }
    }
  }
  return rows;
}

export async function benchAttacks(args: string[]) {
  const browser = args.includes('--browser');
  const only = args.includes('--models') || args.includes('--model') ? arg(args, 'models', arg(args, 'model', '')).split(',') : null;
  const models = await zooModels(args.includes('--snapshots'), only);
  if (models.length === 0) throw new Error('bench attacks: no models selected');
  const opts = options(args, browser, models);
  console.error(
    `bench attacks: ${browser ? 'headless Chromium (wall clock)' : 'Node (process CPU clock)'} backends ${opts.backends.join(',')}; models ${models.map((m) => m.id).join(',')}; ` +
      `n=${opts.n}, S=${opts.steps} (short S'=${opts.shortSteps}), repeats ${opts.repeats}, per-sample loop on ${opts.perSampleN} images`,
  );
  const rows = browser ? await (await import('./browser/run')).runBrowser(opts) : await runNode(opts);
  if (args.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  console.log(formatTable(rows));
  const worst = rows.reduce((a, r) => Math.max(a, r.wholeOverhead), -Infinity);
  console.log(`\nworst whole-attack overhead ${rows.length ? pct(worst) : '—'} (target ≤ +10.0%)`);
  const leaks = rows.filter((r) => r.leakedTensors !== 0);
  if (leaks.length) console.log(`tensor leaks: ${leaks.map((r) => `${r.backend}/${r.model}/${r.attack} ${r.leakedTensors}`).join(', ')}`);
}
