import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { apgdCheckpoints, dlrLoss, targetedDlrLoss } from './apgd';
import { runAttack } from './runner';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('APGD pieces', () => {
  it('puts checkpoints after iterations 22, 41, 57, 70, 80, 87, 93, 99 for N = 100 (spec §5)', () => {
    expect(apgdCheckpoints(100).map((c) => c.at)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(100).map((c) => c.k)).toEqual([22, 19, 16, 13, 10, 7, 6, 6]);
  });

  it('DLR and targeted DLR on hand-made logits', () => {
    const before = tf.memory().numTensors;
    const dlr = tf.tidy(() => Array.from(dlrLoss(tf.tensor2d([[3, 1, 0], [3, 1, 0]]), tf.tensor1d([0, 1], 'int32')).dataSync()));
    // Correct (y=0): −(3 − 1)/(3 − 0); wrong (y=1): −(1 − 3)/(3 − 0).
    expect(dlr[0]).toBeCloseTo(-2 / 3, 6);
    expect(dlr[1]).toBeCloseTo(2 / 3, 6);
    const t = tf.tidy(() => targetedDlrLoss(tf.tensor2d([[4, 3, 2, 1]]), tf.tensor1d([0], 'int32'), tf.tensor1d([1], 'int32')).dataSync()[0]);
    expect(t).toBeCloseTo(-(4 - 3) / (4 - (2 + 1) / 2), 6);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('APGD-CE on a linear binary classifier', () => {
  let model: LabModel;
  beforeAll(() => {
    // z1 − z0 = 2a − b − 0.25; L-inf distance of (0.3, 0.5) to the boundary: 0.15/3 = 0.05.
    model = linearModel([1, 2, 1], [[0, 2], [0, -1]], [0, -0.25]);
  });
  afterAll(() => model.dispose());

  it('breaks the point just above the closed-form distance, not below, inside the ball, with flat tensors', async () => {
    const before = tf.memory().numTensors;
    const input = { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] as [number, number, number] };
    const below = await runAttack(model.logits, input, { attack: 'apgd-ce', norm: 'linf', eps: 0.048, steps: 20 }, { seed: 1 });
    const above = await runAttack(model.logits, input, { attack: 'apgd-ce', norm: 'linf', eps: 0.052, steps: 20 }, { seed: 1 });
    expect(below.success[0]).toBe(0);
    expect(above.success[0]).toBe(1);
    expect(above.linf[0]).toBeLessThanOrEqual(0.052 + 1e-6);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('L2: reaches |margin|/‖w‖₂', async () => {
    const input = { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] as [number, number, number] };
    const dist = 0.15 / Math.sqrt(5);
    const below = await runAttack(model.logits, input, { attack: 'apgd-ce', norm: 'l2', eps: dist * 0.97, steps: 30 }, { seed: 2 });
    const above = await runAttack(model.logits, input, { attack: 'apgd-ce', norm: 'l2', eps: dist * 1.03, steps: 30 }, { seed: 2 });
    expect(below.success[0]).toBe(0);
    expect(above.success[0]).toBe(1);
  });
});

describe('APGD-DLR and APGD-T on a 4-class linear model', () => {
  let model: LabModel;
  beforeAll(() => {
    // Logits: z = (a + b + 0.1, 2a, 2b, −a − b). Class 0 wins while |a − b| < 0.1; an
    // L-inf step of eps moves a − b by at most 2·eps, so class 1 is reachable iff a − b > 0.1 − 2·eps.
    model = linearModel([1, 2, 1], [[1, 2, 0, -1], [1, 0, 2, -1]], [0.1, 0, 0, 0]);
  });
  afterAll(() => model.dispose());

  it('is deterministic, respects the ball, and is at least as strong as FGSM', async () => {
    const before = tf.memory().numTensors;
    // Points of class 0 with gaps a − b = 0, 0.005, …, 0.055.
    const n = 12;
    const images = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      images[2 * i] = 0.5 + 0.01 * i;
      images[2 * i + 1] = 0.5 + 0.005 * i;
    }
    const labels = new Int32Array(n);
    const input = { images, labels, shape: [1, 2, 1] as [number, number, number] };
    for (const attack of ['apgd-dlr', 'apgd-t'] as const) {
      const a = await runAttack(model.logits, input, { attack, norm: 'linf', eps: 0.03, steps: 10, targets: 3 }, { seed: 4, batchSize: 8 });
      const b = await runAttack(model.logits, input, { attack, norm: 'linf', eps: 0.03, steps: 10, targets: 3 }, { seed: 4, batchSize: 8 });
      expect(Array.from(a.adversarial)).toEqual(Array.from(b.adversarial));
      const fgsm = await runAttack(model.logits, input, { attack: 'fgsm', norm: 'linf', eps: 0.03, steps: 1 }, { seed: 4 });
      expect(a.robustAccuracy).toBeLessThanOrEqual(fgsm.robustAccuracy);
      for (let i = 0; i < n; i++) {
        expect(a.linf[i]).toBeLessThanOrEqual(0.03 + 1e-6);
        const gap = images[2 * i] - images[2 * i + 1];
        if (Math.abs(gap - 0.04) > 2e-3) expect(a.success[i], `${attack} sample ${i}`).toBe(gap > 0.04 ? 1 : 0);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('APGD-T with an explicit target class', () => {
  let model: LabModel;
  beforeAll(() => {
    // z = (a + b + 0.1, 2a, 2b, −a − b) at a = b = 0.5: class 0 by 0.1. An L-inf step of 0.06
    // moves b − a (or a − b) by 0.12 > 0.1, so either class 1 or class 2 is reachable.
    model = linearModel([1, 2, 1], [[1, 2, 0, -1], [1, 0, 2, -1]], [0.1, 0, 0, 0]);
  });
  afterAll(() => model.dispose());

  it('lands in the chosen class; a sample of that class falls back to its most likely other class', async () => {
    const before = tf.memory().numTensors;
    const input = { images: new Float32Array([0.5, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] as [number, number, number] };
    for (const target of [1, 2]) {
      const r = await runAttack(model.logits, input, { attack: 'apgd-t', norm: 'linf', eps: 0.06, steps: 20, targetClass: target }, { seed: 3 });
      expect(r.success[0]).toBe(1);
      expect(r.advPred[0]).toBe(target);
      expect(r.linf[0]).toBeLessThanOrEqual(0.06 + 1e-6);
    }
    // Target = the true class: pushed toward the runner-up instead (1 and 2 tie at 1.0; topk takes 1).
    const own = await runAttack(model.logits, input, { attack: 'apgd-t', norm: 'linf', eps: 0.06, steps: 20, targetClass: 0 }, { seed: 3 });
    expect(own.success[0]).toBe(1);
    expect(own.advPred[0]).not.toBe(0);
    await expect(runAttack(model.logits, input, { attack: 'apgd-t', norm: 'linf', eps: 0.06, steps: 5, targetClass: 7 }, { seed: 3 })).rejects.toThrow(/target class 7 does not exist/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DeepFool and Gaussian noise', () => {
  let model: LabModel;
  beforeAll(() => {
    model = linearModel([1, 2, 1], [[0, 2], [0, -1]], [0, -0.25]);
  });
  afterAll(() => model.dispose());

  it('DeepFool reaches the minimal L2 distance |w·x + b|/‖w‖ within 1 %, and counts success only within ε', async () => {
    const before = tf.memory().numTensors;
    const input = { images: new Float32Array([0.3, 0.5, 0.35, 0.55]), labels: new Int32Array([0, 0]), shape: [1, 2, 1] as [number, number, number] };
    const dist = [0.15 / Math.sqrt(5), 0.1 / Math.sqrt(5)].map(Math.abs);
    const wide = await runAttack(model.logits, input, { attack: 'deepfool', norm: 'l2', eps: 1, steps: 50 }, { seed: 0 });
    for (let i = 0; i < 2; i++) {
      expect(wide.success[i]).toBe(1);
      expect(wide.minimalNorm![i] / dist[i]).toBeGreaterThanOrEqual(0.999);
      expect(wide.minimalNorm![i] / dist[i]).toBeLessThanOrEqual(1.01);
    }
    // ε between the two distances: only the nearer point counts as broken.
    const mid = await runAttack(model.logits, input, { attack: 'deepfool', norm: 'l2', eps: 0.055, steps: 50 }, { seed: 0 });
    expect(Array.from(mid.success)).toEqual([0, 1]);
    expect(Array.from(mid.adversarial.subarray(0, 2))).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.5, 6)]);
    expect(mid.minimalNorm![0]).toBeCloseTo(wide.minimalNorm![0], 5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Gaussian noise: σ = 0 changes nothing; large σ breaks points; the draw average is reported', async () => {
    const input = { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] as [number, number, number] };
    const none = await runAttack(model.logits, input, { attack: 'gaussian', norm: 'l2', eps: 0, steps: 1, draws: 5 }, { seed: 0 });
    expect(none.success[0]).toBe(0);
    expect(none.meanDrawAccuracy).toBe(1);
    const loud = await runAttack(model.logits, input, { attack: 'gaussian', norm: 'l2', eps: 2, steps: 1, draws: 40 }, { seed: 0 });
    expect(loud.success[0]).toBe(1);
    expect(loud.meanDrawAccuracy).toBeGreaterThan(0);
    expect(loud.meanDrawAccuracy).toBeLessThan(1);
  });

  /** A 4-class linear model on 2 pixels and 12 class-0 points along a line toward its boundaries. */
  const fourClassRow = () => {
    const four = linearModel([1, 2, 1], [[1, 2, 0, -1], [1, 0, 2, -1]], [0.1, 0, 0, 0]);
    const n = 12;
    const images = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      images[2 * i] = 0.5 + 0.01 * i;
      images[2 * i + 1] = 0.5 + 0.005 * i;
    }
    return { four, n, input: { images, labels: new Int32Array(n), shape: [1, 2, 1] as [number, number, number] } };
  };

  it('AA-style (APGD-CE then APGD-T) is at least as strong as APGD-CE alone', async () => {
    const { four, n, input } = fourClassRow();
    const ce = await runAttack(four.logits, input, { attack: 'apgd-ce', norm: 'linf', eps: 0.03, steps: 10 }, { seed: 1 });
    const aa = await runAttack(four.logits, input, { attack: 'aa', norm: 'linf', eps: 0.03, steps: 10, targets: 3 }, { seed: 1 });
    expect(aa.robustAccuracy).toBeLessThanOrEqual(ce.robustAccuracy);
    for (let i = 0; i < n; i++) expect(aa.linf[i]).toBeLessThanOrEqual(0.03 + 1e-6);
    four.dispose();
  });

  it('AA-style runs APGD-T only on the samples APGD-CE left robust, gathered into new batches', async () => {
    const { four, n, input } = fourClassRow();
    // Count the image rows every forward pass sees.
    let rows = 0;
    const counted = (x: tf.Tensor4D) => {
      rows += x.shape[0];
      return four.logits(x);
    };
    const spec = { norm: 'linf' as const, eps: 0.03, steps: 10 };
    const ce = await runAttack(counted, input, { ...spec, attack: 'apgd-ce' }, { seed: 1, batchSize: 4 });
    const ceRows = rows;
    rows = 0;
    const targetedAll = await runAttack(counted, input, { ...spec, attack: 'apgd-t', targets: 3 }, { seed: 1, batchSize: 4 });
    const targetedRows = rows;
    rows = 0;
    const aa = await runAttack(counted, input, { ...spec, attack: 'aa', targets: 3 }, { seed: 1, batchSize: 4 });
    const aaRows = rows;
    const robustAfterCe = Array.from(ce.success).filter((s, i) => !s && ce.cleanPred[i] === 0).length;
    expect(robustAfterCe).toBeGreaterThan(0);
    expect(robustAfterCe).toBeLessThan(n);
    // The targeted phase pays for ceil(robust / 4) batches, not n / 4.
    expect(rows - ceRows).toBeLessThanOrEqual((targetedRows * Math.ceil(robustAfterCe / 4)) / (n / 4));
    expect(aa.spec.attack).toBe('aa');
    for (let i = 0; i < n; i++) {
      if (ce.success[i]) {
        // APGD-CE's outcome stands.
        expect(aa.success[i]).toBe(1);
        expect(aa.firstSuccessStep[i]).toBe(ce.firstSuccessStep[i]);
        expect(aa.advPred[i]).toBe(ce.advPred[i]);
      } else if (aa.success[i]) {
        // Broken by APGD-T: its steps come after APGD-CE's steps + 1 evaluations.
        expect(aa.firstSuccessStep[i]).toBeGreaterThanOrEqual(spec.steps + 1);
        expect(aa.advPred[i]).not.toBe(0);
      }
    }
    expect(aa.robustAccuracy).toBeLessThanOrEqual(Math.min(ce.robustAccuracy, targetedAll.robustAccuracy) + 1e-9);
    // Starting from the APGD-CE result already computed: same outcome, no APGD-CE pass, and
    // the given result is not modified by the targeted phase.
    const ceSuccess = Array.from(ce.success);
    rows = 0;
    const reused = await runAttack(counted, input, { ...spec, attack: 'aa', targets: 3 }, { seed: 1, batchSize: 4, apgdCe: ce });
    expect(rows).toBe(aaRows - ceRows);
    expect(Array.from(reused.success)).toEqual(Array.from(aa.success));
    expect(Array.from(reused.advPred)).toEqual(Array.from(aa.advPred));
    expect(Array.from(reused.adversarial)).toEqual(Array.from(aa.adversarial));
    expect(reused.robustAccuracy).toBe(aa.robustAccuracy);
    expect(Array.from(ce.success)).toEqual(ceSuccess);
    // A result for another ε is not reused.
    rows = 0;
    await runAttack(counted, input, { ...spec, eps: 0.02, attack: 'aa', targets: 3 }, { seed: 1, batchSize: 4, apgdCe: ce });
    expect(rows).toBeGreaterThan(aaRows - ceRows);
    four.dispose();
  });

  it('AA-style cancelled during APGD-CE reports no finished samples', async () => {
    const four = linearModel([1, 2, 1], [[1, 2, 0, -1], [1, 0, 2, -1]], [0.1, 0, 0, 0]);
    const input = { images: new Float32Array(16).fill(0.5), labels: new Int32Array(8), shape: [1, 2, 1] as [number, number, number] };
    const ctrl = new AbortController();
    const run = runAttack(four.logits, input, { attack: 'aa', norm: 'linf', eps: 0.03, steps: 10, targets: 3 }, { seed: 1, batchSize: 4 }, { signal: ctrl.signal, onProgress: () => ctrl.abort() });
    const err = await run.catch((e: unknown) => e);
    expect((err as { partial?: { completed: number } }).partial?.completed).toBe(0);
    four.dispose();
  });
});
