/**
 * The ONNX importer against PyTorch: make_fixtures.py builds seeded random models (the zoo
 * architectures, PreActResNet-18, ResNet-18 with the CIFAR stem, WRN-16-4 with in-model
 * normalisation, a CNN with the exotic operators at opsets 11 and 17, a flat MLP ending in
 * softmax), exports them with torch.onnx.export and writes PyTorch's logits and input
 * gradients; here each .onnx is loaded by src/core/onnx on WASM in Node and must give
 *  - logits within 1e-4 relative (max |tfjs − torch| / max |torch|),
 *  - input gradients of the summed cross-entropy within 1e-3 relative,
 *  - FGSM images equal to PyTorch's at every coordinate that is not a float32 sign tie (the
 *    rule of tools/zoo/torch-parity.test.ts: |g64| ≤ max(1e-5 · max|g64|, 8 · e)).
 * Then the refusals: truncated file, unsupported operator, two inputs, dynamic H/W, missing
 * external data, each one clear line; and the .onnx + .data pair loads.
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, readBytes, readF32, requireTorch, tieMask } from '../zoo/torch-testing';
import { selectBackend } from '../../src/core/backend';
import { crossEntropyPerSample } from '../../src/core/attacks/common';
import { signOf } from '../../src/core/model/kernel-fixes';
import { loadOnnxModel } from '../../src/core/onnx/import';
import { onnx } from '../../src/core/onnx/proto';
import { LabError } from '../../src/core/types';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const WASM_PATHS = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;
const LOGIT_TOL = 1e-4;
const GRAD_TOL = 1e-3;
const EPS = 8 / 255;
const PY_TIMEOUT_MS = 180_000;

interface Fixture {
  name: string;
  n: number;
  inputShape: [number, number, number];
  numClasses: number;
  parameters: number;
  opset: number;
}

let dir = '';
let fixtures: Fixture[] = [];
const measured: string[] = [];

beforeAll(async () => {
  requireTorch();
  const state = await selectBackend('wasm', { node: true, wasmPaths: WASM_PATHS });
  if (state.active !== 'wasm') throw new Error(`WASM unavailable: ${state.fallbackReason}`);
  dir = mkdtempSync(path.join(tmpdir(), 'layerwise-onnx-'));
  execFileSync(PYTHON, [path.join(HERE, 'make_fixtures.py'), dir], { timeout: PY_TIMEOUT_MS, stdio: 'pipe' });
  fixtures = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Fixture[];
}, PY_TIMEOUT_MS + 30_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  // The measured parity, for the README and the report.
  if (measured.length) console.log(`ONNX parity (WASM):\n${measured.join('\n')}`);
});

const file = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m / maxAbs(want);
};

describe('ONNX import matches PyTorch', () => {
  it('covers the zoo, PreActResNet-18, ResNet-18, WRN-16-4, the exotic CNN (opsets 11, 17) and a flat MLP', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(
      ['exotic_opset11', 'exotic_opset17', 'flat_mlp', 'preact_resnet18', 'resnet18', 'wrn_16_4', 'zoo_cifar_medium', 'zoo_mnist_medium', 'zoo_mnist_small', 'zoo_pool_cnn', 'zoo_resnet20'],
    );
  });

  it('logits, input gradients and FGSM images for every fixture', async () => {
    const before = tf.memory().numTensors;
    for (const f of fixtures) {
      const t0 = performance.now();
      const model = await loadOnnxModel({ model: file(`${f.name}.onnx`) }, f.name);
      const loadMs = performance.now() - t0;
      expect(model.numClasses, f.name).toBe(f.numClasses);
      expect(model.inputShape, f.name).toEqual(f.name === 'flat_mlp' ? [f.inputShape.reduce((a, b) => a * b, 1)] : f.inputShape);
      const x = readF32(path.join(dir, `${f.name}.inputs.bin`));
      const labels = new Int32Array(readBytes(path.join(dir, `${f.name}.labels.bin`)));
      const wantLogits = readF32(path.join(dir, `${f.name}.logits.bin`));
      const wantGrad = readF32(path.join(dir, `${f.name}.grad.bin`));
      const grad64 = new Float64Array(readBytes(path.join(dir, `${f.name}.grad64.bin`)));
      const images = tf.tensor4d(x, [f.n, ...f.inputShape]);
      const y = tf.tensor1d(labels, 'int32');
      const logits = model.logits(images);
      const gotLogits = await logits.data();
      const gradT = tf.grad((im: tf.Tensor) => tf.sum(crossEntropyPerSample(model.logits(im as tf.Tensor4D), y)))(images);
      const gotGrad = await gradT.data();
      const adv = tf.tidy(() => tf.clipByValue(tf.add(images, tf.mul(signOf(gradT), EPS)), 0, 1));
      const gotAdv = await adv.data();
      tf.dispose([images, y, logits, gradT, adv]);
      model.dispose();

      const logitErr = relErr(gotLogits, wantLogits);
      const gradErr = relErr(gotGrad, wantGrad);
      // FGSM from PyTorch's float32 gradient, compared outside sign ties.
      const d = gotGrad.length / f.n;
      const tie = tieMask(wantGrad, grad64, d);
      let ties = 0;
      let off = 0;
      for (let j = 0; j < gotAdv.length; j++) {
        if (tie[j]) {
          ties++;
          continue;
        }
        const want = Math.min(1, Math.max(0, x[j] + EPS * Math.sign(wantGrad[j])));
        if (Math.abs(gotAdv[j] - want) > 1e-6) off++;
      }
      measured.push(`  ${f.name.padEnd(16)} logits ${logitErr.toExponential(2)}  grad ${gradErr.toExponential(2)}  FGSM off ${off} of ${gotGrad.length - ties} (ties ${ties})  load ${loadMs.toFixed(0)} ms`);
      expect(logitErr, `${f.name} logits`).toBeLessThanOrEqual(LOGIT_TOL);
      expect(gradErr, `${f.name} input gradient`).toBeLessThanOrEqual(GRAD_TOL);
      expect(off, `${f.name} FGSM coordinates off PyTorch`).toBe(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 240_000);

  it('the model card: normalisation found in the graph, parameter count, tappable nodes', async () => {
    const f = fixtures.find((q) => q.name === 'wrn_16_4')!;
    const model = await loadOnnxModel({ model: file('wrn_16_4.onnx') }, 'wrn');
    try {
      expect(model.onnx.normalisation!.mean.map((v) => +v.toFixed(4))).toEqual([0.4914, 0.4822, 0.4465]);
      expect(model.onnx.normalisation!.std.map((v) => +v.toFixed(4))).toEqual([0.2471, 0.2435, 0.2616]);
      // Trainable parameters as PyTorch counts them (BatchNorm's running statistics excluded);
      // the export folds Conv+BN, so compare the total the graph holds instead when that happened.
      expect(model.onnx.parameters).toBeGreaterThanOrEqual(f.parameters * 0.99);
      const convs = model.layers.filter((l) => l.className === 'Conv');
      expect(convs.length).toBe(16 - 3 + 3);
      expect(convs[0].outputShape).toEqual([32, 32, 16]);
      const taps = model.tap(tf.zeros([2, 32, 32, 3]), [convs[0].name, model.layers[model.layers.length - 2].name]);
      expect(taps.map((t) => t.shape)).toEqual([[2, 32, 32, 16], [2, ...model.layers[model.layers.length - 2].outputShape], [2, 10]]);
      tf.dispose(taps);
    } finally {
      model.dispose();
    }
  });
});

describe('the CLI opens .onnx files', () => {
  it('layerwise info --model x.onnx --json: the card with normalisation and tappable nodes; a bad file is exit 2 with one line', () => {
    const cli = path.join(ROOT, 'src/cli/layerwise.mjs');
    const out = execFileSync(process.execPath, [cli, 'info', '--model', path.join(dir, 'wrn_16_4.onnx'), '--json'], { encoding: 'utf8', timeout: 120_000 });
    const info = JSON.parse(out) as { kind: string; inputShape: number[]; numClasses: number; onnx: { normalisation: { mean: number[] } }; layers: { name: string }[] };
    expect(info.kind).toBe('onnx');
    expect(info.inputShape).toEqual([32, 32, 3]);
    expect(info.numClasses).toBe(10);
    expect(info.onnx.normalisation.mean[0]).toBeCloseTo(0.4914, 4);
    expect(info.layers.map((l) => l.name)).toContain('block1.0.conv1/Conv');
    const r = spawnSync(process.execPath, [cli, 'info', '--model', path.join(dir, 'bad', 'unsupported.onnx')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('operator CumSum is not supported');
  }, 130_000);
});

describe('ONNX files the lab must refuse, each with one clear line', () => {
  const refusal = async (bytes: Uint8Array, readExternal?: (n: string) => Promise<Uint8Array>): Promise<string> => {
    const before = tf.memory().numTensors;
    try {
      const m = await loadOnnxModel({ model: bytes, readExternal }, 'bad.onnx');
      m.dispose();
    } catch (e) {
      expect(e).toBeInstanceOf(LabError);
      expect(tf.memory().numTensors).toBe(before);
      const msg = (e as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      return msg;
    }
    throw new Error('loaded');
  };

  it('a truncated protobuf', async () => {
    const full = file('bad/small.onnx');
    expect(await refusal(full.subarray(0, Math.floor(full.length * 0.6)))).toMatch(/not a readable ONNX file.*truncated/);
    expect(await refusal(new Uint8Array(0))).toMatch(/empty/);
  });

  it('an unsupported operator names it, the node and what to do', async () => {
    expect(await refusal(file('bad/unsupported.onnx'))).toMatch(/node "[^"]*CumSum[^"]*" \(CumSum\): operator CumSum is not supported.*re-export with another opset/);
  });

  it('two inputs', async () => {
    expect(await refusal(file('bad/two_inputs.onnx'))).toMatch(/2 inputs \("a", "b"\); the lab needs exactly one image input/);
  });

  it('dynamic spatial size', async () => {
    expect(await refusal(file('bad/dynamic_hw.onnx'))).toMatch(/dynamic size after the batch.*dynamic_axes only on the batch/);
  });

  it('external data: the .onnx + .data pair loads, a missing .data is named', async () => {
    // Move every initializer's bytes into one side file, as torch.onnx.export does past 2 GB.
    const proto = onnx.ModelProto.decode(file('bad/small.onnx'));
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of proto.graph!.initializer!) {
      const raw = t.rawData ?? new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
      chunks.push(raw);
      t.externalData = [
        { key: 'location', value: 'small.onnx.data' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.byteLength) },
      ];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.rawData = new Uint8Array(0);
      t.floatData = [];
      offset += raw.byteLength;
    }
    const data = new Uint8Array(offset);
    let o = 0;
    for (const c of chunks) {
      data.set(c, o);
      o += c.byteLength;
    }
    const bytes = onnx.ModelProto.encode(proto).finish();
    const inline = await loadOnnxModel({ model: file('bad/small.onnx') }, 'inline');
    const paired = await loadOnnxModel({ model: bytes, readExternal: async (n) => (n === 'small.onnx.data' ? data : Promise.reject(new Error('ENOENT'))) }, 'paired');
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const [a, b] = [inline.logits(x), paired.logits(x)];
    expect(paired.onnx.externalData).toEqual(['small.onnx.data']);
    expect(relErr(await b.data(), await a.data())).toBe(0);
    tf.dispose([x, a, b]);
    inline.dispose();
    paired.dispose();
    expect(await refusal(bytes)).toMatch(/external data file "small.onnx.data", which was not given; load the .onnx together with "small.onnx.data"/);
    expect(await refusal(bytes, () => Promise.reject(new Error('ENOENT')))).toMatch(/"small.onnx.data", which cannot be read \(ENOENT\)/);
    expect(await refusal(bytes, async () => data.subarray(0, 20))).toMatch(/truncated or wrong data file/);
  });
});
