/**
 * End-to-end attack parity with PyTorch (issue #19: the WASM max-pool gradient). For each
 * zoo architecture (the shipped standard-trained models) and the Keras-style pooling CNN
 * fixture, the product path (openData + class-balanced sampler, openModel, runAttack) runs
 * FGSM (Goodfellow et al. 2015) and BIM (Kurakin et al. 2017; Madry et al. 2018's PGD
 * without random start) on the WASM and the CPU backend; torch_reference.py runs the same
 * attacks on the same images and weights with its own model code (it shares nothing with
 * export.py). Checked:
 *  (a) FGSM images equal PyTorch's per coordinate, except at sign ties (tieMask in torch-testing.ts);
 *  (b) BIM robust counts within ±1 of PyTorch's, per backend;
 *  (c) WASM and CPU agree with each other the same way (on the CPU's images, see cpuN);
 * and a flat tensor count over each backend's runs. BIM here is the lab's: per sample the
 * first misclassified iterate is kept (pgd.ts), mirrored by the reference. A first block
 * checks the reference itself, and the lab's gradients, on TF-style 'same' layers the zoo
 * does not use. Numbers per model and backend are printed at the end.
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, readBytes, readF32, requireTorch, tieMask } from './torch-testing';
import { openData, openModel, sampleDataset } from '../../src/node/open';
import { PUBLIC_DIR, ROOT } from '../../src/node/paths';
import { selectBackend, type BackendName } from '../../src/core/backend';
import { crossEntropyPerSample } from '../../src/core/attacks/common';
import { runAttack, type AttackInput } from '../../src/core/attacks/runner';
import type { AttackSpec } from '../../src/core/attacks/types';

const ZOO = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE = path.join(ZOO, 'torch_reference.py');
const WASM_PATHS = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;
const N = 100;
const SEED = 0;
/** 100 = 2 × 50: no padded rows (the runner pads the last batch to the batch size). */
const BATCH = 50;
/** Pixel equality: both sides compute clip01(x0 ± eps) in float32, so equal signs give equal pixels. */
const PIXEL_TOL = 1e-6;
/** PyTorch's own BIM robust counts in float32 and float64 differ by up to 1 in 100 here. */
const ROBUST_SLACK = 1;
const BACKENDS: BackendName[] = ['wasm', 'cpu'];

interface Case {
  id: string;
  model: string;
  data: 'mnist' | 'cifar10';
  eps: number;
  steps: number;
  stepSize: number;
  /**
   * Images the CPU backend attacks: a prefix of the same class-balanced sample (itself
   * balanced). tfjs's CPU kernels are plain JS loops: FGSM alone on 100 images took
   * 7 / 35 / 43 / 68 / 33 s (mnist-small, mnist-medium, cifar-medium, ResNet-20, pool CNN;
   * 2 cores shared with other jobs) against 0.5-6 s on WASM, so BIM-10 on all 100 would
   * take ~10 minutes. Same ε and steps on fewer images rather than fewer steps: PyTorch's
   * per-sample results need no second reference run, and each sample's attack does not
   * depend on the others in its batch.
   */
  cpuN: number;
}

// ε chosen so robust accuracy lies strictly between 0 and clean accuracy on these 100 images
// (PyTorch, standard-trained models: MNIST FGSM 55-65 %, BIM 31-42 %; CIFAR-10 FGSM 28-41 %, BIM 12-36 %).
const MNIST = { data: 'mnist', eps: 0.1, steps: 10, stepSize: 0.025 } as const;
const CIFAR = { data: 'cifar10', eps: 2 / 255, steps: 10, stepSize: 0.5 / 255 } as const;
const CASES: Case[] = [
  { id: 'mnist-small-st', model: path.join(PUBLIC_DIR, 'models/mnist-small-st'), ...MNIST, cpuN: 30 },
  { id: 'mnist-medium-st', model: path.join(PUBLIC_DIR, 'models/mnist-medium-st'), ...MNIST, cpuN: 10 },
  { id: 'cifar-medium-st', model: path.join(PUBLIC_DIR, 'models/cifar-medium-st'), ...CIFAR, cpuN: 10 },
  // ResNet-20 is the slowest model on both backends: BIM with 5 steps of 1/255 (PyTorch: 22 robust of 86).
  { id: 'cifar-resnet20-st', model: path.join(PUBLIC_DIR, 'models/cifar-resnet20-st'), ...CIFAR, steps: 5, stepSize: 1 / 255, cpuN: 10 },
  { id: 'cifar-pool-cnn', model: path.join(ZOO, 'fixtures/cifar-pool-cnn'), ...CIFAR, cpuN: 10 },
];

const run = promisify(execFile);

const readI32 = (file: string) => new Int32Array(readBytes(file));

function writeTyped(file: string, a: Float32Array | Int32Array): void {
  writeFileSync(file, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}

interface Torch {
  logits: Float32Array;
  fgsm: Float32Array;
  fgsmPred: Int32Array;
  bimPred: Int32Array;
  /** PyTorch's float32 gradient at x0. */
  grad: Float32Array;
  /** Per coordinate: 1 where FGSM's sign is a float32 tie (tieMask). */
  tie: Uint8Array;
  summary: { clean: number; fgsmRobust: number; bimRobust: number };
}

interface LabRun {
  backend: BackendName;
  n: number;
  cleanPred: Int32Array;
  fgsm: Float32Array;
  fgsmPred: Int32Array;
  bimPred: Int32Array;
  labels: Int32Array;
  tensorsBefore: number;
  tensorsAfter: number;
  seconds: number;
}


/** FLT_EPSILON: tfjs-wasm's Sign returns 0 for |x| below it (measured: 2^-23 → 0, 1.2e-7 → 1). */
const FLT_EPSILON = 2 ** -23;

/**
 * FGSM images a vs b over their common prefix. `missedSteps`: mismatches where a left the
 * pixel at x0 and b did not (a zero step: sign(g) = 0 where the gradient is not zero);
 * `missedTiny`: those of them where PyTorch's |g| < FLT_EPSILON.
 */
function compareImages(a: Float32Array, b: Float32Array, tie: Uint8Array, x0: Float32Array, grad: Float32Array) {
  let maxAbs = 0;
  let mismatches = 0;
  let missedSteps = 0;
  let missedTiny = 0;
  let ties = 0;
  let tieDiffs = 0;
  for (let j = 0; j < Math.min(a.length, b.length); j++) {
    const diff = Math.abs(a[j] - b[j]);
    if (tie[j]) {
      ties++;
      if (diff > PIXEL_TOL) tieDiffs++;
      continue;
    }
    maxAbs = Math.max(maxAbs, diff);
    if (diff > PIXEL_TOL) {
      mismatches++;
      if (a[j] === x0[j]) {
        missedSteps++;
        if (Math.abs(grad[j]) < FLT_EPSILON) missedTiny++;
      }
    }
  }
  return { maxAbs: +maxAbs.toPrecision(3), mismatches, missedSteps, missedTiny, ties, tieDiffs };
}

const robustCount = (pred: Int32Array, cleanPred: Int32Array, labels: Int32Array, n: number) => {
  let r = 0;
  for (let i = 0; i < n; i++) if (pred[i] === labels[i] && cleanPred[i] === labels[i]) r++;
  return r;
};

function argmaxRows(z: Float32Array, k: number): Int32Array {
  const out = new Int32Array(z.length / k);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

let dir = '';
const datasets = new Map<string, AttackInput>();
const report: Record<string, unknown>[] = [];

async function input(spec: 'mnist' | 'cifar10'): Promise<AttackInput> {
  let v = datasets.get(spec);
  if (!v) {
    const { data } = sampleDataset(await openData(spec), N, SEED);
    v = { images: data.images, labels: data.labels, shape: [data.height, data.width, data.channels] };
    writeTyped(path.join(dir, `${spec}.x.f32`), v.images);
    writeTyped(path.join(dir, `${spec}.y.i32`), v.labels);
    datasets.set(spec, v);
  }
  return v;
}

async function torchReference(c: Case, d: number): Promise<Torch> {
  const out = path.join(dir, c.id);
  mkdirSync(out, { recursive: true });
  await run(
    PYTHON,
    [REFERENCE, '--model', path.join(c.model, 'model.json'), '--inputs', path.join(dir, `${c.data}.x.f32`), '--labels', path.join(dir, `${c.data}.y.i32`),
      '--out', out, '--fgsm-eps', String(c.eps), '--bim-eps', String(c.eps), '--steps', String(c.steps), '--step-size', String(c.stepSize), '--threads', '1'],
    { timeout: 280_000 },
  );
  const f = (name: string) => path.join(out, name);
  return {
    logits: readF32(f('logits.f32')),
    fgsm: readF32(f('fgsm.f32')),
    fgsmPred: readI32(f('fgsm_pred.i32')),
    bimPred: readI32(f('bim_pred.i32')),
    grad: readF32(f('grad.f32')),
    tie: tieMask(readF32(f('grad.f32')), new Float64Array(readBytes(f('grad64.f64'))), d),
    summary: JSON.parse(readFileSync(f('summary.json'), 'utf8')),
  };
}

async function labRun(c: Case, backend: BackendName, all: AttackInput): Promise<LabRun> {
  const state = await selectBackend(backend, { node: true, wasmPaths: WASM_PATHS });
  if (state.active !== backend) throw new Error(`backend ${backend} unavailable: ${state.fallbackReason}`);
  const n = backend === 'cpu' ? c.cpuN : N;
  const d = all.images.length / N;
  const x: AttackInput = { images: all.images.subarray(0, n * d), labels: all.labels.subarray(0, n), shape: all.shape };
  const t0 = performance.now();
  const model = await openModel(c.model);
  try {
    const tensorsBefore = tf.memory().numTensors;
    const options = { seed: SEED, batchSize: Math.min(BATCH, n) };
    const fgsm = await runAttack(model.logits, x, { attack: 'fgsm', norm: 'linf', eps: c.eps, steps: 1 } satisfies AttackSpec, options);
    const bim = await runAttack(model.logits, x, { attack: 'bim', norm: 'linf', eps: c.eps, steps: c.steps, stepSize: c.stepSize } satisfies AttackSpec, options);
    return {
      backend,
      n,
      cleanPred: fgsm.cleanPred,
      fgsm: fgsm.adversarial,
      fgsmPred: fgsm.advPred,
      bimPred: bim.advPred,
      labels: x.labels,
      tensorsBefore,
      tensorsAfter: tf.memory().numTensors,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
    };
  } finally {
    model.dispose();
  }
}

beforeAll(() => {
  requireTorch();
  dir = mkdtempSync(path.join(tmpdir(), 'layerwise-torch-parity-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (report.length) console.log(`torch parity (seed ${SEED}):\n${report.map((r) => JSON.stringify(r)).join('\n')}`);
});

/** float32 -> IEEE half bits, round to nearest even (normal range only: the weights here lie in [0.2, 1.2]). */
function toHalf(v: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, v);
  const bits = f.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  let mant = bits & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  let h = sign | (exp << 10) | (mant >>> 13);
  mant &= 0x1fff;
  if (mant > 0x1000 || (mant === 0x1000 && h & 1)) h++;
  return h;
}

const SMALL_SHAPE: [number, number, number] = [11, 10, 2];
const SMALL_N = 6;

/**
 * A small tfjs Sequential model saved as model.json with float16 weights (as the wide zoo
 * models ship), random positive weights, and the reference's logits and gradient on
 * SMALL_N fixed inputs.
 */
async function smallFixture(name: string, layers: () => tf.layers.Layer[]) {
  await selectBackend('cpu', { node: true });
  const m = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: SMALL_SHAPE }), ...layers(), tf.layers.flatten(), tf.layers.batchNormalization({ epsilon: 1e-3 }), tf.layers.dense({ units: 5, activation: 'softmax' })] });
  m.setWeights(m.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.2, 1.2, 'float32', 100 + i)));
  const sub = path.join(dir, name);
  mkdirSync(sub, { recursive: true });
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      const half = Uint16Array.from(new Float32Array(a.weightData as ArrayBuffer), toHalf);
      writeFileSync(path.join(sub, 'w.bin'), Buffer.from(half.buffer));
      const weights = a.weightSpecs!.map((w) => ({ ...w, quantization: { dtype: 'float16', original_dtype: 'float32' } }));
      writeFileSync(path.join(sub, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  m.dispose();
  const d = SMALL_SHAPE[0] * SMALL_SHAPE[1] * SMALL_SHAPE[2];
  const x = Float32Array.from({ length: SMALL_N * d }, (_, i) => (((Math.sin(i * 12.9898) * 43758.5453) % 1) + 1) / 2);
  const y = Int32Array.from({ length: SMALL_N }, (_, i) => i % 5);
  writeTyped(path.join(sub, 'x.f32'), x);
  writeTyped(path.join(sub, 'y.i32'), y);
  execFileSync(PYTHON, [REFERENCE, '--model', path.join(sub, 'model.json'), '--inputs', path.join(sub, 'x.f32'), '--labels', path.join(sub, 'y.i32'),
    '--out', sub, '--fgsm-eps', '0.1', '--bim-eps', '0.1', '--steps', '1', '--step-size', '0.1'], { timeout: 60_000, stdio: 'pipe' });
  return { dir: sub, x, y, logits: readF32(path.join(sub, 'logits.f32')), grad: readF32(path.join(sub, 'grad.f32')) };
}

/** The lab's logits, or its input gradient of the summed CE (the attacks' loss), on `backend`. */
async function labOutput(f: Awaited<ReturnType<typeof smallFixture>>, backend: BackendName, what: 'logits' | 'grad'): Promise<Float32Array> {
  const state = await selectBackend(backend, { node: true, wasmPaths: WASM_PATHS });
  if (state.active !== backend) throw new Error(`backend ${backend} unavailable: ${state.fallbackReason}`);
  const model = await openModel(path.join(f.dir, 'model.json'));
  const xs = tf.tensor4d(f.x, [SMALL_N, ...SMALL_SHAPE]);
  const ys = tf.tensor1d(f.y, 'int32');
  try {
    return tf.tidy(() => {
      const out = what === 'logits' ? model.logits(xs) : tf.grad((v: tf.Tensor) => tf.sum(crossEntropyPerSample(model.logits(v as tf.Tensor4D), ys)))(xs);
      return out.dataSync() as Float32Array;
    });
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

/** max |a − b| / max |b| (gradients: relative to the largest coordinate). */
function relMaxError(a: Float32Array, b: Float32Array): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

// Layers the zoo exports never produce ('same' padding at stride 2 or with an even kernel,
// 'same' pooling, dilation) but users' Keras models do.
const SAME_LAYERS = () => [
  tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
  tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
  tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }),
  tf.layers.conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same' }),
];
const AVG_SAME_LAYERS = () => [
  tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
  tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }),
];

describe("TF-style 'same' layers: torch_reference.py against tfjs, and the lab's gradients against PyTorch", () => {
  // The reference's forward is checked against tfjs's own layers (logits); its gradient is
  // torch autograd of that forward. Then the lab's input gradients (executor + kernel fixes)
  // are checked against it. All on a BatchNorm'd flattened vector and a softmax head (read
  // before the softmax, as the lab does), with float16 weights.
  let same: Awaited<ReturnType<typeof smallFixture>>;
  let avg: Awaited<ReturnType<typeof smallFixture>>;
  beforeAll(async () => {
    same = await smallFixture('same-layers', SAME_LAYERS);
    avg = await smallFixture('avg-same', AVG_SAME_LAYERS);
  }, 120_000);

  it('reference logits equal tfjs logits', async () => {
    for (const f of [same, avg]) expect(relMaxError(await labOutput(f, 'cpu', 'logits'), f.logits)).toBeLessThan(1e-5);
  });

  for (const b of BACKENDS) {
    it(`${b}: lab input gradients equal PyTorch's (conv and max pooling 'same' at stride 2, dilated conv, zero padding)`, async () => {
      expect(relMaxError(await labOutput(same, b, 'grad'), same.grad)).toBeLessThan(1e-4);
    });

    // Expected to fail on tfjs 4.22 (CPU and WASM): its AvgPool gradient with 'same' padding
    // gives border pixels as little as half the finite-difference gradient (consistent with
    // dividing by the full window instead of the real pixels it averaged over).
    it(`${b}: lab input gradients equal PyTorch's through AveragePooling2D 'same'`, async () => {
      expect(relMaxError(await labOutput(avg, b, 'grad'), avg.grad)).toBeLessThan(1e-4);
    });
  }
});

for (const c of CASES) {
  describe(`${c.id} (${c.data}, L-inf eps ${c.eps.toPrecision(4)}, BIM ${c.steps} x ${c.stepSize.toPrecision(4)})`, () => {
    let torch: Torch;
    let torchClean: Int32Array;
    let x: AttackInput;
    const lab = new Map<BackendName, LabRun>();
    /** Robust counts over the first n samples: [this backend, PyTorch]. */
    const bim = (r: LabRun, n = r.n) => [robustCount(r.bimPred, r.cleanPred, r.labels, n), robustCount(torch.bimPred, torchClean, x.labels, n)];

    beforeAll(async () => {
      x = await input(c.data);
      // Started before the tfjs runs and awaited after them: one PyTorch thread beside tfjs's one.
      const pending = torchReference(c, x.images.length / N);
      pending.catch(() => {}); // awaited below; keeps a failure from surfacing as unhandled first
      for (const b of BACKENDS) lab.set(b, await labRun(c, b, x));
      torch = await pending;
      torchClean = argmaxRows(torch.logits, torch.logits.length / N);
      for (const r of lab.values()) {
        report.push({
          model: c.id, backend: r.backend, n: r.n, seconds: r.seconds,
          clean: [robustCount(r.cleanPred, r.cleanPred, r.labels, r.n), robustCount(torchClean, torchClean, x.labels, r.n)],
          fgsm: compareImages(r.fgsm, torch.fgsm, torch.tie, x.images, torch.grad),
          fgsmRobust: [robustCount(r.fgsmPred, r.cleanPred, r.labels, r.n), robustCount(torch.fgsmPred, torchClean, x.labels, r.n)],
          bimRobust: bim(r),
          tensors: `${r.tensorsBefore}->${r.tensorsAfter}`,
        });
      }
      const [w, cpu] = [lab.get('wasm')!, lab.get('cpu')!];
      report.push({ model: c.id, backend: 'wasm vs cpu', n: cpu.n, fgsm: compareImages(w.fgsm, cpu.fgsm, torch.tie, x.images, torch.grad), bimRobust: [bim(w, cpu.n)[0], bim(cpu)[0]] });
    }, 400_000);

    it('PyTorch: robust accuracy strictly between 0 and clean accuracy (the counts mean something)', () => {
      for (const r of [torch.summary.fgsmRobust, torch.summary.bimRobust]) {
        expect(r).toBeGreaterThan(0);
        expect(r).toBeLessThan(torch.summary.clean);
      }
    });

    for (const b of BACKENDS) {
      it(`${b}: clean predictions equal PyTorch's; tensor count flat over FGSM + BIM`, () => {
        const r = lab.get(b)!;
        expect(Array.from(r.cleanPred)).toEqual(Array.from(torchClean.subarray(0, r.n)));
        expect(r.tensorsAfter, 'tensors left by runAttack').toBe(r.tensorsBefore);
      });

      it(`${b}: FGSM images equal PyTorch's except at sign ties`, () => {
        const cmp = compareImages(lab.get(b)!.fgsm, torch.fgsm, torch.tie, x.images, torch.grad);
        const why = `${cmp.missedSteps} left at x0, ${cmp.missedTiny} of them with |g| < 2^-23`;
        expect(cmp.mismatches, `coordinates off by > ${PIXEL_TOL} (max ${cmp.maxAbs}; ${why}; ${cmp.ties} ties)`).toBe(0);
      });

      it(`${b}: BIM robust count within ±${ROBUST_SLACK} of PyTorch's`, () => {
        const [mine, ref] = bim(lab.get(b)!);
        expect(Math.abs(mine - ref), `${b} ${mine} vs PyTorch ${ref}`).toBeLessThanOrEqual(ROBUST_SLACK);
      });
    }

    it('wasm and cpu agree (on the cpu prefix): FGSM images except at ties, BIM robust counts within ±1', () => {
      const [w, cpu] = [lab.get('wasm')!, lab.get('cpu')!];
      expect(compareImages(w.fgsm, cpu.fgsm, torch.tie, x.images, torch.grad).mismatches).toBe(0);
      expect(Math.abs(bim(w, cpu.n)[0] - bim(cpu)[0])).toBeLessThanOrEqual(ROBUST_SLACK);
    });
  });
}
