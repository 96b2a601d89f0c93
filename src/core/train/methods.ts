/**
 * Training methods: the loss of one batch, with the adversarial examples it needs.
 *
 *  - standard: mean cross-entropy on the clean batch.
 *  - fgsm-rs: "fast" adversarial training (Wong, Rice & Kolter, ICLR 2020, "Fast is better
 *    than free"): a uniform random start in the ε-ball, one signed-gradient step of α = 1.25·ε,
 *    projection back onto the ball ∩ [0, 1]; mean CE on the result.
 *  - pgd: PGD adversarial training (Madry et al., ICLR 2018): random start, k steps of α
 *    (default 2.5·ε/k), projection each step, the *final* iterate (not the lab's
 *    first-misclassified one, which is an evaluation choice); mean CE on it.
 *  - trades: TRADES (Zhang et al., ICML 2019):
 *      CE(f(x), y)  +  β · (1/B) Σ_i KL( softmax f(x_i) ‖ softmax f(x'_i) ),
 *    x' from x + 0.001·N(0, I), k steps ascending Σ_i KL(p(x_i) ‖ p(x'_i)) with p(x) fixed;
 *    gradients flow through both f(x) and f(x') in the outer loss (as in the reference code).
 *
 * The steps reuse the lab's attack pieces (src/core/attacks): PGD's seeded random start,
 * the steepest-ascent direction (sign or L2-normalised gradient), the exact L∞ / references'
 * L2 projection onto the ball ∩ [0,1], and the CE / summed-loss input gradient.
 *
 * BatchNorm while the examples are made (ResNet only): PGD and FGSM-RS use batch statistics
 * (the zoo trainer and the references run the attack in training mode), without moving the
 * running statistics: PyTorch would move them once per attack step, which only makes them
 * depend on k; TRADES uses the running statistics, as its reference puts the model in eval
 * mode for the inner maximisation. The outer loss runs in training mode and updates the
 * running statistics once per forward (twice for TRADES), as PyTorch's train mode does.
 */
import * as tf from '@tensorflow/tfjs';
import { ascentDirection, createProjector, crossEntropyPerSample, lossGradAndLogits, type Norm } from '../attacks/common';
import { randomStart } from '../attacks/pgd';
import type { Rng } from '../random';
import { JobCancelledError } from '../types';
import type { Net } from './arch';
import type { BatchStats } from './batchnorm';

export type MethodName = 'standard' | 'fgsm-rs' | 'pgd' | 'trades';

export interface MethodOptions {
  method: MethodName;
  norm: Norm;
  /** ε of this step (after the ramp). */
  eps: number;
  /** Attack steps k (pgd, trades); fgsm-rs takes one. */
  steps: number;
  /** Step size α of this step (after the ramp); see defaultStepSize. */
  stepSize: number;
  /** TRADES's β (the paper's 1/λ; 6 in its MNIST and CIFAR-10 runs). */
  beta: number;
}

/** The default α: 1.25·ε for FGSM-RS (Wong et al. 2020), 2.5·ε/k for PGD and TRADES (Madry et al. 2018). */
export function defaultStepSize(method: MethodName, eps: number, steps: number): number {
  return method === 'fgsm-rs' ? 1.25 * eps : (2.5 * eps) / Math.max(1, steps);
}

/** Per-sample KL(p ‖ softmax z) from p's log-probabilities; shape [B]. */
export function klPerSample(logP: tf.Tensor2D, z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, tf.logSoftmax(z, 1))), 1) as tf.Tensor1D);
}

/** The TRADES objective on given logits: mean CE(zNat, y) + β·Σ KL(softmax zNat ‖ softmax zAdv)/B. */
export function tradesLoss(zNat: tf.Tensor2D, zAdv: tf.Tensor2D, labels: tf.Tensor1D, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const ce = tf.mean(crossEntropyPerSample(zNat, labels));
    const kl = tf.div(tf.sum(klPerSample(tf.logSoftmax(zNat, 1) as tf.Tensor2D, zAdv)), zNat.shape[0]);
    return tf.add(ce, tf.mul(kl, beta)) as tf.Scalar;
  });
}

/**
 * Ascend `loss` (per-sample, summed) from `start` for `steps` steps of α, projecting onto the
 * ε-ball around x0 ∩ [0,1] after each; returns the final iterate. Takes ownership of `start`.
 */
function ascend(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  x0: tf.Tensor4D,
  start: tf.Tensor4D,
  labels: tf.Tensor1D,
  opts: MethodOptions,
  steps: number,
  loss: ((z: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor1D) | undefined,
  signal: AbortSignal | undefined,
): tf.Tensor4D {
  const projector = createProjector(x0, opts.eps, opts.norm);
  let x = start;
  try {
    for (let k = 0; k < steps; k++) {
      if (signal?.aborted) throw new JobCancelledError();
      const { grad, logits: z } = lossGradAndLogits(logits, x, labels, loss);
      z.dispose();
      const next = tf.tidy(() => projector.project(tf.add(x, tf.mul(ascentDirection(grad, opts.norm), opts.stepSize)) as tf.Tensor4D));
      tf.dispose([grad, x]);
      x = next;
    }
    return x;
  } catch (e) {
    x.dispose();
    throw e;
  } finally {
    projector.dispose();
  }
}

/** The adversarial batch a method trains on (null for standard training or ε = 0). The caller owns it. */
export function adversarialExamples(net: Net, x: tf.Tensor4D, y: tf.Tensor1D, opts: MethodOptions, rng: Rng, signal?: AbortSignal): tf.Tensor4D | null {
  if (opts.method === 'standard' || opts.eps === 0) return null;
  if (opts.method === 'trades') {
    const evalLogits = (input: tf.Tensor4D) => net.forward(input, 'eval');
    const logPClean = tf.tidy(() => tf.logSoftmax(evalLogits(x), 1) as tf.Tensor2D);
    try {
      // The reference's start: x + 0.001·N(0, I), drawn from the seeded stream, clipped to the image box.
      const [b, h, w, c] = x.shape;
      const noise = new Float32Array(b * h * w * c);
      for (let i = 0; i < noise.length; i++) noise[i] = 0.001 * rng.normal();
      const start = tf.tidy(() => tf.clipByValue(tf.add(x, tf.tensor4d(noise, x.shape)), 0, 1) as tf.Tensor4D);
      return ascend(evalLogits, x, start, y, opts, opts.steps, (z) => klPerSample(logPClean, z), signal);
    } finally {
      logPClean.dispose();
    }
  }
  const batchLogits = (input: tf.Tensor4D) => net.forward(input, 'batch');
  const start = randomStart({ x0: x, spec: { eps: opts.eps, norm: opts.norm }, rng });
  return ascend(batchLogits, x, start, y, opts, opts.method === 'fgsm-rs' ? 1 : opts.steps, undefined, signal);
}

/**
 * The scalar training loss of a batch in training mode (BatchNorm statistics pushed onto
 * `stats`), given the adversarial batch from adversarialExamples. Call inside a gradient scope.
 */
export function trainingLoss(net: Net, x: tf.Tensor4D, y: tf.Tensor1D, adversarial: tf.Tensor4D | null, opts: MethodOptions, stats: BatchStats[]): tf.Scalar {
  if (adversarial === null) return tf.mean(crossEntropyPerSample(net.forward(x, 'train', stats), y)) as tf.Scalar;
  if (opts.method === 'trades') {
    const zNat = net.forward(x, 'train', stats);
    const zAdv = net.forward(adversarial, 'train', stats);
    return tradesLoss(zNat, zAdv, y, opts.beta);
  }
  return tf.mean(crossEntropyPerSample(net.forward(adversarial, 'train', stats), y)) as tf.Scalar;
}
