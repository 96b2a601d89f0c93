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
  // Reflector j acts on rows j..m-1; row j of `vs` holds it as a unit vector (zeros above j,
  // an all-zero row for a zero column). One flat buffer: this runs in the inner loop of the
  // Stiefel CG (retraction), where per-column allocations cost more than the arithmetic.
  const vs = new Float64Array(n * m);
  for (let j = 0; j < n; j++) {
    let norm2 = 0;
    for (let i = j; i < m; i++) norm2 += w[i * n + j] * w[i * n + j];
    const norm = Math.sqrt(norm2);
    if (norm === 0) continue;
    const off = j * m;
    const x0 = w[j * n + j];
    const alpha = x0 >= 0 ? -norm : norm; // avoid cancellation in x0 − alpha
    for (let i = j; i < m; i++) vs[off + i] = w[i * n + j];
    vs[off + j] -= alpha;
    let vn2 = 0;
    for (let i = j; i < m; i++) vn2 += vs[off + i] * vs[off + i];
    const vn = Math.sqrt(vn2);
    if (vn === 0) {
      vs.fill(0, off, off + m);
      continue;
    }
    for (let i = j; i < m; i++) vs[off + i] /= vn;
    for (let c = j; c < n; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += vs[off + i] * w[i * n + c];
      s *= 2;
      for (let i = j; i < m; i++) w[i * n + c] -= s * vs[off + i];
    }
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
      const off = j * m;
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let i = j; i < m; i++) s += vs[off + i] * q[i * n + c];
        if (s === 0) continue;
        s *= 2;
        for (let i = j; i < m; i++) q[i * n + c] -= s * vs[off + i];
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
 * Householder QR of a growing set of columns, for the least-squares subproblems of NNLS.
 * Lawson–Hanson adds one column per outer iteration and usually keeps it, so re-factoring the
 * whole passive set every time (O(m k²) per subproblem, O(m k³) per solve) wastes almost all
 * of its work: appending a column costs O(m k) (apply the k stored reflectors, make one
 * more), and Qᵀb is carried along. Removals, which are rarer, re-factor from scratch.
 */
class GrowingQR {
  /** Column indices (into the caller's column list) in factorisation order. */
  readonly order: number[] = [];
  private readonly reflectors: Float64Array; // row r = unit reflector r, length m (zeros above r)
  private readonly rCols: Float64Array; // column c of R at [c·cap, c·cap + c]
  private readonly qtb: Float64Array;
  private readonly saved: Float64Array;
  private readonly work: Float64Array;
  private readonly solution: Float64Array;
  private b: Float64Array;
  private scale = 0;

  constructor(readonly m: number, readonly cap: number) {
    this.reflectors = new Float64Array(cap * m);
    this.rCols = new Float64Array(cap * cap);
    this.qtb = new Float64Array(m);
    this.saved = new Float64Array(m);
    this.work = new Float64Array(m);
    this.solution = new Float64Array(cap);
    this.b = this.qtb;
  }

  /** Empties the factorisation for a new right-hand side b (length m). */
  start(b: Float64Array): this {
    this.b = b;
    this.order.length = 0;
    this.scale = 0;
    this.qtb.set(b);
    return this;
  }

  get size(): number {
    return this.order.length;
  }

  /**
   * Appends column `index`; returns false (state unchanged) when it is numerically dependent
   * on the columns already in (pivot ≤ 1e-13 × the largest entry of the set).
   */
  add(col: Float64Array, index: number): boolean {
    const { m, cap, work, reflectors } = this;
    const k = this.order.length;
    if (k >= m || k >= cap) return false;
    let scale = this.scale;
    for (let i = 0; i < m; i++) {
      work[i] = col[i];
      const a = Math.abs(col[i]);
      if (a > scale) scale = a;
    }
    for (let r = 0; r < k; r++) {
      const off = r * m;
      let s = 0;
      for (let i = r; i < m; i++) s += reflectors[off + i] * work[i];
      s *= 2;
      for (let i = r; i < m; i++) work[i] -= s * reflectors[off + i];
    }
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += work[i] * work[i];
    const norm = Math.sqrt(norm2);
    if (norm <= 1e-13 * Math.max(scale, 1e-300)) return false;
    const alpha = work[k] >= 0 ? -norm : norm; // avoid cancellation in x0 − alpha
    const off = k * m;
    reflectors.fill(0, off, off + m);
    let vn2 = 0;
    for (let i = k; i < m; i++) {
      const vi = i === k ? work[i] - alpha : work[i];
      reflectors[off + i] = vi;
      vn2 += vi * vi;
    }
    const vn = Math.sqrt(vn2);
    for (let i = k; i < m; i++) reflectors[off + i] /= vn;
    const rc = k * cap;
    for (let i = 0; i < k; i++) this.rCols[rc + i] = work[i];
    this.rCols[rc + k] = alpha;
    this.saved.set(this.qtb);
    let s = 0;
    for (let i = k; i < m; i++) s += reflectors[off + i] * this.qtb[i];
    s *= 2;
    for (let i = k; i < m; i++) this.qtb[i] -= s * reflectors[off + i];
    this.order.push(index);
    this.scale = scale;
    return true;
  }

  /** Undoes the last successful add (restores Qᵀb exactly). Only valid right after it. */
  removeLast(): void {
    this.order.pop();
    this.qtb.set(this.saved);
  }

  /** Re-factors from scratch with the given columns; false if one proves dependent. */
  reset(cols: Float64Array[], indices: number[]): boolean {
    this.start(this.b);
    for (const j of indices) if (!this.add(cols[j], j)) return false;
    return true;
  }

  /** Least-squares coefficients of the current columns, in `order` (a view, valid until the next call). */
  solve(): Float64Array {
    const k = this.order.length;
    const { cap, rCols, qtb } = this;
    const x = this.solution.subarray(0, k);
    for (let j = k - 1; j >= 0; j--) {
      let s = qtb[j];
      for (let c = j + 1; c < k; c++) s -= rCols[c * cap + j] * x[c];
      x[j] = s / rCols[j * cap + j];
    }
    return x;
  }
}

let sharedQR: GrowingQR | null = null;

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
  // The anchor-point solver calls this ~n_t times per manifold with the same sizes: reuse the buffers.
  if (!sharedQR || sharedQR.m !== m || sharedQR.cap !== n) sharedQR = new GrowingQR(m, n);
  const qr = sharedQR.start(b);
  const passiveIndices = () => {
    const idx: number[] = [];
    for (let j = 0; j < n; j++) if (passive[j]) idx.push(j);
    return idx;
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
    // Invariant: `qr` factors exactly the passive set before `best` entered.
    let factored = qr.add(cols[best], best);
    let fresh = true;
    for (;;) {
      const z = factored ? qr.solve() : null;
      const order = qr.order;
      if (z === null || (fresh && z[order.length - 1] <= 0)) {
        // Round-off made the entering column useless (dependent or wrong sign): undo and
        // forbid it until x changes, otherwise Lawson–Hanson can cycle.
        if (fresh) {
          if (factored) qr.removeLast();
          passive[best] = 0;
          banned[best] = 1;
          break;
        }
        // Dependent after removals: drop the smallest coefficient and retry.
        const idx = passiveIndices();
        let drop = idx[0];
        for (const j of idx) if (x[j] < x[drop]) drop = j;
        passive[drop] = 0;
        x[drop] = 0;
        factored = qr.reset(cols, passiveIndices());
        continue;
      }
      fresh = false;
      let allPositive = true;
      for (let p = 0; p < order.length; p++) if (z[p] <= 0) allPositive = false;
      if (allPositive) {
        x.fill(0);
        for (let p = 0; p < order.length; p++) x[order[p]] = z[p];
        banned.fill(0);
        break;
      }
      // Step from x towards z until the first passive coefficient hits zero.
      let step = Infinity;
      let limiting = -1;
      for (let p = 0; p < order.length; p++) {
        if (z[p] <= 0) {
          const j = order[p];
          const s = x[j] / (x[j] - z[p]);
          if (s < step) {
            step = s;
            limiting = j;
          }
        }
      }
      for (let p = 0; p < order.length; p++) {
        const j = order[p];
        x[j] += step * (z[p] - x[j]);
        // The limiting coefficient is zero in exact arithmetic; force it so the loop shrinks.
        if (j === limiting || x[j] <= 1e-15 * (1 + Math.abs(z[p]))) {
          x[j] = 0;
          passive[j] = 0;
        }
      }
      banned.fill(0);
      factored = qr.reset(cols, passiveIndices());
    }
    updateResidual();
  }
  return { x, iterations };
}
