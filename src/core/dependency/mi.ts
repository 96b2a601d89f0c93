/**
 * Mutual-information estimators between layers and with the label. Craig et al., "A
 * Theoretical Perspective on Subnetwork Contributions to Adversarial Robustness", track
 * I(layer_l; layer_{l+1}) and I(layer; label), including class-conditional versions, to
 * see where information about the input is kept or discarded.
 *
 * All values are in nats and can be slightly negative (the estimators are not
 * constrained to be ≥ 0); we report them unclipped so the bias stays visible.
 *
 * - I(X;Y), X and Y continuous: Kraskov, Stögbauer & Grassberger (2004), estimator 1,
 *     Î = ψ(k) + ψ(N) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩,
 *   where ε_i is the max-norm distance from point i to its k-th neighbour in the joint
 *   space (max of the X and Y max-norm distances) and n_x(i) counts the points j ≠ i with
 *   ‖x_j − x_i‖_∞ < ε_i (strictly), likewise n_y.
 * - I(X;Y|C) = Σ_c p(c) I(X;Y | C = c), KSG within each class.
 * - I(X;C), C a discrete label: the mixed discrete–continuous KSG variant of Ross (2014),
 *   "Mutual information between discrete and continuous data sets",
 *     Î = ψ(N) − ⟨ψ(N_{c_i})⟩ + ψ(k) − ⟨ψ(m_i)⟩,
 *   with d_i the distance to the k-th neighbour among points of the same class and m_i the
 *   number of points j ≠ i of any class with distance ≤ d_i (this counts the k same-class
 *   neighbours). We use it rather than the entropy decomposition H(X) − Σ p(c) H(X|c)
 *   because the two Kozachenko–Leonenko entropy biases would not cancel in high dims.
 *
 * Preprocessing (per variable, before any estimate): z-score each dimension (KSG uses
 * max-norm, so scale matters); if the dimension exceeds `maxDims` (default 20 — beyond
 * that kNN distances concentrate and KSG is badly biased) apply a seeded Gaussian random
 * projection R ∈ ℝ^{d×m}, R_ij ~ N(0, 1/m); then add tiny seeded Gaussian jitter (Kraskov
 * et al. recommend it: ReLU activations have exact ties, which break the strict counts).
 * The projection can only lose information (data processing inequality), so projected
 * estimates are lower bounds in expectation; results say whether it happened.
 */
import { createRng, deriveSeed, shuffleInPlace } from '../random';
import { throwIfAborted, type JobControl } from '../types';
import { digamma } from './special';

/**
 * KSG is O(N² (d_x + d_y)) with brute-force neighbours. 4000 points is ≈ 16M pair
 * distances, about a second in a worker; larger inputs are subsampled (seeded) and the
 * result says how many points were used.
 */
export const KSG_MAX_SAMPLES = 4000;

export interface KsgOptions {
  /** Neighbour count (default 3, Kraskov et al.'s recommended bias/variance trade-off). */
  k?: number;
  /** Project each variable to at most this many dimensions (default 20). */
  maxDims?: number;
  /** Master seed for projection, jitter and subsampling. */
  seed?: number;
  /** Z-score each dimension first (default true). */
  standardize?: boolean;
  /** Jitter sd relative to unit-variance dimensions (default 1e-10; 0 disables). */
  jitter?: number;
  /** Subsample above this many points (default KSG_MAX_SAMPLES). */
  maxSamples?: number;
}

export interface MiResult {
  /** Estimate in nats. */
  mi: number;
  /** Points used. */
  n: number;
  k: number;
  /** Dimensions after projection. */
  dimsX: number;
  dimsY: number;
  projectedX: boolean;
  projectedY: boolean;
}

interface Prepared {
  data: Float64Array;
  dims: number;
  projected: boolean;
}

/** Standardise, project and jitter one variable (n×d) into float64 (n×m). */
function prepare(
  x: ArrayLike<number>,
  rows: Int32Array,
  d: number,
  opts: Required<Pick<KsgOptions, 'maxDims' | 'standardize' | 'jitter'>>,
  seed: number,
  purpose: string,
): Prepared {
  const n = rows.length;
  let data = new Float64Array(n * d);
  rows.forEach((i, r) => {
    for (let j = 0; j < d; j++) data[r * d + j] = x[i * d + j];
  });
  if (opts.standardize) {
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += data[r * d + j];
      m /= n;
      let v = 0;
      for (let r = 0; r < n; r++) v += (data[r * d + j] - m) ** 2;
      const sd = Math.sqrt(v / Math.max(1, n - 1));
      // A constant dimension carries no information: set it to zero rather than divide by 0.
      for (let r = 0; r < n; r++) data[r * d + j] = sd > 0 ? (data[r * d + j] - m) / sd : 0;
    }
  }
  let dims = d;
  let projected = false;
  if (d > opts.maxDims) {
    const m = opts.maxDims;
    const rng = createRng(deriveSeed(seed, `ksg-projection-${purpose}`));
    const proj = new Float64Array(d * m);
    const scale = 1 / Math.sqrt(m);
    for (let t = 0; t < proj.length; t++) proj[t] = rng.normal() * scale;
    const out = new Float64Array(n * m);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < d; j++) {
        const v = data[r * d + j];
        if (v === 0) continue;
        for (let q = 0; q < m; q++) out[r * m + q] += v * proj[j * m + q];
      }
    data = out;
    dims = m;
    projected = true;
  }
  if (opts.jitter > 0) {
    const rng = createRng(deriveSeed(seed, `ksg-jitter-${purpose}`));
    for (let t = 0; t < data.length; t++) data[t] += opts.jitter * rng.normal();
  }
  return { data, dims, projected };
}

function resolve(opts: KsgOptions) {
  return {
    k: opts.k ?? 3,
    maxDims: opts.maxDims ?? 20,
    seed: opts.seed ?? 0,
    standardize: opts.standardize ?? true,
    jitter: opts.jitter ?? 1e-10,
    maxSamples: opts.maxSamples ?? KSG_MAX_SAMPLES,
  };
}

/** Row indices to use: all, or a seeded subsample of `maxSamples` (kept in original order). */
function chooseRows(n: number, maxSamples: number, seed: number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= maxSamples) return all;
  shuffleInPlace(all, createRng(deriveSeed(seed, 'ksg-subsample')));
  return all.slice(0, maxSamples).sort();
}

/** Max-norm distance between rows a and b of an n×m matrix. */
function cheb(data: Float64Array, m: number, a: number, b: number): number {
  let best = 0;
  for (let q = 0; q < m; q++) {
    const t = Math.abs(data[a * m + q] - data[b * m + q]);
    if (t > best) best = t;
  }
  return best;
}

/**
 * Insert `v` into the ascending array `top` of length k (values beyond k dropped).
 * For the small k KSG uses this beats a full sort or quickselect per point.
 */
function pushSmallest(top: Float64Array, v: number): void {
  const k = top.length;
  if (v >= top[k - 1]) return;
  let p = k - 1;
  while (p > 0 && top[p - 1] > v) {
    top[p] = top[p - 1];
    p--;
  }
  top[p] = v;
}

/** Rows between abort checks / progress reports: frequent enough to cancel within ~10 ms at N = 4000. */
const CHECK_EVERY = 32;

/**
 * KSG estimator 1 on prepared data restricted to `members` (indices into the prepared
 * rows). Progress is reported as `base + span · (fraction of members done)`.
 */
function ksgCore(x: Prepared, y: Prepared, members: Int32Array, k: number, control: JobControl, base = 0, span = 1): number {
  const n = members.length;
  if (n <= k) return NaN;
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  const top = new Float64Array(k);
  let acc = 0;
  for (let a = 0; a < n; a++) {
    if (a % CHECK_EVERY === 0) {
      throwIfAborted(control.signal);
      control.onProgress?.({ fraction: base + (span * a) / n });
    }
    const i = members[a];
    top.fill(Infinity);
    for (let b = 0; b < n; b++) {
      if (b === a) continue;
      const j = members[b];
      dx[b] = cheb(x.data, x.dims, i, j);
      dy[b] = cheb(y.data, y.dims, i, j);
      pushSmallest(top, Math.max(dx[b], dy[b]));
    }
    const eps = top[k - 1];
    let nx = 0;
    let ny = 0;
    for (let b = 0; b < n; b++) {
      if (b === a) continue;
      if (dx[b] < eps) nx++;
      if (dy[b] < eps) ny++;
    }
    acc += digamma(nx + 1) + digamma(ny + 1);
  }
  return digamma(k) + digamma(n) - acc / n;
}

function checkRows(x: ArrayLike<number>, dx: number, n: number, name: string): void {
  if (!Number.isInteger(dx) || dx < 1 || x.length !== n * dx) throw new Error(`${name} must be n×${dx} with n = ${n}`);
}

/**
 * KSG estimate of I(X;Y) for X (n×dx) and Y (n×dy), row-major. Seeded, so repeated calls
 * agree exactly.
 */
export function ksgMutualInformation(
  x: ArrayLike<number>,
  dx: number,
  y: ArrayLike<number>,
  dy: number,
  opts: KsgOptions = {},
  control: JobControl = {},
): MiResult {
  const o = resolve(opts);
  const n0 = x.length / dx;
  checkRows(x, dx, n0, 'x');
  checkRows(y, dy, n0, 'y');
  const rows = chooseRows(n0, o.maxSamples, o.seed);
  const px = prepare(x, rows, dx, o, o.seed, 'x');
  const py = prepare(y, rows, dy, o, o.seed, 'y');
  const members = Int32Array.from({ length: rows.length }, (_, i) => i);
  const mi = ksgCore(px, py, members, o.k, control);
  control.onProgress?.({ fraction: 1 });
  return { mi, n: rows.length, k: o.k, dimsX: px.dims, dimsY: py.dims, projectedX: px.projected, projectedY: py.projected };
}

export interface ConditionalMiResult extends MiResult {
  /** I(X;Y | C = c) per class; NaN for classes with ≤ k points (skipped). */
  perClass: Float64Array;
  /** p(c) among the points used. */
  weights: Float64Array;
  /** Classes skipped because they had ≤ k points; the remaining weights are renormalised. */
  skipped: number[];
}

/**
 * Class-conditional I(X;Y|C) = Σ_c p(c) I(X;Y|C=c) (Craig et al.'s class-conditional
 * dependence). Standardisation and projection are fitted on all points, so every class
 * is measured in the same coordinates.
 */
export function conditionalMutualInformation(
  x: ArrayLike<number>,
  dx: number,
  y: ArrayLike<number>,
  dy: number,
  labels: Int32Array,
  numClasses: number,
  opts: KsgOptions = {},
  control: JobControl = {},
): ConditionalMiResult {
  const o = resolve(opts);
  const n0 = labels.length;
  checkRows(x, dx, n0, 'x');
  checkRows(y, dy, n0, 'y');
  const rows = chooseRows(n0, o.maxSamples, o.seed);
  const px = prepare(x, rows, dx, o, o.seed, 'x');
  const py = prepare(y, rows, dy, o, o.seed, 'y');
  const perClass = new Float64Array(numClasses).fill(NaN);
  const weights = new Float64Array(numClasses);
  const skipped: number[] = [];
  let total = 0;
  let usedWeight = 0;
  let done = 0; // fraction of points processed, for progress
  for (let c = 0; c < numClasses; c++) {
    const members: number[] = [];
    rows.forEach((i, r) => {
      if (labels[i] === c) members.push(r);
    });
    weights[c] = members.length / rows.length;
    if (members.length === 0) continue;
    if (members.length <= o.k) {
      skipped.push(c);
      continue;
    }
    perClass[c] = ksgCore(px, py, Int32Array.from(members), o.k, control, done, weights[c]);
    done += weights[c];
    total += weights[c] * perClass[c];
    usedWeight += weights[c];
  }
  const mi = usedWeight > 0 ? total / usedWeight : NaN;
  control.onProgress?.({ fraction: 1 });
  return { mi, perClass, weights, skipped, n: rows.length, k: o.k, dimsX: px.dims, dimsY: py.dims, projectedX: px.projected, projectedY: py.projected };
}

export interface LabelMiResult {
  mi: number;
  n: number;
  k: number;
  dims: number;
  projected: boolean;
  /** Classes dropped because they had ≤ k points (Ross's estimator needs k same-class neighbours). */
  skipped: number[];
}

/** I(X;C) for continuous X (n×d) and a discrete label, by Ross's (2014) mixed KSG variant. */
export function labelMutualInformation(
  x: ArrayLike<number>,
  d: number,
  labels: Int32Array,
  numClasses: number,
  opts: KsgOptions = {},
  control: JobControl = {},
): LabelMiResult {
  const o = resolve(opts);
  const n0 = labels.length;
  checkRows(x, d, n0, 'x');
  const rows0 = chooseRows(n0, o.maxSamples, o.seed);
  const counts = new Int32Array(numClasses);
  for (const i of rows0) counts[labels[i]]++;
  const skipped: number[] = [];
  for (let c = 0; c < numClasses; c++) if (counts[c] > 0 && counts[c] <= o.k) skipped.push(c);
  const rows = rows0.filter((i) => !skipped.includes(labels[i]));
  const n = rows.length;
  if (n === 0) return { mi: NaN, n: 0, k: o.k, dims: d, projected: false, skipped };
  const px = prepare(x, rows, d, o, o.seed, 'x');
  const lab = Int32Array.from(rows, (i) => labels[i]);
  const dist = new Float64Array(n);
  const top = new Float64Array(o.k);
  let acc = 0;
  for (let a = 0; a < n; a++) {
    if (a % CHECK_EVERY === 0) {
      throwIfAborted(control.signal);
      control.onProgress?.({ fraction: a / n });
    }
    top.fill(Infinity);
    for (let b = 0; b < n; b++) {
      if (b === a) continue;
      dist[b] = cheb(px.data, px.dims, a, b);
      if (lab[b] === lab[a]) pushSmallest(top, dist[b]);
    }
    const radius = top[o.k - 1];
    let m = 0;
    for (let b = 0; b < n; b++) if (b !== a && dist[b] <= radius) m++;
    acc += digamma(counts[lab[a]]) + digamma(m);
  }
  const mi = digamma(n) + digamma(o.k) - acc / n;
  control.onProgress?.({ fraction: 1 });
  return { mi, n, k: o.k, dims: px.dims, projected: px.projected, skipped };
}
