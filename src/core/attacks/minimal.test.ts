import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { minimalEpsilonByBisection, perClassEpsilonSummary, quantile } from './minimal';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape: [number, number, number] = [1, 2, 1];

describe('minimal ε by batched PGD bisection on a linear binary model', () => {
  let model: LabModel;
  beforeAll(() => {
    // z1 − z0 = 2a − b − 0.25: distance |margin|/3 in L-inf, |margin|/√5 in L2.
    model = linearModel(shape, [[0, 2], [0, -1]], [0, -0.25]);
  });
  afterAll(() => model.dispose());

  // Five samples: three with different distances, one unreachable within maxEps, one clean-misclassified.
  const images = new Float32Array([0.3, 0.5, 0.35, 0.55, 0.2, 0.6, 0.05, 0.95, 0.3, 0.5]);
  const labels = new Int32Array([0, 0, 0, 0, 1]);
  const margins = [0, 1, 2, 3].map((i) => 2 * images[2 * i] - images[2 * i + 1] - 0.25);

  for (const norm of ['linf', 'l2'] as const) {
    it(`${norm}: each sample's ε is within the bisection tolerance above the closed form; ∞ beyond maxEps; 0 if clean-misclassified`, async () => {
      const before = tf.memory().numTensors;
      const maxEps = norm === 'linf' ? 0.25 : 0.4;
      // Under L2 the random start's component across w only shrinks by ~e^(−stepFactor) over a
      // run (see MinimalEpsilonOptions.stepFactor); α = ε per step makes it vanish (2^−12),
      // so what is measured here is the bisection, not PGD's convergence.
      const pgd = norm === 'linf' ? { steps: 20 } : { steps: 12, stepFactor: 12 };
      const r = await minimalEpsilonByBisection(model.logits, { images, labels, shape }, { norm, maxEps, rounds: 10, ...pgd, seed: 0, batchSize: 4 });
      expect(r.tolerance).toBeCloseTo(maxEps / 1024, 10);
      const dual = norm === 'linf' ? 3 : Math.sqrt(5);
      for (let i = 0; i < 3; i++) {
        const dist = Math.abs(margins[i]) / dual;
        expect(r.minimalEps[i], `sample ${i}`).toBeGreaterThanOrEqual(dist - 1e-6);
        expect(r.minimalEps[i], `sample ${i}`).toBeLessThanOrEqual(dist + r.tolerance + 1e-6);
      }
      // Sample 3: margin −1.19, distance 0.40 (L-inf) or 0.53 (L2) > maxEps.
      expect(Math.abs(margins[3]) / dual).toBeGreaterThan(maxEps);
      expect(r.minimalEps[3]).toBe(Infinity);
      expect(r.minimalEps[4]).toBe(0);
      expect(r.cleanPred[4]).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('is deterministic under a fixed seed', async () => {
    const opts = { norm: 'l2' as const, maxEps: 0.4, rounds: 6, steps: 5, seed: 3 };
    const a = await minimalEpsilonByBisection(model.logits, { images, labels, shape }, opts);
    const b = await minimalEpsilonByBisection(model.logits, { images, labels, shape }, opts);
    expect(Array.from(a.minimalEps)).toEqual(Array.from(b.minimalEps));
  });

  it('rejects a bad bracket', async () => {
    await expect(minimalEpsilonByBisection(model.logits, { images, labels, shape }, { norm: 'linf', maxEps: 0, seed: 0 })).rejects.toThrow(/max eps/);
  });
});

describe('per-class minimal-ε summary', () => {
  it('quartiles per class count 0 (clean-misclassified) and ∞ (not found) as values', () => {
    const eps = [0.1, 0.3, 0.2, 0, Infinity, 0.5, 0.4];
    const labels = [0, 0, 0, 0, 1, 1, 1];
    const [c0, c1, c2] = perClassEpsilonSummary(eps, labels, 3);
    // Class 0 sorted: 0, 0.1, 0.2, 0.3 → q1 at position 0.75 = 0.075, median 0.15, q3 0.225.
    expect(c0).toMatchObject({ n: 4, cleanMisclassified: 1, notFound: 0, min: 0, max: 0.3 });
    expect(c0.q1).toBeCloseTo(0.075, 10);
    expect(c0.median).toBeCloseTo(0.15, 10);
    expect(c0.q3).toBeCloseTo(0.225, 10);
    // Class 1 sorted: 0.4, 0.5, ∞ → median 0.5, q3 between 0.5 and ∞ is ∞.
    expect(c1).toMatchObject({ n: 3, notFound: 1, median: 0.5, q3: Infinity, max: Infinity });
    expect(c1.q1).toBeCloseTo(0.45, 10);
    expect(c2.n).toBe(0);
    expect(c2.median).toBeNaN();
  });

  it('quantile interpolates linearly between order statistics', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
    expect(quantile([7], 0.25)).toBe(7);
  });
});
