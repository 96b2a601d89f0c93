import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { runAttack } from './runner';
import { classificationMargin } from './cw';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape2: [number, number, number] = [1, 2, 1];
const shape3: [number, number, number] = [1, 3, 1];

describe('Carlini–Wagner L2 on linear models', () => {
  let binary: LabModel;
  let three: LabModel;
  beforeAll(() => {
    // z1 − z0 = 2a − b − 0.25: L2 distance |2a − b − 0.25|/√5.
    binary = linearModel(shape2, [[0, 2], [0, -1]], [0, -0.25]);
    // z = (0, a − 0.6, b + c − 1.1).
    three = linearModel(shape3, [[0, 1, 0], [0, 0, 1], [0, 0, 1]], [0, -0.6, -1.1]);
  });
  afterAll(() => {
    binary.dispose();
    three.dispose();
  });

  it('reaches the minimal L2 distance |w·x + b|/‖w‖ within 1 % (binary), never below it, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const images = new Float32Array([0.3, 0.5, 0.35, 0.55]);
    const r = await runAttack(binary.logits, { images, labels: new Int32Array([0, 0]), shape: shape2 }, { attack: 'cw', norm: 'l2', eps: Infinity, steps: 100 }, { seed: 0 });
    for (let i = 0; i < 2; i++) {
      const dist = Math.abs(2 * images[2 * i] - images[2 * i + 1] - 0.25) / Math.sqrt(5);
      expect(r.success[i]).toBe(1);
      expect(r.minimalNorm![i] / dist).toBeGreaterThanOrEqual(1 - 1e-4);
      expect(r.minimalNorm![i] / dist).toBeLessThanOrEqual(1.01);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('three classes: finds the nearer boundary within 1 %', async () => {
    const images = new Float32Array([0.5, 0.4, 0.4, 0.3, 0.5, 0.52]);
    const r = await runAttack(three.logits, { images, labels: new Int32Array([0, 0]), shape: shape3 }, { attack: 'cw', norm: 'l2', eps: Infinity, steps: 100 }, { seed: 0 });
    const dist = [0.1, 0.08 / Math.SQRT2];
    for (let i = 0; i < 2; i++) {
      expect(r.minimalNorm![i] / dist[i]).toBeGreaterThanOrEqual(1 - 1e-4);
      expect(r.minimalNorm![i] / dist[i]).toBeLessThanOrEqual(1.01);
    }
    expect(Array.from(r.advPred)).toEqual([1, 2]);
  });

  it('the binary search on c matters: one round with a tiny c finds nothing, nine rounds do', async () => {
    const input = { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: shape2 };
    // With c = 1e-3 the optimum of t² + c·(margin − √5·t) is t = c·√5/2 ≈ 0.001 ≪ 0.067.
    const one = await runAttack(binary.logits, input, { attack: 'cw', norm: 'l2', eps: Infinity, steps: 50, searchSteps: 1, initialConstant: 1e-3 }, { seed: 0 });
    expect(one.success[0]).toBe(0);
    const nine = await runAttack(binary.logits, input, { attack: 'cw', norm: 'l2', eps: Infinity, steps: 50, searchSteps: 9, initialConstant: 1e-3 }, { seed: 0 });
    expect(nine.success[0]).toBe(1);
  });

  it('stays in the box, is deterministic, counts success only within ε; confidence κ pushes past the boundary', async () => {
    const images = new Float32Array([0.3, 0.5, 0.35, 0.55, 0.02, 0.98]);
    const input = { images, labels: new Int32Array([0, 0, 0]), shape: shape2 };
    const a = await runAttack(binary.logits, input, { attack: 'cw', norm: 'l2', eps: 0.055, steps: 50 }, { seed: 3 });
    const b = await runAttack(binary.logits, input, { attack: 'cw', norm: 'l2', eps: 0.055, steps: 50 }, { seed: 3 });
    expect(Array.from(a.adversarial)).toEqual(Array.from(b.adversarial));
    for (const v of a.adversarial) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // Distances 0.067, 0.045 and (0.04 − 0.98 − 0.25)/√5 ≈ 0.53: only the middle one is within ε.
    expect(Array.from(a.success)).toEqual([0, 1, 0]);
    expect(a.adversarial[0]).toBeCloseTo(0.3, 6);
    const kappa = 0.1;
    const confident = await runAttack(binary.logits, { images: images.subarray(0, 2), labels: new Int32Array([0]), shape: shape2 }, { attack: 'cw', norm: 'l2', eps: Infinity, steps: 100, confidence: kappa }, { seed: 0 });
    // Margin −0.15 must become ≥ κ: distance (0.15 + κ)/√5.
    expect(confident.minimalNorm![0]).toBeGreaterThanOrEqual(((0.15 + kappa) / Math.sqrt(5)) * (1 - 1e-4));
    expect(confident.minimalNorm![0]).toBeLessThanOrEqual(((0.15 + kappa) / Math.sqrt(5)) * 1.01);
  });

  it('a zero gradient gives no step and no NaN, and is flagged', async () => {
    const flat = linearModel(shape2, [[0, 0], [0, 0]], [1, 0]);
    const r = await runAttack(flat.logits, { images: new Float32Array([0.5, 0.5]), labels: new Int32Array([0]), shape: shape2 }, { attack: 'cw', norm: 'l2', eps: Infinity, steps: 5, searchSteps: 2 }, { seed: 1 });
    expect(Array.from(r.adversarial)).toEqual([0.5, 0.5]);
    expect(r.zeroGradient[0]).toBe(1);
    expect(r.success[0]).toBe(0);
    flat.dispose();
  });

  it('rejects L-inf (this is the L2 attack)', async () => {
    await expect(runAttack(binary.logits, { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: shape2 }, { attack: 'cw', norm: 'linf', eps: 0.1, steps: 5 }, { seed: 0 })).rejects.toThrow(/L2/);
  });
});

describe('classification margin', () => {
  it('is z_y − max_{j≠y} z_j', () => {
    const m = tf.tidy(() => classificationMargin(tf.tensor2d([[1, 3, 2], [5, 1, 4]]), tf.tensor1d([0, 0], 'int32')).arraySync());
    expect(m).toEqual([-2, 1]);
  });
});
