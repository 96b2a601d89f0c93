/**
 * Collision job (issue #8; Bhagoji et al.'s optimal adversarial loss applied layer by layer):
 * for model A (and B in compare mode) on the same class samples, Algorithm 1 distances for
 * all cross-class pairs after seeded random projections, and the optimal log-loss / 0-1 loss
 * curves against ε per layer (Algorithm 2, averaged over projections). Partial per-layer
 * curves stream as projections finish.
 */
import { collisionAnalysis, type CollisionAnalysisResult } from '../collision/analysis';
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
}

export interface CollisionJobResult {
  a: CollisionAnalysisResult | null;
  b: CollisionAnalysisResult | null;
  shape: [number, number, number];
  /** Clean images of the selected samples (dataset order of `a.sampleIndices`), for the explorer. */
  images: Float32Array | null;
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
  const result: CollisionJobResult = { a: null, b: null, shape, images: null };
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
        { layers, classes, perClass: params.perClass, m: params.m, numProjections: params.projections, projection: params.projection, epsList: params.epsList, seed: ctx.seed, box: params.box, keepPoints: params.keepPoints, tap: taps[which], onLayer: partial, ...(params.maxIter ? { collision: { maxIter: params.maxIter } } : {}) },
        subProgress(control, i, models.length, `model ${which.toUpperCase()}`),
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
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
