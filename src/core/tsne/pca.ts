/**
 * PCA to ≤ 50 dimensions before t-SNE (specs/tsne.md §2.1).
 *
 * The basis is fitted on the CLEAN rows only and then applied to every row (clean and
 * adversarial), so it does not move with ε — that is what makes warm starts stable. Each
 * component is sign-fixed so that its largest-|loading| entry is positive (ties → lowest
 * index), which makes the projection (and the PCA initialisation of t-SNE) deterministic.
 *
 * Numerics: float64 covariance in JS, then a symmetric eigendecomposition:
 *  - cyclic Jacobi rotations for d ≤ JACOBI_MAX_DIM (exact to round-off, O(d³) per sweep);
 *  - otherwise seeded subspace iteration on the covariance (the "randomised SVD" of §2.1:
 *    a few multiply + orthonormalise rounds) followed by a Rayleigh–Ritz step solved by Jacobi.
 * Cost is dominated by the covariance, n·d²/2 multiply-adds (0.6 G at n = 2000, d = 784).
 */
import { jacobiEigen } from '../linalg/jacobi';
import { createRng } from '../random';
import { LabError } from '../types';

/** Above this input dimension full Jacobi (≈ 2d³ flops per sweep, ~10 sweeps) gets too slow in JS. */
export const JACOBI_MAX_DIM = 256;
/** t-SNE input dimension of the lab (spec §2.1: D = 50). */
export const PCA_DEFAULT_COMPONENTS = 50;

export interface PcaOptions {
  /** Number of components kept (clamped to the input dimension). Default 50. */
  nComponents?: number;
  /** 'auto' picks Jacobi for d ≤ JACOBI_MAX_DIM, subspace iteration otherwise. */
  method?: 'auto' | 'jacobi' | 'subspace';
  /** Seed of the subspace iteration's start block. */
  seed?: number;
  /** Subspace iteration rounds (cap). Default 60. */
  maxIter?: number;
}

export interface PcaModel {
  /** Input dimension. */
  d: number;
  /** Number of components k. */
  k: number;
  /** Column means of the clean rows, length d. */
  mean: Float64Array;
  /** Components, row-major k × d, orthonormal rows, sign-fixed. */
  components: Float64Array;
  /** Variance along each component (eigenvalues of the sample covariance, n−1 denominator), descending. */
  variances: Float64Array;
}


/** Modified Gram–Schmidt on the l columns of q (d × l, row-major), in place. */
function orthonormaliseColumns(q: Float64Array, d: number, l: number): void {
  for (let j = 0; j < l; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += q[r * l + i] * q[r * l + j];
      for (let r = 0; r < d; r++) q[r * l + j] -= dot * q[r * l + i];
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += q[r * l + j] * q[r * l + j];
    norm = Math.sqrt(norm);
    // A rank-deficient covariance can zero a column; any unit vector orthogonal later is fine,
    // its eigenvalue is then ~0 and it sorts last.
    const inv = norm > 1e-300 ? 1 / norm : 0;
    for (let r = 0; r < d; r++) q[r * l + j] *= inv;
  }
}

/** c (d × d) times q (d × l) → d × l. */
function mulSym(c: Float64Array, q: Float64Array, d: number, l: number): Float64Array {
  const out = new Float64Array(d * l);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const cik = c[i * d + k];
      if (cik === 0) continue;
      for (let j = 0; j < l; j++) out[i * l + j] += cik * q[k * l + j];
    }
  }
  return out;
}

/** Top-k eigenpairs by seeded subspace iteration + Rayleigh–Ritz. Vectors returned as rows (k × d). */
function subspaceEigen(c: Float64Array, d: number, k: number, seed: number, maxIter: number) {
  // Oversampling by 10 columns makes convergence depend on λ_{k+11}/λ_k rather than λ_{k+1}/λ_k.
  const l = Math.min(d, k + 10);
  const rng = createRng(seed);
  let q: Float64Array = new Float64Array(d * l);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  orthonormaliseColumns(q, d, l);
  let prev: Float64Array = new Float64Array(k);
  let ritz: { values: Float64Array; vectors: Float64Array } = { values: new Float64Array(l), vectors: new Float64Array(l * l) };
  for (let it = 0; it < maxIter; it++) {
    const z = mulSym(c, q, d, l);
    // Rayleigh–Ritz on the current block: B = Qᵀ C Q.
    const b = new Float64Array(l * l);
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < l; j++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += q[r * l + i] * z[r * l + j];
        b[i * l + j] = s;
      }
    }
    for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) b[i * l + j] = b[j * l + i] = 0.5 * (b[i * l + j] + b[j * l + i]);
    ritz = jacobiEigen(b, l);
    const sorted = Array.from(ritz.values).sort((x, y) => y - x).slice(0, k);
    let change = 0;
    for (let i = 0; i < k; i++) change = Math.max(change, Math.abs(sorted[i] - prev[i]) / Math.max(Math.abs(sorted[0]), 1e-300));
    prev = Float64Array.from(sorted);
    if (it > 2 && change < 1e-12) break;
    orthonormaliseColumns(z, d, l);
    q = z;
  }
  // Ritz vectors Q·W (columns), returned as rows.
  const vecs = new Float64Array(l * d);
  for (let j = 0; j < l; j++) {
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let i = 0; i < l; i++) s += q[r * l + i] * ritz.vectors[i * l + j];
      vecs[j * d + r] = s;
    }
  }
  return { values: ritz.values, rows: vecs, l };
}

/**
 * Fit PCA on the rows listed in `fitRows` (the clean rows) of `data` (nRows × d, row-major).
 */
export function fitPca(data: Float32Array | Float64Array, d: number, fitRows: Int32Array, opts: PcaOptions = {}): PcaModel {
  if (!(d >= 1) || data.length % d !== 0) throw new LabError(`pca: data length ${data.length} is not a multiple of d = ${d}`);
  const nRows = data.length / d;
  const n = fitRows.length;
  if (n < 2) throw new LabError(`pca: need at least 2 clean rows to fit, got ${n}`);
  for (let i = 0; i < n; i++) if (fitRows[i] < 0 || fitRows[i] >= nRows) throw new LabError(`pca: fit row ${fitRows[i]} outside ${nRows} rows`);
  const k = Math.max(1, Math.min(opts.nComponents ?? PCA_DEFAULT_COMPONENTS, d));
  const method = opts.method ?? 'auto';

  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const base = fitRows[i] * d;
    for (let c = 0; c < d; c++) mean[c] += data[base + c];
  }
  for (let c = 0; c < d; c++) mean[c] /= n;

  // Fewer fit rows than dimensions (wide conv layers): the d × d covariance would cost
  // n·d² time and d² memory (16,384-wide layer: 2 GB). Its non-zero spectrum equals that of
  // the n × n Gram matrix of the centred rows, and each component is Xcᵀu / ‖Xcᵀu‖.
  if (method === 'auto' && n < d && d > JACOBI_MAX_DIM) return fitPcaGram(data, d, fitRows, mean, Math.min(k, n - 1), opts);

  // Upper triangle accumulated row by row (cache friendly), then mirrored.
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const base = fitRows[i] * d;
    for (let c = 0; c < d; c++) row[c] = data[base + c] - mean[c];
    for (let a = 0; a < d; a++) {
      const xa = row[a];
      if (xa === 0) continue;
      const off = a * d;
      for (let b = a; b < d; b++) cov[off + b] += xa * row[b];
    }
  }
  const denom = 1 / (n - 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] * denom;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }

  let values: Float64Array;
  let rows: Float64Array; // m × d eigenvectors as rows
  let m: number;
  if (method === 'jacobi' || (method === 'auto' && d <= JACOBI_MAX_DIM)) {
    const e = jacobiEigen(cov, d);
    values = e.values;
    m = d;
    rows = new Float64Array(d * d);
    for (let j = 0; j < d; j++) for (let r = 0; r < d; r++) rows[j * d + r] = e.vectors[r * d + j];
  } else {
    const e = subspaceEigen(cov, d, k, opts.seed ?? 0x5eed, opts.maxIter ?? 60);
    values = e.values;
    rows = e.rows;
    m = e.l;
  }

  // Descending eigenvalue, ties by index (deterministic order).
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => values[y] - values[x] || x - y);
  const components = new Float64Array(k * d);
  const variances = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const src = order[c];
    variances[c] = Math.max(0, values[src]);
    let best = 0;
    for (let r = 1; r < d; r++) if (Math.abs(rows[src * d + r]) > Math.abs(rows[src * d + best])) best = r;
    const sign = rows[src * d + best] < 0 ? -1 : 1;
    for (let r = 0; r < d; r++) components[c * d + r] = sign * rows[src * d + r];
  }
  return { d, k, mean, components, variances };
}

/** Largest Gram matrix decomposed by Jacobi; beyond it, subspace iteration on the Gram matrix. */
const GRAM_JACOBI_MAX = 400;

function fitPcaGram(data: Float32Array | Float64Array, d: number, fitRows: Int32Array, mean: Float64Array, k: number, opts: PcaOptions): PcaModel {
  const n = fitRows.length;
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const base = fitRows[i] * d;
    for (let c = 0; c < d; c++) xc[i * d + c] = data[base + c] - mean[c];
  }
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += xc[i * d + c] * xc[j * d + c];
      gram[i * n + j] = gram[j * n + i] = s / (n - 1);
    }
  }
  let values: Float64Array;
  let vecs: Float64Array; // eigenvectors of the Gram matrix as rows (m × n)
  let m: number;
  if (n <= GRAM_JACOBI_MAX) {
    const e = jacobiEigen(gram, n);
    values = e.values;
    m = n;
    vecs = new Float64Array(n * n);
    for (let j = 0; j < n; j++) for (let r = 0; r < n; r++) vecs[j * n + r] = e.vectors[r * n + j];
  } else {
    const e = subspaceEigen(gram, n, k, opts.seed ?? 0x5eed, opts.maxIter ?? 60);
    values = e.values;
    vecs = e.rows;
    m = e.l;
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => values[y] - values[x] || x - y);
  const components = new Float64Array(k * d);
  const variances = new Float64Array(k);
  const v = new Float64Array(d);
  for (let c = 0; c < k; c++) {
    const src = order[c];
    variances[c] = Math.max(0, values[src]);
    v.fill(0);
    for (let i = 0; i < n; i++) {
      const u = vecs[src * n + i];
      if (u === 0) continue;
      for (let r = 0; r < d; r++) v[r] += u * xc[i * d + r];
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += v[r] * v[r];
    norm = Math.sqrt(norm);
    let best = 0;
    for (let r = 1; r < d; r++) if (Math.abs(v[r]) > Math.abs(v[best])) best = r;
    const sign = v[best] < 0 ? -1 : 1;
    // A zero-variance direction has no defined component; it stays zero (projects to 0).
    for (let r = 0; r < d; r++) components[c * d + r] = norm > 0 ? (sign * v[r]) / norm : 0;
  }
  return { d, k, mean, components, variances };
}

/** Project all rows (clean and adversarial) of `data` with a fitted basis → nRows × k float32. */
export function projectPca(model: PcaModel, data: Float32Array | Float64Array): Float32Array {
  const { d, k, mean, components } = model;
  if (data.length % d !== 0) throw new LabError(`pca: data length ${data.length} is not a multiple of d = ${d}`);
  const nRows = data.length / d;
  const out = new Float32Array(nRows * k);
  const row = new Float64Array(d);
  for (let i = 0; i < nRows; i++) {
    for (let c = 0; c < d; c++) row[c] = data[i * d + c] - mean[c];
    for (let j = 0; j < k; j++) {
      let s = 0;
      const off = j * d;
      for (let c = 0; c < d; c++) s += components[off + c] * row[c];
      out[i * k + j] = s;
    }
  }
  return out;
}
