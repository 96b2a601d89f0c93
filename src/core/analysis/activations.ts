/**
 * Activations of tapped layers for a whole sample set, as one n × size Float32Array per
 * layer (row-major), gathered batch by batch within the activation budget. For analyses
 * that need the activations themselves (probes, mutual information), not only norms.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabModel } from '../model/model';
import { JobCancelledError, type JobControl } from '../types';
import { tapBatchFor } from './shift';

export async function collectActivations(
  model: LabModel,
  images: Float32Array,
  shape: [number, number, number],
  layers: string[],
  control: JobControl = {},
): Promise<Float32Array[]> {
  const d = shape[0] * shape[1] * shape[2];
  const n = images.length / d;
  const sizes = layers.map((name) => model.layers.find((l) => l.name === name)?.size ?? 0);
  const out = sizes.map((size) => new Float32Array(n * size));
  // One image set at a time (not clean + adversarial), so twice the shift's batch fits.
  const batch = 2 * tapBatchFor(model, layers);
  for (let start = 0; start < n; start += batch) {
    if (control.signal?.aborted) throw new JobCancelledError();
    const count = Math.min(batch, n - start);
    const taps = tf.tidy(() => model.tap(tf.tensor4d(images.subarray(start * d, (start + count) * d), [count, ...shape]), layers));
    for (let l = 0; l < layers.length; l++) out[l].set((await taps[l].data()) as Float32Array, start * sizes[l]);
    tf.dispose(taps);
    control.onProgress?.({ fraction: (start + count) / n, message: `activations ${start + count}/${n}` });
  }
  return out;
}
