/**
 * Seeded Gaussian random projection of a layer's manifolds to at most `maxDims` dimensions
 * before MFTMA, for layers too wide to analyse (or even to hold as float64) in full.
 *
 * Why it is sound: a Gaussian matrix R (N×k, entries N(0, 1/k)) preserves all pairwise
 * distances of n points up to 1 ± ε once k ≳ 8 ln(n)/ε² (Johnson & Lindenstrauss 1984;
 * Dasgupta & Gupta, Random Struct. Alg. 22, 2003). MFTMA depends on the points only through
 * their inner products (spec §11: every quantity after §4 is a function of the Gram matrices),
 * so capacity, radius and dimension move by O(ε). The reference repository's deep-network
 * example (schung039/neural_manifolds_replicaMFT, VGG notebook) likewise projects layers wider
 * than 5,000 features to 5,000 Gaussian directions before the analysis; hence our default.
 *
 * The same R is applied to every manifold of a layer (a projection per manifold would destroy
 * the geometry between them). R is drawn from the lab's seeded stream, row by row, so it is the
 * same on every backend and for every chunk size; the product runs as tfjs matmuls over chunks
 * of input dimensions so neither R nor the float32 activations need to exist as one N×k block.
 */
import * as tf from '@tensorflow/tfjs';
import { detLog } from '../detmath';
import { createRng } from '../random';
import { JobCancelledError, LabError, type JobControl } from '../types';
import type { MftmaInput } from './mftma';

/** Cohen et al. (2020) and the issue: analyse at most this many dimensions per layer. */
export const DEFAULT_MAX_DIMS = 5000;

/** Largest block (floats) of R or of the input columns held at once: 16 MB of float32. */
const CHUNK_FLOATS = 4 << 20;

/**
 * Standard normal draws from the lab's seeded uniform stream by Marsaglia's polar method
 * (Marsaglia & Bray, SIAM Rev. 6, 1964): no trigonometry, about half the CPU time of the
 * Box–Muller draws of createRng().normal(), which matters for the N·k ≈ 27 M entries of R at a
 * 5,408-wide layer. Both values of each accepted pair are used.
 */
export function gaussianStream(seed: number): () => number {
  const rng = createRng(seed);
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    let u: number;
    let v: number;
    let q: number;
    do {
      u = 2 * rng.next() - 1;
      v = 2 * rng.next() - 1;
      q = u * u + v * v;
    } while (q >= 1 || q === 0);
    const f = Math.sqrt((-2 * detLog(q)) / q);
    spare = v * f;
    return u * f;
  };
}

/** What was done to a layer before the analysis, for the UI and exports to state. */
export type ProjectionRecord =
  | {
      kind: 'gaussian';
      /** The layer's own width N. */
      fromDims: number;
      /** Dimensions analysed (k). */
      toDims: number;
      /** Seed of the projection matrix (rows drawn in order from gaussianStream(seed)). */
      seed: number;
    }
  | {
      /** Exact: coordinates in an orthonormal basis of the span of the (globally centred) points. */
      kind: 'span';
      fromDims: number;
      /** Numerical rank of the centred point cloud (≤ number of points − 1). */
      toDims: number;
    };

/**
 * Largest number of points (P·M) reduced exactly by spanReduction. Its cost is P·M·(P·M+1)/2·N
 * float64 multiply-adds for the Gram matrix plus (P·M)³/3 for its Cholesky factor; above a few
 * thousand points the seeded Gaussian projection (a tfjs matmul) is cheaper.
 */
export const SPAN_MAX_POINTS = 2000;

/** Columns per block of the Gram accumulation: rows × block float64 stays cache-sized. */
const GRAM_BLOCK = 1024;

/**
 * Exact reduction of a layer wider than its point cloud: subtract the pooled mean of all
 * points (MFTMA's own first step, spec §1, so nothing is lost), form the float64 Gram matrix
 * G = X̃ X̃ᵀ of the centred points and factor G = L Lᵀ by Cholesky with diagonal pivoting; row a
 * of L is then point a in an orthonormal basis of span(X̃) (an isometry: all inner products are
 * kept). MFTMA depends on the points only through their inner products after centring (spec
 * §11; the per-manifold QR and the center basis are sign-normalised), so the analysis of the
 * reduced points equals that of the full layer up to round-off, with no projection noise and
 * at a fraction of the cost of a 5,000-column random projection. Pure JavaScript float64, so it
 * gives the same bits on every backend.
 * Returns null when the points already span at least N dimensions (nothing to gain).
 */
export async function spanReduction(input: MftmaInput, control: JobControl = {}): Promise<{ input: MftmaInput; projection: ProjectionRecord } | null> {
  const { n, manifolds } = input;
  const counts = manifolds.map((x) => {
    if (x.length % n !== 0) throw new LabError(`manifold of ${x.length} values is not a whole number of ${n}-dimensional points`);
    return x.length / n;
  });
  const rows = counts.reduce((a, b) => a + b, 0);
  if (rows - 1 >= n) return null;
  const points: (Float64Array | Float32Array)[] = [];
  manifolds.forEach((x, i) => {
    for (let mu = 0; mu < counts[i]; mu++) points.push(x.subarray(mu * n, (mu + 1) * n));
  });
  const mean = new Float64Array(n);
  for (const x of points) for (let j = 0; j < n; j++) mean[j] += x[j];
  for (let j = 0; j < n; j++) mean[j] /= rows;
  // Lower triangle of G, accumulated block of columns by block of columns.
  const gram = new Float64Array(rows * rows);
  const block = new Float64Array(rows * GRAM_BLOCK);
  for (let c0 = 0; c0 < n; c0 += GRAM_BLOCK) {
    if (control.signal?.aborted) throw new JobCancelledError();
    const w = Math.min(GRAM_BLOCK, n - c0);
    for (let a = 0; a < rows; a++) {
      const x = points[a];
      const off = a * w;
      for (let j = 0; j < w; j++) block[off + j] = x[c0 + j] - mean[c0 + j];
    }
    // Four dot products per pass over row a (each of its values is loaded once for four rows b).
    for (let a = 0; a < rows; a++) {
      const oa = a * w;
      let b = 0;
      for (; b + 3 <= a; b += 4) {
        const o0 = b * w;
        const o1 = o0 + w;
        const o2 = o1 + w;
        const o3 = o2 + w;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < w; j++) {
          const v = block[oa + j];
          s0 += v * block[o0 + j];
          s1 += v * block[o1 + j];
          s2 += v * block[o2 + j];
          s3 += v * block[o3 + j];
        }
        const g = a * rows + b;
        gram[g] += s0;
        gram[g + 1] += s1;
        gram[g + 2] += s2;
        gram[g + 3] += s3;
      }
      for (; b <= a; b++) {
        const ob = b * w;
        let s = 0;
        for (let j = 0; j < w; j++) s += block[oa + j] * block[ob + j];
        gram[a * rows + b] += s;
      }
    }
    control.onProgress?.({ fraction: Math.min(1, (c0 + w) / n) * 0.9, message: `exact reduction: Gram ${c0 + w}/${n}` });
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  for (let a = 0; a < rows; a++) for (let b = 0; b < a; b++) gram[b * rows + a] = gram[a * rows + b];
  const { factor, rank } = pivotedCholesky(gram, rows);
  const out: Float64Array[] = [];
  let r = 0;
  for (const m of counts) {
    const x = new Float64Array(m * rank);
    for (let mu = 0; mu < m; mu++, r++) for (let c = 0; c < rank; c++) x[mu * rank + c] = factor[r * rank + c];
    out.push(x);
  }
  return { input: { n: rank, manifolds: out }, projection: { kind: 'span', fromDims: n, toDims: rank } };
}

/**
 * G = L Lᵀ for a symmetric positive semi-definite G (n×n, row-major) by Cholesky with
 * diagonal pivoting (Higham, "Accuracy and Stability of Numerical Algorithms", §10.3): each
 * step takes the largest remaining diagonal, and stops once it is ≤ 1e-9 of the largest
 * initial one. What remains then is round-off of a rank-deficient G (the exact null direction
 * of 500 centred MNIST images leaves a pivot of 1e-12 relative, amplified by the conditioning
 * of the leading block) or variance far below the float32 resolution of the activations
 * (≈ 6e-8 relative). `factor` is n×rank in the original row order: factor·factorᵀ = G.
 */
export function pivotedCholesky(g: Float64Array, n: number): { factor: Float64Array; rank: number } {
  const a = Float64Array.from(g);
  const perm = Array.from({ length: n }, (_, i) => i);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]);
  const tol = 1e-9 * maxDiag;
  // Columns of L in the pivoted order, stored row-major n×n (only the first `rank` columns used).
  const l = new Float64Array(n * n);
  let rank = 0;
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (a[perm[i] * n + perm[i]] > a[perm[piv] * n + perm[piv]]) piv = i;
    const d = a[perm[piv] * n + perm[piv]];
    if (!(d > tol)) break;
    [perm[k], perm[piv]] = [perm[piv], perm[k]];
    const pk = perm[k];
    const root = Math.sqrt(d);
    l[pk * n + k] = root;
    for (let i = k + 1; i < n; i++) {
      const pi = perm[i];
      l[pi * n + k] = a[pi * n + pk] / root;
    }
    // Schur complement update of the remaining block (lower triangle and diagonal suffice).
    for (let i = k + 1; i < n; i++) {
      const pi = perm[i];
      const lik = l[pi * n + k];
      if (lik === 0) continue;
      for (let j = k + 1; j <= i; j++) {
        const pj = perm[j];
        const v = a[pi * n + pj] - lik * l[pj * n + k];
        a[pi * n + pj] = v;
        a[pj * n + pi] = v;
      }
    }
    rank++;
  }
  const factor = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) for (let c = 0; c < rank; c++) factor[i * rank + c] = l[i * n + c];
  return { factor, rank };
}

/**
 * Project every manifold of `input` with one seeded Gaussian matrix to `maxDims` dimensions,
 * or return the input unchanged (projection null) when N ≤ maxDims.
 * Float32 out: the activations are float32 to begin with; MFTMA widens them (spec §0).
 */
export async function randomProjection(
  input: MftmaInput,
  maxDims: number = DEFAULT_MAX_DIMS,
  seed = 0,
  control: JobControl = {},
  opts: { chunkFloats?: number } = {},
): Promise<{ input: MftmaInput; projection: ProjectionRecord | null }> {
  const { n, manifolds } = input;
  if (!Number.isInteger(maxDims) || maxDims < 1) throw new LabError(`max dims must be a positive integer (got ${maxDims})`);
  if (n <= maxDims) return { input, projection: null };
  const k = maxDims;
  const counts = manifolds.map((x) => {
    if (x.length % n !== 0) throw new LabError(`manifold of ${x.length} values is not a whole number of ${n}-dimensional points`);
    return x.length / n;
  });
  const rows = counts.reduce((a, b) => a + b, 0);
  // Input dimensions per chunk: bounded by both the R block (chunk × k) and the X block (rows × chunk).
  const budget = opts.chunkFloats ?? CHUNK_FLOATS;
  const chunk = Math.max(1, Math.min(n, Math.floor(budget / k), Math.floor(budget / Math.max(1, rows))));
  const normal = gaussianStream(seed);
  const scale = 1 / Math.sqrt(k);
  const xBlock = new Float32Array(rows * chunk);
  const rBlock = new Float32Array(chunk * k);
  let acc: tf.Tensor2D = tf.zeros([rows, k]);
  try {
    for (let c0 = 0; c0 < n; c0 += chunk) {
      if (control.signal?.aborted) throw new JobCancelledError();
      const w = Math.min(chunk, n - c0);
      // Columns c0..c0+w of all points, point-major (rows × w).
      let r = 0;
      for (const x of manifolds) {
        const m = x.length / n;
        for (let mu = 0; mu < m; mu++, r++) {
          const src = mu * n + c0;
          for (let j = 0; j < w; j++) xBlock[r * w + j] = x[src + j];
        }
      }
      // Rows c0..c0+w of R, drawn in order (so R does not depend on the chunk size).
      for (let i = 0; i < w * k; i++) rBlock[i] = normal() * scale;
      const next = tf.tidy(() => {
        const xs = tf.tensor2d(xBlock.subarray(0, rows * w), [rows, w]);
        const rs = tf.tensor2d(rBlock.subarray(0, w * k), [w, k]);
        return tf.add(acc, tf.matMul(xs, rs)) as tf.Tensor2D;
      });
      acc.dispose();
      acc = next;
      control.onProgress?.({ fraction: Math.min(1, (c0 + w) / n), message: `random projection ${c0 + w}/${n}` });
      // Let an abort or a progress repaint land between chunks.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    const out = (await acc.data()) as Float32Array;
    const projected: Float32Array[] = [];
    let off = 0;
    for (const m of counts) {
      projected.push(out.slice(off * k, (off + m) * k));
      off += m;
    }
    return { input: { n: k, manifolds: projected }, projection: { kind: 'gaussian', fromDims: n, toDims: k, seed } };
  } finally {
    acc.dispose();
  }
}
