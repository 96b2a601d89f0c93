/** Batched inference over a sample set; only predictions and logits come back. */
import * as tf from '@tensorflow/tfjs';
import type { LabModel } from './model';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { firstNonFinite, nonFiniteLogitsError } from './finite';

export interface Predictions {
  pred: Int32Array;
  confidence: Float32Array;
  /** n × numClasses logits, row-major. */
  logits: Float32Array;
  accuracy: number;
}

export const PREDICT_BATCH = 128;
/**
 * Activation memory a prediction batch may take (512 MB): every layer's output for every
 * sample of the batch, an upper bound on what the backend holds at once. WASM's heap tops out
 * at 2-4 GB and a mid-range GPU's buffers at similar sizes; past this the backend fails with
 * "memory access out of bounds" instead of a reason, so the batch shrinks first.
 */
export const ACTIVATION_BUDGET_BYTES = 512 * 2 ** 20;

/** Largest batch (≤ `wanted`) whose activations fit ACTIVATION_BUDGET_BYTES, or a LabError when one sample does not. */
export function batchForMemory(model: Pick<LabModel, 'layers'>, wanted: number): number {
  const perSample = model.layers.reduce((s, l) => s + l.size, 0) * 4;
  if (perSample > ACTIVATION_BUDGET_BYTES) {
    throw new LabError(`one sample needs ${(perSample / 2 ** 20).toFixed(0)} MB of activations, more than the ${ACTIVATION_BUDGET_BYTES / 2 ** 20} MB the lab allows; the model is too large to run here`);
  }
  return Math.max(1, Math.min(wanted, Math.floor(ACTIVATION_BUDGET_BYTES / Math.max(1, perSample))));
}

export async function predictAll(
  model: LabModel,
  images: Float32Array,
  labels: Int32Array,
  shape: [number, number, number],
  control: JobControl = {},
  batchSize = PREDICT_BATCH,
): Promise<Predictions> {
  const d = shape[0] * shape[1] * shape[2];
  const n = labels.length;
  batchSize = batchForMemory(model, batchSize);
  const k = model.numClasses;
  const out: Predictions = { pred: new Int32Array(n), confidence: new Float32Array(n), logits: new Float32Array(n * k), accuracy: 0 };
  let correct = 0;
  const nonFinite: number[] = [];
  for (let start = 0; start < n; start += batchSize) {
    if (control.signal?.aborted) throw new JobCancelledError(out);
    const count = Math.min(batchSize, n - start);
    const z = tf.tidy(() => model.logits(tf.tensor4d(images.subarray(start * d, (start + count) * d), [count, ...shape])));
    const zs = (await z.data()) as Float32Array;
    z.dispose();
    out.logits.set(zs, start * k);
    for (let i = 0; i < count; i++) {
      if (firstNonFinite(zs.subarray(i * k, (i + 1) * k)) >= 0) nonFinite.push(start + i);
      let best = 0;
      let max = -Infinity;
      for (let j = 0; j < k; j++) if (zs[i * k + j] > max) { max = zs[i * k + j]; best = j; }
      let denom = 0;
      for (let j = 0; j < k; j++) denom += Math.exp(zs[i * k + j] - max);
      out.pred[start + i] = best;
      out.confidence[start + i] = 1 / denom;
      if (best === labels[start + i]) correct++;
    }
    control.onProgress?.({ fraction: (start + count) / n, message: `predicted ${start + count}/${n}` });
  }
  // Accuracy over NaN logits is argmax over garbage: refuse, and say where it went wrong.
  if (nonFinite.length) throw await nonFiniteLogitsError(model, images, shape, nonFinite, n);
  out.accuracy = n ? correct / n : 0;
  return out;
}
