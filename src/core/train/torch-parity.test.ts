/**
 * The trainer against PyTorch: ResNet-8 (BatchNorm in training mode) takes two standard
 * training steps on one batch here and in tools/zoo/train_step_reference.py (its own module
 * code, the lab's initial weights copied in), with SGD (Nesterov momentum, weight decay) and
 * with Adam. Every weight and every BatchNorm running statistic must agree within 1e-4:
 * that checks the batch statistics (biased variance to normalise), the running update
 * (momentum 0.1, unbiased variance), the gradients through BatchNorm, and the optimisers'
 * update rules (two steps, so the momentum buffer and Adam's moments matter).
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, requireTorch } from '../../../tools/zoo/torch-testing';
import { fileURLToPath } from 'node:url';
import { createRng } from '../random';
import { defaults } from '../schema';
import type { ImageDataset } from '../types';
import { trainSchema } from './definition';
import { createTrainer } from './trainer';

const REFERENCE = fileURLToPath(new URL('../../../tools/zoo/train_step_reference.py', import.meta.url));
const TOLERANCE = 1e-4;
const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-train-parity-'));

beforeAll(async () => {
  requireTorch();
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One batch of 8 seeded 6×6×2 images (6 → 3 → 2 through the stride-2 stages), 3 classes. */
function batch(): ImageDataset {
  const rng = createRng(7);
  const n = 8;
  const images = Float32Array.from({ length: n * 6 * 6 * 2 }, () => rng.next());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { id: 'parity', name: 'parity', n, height: 6, width: 6, channels: 2, images, labels, classNames: ['a', 'b', 'c'] };
}

const OPTIMIZERS = { sgd: 0.1, adam: 0.001 } as const;
type OptimizerCase = keyof typeof OPTIMIZERS;

function trainerFor(optimizer: OptimizerCase) {
  const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
  // The batch is the whole data set: each step sees the same 8 images (in another order, which CE and BatchNorm ignore).
  return createTrainer(batch(), { ...rest, arch: 'resnet', method: 'standard', optimizer, lr: OPTIMIZERS[optimizer], momentum: 0.9, nesterov: 1, weightDecay: 5e-4, batch: 8, epochs: 2 });
}

const STEPS = 2;
let torchWeights: Record<OptimizerCase, Record<string, number[]>>;

beforeAll(async () => {
  // Both cases in one Python run: importing torch is most of its time.
  const data = batch();
  const cases: Record<string, unknown> = {};
  for (const optimizer of Object.keys(OPTIMIZERS) as OptimizerCase[]) {
    const trainer = trainerFor(optimizer);
    try {
      const initial = await trainer.net.read();
      cases[optimizer] = {
        shape: [data.n, data.height, data.width, data.channels], classes: 3,
        images: Array.from(data.images), labels: Array.from(data.labels),
        weights: Object.fromEntries(trainer.net.weights.map((w) => [w.name, { shape: w.shape, data: Array.from(initial.get(w.name) as Float32Array) }])),
        optimizer, lr: OPTIMIZERS[optimizer], momentum: 0.9, nesterov: true, weightDecay: 5e-4, steps: STEPS,
      };
    } finally {
      trainer.dispose();
    }
  }
  const casePath = path.join(dir, 'cases.json');
  const outPath = path.join(dir, 'out.json');
  writeFileSync(casePath, JSON.stringify(cases));
  execFileSync(PYTHON, [REFERENCE, casePath, outPath], { timeout: 120_000 });
  torchWeights = JSON.parse(readFileSync(outPath, 'utf8'));
});

describe('one training step with BatchNorm in train mode matches PyTorch', () => {
  // Adam at the zoo's 1e-3: its first steps move each weight by about ±lr whatever the gradient's
  // size, so float32 rounding in a near-zero gradient (summed in another order than PyTorch's)
  // shows at the scale of lr itself (1.1e-4 at lr 0.01 was seen on one conv weight).
  it.each(Object.keys(OPTIMIZERS) as OptimizerCase[])('ResNet-8, %s, two steps', async (optimizer) => {
    const trainer = trainerFor(optimizer);
    try {
      for (let i = 0; i < STEPS; i++) await trainer.step();
      const ours = await trainer.net.read();
      const torch = torchWeights[optimizer];
      const worst = { name: '', diff: 0 };
      for (const w of trainer.net.weights) {
        const a = ours.get(w.name) as Float32Array;
        const b = torch[w.name];
        expect(b, w.name).toHaveLength(a.length);
        for (let j = 0; j < a.length; j++) {
          const diff = Math.abs(a[j] - b[j]);
          if (diff > worst.diff) Object.assign(worst, { name: w.name, diff });
        }
      }
      expect(worst.diff, `largest difference at ${worst.name}`).toBeLessThan(TOLERANCE);
      // The statistics did move (a no-op BatchNorm update on both sides would also agree).
      const variance = ours.get('stage2.block1.bn1/moving_variance') as Float32Array;
      expect(variance.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    } finally {
      trainer.dispose();
    }
  });
});
