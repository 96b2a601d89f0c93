import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { defaults } from '../schema';
import { JobCancelledError, type ImageDataset } from '../types';
import { trainSchema } from './definition';
import { tradesLoss } from './methods';
import { createTrainer, runTraining, type TrainOptions } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A seeded synthetic set: class k brightens row band k, plus noise, so a model can learn it. */
function syntheticData(n: number, size: number, classes = 4): ImageDataset {
  const rng = createRng(12345);
  const images = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % classes;
    for (let r = 0; r < size; r++) {
      for (let col = 0; col < size; col++) {
        const band = Math.floor((r * classes) / size) === labels[i] ? 0.6 : 0;
        images[(i * size + r) * size + col] = Math.min(1, band + 0.4 * rng.next());
      }
    }
  }
  return { id: 'synthetic', name: 'synthetic', n, height: size, width: size, channels: 1, images, labels, classNames: Array.from({ length: classes }, (_, k) => String(k)) };
}

function options(patch: Partial<TrainOptions>): TrainOptions {
  const { data: _data, probeN: _probeN, ...rest } = defaults(trainSchema);
  return { ...rest, batch: 8, eps: 0.1, steps: 2, ...patch };
}

async function weightsAfter(data: ImageDataset, opts: TrainOptions, steps: number): Promise<Map<string, Float32Array>> {
  const trainer = createTrainer(data, opts);
  try {
    for (let i = 0; i < steps; i++) await trainer.step();
    return await trainer.net.read();
  } finally {
    trainer.dispose();
  }
}

function sameBits(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  if ([...a.keys()].join() !== [...b.keys()].join()) return false;
  for (const [k, v] of a) {
    const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
    const w = b.get(k) as Float32Array;
    const x = new Uint32Array(w.buffer, w.byteOffset, w.length);
    if (u.some((bits, i) => bits !== x[i])) return false;
  }
  return true;
}

describe('trainer', () => {
  const data = syntheticData(48, 8);

  // tfjs's CPU Conv2DBackpropFilter is slow (~0.2 s for an 8×8×16 batch of 8), so the
  // convolutional cases train on tiny images for few steps; the MLP case on more.
  it.each([
    ['mlp', 'pgd', 'adam', syntheticData(48, 8), 8, 7],
    ['resnet', 'trades', 'sgd', syntheticData(8, 4), 4, 3],
    ['small', 'fgsm-rs', 'sgd', syntheticData(16, 8), 8, 3],
  ] as const)('%s / %s / %s: the same seed gives bit-identical weights after N steps, another seed does not', async (arch, method, optimizer, set, batch, steps) => {
    // `steps` crosses an epoch boundary: the second epoch's batches come from a new data order.
    const opts = options({ arch, method, optimizer, batch, lr: 0.01, schedule: 'cosine', epochs: 3, maxSteps: steps, weightDecay: 5e-4, epsRamp: 0.5 });
    const a = await weightsAfter(set, opts, steps);
    const b = await weightsAfter(set, opts, steps);
    const other = await weightsAfter(set, { ...opts, seed: 1 }, steps);
    expect(sameBits(a, b)).toBe(true);
    expect(sameBits(a, other)).toBe(false);
    // The run did move the weights (a trainer that never stepped would pass the first check too).
    const init = await weightsAfter(set, opts, 0);
    expect(sameBits(a, init)).toBe(false);
    if (arch === 'resnet') {
      // Training-mode BatchNorm moved the running statistics away from their start (0 and 1).
      expect(Array.from(a.get('bn1/moving_mean') as Float32Array).some((x) => x !== 0)).toBe(true);
      expect(Array.from(a.get('bn1/moving_variance') as Float32Array).some((x) => x !== 1)).toBe(true);
    }
  });

  it('keeps tf.memory().numTensors flat across many MLP steps and a probe', async () => {
    const start = tf.memory().numTensors;
    const trainer = createTrainer(data, options({ arch: 'mlp', method: 'pgd', epochs: 100, maxSteps: 400 }));
    try {
      // The first step creates the optimiser's state (Adam's moments): count from after it.
      await trainer.step();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 60; i++) await trainer.step();
      await trainer.probe(syntheticData(12, 8));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      trainer.dispose();
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  it('learns the synthetic task and logs probes; cancelling keeps the weights and returns the log so far', async () => {
    const trainer = createTrainer(data, options({ arch: 'mlp', method: 'standard', lr: 0.01, epochs: 10 }));
    const probe = syntheticData(20, 8);
    try {
      const log = await runTraining(trainer, probe, 25);
      expect(log.steps).toBe(trainer.totalSteps);
      expect(log.probes.map((p) => p.step)).toEqual([25, 50, 60]);
      expect(log.probes[log.probes.length - 1].cleanAccuracy).toBe(1);
      const controller = new AbortController();
      const more = createTrainer(data, options({ arch: 'mlp', method: 'standard', epochs: 20 }));
      try {
        const run = runTraining(more, probe, 5, { onStep: (r) => r.step === 12 && controller.abort(), signal: controller.signal });
        const error = await run.catch((e) => e);
        expect(error).toBeInstanceOf(JobCancelledError);
        expect((error as JobCancelledError<{ steps: number; probes: unknown[] }>).partial?.steps).toBe(12);
        expect((error as JobCancelledError<{ steps: number; probes: unknown[] }>).partial?.probes).toHaveLength(2);
        expect(more.stepsDone).toBe(12);
        // Resumed after the cancel, the run ends with the weights of a run never interrupted.
        const cancelled = new AbortController();
        cancelled.abort();
        await expect(more.step(cancelled.signal)).rejects.toBeInstanceOf(JobCancelledError);
        for (let i = 0; i < 3; i++) await more.step();
        expect(sameBits(await more.net.read(), await weightsAfter(data, options({ arch: 'mlp', method: 'standard', epochs: 20 }), 15))).toBe(true);
      } finally {
        more.dispose();
      }
    } finally {
      trainer.dispose();
    }
  });
});

describe('TRADES loss', () => {
  it('equals the hand-computed value on a two-sample case', () => {
    // Sample 1: z = (0, ln 3) → p = (¼, ¾); z' = (0, 0) → q = (½, ½); y = 0:
    //   CE = −ln ¼ = ln 4;  KL(p‖q) = ¼·ln(¼/½) + ¾·ln(¾/½) = ¼·ln ½ + ¾·ln 3/2.
    // Sample 2: z = z' = (0, 0), y = 1: CE = ln 2, KL = 0.
    // Loss = (ln 4 + ln 2)/2 + β·(KL₁ + 0)/2 with β = 6.
    const kl1 = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
    const expected = (Math.log(4) + Math.log(2)) / 2 + (6 * kl1) / 2; // 1.4321569…
    const value = tf.tidy(() =>
      tradesLoss(tf.tensor2d([[0, Math.log(3)], [0, 0]]), tf.tensor2d([[0, 0], [0, 0]]), tf.tensor1d([0, 1], 'int32'), 6).dataSync()[0],
    );
    expect(value).toBeCloseTo(expected, 6);
    expect(expected).toBeCloseTo(1.4321569, 6);
  });
});
