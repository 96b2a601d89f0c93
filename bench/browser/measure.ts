/**
 * The attack-throughput measurement shared by the Node bench (bench/attacks.ts, cpu and
 * wasm) and the browser bench page (bench/browser/attacks.ts, webgl and webgpu). It only
 * uses tfjs and src/core, so the same code runs in both places; the backend is whatever
 * tfjs has active when it is called.
 *
 * What is timed, all on one batch of n images (batch size n, so one batch per attack):
 *
 * - attack(S): the lab's `runAttack` end to end (upload, clean pass, S iterations, final
 *   checks, download of the result), as the lab runs it.
 * - raw(G):    G forward+backward passes of the same model on the same batch with the same
 *   loss (summed per-sample CE on logits, one `tf.grad` call per pass), nothing else. G is
 *   the number of gradient passes the algorithm itself needs for S iterations: S for PGD,
 *   S + 1 for APGD (its start point is evaluated too). Sync pattern as the attack's: no
 *   download inside the loop, one download (of the last gradient) at the end, so on
 *   GPU backends both wait for the whole queue exactly once.
 * - per-sample(S): `runAttack` with batch size 1 over a few samples: the straightforward
 *   unbatched loop.
 *
 * Everything the attack does beyond those G passes counts as its overhead: the clean and
 * re-evaluation forwards, the update/projection/bookkeeping ops, event-loop yields, the
 * threat-model checks. "whole" overhead = attack(S)/raw(G) − 1. The per-step overhead is
 * the marginal cost of one more iteration, from two lengths S and S' < S:
 * [attack(S) − attack(S')]/(S − S') against [raw(G(S)) − raw(G(S'))]/(G(S) − G(S')), so
 * fixed per-attack costs drop out; "fixed" is what remains, in units of raw passes.
 * Clock: in Node (cpu, wasm: all work runs synchronously on the main thread) the process's
 * CPU time, so other processes competing for the cores do not count; in the browser wall
 * time. Runs are interleaved (raw, attack, short attack, short raw, …) so drift in machine load
 * hits all of them alike; each figure is the minimum over the repeats (load from other
 * processes only ever adds time, so the minimum is the least disturbed run; the medians are
 * kept in the JSON output too).
 */
import * as tf from '@tensorflow/tfjs';
import { runAttack, type AttackInput } from '../../src/core/attacks/runner';
import { crossEntropyPerSample } from '../../src/core/attacks/common';
import type { AttackSpec } from '../../src/core/attacks/types';

export type BenchAttack = 'pgd' | 'apgd-ce';

export interface MeasureConfig {
  attack: BenchAttack;
  eps: number;
  /** Batch size = number of images attacked. */
  n: number;
  /** Iterations S of the timed attack. */
  steps: number;
  /** Iterations S' of the short run used for the marginal per-step cost. */
  shortSteps: number;
  repeats: number;
  /** Images in the per-sample (batch size 1) loop; 0 skips it. */
  perSampleN: number;
}

/** A clock in seconds. */
export type Clock = () => number;

/** Wall time: the only clock a page has (the GPU work runs in another process). */
export const wallClock: Clock = () => performance.now() / 1000;

export interface Measurement {
  attack: BenchAttack;
  n: number;
  steps: number;
  shortSteps: number;
  repeats: number;
  /** Minimum seconds over the repeats (medians in `medianSeconds`). */
  attackSeconds: number;
  attackShortSeconds: number;
  rawSeconds: number;
  rawShortSeconds: number;
  perSampleSeconds: number | null;
  perSampleN: number;
  /** n·S / attack(S). */
  attackImageStepsPerSecond: number;
  /** n·G / raw(G): forward+backward image passes per second. */
  rawImageStepsPerSecond: number;
  /** attack(S) / raw(G(S)) − 1. */
  wholeOverhead: number;
  /** Marginal cost of one iteration over one raw pass, − 1. */
  perStepOverhead: number;
  /** Fixed per-attack cost in raw forward+backward passes of the batch. */
  fixedRawPasses: number;
  perSampleImageStepsPerSecond: number | null;
  /** attack image-steps/s over the per-sample loop's. */
  batchedSpeedup: number | null;
  /** tf.memory().numTensors growth over the whole measurement (should be 0). */
  leakedTensors: number;
  medianSeconds: { attack: number; attackShort: number; raw: number; rawShort: number };
}

/** Gradient passes the algorithm needs for `steps` iterations (APGD also evaluates its start). */
export function gradientPasses(attack: BenchAttack, steps: number): number {
  return attack === 'pgd' ? steps : steps + 1;
}

/**
 * The raw baseline: `passes` forward+backward passes of summed CE, no per-pass download,
 * one awaited download at the end.
 */
export async function rawForwardBackward(logits: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D, labels: tf.Tensor1D, passes: number): Promise<void> {
  const gradFn = tf.grad((input: tf.Tensor) => tf.sum(crossEntropyPerSample(logits(input as tf.Tensor4D), labels)));
  let last: tf.Tensor | null = null;
  for (let i = 0; i < passes; i++) {
    const g = gradFn(x);
    last?.dispose();
    last = g;
  }
  if (last) {
    await last.data();
    last.dispose();
  }
}

async function seconds(clock: Clock, fn: () => Promise<unknown>): Promise<number> {
  const t0 = clock();
  await fn();
  return clock() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Measure one attack on one model on the active backend (see the header). */
export async function measureAttack(logits: (x: tf.Tensor4D) => tf.Tensor2D, input: AttackInput, cfg: MeasureConfig, clock: Clock = wallClock): Promise<Measurement> {
  const { n, steps, shortSteps, attack } = cfg;
  const [h, w, c] = input.shape;
  const d = h * w * c;
  if (input.labels.length < n) throw new Error(`need ${n} samples, have ${input.labels.length}`);
  if (!(shortSteps >= 1 && shortSteps < steps)) throw new Error(`short steps ${shortSteps} must be in [1, ${steps})`);
  const batchInput: AttackInput = { images: input.images.subarray(0, n * d), labels: input.labels.subarray(0, n), shape: input.shape };
  const spec = (s: number): AttackSpec => ({ attack, norm: 'linf', eps: cfg.eps, steps: s });
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(batchInput.images, [n, h, w, c]);
  const y = tf.tensor1d(batchInput.labels, 'int32');
  const g = gradientPasses(attack, steps);
  const gShort = gradientPasses(attack, shortSteps);
  const attackRun = (s: number) => runAttack(logits, batchInput, spec(s), { seed: 0, batchSize: n });
  // Warm-up: kernels, shader/pipeline compilation and texture pools for both code paths.
  await attackRun(shortSteps);
  await rawForwardBackward(logits, x, y, gShort);
  const times = { attack: [] as number[], attackShort: [] as number[], raw: [] as number[], rawShort: [] as number[] };
  for (let r = 0; r < cfg.repeats; r++) {
    times.raw.push(await seconds(clock, () => rawForwardBackward(logits, x, y, g)));
    times.attack.push(await seconds(clock, () => attackRun(steps)));
    times.attackShort.push(await seconds(clock, () => attackRun(shortSteps)));
    times.rawShort.push(await seconds(clock, () => rawForwardBackward(logits, x, y, gShort)));
  }
  tf.dispose([x, y]);
  let perSampleSeconds: number | null = null;
  const m = Math.min(cfg.perSampleN, n);
  if (m > 0) {
    const psInput: AttackInput = { images: input.images.subarray(0, m * d), labels: input.labels.subarray(0, m), shape: input.shape };
    const psRun = (s: number) => runAttack(logits, psInput, spec(s), { seed: 0, batchSize: 1 });
    await runAttack(logits, { ...psInput, images: psInput.images.subarray(0, d), labels: psInput.labels.subarray(0, 1) }, spec(1), { seed: 0, batchSize: 1 });
    perSampleSeconds = await seconds(clock, () => psRun(steps));
  }
  const attackSeconds = Math.min(...times.attack);
  const attackShortSeconds = Math.min(...times.attackShort);
  const rawSeconds = Math.min(...times.raw);
  const rawShortSeconds = Math.min(...times.rawShort);
  const attackPerStep = (attackSeconds - attackShortSeconds) / (steps - shortSteps);
  const rawPerPass = (rawSeconds - rawShortSeconds) / (g - gShort);
  const attackImageStepsPerSecond = (n * steps) / attackSeconds;
  const perSampleImageStepsPerSecond = perSampleSeconds === null ? null : (m * steps) / perSampleSeconds;
  return {
    attack,
    n,
    steps,
    shortSteps,
    repeats: cfg.repeats,
    attackSeconds,
    attackShortSeconds,
    rawSeconds,
    rawShortSeconds,
    perSampleSeconds,
    perSampleN: m,
    attackImageStepsPerSecond,
    rawImageStepsPerSecond: (n * g) / rawSeconds,
    wholeOverhead: attackSeconds / rawSeconds - 1,
    // Per iteration the algorithm needs exactly one pass (PGD and APGD alike).
    perStepOverhead: attackPerStep / rawPerPass - 1,
    fixedRawPasses: (attackSeconds - steps * attackPerStep) / rawPerPass - (g - steps),
    perSampleImageStepsPerSecond,
    batchedSpeedup: perSampleImageStepsPerSecond === null ? null : attackImageStepsPerSecond / perSampleImageStepsPerSecond,
    leakedTensors: tf.memory().numTensors - before,
    medianSeconds: { attack: median(times.attack), attackShort: median(times.attackShort), raw: median(times.raw), rawShort: median(times.rawShort) },
  };
}
