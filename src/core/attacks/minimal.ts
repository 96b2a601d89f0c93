/**
 * Per-sample minimal ε of a bounded attack by bisection, with PGD (Madry et al., ICLR
 * 2018) as the oracle "is there an adversarial within ε?", L-inf or L2.
 *
 * Every sample bisects its own ε in parallel: the bracket [lo, hi] is a pair of [B]
 * tensors, the PGD run of a round uses the per-sample ε = (lo + hi)/2 for its random start,
 * its step size 2.5·ε/steps and its projection, and each sample moves lo or hi by its own
 * outcome (masked updates, fixed batch shape), with a step size α = 2.5·ε/steps per sample. First one probe at ε = maxEps decides whether
 * the sample breaks at all; then a fixed number of rounds halves the bracket, so the answer
 * is within maxEps/2^rounds above the smallest ε at which PGD found an adversarial.
 *
 * Conventions of the returned per-sample values (as in the minimum-norm attacks):
 * - 0 for a sample misclassified when clean (no perturbation needed; never attacked);
 * - Infinity when PGD found no adversarial even at maxEps (the minimal ε is > maxEps);
 * - otherwise the upper end of the final bracket, an ε at which PGD did succeed.
 * PGD is a heuristic oracle: success need not be monotone in ε, so the value is an upper
 * bound on the true minimal ε only up to PGD's own failures, like any attack's.
 *
 * PGD here follows spec attacks.md §3–4 (random start, sign or L2-normalised steps,
 * projection then clip into [0, 1]), and, as the lab's pgd.ts, a probe counts as a success
 * if any iterate (the random start included) was misclassified.
 */
import * as tf from '@tensorflow/tfjs';
import { signOf } from '../model/kernel-fixes';
import { createRng, deriveSeed, type Rng } from '../random';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { type Norm, MIN_NORM, l2PerSample, lossGradAndLogits, perSample } from './common';
import type { AttackInput } from './runner';

export const DEFAULT_BISECTION_ROUNDS = 10;
export const DEFAULT_BISECTION_PGD_STEPS = 40;
/** α = 2.5·ε/steps (Madry et al.). */
export const DEFAULT_STEP_FACTOR = 2.5;
const DEFAULT_BATCH = 32;

export interface MinimalEpsilonOptions {
  norm: Norm;
  /** Upper end of the bracket; samples that survive it get Infinity. */
  maxEps: number;
  /** Halvings of the bracket after the probe at maxEps (default 10: tolerance maxEps/1024). */
  rounds?: number;
  /** PGD steps per probe (default 40). */
  steps?: number;
  /**
   * Step size α = stepFactor·ε/steps per sample (default 2.5, Madry et al.). The total
   * travel is stepFactor·ε whatever the step count; under L2 the component of the random
   * start orthogonal to the gradient shrinks by about e^(−stepFactor) over the run, so a
   * larger factor converges closer to the sphere's best point.
   */
  stepFactor?: number;
  seed: number;
  batchSize?: number;
}

export interface MinimalEpsilonResult {
  norm: Norm;
  maxEps: number;
  rounds: number;
  steps: number;
  stepFactor: number;
  /** maxEps / 2^rounds: how far above the PGD success threshold a value can be. */
  tolerance: number;
  /** Per sample: 0 clean-misclassified, Infinity not found up to maxEps, else the minimal ε. */
  minimalEps: Float32Array;
  cleanPred: Int32Array;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Random-start noise of unit scale: L-inf U(−1, 1) per coordinate; L2 a unit direction times r ~ U(0, 1). */
function unitStartNoise(rng: Rng, shape: [number, number, number, number], norm: Norm): tf.Tensor4D {
  const [b, h, w, c] = shape;
  const d = h * w * c;
  const noise = new Float32Array(b * d);
  for (let i = 0; i < b; i++) {
    if (norm === 'linf') {
      for (let j = 0; j < d; j++) noise[i * d + j] = 2 * rng.next() - 1;
      continue;
    }
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.normal();
      noise[i * d + j] = v;
      sq += v * v;
    }
    const scale = rng.next() / Math.max(Math.sqrt(sq), MIN_NORM);
    for (let j = 0; j < d; j++) noise[i * d + j] *= scale;
  }
  return tf.tensor4d(noise, shape);
}

/** Projection onto the per-sample ball ‖x − x0‖ ≤ eps_b, then into [0, 1] (spec §0). */
function projectPerSample(x: tf.Tensor4D, x0: tf.Tensor4D, eps: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === 'linf') return tf.clipByValue(tf.minimum(tf.maximum(x, tf.sub(x0, eps)), tf.add(x0, eps)), 0, 1) as tf.Tensor4D;
    const d = tf.sub(x, x0) as tf.Tensor4D;
    const scale = tf.minimum(1, tf.div(eps, perSample(tf.maximum(l2PerSample(d), MIN_NORM))));
    return tf.clipByValue(tf.add(x0, tf.mul(d, scale)), 0, 1) as tf.Tensor4D;
  });
}

/**
 * One PGD run with per-sample radius eps [B]: true where any iterate was misclassified.
 */
async function pgdSucceedsAt(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  x0: tf.Tensor4D,
  labels: tf.Tensor1D,
  eps: tf.Tensor1D,
  norm: Norm,
  steps: number,
  stepFactor: number,
  rng: Rng,
  signal?: AbortSignal,
): Promise<tf.Tensor1D> {
  const radius = perSample(eps);
  const alpha = tf.mul(radius, stepFactor / steps);
  const noise = unitStartNoise(rng, x0.shape, norm);
  let x = tf.tidy(() => tf.clipByValue(tf.add(x0, tf.mul(noise, radius)), 0, 1) as tf.Tensor4D);
  let fooled = tf.zeros([x0.shape[0]], 'bool') as tf.Tensor1D;
  noise.dispose();
  try {
    for (let step = 0; step <= steps; step++) {
      if (signal?.aborted) throw new JobCancelledError();
      const last = step === steps;
      const { grad, logits: z } = last ? { grad: null, logits: logits(x) } : lossGradAndLogits(logits, x, labels);
      const nextFooled = tf.tidy(() => tf.logicalOr(fooled, tf.notEqual(tf.argMax(z, 1), labels)) as tf.Tensor1D);
      const nextX = grad
        ? tf.tidy(() => {
            const direction = norm === 'linf' ? signOf(grad) : tf.div(grad, perSample(tf.maximum(l2PerSample(grad), MIN_NORM)));
            return projectPerSample(tf.add(x, tf.mul(direction, alpha)) as tf.Tensor4D, x0, radius, norm);
          })
        : null;
      tf.dispose([z, fooled]);
      grad?.dispose();
      fooled = nextFooled;
      if (nextX) {
        x.dispose();
        x = nextX;
      }
      if (!last && step % 8 === 7) await yieldToEventLoop();
    }
    return fooled;
  } catch (e) {
    fooled.dispose();
    throw e;
  } finally {
    tf.dispose([x, radius, alpha]);
  }
}

/**
 * Minimal ε per sample by batched bisection with PGD (see the file comment for the
 * conventions: 0 clean-misclassified, Infinity not found up to maxEps).
 */
export async function minimalEpsilonByBisection(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  input: AttackInput,
  options: MinimalEpsilonOptions,
  control: JobControl = {},
): Promise<MinimalEpsilonResult> {
  const { norm, maxEps, seed } = options;
  const rounds = options.rounds ?? DEFAULT_BISECTION_ROUNDS;
  const steps = options.steps ?? DEFAULT_BISECTION_PGD_STEPS;
  const stepFactor = options.stepFactor ?? DEFAULT_STEP_FACTOR;
  if (!(stepFactor > 0)) throw new LabError(`step factor must be > 0 (got ${stepFactor})`);
  if (!(maxEps > 0) || !Number.isFinite(maxEps)) throw new LabError(`max eps must be a finite number > 0 (got ${maxEps})`);
  if (norm === 'linf' && maxEps > 1) throw new LabError(`L-inf max eps ${maxEps} exceeds 1, the whole pixel range`);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 40) throw new LabError(`bisection rounds must be an integer in 1..40 (got ${rounds})`);
  if (!Number.isInteger(steps) || steps < 1 || steps > 10000) throw new LabError(`steps must be an integer in 1..10000 (got ${steps})`);
  const [h, w, c] = input.shape;
  const d = h * w * c;
  const n = input.labels.length;
  if (input.images.length !== n * d) throw new LabError(`input has ${input.images.length} floats, expected ${n}×${h}×${w}×${c}`);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? DEFAULT_BATCH, n));
  const rng = createRng(deriveSeed(seed, `minimal-eps:pgd:${norm}:${maxEps}`));
  const minimalEps = new Float32Array(n);
  const cleanPred = new Int32Array(n);
  const numBatches = Math.ceil(n / batchSize);
  for (let b = 0; b < numBatches; b++) {
    const start = b * batchSize;
    const count = Math.min(batchSize, n - start);
    // Fixed batch shape: pad with copies of the batch's first image; padding is dropped.
    const xs = new Float32Array(batchSize * d);
    xs.set(input.images.subarray(start * d, (start + count) * d));
    for (let i = count; i < batchSize; i++) xs.copyWithin(i * d, 0, d);
    const ys = new Int32Array(batchSize);
    ys.set(input.labels.subarray(start, start + count));
    const x0 = tf.tensor4d(xs, [batchSize, h, w, c]);
    const labels = tf.tensor1d(ys, 'int32');
    let lo = tf.zeros([batchSize]) as tf.Tensor1D;
    let hi = tf.fill([batchSize], maxEps) as tf.Tensor1D;
    let found: tf.Tensor1D | null = null;
    try {
      found = await pgdSucceedsAt(logits, x0, labels, hi, norm, steps, stepFactor, rng, control.signal);
      for (let r = 0; r < rounds; r++) {
        const mid = tf.tidy(() => tf.div(tf.add(lo, hi), 2) as tf.Tensor1D);
        const fooled = await pgdSucceedsAt(logits, x0, labels, mid, norm, steps, stepFactor, rng, control.signal).catch((e) => {
          mid.dispose();
          throw e;
        });
        const next = tf.tidy(() => ({ lo: tf.where(fooled, lo, mid) as tf.Tensor1D, hi: tf.where(fooled, mid, hi) as tf.Tensor1D }));
        tf.dispose([lo, hi, mid, fooled]);
        lo = next.lo;
        hi = next.hi;
        control.onProgress?.({ fraction: (b * (rounds + 1) + r + 2) / (numBatches * (rounds + 1)), message: `batch ${b + 1}/${numBatches}, bisection round ${r + 1}/${rounds}` });
      }
      const pred = tf.tidy(() => tf.argMax(logits(x0), 1));
      const [predValues, hiValues, foundValues] = await Promise.all([pred.data(), hi.data(), found.data()]);
      pred.dispose();
      for (let i = 0; i < count; i++) {
        const k = start + i;
        cleanPred[k] = predValues[i];
        minimalEps[k] = predValues[i] !== ys[i] ? 0 : foundValues[i] ? hiValues[i] : Infinity;
      }
    } finally {
      tf.dispose([x0, labels, lo, hi]);
      found?.dispose();
    }
  }
  return { norm, maxEps, rounds, steps, stepFactor, tolerance: maxEps / 2 ** rounds, minimalEps, cleanPred };
}

/** Quantile q ∈ [0, 1] of ascending values, linear between order statistics; ∞ stays ∞. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const fraction = position - below;
  const a = sorted[below];
  if (fraction === 0 || below + 1 >= sorted.length) return a;
  const b = sorted[below + 1];
  if (!Number.isFinite(a) || !Number.isFinite(b)) return b;
  return a + fraction * (b - a);
}

export interface ClassEpsilonSummary {
  label: number;
  /** Samples of this class. */
  n: number;
  /** Of which misclassified when clean (minimal ε 0). */
  cleanMisclassified: number;
  /** Of which no adversarial was found (minimal ε ∞). */
  notFound: number;
  /** Quartiles over all n samples, zeros and infinities included (the minimal-ε distribution). */
  q1: number;
  median: number;
  q3: number;
  min: number;
  max: number;
}

/**
 * Per-class distribution of per-sample minimal ε: quartiles over every sample of the class,
 * counting clean-misclassified samples as 0 and unbroken ones as ∞, so that the fraction
 * of a class above ε is its robust accuracy at ε. NaN for a class with no samples.
 */
export function perClassEpsilonSummary(minimalEps: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): ClassEpsilonSummary[] {
  return Array.from({ length: numClasses }, (_, label) => {
    const values: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === label) values.push(minimalEps[i]);
    values.sort((a, b) => a - b);
    return {
      label,
      n: values.length,
      cleanMisclassified: values.filter((v) => v === 0).length,
      notFound: values.filter((v) => v === Infinity).length,
      q1: quantile(values, 0.25),
      median: quantile(values, 0.5),
      q3: quantile(values, 0.75),
      min: values.length ? values[0] : NaN,
      max: values.length ? values[values.length - 1] : NaN,
    };
  });
}
