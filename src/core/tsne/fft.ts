/**
 * Large-N t-SNE repulsion by FFT-accelerated interpolation (FIt-SNE: Linderman, Rachh,
 * Hoskins, Steinerberger & Kluger, Nature Methods 16, 2019) — specs/tsne.md §2.4 engine 2.
 *
 * Needed per point i (van der Maaten & Hinton 2008, eq. 5, split as in FIt-SNE §"Methods"):
 *   F_rep,i = Σ_j K2(y_i, y_j)(y_i − y_j) = y_i·φ¹_i − φ^y_i,   K2 = 1/(1+r²)²
 *   Z       = Σ_i Σ_{j≠i} K1(y_i, y_j)    = Σ_i ψ_i − N,         K1 = 1/(1+r²)
 * with potentials φ¹ = Σ_j K2(·, y_j), φ^y = Σ_j K2(·, y_j)·y_j, ψ = Σ_j K1(·, y_j); the self
 * terms cancel (y_i − y_i = 0) or are removed (K1(0) = 1 → −N).
 *
 * Scheme (Linderman et al. 2019): the square box around the embedding is cut into n_int
 * intervals per axis with p Lagrange nodes per interval at the interval's (j + ½)/p points,
 * so all nodes form one uniform grid of m = n_int·p points per axis. Charges are spread to the
 * p × p nodes of each point's cell with the 2-D Lagrange weights, the kernel is applied
 * node-to-node on the grid, and the potentials are interpolated back with the same weights.
 * The node-to-node sum is a 2-D Toeplitz product, i.e. a convolution, done by zero-padded
 * (L = 2m) circulant embedding and a 2-D DFT. Error is controlled by the interval width
 * relative to the kernel's unit scale (openTSNE and FIt-SNE use p = 3, width ≤ 1; we use
 * width ≤ 0.5, see `intervalWidth`).
 *
 * Why the FFT scheme and not a splatted field texture (tfjs-tsne): its error is controlled by
 * two numbers (p, interval width), tested against the exact oracle, and it is what
 * FIt-SNE / openTSNE / tsne-cuda converged on (spec §2.4).
 *
 * Why the DFT is written as matmuls and not `tf.spectral.fft`: tfjs has no FFT kernel on the
 * WASM backend, and its CPU FFT is a recursive tensor-op radix-2 that takes ~1 s for 128 rows
 * of 128 points. A dense DFT along each axis is two real matmuls with cached cos/sin matrices,
 * available and fast on every backend (WebGPU, WebGL, WASM via XNNPACK, CPU). Cost ≈ 170·m³
 * multiply-adds per iteration (both kernels, all four potentials), independent of N; spreading
 * and interpolation are O(N·p²) scatter/gather. Memory: a few L × L grids, never N × N.
 *
 * Determinism: scatterND sums in index order on CPU/WASM; on GPUs its float atomics may make
 * the last bits order-dependent (spec §2.7) — the exact engine is the bit-repeatable one.
 */
import { detSinCos } from '../detmath';
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';

export interface FftRepulsionOptions {
  /** Lagrange nodes per interval (FIt-SNE's p). Default 3. */
  nodesPerInterval?: number;
  /**
   * Largest interval width in embedding units (the kernel has unit scale). Default 0.5:
   * measured relative repulsion error (‖ΔF/Z‖/‖F/Z‖, 1000 points, p = 3) was 2e-3 at
   * extent ≈ 25 and 6e-3 at extent ≈ 100 with 0.5, but 1.6e-2 and 4e-2 with width 1 —
   * the error falls like width³ (third-order interpolation).
   */
  intervalWidth?: number;
  /** Fewest intervals per axis. Default 10. */
  minIntervals?: number;
  /** Most intervals per axis (bounds the cost at ≈170·(p·n_int)³ per iteration). Default 100. */
  maxIntervals?: number;
}

/** [min x, min y, max x, max y] of a 2-D layout. */
export type BoundingBox = readonly [number, number, number, number];

export interface FftRepulsion {
  /**
   * The layout's bounding box [min x, min y, max x, max y]: the grid shape needs JS numbers,
   * and these 4 floats per iteration are the only read-back. Async because tfjs-webgpu's
   * dataSync goes through a canvas readback that returns zeros on software adapters.
   */
  bounds(y: tf.Tensor2D): Promise<BoundingBox>;
  /** Unnormalised repulsion Σ_j w_ij² (y_i − y_j) (N × 2) and Z = Σ_{i≠j} w_ij, like the exact tiles; `box` from bounds(y). */
  compute(y: tf.Tensor2D, box: BoundingBox): { rep: tf.Tensor2D; z: tf.Scalar };
  /** Grid points per axis used by the last call (m = n_int·p). */
  readonly gridSize: number;
  dispose(): void;
}

interface DftCache {
  m: number;
  L: number;
  /** [L, m]: C[a, k] = cos(2π a k / L) for the first m columns, and the matching sines. */
  cm: tf.Tensor2D;
  sm: tf.Tensor2D;
  /** [m, L]: Cmᵀ, −Smᵀ and Smᵀ. */
  cmT: tf.Tensor2D;
  negSmT: tf.Tensor2D;
  smT: tf.Tensor2D;
  /** [L, L] full cosine matrix: the even kernel's spectrum is C κ C (real). */
  cFull: tf.Tensor2D;
  /** Squared signed circulant offsets δ(a)², a ∈ [0, L): [L]. */
  off2: tf.Tensor1D;
}

// Separate matmuls instead of one product with [C | S] blocks: slicing the last axis of the
// result is a strided copy that cost more than the matmuls themselves on tfjs-cpu.
function buildDft(m: number): DftCache {
  const L = 2 * m;
  const c = new Float32Array(L * L);
  const s = new Float32Array(L * m);
  for (let a = 0; a < L; a++) {
    for (let k = 0; k < L; k++) {
      // (a·k) mod L keeps the angle small, so cos/sin are accurate to float64 before rounding.
      const ang = (2 * Math.PI * ((a * k) % L)) / L;
      const [sin, cos] = detSinCos(ang);
      c[a * L + k] = cos;
      if (k < m) s[a * m + k] = sin;
    }
  }
  const off2 = new Float32Array(L);
  for (let a = 0; a < L; a++) {
    const dlt = a <= m ? a : a - L;
    off2[a] = dlt * dlt;
  }
  return tf.tidy(() => {
    const cFull = tf.tensor2d(c, [L, L]);
    const cm = cFull.slice([0, 0], [L, m]);
    const sm = tf.tensor2d(s, [L, m]);
    const cmT = cm.transpose() as tf.Tensor2D;
    const smT = sm.transpose() as tf.Tensor2D;
    return {
      m,
      L,
      cm: tf.keep(cm),
      sm: tf.keep(sm),
      cmT: tf.keep(cmT),
      negSmT: tf.keep(tf.neg(smT) as tf.Tensor2D),
      smT: tf.keep(smT),
      cFull: tf.keep(cFull),
      off2: tf.keep(tf.tensor1d(off2)),
    };
  });
}

function disposeDft(d: DftCache | null) {
  if (d) tf.dispose([d.cm, d.sm, d.cmT, d.negSmT, d.smT, d.cFull, d.off2]);
}

/** Lagrange basis of the p nodes u_j = (j + ½)/p at local coordinate u ∈ [0, 1]; returns p tensors shaped like u. */
function lagrange(u: tf.Tensor, p: number): tf.Tensor[] {
  const nodes = Array.from({ length: p }, (_, j) => (j + 0.5) / p);
  return nodes.map((uj, j) => {
    let w: tf.Tensor = tf.onesLike(u);
    for (let l = 0; l < p; l++) if (l !== j) w = tf.mul(w, tf.div(tf.sub(u, nodes[l]), uj - nodes[l]));
    return w;
  });
}

export function createFftRepulsion(opts: FftRepulsionOptions = {}): FftRepulsion {
  const p = Math.max(2, Math.round(opts.nodesPerInterval ?? 3));
  const width = opts.intervalWidth ?? 0.5;
  const minInt = Math.max(1, Math.round(opts.minIntervals ?? 10));
  const maxInt = Math.max(minInt, Math.round(opts.maxIntervals ?? 100));
  let dft: DftCache | null = null;
  let gridSize = 0;

  const bounds = async (y: tf.Tensor2D): Promise<BoundingBox> => {
    const box = tf.tidy(() => tf.concat([tf.min(y, 0), tf.max(y, 0)]));
    try {
      const v = await box.data();
      return [v[0], v[1], v[2], v[3]];
    } finally {
      box.dispose();
    }
  };

  const compute = (y: tf.Tensor2D, box: BoundingBox): { rep: tf.Tensor2D; z: tf.Scalar } => {
    const n = y.shape[0];
    const lo = [box[0], box[1]];
    const hi = [box[2], box[3]];
    const cx = (lo[0] + hi[0]) / 2;
    const cy = (lo[1] + hi[1]) / 2;
    // Square box, slightly enlarged so the extreme points fall strictly inside the last interval.
    const extent = Math.max(hi[0] - lo[0], hi[1] - lo[1], 1e-12) * (1 + 1e-5);
    if (!Number.isFinite(extent)) throw new LabError('t-SNE diverged: non-finite positions (try a smaller learning rate)');
    const nInt = Math.min(maxInt, Math.max(minInt, Math.ceil(extent / width)));
    const m = nInt * p;
    if (!dft || dft.m !== m) {
      disposeDft(dft);
      dft = buildDft(m);
    }
    gridSize = m;
    const { L, cm, sm, cmT, negSmT, smT, cFull, off2 } = dft;
    const hInt = extent / nInt;
    const h = hInt / p; // node spacing
    return tf.tidy(() => {
      // Centred coordinates: the identity F = y_i·φ¹ − φ^y cancels less when |y| is small.
      const yc = tf.sub(y, tf.tensor2d([[cx, cy]]));
      const t = tf.div(tf.add(yc, extent / 2), hInt); // [N, 2] in interval units
      const cell = tf.clipByValue(tf.floor(t), 0, nInt - 1);
      const u = tf.sub(t, cell);
      const w = lagrange(u, p); // p × [N, 2]
      const cellI = tf.cast(cell, 'int32');
      const wx = tf.stack(w.map((wj) => wj.slice([0, 0], [n, 1]).reshape([n])), 1); // [N, p]
      const wy = tf.stack(w.map((wj) => wj.slice([0, 1], [n, 1]).reshape([n])), 1);
      const jr = tf.range(0, p, 1, 'int32');
      const pI = tf.scalar(p, 'int32');
      const ax = tf.add(tf.mul(cellI.slice([0, 0], [n, 1]), pI), jr.expandDims(0)); // [N, p] node index along x
      const ay = tf.add(tf.mul(cellI.slice([0, 1], [n, 1]), pI), jr.expandDims(0));
      const w2 = tf.mul(wx.expandDims(2), wy.expandDims(1)).reshape([n * p * p]); // [N·p²]
      const node = tf.add(tf.mul(ax.expandDims(2), tf.scalar(m, 'int32')), ay.expandDims(1)).reshape([n * p * p]); // flat a·m + b

      // Spread charges (1, y_x, y_y) to the grid: Q[c, a, b].
      const ones = tf.ones([n, 1]);
      const charges = tf.concat([ones, yc], 1); // [N, 3]
      const upd = tf.mul(w2.expandDims(1), tf.reshape(tf.tile(charges.expandDims(1), [1, p * p, 1]), [n * p * p, 3]));
      const grid = tf.scatterND(node.expandDims(1), upd, [m * m, 3]); // [m², 3]
      const q = tf.transpose(grid.reshape([m, m, 3]), [2, 0, 1]); // [3, m, m]

      // Forward 2-D DFT of the zero-padded charges with F = (C − iS)[0:m, :] (m × L), both axes
      // by right-multiplication: T = (Q·F)ᵀ·F = Fᵀ·Qᵀ·F = Q̂ᵀ. The kernel spectrum is symmetric
      // (K(Δx, Δy) = K(Δy, Δx)), so κ̂ ⊙ Q̂ᵀ = Ŷᵀ, and the inverse done the same way,
      // (Ŷᵀ·E)ᵀ·E = Eᵀ·Ŷ·E with E = (C + iS)[:, 0:m], undoes the transpose.
      const q2 = q.reshape([3 * m, m]);
      const ar = tf.matMul(q2, cmT).reshape([3, m, L]).transpose([0, 2, 1]).reshape([3 * L, m]); // (Q Cmᵀ)ᵀ
      const ai = tf.matMul(q2, negSmT).reshape([3, m, L]).transpose([0, 2, 1]).reshape([3 * L, m]); // (−Q Smᵀ)ᵀ
      const tr = tf.add(tf.matMul(ar, cmT), tf.matMul(ai, smT)).reshape([3, L, L]);
      const ti = tf.sub(tf.matMul(ai, cmT), tf.matMul(ar, smT)).reshape([3, L, L]);

      // Kernel grids on the circulant offsets (K1 and K2 = K1²) and their real spectra C κ C.
      const r2 = tf.mul(tf.add(off2.expandDims(1), off2.expandDims(0)), h * h);
      const k1 = tf.reciprocal(tf.add(r2, 1)) as tf.Tensor2D;
      const s1 = tf.matMul(tf.matMul(cFull, k1), cFull);
      const s2 = tf.matMul(tf.matMul(cFull, tf.square(k1)), cFull);

      // Products: K2 with charges (1, y_x, y_y), K1 with charge 1 (first-axis slices are contiguous copies).
      const yr = tf.concat([tf.mul(s2, tr), tf.mul(s1, tr.slice([0, 0, 0], [1, L, L]))], 0).reshape([4 * L, L]);
      const yi = tf.concat([tf.mul(s2, ti), tf.mul(s1, ti.slice([0, 0, 0], [1, L, L]))], 0).reshape([4 * L, L]);

      // Inverse 2-D DFT, keeping only the m × m block of real outputs.
      const br = tf.sub(tf.matMul(yr, cm), tf.matMul(yi, sm)).reshape([4, L, m]).transpose([0, 2, 1]).reshape([4 * m, L]);
      const bi = tf.add(tf.matMul(yr, sm), tf.matMul(yi, cm)).reshape([4, L, m]).transpose([0, 2, 1]).reshape([4 * m, L]);
      const phiGrid = tf.div(tf.sub(tf.matMul(br, cm), tf.matMul(bi, sm)), L * L); // [4m, m]

      // Interpolate potentials back to the points with the same weights.
      const phiNodes = tf.transpose(phiGrid.reshape([4, m * m])); // [m², 4]
      const phi = tf.sum(tf.mul(tf.gather(phiNodes, node).reshape([n, p * p, 4]), w2.reshape([n, p * p, 1])), 1); // [N, 4]
      const phi1 = phi.slice([0, 0], [n, 1]);
      const phiY = phi.slice([0, 1], [n, 2]);
      const psi = phi.slice([0, 3], [n, 1]);
      const rep = tf.sub(tf.mul(yc, phi1), phiY) as tf.Tensor2D;
      const z = tf.sub(tf.sum(psi), n) as tf.Scalar;
      return { rep, z };
    });
  };

  return {
    bounds,
    compute,
    get gridSize() {
      return gridSize;
    },
    dispose() {
      disposeDft(dft);
      dft = null;
    },
  };
}
