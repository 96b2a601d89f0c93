/**
 * What every analysis receives (its `ctx`): the loaded model(s), the data set, the master seed,
 * the backend and memory budget, and the host's resources (other zoo models, plain-op taps,
 * state kept across runs). The lab's worker and the Node CLI each build one; the analyses
 * cannot tell them apart, which is what makes the lab and the CLI give the same numbers.
 *
 * Compare mode (issue #9: "every view can show two models side by side") is a second model
 * B; an analysis computes its result for A and, when B is present, the same result for B on
 * the same samples and the same random choices, so the two are directly comparable.
 */
import type { LayerTap } from '../collision/maps';
import { sharedAttack, type AttackCache } from '../attacks/shared';
import type { AttackResult, AttackSpec } from '../attacks/types';
import type { LabModel } from '../model/model';
import type { ImageDataset, JobControl } from '../types';
import { classBalancedSample, takeSamples } from '../data/sampler';
import { LabError } from '../types';

/** A zoo entry as public/models/index.json lists it (the fields analyses read). */
export interface ZooModelEntry {
  id: string;
  dataset: string;
  /** Training epochs of the shipped model. */
  epochs?: number;
  /** Training snapshots of this model in the zoo (logits' per-epoch ridgeline). */
  snapshots?: { epoch: number; id: string }[];
}

/** What the host (the lab's worker, the Node CLI) lends an analysis beyond the loaded models. */
export interface AnalysisResources {
  /** Open a zoo model by id, or a model path/URL the host understands; the caller disposes it. */
  openModel(id: string): Promise<LabModel>;
  /** The zoo's index (snapshots, epochs), or [] where there is none. */
  zoo(): Promise<ZooModelEntry[]>;
  /**
   * A model reloaded as a plain-op layer tap (fast input gradients for the collision search):
   * 'a', 'b' or a zoo id; null where the model has no Keras twin (ONNX graphs already run as
   * plain ops). The caller disposes it.
   */
  plainTap(model: 'a' | 'b' | string): Promise<{ tap: LayerTap; dispose(): void } | null>;
  /**
   * Adversarial examples shared by every analysis (attacks/shared.ts); the host clears it when
   * the models or data change. Without one every analysis attacks for itself.
   */
  attacks?: AttackCache;
  /** State kept across runs of one analysis (t-SNE warm starts); the host drops it when the models or data change. */
  session<T extends { dispose(): void }>(name: string, make: () => T): T;
}

export interface AnalysisContext {
  models: { a: LabModel; b: LabModel | null };
  /** The models as the user named them (zoo id, path or URL). */
  modelIds: { a: string; b: string | null };
  dataset: ImageDataset;
  seed: number;
  /** The tfjs backend the analysis runs on. */
  backend: string;
  resources: AnalysisResources;
  /**
   * What the host carries over from the previous result on screen (the t-SNE layout, for a
   * warm start after the worker was replaced); undefined on a cold run and in the CLI.
   */
  carry?: unknown;
}

/** An analysis streams partial results (per ε, per layer, per iteration) through `emit`. */
export type Emit<P> = (partial: P) => void;

export interface JobSample {
  indices: Int32Array;
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
}

/** The analysis's own class-balanced sample of `n` images, drawn with the master seed. */
export function jobSample(ds: ImageDataset, n: number, seed: number): JobSample {
  if (!(n >= 1)) throw new LabError(`sample size must be ≥ 1 (got ${n})`);
  const indices = classBalancedSample(ds.labels, ds.classNames.length, Math.min(n, ds.n), seed);
  const s = takeSamples(ds, indices);
  return { indices, images: s.images, labels: s.labels, shape: [s.height, s.width, s.channels] };
}

/** Models to run: A, then B in compare mode, with the labels the views show. */
export function modelsOf(ctx: Pick<AnalysisContext, 'models'>): { which: 'a' | 'b'; model: LabModel }[] {
  return ctx.models.b ? [{ which: 'a', model: ctx.models.a }, { which: 'b', model: ctx.models.b }] : [{ which: 'a', model: ctx.models.a }];
}

/**
 * The layers to tap: the requested ones the model has, in order, or (none requested) the
 * model's feature layers. Unknown names are an error, not silently dropped; `who` names the
 * model in it ("model B" in compare mode, where the layers were chosen on A).
 */
export function tappedLayers(model: LabModel, requested: string[], who = 'model'): string[] {
  if (!requested.length) return model.layers.filter((l) => l.defaultTap).map((l) => l.name);
  for (const name of requested) if (!model.layers.some((l) => l.name === name)) throw new LabError(`${who} has no layer named "${name}"`);
  return requested;
}

/** Progress of step `i` of `total` sub-jobs, with the sub-job's own fraction. */
export function subProgress(control: JobControl, i: number, total: number, prefix: string): JobControl {
  return {
    signal: control.signal,
    onProgress: (p) => control.onProgress?.({ fraction: (i + p.fraction) / total, message: `${prefix}${p.message ? `: ${p.message}` : ''}` }),
  };
}

/**
 * The part of the context the analyses' algorithms read (tests build it by hand); with the
 * model ids and the host's resources, attacks are shared across analyses.
 */
export type JobContext = Pick<AnalysisContext, 'models' | 'dataset' | 'seed'> & Partial<Pick<AnalysisContext, 'modelIds' | 'resources'>>;

/**
 * Model `which`'s attack on a job's sample: computed once and shared with every analysis that
 * asks for the same (model, data, samples, attack, seed) through the host's cache, or a prefix
 * of it (attacks/shared.ts: reuse is exact, never approximate).
 */
export function attackSample(ctx: JobContext, which: 'a' | 'b', sample: JobSample, spec: AttackSpec, control: JobControl): Promise<AttackResult> {
  const model = which === 'a' ? ctx.models.a : ctx.models.b;
  if (!model) throw new LabError('no model B loaded');
  const modelId = ctx.modelIds?.[which];
  return sharedAttack(modelId ? ctx.resources?.attacks : undefined, model.logits, sample, spec, { modelId: modelId ?? '', dataId: ctx.dataset.id, indices: sample.indices, seed: ctx.seed }, control);
}
