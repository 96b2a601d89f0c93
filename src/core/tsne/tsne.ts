/**
 * Exact t-SNE on tfjs ops — the small-N oracle of specs/tsne.md §2.4 engine 1.
 *
 * van der Maaten & Hinton (2008): minimise KL(P‖Q) with a Student-t kernel
 * w_ij = 1/(1+‖y_i−y_j‖²), q_ij = w_ij / Z. Gradient (spec §2.4):
 *   ∂KL/∂y_i = 4 (α·Σ_j p_ij w_ij (y_i−y_j) − Σ_j w_ij² (y_i−y_j) / Z),  α = exaggeration.
 * Attraction runs over the sparse symmetric P edges stored as padded rows (gather + fixed-order
 * row sums); repulsion is exact over all pairs in row tiles of REPULSION_TILE_ROWS.
 *
 * Optimiser (spec §2.5, openTSNE defaults): PCA init scaled to std(PC1) = 1e-4, early
 * exaggeration 12 for 250 iterations then 1 for 500, momentum 0.8, learning rate
 * max(N/α, 50) per phase, delta-bar-delta gains (+0.2 on sign flip, ×0.8 otherwise, floor
 * 0.01), optional max-gradient-norm clipping. Deterministic for a seed (R4): no Math.random,
 * tfjs CPU reductions are sequential.
 *
 * Large N (spec §2.4 engine 2): the repulsion can instead come from FFT-accelerated
 * interpolation (Linderman et al. 2019, fft.ts) and the kNN from row-tiled tfjs matmuls
 * (knn.ts); `engine: 'auto'` picks exact up to EXACT_MAX_N points and FFT above, so up to
 * 10 000 points run without any N × N buffer. Which engine ran is reported (`engine`).
 *
 * Typed-array engine (typed-engine.ts): on the CPU-like backends ('cpu', 'wasm') the per-op
 * dispatch of this tensor engine dominates an iteration, so `impl: 'auto'` (default) runs the
 * same algorithm (same P, init, schedule, warm start) on Float64Array loops there, with its
 * own exact/FFT crossover (TYPED_EXACT_MAX_N); GPU backends keep the tfjs ops. Which one ran
 * is reported (`impl`).
 *
 * Used by the overlap metric (Valentim, Antunes & Lourenço, arXiv 2406.14073) per layer.
 */
import * as tf from '@tensorflow/tfjs';
import { isSoftwareAdapter } from '../backend';
import { createRng, deriveSeed } from '../random';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { signOf, sumOf } from '../model/kernel-fixes';
import { computeP, updateP, type SparseP } from './affinities';
import { createFftRepulsion, type BoundingBox, type FftRepulsionOptions } from './fft';
import { fitPca, projectPca } from './pca';
import { createTypedTsne, typedAutoEngine } from './typed-engine';

/** Rows per repulsion tile: T × N × 2 floats live at once (512 × 10 000 × 2 × 4 B = 40 MB). */
export const REPULSION_TILE_ROWS = 512;
/**
 * `engine: 'auto'` runs the exact O(N²) repulsion up to this N and the FFT engine above
 * (spec §2.4: exact is the default for N ≤ 5000 — 25 M pairs per iteration is cheap on a GPU
 * and it is the bit-repeatable oracle; FFT cost is independent of N).
 */
export const EXACT_MAX_N = 5000;
/** `knn: 'auto'` uses the float64 CPU kNN up to this N and the tiled tfjs kNN above (N²·D work). */
export const CPU_KNN_MAX_N = 2000;

/** Repulsion engine (spec §2.4): exact tiles, or FFT-accelerated interpolation (FIt-SNE). */
export type TsneEngine = 'exact' | 'fft';

/** The engine `'auto'` picks for N points: exact for N ≤ EXACT_MAX_N, FFT above. */
export function autoEngine(n: number): TsneEngine {
  return n <= EXACT_MAX_N ? 'exact' : 'fft';
}

/** Iteration implementation: tfjs ops (any backend), or Float64Array loops (typed-engine.ts). */
export type TsneImpl = 'tfjs' | 'typed';

/**
 * The implementation `impl: 'auto'` picks: typed arrays on the CPU-like backends and on GPU
 * backends that run on a software adapter (bench tsne --browser: the tfjs ops did not finish
 * N = 1,000 in 270 s on SwiftShader, the typed engine took 5 s), tfjs ops on real GPUs.
 */
export function autoImpl(backend: string | null | undefined = tf.getBackend(), softwareAdapter = isSoftwareAdapter()): TsneImpl {
  return backend === 'cpu' || backend === 'wasm' || softwareAdapter ? 'typed' : 'tfjs';
}

export interface TsneOptions {
  perplexity?: number;
  /** Master seed; streams derived with deriveSeed. */
  seed?: number;
  earlyExaggeration?: number;
  earlyExaggerationIter?: number;
  /** Total iterations including early exaggeration (250 + 500). */
  nIter?: number;
  momentum?: number;
  /** 'auto' = max(N/α, 50) per phase (openTSNE). */
  learningRate?: number | 'auto';
  minGain?: number;
  /** Clip each point's gradient to this norm (openTSNE max_grad_norm); off by default. */
  maxGradNorm?: number;
  /** Initial positions N × 2; default PCA init (std(PC1) = 1e-4). */
  init?: Float32Array;
  /**
   * Without `init`: 'pca' (default, spec §2.5; deterministic, the seed does not change it) or
   * 'random' = seeded N(0, (1e-4)²) per coordinate (van der Maaten & Hinton 2008), which makes
   * cold starts with different seeds differ — what a mean ± sd over seeds needs (spec §3).
   */
  initMode?: 'pca' | 'random';
  /** Rows excluded from the PCA init fit (default: fit on all rows). */
  initFitRows?: Int32Array;
  /**
   * Repulsion engine; 'auto' (default) = autoEngine(N) on the tfjs path, typedAutoEngine(N)
   * on the typed path.
   */
  engine?: 'auto' | TsneEngine;
  /** Iteration implementation; 'auto' (default) = autoImpl(tf.getBackend()). */
  impl?: 'auto' | TsneImpl;
  /** FFT engine grid parameters (fft.ts). */
  fft?: FftRepulsionOptions;
  /** kNN for P: 'cpu' float64 brute force, 'tfjs' row-tiled matmul + topk; 'auto' by CPU_KNN_MAX_N. */
  knn?: 'auto' | 'cpu' | 'tfjs';
}

export interface TsneStepResult {
  positions: Float32Array;
  kl: number;
  iteration: number;
  /** The repulsion engine that ran. */
  engine?: TsneEngine;
  /** The implementation that ran. */
  impl?: TsneImpl;
  /**
   * Iterations so far per repulsion engine. The typed impl with `engine: 'auto'` runs the FFT
   * on compact layouts when it is cheaper (typed-engine.ts fftIsCheaper) and `engine` names
   * the engine chosen by N; the tfjs impl runs `engine` throughout and leaves this unset.
   */
  engineIterations?: { exact: number; fft: number };
}

export interface Tsne {
  readonly n: number;
  /** The repulsion engine in use (resolved from 'auto'). */
  readonly engine: TsneEngine;
  /** The iteration implementation in use (resolved from 'auto'). */
  readonly impl: TsneImpl;
  /** Iterations done so far. */
  readonly iteration: number;
  /**
   * Run n more iterations (the schedule decides α, η); returns positions and KL at the end.
   * Everything that reads numbers back is async: tfjs-webgpu's synchronous read-back goes
   * through a canvas and returns zeros on software adapters (SwiftShader), so none is used.
   */
  step(nIter: number): Promise<TsneStepResult>;
  positions(): Promise<Float32Array>;
  /** KL(P‖Q) at the current positions with the unexaggerated P (Z from the engine in use). */
  kl(): Promise<number>;
  /** KL gradient at the current positions with exaggeration α (default 1), N × 2 (repulsion from the engine in use). */
  gradient(exaggeration?: number): Promise<Float32Array>;
  /** The sparse P in use (CSR). */
  readonly p: SparseP;
  /**
   * Warm start (spec §2.6): replace the rows listed in `rows` (e.g. the adversarial rows)
   * by new high-dimensional data and recompute P; positions of other rows are kept.
   */
  warmStart(rows: Int32Array, newData: Float32Array, opts?: WarmStartOptions): Promise<void>;
  dispose(): void;
}

export interface WarmStartOptions {
  /** 'joint': all points move (used for the metric); 'anchored': only `rows` move. */
  mode?: 'joint' | 'anchored';
  /** Start position of each changed row; default: keep its current position. */
  startPositions?: Float32Array;
  /** Learning rate after the warm start; spec: N/12. */
  learningRate?: number;
  /** Exaggeration during the warm phase; spec: none (1). */
  exaggeration?: number;
}

const DEFAULTS = {
  perplexity: 30,
  seed: 0,
  earlyExaggeration: 12,
  earlyExaggerationIter: 250,
  nIter: 750,
  momentum: 0.8,
  minGain: 0.01,
};

/** CSR P → padded rows of width max degree; padding edges are (i, i, 0) and contribute nothing. */
function toEll(p: SparseP): { width: number; rows: Int32Array; cols: Int32Array; vals: Float32Array } {
  let width = 1;
  for (let i = 0; i < p.n; i++) width = Math.max(width, p.rowPtr[i + 1] - p.rowPtr[i]);
  const rows = new Int32Array(p.n * width);
  const cols = new Int32Array(p.n * width);
  const vals = new Float32Array(p.n * width);
  for (let i = 0; i < p.n; i++) {
    const start = p.rowPtr[i];
    const deg = p.rowPtr[i + 1] - start;
    for (let t = 0; t < width; t++) {
      rows[i * width + t] = i;
      cols[i * width + t] = t < deg ? p.cols[start + t] : i;
      vals[i * width + t] = t < deg ? p.vals[start + t] : 0;
    }
  }
  return { width, rows, cols, vals };
}

/** PCA init of spec §2.5: first two PCs, scaled so std(PC1) = 1e-4, sign-fixed by fitPca. */
export function pcaInit(x: Float32Array, n: number, d: number, seed: number, fitRows?: Int32Array): Float32Array {
  const out = new Float32Array(n * 2);
  const fit = fitRows ?? Int32Array.from({ length: n }, (_, i) => i);
  const k = Math.min(2, d);
  const model = fitPca(x, d, fit, { nComponents: k, seed });
  const proj = projectPca(model, x);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += proj[i * k];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (proj[i * k] - mean) ** 2;
  const sd = Math.sqrt(v / n);
  const scale = sd > 0 ? 1e-4 / sd : 0;
  const rng = createRng(deriveSeed(seed, 'tsne-init-jitter'));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      // A degenerate (constant or 1-D) input gets a tiny seeded jitter so points can separate.
      out[i * 2 + c] = c < k && scale > 0 ? proj[i * k + c] * scale : 1e-4 * rng.normal();
    }
  }
  return out;
}

/** Seeded random init N(0, (1e-4)²) (van der Maaten & Hinton 2008 §3.4). */
export function randomInit(n: number, seed: number): Float32Array {
  const rng = createRng(deriveSeed(seed, 'tsne-random-init'));
  const out = new Float32Array(n * 2);
  for (let i = 0; i < out.length; i++) out[i] = 1e-4 * rng.normal();
  return out;
}

/** Create a steppable t-SNE of x (n × d, row-major); delegates to the typed engine on CPU-like backends. */
export async function createTsne(x: Float32Array, n: number, d: number, opts: TsneOptions = {}): Promise<Tsne> {
  const o = { ...DEFAULTS, ...opts };
  if (x.length !== n * d) throw new LabError(`t-SNE: data has ${x.length} floats, expected ${n}·${d}`);
  // Checked here rather than deep in the kNN or the gradient, where they surface as a KL of NaN or "k = 0".
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new LabError(`t-SNE: input has non-finite values (point ${Math.floor(i / d)}, value ${x[i]})`);
  }
  if (n < 2) throw new LabError(`t-SNE: needs at least 2 points (got ${n})`);
  // Each point keeps 3·perplexity neighbours; below 1 that rounds to too few to calibrate.
  if (!(o.perplexity >= 1)) throw new LabError(`t-SNE: perplexity must be at least 1 (got ${o.perplexity})`);
  if (o.init && !o.init.every(Number.isFinite)) throw new LabError('t-SNE: the initial positions have non-finite values');
  let impl: TsneImpl;
  if (o.impl === undefined || o.impl === 'auto') {
    // getBackend() is null until some tensor work picked a backend; tf.backend() picks it.
    if (!tf.getBackend()) tf.backend();
    impl = autoImpl(tf.getBackend());
  } else impl = o.impl;
  if (impl !== 'tfjs' && impl !== 'typed') throw new LabError(`t-SNE: unknown impl "${String(o.impl)}"`);
  const engine: TsneEngine = o.engine === undefined || o.engine === 'auto' ? (impl === 'typed' ? typedAutoEngine(n) : autoEngine(n)) : o.engine;
  if (engine !== 'exact' && engine !== 'fft') throw new LabError(`t-SNE: unknown engine "${String(o.engine)}"`);
  const knn = o.knn === undefined || o.knn === 'auto' ? (n <= CPU_KNN_MAX_N ? 'cpu' : 'tfjs') : o.knn;
  const data = Float32Array.from(x);
  let p = await computeP(data, n, d, o.perplexity, knn);
  const init = o.init ?? (o.initMode === 'random' ? randomInit(n, o.seed) : pcaInit(data, n, d, o.seed, o.initFitRows));
  if (init.length !== n * 2) throw new LabError(`t-SNE: init has ${init.length} floats, expected ${n}·2`);
  if (impl === 'typed') {
    return createTypedTsne({
      data, n, d, p, init, engine, adaptive: o.engine === undefined || o.engine === 'auto', fft: o.fft, perplexity: o.perplexity, knn,
      earlyExaggeration: o.earlyExaggeration, earlyExaggerationIter: o.earlyExaggerationIter, momentum: o.momentum,
      learningRate: o.learningRate, minGain: o.minGain, maxGradNorm: o.maxGradNorm,
    });
  }
  const fft = engine === 'fft' ? createFftRepulsion(o.fft) : null;
  let ell = toEll(p);
  let edgeCols = tf.tensor1d(ell.cols, 'int32');
  let edgeVals = tf.tensor1d(ell.vals, 'float32');
  let pLogP = 0;
  const refreshPlogP = () => {
    pLogP = 0;
    for (let e = 0; e < p.vals.length; e++) if (p.vals[e] > 0) pLogP += p.vals[e] * Math.log(p.vals[e]);
  };
  refreshPlogP();

  let y = tf.tensor2d(init, [n, 2]);
  let update = tf.zeros([n, 2]);
  let gains = tf.ones([n, 2]);
  // 1 for rows that move; anchored warm starts freeze the clean rows (openTSNE `transform`).
  let moveMask: tf.Tensor | null = null;
  let iteration = 0;
  // After a warm start the schedule is replaced by a fixed (α, η).
  let warm: { exaggeration: number; learningRate: number } | null = null;

  /**
   * Repulsion (unnormalised Σ_j w_ij² (y_i − y_j)) and Z, in fixed-order row tiles.
   * tfjs-cpu broadcasting is slow, so the pairwise differences x_i − x_j come from a K = 2
   * matmul [x_i, 1]·[1, −x_j]ᵀ: one product by 1 (exact) and one addition, i.e. exactly the
   * float32 difference, with an exact 0 on the diagonal. (The ‖a‖²+‖b‖²−2ab expansion
   * loses ~|y|²·1e-7 to cancellation and made Z negative for spread-out layouts.)
   * The diagonal (w_ii = 1 exactly) is removed with a one-hot mask so Z sums over k ≠ l only.
   */
  const repulsion = (yy: tf.Tensor2D, box: BoundingBox | null): { rep: tf.Tensor2D; z: tf.Scalar } => {
    if (fft) return fft.compute(yy, box ?? [0, 0, 0, 0]);
    const ones = tf.ones([n, 1]);
    const xs = yy.slice([0, 0], [n, 1]);
    const ys = yy.slice([0, 1], [n, 1]);
    const leftX = tf.concat([xs, ones], 1);
    const rightX = tf.concat([ones, tf.neg(xs)], 1);
    const leftY = tf.concat([ys, ones], 1);
    const rightY = tf.concat([ones, tf.neg(ys)], 1);
    const reps: tf.Tensor[] = [];
    const zs: tf.Tensor[] = [];
    for (let r0 = 0; r0 < n; r0 += REPULSION_TILE_ROWS) {
      const t = Math.min(REPULSION_TILE_ROWS, n - r0);
      const dx = tf.matMul(leftX.slice([r0, 0], [t, 2]), rightX, false, true); // T × N
      const dy = tf.matMul(leftY.slice([r0, 0], [t, 2]), rightY, false, true);
      const eye = tf.oneHot(tf.range(r0, r0 + t, 1, 'int32'), n, 1, 0, 'float32');
      const w = tf.sub(tf.reciprocal(tf.add(tf.add(tf.square(dx), tf.square(dy)), 1)), eye);
      const w2 = tf.square(w);
      reps.push(tf.stack([tf.sum(tf.mul(w2, dx), 1), tf.sum(tf.mul(w2, dy), 1)], 1));
      zs.push(tf.sum(w));
    }
    return { rep: tf.concat(reps, 0) as tf.Tensor2D, z: sumOf(zs) as tf.Scalar };
  };

  /**
   * Attraction Σ_j p_ij w_ij (y_i − y_j) over P stored as padded rows (ELL: N × maxDegree,
   * padding points at the row itself with p = 0). A fixed-order row sum replaces
   * unsortedSegmentSum, which is ~100× slower on tfjs-cpu.
   */
  const attractionTerms = (yy: tf.Tensor2D) => {
    // Row i of the ELL layout is all edges (i, ·), so y_i is a broadcast, not a gather:
    // gathers dominate an iteration on tfjs-cpu and WASM, and this halves them.
    const yj = tf.reshape(tf.gather(yy, edgeCols), [n, ell.width, 2]);
    const diff = tf.sub(yy.expandDims(1), yj); // N × K × 2
    const w = tf.reshape(tf.reciprocal(tf.add(1, tf.sum(tf.square(diff), 2))), [n * ell.width]); // N·K
    const pw = tf.mul(edgeVals, w);
    const f = tf.mul(tf.reshape(pw, [n, ell.width, 1]), diff);
    return { attr: tf.sum(f, 1) as tf.Tensor2D, w };
  };

  /** The FFT grid's bounding box (one small async read-back); null for the exact engine. */
  const boxOf = (yy: tf.Tensor2D): Promise<BoundingBox> | null => (fft ? fft.bounds(yy) : null);

  const klOf = async (yy: tf.Tensor2D): Promise<number> => {
    const box = await boxOf(yy);
    const t = tf.tidy(() => {
      const { z } = repulsion(yy, box);
      const { w } = attractionTerms(yy);
      // KL = Σ p log p − Σ p log w + log Z (Σ p = 1).
      return tf.sub(tf.log(z), tf.sum(tf.mul(edgeVals, tf.log(w))));
    });
    try {
      return (await t.data())[0] + pLogP;
    } finally {
      t.dispose();
    }
  };

  const gradientOf = (yy: tf.Tensor2D, exaggeration: number, box: BoundingBox | null): tf.Tensor2D => {
    const { rep, z } = repulsion(yy, box);
    const { attr } = attractionTerms(yy);
    return tf.mul(4, tf.sub(tf.mul(exaggeration, attr), tf.div(rep, z)));
  };

  const schedule = (it: number) => {
    if (warm) return warm;
    const alpha = it < o.earlyExaggerationIter ? o.earlyExaggeration : 1;
    const lr = o.learningRate === undefined || o.learningRate === 'auto' ? Math.max(n / alpha, 50) : o.learningRate;
    return { exaggeration: alpha, learningRate: lr };
  };

  const oneStep = async () => {
    const { exaggeration, learningRate } = schedule(iteration);
    const box = await boxOf(y as tf.Tensor2D);
    const [ny, nu, ng] = tf.tidy(() => {
      let grad: tf.Tensor = gradientOf(y as tf.Tensor2D, exaggeration, box);
      if (o.maxGradNorm !== undefined) {
        const norm = tf.sqrt(tf.sum(tf.square(grad), 1, true));
        grad = tf.mul(grad, tf.minimum(1, tf.div(o.maxGradNorm, tf.maximum(norm, 1e-12))));
      }
      // Delta-bar-delta: grow the gain where the gradient opposes the previous update.
      const flip = tf.notEqual(signOf(grad), signOf(update));
      let g = tf.where(flip, tf.add(gains, 0.2), tf.mul(gains, 0.8));
      g = tf.maximum(g, o.minGain);
      let u = tf.sub(tf.mul(o.momentum, update), tf.mul(learningRate, tf.mul(g, grad)));
      if (moveMask) u = tf.mul(u, moveMask);
      return [tf.add(y, u), u, g];
    });
    y.dispose();
    update.dispose();
    gains.dispose();
    y = ny;
    update = nu;
    gains = ng;
    iteration++;
  };

  const tsne: Tsne = {
    n,
    engine,
    impl,
    get iteration() {
      return iteration;
    },
    get p() {
      return p;
    },
    async step(nIter: number) {
      for (let i = 0; i < nIter; i++) await oneStep();
      return { positions: await tsne.positions(), kl: await tsne.kl(), iteration, engine, impl };
    },
    // Copy: on tfjs-cpu data() may hand out the tensor's own buffer; callers transfer it.
    positions: async () => Float32Array.from(await y.data()),
    kl: () => klOf(y as tf.Tensor2D),
    gradient: async (exaggeration = 1) => {
      const box = await boxOf(y as tf.Tensor2D);
      const g = tf.tidy(() => gradientOf(y as tf.Tensor2D, exaggeration, box));
      try {
        return Float32Array.from(await g.data());
      } finally {
        g.dispose();
      }
    },
    async warmStart(rows: Int32Array, newData: Float32Array, w: WarmStartOptions = {}) {
      if (newData.length !== rows.length * d) throw new LabError(`warm start: ${rows.length} rows need ${rows.length * d} floats`);
      for (let r = 0; r < rows.length; r++) data.set(newData.subarray(r * d, (r + 1) * d), rows[r] * d);
      // Spec §2.6: only the changed rows and rows whose neighbour lists they enter are re-done.
      p = await updateP(p, data, n, d, o.perplexity, rows, knn);
      edgeCols.dispose();
      edgeVals.dispose();
      ell = toEll(p);
      edgeCols = tf.tensor1d(ell.cols, 'int32');
      edgeVals = tf.tensor1d(ell.vals, 'float32');
      refreshPlogP();
      const pos = (await y.data()) as Float32Array;
      const next = Float32Array.from(pos);
      if (w.startPositions) {
        if (w.startPositions.length !== rows.length * 2) throw new LabError('warm start: startPositions need 2 floats per row');
        for (let r = 0; r < rows.length; r++) {
          next[rows[r] * 2] = w.startPositions[r * 2];
          next[rows[r] * 2 + 1] = w.startPositions[r * 2 + 1];
        }
      }
      y.dispose();
      update.dispose();
      gains.dispose();
      y = tf.tensor2d(next, [n, 2]);
      // Spec §2.6: reset gains to 1; the momentum buffer restarts from rest.
      update = tf.zeros([n, 2]);
      gains = tf.ones([n, 2]);
      moveMask?.dispose();
      moveMask = null;
      if ((w.mode ?? 'joint') === 'anchored') {
        const m = new Float32Array(n * 2);
        for (let r = 0; r < rows.length; r++) m[rows[r] * 2] = m[rows[r] * 2 + 1] = 1;
        moveMask = tf.tensor2d(m, [n, 2]);
      }
      warm = { exaggeration: w.exaggeration ?? 1, learningRate: w.learningRate ?? n / 12 };
    },
    dispose() {
      y.dispose();
      update.dispose();
      gains.dispose();
      edgeCols.dispose();
      edgeVals.dispose();
      moveMask?.dispose();
      moveMask = null;
      fft?.dispose();
    },
  };
  return tsne;
}

/**
 * Warm-start helper (spec §2.6): the start position of each adversarial row at the first
 * non-zero ε is its clean partner's position plus a deterministic jitter of 1e-4 × std(Y).
 */
export function partnerStartPositions(positions: Float32Array, partners: Int32Array, seed: number): Float32Array {
  const n = positions.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += positions[2 * i];
    my += positions[2 * i + 1];
  }
  mx /= n;
  my /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (positions[2 * i] - mx) ** 2 + (positions[2 * i + 1] - my) ** 2;
  const sd = Math.sqrt(v / (2 * n));
  const rng = createRng(deriveSeed(seed, 'tsne-warm-jitter'));
  const out = new Float32Array(partners.length * 2);
  for (let r = 0; r < partners.length; r++) {
    out[2 * r] = positions[2 * partners[r]] + 1e-4 * sd * rng.normal();
    out[2 * r + 1] = positions[2 * partners[r] + 1] + 1e-4 * sd * rng.normal();
  }
  return out;
}

/**
 * Long-job wrapper (STYLE.md convention 3): runs the full schedule in batches, reporting
 * progress and honouring the abort signal between batches. The partial result on
 * cancellation is the last batch's positions.
 */
export async function runTsne(
  x: Float32Array,
  shape: { n: number; d: number },
  opts: TsneOptions & { batch?: number; stopTol?: number } = {},
  control: JobControl = {},
): Promise<TsneStepResult> {
  const tsne = await createTsne(x, shape.n, shape.d, opts);
  const total = opts.nIter ?? DEFAULTS.nIter;
  if (!(Number.isInteger(total) && total >= 1)) throw new LabError(`t-SNE: iterations must be a positive integer (got ${total})`);
  const batch = Math.max(1, opts.batch ?? 10);
  const early = opts.earlyExaggerationIter ?? DEFAULTS.earlyExaggerationIter;
  // Spec §2.5: stop when KL changes by < 1e-4 (relative) over 50 iterations after exaggeration.
  const stopTol = opts.stopTol ?? 1e-4;
  let checkpointKl: number | null = null;
  let last: TsneStepResult = { positions: await tsne.positions(), kl: NaN, iteration: 0, engine: tsne.engine, impl: tsne.impl };
  try {
    while (tsne.iteration < total) {
      if (control.signal?.aborted) throw new JobCancelledError(last);
      const chunk = Math.min(batch, total - tsne.iteration);
      last = await tsne.step(chunk);
      control.onProgress?.({ fraction: tsne.iteration / total, message: `iteration ${tsne.iteration}, KL ${last.kl.toFixed(3)}` });
      const since = tsne.iteration - early;
      if (since > 0 && since % 50 === 0) {
        if (checkpointKl !== null && Math.abs(checkpointKl - last.kl) < stopTol * Math.abs(checkpointKl)) break;
        checkpointKl = last.kl;
      }
      // Yield so the abort signal and progress messages can be delivered.
      await new Promise((r) => setTimeout(r, 0));
    }
    return last;
  } finally {
    tsne.dispose();
  }
}

/**
 * Stability measure of spec §2.6: displacement of the clean points between consecutive ε,
 * mean ‖ΔY_i‖ over clean rows divided by the RMS radius of the clean rows (after the step)
 * around their centroid. 0 means the clean layout did not move.
 */
export function cleanDisplacement(prev: Float32Array, next: Float32Array, cleanRows: Int32Array): number {
  const m = cleanRows.length;
  if (m === 0) return NaN;
  let move = 0;
  let cx = 0;
  let cy = 0;
  for (const r of cleanRows) {
    move += Math.hypot(next[2 * r] - prev[2 * r], next[2 * r + 1] - prev[2 * r + 1]);
    cx += next[2 * r];
    cy += next[2 * r + 1];
  }
  cx /= m;
  cy /= m;
  let rad = 0;
  for (const r of cleanRows) rad += (next[2 * r] - cx) ** 2 + (next[2 * r + 1] - cy) ** 2;
  const rms = Math.sqrt(rad / m);
  return rms > 0 ? move / m / rms : NaN;
}
