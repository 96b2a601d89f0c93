/**
 * Kernel parity: every differentiable op the plain-op executor and the attacks emit, run on
 * the backend under test and on the CPU backend (the reference: plain JavaScript loops), the
 * forward result and the gradient of every float input compared.
 *
 * Why: every attack, collision search and minimal-ε search stands on the model's input
 * gradient, and tfjs's backends implement each gradient kernel separately. Logits agreeing
 * says nothing about gradients: tfjs 4.22's WASM max-pool gradient was wrong (relative error
 * up to 1) while its forward pass was exact (see kernel-fixes.ts). So gradients are checked,
 * not trusted — in Node on WASM (vitest) and in Chromium on WebGL and WebGPU (e2e).
 *
 * Shapes are like real models' (several channels, batch > 1, conv outputs feeding the
 * pooling) and the loss is Σ y·r with a fixed random r, so a wrong routing of the output
 * gradient cannot hide behind a uniform one. Inputs are seeded; no case depends on the
 * backend's own random numbers.
 *
 * Error measure: max |got − reference| / max |reference| per output (0 when both are 0).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed } from '../random';
import { crossEntropyPerSample } from '../attacks/common';
import { signOf, sumOf } from './kernel-fixes';

/**
 * Relative tolerance for elementwise ops: float32 transcendental functions differ by a few
 * ulp between backends. Measured worst on WASM, WebGL and WebGPU (SwiftShader): 1.0e-6.
 */
export const ELEMENTWISE_TOLERANCE = 1e-5;
/** Convolutions, matMul and reductions: float32 sums in another order (measured worst 4e-7). */
export const ACCUMULATION_TOLERANCE = 1e-5;
/**
 * Whole models: a ReLU whose pre-activation sits within float rounding of 0 can switch on
 * one backend and not the other, moving a few gradient entries a little (measured worst
 * 1.1e-6). The WASM max-pool bug gave 0.15–1.
 */
export const MODEL_TOLERANCE = 1e-4;

export interface KernelCase {
  name: string;
  /** Shapes of the inputs; every input is float32 and differentiated. */
  shapes: number[][];
  /** Value range of the seeded uniform inputs (default [−1, 1]). */
  range?: [number, number];
  /** Round inputs to this many levels across the range, to create exact ties (pooling, max). */
  levels?: number;
  /**
   * Inputs of every magnitude: ±10^u with u uniform in [−12, 0] (the range is ignored). An
   * attack's gradients are this small on confidently classified images.
   */
  wide?: boolean;
  /** Outputs and gradients must agree in sign element by element (ops without accumulation). */
  exactSigns?: boolean;
  /** Inputs that are not differentiated (e.g. the filter of a conv, a selector). */
  constants?: number;
  run(inputs: tf.Tensor[]): tf.Tensor;
  tolerance?: number;
}

export interface CaseOutcome {
  name: string;
  /** Relative error of the forward output. */
  forward: number;
  /** Worst relative error over the gradients of the differentiated inputs. */
  gradient: number;
  tolerance: number;
  /** Elements whose sign differs from the reference's (checked for `exactSigns` cases). */
  signMismatches: number;
  pass: boolean;
  /** Set when the case threw on the backend under test (e.g. a kernel it does not have). */
  error?: string;
}

const conv = (x: tf.Tensor, f: tf.Tensor, strides: number, pad: 'same' | 'valid', dilation = 1) =>
  tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, strides, pad, 'NHWC', dilation);
/** A conv layer's output (8 channels) as the input of what follows, as in a real model. */
const convOut = (x: tf.Tensor, f: tf.Tensor) => conv(x, f, 1, 'same');

/** The op list of the issue: what the executor (executor.ts) and the attacks (attacks/*) emit. */
export function kernelCases(): KernelCase[] {
  const image = [4, 12, 12, 3];
  const map = [4, 10, 10, 8];
  const unary = (name: string, f: (x: tf.Tensor) => tf.Tensor, range: [number, number] = [-3, 3]): KernelCase => ({ name, shapes: [map], range, run: ([x]) => f(x) });
  const cases: KernelCase[] = [
    // Convolutions: each padding, stride and dilation the exporter writes; input gradient only (the filter is a constant).
    { name: 'conv2d 3x3 same s1', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => conv(x, f, 1, 'same'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'conv2d 3x3 valid s1', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => conv(x, f, 1, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'conv2d 3x3 same s2', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => conv(x, f, 2, 'same'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'conv2d 4x4 valid s2', shapes: [image, [4, 4, 3, 8]], constants: 1, run: ([x, f]) => conv(x, f, 2, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'conv2d 3x3 same dilation 2', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => conv(x, f, 1, 'same', 2), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'conv2d 1x1 s2', shapes: [map, [1, 1, 8, 16]], constants: 1, run: ([x, f]) => conv(x, f, 2, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'depthwise conv 3x3 same s1', shapes: [map, [3, 3, 8, 1]], constants: 1, run: ([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'depthwise conv 3x3 same s2, multiplier 2', shapes: [map, [3, 3, 8, 2]], constants: 1, run: ([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'depthwise conv 3x3 valid s1', shapes: [map, [3, 3, 8, 1]], constants: 1, run: ([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'depthwise conv 5x5 same dilation 2', shapes: [map, [5, 5, 8, 1]], constants: 1, run: ([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', 2), tolerance: ACCUMULATION_TOLERANCE },
    // Pooling: on conv outputs (the shape that broke WASM), with 'same' padding, overlapping windows and ties.
    { name: 'maxPool 2x2 s2 valid on a conv output', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => tf.maxPool(convOut(x, f), 2, 2, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'maxPool 2x2 s2 valid, 1 channel', shapes: [[3, 8, 8, 1]], run: ([x]) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') },
    { name: 'maxPool 3x3 s2 same', shapes: [map], run: ([x]) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same') },
    { name: 'maxPool 3x3 s1 same (overlapping)', shapes: [map], run: ([x]) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same') },
    { name: 'maxPool 2x2 s2 valid, odd size', shapes: [[4, 9, 9, 8]], run: ([x]) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') },
    { name: 'maxPool 2x2 s2 with ties', shapes: [map], levels: 3, run: ([x]) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') },
    { name: 'relu → batchnorm → maxPool (ties at dead units)', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => tf.maxPool(tf.add(tf.mul(tf.relu(convOut(x, f)), 0.7), -0.2) as tf.Tensor4D, 2, 2, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'avgPool 2x2 s2 valid on a conv output', shapes: [image, [3, 3, 3, 8]], constants: 1, run: ([x, f]) => tf.avgPool(convOut(x, f), 2, 2, 'valid'), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'avgPool 3x3 s2 same', shapes: [map], run: ([x]) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same') },
    { name: 'avgPool 3x3 s1 same', shapes: [map], run: ([x]) => tf.avgPool(x as tf.Tensor4D, 3, 1, 'same') },
    { name: 'global average pooling', shapes: [map], run: ([x]) => tf.mean(x, [1, 2]), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'global max pooling', shapes: [map], run: ([x]) => tf.max(x, [1, 2]) },
    // Shape and layout ops.
    { name: 'pad (zero padding 1,2)', shapes: [map], run: ([x]) => tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]) },
    { name: 'concat channels', shapes: [map, map], run: ([a, b]) => tf.concat([a, b], -1) },
    // Many inputs: WebGPU binds one storage buffer per input (default limit 8 per stage).
    { name: 'concat of 9 tensors', shapes: Array.from({ length: 9 }, () => [4, 6]), run: (xs) => tf.concat(xs, 0) },
    { name: 'stack of 9 tensors', shapes: Array.from({ length: 9 }, () => [4, 6]), run: (xs) => tf.stack(xs, 1) },
    { name: 'reshape / flatten', shapes: [map], run: ([x]) => tf.reshape(x, [map[0], -1]) },
    { name: 'slice', shapes: [map], run: ([x]) => tf.slice(x, [0, 1, 2, 0], [-1, 6, 5, 4]) },
    // Broadcasting arithmetic, as biases, residual adds and folded BatchNorm use it.
    { name: 'add (residual)', shapes: [map, map], run: ([a, b]) => tf.add(a, b) },
    { name: 'addN (3 branches)', shapes: [map, map, map], run: (xs) => tf.addN(xs) },
    { name: 'sum of 9 branches (sumOf, as the core adds)', shapes: Array.from({ length: 9 }, () => map), run: (xs) => sumOf(xs) },
    { name: 'add per-channel bias', shapes: [map, [8]], run: ([a, b]) => tf.add(a, b) },
    { name: 'sub [N,1,1,C] broadcast', shapes: [map, [4, 1, 1, 8]], run: ([a, b]) => tf.sub(a, b) },
    { name: 'mul per-channel scale', shapes: [map, [8]], run: ([a, b]) => tf.mul(a, b) },
    { name: 'div by per-channel', shapes: [map, [8]], range: [0.5, 2], run: ([a, b]) => tf.div(a, b) },
    { name: 'batch-norm folding (x·rsqrt(v+ε)·γ + β − μ·scale)', shapes: [map, [8], [8], [8], [8]], constants: 0, range: [0.2, 1.5],
      run: ([x, mean, variance, gamma, beta]) => {
        const scale = tf.mul(tf.rsqrt(tf.add(variance, 1e-3)), gamma);
        return tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(mean, scale)));
      } },
    { name: 'batchNorm op', shapes: [map, [8], [8], [8], [8]], constants: 4, range: [0.2, 1.5], run: ([x, m, v, o, s]) => tf.batchNorm(x, m, v, o, s, 1e-3) },
    // Activations.
    unary('relu', tf.relu),
    unary('relu6', tf.relu6, [-3, 9]),
    unary('elu', tf.elu),
    unary('selu', tf.selu),
    unary('leaky relu 0.2', (x) => tf.leakyRelu(x, 0.2)),
    unary('prelu', (x) => tf.prelu(x, tf.fill([8], 0.25))),
    unary('sigmoid', tf.sigmoid, [-8, 8]),
    unary('tanh', tf.tanh),
    unary('softplus', tf.softplus, [-8, 8]),
    unary('swish x·sigmoid(x)', (x) => tf.mul(x, tf.sigmoid(x))),
    unary('exp', tf.exp),
    unary('square', tf.square),
    unary('abs', tf.abs),
    unary('clip [−1, 1]', (x) => tf.clipByValue(x, -1, 1)),
    { name: 'sign, magnitudes 1e-12…1 (as the attacks take it)', shapes: [map], constants: 1, wide: true, exactSigns: true, run: ([x]) => signOf(x) },
    { name: 'relu, magnitudes 1e-12…1', shapes: [map], wide: true, exactSigns: true, run: ([x]) => tf.relu(x) },
    { name: 'abs, magnitudes 1e-12…1', shapes: [map], wide: true, exactSigns: true, run: ([x]) => tf.abs(x) },
    { name: 'leaky relu, magnitudes 1e-12…1', shapes: [map], wide: true, exactSigns: true, run: ([x]) => tf.leakyRelu(x, 0.2) },
    { name: 'select by x > 0, magnitudes 1e-12…1', shapes: [map, map], constants: 1, wide: true, exactSigns: true, run: ([y, x]) => tf.where(tf.greater(x, 0), y, tf.neg(y)) },
    // Dense layers and the losses the attacks differentiate.
    { name: 'matMul', shapes: [[8, 64], [64, 10]], run: ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'matMul, transposed B', shapes: [[8, 64], [10, 64]], run: ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true), tolerance: ACCUMULATION_TOLERANCE },
    { name: 'softmax', shapes: [[8, 10]], range: [-6, 6], run: ([z]) => tf.softmax(z) },
    { name: 'logSumExp', shapes: [[8, 10]], range: [-6, 6], run: ([z]) => tf.logSumExp(z, 1) },
    { name: 'cross-entropy per sample (attack loss)', shapes: [[8, 10]], range: [-6, 6], run: ([z]) => crossEntropyPerSample(z as tf.Tensor2D, tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32')) },
    { name: 'max over classes (DLR, margins)', shapes: [[8, 10]], run: ([z]) => tf.max(z, 1) },
    { name: 'sum and mean', shapes: [map], run: ([x]) => tf.add(tf.expandDims(tf.sum(x, [1, 2, 3]), 1), tf.mean(x, [2, 3])) },
    { name: 'L2 norm per sample', shapes: [map], range: [0.1, 1], run: ([x]) => tf.sqrt(tf.sum(tf.square(x), [1, 2, 3])) },
    { name: 'where / select', shapes: [map, map, map], constants: 1,
      run: ([a, b, c]) => tf.where(tf.greater(c, 0), a, b) },
  ];
  return cases;
}

function seededInputs(c: KernelCase, seed: number): Float32Array[] {
  const rng = createRng(deriveSeed(seed, `kernel-parity:${c.name}`));
  const [lo, hi] = c.range ?? [-1, 1];
  return c.shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (c.wide) {
        v[i] = (rng.next() < 0.5 ? -1 : 1) * 10 ** (-12 * u);
        continue;
      }
      v[i] = c.levels ? lo + ((hi - lo) * Math.floor(u * c.levels)) / Math.max(1, c.levels - 1) : lo + (hi - lo) * u;
    }
    return v;
  });
}

/** Indices of the differentiated inputs: all but the trailing `constants` ones. */
function differentiated(c: KernelCase): number[] {
  const k = c.shapes.length - (c.constants ?? 0);
  return Array.from({ length: k }, (_, i) => i);
}

export interface CaseValues {
  forward: Float32Array;
  gradients: Float32Array[];
}

/** Forward and gradients of Σ y·r on the active backend. */
export async function evaluateCase(c: KernelCase, seed = 0): Promise<CaseValues> {
  const values = seededInputs(c, seed);
  const inputs = values.map((v, i) => tf.tensor(v, c.shapes[i]));
  const wrt = differentiated(c);
  try {
    const forwardTensor = tf.tidy(() => c.run(inputs));
    const forward = (await forwardTensor.data()) as Float32Array;
    const rng = createRng(deriveSeed(seed, `kernel-parity:${c.name}:r`));
    // Wide cases weight the outputs by tiny values too, so tiny gradients flow back.
    const weight = () => (c.wide ? (rng.next() < 0.5 ? -1 : 1) * 10 ** (-12 * rng.next()) : 2 * rng.next() - 1);
    const r = tf.tensor(Float32Array.from({ length: forwardTensor.size }, weight), forwardTensor.shape);
    const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(c.run(inputs.map((t, i) => { const k = wrt.indexOf(i); return k >= 0 ? xs[k] : t; })), r));
    const grads = wrt.length > 0 ? tf.grads(loss)(wrt.map((i) => inputs[i])) : [];
    const out = { forward, gradients: (await Promise.all(grads.map((g) => g.data()))) as Float32Array[] };
    tf.dispose([forwardTensor, r, ...grads]);
    return out;
  } finally {
    tf.dispose(inputs);
  }
}

/** max |a − b| / max |b| (0 when both are all zero; ∞ on a length mismatch or a non-finite value). */
export function relativeError(got: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (got.length !== reference.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - reference[i]);
    if (!Number.isFinite(got[i]) || !Number.isFinite(reference[i])) return Infinity;
    if (d > diff) diff = d;
    if (Math.abs(reference[i]) > scale) scale = Math.abs(reference[i]);
  }
  return diff === 0 ? 0 : scale === 0 ? Infinity : diff / scale;
}

/** Elements whose sign (−, 0, +) differs. */
export function signMismatches(got: ArrayLike<number>, reference: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < Math.min(got.length, reference.length); i++) if (Math.sign(got[i]) !== Math.sign(reference[i])) n++;
  return n;
}

export function compareCase(name: string, got: CaseValues, reference: CaseValues, tolerance: number, exactSigns = false): CaseOutcome {
  const forward = relativeError(got.forward, reference.forward);
  const gradient = Math.max(0, ...got.gradients.map((g, i) => relativeError(g, reference.gradients[i])));
  const mismatches = exactSigns ? signMismatches(got.forward, reference.forward) + got.gradients.reduce((s, g, i) => s + signMismatches(g, reference.gradients[i]), 0) : 0;
  return { name, forward, gradient, tolerance, signMismatches: mismatches, pass: forward <= tolerance && gradient <= tolerance && mismatches === 0 };
}

/**
 * A whole model as one case: logits and the input gradient of the attacks' loss (summed
 * cross-entropy) on seeded images in [0, 1]. `logits` is the lab model's logits function
 * (the plain-op executor for LayersModels).
 */
export async function evaluateModel(logits: (x: tf.Tensor4D) => tf.Tensor2D, imageShape: [number, number, number], numClasses: number, batch = 4, seed = 0): Promise<CaseValues> {
  const rng = createRng(deriveSeed(seed, `kernel-parity:model:${imageShape.join('x')}`));
  const d = imageShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(Float32Array.from({ length: batch * d }, () => rng.next()), [batch, ...imageShape]);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % numClasses), 'int32');
  try {
    const z = tf.tidy(() => logits(x));
    const g = tf.grad((v: tf.Tensor) => tf.sum(crossEntropyPerSample(logits(v as tf.Tensor4D), labels)))(x);
    const out = { forward: (await z.data()) as Float32Array, gradients: [(await g.data()) as Float32Array] };
    tf.dispose([z, g]);
    return out;
  } finally {
    tf.dispose([x, labels]);
  }
}

/**
 * Run every case on `backend` and on `reference` (default CPU) and compare. Switches the
 * active backend back and forth; the caller restores its own backend afterwards.
 */
export async function runKernelParity(backend: string, reference = 'cpu', seed = 0, cases = kernelCases()): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const c of cases) {
    const tolerance = c.tolerance ?? ELEMENTWISE_TOLERANCE;
    let stage = reference;
    try {
      await tf.setBackend(reference);
      const want = await evaluateCase(c, seed);
      stage = backend;
      await tf.setBackend(backend);
      outcomes.push(compareCase(c.name, await evaluateCase(c, seed), want, tolerance, c.exactSigns));
    } catch (e) {
      outcomes.push({ name: c.name, forward: Infinity, gradient: Infinity, tolerance, signMismatches: 0, pass: false, error: `${stage}: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return outcomes;
}

/** A whole model to check: how to load it (once per backend) into the lab's model interface. */
export interface ModelParityCase {
  name: string;
  load(): Promise<{ logits(x: tf.Tensor4D): tf.Tensor2D; imageShape: [number, number, number] | null; inputShape: number[]; numClasses: number; dispose(): void }>;
}

/**
 * The executor on whole models: logits and the attack loss's input gradient on `backend`
 * against `reference`, each model loaded afresh on each backend (its weights live there).
 */
export async function runModelParity(backend: string, models: ModelParityCase[], reference = 'cpu', seed = 0): Promise<CaseOutcome[]> {
  const evaluateOn = async (name: string, m: ModelParityCase) => {
    await tf.setBackend(name);
    const model = await m.load();
    try {
      const shape = model.imageShape ?? (model.inputShape as [number, number, number]);
      return await evaluateModel((x) => model.logits(x), shape, model.numClasses, 4, seed);
    } finally {
      model.dispose();
    }
  };
  const outcomes: CaseOutcome[] = [];
  for (const m of models) {
    let stage = reference;
    try {
      const want = await evaluateOn(reference, m);
      stage = backend;
      outcomes.push(compareCase(m.name, await evaluateOn(backend, m), want, MODEL_TOLERANCE));
    } catch (e) {
      outcomes.push({ name: m.name, forward: Infinity, gradient: Infinity, tolerance: MODEL_TOLERANCE, signMismatches: 0, pass: false, error: `${stage}: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return outcomes;
}
