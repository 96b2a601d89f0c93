/**
 * One layer's geometry while a model learns (issue #25): after each probe, the lab's own t-SNE
 * (src/core/tsne: affinities, optimiser, engines) and MFTMA capacity (src/core/mftma) run on
 * the trainer's current weights, loaded through the snapshot files as in layers.ts. Nothing of
 * either algorithm is re-implemented here; this file only decides their inputs and schedules.
 *
 * t-SNE over training. The probe images are fixed, so point i is the same image at every
 * probe; each probe's embedding starts from the previous probe's layout (the first from a
 * seeded random layout, van der Maaten & Hinton 2008 §3.4), so the points move as the layer's
 * representation changes instead of being re-drawn: t-SNE's cost is not convex, and two cold
 * starts of the same data give unrelated layouts. Starting the optimisation from a given,
 * informative layout is Kobak & Berens's practice for comparable embeddings (Nat. Commun. 10,
 * 5416, 2019). Early exaggeration exists to let clusters form from a random start (van der
 * Maaten & Hinton 2008 §3.4; 250 iterations of α = 12 in van der Maaten 2014, JMLR 15); a warm
 * start already has its clusters, and exaggerating again would contract and then re-expand the
 * layout, the jump we want to avoid. So warm starts run TSNE_WARM_ITERATIONS plain iterations
 * (α = 1) at the usual rate, as the lab's ε warm starts do (specs/tsne.md §2.6: no
 * exaggeration after a warm start).
 *
 * MFTMA over training: class manifolds (Cohen et al. 2020: P classes × M images) of the probe
 * images, clean, at one layer, through the MFTMA view's own analyzeLayers; with a light
 * estimate (n_t and centre restarts below the view's defaults) so it fits the live budget.
 */
import { collectActivations } from '../analysis/activations';
import { tappedLayers } from '../analyses/context';
import { analyzeLayers, selectManifoldImages } from '../mftma/manifolds';
import type { LabModel } from '../model/model';
import { predictAll } from '../model/predict';
import { deriveSeed } from '../random';
import { createTsne } from '../tsne/tsne';
import { LabError, type ImageDataset, type JobControl } from '../types';

/**
 * Probe images in the t-SNE: at 200 points one warm probe (activations, affinities, 100
 * iterations, predictions) took 0.23–0.35 s in Node on WASM and 0.27–1.0 s in the lab's worker
 * on a loaded 2-core machine (README, Train), a fraction of the probe's own PGD.
 */
export const TSNE_PROBE_N = 200;
/** The first probe's cold start: the t-SNE view's default schedule (openTSNE: 250 exaggerated + 500 plain). */
export const TSNE_COLD_ITERATIONS = 750;
/** Iterations per warm start: the layout only has to follow one probe interval's change. */
export const TSNE_WARM_ITERATIONS = 100;
/** The t-SNE view's default perplexity (van der Maaten & Hinton 2008 use 5–50; openTSNE 30). */
export const TSNE_PERPLEXITY = 30;
/** Points per class manifold; with 10 classes, 200 probe points, the same images as the t-SNE. */
export const MFTMA_PROBE_M = 20;
/**
 * Gaussian samples per manifold and centre-search restarts: below the MFTMA view's 100 and 10
 * so one layer's capacity costs a fraction of a second; capacities from fewer samples are
 * noisier, not biased (the estimate is a mean over the samples, Chung et al. 2018 eq. 13).
 */
export const MFTMA_PROBE_NT = 50;
export const MFTMA_PROBE_REPS = 2;

/**
 * The layer a probe option names: 'off' → null, 'auto' → the last tapped layer before the
 * logits (the representation the classifier reads), otherwise that layer, checked.
 */
export function probeLayerOf(model: LabModel, choice: string, what: string): string | null {
  const c = choice.trim();
  if (c === '' || c === 'off') return null;
  const taps = tappedLayers(model, []);
  if (c === 'auto') {
    const hidden = taps.filter((l) => l !== model.logitsLayer);
    return hidden[hidden.length - 1] ?? taps[taps.length - 1] ?? null;
  }
  if (!model.layers.some((l) => l.name === c)) throw new LabError(`${what}: the model has no layer "${c}" (off, auto, or one of ${taps.join(', ')})`);
  return c;
}

export interface WarmTsneResult {
  positions: Float32Array;
  kl: number;
  iterations: number;
  start: 'cold' | 'warm';
}

export interface WarmTsneOptions {
  seed: number;
  perplexity?: number;
  coldIterations?: number;
  warmIterations?: number;
}

/**
 * The lab's t-SNE of `data` (n × d) started from `init` (n × 2; warm: TSNE_WARM_ITERATIONS
 * plain iterations) or, without it, from a seeded random layout (cold: the full schedule with
 * early exaggeration). The typed-array implementation always: it is the same algorithm on every
 * backend (tsne.ts), so the lab's layouts equal `layerwise train`'s for the same probes, and
 * 200 points take milliseconds per iteration there while GPU ops would queue behind training.
 */
export async function warmTsne(data: Float32Array, n: number, d: number, init: Float32Array | null, o: WarmTsneOptions): Promise<WarmTsneResult> {
  const warm = init !== null;
  if (warm && init.length !== n * 2) throw new LabError(`t-SNE warm start: the layout has ${init.length / 2} points, the data ${n}`);
  const iterations = warm ? (o.warmIterations ?? TSNE_WARM_ITERATIONS) : (o.coldIterations ?? TSNE_COLD_ITERATIONS);
  const tsne = await createTsne(data, n, d, {
    perplexity: Math.min(o.perplexity ?? TSNE_PERPLEXITY, (n - 1) / 3),
    seed: o.seed,
    impl: 'typed',
    engine: 'exact',
    ...(warm ? { init, earlyExaggerationIter: 0 } : { initMode: 'random' as const }),
  });
  try {
    if (iterations === 0) return { positions: await tsne.positions(), kl: await tsne.kl(), iterations: 0, start: warm ? 'warm' : 'cold' };
    const s = await tsne.step(iterations);
    return { positions: s.positions, kl: s.kl, iterations, start: warm ? 'warm' : 'cold' };
  } finally {
    tsne.dispose();
  }
}

/** One probe's t-SNE of one layer: the first `labels.length` probe images, point i = image i at every probe. */
export interface TrainTsneProbe {
  step: number;
  layer: string;
  /** n × 2 positions. */
  positions: Float32Array;
  labels: Int32Array;
  /** The current weights' predictions on the same images. */
  pred: Int32Array;
  iterations: number;
  start: 'cold' | 'warm';
  kl: number;
  /** Wall-clock seconds of this probe's t-SNE (activations, PCA, affinities, iterations). */
  seconds: number;
}

/**
 * The t-SNE of `layer` of `model` (the trainer's weights at `step`) on the first `n` probe
 * images, warm-started from `previous` (the last probe's layout of the same layer and images).
 * The affinities come from the raw activations: the t-SNE view's PCA front end (≤ 50
 * components, fitted so the basis stays put as ε changes) has no such job here, and at 200
 * points it cost more than the whole embedding (2.0 s for a 256-wide layer against 0.18 s for
 * the exact affinities on the raw activations, Node, loaded 2-core machine).
 */
export async function modelTsneProbe(model: LabModel, step: number, probe: ImageDataset, layer: string, previous: TrainTsneProbe | null, seed: number, n = TSNE_PROBE_N, control: JobControl = {}): Promise<TrainTsneProbe> {
  const t0 = performance.now();
  const count = Math.min(n, probe.n);
  const shape: [number, number, number] = [probe.height, probe.width, probe.channels];
  const images = probe.images.subarray(0, count * shape[0] * shape[1] * shape[2]);
  const labels = probe.labels.slice(0, count);
  const size = model.layers.find((l) => l.name === layer)?.size ?? 0;
  const [act] = await collectActivations(model, images, shape, [layer], control);
  for (let i = 0; i < act.length; i++) if (!Number.isFinite(act[i])) throw new LabError(`layer ${layer}: non-finite activations at step ${step}; t-SNE needs finite values`);
  const init = previous && previous.layer === layer && previous.positions.length === count * 2 ? previous.positions : null;
  const r = await warmTsne(act, count, size, init, { seed: deriveSeed(seed, `train-tsne:${layer}`) });
  const pred = (await predictAll(model, images, labels, shape, control)).pred;
  return { step, layer, positions: r.positions, labels, pred: Int32Array.from(pred), iterations: r.iterations, start: r.start, kl: r.kl, seconds: (performance.now() - t0) / 1000 };
}

/** One probe's MFTMA of one layer: clean class manifolds of the probe images. */
export interface TrainMftmaProbe {
  step: number;
  layer: string;
  /** Manifolds P (classes) × points M. */
  p: number;
  m: number;
  capacity: number;
  radius: number;
  dimension: number;
  centerCorrelation: number;
  seconds: number;
}

/** Points per class manifold the probe set allows (≤ MFTMA_PROBE_M); refused below 2 (checked before training starts). */
export function mftmaProbePoints(probe: ImageDataset): number {
  const counts = new Array<number>(probe.classNames.length).fill(0);
  for (const l of probe.labels) counts[l]++;
  const m = Math.min(MFTMA_PROBE_M, ...counts);
  if (m < 2) throw new LabError(`MFTMA over training: the probe set has ${m} image(s) of some class; class manifolds need at least 2 (more probe images)`);
  return m;
}

/**
 * MFTMA capacity of `layer` of `model` (weights at `step`): the MFTMA view's class manifolds
 * (selectManifoldImages, from the probe set with the run's seed: the same P·M images at every
 * probe) through its analyzeLayers, with the light estimate above.
 */
export async function modelMftmaProbe(model: LabModel, step: number, probe: ImageDataset, layer: string, seed: number, control: JobControl = {}): Promise<TrainMftmaProbe> {
  const t0 = performance.now();
  const p = probe.classNames.length;
  const m = mftmaProbePoints(probe);
  const set = await selectManifoldImages(probe, { kind: 'class', p, m, seed: deriveSeed(seed, 'train-mftma') });
  const [r] = await analyzeLayers(model, set, [layer], { nT: MFTMA_PROBE_NT, nReps: MFTMA_PROBE_REPS, seed: deriveSeed(seed, 'train-mftma') }, control);
  return { step, layer, p, m, capacity: r.capacity, radius: r.radius, dimension: r.dimension, centerCorrelation: r.centerCorrelation, seconds: (performance.now() - t0) / 1000 };
}
