/**
 * Feature reduction for the linear probes. A closed-form ridge probe on a 20 000-wide
 * convolutional layer costs O(n·d·min(n, d)) per fold and λ; the lab instead projects
 * each layer to at most `m` features first.
 *
 * Projection: very sparse random projection (Li, Hastie & Church, "Very sparse random
 * projections", KDD 2006): R ∈ ℝ^{d×m} with entries √s·{+1 w.p. 1/(2s), 0 w.p. 1 − 1/s,
 * −1 w.p. 1/(2s)}, s = √d, scaled by 1/√m so E‖xR‖² = ‖x‖². Like a Gaussian projection
 * it approximately preserves distances (Johnson–Lindenstrauss), but costs ≈ n·d·m/√d
 * instead of n·d·m — that is what makes per-layer probes on realistic widths affordable.
 * A linear probe on xR can only do as well as one on x (any map of xR is a map of x), so
 * projected probe accuracies are lower bounds on linear decodability; results say when
 * a projection happened.
 *
 * Scale: after projection each layer is divided by one scalar, its root-mean-square
 * per-feature standard deviation on the reference (clean) rows, so the ridge λ grid
 * means the same thing for every layer and no layer dominates a concatenation merely by
 * having larger activations. A single scalar keeps the layer's geometry unchanged.
 */
import { createRng } from '../random';

export interface ProjectionPlan {
  inDims: number;
  outDims: number;
  /** Identity (no projection) when inDims ≤ the budget. */
  projected: boolean;
  /** For input feature j: nonzero output columns cols[start[j] .. start[j+1]) with values vals. */
  start: Int32Array;
  cols: Int32Array;
  vals: Float32Array;
}

/** Seeded very sparse projection plan from d to min(d, m) features. */
export function sparseProjectionPlan(d: number, m: number, seed: number): ProjectionPlan {
  if (!Number.isInteger(d) || d < 1 || !Number.isInteger(m) || m < 1) throw new Error('dimensions must be positive integers');
  if (d <= m) return { inDims: d, outDims: d, projected: false, start: new Int32Array(0), cols: new Int32Array(0), vals: new Float32Array(0) };
  const s = Math.max(1, Math.sqrt(d));
  const p = 1 / s;
  const value = Math.sqrt(s / m);
  const rng = createRng(seed);
  const start = new Int32Array(d + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let j = 0; j < d; j++) {
    start[j] = cols.length;
    for (let q = 0; q < m; q++) {
      const u = rng.next();
      if (u < p) {
        cols.push(q);
        vals.push(u < p / 2 ? value : -value);
      }
    }
  }
  start[d] = cols.length;
  return { inDims: d, outDims: m, projected: true, start, cols: Int32Array.from(cols), vals: Float32Array.from(vals) };
}

/** Apply a plan to the rows of x (n×d row-major); returns n×outDims float64 (a copy when not projected). */
export function applyProjection(plan: ProjectionPlan, x: ArrayLike<number>): Float64Array {
  const d = plan.inDims;
  const n = x.length / d;
  if (!Number.isInteger(n)) throw new Error(`input length ${x.length} is not a multiple of ${d}`);
  if (!plan.projected) return Float64Array.from(x);
  const m = plan.outDims;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j];
      if (v === 0) continue; // ReLU layers are sparse
      for (let t = plan.start[j]; t < plan.start[j + 1]; t++) out[o + plan.cols[t]] += v * plan.vals[t];
    }
  }
  return out;
}

/**
 * Root-mean-square per-feature standard deviation of an n×m matrix: √(mean_j var_j).
 * 0 for constant data.
 */
export function rmsFeatureScale(x: Float64Array, m: number): number {
  const n = x.length / m;
  if (n < 2) return 0;
  let total = 0;
  for (let j = 0; j < m; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * m + j];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * m + j] - mean) ** 2;
    total += v / (n - 1);
  }
  return Math.sqrt(total / m);
}

export interface ReducedLayer {
  dims: number;
  projected: boolean;
  clean: Float64Array;
  adversarial: Float64Array | null;
}

/**
 * Project a layer's clean and adversarial activations with the SAME plan and the same
 * clean-fitted scale, so the two stay comparable for a probe trained on clean rows.
 */
export function reduceLayer(size: number, clean: ArrayLike<number>, adversarial: ArrayLike<number> | null | undefined, maxDims: number, seed: number): ReducedLayer {
  const plan = sparseProjectionPlan(size, maxDims, seed);
  const c = applyProjection(plan, clean);
  const a = adversarial ? applyProjection(plan, adversarial) : null;
  const scale = rmsFeatureScale(c, plan.outDims);
  if (scale > 0) {
    for (let t = 0; t < c.length; t++) c[t] /= scale;
    if (a) for (let t = 0; t < a.length; t++) a[t] /= scale;
  }
  return { dims: plan.outDims, projected: plan.projected, clean: c, adversarial: a };
}
