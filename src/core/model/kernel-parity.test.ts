/**
 * The kernel-parity suite on WASM in Node (WebGL and WebGPU: e2e/parity.spec.ts), the lab's
 * gradient replacements checked on their own, and proof that the suite catches the tfjs
 * WASM max-pool bug when the replacement is taken away.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend';
import { loadLabModel } from './model';
import { avgPoolInputGradient, conv2dInputGradient, installLabGradients, maxPoolInputGradient, restoreTfjsGradients, sumOf } from './kernel-fixes';
import { kernelCases, runKernelParity, runModelParity, type CaseOutcome, type ModelParityCase } from './kernel-parity';

const WASM_PATHS = path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;

/** Every zoo architecture and the Keras-style pooling CNN (conv → relu → BN → max-pool). */
const MODELS: Record<string, string> = {
  'mnist small CNN': 'public/models/mnist-small-st',
  'mnist medium CNN': 'public/models/mnist-medium-st',
  'cifar medium CNN (float16 weights)': 'public/models/cifar-medium-st',
  'cifar ResNet-20 (BatchNorm, skips)': 'public/models/cifar-resnet20-st',
  'cifar pooling CNN (Keras style)': 'tools/zoo/fixtures/cifar-pool-cnn',
};

function modelCases(): ModelParityCase[] {
  return Object.entries(MODELS).map(([name, dir]) => ({
    name,
    load: () => loadLabModel('model.json', async (rel) => new Uint8Array(readFileSync(path.join(dir, rel))), name),
  }));
}

const failures = (outcomes: CaseOutcome[]) =>
  outcomes.filter((o) => !o.pass).map((o) => `${o.name}: ${o.error ?? `forward ${o.forward.toExponential(2)}, gradient ${o.gradient.toExponential(2)} > ${o.tolerance}, ${o.signMismatches} sign mismatches`}`);

beforeAll(async () => {
  await selectBackend('wasm', { node: true, wasmPaths: WASM_PATHS });
});

afterAll(async () => {
  installLabGradients();
  await tf.setBackend('cpu');
});

describe('kernel parity on WASM against the CPU backend', () => {
  it('every op the executor and the attacks emit: forward and gradients within tolerance, tensors flat', async () => {
    const before = tf.memory().numTensors;
    const outcomes = await runKernelParity('wasm');
    expect(outcomes).toHaveLength(kernelCases().length);
    expect(failures(outcomes)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('whole models through the executor: logits and the attack loss gradient', async () => {
    for (const dir of Object.values(MODELS)) expect(existsSync(path.join(dir, 'model.json')), dir).toBe(true);
    const outcomes = await runModelParity('wasm', modelCases());
    expect(failures(outcomes)).toEqual([]);
  }, 120_000);

  it("catches tfjs's own WASM gradients when the lab's replacements are taken away", async () => {
    restoreTfjsGradients();
    try {
      const outcomes = await runKernelParity('wasm', 'cpu', 0, kernelCases().filter((c) => /maxPool|depthwise conv 3x3 same s1/.test(c.name)));
      const failed = new Set(outcomes.filter((o) => !o.pass).map((o) => o.name));
      // The pooling cases fail by 0.1–1 relative (a wrong gradient, not rounding) …
      for (const o of outcomes.filter((c) => c.name.startsWith('maxPool') && !c.name.includes('with ties'))) {
        expect(failed.has(o.name), o.name).toBe(true);
        expect(o.gradient, o.name).toBeGreaterThan(0.05);
        expect(o.forward, o.name).toBeLessThan(1e-5);
      }
      // … WASM has no depthwise input-gradient kernel at all …
      expect(outcomes.find((o) => o.name === 'depthwise conv 3x3 same s1')?.error).toMatch(/DepthwiseConv2dNativeBackpropInput/);
      // … and tfjs's own WASM sign flushes small magnitudes to 0 (signOf does not).
      const [rawSign] = await runKernelParity('wasm', 'cpu', 0, [{ name: 'tf.sign, magnitudes 1e-12…1', shapes: [[4, 10, 10, 8]], constants: 1, wide: true, exactSigns: true, run: ([x]) => tf.sign(x) }]);
      expect(rawSign.pass).toBe(false);
      expect(rawSign.signMismatches).toBeGreaterThan(1000);
      const models = await runModelParity('wasm', modelCases().filter((m) => m.name.includes('pooling')));
      expect(models[0].error).toBeUndefined();
      expect(models[0].pass).toBe(false);
      expect(models[0].gradient).toBeGreaterThan(0.01);
    } finally {
      installLabGradients();
    }
  }, 120_000);
});

describe("the lab's gradient replacements on their own", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('sumOf adds any number of terms in AddN calls of at most 4 inputs (WebGPU is wrong from 8)', async () => {
    for (const k of [1, 2, 4, 5, 9, 17]) {
      const terms = Array.from({ length: k }, (_, i) => tf.fill([3], i + 1));
      const profile = await tf.profile(() => {
        const s = sumOf(terms);
        expect(Array.from(s.dataSync()), `${k} terms`).toEqual([0, 1, 2].map(() => (k * (k + 1)) / 2));
        if (k > 1) s.dispose();
      });
      const widest = Math.max(0, ...profile.kernels.filter((kr) => kr.name === 'AddN').map((kr) => kr.inputShapes.length));
      expect(widest, `${k} terms`).toBeLessThanOrEqual(4);
      tf.dispose(terms);
    }
  });

  it('max pooling routes each window’s gradient to its first maximum (PyTorch’s tie rule)', () => {
    // One 2×2 window holding three equal maxima; the first in row-major order gets it all.
    const x = tf.tensor4d([1, 1, 0, 1], [1, 2, 2, 1]);
    const g = maxPoolInputGradient(x, tf.tensor4d([5], [1, 1, 1, 1]), { filterSize: 2, strides: 2, pad: 'valid' });
    expect(Array.from(g.dataSync())).toEqual([5, 0, 0, 0]);
    // Overlapping 'same' windows add up: a 3×3 map whose centre is the global maximum
    // collects the gradient of all 9 windows of a 3×3/stride-1 pool.
    const y = tf.tensor4d([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 3, 3, 1]);
    const gy = maxPoolInputGradient(y, tf.ones([1, 3, 3, 1]) as tf.Tensor4D, { filterSize: 3, strides: 1, pad: 'same' });
    expect(Array.from(gy.dataSync())).toEqual([0, 0, 0, 0, 9, 0, 0, 0, 0]);
    tf.dispose([x, g, y, gy]);
  });

  it("average pooling with 'same' padding divides each window by the pixels it covers, as its forward pass does", () => {
    // A 2×2 map under a 3×3/stride-1 'same' pool: each of the 4 windows covers exactly the 4
    // real pixels, so every output is their mean and every pixel collects 4 × 1/4 = 1.
    // tfjs 4.22's own gradient divides by 9 (4/9 each); PyTorch (count_include_pad=False) gives 1.
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.avgPool(v as tf.Tensor4D, 3, 1, 'same')))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(tf.avgPool(x, 3, 1, 'same').dataSync())).toEqual([2.5, 2.5, 2.5, 2.5]);
    // 'valid' windows have no padding: the plain 1/size share (2×2/2 on 4×4: 1/4 each).
    const v = avgPoolInputGradient([1, 4, 4, 1], tf.ones([1, 2, 2, 1]) as tf.Tensor4D, { filterSize: 2, strides: 2, pad: 'valid' });
    expect(Array.from(v.dataSync())).toEqual(new Array(16).fill(0.25));
    tf.dispose([x, g, v]);
  });

  it("max pooling matches tfjs's CPU kernel where there are no ties (to float rounding)", async () => {
    const rng = (i: number) => Math.sin(i * 12.9898) * 43758.5453 % 1;
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 9 * 9 * 3 }, (_, i) => rng(i)), [2, 9, 9, 3]);
    for (const [k, s, pad] of [[2, 2, 'valid'], [3, 2, 'same'], [3, 1, 'same'], [2, 1, 'valid']] as const) {
      const dy = tf.tidy(() => tf.sin(tf.range(0, tf.maxPool(x, k, s, pad).size).reshape(tf.maxPool(x, k, s, pad).shape)) as tf.Tensor4D);
      const ours = maxPoolInputGradient(x, dy, { filterSize: k, strides: s, pad });
      restoreTfjsGradients();
      const theirs = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, k, s, pad), dy)))(x);
      installLabGradients();
      // Overlapping windows add several routed values: float32 sums in another order.
      const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
      expect(diff, `${k}/${s} ${pad}`).toBeLessThan(1e-6);
      tf.dispose([dy, ours, theirs]);
    }
    x.dispose();
  });

  it('dilated convolutions are differentiable and their input gradient is the adjoint: ⟨A x, r⟩ = ⟨x, Aᵀ r⟩', () => {
    const x = tf.randomUniform([2, 9, 9, 3], -1, 1, 'float32', 1);
    for (const [name, f, op] of [
      ['conv2d', tf.randomUniform([3, 3, 3, 4], -1, 1, 'float32', 2), (v: tf.Tensor, w: tf.Tensor) => tf.conv2d(v as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2)],
      ['depthwise', tf.randomUniform([3, 3, 3, 2], -1, 1, 'float32', 3), (v: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(v as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid', 'NHWC', [2, 2])],
    ] as const) {
      const y = op(x, f);
      const r = tf.randomUniform(y.shape, -1, 1, 'float32', 4);
      const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(op(v, f), r)))(x);
      const lhs = tf.sum(tf.mul(y, r)).dataSync()[0];
      const rhs = tf.sum(tf.mul(x, grad)).dataSync()[0];
      expect(Math.abs(lhs - rhs), name).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
      tf.dispose([f, y, r, grad]);
    }
    x.dispose();
  });

  it("the WASM conv input gradient (s² phase convolutions) equals tfjs's CPU Conv2DBackpropInput for strides 1–3, 'same' and 'valid', odd sizes", () => {
    const cases: [[number, number, number, number], [number, number, number, number], number | [number, number], 'same' | 'valid'][] = [
      [[2, 30, 30, 4], [4, 4, 4, 5], 2, 'valid'], // the MNIST medium CNN's conv2/conv4 after their ZeroPadding
      [[2, 14, 14, 3], [3, 3, 3, 6], 1, 'same'],
      [[2, 9, 9, 3], [3, 3, 3, 8], 2, 'same'],
      [[2, 8, 8, 3], [3, 3, 3, 8], 2, 'same'],
      [[2, 9, 9, 3], [4, 4, 3, 8], 2, 'valid'],
      [[2, 9, 7, 8], [1, 1, 8, 16], 2, 'valid'], // a 1×1 stride-2 shortcut: phases with no tap are zero
      [[2, 11, 10, 2], [5, 3, 2, 4], 3, 'same'],
      [[2, 11, 10, 2], [2, 5, 2, 4], [3, 2], 'valid'],
    ];
    cases.forEach(([xs, fs, strides, pad], i) => {
      const [x, f] = [tf.randomUniform(xs, -1, 1, 'float32', 10 + i), tf.randomUniform(fs, -1, 1, 'float32', 20 + i)] as tf.Tensor4D[];
      const dy = tf.randomUniform(tf.conv2d(x, f, strides, pad).shape, -1, 1, 'float32', 30 + i) as tf.Tensor4D;
      const want = tf.conv2dTranspose(dy, f, xs, strides, pad);
      const got = conv2dInputGradient(xs, dy, f, { strides, pad });
      expect(got.shape, `case ${i}`).toEqual(xs);
      const err = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] / tf.max(tf.abs(want)).dataSync()[0];
      expect(err, `case ${i}`).toBeLessThan(1e-5);
      tf.dispose([x, f, dy, want, got]);
    });
  });
});
