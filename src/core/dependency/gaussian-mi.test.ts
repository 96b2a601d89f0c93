/**
 * Gaussian MI against closed forms. Truth for independent pairs (x_j, y_j) with
 * correlation ρ is −(p/2)·log(1 − ρ²) for p pairs. Seeded: the measured errors quoted in
 * the test names are exact for these seeds.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../random';
import { conditionalGaussianMutualInformation, gaussianMutualInformation, wishartLogDetBias } from './gaussian-mi';
import { digamma } from './special';

const gaussMi = (rho: number) => -0.5 * Math.log(1 - rho * rho);
const relErr = (est: number, truth: number) => Math.abs(est - truth) / truth;

/** n rows: x has `pairs` informative dims followed by `noise` pure-noise dims; y has `pairs` dims. */
function correlated(rng: Rng, n: number, pairs: number, rho: number, noise = 0) {
  const dx = pairs + noise;
  const x = new Float64Array(n * dx);
  const y = new Float64Array(n * pairs);
  const s = Math.sqrt(1 - rho * rho);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pairs; j++) {
      const a = rng.normal();
      x[i * dx + j] = a;
      y[i * pairs + j] = rho * a + s * rng.normal();
    }
    for (let j = pairs; j < dx; j++) x[i * dx + j] = rng.normal();
  }
  return { x, y, dx };
}

describe('wishartLogDetBias', () => {
  it('d = 1: E[log s²] − log σ² = ψ(ν/2) + log(2/ν)', () => {
    expect(wishartLogDetBias(1, 11)).toBeCloseTo(digamma(5) + Math.log(2 / 10), 12);
    // Large n: bias → 0.
    expect(Math.abs(wishartLogDetBias(3, 1e6))).toBeLessThan(1e-5);
  });
});

describe('gaussianMutualInformation', () => {
  it('10+10 dims, ten ρ = 0.5 pairs, N = 1000: within 10 % (measured −4.6 %; KSG on such data: −59 %)', () => {
    const { x, y } = correlated(createRng(21), 1000, 10, 0.5);
    const truth = 10 * gaussMi(0.5); // 1.4384
    const r = gaussianMutualInformation(x, 10, y, 10, { seed: 1 });
    console.info(`Gaussian MI 10+10: est ${r.mi.toFixed(4)} (plug-in ${r.plugIn.toFixed(4)}) vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(r.projectedX).toBe(false);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
    // The Wishart correction removes the upward plug-in bias (≈ d_X·d_Y / 2N = 0.05 nats).
    expect(r.plugIn).toBeGreaterThan(r.mi);
  });

  it('64-dim X with 4 informative dims, ρ = 0.8, N = 1000: within 10 % (measured +3.9 %; KSG after projection to 20 dims: −98 %)', () => {
    const { x, y, dx } = correlated(createRng(22), 1000, 4, 0.8, 60);
    const truth = 4 * gaussMi(0.8); // 2.0433
    const r = gaussianMutualInformation(x, dx, y, 4, { seed: 2 });
    console.info(`Gaussian MI 64+4: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(r.dimsX).toBe(64);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
  });

  it('independent 20+20 dims, N = 1000: ≈ 0 after correction, while the plug-in is ≈ 0.2', () => {
    const { x, y } = correlated(createRng(23), 1000, 20, 0);
    const r = gaussianMutualInformation(x, 20, y, 20, { seed: 3 });
    console.info(`Gaussian MI independent: est ${r.mi.toFixed(4)}, plug-in ${r.plugIn.toFixed(4)}`);
    expect(Math.abs(r.mi)).toBeLessThan(0.05);
    expect(r.plugIn).toBeGreaterThan(0.15);
  });

  it('projection above maxDims gives a lower bound, here a loose one (200-dim X, 8 pairs ρ = 0.9: measured 0.49 vs 6.64)', () => {
    const { x, y, dx } = correlated(createRng(24), 1000, 8, 0.9, 192);
    const truth = 8 * gaussMi(0.9);
    const r = gaussianMutualInformation(x, dx, y, 8, { seed: 4, maxDims: 32 });
    console.info(`Gaussian MI projected 200→32: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)} (lower bound)`);
    expect(r.projectedX).toBe(true);
    expect(r.dimsX).toBe(32);
    expect(r.mi).toBeGreaterThan(0);
    expect(r.mi).toBeLessThan(truth);
  });
});

describe('conditionalGaussianMutualInformation', () => {
  it('3 pairs with ρ = 0.9 in class 0, independent in class 1, N = 1600: within 10 % (measured −0.5 %)', () => {
    const rng = createRng(25);
    const n = 800;
    const a = correlated(rng, n, 3, 0.9);
    const b = correlated(rng, n, 3, 0);
    const x = new Float64Array(2 * n * 3);
    const y = new Float64Array(2 * n * 3);
    const labels = new Int32Array(2 * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < 3; j++) {
        x[2 * i * 3 + j] = a.x[i * 3 + j];
        y[2 * i * 3 + j] = a.y[i * 3 + j];
        x[(2 * i + 1) * 3 + j] = b.x[i * 3 + j];
        y[(2 * i + 1) * 3 + j] = b.y[i * 3 + j];
        labels[2 * i + 1] = 1;
      }
    const truth = 0.5 * 3 * gaussMi(0.9); // 1.2456
    const r = conditionalGaussianMutualInformation(x, 3, y, 3, labels, 2, { seed: 5 });
    console.info(`conditional Gaussian MI: per class ${r.perClass[0].toFixed(4)}, ${r.perClass[1].toFixed(4)}; est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
    expect(Math.abs(r.perClass[1])).toBeLessThan(0.05);
    expect(Array.from(r.weights)).toEqual([0.5, 0.5]);
  });
});

describe('noise floor', () => {
  it('Y = X exactly: finite with a noise floor, −½·log(1 − 1/1.01²) per dimension (measured −0.1 %)', () => {
    // With noise ν on both: ρ² = 1/(1 + ν)² per dim → I = −½ log(1 − 1/(1 + ν)²); ν = 0.01: 1.96 nats/dim.
    const rng = createRng(26);
    const n = 2000;
    const x = Float64Array.from({ length: n * 3 }, () => rng.normal());
    const r = gaussianMutualInformation(x, 3, x, 3, { noise: 0.01 });
    const truth = 3 * -0.5 * Math.log(1 - 1 / 1.01 ** 2);
    console.info(`Gaussian MI Y = X, noise 0.01: est ${r.mi.toFixed(4)} vs ${truth.toFixed(4)}, rel err ${(100 * relErr(r.mi, truth)).toFixed(1)}%`);
    expect(relErr(r.mi, truth)).toBeLessThan(0.1);
    expect(gaussianMutualInformation(x, 3, x, 3).mi).toBeGreaterThan(20); // no floor: only the numerical ridge bounds it
  });
});
