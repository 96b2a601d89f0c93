import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { runAttack } from './runner';
import { AttackCache, prefixHasSameRows, sharedAttack } from './shared';
import type { AttackResult, AttackSpec } from './types';

// A small ReLU network on 4×4 images with 5 classes: nonlinear enough that every attack
// takes several different steps, cheap enough to run each attack three times on the CPU.
let w1: tf.Tensor2D;
let w2: tf.Tensor2D;
const logits = (x: tf.Tensor4D): tf.Tensor2D => tf.tidy(() => tf.matMul(tf.relu(tf.matMul(tf.reshape(x, [x.shape[0], 16]), w1)), w2));
const N = 40;
const images = new Float32Array(N * 16);
let labels: Int32Array;
const shape: [number, number, number] = [4, 4, 1];
const indices = Int32Array.from({ length: N }, (_, i) => 100 + 3 * i);

beforeAll(async () => {
  await tf.setBackend('cpu');
  const rng = createRng(11);
  w1 = tf.tensor2d(Array.from({ length: 16 * 12 }, () => rng.normal()), [16, 12]);
  w2 = tf.tensor2d(Array.from({ length: 12 * 5 }, () => rng.normal()), [12, 5]);
  for (let i = 0; i < images.length; i++) images[i] = rng.next();
  labels = tf.tidy(() => tf.argMax(logits(tf.tensor4d(images, [N, ...shape])), 1).dataSync() as Int32Array);
  labels = Int32Array.from(labels);
});
afterAll(() => tf.dispose([w1, w2]));

const first = (n: number) => ({ images: images.slice(0, n * 16), labels: labels.slice(0, n), shape });
const rowsOf = (r: AttackResult) => ({ adversarial: Array.from(r.adversarial), advPred: Array.from(r.advPred), success: Array.from(r.success), firstSuccessStep: Array.from(r.firstSuccessStep), robust: r.robustAccuracy });

const SPECS: AttackSpec[] = [
  { attack: 'fgsm', norm: 'linf', eps: 0.1, steps: 1 },
  { attack: 'pgd', norm: 'linf', eps: 0.1, steps: 5 },
  { attack: 'pgd', norm: 'l2', eps: 0.5, steps: 5 },
  { attack: 'bim', norm: 'linf', eps: 0.1, steps: 5 },
  { attack: 'apgd-ce', norm: 'linf', eps: 0.1, steps: 5 },
  { attack: 'apgd-dlr', norm: 'l2', eps: 0.5, steps: 5, restarts: 2 },
  { attack: 'apgd-t', norm: 'linf', eps: 0.1, steps: 5, targets: 2 },
  { attack: 'apgd-t', norm: 'linf', eps: 0.3, steps: 5, targetClass: 1 },
  { attack: 'aa', norm: 'linf', eps: 0.1, steps: 5, targets: 2 },
  { attack: 'gaussian', norm: 'l2', eps: 0.5, steps: 1, draws: 3 },
  { attack: 'deepfool', norm: 'l2', eps: 0.5, steps: 10 },
  { attack: 'fab', norm: 'linf', eps: 0.1, steps: 5 },
  { attack: 'cw', norm: 'l2', eps: 0.5, steps: 5, searchSteps: 2 },
];

describe('shared attacks: a reused result is the result a fresh run computes', () => {
  for (const spec of SPECS) {
    it(`${spec.attack} ${spec.norm}${spec.restarts ? ` ×${spec.restarts}` : ''}${spec.targetClass !== undefined ? ` →${spec.targetClass}` : ''}: the prefix rule holds against fresh runs`, async () => {
      const whole = await runAttack(logits, first(N), spec, { seed: 5 });
      expect(whole.success.some((v) => v === 1)).toBe(true);
      // Two batches (32 + 8) on 35 samples vs 40: the same batch size, so any attack's rows agree.
      const twoBatches = await runAttack(logits, first(35), spec, { seed: 5 });
      if (prefixHasSameRows(35, 32, 32, spec)) expect(Array.from(twoBatches.adversarial)).toEqual(Array.from(whole.adversarial.subarray(0, 35 * 16)));
      else expect(['aa', 'gaussian']).toContain(spec.attack);
      // One smaller batch (8 samples, batch 8) vs the first rows of a batch of 32.
      const small = await runAttack(logits, first(8), spec, { seed: 5 });
      const same = Array.from(small.adversarial).every((v, i) => v === whole.adversarial[i]);
      if (prefixHasSameRows(8, 8, 32, spec)) expect(same).toBe(true);
    });
  }

  it('answers exact repeats and prefixes from the cache, with fresh arrays and its own accuracies', async () => {
    const cache = new AttackCache();
    const spec: AttackSpec = { attack: 'pgd', norm: 'linf', eps: 0.1, steps: 5 };
    const req = { modelId: 'net', dataId: 'toy', indices, seed: 5 };
    const whole = await sharedAttack(cache, logits, first(N), spec, req);
    const again = await sharedAttack(cache, logits, first(N), spec, req);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    expect(again.adversarial).not.toBe(whole.adversarial);
    expect(rowsOf(again)).toEqual(rowsOf(whole));
    const prefix = await sharedAttack(cache, logits, first(8), spec, { ...req, indices: indices.slice(0, 8) });
    const fresh = await runAttack(logits, first(8), spec, { seed: 5 });
    expect(cache.stats().hits).toBe(2);
    expect(rowsOf(prefix)).toEqual(rowsOf(fresh));
    expect(prefix.cleanAccuracy).toBe(fresh.cleanAccuracy);
    // Another seed, model or spec is another attack.
    await sharedAttack(cache, logits, first(8), spec, { ...req, indices: indices.slice(0, 8), seed: 6 });
    await sharedAttack(cache, logits, first(8), { ...spec, eps: 0.2 }, { ...req, indices: indices.slice(0, 8) });
    await sharedAttack(cache, logits, first(8), spec, { ...req, modelId: 'other', indices: indices.slice(0, 8) });
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 4 });
  });

  it('evicts the least recently used entries beyond its byte cap', async () => {
    const spec: AttackSpec = { attack: 'fgsm', norm: 'linf', eps: 0.1, steps: 1 };
    const one = N * 16 * 4 + N * 40;
    const cache = new AttackCache(2 * one + 10);
    for (const eps of [0.1, 0.2, 0.3]) await sharedAttack(cache, logits, first(N), { ...spec, eps }, { modelId: 'net', dataId: 'toy', indices, seed: 0 });
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 2 * one });
    await sharedAttack(cache, logits, first(N), { ...spec, eps: 0.1 }, { modelId: 'net', dataId: 'toy', indices, seed: 0 });
    expect(cache.stats().misses).toBe(4);
  });

  it('ε = 0 is the clean evaluation without an attack step', async () => {
    for (const spec of [{ attack: 'pgd', norm: 'linf', eps: 0, steps: 50 }, { attack: 'aa', norm: 'l2', eps: 0, steps: 50 }] as AttackSpec[]) {
      const r = await runAttack(logits, first(N), spec, { seed: 1 });
      expect(Array.from(r.adversarial)).toEqual(Array.from(images));
      expect(Array.from(r.advPred)).toEqual(Array.from(r.cleanPred));
      expect(r.robustAccuracy).toBe(r.cleanAccuracy);
      expect(r.cleanAccuracy).toBe(1);
      expect(r.success.every((s) => s === 0)).toBe(true);
    }
  });
});
