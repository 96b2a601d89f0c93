/**
 * Relative representation shift per layer: ‖f_l(x_adv) − f_l(x)‖₂ / ‖f_l(x)‖₂ for every
 * sample and tapped layer l. It shows at which depth a perturbation that is tiny in
 * pixel space has grown (or been damped) inside the network.
 *
 * The activations never leave the device: per batch we tap clean and adversarial
 * images, reduce to per-sample norms on the backend and read back two numbers per
 * sample and layer. Non-finite activations are reported, not silently averaged.
 */
import * as tf from '@tensorflow/tfjs';
import { tapBytes, type LabModel } from '../model/model';
import { JobCancelledError, LabError, type JobControl } from '../types';

export interface LayerShift {
  layer: string;
  /** Per-sample relative shift; NaN where the clean activation is all zero or not finite. */
  values: Float32Array;
  mean: number;
  sd: number;
  median: number;
  q25: number;
  q75: number;
  /** Samples whose activations contained NaN/Inf (clean or adversarial). */
  nonFinite: number;
}

/** Batch size for taps: activations of all tapped layers for 2×this many images live at once. */
export const TAP_BATCH = 32;

/**
 * Device memory the activations of one tap batch may take. 256 MiB fits integrated GPUs
 * and the browser's per-tab limits with room for the model and the attack's state; the
 * batch shrinks to fit, and a layer whose single sample exceeds it is refused.
 */
export const ACTIVATION_BUDGET_BYTES = 256 * 1024 * 1024;

/** The tap batch size that fits the budget, or a LabError saying what to do. */
export function tapBatchFor(model: LabModel, layers: string[], wanted = TAP_BATCH, budget = ACTIVATION_BUDGET_BYTES): number {
  // Clean and adversarial activations of every tapped layer are alive at once.
  const perSample = 2 * tapBytes(model, layers, 1);
  const fits = Math.floor(budget / Math.max(1, perSample));
  if (fits < 1) {
    const biggest = layers
      .map((name) => model.layers.find((l) => l.name === name))
      .filter((l) => l !== undefined)
      .sort((a, b) => b.size - a.size)[0];
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    throw new LabError(
      `tapped layers need ${mb(perSample)} MB per sample, over the ${mb(budget)} MB activation budget; untap the largest (${biggest?.name}, ${biggest?.size} floats) or tap fewer layers`,
    );
  }
  return Math.min(wanted, fits);
}

export function summarise(values: Float32Array): Pick<LayerShift, 'mean' | 'sd' | 'median' | 'q25' | 'q75'> {
  const finite = Array.from(values).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return { mean: NaN, sd: NaN, median: NaN, q25: NaN, q75: NaN };
  const mean = finite.reduce((s, v) => s + v, 0) / finite.length;
  const sd = Math.sqrt(finite.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, finite.length - 1));
  const q = (p: number) => {
    const pos = p * (finite.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return finite[lo] + (finite[hi] - finite[lo]) * (pos - lo);
  };
  return { mean, sd, median: q(0.5), q25: q(0.25), q75: q(0.75) };
}

export async function representationShift(
  model: LabModel,
  clean: Float32Array,
  adversarial: Float32Array,
  shape: [number, number, number],
  layers: string[],
  control: JobControl = {},
  budgetBytes = ACTIVATION_BUDGET_BYTES,
): Promise<LayerShift[]> {
  const batchSize = tapBatchFor(model, layers, TAP_BATCH, budgetBytes);
  const d = shape[0] * shape[1] * shape[2];
  const n = clean.length / d;
  const values = layers.map(() => new Float32Array(n));
  const nonFinite = layers.map(() => 0);
  for (let start = 0; start < n; start += batchSize) {
    if (control.signal?.aborted) throw new JobCancelledError();
    const count = Math.min(batchSize, n - start);
    const norms = tf.tidy(() => {
      const xc = tf.tensor4d(clean.subarray(start * d, (start + count) * d), [count, ...shape]);
      const xa = tf.tensor4d(adversarial.subarray(start * d, (start + count) * d), [count, ...shape]);
      const ac = model.tap(xc, layers);
      const aa = model.tap(xa, layers);
      return layers.map((_, l) => {
        const c = ac[l].reshape([count, -1]);
        const a = aa[l].reshape([count, -1]);
        const bad = tf.logicalNot(tf.all(tf.logicalAnd(tf.isFinite(c), tf.isFinite(a)), 1));
        return {
          diff: tf.sqrt(tf.sum(tf.square(tf.sub(a, c)), 1)),
          base: tf.sqrt(tf.sum(tf.square(c), 1)),
          bad,
        };
      });
    });
    for (let l = 0; l < layers.length; l++) {
      const [diff, base, bad] = await Promise.all([norms[l].diff.data(), norms[l].base.data(), norms[l].bad.data()]);
      for (let i = 0; i < count; i++) {
        if (bad[i]) {
          nonFinite[l]++;
          values[l][start + i] = NaN;
        } else values[l][start + i] = base[i] > 0 ? diff[i] / base[i] : NaN;
      }
    }
    tf.dispose(norms.flatMap((x) => [x.diff, x.base, x.bad]));
    control.onProgress?.({ fraction: Math.min(1, (start + count) / n), message: `layer shifts ${start + count}/${n}` });
  }
  return layers.map((layer, l) => ({ layer, values: values[l], nonFinite: nonFinite[l], ...summarise(values[l]) }));
}
