/** Batched inference over a sample set; only predictions and logits come back. */
import * as tf from '@tensorflow/tfjs';
import type { LabModel } from './model';
import { JobCancelledError, type JobControl } from '../types';
import { firstNonFinite, nonFiniteLogitsError } from './finite';

export interface Predictions {
  pred: Int32Array;
  confidence: Float32Array;
  /** n × numClasses logits, row-major. */
  logits: Float32Array;
  accuracy: number;
}

export const PREDICT_BATCH = 128;

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
