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
export interface ProjectionRecord {
  kind: 'gaussian';
  /** The layer's own width N. */
  fromDims: number;
  /** Dimensions analysed (k). */
  toDims: number;
  /** Seed of the projection matrix (rows drawn in order from gaussianStream(seed)). */
  seed: number;
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
