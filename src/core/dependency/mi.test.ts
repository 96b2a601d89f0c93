/**
 * KSG checks against closed forms. Measured errors (seeded, so they are exact numbers
 * for these seeds) are asserted below and noted in the test names.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../random';
import { JobCancelledError } from '../types';
import { conditionalMutualInformation, ksgMutualInformation, labelMutualInformation } from './mi';

/** n pairs (x, y) from a standard bivariate Gaussian with correlation ρ. */
function gaussianPairs(rng: Rng, n: number, rho: number): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const s = Math.sqrt(1 - rho * rho);
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    x[i] = a;
    y[i] = rho * a + s * rng.normal();
  }
  return { x, y };
}

const gaussMi = (rho: number) => -0.5 * Math.log(1 - rho * rho);
const relErr = (est: number, truth: number) => Math.abs(est - truth) / truth;

describe('ksgMutualInformation', () => {
  it('bivariate Gaussian ρ = 0.6, N = 1000 (measured rel. error 3.0%)', () => {
    const { x, y } = gaussianPairs(createRng(1), 1000, 0.6);
    const r = ksgMutualInformation(x, 1, y, 1, { seed: 1 });
    const truth = gaussMi(0.6); // 0.2231 nats
    console.info(`KSG ρ=0.6: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
    expect(ksgMutualInformation(x, 1, y, 1, { seed: 1 }).mi).toBe(r.mi);
  });

  it('2+2-dim Gaussian with pair correlations 0.8 and 0.5, N = 1000 (measured rel. error 5.4%)', () => {
    const rng = createRng(2);
    const n = 1000;
    const a = gaussianPairs(rng, n, 0.8);
    const b = gaussianPairs(rng, n, 0.5);
    const x = new Float64Array(2 * n);
    const y = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = a.x[i];
      x[2 * i + 1] = b.x[i];
      y[2 * i] = a.y[i];
      y[2 * i + 1] = b.y[i];
    }
    const truth = gaussMi(0.8) + gaussMi(0.5); // 0.6547 nats
    const r = ksgMutualInformation(x, 2, y, 2, { seed: 2 });
    console.info(`KSG 2+2 dims: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
  });

  it('independent variables give ≈ 0 (this seed: 0.039 nats)', () => {
    // KSG's sampling sd for independent 1-D Gaussians is ≈ 0.025 nats at N = 600 and
    // ≈ 0.018 at N = 2000 (measured over seeds), so the bound is about 3 sd.
    const { x, y } = gaussianPairs(createRng(3), 600, 0);
    expect(Math.abs(ksgMutualInformation(x, 1, y, 1).mi)).toBeLessThan(0.08);
  });

  it('projects above maxDims; 30 copies of x keep I = −½log(1−ρ²) (measured rel. error 4.9%)', () => {
    const n = 800;
    const { x, y } = gaussianPairs(createRng(4), n, 0.7);
    const d = 30;
    const wide = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) wide[i * d + j] = x[i];
    const r = ksgMutualInformation(wide, d, y, 1, { seed: 4 });
    expect(r.projectedX).toBe(true);
    expect(r.dimsX).toBe(20);
    expect(r.projectedY).toBe(false);
    const truth = gaussMi(0.7);
    console.info(`KSG projected: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
  });
});

describe('conditionalMutualInformation', () => {
  it('ρ = 0.9 in class 0, ρ = 0 in class 1 → ½·(−½log 0.19), N = 1600 (measured rel. error 3.2%)', () => {
    const rng = createRng(5);
    const n = 800;
    const a = gaussianPairs(rng, n, 0.9);
    const b = gaussianPairs(rng, n, 0);
    const x = new Float64Array(2 * n);
    const y = new Float64Array(2 * n);
    const labels = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = a.x[i];
      y[2 * i] = a.y[i];
      x[2 * i + 1] = b.x[i];
      y[2 * i + 1] = b.y[i];
      labels[2 * i + 1] = 1;
    }
    const truth = 0.5 * gaussMi(0.9); // 0.4152 nats
    const r = conditionalMutualInformation(x, 1, y, 1, labels, 3, { seed: 5 });
    console.info(`conditional KSG: per class ${r.perClass[0].toFixed(4)} (truth ${gaussMi(0.9).toFixed(4)}), ${r.perClass[1].toFixed(4)} (truth 0); est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
    expect(Array.from(r.weights)).toEqual([0.5, 0.5, 0]);
    expect(Number.isNaN(r.perClass[2])).toBe(true);
    expect(r.skipped).toEqual([]);
  });
});

describe('labelMutualInformation (Ross 2014)', () => {
  it('binary mixture N(±1, 1), N = 1000: matches numerical integration (measured rel. error 2.9%)', () => {
    const rng = createRng(6);
    const n = 1000;
    const x = new Float64Array(n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      x[i] = (labels[i] === 1 ? 1 : -1) + rng.normal();
    }
    // I(X;C) = H(X) − H(X|C), H(X|C) = ½ log(2πe); H(X) by a fine Riemann sum.
    const phi = (t: number) => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
    let hx = 0;
    const step = 1e-3;
    for (let t = -12; t <= 12; t += step) {
      const p = 0.5 * phi(t - 1) + 0.5 * phi(t + 1);
      if (p > 0) hx -= p * Math.log(p) * step;
    }
    const truth = hx - 0.5 * Math.log(2 * Math.PI * Math.E); // ≈ 0.337 nats
    const r = labelMutualInformation(x, 1, labels, 2, { seed: 6 });
    console.info(`label MI: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
  });

  it('well-separated classes reach H(C) = log 3; tiny classes are skipped', () => {
    const rng = createRng(7);
    const n = 300;
    const x = new Float64Array(2 * (n + 2));
    const labels = new Int32Array(n + 2);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 3;
      x[2 * i] = 20 * labels[i] + rng.normal();
      x[2 * i + 1] = rng.normal();
    }
    labels[n] = 3;
    labels[n + 1] = 3;
    const r = labelMutualInformation(x, 2, labels, 4, { seed: 7 });
    expect(r.skipped).toEqual([3]);
    expect(r.n).toBe(n);
    expect(relErr(r.mi, Math.log(3))).toBeLessThan(0.02);
  });
});

describe('job control', () => {
  it('reports monotone progress ending at 1 and honours an aborted signal', () => {
    const { x, y } = gaussianPairs(createRng(8), 200, 0.5);
    const fractions: number[] = [];
    ksgMutualInformation(x, 1, y, 1, {}, { onProgress: (p) => fractions.push(p.fraction) });
    expect(fractions[fractions.length - 1]).toBe(1);
    for (let t = 1; t < fractions.length; t++) expect(fractions[t]).toBeGreaterThanOrEqual(fractions[t - 1]);
    const ac = new AbortController();
    ac.abort();
    expect(() => ksgMutualInformation(x, 1, y, 1, {}, { signal: ac.signal })).toThrow(JobCancelledError);
    expect(() => labelMutualInformation(x, 1, new Int32Array(200), 1, {}, { signal: ac.signal })).toThrow(JobCancelledError);
  });
});
