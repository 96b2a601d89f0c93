/**
 * What every lab analysis job receives: the loaded model(s), the data set, the master seed.
 * Compare mode (issue #9: "every view can show two models side by side") is a second model
 * B; a job computes its result for A and, when B is present, the same result for B on the
 * same samples and the same random choices, so the two are directly comparable.
 *
 * Jobs are pure core functions (STYLE.md convention 1): the worker only dispatches.
 */
import type { LabModel } from '../model/model';
import type { ImageDataset, JobControl } from '../types';
import { classBalancedSample, takeSamples } from '../data/sampler';
import { LabError } from '../types';

export interface JobContext {
  models: { a: LabModel; b: LabModel | null };
  dataset: ImageDataset;
  seed: number;
}

/** A job streams partial results (per ε, per layer, per iteration) through `emit`. */
export type Emit<P> = (partial: P) => void;

export type JobFn<P, R, Partial = R> = (ctx: JobContext, params: P, control: JobControl, emit: Emit<Partial>) => Promise<R>;

export interface JobSample {
  indices: Int32Array;
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
}

/** The job's own class-balanced sample of `n` images, drawn with the master seed. */
export function jobSample(ds: ImageDataset, n: number, seed: number): JobSample {
  if (!(n >= 1)) throw new LabError(`sample size must be ≥ 1 (got ${n})`);
  const indices = classBalancedSample(ds.labels, ds.classNames.length, Math.min(n, ds.n), seed);
  const s = takeSamples(ds, indices);
  return { indices, images: s.images, labels: s.labels, shape: [s.height, s.width, s.channels] };
}

/** Models to run: A, then B in compare mode, with the labels the views show. */
export function modelsOf(ctx: JobContext): { which: 'a' | 'b'; model: LabModel }[] {
  return ctx.models.b ? [{ which: 'a', model: ctx.models.a }, { which: 'b', model: ctx.models.b }] : [{ which: 'a', model: ctx.models.a }];
}

/** Progress of step `i` of `total` sub-jobs, with the sub-job's own fraction. */
export function subProgress(control: JobControl, i: number, total: number, prefix: string): JobControl {
  return {
    signal: control.signal,
    onProgress: (p) => control.onProgress?.({ fraction: (i + p.fraction) / total, message: `${prefix}${p.message ? `: ${p.message}` : ''}` }),
  };
}
