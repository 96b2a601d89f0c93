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
import type { CollisionMap } from './collision';

export type BatchFn = (x: tf.Tensor2D) => tf.Tensor2D;

/** Adapter over a tfjs function R^{n0} → R^m applied row-wise to a [count, n0] batch. */
export function tfCollisionMap(fn: BatchFn, n0: number, m: number): CollisionMap {
  return {
    n0,
    m,
    evaluate(points, count, withJacobian) {
      let g = new Float64Array(0);
      let jac: Float64Array | undefined;
      tf.tidy(() => {
        const Z = tf.tensor2d(Float32Array.from(points), [count, n0]);
        g = Float64Array.from(fn(Z).dataSync());
        if (!withJacobian) return;
        jac = new Float64Array(count * m * n0);
        for (let k = 0; k < m; k++) {
          // One vector-Jacobian product with cotangent e_k per row of every point at once.
          const row = tf.grad((z: tf.Tensor) => fn(z as tf.Tensor2D).slice([0, k], [count, 1]).sum())(Z);
          const d = row.dataSync();
          for (let p = 0; p < count; p++) for (let j = 0; j < n0; j++) jac[(p * m + k) * n0 + j] = d[p * n0 + j];
        }
      });
      return { g, jac };
    },
  };
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
