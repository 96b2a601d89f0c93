/**
 * One rule for a gradient step's memory (stepMemory.ts) on models small enough to count by
 * hand: the ONNX importer's load-time estimate and the attack runner's batch cap give the same
 * bytes per image for an imported model, and a LayersModel is sized by the same formula.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { attackBatchForMemory, attackBatchSize } from '../attacks/runner';
import { loadOnnxModel } from '../onnx/import';
import { estimateOnnxMemory } from '../onnx/memory';
import { onnx } from '../onnx/proto';
import { wrapLayersModel } from './model';
import { ACTIVATION_BUDGET_BYTES } from './predict';
import { gradientStepBytesPerImage, imagesWithin } from './stepMemory';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ints = (name: string, v: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
/** x [N, 1, 4, 4] → Conv 3×3 to 2 channels (pads 1, bias) → Relu → GlobalAveragePool → Flatten → Gemm to 3 classes (bias). */
function tinyOnnx(): Uint8Array {
  const f = (name: string, dims: number[]) => ({ name, dims, dataType: 1, floatData: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => ((i % 5) - 2) / 10) });
  const vi = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [
        { opType: 'Conv', input: ['x', 'w', 'b'], output: ['c'], name: 'conv', attribute: [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])] },
        { opType: 'Relu', input: ['c'], output: ['r'], name: 'relu' },
        { opType: 'GlobalAveragePool', input: ['r'], output: ['g'], name: 'gap' },
        { opType: 'Flatten', input: ['g'], output: ['f'], name: 'flat', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        { opType: 'Gemm', input: ['f', 'fw', 'fb'], output: ['y'], name: 'fc', attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      ],
      input: [vi('x', ['N', 1, 4, 4])],
      initializer: [f('w', [2, 1, 3, 3]), f('b', [2]), f('fw', [3, 2]), f('fb', [3])],
      output: [vi('y', ['N', 3])],
    },
  }).finish();
}

describe('one rule for the memory of a gradient step', () => {
  it('the formula: 4 bytes × (4.5 × kept + 2 × largest + 2 × input)', () => {
    expect(gradientStepBytesPerImage({ keptFloats: 100, largestFloats: 40, inputFloats: 10 })).toBe(4 * (450 + 80 + 20));
    expect(imagesWithin(2200, 10_000)).toBe(4);
    expect(imagesWithin(2200, 1_000)).toBe(0);
  });

  it('an imported ONNX model: the load-time estimate and the attack batch cap are the same number', async () => {
    const bytes = tinyOnnx();
    // Kept per image: Conv 2×4×4 = 32 and its bias add 32, Relu 32, GAP 2, Flatten 2, Gemm 3
    // and its bias add 3: 106 floats; largest 32; input 1×4×4 = 16.
    const perImage = 4 * (4.5 * 106 + 2 * 32 + 2 * 16);
    expect(perImage).toBe(2292);
    expect(estimateOnnxMemory(onnx.ModelProto.decode(bytes)).activationBytesPerImage).toBe(perImage);
    const model = await loadOnnxModel({ model: bytes }, 'tiny.onnx');
    expect(model.onnx.memory!.activationBytesPerImage).toBe(perImage);
    expect(attackBatchForMemory(model.logits)).toBe(Math.floor(ACTIVATION_BUDGET_BYTES / perImage)); // 234,236
    expect(attackBatchSize(model.logits, 100)).toBe(32);
    model.dispose();
  });

  it('a LayersModel by the same formula over its layers', () => {
    const input = tf.input({ shape: [4, 4, 1] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3 }).apply(flat) as tf.SymbolicTensor;
    const model = wrapLayersModel(tf.model({ inputs: input, outputs: out }));
    // Layers: input 16, conv 32, flatten 32, dense 3 = 83 kept; largest 32; input 16.
    expect(model.layers.map((l) => l.size)).toEqual([16, 32, 32, 3]);
    const perImage = 4 * (4.5 * 83 + 2 * 32 + 2 * 16);
    expect(attackBatchForMemory(model.logits)).toBe(Math.floor(ACTIVATION_BUDGET_BYTES / perImage)); // 285,873
    model.dispose();
  });
});
