/**
 * The logit distributions while a model learns (issue #25; Seguin et al., "Understanding the
 * Logit Distributions of Adversarially-Trained Deep Neural Networks", Figure 1: max logits and
 * logit gaps grow during standard training and stay compressed under adversarial training).
 * After each probe, the clean logits of the current weights on the probe images (through the
 * snapshot model, layers.ts's withTrainerModel, and the lab's predictAll); the ridgelines are
 * the Logits view's own per-epoch summaries (epochSummariesByModel, src/core/logits), one row
 * per probe step, on bins shared by every row of both runs so A's and B's drift compare.
 */
import { epochSummariesByModel, type EpochSummaries } from '../logits';
import type { LabModel } from '../model/model';
import { predictAll } from '../model/predict';
import type { ImageDataset, JobControl } from '../types';
import { withTrainerModel } from './layers';
import type { Trainer } from './trainer';

export interface TrainLogitProbe {
  step: number;
  numClasses: number;
  /** n × numClasses clean logits on the first n probe images, row-major. */
  logits: Float32Array;
}

/** The clean logits of `model` (the trainer's weights at `step`) on the first `n` images of `probe`. */
export async function modelProbeLogits(model: LabModel, step: number, probe: ImageDataset, n: number, control: JobControl = {}): Promise<TrainLogitProbe> {
  const count = Math.min(n, probe.n);
  const d = probe.height * probe.width * probe.channels;
  const p = await predictAll(model, probe.images.subarray(0, count * d), probe.labels.subarray(0, count), [probe.height, probe.width, probe.channels], control);
  return { step, numClasses: model.numClasses, logits: p.logits };
}

/** The clean logits of `trainer`'s current weights on the first `n` images of `probe`. */
export function trainerLogits(trainer: Trainer, probe: ImageDataset, n: number, control: JobControl = {}): Promise<TrainLogitProbe> {
  return withTrainerModel(trainer, probe.classNames, (model) => modelProbeLogits(model, trainer.stepsDone, probe, n, control));
}

/**
 * At most `max` of `probes` for the ridgeline, evenly spread, always the first and the last:
 * a ridgeline of 40 rows is unreadable, and the drift shows at a dozen.
 */
export function ridgeRows<T>(probes: readonly T[], max: number): T[] {
  if (probes.length <= max) return probes.slice();
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(probes[Math.round((i * (probes.length - 1)) / (max - 1))]);
  return out;
}

/**
 * Max-logit and gap histograms per probe step for each run, on bins shared by all rows of all
 * runs (the Logits view's epochSummariesByModel; each row's `epoch` is its probe step).
 */
export function trainingLogitRidges<R>(runs: { run: R; probes: readonly TrainLogitProbe[] }[], maxRows = 10, bins = 30): { model: R; summaries: EpochSummaries }[] {
  const numClasses = runs.find((r) => r.probes.length)?.probes[0].numClasses ?? 2;
  return epochSummariesByModel(
    runs.map((r) => ({ model: r.run, rows: ridgeRows(r.probes, maxRows).map((p) => ({ epoch: p.step, logits: p.logits })) })),
    numClasses,
    bins,
  );
}
