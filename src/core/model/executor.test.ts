import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlainExecutor } from './executor';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small residual CNN touching every layer type the zoo exports. */
function residualNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'input' });
  const pad = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'stem.pad' }).apply(input) as tf.SymbolicTensor;
  const stem = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', name: 'stem' }).apply(pad) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'stem.bn', epsilon: 1e-5 }).apply(stem) as tf.SymbolicTensor;
  const act = tf.layers.activation({ activation: 'relu', name: 'stem.relu' }).apply(bn) as tf.SymbolicTensor;
  const branch = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'block.conv' }).apply(act) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'block.add' }).apply([branch, act]) as tf.SymbolicTensor;
  const pool = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(sum) as tf.SymbolicTensor;
  const avg = tf.layers.averagePooling2d({ poolSize: 1, name: 'avg' }).apply(pool) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(avg) as tf.SymbolicTensor;
  const drop = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(gap) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, name: 'fc' }).apply(drop) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  // Non-trivial BatchNorm statistics.
  const bnLayer = model.getLayer('stem.bn');
  bnLayer.setWeights(bnLayer.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5, 'float32', i)));
  return model;
}

describe('plain-op executor', () => {
  let model: tf.LayersModel;
  beforeAll(() => {
    model = residualNet();
  });
  afterAll(() => model.dispose());

  it('matches the layers model forward pass and its input gradient', () => {
    const exec = createPlainExecutor(model);
    expect(exec.fallbackLayers).toEqual([]);
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 7);
    const [fwd, grad] = tf.tidy(() => {
      const ref = model.predict(x) as tf.Tensor;
      const ours = exec.run(x, model.outputs[0]);
      const gRef = tf.grad((v: tf.Tensor) => tf.sum(tf.square(model.apply(v, { training: false }) as tf.Tensor)))(x);
      const gOurs = tf.grad((v: tf.Tensor) => tf.sum(tf.square(exec.run(v, model.outputs[0]))))(x);
      return [tf.max(tf.abs(tf.sub(ref, ours))).dataSync()[0], tf.max(tf.abs(tf.sub(gRef, gOurs))).dataSync()[0]];
    });
    expect(fwd).toBeLessThan(1e-5);
    expect(grad).toBeLessThan(1e-5);
    x.dispose();
    exec.dispose();
    expect(tf.memory().numTensors).toBe(before - 2); // the two folded BatchNorm tensors
  });
});
