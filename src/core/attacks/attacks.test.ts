import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { runAttack } from './runner';
import { project } from './common';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Binary linear model on 1×2×1 "images": z1 − z0 = 2·x_a − 1·x_b − 0.25.
// Class 0 wins when 2a − b < 0.25.
const W = [
  [0, 2],
  [0, -1],
];
const B = [0, -0.25];

describe('FGSM on a linear binary classifier', () => {
  let model: LabModel;
  beforeAll(() => {
    model = linearModel([1, 2, 1], W, B);
  });
  afterAll(() => model.dispose());

  it('moves every pixel by exactly eps along sign(w) (optimal L-inf attack for a linear model)', async () => {
    const before = tf.memory().numTensors;
    // x = (0.3, 0.5): margin toward class 1 is 2·0.3 − 0.5 − 0.25 = −0.15, so class 0.
    const images = new Float32Array([0.3, 0.5]);
    const labels = new Int32Array([0]);
    const r = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'linf', eps: 0.1, steps: 1 }, { seed: 1 });
    // Gradient of CE for class 0 pushes toward class 1: direction (+, −).
    expect(Array.from(r.adversarial)).toEqual([expect.closeTo(0.4, 6), expect.closeTo(0.4, 6)]);
    // New margin 0.8 − 0.4 − 0.25 = 0.15 > 0: fooled. The L-inf optimum needs eps ≥ 0.15/3 = 0.05.
    expect(r.advPred[0]).toBe(1);
    expect(r.success[0]).toBe(1);
    expect(r.linf[0]).toBeCloseTo(0.1, 6);
    expect(r.cleanAccuracy).toBe(1);
    expect(r.robustAccuracy).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails just below the closed-form L-inf distance |margin|/‖w‖₁ and succeeds just above', async () => {
    const images = new Float32Array([0.3, 0.5]);
    const labels = new Int32Array([0]);
    const below = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'linf', eps: 0.049, steps: 1 }, { seed: 1 });
    const above = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'linf', eps: 0.051, steps: 1 }, { seed: 1 });
    expect(below.success[0]).toBe(0);
    expect(above.success[0]).toBe(1);
  });

  it('FGM (L2) steps eps along w/‖w‖₂', async () => {
    const images = new Float32Array([0.3, 0.5]);
    const labels = new Int32Array([0]);
    const r = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'l2', eps: 0.1, steps: 1 }, { seed: 1 });
    const s5 = Math.sqrt(5);
    expect(r.adversarial[0]).toBeCloseTo(0.3 + (0.1 * 2) / s5, 5);
    expect(r.adversarial[1]).toBeCloseTo(0.5 - 0.1 / s5, 5);
    expect(r.l2[0]).toBeCloseTo(0.1, 5);
  });

  it('does not attack a point misclassified when clean', async () => {
    const r = await runAttack(model.logits, { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([1]), shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'linf', eps: 0.3, steps: 1 }, { seed: 1 });
    expect(r.cleanPred[0]).toBe(0);
    expect(Array.from(r.adversarial)).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.5, 6)]);
    expect(r.success[0]).toBe(0);
    expect(r.robustAccuracy).toBe(0);
  });
});

describe('PGD', () => {
  let model: LabModel;
  beforeAll(() => {
    model = linearModel([1, 2, 1], W, B);
  });
  afterAll(() => model.dispose());

  it('stays in the ball and the box, records the first fooling step, is deterministic, leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const n = 37; // not a multiple of the batch size: exercises padding
    const images = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      images[2 * i] = 0.05 + (0.2 * i) / n;
      images[2 * i + 1] = 0.9 - (0.3 * i) / n;
    }
    const labels = new Int32Array(n);
    const spec = { attack: 'pgd' as const, norm: 'linf' as const, eps: 0.12, steps: 10, stepSize: 0.03 };
    const a = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, spec, { seed: 7, batchSize: 8 });
    const b = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, spec, { seed: 7, batchSize: 8 });
    expect(Array.from(a.adversarial)).toEqual(Array.from(b.adversarial));
    for (let i = 0; i < n; i++) {
      expect(a.linf[i]).toBeLessThanOrEqual(0.12 + 1e-6);
      expect(a.adversarial[2 * i]).toBeGreaterThanOrEqual(0);
      expect(a.adversarial[2 * i + 1]).toBeLessThanOrEqual(1);
      // Linear model: fooled iff the L-inf distance (−margin)/3 is ≤ eps.
      const margin = 2 * images[2 * i] - images[2 * i + 1] - 0.25;
      const reachable = -margin / 3 < 0.12 - 1e-4;
      if (Math.abs(-margin / 3 - 0.12) > 1e-3) expect(a.success[i]).toBe(reachable ? 1 : 0);
      if (a.success[i]) expect(a.firstSuccessStep[i]).toBeGreaterThanOrEqual(0);
      else expect(a.firstSuccessStep[i]).toBe(-1);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('L2 PGD reaches the closed-form boundary distance |margin|/‖w‖₂', async () => {
    const images = new Float32Array([0.3, 0.5]);
    const labels = new Int32Array([0]);
    const dist = 0.15 / Math.sqrt(5);
    const below = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'pgd', norm: 'l2', eps: dist * 0.98, steps: 20, stepSize: dist / 5 }, { seed: 3 });
    const above = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'pgd', norm: 'l2', eps: dist * 1.02, steps: 20, stepSize: dist / 5 }, { seed: 3 });
    expect(below.success[0]).toBe(0);
    expect(above.success[0]).toBe(1);
    expect(above.l2[0]).toBeLessThanOrEqual(dist * 1.02 * (1 + 1e-5));
  });

  it('a zero gradient gives a zero step, not NaN', async () => {
    const flat = linearModel([1, 2, 1], [[0, 0], [0, 0]], [1, 0]);
    const r = await runAttack(flat.logits, { images: new Float32Array([0.5, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] }, { attack: 'bim', norm: 'l2', eps: 0.5, steps: 3 }, { seed: 1 });
    expect(Array.from(r.adversarial)).toEqual([0.5, 0.5]);
    expect(r.zeroGradient[0]).toBe(1);
    flat.dispose();
  });

  it('cancels within a step and returns the completed samples as a partial result', async () => {
    const n = 64;
    const images = new Float32Array(n * 2).fill(0.1);
    const labels = new Int32Array(n);
    const controller = new AbortController();
    let steps = 0;
    const run = runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'pgd', norm: 'linf', eps: 0.01, steps: 50 }, { seed: 1, batchSize: 16 }, {
      signal: controller.signal,
      onProgress: () => {
        steps++;
        if (steps === 60) controller.abort();
      },
    });
    const err = await run.catch((e) => e);
    expect(err.name).toBe('JobCancelledError');
    expect(err.partial.completed).toBe(16);
  });
});

describe('projection', () => {
  it('L2 rescales into the ball and then clips into the box', () => {
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => project(tf.tensor4d([0.9, 0.0], [1, 1, 2, 1]), tf.tensor4d([0.5, 0.5], [1, 1, 2, 1]), 0.1, 'l2').arraySync());
    // d = (0.4, −0.5), ‖d‖ = √0.41: rescaled to length 0.1, inside the box already.
    expect(out[0][0][0][0]).toBeCloseTo(0.5 + (0.1 * 0.4) / Math.sqrt(0.41), 5);
    expect(out[0][0][1][0]).toBeCloseTo(0.5 - (0.1 * 0.5) / Math.sqrt(0.41), 5);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('samples the attack could not move', () => {
  it('an attacked sample left exactly unperturbed (non-zero gradient, all clipped) is flagged, and the warnings say so', async () => {
    const { gradientMaskingWarnings } = await import('./sanity');
    // z1 − z0 = a + b − 3: class 0 on all of [0, 1]²; the attack pushes both pixels up, and
    // at (1, 1) the box clips the whole step away. (0.2, 0.2) moves normally.
    const model = linearModel([1, 2, 1], [[0, 1], [0, 1]], [0, -3]);
    const images = new Float32Array([1, 1, 0.2, 0.2]);
    const labels = new Int32Array([0, 0]);
    for (const attack of ['fgsm', 'pgd'] as const) {
      const r = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack, norm: 'linf', eps: 0.1, steps: 3 }, { seed: 1 });
      expect(Array.from(r.adversarial.subarray(0, 2)), attack).toEqual([1, 1]);
      expect(Array.from(r.zeroGradient), attack).toEqual([1, 0]);
      const warnings = gradientMaskingWarnings([r]);
      expect(warnings.map((w) => w.kind), attack).toEqual(['zero-gradients']);
      expect(warnings[0].message).toContain('1 of 2 samples');
      expect(warnings[0].message).toContain('sample 0');
    }
    // At ε = 0 nothing is expected to move: no flag.
    const still = await runAttack(model.logits, { images, labels, shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'linf', eps: 0, steps: 1 }, { seed: 1 });
    expect(Array.from(still.zeroGradient)).toEqual([0, 0]);
    model.dispose();
  });
});

describe('attack batches sized to the memory budget', () => {
  it('a small model keeps the default batch; one whose single-sample step exceeds the budget is refused with its size', async () => {
    const { attackBatchForMemory } = await import('./runner');
    const { wrapLayersModel } = await import('../model/model');
    const small = linearModel([1, 2, 1], W, B);
    expect(attackBatchForMemory(small.logits)).toBeGreaterThan(1000);
    // 4096 × 4096 × 3 inputs: 50 M floats per sample, ×3 for a gradient step ≈ 600 MB > 512 MB.
    const input = tf.input({ shape: [4096, 4096, 3] });
    const gap = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2 }).apply(gap) as tf.SymbolicTensor;
    const huge = wrapLayersModel(tf.model({ inputs: input, outputs: out }));
    expect(() => attackBatchForMemory(huge.logits)).toThrow(/needs about \d+ MB of activations and gradients, more than the 512 MB/);
    // A function the lab did not wrap is not limited.
    expect(attackBatchForMemory((x) => small.logits(x))).toBe(Infinity);
    small.dispose();
    huge.dispose();
  });
});
