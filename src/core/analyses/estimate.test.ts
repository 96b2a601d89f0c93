import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import { attackCost, formatSeconds, measureModelThroughput, secondsOf, throughputOf } from './estimate';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('estimates', () => {
  it('counts an attack’s gradients on the runner’s padded batches, and none at ε = 0', () => {
    const pgd = attackCost({ attack: 'pgd', norm: 'linf', eps: 0.1, steps: 10 }, 40, 10);
    // 40 samples run as two batches of 32; each PGD step is a gradient plus its projection and check (×1.3).
    expect(pgd.gradients).toBeCloseTo(1.3 * 64 * 10, 9);
    expect(pgd.attack?.n).toBe(40);
    expect(attackCost({ attack: 'fgsm', norm: 'linf', eps: 0.1, steps: 1 }, 8, 10).gradients).toBeCloseTo(1.3 * 8, 9);
    expect(attackCost({ attack: 'pgd', norm: 'linf', eps: 0, steps: 10 }, 40, 10)).toEqual({ which: 'a', forwards: 40 });
  });

  it('prices each part with its model’s throughput', () => {
    const t = { gradient: { a: 0.01, b: 0.02 }, forward: { a: 0.001, b: 0.002 }, operation: 1e-9 };
    expect(secondsOf([{ gradients: 100 }, { which: 'b', gradients: 100, forwards: 1000 }, { operations: 1e9 }], t)).toBeCloseTo(1 + 2 + 2 + 1, 9);
    expect(formatSeconds(0.4)).toBe('< 1 s');
    expect(formatSeconds(42.4)).toBe('≈ 42 s');
    expect(formatSeconds(600)).toBe('≈ 10 min');
  });

  it('times a model once per backend, leaving no tensors', async () => {
    const model = linearModel([2, 2, 1], [[1, 0], [0, 1], [1, 1], [0, 0]], [0, 0]);
    const before = tf.memory().numTensors;
    const speed = await measureModelThroughput(model, [2, 2, 1]);
    expect(speed.gradient).toBeGreaterThan(0);
    expect(speed.forward).toBeGreaterThan(0);
    const first = await throughputOf({ a: model, b: null }, [2, 2, 1]);
    const again = await throughputOf({ a: model, b: null }, [2, 2, 1]);
    expect(again.gradient.a).toBe(first.gradient.a);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
