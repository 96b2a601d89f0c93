import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { defaults } from '../schema';
import type { ImageDataset } from '../types';
import { trainSchema } from './definition';
import { trainerLayerShift } from './layers';
import { createTrainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function noise(n: number, size: number): ImageDataset {
  const rng = createRng(7);
  return {
    id: 'noise', name: 'noise', n, height: size, width: size, channels: 1,
    images: Float32Array.from({ length: n * size * size }, () => rng.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
  };
}

describe('the layer shift of the weights being trained', () => {
  it('is the lab layer-shift analysis on the snapshot model: zero at ε = 0, positive and finite at every layer otherwise, tensors flat', async () => {
    const data = noise(24, 8);
    const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
    const before = tf.memory().numTensors;
    for (const eps of [0, 0.3]) {
      const trainer = createTrainer(data, { ...rest, arch: 'mlp', batch: 8, eps });
      try {
        await trainer.step();
        const probe = await trainerLayerShift(trainer, data, 12);
        expect(probe.step).toBe(1);
        // The MLP's taps as the product loader names them: its hidden layers and the logits.
        expect(probe.layers.length).toBeGreaterThanOrEqual(3);
        for (const l of probe.layers) {
          if (eps === 0) expect(l.mean, l.layer).toBe(0);
          else {
            expect(Number.isFinite(l.mean), l.layer).toBe(true);
            expect(l.mean, l.layer).toBeGreaterThan(0);
          }
        }
      } finally {
        trainer.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
