/**
 * Per-layer dependency of a network (Craig et al., "A Theoretical Perspective on
 * Subnetwork Contributions to Adversarial Robustness"): how linearly decodable the label
 * is from each layer (a ridge probe trained on clean activations, evaluated on clean and
 * adversarial ones) and how much information consecutive layers share, with and without
 * conditioning on the class — by KSG (mi.ts; nonparametric, but biased at high width)
 * and by bias-corrected Gaussian MI (gaussian-mi.ts; linear dependence, accurate at high
 * width). Craig et al. condition on the class: I(layer_l; layer_{l+1} | y) is the
 * dependence that is not explained by both layers merely encoding the label.
 */
import { createRng, deriveSeed, shuffleInPlace } from '../random';
import type { JobControl } from '../types';
import { conditionalGaussianMutualInformation, gaussianMutualInformation } from './gaussian-mi';
import { conditionalMutualInformation, ksgMutualInformation, labelMutualInformation, type KsgOptions } from './mi';
import { ridgePredict, ridgeProbe } from './probe';
import { reduceLayer } from './project';

export interface LayerActivations {
  name: string;
  size: number;
  clean: Float32Array;
  adversarial?: Float32Array;
}

export interface LayerDependency {
  layer: string;
  /** Cross-validated probe accuracy on the clean training rows (λ chosen by this CV). */
  probeCleanAccuracy: number;
  /**
   * Held-out comparison: the probe (λ chosen by CV on the 70 % training rows only, then
   * refit on them) scored on the other 30 % clean and on the same 30 % adversarial, so
   * both numbers are out-of-sample and comparable with each other.
   */
  probeHeldOutCleanAccuracy: number;
  probeHeldOutAdversarialAccuracy: number | null;
  lambda: number;
  /** The CV optimum sits at an end of the λ grid (see RidgeProbe.lambdaAtGridEdge). */
  lambdaAtGridEdge: boolean;
  /** Features the probe saw, and whether they are a random projection of the layer (see project.ts). */
  probeFeatures: number;
  probeProjected: boolean;
  /** I(layer; label) in nats, clean and adversarial (Ross's mixed KSG). */
  labelMi: number;
  labelMiAdversarial: number | null;
  /** I(previous layer; this layer | class) in nats; null for the first layer. */
  conditionalMiWithPrevious: number | null;
  conditionalMiWithPreviousAdversarial: number | null;
  /** I(previous layer; this layer) in nats (KSG), without conditioning; null for the first layer. */
  miWithPrevious: number | null;
  miWithPreviousAdversarial: number | null;
  /**
   * Gaussian (linear) MI with the previous layer, unconditional and class-conditional,
   * bias-corrected, with a 1 % noise floor (gaussian-mi.ts): the estimator that stays
   * accurate at layer widths where KSG is dominated by bias. null for the first layer.
   */
  gaussianMiWithPrevious: number | null;
  gaussianMiWithPreviousAdversarial: number | null;
  gaussianConditionalMiWithPrevious: number | null;
  gaussianConditionalMiWithPreviousAdversarial: number | null;
}

export interface LayerDependencyOptions {
  /** Project each layer to at most this many features before probing (default 256; see project.ts). */
  maxProbeFeatures?: number;
  /** Options passed to every KSG estimate (k, maxDims, maxSamples, …); the seed is derived per layer. */
  ksg?: Omit<KsgOptions, 'seed'>;
  /** Width cap of the Gaussian MI projection (default 64; see gaussian-mi.ts). */
  gaussianMaxDims?: number;
  /** Relative noise floor of the Gaussian MI (default 0.01; see GaussianMiOptions.noise). */
  gaussianNoise?: number;
}

/**
 * Consecutive layers are (nearly) deterministic functions of each other, so their exact
 * MI is infinite; a 1 % noise floor makes the Gaussian MI finite and comparable across
 * layers and between clean and adversarial inputs (see GaussianMiOptions.noise).
 */
export const DEFAULT_GAUSSIAN_NOISE = 0.01;

/** Default probe width: keeps every CV fit a ≤ 256² system (well under a second for n = 2000). */
export const DEFAULT_PROBE_FEATURES = 256;

/**
 * One seeded 70/30 split of n rows into sorted train and test indices, shared by every
 * probe of a run so layer and prefix numbers compare like for like.
 */
export function probeSplit(n: number, seed: number): { train: Int32Array; test: Int32Array } {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, createRng(deriveSeed(seed, 'probe-split')));
  const cut = Math.max(1, Math.floor(0.7 * n));
  return { train: order.slice(0, cut).sort(), test: order.slice(cut).sort() };
}

/** Rows `rows` of an n×d matrix, as a new float64 matrix. */
export function takeRows(x: ArrayLike<number>, d: number, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((i, r) => {
    for (let j = 0; j < d; j++) out[r * d + j] = x[i * d + j];
  });
  return out;
}

/** Fraction of `rows` where pred[r] equals target[rows[r]]. */
export function agreement(pred: Int32Array, target: Int32Array, rows: Int32Array): number {
  let ok = 0;
  rows.forEach((i, r) => (ok += pred[r] === target[i] ? 1 : 0));
  return ok / Math.max(1, rows.length);
}

export function layerDependency(
  layers: LayerActivations[],
  labels: Int32Array,
  numClasses: number,
  seed: number,
  control: JobControl = {},
  opts: LayerDependencyOptions = {},
): LayerDependency[] {
  const n = labels.length;
  const { train, test } = probeSplit(n, seed);
  const trainLabels = Int32Array.from(train, (i) => labels[i]);
  const maxProbe = opts.maxProbeFeatures ?? DEFAULT_PROBE_FEATURES;
  return layers.map((layer, l) => {
    control.onProgress?.({ fraction: l / layers.length, message: `layer ${layer.name}` });
    const reduced = reduceLayer(layer.size, layer.clean, layer.adversarial, maxProbe, deriveSeed(seed, `probe-projection:${layer.name}`));
    const probe = ridgeProbe(takeRows(reduced.clean, reduced.dims, train), trainLabels, reduced.dims, numClasses, { seed: deriveSeed(seed, `probe:${layer.name}`) }, { signal: control.signal });
    const miOpts: KsgOptions = { ...opts.ksg, seed: deriveSeed(seed, `mi:${layer.name}`) };
    // Same seed for clean and adversarial: both go through the same projections.
    const gOpts = { maxDims: opts.gaussianMaxDims, noise: opts.gaussianNoise ?? DEFAULT_GAUSSIAN_NOISE, seed: deriveSeed(seed, `gmi:${layer.name}`) };
    const prev = l > 0 ? layers[l - 1] : null;
    const bothAdv = !!(prev?.adversarial && layer.adversarial);
    return {
      layer: layer.name,
      probeCleanAccuracy: probe.cvAccuracy,
      probeHeldOutCleanAccuracy: agreement(ridgePredict(probe, reduced.clean, test), labels, test),
      probeHeldOutAdversarialAccuracy: reduced.adversarial ? agreement(ridgePredict(probe, reduced.adversarial, test), labels, test) : null,
      lambda: probe.lambda,
      lambdaAtGridEdge: probe.lambdaAtGridEdge,
      probeFeatures: reduced.dims,
      probeProjected: reduced.projected,
      labelMi: labelMutualInformation(layer.clean, layer.size, labels, numClasses, miOpts).mi,
      labelMiAdversarial: layer.adversarial ? labelMutualInformation(layer.adversarial, layer.size, labels, numClasses, miOpts).mi : null,
      conditionalMiWithPrevious: prev ? conditionalMutualInformation(prev.clean, prev.size, layer.clean, layer.size, labels, numClasses, miOpts).mi : null,
      conditionalMiWithPreviousAdversarial: bothAdv
        ? conditionalMutualInformation(prev!.adversarial!, prev!.size, layer.adversarial!, layer.size, labels, numClasses, miOpts).mi
        : null,
      miWithPrevious: prev ? ksgMutualInformation(prev.clean, prev.size, layer.clean, layer.size, miOpts).mi : null,
      miWithPreviousAdversarial: bothAdv ? ksgMutualInformation(prev!.adversarial!, prev!.size, layer.adversarial!, layer.size, miOpts).mi : null,
      gaussianMiWithPrevious: prev ? gaussianMutualInformation(prev.clean, prev.size, layer.clean, layer.size, gOpts).mi : null,
      gaussianMiWithPreviousAdversarial: bothAdv ? gaussianMutualInformation(prev!.adversarial!, prev!.size, layer.adversarial!, layer.size, gOpts).mi : null,
      gaussianConditionalMiWithPrevious: prev ? conditionalGaussianMutualInformation(prev.clean, prev.size, layer.clean, layer.size, labels, numClasses, gOpts).mi : null,
      gaussianConditionalMiWithPreviousAdversarial: bothAdv
        ? conditionalGaussianMutualInformation(prev!.adversarial!, prev!.size, layer.adversarial!, layer.size, labels, numClasses, gOpts).mi
        : null,
    };
  });
}
