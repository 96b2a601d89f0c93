/**
 * The ONNX importer on hand-built graphs (no PyTorch): tap names from torch's scoped node names,
 * AveragePool's two ways of counting padding (torch never writes count_include_pad=1 itself: it
 * emits an explicit Pad), and one-line refusals the PyTorch fixtures do not reach.
 * tools/onnx/onnx-torch.test.ts checks whole exported models against PyTorch.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel, moduleName } from './import';
import { onnx, type NodeProto, type TensorProto } from './proto';
import { LabError } from '../types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Attr = Record<string, number | number[] | string>;
function node(opType: string, input: string[], output: string[], attrs: Attr = {}, name = `${opType}_0`) {
  const attribute = Object.entries(attrs).map(([k, v]) =>
    Array.isArray(v)
      ? { name: k, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
      : typeof v === 'string'
        ? { name: k, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }
        : Number.isInteger(v)
          ? { name: k, type: onnx.AttributeProto.AttributeType.INT, i: v }
          : { name: k, type: onnx.AttributeProto.AttributeType.FLOAT, f: v },
  );
  return { opType, input, output, name, attribute };
}
const valueInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
});
const floatInit = (name: string, dims: number[], data: number[]) => ({ name, dims, dataType: 1, floatData: data });

function encode(nodes: NodeProto[], opts: { inputs?: ReturnType<typeof valueInfo>[]; init?: TensorProto[]; output?: string; opset?: number } = {}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opts.opset ?? 13 }],
    graph: {
      name: 'g',
      node: nodes,
      input: opts.inputs ?? [valueInfo('x', ['N', 1, 3, 3])],
      initializer: opts.init ?? [],
      output: [valueInfo(opts.output ?? 'y', ['N', 2])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Pool a 3×3 single-channel image, then a Gemm to two "classes" that reads the first two pooled cells. */
function poolModel(includePad: number): Uint8Array {
  return encode(
    [
      node('AveragePool', ['x'], ['p'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], count_include_pad: includePad }),
      node('Flatten', ['p'], ['f'], { axis: 1 }),
      node('Gemm', ['f', 'w'], ['y'], { transB: 1 }),
    ],
    { init: [floatInit('w', [2, 9], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])] },
  );
}

describe('ONNX importer on hand-built graphs', () => {
  it('names taps after the PyTorch module path in scoped node names', () => {
    expect(moduleName('/layer1/layer1.0/conv1/Conv')).toBe('layer1.0.conv1/Conv');
    expect(moduleName('/block1/block1.0/Relu_1')).toBe('block1.0/Relu_1');
    expect(moduleName('/fc/Gemm')).toBe('fc/Gemm');
    expect(moduleName('/Sub')).toBe('/Sub');
    expect(moduleName('Conv_12')).toBe('Conv_12');
  });

  it('AveragePool divides padded windows by the full window (count_include_pad=1) or by the real pixels (0)', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const got: number[][] = [];
    for (const include of [1, 0]) {
      const m = await loadOnnxModel({ model: poolModel(include) }, 'pool');
      const y = m.logits(x);
      got.push([...(await y.data())]);
      y.dispose();
      m.dispose();
    }
    x.dispose();
    // Top-left window holds 1, 2, 4, 5; the centre window all nine pixels.
    expect(got[0][0]).toBeCloseTo(12 / 9, 6);
    expect(got[0][1]).toBeCloseTo(45 / 9, 6);
    expect(got[1][0]).toBeCloseTo(12 / 4, 6);
    expect(got[1][1]).toBeCloseTo(45 / 9, 6);
  });

  const refused = async (bytes: Uint8Array): Promise<string> => {
    const before = tf.memory().numTensors;
    const e = await loadOnnxModel({ model: bytes }, 'm.onnx').then(
      (m) => {
        m.dispose();
        return null;
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LabError);
    expect(tf.memory().numTensors).toBe(before);
    return (e as Error).message;
  };

  it('refuses a custom-domain operator, a Reshape that moves the batch and a graph with two outputs', async () => {
    const custom = encode([{ ...node('Foo', ['x'], ['y']), domain: 'com.example' }]);
    expect(await refused(custom)).toMatch(/node "Foo_0" \(Foo\): operator domain "com.example" is not standard ONNX/);
    const reshape = encode([node('Reshape', ['x', 's'], ['y'])], { init: [{ name: 's', dims: [2], dataType: 7, int64Data: [3, -1] }] });
    expect(await refused(reshape)).toMatch(/changes the batch dimension/);
    const two = onnx.ModelProto.decode(encode([node('Relu', ['x'], ['y'])]));
    two.graph!.output!.push(onnx.ValueInfoProto.create(valueInfo('z', ['N', 2])));
    expect(await refused(onnx.ModelProto.encode(two).finish())).toMatch(/2 outputs/);
    expect(await refused(new Uint8Array([0x0a, 0xff, 0xff]))).toMatch(/not a readable ONNX file/);
  });

  it('broadcasts between two computed tensors (x + GAP(x), x · GAP(x)) in NHWC as ONNX does in NCHW', async () => {
    const bytes = encode(
      [
        node('GlobalAveragePool', ['x'], ['g']),
        node('Add', ['x', 'g'], ['a']),
        node('Mul', ['g', 'a'], ['m']),
        node('Flatten', ['m'], ['f']),
        node('Gemm', ['f', 'w'], ['y'], { transB: 1 }),
      ],
      { inputs: [valueInfo('x', ['N', 2, 2, 2])], init: [floatInit('w', [2, 8], [1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1])] },
    );
    const m = await loadOnnxModel({ model: bytes }, 'broadcast');
    const data = [0.1, 0.7, 0.2, 0.5, 0.9, 0.3, 0.4, 0.8]; // NHWC [1, 2, 2, 2]
    const x = tf.tensor4d(data, [1, 2, 2, 2]);
    const y = m.logits(x);
    const got = [...(await y.data())];
    tf.dispose([x, y]);
    m.dispose();
    // By hand in NCHW: channel c holds data[c], data[2 + c], data[4 + c], data[6 + c].
    const chw = [0, 1].flatMap((c) => [0, 1, 2, 3].map((p) => data[2 * p + c]));
    const mean = [0, 1].map((c) => chw.slice(4 * c, 4 * c + 4).reduce((s, v) => s + v, 0) / 4);
    const feat = chw.map((v, i) => mean[Math.floor(i / 4)] * (v + mean[Math.floor(i / 4)]));
    const w = [[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1]];
    const want = w.map((row) => row.reduce((s, v, i) => s + v * feat[i], 0));
    expect(got[0]).toBeCloseTo(want[0], 5);
    expect(got[1]).toBeCloseTo(want[1], 5);
  });

  it('reads the normalisation a graph starts with', async () => {
    const bytes = encode(
      [
        node('Sub', ['x', 'mean'], ['a'], {}, '/Sub'),
        node('Div', ['a', 'std'], ['b'], {}, '/Div'),
        node('GlobalAveragePool', ['b'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'w'], ['y'], { transB: 1 }),
      ],
      {
        inputs: [valueInfo('x', ['N', 3, 3, 3])],
        init: [floatInit('mean', [1, 3, 1, 1], [0.5, 0.4, 0.3]), floatInit('std', [1, 3, 1, 1], [0.2, 0.25, 0.5]), floatInit('w', [2, 3], [1, 2, 3, 4, 5, 6])],
      },
    );
    const m = await loadOnnxModel({ model: bytes }, 'norm');
    expect(m.onnx.normalisation!.mean.map((v) => +v.toFixed(6))).toEqual([0.5, 0.4, 0.3]);
    expect(m.onnx.normalisation!.std.map((v) => +v.toFixed(6))).toEqual([0.2, 0.25, 0.5]);
    expect(m.inputShape).toEqual([3, 3, 3]);
    // A uniform image at the channel means normalises to 0: logits 0.
    const x = tf.tile(tf.tensor4d([0.5, 0.4, 0.3], [1, 1, 1, 3]), [1, 3, 3, 1]) as tf.Tensor4D;
    const y = m.logits(x);
    expect(Math.max(...(await y.data()).map(Math.abs))).toBeLessThan(1e-6);
    tf.dispose([x, y]);
    m.dispose();
  });
});
