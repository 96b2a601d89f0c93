import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobCancelledError } from '../types';
import { findCollisions, type CollisionOptions } from './collision';
import { gaussianProjection, mlpCollisionMap64, mlpFeatureFn, mlpForward64, projectFn, tfCollisionMap, type MlpSpec } from './maps';

interface LinearCase {
  name: string;
  H: number[][];
  k: number[];
  A: number[][];
  pairs: { x: number[]; x_prime: number[]; d_closed_form: number; alg1_x_tilde: number[] }[];
}
interface MlpLayerRef {
  alg1_d_rms: number;
  best_known_d_rms: number;
}
interface MlpFixture {
  meta: { network: MlpSpec & { projections: Record<string, number[][]> } };
  pairs: { x: number[]; x_prime: number[]; layers: Record<string, MlpLayerRef> }[];
}
const read = (f: string) => JSON.parse(readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8'));
const linear = read('collision-linear.json') as { cases: LinearCase[] };
const mlp = read('collision-mlp-public.json') as MlpFixture;
const net = mlp.meta.network;
const LAYERS = ['h1', 'h2', 'out'];

/** Fixture reference settings (float64): γ = 0.95, N_max = 1000, τ = 1e-10, patience 5. */
const STRICT: CollisionOptions = { gamma: 0.95, maxIter: 1000, feasTol: 1e-10, objTol: 1e-10, patience: 5, ridgeRel: 1e-12 };

const flat = (rows: number[][]) => Float64Array.from(rows.flat());
const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

/** README rules for one pair-layer, evaluated in float64 with the fixture weights. */
function checkMlpPair(layer: string, pair: MlpFixture['pairs'][number], xt: Float64Array, xpt: Float64Array): number {
  const A = net.projections[layer];
  const s = dist(mlpForward64(net, layer, pair.x, A), mlpForward64(net, layer, pair.x_prime, A));
  const res = dist(mlpForward64(net, layer, xt, A), mlpForward64(net, layer, xpt, A));
  expect(res).toBeLessThanOrEqual(1e-4 * s);
  const d = Math.sqrt((dist(xt, pair.x) ** 2 + dist(xpt, pair.x_prime) ** 2) / 2);
  const ref = pair.layers[layer];
  expect(d).toBeLessThanOrEqual(1.02 * ref.alg1_d_rms);
  if (d < 0.98 * ref.best_known_d_rms) console.warn(`suspicious: ${layer} d=${d} < 0.98·best ${ref.best_known_d_rms}`);
  return d / ref.alg1_d_rms;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Algorithm 1 on linear maps (closed form)', () => {
  for (const c of linear.cases) {
    it(`${c.name}: float64 map, first step exact, stops within 10 iterations`, async () => {
      const map = mlpCollisionMap64({ W: [c.H], b: [c.k] }, 'out', c.A);
      const r = await findCollisions(flat(c.pairs.map((p) => p.x)), flat(c.pairs.map((p) => p.x_prime)), map, STRICT);
      c.pairs.forEach((p, i) => {
        expect(Math.abs(r.dRms[i] - p.d_closed_form)).toBeLessThanOrEqual(1e-6 * Math.max(1, p.d_closed_form));
        expect(Math.abs(r.dMax[i] - p.d_closed_form)).toBeLessThanOrEqual(1e-6 * Math.max(1, p.d_closed_form));
        expect(r.feasible[i]).toBe(1);
        expect(r.iterations[i]).toBeLessThanOrEqual(10);
        expect(dist(r.xTilde.subarray(i * 20, (i + 1) * 20), p.alg1_x_tilde)).toBeLessThanOrEqual(1e-6);
      });
    });
    it(`${c.name}: tfjs float32 map within 1e-4 relative, no leaked tensors`, async () => {
      const before = tf.memory().numTensors;
      const f = mlpFeatureFn({ W: [c.H], b: [c.k] }, 'out');
      const g = projectFn(f.fn, c.H.length, flat(c.A), c.A.length);
      const r = await findCollisions(flat(c.pairs.map((p) => p.x)), flat(c.pairs.map((p) => p.x_prime)), tfCollisionMap(g.fn, 20, g.m));
      c.pairs.forEach((p, i) => {
        expect(Math.abs(r.dRms[i] - p.d_closed_form)).toBeLessThanOrEqual(1e-4 * p.d_closed_form);
        expect(r.feasible[i]).toBe(1);
      });
      g.dispose();
      f.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('Algorithm 1 on the fixture ReLU MLP (pairs 0–4, layers h1, h2, out)', () => {
  const xs = flat(mlp.pairs.map((p) => p.x));
  const xps = flat(mlp.pairs.map((p) => p.x_prime));
  it('float64 map, reference settings: feasible and ≤ 1.02 × alg1_d_rms', async () => {
    let worst = 0;
    for (const layer of LAYERS) {
      const r = await findCollisions(xs, xps, mlpCollisionMap64(net, layer, net.projections[layer]), STRICT);
      mlp.pairs.forEach((p, i) => {
        expect(r.feasible[i]).toBe(1);
        worst = Math.max(worst, checkMlpPair(layer, p, r.xTilde.slice(i * 20, (i + 1) * 20), r.xPrimeTilde.slice(i * 20, (i + 1) * 20)));
      });
    }
    console.info(`float64: worst d / alg1_d_rms = ${worst.toFixed(5)}`);
  });
  // γ = 0.95 as in the reference: with the browser default γ = 0.9 pair 3 / h1 converges to a
  // different local optimum, +9 % (the other 14 pair-layers are within 1.3 %), so the 1.02
  // rule is checked at the reference decay; float32 itself costs < 1e-4 relative.
  it('tfjs float32, batched 5 pairs in lock-step, γ = 0.95, τ_feas = 1e-4: same rules, no leaks', async () => {
    const before = tf.memory().numTensors;
    let worst = 0;
    for (const layer of LAYERS) {
      const f = mlpFeatureFn(net, layer);
      const g = projectFn(f.fn, f.n, flat(net.projections[layer]), 3);
      const r = await findCollisions(xs, xps, tfCollisionMap(g.fn, 20, g.m), { gamma: 0.95, maxIter: 600 });
      g.dispose();
      f.dispose();
      mlp.pairs.forEach((p, i) => {
        expect(r.feasible[i]).toBe(1);
        worst = Math.max(worst, checkMlpPair(layer, p, r.xTilde.slice(i * 20, (i + 1) * 20), r.xPrimeTilde.slice(i * 20, (i + 1) * 20)));
      });
    }
    console.info(`float32 tfjs: worst d / alg1_d_rms = ${worst.toFixed(5)}`);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Algorithm 1 controls', () => {
  it('cancels with JobCancelledError carrying the partial result', async () => {
    const ctl = new AbortController();
    const map = mlpCollisionMap64(net, 'h2', net.projections.h2);
    const fractions: number[] = [];
    const job = findCollisions(flat([mlp.pairs[0].x]), flat([mlp.pairs[0].x_prime]), map, STRICT, {
      signal: ctl.signal,
      onProgress: (p) => {
        fractions.push(p.fraction);
        if (fractions.length === 2) ctl.abort();
      },
    });
    const err = await job.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(fractions[0]).toBeGreaterThan(0);
  });
  it('pair that already collides gets d = 0; box keeps points in [0, 1]', async () => {
    // f = relu on 2-d inputs, m = 2: (−1, −1) and (−2, −3) both map to 0.
    const map = mlpCollisionMap64({ W: [[[1, 0], [0, 1]], [[1, 0], [0, 1]]], b: [[0, 0], [0, 0]] }, 'h1');
    const r = await findCollisions([-1, -1], [-2, -3], map);
    expect(r.dRms[0]).toBe(0);
    const spec: MlpSpec = { W: [[[1, 2, 0], [0, 1, -1]], [[1, 1]]], b: [[0.1, 0], [0]] };
    const boxed = await findCollisions([0.9, 0.1, 0.2, 0.2, 0.8, 0.1], [0.1, 0.9, 0.9, 0.7, 0.3, 0.9], mlpCollisionMap64(spec, 'h1'), { box: [0, 1] });
    for (const v of [...boxed.xTilde, ...boxed.xPrimeTilde]) expect(v >= 0 && v <= 1).toBe(true);
  });
  it('gaussianProjection is seeded with variance 1/m', () => {
    const A = gaussianProjection(4, 500, 7);
    expect(Array.from(A)).toEqual(Array.from(gaussianProjection(4, 500, 7)));
    const v = A.reduce((s, a) => s + a * a, 0) / A.length;
    expect(v).toBeGreaterThan(0.2);
    expect(v).toBeLessThan(0.3);
  });
});
