import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { defaults } from '../schema';
import { cleanDisplacement } from '../tsne/tsne';
import type { ImageDataset } from '../types';
import { trainSchema } from './definition';
import { modelMftmaProbe, modelTsneProbe, probeLayerOf, warmTsne, type TrainMftmaProbe, type TrainTsneProbe } from './embedding';
import { withTrainerModel } from './layers';
import { runTrainingPair } from './pair';
import { createTrainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** k well-separated Gaussian blobs in d dimensions, `per` points each (blob j centred at 10·e_j). */
function blobs(k: number, per: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(k * per * d);
  for (let j = 0; j < k; j++) for (let i = 0; i < per; i++) for (let c = 0; c < d; c++) x[(j * per + i) * d + c] = (c === j ? 10 : 0) + rng.normal();
  return x;
}

const allRows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('warm-started t-SNE (the lab’s t-SNE from a given layout)', () => {
  const n = 60;
  const d = 5;
  const x = blobs(3, 20, d, 1);

  it('returns the given layout untouched after 0 iterations', async () => {
    const init = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i) * 3);
    const r = await warmTsne(x, n, d, init, { seed: 0, warmIterations: 0 });
    expect(r.start).toBe('warm');
    expect(r.iterations).toBe(0);
    expect(Array.from(r.positions)).toEqual(Array.from(init));
  });

  it('moves an already converged layout little, where a cold start with another seed lands elsewhere; seeded runs repeat exactly', async () => {
    const cold = await warmTsne(x, n, d, null, { seed: 3 });
    expect(cold.start).toBe('cold');
    expect(cold.iterations).toBe(750);
    const again = await warmTsne(x, n, d, null, { seed: 3 });
    expect(Array.from(again.positions)).toEqual(Array.from(cold.positions));
    const other = await warmTsne(x, n, d, null, { seed: 4 });
    const warm = await warmTsne(x, n, d, cold.positions, { seed: 3, warmIterations: 50 });
    const warmMove = cleanDisplacement(cold.positions, warm.positions, allRows(n));
    const coldMove = cleanDisplacement(cold.positions, other.positions, allRows(n));
    // Relative to the layout's RMS radius: a converged layout drifts by a few per cent, a re-draw by its own size.
    expect(warmMove).toBeLessThan(0.1);
    expect(coldMove).toBeGreaterThan(0.5);
    // The warm start did optimise (the KL does not get worse from the converged layout).
    expect(warm.kl).toBeLessThanOrEqual(cold.kl + 1e-3);
    const warmAgain = await warmTsne(x, n, d, cold.positions, { seed: 3, warmIterations: 50 });
    expect(Array.from(warmAgain.positions)).toEqual(Array.from(warm.positions));
  });

  it('refuses a layout of the wrong size', async () => {
    await expect(warmTsne(x, n, d, new Float32Array(10), { seed: 0 })).rejects.toThrow(/layout has 5 points, the data 60/);
  });
});

/** Class k brightens row band k, plus seeded noise (pair.test.ts's data). */
function synthetic(n: number, size = 8, classes = 3, seed = 99): ImageDataset {
  const rng = createRng(seed);
  const images = new Float32Array(n * size * size);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < size * size; p++) images[i * size * size + p] = Math.min(1, (Math.floor((Math.floor(p / size) * classes) / size) === labels[i] ? 0.6 : 0) + 0.4 * rng.next());
  return { id: 'synthetic', name: 'synthetic', n, height: size, width: size, channels: 1, images, labels, classNames: Array.from({ length: classes }, (_, k) => String(k)) };
}

describe('t-SNE and MFTMA of one layer while training', () => {
  it('warm-starts each probe’s layout from the last: consecutive layouts move less than a re-drawn one; MFTMA capacity per probe; tensors flat', async () => {
    const data = synthetic(120);
    const probe = synthetic(60, 8, 3, 5);
    const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
    const before = tf.memory().numTensors;
    const trainer = createTrainer(data, { ...rest, arch: 'mlp', method: 'standard', batch: 12, lr: 0.003, epochs: 3, maxSteps: 30 });
    const layouts: TrainTsneProbe[] = [];
    const capacities: TrainMftmaProbe[] = [];
    const redrawMoves: number[] = [];
    try {
      await runTrainingPair([trainer], probe, 10, {
        live: () =>
          withTrainerModel(trainer, probe.classNames, async (model) => {
            const prev = layouts[layouts.length - 1] ?? null;
            const next = await modelTsneProbe(model, trainer.stepsDone, probe, probeLayerOf(model, 'auto', 'test') as string, prev, 11, 60);
            if (prev) {
              // The same embedding without the warm start: a cold start from the seeded random layout.
              const cold = await modelTsneProbe(model, trainer.stepsDone, probe, next.layer, null, 12, 60);
              redrawMoves.push(cleanDisplacement(prev.positions, cold.positions, allRows(60)));
            }
            layouts.push(next);
            capacities.push(await modelMftmaProbe(model, trainer.stepsDone, probe, next.layer, 11));
          }),
      });
    } finally {
      trainer.dispose();
    }
    expect(layouts.map((l) => l.step)).toEqual([10, 20, 30]);
    expect(layouts.map((l) => l.start)).toEqual(['cold', 'warm', 'warm']);
    expect(layouts.every((l) => l.positions.length === 120 && l.positions.every(Number.isFinite))).toBe(true);
    // Point i is probe image i at every probe.
    expect(layouts.every((l) => Array.from(l.labels).join() === Array.from(probe.labels).join())).toBe(true);
    for (let k = 1; k < layouts.length; k++) {
      const warmMove = cleanDisplacement(layouts[k - 1].positions, layouts[k].positions, allRows(60));
      // Measured: 0.05–0.06 of the layout's radius against 1.3–1.5 for a cold re-draw.
      expect(warmMove, `probe ${k}`).toBeLessThan(0.25 * redrawMoves[k - 1]);
    }
    expect(capacities.map((c) => c.step)).toEqual([10, 20, 30]);
    for (const c of capacities) {
      expect(c.p).toBe(3);
      expect(c.m).toBe(20);
      expect(Number.isFinite(c.capacity) && c.capacity > 0).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
