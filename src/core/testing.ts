/**
 * Tiny hand-checkable models for tests (Node, CPU backend). Not used by the product.
 */
import * as tf from '@tensorflow/tfjs';
import { wrapLayersModel, type LabModel } from './model/model';

/**
 * A linear classifier on flattened h×w×c images: logits = x·W + b with given weights.
 * With two classes the decision boundary is the hyperplane (w1 − w0)·x + (b1 − b0) = 0.
 */
export function linearModel(shape: [number, number, number], weights: number[][], bias: number[]): LabModel {
  const d = shape[0] * shape[1] * shape[2];
  const input = tf.input({ shape, name: 'input' });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: bias.length, name: 'fc' });
  const out = dense.apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  if (weights.length !== d) throw new Error(`weights need ${d} rows`);
  dense.setWeights([tf.tensor2d(weights), tf.tensor1d(bias)]);
  return wrapLayersModel(model);
}
