/**
 * Shared pieces of the gradient attacks: the per-sample CE loss on logits, norms,
 * projections onto the threat-model ball intersected with the image box, and masking
 * helpers. Conventions follow shared spec attacks.md §0: inputs in [0, 1], never
 * normalised inside the attack; losses summed over the batch so each sample's gradient
 * is independent of the batch size; L2 normalisation divides by max(||v||, 1e-12) so a
 * zero gradient gives a zero step, not NaN.
 */
import * as tf from '@tensorflow/tfjs';
import { signOf } from '../model/kernel-fixes';

export type Norm = 'linf' | 'l2';

/** Smallest norm we divide by; 1e-12 keeps float32 safe (spec §0: do not add 1e-12 inside a square). */
export const MIN_NORM = 1e-12;

/** Per-sample cross-entropy from logits: logSumExp(z) − z_y. Shape [B]. */
export function crossEntropyPerSample(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(logits, tf.oneHot(labels, logits.shape[1])), 1);
    return tf.sub(tf.logSumExp(logits, 1), picked) as tf.Tensor1D;
  });
}

/** Per-sample L2 norm over all C·H·W coordinates. Shape [B]. */
export function l2PerSample(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(x.reshape([x.shape[0], -1])), 1)) as tf.Tensor1D);
}

/** Per-sample L-inf norm. Shape [B]. */
export function linfPerSample(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.max(tf.abs(x.reshape([x.shape[0], -1])), 1) as tf.Tensor1D);
}

/** Reshape a per-sample vector [B] to broadcast against NHWC [B, 1, 1, 1]. */
export function perSample(v: tf.Tensor1D): tf.Tensor4D {
  return v.reshape([v.shape[0], 1, 1, 1]);
}

/** g / max(||g||_2, 1e-12), per sample. */
export function normaliseL2(g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(g, perSample(tf.maximum(l2PerSample(g), MIN_NORM))) as tf.Tensor4D);
}

/** The steepest-ascent direction of unit size for the norm: sign(g) for L-inf, g/||g|| for L2. */
export function ascentDirection(g: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return norm === 'linf' ? signOf(g) : normaliseL2(g);
}

/**
 * Project x onto {‖x − x0‖ ≤ eps} ∩ [0,1]^d. For L-inf this is the exact projection
 * (both sets are boxes); for L2 it is the references' rescale-then-clip, which is
 * feasible but not the exact projection onto the intersection (spec §0).
 */
export function project(x: tf.Tensor4D, x0: tf.Tensor4D, eps: number, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === 'linf') {
      return tf.clipByValue(tf.minimum(tf.maximum(x, tf.sub(x0, eps)), tf.add(x0, eps)), 0, 1) as tf.Tensor4D;
    }
    const d = tf.sub(x, x0) as tf.Tensor4D;
    const scale = tf.minimum(1, tf.div(eps, tf.maximum(l2PerSample(d), MIN_NORM)));
    return tf.clipByValue(tf.add(x0, tf.mul(d, perSample(scale as tf.Tensor1D))), 0, 1) as tf.Tensor4D;
  });
}

/**
 * Projection onto the threat-model ball ∩ [0,1]^d around a fixed x0, with what does not
 * change between steps computed once. For L-inf the two boxes collapse into one,
 * [max(x0 − eps, 0), min(x0 + eps, 1)] (exact: both are boxes and they intersect, since x0
 * lies in both), so each projection is one maximum and one minimum against full-size
 * tensors instead of two scalar-broadcast ops, two clamps and a clip; the result is
 * identical to `project` element for element. L2 falls back to `project`.
 */
export interface Projector {
  project(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

export function createProjector(x0: tf.Tensor4D, eps: number, norm: Norm): Projector {
  if (norm !== 'linf') return { project: (x) => project(x, x0, eps, norm), dispose: () => {} };
  const lo = tf.tidy(() => tf.maximum(tf.sub(x0, eps), 0) as tf.Tensor4D);
  const hi = tf.tidy(() => tf.minimum(tf.add(x0, eps), 1) as tf.Tensor4D);
  return {
    project: (x) => tf.tidy(() => tf.minimum(tf.maximum(x, lo), hi) as tf.Tensor4D),
    dispose: () => tf.dispose([lo, hi]),
  };
}

/**
 * Yield to the event loop so cancellation messages and progress get through, without the
 * ≥ 4 ms clamp browsers put on nested setTimeout(0) (which an attack loop hits after five
 * steps): setImmediate where it exists (Node), a MessageChannel round trip in browsers
 * and workers, setTimeout only as the last resort.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A per-sample mask [B] broadcast to a full shape [B, …], for `tf.where`. Broadcasting is
 * its own op (a Tile), so a mask used for several selects should be broadcast once.
 * On the wasm backend Tile is ~30× slower than a same-size elementwise op (measured with
 * bench/attacks.ts: ~1.2 ms for 16×28×28), so there the mask is spread by an outer
 * product with a row of ones instead: every entry is m·1 (no sums), exactly the mask.
 */
export function rowMask(mask: tf.Tensor1D, shape: number[]): tf.Tensor {
  return tf.tidy(() => {
    const b = mask.shape[0];
    if (tf.getBackend() === 'wasm') {
      const d = shape.slice(1).reduce((p, q) => p * q, 1);
      return tf.cast(tf.matMul(tf.cast(mask, 'float32').reshape([b, 1]), tf.ones([1, d])), 'bool').reshape(shape);
    }
    return tf.broadcastTo(mask.reshape([b, ...new Array(shape.length - 1).fill(1)]), shape);
  });
}

/** Select per sample: where mask[b] then a[b] else b[b]. */
export function selectRows<T extends tf.Tensor>(mask: tf.Tensor1D, a: T, b: T): T {
  return tf.tidy(() => tf.where(rowMask(mask, a.shape), a, b) as T);
}

/**
 * Value, gradient and logits of the summed CE at x in one forward+backward pass.
 * The logits are kept out of the gradient scope so predictions need no second pass.
 */
export function lossGradAndLogits(
  logitsFn: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D = crossEntropyPerSample,
): { grad: tf.Tensor4D; logits: tf.Tensor2D } {
  let logits: tf.Tensor2D | null = null;
  const grad = tf.grad((input: tf.Tensor) => {
    const z = logitsFn(input as tf.Tensor4D);
    logits = tf.keep(z);
    return tf.sum(loss(z, labels));
  })(x) as tf.Tensor4D;
  return { grad, logits: logits as unknown as tf.Tensor2D };
}
