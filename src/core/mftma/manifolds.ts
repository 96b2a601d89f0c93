/**
 * Manifolds to analyse with MFTMA, layer by layer: which images form each manifold, how they
 * are perturbed, and the per-layer inputs/results (with a random projection for wide layers).
 *
 * Two constructions, as in the MFTMA literature:
 *  - class manifolds (Cohen, Chung, Lee & Sompolinsky, Nat. Commun. 11, 746 (2020): "point-cloud"
 *    manifolds): P classes × M images of each class, optionally under Gaussian noise σ;
 *  - exemplar manifolds (Dapello, Feather, Le, Marques, Cox, McDermott, DiCarlo & Chung, "Neural
 *    population geometry reveals the role of stochasticity in robust perception", NeurIPS 2021):
 *    P images × M perturbed copies of each — Gaussian noise σ, uniform samples of the L-inf / L2
 *    ball of radius ε, or M random-start attack runs inside that ball (an image's "adversarial
 *    manifold": the points an attack reaches from different starts), compared layer by layer.
 *
 * Everything is seeded (src/core/random.ts). Noise draws do not depend on σ / ε, only on the seed,
 * so the points of a ladder differ only in scale (common random numbers): a sweep's curve is
 * smooth and monotone trends are not buried in resampling noise.
 */
import * as tf from '@tensorflow/tfjs';
import { collectActivations } from '../analysis/activations';
import type { Norm } from '../attacks/common';
import { runAttack } from '../attacks/runner';
import { classBalancedSample } from '../data/sampler';
import type { LabModel } from '../model/model';
import { predictAll } from '../model/predict';
import { detPow } from '../detmath';
import { createRng, deriveSeed } from '../random';
import { JobCancelledError, LabError, type ImageDataset, type JobControl } from '../types';
import { manifoldAnalysis, type MftmaInput, type MftmaOptions, type MftmaResult } from './mftma';
import { DEFAULT_MAX_DIMS, randomProjection, SPAN_MAX_POINTS, spanReduction, type ProjectionRecord } from './projection';

export type ManifoldKind = 'class' | 'exemplar';

/** Attacks that have a random start, so M runs give M different points. */
export type ManifoldAttack = 'pgd' | 'apgd-ce';

export type Perturbation =
  | { kind: 'none' }
  /** x + σ·g, g ~ N(0, I), clipped to [0, 1]. */
  | { kind: 'gaussian'; sigma: number }
  /** x + ε·u, u uniform in [−1, 1]^d, clipped to [0, 1]. */
  | { kind: 'linf'; eps: number }
  /** x + ε·ρ·ĝ, ĝ a uniform direction, ρ = U^(1/d) (uniform in the ball's volume), clipped. */
  | { kind: 'l2'; eps: number }
  /** The result of a random-start attack inside the `norm` ball of radius ε (src/core/attacks). */
  | { kind: 'attack'; attack: ManifoldAttack; norm: Norm; eps: number; steps?: number };

export interface ManifoldSpec {
  kind: ManifoldKind;
  /** Number of manifolds P (classes, or exemplar images). */
  p: number;
  /** Points per manifold M. */
  m: number;
  seed: number;
  /** Class manifolds: which classes (default the first P). */
  classes?: number[];
}

/** The images of P manifolds × M points, manifold-major (manifold 0's M images first). */
export interface ManifoldImages {
  kind: ManifoldKind;
  p: number;
  m: number;
  shape: [number, number, number];
  /** P·M images, NHWC float32 in [0, 1]. */
  images: Float32Array;
  /** Class label of each of the P·M images. */
  labels: Int32Array;
  /** Class of each manifold (P). */
  manifoldLabels: Int32Array;
  /** Dataset index of every image (P·M; an exemplar's copies share one index). */
  sourceIndices: Int32Array;
  perturbation: Perturbation;
  /** Attack perturbations: fraction of the P·M points the model misclassifies. */
  attackSuccessRate?: number;
}

/** Clean-image candidates per exemplar slot scanned for a correctly classified image. */
const EXEMPLAR_CANDIDATES = 10;

function checkSpec(ds: ImageDataset, spec: ManifoldSpec): void {
  const { p, m } = spec;
  if (!Number.isInteger(p) || p < 2) throw new LabError(`P must be an integer ≥ 2 (got ${p})`);
  if (!Number.isInteger(m) || m < 1) throw new LabError(`M must be a positive integer (got ${m})`);
  if (spec.kind === 'class') {
    const classes = spec.classes ?? [];
    if (!spec.classes && p > ds.classNames.length) throw new LabError(`class manifolds: P = ${p} but ${ds.id} has only ${ds.classNames.length} classes`);
    if (spec.classes && classes.length !== p) throw new LabError(`class manifolds: ${classes.length} classes given for P = ${p}`);
  } else if (spec.kind !== 'exemplar') {
    throw new LabError(`manifolds must be "class" or "exemplar" (got "${spec.kind as string}")`);
  }
}

/**
 * Clean images of the manifolds (no perturbation yet). Class manifolds: a seeded class-balanced
 * sample of P·M images (src/core/data/sampler.ts), regrouped by class. Exemplar manifolds: P
 * images from a seeded class-balanced sample, each repeated M times; with `model`, only images it
 * classifies correctly are taken (an attack leaves a misclassified image where it is, which would
 * make a manifold of M identical points).
 */
export async function selectManifoldImages(ds: ImageDataset, spec: ManifoldSpec, model?: LabModel): Promise<ManifoldImages> {
  checkSpec(ds, spec);
  const { p, m } = spec;
  const shape: [number, number, number] = [ds.height, ds.width, ds.channels];
  const d = ds.height * ds.width * ds.channels;
  const seed = deriveSeed(spec.seed, 'mftma/manifold-images');
  const images = new Float32Array(p * m * d);
  const labels = new Int32Array(p * m);
  const manifoldLabels = new Int32Array(p);
  const sourceIndices = new Int32Array(p * m);
  if (spec.kind === 'class') {
    const classes = spec.classes ? [...spec.classes] : Array.from({ length: p }, (_, i) => i);
    // The sample interleaves the (ascending) classes round-robin: entry r·P + j is class j's r-th.
    const order = [...classes].sort((a, b) => a - b);
    const sample = classBalancedSample(ds.labels, ds.classNames.length, p * m, seed, { classes: order });
    for (let j = 0; j < p; j++) {
      manifoldLabels[j] = order[j];
      for (let r = 0; r < m; r++) {
        const src = sample[r * p + j];
        const o = j * m + r;
        sourceIndices[o] = src;
        labels[o] = ds.labels[src];
        images.set(ds.images.subarray(src * d, (src + 1) * d), o * d);
      }
    }
  } else {
    const numClasses = ds.classNames.length;
    const want = model ? Math.min(ds.n, p * EXEMPLAR_CANDIDATES) : p;
    if (want < p) throw new LabError(`exemplar manifolds: P = ${p} exceeds the ${ds.n} images of ${ds.id}`);
    const candidates = classBalancedSample(ds.labels, numClasses, want, seed);
    let ok: Uint8Array = new Uint8Array(want).fill(1);
    if (model) {
      const preds = await predictLabels(model, ds, candidates);
      ok = Uint8Array.from(candidates, (src, i) => (preds[i] === ds.labels[src] ? 1 : 0));
    }
    let j = 0;
    for (let i = 0; i < want && j < p; i++) {
      if (!ok[i]) continue;
      const src = candidates[i];
      manifoldLabels[j] = ds.labels[src];
      for (let r = 0; r < m; r++) {
        const o = j * m + r;
        sourceIndices[o] = src;
        labels[o] = ds.labels[src];
        images.set(ds.images.subarray(src * d, (src + 1) * d), o * d);
      }
      j++;
    }
    if (j < p) throw new LabError(`exemplar manifolds: only ${j} of ${want} candidate images are classified correctly, ${p} needed`);
  }
  return { kind: spec.kind, p, m, shape, images, labels, manifoldLabels, sourceIndices, perturbation: { kind: 'none' } };
}

async function predictLabels(model: LabModel, ds: ImageDataset, indices: Int32Array): Promise<Int32Array> {
  const d = ds.height * ds.width * ds.channels;
  const out = new Int32Array(indices.length);
  const batch = 64;
  for (let s = 0; s < indices.length; s += batch) {
    const count = Math.min(batch, indices.length - s);
    const xs = new Float32Array(count * d);
    for (let i = 0; i < count; i++) xs.set(ds.images.subarray(indices[s + i] * d, (indices[s + i] + 1) * d), i * d);
    const pred = tf.tidy(() => tf.argMax(model.logits(tf.tensor4d(xs, [count, ds.height, ds.width, ds.channels])), 1));
    out.set((await pred.data()) as Int32Array, s);
    pred.dispose();
  }
  return out;
}

/** Size of a perturbation (σ or ε); 0 for none. */
export function perturbationSize(p: Perturbation): number {
  return p.kind === 'none' ? 0 : p.kind === 'gaussian' ? p.sigma : p.eps;
}

/** The same perturbation at another σ / ε (a ladder point); size 0 is the clean manifolds. */
export function withSize(p: Perturbation, size: number): Perturbation {
  if (size === 0) return { kind: 'none' };
  switch (p.kind) {
    case 'none':
      return p;
    case 'gaussian':
      return { ...p, sigma: size };
    default:
      return { ...p, eps: size };
  }
}

function checkPerturbation(p: Perturbation): void {
  const size = perturbationSize(p);
  if (p.kind === 'none') return;
  if (!(size > 0) || !Number.isFinite(size)) throw new LabError(`${p.kind === 'gaussian' ? 'σ' : 'ε'} must be a finite number > 0 (got ${size})`);
  if (p.kind === 'attack' && p.attack !== 'pgd' && p.attack !== 'apgd-ce') throw new LabError(`manifold attacks need a random start: pgd or apgd-ce (got "${p.attack as string}")`);
}

/**
 * Perturb every image of `set` (one draw per image: for exemplar manifolds the M copies of an
 * image get M independent draws, i.e. M points of its manifold). Attacks need `model`; for them
 * one run over all P·M copies is the same as M seeded random-start runs per image, because the
 * runner draws each copy's random start from its own stretch of the seeded stream.
 */
export async function perturbManifoldImages(
  set: ManifoldImages,
  perturbation: Perturbation,
  seed: number,
  model?: LabModel,
  control: JobControl = {},
): Promise<ManifoldImages> {
  checkPerturbation(perturbation);
  const [h, w, c] = set.shape;
  const d = h * w * c;
  const n = set.p * set.m;
  const out: ManifoldImages = { ...set, perturbation };
  if (perturbation.kind === 'none') {
    if (set.kind === 'exemplar') throw new LabError('exemplar manifolds need a perturbation: M unperturbed copies of an image are a single point');
    return out;
  }
  if (perturbation.kind === 'attack') {
    if (!model) throw new LabError('attack manifolds need a model');
    const steps = perturbation.steps ?? (perturbation.attack === 'pgd' ? 40 : 100);
    const r = await runAttack(
      model.logits,
      { images: set.images, labels: set.labels, shape: set.shape },
      { attack: perturbation.attack, norm: perturbation.norm, eps: perturbation.eps, steps },
      { seed: deriveSeed(seed, 'mftma/attack-starts') },
      control,
    );
    let wrong = 0;
    for (let i = 0; i < n; i++) if (r.advPred[i] !== set.labels[i]) wrong++;
    return { ...out, images: r.adversarial, attackSuccessRate: wrong / n };
  }
  // One stream for the noise shape, independent of σ / ε (common random numbers across a ladder).
  const rng = createRng(deriveSeed(seed, `mftma/noise:${perturbation.kind}`));
  const images = new Float32Array(set.images.length);
  const noise = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    if (perturbation.kind === 'gaussian') {
      for (let j = 0; j < d; j++) noise[j] = perturbation.sigma * rng.normal();
    } else if (perturbation.kind === 'linf') {
      for (let j = 0; j < d; j++) noise[j] = perturbation.eps * (2 * rng.next() - 1);
    } else {
      let sq = 0;
      for (let j = 0; j < d; j++) {
        noise[j] = rng.normal();
        sq += noise[j] * noise[j];
      }
      // Radius U^(1/d): uniform in the ball's volume (in high d almost always ≈ ε).
      const s = (perturbation.eps * detPow(rng.next(), 1 / d)) / Math.max(Math.sqrt(sq), 1e-12);
      for (let j = 0; j < d; j++) noise[j] *= s;
    }
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const v = set.images[base + j] + noise[j];
      images[base + j] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    if (control.signal?.aborted) throw new JobCancelledError();
  }
  control.onProgress?.({ fraction: 1, message: 'perturbed' });
  return { ...out, images };
}

/** Selection + perturbation in one call. */
export async function buildManifoldImages(
  ds: ImageDataset,
  spec: ManifoldSpec & { perturbation: Perturbation },
  model?: LabModel,
  control: JobControl = {},
): Promise<ManifoldImages> {
  const needsModel = spec.perturbation.kind === 'attack';
  const clean = await selectManifoldImages(ds, spec, needsModel ? model : undefined);
  return perturbManifoldImages(clean, spec.perturbation, spec.seed, model, control);
}

/** Whether `layer` is the model's input itself (analysed as the pixels, no forward pass). */
function isInputLayer(model: LabModel, layer: string): boolean {
  return model.layers.find((l) => l.name === layer)?.className === 'InputLayer';
}

/** The MftmaInput of the pixels themselves (the input layer): P manifolds of M images. */
export function imagesMftmaInput(set: ManifoldImages): MftmaInput {
  const n = set.shape[0] * set.shape[1] * set.shape[2];
  const manifolds: Float32Array[] = [];
  for (let j = 0; j < set.p; j++) manifolds.push(set.images.subarray(j * set.m * n, (j + 1) * set.m * n));
  return { n, manifolds };
}

/**
 * The MftmaInput of one tapped layer: its activations for the P·M images, split into P
 * manifolds of M points (N = the layer's width, flattened).
 */
export async function layerMftmaInput(model: LabModel, set: ManifoldImages, layer: string, control: JobControl = {}): Promise<MftmaInput> {
  const info = model.layers.find((l) => l.name === layer);
  if (!info) throw new LabError(`model has no layer named "${layer}" (see \`layerwise info\`)`);
  if (isInputLayer(model, layer)) return imagesMftmaInput(set);
  const acts = (await collectActivations(model, set.images, set.shape, [layer], control))[0];
  const n = info.size;
  const manifolds: Float32Array[] = [];
  for (let j = 0; j < set.p; j++) manifolds.push(acts.subarray(j * set.m * n, (j + 1) * set.m * n));
  return { n, manifolds };
}

export interface LayerMftmaOptions extends MftmaOptions {
  /** Project layers wider than this (Gaussian, seeded) before the analysis. Default 5,000. */
  maxDims?: number;
}

/** One layer's MFTMA summary (one point of a sweep). Plain data: transferable from a worker. */
export interface LayerMftmaResult {
  layer: string;
  /** σ or ε of the perturbation (0 for none). */
  size: number;
  perturbation: Perturbation;
  kind: ManifoldKind;
  p: number;
  m: number;
  /** The layer's width N. */
  width: number;
  /** Set when the layer was projected before the analysis (say so in the UI). */
  projection: ProjectionRecord | null;
  capacity: number;
  radius: number;
  dimension: number;
  centerCorrelation: number;
  k: number;
  /** Attack manifolds: fraction of points the model misclassifies. */
  attackSuccessRate?: number;
  /** Full per-manifold result (centerSubspace is K × analysed dims). */
  result: MftmaResult;
  seconds: number;
}

/** Progress of a sub-job mapped into [lo, hi] of the parent's. */
function subControl(control: JobControl, lo: number, hi: number): JobControl {
  return {
    signal: control.signal,
    onProgress: control.onProgress ? (p) => control.onProgress?.({ fraction: lo + (hi - lo) * p.fraction, message: p.message }) : undefined,
  };
}

/**
 * A layer wider than `maxDims` is reduced before the analysis: exactly, to the span of its
 * points, when there are at most SPAN_MAX_POINTS of them (the analysis is then that of the
 * full layer, see spanReduction); otherwise by the seeded Gaussian projection to `maxDims`
 * (the reference's own practice for wide layers). The seed depends only on the layer, so every
 * ladder point of a layer sees the same projection and differences along a sweep are not
 * projection noise.
 */
export async function reduceWideLayer(raw: MftmaInput, maxDims: number, seed: number, control: JobControl = {}): Promise<{ input: MftmaInput; projection: ProjectionRecord | null }> {
  if (!Number.isInteger(maxDims) || maxDims < 1) throw new LabError(`max dims must be a positive integer (got ${maxDims})`);
  if (raw.n <= maxDims) return { input: raw, projection: null };
  const points = raw.manifolds.reduce((a, x) => a + x.length / raw.n, 0);
  if (points <= SPAN_MAX_POINTS) {
    const exact = await spanReduction(raw, control);
    if (exact) return exact;
  }
  return randomProjection(raw, maxDims, seed, control);
}

/**
 * MFTMA of `set` at each layer in `layers`, in order; `onLayer` receives each layer's result as
 * soon as it exists (streaming to the UI). On abort: JobCancelledError whose `partial` is the
 * finished layers.
 */
export async function analyzeLayers(
  model: LabModel,
  set: ManifoldImages,
  layers: string[],
  opts: LayerMftmaOptions = {},
  control: JobControl = {},
  onLayer?: (r: LayerMftmaResult) => void,
): Promise<LayerMftmaResult[]> {
  const done: LayerMftmaResult[] = [];
  const seed = opts.seed ?? 0;
  const { maxDims = DEFAULT_MAX_DIMS, ...mftmaOpts } = opts;
  try {
    for (let li = 0; li < layers.length; li++) {
      const layer = layers[li];
      const lo = li / layers.length;
      const span = 1 / layers.length;
      const t0 = performance.now();
      const raw = await layerMftmaInput(model, set, layer, subControl(control, lo, lo + 0.1 * span));
      const { input, projection } = await reduceWideLayer(raw, maxDims, deriveSeed(seed, `mftma/projection:${layer}`), subControl(control, lo + 0.1 * span, lo + 0.2 * span));
      const result = await manifoldAnalysis(input, { ...mftmaOpts, seed }, subControl(control, lo + 0.2 * span, lo + span));
      const r: LayerMftmaResult = {
        layer,
        size: perturbationSize(set.perturbation),
        perturbation: set.perturbation,
        kind: set.kind,
        p: set.p,
        m: set.m,
        width: raw.n,
        projection,
        capacity: result.capacity,
        radius: result.radius,
        dimension: result.dimension,
        centerCorrelation: result.centerCorrelation,
        k: result.k,
        ...(set.attackSuccessRate !== undefined ? { attackSuccessRate: set.attackSuccessRate } : {}),
        result,
        seconds: (performance.now() - t0) / 1000,
      };
      done.push(r);
      onLayer?.(r);
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError<LayerMftmaResult[]>(done.slice());
    throw e;
  }
  return done;
}

export interface SweepSpec extends ManifoldSpec {
  /** The perturbation whose σ / ε the ladder replaces. */
  perturbation: Perturbation;
  /** σ or ε values, e.g. the seed's 0.0001 … 1.0 for Gaussian noise. */
  ladder: number[];
  layers: string[];
  analysis?: LayerMftmaOptions;
}

/** The model's accuracy on the P·M manifold points at one ladder value (0 = clean). */
export interface SweepAccuracy {
  size: number;
  accuracy: number;
}

/** A log-spaced σ ladder over the seed notebook's range 0.0001 … 1.0 (Gaussian manifolds). */
export const SIGMA_LADDER = [0.0001, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0];

/**
 * Per-layer capacity / radius / dimension / center correlation against a σ or ε ladder. The
 * images are chosen once (same manifolds at every ladder point) and the noise shape is shared
 * across the ladder, so the curves show the effect of the size alone. Results stream through
 * `onResult` (one per layer per ladder point); on abort, JobCancelledError.partial holds them.
 */
export async function mftmaSweep(
  model: LabModel,
  ds: ImageDataset,
  spec: SweepSpec,
  control: JobControl = {},
  onResult?: (r: LayerMftmaResult) => void,
  onAccuracy?: (a: SweepAccuracy) => void,
): Promise<LayerMftmaResult[]> {
  if (spec.ladder.length === 0) throw new LabError('the sweep ladder is empty');
  if (spec.layers.length === 0) throw new LabError('no layers to analyse');
  const all: LayerMftmaResult[] = [];
  const clean = await selectManifoldImages(ds, spec, spec.perturbation.kind === 'attack' ? model : undefined);
  // The seed reads capacity next to test accuracy: the model's accuracy on the manifold points,
  // clean (size 0) and at every ladder value (one forward pass each, cheap next to the analyses).
  if (onAccuracy) onAccuracy({ size: 0, accuracy: (await predictAll(model, clean.images, clean.labels, clean.shape, { signal: control.signal })).accuracy });
  const steps = spec.ladder.length;
  try {
    for (let s = 0; s < steps; s++) {
      const lo = s / steps;
      const span = 1 / steps;
      // Attacks cost as much as the analyses: give them a third of the step's progress.
      const split = spec.perturbation.kind === 'attack' ? 1 / 3 : 0.02;
      const set = await perturbManifoldImages(clean, withSize(spec.perturbation, spec.ladder[s]), spec.seed, model, subControl(control, lo, lo + split * span));
      if (onAccuracy) onAccuracy({ size: spec.ladder[s], accuracy: (await predictAll(model, set.images, set.labels, set.shape, { signal: control.signal })).accuracy });
      await analyzeLayers(model, set, spec.layers, { ...spec.analysis, seed: spec.analysis?.seed ?? spec.seed }, subControl(control, lo + split * span, lo + span), (r) => {
        all.push(r);
        onResult?.(r);
      });
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError<LayerMftmaResult[]>(all.slice());
    throw e;
  }
  return all;
}
