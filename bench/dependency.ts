/**
 * dependency: per-layer ridge probes + mutual information (layerDependency) and the
 * prefix probes (prefixProbes) on 10 synthetic layers of realistic widths × n samples
 * (default 2000), clean and adversarial, reported in seconds and as a ratio to ONE
 * forward pass of n MNIST test images through a zoo model (default mnist-small-st) on the
 * same backend in the same run — the ratio is the number to compare across machines.
 *
 * Synthetic layers: ReLU(class mean + noise), with per-layer class means drawn once, so
 * probes and MI see realistic sparsity and class structure; the "adversarial" copy adds a
 * fixed-size perturbation. Only the cost is measured here, not the values.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { arg, time } from './common';
import { ROOT } from '../src/node/paths';
import { selectBackend, type BackendName } from '../src/core/backend';
import { loadLabModel } from '../src/core/model/model';
import { predictAll } from '../src/core/model/predict';
import { nodeModelReader } from '../src/node/files';
import { loadBuiltinDataset } from '../src/node/images';
import { classBalancedSample, takeSamples } from '../src/core/data/sampler';
import { createRng } from '../src/core/random';
import { layerDependency, type LayerActivations } from '../src/core/dependency/layers';
import { prefixProbes } from '../src/core/dependency/prefix';

/** Widths of a small CNN's taps: input, two conv blocks (pre/post ReLU), dense layers, logits. */
const WIDTHS = [784, 3136, 3136, 5408, 5408, 1024, 512, 256, 100, 10];

function syntheticLayers(n: number, labels: Int32Array, numClasses: number, seed: number): LayerActivations[] {
  const rng = createRng(seed);
  return WIDTHS.map((size, l) => {
    const means = Float32Array.from({ length: numClasses * size }, () => rng.normal());
    const clean = new Float32Array(n * size);
    const adversarial = new Float32Array(n * size);
    for (let i = 0; i < n; i++) {
      const o = labels[i] * size;
      for (let j = 0; j < size; j++) {
        const v = means[o + j] + 1.5 * rng.normal();
        clean[i * size + j] = Math.max(0, v);
        adversarial[i * size + j] = Math.max(0, v + 0.8 * rng.normal());
      }
    }
    return { name: `layer${l}`, size, clean, adversarial };
  });
}

export async function benchDependency(args: string[]) {
  const modelId = arg(args, 'model', 'mnist-small-st');
  // wasm by default: the backend the CLI and the lab's workers run analyses on.
  const backendName = arg(args, 'backend', 'wasm') as BackendName;
  const n = Number(arg(args, 'n', '2000'));
  const repeats = Number(arg(args, 'repeats', '1'));
  tf.env().set('PROD', true);
  const backend = await selectBackend(backendName, { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
  const file = path.join(ROOT, 'public/models', modelId, 'model.json');
  const reader = nodeModelReader(file);
  const model = await loadLabModel(reader.name, reader.read, file);
  const ds = await loadBuiltinDataset('mnist-test', path.join(ROOT, 'public'));
  const sample = takeSamples(ds, classBalancedSample(ds.labels, ds.classNames.length, n, 0));
  const shape: [number, number, number] = [sample.height, sample.width, sample.channels];
  // Warm up kernels, then time one forward pass over all n images (the baseline unit).
  await predictAll(model, sample.images.subarray(0, 128 * 784), sample.labels.subarray(0, 128), shape);
  const forward = await time(() => predictAll(model, sample.images, sample.labels, shape), 3);
  const numClasses = model.numClasses;
  model.dispose();

  const layers = syntheticLayers(n, sample.labels, numClasses, 1);
  const perLayer = await time(async () => layerDependency(layers, sample.labels, numClasses, 0), repeats);
  const prefix = await time(async () => prefixProbes(layers, sample.labels, numClasses, 0, { modelPredictions: { clean: sample.labels, adversarial: sample.labels } }), repeats);
  const total = perLayer.median + prefix.median;
  const result = {
    suite: 'dependency',
    model: modelId,
    backend: backend.active,
    n,
    layers: WIDTHS.length,
    widths: WIDTHS,
    repeats,
    forwardPassSeconds: +forward.median.toFixed(3),
    layerDependencySeconds: +perLayer.median.toFixed(2),
    prefixProbesSeconds: +prefix.median.toFixed(2),
    layerDependencyOverForward: +(perLayer.median / forward.median).toFixed(1),
    prefixProbesOverForward: +(prefix.median / forward.median).toFixed(1),
    totalOverForward: +(total / forward.median).toFixed(1),
  };
  console.log(JSON.stringify(result, null, 2));
}
