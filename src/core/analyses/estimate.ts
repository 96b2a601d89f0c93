/**
 * How long an analysis will take, said before it runs (issue #21: "every analysis estimates
 * its cost before running, from the measured throughput of this model on this backend").
 *
 * A definition counts its work in three units: input gradients of one image through a model
 * (attack steps), forward passes of one image (predictions, activations), and plain
 * arithmetic operations of its own algorithm (t-SNE gradients, Gram matrices, probes, the
 * capacity solver). The host measures what one unit costs here — a timed batch through the
 * very model on the very backend, and a timed loop of arithmetic — and the estimate is the
 * sum. The per-kind counts are the algorithms' own complexities, with constants calibrated
 * once against timed runs (bench/estimates.ts prints estimate and actual side by side).
 */
import * as tf from '@tensorflow/tfjs';
import type { LabModel } from '../model/model';
import type { AttackSpec } from '../attacks/types';

/** One part of an analysis's work; `which` names the model whose throughput prices it. */
export interface CostPart {
  which?: 'a' | 'b';
  /** Forward + backward passes of one image. */
  gradients?: number;
  /** Forward passes of one image. */
  forwards?: number;
  /** Arithmetic operations of the analysis's own algorithm (multiply-adds and the like). */
  operations?: number;
  /** The attack these gradients run (class-balanced sample of n): free when the host already holds it. */
  attack?: { spec: AttackSpec; n: number };
}

export type Cost = CostPart[];

/** What one unit costs on this machine, this backend and these models (seconds). */
export interface Throughput {
  gradient: { a: number; b?: number };
  forward: { a: number; b?: number };
  operation: number;
}

/** Seconds of a cost at a throughput. */
export function secondsOf(cost: Cost, t: Throughput): number {
  let s = 0;
  for (const p of cost) {
    const which = p.which ?? 'a';
    s += (p.gradients ?? 0) * (t.gradient[which] ?? t.gradient.a) + (p.forwards ?? 0) * (t.forward[which] ?? t.forward.a) + (p.operations ?? 0) * t.operation;
  }
  return s;
}

/**
 * An attack step is more than its input gradient: the step, the projection onto the ball and
 * the box, the per-step success check (e2e/estimates.spec.ts: PGD runs took 1.2–1.7× the
 * probe's bare gradients in Chromium on WASM).
 */
const ATTACK_STEP_GRADIENTS = 1.3;

/**
 * Gradient evaluations per image of one attack run (what runAttack's batches execute: every
 * step runs on the whole padded batch, so n counts up to the batch multiple).
 */
export function attackCost(spec: AttackSpec, n: number, numClasses: number, which: 'a' | 'b' = 'a'): CostPart {
  const rows = n <= 32 ? n : Math.ceil(n / 32) * 32;
  if (spec.eps === 0 && spec.attack !== 'deepfool' && spec.attack !== 'fab' && spec.attack !== 'cw') return { which, forwards: n };
  const steps = Math.max(1, spec.steps);
  const perImage = (() => {
    switch (spec.attack) {
      case 'fgsm':
        return 1;
      case 'gaussian':
        return 0;
      case 'bim':
      case 'pgd':
        return steps;
      case 'apgd-ce':
      case 'apgd-dlr':
        return (steps + 1) * (spec.restarts ?? 1);
      case 'apgd-t':
        return (steps + 1) * (spec.targetClass !== undefined && spec.targetClass >= 0 ? 1 : Math.min(spec.targets ?? 9, numClasses - 1));
      // AA-style: APGD-CE on all, APGD-T on the still-robust (a quarter, as a middle guess).
      case 'aa':
        return (steps + 1) * (1 + 0.25 * Math.min(spec.targets ?? 9, numClasses - 1));
      // Minimum-norm attacks: a gradient per class per step, most samples done in a few steps.
      case 'deepfool':
        return Math.min(steps, 5) * numClasses;
      case 'fab':
        return steps * (spec.restarts ?? 1) * 2;
      case 'cw':
        return steps * (spec.searchSteps ?? 9);
    }
  })();
  const draws = spec.attack === 'gaussian' ? (spec.draws ?? 10) : 0;
  return { which, gradients: ATTACK_STEP_GRADIENTS * rows * perImage, forwards: rows * (2 + draws), attack: { spec, n } };
}

/** Activation sizes (floats per image) of the tapped layers of a model. */
export function layerSizes(model: LabModel, layers: string[]): number[] {
  return layers.map((name) => model.layers.find((l) => l.name === name)?.size ?? 0);
}

/**
 * Fastest of a few timed runs (the first, which compiles shaders and allocates, not counted):
 * the least disturbed by whatever else the machine does in those milliseconds.
 */
async function timed(run: () => Promise<void>, repeats: number, maxSeconds: number): Promise<number> {
  await run();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
    if ((performance.now() - start) / 1000 > maxSeconds) break;
  }
  return Math.min(...times);
}

/**
 * Seconds per image of an input gradient and of a forward pass through `model` on the active
 * backend. A batch of 8 first; a model that runs it quickly (the zoo's small CNNs) is timed
 * again at the attack runner's batch of 32, where per-image costs are lower. A large model
 * (a ResNet on WASM: seconds per batch) is never timed at 32: the estimate must not hold the
 * worker for longer than a few of its own steps.
 */
export async function measureModelThroughput(model: LabModel, shape: [number, number, number]): Promise<{ gradient: number; forward: number }> {
  const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.logSoftmax(model.logits(input as tf.Tensor4D))));
  const at = async (batch: number, repeats: number) => {
    const x = tf.tidy(() => tf.randomUniform([batch, ...shape], 0, 1, 'float32', 1) as tf.Tensor4D);
    try {
      const gradient = await timed(async () => {
        const g = tf.tidy(() => grad(x));
        await g.data();
        g.dispose();
      }, repeats, 1);
      const forward = await timed(async () => {
        const z = tf.tidy(() => model.logits(x));
        await z.data();
        z.dispose();
      }, repeats, 1);
      return { gradient: gradient / batch, forward: forward / batch };
    } finally {
      x.dispose();
    }
  };
  const small = await at(8, 2);
  return small.gradient * 8 < QUICK_BATCH_SECONDS ? at(32, 5) : small;
}

/** A batch of 8 input gradients faster than this is timed again at batch 32. */
const QUICK_BATCH_SECONDS = 0.1;

/**
 * Seconds per arithmetic operation of the analyses' typed-array code: a timed dot-product
 * loop (the inner loop of t-SNE, Gram matrices and probes) of 2²⁰ multiply-adds.
 */
export function measureOperationSpeed(): number {
  const n = 1 << 14;
  const a = new Float64Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = (i % 7) * 0.5;
    b[i] = (i % 5) * 0.25;
  }
  const run = () => {
    let s = 0;
    for (let r = 0; r < 64; r++) for (let i = 0; i < n; i++) s += a[i] * b[(i + r) & (n - 1)];
    return s;
  };
  run();
  const times: number[] = [];
  let sink = 0;
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    sink += run();
    times.push((performance.now() - t0) / 1000);
  }
  // Keep the loop's result alive so it is not optimised away.
  if (sink === -1) throw new Error('unreachable');
  return Math.min(...times) / (64 * n);
}

/** "≈ 40 s", "≈ 3 min", "< 1 s": an estimate as people say it. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 1) return '< 1 s';
  if (seconds < 90) return `≈ ${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `≈ ${Math.round(seconds / 60)} min`;
  return `≈ ${(seconds / 3600).toFixed(1)} h`;
}

/** Throughput per model object and backend (a model's speed does not change while it is loaded). */
const modelSpeeds = new WeakMap<LabModel, Map<string, { gradient: number; forward: number }>>();
let operationSeconds: number | null = null;

/**
 * What one unit costs for the context's models on the active backend: measured once per model
 * and backend (a few timed batches, well under a second on WASM for the zoo's small models).
 */
export async function throughputOf(models: { a: LabModel; b: LabModel | null }, shape: [number, number, number]): Promise<Throughput> {
  const backend = tf.getBackend();
  const speedOf = async (model: LabModel) => {
    let byBackend = modelSpeeds.get(model);
    if (!byBackend) modelSpeeds.set(model, (byBackend = new Map()));
    let speed = byBackend.get(backend);
    if (!speed) byBackend.set(backend, (speed = await measureModelThroughput(model, shape)));
    return speed;
  };
  const a = await speedOf(models.a);
  const b = models.b ? await speedOf(models.b) : undefined;
  operationSeconds ??= measureOperationSpeed();
  return { gradient: { a: a.gradient, b: b?.gradient }, forward: { a: a.forward, b: b?.forward }, operation: operationSeconds };
}
