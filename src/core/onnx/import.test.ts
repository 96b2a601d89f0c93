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

  const refused = (bytes: Uint8Array): Promise<string> => refusedWith(bytes, undefined);
  const refusedWith = async (bytes: Uint8Array, readExternal: ((name: string) => Promise<Uint8Array>) | undefined): Promise<string> => {
    const before = tf.memory().numTensors;
    const e = await loadOnnxModel({ model: bytes, readExternal }, 'm.onnx').then(
      (m) => {
        m.dispose();
        return null;
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LabError);
    expect(tf.memory().numTensors).toBe(before);
    expect((e as Error).message.split('\n')).toHaveLength(1);
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

  // The five refusals of issue #23 on hand-built files, so they run without PyTorch (the
  // torch-exported versions are in tools/onnx/onnx-torch.test.ts): one line each, naming the
  // file and what to do, and no tensor left behind.
  describe('bad input, each one clear line', () => {
    /** Conv 1×1 → GlobalAveragePool → Flatten: a real little model whose weights can be cut or moved out. */
    const convModel = (inputs = [valueInfo('x', ['N', 1, 3, 3])]) =>
      encode(
        [node('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: [1, 1] }), node('GlobalAveragePool', ['c'], ['g']), node('Flatten', ['g'], ['y'], { axis: 1 })],
        { inputs, init: [{ name: 'w', dims: [2, 1, 1, 1], dataType: 1, rawData: new Uint8Array(Float32Array.of(1, -1).buffer) }, floatInit('b', [2], [0.5, 0.25])] },
      );

    it('a good file first: it loads, and gives the logits computed by hand', async () => {
      const m = await loadOnnxModel({ model: convModel() }, 'good.onnx');
      const x = tf.fill([1, 3, 3, 1], 0.5) as tf.Tensor4D;
      const y = m.logits(x);
      expect([...(await y.data())]).toEqual([1, -0.25]);
      tf.dispose([x, y]);
      m.dispose();
    });

    it('a truncated protobuf: every cut of a real file is refused, none loads', async () => {
      const full = convModel();
      for (let cut = 1; cut < full.length; cut++) {
        // Most cuts break a protobuf field; a cut at a field boundary decodes, but lacks what follows.
        expect(await refused(full.subarray(0, cut)), `cut at ${cut} of ${full.length} bytes`).toMatch(
          /^m.onnx: (not a readable ONNX file \(protobuf: .*\); a truncated or partly downloaded file looks like this|the file decodes but holds no ONNX graph|the file declares no ONNX opset \(opset_import\), which every exported model has; a truncated file looks like this)/,
        );
      }
      expect(await refused(new Uint8Array(0))).toBe('m.onnx: the file is empty');
    });

    it('an unsupported operator names the operator, the node and what to do', async () => {
      const bytes = encode([node('CumSum', ['x', 'axis'], ['c'], {}, '/layer1/CumSum'), node('Flatten', ['c'], ['y'])], { init: [{ name: 'axis', dims: [], dataType: 7, int64Data: [1] }] });
      expect(await refused(bytes)).toMatch(/^m.onnx: node "\/layer1\/CumSum" \(CumSum\): operator CumSum is not supported by the lab's ONNX importer \(supported: Conv, .*\); re-export with another opset or rewrite that part of the model with supported operators$/);
    });

    it('two inputs', async () => {
      const bytes = encode([node('Add', ['x', 'z'], ['a']), node('Flatten', ['a'], ['y'])], { inputs: [valueInfo('x', ['N', 1, 3, 3]), valueInfo('z', ['N', 1, 3, 3])] });
      expect(await refused(bytes)).toBe('m.onnx: the graph has 2 inputs ("x", "z"); the lab needs exactly one image input');
    });

    it('a dynamic height or width', async () => {
      expect(await refused(convModel([valueInfo('x', ['N', 1, 'H', 'W'])]))).toBe(
        "m.onnx: input \"x\" has shape [N,1,H,W] with a dynamic size after the batch; the lab needs a fixed C×H×W: export with a fixed-size dummy input and dynamic_axes only on the batch (dynamic_axes={'x': {0: 'N'}})",
      );
    });

    it('external data: missing, unreadable or short', async () => {
      const proto = onnx.ModelProto.decode(convModel());
      const w = proto.graph!.initializer!.find((t) => t.name === 'w')!;
      const data = w.rawData!.slice();
      w.rawData = new Uint8Array(0);
      w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      w.externalData = [{ key: 'location', value: 'net.onnx.data' }, { key: 'offset', value: '0' }, { key: 'length', value: String(data.byteLength) }];
      const bytes = onnx.ModelProto.encode(proto).finish();
      const paired = await loadOnnxModel({ model: bytes, readExternal: async (n) => (n === 'net.onnx.data' ? data : Promise.reject(new Error('ENOENT'))) }, 'paired');
      expect(paired.onnx.externalData).toEqual(['net.onnx.data']);
      paired.dispose();
      expect(await refused(bytes)).toBe('m.onnx: its weights are stored in the external data file "net.onnx.data", which was not given; load the .onnx together with "net.onnx.data"');
      const noFile = async () => Promise.reject(new Error('ENOENT: no such file'));
      expect(await refusedWith(bytes, noFile)).toBe('m.onnx: its weights are stored in the external data file "net.onnx.data", which cannot be read (ENOENT: no such file); load the .onnx together with "net.onnx.data"');
      expect(await refusedWith(bytes, async () => data.subarray(0, 4))).toMatch(/^m.onnx: tensor "w" lies at bytes 0…8 of "net.onnx.data", which has 4 \(truncated or wrong data file\?\)$/);
      // A location outside the model's folder is refused before anything is read.
      w.externalData[0].value = '../secret.bin';
      let asked = false;
      expect(await refusedWith(onnx.ModelProto.encode(proto).finish(), async () => ((asked = true), data))).toMatch(/^m.onnx: its external data file "..\/secret.bin" /);
      expect(asked).toBe(false);
    });
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
