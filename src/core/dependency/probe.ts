/**
 * Closed-form ridge linear probe: how linearly decodable is the label from a layer's
 * activations? Craig et al., "A Theoretical Perspective on Subnetwork Contributions to
 * Adversarial Robustness", compare layers (and subnetworks) by linear probes; a
 * closed-form probe has no optimiser settings, so differences between layers are not
 * artefacts of training the probe.
 *
 * Model: one-vs-rest least squares on one-hot targets Y (n×K) with an unpenalised
 * intercept. With column-centred X_c, Y_c,
 *     W = argmin ‖Y_c − X_c W‖² + λ‖W‖²  =  (X_cᵀX_c + λI)⁻¹ X_cᵀY_c        (primal, d×d)
 *       =  X_cᵀ (X_c X_cᵀ + λI)⁻¹ Y_c                                     (dual, n×n)
 *     b = ȳ − Wᵀx̄,    prediction = argmax_c (xᵀW + b)_c.
 * Both forms are the same W; we solve the smaller system by Cholesky in float64.
 * λ is chosen by seeded k-fold cross-validation over a log grid, by validation mean
 * squared error on the one-hot targets (smooth in λ; accuracy is piecewise constant and
 * ties on small folds). Validation accuracy is reported too.
 */
import { createRng, shuffleInPlace } from '../random';
import { LabError, throwIfAborted, type JobControl } from '../types';
import { choleskyInPlace, choleskySolveInPlace } from './linalg';

export interface RidgeFit {
  /** d×K row-major. */
  weights: Float64Array;
  /** K intercepts. */
  bias: Float64Array;
  numFeatures: number;
  numClasses: number;
  lambda: number;
  solver: 'primal' | 'dual';
}

export interface RidgeFitOptions {
  /** Force a solver; default primal when d ≤ n, dual otherwise. */
  solver?: 'primal' | 'dual';
}

/**
 * The λ-independent part of a ridge fit on some rows: centred data and the Gram matrix
 * (XᵀX for primal, XXᵀ for dual). Cross-validation builds it once per fold and solves
 * it for every λ, so the O(n d min(n, d)) product is not repeated per grid point.
 */
export interface RidgeSystem {
  n: number;
  d: number;
  K: number;
  solver: 'primal' | 'dual';
  xm: Float64Array;
  ym: Float64Array;
  xc: Float64Array;
  yc: Float64Array;
  /** d×d (primal) or n×n (dual), without the ridge term. */
  gram: Float64Array;
  /** X_cᵀ Y_c (d×K); primal only. */
  rhs: Float64Array | null;
}

/**
 * Largest system (min(n, d)) the closed form solves. Building the Gram matrix costs
 * n·d·m and Cholesky m³/3 with m = min(n, d); at m = 2048 that is several seconds per
 * fit in JS and the CV grid repeats the solve 45 times. Wider layers should be pooled
 * or randomly projected first, and long runs subsampled — the caller says so in the UI.
 */
export const RIDGE_MAX_SYSTEM = 2048;

/** Centre rows `rows` (default all) of X (n×d) and the one-hot labels and form the Gram matrix. */
export function prepareRidge(
  x: Float32Array | Float64Array,
  labels: Int32Array,
  numFeatures: number,
  numClasses: number,
  opts: RidgeFitOptions & { rows?: Int32Array } = {},
): RidgeSystem {
  const d = numFeatures;
  const K = numClasses;
  if (x.length !== labels.length * d) throw new Error('x must be n×d with one label per row');
  const rows = opts.rows ?? Int32Array.from({ length: labels.length }, (_, i) => i);
  const n = rows.length;
  if (n < 1) throw new Error('no rows to fit');
  const xm = new Float64Array(d);
  const ym = new Float64Array(K);
  for (const i of rows) {
    for (let j = 0; j < d; j++) xm[j] += x[i * d + j];
    ym[labels[i]] += 1;
  }
  for (let j = 0; j < d; j++) xm[j] /= n;
  for (let c = 0; c < K; c++) ym[c] /= n;
  const xc = new Float64Array(n * d);
  const yc = new Float64Array(n * K);
  rows.forEach((i, r) => {
    for (let j = 0; j < d; j++) xc[r * d + j] = x[i * d + j] - xm[j];
    for (let c = 0; c < K; c++) yc[r * K + c] = (labels[i] === c ? 1 : 0) - ym[c];
  });
  const solver = opts.solver ?? (d <= n ? 'primal' : 'dual');
  const m = solver === 'primal' ? d : n;
  if (m > RIDGE_MAX_SYSTEM) {
    throw new LabError(`ridge probe system of size ${m} exceeds ${RIDGE_MAX_SYSTEM}; pool or project the layer to fewer features, or use fewer samples`);
  }
  if (solver === 'primal') {
    const gram = new Float64Array(d * d);
    const rhs = new Float64Array(d * K);
    for (let r = 0; r < n; r++) {
      for (let p = 0; p < d; p++) {
        const v = xc[r * d + p];
        if (v === 0) continue; // ReLU activations are sparse
        for (let q = 0; q <= p; q++) gram[p * d + q] += v * xc[r * d + q];
        for (let c = 0; c < K; c++) rhs[p * K + c] += v * yc[r * K + c];
      }
    }
    for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) gram[q * d + p] = gram[p * d + q];
    return { n, d, K, solver, xm, ym, xc, yc, gram, rhs };
  }
  const gram = new Float64Array(n * n);
  for (let r = 0; r < n; r++)
    for (let t = 0; t <= r; t++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += xc[r * d + j] * xc[t * d + j];
      gram[r * n + t] = v;
      gram[t * n + r] = v;
    }
  return { n, d, K, solver, xm, ym, xc, yc, gram, rhs: null };
}

/** Solve a prepared system for one λ > 0. */
export function solveRidge(sys: RidgeSystem, lambda: number): RidgeFit {
  if (!(lambda > 0)) throw new Error('lambda must be > 0');
  const { n, d, K, xm, ym, xc, yc } = sys;
  const m = sys.solver === 'primal' ? d : n;
  const a = sys.gram.slice();
  for (let p = 0; p < m; p++) a[p * m + p] += lambda;
  choleskyInPlace(a, m);
  let w: Float64Array;
  if (sys.solver === 'primal') {
    w = sys.rhs!.slice();
    choleskySolveInPlace(a, d, w, K);
  } else {
    const alpha = yc.slice();
    choleskySolveInPlace(a, n, alpha, K);
    w = new Float64Array(d * K);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < d; j++) {
        const v = xc[r * d + j];
        if (v === 0) continue;
        for (let c = 0; c < K; c++) w[j * K + c] += v * alpha[r * K + c];
      }
  }
  const bias = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    let s = ym[c];
    for (let j = 0; j < d; j++) s -= xm[j] * w[j * K + c];
    bias[c] = s;
  }
  return { weights: w, bias, numFeatures: d, numClasses: K, lambda, solver: sys.solver };
}

/** Fit the ridge probe for one λ > 0 on rows `rows` (default all) of X (n×d). */
export function fitRidge(
  x: Float32Array | Float64Array,
  labels: Int32Array,
  numFeatures: number,
  numClasses: number,
  lambda: number,
  opts: RidgeFitOptions & { rows?: Int32Array } = {},
): RidgeFit {
  if (!(lambda > 0)) throw new Error('lambda must be > 0');
  return solveRidge(prepareRidge(x, labels, numFeatures, numClasses, opts), lambda);
}

/** Probe scores xᵀW + b for every row of X (n×d), as n×K float64. */
export function ridgeScores(fit: RidgeFit, x: Float32Array | Float64Array, rows?: Int32Array): Float64Array {
  const d = fit.numFeatures;
  const K = fit.numClasses;
  const idx = rows ?? Int32Array.from({ length: x.length / d }, (_, i) => i);
  const out = new Float64Array(idx.length * K);
  idx.forEach((i, r) => {
    for (let c = 0; c < K; c++) out[r * K + c] = fit.bias[c];
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j];
      if (v === 0) continue;
      for (let c = 0; c < K; c++) out[r * K + c] += v * fit.weights[j * K + c];
    }
  });
  return out;
}

/** Arg-max class of the probe scores. */
export function ridgePredict(fit: RidgeFit, x: Float32Array | Float64Array, rows?: Int32Array): Int32Array {
  const K = fit.numClasses;
  const s = ridgeScores(fit, x, rows);
  const n = s.length / K;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (s[r * K + c] > s[r * K + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Default λ grid 10⁻⁴ … 10⁴: spans "almost OLS" to "almost the class-prior predictor" for standardised-scale activations. */
export const DEFAULT_LAMBDAS: readonly number[] = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3, 1e4];

export interface RidgeProbeOptions extends RidgeFitOptions {
  lambdas?: readonly number[];
  /** Number of CV folds (default 5, capped at n). */
  folds?: number;
  /** Seed for the fold assignment (derive it from the master seed with deriveSeed). */
  seed?: number;
}

export interface RidgeProbe extends RidgeFit {
  cv: {
    lambdas: Float64Array;
    /** Mean validation MSE on one-hot targets per λ (the selection criterion). */
    mse: Float64Array;
    /** Mean validation accuracy per λ. */
    accuracy: Float64Array;
  };
  /** Accuracy of the final (all-data) fit on its own training data. */
  trainAccuracy: number;
  /** CV accuracy at the chosen λ: the honest "linear decodability" number. */
  cvAccuracy: number;
  /**
   * The chosen λ is the smallest or largest of the grid, so the CV optimum may lie
   * outside it (the probe is then over- or under-regularised); worth widening the grid.
   */
  lambdaAtGridEdge: boolean;
}

/** Ridge probe with λ chosen by k-fold CV (smallest MSE; ties go to the larger λ), refit on all rows. */
export function ridgeProbe(
  x: Float32Array | Float64Array,
  labels: Int32Array,
  numFeatures: number,
  numClasses: number,
  opts: RidgeProbeOptions = {},
  control: JobControl = {},
): RidgeProbe {
  const n = labels.length;
  const K = numClasses;
  const lambdas = Float64Array.from(opts.lambdas ?? DEFAULT_LAMBDAS);
  if (lambdas.length === 0) throw new Error('need at least one lambda');
  const folds = Math.min(opts.folds ?? 5, n);
  if (folds < 2) throw new Error('need at least 2 samples and 2 folds for cross-validation');
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(perm, createRng(opts.seed ?? 0));
  const mse = new Float64Array(lambdas.length);
  const accuracy = new Float64Array(lambdas.length);
  for (let f = 0; f < folds; f++) {
    const lo = Math.floor((f * n) / folds);
    const hi = Math.floor(((f + 1) * n) / folds);
    const val = perm.slice(lo, hi);
    const train = Int32Array.from([...perm.slice(0, lo), ...perm.slice(hi)]);
    const sys = prepareRidge(x, labels, numFeatures, K, { ...opts, rows: train });
    lambdas.forEach((lambda, li) => {
      throwIfAborted(control.signal);
      control.onProgress?.({ fraction: (f * lambdas.length + li) / (folds * lambdas.length + 1), message: `fold ${f + 1}/${folds}, λ = ${lambda}` });
      const fit = solveRidge(sys, lambda);
      const s = ridgeScores(fit, x, val);
      let err = 0;
      let ok = 0;
      val.forEach((i, r) => {
        let best = 0;
        for (let c = 0; c < K; c++) {
          const t = (labels[i] === c ? 1 : 0) - s[r * K + c];
          err += t * t;
          if (s[r * K + c] > s[r * K + best]) best = c;
        }
        if (best === labels[i]) ok++;
      });
      mse[li] += err / (val.length * K) / folds;
      accuracy[li] += ok / val.length / folds;
    });
  }
  let bestIdx = 0;
  for (let li = 1; li < lambdas.length; li++) {
    if (mse[li] < mse[bestIdx] || (mse[li] === mse[bestIdx] && lambdas[li] > lambdas[bestIdx])) bestIdx = li;
  }
  throwIfAborted(control.signal);
  const fit = fitRidge(x, labels, numFeatures, K, lambdas[bestIdx], opts);
  const pred = ridgePredict(fit, x);
  let ok = 0;
  for (let i = 0; i < n; i++) if (pred[i] === labels[i]) ok++;
  control.onProgress?.({ fraction: 1 });
  const lambdaAtGridEdge = lambdas.length > 1 && (lambdas[bestIdx] === Math.min(...lambdas) || lambdas[bestIdx] === Math.max(...lambdas));
  return { ...fit, cv: { lambdas, mse, accuracy }, trainAccuracy: ok / n, cvAccuracy: accuracy[bestIdx], lambdaAtGridEdge };
}
