/**
 * onnx: the lab's ONNX importer (src/core/onnx) against the LayersModel path
 * (tools/zoo/export.py → loadLabModel) on the very same PyTorch models, same backend, one run:
 * load time (file → a model that has run once at batch 1: the importer's probe pass, matched
 * by one forward pass of the LayersModel right after its load) and forward + input-gradient throughput
 * (images/s of the summed cross-entropy's gradient, what every attack step costs). Ratios
 * ONNX ÷ LayersModel are the numbers to read; issue #23 wants the ONNX path within 10 %.
 *
 * Models (tools/onnx/bench_pair.py, seeded random weights, randomised BatchNorm statistics):
 * ResNet-18 with the CIFAR stem and WRN-16-4. `--wrn28` adds RobustBench's WRN-28-10 shape
 * (36.5 M parameters, in-graph normalisation) as ONNX only: load time, one forward/backward
 * at batch 4, and the process's peak resident memory.
 *
 *   npm run bench -- onnx [--backend wasm|cpu] [--batch 32] [--repeats 5] [--models resnet18,wrn_16_4] [--wrn28] [--pair DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { arg } from './common';
import { ROOT } from '../src/node/paths';
import { nodeModelReader } from '../src/node/files';
import { selectBackend, type BackendName } from '../src/core/backend';
import { loadLabModel, type LabModel } from '../src/core/model/model';
import { loadOnnxFile, nodeBudget } from '../src/node/open';
import { crossEntropyPerSample } from '../src/core/attacks/common';
import { createRng } from '../src/core/random';

interface Pair {
  name: string;
  onnx: string;
  layers: string | null;
  parameters: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Peak resident memory of this process so far (Linux), in MB. */
function peakRssMb(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function loadOnnx(dir: string, file: string): Promise<LabModel> {
  // The CLI's path: the file read in pieces (one weight at a time) and the Node memory budget.
  return loadOnnxFile(path.join(dir, file), nodeBudget(), file);
}

async function loadLayers(dir: string, file: string): Promise<LabModel> {
  const full = path.join(dir, file);
  const reader = nodeModelReader(full);
  return loadLabModel(reader.name, reader.read, full);
}

/**
 * Seconds for one forward pass on one blank image, awaited. The ONNX importer runs exactly
 * this while it loads (its probe pass, which also makes the backend pack every convolution's
 * filter, XNNPACK's first-use cost on WASM); the LayersModel pays it on its first call. Timing
 * it on the LayersModel side counts the same work on both: each model has run once at batch 1.
 */
async function firstForward(model: LabModel): Promise<number> {
  const t0 = performance.now();
  const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
  const y = model.logits(x);
  await y.data();
  tf.dispose([x, y]);
  return (performance.now() - t0) / 1000;
}

/** Seconds for one forward + input gradient of the summed cross-entropy on `images`. */
async function gradientStep(model: LabModel, images: tf.Tensor4D, labels: tf.Tensor1D): Promise<number> {
  const t0 = performance.now();
  const g = tf.grad((x: tf.Tensor) => tf.sum(crossEntropyPerSample(model.logits(x as tf.Tensor4D), labels)))(images);
  await g.data();
  g.dispose();
  return (performance.now() - t0) / 1000;
}

export async function benchOnnx(args: string[]) {
  const backendName = arg(args, 'backend', 'wasm') as BackendName;
  const batch = Number(arg(args, 'batch', '32'));
  const repeats = Number(arg(args, 'repeats', '5'));
  const wrn28 = args.includes('--wrn28');
  const only = arg(args, 'models', '').split(',').filter(Boolean);
  tf.env().set('PROD', true);
  const backend = await selectBackend(backendName, { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
  // --pair DIR: models bench_pair.py wrote earlier (kept), else written afresh to a temporary folder.
  const given = arg(args, 'pair', '');
  const dir = given || mkdtempSync(path.join(tmpdir(), 'layerwise-bench-onnx-'));
  try {
    if (!given) execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/onnx/bench_pair.py'), dir, ...(wrn28 ? ['--wrn28'] : [])], { stdio: 'inherit' });
    const pairs = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Pair[];
    const rng = createRng(7);
    const rows: Record<string, unknown>[] = [];
    // WRN-28-10 first, so the peak memory it reports is its own and not an earlier model's.
    for (const p of [...pairs].filter((q) => !only.length || only.includes(q.name)).sort((a, b) => Number(b.layers === null) - Number(a.layers === null))) {
      if (p.layers === null) {
        const t0 = performance.now();
        const model = await loadOnnx(dir, p.onnx);
        const loadSeconds = (performance.now() - t0) / 1000;
        const afterLoad = peakRssMb();
        const images = tf.tensor4d(Float32Array.from({ length: 4 * 32 * 32 * 3 }, () => rng.next()), [4, 32, 32, 3]);
        const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
        const step = await gradientStep(model, images, labels);
        tf.dispose([images, labels]);
        model.dispose();
        rows.push({ model: p.name, parameters: p.parameters, loadSeconds: +loadSeconds.toFixed(2), peakRssMbAfterLoad: afterLoad, forwardBackwardBatch4Seconds: +step.toFixed(2), peakRssMb: peakRssMb() });
        continue;
      }
      const images = tf.tensor4d(Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.next()), [batch, 32, 32, 3]);
      const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
      const load = { onnx: [] as number[], layers: [] as number[] };
      const layersFirst: number[] = [];
      const step = { onnx: [] as number[], layers: [] as number[] };
      const models: Record<'onnx' | 'layers', LabModel | null> = { onnx: null, layers: null };
      // Alternate the two paths rep by rep so drift on a shared machine hits both alike.
      for (let r = 0; r < 3; r++) {
        for (const kind of ['onnx', 'layers'] as const) {
          models[kind]?.dispose();
          const t0 = performance.now();
          models[kind] = kind === 'onnx' ? await loadOnnx(dir, p.onnx) : await loadLayers(dir, p.layers);
          load[kind].push((performance.now() - t0) / 1000);
          if (kind === 'layers') layersFirst.push(await firstForward(models[kind]!));
        }
      }
      for (const kind of ['onnx', 'layers'] as const) await gradientStep(models[kind]!, images, labels); // warm-up
      for (let r = 0; r < repeats; r++) for (const kind of ['onnx', 'layers'] as const) step[kind].push(await gradientStep(models[kind]!, images, labels));
      // Same model, same weights: the two paths must also agree on the numbers.
      const [a, b] = [models.onnx!.logits(images), models.layers!.logits(images)];
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);
      tf.dispose([a, b, images, labels]);
      models.onnx!.dispose();
      models.layers!.dispose();
      const ips = (k: 'onnx' | 'layers') => batch / median(step[k]);
      rows.push({
        model: p.name,
        parameters: p.parameters,
        loadSecondsOnnx: +median(load.onnx).toFixed(3),
        loadSecondsLayers: +median(load.layers).toFixed(3),
        firstForwardSecondsLayers: +median(layersFirst).toFixed(3),
        // The rule's ratio: both sides loaded and run once at batch 1 (see firstForward).
        loadRatio: +(median(load.onnx) / median(load.layers.map((l, i) => l + layersFirst[i]))).toFixed(2),
        // For reference: the LayersModel's load alone, before its first call.
        loadRatioLayersNotRun: +(median(load.onnx) / median(load.layers)).toFixed(2),
        gradientImagesPerSecondOnnx: +ips('onnx').toFixed(1),
        gradientImagesPerSecondLayers: +ips('layers').toFixed(1),
        throughputRatio: +(ips('onnx') / ips('layers')).toFixed(3),
        logitsRelativeDifference: +diff.toExponential(2),
      });
    }
    console.log(JSON.stringify({ suite: 'onnx', backend: backend.active, batch, repeats, rows, numTensors: tf.memory().numTensors }, null, 2));
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}
