import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { defaults } from '../schema';
import { JobCancelledError, type ImageDataset } from '../types';
import { trainSchema } from './definition';
import { runTrainingPair, type PairLog } from './pair';
import { createTrainer, type Trainer, type TrainOptions } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Class k brightens row band k, plus seeded noise. */
function synthetic(n: number, size = 6, classes = 3): ImageDataset {
  const rng = createRng(99);
  const images = new Float32Array(n * size * size);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < size * size; p++) images[i * size * size + p] = Math.min(1, (Math.floor((Math.floor(p / size) * classes) / size) === labels[i] ? 0.6 : 0) + 0.4 * rng.next());
  return { id: 'synthetic', name: 'synthetic', n, height: size, width: size, channels: 1, images, labels, classNames: Array.from({ length: classes }, (_, k) => String(k)) };
}

function options(patch: Partial<TrainOptions>): TrainOptions {
  const { data: _d, probeN: _p, ...rest } = defaults(trainSchema);
  return { ...rest, arch: 'mlp', batch: 6, eps: 0.1, steps: 2, lr: 0.01, epochs: 3, ...patch };
}

const bits = (m: Map<string, Float32Array>) => [...m].map(([k, v]) => `${k}:${Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length)).join(',')}`).join(';');

describe('two runs side by side (runTrainingPair)', () => {
  const data = synthetic(30); // 5 steps per epoch at batch 6
  const probe = synthetic(9);

  it('interleaves A and B over identical batches; each run ends bit-identical to the run trained alone; epoch ends are announced', async () => {
    const before = tf.memory().numTensors;
    const a = createTrainer(data, options({ method: 'standard', maxSteps: 12 }));
    const b = createTrainer(data, options({ method: 'pgd', maxSteps: 12 }));
    const other = createTrainer(data, options({ method: 'standard', maxSteps: 12, seed: 3 }));
    const solo = createTrainer(data, options({ method: 'pgd', maxSteps: 12 }));
    const trainers: Trainer[] = [a, b, other, solo];
    try {
      const seen: { run: number; step: number; indices: number[] }[] = [];
      const epochs: string[] = [];
      const live: string[] = [];
      const log = await runTrainingPair([a, b], probe, 4, {
        onStep: (r, run) => seen.push({ run, step: r.step, indices: Array.from((run ? b : a).batchIndices(r.step - 1)) }),
        onEpoch: (run, epoch) => void epochs.push(`${run}:${epoch}@${(run ? b : a).stepsDone}`),
        live: async (run) => void live.push(`${run}@${(run ? b : a).stepsDone}`),
      });
      // A, B, A, B…: both runs stepped in turn, and at every step over the same images.
      expect(seen.map((s) => s.run)).toEqual(Array.from({ length: 24 }, (_, i) => i % 2));
      for (let k = 0; k < 12; k++) expect(seen[2 * k + 1].indices).toEqual(seen[2 * k].indices);
      // The batches do change (from step to step, and at the epoch boundary a new order), and another seed orders the data differently.
      expect(seen[2].indices).not.toEqual(seen[0].indices);
      expect(Array.from(other.batchIndices(0))).not.toEqual(seen[0].indices);
      // Epoch ends (5 steps per epoch) of both runs, the probes every 4 steps and at the end, the live analyses after each.
      expect(epochs).toEqual(['0:1@5', '1:1@5', '0:2@10', '1:2@10']);
      expect(log.runs.map((r) => r.probes.map((p) => p.step))).toEqual([[4, 8, 12], [4, 8, 12]]);
      expect(live).toEqual(['0@4', '1@4', '0@8', '1@8', '0@12', '1@12']);
      expect(log.budget.rounds).toBe(3);
      expect(log.budget.share).toBeGreaterThan(0);
      expect(log.budget.share).toBeLessThan(1);
      // Interleaving changes nothing in what a run computes.
      for (let i = 0; i < 12; i++) await solo.step();
      expect(bits(await b.net.read())).toBe(bits(await solo.net.read()));
      expect(bits(await a.net.read())).not.toBe(bits(await b.net.read()));
    } finally {
      for (const t of trainers) t.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('defers due probes while the live budget is spent, always probes the last step, and cancels with both logs', async () => {
    const a = createTrainer(data, options({ method: 'standard', maxSteps: 10 }));
    const b = createTrainer(data, options({ method: 'fgsm-rs', maxSteps: 10 }));
    try {
      // A live analysis far dearer than the steps: after the first round, due probes wait.
      const spin = (ms: number) => {
        const end = performance.now() + ms;
        while (performance.now() < end);
      };
      const log = await runTrainingPair([a, b], null, 1, { liveShare: 0.25, live: async () => spin(400) });
      const steps = log.runs[0].probes.map((p) => p.step);
      expect(steps[0]).toBe(1);
      expect(steps[steps.length - 1]).toBe(10);
      expect(steps.length).toBeLessThan(10);
      expect(log.budget.deferred).toBeGreaterThan(0);
      // Unbudgeted, the same run probes every step.
      const c = createTrainer(data, options({ method: 'standard', maxSteps: 10 }));
      try {
        expect((await runTrainingPair([c], null, 1)).runs[0].probes).toHaveLength(10);
      } finally {
        c.dispose();
      }
    } finally {
      a.dispose();
      b.dispose();
    }
    const a2 = createTrainer(data, options({ method: 'standard', epochs: 20 }));
    const b2 = createTrainer(data, options({ method: 'pgd', epochs: 20 }));
    try {
      const controller = new AbortController();
      const error = await runTrainingPair([a2, b2], null, 3, { signal: controller.signal, onStep: (r, run) => run === 1 && r.step === 7 && controller.abort() }).catch((e) => e);
      expect(error).toBeInstanceOf(JobCancelledError);
      const partial = (error as JobCancelledError<PairLog>).partial;
      expect(partial?.runs.map((r) => r.steps)).toEqual([7, 7]);
      expect(partial?.runs.map((r) => r.probes.length)).toEqual([2, 2]);
    } finally {
      a2.dispose();
      b2.dispose();
    }
  });

});
