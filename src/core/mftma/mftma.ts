/**
 * Replica mean-field theoretic manifold analysis (MFTMA) of one layer: manifold capacity α,
 * radius R_M and dimension D_M per class manifold, plus the center correlation ρ_center and
 * the rank K of the removed common center subspace.
 *
 * Chung, Lee & Sompolinsky, "Classification and geometry of general perceptual manifolds",
 * PRX 8, 031003 (2018); Cohen, Chung, Lee & Sompolinsky, "Separability and geometry of object
 * manifolds in deep neural networks", Nat. Commun. 11, 746 (2020). Ported from what the public
 * reference code computes (`manifold_analysis_corr`), quirks included — see
 * shared/specs/mftma.md; section numbers below refer to it.
 *
 * Everything is float64 on the CPU: the estimators need ~1e-9 accuracy in the anchors to
 * agree with the reference to 1e-6 (spec §11), which float32 GPUs cannot give.
 */
import { deriveSeed, createRng } from '../random';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { centerCorrelation, chooseMaxK, searchCommonCenters } from './centers';
import { householderQR } from './linalg';
import { analyzeManifold, type ManifoldEstimate } from './manifold';

export interface MftmaInput {
  /** Ambient dimension N (e.g. a layer's activation size). */
  n: number;
  /** One array per manifold: M_i points × N, point-major. Float32 is widened to float64. */
  manifolds: (Float64Array | Float32Array)[];
}

export interface MftmaOptions {
  /** Margin κ ≥ 0 (spec §0). Default 0 as in the reference README and fixtures. */
  kappa?: number;
  /** Gaussian samples per manifold (spec §0). Default 200, the reference README's advice. */
  nT?: number;
  /** Restarts per rank in the center search (spec §3.4). Default 10, the reference default. */
  nReps?: number;
  /** Master seed; t-vectors and restarts use derived streams (src/core/random.ts). */
  seed?: number;
  /**
   * Saved t-vectors per manifold (n_t × (D_i+1), vector-major) in the sign-normalised QR basis
   * of spec §5 / fixture README, so fixtures replay exactly. Drawn from the seed when omitted.
   */
  tVectors?: Float64Array[];
  /**
   * Inject the common center subspace instead of searching it: K rows of length N
   * (orthonormal), e.g. a fixture's center_subspace_V11. K = 0 skips the removal.
   */
  centerSubspace?: { k: number; basis: Float64Array };
  /** Keep anchors / per-t F in the result (memory P × n_t × (M+1) doubles). Default false. */
  keepAnchors?: boolean;
}

export interface MftmaManifoldResult {
  alpha: number;
  radius: number;
  dimension: number;
  /** D_i: M_i when N > M_i (not M_i − 1, spec §5), else N. */
  d: number;
  estimate?: ManifoldEstimate;
}

export interface MftmaResult {
  /** 1 / mean_i(1/α_i) (spec §0, the reference's layer summary — not the arithmetic mean). */
  capacity: number;
  radius: number;
  dimension: number;
  /** Mean |cos| between centered centers before any removal (spec §3.2). */
  centerCorrelation: number;
  /** Rank of the removed common center subspace. */
  k: number;
  /** Orthonormal basis of the removed subspace: K rows of length N. */
  centerSubspace: Float64Array;
  /** res[K] of the search (empty when injected or P = 2). */
  residualCorrelationPerK: number[];
  /** maxK of spec §2 and the small-P-guarded bound actually used (spec §8). */
  maxK: number;
  maxKUsed: number;
  manifolds: MftmaManifoldResult[];
}

/** Layer summary of per-manifold numbers (spec §0). */
export function summarize(per: { alpha: number; radius: number; dimension: number }[]): { capacity: number; radius: number; dimension: number } {
  const p = per.length;
  let inv = 0;
  let r = 0;
  let d = 0;
  for (const m of per) {
    inv += 1 / m.alpha;
    r += m.radius;
    d += m.dimension;
  }
  return { capacity: 1 / (inv / p), radius: r / p, dimension: d / p };
}

/** Centered centers, global mean and the P−1 dimensional center coordinates (spec §1, §3.1). */
export interface CenterGeometry {
  /** Pooled mean o of all points (weighted by M_i). */
  globalMean: Float64Array;
  /** Rows c_i − c̄ (P×N). */
  centered: Float64Array;
  /** Orthonormal basis Proj of their span, N×(P−1) row-major. */
  proj: Float64Array;
  /** Coordinates Y = B Proj, P×(P−1). */
  y: Float64Array;
}

export function centerGeometry(input: MftmaInput): CenterGeometry {
  const { n, manifolds } = input;
  const p = manifolds.length;
  const globalMean = new Float64Array(n);
  const centers = new Float64Array(p * n);
  let total = 0;
  manifolds.forEach((x, i) => {
    const m = x.length / n;
    for (let mu = 0; mu < m; mu++) for (let j = 0; j < n; j++) centers[i * n + j] += x[mu * n + j];
    for (let j = 0; j < n; j++) {
      globalMean[j] += centers[i * n + j];
      centers[i * n + j] /= m;
    }
    total += m;
  });
  for (let j = 0; j < n; j++) globalMean[j] /= total;
  const cbar = new Float64Array(n);
  for (let i = 0; i < p; i++) for (let j = 0; j < n; j++) cbar[j] += centers[i * n + j] / p;
  const centered = new Float64Array(p * n);
  for (let i = 0; i < p; i++) for (let j = 0; j < n; j++) centered[i * n + j] = centers[i * n + j] - cbar[j];
  const q = p - 1;
  // Householder QR of the N×P matrix [b_1..b_P]; its first P−1 columns span the centers.
  const bt = new Float64Array(n * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < n; j++) bt[j * p + i] = centered[i * n + j];
  const proj = new Float64Array(n * q);
  const y = new Float64Array(p * q);
  if (q > 0 && n >= p) {
    const qf = householderQR(bt, n, p).q as Float64Array;
    for (let j = 0; j < n; j++) for (let a = 0; a < q; a++) proj[j * q + a] = qf[j * p + a];
    for (let i = 0; i < p; i++) for (let a = 0; a < q; a++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += centered[i * n + j] * proj[j * q + a];
      y[i * q + a] = s;
    }
  } else if (q > 0) {
    throw new LabError(`MFTMA needs at least as many dimensions as manifolds (N = ${n} < P = ${p})`);
  }
  return { globalMean, centered, proj, y };
}

/**
 * Spec §4–§5 for one manifold: project out the common subspace (rows of `basis`, K×N),
 * centre on the projected centroid, scale it to unit length, reduce by QR (sign-normalised)
 * and append the center coordinate 1. Returns the M×(D+1) point-major representation.
 */
export function reduceManifold(
  x: Float64Array | Float32Array,
  n: number,
  globalMean: Float64Array,
  basis: Float64Array,
  k: number,
): { points: Float64Array; m: number; d1: number } {
  const m = x.length / n;
  const z = new Float64Array(m * n);
  for (let mu = 0; mu < m; mu++) {
    const row = z.subarray(mu * n, (mu + 1) * n);
    for (let j = 0; j < n; j++) row[j] = x[mu * n + j] - globalMean[j];
    for (let a = 0; a < k; a++) {
      const v = basis.subarray(a * n, (a + 1) * n);
      let s = 0;
      for (let j = 0; j < n; j++) s += v[j] * row[j];
      for (let j = 0; j < n; j++) row[j] -= s * v[j];
    }
  }
  const mean = new Float64Array(n);
  for (let mu = 0; mu < m; mu++) for (let j = 0; j < n; j++) mean[j] += z[mu * n + j] / m;
  let norm = 0;
  for (let j = 0; j < n; j++) norm += mean[j] * mean[j];
  norm = Math.sqrt(norm);
  if (!(norm > 0)) throw new LabError('a manifold center coincides with the common center subspace (zero projected center); MFTMA is undefined');
  // U is N×M (columns = normalised points) for the QR.
  const u = new Float64Array(n * m);
  for (let mu = 0; mu < m; mu++) for (let j = 0; j < n; j++) u[j * m + mu] = (z[mu * n + j] - mean[j]) / norm;
  if (n > m) {
    const { r } = householderQR(u, n, m, false);
    const d1 = m + 1;
    const points = new Float64Array(m * d1);
    for (let mu = 0; mu < m; mu++) {
      for (let i = 0; i < m; i++) points[mu * d1 + i] = r[i * m + mu];
      points[mu * d1 + m] = 1;
    }
    return { points, m, d1 };
  }
  const d1 = n + 1;
  const points = new Float64Array(m * d1);
  for (let mu = 0; mu < m; mu++) {
    for (let j = 0; j < n; j++) points[mu * d1 + j] = u[j * m + mu];
    points[mu * d1 + n] = 1;
  }
  return { points, m, d1 };
}

/**
 * Full analysis of one layer (spec §1–§6). Long job: reports progress per center rank and
 * per manifold and honours `control.signal` between them.
 */
export async function manifoldAnalysis(input: MftmaInput, opts: MftmaOptions = {}, control: JobControl = {}): Promise<MftmaResult> {
  const { n, manifolds } = input;
  const p = manifolds.length;
  const kappa = opts.kappa ?? 0;
  const nT = opts.nT ?? 200;
  const seed = opts.seed ?? 0;
  if (p < 2) throw new LabError(`MFTMA needs at least 2 manifolds (got ${p})`);
  if (!(kappa >= 0)) throw new LabError(`kappa must be ≥ 0 (got ${kappa})`);
  if (!(nT >= 1) || !Number.isInteger(nT)) throw new LabError(`n_t must be a positive integer (got ${nT})`);
  manifolds.forEach((x, i) => {
    if (x.length === 0 || x.length % n !== 0) throw new LabError(`manifold ${i}: ${x.length} values is not a whole number of ${n}-dimensional points`);
    // NaN/Inf would surface later as a misleading geometric failure (a center "coinciding" with the subspace).
    for (let j = 0; j < x.length; j++) {
      if (!Number.isFinite(x[j])) throw new LabError(`MFTMA: input has non-finite values (manifold ${i}, point ${Math.floor(j / n)}: ${x[j]})`);
    }
  });
  if (opts.tVectors && opts.tVectors.length !== p) throw new LabError(`tVectors: expected ${p} arrays, got ${opts.tVectors.length}`);
  const { signal, onProgress } = control;
  const results: MftmaManifoldResult[] = [];
  // On abort, hand back the manifolds finished so far (JobCancelledError.partial).
  const check = () => {
    if (signal?.aborted) throw new JobCancelledError<MftmaManifoldResult[]>(results.slice());
  };
  // Yield to the event loop so an abort from the caller can land between stages.
  const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  const geo = centerGeometry(input);
  const q = p - 1;
  const centerCorr = centerCorrelation(geo.y, p, q);
  const maxK = chooseMaxK(geo.centered, p, n);
  let k = 0;
  let basis: Float64Array = new Float64Array(0);
  let residualCorrelationPerK: number[] = [];
  let maxKUsed = 0;
  const searchShare = opts.centerSubspace ? 0 : 0.5;
  if (opts.centerSubspace) {
    k = opts.centerSubspace.k;
    basis = opts.centerSubspace.basis;
    if (basis.length !== k * n) throw new LabError(`centerSubspace: expected ${k}×${n} values, got ${basis.length}`);
  } else {
    onProgress?.({ fraction: 0, message: 'center alignment' });
    const search = await searchCommonCenters(geo.y, p, q, {
      maxK,
      nReps: opts.nReps ?? 10,
      seed: deriveSeed(seed, 'mftma/center-restarts'),
      onRank: async (kk, kMax) => {
        onProgress?.({ fraction: (searchShare * kk) / kMax, message: `center alignment K = ${kk}/${kMax}` });
        await tick();
        check();
      },
    });
    k = search.k;
    residualCorrelationPerK = search.residualCorrelation;
    maxKUsed = search.maxKUsed;
    // V11 = Proj V (N×K), stored as K rows of length N.
    basis = new Float64Array(k * n);
    for (let j = 0; j < n; j++) for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < q; b++) s += geo.proj[j * q + b] * search.v[b * k + a];
      basis[a * n + j] = s;
    }
    await tick();
    check();
  }
  const tRng = createRng(deriveSeed(seed, 'mftma/t-vectors'));
  for (let i = 0; i < p; i++) {
    const red = reduceManifold(manifolds[i], n, geo.globalMean, basis, k);
    let t = opts.tVectors?.[i];
    if (t) {
      if (t.length !== nT * red.d1) throw new LabError(`tVectors[${i}]: expected ${nT}×${red.d1} values, got ${t.length}`);
    } else {
      t = new Float64Array(nT * red.d1);
      for (let j = 0; j < t.length; j++) t[j] = tRng.normal();
    }
    const est = analyzeManifold(red, t, nT, { kappa });
    results.push({ alpha: est.alpha, radius: est.radius, dimension: est.dimension, d: red.d1 - 1, estimate: opts.keepAnchors ? est : undefined });
    onProgress?.({ fraction: searchShare + ((1 - searchShare) * (i + 1)) / p, message: `manifold ${i + 1}/${p}` });
    await tick();
    check();
  }
  return {
    ...summarize(results),
    centerCorrelation: centerCorr,
    k,
    centerSubspace: basis,
    residualCorrelationPerK,
    maxK,
    maxKUsed,
    manifolds: results,
  };
}
