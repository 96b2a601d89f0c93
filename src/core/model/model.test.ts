import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelArtifacts } from './artifacts';
import { checkInputCompatibility, loadLabModel, tapBytes } from './model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Serialise a tfjs model to an in-memory file map: model.json + one shard. */
async function toFiles(model: tf.LayersModel): Promise<Map<string, Uint8Array>> {
  let files = new Map<string, Uint8Array>();
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
      };
      files = new Map([
        ['model.json', new TextEncoder().encode(JSON.stringify(json))],
        ['group1-shard1of1.bin', new Uint8Array(a.weightData as ArrayBuffer)],
      ]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}

const reader = (files: Map<string, Uint8Array>) => async (name: string) => {
  const f = files.get(name);
  if (!f) throw new Error('ENOENT');
  return f;
};

function softmaxCnn(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 1], name: 'input' });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: 'ones' }).apply(input);
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(conv);
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'fc', kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' }).apply(flat);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

describe('loading models', () => {
  it('uses pre-softmax logits when the last Dense has a softmax activation, and taps layers in one pass', async () => {
    const original = softmaxCnn();
    const files = await toFiles(original);
    const m = await loadLabModel('model.json', reader(files), 'test');
    const before = tf.memory().numTensors;
    expect(m.softmaxNote).toMatch(/softmax/);
    expect(m.numClasses).toBe(3);
    expect(m.layers.map((l) => [l.name, l.size])).toEqual([
      ['input', 16],
      ['conv1', 32],
      ['flatten', 32],
      ['fc', 3],
    ]);
    expect(m.layers.filter((l) => l.defaultTap).map((l) => l.name)).toEqual(['conv1']);
    const x = tf.randomUniform([2, 4, 4, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const z = m.logits(x);
    const probs = original.predict(x) as tf.Tensor;
    // softmax(logits) must equal the original model's probabilities.
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.softmax(z), probs))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-6);
    const taps = m.tap(x, ['conv1']);
    expect(taps.map((t) => t.shape)).toEqual([[2, 4, 4, 2], [2, 3]]);
    tf.dispose([x, z, probs, ...taps]);
    expect(tf.memory().numTensors).toBe(before);
    expect(tapBytes(m, ['conv1', 'fc'], 10)).toBe((32 + 3) * 10 * 4);
    m.dispose();
    original.dispose();
  });

  it('reads a flat-input model and adapts images by flattening', async () => {
    const input = tf.input({ shape: [12], name: 'input' });
    const out = tf.layers.dense({ units: 2, name: 'fc' }).apply(input) as tf.SymbolicTensor;
    const original = tf.model({ inputs: input, outputs: out });
    const m = await loadLabModel('model.json', reader(await toFiles(original)));
    expect(m.flatInput).toBe(true);
    expect(() => checkInputCompatibility(m, { height: 2, width: 2, channels: 3 })).not.toThrow();
    expect(() => checkInputCompatibility(m, { height: 28, width: 28, channels: 1, id: 'mnist-test' })).toThrow(/flat inputs of 12 values but dataset mnist-test has 28×28×1/);
    const z = m.logits(tf.ones([1, 2, 2, 3]) as tf.Tensor4D);
    expect(z.shape).toEqual([1, 2]);
    z.dispose();
    m.dispose();
    original.dispose();
  });

  it('refuses a wrong image shape without resizing', async () => {
    const original = softmaxCnn();
    const m = await loadLabModel('model.json', reader(await toFiles(original)));
    expect(() => checkInputCompatibility(m, { height: 28, width: 28, channels: 1, id: 'mnist-test' })).toThrow(
      'model expects 4×4×1 images but dataset mnist-test has 28×28×1 (no silent resizing)',
    );
    m.dispose();
    original.dispose();
  });
});

describe('bad model files give one clear line', () => {
  it('broken JSON', async () => {
    const files = new Map([['model.json', new TextEncoder().encode('{"modelTopology": ')]]);
    await expect(loadModelArtifacts('model.json', reader(files), 'my-model')).rejects.toThrow(/^my-model: model.json is not valid JSON/);
  });

  it('JSON that is not a tfjs model', async () => {
    const files = new Map([['model.json', new TextEncoder().encode('{"hello": 1}')]]);
    await expect(loadModelArtifacts('model.json', reader(files), 'x')).rejects.toThrow('x: model.json has no "modelTopology"; is this a tfjs model.json?');
  });

  it('missing and short weight shards', async () => {
    const original = softmaxCnn();
    const files = await toFiles(original);
    const missing = new Map(files);
    missing.delete('group1-shard1of1.bin');
    await expect(loadModelArtifacts('model.json', reader(missing), 'x')).rejects.toThrow('x: weight shard "group1-shard1of1.bin" is missing (listed in model.json)');
    const short = new Map(files);
    short.set('group1-shard1of1.bin', files.get('group1-shard1of1.bin')!.slice(0, 40));
    await expect(loadModelArtifacts('model.json', reader(short), 'x')).rejects.toThrow(/x: weight shards group1-shard1of1.bin hold 40 bytes but the manifest needs \d+ \(truncated shard\?\)/);
    original.dispose();
  });

  it('a topology tfjs cannot build', async () => {
    const json = { format: 'layers-model', modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'NoSuchLayer', config: { batch_input_shape: [null, 2] } }] } }, weightsManifest: [] };
    const files = new Map([['model.json', new TextEncoder().encode(JSON.stringify(json))]]);
    await expect(loadLabModel('model.json', reader(files), 'x')).rejects.toThrow(/^x: cannot build the model/);
  });
});

describe('graph models', () => {
  /** A hand-written graph-model: probs = softmax(x · W), x flat [4]. */
  function graphFiles(w: number[]): Map<string, Uint8Array> {
    const f32 = { type: 'DT_FLOAT' };
    const json = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
          { name: 'w', op: 'Const', attr: { dtype: f32, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '3' }] } } } } },
          { name: 'logits', op: 'MatMul', input: ['x', 'w'], attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: f32 } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [4, 3], dtype: 'float32' }] }],
    };
    return new Map([
      ['model.json', new TextEncoder().encode(JSON.stringify(json))],
      ['w.bin', new Uint8Array(new Float32Array(w).buffer)],
    ]);
  }

  it('loads, finds the logits before Softmax, lists nodes with shapes and taps them', async () => {
    // W picks pixel i for class i (i < 3).
    const w = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];
    const m = await loadLabModel('model.json', reader(graphFiles(w)), 'graph');
    expect(m.kind).toBe('graph');
    expect(m.flatInput).toBe(true);
    expect(m.logitsLayer).toBe('logits');
    expect(m.softmaxNote).toMatch(/Softmax/);
    expect(m.numClasses).toBe(3);
    expect(m.layers.map((l) => [l.name, l.outputShape])).toEqual([
      ['logits', [3]],
      ['probs', [3]],
    ]);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d([0.1, 0.9, 0.2, 0.5], [1, 2, 2, 1]);
    const z = m.logits(x);
    expect(Array.from(z.dataSync())).toEqual([expect.closeTo(0.1, 6), expect.closeTo(0.9, 6), expect.closeTo(0.2, 6)]);
    const taps = m.tap(x, ['probs']);
    expect(taps[0].shape).toEqual([1, 3]);
    tf.dispose([x, z, ...taps]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
