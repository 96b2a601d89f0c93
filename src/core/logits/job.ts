/**
 * Logit analysis job (issue #9; Seguin et al., "Understanding the Logit Distributions of
 * Adversarially-Trained Deep Neural Networks"): for model A (and B in compare mode) on the
 * same samples, clean and under the chosen attack: max-logit, gap and confidence
 * histograms on shared bins (mean, skew), robust accuracy binned by clean gap with a Wilson
 * band, which classes become the errors; with B, the per-class rank-order comparison of
 * confidences (far samples with their images, so the view can show them), AO@k with the
 * within-class permutation control; with training snapshots, the per-epoch distributions
 * (the seed's Figure 1).
 */
import type { AttackSpec } from '../attacks/types';
import {
  accuracyByGap, averageOverlap, averageOverlapControl, classConfidence, epochSummariesByModel, errorClassRanks, logitDistributions, manipulationDistributions, perSampleLogits, rankOrderByClass,
  type ClassRankOrder, type EpochSummaries, type GapAccuracyBin, type Histogram, type LogitDistributions, type Manipulation, type ManipulationDistribution, type PerSampleLogits,
} from '../logits';
import type { LabModel } from '../model/model';
import { predictAll } from '../model/predict';
import { deriveSeed } from '../random';
import { JobCancelledError, type JobControl } from '../types';
import { attackSample, jobSample, modelsOf, subProgress, type Emit, type JobContext } from '../analyses/context';

export interface LogitsJobParams {
  n: number;
  /** Attack for the adversarial distributions; null = clean only. */
  spec: AttackSpec | null;
  bins?: number;
  /**
   * Epoch count of the trained models A/B: with snapshots of that model, the model itself is
   * the last ridgeline row (snapshots stop before the final epoch).
   */
  finalEpochs?: { a?: number; b?: number };
}

export interface ModelLogits {
  cleanAccuracy: number;
  robustAccuracy: number | null;
  clean: LogitDistributions;
  adversarial: LogitDistributions | null;
  /** Per sample (in the order of `indices`): max logit, gap, confidence and prediction, clean and attacked. */
  perSample: { clean: PerSampleLogits; adversarial: PerSampleLogits | null };
  /** Robust accuracy by clean logit gap (Wilson 95% band), when attacked. */
  robustByGap: GapAccuracyBin[] | null;
  /** Share of clean errors on the k-th most likely other class of the class-average logits. */
  errorClasses: Float64Array;
  errorCount: number;
  /** The same for the errors under attack, ranked against the clean class-average logits. */
  adversarialErrorClasses: Float64Array | null;
  adversarialErrorCount: number | null;
  /**
   * Seguin et al.'s manipulations of the clean logits (fix the top-1 or top-3 and permute or
   * average the rest, correct-fix-1), after the unmanipulated row, on shared bins.
   */
  manipulations: ManipulationDistribution[];
}

/** The manipulations reported: fix the top-1 or top-3 and destroy the rest, and correct-fix-1. */
export const LOGIT_MANIPULATIONS: Manipulation[] = [
  { kind: 'fixPermute', k: 1 },
  { kind: 'fixAverage', k: 1 },
  { kind: 'fixPermute', k: 3 },
  { kind: 'fixAverage', k: 3 },
  { kind: 'correctFix1' },
];

export interface LogitsJobResult {
  n: number;
  /** Dataset indices and labels of the samples, in the order of the per-sample arrays. */
  indices: Int32Array;
  labels: Int32Array;
  a: ModelLogits | null;
  b: ModelLogits | null;
  compare: {
    perClass: ClassRankOrder[];
    /** Overall share of samples whose A/B confidence ranks are more than half the range apart. */
    fractionFar: number;
    aok: Float64Array;
    aokControl: Float64Array;
    /** AO@k over the other classes only (the true label left out of both rankings), and its control. */
    aokExcludingLabel: Float64Array;
    aokExcludingLabelControl: Float64Array;
    /** Far samples' images (NHWC floats) by dataset index, for the view's mini strip. */
    farImages: { index: number; label: number; confA: number; confB: number; pixels: Float32Array }[];
    shape: [number, number, number];
  } | null;
  /**
   * Training snapshots per model (the seed's Figure 1: ST and AT logits over epochs), one
   * entry per model with snapshots; all rows share the same bins so A and B compare directly.
   */
  epochs: { model: 'A' | 'B'; summaries: EpochSummaries }[] | null;
}

export interface SnapshotModel {
  epoch: number;
  model: LabModel;
  /** Whose snapshot: model A (default) or B. */
  which?: 'a' | 'b';
}

const MAX_FAR_IMAGES = 24;

export async function logitAnalysis(ctx: JobContext, params: LogitsJobParams, snapshots: SnapshotModel[] = [], control: JobControl = {}, emit: Emit<LogitsJobResult> = () => undefined): Promise<LogitsJobResult> {
  const sample = jobSample(ctx.dataset, params.n, ctx.seed);
  const k = ctx.dataset.classNames.length;
  const bins = params.bins ?? 30;
  const models = modelsOf(ctx);
  const steps = models.length + (snapshots.length ? 1 : 0);
  const result: LogitsJobResult = { n: sample.labels.length, indices: sample.indices, labels: sample.labels, a: null, b: null, compare: null, epochs: null };
  const raw: Record<'a' | 'b', { clean: Float32Array; adv: Float32Array | null; correct: Uint8Array; robust: Uint8Array | null }> = {} as never;
  try {
    // Pass 1: logits of every model, clean and attacked.
    for (let m = 0; m < models.length; m++) {
      const { which, model } = models[m];
      const sub = subProgress(control, m, steps, `model ${which.toUpperCase()}`);
      const clean = await predictAll(model, sample.images, sample.labels, sample.shape);
      let adv: Float32Array | null = null;
      let robust: Uint8Array | null = null;
      if (params.spec) {
        const r = await attackSample(ctx, which, sample, params.spec, sub);
        adv = (await predictAll(model, r.adversarial, sample.labels, sample.shape)).logits;
        robust = Uint8Array.from(sample.labels, (y, i) => (r.cleanPred[i] === y && r.advPred[i] === y ? 1 : 0));
      }
      raw[which] = { clean: clean.logits, adv, correct: Uint8Array.from(clean.pred, (p, i) => (p === sample.labels[i] ? 1 : 0)), robust };
    }
    if (control.signal?.aborted) throw new JobCancelledError(result);
    // Shared bins across A/B, clean/adversarial, so the histograms compare directly.
    const sets: Float32Array[] = [];
    for (const { which } of models) {
      sets.push(raw[which].clean);
      if (raw[which].adv) sets.push(raw[which].adv as Float32Array);
    }
    const dists = logitDistributions(sets, k, bins);
    let s = 0;
    for (const { which } of models) {
      const r = raw[which];
      const clean = dists[s++];
      const adversarial = r.adv ? dists[s++] : null;
      const errors = errorClassRanks(r.clean, sample.labels, k);
      const cleanStats = perSampleLogits(r.clean, k);
      const advStats = r.adv ? perSampleLogits(r.adv, k) : null;
      const advErrors = advStats ? errorClassRanks(r.clean, sample.labels, k, advStats.argmax) : null;
      result[which] = {
        cleanAccuracy: r.correct.reduce((a, b) => a + b, 0) / r.correct.length,
        robustAccuracy: r.robust ? r.robust.reduce((a, b) => a + b, 0) / r.robust.length : null,
        clean,
        adversarial,
        perSample: { clean: cleanStats, adversarial: advStats },
        robustByGap: r.robust ? accuracyByGap(cleanStats.gap, r.robust, { bins: 8 }) : null,
        errorClasses: errors.fraction,
        errorCount: errors.errors,
        adversarialErrorClasses: advErrors?.fraction ?? null,
        adversarialErrorCount: advErrors?.errors ?? null,
        manipulations: manipulationDistributions(r.clean, k, LOGIT_MANIPULATIONS, { seed: deriveSeed(ctx.seed, 'manipulations'), labels: sample.labels, bins }),
      };
    }
    emit(result);
    if (raw.b) {
      const confA = classConfidence(raw.a.clean, k, sample.labels);
      const confB = classConfidence(raw.b.clean, k, sample.labels);
      const perClass = rankOrderByClass(confA, confB, sample.labels, k);
      const far = perClass.flatMap((c) => Array.from(c.farIndices));
      const d = sample.shape[0] * sample.shape[1] * sample.shape[2];
      result.compare = {
        perClass,
        fractionFar: far.length / Math.max(1, sample.labels.length),
        aok: averageOverlap(raw.a.clean, raw.b.clean, k),
        aokControl: averageOverlapControl(raw.a.clean, raw.b.clean, sample.labels, k, deriveSeed(ctx.seed, 'aok-control')),
        aokExcludingLabel: averageOverlap(raw.a.clean, raw.b.clean, k, { excludeLabel: true, labels: sample.labels }),
        aokExcludingLabelControl: averageOverlapControl(raw.a.clean, raw.b.clean, sample.labels, k, deriveSeed(ctx.seed, 'aok-control'), { excludeLabel: true }),
        farImages: far.slice(0, MAX_FAR_IMAGES).map((i) => ({ index: sample.indices[i], label: sample.labels[i], confA: confA[i], confB: confB[i], pixels: sample.images.slice(i * d, (i + 1) * d) })),
        shape: sample.shape,
      };
      emit(result);
    }
    if (snapshots.length) {
      const sub = subProgress(control, steps - 1, steps, 'training snapshots');
      const perModel: { which: 'a' | 'b'; rows: { epoch: number; logits: Float32Array }[] }[] = [];
      for (let e = 0; e < snapshots.length; e++) {
        if (control.signal?.aborted) throw new JobCancelledError(result);
        const which = snapshots[e].which ?? 'a';
        if (!raw[which]) continue;
        let entry = perModel.find((p) => p.which === which);
        if (!entry) perModel.push((entry = { which, rows: [] }));
        entry.rows.push({ epoch: snapshots[e].epoch, logits: (await predictAll(snapshots[e].model, sample.images, sample.labels, sample.shape)).logits });
        sub.onProgress?.({ fraction: (e + 1) / snapshots.length, message: `model ${which.toUpperCase()} epoch ${snapshots[e].epoch}` });
      }
      perModel.sort((u, v) => u.which.localeCompare(v.which));
      for (const entry of perModel) {
        const final = params.finalEpochs?.[entry.which];
        if (final !== undefined && !entry.rows.some((r) => r.epoch === final)) entry.rows.push({ epoch: final, logits: raw[entry.which].clean });
      }
      result.epochs = epochSummariesByModel(
        perModel.map((p) => ({ model: p.which === 'a' ? ('A' as const) : ('B' as const), rows: p.rows })),
        k,
        bins,
      );
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}

export type { Histogram };
