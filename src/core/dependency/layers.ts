/**
 * Per-layer dependency of a network (Craig et al., "A Theoretical Perspective on
 * Subnetwork Contributions to Adversarial Robustness"): how linearly decodable the label
 * is from each layer (a ridge probe trained on clean activations, evaluated on clean and
 * adversarial ones) and how much information consecutive layers share, class-conditionally.
 */
import { createRng, deriveSeed, shuffleInPlace } from '../random';
import type { JobControl } from '../types';
import { conditionalMutualInformation, labelMutualInformation } from './mi';
import { fitRidge, ridgePredict, ridgeProbe } from './probe';

export interface LayerActivations {
  name: string;
  size: number;
  clean: Float32Array;
  adversarial?: Float32Array;
}

export interface LayerDependency {
  layer: string;
  /** Cross-validated probe accuracy on clean activations. */
  probeCleanAccuracy: number;
  /**
   * Held-out comparison: a probe with the CV-chosen λ fit on 70 % of the clean rows,
   * scored on the other 30 % clean and on the same 30 % adversarial (so both numbers are
   * out-of-sample and comparable with each other).
   */
  probeHeldOutCleanAccuracy: number;
  probeHeldOutAdversarialAccuracy: number | null;
  lambda: number;
  /** I(layer; label) in nats, clean and adversarial (Ross's mixed KSG). */
  labelMi: number;
  labelMiAdversarial: number | null;
  /** I(previous layer; this layer | class) in nats; null for the first layer. */
  conditionalMiWithPrevious: number | null;
  conditionalMiWithPreviousAdversarial: number | null;
}

export function layerDependency(
  layers: LayerActivations[],
  labels: Int32Array,
  numClasses: number,
  seed: number,
  control: JobControl = {},
): LayerDependency[] {
  const n = labels.length;
  // One seeded 70/30 split shared by all layers, so layer numbers compare like for like.
  const order = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, createRng(deriveSeed(seed, 'probe-split')));
  const cut = Math.max(1, Math.floor(0.7 * n));
  const train = order.slice(0, cut).sort();
  const test = order.slice(cut).sort();
  const accuracy = (pred: Int32Array) => pred.reduce((s, p, i) => s + (p === labels[test[i]] ? 1 : 0), 0) / Math.max(1, test.length);
  return layers.map((layer, l) => {
    control.onProgress?.({ fraction: l / layers.length, message: `layer ${layer.name}` });
    const probe = ridgeProbe(layer.clean, labels, layer.size, numClasses, { seed: deriveSeed(seed, `probe:${layer.name}`) }, { signal: control.signal });
    const heldOut = fitRidge(layer.clean, labels, layer.size, numClasses, probe.lambda, { rows: train });
    const miOpts = { seed: deriveSeed(seed, `mi:${layer.name}`) };
    const prev = l > 0 ? layers[l - 1] : null;
    return {
      layer: layer.name,
      probeCleanAccuracy: probe.cvAccuracy,
      probeHeldOutCleanAccuracy: accuracy(ridgePredict(heldOut, layer.clean, test)),
      probeHeldOutAdversarialAccuracy: layer.adversarial ? accuracy(ridgePredict(heldOut, layer.adversarial, test)) : null,
      lambda: probe.lambda,
      labelMi: labelMutualInformation(layer.clean, layer.size, labels, numClasses, miOpts).mi,
      labelMiAdversarial: layer.adversarial ? labelMutualInformation(layer.adversarial, layer.size, labels, numClasses, miOpts).mi : null,
      conditionalMiWithPrevious: prev ? conditionalMutualInformation(prev.clean, prev.size, layer.clean, layer.size, labels, numClasses, miOpts).mi : null,
      conditionalMiWithPreviousAdversarial:
        prev?.adversarial && layer.adversarial
          ? conditionalMutualInformation(prev.adversarial, prev.size, layer.adversarial, layer.size, labels, numClasses, miOpts).mi
          : null,
    };
  });
}
