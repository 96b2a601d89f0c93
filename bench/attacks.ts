/**
 * attacks: PGD image-steps per second, batched as the lab runs it, against
 * (a) the raw forward+backward throughput of the same model on the same backend and
 * (b) a straightforward per-sample loop (batch size 1).
 */
import path from 'node:path';
import { arg, ROOT, time } from './common';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/core/backend';
import { runAttack } from '../src/core/attacks/runner';
import { crossEntropyPerSample } from '../src/core/attacks/common';
import { loadLabModel, type LabModel } from '../src/core/model/model';
import { nodeModelReader } from '../src/cli/files';
import { loadBuiltinDataset } from '../src/cli/images';
import { classBalancedSample, takeSamples } from '../src/core/data/sampler';

async function rawForwardBackward(model: LabModel, images: Float32Array, labels: Int32Array, shape: [number, number, number], batch: number, steps: number) {
  const d = shape[0] * shape[1] * shape[2];
  const x = tf.tensor4d(images.subarray(0, batch * d), [batch, ...shape]);
  const y = tf.tensor1d(labels.subarray(0, batch), 'int32');
  const gradFn = tf.grad((input: tf.Tensor) => tf.sum(crossEntropyPerSample(model.logits(input as tf.Tensor4D), y)));
  for (let s = 0; s < steps; s++) {
    const g = gradFn(x);
    await g.data();
    g.dispose();
  }
  tf.dispose([x, y]);
}

export async function benchAttacks(args: string[]) {
  const modelId = arg(args, 'model', 'mnist-small-st');
  const backendName = arg(args, 'backend', 'cpu') as BackendName;
  const n = Number(arg(args, 'n', '32'));
  const steps = Number(arg(args, 'steps', '10'));
  const repeats = Number(arg(args, 'repeats', '3'));
  tf.env().set('PROD', true);
  const backend = await selectBackend(backendName, { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
  const file = path.join(ROOT, 'public/models', modelId, 'model.json');
  const reader = nodeModelReader(file);
  const model = await loadLabModel(reader.name, reader.read, file);
  const card = await import(path.join(ROOT, 'public/models', modelId, 'card.json'), { with: { type: 'json' } }).catch(() => ({ default: { dataset: 'mnist-test' } }));
  const ds = await loadBuiltinDataset(card.default.dataset ?? 'mnist-test', path.join(ROOT, 'public'));
  const sample = takeSamples(ds, classBalancedSample(ds.labels, ds.classNames.length, n, 0));
  const shape: [number, number, number] = [sample.height, sample.width, sample.channels];
  const input = { images: sample.images, labels: sample.labels, shape };
  const spec = { attack: 'pgd' as const, norm: 'linf' as const, eps: 0.1, steps };
  // Warm up kernels once before timing.
  await runAttack(model.logits, input, { ...spec, steps: 1 }, { seed: 0, batchSize: n });
  const batched = await time(() => runAttack(model.logits, input, spec, { seed: 0, batchSize: n }), repeats);
  const raw = await time(() => rawForwardBackward(model, sample.images, sample.labels, shape, n, steps), repeats);
  const perSampleN = Math.min(n, 8);
  const perSampleInput = { images: sample.images.subarray(0, perSampleN * shape[0] * shape[1] * shape[2]), labels: sample.labels.subarray(0, perSampleN), shape };
  const perSample = await time(() => runAttack(model.logits, perSampleInput, spec, { seed: 0, batchSize: 1 }), 1);
  const imageSteps = n * steps;
  const batchedRate = imageSteps / batched.median;
  const rawRate = imageSteps / raw.median;
  const perSampleRate = (perSampleN * steps) / perSample.median;
  const result = {
    suite: 'attacks',
    model: modelId,
    backend: backend.active,
    n,
    steps,
    repeats,
    pgdImageStepsPerSecond: +batchedRate.toFixed(1),
    rawForwardBackwardImageStepsPerSecond: +rawRate.toFixed(1),
    attackOverVsRaw: +(rawRate / batchedRate - 1).toFixed(3),
    perSampleLoopImageStepsPerSecond: +perSampleRate.toFixed(1),
    batchedSpeedupVsPerSample: +(batchedRate / perSampleRate).toFixed(2),
  };
  model.dispose();
  console.log(JSON.stringify(result, null, 2));
}
