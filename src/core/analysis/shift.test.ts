import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import { representationShift, summarise, tapBatchFor } from './shift';
import { runSlice } from './slice';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('relative representation shift', () => {
  it('is ‖δ‖/‖x‖ at the input-like layer and ‖Wᵀδ‖/‖Wᵀx + b‖ at the logits', async () => {
    // Identity-like weights: fc output = (x_a, x_b).
    const model = linearModel([1, 2, 1], [[1, 0], [0, 1]], [0, 0]);
    const before = tf.memory().numTensors;
    const clean = new Float32Array([0.3, 0.4, 0.6, 0.8]);
    const adv = new Float32Array([0.3, 0.4 + 0.05, 0.6, 0.8]);
    const [flat, fc] = await representationShift(model, clean, adv, [1, 2, 1], ['flatten', 'fc']);
    expect(flat.values[0]).toBeCloseTo(0.05 / 0.5, 5);
    expect(flat.values[1]).toBe(0);
    expect(fc.values[0]).toBeCloseTo(0.1, 5);
    expect(fc.mean).toBeCloseTo(0.05, 5);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('shrinks the tap batch to the activation budget and refuses a layer that cannot fit', () => {
    const model = linearModel([1, 2, 1], [[1, 0], [0, 1]], [0, 0]);
    // flatten (2 floats) + fc (2 floats) = 16 bytes per image, ×2 for clean and adversarial.
    expect(tapBatchFor(model, ['flatten', 'fc'], 32, 32 * 10)).toBe(10);
    expect(tapBatchFor(model, ['flatten', 'fc'], 32, 1 << 20)).toBe(32);
    expect(() => tapBatchFor(model, ['flatten', 'fc'], 32, 20)).toThrow(
      /tapped layers need 0 MB per sample, over the 0 MB activation budget; untap the largest \((flatten|fc), 2 floats\)/,
    );
    model.dispose();
  });

  it('marks all-zero clean activations as NaN and keeps them out of the summary', () => {
    const s = summarise(new Float32Array([1, NaN, 3]));
    expect(s.mean).toBe(2);
    expect(s.median).toBe(2);
    expect(Number.isNaN(summarise(new Float32Array([NaN])).mean)).toBe(true);
  });

  it('runSlice attacks then measures, leaving no tensors behind', async () => {
    const model = linearModel([1, 2, 1], [[0, 2], [0, -1]], [0, -0.25]);
    const before = tf.memory().numTensors;
    const images = new Float32Array([0.3, 0.5, 0.1, 0.9]);
    const r = await runSlice(model, { images, labels: new Int32Array([0, 0]), shape: [1, 2, 1] }, { attack: 'fgsm', norm: 'linf', eps: 0.1, steps: 1 }, ['fc'], 0);
    expect(r.attack.success[0]).toBe(1);
    expect(r.attack.success[1]).toBe(0);
    expect(r.shifts[0].layer).toBe('fc');
    expect(r.shifts[0].values[0]).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
