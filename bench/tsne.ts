/**
 * tsne: the lab's t-SNE against anchor implementations on the same data in the same run
 * (specs/tsne.md §1 R3/R7, §4). Data: the first N MNIST test images, centred and reduced to
 * 50 dims by PCA. Every embedding is scored here, never trusted from the runner:
 * trustworthiness@10 (Venna & Kaski 2001, = sklearn.manifold.trustworthiness), 10-NN
 * preservation, KL(P‖Q) with one common P (perplexity 30 on the exact 90-NN, symmetrised)
 * and exact Q, and 10-NN label accuracy in 2-D.
 *
 *   npm run bench -- tsne [--n 1000,2500,5000] [--repeats 3] [--backend wasm|cpu]
 *     [--impls lab,sklearn-bh,umap-js,keckelt,tsne-js] [--engine auto|exact|fft]
 *     [--impl auto|tfjs|typed] [--iters 1000] [--exact-js-max 1000] [--warm 1]
 *
 * Anchors: scikit-learn Barnes–Hut (angle 0.5, PCA init, learning_rate 'auto', single
 * thread) via /usr/bin/python3 if it has sklearn; npm tsne-js and @keckelt/tsne (exact O(N²)
 * JS, run only up to --exact-js-max points); umap-js (UMAP, not t-SNE, for reference). JS
 * anchors call Math.random, which is swapped for a seeded generator while they run.
 * The lab runs createTsne as the lab does: `--impl auto` (default) picks the Float64Array engine
 * (typed-engine.ts) on cpu/wasm; `--impl tfjs` forces the tfjs-ops engine. Which implementation
 * and repulsion engine ran is printed per run and stored in each result row (`labImpl`,
 * `labEngine`, and `labEngineIterations`: how many iterations each repulsion engine ran).
 * Warm start (spec §2.6): after the lab's cold start, the second half of the rows is moved by
 * seeded noise (a stand-in for an ε change) and the time to a settled layout (relative KL
 * change < 1e-3 over 10 iterations, ≤ 300 iterations) is compared with the cold start.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { arg } from './common';
import { ROOT } from '../src/node/paths';
import { selectBackend, type BackendName } from '../src/core/backend';
import { loadBuiltinDataset } from '../src/node/images';
import { createRng, deriveSeed } from '../src/core/random';
import { computeP } from '../src/core/tsne/affinities';
import { fitPca, projectPca } from '../src/core/tsne/pca';
import { createTsne, runTsne, type TsneEngine, type TsneImpl } from '../src/core/tsne/tsne';

const require = createRequire(import.meta.url);

interface Quality { trust: number; knnPres: number; kl: number; knnAcc: number }
interface RunOut { seconds: number; y: Float32Array; iters: number; notes?: string; labImpl?: TsneImpl; labEngine?: TsneEngine; labEngineIterations?: { exact: number; fft: number } }

/** High-dimensional side of the metrics, once per N: 10-NN lists and the common P. */
export async function prepareHigh(x: Float32Array, n: number, d: number) {
  const p = await computeP(x, n, d, 30);
  const k = 10;
  // The 10-NN are the first 10 of the exact 90-NN (same (d², index) order).
  const nbHigh = new Int32Array(n * k);
  for (let i = 0; i < n; i++) nbHigh.set(p.knn.indices.subarray(i * p.knn.k, i * p.knn.k + k), i * k);
  return { n, d, k, x, p, nbHigh };
}

function knnLow(y: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n * k);
  const bd = new Float64Array(k);
  const bi = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    bd.fill(Infinity);
    bi.fill(-1);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = (y[2 * j] - y[2 * i]) ** 2 + (y[2 * j + 1] - y[2 * i + 1]) ** 2;
      if (v >= bd[k - 1]) continue;
      let s = k - 1;
      while (s > 0 && bd[s - 1] > v) {
        bd[s] = bd[s - 1];
        bi[s] = bi[s - 1];
        s--;
      }
      bd[s] = v;
      bi[s] = j;
    }
    out.set(bi, i * k);
  }
  return out;
}

export function evaluate(h: Awaited<ReturnType<typeof prepareHigh>>, y: Float32Array, labels: Int32Array): Quality {
  const { n, d, k, x, p, nbHigh } = h;
  for (const v of y) if (!Number.isFinite(v)) return { trust: NaN, knnPres: NaN, kl: NaN, knnAcc: NaN };
  const nbLow = knnLow(y, n, k);
  // Trustworthiness: penalty r(i, j) − k for low-dim neighbours j that are not high-dim
  // neighbours, r = rank of j among i's high-dim neighbours (1 = nearest, ties by index).
  let total = 0;
  let hits = 0;
  const mark = new Uint8Array(n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) mark[nbHigh[i * k + t]] = 1;
    let rowReady = false;
    for (let t = 0; t < k; t++) {
      const j = nbLow[i * k + t];
      if (mark[j]) {
        hits++;
        continue;
      }
      if (!rowReady) {
        for (let q = 0; q < n; q++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += (x[i * d + c] - x[q * d + c]) ** 2;
          row[q] = s;
        }
        rowReady = true;
      }
      let r = 0;
      for (let q = 0; q < n; q++) if (q !== i && (row[q] < row[j] || (row[q] === row[j] && q < j))) r++;
      total += r + 1 - k;
    }
    for (let t = 0; t < k; t++) mark[nbHigh[i * k + t]] = 0;
  }
  const trust = 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * total;
  // KL with exact Q: Σ p log p − Σ p log w + log Z.
  let z = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) z += 2 / (1 + (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2);
  let kl = 0;
  for (let e = 0; e < p.vals.length; e++) {
    const pij = p.vals[e];
    if (pij <= 0) continue;
    const i = p.rows[e];
    const j = p.cols[e];
    const q = 1 / (1 + (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2) / z;
    kl += pij * Math.log(pij / Math.max(q, 1e-300));
  }
  let acc = 0;
  const votes = new Int32Array(256);
  for (let i = 0; i < n; i++) {
    votes.fill(0);
    let best = -1;
    let bestV = -1;
    for (let t = 0; t < k; t++) {
      const l = labels[nbLow[i * k + t]];
      votes[l]++;
      if (votes[l] > bestV) [bestV, best] = [votes[l], l];
    }
    if (best === labels[i]) acc++;
  }
  return { trust, knnPres: hits / (n * k), kl, knnAcc: acc / n };
}

/** Runs fn with Math.random replaced by a seeded generator (for anchors that call it). */
function withSeededRandom<T>(seed: number, fn: () => T): T {
  const saved = Math.random;
  const rng = createRng(deriveSeed(seed, 'bench-anchor'));
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

const toRows = (x: Float32Array, n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
const flatten = (rows: number[][]) => Float32Array.from(rows.flatMap((r) => [r[0], r[1]]));

function runTsnejs(x: Float32Array, n: number, d: number, iters: number, seed: number): RunOut {
  type Model = { init(o: unknown): void; run(): [number, number]; getOutput(): number[][] };
  const TSNE = require('tsne-js') as new (o: unknown) => Model;
  return withSeededRandom(seed, () => {
    const rows = toRows(x, n, d);
    const t0 = performance.now();
    const m = new TSNE({ dim: 2, perplexity: 30, earlyExaggeration: 4, learningRate: 1000, nIter: iters, metric: 'euclidean' });
    m.init({ data: rows, type: 'dense' });
    const [, it] = m.run();
    const y = flatten(m.getOutput());
    return { seconds: (performance.now() - t0) / 1000, y, iters: it, notes: 'exact, lr 1000, EE 4, own early stop' };
  });
}

function runKeckelt(x: Float32Array, n: number, d: number, iters: number, seed: number): RunOut {
  type Model = { initDataRaw(r: number[][]): void; step(): void; getSolution(): number[][] };
  const { TSNE } = require('@keckelt/tsne') as { TSNE: new (o: unknown) => Model };
  return withSeededRandom(seed, () => {
    const rows = toRows(x, n, d);
    const t0 = performance.now();
    const m = new TSNE({ epsilon: 10, perplexity: 30, dim: 2 });
    m.initDataRaw(rows);
    for (let i = 0; i < iters; i++) m.step();
    const y = flatten(m.getSolution());
    return { seconds: (performance.now() - t0) / 1000, y, iters, notes: 'exact (tsnejs port), epsilon 10' };
  });
}

function runUmap(x: Float32Array, n: number, d: number, _iters: number, seed: number): RunOut {
  type Model = { initializeFit(r: number[][]): number; step(): void; getEmbedding(): number[][] };
  const { UMAP } = require('umap-js') as { UMAP: new (o: unknown) => Model };
  const rng = createRng(deriveSeed(seed, 'bench-umap'));
  const rows = toRows(x, n, d);
  const t0 = performance.now();
  const u = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, random: () => rng.next() });
  const epochs = u.initializeFit(rows);
  for (let i = 0; i < epochs; i++) u.step();
  const y = flatten(u.getEmbedding());
  return { seconds: (performance.now() - t0) / 1000, y, iters: epochs, notes: 'UMAP, not t-SNE' };
}

const SKLEARN_SCRIPT = `
import json, sys, time, inspect
import numpy as np
from sklearn.manifold import TSNE
inp, n, d, out, iters, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
X = np.fromfile(inp, dtype=np.float32).reshape(n, d)
kw = dict(n_components=2, perplexity=30.0, method='barnes_hut', angle=0.5, init='pca', learning_rate='auto', random_state=seed)
kw['max_iter' if 'max_iter' in inspect.signature(TSNE.__init__).parameters else 'n_iter'] = iters
t0 = time.perf_counter()
Y = TSNE(**kw).fit_transform(X)
sec = time.perf_counter() - t0
Y.astype(np.float32).tofile(out)
print(json.dumps({'seconds': sec}))
`;

function findPython(): string | null {
  for (const py of [process.env.TSNE_BENCH_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

function runSklearn(python: string, dir: string, x: Float32Array, n: number, d: number, iters: number, seed: number): RunOut {
  const script = path.join(dir, 'sklearn_bh.py');
  if (!existsSync(script)) writeFileSync(script, SKLEARN_SCRIPT);
  const inp = path.join(dir, `x${n}.f32`);
  const out = path.join(dir, `y${n}.f32`);
  writeFileSync(inp, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  // One thread, like every other runner here (2 shared cores).
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync(python, [script, inp, String(n), String(d), out, String(iters), String(seed)], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`sklearn failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  const last = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { seconds: number };
  const b = readFileSync(out);
  return { seconds: last.seconds, y: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), iters, notes: 'Barnes-Hut, angle 0.5, PCA init, 1 thread' };
}

async function runLab(x: Float32Array, n: number, d: number, engine: 'auto' | TsneEngine, impl: 'auto' | TsneImpl, seed: number): Promise<RunOut> {
  const t0 = performance.now();
  const r = await runTsne(x, { n, d }, { seed, engine, impl, batch: 50 });
  return {
    seconds: (performance.now() - t0) / 1000, y: r.positions, iters: r.iteration, labImpl: r.impl, labEngine: r.engine, labEngineIterations: r.engineIterations,
    notes: `${r.impl} impl, ${r.engine} engine${r.engineIterations ? ` (iterations: ${r.engineIterations.exact} exact, ${r.engineIterations.fft} FFT)` : ''}, openTSNE schedule`,
  };
}

/** Cold start, then an ε-change stand-in on the second half of the rows, timed to a settled layout. */
async function warmStartRatio(x: Float32Array, n: number, d: number, engine: 'auto' | TsneEngine, impl: 'auto' | TsneImpl, seed: number) {
  const t0 = performance.now();
  const t = await createTsne(x, n, d, { seed, engine, impl });
  let prev = (await t.step(750)).kl;
  const cold = (performance.now() - t0) / 1000;
  const m = Math.floor(n / 2);
  const rows = Int32Array.from({ length: n - m }, (_, i) => m + i);
  const rng = createRng(deriveSeed(seed, 'bench-warm'));
  let v = 0;
  for (const a of x) v += a * a;
  const sd = Math.sqrt(v / x.length);
  const moved = new Float32Array((n - m) * d);
  for (let i = 0; i < moved.length; i++) moved[i] = x[m * d + i] + 0.1 * sd * rng.normal();
  const t1 = performance.now();
  await t.warmStart(rows, moved, { mode: 'joint' });
  let iters = 0;
  let kl = prev;
  while (iters < 300) {
    kl = (await t.step(10)).kl;
    iters += 10;
    if (Math.abs(prev - kl) < 1e-3 * Math.abs(prev)) break;
    prev = kl;
  }
  const warm = (performance.now() - t1) / 1000;
  t.dispose();
  return { coldSeconds: cold, warmSeconds: warm, warmIterations: iters, ratio: warm / cold, klAfter: kl, labImpl: t.impl, labEngine: t.engine };
}

/** The bench input: the first n test images (as tools/tsne-bench), centred, PCA-50 fitted on all of them, and the scoring side. */
export async function benchData(ds: { images: Float32Array; labels: Int32Array; height: number; width: number; channels: number }, n: number) {
  const dIn = ds.height * ds.width * ds.channels;
  const raw = ds.images.subarray(0, n * dIn);
  const pca = fitPca(raw, dIn, Int32Array.from({ length: n }, (_, i) => i), { nComponents: 50, seed: 1 });
  const x = projectPca(pca, raw);
  const labels = ds.labels.subarray(0, n);
  return { x, labels, high: await prepareHigh(x, n, 50) };
}

export async function benchTsne(args: string[]) {
  if (args.includes('--browser')) return (await import('./tsne-browser')).benchTsneBrowser(args);
  const sizes = arg(args, 'n', '1000,2500,5000').split(',').map(Number);
  const repeats = Number(arg(args, 'repeats', '3'));
  const iters = Number(arg(args, 'iters', '1000'));
  const exactJsMax = Number(arg(args, 'exact-js-max', '1000'));
  const impls = arg(args, 'impls', 'lab,sklearn-bh,umap-js,keckelt,tsne-js').split(',');
  const engine = arg(args, 'engine', 'auto') as 'auto' | TsneEngine;
  const impl = arg(args, 'impl', 'auto') as 'auto' | TsneImpl;
  const warm = arg(args, 'warm', '1') !== '0';
  tf.env().set('PROD', true);
  const backend = await selectBackend(arg(args, 'backend', 'wasm') as BackendName, { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
  const ds = await loadBuiltinDataset('mnist-test', path.join(ROOT, 'public'));
  const python = impls.includes('sklearn-bh') ? findPython() : null;
  const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-bench-tsne-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of sizes) {
      const { x, labels, high } = await benchData(ds, n);
      for (const name of impls) {
        const runs: (RunOut & Quality)[] = [];
        let note = '';
        for (let r = 0; r < repeats; r++) {
          const seed = 1 + r;
          let out: RunOut | null = null;
          try {
            if (name === 'lab') out = await runLab(x, n, 50, engine, impl, seed);
            else if (name === 'sklearn-bh') {
              if (!python) note = 'skipped: no python3 with sklearn (apt-get install python3-sklearn)';
              else out = runSklearn(python, dir, x, n, 50, iters, seed);
            } else if (name === 'umap-js') out = runUmap(x, n, 50, iters, seed);
            else if (name === 'keckelt' || name === 'tsne-js') {
              if (n > exactJsMax) note = `skipped: exact O(N²) JS above --exact-js-max ${exactJsMax}`;
              else out = name === 'keckelt' ? runKeckelt(x, n, 50, iters, seed) : runTsnejs(x, n, 50, iters, seed);
            } else note = 'unknown implementation';
          } catch (e) {
            note = `error: ${(e as Error).message.split('\n')[0]}`;
          }
          if (!out) break;
          runs.push({ ...out, ...evaluate(high, out.y, labels) });
          const its = out.labEngineIterations ? `: ${out.labEngineIterations.exact} exact + ${out.labEngineIterations.fft} FFT iterations` : '';
          const which = out.labImpl ? ` [${out.labImpl} impl, ${out.labEngine} engine${its}]` : '';
          console.error(`  ${name}${which} n=${n} run ${r}: ${out.seconds.toFixed(2)} s, trust ${runs[runs.length - 1].trust.toFixed(4)}, KL ${runs[runs.length - 1].kl.toFixed(3)}`);
        }
        if (!runs.length) {
          results.push({ impl: name, n, note });
          continue;
        }
        const secs = runs.map((q) => q.seconds).sort((a, b) => a - b);
        const med = (f: (q: Quality) => number) => {
          const v = runs.map(f).sort((a, b) => a - b);
          return v[Math.floor(v.length / 2)];
        };
        results.push({
          impl: name, n, ...(runs[0].labImpl ? { labImpl: runs[0].labImpl, labEngine: runs[0].labEngine, labEngineIterations: runs[0].labEngineIterations } : {}), runs: runs.length, iters: runs[0].iters, secMin: +secs[0].toFixed(3), secMedian: +secs[Math.floor(secs.length / 2)].toFixed(3),
          trust10: +med((q) => q.trust).toFixed(4), knn10: +med((q) => q.knnPres).toFixed(4), kl: +med((q) => q.kl).toFixed(4), knnAcc: +med((q) => q.knnAcc).toFixed(4), notes: runs[0].notes,
        });
      }
      if (warm && impls.includes('lab')) {
        const w = await warmStartRatio(x, n, 50, engine, impl, 1);
        results.push({ impl: 'lab warm start', n, ...w });
        console.error(`  lab warm start [${w.labImpl} impl, ${w.labEngine} engine] n=${n}: cold ${w.coldSeconds.toFixed(2)} s, warm ${w.warmSeconds.toFixed(2)} s (${w.warmIterations} it), ratio ${w.ratio.toFixed(3)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Speed ratios against sklearn-bh from this same run (absolute times on shared cores are noise).
  for (const r of results) {
    const ref = results.find((q) => q.impl === 'sklearn-bh' && q.n === r.n && typeof q.secMedian === 'number');
    if (ref && typeof r.secMedian === 'number') r.vsSklearnMedian = +((r.secMedian as number) / (ref.secMedian as number)).toFixed(2);
    if (ref && typeof r.trust10 === 'number') r.trustMinusSklearn = +((r.trust10 as number) - (ref.trust10 as number)).toFixed(4);
  }
  console.log(JSON.stringify({ suite: 'tsne', backend: backend.active, sizes, repeats, itersAnchors: iters, python, results }, null, 2));
}
