import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../backend';
import { createRng } from '../random';
import { clusteredData as data, relErr, knnLabelAgreement } from './test-helpers';
import { autoImpl, createTsne, partnerStartPositions, runTsne } from './tsne';
import { attraction, createTypedFftRepulsion, exactRepulsion, exactZ, fft2, fftIsCheaper, pLogW, TYPED_EXACT_MAX_N, typedAutoEngine } from './typed-engine';

beforeAll(async () => {
  await tf.setBackend('cpu');
});



/** Trustworthiness@k (Venna & Kaski 2001; = sklearn.manifold.trustworthiness), naive O(N² log N). */
function trustworthiness(x: Float32Array, d: number, y: Float32Array, k: number): number {
  const n = y.length / 2;
  const order = (dist: (i: number, j: number) => number, i: number) =>
    Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => dist(i, a) - dist(i, b) || a - b);
  const dh = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += (x[i * d + c] - x[j * d + c]) ** 2;
    return s;
  };
  const dl = (i: number, j: number) => (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
  let t = 0;
  for (let i = 0; i < n; i++) {
    const hi = order(dh, i);
    const rank = new Map(hi.map((j, r) => [j, r + 1]));
    const nbHigh = new Set(hi.slice(0, k));
    for (const j of order(dl, i).slice(0, k)) if (!nbHigh.has(j)) t += (rank.get(j) as number) - k;
  }
  return 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * t;
}


describe('typed-array t-SNE engine', () => {
  it('radix-2 2-D FFT equals the naive DFT, and the inverse undoes it (× L²)', async () => {
    const L = 8;
    const rng = createRng(1);
    const re = Float64Array.from({ length: L * L }, () => rng.normal());
    const im = Float64Array.from({ length: L * L }, () => rng.normal());
    const [r0, i0] = [Float64Array.from(re), Float64Array.from(im)];
    fft2(re, im, L);
    for (const [ka, kb] of [[0, 0], [1, 0], [0, 3], [5, 2], [7, 7]]) {
      let sr = 0;
      let si = 0;
      for (let a = 0; a < L; a++) {
        for (let b = 0; b < L; b++) {
          const ang = (-2 * Math.PI * (ka * a + kb * b)) / L;
          sr += r0[a * L + b] * Math.cos(ang) - i0[a * L + b] * Math.sin(ang);
          si += r0[a * L + b] * Math.sin(ang) + i0[a * L + b] * Math.cos(ang);
        }
      }
      expect(re[ka * L + kb]).toBeCloseTo(sr, 10);
      expect(im[ka * L + kb]).toBeCloseTo(si, 10);
    }
    fft2(re, im, L, true);
    for (let t = 0; t < L * L; t++) {
      expect(re[t] / (L * L)).toBeCloseTo(r0[t], 12);
      expect(im[t] / (L * L)).toBeCloseTo(i0[t], 12);
    }
  });

  it('hand-checkable repulsion: two points 1 apart give F = ±w²·1 = ±0.25, Z = 2·½ = 1 (exact and FFT)', async () => {
    const y = Float64Array.from([0, 0, 1, 0]);
    const rep = new Float64Array(4);
    expect(exactRepulsion(y, 2, rep)).toBe(1);
    expect(Array.from(rep)).toEqual([-0.25, 0, 0.25, 0]);
    expect(exactZ(y, 2)).toBe(1);
    const fft = createTypedFftRepulsion();
    const repF = new Float64Array(4);
    expect(fft.compute(y, 2, repF)).toBeCloseTo(1, 3);
    expect(repF[0]).toBeCloseTo(-0.25, 3);
    expect(repF[2]).toBeCloseTo(0.25, 3);
    expect(Math.abs(repF[1]) + Math.abs(repF[3])).toBeLessThan(1e-9);
    // Three points on a line at 0, 1, 3 (odd N exercises the unpaired last row):
    // w01 = 1/2, w02 = 1/10, w12 = 1/5 → Z = 2·(0.5 + 0.1 + 0.2) = 1.6;
    // F_0 = ¼·(−1) + (1/100)·(−3) = −0.28, F_2 = (1/100)·3 + (1/25)·2 = 0.11, F_1 = 0.17.
    const y3 = Float64Array.from([0, 0, 1, 0, 3, 0]);
    const rep3 = new Float64Array(6);
    expect(exactRepulsion(y3, 3, rep3)).toBeCloseTo(1.6, 14);
    expect(exactZ(y3, 3)).toBeCloseTo(1.6, 14);
    expect(rep3[0]).toBeCloseTo(-0.28, 14);
    expect(rep3[2]).toBeCloseTo(0.17, 14);
    expect(rep3[4]).toBeCloseTo(0.11, 14);
  });

  it('hand-checkable attraction: one edge p = ½ each way between points 1 apart gives ±p·w·1 = ±¼, Σ p log w = log ½', async () => {
    const p = { n: 2, rowPtr: Int32Array.from([0, 1, 2]), rows: Int32Array.from([0, 1]), cols: Int32Array.from([1, 0]), vals: Float64Array.from([0.5, 0.5]) };
    const attr = new Float64Array(4);
    attraction(Float64Array.from([0, 0, 1, 0]), p, attr);
    expect(Array.from(attr)).toEqual([-0.25, 0, 0.25, 0]);
    expect(pLogW(Float64Array.from([0, 0, 1, 0]), p)).toBeCloseTo(Math.log(0.5), 14);
  });

  it.each([21, 40])('exact gradient and KL equal the tfjs engine on random layouts (N = %d) within 1e-5', async (perCluster) => {
    const { x, n } = data(perCluster, 2, 5, 1, 7);
    for (const scale of [0.01, 1, 30]) {
      const rng = createRng(8 + scale);
      const init = new Float32Array(n * 2);
      for (let i = 0; i < init.length; i++) init[i] = scale * rng.normal();
      const ref = await createTsne(x, n, 5, { perplexity: 5, init, impl: 'tfjs', engine: 'exact' });
      const typed = await createTsne(x, n, 5, { perplexity: 5, init, impl: 'typed', engine: 'exact' });
      expect(typed.impl).toBe('typed');
      expect(ref.impl).toBe('tfjs');
      for (const alpha of [1, 12]) expect(relErr(await typed.gradient(alpha), await ref.gradient(alpha))).toBeLessThan(1e-5);
      expect(Math.abs(await typed.kl() - await ref.kl())).toBeLessThan(1e-5 * Math.max(1, Math.abs(await ref.kl())));
      ref.dispose();
      typed.dispose();
    }
  });

  it('FFT gradient matches the typed exact oracle to ≤ 1e-2 relative error (spec §2.4 acceptance), α = 1 and 12', async () => {
    const { x, y, n } = data(100, 4, 6, 4, 3); // 400 points, layout extent ≈ 12
    const exact = await createTsne(x, n, 6, { perplexity: 10, init: y, impl: 'typed', engine: 'exact' });
    const fft = await createTsne(x, n, 6, { perplexity: 10, init: y, impl: 'typed', engine: 'fft' });
    expect(fft.engine).toBe('fft');
    for (const alpha of [1, 12]) expect(relErr(await fft.gradient(alpha), await exact.gradient(alpha))).toBeLessThan(1e-2);
    expect(Math.abs(await fft.kl() - await exact.kl()) / await exact.kl()).toBeLessThan(1e-3);
    // The check can fail: intervals 4 units wide interpolate the unit-scale kernel badly.
    const coarse = await createTsne(x, n, 6, { perplexity: 10, init: y, impl: 'typed', engine: 'fft', fft: { intervalWidth: 4, minIntervals: 1, maxIntervals: 3 } });
    expect(relErr(await coarse.gradient(1), await exact.gradient(1))).toBeGreaterThan(1e-2);
    exact.dispose();
    fft.dispose();
    coarse.dispose();
  });

  it('FFT repulsion error falls with the interval width (third-order interpolation)', async () => {
    const rng = createRng(4);
    const n = 300;
    const y = Float64Array.from({ length: 2 * n }, () => 20 * (rng.next() - 0.5));
    const ref = new Float64Array(2 * n);
    const zRef = exactRepulsion(y, n, ref);
    const errs = [2, 1, 0.5].map((w) => {
      const f = createTypedFftRepulsion({ intervalWidth: w, minIntervals: 1, maxIntervals: 1000 });
      const rep = new Float64Array(2 * n);
      const z = f.compute(y, n, rep);
      expect(Math.abs(z - zRef) / zRef).toBeLessThan(0.05);
      return relErr(rep, ref);
    });
    expect(errs[1]).toBeLessThan(errs[0] / 4);
    expect(errs[2]).toBeLessThan(errs[1] / 4);
    expect(errs[2]).toBeLessThan(1e-2);
  });

  it('follows the same optimiser trajectory as the tfjs engine (schedule, momentum, gains)', async () => {
    const { x, n } = data(15, 3, 6, 1, 5);
    const run = async (impl: 'tfjs' | 'typed') => {
      const t = await createTsne(x, n, 6, { perplexity: 5, seed: 2, impl, earlyExaggerationIter: 5 });
      const a = (await t.step(5)).positions; // exaggerated phase
      const b = (await t.step(5)).positions; // α = 1
      t.dispose();
      return [a, b];
    };
    const [ta, tb] = await run('tfjs');
    const [ya, yb] = await run('typed');
    expect(relErr(ya, ta)).toBeLessThan(1e-4);
    expect(relErr(yb, tb)).toBeLessThan(1e-4);
  });

  it('a full run on clustered data matches the tfjs path in trustworthiness and cluster separation', async () => {
    const { x, n, labels } = data(30, 3, 10, 1, 2);
    // lr 5: 'auto' gives max(N/α, 50) = 50 for 90 points, which flings them apart and makes the
    // float32 (tfjs) and float64 (typed) trajectories part ways chaotically after ~20 iterations.
    const opts = { perplexity: 10, seed: 3, nIter: 300, earlyExaggerationIter: 100, batch: 50, learningRate: 5 };
    const typed = await runTsne(x, { n, d: 10 }, { ...opts, impl: 'typed' });
    const ref = await runTsne(x, { n, d: 10 }, { ...opts, impl: 'tfjs' });
    expect(typed.impl).toBe('typed');
    expect(ref.impl).toBe('tfjs');
    const tTyped = trustworthiness(x, 10, typed.positions, 10);
    const tRef = trustworthiness(x, 10, ref.positions, 10);
    expect(Math.abs(tTyped - tRef)).toBeLessThan(0.01);
    expect(tTyped).toBeGreaterThan(0.9);
    expect(knnLabelAgreement(typed.positions, labels)).toBeGreaterThan(0.95);
    expect(knnLabelAgreement(ref.positions, labels)).toBeGreaterThan(0.95);
    // Same local quality, not the same local optimum: the runs drift apart in the last bits.
    expect(Math.abs(typed.kl - ref.kl)).toBeLessThan(0.1 * Math.abs(ref.kl));
  }, 120_000);

  it('anchored warm start keeps clean rows bit-for-bit fixed; joint moves them (spec §2.6)', async () => {
    const { x: clean, n: m } = data(15, 2, 6, 1, 4);
    const d = 6;
    const n = 2 * m;
    const x = new Float32Array(n * d);
    x.set(clean, 0);
    x.set(clean, m * d);
    const advRows = Int32Array.from({ length: m }, (_, i) => m + i);
    const partners = Int32Array.from({ length: m }, (_, i) => i);
    for (const engine of ['exact', 'fft'] as const) {
      for (const mode of ['anchored', 'joint'] as const) {
        const t = await createTsne(x, n, d, { perplexity: 5, seed: 1, earlyExaggerationIter: 50, learningRate: 5, impl: 'typed', engine, fft: { maxIntervals: 30 } });
        const p0 = (await t.step(100)).positions;
        const shifted = new Float32Array(m * d);
        for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) shifted[i * d + j] = clean[i * d + j] + (j === 0 ? 3 : 0);
        const start = partnerStartPositions(p0, partners, 7);
        await t.warmStart(advRows, shifted, { mode, startPositions: start });
        expect(Array.from((await t.positions()).subarray(2 * m))).toEqual(Array.from(start));
        const p1 = (await t.step(20)).positions;
        let cleanMoved = 0;
        let advMoved = 0;
        for (let i = 0; i < m; i++) {
          cleanMoved += Math.hypot(p1[2 * i] - p0[2 * i], p1[2 * i + 1] - p0[2 * i + 1]);
          advMoved += Math.hypot(p1[2 * (m + i)] - start[2 * i], p1[2 * (m + i) + 1] - start[2 * i + 1]);
        }
        if (mode === 'anchored') expect(Array.from(p1.subarray(0, 2 * m))).toEqual(Array.from(p0.subarray(0, 2 * m)));
        else expect(cleanMoved).toBeGreaterThan(0);
        expect(advMoved).toBeGreaterThan(0);
        expect(Number.isFinite(await t.kl())).toBe(true);
        t.dispose();
      }
    }
  });

  it('duplicate rows (ε = 0 copies) stay bit-identical, so adversarial copies sit on their partners', async () => {
    const { x: clean, n: m } = data(12, 2, 5, 1, 6);
    const d = 5;
    const x = new Float32Array(2 * m * d);
    x.set(clean, 0);
    x.set(clean, m * d);
    for (const engine of ['exact', 'fft'] as const) {
      const t = await createTsne(x, 2 * m, d, { perplexity: 5, seed: 2, earlyExaggerationIter: 50, impl: 'typed', engine, fft: { maxIntervals: 30 } });
      const y = (await t.step(80)).positions;
      t.dispose();
      expect(Array.from(y.subarray(2 * m))).toEqual(Array.from(y.subarray(0, 2 * m)));
    }
  });

  it('is bit-for-bit deterministic for a seed (R4), both engines; another seed differs with random init', async () => {
    const { x, n } = data(10, 3, 6, 1, 5);
    const run = async (engine: 'exact' | 'fft', seed: number) => {
      const t = await createTsne(x, n, 6, { perplexity: 5, seed, impl: 'typed', engine, initMode: 'random', fft: { maxIntervals: 30 } });
      const r = await t.step(30);
      t.dispose();
      return r;
    };
    for (const engine of ['exact', 'fft'] as const) {
      const a = await run(engine, 9);
      const b = await run(engine, 9);
      expect(a.engine).toBe(engine);
      expect(Array.from(b.positions)).toEqual(Array.from(a.positions));
      expect(b.kl).toBe(a.kl);
      expect(Array.from((await run(engine, 10)).positions)).not.toEqual(Array.from(a.positions));
    }
  });

  it("engine 'auto' uses the FFT on compact layouts where it is cheaper, exact otherwise; explicit 'exact' never switches", async () => {
    // Cost model: FFT ≈ 13·L²·log2 L pair-equivalents, taken when at most half of N²/2.
    expect(fftIsCheaper(2500, 64)).toBe(true);
    expect(fftIsCheaper(2500, 256)).toBe(false);
    expect(fftIsCheaper(1100, 64)).toBe(false);
    expect(fftIsCheaper(1200, 64)).toBe(true);
    const { x, n } = data(300, 4, 5, 1, 9); // N = 1200
    const rng = createRng(10);
    for (const [scale, expectFft] of [[1e-2, true], [30, false]] as const) {
      const init = Float32Array.from({ length: 2 * n }, () => scale * rng.normal());
      const auto = await createTsne(x, n, 5, { perplexity: 10, init, impl: 'typed' });
      const exact = await createTsne(x, n, 5, { perplexity: 10, init, impl: 'typed', engine: 'exact' });
      expect(auto.engine).toBe('exact');
      expect(relErr(await auto.gradient(12), await exact.gradient(12))).toBeLessThan(1e-2);
      const r = await auto.step(2);
      const e = await exact.step(2);
      expect(r.engineIterations).toEqual(expectFft ? { exact: 0, fft: 2 } : { exact: 2, fft: 0 });
      expect(e.engineIterations).toEqual({ exact: 2, fft: 0 });
      if (!expectFft) expect(Array.from(r.positions)).toEqual(Array.from(e.positions));
      auto.dispose();
      exact.dispose();
    }
  });

  it("impl 'auto' is typed on the CPU-like backends and tfjs on GPUs; engine 'auto' follows TYPED_EXACT_MAX_N", async () => {
    expect(autoImpl('cpu')).toBe('typed');
    expect(autoImpl('wasm')).toBe('typed');
    expect(autoImpl('webgl', false)).toBe('tfjs');
    expect(autoImpl('webgpu', false)).toBe('tfjs');
    // A software adapter (SwiftShader) runs the typed engine even on a GPU backend.
    expect(autoImpl('webgpu', true)).toBe('typed');
    expect(isSoftwareAdapter({ requested: 'auto', active: 'webgpu', fallbackReason: null, adapter: 'google swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ requested: 'auto', active: 'webgl', fallbackReason: null, adapter: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080)' })).toBe(false);
    expect(isSoftwareAdapter({ requested: 'auto', active: 'wasm', fallbackReason: null })).toBe(false);
    expect(typedAutoEngine(TYPED_EXACT_MAX_N)).toBe('exact');
    expect(typedAutoEngine(TYPED_EXACT_MAX_N + 1)).toBe('fft');
    const { x, n } = data(5, 2, 3, 1, 1);
    const t = await createTsne(x, n, 3, { perplexity: 3 });
    expect(t.impl).toBe('typed');
    expect(t.engine).toBe('exact');
    const r = await t.step(2);
    expect(r.impl).toBe('typed');
    expect(r.engine).toBe('exact');
    t.dispose();
  });
});
