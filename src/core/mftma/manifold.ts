/**
 * Per-manifold mean-field estimate of MFTMA (spec §6, "each_manifold_analysis_D1").
 *
 * Chung, Lee & Sompolinsky, PRX 8, 031003 (2018): for Gaussian t, the anchor point s~(t) is
 * the point of the manifold's convex hull that "supports" t at the margin; capacity is
 * 1/⟨F(t)⟩ with F = max(t·s~ + κ, 0)² / |s~|², and the manifold radius R_M and dimension D_M
 * are the statistics of the anchors (Eqs. for R_M, D_M of the paper, as the reference code
 * computes them — spec §6.5–6.7, including its quirks).
 *
 * The reference solves, per t, the QP  min ½|v|² − t·v  s.t. s_μ·v ≤ −κ  with cvxopt. We solve
 * the equivalent NNLS  min_{z≥0} |S z − (t + κ e_{D+1})|²,  v = t − S z  (spec §11; exact
 * because the last row of S is all ones), which needs no tolerances and matches cvxopt to ~1e-11.
 */
import { nnls } from './linalg';

/** A manifold in the (D+1)-dimensional representation of spec §5. */
export interface ReducedManifold {
  /** M points, each of length d1 = D+1 (point-major); the last coordinate of every point is 1. */
  points: Float64Array;
  m: number;
  d1: number;
}

export interface ManifoldOptions {
  /** Margin κ ≥ 0 (spec §0); the fixtures and the reference README use 0. */
  kappa?: number;
}

/** How each t-vector was handled (fixture `per_t_case_codes`). */
export const CASE_FAST = 0;
export const CASE_INTERIOR = 1;
export const CASE_QP = 2;

export interface ManifoldEstimate {
  /** Capacity α_i = 1 / mean_t F(t). */
  alpha: number;
  /** Radius R_i (spec §6.6). */
  radius: number;
  /** Dimension D_i^M (spec §6.7). */
  dimension: number;
  /** Anchors s~(t): nT rows of length d1. */
  anchors: Float64Array;
  /** F(t) per t-vector. */
  perTF: Float64Array;
  /** CASE_FAST / CASE_INTERIOR / CASE_QP per t-vector. */
  caseCodes: Uint8Array;
}

/** The reference's "interior" test |v − t| < 1e-8 (spec §6.4). */
const INTERIOR_TOL = 1e-8;
/** Regulariser of |s~[1..D]| in the dimension estimator (spec §6.7). */
const DIM_EPS = 1e-12;

/**
 * Anchor points and the three estimators for one manifold.
 * @param t nT t-vectors of length d1 (vector-major), in the same basis as `manifold.points`.
 */
export function analyzeManifold(manifold: ReducedManifold, t: Float64Array, nT: number, opts: ManifoldOptions = {}): ManifoldEstimate {
  const { points, m, d1 } = manifold;
  const kappa = opts.kappa ?? 0;
  const d = d1 - 1;
  if (points.length !== m * d1) throw new Error(`manifold points: expected ${m * d1} values, got ${points.length}`);
  if (t.length !== nT * d1) throw new Error(`t-vectors: expected ${nT * d1} values, got ${t.length}`);
  const cols: Float64Array[] = [];
  for (let mu = 0; mu < m; mu++) cols.push(points.subarray(mu * d1, (mu + 1) * d1));
  const anchors = new Float64Array(nT * d1);
  const perTF = new Float64Array(nT);
  const caseCodes = new Uint8Array(nT);
  const target = new Float64Array(d1);
  for (let k = 0; k < nT; k++) {
    const tk = t.subarray(k * d1, (k + 1) * d1);
    const anchor = anchors.subarray(k * d1, (k + 1) * d1);
    // §6.2 max projection over the data coordinates only (first argmax, as numpy).
    let best = 0;
    let bestProj = -Infinity;
    for (let mu = 0; mu < m; mu++) {
      const c = cols[mu];
      let s = 0;
      for (let i = 0; i < d; i++) s += tk[i] * c[i];
      if (s > bestProj) {
        bestProj = s;
        best = mu;
      }
    }
    const s0 = cols[best];
    let g = 0;
    for (let i = 0; i < d; i++) g += tk[i] * s0[i];
    g += tk[d]; // s0's center coordinate is 1 by construction
    if (g + kappa < 0) {
      // §6.3: t already satisfies every constraint, v = t, anchor = s0, F = 0.
      for (let i = 0; i < d; i++) anchor[i] = s0[i];
      anchor[d] = 1;
      caseCodes[k] = CASE_FAST;
      continue;
    }
    // §6.4 via NNLS: t − v = S z; the last row of S is ones so (S z)_{D+1} = Σ z.
    target.set(tk);
    target[d] += kappa;
    const { x: z } = nnls(cols, target, d1);
    const tv = new Float64Array(d1);
    for (let mu = 0; mu < m; mu++) {
      const zm = z[mu];
      if (zm === 0) continue;
      const c = cols[mu];
      for (let i = 0; i < d1; i++) tv[i] += zm * c[i];
    }
    let dist2 = 0;
    for (let i = 0; i < d1; i++) dist2 += tv[i] * tv[i];
    if (Math.sqrt(dist2) < INTERIOR_TOL) {
      for (let i = 0; i < d; i++) anchor[i] = s0[i];
      anchor[d] = 1;
      caseCodes[k] = CASE_INTERIOR;
    } else {
      // s~ from v (unique) rather than from the duals (spec §11): (t − v)/(t − v)_{D+1}.
      const inv = 1 / tv[d];
      for (let i = 0; i < d1; i++) anchor[i] = tv[i] * inv;
      caseCodes[k] = CASE_QP;
    }
  }
  // §6.5 capacity.
  let fSum = 0;
  for (let k = 0; k < nT; k++) {
    const tk = t.subarray(k * d1, (k + 1) * d1);
    const a = anchors.subarray(k * d1, (k + 1) * d1);
    let ts = 0;
    let ss = 0;
    for (let i = 0; i < d1; i++) {
      ts += tk[i] * a[i];
      ss += a[i] * a[i];
    }
    const h = Math.max(ts + kappa, 0);
    const f = ss > 0 ? (h * h) / ss : 0;
    perTF[k] = f;
    fSum += f;
  }
  const alpha = 1 / (fSum / nT);
  // §6.6 radius: subtract the mean anchor first, then divide by the sample's own center coordinate.
  const mean = new Float64Array(d1);
  for (let k = 0; k < nT; k++) for (let i = 0; i < d1; i++) mean[i] += anchors[k * d1 + i];
  for (let i = 0; i < d1; i++) mean[i] /= nT;
  let r2 = 0;
  for (let k = 0; k < nT; k++) {
    const a = anchors.subarray(k * d1, (k + 1) * d1);
    const c = a[d];
    let s = 0;
    for (let i = 0; i < d; i++) {
      const di = (a[i] - mean[i]) / c;
      s += di * di;
    }
    r2 += s;
  }
  const radius = Math.sqrt(r2 / nT);
  // §6.7 dimension: D × (mean cosine between t and s~ in the data coordinates)², not mean of squares.
  let cosSum = 0;
  for (let k = 0; k < nT; k++) {
    const tk = t.subarray(k * d1, (k + 1) * d1);
    const a = anchors.subarray(k * d1, (k + 1) * d1);
    let tt = 0;
    let aa = 0;
    let ta = 0;
    for (let i = 0; i < d; i++) {
      tt += tk[i] * tk[i];
      aa += a[i] * a[i];
      ta += tk[i] * a[i];
    }
    cosSum += ta / Math.sqrt(tt) / Math.sqrt(aa + DIM_EPS);
  }
  const meanCos = cosSum / nT;
  const dimension = d * meanCos * meanCos;
  return { alpha, radius, dimension, anchors, perTF, caseCodes };
}
