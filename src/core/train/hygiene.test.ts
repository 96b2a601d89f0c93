/**
 * Tensor hygiene over a long run (issue #25: "tf.memory().numTensors flat across 1,000 training
 * steps"; STYLE.md convention 6), on the WASM backend the lab trains on: 1,000 standard steps of
 * the MLP with the Train view's live round (probe, layer shift, logits) every 250 steps, as the
 * worker runs them (runTrainingPair with the live budget off, so every due probe runs). SGD with
 * momentum (its buffers are optimiser state made at the first step, as Adam's moments are): in
 * Node on WASM a batch-8 MLP step took 8.3 ms of CPU with it and 12.8 ms with Adam (whose steps
 * trainer.test.ts checks for leaks), and this test must stay short.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend';
import { createRng } from '../random';
import { defaults } from '../schema';
import type { ImageDataset } from '../types';
import { trainSchema } from './definition';
import { modelLayerShift, withTrainerModel } from './layers';
import { modelProbeLogits } from './logits';
import { runTrainingPair } from './pair';
import { createTrainer } from './trainer';

const WASM_PATHS = fileURLToPath(new URL('../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)) + path.sep;

afterAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

/** MNIST-shaped noise with a class-dependent bright band, so the steps do real work. */
function synthetic(n: number, seed: number): ImageDataset {
  const rng = createRng(seed);
  const images = new Float32Array(n * 784);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) images[i * 784 + p] = Math.min(1, (Math.floor(p / 28 / 2.8) === labels[i] ? 0.6 : 0) + 0.4 * rng.next());
  return { id: 'synthetic', name: 'synthetic', n, height: 28, width: 28, channels: 1, images, labels, classNames: Array.from({ length: 10 }, (_, k) => String(k)) };
}

describe('tensor hygiene', () => {
  it('keeps tf.memory().numTensors flat across 1,000 MLP steps on WASM with a live round every 250', async () => {
    const state = await selectBackend('wasm', { node: true, wasmPaths: WASM_PATHS });
    expect(state.active).toBe('wasm');
    // tfjs's per-kernel leak check (on under IS_TEST) counts the buffers WASM's kernels make
    // inside the trainer's custom gradients (arch.ts denseMatMul, convValid) as leaked; the
    // backend's own count of data buffers, checked below with the tensors, shows none is kept.
    tf.env().set('IS_TEST', false);
    const buffers = () => tf.engine().backend.numDataIds();
    const data = synthetic(400, 1);
    const probe = synthetic(40, 2);
    const before = tf.memory().numTensors;
    const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
    const trainer = createTrainer(data, { ...rest, arch: 'mlp', method: 'standard', optimizer: 'sgd', eps: 0.1, batch: 8, epochs: 20, maxSteps: 1000, probeSteps: 2 });
    const counts: { at: string; step: number; tensors: number; buffers: number }[] = [];
    try {
      const log = await runTrainingPair([trainer], probe, 250, {
        // The momentum buffers are made at the first step: the count every later moment must equal.
        onStep: (r) => (r.step === 1 || r.step % 100 === 0) && counts.push({ at: 'step', step: r.step, tensors: tf.memory().numTensors, buffers: buffers() }),
        onProbe: (m) => counts.push({ at: 'probe', step: m.step, tensors: tf.memory().numTensors, buffers: buffers() }),
        live: async () => {
          await withTrainerModel(trainer, probe.classNames, async (model) => {
            await modelLayerShift(model, trainer, probe, 20);
            await modelProbeLogits(model, trainer.stepsDone, probe, 40);
          });
          counts.push({ at: 'live', step: trainer.stepsDone, tensors: tf.memory().numTensors, buffers: buffers() });
        },
      });
      expect(log.runs[0].probes.map((p) => p.step)).toEqual([250, 500, 750, 1000]);
      expect(counts.filter((c) => c.at === 'live').map((c) => c.step)).toEqual([250, 500, 750, 1000]);
      const first = counts[0];
      expect(first.step).toBe(1);
      expect(counts.filter((c) => c.tensors !== first.tensors || c.buffers !== first.buffers)).toEqual([]);
    } finally {
      trainer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
