import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapLayersModel, type LabModel } from '../model/model';
import { JobCancelledError } from '../types';
import { collisionAnalysis, selectClassSamples, type CollisionAnalysisResult, type LayerCollisionResult } from './analysis';
import { rowSpaceBasis, matmul } from './linalg';
import { gaussianProjection, plainLayerTap } from './maps';

/**
 * A tiny linear model on 2×2×1 images (n0 = 4), so every distance has the closed form of
 * spec §1: f(x) = Hx + k ⇒ d = ½‖Vᵀ(x − x′)‖, V an orthonormal basis of rowspace(A·H).
 *   sel  : Dense 4 → 2, H = rows e1, e2 (reads pixels 0 and 1): d = ½‖(x − x′)[0..1]‖.
 *   wide : Dense 2 → 4 on top of sel (linear), features 4 > m = 2 ⇒ projected.
 *   out  : Dense 4 → 3 logits.
 */
const SEL_H = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
];
const WIDE = [
  [1, 2, 0, -1],
  [0, 1, 3, 1],
]; // [in = 2][out = 4], tfjs kernel layout

function buildLayers(): tf.LayersModel {
  const lm = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 1], name: 'flat' }),
      tf.layers.dense({ units: 2, name: 'sel' }),
      tf.layers.dense({ units: 4, name: 'wide' }),
      tf.layers.dense({ units: 3, name: 'out' }),
    ],
  });
  const t = (v: number[][]) => tf.tensor2d(v);
  const ws = [
    [t([[1, 0], [0, 1], [0, 0], [0, 0]]), tf.tensor1d([0.5, -0.25])],
    [t(WIDE), tf.tensor1d([0, 0, 1, 0])],
    [t([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]), tf.tensor1d([0, 0, 0])],
  ];
  ws.forEach((w, i) => lm.layers[i + 1].setWeights(w));
  tf.dispose(ws.flat());
  return lm;
}

/** wrapLayersModel takes ownership of its model; a second copy backs the plain-op tap. */
function buildModel(): { lab: LabModel; lm: tf.LayersModel } {
  return { lab: wrapLayersModel(buildLayers()), lm: buildLayers() };
}

// 3 classes × 3 images of 2×2 pixels, hand-written.
const IMAGES = Float32Array.from([
  [0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.9, 0.1], [0.3, 0.3, 0.3, 0.3],
  [0.9, 0.8, 0.1, 0.0], [0.6, 0.1, 0.7, 0.2], [1.0, 0.4, 0.2, 0.8],
  [0.5, 0.5, 0.0, 1.0], [0.2, 0.9, 0.4, 0.6], [0.7, 0.0, 0.5, 0.5],
].flat());
const LABELS = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]);
const SHAPE: [number, number, number] = [2, 2, 1];
const img = (i: number) => Array.from(IMAGES.subarray(i * 4, i * 4 + 4));
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** ½‖Vᵀ(x − x′)‖ with V a basis of the row space of the given rows×4 matrix. */
function closedForm(M: Float64Array, rows: number, x: number[], xp: number[]): number {
  const { basis, rank } = rowSpaceBasis(M, rows, 4);
  const diff = x.map((v, j) => v - xp[j]);
  return 0.5 * norm(Array.from({ length: rank }, (_, r) => diff.reduce((s, v, j) => s + basis[r * 4 + j] * v, 0)));
}

let model: { lab: LabModel; lm: tf.LayersModel };
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = buildModel();
});
afterAll(() => {
  model.lab.dispose();
  model.lm.dispose();
});

const EPS = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 1];
const pairDist = (r: CollisionAnalysisResult, l: LayerCollisionResult, n: number, k: number) => [img(r.sampleIndices[r.pairI[k]]), img(r.sampleIndices[r.pairJ[k]]), l.distances[n][k]] as const;

describe('collisionAnalysis on a linear model (closed forms, spec §1)', () => {
  it('binary 0 vs 1: input exact, unprojected and projected linear layers match ½‖Vᵀ(x−x′)‖', async () => {
    const before = tf.memory().numTensors;
    const streamed: [string, number, boolean][] = [];
    const messages: string[] = [];
    const plain = plainLayerTap(model.lm);
    const r = await collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { layers: ['input', 'sel', 'wide'], classes: [0, 1], perClass: 3, m: 2, numProjections: 2, epsList: EPS, seed: 5, tap: plain.tap, onLayer: (l) => streamed.push([l.layer, l.projectionsDone, l.complete]) }, { onProgress: (p) => messages.push(p.message ?? '') });
    plain.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.approximate).toBe(false);
    expect(Array.from(r.sampleLabels)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(r.pairI.length).toBe(9);
    // u-major binary pair order: pair u·3 + v joins vertex u and vertex 3 + v.
    expect(Array.from(r.pairI)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(Array.from(r.pairJ)).toEqual([3, 4, 5, 3, 4, 5, 3, 4, 5]);
    const [input, sel, wide] = r.layers;
    expect([input.exact, input.projected, input.numProjections]).toEqual([true, false, 1]);
    expect([sel.exact, sel.projected, sel.m, sel.numProjections]).toEqual([false, false, 2, 1]);
    expect([wide.projected, wide.m, wide.numProjections]).toEqual([true, 2, 2]);
    expect(streamed).toEqual([['input', 1, true], ['sel', 1, true], ['wide', 1, false], ['wide', 2, true]]);
    expect(messages.some((m) => /layer wide \(3\/3\), projection 2\/2: 9\/9 pairs/.test(m))).toBe(true);
    for (let k = 0; k < 9; k++) {
      const [x, xp, dIn] = pairDist(r, input, 0, k);
      expect(dIn).toBeCloseTo(norm(x.map((v, j) => v - xp[j])) / 2, 6);
      // sel reads pixels 0 and 1.
      expect(pairDist(r, sel, 0, k)[2]).toBeCloseTo(0.5 * norm([x[0] - xp[0], x[1] - xp[1]]), 4);
      // wide = WIDEᵀ·sel: A·WIDEᵀ·H with the recorded seed.
      for (let n = 0; n < 2; n++) {
        const A = gaussianProjection(2, 4, wide.stats[n].seed as number);
        const WT = Float64Array.from({ length: 8 }, (_, i) => WIDE[i % 2][Math.floor(i / 2)]); // 4×2
        const AH = matmul(matmul(A, WT, 2, 4, 2), Float64Array.from(SEL_H.flat()), 2, 2, 4);
        expect(wide.distances[n][k]).toBeCloseTo(closedForm(AH, 2, x, xp), 4);
        expect(wide.relResidual[n][k]).toBeLessThanOrEqual(1e-4);
      }
    }
    // Curves: 0 below every distance, ≤ ln 2, nondecreasing; mean between min and max.
    for (const l of r.layers) {
      const c = l.curve;
      expect(c.meanLogLoss[0]).toBe(0);
      c.meanLogLoss.forEach((v, i) => {
        expect(v).toBeLessThanOrEqual(Math.LN2 + 1e-12);
        if (i) expect(v).toBeGreaterThanOrEqual(c.meanLogLoss[i - 1] - 1e-12);
        expect(c.minLogLoss[i]).toBeLessThanOrEqual(v + 1e-15);
        expect(c.maxLogLoss[i]).toBeGreaterThanOrEqual(v - 1e-15);
        expect((c.meanZeroOne as number[])[i]).toBeLessThanOrEqual(0.5 + 1e-12);
      });
    }
    // Input distances here are all ≤ 0.6, so at ε = 1 the graph is K_{3,3}: exactly ln 2.
    expect(input.curve.meanLogLoss[EPS.length - 1]).toBeCloseTo(Math.LN2, 12);
    expect((input.curve.meanZeroOne as number[])[EPS.length - 1]).toBeCloseTo(0.5, 12);
  });

  it('default LabModel.tap gives the same distances as the plain-op tap', async () => {
    const opts = { layers: ['sel'], classes: [0, 1], perClass: 2, epsList: [1], seed: 1 };
    const a = await collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, opts);
    const plain = plainLayerTap(model.lm);
    const b = await collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { ...opts, tap: plain.tap });
    plain.dispose();
    a.layers[0].distances[0].forEach((d, k) => expect(b.layers[0].distances[0][k]).toBeCloseTo(d, 6));
  });

  it('keepPoints + box: returned points collide (recomputed by hand) and stay in [0, 1]', async () => {
    const r = await collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { layers: ['sel'], classes: [1, 2], perClass: 2, epsList: [1], box: true, keepPoints: true });
    expect(r.settings.box).toEqual([0, 1]);
    const pts = r.layers[0].points?.[0];
    expect(pts?.xTilde.length).toBe(4 * 4);
    for (let k = 0; k < 4; k++) {
      const a = Array.from(pts?.xTilde.subarray(k * 4, k * 4 + 4) ?? []);
      const b = Array.from(pts?.xPrimeTilde.subarray(k * 4, k * 4 + 4) ?? []);
      // sel(x) = (x0 + 0.5, x1 − 0.25): a collision needs equal pixels 0 and 1.
      expect(Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1])).toBeLessThanOrEqual(1e-4);
      [...a, ...b].forEach((v) => expect(v >= 0 && v <= 1).toBe(true));
      const x = img(r.sampleIndices[r.pairI[k]]);
      const xp = img(r.sampleIndices[r.pairJ[k]]);
      const d = Math.sqrt((norm(a.map((v, j) => v - x[j])) ** 2 + norm(b.map((v, j) => v - xp[j])) ** 2) / 2);
      expect(r.layers[0].distances[0][k]).toBeCloseTo(d, 5);
    }
  });

  it('three classes: pairwise dual-ascent fallback, flagged approximate (K_{2,2,2} gives ln 2 < ln 3), no 0-1', async () => {
    const r = await collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { layers: ['input'], classes: 'all', perClass: 2, epsList: [0, 0.3, 2], seed: 2 });
    expect(r.approximate).toBe(true);
    expect(r.classes).toEqual([0, 1, 2]);
    expect(r.pairI.length).toBe(3 * 2 * 2);
    const c = r.layers[0].curve;
    expect(c.meanZeroOne).toBeNull();
    expect(c.meanLogLoss[0]).toBe(0);
    (c.maxGap as number[]).forEach((g) => expect(g).toBeLessThanOrEqual(1e-8));
    // ε = 2 joins every cross-class pair: K_{2,2,2}. With PAIRWISE constraints only,
    // q = ½ everywhere is feasible and optimal (each vertex's constraints are symmetric), so
    // the loss is ln 2, not the ln 3 the triangle hyperedges (q_a + q_b + q_c ≤ 1) would
    // force: exactly the documented approximation, still a lower bound.
    expect(c.meanLogLoss[2]).toBeCloseTo(Math.LN2, 6);
    expect(c.meanLogLoss[2]).toBeLessThan(Math.log(3));
  });

  it('cancellation: JobCancelledError carries the finished layers; bad input is one line', async () => {
    const ctl = new AbortController();
    let err: unknown;
    try {
      await collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { layers: ['input', 'sel'], classes: [0, 1], perClass: 2, epsList: [1], onLayer: (l) => l.layer === 'input' && ctl.abort() }, { signal: ctl.signal });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JobCancelledError);
    const partial = (err as JobCancelledError<CollisionAnalysisResult>).partial as CollisionAnalysisResult;
    expect(partial.layers.map((l) => [l.layer, l.complete])).toEqual([['input', true]]);
    await expect(collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { layers: ['nope'], epsList: [1], classes: [0, 1] })).rejects.toThrow(/no layer "nope"/);
    await expect(collisionAnalysis(model.lab, IMAGES, LABELS, SHAPE, { layers: ['wide'], epsList: [1], classes: [0, 1], projection: 'none', maxUnprojectedFeatures: 3 })).rejects.toThrow(/4 features/);
    expect(() => selectClassSamples(LABELS, [0, 7], 2, 0)).toThrow(/no samples of class 7/);
  });
});
