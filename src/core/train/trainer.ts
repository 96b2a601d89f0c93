/**
 * The trainer: a steppable training run (STYLE.md convention 5) over a labelled image set,
 * driven by one master seed. Every random choice has its own stream derived from it
 * (deriveSeed, src/core/random.ts): the initial weights ('init:<weight>'), each epoch's data
 * order ('order:<epoch>'), each step's random starts ('train-attack:<step>') and the probe's
 * PGD ('probe'). Nothing else is random, so the same seed, backend and settings give bit-identical
 * weights after N steps (trainer.test.ts), and two runs with the same seed see the same
 * batches in the same order whatever their method (the ST-vs-AT contrast on equal footing).
 *
 * Each step: assemble the batch (the epoch's permutation, ragged last batch dropped, as the
 * zoo's trainer does), make the method's adversarial examples, one forward/backward in
 * training mode, the optimiser update at the scheduled learning rate, then the BatchNorm
 * running statistics. Each step is one tf.tidy-clean unit: the tensor count is the same
 * before and after (trainer.test.ts checks it over many steps).
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropyPerSample } from '../attacks/common';
import { runAttack } from '../attacks/runner';
import { createRng, deriveSeed, shuffleInPlace, type Rng } from '../random';
import { JobCancelledError, LabError, throwIfAborted, type ImageDataset, type JobControl } from '../types';
import { buildArch, createNet, initialWeights, type ArchName, type Net } from './arch';
import { updateRunningStats, type BatchStats } from './batchnorm';
import type { TrainValues } from './definition';
import { adversarialExamples, defaultStepSize, trainingLoss, type MethodName, type MethodOptions } from './methods';
import { runTrainingPair, type PairLog } from './pair';
import { createOptimizer, type Optimizer, type OptimizerName } from './optim';
import { epsFraction, learningRate, type ScheduleName } from './schedule';

/** What the trainer reads of the definition's values (the data and the probe are passed separately). */
export type TrainOptions = Omit<TrainValues, 'data' | 'probeN'>;

export interface StepReport {
  /** Steps done after this one (1-based). */
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  eps: number;
}

export interface ProbeMetrics {
  step: number;
  epoch: number;
  /** Mean training loss over the steps since the previous probe. */
  trainLoss: number;
  /** Mean clean cross-entropy on the probe set (running statistics). */
  probeLoss: number;
  cleanAccuracy: number;
  /** PGD (random start, `probeSteps` steps, α = 2.5·ε/steps) at the full training ε and norm. */
  robustAccuracy: number;
  probeEps: number;
  /** Wall-clock seconds since the run started. */
  seconds: number;
  /** Training images per second since the previous probe (the probe's own time excluded). */
  imagesPerSecond: number;
}

export interface Trainer {
  readonly net: Net;
  readonly options: TrainOptions;
  readonly stepsPerEpoch: number;
  /** Steps the run is planned for: epochs × steps per epoch, capped by maxSteps. */
  readonly totalSteps: number;
  readonly stepsDone: number;
  /**
   * The training-set indices of step `step`'s batch (0-based step), from the seed's data order
   * for that epoch alone: two trainers with the same seed, data and batch size give the same
   * indices whatever their method (pair.test.ts checks it).
   */
  batchIndices(step: number): Int32Array;
  /** One training step. Cancelling mid-step leaves the weights as they were before it. */
  step(signal?: AbortSignal): Promise<StepReport>;
  /** Clean and PGD metrics of the current weights on `probe` (inference mode). */
  probe(probe: ImageDataset, control?: JobControl): Promise<Omit<ProbeMetrics, 'trainLoss' | 'seconds' | 'imagesPerSecond'>>;
  dispose(): void;
}

/** Steps of one epoch: whole batches only (the ragged last batch is dropped, as in tools/zoo/train.py). */
export function stepsPerEpochOf(n: number, batch: number): number {
  return Math.floor(n / batch);
}

export function createTrainer(data: ImageDataset, options: TrainOptions): Trainer {
  const { height: h, width: w, channels: c } = data;
  const d = h * w * c;
  const numClasses = data.classNames.length;
  if (data.n < options.batch) throw new LabError(`training data ${data.id} has ${data.n} images, fewer than one batch of ${options.batch}`);
  if (numClasses < 2) throw new LabError(`training data ${data.id} has ${numClasses} class; training needs at least 2`);
  const spec = buildArch(options.arch as ArchName, [h, w, c], numClasses);
  const net = createNet(spec, initialWeights(spec, options.seed));
  const optimizer: Optimizer = createOptimizer(net.trainable, {
    name: options.optimizer as OptimizerName,
    momentum: options.momentum,
    nesterov: options.nesterov === 1,
    weightDecay: options.weightDecay,
  });
  const stepsPerEpoch = stepsPerEpochOf(data.n, options.batch);
  const planned = options.epochs * stepsPerEpoch;
  const totalSteps = options.maxSteps > 0 ? Math.min(options.maxSteps, planned) : planned;
  const method = options.method as MethodName;
  const baseStepSize = options.stepSize > 0 ? options.stepSize : defaultStepSize(method, options.eps, options.steps);
  let order: Int32Array | null = null;
  let orderEpoch = -1;
  let done = 0;
  const batchImages = new Float32Array(options.batch * d);
  const batchLabels = new Int32Array(options.batch);

  const orderOf = (epoch: number): Int32Array => {
    if (orderEpoch !== epoch || !order) {
      order = Int32Array.from({ length: data.n }, (_, i) => i);
      shuffleInPlace(order, createRng(deriveSeed(options.seed, `order:${epoch}`)));
      orderEpoch = epoch;
    }
    return order;
  };

  const batchIndices = (step: number): Int32Array => {
    const within = step % stepsPerEpoch;
    return orderOf(Math.floor(step / stepsPerEpoch)).slice(within * options.batch, (within + 1) * options.batch);
  };

  return {
    net,
    options,
    stepsPerEpoch,
    totalSteps,
    get stepsDone() {
      return done;
    },
    batchIndices,
    async step(signal) {
      throwIfAborted(signal);
      const epoch = Math.floor(done / stepsPerEpoch);
      const indices = batchIndices(done);
      for (let i = 0; i < options.batch; i++) {
        const src = indices[i];
        batchImages.set(data.images.subarray(src * d, (src + 1) * d), i * d);
        batchLabels[i] = data.labels[src];
      }
      const frac = epsFraction(done, options.epsRamp, stepsPerEpoch);
      const methodOpts: MethodOptions = { method, norm: options.norm as MethodOptions['norm'], eps: options.eps * frac, steps: options.steps, stepSize: baseStepSize * frac, beta: options.beta };
      const lr = learningRate(options.schedule as ScheduleName, options.lr, done, totalSteps);
      const x = tf.tensor4d(batchImages, [options.batch, h, w, c]);
      const y = tf.tensor1d(batchLabels, 'int32');
      const stats: BatchStats[] = [];
      let adversarial: tf.Tensor4D | null = null;
      let loss: number;
      try {
        // A stream per step, not one for the run: a step cancelled halfway and run again draws
        // the same random start, so pausing never changes what a run computes.
        const attackRng: Rng = createRng(deriveSeed(options.seed, `train-attack:${done}`));
        adversarial = adversarialExamples(net, x, y, methodOpts, attackRng, signal);
        throwIfAborted(signal);
        const adv = adversarial;
        const { value, grads } = tf.variableGrads(() => trainingLoss(net, x, y, adv, methodOpts, stats), net.trainable);
        // variableGrads keys gradients by variable name; the optimiser wants them in its order.
        optimizer.step(net.trainable.map((v) => grads[v.name]), lr);
        updateRunningStats(net.variables, stats.splice(0));
        loss = (await value.data())[0];
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        for (const s of stats) tf.dispose([s.mean, s.variance]);
        tf.dispose([x, y]);
        if (adversarial) adversarial.dispose();
      }
      if (!Number.isFinite(loss)) throw new LabError(`training diverged at step ${done + 1}: the loss is ${loss} (lower the learning rate)`);
      done++;
      return { step: done, epoch, loss, lr, eps: methodOpts.eps };
    },
    async probe(probe, control = {}) {
      const logits = (images: tf.Tensor4D) => tf.tidy(() => net.forward(images, 'eval'));
      const shape: [number, number, number] = [probe.height, probe.width, probe.channels];
      if (shape.join() !== [h, w, c].join()) throw new LabError(`probe set ${probe.id} has ${shape.join('×')} images, the training data ${h}×${w}×${c}`);
      // Clean loss from the same batches the attack runner evaluates; the PGD's own clean pass gives the accuracy.
      let lossSum = 0;
      const batch = 250;
      for (let start = 0; start < probe.n; start += batch) {
        throwIfAborted(control.signal);
        const m = Math.min(batch, probe.n - start);
        const part = tf.tidy(() => {
          const xb = tf.tensor4d(probe.images.subarray(start * d, (start + m) * d), [m, h, w, c]);
          return tf.sum(crossEntropyPerSample(logits(xb), tf.tensor1d(probe.labels.subarray(start, start + m), 'int32')));
        });
        lossSum += (await part.data())[0];
        part.dispose();
      }
      const r = await runAttack(
        logits,
        { images: probe.images, labels: probe.labels, shape },
        { attack: 'pgd', norm: options.norm as MethodOptions['norm'], eps: options.eps, steps: options.probeSteps },
        { seed: deriveSeed(options.seed, 'probe') },
        { signal: control.signal },
      );
      return { step: done, epoch: Math.floor(Math.max(0, done - 1) / stepsPerEpoch), probeLoss: lossSum / probe.n, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy, probeEps: options.eps };
    },
    dispose() {
      optimizer.dispose();
      net.dispose();
    },
  };
}

export interface TrainRunControl extends JobControl {
  /** Called with each probe's metrics as soon as they exist (the live curves). */
  onProbe?: (metrics: ProbeMetrics) => void;
  /** Called after every step. */
  onStep?: (report: StepReport) => void;
  /**
   * Awaited before every step: the lab's pause (it resolves on resume) and single step (it
   * resolves once). Cancelling while paused must reject it or resolve it and abort `signal`.
   */
  gate?: () => Promise<void>;
  /** Awaited after each probe: further live analyses of the current weights (pair.ts `live`). */
  live?: () => Promise<void>;
}

export interface TrainLog {
  steps: number;
  seconds: number;
  probes: ProbeMetrics[];
}

/**
 * Run `trainer` to its planned steps, probing every `probeEvery` steps and at the end (with
 * no probe set, only the training loss is logged). Cancelling throws JobCancelledError with
 * the log so far as its partial result; the trainer keeps the weights learned until then.
 * The loop is runTrainingPair's (pair.ts) with one run and no live budget.
 */
export async function runTraining(trainer: Trainer, probe: ImageDataset | null, probeEvery: number, control: TrainRunControl = {}): Promise<TrainLog> {
  const { onProbe, onStep, live, ...rest } = control;
  try {
    const log = await runTrainingPair([trainer], probe, probeEvery, { ...rest, onProbe: onProbe && ((m) => onProbe(m)), onStep: onStep && ((r) => onStep(r)), live: live && (() => live()) });
    return log.runs[0];
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError((e as JobCancelledError<PairLog>).partial?.runs[0]);
    throw e;
  }
}
