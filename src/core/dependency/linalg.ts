/**
 * Small dense float64 linear algebra for the closed-form probes. Matrices are row-major
 * Float64Array. Everything is O(m³) on an m×m system, which is why the probe picks the
 * smaller of the primal (d×d) and dual (n×n) systems.
 */

/**
 * In-place Cholesky factorisation A = L Lᵀ of a symmetric positive-definite m×m matrix;
 * the lower triangle of `a` is overwritten with L (the upper triangle is left as is).
 * Throws if a pivot is not positive (the ridge term λ > 0 prevents this in exact maths).
 */
export function choleskyInPlace(a: Float64Array, m: number): void {
  for (let j = 0; j < m; j++) {
    let s = a[j * m + j];
    for (let p = 0; p < j; p++) s -= a[j * m + p] * a[j * m + p];
    if (!(s > 0)) throw new Error(`matrix is not positive definite (pivot ${j} = ${s})`);
    const ljj = Math.sqrt(s);
    a[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let t = a[i * m + j];
      for (let p = 0; p < j; p++) t -= a[i * m + p] * a[j * m + p];
      a[i * m + j] = t / ljj;
    }
  }
}

/** Solve (L Lᵀ) X = B in place for B (m×r), with L from choleskyInPlace. */
export function choleskySolveInPlace(l: Float64Array, m: number, b: Float64Array, r: number): void {
  for (let c = 0; c < r; c++) {
    // Forward substitution L z = b.
    for (let i = 0; i < m; i++) {
      let s = b[i * r + c];
      for (let p = 0; p < i; p++) s -= l[i * m + p] * b[p * r + c];
      b[i * r + c] = s / l[i * m + i];
    }
    // Back substitution Lᵀ x = z.
    for (let i = m - 1; i >= 0; i--) {
      let s = b[i * r + c];
      for (let p = i + 1; p < m; p++) s -= l[p * m + i] * b[p * r + c];
      b[i * r + c] = s / l[i * m + i];
    }
  }
}
