import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { defaults } from '../schema';
import type { ImageDataset } from '../types';
import { trainSchema } from './definition';
import { ridgeRows, trainerLogits, trainingLogitRidges } from './logits';
import { createTrainer, type Trainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function noise(n: number): ImageDataset {
  const rng = createRng(5);
  return {
    id: 'noise', name: 'noise', n, height: 4, width: 4, channels: 1,
    images: Float32Array.from({ length: n * 16 }, () => rng.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
  };
}

/** Every weight 0 and the output bias `bias`: every image's logits are exactly `bias`. */
function setConstantLogits(trainer: Trainer, bias: number[]): void {
  const last = trainer.net.trainable[trainer.net.trainable.length - 1];
  expect(last.shape).toEqual([bias.length]);
  tf.tidy(() => {
    for (const v of trainer.net.variables.values()) v.assign(tf.zerosLike(v));
    last.assign(tf.tensor1d(bias));
  });
}

describe('logit distributions while training', () => {
  it('hand-checked: constant logits (0, 1, 3) then (0, 2, 2.5) give max 3 / gap 2 then max 2.5 / gap 0.5, each row in its end bin of the shared bins', async () => {
    const data = noise(12);
    const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
    const before = tf.memory().numTensors;
    const trainer = createTrainer(data, { ...rest, arch: 'mlp', batch: 4 });
    try {
      setConstantLogits(trainer, [0, 1, 3]);
      const first = await trainerLogits(trainer, data, 5);
      expect(first.numClasses).toBe(3);
      expect(Array.from(first.logits)).toEqual([0, 1, 3, 0, 1, 3, 0, 1, 3, 0, 1, 3, 0, 1, 3]);
      await trainer.step(); // the probe step moves on (the weights' values are overwritten below)
      setConstantLogits(trainer, [0, 2, 2.5]);
      const second = await trainerLogits(trainer, data, 5);
      expect(second.step).toBe(1);
      const [a] = trainingLogitRidges([{ run: 'A', probes: [first, second] }], 10, 5);
      const [r0, r1] = a.summaries.epochs;
      expect([r0.epoch, r1.epoch]).toEqual([0, 1]);
      expect([r0.maxLogit.mean, r0.gap.mean, r1.maxLogit.mean, r1.gap.mean]).toEqual([3, 2, 2.5, 0.5]);
      // Shared bins: max logit over [2.5, 3], gap over [0.5, 2], five bins each.
      [2.5, 2.6, 2.7, 2.8, 2.9, 3].forEach((x, i) => expect(a.summaries.maxLogitEdges[i]).toBeCloseTo(x, 12));
      [0.5, 0.8, 1.1, 1.4, 1.7, 2].forEach((x, i) => expect(a.summaries.gapEdges[i]).toBeCloseTo(x, 12));
      expect(Array.from(r0.maxLogit.counts)).toEqual([0, 0, 0, 0, 5]);
      expect(Array.from(r1.maxLogit.counts)).toEqual([5, 0, 0, 0, 0]);
      expect(Array.from(r0.gap.counts)).toEqual([0, 0, 0, 0, 5]);
      expect(Array.from(r1.gap.counts)).toEqual([5, 0, 0, 0, 0]);
    } finally {
      trainer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps at most max ridgeline rows, evenly spread, first and last kept', () => {
    const xs = Array.from({ length: 21 }, (_, i) => i);
    expect(ridgeRows(xs, 5)).toEqual([0, 5, 10, 15, 20]);
    expect(ridgeRows(xs.slice(0, 3), 5)).toEqual([0, 1, 2]);
  });
});
