// Manifold builders, per-layer MFTMA and the sweep (the physics sanity check on MNIST, which
// reads the built-in data from disk, is src/node/manifolds-mnist.test.ts).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wrapLayersModel, type LabModel } from '../model/model';
import { createRng } from '../random';
import { JobCancelledError, type ImageDataset } from '../types';
import { manifoldAnalysis } from './mftma';
import {
  analyzeLayers,
  buildManifoldImages,
  imagesMftmaInput,
  layerMftmaInput,
  mftmaSweep,
  perturbManifoldImages,
  selectManifoldImages,
  type LayerMftmaResult,
} from './manifolds';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 4 classes × 6 images of 2×2×1; class c's images are all near the value (c + 1)/5. */
function tinyDataset(): ImageDataset {
  const rng = createRng(3);
  const n = 24;
  const images = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 4;
    for (let j = 0; j < 4; j++) images[i * 4 + j] = (labels[i] + 1) / 5 + 0.05 * (rng.next() - 0.5);
  }
  return { id: 'tiny', name: 'tiny', n, height: 2, width: 2, channels: 1, images, labels, classNames: ['a', 'b', 'c', 'd'] };
}

/** input (2×2×1) → flatten → hidden (Dense 8, relu) → logits (Dense 4), fixed weights. */
function tinyModel(): LabModel {
  const rng = createRng(9);
  const input = tf.input({ shape: [2, 2, 1], name: 'input' });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
  const hiddenLayer = tf.layers.dense({ units: 8, activation: 'relu', name: 'hidden' });
  const logitsLayer = tf.layers.dense({ units: 4, name: 'logits' });
  const out = logitsLayer.apply(hiddenLayer.apply(flat)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const w = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  const weights = [w([4, 8]), w([8]), w([8, 4]), w([4])];
  model.setWeights(weights);
  tf.dispose(weights);
  return wrapLayersModel(model);
}

describe('selectManifoldImages', () => {
  it('class manifolds: P classes × M distinct images of that class, seeded', async () => {
    const ds = tinyDataset();
    const a = await selectManifoldImages(ds, { kind: 'class', p: 3, m: 4, seed: 1 });
    expect(a.images.length).toBe(3 * 4 * 4);
    expect(Array.from(a.manifoldLabels)).toEqual([0, 1, 2]);
    for (let j = 0; j < 3; j++) {
      const idx = Array.from(a.sourceIndices.subarray(j * 4, (j + 1) * 4));
      expect(new Set(idx).size).toBe(4);
      for (const i of idx) expect(ds.labels[i]).toBe(j);
      for (let r = 0; r < 4; r++) expect(a.images[(j * 4 + r) * 4]).toBe(ds.images[idx[r] * 4]);
    }
    const b = await selectManifoldImages(ds, { kind: 'class', p: 3, m: 4, seed: 1 });
    expect(b.sourceIndices).toEqual(a.sourceIndices);
    const c = await selectManifoldImages(ds, { kind: 'class', p: 3, m: 4, seed: 2 });
    expect(c.sourceIndices).not.toEqual(a.sourceIndices);
    await expect(selectManifoldImages(ds, { kind: 'class', p: 5, m: 2, seed: 0 })).rejects.toThrow(/only 4 classes/);
    await expect(selectManifoldImages(ds, { kind: 'class', p: 2, m: 7, seed: 0 })).rejects.toThrow(/only 6 images/);
  });

  it('exemplar manifolds: P images, each repeated M times', async () => {
    const ds = tinyDataset();
    const e = await selectManifoldImages(ds, { kind: 'exemplar', p: 4, m: 3, seed: 0 });
    expect(Array.from(e.manifoldLabels).sort()).toEqual([0, 1, 2, 3]);
    for (let j = 0; j < 4; j++) {
      const src = e.sourceIndices[j * 3];
      for (let r = 0; r < 3; r++) {
        expect(e.sourceIndices[j * 3 + r]).toBe(src);
        expect(Array.from(e.images.subarray((j * 3 + r) * 4, (j * 3 + r + 1) * 4))).toEqual(Array.from(ds.images.subarray(src * 4, (src + 1) * 4)));
      }
    }
  });
});

describe('perturbManifoldImages', () => {
  it('Gaussian, L-inf and L2 draws stay in [0, 1] and in their ball; the noise shape does not depend on σ', async () => {
    const ds = tinyDataset();
    const clean = await selectManifoldImages(ds, { kind: 'exemplar', p: 4, m: 5, seed: 0 });
    const small = await perturbManifoldImages(clean, { kind: 'gaussian', sigma: 0.01 }, 7);
    const big = await perturbManifoldImages(clean, { kind: 'gaussian', sigma: 0.02 }, 7);
    let moved = 0;
    for (let i = 0; i < clean.images.length; i++) {
      const d1 = small.images[i] - clean.images[i];
      const d2 = big.images[i] - clean.images[i];
      // Pixels are in [0.1, 0.85], so 2σ noise rarely clips: then d2 = 2·d1 exactly (up to float32).
      if (big.images[i] > 0 && big.images[i] < 1) expect(d2).toBeCloseTo(2 * d1, 5);
      if (d1 !== 0) moved++;
    }
    expect(moved).toBe(clean.images.length);
    for (const eps of [0.05, 0.5]) {
      const li = await perturbManifoldImages(clean, { kind: 'linf', eps }, 7);
      const l2 = await perturbManifoldImages(clean, { kind: 'l2', eps }, 7);
      for (let i = 0; i < 20; i++) {
        let s = 0;
        for (let j = 0; j < 4; j++) {
          const k = i * 4 + j;
          expect(li.images[k]).toBeGreaterThanOrEqual(0);
          expect(li.images[k]).toBeLessThanOrEqual(1);
          expect(Math.abs(li.images[k] - clean.images[k])).toBeLessThanOrEqual(eps + 1e-6);
          s += (l2.images[k] - clean.images[k]) ** 2;
        }
        expect(Math.sqrt(s)).toBeLessThanOrEqual(eps + 1e-6);
      }
    }
    await expect(perturbManifoldImages(clean, { kind: 'gaussian', sigma: 0 }, 0)).rejects.toThrow(/σ must be/);
    await expect(perturbManifoldImages(clean, { kind: 'none' }, 0)).rejects.toThrow(/need a perturbation/);
  });

  it('attack manifolds: M random-start PGD runs per exemplar, inside the ε-ball and all different', async () => {
    // L2, not L-inf: on this nearly linear model L-inf PGD sends every start to the same corner
    // x0 + ε·sign(g) of the cube, whereas the L2 projection keeps the start's direction.
    const ds = tinyDataset();
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const set = await buildManifoldImages(ds, { kind: 'exemplar', p: 2, m: 4, seed: 0, perturbation: { kind: 'attack', attack: 'pgd', norm: 'l2', eps: 0.1, steps: 3 } }, model);
    expect(tf.memory().numTensors).toBe(before);
    expect(set.attackSuccessRate).toBeGreaterThanOrEqual(0);
    for (let j = 0; j < 2; j++) {
      const src = set.sourceIndices[j * 4];
      const points = new Set<string>();
      for (let r = 0; r < 4; r++) {
        const x = set.images.subarray((j * 4 + r) * 4, (j * 4 + r + 1) * 4);
        let sq = 0;
        for (let c = 0; c < 4; c++) sq += (x[c] - ds.images[src * 4 + c]) ** 2;
        expect(Math.sqrt(sq)).toBeLessThanOrEqual(0.1 + 1e-5);
        points.add(Array.from(x).join(','));
      }
      expect(points.size).toBe(4);
    }
    model.dispose();
  });
});

describe('analyzeLayers and mftmaSweep', () => {
  it('per-layer inputs, projection record, streamed results, flat tensor count', async () => {
    const ds = tinyDataset();
    const model = tinyModel();
    const set = await buildManifoldImages(ds, { kind: 'class', p: 4, m: 5, seed: 0, perturbation: { kind: 'gaussian', sigma: 0.05 } });
    const hidden = await layerMftmaInput(model, set, 'hidden');
    expect(hidden.n).toBe(8);
    expect(hidden.manifolds.map((x) => x.length)).toEqual([40, 40, 40, 40]);
    expect(imagesMftmaInput(set).n).toBe(4);
    const before = tf.memory().numTensors;
    const streamed: string[] = [];
    const res = await analyzeLayers(model, set, ['input', 'hidden'], { maxDims: 6, nT: 20, nReps: 2, seed: 1 }, {}, (r) => streamed.push(r.layer));
    expect(tf.memory().numTensors).toBe(before);
    expect(streamed).toEqual(['input', 'hidden']);
    expect(res[0].projection).toBeNull();
    expect(res[1].projection).toMatchObject({ fromDims: 8, toDims: 6 });
    expect(res[1].width).toBe(8);
    // The input layer is the pixels: same numbers as analysing them directly.
    const direct = await manifoldAnalysis(imagesMftmaInput(set), { nT: 20, nReps: 2, seed: 1 });
    expect(res[0].capacity).toBe(direct.capacity);
    await expect(layerMftmaInput(model, set, 'nope')).rejects.toThrow(/no layer named "nope"/);
    model.dispose();
  });

  it('sweep streams one result per layer and ladder point; abort keeps the finished ones', async () => {
    const ds = tinyDataset();
    const model = tinyModel();
    const spec = { kind: 'exemplar' as const, p: 4, m: 5, seed: 0, perturbation: { kind: 'gaussian' as const, sigma: 1 }, ladder: [0.01, 0.1], layers: ['input', 'hidden'], analysis: { nT: 20, nReps: 2 } };
    const fractions: number[] = [];
    const got: LayerMftmaResult[] = [];
    const all = await mftmaSweep(model, ds, spec, { onProgress: (p) => fractions.push(p.fraction) }, (r) => got.push(r));
    expect(all.map((r) => [r.size, r.layer])).toEqual([[0.01, 'input'], [0.01, 'hidden'], [0.1, 'input'], [0.1, 'hidden']]);
    expect(got).toEqual(all);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1] - 1e-12);
    expect(fractions[fractions.length - 1]).toBeCloseTo(1, 9);
    const ctrl = new AbortController();
    const err = await mftmaSweep(model, ds, spec, { signal: ctrl.signal }, () => ctrl.abort()).catch((e) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect((err as JobCancelledError<LayerMftmaResult[]>).partial?.map((r) => r.layer)).toEqual(['input']);
    model.dispose();
  });
});
