import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { fitRidge, prepareRidge, ridgePredict, ridgeProbe, RIDGE_MAX_SYSTEM } from './probe';

describe('fitRidge', () => {
  it('matches the 1-D closed form w = Sxy / (Sxx + λ), b = ȳ − w x̄', () => {
    // x = 0..3, labels 0,0,1,1. x̄ = 1.5, Sxx = 5; for class 1 Sxy = 2 → w1 = 2/6 = 1/3,
    // b1 = 0.5 − 1.5/3 = 0; class 0 is the mirror image: w0 = −1/3, b0 = 1.
    const fit = fitRidge(new Float32Array([0, 1, 2, 3]), new Int32Array([0, 0, 1, 1]), 1, 2, 1);
    expect(fit.solver).toBe('primal');
    expect(fit.weights[0]).toBeCloseTo(-1 / 3, 12);
    expect(fit.weights[1]).toBeCloseTo(1 / 3, 12);
    expect(fit.bias[0]).toBeCloseTo(1, 12);
    expect(fit.bias[1]).toBeCloseTo(0, 12);
    expect(Array.from(ridgePredict(fit, new Float32Array([0, 3])))).toEqual([0, 1]);
  });

  it('primal and dual give the same weights (d > n case)', () => {
    const rng = createRng(11);
    const n = 6;
    const d = 9;
    const x = Float32Array.from({ length: n * d }, () => rng.normal());
    const labels = new Int32Array([0, 1, 2, 0, 1, 2]);
    const dual = fitRidge(x, labels, d, 3, 0.5);
    expect(dual.solver).toBe('dual');
    const primal = fitRidge(x, labels, d, 3, 0.5, { solver: 'primal' });
    for (let t = 0; t < dual.weights.length; t++) expect(dual.weights[t]).toBeCloseTo(primal.weights[t], 9);
    for (let c = 0; c < 3; c++) expect(dual.bias[c]).toBeCloseTo(primal.bias[c], 9);
  });
});

describe('ridgeProbe', () => {
  it('chooses λ by CV and decodes separable blobs', () => {
    const rng = createRng(5);
    const n = 90;
    const d = 4;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (j === labels[i] ? 4 : 0) + 0.3 * rng.normal();
    const probe = ridgeProbe(x, labels, d, 3, { seed: 1 });
    expect(probe.cv.mse.length).toBe(9);
    expect(probe.cv.lambdas).toContain(probe.lambda);
    // The largest λ shrinks towards the prior predictor, so its CV error must be worse.
    expect(probe.cv.mse[8]).toBeGreaterThan(Math.min(...probe.cv.mse));
    expect(probe.cvAccuracy).toBe(1);
    expect(probe.trainAccuracy).toBe(1);
    expect(probe.lambdaAtGridEdge).toBe(probe.lambda === 1e-4 || probe.lambda === 1e4);
    // Seeded folds → identical result.
    expect(ridgeProbe(x, labels, d, 3, { seed: 1 }).cv.mse).toEqual(probe.cv.mse);
  });

  it('prefers strong shrinkage on pure noise', () => {
    const rng = createRng(9);
    const n = 40;
    const d = 30;
    const x = Float32Array.from({ length: n * d }, () => rng.normal());
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const probe = ridgeProbe(x, labels, d, 2, { seed: 2 });
    expect(probe.lambda).toBeGreaterThanOrEqual(10);
    expect(probe.solver).toBe('primal');
    // With pure noise the optimum is "shrink everything": the grid's top end, flagged.
    expect(probe.lambdaAtGridEdge).toBe(probe.lambda === 1e4);
  });
});

describe('ridge budget', () => {
  it('refuses systems larger than RIDGE_MAX_SYSTEM', () => {
    const d = RIDGE_MAX_SYSTEM + 1;
    const n = d + 1;
    // Checked before any Gram product is formed, so this is cheap.
    expect(() => prepareRidge(new Float32Array(n * d), new Int32Array(n), d, 2)).toThrow(/exceeds/);
  });
});
