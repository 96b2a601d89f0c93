/** The ONNX card's rows (src/core/onnx/card.ts) on a graph imported by the lab's own importer. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { onnxCardRows } from './card';
import { loadOnnxModel } from './import';
import { onnx } from './proto';

describe('the ONNX model card', () => {
  type Attr = Record<string, number | number[]>;
  const node = (opType: string, input: string[], output: string, attrs: Attr = {}) => ({
    opType,
    input,
    output: [output],
    name: `/${opType}`,
    attribute: Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v } : Number.isInteger(v) ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v } : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v },
    ),
  });
  const init = (name: string, dims: number[], data: number[]) => ({ name, dims, dataType: 1, floatData: data });
  const io = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  /** torch's shape of a normalised CIFAR-style net, tiny: Sub/Div by per-channel constants, an unfused BatchNorm, three classes. */
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'pytorch',
      producerVersion: '1.13.1',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [
          node('Sub', ['input', 'mean'], 'a'),
          node('Div', ['a', 'std'], 'b'),
          node('Conv', ['b', 'w', 'cb'], 'c', { kernel_shape: [1, 1] }),
          node('BatchNormalization', ['c', 'g', 'beta', 'rm', 'rv'], 'n', { epsilon: 1e-5 }),
          node('Relu', ['n'], 'r'),
          node('GlobalAveragePool', ['r'], 'p'),
          node('Flatten', ['p'], 'f', { axis: 1 }),
          node('Gemm', ['f', 'fw', 'fb'], 'logits', { transB: 1 }),
        ],
        input: [io('input', ['N', 3, 4, 4])],
        output: [io('logits', ['N', 3])],
        initializer: [
          init('mean', [1, 3, 1, 1], [0.4914, 0.4822, 0.4465]),
          init('std', [1, 3, 1, 1], [0.2471, 0.2435, 0.2616]),
          init('w', [2, 3, 1, 1], [1, 2, 3, 4, 5, 6]),
          init('cb', [2], [0, 1]),
          init('g', [2], [1, 1]),
          init('beta', [2], [0, 0]),
          init('rm', [2], [0.1, 0.2]),
          init('rv', [2], [1, 2]),
          init('fw', [3, 2], [1, 2, 3, 4, 5, 6]),
          init('fb', [3], [0, 0, 0]),
        ],
      },
    }),
  ).finish();

  it('shows the input, the normalisation found in the graph, classes and their names, parameters and tappable nodes', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const m = await loadOnnxModel({ model: bytes }, 'net.onnx');
    const summary = { onnx: m.onnx, inputShape: m.inputShape, numClasses: m.numClasses, classNames: ['cat', 'dog', 'frog'], classNamesFile: 'labels.txt', layers: m.layers, softmaxNote: null };
    const rows = Object.fromEntries(onnxCardRows(summary).map((r) => [r.label, r.text]));
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(rows.input).toBe('input [N×3×4×4]: the lab feeds 4×4×3 images (H×W×C), [0, 1] pixels');
    expect(rows.normalisation).toBe('in the graph (Sub/Div by constants): mean [0.4914, 0.4822, 0.4465], std [0.2471, 0.2435, 0.2616]; attacks and ε stay in [0, 1] pixel space');
    expect(rows.classes).toBe('3 named by labels.txt: cat, dog, frog');
    // 3 + 3 normalisation constants, 6 + 2 convolution, 2 + 2 BatchNorm affine, 2 + 2 running statistics, 6 + 3 linear.
    expect(rows.parameters).toBe('31 weights in the graph (27 without the 4 BatchNorm running statistics)');
    // Tapped by default: Conv, Relu, GlobalAveragePool (the Gemm is the logits, shown anyway).
    expect(rows['tappable nodes']).toBe('8 (3 tapped by default): Conv 1, Gemm 1, BatchNormalization 1, Relu 1, GlobalAveragePool 1, Div 1, Flatten 1, Sub 1');
    expect(rows.file).toBe('ONNX opset 17, written by pytorch 1.13.1');
    // Without names, a flat input and no normalisation.
    const plain = onnxCardRows({ ...summary, classNames: null, classNamesFile: null, inputShape: [48], onnx: { ...m.onnx, normalisation: null, declaredInput: ['N', 48] } });
    expect(plain.find((r) => r.label === 'classes')!.text).toBe('3 (names from the data)');
    expect(plain.find((r) => r.label === 'input')!.text).toBe('input [N×48]: the lab feeds flat vectors of 48 values (an image flattened in C, H, W order), [0, 1] pixels');
    expect(plain.find((r) => r.label === 'normalisation')!.text).toMatch(/^none found/);
    // A zoo (non-ONNX) model has no ONNX card.
    expect(onnxCardRows({ ...summary, onnx: undefined })).toEqual([]);
  });
});
