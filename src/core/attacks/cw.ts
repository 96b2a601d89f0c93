/**
 * Carlini–Wagner L2 (Carlini & Wagner, "Towards evaluating the robustness of neural
 * networks", IEEE S&P 2017), untargeted, minimum norm. Shared spec attacks.md §8:
 *
 * - Change of variables x = (tanh(w) + 1)/2 keeps every iterate inside [0, 1] without
 *   clipping; w starts at atanh(2·x0 − 1) with the argument clamped to ±(1 − 1e-6),
 *   because atanh(±1) = ±∞ in float32.
 * - Objective per sample: ‖x − x0‖₂² + c·max(z_y − max_{j≠y} z_j, −κ), minimised over w
 *   with Adam (β1 0.9, β2 0.999, ε 1e-8; the paper's optimiser), summed over the batch so
 *   every sample's gradient is its own (spec §0).
 * - Binary search on c per sample (the paper, §V): after each round, a sample that found an
 *   adversarial lowers its upper bound to c, otherwise raises its lower bound to c; c then
 *   moves to the midpoint, or ×10 while no upper bound is known. Each round restarts w and
 *   the Adam moments from x0, as in the paper's code.
 * - Per sample the smallest-L2 iterate that is misclassified (by more than κ) over all
 *   rounds is kept.
 *
 * Defaults: c = 1, κ = 0, Adam learning rate 0.01 (torchattacks), 9 binary-search rounds
 * (the paper). Unlike torchattacks there is no early stop on a rising total cost: a fixed
 * number of steps keeps the batch shape and the cost fixed, and can only find more.
 * Per-sample c, bounds and Adam state are tensors with masked updates; one gradient call
 * per step for the whole batch and nothing read back inside the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { JobCancelledError } from '../types';
import { l2PerSample, selectRows } from './common';
import type { BatchContext, BatchOutcome } from './types';
import { CW_LEARNING_RATE } from './spec';

export const CW_INITIAL_CONSTANT = 1;
export const CW_SEARCH_STEPS = 9;
// The Adam learning rate lives with the step-size rule (spec.ts), which the lab shows without tfjs.
export { CW_LEARNING_RATE } from './spec';
export const CW_CONFIDENCE = 0;
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
/** atanh argument bound: atanh(1 − 1e-6) ≈ 7.25 stays finite in float32. */
const ATANH_BOUND = 1 - 1e-6;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** z_y − max_{j≠y} z_j per sample; positive while the sample is classified y. */
export function classificationMargin(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const onehot = tf.oneHot(labels, logits.shape[1]);
    const zy = tf.sum(tf.mul(logits, onehot), 1);
    // Mask y out with a large offset rather than a comparison, so the gradient flows.
    const maxOther = tf.max(tf.sub(logits, tf.mul(onehot, 1e9)), 1);
    return tf.sub(zy, maxOther) as tf.Tensor1D;
  });
}

const toImage = (w: tf.Tensor4D) => tf.div(tf.add(tf.tanh(w), 1), 2) as tf.Tensor4D;

interface SearchState {
  constant: tf.Tensor1D;
  lower: tf.Tensor1D;
  upper: tf.Tensor1D;
  best: tf.Tensor4D;
  bestL2: tf.Tensor1D;
  firstStep: tf.Tensor1D;
}

interface RoundState {
  w: tf.Tensor4D;
  m: tf.Tensor4D;
  v: tf.Tensor4D;
  succeeded: tf.Tensor1D;
}

export async function cwBatch(ctx: BatchContext): Promise<BatchOutcome> {
  const { x0, labels, active, spec } = ctx;
  const batch = x0.shape[0];
  const rounds = Math.max(1, spec.searchSteps ?? CW_SEARCH_STEPS);
  const learningRate = spec.stepSize ?? CW_LEARNING_RATE;
  const kappa = spec.confidence ?? CW_CONFIDENCE;
  let search: SearchState = {
    constant: tf.fill([batch], spec.initialConstant ?? CW_INITIAL_CONSTANT) as tf.Tensor1D,
    lower: tf.zeros([batch]) as tf.Tensor1D,
    upper: tf.fill([batch], Infinity) as tf.Tensor1D,
    best: x0.clone(),
    bestL2: tf.fill([batch], Infinity) as tf.Tensor1D,
    firstStep: tf.fill([batch], -1, 'int32') as tf.Tensor1D,
  };
  let round: RoundState | null = null;
  let zeroGradient: tf.Tensor1D | null = null;
  let globalStep = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      round = {
        w: tf.tidy(() => tf.atanh(tf.clipByValue(tf.sub(tf.mul(x0, 2), 1), -ATANH_BOUND, ATANH_BOUND)) as tf.Tensor4D),
        m: tf.zerosLike(x0) as tf.Tensor4D,
        v: tf.zerosLike(x0) as tf.Tensor4D,
        succeeded: tf.zeros([batch], 'bool') as tf.Tensor1D,
      };
      // Steps 0..steps−1 evaluate then update; the final evaluation checks the last iterate.
      for (let step = 0; step <= spec.steps; step++) {
        if (ctx.signal?.aborted) throw new JobCancelledError();
        const last = step === spec.steps;
        const current: RoundState = round;
        const s = search;
        const stepIndex = globalStep;
        const next = tf.tidy(() => {
          let logits: tf.Tensor2D | null = null;
          const grad = last
            ? null
            : (tf.grad((wIn: tf.Tensor) => {
                const x = toImage(wIn as tf.Tensor4D);
                const z = ctx.logits(x);
                logits = tf.keep(z);
                const distance = tf.sum(tf.square(tf.sub(x, x0).reshape([batch, -1])), 1);
                const misclassification = tf.maximum(classificationMargin(z, labels), -kappa);
                return tf.sum(tf.add(distance, tf.mul(s.constant, misclassification)));
              })(current.w) as tf.Tensor4D);
          const x = toImage(current.w);
          const z = last ? ctx.logits(x) : (logits as unknown as tf.Tensor2D);
          // Misclassified by more than κ: max_{j≠y} z_j − z_y > κ (for κ = 0 also argmax ≠ y,
          // which settles ties the way the runner's re-evaluation will).
          const fooled = tf.logicalAnd(
            tf.logicalAnd(active, tf.notEqual(tf.argMax(z, 1), labels)),
            tf.less(classificationMargin(z, labels), -kappa),
          ) as tf.Tensor1D;
          const l2 = l2PerSample(tf.sub(x, x0));
          const better = tf.logicalAnd(fooled, tf.less(l2, s.bestL2)) as tf.Tensor1D;
          const newlyFooled = tf.logicalAnd(fooled, tf.less(s.firstStep, 0)) as tf.Tensor1D;
          if (!last) tf.dispose(logits as unknown as tf.Tensor2D);
          const out = {
            best: selectRows(better, x, s.best),
            bestL2: tf.where(better, l2, s.bestL2) as tf.Tensor1D,
            firstStep: tf.where(newlyFooled, tf.fill([batch], stepIndex, 'int32'), s.firstStep) as tf.Tensor1D,
            succeeded: tf.logicalOr(current.succeeded, fooled) as tf.Tensor1D,
            w: current.w,
            m: current.m,
            v: current.v,
            zero: (stepIndex === 0 && grad ? tf.equal(l2PerSample(grad), 0) : tf.zeros([batch], 'bool')) as tf.Tensor1D,
          };
          if (!grad) return { ...out, w: tf.clone(current.w), m: tf.clone(current.m), v: tf.clone(current.v) };
          // Adam with bias correction at step t = step + 1 of this round.
          const t = step + 1;
          const m = tf.add(tf.mul(current.m, ADAM_BETA1), tf.mul(grad, 1 - ADAM_BETA1)) as tf.Tensor4D;
          const v = tf.add(tf.mul(current.v, ADAM_BETA2), tf.mul(tf.square(grad), 1 - ADAM_BETA2)) as tf.Tensor4D;
          const mHat = tf.div(m, 1 - ADAM_BETA1 ** t);
          const vHat = tf.div(v, 1 - ADAM_BETA2 ** t);
          const w = tf.sub(current.w, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), ADAM_EPSILON)), learningRate)) as tf.Tensor4D;
          return { ...out, w, m, v };
        });
        tf.dispose([current.w, current.m, current.v, current.succeeded, s.best, s.bestL2, s.firstStep]);
        round = { w: next.w, m: next.m, v: next.v, succeeded: next.succeeded };
        search = { ...s, best: next.best, bestL2: next.bestL2, firstStep: next.firstStep };
        if (stepIndex === 0) zeroGradient = next.zero;
        else next.zero.dispose();
        if (!last) {
          globalStep++;
          ctx.onStep?.(globalStep);
          await yieldToEventLoop();
        }
      }
      // Binary search on c (per sample): success ⇒ c was large enough, so try smaller.
      const finished: RoundState = round;
      const s = search;
      const updated = tf.tidy(() => {
        const ok = finished.succeeded;
        const upper = tf.where(ok, tf.minimum(s.upper, s.constant), s.upper) as tf.Tensor1D;
        const lower = tf.where(ok, s.lower, tf.maximum(s.lower, s.constant)) as tf.Tensor1D;
        const midpoint = tf.div(tf.add(lower, upper), 2);
        const constant = tf.where(tf.isFinite(upper), midpoint, tf.mul(s.constant, 10)) as tf.Tensor1D;
        return { constant, lower, upper };
      });
      tf.dispose([finished.w, finished.m, finished.v, finished.succeeded, s.constant, s.lower, s.upper]);
      round = null;
      search = { ...s, ...updated };
    }
    const adversarial = tf.tidy(() => tf.clipByValue(selectRows(tf.isFinite(search.bestL2) as tf.Tensor1D, search.best, x0), 0, 1) as tf.Tensor4D);
    const firstSuccessStep = search.firstStep;
    tf.dispose([search.constant, search.lower, search.upper, search.best, search.bestL2]);
    return { adversarial, firstSuccessStep, zeroGradient: zeroGradient ?? (tf.zeros([batch], 'bool') as tf.Tensor1D), minimumNorm: true };
  } catch (e) {
    tf.dispose([search.constant, search.lower, search.upper, search.best, search.bestL2, search.firstStep]);
    if (round) tf.dispose([round.w, round.m, round.v, round.succeeded]);
    zeroGradient?.dispose();
    throw e;
  }
}
