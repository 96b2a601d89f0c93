/**
 * Collision job (issue #8; Bhagoji et al.'s optimal adversarial loss applied layer by layer):
 * for model A (and B in compare mode) on the same class samples, Algorithm 1 distances for
 * all cross-class pairs after seeded random projections, and the optimal log-loss / 0-1 loss
 * curves against ε per layer (Algorithm 2, averaged over projections). Partial per-layer
 * curves stream as projections finish.
 *
 * The seed compares standard, PGD- and TRADES-trained networks side by side, which is three
 * models: besides A and B, any number of further models (`extras`, e.g. the zoo's AT twins)
 * run on the same samples, pairs and projection seeds. Sample selection depends only on the
 * labels and the master seed (`selectClassSamples`), so pair k is the same pair of images for
 * every model and the pair explorer can line them up.
 */
import { collisionAnalysis, type CollisionAnalysisOptions, type CollisionAnalysisResult } from '../collision/analysis';
import type { EdgeRule } from '../collision/graph';
import type { LayerTap } from '../collision/maps';
import type { LabModel } from '../model/model';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { modelsOf, subProgress, type Emit, type JobContext } from '../analyses/context';

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
  /** Algorithm 1's geometric step decay γ (default 0.95). */
  gamma?: number;
  /** Pairs searched in lock-step per batch (default 16; memory and speed only). */
  batchSize?: number;
  /** Edge rule of the conflict graph: d_rms (default, the primary distance) or d_max. */
  edgeRule?: EdgeRule;
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

/** A further model compared on the same pairs (its id names it in the views). */
export interface CollisionExtraModel {
  id: string;
  model: LabModel;
  /** Plain-op layer tap for fast input gradients (as for A and B). */
  tap?: LayerTap;
}

export interface CollisionJobResult {
  a: CollisionAnalysisResult | null;
  b: CollisionAnalysisResult | null;
  /** The extra models' analyses, in the order given (null until a model's run starts). */
  extra: { id: string; result: CollisionAnalysisResult | null }[];
  shape: [number, number, number];
  /** Clean images of the selected samples (dataset order of `a.sampleIndices`), for the explorer. */
  images: Float32Array | null;
  /** The m sweep (models A and B only), main m included, sorted by m; empty without a sweep. */
  sweep: CollisionSweepEntry[];
}

export async function collisionJob(
  ctx: JobContext,
  params: CollisionJobParams,
  taps: { a?: LayerTap; b?: LayerTap; extras?: CollisionExtraModel[] } = {},
  control: JobControl = {},
  emit: Emit<CollisionJobResult> = () => undefined,
): Promise<CollisionJobResult> {
  if (!params.layers.length) throw new LabError('choose at least one layer');
  const ds = ctx.dataset;
  const shape: [number, number, number] = [ds.height, ds.width, ds.channels];
  const classes = params.classes === 'all' ? 'all' : params.classes;
  const extras = taps.extras ?? [];
  for (const e of extras) {
    if (e.model.numClasses !== ctx.models.a.numClasses) throw new LabError(`model ${e.id} has ${e.model.numClasses} classes, model A has ${ctx.models.a.numClasses}`);
  }
  const models = modelsOf(ctx);
  const result: CollisionJobResult = { a: null, b: null, extra: extras.map((e) => ({ id: e.id, result: null })), shape, images: null, sweep: [] };
  const extraM = [...new Set(params.mSweep ?? [])].filter((m) => Number.isInteger(m) && m >= 1 && m !== params.m);
  // Progress: the main run of each model (A, B, extras), then one run per extra m for A and B.
  const runs = models.length + extras.length + models.length * extraM.length;
  const common = (layers: string[], m: number): CollisionAnalysisOptions => ({
    layers, classes, perClass: params.perClass, m, numProjections: params.projections, projection: params.projection, epsList: params.epsList, seed: ctx.seed, box: params.box,
    ...(params.edgeRule ? { edgeRule: params.edgeRule } : {}),
    collision: {
      ...(params.maxIter ? { maxIter: params.maxIter } : {}),
      ...(params.gamma ? { gamma: params.gamma } : {}),
      ...(params.batchSize ? { batchSize: params.batchSize } : {}),
    },
  });
  const mainRuns: { label: string; model: LabModel; tap?: LayerTap; get: () => CollisionAnalysisResult | null; put: (r: CollisionAnalysisResult) => void }[] = [
    ...models.map(({ which, model }) => ({ label: `model ${which.toUpperCase()}`, model, tap: taps[which], get: () => result[which], put: (r: CollisionAnalysisResult) => (result[which] = r) })),
    ...extras.map((e, k) => ({ label: e.id, model: e.model, tap: e.tap, get: () => result.extra[k].result, put: (r: CollisionAnalysisResult) => (result.extra[k].result = r) })),
  ];
  try {
    for (let i = 0; i < mainRuns.length; i++) {
      const run = mainRuns[i];
      const layers = params.layers.filter((name) => name === 'input' || run.model.layers.some((l) => l.name === name));
      const partial = (layer: CollisionAnalysisResult['layers'][number]) => {
        const current = run.get();
        if (current) {
          const at = current.layers.findIndex((l) => l.layer === layer.layer);
          if (at >= 0) current.layers[at] = layer;
          else current.layers.push(layer);
          emit(result);
        }
      };
      run.put({
        classes: [], perClass: params.perClass, sampleIndices: new Int32Array(0), sampleLabels: new Int32Array(0), pairI: new Int32Array(0), pairJ: new Int32Array(0),
        approximate: false, settings: null as never, layers: [], seconds: 0,
      });
      const r = await collisionAnalysis(
        run.model,
        ds.images,
        ds.labels,
        shape,
        // Extras keep their colliding points too: the pair explorer shows every model's x̃, x̃′.
        { ...common(layers, params.m), keepPoints: params.keepPoints, tap: run.tap, onLayer: partial },
        subProgress(control, i, runs, run.label),
      );
      run.put(r);
      if (i === 0) {
        const d = shape[0] * shape[1] * shape[2];
        const images = new Float32Array(r.sampleIndices.length * d);
        r.sampleIndices.forEach((idx, k) => images.set(ds.images.subarray(idx * d, (idx + 1) * d), k * d));
        result.images = images;
      }
      emit(result);
    }
    if (extraM.length) {
      const entries: CollisionSweepEntry[] = [{ m: params.m, a: result.a, b: result.b }];
      let run = models.length + extras.length;
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
