import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { applyProjection, reduceLayer, rmsFeatureScale, sparseProjectionPlan } from './project';

describe('very sparse random projection', () => {
  it('is the identity when the layer already fits the budget', () => {
    const plan = sparseProjectionPlan(3, 8, 1);
    expect(plan.projected).toBe(false);
    expect(Array.from(applyProjection(plan, [1, 2, 3, 4, 5, 6]))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('has about d·m/√d nonzeros of value ±√(√d/m) and is seeded', () => {
    const d = 400;
    const m = 50;
    const plan = sparseProjectionPlan(d, m, 7);
    // Expected nonzeros d·m/√d = 400·50/20 = 1000; binomial sd ≈ 31.
    expect(plan.vals.length).toBeGreaterThan(900);
    expect(plan.vals.length).toBeLessThan(1100);
    const v = Math.sqrt(20 / 50);
    for (const x of plan.vals) expect(Math.abs(Math.abs(x) - v)).toBeLessThan(1e-6);
    expect(sparseProjectionPlan(d, m, 7).cols).toEqual(plan.cols);
  });

  it('preserves pairwise distances on average (Johnson–Lindenstrauss)', () => {
    const rng = createRng(3);
    const n = 12;
    const d = 2000;
    const m = 256;
    const x = Float64Array.from({ length: n * d }, () => rng.normal());
    const y = applyProjection(sparseProjectionPlan(d, m, 4), x);
    let sum = 0;
    let pairs = 0;
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++) {
        let dx = 0;
        let dy = 0;
        for (let j = 0; j < d; j++) dx += (x[a * d + j] - x[b * d + j]) ** 2;
        for (let q = 0; q < m; q++) dy += (y[a * m + q] - y[b * m + q]) ** 2;
        const ratio = dy / dx;
        // Squared-distance ratio has sd ≈ √(2/m) ≈ 0.09 here; 0.5 is > 5 sd.
        expect(Math.abs(ratio - 1)).toBeLessThan(0.5);
        sum += ratio;
        pairs++;
      }
    expect(Math.abs(sum / pairs - 1)).toBeLessThan(0.1);
  });
});

describe('reduceLayer', () => {
  it('rmsFeatureScale = √(mean of per-feature variances)', () => {
    // Columns (0, 2) and (0, 4): variances 2 and 8 → √5.
    expect(rmsFeatureScale(new Float64Array([0, 0, 2, 4]), 2)).toBeCloseTo(Math.sqrt(5), 12);
  });

  it('maps clean and adversarial rows through the same projection and clean scale', () => {
    const rng = createRng(5);
    const n = 20;
    const d = 100;
    const clean = Float32Array.from({ length: n * d }, () => rng.normal());
    const adv = clean.map((v) => 2 * v);
    const r = reduceLayer(d, clean, adv, 10, 9);
    expect(r.projected).toBe(true);
    expect(r.dims).toBe(10);
    expect(rmsFeatureScale(r.clean, 10)).toBeCloseTo(1, 10);
    for (let t = 0; t < r.clean.length; t++) expect(r.adversarial![t]).toBeCloseTo(2 * r.clean[t], 9);
  });
});
