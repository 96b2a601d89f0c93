/**
 * APGD (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks", ICML 2020), the AutoAttack components:
 * APGD-CE (cross-entropy), APGD-DLR (difference of logits ratio) and APGD-T (targeted DLR
 * over the top-k other classes), under L-inf and L2. Update rules, checkpoint schedule and
 * quirks follow shared spec attacks.md §5 and §9:
 *
 * - start on the sphere (L-inf: eps·t/‖t‖∞ with t ~ U(−1,1); L2: eps·t/‖t‖₂, t ~ N(0, I));
 * - per-sample step size η = 2·eps, momentum 0.75 (none on the first step);
 * - checkpoints after p = ⌊0.22N⌋ iterations, intervals shrinking by ⌊0.03N⌋ down to
 *   ⌊0.06N⌋; at a checkpoint a sample halves η and restarts from its best point when
 *   (cond1) at most ρ·k of the last k steps increased the loss, or (cond2) η was not
 *   reduced at the previous checkpoint and the best loss has not improved since;
 * - the momentum buffer is not reset on a restart from the best point (reference quirk);
 * - the output is the last misclassified iterate; a sample is robust iff no iterate
 *   (the random start included) was misclassified.
 * All state is per sample, as tensors with masked updates; nothing is read back in the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { signOf } from '../model/kernel-fixes';
import { JobCancelledError, LabError } from '../types';
import { createProjector, crossEntropyPerSample, MIN_NORM, normaliseL2, perSample, rowMask, selectRows, linfPerSample, l2PerSample, yieldToEventLoop } from './common';
import type { BatchContext, BatchOutcome } from './types';

/** ρ of the checkpoint test (spec §5). */
const RHO = 0.75;
/** Momentum weight after the first step. */
const MOMENTUM = 0.75;

/** Iterations (1-based) after which checkpoints fall, with the window length k of each. */
export function apgdCheckpoints(iterations: number): { at: number; k: number }[] {
  const p = Math.max(Math.floor(0.22 * iterations), 1);
  const pMin = Math.max(Math.floor(0.06 * iterations), 1);
  const d = Math.max(Math.floor(0.03 * iterations), 1);
  const out: { at: number; k: number }[] = [];
  let k = p;
  let at = p;
  while (at <= iterations) {
    out.push({ at, k });
    k = Math.max(k - d, pMin);
    at += k;
  }
  return out;
}

/**
 * The k largest logits π1 ≥ … ≥ πk per sample, differentiable: repeated max with the
 * previous winner masked out (tfjs has no gradient for TopK; max's gradient flows to the
 * winning entry, exactly as a sort's would).
 */
function largestLogits(logits: tf.Tensor2D, k: number): tf.Tensor1D[] {
  const out: tf.Tensor1D[] = [];
  let rest: tf.Tensor2D = logits;
  for (let i = 0; i < k; i++) {
    out.push(tf.max(rest, 1) as tf.Tensor1D);
    if (i < k - 1) rest = tf.sub(rest, tf.mul(tf.oneHot(tf.argMax(rest, 1), logits.shape[1]), 1e9)) as tf.Tensor2D;
  }
  return out;
}

/**
 * Untargeted DLR loss −(z_y − max_{j≠y} z_j) / (π1 − π3 + 1e-12), scale invariant; needs ≥ 3 classes.
 */
export function dlrLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [p1, , p3] = largestLogits(logits, 3);
    const onehot = tf.oneHot(labels, logits.shape[1]);
    const zy = tf.sum(tf.mul(logits, onehot), 1);
    // max_{j≠y} z_j (= π2 when correct, π1 otherwise) by masking y out; a comparison on the
    // logits would put a non-differentiable Equal on the gradient path.
    const maxOther = tf.max(tf.sub(logits, tf.mul(onehot, 1e9)), 1);
    return tf.neg(tf.div(tf.sub(zy, maxOther), tf.add(tf.sub(p1, p3), 1e-12))) as tf.Tensor1D;
  });
}

/** Targeted DLR loss −(z_y − z_t) / (π1 − (π3 + π4)/2 + 1e-12); maximised; needs ≥ 4 classes. */
export function targetedDlrLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [p1, , p3, p4] = largestLogits(logits, 4);
    const k = logits.shape[1];
    const zy = tf.sum(tf.mul(logits, tf.oneHot(labels, k)), 1);
    const zt = tf.sum(tf.mul(logits, tf.oneHot(targets, k)), 1);
    return tf.neg(tf.div(tf.sub(zy, zt), tf.add(tf.sub(p1, tf.div(tf.add(p3, p4), 2)), 1e-12))) as tf.Tensor1D;
  });
}

/** Start point on the sphere of radius eps (spec §5 "Start"), from the seeded stream. */
function sphereStart(ctx: BatchContext): tf.Tensor4D {
  const [b, h, w, c] = ctx.x0.shape;
  const d = h * w * c;
  const t = new Float32Array(b * d);
  for (let i = 0; i < t.length; i++) t[i] = ctx.spec.norm === 'linf' ? 2 * ctx.rng.next() - 1 : ctx.rng.normal();
  return tf.tidy(() => {
    const dir = tf.tensor4d(t, [b, h, w, c]);
    const norm = ctx.spec.norm === 'linf' ? linfPerSample(dir) : l2PerSample(dir);
    const delta = tf.mul(tf.div(dir, perSample(tf.maximum(norm, MIN_NORM) as tf.Tensor1D)), ctx.spec.eps);
    return tf.clipByValue(tf.add(ctx.x0, delta), 0, 1) as tf.Tensor4D;
  });
}

interface PassResult {
  fooled: tf.Tensor1D;
  firstStep: tf.Tensor1D;
  xAdv: tf.Tensor4D;
  xBest: tf.Tensor4D;
  zeroGradient: tf.Tensor1D;
}

/** One APGD pass of `iterations` steps on the samples in `active`. */
async function apgdPass(
  ctx: BatchContext,
  active: tf.Tensor1D,
  loss: (z: tf.Tensor2D) => tf.Tensor1D,
  iterations: number,
  stepOffset: number,
  /** Explicit-target APGD-T: a sample counts as fooled only once it is classified as its target. */
  hitTarget?: tf.Tensor1D,
): Promise<PassResult> {
  const { spec, x0, labels } = ctx;
  const isFooled = (logits: tf.Tensor2D) => (hitTarget ? tf.equal(tf.argMax(logits, 1), hitTarget) : tf.notEqual(tf.argMax(logits, 1), labels));
  const batch = x0.shape[0];
  const shape = x0.shape;
  const checkpoints = apgdCheckpoints(iterations);
  const evaluate = (x: tf.Tensor4D) => {
    let logits: tf.Tensor2D | null = null;
    let perSampleLoss: tf.Tensor1D | null = null;
    const grad = tf.grad((input: tf.Tensor) => {
      const z = ctx.logits(input as tf.Tensor4D);
      logits = tf.keep(z);
      const l = loss(z);
      perSampleLoss = tf.keep(l);
      return tf.sum(l);
    })(x) as tf.Tensor4D;
    return { grad, logits: logits as unknown as tf.Tensor2D, loss: perSampleLoss as unknown as tf.Tensor1D };
  };
  // Loop constants, made once per pass so that the per-step full-size ops are same-shape
  // (no broadcasting: the slow path on the cpu and wasm backends, an extra op on GPUs):
  // the projection box, the active mask, the momentum weights a and 1 − a. The products
  // and selects they enter are the same element for element as with scalars or [B] masks.
  const projector = createProjector(x0, spec.eps, spec.norm);
  const k = tf.tidy(() => ({
    activeFull: rowMask(active, shape),
    firstA: tf.fill(shape, 1) as tf.Tensor4D,
    firstB: tf.fill(shape, 0) as tf.Tensor4D,
    laterA: tf.fill(shape, MOMENTUM) as tf.Tensor4D,
    laterB: tf.fill(shape, 1 - MOMENTUM) as tf.Tensor4D,
  }));

  // State (all [B] or [B,H,W,C]); `s` is disposed and replaced each iteration. The
  // per-sample step size η is held broadcast to the image shape (it changes only at
  // checkpoints and multiplies a full-size direction every step).
  let x = sphereStart(ctx);
  const first = evaluate(x);
  let s = tf.tidy(() => {
    const fooled = tf.logicalAnd(active, isFooled(first.logits)) as tf.Tensor1D;
    return {
      g: first.grad.clone(),
      lossPrev: first.loss.clone(),
      lossBest: first.loss.clone(),
      xBest: x.clone(),
      gBest: first.grad.clone(),
      xAdv: selectRows(fooled, x, x0),
      fooled,
      firstStep: tf.where(fooled, tf.fill([batch], stepOffset, 'int32'), tf.fill([batch], -1, 'int32')) as tf.Tensor1D,
      eta: tf.fill(shape, 2 * spec.eps) as tf.Tensor4D,
      xPrev: x.clone(),
      successes: tf.zeros([batch]) as tf.Tensor1D,
      reducedLast: tf.zeros([batch], 'bool') as tf.Tensor1D,
      lossBestAtCheck: first.loss.clone(),
    };
  });
  const zeroGradient = tf.tidy(() => tf.equal(l2PerSample(first.grad), 0) as tf.Tensor1D);
  tf.dispose([first.grad, first.logits, first.loss]);
  let nextCheckpoint = 0;
  try {
    for (let i = 0; i < iterations; i++) {
      if (ctx.signal?.aborted) throw new JobCancelledError();
      const [a, oneMinusA] = i === 0 ? [k.firstA, k.firstB] : [k.laterA, k.laterB];
      const state = s;
      const xNext = tf.tidy(() => {
        const momentum = tf.sub(x, state.xPrev);
        const dir = spec.norm === 'linf' ? signOf(state.g) : normaliseL2(state.g);
        const z = projector.project(tf.add(x, tf.mul(dir, state.eta)) as tf.Tensor4D);
        const moved = tf.add(tf.add(x, tf.mul(tf.sub(z, x), a)), tf.mul(momentum, oneMinusA)) as tf.Tensor4D;
        // Inactive samples (clean-misclassified, padding, already broken) stay put.
        return tf.where(k.activeFull, projector.project(moved), x) as tf.Tensor4D;
      });
      const e = evaluate(xNext);
      const iteration = i + 1;
      const cp = checkpoints[nextCheckpoint];
      const isCheckpoint = cp !== undefined && cp.at === iteration;
      const next = tf.tidy(() => {
        const fooledNow = tf.logicalAnd(active, isFooled(e.logits)) as tf.Tensor1D;
        const newly = tf.logicalAnd(fooledNow, tf.logicalNot(state.fooled));
        const improved = tf.logicalAnd(active, tf.greater(e.loss, state.lossBest)) as tf.Tensor1D;
        const improvedFull = rowMask(improved, shape);
        const lossBest = tf.where(improved, e.loss, state.lossBest) as tf.Tensor1D;
        const xBest = tf.where(improvedFull, xNext, state.xBest) as tf.Tensor4D;
        const gBest = tf.where(improvedFull, e.grad, state.gBest) as tf.Tensor4D;
        let successes = tf.add(state.successes, tf.cast(tf.greater(e.loss, state.lossPrev), 'float32')) as tf.Tensor1D;
        let eta = state.eta;
        let xCur = xNext;
        let g = e.grad;
        let reducedLast = state.reducedLast;
        let lossBestAtCheck = state.lossBestAtCheck;
        if (isCheckpoint) {
          const cond1 = tf.lessEqual(successes, RHO * cp.k);
          const cond2 = tf.logicalAnd(tf.logicalNot(state.reducedLast), tf.greaterEqual(state.lossBestAtCheck, lossBest));
          const reduce = tf.logicalAnd(active, tf.logicalOr(cond1, cond2)) as tf.Tensor1D;
          const reduceFull = rowMask(reduce, shape);
          eta = tf.where(reduceFull, tf.div(eta, 2), eta) as tf.Tensor4D;
          xCur = tf.where(reduceFull, xBest, xNext) as tf.Tensor4D;
          g = tf.where(reduceFull, gBest, e.grad) as tf.Tensor4D;
          reducedLast = reduce;
          lossBestAtCheck = lossBest;
          successes = tf.zerosLike(successes);
        }
        return {
          x: tf.clone(xCur),
          s: {
            g: tf.clone(g),
            lossPrev: e.loss.clone(),
            lossBest,
            xBest,
            gBest,
            xAdv: selectRows(fooledNow, xNext, state.xAdv),
            fooled: tf.logicalOr(state.fooled, fooledNow) as tf.Tensor1D,
            firstStep: tf.where(newly, tf.fill([batch], stepOffset + iteration, 'int32'), state.firstStep) as tf.Tensor1D,
            eta: tf.clone(eta),
            // The momentum reference is the iterate before this step (reference quirk: not reset).
            xPrev: x.clone(),
            successes,
            reducedLast: tf.clone(reducedLast),
            lossBestAtCheck: tf.clone(lossBestAtCheck),
          },
        };
      });
      if (isCheckpoint) nextCheckpoint++;
      tf.dispose([xNext, e.grad, e.logits, e.loss, x]);
      tf.dispose(Object.values(state));
      x = next.x;
      s = next.s;
      ctx.onStep?.(stepOffset + iteration);
      await yieldToEventLoop();
    }
    const result: PassResult = { fooled: s.fooled, firstStep: s.firstStep, xAdv: s.xAdv, xBest: s.xBest, zeroGradient };
    const { fooled, firstStep, xAdv, xBest, ...rest } = s;
    tf.dispose([x, ...Object.values(rest)]);
    return result;
  } catch (e) {
    tf.dispose([x, zeroGradient, ...Object.values(s)]);
    throw e;
  } finally {
    projector.dispose();
    tf.dispose(Object.values(k));
  }
}

export type ApgdLoss = 'ce' | 'dlr' | 'dlr-targeted';

/**
 * APGD over restarts (CE/DLR) or over target ranks (targeted DLR), each pass only on the
 * samples no earlier pass broke; the seeded stream is shared across passes (set once).
 */
export async function apgdBatch(ctx: BatchContext, lossKind: ApgdLoss): Promise<BatchOutcome> {
  const iterations = ctx.spec.steps;
  const batch = ctx.x0.shape[0];
  // The class count matters only to the DLR losses; CE spends no forward pass on it.
  // APGD-T needs the clean logits of the whole batch anyway (for its target order).
  let passes = Math.max(1, ctx.spec.restarts ?? 1);
  let targetOrder: tf.Tensor2D | null = null;
  if (lossKind === 'dlr') {
    const numClasses = tf.tidy(() => ctx.logits(tf.slice(ctx.x0, [0, 0, 0, 0], [1, -1, -1, -1])).shape[1]);
    if (numClasses < 3) throw new LabError(`APGD-DLR needs at least 3 classes (the model has ${numClasses})`);
  } else if (lossKind === 'dlr-targeted') {
    targetOrder = tf.tidy(() => {
      const clean = ctx.logits(ctx.x0);
      const numClasses = clean.shape[1];
      if (numClasses < 4) throw new LabError(`APGD-T needs at least 4 classes (the model has ${numClasses})`);
      const target = ctx.spec.targetClass;
      if (target !== undefined && target >= 0) {
        if (target >= numClasses) throw new LabError(`target class ${target} does not exist (the model has ${numClasses} classes)`);
        // One pass toward the chosen class; column 1 is what pass 0 reads. A sample of that
        // class cannot be pushed toward it, so it gets its most likely other class instead.
        passes = 1;
        const order = tf.topk(clean, 2).indices;
        const top1 = tf.squeeze(tf.slice(order, [0, 0], [-1, 1]), [1]);
        const top2 = tf.squeeze(tf.slice(order, [0, 1], [-1, 1]), [1]);
        const mostLikelyOther = tf.where(tf.equal(top1, ctx.labels), top2, top1);
        const column = tf.where(tf.equal(ctx.labels, target), mostLikelyOther, tf.fill([batch], target, 'int32'));
        return tf.stack([top1, column], 1) as tf.Tensor2D;
      }
      passes = Math.min(ctx.spec.targets ?? 9, numClasses - 1);
      return tf.topk(clean, Math.min(numClasses, passes + 1)).indices as tf.Tensor2D;
    });
  }
  let fooled = tf.zeros([batch], 'bool') as tf.Tensor1D;
  let firstStep = tf.fill([batch], -1, 'int32') as tf.Tensor1D;
  let xAdv = ctx.x0.clone();
  let zeroGradient: tf.Tensor1D | null = null;
  try {
    for (let pass = 0; pass < passes; pass++) {
      const active = tf.tidy(() => tf.logicalAnd(ctx.active, tf.logicalNot(fooled)) as tf.Tensor1D);
      let targets: tf.Tensor1D | null = null;
      if (targetOrder) {
        const order = targetOrder;
        targets = tf.tidy(() => tf.squeeze(tf.slice(order, [0, pass + 1], [-1, 1]), [1]) as tf.Tensor1D);
      }
      const t = targets;
      const loss =
        lossKind === 'ce'
          ? (z: tf.Tensor2D) => crossEntropyPerSample(z, ctx.labels)
          : lossKind === 'dlr'
            ? (z: tf.Tensor2D) => dlrLoss(z, ctx.labels)
            : (z: tf.Tensor2D) => targetedDlrLoss(z, ctx.labels, t as tf.Tensor1D);
      let r: PassResult;
      try {
        const explicitTarget = lossKind === 'dlr-targeted' && ctx.spec.targetClass !== undefined && ctx.spec.targetClass >= 0;
        r = await apgdPass(ctx, active, loss, iterations, pass * (iterations + 1), explicitTarget ? (t as tf.Tensor1D) : undefined);
      } finally {
        active.dispose();
        targets?.dispose();
      }
      const merged = tf.tidy(() => ({
        xAdv: selectRows(r.fooled, r.xAdv, selectRows(fooled, xAdv, selectRows(ctx.active, r.xBest, ctx.x0))),
        firstStep: tf.where(tf.logicalAnd(r.fooled, tf.logicalNot(fooled)), r.firstStep, firstStep) as tf.Tensor1D,
        fooled: tf.logicalOr(fooled, r.fooled) as tf.Tensor1D,
      }));
      tf.dispose([fooled, firstStep, xAdv, r.fooled, r.firstStep, r.xAdv, r.xBest]);
      if (zeroGradient) r.zeroGradient.dispose();
      else zeroGradient = r.zeroGradient;
      ({ fooled, firstStep, xAdv } = merged);
    }
    fooled.dispose();
    targetOrder?.dispose();
    return { adversarial: xAdv, firstSuccessStep: firstStep, zeroGradient: zeroGradient ?? (tf.zeros([batch], 'bool') as tf.Tensor1D) };
  } catch (e) {
    tf.dispose([fooled, firstStep, xAdv]);
    targetOrder?.dispose();
    zeroGradient?.dispose();
    throw e;
  }
}
