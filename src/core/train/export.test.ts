import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLabModel } from '../model/model';
import { createRng } from '../random';
import { defaults } from '../schema';
import type { ImageDataset } from '../types';
import { trainSchema } from './definition';
import { exportModelFiles, WEIGHTS_FILE } from './export';
import { createTrainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function data(n: number, size: number, channels: number): ImageDataset {
  const rng = createRng(3);
  return {
    id: 'toy', name: 'toy', n, height: size, width: size, channels,
    images: Float32Array.from({ length: n * size * size * channels }, () => rng.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
  };
}

describe('exported model files', () => {
  // Small images keep the CPU backend quick (its filter gradient is slow); every layer kind is still exercised.
  it.each([
    ['mlp', 28, 1],
    ['small', 12, 1],
    ['medium', 8, 1],
    ['resnet', 6, 3],
  ] as const)('%s: load back through the product loader with the same logits', async (arch, size, channels) => {
    const set = data(8, size, channels);
    const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
    const recipe = { ...defaults(trainSchema), arch, batch: 4, epochs: 1 };
    const trainer = createTrainer(set, { ...rest, arch, batch: 4, epochs: 1, method: 'standard' });
    const before = tf.memory().numTensors;
    try {
      // Two steps, so BatchNorm's running statistics are no longer 0 and 1 and must be exported too.
      await trainer.step();
      await trainer.step();
      const { files } = await exportModelFiles(trainer.net, { id: `toy-${arch}`, label: 'toy', dataset: 'toy', classNames: set.classNames, recipe, stepsDone: 2, epochsDone: 1, backend: 'cpu', seconds: 0 });
      expect(Object.keys(files).sort()).toEqual(['card.json', WEIGHTS_FILE, 'model.json'].sort());
      const read = async (rel: string) => {
        const f = files[rel];
        if (f === undefined) throw new Error(`no file ${rel}`);
        return typeof f === 'string' ? new TextEncoder().encode(f) : f;
      };
      const model = await loadLabModel('model.json', read, `toy-${arch}`);
      try {
        expect(model.numClasses).toBe(3);
        expect(model.inputShape).toEqual([size, size, channels]);
        const x = tf.tensor4d(set.images, [set.n, size, size, channels]);
        const ours = tf.tidy(() => trainer.net.forward(x, 'eval'));
        const loaded = model.logits(x);
        const a = await ours.data();
        const b = await loaded.data();
        tf.dispose([x, ours, loaded]);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        // The loader folds BatchNorm into one scale and shift: float32 rounding apart, the same function.
        expect(worst).toBeLessThan(1e-5);
        const card = JSON.parse(files['card.json'] as string);
        expect(card.recipe.arch).toBe(arch);
        expect(card.seed).toBe(0);
        expect(card.parameterCount).toBe(model.layers.reduce((s, l) => s + l.trainableParams, 0));
      } finally {
        model.dispose();
      }
    } finally {
      trainer.dispose();
    }
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });
});
