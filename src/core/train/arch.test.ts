import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { convValid, denseMatMul } from './arch';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const seeded = (shape: number[], seed: number) => {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5), shape);
};

describe('convValid', () => {
  // The zoo's kernels: 4×4 stride 2 and 1 (small, medium), 3×3 stride 1 and 2, 1×1 stride 2
  // (ResNet); 3 input channels take tfjs's transposed convolution for ∂L/∂x, 8 the forward
  // convolutions of kernel-fixes.ts's conv2dInputGradient (convInputGradient picks by channels). Sizes where no output reads the
  // last rows (9 with 4×4 stride 2, 6 with 1×1 stride 2) check those get zero gradient.
  it.each([
    [4, 2, 9, 3],
    [4, 2, 9, 8],
    [4, 1, 7, 3],
    [4, 1, 7, 8],
    [3, 1, 6, 8],
    [3, 2, 7, 3],
    [3, 2, 8, 8],
    [1, 2, 6, 8],
  ])('kernel %i stride %i on %i×%i×%i: value and both gradients equal tfjs’s conv2d, with or without the kernel gradient', (k, stride, size, cin) => {
    const x = seeded([2, size, size, cin], 1) as tf.Tensor4D;
    const w = seeded([k, k, cin, 5], 2) as tf.Tensor4D;
    const weights = seeded([2, Math.floor((size - k) / stride) + 1, Math.floor((size - k) / stride) + 1, 5], 3);
    // A weighted sum, so the output gradient is not all ones.
    const loss = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), weights));
    const ours = tf.grads(loss((a, b) => convValid(a, b, stride)))([x, w]);
    const theirs = tf.grads(loss((a, b) => tf.conv2d(a, b, stride, 'valid')))([x, w]);
    const inputOnly = tf.grad((a: tf.Tensor) => loss((p, q) => convValid(p, q, stride, false))(a, w))(x);
    const value = [convValid(x, w, stride), tf.conv2d(x, w, stride, 'valid')];
    for (const [a, b] of [[ours[0], theirs[0]], [ours[1], theirs[1]], [inputOnly, theirs[0]], value]) {
      expect(a.shape).toEqual(b.shape);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });
});

describe('denseMatMul', () => {
  it('value and both gradients equal tfjs’s matMul, with or without the kernel gradient', () => {
    const x = seeded([3, 4], 4) as tf.Tensor2D;
    const w = seeded([4, 2], 5) as tf.Tensor2D;
    const weights = seeded([3, 2], 6);
    const loss = (mm: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(mm(a as tf.Tensor2D, b as tf.Tensor2D), weights));
    const ours = tf.grads(loss((a, b) => denseMatMul(a, b)))([x, w]);
    const theirs = tf.grads(loss((a, b) => tf.matMul(a, b)))([x, w]);
    const inputOnly = tf.grad((a: tf.Tensor) => loss((p, q) => denseMatMul(p, q, false))(a, w))(x);
    for (const [a, b] of [[ours[0], theirs[0]], [ours[1], theirs[1]], [inputOnly, theirs[0]], [denseMatMul(x, w), tf.matMul(x, w)]]) {
      expect(a.shape).toEqual(b.shape);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
    }
  });
});
