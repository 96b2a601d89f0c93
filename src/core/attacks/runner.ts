/**
 * Runs an attack over a whole sample set in fixed-size batches (the last batch padded,
 * so WebGPU compiles its shaders once), then re-evaluates the model on the returned
 * images and checks the threat model: every perturbation inside the ε-ball (up to
 * float32 rounding) and every pixel inside [0, 1]. Asserted, not assumed (spec §0).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed } from '../random';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { fgsmBatch } from './fgsm';
import { pgdBatch } from './pgd';
import { apgdBatch } from './apgd';
import { gaussianBatch, DEFAULT_NOISE_DRAWS } from './gaussian';
import { deepfoolBatch } from './deepfool';
import { fabBatch } from './fab';
import { cwBatch, CW_SEARCH_STEPS } from './cw';
import { isMinimumNormAttack, resolvedStepSize } from './spec';
import type { AttackResult, AttackSpec, BatchContext, BatchOutcome } from './types';
import { stepBytesPerImageOf } from '../model/model';
import { imagesWithin } from '../model/stepMemory';
import { ACTIVATION_BUDGET_BYTES } from '../model/predict';

/** Batch size of attack steps: large enough to fill a GPU, small enough for CPU latency. */
export const DEFAULT_ATTACK_BATCH = 32;

export interface AttackInput {
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
}

export interface AttackOptions {
  seed: number;
  batchSize?: number;
  /**
   * AA-style only: a finished APGD-CE result on the same inputs with the same norm, ε, steps,
   * seed and batch size (e.g. the standalone APGD-CE a model card also reports). The sequence
   * starts from a copy of it instead of running APGD-CE again: the same numbers for one
   * APGD-CE pass less. Spec, sample count and image size are checked; the inputs, seed and
   * batch size are the caller's promise (random starts depend on them).
   */
  apgdCe?: AttackResult;
}

// The step-size rule and the minimum-norm test are plain functions (spec.ts), so the lab's main
// thread can show α without loading tfjs; the runner keeps exporting them for its callers.
export { isMinimumNormAttack, resolvedStepSize } from './spec';

export function validateAttackSpec(spec: AttackSpec): void {
  // A minimum-norm attack may run unbounded (eps = ∞) to report minimal ε per sample.
  const minimumNorm = isMinimumNormAttack(spec.attack);
  if (!(spec.eps >= 0) || (!Number.isFinite(spec.eps) && !minimumNorm)) throw new LabError(`eps must be a finite number ≥ 0 (got ${spec.eps})`);
  if (spec.norm === 'linf' && spec.eps > 1 && Number.isFinite(spec.eps) && spec.attack !== 'gaussian') throw new LabError(`L-inf eps ${spec.eps} exceeds 1, the whole pixel range`);
  if (spec.targetClass !== undefined && spec.targetClass >= 0 && !Number.isInteger(spec.targetClass)) throw new LabError(`target class must be a class index (got ${spec.targetClass})`);
  if (spec.attack === 'deepfool' && spec.norm !== 'l2') throw new LabError('DeepFool is an L2 attack: choose norm l2');
  if (spec.attack === 'cw' && spec.norm !== 'l2') throw new LabError('Carlini–Wagner here is the L2 attack: choose norm l2');
  if (spec.searchSteps !== undefined && (!Number.isInteger(spec.searchSteps) || spec.searchSteps < 1 || spec.searchSteps > 50)) {
    throw new LabError(`C&W binary-search steps must be an integer in 1..50 (got ${spec.searchSteps})`);
  }
  if (spec.initialConstant !== undefined && !(spec.initialConstant > 0)) throw new LabError(`C&W initial constant must be > 0 (got ${spec.initialConstant})`);
  if (spec.confidence !== undefined && !(spec.confidence >= 0)) throw new LabError(`C&W confidence must be ≥ 0 (got ${spec.confidence})`);
  if (spec.attack !== 'fgsm' && spec.attack !== 'gaussian' && (!Number.isInteger(spec.steps) || spec.steps < 1 || spec.steps > 10000)) {
    throw new LabError(`steps must be an integer in 1..10000 (got ${spec.steps})`);
  }
  if (spec.stepSize !== undefined && !(spec.stepSize > 0)) throw new LabError(`step size must be > 0 (got ${spec.stepSize})`);
}

async function attackBatch(ctx: BatchContext): Promise<BatchOutcome> {
  switch (ctx.spec.attack) {
    case 'fgsm':
      return fgsmBatch(ctx);
    case 'bim':
    case 'pgd':
      return pgdBatch(ctx);
    case 'apgd-ce':
      return apgdBatch(ctx, 'ce');
    case 'apgd-dlr':
      return apgdBatch(ctx, 'dlr');
    case 'apgd-t':
      return apgdBatch(ctx, 'dlr-targeted');
    case 'gaussian':
      return gaussianBatch(ctx);
    case 'deepfool':
      return deepfoolBatch(ctx);
    case 'fab':
      return fabBatch(ctx);
    case 'cw':
      return cwBatch(ctx);
    default:
      throw new LabError(`unknown attack "${(ctx.spec as AttackSpec).attack}"`);
  }
}

/**
 * Largest attack batch whose gradient steps fit the lab's memory budget, by the lab's one rule
 * for a step's bytes per image (model/stepMemory.ts; each lab model registers its own when it
 * loads: the ONNX importer its load-time estimate; other functions are not limited), or a
 * LabError naming the size when one sample does not fit: before the backend fails with
 * "memory access out of bounds".
 */
export function attackBatchForMemory(logits: (x: tf.Tensor4D) => tf.Tensor2D): number {
  const perSample = stepBytesPerImageOf(logits);
  if (perSample === undefined) return Infinity;
  if (perSample > ACTIVATION_BUDGET_BYTES) {
    throw new LabError(`one attack step on one sample needs about ${(perSample / 2 ** 20).toFixed(0)} MB of activations and gradients, more than the ${ACTIVATION_BUDGET_BYTES / 2 ** 20} MB the lab allows; the model is too large to attack here`);
  }
  return Math.max(1, imagesWithin(perSample, ACTIVATION_BUDGET_BYTES));
}

/** The batch runAttack uses for `n` samples: the requested size (default 32), capped by n and by memory. */
export function attackBatchSize(logits: (x: tf.Tensor4D) => tf.Tensor2D, n: number, requested = DEFAULT_ATTACK_BATCH): number {
  return Math.max(1, Math.min(requested, n, attackBatchForMemory(logits)));
}

/**
 * ε = 0 (σ = 0 for noise) leaves every image where it is: the answer is the clean
 * evaluation, with no attack step run (issue #21: "trivial cases answered without
 * attacking"). Nothing was attacked, so no zero-gradient flags either.
 */
async function answerWithoutAttacking(logits: (x: tf.Tensor4D) => tf.Tensor2D, input: AttackInput, spec: AttackSpec, control: JobControl): Promise<AttackResult> {
  const n = input.labels.length;
  const [h, w, c] = input.shape;
  const d = h * w * c;
  const result: AttackResult = {
    spec: { ...spec, stepSize: resolvedStepSize(spec) }, n, shape: input.shape, adversarial: input.images.slice(), labels: input.labels,
    cleanPred: new Int32Array(n), advPred: new Int32Array(n), cleanConfidence: new Float32Array(n), advConfidence: new Float32Array(n),
    success: new Uint8Array(n), linf: new Float32Array(n), l2: new Float32Array(n), firstSuccessStep: new Int32Array(n).fill(-1),
    zeroGradient: new Uint8Array(n), cleanAccuracy: 0, robustAccuracy: 0, completed: 0,
  };
  const batch = attackBatchSize(logits, Math.max(1, n));
  for (let start = 0; start < n; start += batch) {
    if (control.signal?.aborted) throw new JobCancelledError(finish(result));
    const count = Math.min(batch, n - start);
    const packed = tf.tidy(() => {
      const z = logits(tf.tensor4d(input.images.subarray(start * d, (start + count) * d), [count, h, w, c]));
      return tf.stack([tf.cast(tf.argMax(z, 1), 'float32'), tf.max(tf.softmax(z), 1)]);
    });
    const rows = (await packed.data()) as Float32Array;
    packed.dispose();
    for (let i = 0; i < count; i++) {
      result.cleanPred[start + i] = result.advPred[start + i] = rows[i];
      result.cleanConfidence[start + i] = result.advConfidence[start + i] = rows[count + i];
    }
    result.completed = start + count;
    control.onProgress?.({ fraction: result.completed / n, message: 'ε = 0: the clean evaluation, nothing to attack' });
  }
  if (spec.attack === 'gaussian') result.meanDrawAccuracy = finish(result).cleanAccuracy;
  return finish(result);
}

/** Relative slack on the ε-ball check: float32 rounding of x0 + δ and of the norm itself. */
const BALL_SLACK = 1e-5;

export async function runAttack(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  input: AttackInput,
  spec: AttackSpec,
  options: AttackOptions,
  control: JobControl = {},
): Promise<AttackResult> {
  validateAttackSpec(spec);
  const [h, w, c] = input.shape;
  const d = h * w * c;
  const n = input.labels.length;
  if (input.images.length !== n * d) throw new LabError(`attack input has ${input.images.length} floats, expected ${n}×${h}×${w}×${c}`);
  if (spec.eps === 0 && !isMinimumNormAttack(spec.attack)) return answerWithoutAttacking(logits, input, spec, control);
  if (spec.attack === 'aa') return runAutoAttackLite(logits, input, spec, options, control);
  const batchSize = attackBatchSize(logits, n, options.batchSize);
  const rng = createRng(deriveSeed(options.seed, `attack:${spec.attack}:${spec.norm}:${spec.eps}`));
  const stepSize = resolvedStepSize(spec);
  const result: AttackResult = {
    spec: { ...spec, stepSize },
    n,
    shape: input.shape,
    adversarial: new Float32Array(n * d),
    labels: input.labels,
    cleanPred: new Int32Array(n),
    advPred: new Int32Array(n),
    cleanConfidence: new Float32Array(n),
    advConfidence: new Float32Array(n),
    success: new Uint8Array(n),
    linf: new Float32Array(n),
    l2: new Float32Array(n),
    firstSuccessStep: new Int32Array(n).fill(-1),
    zeroGradient: new Uint8Array(n),
    cleanAccuracy: 0,
    robustAccuracy: 0,
    completed: 0,
  };
  const passes =
    spec.attack === 'apgd-t' ? (spec.targetClass !== undefined && spec.targetClass >= 0 ? 1 : (spec.targets ?? 9))
    : spec.attack.startsWith('apgd') || spec.attack === 'fab' ? (spec.restarts ?? 1)
    : spec.attack === 'cw' ? (spec.searchSteps ?? CW_SEARCH_STEPS)
    : 1;
  const stepsPerBatch =
    spec.attack === 'fgsm' ? 1 : spec.attack === 'gaussian' ? (spec.draws ?? DEFAULT_NOISE_DRAWS) : spec.attack.startsWith('apgd') ? (spec.steps + 1) * passes : spec.steps * passes;
  const bounded = spec.attack !== 'gaussian' && !isMinimumNormAttack(spec.attack);
  const finalIterateCheckedHere = spec.attack === 'pgd' || spec.attack === 'bim';
  let drawAccuracySum = 0;
  const numBatches = Math.ceil(n / batchSize);
  for (let b = 0; b < numBatches; b++) {
    if (control.signal?.aborted) throw new JobCancelledError(finish(result));
    const start = b * batchSize;
    const count = Math.min(batchSize, n - start);
    // Pad with copies of the batch's first image; padded rows are inactive and dropped.
    const xs = new Float32Array(batchSize * d);
    xs.set(input.images.subarray(start * d, (start + count) * d));
    for (let i = count; i < batchSize; i++) xs.copyWithin(i * d, 0, d);
    const ys = new Int32Array(batchSize);
    ys.set(input.labels.subarray(start, start + count));
    const x0 = tf.tensor4d(xs, [batchSize, h, w, c]);
    const labels = tf.tensor1d(ys, 'int32');
    const padMask = tf.tensor1d(Array.from({ length: batchSize }, (_, i) => (i < count ? 1 : 0)), 'bool');
    const clean = tf.tidy(() => {
      const z = logits(x0);
      const p = tf.softmax(z);
      return { pred: tf.argMax(z, 1), conf: tf.max(p, 1), active: tf.logicalAnd(padMask, tf.equal(tf.argMax(z, 1), labels)) };
    });
    let outcome: BatchOutcome | null = null;
    try {
      outcome = await attackBatch({
        logits,
        x0,
        labels,
        active: clean.active as tf.Tensor1D,
        spec,
        rng,
        signal: control.signal,
        onStep: (s) =>
          control.onProgress?.({ fraction: (b * stepsPerBatch + s) / (numBatches * stepsPerBatch), message: `batch ${b + 1}/${numBatches}, step ${s}/${stepsPerBatch}` }),
      });
      const o = outcome;
      // Everything per sample goes into one [rows, B] float32 tensor, read back together
      // with the images: two downloads instead of eleven (on GPU backends each download
      // waits for the queue). Class indices and step counts are small integers, exact in
      // float32; the box check runs on the downloaded pixels.
      const after = tf.tidy(() => {
        const z = logits(o.adversarial);
        const delta = tf.sub(o.adversarial, x0).reshape([batchSize, -1]);
        const linf = tf.max(tf.abs(delta), 1);
        // An attacked sample that did not move at all: whatever the attack saw (a zero, NaN or
        // wrong gradient), its robustness is unproven (AutoAttack's zero-gradient check).
        const unperturbed = tf.logicalAnd(clean.active, tf.equal(linf, 0));
        const rows: tf.Tensor[] = [
          clean.pred, clean.conf, tf.argMax(z, 1), tf.max(tf.softmax(z), 1), linf, tf.sqrt(tf.sum(tf.square(delta), 1)),
          o.firstSuccessStep, tf.logicalOr(o.zeroGradient, spec.eps > 0 ? unperturbed : tf.zerosLike(unperturbed)), ...(o.correctFraction ? [o.correctFraction] : []),
        ];
        return tf.stack(rows.map((r) => tf.cast(r, 'float32')));
      });
      const [packed, adv] = (await Promise.all([after.data(), o.adversarial.data()])) as [Float32Array, Float32Array];
      after.dispose();
      const row = (r: number) => packed.subarray(r * batchSize, (r + 1) * batchSize);
      const [cp, cc, ap, ac, li, l2, fs, zg] = [0, 1, 2, 3, 4, 5, 6, 7].map(row);
      const drawFractions = o.correctFraction ? row(8) : null;
      let mn = Infinity;
      let mx = -Infinity;
      for (let j = 0; j < adv.length; j++) {
        if (adv[j] < mn) mn = adv[j];
        if (adv[j] > mx) mx = adv[j];
      }
      if (mn < 0 || mx > 1) throw new Error(`attack left the image box (a bug, not bad input): pixel range [${mn}, ${mx}]`);
      const bound = spec.norm === 'linf' ? li : l2;
      for (let i = 0; i < count; i++) {
        if (bounded && bound[i] > spec.eps * (1 + BALL_SLACK) + 1e-6) {
          throw new Error(`attack left the ${spec.norm} ball (a bug, not bad input): sample ${start + i} has norm ${bound[i]} > eps ${spec.eps}`);
        }
        const k = start + i;
        result.cleanPred[k] = cp[i];
        result.cleanConfidence[k] = cc[i];
        result.advPred[k] = ap[i];
        result.advConfidence[k] = ac[i];
        result.linf[k] = li[i];
        result.l2[k] = l2[i];
        result.zeroGradient[k] = zg[i];
        result.success[k] = cp[i] === ys[i] && ap[i] !== ys[i] ? 1 : 0;
        // BIM/PGD leave the check of their final iterate S to this re-evaluation (pgd.ts).
        result.firstSuccessStep[k] = finalIterateCheckedHere && fs[i] < 0 && result.success[k] ? spec.steps : fs[i];
        if (drawFractions) drawAccuracySum += drawFractions[i];
      }
      result.adversarial.set(adv.subarray(0, count * d), start * d);
      if (o.minimumNorm) {
        // Minimum-norm attack: record the norm found (in the attack's norm: L2 for DeepFool
        // and C&W, L-inf or L2 for FAB), count a success at ε only within ε, and show the
        // clean image where the smallest perturbation found exceeds ε.
        result.minimalNorm ??= new Float32Array(n).fill(Infinity);
        for (let i = 0; i < count; i++) {
          const k = start + i;
          if (!result.success[k]) continue;
          result.minimalNorm[k] = bound[i];
          if (bound[i] > spec.eps * (1 + BALL_SLACK) + 1e-6) {
            result.success[k] = 0;
            result.advPred[k] = result.cleanPred[k];
            result.advConfidence[k] = result.cleanConfidence[k];
            result.linf[k] = 0;
            result.l2[k] = 0;
            result.adversarial.set(input.images.subarray(k * d, (k + 1) * d), k * d);
          }
        }
      }
      result.completed = start + count;
    } catch (e) {
      if (e instanceof JobCancelledError) throw new JobCancelledError(finish(result));
      throw e;
    } finally {
      tf.dispose([x0, labels, padMask, clean.pred, clean.conf, clean.active]);
      if (outcome) tf.dispose([outcome.adversarial, outcome.firstSuccessStep, outcome.zeroGradient, ...(outcome.correctFraction ? [outcome.correctFraction] : [])]);
    }
  }
  if (spec.attack === 'gaussian') result.meanDrawAccuracy = drawAccuracySum / Math.max(1, result.completed);
  return finish(result);
}

/** Progress of a sub-run mapped into [lo, hi] of the caller's. */
function phaseControl(control: JobControl, lo: number, hi: number): JobControl {
  return {
    signal: control.signal,
    onProgress: control.onProgress ? (p) => control.onProgress?.({ ...p, fraction: lo + (hi - lo) * p.fraction }) : undefined,
  };
}

/**
 * The lab's AutoAttack-style sequence, "robust accuracy (AA-style)": APGD-CE (1 restart) on
 * every sample, then APGD-T (top-`targets` classes by clean logit) on the samples still robust
 * (spec §5: the pair that gives almost all of AutoAttack's reduction; FAB-T and Square are not
 * part of it). As in AutoAttack, the second attack runs on the robust samples gathered into
 * fresh batches, not on masked rows of the first attack's batches: after APGD-CE breaks 97% of
 * a standard model's samples, the 9 × (steps + 1) targeted iterations then cost 3% of a full
 * pass instead of 100%.
 * A cancel during APGD-CE returns nothing final (APGD-CE alone would overstate robustness); a
 * cancel during APGD-T returns every sample up to the last robust one it finished.
 */
async function runAutoAttackLite(
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  input: AttackInput,
  spec: AttackSpec,
  options: AttackOptions,
  control: JobControl,
): Promise<AttackResult> {
  const targets = spec.targets ?? 9;
  const split = 1 / (1 + targets);
  const ceSpec: AttackSpec = { ...spec, attack: 'apgd-ce', restarts: 1, targetClass: undefined };
  let result: AttackResult;
  const pre = options.apgdCe;
  const sameInputs = (r: AttackResult) => r.n === input.labels.length && r.shape.every((v, i) => v === input.shape[i]) && r.labels.every((y, i) => y === input.labels[i]);
  const reusable = pre && pre.spec.attack === 'apgd-ce' && pre.spec.norm === spec.norm && pre.spec.eps === spec.eps && pre.spec.steps === spec.steps && (pre.spec.restarts ?? 1) === 1 && pre.completed === pre.n && sameInputs(pre);
  try {
    // The targeted phase writes into the result: work on a copy of a reused one.
    result = reusable ? structuredClone(pre) : await runAttack(logits, input, ceSpec, { seed: options.seed, batchSize: options.batchSize }, phaseControl(control, 0, split));
  } catch (e) {
    if (e instanceof JobCancelledError && e.partial) throw new JobCancelledError(finish({ ...(e.partial as AttackResult), spec: { ...spec, stepSize: resolvedStepSize(spec) }, completed: 0 }));
    throw e;
  }
  result = { ...result, spec: { ...spec, stepSize: resolvedStepSize(spec) } };
  const [h, w, c] = input.shape;
  const d = h * w * c;
  const robust: number[] = [];
  for (let i = 0; i < result.n; i++) if (result.cleanPred[i] === input.labels[i] && !result.success[i]) robust.push(i);
  if (robust.length === 0) return finish(result);
  const images = new Float32Array(robust.length * d);
  const labels = new Int32Array(robust.length);
  robust.forEach((k, j) => {
    images.set(input.images.subarray(k * d, (k + 1) * d), j * d);
    labels[j] = input.labels[k];
  });
  // AA's APGD-T ranks targets by clean logit (an explicit target class is APGD-T's own option).
  const tSpec: AttackSpec = { ...spec, attack: 'apgd-t', targets, targetClass: undefined };
  const offset = spec.steps + 1;
  const merge = (t: AttackResult) => {
    for (let j = 0; j < t.completed; j++) {
      const k = robust[j];
      if (!t.success[j]) continue;
      result.success[k] = 1;
      result.advPred[k] = t.advPred[j];
      result.advConfidence[k] = t.advConfidence[j];
      result.linf[k] = t.linf[j];
      result.l2[k] = t.l2[j];
      result.firstSuccessStep[k] = t.firstSuccessStep[j] >= 0 ? t.firstSuccessStep[j] + offset : -1;
      result.adversarial.set(t.adversarial.subarray(j * d, (j + 1) * d), k * d);
    }
  };
  try {
    merge(await runAttack(logits, { images, labels, shape: input.shape }, tSpec, options, phaseControl(control, split, 1)));
  } catch (e) {
    if (e instanceof JobCancelledError && e.partial) {
      const t = e.partial as AttackResult;
      merge(t);
      throw new JobCancelledError(finish({ ...result, completed: t.completed < robust.length ? robust[t.completed] : result.n }));
    }
    throw e;
  }
  return finish(result);
}

function finish(result: AttackResult): AttackResult {
  let correct = 0;
  let robust = 0;
  for (let i = 0; i < result.completed; i++) {
    if (result.cleanPred[i] === result.labels[i]) correct++;
    if (result.advPred[i] === result.labels[i] && result.cleanPred[i] === result.labels[i]) robust++;
  }
  const m = Math.max(1, result.completed);
  result.cleanAccuracy = correct / m;
  result.robustAccuracy = robust / m;
  return result;
}
