/**
 * Numerical sanity as a result: a model whose weights are NaN, or whose activations overflow
 * to ±Inf, still "predicts" (argmax of NaN is class 0), and every metric computed from it is
 * garbage that looks like a number. These checks find the first place that goes non-finite,
 * so analyses refuse with its name instead of printing.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';
import { quoteName } from '../text';
import type { LabModel } from './model';

/** Index of the first non-finite value in `values`, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * The first layer (in the model's order) whose activation on one image is not finite, found
 * by tapping every layer in one pass; null when all are finite (then only the logits
 * read-out is). `image`: one H×W×C image.
 */
export async function firstNonFiniteLayer(model: LabModel, image: Float32Array, shape: [number, number, number]): Promise<string | null> {
  const names = model.layers.map((l) => l.name);
  const x = tf.tensor4d(image, [1, ...shape]);
  try {
    const acts = model.tap(x, names);
    try {
      for (let i = 0; i < names.length; i++) {
        // One boolean per layer comes back, not the activation.
        const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(acts[i]))));
        const flag = (await bad.data())[0];
        bad.dispose();
        if (flag) return names[i];
      }
      return null;
    } finally {
      tf.dispose(acts);
    }
  } finally {
    x.dispose();
  }
}

/** The refusal for non-finite logits, naming the first non-finite layer (looked up on the first bad sample). */
export async function nonFiniteLogitsError(model: LabModel, images: Float32Array, shape: [number, number, number], badSamples: number[], total: number): Promise<LabError> {
  const d = shape[0] * shape[1] * shape[2];
  const first = badSamples[0];
  let layer: string | null = null;
  try {
    layer = await firstNonFiniteLayer(model, images.subarray(first * d, (first + 1) * d), shape);
  } catch {
    // The search is a diagnosis; its own failure must not hide the refusal.
  }
  const where = layer ? `; the first layer to go non-finite is ${quoteName(layer)}` : '';
  return new LabError(`the model's logits are not finite (NaN or ±Inf) on ${badSamples.length} of ${total} samples, first on sample ${first}${where}: no metrics are computed from them`);
}
