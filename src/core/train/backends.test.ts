/**
 * The trainer on WASM against the CPU backend (STYLE.md convention 17: backends are checked,
 * not trusted). tfjs's WASM backend has no Conv2DBackpropFilter; the trainer's convolutions
 * take their kernel gradient from matrix products (arch.ts convValid), so CNNs train there too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend';
import { createRng } from '../random';
import { defaults } from '../schema';
import { trainSchema } from './definition';
import { createTrainer } from './trainer';

const WASM_PATHS = fileURLToPath(new URL('../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)) + path.sep;

afterAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

async function weightsAfterTwoSteps(backend: 'cpu' | 'wasm', arch: 'small' | 'resnet'): Promise<{ weights: Map<string, Float32Array>; tensorsFlat: boolean }> {
  const state = await selectBackend(backend, { node: true, wasmPaths: WASM_PATHS });
  expect(state.active).toBe(backend);
  // tfjs's per-kernel leak check (on under IS_TEST) counts the WASM convolution's internal
  // buffers inside a custom gradient as leaked; tf.memory() below shows none is kept.
  tf.env().set('IS_TEST', backend === 'cpu');
  const rng = createRng(1);
  const n = 32;
  const data = {
    id: 'toy', name: 'toy', n, height: 12, width: 12, channels: 1,
    images: Float32Array.from({ length: n * 144 }, () => rng.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
  };
  const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
  const trainer = createTrainer(data, { ...rest, arch, method: 'standard', batch: 16, epochs: 2, optimizer: 'sgd', lr: 0.05 });
  try {
    await trainer.step();
    const before = tf.memory().numTensors;
    await trainer.step();
    return { weights: await trainer.net.read(), tensorsFlat: tf.memory().numTensors === before };
  } finally {
    trainer.dispose();
  }
}

describe('training on WASM', () => {
  it.each(['small', 'resnet'] as const)('%s: two SGD steps give the CPU backend’s weights within 1e-6', async (arch) => {
    const cpu = await weightsAfterTwoSteps('cpu', arch);
    const wasm = await weightsAfterTwoSteps('wasm', arch);
    expect(wasm.tensorsFlat).toBe(true);
    let worst = 0;
    for (const [name, a] of cpu.weights) {
      const b = wasm.weights.get(name) as Float32Array;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    // Measured 7e-9 (small) and 1.3e-7 (ResNet-8): float32 sums in another order.
    expect(worst).toBeLessThan(1e-6);
  });
});
