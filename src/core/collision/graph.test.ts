import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CollisionResult } from './collision';
import { conflictGraphAt, layerLossCurve, lossCurve, toDistanceMatrix, type DistanceMatrix } from './graph';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const LN2 = Math.LN2;

describe('conflict graphs and loss curves', () => {
  it('thresholds d ≤ ε, ∞ is never an edge, vertices of class 1 are offset by n0', () => {
    const dist: DistanceMatrix = { n0: 2, n1: 2, d: Float64Array.from([0.5, Infinity, 1, 2]) };
    expect(Array.from(conflictGraphAt(dist, 1).edges)).toEqual([0, 2, 1, 2]);
    expect(Array.from(conflictGraphAt(dist, 1e9).edges)).toEqual([0, 2, 1, 2, 1, 3]);
    expect(conflictGraphAt(dist, 0.1).edges.length).toBe(0);
    expect(conflictGraphAt(dist, 1).p[0]).toBe(0.25);
  });
  it('infeasible pairs become d = ∞ (no edge at any ε); edge rule picks d_rms or d_max', () => {
    const r = { feasible: Uint8Array.from([1, 0, 1]), dRms: Float64Array.from([1, 2, 3]), dMax: Float64Array.from([1.5, 2.5, 3.5]), iterations: Int32Array.from([10, 30, 20]) } as CollisionResult;
    const rms = toDistanceMatrix(r, 1, 3);
    expect(Array.from(rms.dist.d)).toEqual([1, Infinity, 3]);
    expect(rms.stats).toEqual({ infeasible: 1, medianIterations: 20 });
    expect(Array.from(toDistanceMatrix(r, 1, 3, 'max').dist.d)).toEqual([1.5, Infinity, 3.5]);
  });
  it('averages losses over projections, not distances', () => {
    // One pair; projection 1 collides at d = 1, projection 2 at d = 3.
    const c = lossCurve([{ n0: 1, n1: 1, d: Float64Array.from([1]) }, { n0: 1, n1: 1, d: Float64Array.from([3]) }], [0.5, 2, 4]);
    expect(Array.from(c.perProjection[0].logLoss)).toEqual([0, LN2, LN2].map((v) => expect.closeTo(v, 15)));
    // Mean of losses at ε = 2 is ln2/2 (averaging distances, d = 2, would give ln 2).
    expect(Array.from(c.meanLogLoss)).toEqual([0, LN2 / 2, LN2].map((v) => expect.closeTo(v, 15)));
    expect(Array.from(c.minLogLoss)).toEqual([0, 0, LN2].map((v) => expect.closeTo(v, 15)));
    expect(Array.from(c.maxZeroOne)).toEqual([0, 0.5, 0.5]);
    expect(Array.from(c.meanZeroOne)).toEqual([0, 0.25, 0.5]);
  });
});

describe('layerLossCurve (Algorithm 2 on tfjs)', () => {
  it('input space, no projection: d = ‖x − x′‖/2 and hand-computed losses', async () => {
    const before = tf.memory().numTensors;
    // Class 0: (0,0). Class 1: (2,0) at d = 1 and (0,4) at d = 2. p = 1/3 each.
    const r = await layerLossCurve((x) => x.clone(), 2, [0, 0], [2, 0, 0, 4], 2, [0.5, 1.5, 2.5], { m: 3 });
    expect(r.projectionSeeds).toEqual([]);
    expect(r.m).toBe(2);
    expect(r.distances[0].d[0]).toBeCloseTo(1, 5);
    expect(r.distances[0].d[1]).toBeCloseTo(2, 5);
    expect(r.stats[0].infeasible).toBe(0);
    // ε = 1.5: block {0, 1} with q = 1/2 → (2/3)·ln 2; ε = 2.5: the star, (1/3)ln 3 + (2/3)ln(3/2).
    const star = Math.log(3) / 3 + (2 / 3) * Math.log(1.5);
    expect(Array.from(r.curve.meanLogLoss)).toEqual([0, (2 / 3) * LN2, star].map((v) => expect.closeTo(v, 4)));
    expect(Array.from(r.curve.meanZeroOne)).toEqual([0, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 12)));
    expect(tf.memory().numTensors).toBe(before);
  });
  it('N seeded projections: distinct recorded seeds, projected distances ≤ unprojected', async () => {
    const before = tf.memory().numTensors;
    const c0 = [0, 0, 0, 0, 1, 1, 0, 0];
    const c1 = [1, 0, 1, 0, 0, 2, 0, 1];
    const opts = { m: 2, numProjections: 2, seed: 42 };
    const r = await layerLossCurve((x) => x.clone(), 4, c0, c1, 4, [0.1, 1, 10], opts);
    expect(r.projectionSeeds.length).toBe(2);
    expect(r.projectionSeeds[0]).not.toBe(r.projectionSeeds[1]);
    const again = await layerLossCurve((x) => x.clone(), 4, c0, c1, 4, [0.1, 1, 10], opts);
    expect(again.projectionSeeds).toEqual(r.projectionSeeds);
    const half = [Math.sqrt(2) / 2, Math.sqrt(5) / 2, Math.sqrt(3) / 2, Math.sqrt(2) / 2];
    for (const dm of r.distances) dm.d.forEach((d, i) => expect(d).toBeLessThanOrEqual(half[i] * (1 + 1e-4)));
    expect(r.curve.perProjection.length).toBe(2);
    expect(r.curve.meanLogLoss[2]).toBeCloseTo(LN2, 12); // all four pairs collide: complete K2,2
    expect(tf.memory().numTensors).toBe(before);
  });
});
