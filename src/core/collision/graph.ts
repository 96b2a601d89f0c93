/**
 * Algorithm 2 — optimal adversarial loss per layer against ε (spec collision.md §3).
 *
 * The cross-class collision distances are computed once per (layer, projection) with
 * Algorithm 1; the ε sweep only thresholds them: edge (u, v) iff d(u, v) ≤ ε. Infeasible
 * pairs get d = ∞, i.e. no edge at any ε (conservative: a missing edge can only lower the
 * loss, so the curve stays a lower bound; spec §1).
 *
 * With N random projections A_n the *losses* are averaged over n, never the distances
 * (spec pitfall 11), and A_n is kept fixed across ε.
 */
import { deriveSeed } from '../random';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { findCollisions, type CollisionOptions, type CollisionResult } from './collision';
import { gaussianProjection, projectFn, tfCollisionMap, type BatchFn } from './maps';
import { optimalLogLoss, optimalZeroOneLoss, type ConflictGraph } from './optloss';

/** 'rms': d_rms = √(J/2), the primary distance. 'max': d_max, the certified per-point budget. */
export type EdgeRule = 'rms' | 'max';

/** Cross-class distances: row u (class 0, n0 rows) × column v (class 1, n1 columns). */
export interface DistanceMatrix {
  n0: number;
  n1: number;
  /** n0·n1 distances, ∞ where no collision was found. */
  d: Float64Array;
}

export interface DistanceStats {
  infeasible: number;
  medianIterations: number;
}

/** Conflict graph at one ε. `p` defaults to uniform 1/(n0 + n1) (= 1/(2S) when balanced). */
export function conflictGraphAt(dist: DistanceMatrix, eps: number, p?: Float64Array): ConflictGraph {
  const { n0, n1, d } = dist;
  const n = n0 + n1;
  const prob = p ?? new Float64Array(n).fill(1 / n);
  if (prob.length !== n) throw new LabError(`p must have ${n} entries`);
  const edges: number[] = [];
  for (let u = 0; u < n0; u++) for (let v = 0; v < n1; v++) if (d[u * n1 + v] <= eps) edges.push(u, n0 + v);
  return { nClass0: n0, numVertices: n, p: prob, edges: Int32Array.from(edges) };
}

function edgeCount(dist: DistanceMatrix, eps: number): number {
  let c = 0;
  for (const x of dist.d) if (x <= eps) c++;
  return c;
}

export interface LossCurve {
  eps: Float64Array;
  /** Per projection: optimal cross-entropy (nats) and 0-1 loss at each ε. */
  perProjection: { logLoss: Float64Array; zeroOne: Float64Array }[];
  meanLogLoss: Float64Array;
  minLogLoss: Float64Array;
  maxLogLoss: Float64Array;
  meanZeroOne: Float64Array;
  minZeroOne: Float64Array;
  maxZeroOne: Float64Array;
}

/**
 * Loss against ε for each distance matrix (one per projection), then mean / min / max over
 * projections. The edge sets are nested in ε, so an unchanged edge count means an unchanged
 * graph and the previous solve is reused (the loss is a step function of ε).
 */
export function lossCurve(dists: DistanceMatrix[], epsList: ArrayLike<number>, p?: Float64Array): LossCurve {
  if (dists.length === 0) throw new LabError('loss curve needs at least one distance matrix');
  const E = epsList.length;
  const perProjection = dists.map((dist) => {
    const logLoss = new Float64Array(E);
    const zeroOne = new Float64Array(E);
    const cache = new Map<number, [number, number]>();
    for (let i = 0; i < E; i++) {
      const count = edgeCount(dist, epsList[i]);
      let hit = cache.get(count);
      if (!hit) {
        const g = conflictGraphAt(dist, epsList[i], p);
        hit = [optimalLogLoss(g).loss, optimalZeroOneLoss(g).loss];
        cache.set(count, hit);
      }
      [logLoss[i], zeroOne[i]] = hit;
    }
    return { logLoss, zeroOne };
  });
  const stat = (key: 'logLoss' | 'zeroOne', f: (v: number[]) => number) =>
    Float64Array.from({ length: E }, (_, i) => f(perProjection.map((r) => r[key][i])));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    eps: Float64Array.from(epsList),
    perProjection,
    meanLogLoss: stat('logLoss', mean),
    minLogLoss: stat('logLoss', (v) => Math.min(...v)),
    maxLogLoss: stat('logLoss', (v) => Math.max(...v)),
    meanZeroOne: stat('zeroOne', mean),
    minZeroOne: stat('zeroOne', (v) => Math.min(...v)),
    maxZeroOne: stat('zeroOne', (v) => Math.max(...v)),
  };
}

/** Distances from a finished collision search laid out as pairs u·n1 + v. */
export function toDistanceMatrix(r: CollisionResult, n0: number, n1: number, rule: EdgeRule = 'rms'): { dist: DistanceMatrix; stats: DistanceStats } {
  const d = new Float64Array(n0 * n1);
  let infeasible = 0;
  for (let i = 0; i < n0 * n1; i++) {
    if (!r.feasible[i]) {
      infeasible++;
      d[i] = Infinity;
    } else d[i] = rule === 'max' ? r.dMax[i] : r.dRms[i];
  }
  const its = Array.from(r.iterations).sort((a, b) => a - b);
  return { dist: { n0, n1, d }, stats: { infeasible, medianIterations: its.length ? its[its.length >> 1] : 0 } };
}

export interface LayerCurveOptions {
  /** Projection width m; no projection when the layer has ≤ m features. */
  m?: number;
  /** Number of projections N (1 when no projection is needed). */
  numProjections?: number;
  /** Master seed; A_n uses deriveSeed(seed, `collision-A-${n}`). */
  seed?: number;
  edgeRule?: EdgeRule;
  collision?: CollisionOptions;
  p?: Float64Array;
}

export interface LayerCurveResult {
  curve: LossCurve;
  /** Seeds of the A_n actually used (empty without projection), for the manifest. */
  projectionSeeds: number[];
  m: number;
  stats: DistanceStats[];
  distances: DistanceMatrix[];
}

/**
 * Full Algorithm 2 for one layer f (a batched tfjs function with `features` outputs):
 * class0 (S0 × n0) and class1 (S1 × n0) inputs, every cross-class pair, N projections.
 */
export async function layerLossCurve(
  f: BatchFn,
  features: number,
  class0: ArrayLike<number>,
  class1: ArrayLike<number>,
  n0: number,
  epsList: ArrayLike<number>,
  opts: LayerCurveOptions = {},
  control: JobControl = {},
): Promise<LayerCurveResult> {
  const { m = 3, numProjections = 5, seed = 0, edgeRule = 'rms', collision = {}, p } = opts;
  const S0 = class0.length / n0;
  const S1 = class1.length / n0;
  if (!Number.isInteger(S0) || !Number.isInteger(S1)) throw new LabError(`class samples must be multiples of ${n0} values`);
  // All cross-class pairs, u-major, so pair index u·S1 + v matches DistanceMatrix.
  const xs = new Float64Array(S0 * S1 * n0);
  const xps = new Float64Array(S0 * S1 * n0);
  for (let u = 0; u < S0; u++)
    for (let v = 0; v < S1; v++) {
      for (let j = 0; j < n0; j++) {
        xs[(u * S1 + v) * n0 + j] = class0[u * n0 + j];
        xps[(u * S1 + v) * n0 + j] = class1[v * n0 + j];
      }
    }
  const project = features > m;
  const N = project ? numProjections : 1;
  const seeds: number[] = [];
  const distances: DistanceMatrix[] = [];
  const stats: DistanceStats[] = [];
  for (let n = 0; n < N; n++) {
    let A: Float64Array | null = null;
    if (project) {
      const s = deriveSeed(seed, `collision-A-${n}`);
      seeds.push(s);
      A = gaussianProjection(m, features, s);
    }
    const g = projectFn(f, features, A, m);
    try {
      const r = await findCollisions(xs, xps, tfCollisionMap(g.fn, n0, g.m), collision, {
        signal: control.signal,
        onProgress: (pr) => control.onProgress?.({ fraction: (n + pr.fraction) / N, message: `projection ${n + 1}/${N}: ${pr.message ?? ''}` }),
      });
      const t = toDistanceMatrix(r, S0, S1, edgeRule);
      distances.push(t.dist);
      stats.push(t.stats);
    } catch (e) {
      if (e instanceof JobCancelledError) throw new JobCancelledError({ distances, projectionSeeds: seeds });
      throw e;
    } finally {
      g.dispose();
    }
  }
  return { curve: lossCurve(distances, epsList, p), projectionSeeds: seeds, m: project ? m : features, stats, distances };
}
