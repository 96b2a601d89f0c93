/**
 * One or two training runs driven together (issue #25: "train a standard and an adversarially
 * trained model on the same data order and seed, interleaved, and compare them live"; the seed
 * papers' ST-vs-AT contrast, e.g. Madry et al. 2018, Seguin et al.). Each round steps every
 * unfinished run once, in order (A, then B): runs with the same seed, data and batch size see
 * the same batches at the same step (the trainer derives its data order from the seed alone),
 * and since the runs share no state, each run's weights are bit-identical to those of the run
 * trained alone (pair.test.ts). Pause, single step and cancel act on the round, so on both.
 *
 * Live metrics (the probe, and the caller's `live` analyses after it) are budgeted on the wall
 * clock (budget.ts, LiveBudgetClock): with `liveShare` set, a due probe waits while the time the
 * run spent on anything but ordinary training steps, plus this round's expected cost, exceeds
 * `liveShare` times the training time, so training keeps ≥ 1 / (1 + liveShare) of its speed
 * (0.25 → 80 %). The final probe and epoch-end callbacks (the automatic snapshots) always run;
 * their time counts as live.
 */
import { yieldToEventLoop } from '../attacks/common';
import { JobCancelledError, type ImageDataset, type JobControl } from '../types';
import { LiveBudgetClock, type LiveBudget } from './budget';
import type { ProbeMetrics, StepReport, Trainer, TrainLog } from './trainer';

export { LIVE_SHARE, type LiveBudget } from './budget';

export interface PairRunControl extends JobControl {
  /** After every step of run `run` (0 = A, 1 = B). */
  onStep?: (report: StepReport, run: number) => void;
  /** Each probe's metrics as soon as they exist (the live curves). */
  onProbe?: (metrics: ProbeMetrics, run: number) => void;
  /** Awaited when run `run` finishes epoch `epoch` (1-based): the automatic snapshot. */
  onEpoch?: (run: number, epoch: number) => Promise<void> | void;
  /** Awaited after run `run`'s probe: further live analyses of its current weights. */
  live?: (run: number) => Promise<void>;
  /** After every live round, with the budget so far (the status line's share). */
  onBudget?: (budget: LiveBudget) => void;
  /** Awaited before every round: the pause (resolves on resume) and the single step (resolves once). */
  gate?: () => Promise<void>;
  /** Budget ratio of live to training time (LIVE_SHARE); undefined = probe exactly every `probeEvery` steps. */
  liveShare?: number;
}

export interface PairLog {
  runs: TrainLog[];
  budget: LiveBudget;
}

interface RunState {
  probes: ProbeMetrics[];
  lossSum: number;
  lossCount: number;
  trainSeconds: number;
  imagesSince: number;
  probedAt: number;
}

/**
 * Run `trainers` (one or two) to their planned steps, interleaved, probing every `probeEvery`
 * steps (budgeted, see above) and at each run's end. Cancelling throws JobCancelledError with
 * the PairLog so far; the trainers keep the weights learned until then.
 */
export async function runTrainingPair(trainers: readonly Trainer[], probe: ImageDataset | null, probeEvery: number, control: PairRunControl = {}): Promise<PairLog> {
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const states: RunState[] = trainers.map(() => ({ probes: [], lossSum: 0, lossCount: 0, trainSeconds: 0, imagesSince: 0, probedAt: 0 }));
  // A live round's prior cost in rounds, until one is measured: the probe's PGD-k is k + 1
  // forward-backward passes over the probe images plus the clean pass, and the live analyses
  // (layer shift, logits) about one more, against a step's passes over one batch (1 standard,
  // 2 FGSM-RS, k + 1 PGD-AT/TRADES).
  const passesPerStep = (t: Trainer) => (t.options.method === 'standard' ? 1 : t.options.method === 'fgsm-rs' ? 2 : t.options.steps + 1);
  const priorRounds = probe ? Math.max(...trainers.map((t) => ((t.options.probeSteps + 2) * probe.n) / (t.options.batch * passesPerStep(t)))) : 0;
  const clock = new LiveBudgetClock(performance.now() / 1000, control.liveShare ?? Infinity, priorRounds);
  const wallNow = () => performance.now() / 1000;
  let due = false;
  let deferredCounted = false;
  let leadLoss = NaN;
  const totalSteps = trainers.reduce((s, t) => s + t.totalSteps, 0);
  const logs = (): PairLog => ({ runs: trainers.map((t, i) => ({ steps: t.stepsDone, seconds: now(), probes: states[i].probes })), budget: clock.budget(wallNow()) });

  const probeRun = async (i: number) => {
    const trainer = trainers[i];
    const s = states[i];
    const trainLoss = s.lossCount ? s.lossSum / s.lossCount : NaN;
    const imagesPerSecond = s.trainSeconds > 0 ? s.imagesSince / s.trainSeconds : 0;
    s.lossSum = s.lossCount = s.imagesSince = s.trainSeconds = 0;
    s.probedAt = trainer.stepsDone;
    const epoch = Math.floor(Math.max(0, trainer.stepsDone - 1) / trainer.stepsPerEpoch);
    const m: ProbeMetrics = probe
      ? { ...(await trainer.probe(probe, { signal: control.signal })), trainLoss, seconds: now(), imagesPerSecond }
      : { step: trainer.stepsDone, epoch, trainLoss, probeLoss: NaN, cleanAccuracy: NaN, robustAccuracy: NaN, probeEps: trainer.options.eps, seconds: now(), imagesPerSecond };
    s.probes.push(m);
    control.onProbe?.(m, i);
    if (control.live) await control.live(i);
  };

  try {
    while (trainers.some((t) => t.stepsDone < t.totalSteps)) {
      if (control.gate) {
        const g0 = performance.now();
        await control.gate();
        clock.pause((performance.now() - g0) / 1000);
      }
      let roundSeconds = 0;
      let epochEnded = false;
      for (let i = 0; i < trainers.length; i++) {
        const trainer = trainers[i];
        if (trainer.stepsDone >= trainer.totalSteps) continue;
        const s = states[i];
        const s0 = performance.now();
        const report = await trainer.step(control.signal);
        const dt = (performance.now() - s0) / 1000;
        s.trainSeconds += dt;
        roundSeconds += dt;
        s.imagesSince += trainer.options.batch;
        s.lossSum += report.loss;
        s.lossCount++;
        if (i === 0) leadLoss = report.loss;
        control.onStep?.(report, i);
        if (report.step % probeEvery === 0) due = true;
        if (control.onEpoch && report.step % trainer.stepsPerEpoch === 0) {
          await control.onEpoch(i, report.step / trainer.stepsPerEpoch);
          epochEnded = true;
        }
      }
      clock.round(roundSeconds);
      if (epochEnded) clock.afterEpoch();
      const done = trainers.reduce((sum, t) => sum + t.stepsDone, 0);
      const lead = trainers[0];
      control.onProgress?.({ fraction: done / totalSteps, message: `step ${lead.stepsDone}/${lead.totalSteps}, loss ${leadLoss.toFixed(4)}` });
      const finished = trainers.some((t, i) => t.stepsDone === t.totalSteps && states[i].probedAt < t.stepsDone);
      const allowed = control.liveShare === undefined || clock.allowed(wallNow());
      if (finished || (due && allowed)) {
        clock.liveStart(wallNow());
        for (let i = 0; i < trainers.length; i++) if (states[i].probedAt < trainers[i].stepsDone) await probeRun(i);
        clock.liveEnd(wallNow());
        due = false;
        deferredCounted = false;
        control.onBudget?.(clock.budget(wallNow()));
      } else if (due && !deferredCounted) {
        clock.defer();
        deferredCounted = true;
      }
      // Let cancellation and progress messages through between rounds.
      await yieldToEventLoop();
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(logs());
    throw e;
  }
  return logs();
}
