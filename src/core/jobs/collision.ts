/**
 * Collision job (issue #8; Bhagoji et al.'s optimal adversarial loss applied layer by layer):
 * for model A (and B in compare mode) on the same class samples, Algorithm 1 distances for
 * all cross-class pairs after seeded random projections, and the optimal log-loss / 0-1 loss
 * curves against ε per layer (Algorithm 2, averaged over projections). Partial per-layer
 * curves stream as projections finish.
 */
import { collisionAnalysis, type CollisionAnalysisOptions, type CollisionAnalysisResult } from '../collision/analysis';
import type { LayerTap } from '../collision/maps';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { modelsOf, subProgress, type Emit, type JobContext } from './context';

export interface CollisionJobParams {
  layers: string[];
  classes: number[] | 'all';
  perClass: number;
  m: number;
  projections: number;
  projection: 'gaussian' | 'none';
  epsList: number[];
  box: boolean;
  /** Keep x̃, x̃′ of every pair for the pair explorer. */
  keepPoints: boolean;
  /** Algorithm 1 iteration cap per pair (spec default 600); fewer is faster but may stop above the optimum. */
  maxIter?: number;
  /**
   * Extra projection sizes m (the seed's sweep of m): the analysis reruns for each (same
   * samples, pairs and seeds; no kept points), after the main run at `m`.
   */
  mSweep?: number[];
}

/** One entry of the m sweep: both models' analyses at projection size m. */
export interface CollisionSweepEntry {
  m: number;
  a: CollisionAnalysisResult | null;
  b: CollisionAnalysisResult | null;
}

export interface CollisionJobResult {
  a: CollisionAnalysisResult | null;
  b: CollisionAnalysisResult | null;
  shape: [number, number, number];
  /** Clean images of the selected samples (dataset order of `a.sampleIndices`), for the explorer. */
  images: Float32Array | null;
  /** The m sweep, main m included, sorted by m; empty without a sweep. */
  sweep: CollisionSweepEntry[];
}

export async function collisionJob(
  ctx: JobContext,
  params: CollisionJobParams,
  taps: { a?: LayerTap; b?: LayerTap } = {},
  control: JobControl = {},
  emit: Emit<CollisionJobResult> = () => undefined,
): Promise<CollisionJobResult> {
  if (!params.layers.length) throw new LabError('choose at least one layer');
  const ds = ctx.dataset;
  const shape: [number, number, number] = [ds.height, ds.width, ds.channels];
  const classes = params.classes === 'all' ? 'all' : params.classes;
  const models = modelsOf(ctx);
  const result: CollisionJobResult = { a: null, b: null, shape, images: null, sweep: [] };
  const extraM = [...new Set(params.mSweep ?? [])].filter((m) => Number.isInteger(m) && m >= 1 && m !== params.m);
  // Progress: the main run of each model, then one run per extra m and model.
  const runs = models.length * (1 + extraM.length);
  const common = (layers: string[], m: number): CollisionAnalysisOptions => ({
    layers, classes, perClass: params.perClass, m, numProjections: params.projections, projection: params.projection, epsList: params.epsList, seed: ctx.seed, box: params.box,
    ...(params.maxIter ? { collision: { maxIter: params.maxIter } } : {}),
  });
  try {
    for (let i = 0; i < models.length; i++) {
      const { which, model } = models[i];
      const layers = params.layers.filter((name) => name === 'input' || model.layers.some((l) => l.name === name));
      const partial = (layer: CollisionAnalysisResult['layers'][number]) => {
        const current = result[which];
        if (current) {
          const at = current.layers.findIndex((l) => l.layer === layer.layer);
          if (at >= 0) current.layers[at] = layer;
          else current.layers.push(layer);
          emit(result);
        }
      };
      result[which] = {
        classes: [], perClass: params.perClass, sampleIndices: new Int32Array(0), sampleLabels: new Int32Array(0), pairI: new Int32Array(0), pairJ: new Int32Array(0),
        approximate: false, settings: null as never, layers: [], seconds: 0,
      };
      const r = await collisionAnalysis(
        model,
        ds.images,
        ds.labels,
        shape,
        { ...common(layers, params.m), keepPoints: params.keepPoints, tap: taps[which], onLayer: partial },
        subProgress(control, i, runs, `model ${which.toUpperCase()}`),
      );
      result[which] = r;
      if (which === 'a') {
        const d = shape[0] * shape[1] * shape[2];
        const images = new Float32Array(r.sampleIndices.length * d);
        r.sampleIndices.forEach((idx, k) => images.set(ds.images.subarray(idx * d, (idx + 1) * d), k * d));
        result.images = images;
      }
      emit(result);
    }
    if (extraM.length) {
      const entries: CollisionSweepEntry[] = [{ m: params.m, a: result.a, b: result.b }];
      let run = models.length;
      for (const m of extraM) {
        const entry: CollisionSweepEntry = { m, a: null, b: null };
        for (const { which, model } of models) {
          const layers = params.layers.filter((name) => name === 'input' || model.layers.some((l) => l.name === name));
          entry[which] = await collisionAnalysis(model, ds.images, ds.labels, shape, { ...common(layers, m), keepPoints: false, tap: taps[which] }, subProgress(control, run++, runs, `m = ${m}, model ${which.toUpperCase()}`));
        }
        entries.push(entry);
        result.sweep = [...entries].sort((u, v) => u.m - v.m);
        emit(result);
      }
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
