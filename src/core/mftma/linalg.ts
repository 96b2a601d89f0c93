/**
 * Small dense float64 linear algebra for MFTMA (spec §5, §3.1, §2): Householder QR,
 * a symmetric Jacobi eigensolver and a Lawson–Hanson NNLS. All matrices are row-major
 * Float64Array. The problems are tiny (≤ a few hundred columns), so clarity beats
 * blocking; float64 throughout because the 1e-6 targets of the fixtures need it (spec §11).
 */
import { jacobiEigen } from '../linalg/jacobi';

/** Thin Householder QR of an m×n row-major matrix (m ≥ n). */
export interface ThinQR {
  /** m×n with orthonormal columns, or null when not requested. */
  q: Float64Array | null;
  /** n×n upper triangular. */
  r: Float64Array;
}

/**
 * Thin QR by Householder reflections, signs normalised so that diag(R) ≥ 0 (the basis in
 * which the fixtures store reduced points and t-vectors, fixture README). Householder rather
 * than Gram–Schmidt because the last column of a centred point cloud is rank-deficient and
 * Gram–Schmidt would turn its round-off into a garbage unit direction.
 */
export function householderQR(a: Float64Array, m: number, n: number, wantQ = true): ThinQR {
  if (m < n) throw new Error(`householderQR needs rows ≥ cols (got ${m}×${n})`);
  const w = Float64Array.from(a);
  // Reflector j acts on rows j..m-1; stored as unit vectors of length m (zeros above j).
  const vs: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    let norm2 = 0;
    for (let i = j; i < m; i++) norm2 += w[i * n + j] * w[i * n + j];
    const v = new Float64Array(m);
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      vs.push(v);
      continue;
    }
    const x0 = w[j * n + j];
    const alpha = x0 >= 0 ? -norm : norm; // avoid cancellation in x0 − alpha
    for (let i = j; i < m; i++) v[i] = w[i * n + j];
    v[j] -= alpha;
    let vn2 = 0;
    for (let i = j; i < m; i++) vn2 += v[i] * v[i];
    const vn = Math.sqrt(vn2);
    if (vn === 0) {
      vs.push(new Float64Array(m));
      continue;
    }
    for (let i = j; i < m; i++) v[i] /= vn;
    for (let c = j; c < n; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i] * w[i * n + c];
      s *= 2;
      for (let i = j; i < m; i++) w[i * n + c] -= s * v[i];
    }
    vs.push(v);
  }
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let c = i; c < n; c++) r[i * n + c] = w[i * n + c];
  const sign = new Float64Array(n);
  for (let i = 0; i < n; i++) sign[i] = r[i * n + i] < 0 ? -1 : 1;
  for (let i = 0; i < n; i++) if (sign[i] < 0) for (let c = i; c < n; c++) r[i * n + c] = -r[i * n + c];
  let q: Float64Array | null = null;
  if (wantQ) {
    // Q = H_0 … H_{n-1} [I_n; 0]: apply reflectors in reverse to the first n unit columns.
    q = new Float64Array(m * n);
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    for (let j = n - 1; j >= 0; j--) {
      const v = vs[j];
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let i = j; i < m; i++) s += v[i] * q[i * n + c];
        if (s === 0) continue;
        s *= 2;
        for (let i = j; i < m; i++) q[i * n + c] -= s * v[i];
      }
    }
    for (let c = 0; c < n; c++) if (sign[c] < 0) for (let i = 0; i < m; i++) q[i * n + c] = -q[i * n + c];
  }
  return { q, r };
}

/** Eigenvalues (descending) of a symmetric n×n matrix by cyclic Jacobi rotations. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  // jacobiEigen works in place: hand it a copy.
  return jacobiEigen(Float64Array.from(a), n).values.sort().reverse();
}

/**
 * Least squares min |A x − b| for an m×k matrix given as k columns (each length m), via
 * Householder QR of the columns. Returns null when a pivot is numerically zero (the
 * chosen columns are dependent), which NNLS treats as "do not add this column".
 */
function leastSquaresColumns(cols: Float64Array[], b: Float64Array, m: number): Float64Array | null {
  const k = cols.length;
  const a = new Float64Array(m * k);
  let scale = 0;
  for (let c = 0; c < k; c++) for (let i = 0; i < m; i++) {
    a[i * k + c] = cols[c][i];
    scale = Math.max(scale, Math.abs(cols[c][i]));
  }
  const y = Float64Array.from(b);
  for (let j = 0; j < k; j++) {
    let norm2 = 0;
    for (let i = j; i < m; i++) norm2 += a[i * k + j] * a[i * k + j];
    const norm = Math.sqrt(norm2);
    if (norm <= 1e-13 * Math.max(scale, 1e-300)) return null;
    const x0 = a[j * k + j];
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m);
    for (let i = j; i < m; i++) v[i] = a[i * k + j];
    v[j] -= alpha;
    let vn2 = 0;
    for (let i = j; i < m; i++) vn2 += v[i] * v[i];
    const vn = Math.sqrt(vn2);
    for (let i = j; i < m; i++) v[i] /= vn;
    for (let c = j; c < k; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i] * a[i * k + c];
      s *= 2;
      for (let i = j; i < m; i++) a[i * k + c] -= s * v[i];
    }
    let s = 0;
    for (let i = j; i < m; i++) s += v[i] * y[i];
    s *= 2;
    for (let i = j; i < m; i++) y[i] -= s * v[i];
  }
  const x = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    let s = y[j];
    for (let c = j + 1; c < k; c++) s -= a[j * k + c] * x[c];
    x[j] = s / a[j * k + j];
  }
  return x;
}

export interface NnlsResult {
  /** Non-negative coefficients, length n. */
  x: Float64Array;
  /** Outer iterations used. */
  iterations: number;
}

/**
 * Lawson–Hanson active-set NNLS: min_{x ≥ 0} |A x − b|, A given as n columns of length m.
 * Exact (finite) up to round-off, which the spec §11 recommends over iterative QP solvers:
 * it reproduced the reference's cvxopt capacities to 5e-12.
 */
export function nnls(cols: Float64Array[], b: Float64Array, m: number, maxOuter = 0): NnlsResult {
  const n = cols.length;
  const limit = maxOuter > 0 ? maxOuter : 3 * n + 10;
  const x = new Float64Array(n);
  const passive = new Uint8Array(n);
  const residual = Float64Array.from(b);
  const w = new Float64Array(n);
  let colScale = 0;
  for (const c of cols) {
    let s = 0;
    for (let i = 0; i < m; i++) s += c[i] * c[i];
    colScale = Math.max(colScale, Math.sqrt(s));
  }
  let bNorm = 0;
  for (let i = 0; i < m; i++) bNorm += b[i] * b[i];
  // Dual-feasibility tolerance: a few hundred ulps of the largest possible |A^T r|.
  const tol = 1e-13 * Math.max(1, colScale) * Math.max(1, Math.sqrt(bNorm));
  const banned = new Uint8Array(n); // columns that proved dependent since x last changed
  let iterations = 0;
  const updateResidual = () => {
    residual.set(b);
    for (let j = 0; j < n; j++) {
      if (x[j] === 0) continue;
      const c = cols[j];
      const xj = x[j];
      for (let i = 0; i < m; i++) residual[i] -= xj * c[i];
    }
  };
  while (iterations < limit) {
    for (let j = 0; j < n; j++) {
      const c = cols[j];
      let s = 0;
      for (let i = 0; i < m; i++) s += c[i] * residual[i];
      w[j] = s;
    }
    let best = -1;
    let bestW = tol;
    for (let j = 0; j < n; j++) if (!passive[j] && !banned[j] && w[j] > bestW) {
      bestW = w[j];
      best = j;
    }
    if (best < 0) break;
    iterations++;
    passive[best] = 1;
    let fresh = true;
    for (;;) {
      const idx: number[] = [];
      for (let j = 0; j < n; j++) if (passive[j]) idx.push(j);
      const z = leastSquaresColumns(idx.map((j) => cols[j]), b, m);
      const newPos = idx.indexOf(best);
      if (z === null || (fresh && z[newPos] <= 0)) {
        // Round-off made the entering column useless (dependent or wrong sign): undo and
        // forbid it until x changes, otherwise Lawson–Hanson can cycle.
        if (fresh) {
          passive[best] = 0;
          banned[best] = 1;
          break;
        }
        // Dependent after removals: drop the smallest coefficient and retry.
        let drop = idx[0];
        for (const j of idx) if (x[j] < x[drop]) drop = j;
        passive[drop] = 0;
        x[drop] = 0;
        continue;
      }
      fresh = false;
      let allPositive = true;
      for (let p = 0; p < idx.length; p++) if (z[p] <= 0) allPositive = false;
      if (allPositive) {
        x.fill(0);
        for (let p = 0; p < idx.length; p++) x[idx[p]] = z[p];
        banned.fill(0);
        break;
      }
      // Step from x towards z until the first passive coefficient hits zero.
      let step = Infinity;
      let limiting = -1;
      for (let p = 0; p < idx.length; p++) {
        if (z[p] <= 0) {
          const j = idx[p];
          const s = x[j] / (x[j] - z[p]);
          if (s < step) {
            step = s;
            limiting = j;
          }
        }
      }
      for (let p = 0; p < idx.length; p++) {
        const j = idx[p];
        x[j] += step * (z[p] - x[j]);
        // The limiting coefficient is zero in exact arithmetic; force it so the loop shrinks.
        if (j === limiting || x[j] <= 1e-15 * (1 + Math.abs(z[p]))) {
          x[j] = 0;
          passive[j] = 0;
        }
      }
      banned.fill(0);
    }
    updateResidual();
  }
  return { x, iterations };
}
