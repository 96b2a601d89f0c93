/**
 * The CKA job on tiny linear models (tfjs CPU, no files): a layer that is an orthogonal map
 * of the input scores 1 against it, a non-isotropic scaling the hand value of cka.test.ts,
 * cancellation keeps the finished model, layers are tapped in groups within the budget, and
 * the summary. The run on the zoo model and the CLI round trip: src/node/cka.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { ImageDataset } from '../types';
import { JobCancelledError } from '../types';
import { ckaAnalysis, ckaSummary, layerGroups, type CkaResult } from './definition';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape: [number, number, number] = [1, 2, 1];

function dataset(images: number[], labels: number[]): ImageDataset {
  return { id: 'tiny', name: 'tiny', n: labels.length, height: 1, width: 2, channels: 1, images: Float32Array.from(images), labels: Int32Array.from(labels), classNames: ['0', '1'] };
}

describe('CKA job', () => {
  it('hand case through the models: (X + 1)/2 for X = [[1,0],[0,1],[−1,−1]]; fc = rotation → 1, fc = diag(1, 3) → 50/√3460', async () => {
    // CKA ignores translation and isotropic scale, so the images (X + 1)/2 (inside [0, 1])
    // give the hand values of cka.test.ts: X·R is X rotated (1), X·diag(1, 3) gives 0.85004.
    const ds = dataset([1, 0.5, 0.5, 1, 0, 0], [0, 1, 0]);
    const t = 0.4;
    const rotated = linearModel(shape, [[Math.cos(t), -Math.sin(t)], [Math.sin(t), Math.cos(t)]], [0.1, -0.2]);
    const scaled = linearModel(shape, [[1, 0], [0, 3]], [0, 0]);
    const params = { n: 3, layers: ['input', 'fc'], spec: null, debiased: false };
    const r1 = await ckaAnalysis({ models: { a: rotated, b: null }, dataset: ds, seed: 0 }, params);
    const r2 = await ckaAnalysis({ models: { a: scaled, b: null }, dataset: ds, seed: 0 }, params);
    expect(r1.a!.matrix[0][1]).toBeCloseTo(1, 6);
    expect(r2.a!.matrix[0][1]).toBeCloseTo(50 / Math.sqrt(3460), 6);
    expect(r2.a!.matrix[1][0]).toBe(r2.a!.matrix[0][1]);
    expect(r1.a!.cleanVsAttacked).toEqual([1, 1]);
    // Compare mode: the two models on the same images; A × B pairs A's input with B's fc.
    const both = await ckaAnalysis({ models: { a: rotated, b: scaled }, dataset: ds, seed: 0 }, params);
    expect(both.ab!.shared).toEqual(['input', 'fc']);
    expect(both.ab!.clean[0]).toBe(1);
    expect(both.ab!.clean[1]).toBeCloseTo(50 / Math.sqrt(3460), 6);
    expect(both.ab!.matrix[0][1]).toBeCloseTo(50 / Math.sqrt(3460), 6);
    expect(both.ab!.onAttackA).toBeNull();
    rotated.dispose();
    scaled.dispose();
  });

  it('attacked (FGSM): clean vs attacked below 1 at the input; cancelling after model A keeps its result', async () => {
    const images: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20; i++) {
      images.push(0.2 + 0.6 * ((i * 7) % 10) / 10, 0.2 + 0.6 * ((i * 3) % 10) / 10);
      labels.push(i % 2);
    }
    const ds = dataset(images, labels);
    const m = linearModel(shape, [[1, -1], [-1, 1]], [0, 0]);
    const spec = { attack: 'fgsm' as const, norm: 'linf' as const, eps: 0.1, steps: 1 };
    const r = await ckaAnalysis({ models: { a: m, b: null }, dataset: ds, seed: 0 }, { n: 20, layers: ['input', 'fc'], spec, debiased: false });
    expect(r.attacked).toBe(true);
    expect(r.a!.cleanVsAttacked[0]).toBeLessThan(1);
    expect(r.a!.cleanVsAttacked[0]).toBeGreaterThan(0);
    const controller = new AbortController();
    const run = ckaAnalysis({ models: { a: m, b: m }, dataset: ds, seed: 0 }, { n: 20, layers: ['input', 'fc'], spec, debiased: false }, { signal: controller.signal }, (p) => p.a && controller.abort());
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    const partial = (err as JobCancelledError<CkaResult>).partial!;
    expect(partial.a!.matrix).toEqual(r.a!.matrix);
    expect(partial.b).toBeNull();
    m.dispose();
  });

  it('layer groups stay within the activation budget; a wider layer goes alone', () => {
    expect(layerGroups(['a', 'b', 'c', 'd'], [10, 10, 100, 10], 10, 4 * 10 * 25)).toEqual([['a', 'b'], ['c'], ['d']]);
    expect(layerGroups([], [], 10)).toEqual([]);
  });

  it('summary: per-layer table, numbered matrix, n/a with the reason', () => {
    const r: CkaResult = {
      n: 40, estimator: 'biased', attacked: true, attack: 'fgsm', norm: 'linf', eps: 0.1,
      a: { layers: ['conv', 'dead'], matrix: [[1, NaN], [NaN, NaN]], cleanVsAttacked: [0.9, NaN], robustAccuracy: 0.5, notes: ['dead (clean): constant over the samples (no variance after centring)'] },
      b: null, ab: null,
    };
    const text = ckaSummary(r);
    expect(text).toContain('linear CKA, 40 samples, fgsm L∞ ε=0.1');
    expect(text).toContain('model A (robust accuracy 50.00%)');
    expect(text).toContain(`  ${'conv'.padEnd(22)}${'0.900'.padStart(17)}`);
    expect(text).toContain('[1] conv  1.000    n/a');
    expect(text).toContain('n/a: dead (clean): constant over the samples');
  });
});
