/**
 * Feature maps g = A∘f for the collision search (spec collision.md §1–2).
 *
 * - `tfCollisionMap` wraps any batched tfjs function: one forward for g and m backward
 *   passes for the Jacobian rows. Row k of Dg at a batch Z is ∇_Z Σ_b g(Z)[b, k], valid only
 *   because samples do not interact (BatchNorm in inference mode, no batch reductions; spec
 *   pitfall 6).
 * - `gaussianProjection` draws the seeded m × n matrix A with A_ik ~ N(0, 1/m).
 * - `mlpFeatureFn` builds f for the fixture MLP format (weights [out][in], PyTorch layout;
 *   spec pitfall 5) as tfjs ops, plus a float64 JS forward used to *check* feasibility.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';
import { createRng } from '../random';
import { loadModelArtifacts, type ReadModelFile } from '../model/artifacts';
import { createPlainExecutor } from '../model/executor';
import type { LabModel } from '../model/model';
import type { CollisionMap } from './collision';

export type BatchFn = (x: tf.Tensor2D) => tf.Tensor2D;

export interface TfMapOptions {
  /**
   * 'tiled' (default): all m Jacobian rows from ONE backward pass over the batch tiled m
   * times, copy k seeded with cotangent e_k. Same arithmetic as m separate VJPs, but one
   * tape and one forward instead of m (tfjs re-runs the forward for every tf.grad call),
   * and far fewer kernel launches, which dominate for small nets (spec §7).
   * 'rows': m separate vector-Jacobian products, one per row (lowest memory).
   */
  jacobian?: 'tiled' | 'rows';
  /** Cap on rows of one tiled pass (m·count); larger m is split into chunks of rows. */
  maxTileRows?: number;
}

/** Adapter over a tfjs function R^{n0} → R^m applied row-wise to a [count, n0] batch. */
export function tfCollisionMap(fn: BatchFn, n0: number, m: number, opts: TfMapOptions = {}): CollisionMap {
  const { jacobian = 'tiled', maxTileRows = 1024 } = opts;
  return {
    n0,
    m,
    // Async: results come back with `await data()`. tfjs-webgpu's dataSync goes through a
    // canvas readback that returns zeros on software adapters (SwiftShader), so no sync reads.
    async evaluate(points, count, withJacobian) {
      const Z = tf.tensor2d(Float32Array.from(points), [count, n0]);
      try {
        if (!withJacobian) return { g: await download(tf.tidy(() => fn(Z))) };
        const J = new Float64Array(count * m * n0);
        if (jacobian === 'rows') {
          const g = await download(tf.tidy(() => fn(Z)));
          for (let k = 0; k < m; k++) {
            // One vector-Jacobian product with cotangent e_k per row of every point at once.
            const row = tf.tidy(() => tf.grad((z: tf.Tensor) => fn(z as tf.Tensor2D).slice([0, k], [count, 1]).sum())(Z));
            const d = await download(row);
            for (let p = 0; p < count; p++) for (let j = 0; j < n0; j++) J[(p * m + k) * n0 + j] = d[p * n0 + j];
          }
          return { g, jac: J };
        }
        let g: Float64Array = new Float64Array(0);
        const perPass = Math.max(1, Math.min(m, Math.floor(maxTileRows / count)));
        for (let k0 = 0; k0 < m; k0 += perPass) {
          const kk = Math.min(perPass, m - k0);
          // Copy c (rows c·count … c·count + count − 1) reads output column k0 + c only.
          const mask = new Float32Array(kk * count * m);
          for (let c = 0; c < kk; c++) for (let p = 0; p < count; p++) mask[(c * count + p) * m + k0 + c] = 1;
          let gKept: tf.Tensor | null = null;
          const grad = tf.tidy(() => {
            const maskT = tf.tensor2d(mask, [kk * count, m]);
            return tf.grad((z: tf.Tensor) => {
              const out = fn(z as tf.Tensor2D);
              // g itself is the first copy's output: keep it past the gradient's own tidy
              // instead of paying for another forward pass.
              if (k0 === 0) gKept = tf.keep(out.slice([0, 0], [count, m]));
              return tf.sum(tf.mul(out, maskT));
            })(kk === 1 ? Z : tf.tile(Z, [kk, 1]));
          });
          if (gKept) g = await download(gKept);
          const d = await download(grad);
          for (let c = 0; c < kk; c++) {
            const k = k0 + c;
            for (let p = 0; p < count; p++) {
              const src = (c * count + p) * n0;
              const dst = (p * m + k) * n0;
              for (let j = 0; j < n0; j++) J[dst + j] = d[src + j];
            }
          }
        }
        return { g, jac: J };
      } finally {
        Z.dispose();
      }
    },
  };
}

/** Read a tensor back as float64 and dispose it. */
async function download(t: tf.Tensor): Promise<Float64Array> {
  try {
    return Float64Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

/** A (m × n, row-major float64) with entries N(0, 1/m), from a seeded stream. */
export function gaussianProjection(m: number, n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const s = 1 / Math.sqrt(m);
  return Float64Array.from({ length: m * n }, () => rng.normal() * s);
}

/**
 * g = A∘f as tfjs ops, for f with n features. If `A` is null or n ≤ m, no projection is
 * applied (spec: A = I, so m becomes n). Returns the function, its output width and a
 * dispose for the uploaded matrix.
 */
export function projectFn(f: BatchFn, n: number, A: Float64Array | null, m: number): { fn: BatchFn; m: number; dispose: () => void } {
  if (!A || n <= m) return { fn: f, m: n, dispose: () => {} };
  if (A.length !== m * n) throw new LabError(`projection must be ${m}×${n}`);
  const At = tf.tidy(() => tf.keep(tf.tensor2d(Float32Array.from(A), [m, n]).transpose() as tf.Tensor2D));
  return { fn: (x) => tf.matMul(f(x), At), m, dispose: () => At.dispose() };
}

/** Layer name of the input-space baseline, f = identity (spec §3 "input-space curve"). */
export const INPUT_LAYER = 'input';

/** Activations of `layer` for NHWC images; must be differentiable w.r.t. the images. */
export type LayerTap = (images: tf.Tensor4D, layer: string) => tf.Tensor;

/**
 * A LayerTap over a tfjs LayersModel through the plain-op executor (model/executor.ts):
 * it walks only the layers the requested output depends on and computes input gradients
 * only. Why: `LabModel.tap` runs `LayersModel.apply` (fused kernels whose gradient also
 * computes every weight gradient, and the whole network up to the logits); measured on
 * mnist-small-st (CPU backend, 16 images) a gradient to fc1 took ~15 s that way vs
 * ~0.7 s for the plain-op logits. The caller keeps ownership of `lm`; dispose() frees
 * only the executor's folded constants.
 */
export function plainLayerTap(lm: tf.LayersModel): { tap: LayerTap; dispose: () => void } {
  const ex = createPlainExecutor(lm);
  const flat = lm.inputs[0].shape.length === 2;
  const byName = new Map(lm.layers.map((l) => [l.name, l]));
  return {
    tap(images, layer) {
      const l = byName.get(layer);
      if (!l) throw new LabError(`model has no layer named "${layer}"`);
      return ex.run(flat ? images.reshape([images.shape[0], -1]) : images, l.output as tf.SymbolicTensor);
    },
    dispose: () => ex.dispose(),
  };
}

/**
 * Loads the same model files a LabModel came from (same reader as loadLabModel) as a
 * LayersModel and wraps it in plainLayerTap. Returns null for graph models (their LabModel
 * tap is used instead). dispose() frees the executor and this second copy of the weights.
 */
export async function loadPlainLayerTap(modelJsonName: string, read: ReadModelFile, label?: string): Promise<{ tap: LayerTap; dispose: () => void } | null> {
  const artifacts = await loadModelArtifacts(modelJsonName, read, label);
  if (artifacts.format === 'graph-model' || 'node' in (artifacts.modelTopology as Record<string, unknown>)) return null;
  const lm = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const t = plainLayerTap(lm);
  return {
    tap: t.tap,
    dispose: () => {
      t.dispose();
      lm.dispose();
    },
  };
}

/**
 * f_j of a lab model as a batched map on flat images (NHWC order, spec "Notation"):
 * [count, H·W·C] → [count, n_j]. The logits layer runs through `model.logits` (plain ops,
 * input gradients only); other layers through `tap` if given (use plainLayerTap: fast),
 * else `model.tap` (correct but slow for gradients, see plainLayerTap), whose extra logits
 * output is left to the caller's tidy. 'input' (or the model's InputLayer) is the
 * identity. Every call must happen inside tf.tidy / tf.grad (tfCollisionMap does this).
 */
export function modelFeatureFn(model: LabModel, layer: string, shape: [number, number, number], tap?: LayerTap): { fn: BatchFn; n0: number; n: number; identity: boolean } {
  const n0 = shape[0] * shape[1] * shape[2];
  const info = model.layers.find((l) => l.name === layer);
  if (layer === INPUT_LAYER || info?.className === 'InputLayer') return { fn: (x) => x, n0, n: n0, identity: true };
  const toImages = (x: tf.Tensor2D) => x.reshape([x.shape[0], ...shape]) as tf.Tensor4D;
  if (layer === model.logitsLayer) return { fn: (x) => model.logits(toImages(x)), n0, n: model.numClasses, identity: false };
  if (!info) throw new LabError(`model has no layer "${layer}" (have ${[INPUT_LAYER, ...model.layers.map((l) => l.name).filter((l) => l !== INPUT_LAYER)].join(', ')})`);
  const n = info.size;
  const run: LayerTap = tap ?? ((images, name) => model.tap(images, [name])[0]);
  return { fn: (x) => run(toImages(x), layer).reshape([x.shape[0], n]) as tf.Tensor2D, n0, n, identity: false };
}

/** The fixture network format (collision-mlp-public.json `meta.network`). */
export interface MlpSpec {
  /** W[i] is [out][in] (PyTorch y = W x + b). */
  W: number[][][];
  b: number[][];
  /** Optional per-layer projections, keyed by layer name. */
  projections?: Record<string, number[][]>;
}

/** Layer names of the fixture MLP: hidden ReLU layers h1, h2, …, then `out` (linear). */
export function mlpLayerNames(spec: MlpSpec): string[] {
  return spec.W.map((_, i) => (i === spec.W.length - 1 ? 'out' : `h${i + 1}`));
}

function layerCount(spec: MlpSpec, layer: string): number {
  const idx = mlpLayerNames(spec).indexOf(layer);
  if (idx < 0) throw new LabError(`network has no layer "${layer}" (have ${mlpLayerNames(spec).join(', ')})`);
  return idx + 1;
}

/** f truncated at `layer` as tfjs ops (kernels transposed to tfjs [in, out]). */
export function mlpFeatureFn(spec: MlpSpec, layer: string): { fn: BatchFn; n0: number; n: number; dispose: () => void } {
  const L = layerCount(spec, layer);
  const last = spec.W.length;
  const params = spec.W.slice(0, L).map((W, i) =>
    tf.tidy(() => ({
      kernel: tf.keep(tf.tensor2d(W).transpose() as tf.Tensor2D),
      bias: tf.keep(tf.tensor1d(spec.b[i])),
    })),
  );
  const fn: BatchFn = (x) => {
    let h: tf.Tensor2D = x;
    params.forEach((p, i) => {
      const z = tf.add(tf.matMul(h, p.kernel), p.bias) as tf.Tensor2D;
      h = i === last - 1 ? z : tf.relu(z);
    });
    return h;
  };
  const dispose = () => params.forEach((p) => (p.kernel.dispose(), p.bias.dispose()));
  return { fn, n0: spec.W[0][0].length, n: spec.W[L - 1].length, dispose };
}

/** Float64 reference g(x) = A·f_layer(x) in JS (A omitted: identity), for checks. */
export function mlpForward64(spec: MlpSpec, layer: string, x: ArrayLike<number>, A?: number[][] | null): Float64Array {
  const L = layerCount(spec, layer);
  let h = Float64Array.from(x);
  for (let i = 0; i < L; i++) {
    const W = spec.W[i];
    const z = W.map((row, o) => row.reduce((s, w, j) => s + w * h[j], spec.b[i][o]));
    h = Float64Array.from(i === spec.W.length - 1 ? z : z.map((v) => Math.max(0, v)));
  }
  if (!A) return h;
  return Float64Array.from(A.map((row) => row.reduce((s, a, j) => s + a * h[j], 0)));
}

/**
 * Float64 JS CollisionMap of the fixture MLP with exact Jacobians (forward-mode: the
 * Jacobian is propagated layer by layer). Matches the fixture reference's float64 setting,
 * so strict tolerances (τ_feas = 1e-10) are reachable; the lab's tfjs path is float32.
 */
export function mlpCollisionMap64(spec: MlpSpec, layer: string, A?: number[][] | null): CollisionMap {
  const L = layerCount(spec, layer);
  const n0 = spec.W[0][0].length;
  const nOut = spec.W[L - 1].length;
  const m = A ? A.length : nOut;
  return {
    n0,
    m,
    evaluate(points, count, withJacobian) {
      const g = new Float64Array(count * m);
      const jac = withJacobian ? new Float64Array(count * m * n0) : undefined;
      for (let p = 0; p < count; p++) {
        let h = points.slice(p * n0, (p + 1) * n0);
        // D = ∂h/∂x, rows × n0; starts as the identity.
        let D = new Float64Array(n0 * n0);
        for (let j = 0; j < n0; j++) D[j * n0 + j] = 1;
        for (let i = 0; i < L; i++) {
          const W = spec.W[i];
          const relu = i !== spec.W.length - 1;
          const z = new Float64Array(W.length);
          const Dn = new Float64Array(W.length * n0);
          for (let o = 0; o < W.length; o++) {
            let s = spec.b[i][o];
            for (let j = 0; j < h.length; j++) s += W[o][j] * h[j];
            z[o] = relu ? Math.max(0, s) : s;
            // ReLU′(0) = 0, as in PyTorch/tfjs.
            if (withJacobian && (!relu || s > 0)) {
              for (let j = 0; j < h.length; j++) {
                const w = W[o][j];
                if (w !== 0) for (let c = 0; c < n0; c++) Dn[o * n0 + c] += w * D[j * n0 + c];
              }
            }
          }
          h = z;
          D = Dn;
        }
        for (let k = 0; k < m; k++) {
          const a = A ? A[k] : null;
          g[p * m + k] = a ? a.reduce((s, v, j) => s + v * h[j], 0) : h[k];
          if (jac) {
            for (let c = 0; c < n0; c++) {
              let s = 0;
              if (a) for (let j = 0; j < nOut; j++) s += a[j] * D[j * n0 + c];
              else s = D[k * n0 + c];
              jac[(p * m + k) * n0 + c] = s;
            }
          }
        }
      }
      return { g, jac };
    },
  };
}
