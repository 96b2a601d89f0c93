/**
 * Batch normalisation (Ioffe & Szegedy, ICML 2015) over the channel axis of NHWC (or the
 * feature axis of [B, F]) tensors, with PyTorch's conventions (torch.nn.BatchNorm2d,
 * torch 1.13), so a model trained here keeps statistics a PyTorch model would:
 *  - training mode normalises with the batch mean and the *biased* batch variance
 *    (divide by n = B·H·W);
 *  - the running statistics move by momentum 0.1 towards the batch statistics, the running
 *    variance towards the *unbiased* variance (divide by n − 1):
 *      running_mean ← (1 − 0.1)·running_mean + 0.1·mean
 *      running_var  ← (1 − 0.1)·running_var  + 0.1·var·n/(n − 1)
 *    (Keras's momentum 0.99 is the same rule written as the weight of the old value; the
 *    exported topology says 0.99, which only matters to a Keras trainer);
 *  - ε = 1e-5 inside the square root, in both modes.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';

/** PyTorch's BatchNorm2d default momentum (weight of the new batch statistic). */
export const BN_MOMENTUM = 0.1;
/** PyTorch's BatchNorm2d default ε. */
export const BN_EPSILON = 1e-5;

/** One layer's batch statistics from a training-mode forward pass (tensors the caller owns). */
export interface BatchStats {
  layer: string;
  mean: tf.Tensor1D;
  /** Biased variance (what the batch was normalised with). */
  variance: tf.Tensor1D;
  /** Values per channel that the statistics averaged (B·H·W). */
  count: number;
}

/** y = (x − mean)/√(var + ε)·γ + β with batch statistics; `layer` non-null also returns the statistics (kept). */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, layer: string | null): { y: tf.Tensor; stats: BatchStats | null } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BN_EPSILON))), gamma), beta);
  if (layer === null) return { y, stats: null };
  // Kept so they outlive the gradient scope the forward runs in; the update reads them after the step.
  return { y, stats: { layer, mean: tf.keep(mean as tf.Tensor1D), variance: tf.keep(variance as tf.Tensor1D), count } };
}

/** Inference: the running statistics. */
export function batchNormInference(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BN_EPSILON))), gamma), beta);
}

/**
 * Move the running statistics by one batch (PyTorch's rule above) and dispose the batch
 * statistics. `stats` in forward order: a layer that ran twice in one step (TRADES's clean and
 * adversarial forwards) is updated twice, in that order, as PyTorch does.
 */
export function updateRunningStats(variables: Map<string, tf.Variable>, stats: BatchStats[]): void {
  for (const s of stats) {
    const runningMean = variables.get(`${s.layer}/moving_mean`);
    const runningVar = variables.get(`${s.layer}/moving_variance`);
    if (!runningMean || !runningVar) throw new LabError(`BatchNorm ${s.layer} has no running statistics`);
    if (s.count < 2) throw new LabError(`BatchNorm ${s.layer}: a batch of one value per channel has no variance (use a larger batch)`);
    tf.tidy(() => {
      runningMean.assign(tf.add(tf.mul(runningMean, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
      const unbiased = tf.mul(s.variance, s.count / (s.count - 1));
      runningVar.assign(tf.add(tf.mul(runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
    });
  }
  for (const s of stats) tf.dispose([s.mean, s.variance]);
}
