/**
 * t-SNE iterations on plain Float64Arrays — the engine for the CPU-like tfjs backends
 * ('cpu', 'wasm'), where the per-op dispatch of the tfjs engine (tsne.ts) dominates an
 * iteration: tens of small ops per iteration cost far more than the arithmetic they do.
 * GPU backends keep the tfjs-ops path; createTsne picks this one (issue #6 speed target).
 *
 * Same mathematics as tsne.ts (van der Maaten & Hinton 2008; specs/tsne.md §2.4–2.6):
 *   ∂KL/∂y_i = 4 (α·Σ_j p_ij w_ij (y_i−y_j) − Σ_j w_ij² (y_i−y_j) / Z),  w_ij = 1/(1+‖y_i−y_j‖²),
 * the same P (affinities.ts), the same init (passed in), the same optimiser (openTSNE
 * defaults: early exaggeration, lr max(N/α, 50), momentum, delta-bar-delta gains with a floor,
 * optional per-point gradient clipping) and the same warm start; only the arithmetic moves
 * from tensors to loops, in float64.
 *
 * Attraction: one pass over the CSR edges of P (O(|E|) ≈ O(N·3·perplexity)).
 *
 * Repulsion, two engines (spec §2.4), both deterministic (fixed loop order, no threads):
 *  - 'exact': all pairs i < j once (w_ij is symmetric, so each pair updates both rows):
 *    N(N−1)/2 kernel evaluations per iteration. It is the oracle of the FFT engine, and in
 *    JavaScript the faster one over the lab's whole range of N on spread-out layouts (see
 *    TYPED_EXACT_MAX_N); with `engine: 'auto'` compact layouts (early exaggeration) use the FFT
 *    engine when its grid is cheap (fftIsCheaper), and the step result counts both.
 *  - 'fft': FFT-accelerated interpolation (FIt-SNE: Linderman, Rachh, Hoskins, Steinerberger &
 *    Kluger, "Fast interpolation-based t-SNE for improved visualization of single-cell RNA-seq
 *    data", Nature Methods 16, 2019). The square box around the embedding is cut into n_int
 *    intervals per axis with p Lagrange nodes per interval at the (j + ½)/p points, so all nodes
 *    form one uniform m × m grid (m = n_int·p). Unit charges are spread to the p × p nodes of
 *    each point's cell with the tensor-product Lagrange weights; kernels are applied
 *    node-to-node — a 2-D Toeplitz product, done as a circular convolution on an L × L grid
 *    (L ≥ 2m, a power of two) with our own radix-2 FFT — and the potentials are interpolated
 *    back to the points with the same weights. The potentials are ψ = Σ_j K1(·, y_j) (for
 *    Z = Σ_i ψ_i − N, the self terms K1(0) = 1 removed) and the force itself,
 *    F = Σ_j K2(·, y_j)(· − y_j), via the vector kernel K2(Δ)·Δ (see createTypedFftRepulsion for
 *    why not FIt-SNE's y_i φ¹ − φ^y split, and how one complex FFT carries two kernels).
 *    Cost O(N·p²) + O(L² log L) per iteration instead of O(N²). The error is set by the interval
 *    width relative to the kernel's unit length scale (third-order interpolation: ∝ width³).
 */
import { detLog, detSinCos } from '../detmath';
import { LabError } from '../types';
import { updateP, type KnnResult, type SparseP } from './affinities';
import type { FftRepulsionOptions } from './fft';
import type { Tsne, TsneEngine, TsneStepResult, WarmStartOptions } from './tsne';

/**
 * `engine: 'auto'` on the typed path runs the exact repulsion up to this N and the FFT engine
 * above. Measured in Node on one core (CPU time per repulsion pass, bench/tsne.ts data): a
 * converged MNIST layout spans ≈ 113 / 157 units at N = 1000 / 2500 and grows with N (copies
 * of the N = 2500 layout scaled to 200 / 260 units stood in for N = 5000 / 10 000). Exact:
 * 6.5 / 26 / 106 ms at N = 2500 / 5000 / 10 000 (≈ 2 ns per pair, ∝ N²). FFT: 150–180 ms at
 * all three — its 1024² grid (≈ 34 M butterflies) is set by the extent, not by N. The
 * crossover is at N ≈ 12 000, above the lab's range (R1: N ≤ 10 000), so 'auto' is exact there.
 * While the layout is still compact the FFT grid is small and the FFT wins from N ≈ 1130 on;
 * 'auto' then switches per iteration (fftIsCheaper).
 */
export const TYPED_EXACT_MAX_N = 12000;

/** The engine `'auto'` picks on the typed path for N points. */
export function typedAutoEngine(n: number): TsneEngine {
  return n <= TYPED_EXACT_MAX_N ? 'exact' : 'fft';
}

/**
 * Compact-layout shortcut of `engine: 'auto'` on the typed path: an iteration of the exact
 * engine uses the FFT repulsion instead when its grid is small enough to cost at most half
 * the exact pass. Cost model from the measurements above: one FFT iteration is ≈ 6.5·L
 * one-dimensional FFTs of (L/2)·log2 L butterflies, a butterfly ≈ 2 exact pairs (4 vs 2 ns),
 * so FFT ≈ 13·L²·log2 L pair-equivalents against N²/2 pairs. Early exaggeration keeps the
 * layout ≈ 2–3 units wide for 250 iterations (N = 2500: L = 64, 0.8 ms against 7 ms exact);
 * there the interval width is ≤ 0.3 and the FFT's relative force error ≈ 1e-3, well inside
 * the spec's 1e-2 acceptance. Below N ≈ 1130 even the smallest grid (L = 64) does not
 * qualify, so small runs stay exact throughout. The choice is a function of the positions only, so runs
 * stay deterministic, and both engines keep duplicate points bit-identical.
 */
export function fftIsCheaper(n: number, fftSize: number): boolean {
  return 2 * 13 * fftSize * fftSize * Math.log2(fftSize) < (n * n) / 2;
}

/** Scratch for a repulsion pass: SoA copies of the positions and the force accumulators. */
interface Scratch {
  px: Float64Array;
  py: Float64Array;
  fx: Float64Array;
  fy: Float64Array;
}

function makeScratch(n: number): Scratch {
  return { px: new Float64Array(n), py: new Float64Array(n), fx: new Float64Array(n), fy: new Float64Array(n) };
}

/**
 * Exact repulsion over all pairs: writes Σ_j w_ij² (y_i − y_j) into rep (N × 2, interleaved)
 * and returns Z = Σ_{i≠j} w_ij. y is N × 2 interleaved. Each unordered pair is visited once
 * (w_ij is symmetric, so one kernel evaluation serves both rows), in a fixed order, so the
 * result is bit-repeatable.
 *
 * Duplicate points stay bit-identical (ε = 0 makes every adversarial row a copy of its clean
 * row, spec §3's sanity check): every row's force is summed strictly left to right over
 * j = 0 … N−1 (contributions from j < i arrive first, as column updates, and the row's own
 * accumulator then continues from that value), and the term for (i, j) is bit-for-bit the
 * negation of the term for (j, i). Two rows at the same position therefore see the same
 * sequence of additions. This matters: the mode that separates two copies is unstable under
 * the early-exaggeration step size (4·η·α·p_ii' ≫ 2), so a last-bit difference grows to a
 * visible split within ~10 iterations. (Sharing one division between two kernels, or summing
 * each row in two halves, is faster per pair but breaks this, so neither is done.)
 *
 * Speed: rows are taken two at a time against every later column j, so y_j is loaded and the
 * accumulators of row j are updated once per two pairs.
 */
export function exactRepulsion(y: Float64Array | Float32Array, n: number, rep: Float64Array, scratch: Scratch = makeScratch(n)): number {
  const { px, py, fx, fy } = scratch;
  for (let i = 0; i < n; i++) {
    px[i] = y[2 * i];
    py[i] = y[2 * i + 1];
    fx[i] = 0;
    fy[i] = 0;
  }
  let zHalf = 0;
  for (let i = 0; i + 1 < n; i += 2) {
    const xa = px[i];
    const ya = py[i];
    const xb = px[i + 1];
    const yb = py[i + 1];
    // The pair (i, i + 1) itself: row i's next term, and row i+1's term for j = i.
    const dx0 = xa - xb;
    const dy0 = ya - yb;
    const w0 = 1 / (1 + dx0 * dx0 + dy0 * dy0);
    const s0 = w0 * w0;
    let zs = w0;
    let aax = fx[i] + s0 * dx0;
    let aay = fy[i] + s0 * dy0;
    let abx = fx[i + 1] - s0 * dx0;
    let aby = fy[i + 1] - s0 * dy0;
    for (let j = i + 2; j < n; j++) {
      const xj = px[j];
      const yj = py[j];
      const dxa = xa - xj;
      const dya = ya - yj;
      const dxb = xb - xj;
      const dyb = yb - yj;
      const wa = 1 / (1 + dxa * dxa + dya * dya);
      const wb = 1 / (1 + dxb * dxb + dyb * dyb);
      zs += wa + wb;
      const sa = wa * wa;
      const sb = wb * wb;
      const gxa = sa * dxa;
      const gya = sa * dya;
      const gxb = sb * dxb;
      const gyb = sb * dyb;
      aax += gxa;
      aay += gya;
      abx += gxb;
      aby += gyb;
      // Two separate subtractions (not − (a + b)): row j's sum stays strictly sequential.
      fx[j] = fx[j] - gxa - gxb;
      fy[j] = fy[j] - gya - gyb;
    }
    fx[i] = aax;
    fy[i] = aay;
    fx[i + 1] = abx;
    fy[i + 1] = aby;
    zHalf += zs;
  }
  // With odd N the last row has no later column: all its pairs were done as column j above.
  for (let t = 0; t < n; t++) {
    rep[2 * t] = fx[t];
    rep[2 * t + 1] = fy[t];
  }
  return 2 * zHalf;
}

/**
 * Z = Σ_{i≠j} w_ij alone (for KL), rows two at a time like exactRepulsion; Z is one global sum,
 * so here the two kernels may share a division: w_a + w_b = (q_a + q_b)/(q_a q_b).
 */
export function exactZ(y: Float64Array | Float32Array, n: number, scratch: Scratch = makeScratch(n)): number {
  const { px, py } = scratch;
  for (let i = 0; i < n; i++) {
    px[i] = y[2 * i];
    py[i] = y[2 * i + 1];
  }
  let zHalf = 0;
  for (let i = 0; i + 1 < n; i += 2) {
    const xa = px[i];
    const ya = py[i];
    const xb = px[i + 1];
    const yb = py[i + 1];
    let zs = 1 / (1 + (xa - xb) ** 2 + (ya - yb) ** 2);
    for (let j = i + 2; j < n; j++) {
      const dxa = xa - px[j];
      const dya = ya - py[j];
      const dxb = xb - px[j];
      const dyb = yb - py[j];
      const qa = 1 + dxa * dxa + dya * dya;
      const qb = 1 + dxb * dxb + dyb * dyb;
      zs += (qa + qb) / (qa * qb);
    }
    zHalf += zs;
  }
  return 2 * zHalf;
}

/** Attraction Σ_j p_ij w_ij (y_i − y_j) over the CSR edges of P (row order, then edge order), into attr (N × 2). */
export function attraction(y: Float64Array | Float32Array, p: SparseP, attr: Float64Array): void {
  const { n, rowPtr, cols, vals } = p;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i];
    const yi = y[2 * i + 1];
    let ax = 0;
    let ay = 0;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = cols[e];
      const dx = xi - y[2 * j];
      const dy = yi - y[2 * j + 1];
      const pw = vals[e] / (1 + dx * dx + dy * dy);
      ax += pw * dx;
      ay += pw * dy;
    }
    attr[2 * i] = ax;
    attr[2 * i + 1] = ay;
  }
}

/** Σ_ij p_ij log w_ij over the CSR edges: the position-dependent part of KL (kept out of the gradient pass: a log per edge costs as much as the rest of it). */
export function pLogW(y: Float64Array | Float32Array, p: SparseP): number {
  const { n, rowPtr, cols, vals } = p;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      if (!(vals[e] > 0)) continue;
      const j = cols[e];
      const dx = y[2 * i] - y[2 * j];
      const dy = y[2 * i + 1] - y[2 * j + 1];
      s -= vals[e] * detLog(1 + dx * dx + dy * dy);
    }
  }
  return s;
}

/**
 * In-place radix-2 complex FFT of length L (a power of two) on (re, im) starting at `off`,
 * iterative Cooley–Tukey (decimation in time: bit-reversal permutation, then log2 L
 * butterfly stages). `sign` −1 = forward DFT X_k = Σ x_t e^{−2πikt/L}, +1 = unnormalised inverse.
 */
class Fft {
  readonly rev: Uint32Array;
  readonly cos: Float64Array;
  readonly sin: Float64Array;

  constructor(readonly size: number) {
    const bits = Math.round(Math.log2(size));
    if (1 << bits !== size) throw new LabError(`FFT size ${size} is not a power of two`);
    this.rev = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let k = 0; k < size / 2; k++) {
      const a = (2 * Math.PI * k) / size;
      // detSinCos: the same twiddles in every JavaScript engine (detmath.ts).
      const [sin, cos] = detSinCos(a);
      this.cos[k] = cos;
      this.sin[k] = sin;
    }
  }

  /** One transform of L contiguous complex values. */
  line(re: Float64Array, im: Float64Array, off: number, sign: number): void {
    const L = this.size;
    const { rev, cos, sin } = this;
    for (let i = 0; i < L; i++) {
      const j = rev[i];
      if (j > i) {
        const tr = re[off + i];
        re[off + i] = re[off + j];
        re[off + j] = tr;
        const ti = im[off + i];
        im[off + i] = im[off + j];
        im[off + j] = ti;
      }
    }
    for (let half = 1; half < L; half *= 2) {
      const step = L / (2 * half);
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        for (let s = off + k; s < off + L; s += 2 * half) {
          const t = s + half;
          const xr = re[t] * wr - im[t] * wi;
          const xi = re[t] * wi + im[t] * wr;
          re[t] = re[s] - xr;
          im[t] = im[s] - xi;
          re[s] += xr;
          im[s] += xi;
        }
      }
    }
  }

  /**
   * The same transform along the first axis of an L × L row-major grid, for the first `cols`
   * columns: every butterfly moves whole rows, so the inner loop is contiguous (no transposes).
   */
  columns(re: Float64Array, im: Float64Array, cols: number, sign: number): void {
    const L = this.size;
    const { rev, cos, sin } = this;
    for (let i = 0; i < L; i++) {
      const j = rev[i];
      if (j > i) {
        const a = i * L;
        const b = j * L;
        for (let c = 0; c < cols; c++) {
          const tr = re[a + c];
          re[a + c] = re[b + c];
          re[b + c] = tr;
          const ti = im[a + c];
          im[a + c] = im[b + c];
          im[b + c] = ti;
        }
      }
    }
    for (let half = 1; half < L; half *= 2) {
      const step = L / (2 * half);
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        for (let s = k; s < L; s += 2 * half) {
          const a = s * L;
          const b = (s + half) * L;
          for (let c = 0; c < cols; c++) {
            const xr = re[b + c] * wr - im[b + c] * wi;
            const xi = re[b + c] * wi + im[b + c] * wr;
            re[b + c] = re[a + c] - xr;
            im[b + c] = im[a + c] - xi;
            re[a + c] += xr;
            im[a + c] += xi;
          }
        }
      }
    }
  }
}

/** Forward 2-D DFT of a grid whose rows ≥ `rows` are zero (row transforms skip them). */
function fft2Forward(f: Fft, re: Float64Array, im: Float64Array, rows: number): void {
  const L = f.size;
  for (let a = 0; a < rows; a++) f.line(re, im, a * L, -1);
  f.columns(re, im, L, -1);
}

/** Unnormalised inverse 2-D DFT; only rows < `rows` of the output are completed (and valid). */
function fft2Inverse(f: Fft, re: Float64Array, im: Float64Array, rows: number): void {
  const L = f.size;
  f.columns(re, im, L, 1);
  for (let a = 0; a < rows; a++) f.line(re, im, a * L, 1);
}

/** Radix-2 2-D DFT of an L × L complex grid (exported for tests: checked against a naive DFT). */
export function fft2(re: Float64Array, im: Float64Array, size: number, inverse = false): void {
  const f = new Fft(size);
  if (inverse) fft2Inverse(f, re, im, size);
  else fft2Forward(f, re, im, size);
}

export interface TypedFftRepulsion {
  /** Like exactRepulsion: writes Σ_j w_ij² (y_i − y_j) into rep (N × 2) and returns Z. */
  compute(y: Float64Array | Float32Array, n: number, rep: Float64Array): number;
  /** The FFT size L that compute() would use for a layout of this extent (larger side of its bounding box). */
  fftSizeFor(extent: number): number;
  /** Grid nodes per axis (m = n_int·p) and FFT size L of the last call. */
  readonly gridSize: number;
  readonly fftSize: number;
}

/** Defaults of the typed FFT engine (see createTypedFftRepulsion). */
export const TYPED_FFT_DEFAULTS = { nodesPerInterval: 3, intervalWidth: 0.5, minIntervals: 10, maxIntervals: 170 };

/**
 * FIt-SNE repulsion on typed arrays (module comment), with one change of potentials: instead
 * of FIt-SNE's φ¹, φˣ, φʸ (F_i = y_i φ¹_i − φ^y_i, whose two terms grow with |y_i| and cancel,
 * so their interpolation errors are amplified by |y|/1 on a wide layout — measured ≈ 17 %
 * force error at extent 157 with unit-width intervals), the force is convolved directly with
 * the vector kernel K2(Δ)·Δ, which is as smooth as K2 itself:
 *   ψ = K1 ∗ q,  Fx = (K2·Δx) ∗ q,  Fy = (K2·Δy) ∗ q,   q = the spread unit charges,
 * three potentials of one charge grid. On the circulant grid K1 is even and K2·Δx odd in x
 * (even in y), so the spectrum of K1 + i·K2Δx is real: G = K̂1 − S with K̂1 = even part, i·S =
 * (K2Δx)^. Hence ψ + i·Fx = IFFT(G ⊙ Q̂), and K2Δy is K2Δx transposed, so its spectrum is
 * i·Sᵀ with S = (G(−k) − G(k))/2: Fy = IFFT(i·Sᵀ ⊙ Q̂). Per iteration: one full 2-D FFT
 * (kernels), one of the charges and two inverse ones, rows pruned where the grid is zero or
 * not read (≈ 6.5·L one-dimensional FFTs of length L).
 *
 * Options as fft.ts: p nodes per interval, interval width ≤ `intervalWidth` embedding units,
 * n_int clamped to [minIntervals, maxIntervals]; n_int is then raised (up to maxIntervals) to
 * fill the power-of-two FFT grid — the FFT costs the same, and narrower intervals only reduce
 * the interpolation error. maxIntervals 170 keeps L ≤ 1024 (six L² float64 grids = 48 MB).
 */
export function createTypedFftRepulsion(opts: FftRepulsionOptions = {}): TypedFftRepulsion {
  const p = Math.max(2, Math.round(opts.nodesPerInterval ?? TYPED_FFT_DEFAULTS.nodesPerInterval));
  const width = opts.intervalWidth ?? TYPED_FFT_DEFAULTS.intervalWidth;
  const minInt = Math.max(1, Math.round(opts.minIntervals ?? TYPED_FFT_DEFAULTS.minIntervals));
  const maxInt = Math.max(minInt, Math.round(opts.maxIntervals ?? TYPED_FFT_DEFAULTS.maxIntervals));
  // Lagrange nodes u_j = (j + ½)/p in [0, 1] and the denominators Π_{l≠j} (u_j − u_l).
  const nodes = Float64Array.from({ length: p }, (_, j) => (j + 0.5) / p);
  const denom = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let dd = 1;
    for (let l = 0; l < p; l++) if (l !== j) dd *= nodes[j] - nodes[l];
    denom[j] = dd;
  }
  let fft: Fft | null = null;
  let gRe = new Float64Array(0);
  let gIm = new Float64Array(0);
  let qRe = new Float64Array(0);
  let qIm = new Float64Array(0);
  let oRe = new Float64Array(0);
  let oIm = new Float64Array(0);
  let wts = new Float64Array(0); // N × 2p: x weights then y weights per point
  let base = new Int32Array(0); // N × 2: first node index along x and y
  let gridSize = 0;

  const lagrange = (u: number, out: Float64Array, off: number) => {
    for (let j = 0; j < p; j++) {
      let v = 1;
      for (let l = 0; l < p; l++) if (l !== j) v *= u - nodes[l];
      out[off + j] = v / denom[j];
    }
  };

  /** Intervals per axis and FFT size for a box of this extent. */
  const grid = (extent: number) => {
    let nInt = Math.min(maxInt, Math.max(minInt, Math.ceil(extent / width)));
    let L = 2;
    while (L < 2 * nInt * p) L *= 2;
    nInt = Math.max(nInt, Math.min(maxInt, Math.floor(L / (2 * p))));
    return { L, nInt };
  };

  const compute = (y: Float64Array | Float32Array, n: number, rep: Float64Array): number => {
    let loX = Infinity;
    let hiX = -Infinity;
    let loY = Infinity;
    let hiY = -Infinity;
    for (let i = 0; i < n; i++) {
      const x0 = y[2 * i];
      const y0 = y[2 * i + 1];
      if (x0 < loX) loX = x0;
      if (x0 > hiX) hiX = x0;
      if (y0 < loY) loY = y0;
      if (y0 > hiY) hiY = y0;
    }
    // Square box, slightly enlarged so the extreme points fall strictly inside the last interval.
    const extent = Math.max(hiX - loX, hiY - loY, 1e-12) * (1 + 1e-5);
    if (!Number.isFinite(extent)) throw new LabError('t-SNE diverged: non-finite positions (try a smaller learning rate)');
    const x0 = (loX + hiX) / 2 - extent / 2;
    const y0 = (loY + hiY) / 2 - extent / 2;
    const { L, nInt } = grid(extent);
    const m = nInt * p;
    if (!fft || fft.size !== L) {
      fft = new Fft(L);
      gRe = new Float64Array(L * L);
      gIm = new Float64Array(L * L);
      qRe = new Float64Array(L * L);
      qIm = new Float64Array(L * L);
      oRe = new Float64Array(L * L);
      oIm = new Float64Array(L * L);
    }
    if (wts.length < n * 2 * p) {
      wts = new Float64Array(n * 2 * p);
      base = new Int32Array(n * 2);
    }
    gridSize = m;
    const hInt = extent / nInt;
    const h = hInt / p; // node spacing

    // Kernels on the circulant offsets δ ∈ (−L/2, L/2]: K1 real, K2·Δx imaginary. K2·Δx is set
    // to 0 on the row δx = L/2 (an offset no node pair has, since m ≤ L/2) so it is exactly odd.
    for (let a = 0; a < L; a++) {
      const da = a <= L / 2 ? a : a - L;
      const dx = a === L / 2 ? 0 : h * da;
      const row = a * L;
      for (let b = 0; b < L; b++) {
        const db = b <= L / 2 ? b : b - L;
        const k1 = 1 / (1 + h * h * (da * da + db * db));
        gRe[row + b] = k1;
        gIm[row + b] = k1 * k1 * dx;
      }
    }
    fft2Forward(fft, gRe, gIm, L);

    // Spread unit charges to the p × p nodes of each point's cell.
    qRe.fill(0);
    qIm.fill(0);
    for (let i = 0; i < n; i++) {
      const tx = (y[2 * i] - x0) / hInt;
      const ty = (y[2 * i + 1] - y0) / hInt;
      const ix = Math.min(nInt - 1, Math.max(0, Math.floor(tx)));
      const iy = Math.min(nInt - 1, Math.max(0, Math.floor(ty)));
      const wo = i * 2 * p;
      lagrange(tx - ix, wts, wo);
      lagrange(ty - iy, wts, wo + p);
      base[2 * i] = ix * p;
      base[2 * i + 1] = iy * p;
      for (let ja = 0; ja < p; ja++) {
        const row = (ix * p + ja) * L + iy * p;
        const wa = wts[wo + ja];
        for (let jb = 0; jb < p; jb++) qRe[row + jb] += wa * wts[wo + p + jb];
      }
    }
    fft2Forward(fft, qRe, qIm, m);

    // O ← i·Sᵀ ⊙ Q̂ with Sᵀ(ka, kb) = S(kb, ka) = (G(−kb, −ka) − G(kb, ka)) / 2, then Q ← G ⊙ Q̂.
    for (let a = 0; a < L; a++) {
      const na = a === 0 ? 0 : L - a;
      for (let b = 0; b < L; b++) {
        const nb = b === 0 ? 0 : L - b;
        const st = 0.5 * (gRe[nb * L + na] - gRe[b * L + a]);
        const idx = a * L + b;
        oRe[idx] = -st * qIm[idx];
        oIm[idx] = st * qRe[idx];
      }
    }
    for (let idx = 0; idx < L * L; idx++) {
      qRe[idx] *= gRe[idx];
      qIm[idx] *= gRe[idx];
    }
    fft2Inverse(fft, qRe, qIm, m); // ψ + i·Fx
    fft2Inverse(fft, oRe, oIm, m); // Fy

    // Interpolate the potentials back to the points with the same weights.
    const norm = 1 / (L * L);
    let psiSum = 0;
    for (let i = 0; i < n; i++) {
      const wo = i * 2 * p;
      const ax0 = base[2 * i];
      const ay0 = base[2 * i + 1];
      let psi = 0;
      let fx = 0;
      let fy = 0;
      for (let ja = 0; ja < p; ja++) {
        const row = (ax0 + ja) * L + ay0;
        const wa = wts[wo + ja];
        for (let jb = 0; jb < p; jb++) {
          const w = wa * wts[wo + p + jb];
          psi += w * qRe[row + jb];
          fx += w * qIm[row + jb];
          fy += w * oRe[row + jb];
        }
      }
      rep[2 * i] = fx * norm;
      rep[2 * i + 1] = fy * norm;
      psiSum += psi;
    }
    return psiSum * norm - n;
  };

  return {
    compute,
    fftSizeFor: (extent: number) => grid(extent * (1 + 1e-5)).L,
    get gridSize() {
      return gridSize;
    },
    get fftSize() {
      return fft?.size ?? 0;
    },
  };
}

/** Everything createTsne resolved before handing over (same P, init and schedule as the tfjs path). */
export interface TypedTsneSetup {
  /** N × d data (owned: warm starts overwrite rows in place). */
  data: Float32Array;
  n: number;
  d: number;
  p: SparseP & { knn: KnnResult; pCond: Float64Array };
  init: Float32Array;
  engine: TsneEngine;
  /**
   * Whether the engine came from 'auto': an 'exact' engine then uses the FFT repulsion on
   * iterations where fftIsCheaper (compact layouts); an explicit 'exact' never does.
   */
  adaptive?: boolean;
  fft?: FftRepulsionOptions;
  perplexity: number;
  knn: 'cpu' | 'tfjs';
  earlyExaggeration: number;
  earlyExaggerationIter: number;
  momentum: number;
  learningRate?: number | 'auto';
  minGain: number;
  maxGradNorm?: number;
}

/** A steppable t-SNE with the Tsne interface of tsne.ts, iterating on Float64Arrays. */
export function createTypedTsne(s: TypedTsneSetup): Tsne {
  const { n, d, data, engine } = s;
  if (s.init.length !== n * 2) throw new LabError(`t-SNE: init has ${s.init.length} floats, expected ${n}·2`);
  let p = s.p;
  let pLogP = 0;
  const refreshPlogP = () => {
    pLogP = 0;
    for (let e = 0; e < p.vals.length; e++) if (p.vals[e] > 0) pLogP += p.vals[e] * detLog(p.vals[e]);
  };
  refreshPlogP();
  const adaptive = engine === 'exact' && s.adaptive === true;
  const fft = engine === 'fft' || adaptive ? createTypedFftRepulsion(s.fft) : null;
  const scratch = makeScratch(n);
  const counts = { exact: 0, fft: 0 };
  const y = Float64Array.from(s.init);
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const rep = new Float64Array(n * 2);
  const attr = new Float64Array(n * 2);
  const grad = new Float64Array(n * 2);
  // 1 for rows that move; anchored warm starts freeze the clean rows (openTSNE `transform`).
  let moveMask: Uint8Array | null = null;
  let iteration = 0;
  let warm: { exaggeration: number; learningRate: number } | null = null;
  let disposed = false;

  /** The repulsion engine for the current positions (fixed, or per layout when adaptive). */
  const engineNow = (): TsneEngine => {
    if (!adaptive || !fft) return engine;
    let loX = Infinity;
    let hiX = -Infinity;
    let loY = Infinity;
    let hiY = -Infinity;
    for (let i = 0; i < n; i++) {
      const a = y[2 * i];
      const b = y[2 * i + 1];
      if (a < loX) loX = a;
      if (a > hiX) hiX = a;
      if (b < loY) loY = b;
      if (b > hiY) hiY = b;
    }
    const extent = Math.max(hiX - loX, hiY - loY);
    return Number.isFinite(extent) && fftIsCheaper(n, fft.fftSizeFor(extent)) ? 'fft' : 'exact';
  };

  const repulsion = (which: TsneEngine): number => (which === 'fft' && fft ? fft.compute(y, n, rep) : exactRepulsion(y, n, rep, scratch));

  /** grad ← 4 (α·attr − rep / Z) at the current positions; returns the repulsion engine used. */
  const gradientInto = (exaggeration: number): TsneEngine => {
    const which = engineNow();
    const z = repulsion(which);
    attraction(y, p, attr);
    const invZ = 1 / z;
    for (let t = 0; t < 2 * n; t++) grad[t] = 4 * (exaggeration * attr[t] - rep[t] * invZ);
    return which;
  };

  const kl = (): number => {
    const z = engineNow() === 'fft' && fft ? fft.compute(y, n, rep) : exactZ(y, n, scratch);
    // KL = Σ p log p − Σ p log w + log Z (Σ p = 1).
    return pLogP - pLogW(y, p) + detLog(z);
  };

  const schedule = (it: number) => {
    if (warm) return warm;
    const alpha = it < s.earlyExaggerationIter ? s.earlyExaggeration : 1;
    const lr = s.learningRate === undefined || s.learningRate === 'auto' ? Math.max(n / alpha, 50) : s.learningRate;
    return { exaggeration: alpha, learningRate: lr };
  };

  const oneStep = () => {
    const { exaggeration, learningRate } = schedule(iteration);
    counts[gradientInto(exaggeration)]++;
    const clip = s.maxGradNorm;
    for (let i = 0; i < n; i++) {
      let scale = 1;
      if (clip !== undefined) {
        const norm = Math.sqrt(grad[2 * i] ** 2 + grad[2 * i + 1] ** 2);
        scale = Math.min(1, clip / Math.max(norm, 1e-12));
      }
      const move = moveMask === null || moveMask[i] === 1;
      for (let c = 0; c < 2; c++) {
        const t = 2 * i + c;
        const g = grad[t] * scale;
        // Delta-bar-delta: grow the gain where the gradient opposes the previous update.
        let gain = Math.sign(g) !== Math.sign(update[t]) ? gains[t] + 0.2 : gains[t] * 0.8;
        if (gain < s.minGain) gain = s.minGain;
        gains[t] = gain;
        const u = move ? s.momentum * update[t] - learningRate * gain * g : 0;
        update[t] = u;
        y[t] += u;
      }
    }
    iteration++;
  };

  const live = () => {
    if (disposed) throw new LabError('t-SNE: used after dispose()');
  };

  const tsne: Tsne = {
    n,
    engine,
    impl: 'typed',
    get iteration() {
      return iteration;
    },
    get p() {
      return p;
    },
    // Async only to share the Tsne interface with the tfjs path (GPU read-backs are async).
    async step(nIter: number): Promise<TsneStepResult> {
      live();
      for (let i = 0; i < nIter; i++) oneStep();
      return { positions: Float32Array.from(y), kl: kl(), iteration, engine, impl: 'typed', engineIterations: { ...counts } };
    },
    positions: async () => Float32Array.from(y),
    kl: async () => {
      live();
      return kl();
    },
    gradient: async (exaggeration = 1) => {
      live();
      gradientInto(exaggeration);
      return Float32Array.from(grad);
    },
    async warmStart(rows: Int32Array, newData: Float32Array, w: WarmStartOptions = {}) {
      live();
      if (newData.length !== rows.length * d) throw new LabError(`warm start: ${rows.length} rows need ${rows.length * d} floats`);
      if (w.startPositions && w.startPositions.length !== rows.length * 2) throw new LabError('warm start: startPositions need 2 floats per row');
      for (let r = 0; r < rows.length; r++) data.set(newData.subarray(r * d, (r + 1) * d), rows[r] * d);
      // Spec §2.6: only the changed rows and rows whose neighbour lists they enter are re-done.
      p = await updateP(p, data, n, d, s.perplexity, rows, s.knn);
      refreshPlogP();
      if (w.startPositions) {
        for (let r = 0; r < rows.length; r++) {
          y[rows[r] * 2] = w.startPositions[r * 2];
          y[rows[r] * 2 + 1] = w.startPositions[r * 2 + 1];
        }
      }
      // Spec §2.6: reset gains to 1; the momentum buffer restarts from rest.
      update.fill(0);
      gains.fill(1);
      moveMask = null;
      if ((w.mode ?? 'joint') === 'anchored') {
        moveMask = new Uint8Array(n);
        for (const r of rows) moveMask[r] = 1;
      }
      warm = { exaggeration: w.exaggeration ?? 1, learningRate: w.learningRate ?? n / 12 };
    },
    dispose() {
      disposed = true;
    },
  };
  return tsne;
}
