import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { convValid } from './arch';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const seeded = (shape: number[], seed: number) => {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5), shape);
};

describe('convValid', () => {
  // The zoo's kernels: 4×4 stride 2 and 1 (small, medium), 3×3 stride 1 and 2, 1×1 stride 2 (ResNet).
  it.each([
    [4, 2, 9],
    [4, 1, 7],
    [3, 1, 6],
    [3, 2, 7],
    [1, 2, 6],
  ])('kernel %i stride %i on %i×%i: value and both gradients equal tfjs’s conv2d', (k, stride, size) => {
    const x = seeded([2, size, size, 3], 1) as tf.Tensor4D;
    const w = seeded([k, k, 3, 5], 2) as tf.Tensor4D;
    const weights = seeded([2, Math.floor((size - k) / stride) + 1, Math.floor((size - k) / stride) + 1, 5], 3);
    // A weighted sum, so the output gradient is not all ones.
    const loss = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), weights));
    const ours = tf.grads(loss((a, b) => convValid(a, b, stride)))([x, w]);
    const theirs = tf.grads(loss((a, b) => tf.conv2d(a, b, stride, 'valid')))([x, w]);
    const value = [convValid(x, w, stride), tf.conv2d(x, w, stride, 'valid')];
    for (const [a, b] of [[ours[0], theirs[0]], [ours[1], theirs[1]], value]) {
      expect(a.shape).toEqual(b.shape);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });
});
