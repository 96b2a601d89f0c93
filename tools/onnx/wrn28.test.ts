/**
 * WRN-28-10 (Zagoruyko & Komodakis 2016; RobustBench's size, 36.5 M parameters, 146 MB of
 * float32 weights) through the ONNX importer on WASM in Node, against PyTorch:
 *  - the .onnx torch.onnx.export writes: logits within 1e-4 relative, input gradients of the
 *    summed cross-entropy within 1e-3 relative on 2 images; the memory estimate made before
 *    loading bounds the forward pass's measured peak (tf.profile);
 *  - the same model as an .onnx + .data pair (external_data.py) gives the same logits;
 *  - a budget smaller than the estimate refuses it before its external data is read, in one
 *    line naming the sizes, and the CLI's --memory-budget does the same (exit 2).
 * make_wrn28.py builds the model with seeded random weights; nothing is downloaded.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, readBytes, readF32, requireTorch } from '../zoo/torch-testing';
import { selectBackend } from '../../src/core/backend';
import { crossEntropyPerSample } from '../../src/core/attacks/common';
import { loadOnnxModel, type OnnxLabModel } from '../../src/core/onnx/import';
import { ONNX_MEMORY_BUDGET_NODE } from '../../src/core/onnx/memory';
import { nodeBudget, openModel } from '../../src/node/open';
import { LabError } from '../../src/core/types';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const WASM_PATHS = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;
const PY_TIMEOUT_MS = 300_000;
const N = 2;

let dir = '';
const timings: string[] = [];

beforeAll(async () => {
  requireTorch();
  await selectBackend('wasm', { node: true, wasmPaths: WASM_PATHS });
  dir = mkdtempSync(path.join(tmpdir(), 'layerwise-wrn28-'));
  const t0 = performance.now();
  execFileSync(PYTHON, [path.join(HERE, 'make_wrn28.py'), dir, String(N)], { timeout: PY_TIMEOUT_MS, stdio: 'pipe' });
  timings.push(`PyTorch build + export + pair ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, PY_TIMEOUT_MS + 30_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (timings.length) console.log(`WRN-28-10 (WASM):\n  ${timings.join('\n  ')}`);
});

const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let m = 0;
  let d = 0;
  for (let i = 0; i < want.length; i++) {
    m = Math.max(m, Math.abs(want[i]));
    d = Math.max(d, Math.abs(got[i] - want[i]));
  }
  return d / m;
};

describe('WRN-28-10 from torch.onnx.export', () => {
  it('logits and input gradients match PyTorch; the .onnx + .data pair gives the same logits; the estimate bounds the measured peak', async () => {
    const before = tf.memory().numTensors;
    const x = readF32(path.join(dir, 'wrn_28_10.inputs.bin'));
    const labels = new Int32Array(readBytes(path.join(dir, 'wrn_28_10.labels.bin')));
    const images = tf.tensor4d(x, [N, 32, 32, 3]);
    const y = tf.tensor1d(labels, 'int32');
    let t0 = performance.now();
    const model = (await openModel(path.join(dir, 'wrn_28_10.onnx'))) as OnnxLabModel;
    timings.push(`load .onnx ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    try {
      t0 = performance.now();
      // The gradient is profiled first: tfjs carries peakBytes over from an earlier tf.profile.
      const prof = await tf.profile(() => tf.grad((im: tf.Tensor) => tf.sum(crossEntropyPerSample(model.logits(im as tf.Tensor4D), y)))(images));
      const gradT = prof.result as tf.Tensor;
      const gotGrad = await gradT.data();
      const logits = model.logits(images);
      const gotLogits = await logits.data();
      timings.push(`forward/backward + forward of ${N} images ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      tf.dispose([logits, gradT]);
      expect(relErr(gotLogits, readF32(path.join(dir, 'wrn_28_10.logits.bin')))).toBeLessThanOrEqual(1e-4);
      expect(relErr(gotGrad, readF32(path.join(dir, 'wrn_28_10.grad.bin')))).toBeLessThanOrEqual(1e-3);

      const est = model.onnx.memory!;
      expect(est.weightBytes).toBe(4 * model.onnx.parameters);
      // Measured: the forward and backward pass's peak of live tensor bytes, weights included.
      const estimated = est.weightBytes + N * est.activationBytesPerImage;
      timings.push(`memory: estimate ${(estimated / 1e6).toFixed(0)} MB of tensors at batch ${N} (+${((est.backendWeightBytes - est.weightBytes) / 1e6).toFixed(0)} MB packed filters), measured peak ${(prof.peakBytes / 1e6).toFixed(0)} MB`);
      expect(prof.peakBytes).toBeLessThanOrEqual(estimated);
      expect(prof.peakBytes).toBeGreaterThanOrEqual(0.7 * estimated);

      t0 = performance.now();
      const paired = (await openModel(path.join(dir, 'wrn_28_10_ext.onnx'))) as OnnxLabModel;
      timings.push(`load .onnx + .data ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      expect(paired.onnx.externalData).toEqual(['wrn_28_10_ext.onnx.data']);
      const first = tf.slice(images, [0, 0, 0, 0], [1, 32, 32, 3]) as tf.Tensor4D;
      const [a, b] = [model.logits(first), paired.logits(first)];
      expect(relErr(await b.data(), await a.data())).toBe(0);
      tf.dispose([first, a, b]);
      paired.dispose();
    } finally {
      model.dispose();
      tf.dispose([images, y]);
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 400_000);

  it('a budget below the estimate refuses it in one line, before reading its external data', async () => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, 'wrn_28_10_ext.onnx')));
    const reads: string[] = [];
    const before = tf.memory().numTensors;
    const err = await loadOnnxModel({ model: bytes, readExternal: async (n) => (reads.push(n), new Uint8Array(0)), budget: nodeBudget(400e6) }, 'wrn_28_10_ext.onnx').then(
      (m) => (m.dispose(), null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LabError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(/^wrn_28_10_ext\.onnx needs ≈ \d+ MB \(146 MB of weights, held twice by the backend, and \d+ MB per image for a forward and backward pass\) but the budget is 400 MB: raise --memory-budget/);
    expect(reads).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    // The default Node budget holds it.
    expect(ONNX_MEMORY_BUDGET_NODE).toBeGreaterThan(1e9);

    const cli = path.join(ROOT, 'src/cli/layerwise.mjs');
    const r = spawnSync(process.execPath, [cli, 'info', '--model', path.join(dir, 'wrn_28_10.onnx'), '--memory-budget', '400MB'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/needs ≈ \d+ MB .* but the budget is 400 MB/);
  }, 130_000);
});
