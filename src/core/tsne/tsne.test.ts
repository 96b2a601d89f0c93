import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { knnLabelAgreement } from './test-helpers';
import { JobCancelledError } from '../types';
import { tsneOverlap } from './overlap';
import { cleanDisplacement, createTsne, partnerStartPositions, pcaInit, runTsne } from './tsne';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** c well-separated Gaussian clusters in d dims: centres 10 apart on the axes, sd 1. */
function clusters(perCluster: number, c: number, d: number, seed: number) {
  const rng = createRng(seed);
  const n = perCluster * c;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % c;
    labels[i] = k;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + (j === k ? 10 : 0);
  }
  return { x, labels, n };
}


// Both iteration implementations run every test: 'tfjs' (the GPU path, here on tfjs-cpu) and
// 'typed' (Float64Array loops, what 'auto' picks on cpu/wasm).
describe.each(['tfjs', 'typed'] as const)('exact t-SNE (spec §2.4–2.5), impl %s', (impl) => {
  it('PCA init is scaled to std(PC1) = 1e-4', async () => {
    const { x, n } = clusters(10, 3, 5, 1);
    const y = pcaInit(x, n, 5, 0);
    let m = 0;
    for (let i = 0; i < n; i++) m += y[2 * i];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (y[2 * i] - m) ** 2;
    expect(Math.sqrt(v / n)).toBeCloseTo(1e-4, 9);
  });

  it('keeps well-separated clusters apart, KL decreases, no tensor leak', async () => {
    const { x, labels, n } = clusters(20, 3, 10, 2);
    const before = tf.memory().numTensors;
    const t = await createTsne(x, n, 10, { perplexity: 8, seed: 3, nIter: 300, earlyExaggerationIter: 100, impl });
    const kl0 = await t.kl();
    const early = await t.step(100);
    const late = await t.step(150);
    const fin = await t.step(50);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(early.iteration).toBe(100);
    expect(fin.iteration).toBe(300);
    expect(late.kl).toBeLessThan(kl0);
    expect(late.kl).toBeLessThan(early.kl);
    expect(fin.kl).toBeLessThanOrEqual(late.kl + 1e-3);
    expect(knnLabelAgreement(fin.positions, labels)).toBeGreaterThan(0.95);
  });

  // Scale 300: a spread-out layout where Z ≪ N, which a ‖a‖²+‖b‖²−2ab distance expansion
  // got wrong (negative Z → NaN KL); the exact-difference tiles must match there too.
  it.each([3, 300])('gradient and KL match a naive float64 reference (van der Maaten 2008 eq. 5), layout scale %d', async (scale) => {
    const { x, n } = clusters(4, 2, 3, 11);
    const before = tf.memory().numTensors;
    const rng = createRng(12);
    const init = new Float32Array(n * 2);
    for (let i = 0; i < init.length; i++) init[i] = scale * rng.normal();
    const t = await createTsne(x, n, 3, { perplexity: 2, init, impl });
    // Dense P from the CSR edges.
    const p = new Float64Array(n * n);
    for (let e = 0; e < t.p.vals.length; e++) p[t.p.rows[e] * n + t.p.cols[e]] = t.p.vals[e];
    const w = new Float64Array(n * n);
    let z = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        w[i * n + j] = 1 / (1 + (init[2 * i] - init[2 * j]) ** 2 + (init[2 * i + 1] - init[2 * j + 1]) ** 2);
        z += w[i * n + j];
      }
    }
    let kl = 0;
    const ref = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const pij = p[i * n + j];
        if (pij > 0) kl += pij * Math.log(pij / (w[i * n + j] / z));
        for (let c = 0; c < 2; c++) ref[2 * i + c] += 4 * (pij - w[i * n + j] / z) * w[i * n + j] * (init[2 * i + c] - init[2 * j + c]);
      }
    }
    const g = await t.gradient();
    let maxRef = 0;
    for (const v of ref) maxRef = Math.max(maxRef, Math.abs(v));
    for (let i = 0; i < ref.length; i++) expect(Math.abs(g[i] - ref[i])).toBeLessThan(1e-4 * maxRef + 1e-7);
    expect(await t.kl()).toBeCloseTo(kl, 3);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is bit-for-bit deterministic for a seed (R4)', async () => {
    const { x, n } = clusters(10, 3, 6, 5);
    const run = async () => {
      const t = await createTsne(x, n, 6, { perplexity: 5, seed: 9, impl });
      const r = await t.step(30);
      t.dispose();
      return r;
    };
    const a = await run();
    const b = await run();
    expect(Array.from(b.positions)).toEqual(Array.from(a.positions));
    expect(b.kl).toBe(a.kl);
  });

  it('anchored warm start keeps clean rows fixed; joint lets them move (spec §2.6)', async () => {
    // 2 clusters of 15 clean points + 30 adversarial rows (copies at ε = 0, then shifted).
    const { x: clean, n: m } = clusters(15, 2, 6, 4);
    const d = 6;
    const n = 2 * m;
    const x = new Float32Array(n * d);
    x.set(clean, 0);
    x.set(clean, m * d);
    const advRows = Int32Array.from({ length: m }, (_, i) => m + i);
    const before = tf.memory().numTensors;
    for (const mode of ['anchored', 'joint'] as const) {
      const t = await createTsne(x, n, d, { perplexity: 5, seed: 1, earlyExaggerationIter: 50, impl });
      const p0 = (await t.step(100)).positions;
      const shifted = new Float32Array(m * d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) shifted[i * d + j] = clean[i * d + j] + (j === 0 ? 3 : 0);
      await t.warmStart(advRows, shifted, {
        mode,
        startPositions: partnerStartPositions(p0, Int32Array.from({ length: m }, (_, i) => i), 7),
      });
      const p1 = (await t.step(20)).positions;
      let cleanMoved = 0;
      let advMoved = 0;
      for (let i = 0; i < m; i++) {
        cleanMoved += Math.hypot(p1[2 * i] - p0[2 * i], p1[2 * i + 1] - p0[2 * i + 1]);
        advMoved += Math.hypot(p1[2 * (m + i)] - p0[2 * i], p1[2 * (m + i) + 1] - p0[2 * i + 1]);
      }
      if (mode === 'anchored') expect(cleanMoved).toBe(0);
      else expect(cleanMoved).toBeGreaterThan(0);
      expect(advMoved).toBeGreaterThan(0);
      expect(Number.isFinite(await t.kl())).toBe(true);
      t.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maxGradNorm clips each point step: |Δy_i| ≤ η · gain · c on the first iteration', async () => {
    const { x, n } = clusters(10, 2, 4, 13);
    const rng = createRng(14);
    const init = new Float32Array(n * 2);
    for (let i = 0; i < init.length; i++) init[i] = rng.normal();
    const t = await createTsne(x, n, 4, { perplexity: 3, init, maxGradNorm: 1e-3, impl });
    const next = (await t.step(1)).positions;
    t.dispose();
    // η = max(N/12, 50) = 50; the first gain is 1 + 0.2 (sign(0) differs from any non-zero gradient sign).
    let maxStep = 0;
    for (let i = 0; i < n; i++) maxStep = Math.max(maxStep, Math.hypot(next[2 * i] - init[2 * i], next[2 * i + 1] - init[2 * i + 1]));
    expect(maxStep).toBeGreaterThan(0);
    expect(maxStep).toBeLessThanOrEqual(50 * 1.2 * 1e-3 * (1 + 1e-5));
  });

  it('cleanDisplacement is mean ‖ΔY‖ over clean rows / RMS radius', async () => {
    // Clean rows 0, 1 at (±1, 0) → RMS radius 1; both shift by (0, 0.5); row 2 (adversarial) ignored.
    const prev = new Float32Array([-1, 0, 1, 0, 9, 9]);
    const next = new Float32Array([-1, 0.5, 1, 0.5, 0, 0]);
    expect(cleanDisplacement(prev, next, Int32Array.from([0, 1]))).toBeCloseTo(0.5, 6);
    expect(cleanDisplacement(prev, prev, Int32Array.from([0, 1]))).toBe(0);
  });

  it('ε = 0 sanity check: adversarial copies land on their clean partners → overlap ≈ 1', async () => {
    const { x: clean, labels, n: m } = clusters(12, 2, 5, 6);
    const d = 5;
    const x = new Float32Array(2 * m * d);
    x.set(clean, 0);
    x.set(clean, m * d);
    const t = await createTsne(x, 2 * m, d, { perplexity: 5, seed: 2, earlyExaggerationIter: 50, impl });
    const { positions } = await t.step(150);
    t.dispose();
    const res = tsneOverlap({
      points: positions,
      dim: 2,
      cleanRows: Int32Array.from({ length: m }, (_, i) => i),
      advRows: Int32Array.from({ length: m }, (_, i) => m + i),
      labels,
      cleanPred: labels,
    });
    expect(res.value).toBeGreaterThan(0.9);
  });

  it('runTsne reports progress and cancels with the partial result', async () => {
    const { x, n } = clusters(8, 2, 4, 8);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const done = await runTsne(x, { n, d: 4 }, { perplexity: 3, nIter: 30, batch: 10, impl }, { onProgress: (p) => seen.push(p.fraction) });
    expect(done.iteration).toBe(30);
    expect(done.impl).toBe(impl);
    expect(seen[seen.length - 1]).toBe(1);
    // Convergence stop (spec §2.5): with a huge tolerance it stops at the second KL checkpoint
    // after exaggeration (iterations 20 + 50 and 20 + 100), long before the cap.
    const stopped = await runTsne(x, { n, d: 4 }, { perplexity: 3, nIter: 1000, earlyExaggerationIter: 20, batch: 10, stopTol: 1, impl });
    expect(stopped.iteration).toBe(120);
    const ctrl = new AbortController();
    const pending = runTsne(x, { n, d: 4 }, { perplexity: 3, nIter: 1000, batch: 5, impl }, {
      signal: ctrl.signal,
      onProgress: () => ctrl.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(JobCancelledError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
