/**
 * Small dense float64 linear algebra for the collision search (spec collision.md §2,
 * "Regularisation"): m ≤ 10, so hand-written routines beat any library round trip.
 */

/**
 * Orthonormal basis of the row space of the rows×cols matrix M (row-major), by modified
 * Gram–Schmidt with a second re-orthogonalisation pass ("twice is enough"). Rows whose
 * remainder is ≤ rtol · (largest row norm) are dependent and dropped, which is what makes
 * rank-deficient maps (fixture `linear_rankdef_noproj`) come out without NaN.
 */
export function rowSpaceBasis(M: ArrayLike<number>, rows: number, cols: number, rtol = 1e-10): { basis: Float64Array; rank: number } {
  const out: Float64Array[] = [];
  let maxNorm = 0;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += M[i * cols + j] ** 2;
    maxNorm = Math.max(maxNorm, Math.sqrt(s));
  }
  for (let i = 0; i < rows; i++) {
    const v = new Float64Array(cols);
    for (let j = 0; j < cols; j++) v[j] = M[i * cols + j];
    for (let pass = 0; pass < 2; pass++) {
      for (const b of out) {
        let d = 0;
        for (let j = 0; j < cols; j++) d += b[j] * v[j];
        for (let j = 0; j < cols; j++) v[j] -= d * b[j];
      }
    }
    let n = 0;
    for (let j = 0; j < cols; j++) n += v[j] * v[j];
    n = Math.sqrt(n);
    if (n <= rtol * maxNorm || n === 0) continue;
    for (let j = 0; j < cols; j++) v[j] /= n;
    out.push(v);
  }
  const basis = new Float64Array(out.length * cols);
  out.forEach((b, i) => basis.set(b, i * cols));
  return { basis, rank: out.length };
}

/** C = A·B for row-major A (r×k) and B (k×c). */
export function matmul(A: ArrayLike<number>, B: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let l = 0; l < k; l++) {
      const a = A[i * k + l];
      if (a === 0) continue;
      for (let j = 0; j < c; j++) C[i * c + j] += a * B[l * c + j];
    }
  }
  return C;
}

/**
 * Solves (M + λI) y = r for a symmetric PSD m×m matrix M by Cholesky, with the relative
 * ridge λ = ridgeRel · tr(M)/m. M = J Jᵀ is singular for dead ReLUs, layers narrower than m
 * or rank-deficient maps (spec pitfall 3); with a consistent right-hand side the small ridge
 * approximates the minimum-norm (pseudo-inverse) solution. A non-positive pivot retries with
 * λ ×= 100, up to 3 times (spec §2). Returns null if M is zero or all retries fail.
 */
export function ridgeSolve(M: ArrayLike<number>, r: ArrayLike<number>, m: number, ridgeRel: number): Float64Array | null {
  let trace = 0;
  for (let i = 0; i < m; i++) trace += M[i * m + i];
  if (!(trace > 0)) return null;
  let lambda = (ridgeRel * trace) / m;
  const L = new Float64Array(m * m);
  for (let attempt = 0; attempt <= 3; attempt++, lambda *= 100) {
    let ok = true;
    L.fill(0);
    for (let i = 0; i < m && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = M[i * m + j] + (i === j ? lambda : 0);
        for (let k = 0; k < j; k++) s -= L[i * m + k] * L[j * m + k];
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          L[i * m + i] = Math.sqrt(s);
        } else {
          L[i * m + j] = s / L[j * m + j];
        }
      }
    }
    if (!ok) continue;
    const y = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = r[i];
      for (let k = 0; k < i; k++) s -= L[i * m + k] * y[k];
      y[i] = s / L[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < m; k++) s -= L[k * m + i] * y[k];
      y[i] = s / L[i * m + i];
    }
    return y;
  }
  return null;
}
