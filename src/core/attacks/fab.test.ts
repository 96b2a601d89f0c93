import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { runAttack } from './runner';
import { projectOntoHyperplaneInBox } from './fab';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape2: [number, number, number] = [1, 2, 1];
const shape3: [number, number, number] = [1, 3, 1];

// Binary: z1 − z0 = 2a − b − 0.25, so w = (2, −1), ‖w‖₂ = √5, ‖w‖₁ = 3.
const BINARY_W = [
  [0, 2],
  [0, -1],
];
const BINARY_B = [0, -0.25];

// Three classes on (a, b, c): z = (0, a − 0.6, b + c − 1.1). For the points below (label 0)
// f_1 = a − 0.6 with w_1 = (1, 0, 0) and f_2 = b + c − 1.1 with w_2 = (0, 1, 1).
const THREE_W = [
  [0, 1, 0],
  [0, 0, 1],
  [0, 0, 1],
];
const THREE_B = [0, -0.6, -1.1];

/** Closed-form distance to the nearest class boundary of a linear model (no box active). */
function linearDistance(margins: number[], rows: number[][], dual: (w: number[]) => number): number {
  return Math.min(...margins.map((f, k) => Math.abs(f) / dual(rows[k])));
}
const l1 = (w: number[]) => w.reduce((s, v) => s + Math.abs(v), 0);
const l2 = (w: number[]) => Math.sqrt(w.reduce((s, v) => s + v * v, 0));

describe('FAB on linear models (closed-form minimal distances)', () => {
  let binary: LabModel;
  let three: LabModel;
  beforeAll(() => {
    binary = linearModel(shape2, BINARY_W, BINARY_B);
    three = linearModel(shape3, THREE_W, THREE_B);
  });
  afterAll(() => {
    binary.dispose();
    three.dispose();
  });

  for (const norm of ['l2', 'linf'] as const) {
    const dual = norm === 'l2' ? l2 : l1;
    it(`${norm}: binary model, reaches |w·x + b|/‖w‖_dual within 1 % and never below it`, async () => {
      const before = tf.memory().numTensors;
      const images = new Float32Array([0.3, 0.5, 0.35, 0.55]);
      const input = { images, labels: new Int32Array([0, 0]), shape: shape2 };
      const r = await runAttack(binary.logits, input, { attack: 'fab', norm, eps: Infinity, steps: 100 }, { seed: 0 });
      for (let i = 0; i < 2; i++) {
        const margin = 2 * images[2 * i] - images[2 * i + 1] - 0.25;
        const dist = Math.abs(margin) / dual([2, -1]);
        expect(r.success[i]).toBe(1);
        expect(r.minimalNorm![i] / dist).toBeGreaterThanOrEqual(1 - 1e-4);
        expect(r.minimalNorm![i] / dist).toBeLessThanOrEqual(1.01);
        // The runner measures the reported norm in the attack's norm.
        expect(r.minimalNorm![i]).toBeCloseTo(norm === 'l2' ? r.l2[i] : r.linf[i], 6);
      }
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${norm}: three classes, finds the nearer of two boundaries within 1 %`, async () => {
      // Sample 0: nearer to class 1 in both norms; sample 1: nearer to class 2.
      const images = new Float32Array([0.5, 0.4, 0.4, 0.3, 0.5, 0.52]);
      const input = { images, labels: new Int32Array([0, 0]), shape: shape3 };
      const r = await runAttack(three.logits, input, { attack: 'fab', norm, eps: Infinity, steps: 100 }, { seed: 0 });
      for (let i = 0; i < 2; i++) {
        const [a, b, c] = images.subarray(3 * i, 3 * i + 3);
        const dist = linearDistance([a - 0.6, b + c - 1.1], [[1, 0, 0], [0, 1, 1]], dual);
        expect(r.success[i]).toBe(1);
        expect(r.minimalNorm![i] / dist).toBeGreaterThanOrEqual(1 - 1e-4);
        expect(r.minimalNorm![i] / dist).toBeLessThanOrEqual(1.01);
      }
      expect(r.advPred[0]).toBe(1);
      expect(r.advPred[1]).toBe(2);
    });
  }

  it('counts a success at ε only when the norm found is ≤ ε, and shows the clean image otherwise', async () => {
    const input = { images: new Float32Array([0.3, 0.5, 0.35, 0.55]), labels: new Int32Array([0, 0]), shape: shape2 };
    // L-inf distances 0.05 and 0.1/3 ≈ 0.033: ε = 0.04 separates them.
    const r = await runAttack(binary.logits, input, { attack: 'fab', norm: 'linf', eps: 0.04, steps: 100 }, { seed: 0 });
    expect(Array.from(r.success)).toEqual([0, 1]);
    expect(Array.from(r.adversarial.subarray(0, 2))).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.5, 6)]);
    expect(r.minimalNorm![0]).toBeGreaterThan(0.04);
    expect(r.robustAccuracy).toBe(0.5);
  });

  it('respects the box: the minimal point with a+b = 1.2 from (0.95, 0.1) is (1, 0.2), not the unconstrained (1.025, 0.175)', async () => {
    const sum = linearModel(shape2, [[0, 1], [0, 1]], [0, -1.2]);
    const input = { images: new Float32Array([0.95, 0.1]), labels: new Int32Array([0]), shape: shape2 };
    const r2 = await runAttack(sum.logits, input, { attack: 'fab', norm: 'l2', eps: Infinity, steps: 100 }, { seed: 0 });
    const boxL2 = Math.hypot(0.05, 0.1);
    expect(r2.minimalNorm![0] / boxL2).toBeGreaterThanOrEqual(1 - 1e-4);
    expect(r2.minimalNorm![0] / boxL2).toBeLessThanOrEqual(1.01);
    const rInf = await runAttack(sum.logits, input, { attack: 'fab', norm: 'linf', eps: Infinity, steps: 100 }, { seed: 0 });
    // L-inf: a saturates at 1 (+0.05), so b must move by 0.1.
    expect(rInf.minimalNorm![0] / 0.1).toBeGreaterThanOrEqual(1 - 1e-4);
    expect(rInf.minimalNorm![0] / 0.1).toBeLessThanOrEqual(1.01);
    for (const r of [r2, rInf]) {
      for (const v of r.adversarial) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    sum.dispose();
  });

  it('a zero gradient gives no step, no NaN, and is flagged', async () => {
    const flat = linearModel(shape2, [[0, 0], [0, 0]], [1, 0]);
    const r = await runAttack(flat.logits, { images: new Float32Array([0.5, 0.5]), labels: new Int32Array([0]), shape: shape2 }, { attack: 'fab', norm: 'l2', eps: Infinity, steps: 5, restarts: 2 }, { seed: 1 });
    expect(Array.from(r.adversarial)).toEqual([0.5, 0.5]);
    expect(r.zeroGradient[0]).toBe(1);
    expect(r.success[0]).toBe(0);
    expect(r.minimalNorm ? r.minimalNorm[0] : Infinity).toBe(Infinity);
    flat.dispose();
  });

  it('restarts are deterministic under a fixed seed, never worse than one run, and leak no tensors', async () => {
    const before = tf.memory().numTensors;
    const n = 5;
    const images = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) images.set([0.3 + 0.05 * i, 0.45 - 0.03 * i, 0.4 + 0.02 * i], 3 * i);
    const input = { images, labels: new Int32Array(n), shape: shape3 };
    const spec = { attack: 'fab' as const, norm: 'linf' as const, eps: 0.2, steps: 20, restarts: 3 };
    const a = await runAttack(three.logits, input, spec, { seed: 9, batchSize: 2 });
    const b = await runAttack(three.logits, input, spec, { seed: 9, batchSize: 2 });
    const single = await runAttack(three.logits, input, { ...spec, restarts: 1 }, { seed: 9, batchSize: 2 });
    expect(Array.from(a.adversarial)).toEqual(Array.from(b.adversarial));
    for (let i = 0; i < n; i++) expect(a.minimalNorm![i]).toBeLessThanOrEqual(single.minimalNorm![i] + 1e-7);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('box-constrained hyperplane projection', () => {
  it('L2 and L-inf steps reach ⟨w, x + d⟩ = ⟨w, x⟩ + c inside [0, 1], with the closed-form d', () => {
    const before = tf.memory().numTensors;
    const [dl2, dlinf] = tf.tidy(() => {
      const points = tf.tensor2d([[0.95, 0.1], [0.5, 0.5]]);
      const w = tf.tensor2d([[1, 1], [2, -1]]);
      const c = tf.tensor1d([0.15, -0.3]);
      return [projectOntoHyperplaneInBox(points, w, c, 'l2').arraySync(), projectOntoHyperplaneInBox(points, w, c, 'linf').arraySync()];
    });
    // Row 0, L2: a saturates (+0.05), b takes the rest (+0.1). Row 1, L2: −0.3·w/‖w‖² = (−0.12, 0.06).
    expect(dl2[0][0]).toBeCloseTo(0.05, 5);
    expect(dl2[0][1]).toBeCloseTo(0.1, 5);
    expect(dl2[1][0]).toBeCloseTo(-0.12, 5);
    expect(dl2[1][1]).toBeCloseTo(0.06, 5);
    // L-inf: row 0 as L2 here (μ = 0.1, a clipped); row 1: μ = 0.3/‖w‖₁ = 0.1 along −sign(w).
    expect(dlinf[0][0]).toBeCloseTo(0.05, 5);
    expect(dlinf[0][1]).toBeCloseTo(0.1, 5);
    expect(dlinf[1][0]).toBeCloseTo(-0.1, 5);
    expect(dlinf[1][1]).toBeCloseTo(0.1, 5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an unreachable hyperplane gives the box corner nearest to it; w = 0 gives d = 0', () => {
    const d = tf.tidy(() =>
      projectOntoHyperplaneInBox(tf.tensor2d([[0.9, 0.9], [0.5, 0.5]]), tf.tensor2d([[1, 1], [0, 0]]), tf.tensor1d([1, 0.5]), 'l2').arraySync(),
    );
    expect(d[0][0]).toBeCloseTo(0.1, 5);
    expect(d[0][1]).toBeCloseTo(0.1, 5);
    expect(d[1]).toEqual([0, 0]);
  });
});
