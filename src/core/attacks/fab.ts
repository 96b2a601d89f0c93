/**
 * FAB, the Fast Adaptive Boundary attack (Croce & Hein, "Minimally distorted adversarial
 * examples with a fast adaptive boundary attack", ICML 2020), untargeted, L-inf and L2,
 * minimum norm. Shared spec attacks.md §6 (paraphrasing AutoAttack's fab_base.py):
 *
 * 1. Linearise at the current point x1: f_k = z_k − z_y, w_k = ∇z_k − ∇z_y for k ≠ y.
 * 2. Closest linearised boundary k* = argmin_k |f_k| / ‖w_k‖_q, q the dual norm (L1 for
 *    L-inf, L2 for L2).
 * 3. Project onto that hyperplane inside the box [0, 1], once from x1 (d1) and once from
 *    the clean x0 (d2).
 * 4. α = clamp(‖d1‖/(‖d1‖+‖d2‖), 0, α_max = 0.1); x1 ← clip01((1−α)(x1 + η·d1) + α(x0 + η·d2)),
 *    overshoot η = 1.05. The bias toward x0 is what keeps the perturbation small.
 * 5. If x1 is misclassified, keep it when its norm beats the best so far, then pull it back
 *    toward x0: x1 ← x0 + β(x1 − x0), β = 0.9, so the search continues closer to x0.
 * Restarts (spec.restarts, default 1) start from x0 plus random noise of norm
 * min(ε, best)/2; the best over all restarts is kept.
 *
 * Batching (spec §9): the Jacobian of the logits for the whole batch comes from one
 * forward+backward pass over the batch tiled K times (replica k differentiates z_k), so a
 * step costs one gradient call whatever K is. All per-sample state is tensors with masked
 * updates and a fixed batch shape; nothing is read back inside the loop.
 *
 * The box-constrained projection (step 3) is solved exactly up to bisection: the minimiser
 * of ‖d‖_p subject to ⟨w, d⟩ = c and x + d ∈ [0,1] has the form d_i = clip(μ·u_i) with
 * u = sign(c)·sign(w) (L-inf) or u = sign(c)·w (L2), clipped to the box, and μ ≥ 0 the
 * smallest value that reaches the hyperplane. ⟨w, d(μ)⟩·sign(c) is nondecreasing in μ,
 * so a per-sample bisection on μ finds it without sorting (AutoAttack sorts instead).
 * When the box makes the hyperplane unreachable, μ ends at full saturation: the box
 * corner closest to the hyperplane, as in the reference.
 *
 * Like DeepFool there is no ε ball: the runner reports the norm of the best adversarial as
 * the sample's minimal ε and counts success at ε only when that norm is ≤ ε.
 */
import * as tf from '@tensorflow/tfjs';
import { signOf } from '../model/kernel-fixes';
import { JobCancelledError } from '../types';
import type { Norm } from './common';
import { MIN_NORM, selectRows } from './common';
import type { BatchContext, BatchOutcome } from './types';

/** Largest weight on the step from the clean point (paper: α_max = 0.1). */
export const FAB_ALPHA_MAX = 0.1;
/** Overshoot of each projection step (paper: η = 1.05). */
export const FAB_OVERSHOOT = 1.05;
/** Backtracking factor toward x0 after a success (paper: β = 0.9). */
export const FAB_BACKTRACK = 0.9;

/** Bisection rounds for μ: L-inf brackets [‖·‖-bound, 1] linearly, L2 a log range. */
const LINF_BISECTION_ROUNDS = 30;
const L2_BISECTION_ROUNDS = 45;
/** Floor of ‖d1‖, ‖d2‖ in the mixing weight, as in the reference (avoids 0/0). */
const MIXING_FLOOR = 1e-8;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Per-row norm of a [N, D] matrix. */
function rowNorm(v: tf.Tensor2D, norm: Norm): tf.Tensor1D {
  return tf.tidy(() => (norm === 'linf' ? tf.max(tf.abs(v), 1) : tf.sqrt(tf.sum(tf.square(v), 1))) as tf.Tensor1D);
}

/**
 * Smallest-norm step d (per row) with ⟨w, p + d⟩ = ⟨w, p⟩ + c and p + d ∈ [0, 1]; see the
 * file comment for why d = clip(μ·u) and why bisection on μ is exact up to its rounds.
 * The upper end of the bracket is returned, so the step reaches (or slightly crosses)
 * the hyperplane whenever the box allows. Rows with w = 0 or c = 0 get d = 0.
 */
export function projectOntoHyperplaneInBox(points: tf.Tensor2D, w: tf.Tensor2D, c: tf.Tensor1D, norm: Norm): tf.Tensor2D {
  return tf.tidy(() => {
    const n = points.shape[0];
    const side = signOf(c).reshape([n, 1]);
    const lower = tf.neg(points);
    const upper = tf.sub(1, points);
    const direction = tf.mul(norm === 'linf' ? signOf(w) : w, side);
    const target = tf.abs(c);
    const stepAt = (mu: tf.Tensor1D) => tf.minimum(tf.maximum(tf.mul(direction, mu.reshape([n, 1])), lower), upper) as tf.Tensor2D;
    const reaches = (mu: tf.Tensor1D) => tf.greaterEqual(tf.mul(tf.sum(tf.mul(w, stepAt(mu)), 1), side.reshape([n])), target) as tf.Tensor1D;
    if (norm === 'linf') {
      // Without the box the answer is μ = |c|/‖w‖₁; the box only raises it, and μ = 1
      // saturates every coordinate.
      let lo = tf.minimum(tf.div(target, tf.maximum(tf.sum(tf.abs(w), 1), MIN_NORM)), 1) as tf.Tensor1D;
      let hi = tf.onesLike(lo) as tf.Tensor1D;
      for (let i = 0; i < LINF_BISECTION_ROUNDS; i++) {
        const mid = tf.div(tf.add(lo, hi), 2) as tf.Tensor1D;
        const ok = reaches(mid);
        hi = tf.where(ok, mid, hi) as tf.Tensor1D;
        lo = tf.where(ok, lo, mid) as tf.Tensor1D;
      }
      return stepAt(hi);
    }
    // L2: unconstrained μ = |c|/‖w‖²; every coordinate saturates once μ·|w_i| ≥ max(p_i, 1 − p_i).
    // The ratio between the two can span many decades, so bisect on log μ. Dividing twice by
    // max(‖w‖, 1e-12) avoids squaring 1e-12 (spec §0).
    const wNorm = tf.maximum(tf.sqrt(tf.sum(tf.square(w), 1)), MIN_NORM);
    const saturation = tf.max(tf.div(tf.maximum(points, upper), tf.maximum(tf.abs(w), MIN_NORM)), 1);
    const unconstrained = tf.div(tf.div(target, wNorm), wNorm);
    let logHi = tf.log(tf.maximum(saturation, 1e-30)) as tf.Tensor1D;
    let logLo = tf.minimum(tf.log(tf.maximum(unconstrained, 1e-30)), logHi) as tf.Tensor1D;
    for (let i = 0; i < L2_BISECTION_ROUNDS; i++) {
      const mid = tf.div(tf.add(logLo, logHi), 2) as tf.Tensor1D;
      const ok = reaches(tf.exp(mid) as tf.Tensor1D);
      logHi = tf.where(ok, mid, logHi) as tf.Tensor1D;
      logLo = tf.where(ok, logLo, mid) as tf.Tensor1D;
    }
    return stepAt(tf.exp(logHi) as tf.Tensor1D);
  });
}

/**
 * Logits and the gradients of every logit for the whole batch in one backward pass: the
 * batch is tiled K times and replica k contributes Σ_b z_k(x_b), so rows of the input
 * gradient are ∇z_k(x_b) (samples are independent, so summing over b changes nothing).
 * Returns logits [B, K] and gradients [K, B, D].
 */
export function logitJacobian(logitsFn: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D, numClasses: number): { logits: tf.Tensor2D; jacobian: tf.Tensor3D } {
  const batch = x.shape[0];
  let logits: tf.Tensor2D | null = null;
  const jacobian = tf.tidy(() => {
    const tiled = tf.tile(x, [numClasses, 1, 1, 1]);
    const rowClass = tf.tensor1d(Array.from({ length: numClasses * batch }, (_, i) => Math.floor(i / batch)), 'int32');
    const selector = tf.oneHot(rowClass, numClasses);
    const grad = tf.grad((input: tf.Tensor) => {
      const z = logitsFn(input as tf.Tensor4D);
      logits = tf.keep(tf.slice(z, [0, 0], [batch, numClasses]));
      return tf.sum(tf.mul(z, selector));
    })(tiled);
    return grad.reshape([numClasses, batch, -1]) as tf.Tensor3D;
  });
  return { logits: logits as unknown as tf.Tensor2D, jacobian };
}

/** Random restart noise t (JS stream, backend-independent), scaled so ‖t‖_p = 1 per sample. */
function unitNoise(ctx: BatchContext): tf.Tensor4D {
  const [b, h, w, c] = ctx.x0.shape;
  const d = h * w * c;
  const noise = new Float32Array(b * d);
  for (let i = 0; i < b; i++) {
    let size = 0;
    for (let j = 0; j < d; j++) {
      const v = ctx.spec.norm === 'linf' ? 2 * ctx.rng.next() - 1 : ctx.rng.normal();
      noise[i * d + j] = v;
      size = ctx.spec.norm === 'linf' ? Math.max(size, Math.abs(v)) : size + v * v;
    }
    const scale = 1 / Math.max(ctx.spec.norm === 'linf' ? size : Math.sqrt(size), MIN_NORM);
    for (let j = 0; j < d; j++) noise[i * d + j] *= scale;
  }
  return tf.tensor4d(noise, [b, h, w, c]);
}

interface FabState {
  x1: tf.Tensor4D;
  best: tf.Tensor4D;
  bestNorm: tf.Tensor1D;
  firstStep: tf.Tensor1D;
}

export async function fabBatch(ctx: BatchContext): Promise<BatchOutcome> {
  const { x0, labels, active, spec } = ctx;
  const norm = spec.norm;
  const [batch, h, w, c] = x0.shape;
  const numClasses = tf.tidy(() => ctx.logits(tf.slice(x0, [0, 0, 0, 0], [1, -1, -1, -1])).shape[1]);
  const restarts = Math.max(1, spec.restarts ?? 1);
  let state: FabState = {
    x1: x0.clone(),
    best: x0.clone(),
    bestNorm: tf.fill([batch], Infinity) as tf.Tensor1D,
    firstStep: tf.fill([batch], -1, 'int32') as tf.Tensor1D,
  };
  let zeroGradient: tf.Tensor1D | null = null;
  let globalStep = 0;
  try {
    for (let restart = 0; restart < restarts; restart++) {
      if (restart > 0) {
        // Random start of norm min(ε, best)/2 (spec §6). Before any success with ε = ∞
        // there is no scale; half the box diameter in the attack's norm stands in.
        const noise = unitNoise(ctx);
        const previous = state.x1;
        state.x1 = tf.tidy(() => {
          const boxDiameter = norm === 'linf' ? 1 : Math.sqrt(h * w * c);
          const radius = tf.minimum(state.bestNorm, spec.eps);
          const finiteRadius = tf.where(tf.isFinite(radius), radius, tf.fill([batch], boxDiameter));
          const start = tf.clipByValue(tf.add(x0, tf.mul(noise, tf.mul(finiteRadius, 0.5).reshape([batch, 1, 1, 1]))), 0, 1) as tf.Tensor4D;
          return selectRows(active, start, x0);
        });
        tf.dispose([noise, previous]);
      }
      for (let step = 0; step < spec.steps; step++) {
        if (ctx.signal?.aborted) throw new JobCancelledError();
        const current = state;
        const stepIndex = globalStep;
        const next = tf.tidy(() => {
          const { logits, jacobian } = logitJacobian(ctx.logits, current.x1, numClasses);
          const labelMask = tf.oneHot(labels, numClasses); // [B, K]
          const labelRows = tf.transpose(labelMask).reshape([numClasses, batch, 1]);
          const gradY = tf.sum(tf.mul(jacobian, labelRows), 0); // [B, D]
          const marginGrads = tf.sub(jacobian, gradY) as tf.Tensor3D; // w_k, [K, B, D]
          const margins = tf.sub(logits, tf.sum(tf.mul(logits, labelMask), 1, true)); // f_k, [B, K]
          logits.dispose(); // kept out of the gradient scope, so no tidy owns it
          // Distance to each linearised boundary in the attack's norm: |f_k| / ‖w_k‖_dual.
          const dualNorm = norm === 'linf' ? tf.sum(tf.abs(marginGrads), 2) : tf.sqrt(tf.sum(tf.square(marginGrads), 2));
          const distance = tf.div(tf.abs(margins), tf.maximum(tf.transpose(dualNorm), MIN_NORM));
          const nearest = tf.argMin(tf.where(tf.cast(labelMask, 'bool'), tf.fill(distance.shape, Infinity), distance), 1);
          const pick = tf.oneHot(nearest, numClasses); // [B, K]
          const wStar = tf.sum(tf.mul(marginGrads, tf.transpose(pick).reshape([numClasses, batch, 1])), 0) as tf.Tensor2D;
          const fStar = tf.sum(tf.mul(margins, pick), 1);
          const x1Flat = current.x1.reshape([batch, -1]) as tf.Tensor2D;
          const x0Flat = x0.reshape([batch, -1]) as tf.Tensor2D;
          // The hyperplane ⟨w, x⟩ = ⟨w, x1⟩ − f: from x1 the needed change is −f, from x0 it is ⟨w, x1 − x0⟩ − f.
          const fromX1 = tf.neg(fStar);
          const fromX0 = tf.sub(tf.sum(tf.mul(wStar, tf.sub(x1Flat, x0Flat)), 1), fStar);
          const steps = projectOntoHyperplaneInBox(tf.concat([x1Flat, x0Flat]), tf.concat([wStar, wStar]), tf.concat([fromX1, fromX0]) as tf.Tensor1D, norm);
          const d1 = tf.slice(steps, [0, 0], [batch, -1]);
          const d2 = tf.slice(steps, [batch, 0], [batch, -1]);
          const size1 = tf.maximum(rowNorm(d1, norm), MIXING_FLOOR);
          const size2 = tf.maximum(rowNorm(d2, norm), MIXING_FLOOR);
          const alpha = tf.clipByValue(tf.div(size1, tf.add(size1, size2)), 0, FAB_ALPHA_MAX).reshape([batch, 1]);
          const mixed = tf.add(tf.mul(tf.sub(1, alpha), tf.add(x1Flat, tf.mul(d1, FAB_OVERSHOOT))), tf.mul(alpha, tf.add(x0Flat, tf.mul(d2, FAB_OVERSHOOT))));
          const moved = selectRows(active, tf.clipByValue(mixed, 0, 1).reshape([batch, h, w, c]) as tf.Tensor4D, current.x1);
          const fooled = tf.logicalAnd(active, tf.notEqual(tf.argMax(ctx.logits(moved), 1), labels)) as tf.Tensor1D;
          const size = rowNorm(tf.sub(moved, x0).reshape([batch, -1]) as tf.Tensor2D, norm);
          const better = tf.logicalAnd(fooled, tf.less(size, current.bestNorm)) as tf.Tensor1D;
          const pulledBack = tf.add(x0, tf.mul(tf.sub(moved, x0), FAB_BACKTRACK)) as tf.Tensor4D;
          const newlyFooled = tf.logicalAnd(fooled, tf.less(current.firstStep, 0)) as tf.Tensor1D;
          return {
            state: {
              x1: selectRows(fooled, pulledBack, moved),
              best: selectRows(better, moved, current.best),
              bestNorm: tf.where(better, size, current.bestNorm) as tf.Tensor1D,
              firstStep: tf.where(newlyFooled, tf.fill([batch], stepIndex, 'int32'), current.firstStep) as tf.Tensor1D,
            },
            zero: (stepIndex === 0 ? tf.equal(tf.sum(tf.abs(marginGrads), [0, 2]), 0) : tf.zeros([batch], 'bool')) as tf.Tensor1D,
          };
        });
        tf.dispose([current.x1, current.best, current.bestNorm, current.firstStep]);
        state = next.state;
        if (stepIndex === 0) zeroGradient = next.zero;
        else next.zero.dispose();
        globalStep++;
        ctx.onStep?.(globalStep);
        await yieldToEventLoop();
      }
    }
    const adversarial = tf.tidy(() => selectRows(tf.isFinite(state.bestNorm) as tf.Tensor1D, state.best, x0));
    const firstSuccessStep = state.firstStep;
    tf.dispose([state.x1, state.best, state.bestNorm]);
    return { adversarial, firstSuccessStep, zeroGradient: zeroGradient ?? (tf.zeros([batch], 'bool') as tf.Tensor1D), minimumNorm: true };
  } catch (e) {
    tf.dispose([state.x1, state.best, state.bestNorm, state.firstStep]);
    zeroGradient?.dispose();
    throw e;
  }
}
