/**
 * Prefix probes: how much of the network's decision is already linearly available in a
 * frozen prefix (layers 1..j)?
 *
 * Craig et al., "A Theoretical Perspective on Subnetwork Contributions to Adversarial
 * Robustness", freeze the first layers of a network (the "subnetwork") and retrain the
 * remaining layers against the true labels; if the prefix is robust and the later layers
 * depend on it strongly enough, the whole network inherits the robustness. The lab's
 * cheap, closed-form stand-in replaces "the retrained rest of the network" by ONE linear
 * map: a ridge probe from the concatenation of layers 1..j to the one-hot TRUE LABELS
 * (the target the paper retrains on), trained on clean rows. For each j we report its
 * held-out accuracy on clean and adversarial inputs (the attack is the one crafted
 * against the full model) and, when the full model's predictions are given, how often the
 * probe agrees with the model — the same linear map read as "how much of the model's own
 * output the prefix explains".
 *
 * Concatenation: every layer is reduced and rescaled as in project.ts before joining;
 * with j layers each gets at most ⌊maxFeatures / j⌋ features so every system stays
 * ≤ maxFeatures wide (a projection only lowers a linear probe's accuracy, so these are
 * lower bounds). The projection of layer l is seeded by its name and the budget, so clean
 * and adversarial rows go through the same map.
 */
import { deriveSeed } from '../random';
import { throwIfAborted, type JobControl } from '../types';
import { agreement, probeSplit, takeRows, type LayerActivations } from './layers';
import { ridgePredict, ridgeProbe } from './probe';
import { reduceLayer } from './project';

export interface PrefixProbe {
  /** Number of layers in the prefix (1-based): the probe sees layers[0..j−1]. */
  depth: number;
  /** Name of the deepest layer in the prefix. */
  lastLayer: string;
  /** Total features after per-layer projection and concatenation. */
  features: number;
  projected: boolean;
  lambda: number;
  lambdaAtGridEdge: boolean;
  /** CV accuracy against the labels on the clean training rows. */
  cvAccuracy: number;
  /** Held-out (30 %) accuracy against the true labels. */
  cleanAccuracy: number;
  adversarialAccuracy: number | null;
  /** Held-out agreement with the full model's arg-max prediction (null without predictions). */
  cleanAgreement: number | null;
  adversarialAgreement: number | null;
}

export interface PrefixProbeOptions {
  /** Feature budget of the concatenated prefix (default 512). */
  maxFeatures?: number;
  /** Full-model predictions on the same rows, clean and (optionally) adversarial. */
  modelPredictions?: { clean: Int32Array; adversarial?: Int32Array | null };
}

export const DEFAULT_PREFIX_FEATURES = 512;

/** One ridge probe per prefix depth j = 1..L, from layers 1..j concatenated to the labels. */
export function prefixProbes(
  layers: LayerActivations[],
  labels: Int32Array,
  numClasses: number,
  seed: number,
  opts: PrefixProbeOptions = {},
  control: JobControl = {},
): PrefixProbe[] {
  const n = labels.length;
  const budget = opts.maxFeatures ?? DEFAULT_PREFIX_FEATURES;
  const { train, test } = probeSplit(n, seed);
  const trainLabels = Int32Array.from(train, (i) => labels[i]);
  const hasAdv = layers.length > 0 && layers.every((l) => l.adversarial);
  const preds = opts.modelPredictions;
  const out: PrefixProbe[] = [];
  for (let j = 1; j <= layers.length; j++) {
    throwIfAborted(control.signal);
    control.onProgress?.({ fraction: (j - 1) / layers.length, message: `prefix 1..${j}` });
    const per = Math.max(1, Math.floor(budget / j));
    const blocks = layers.slice(0, j).map((l) => reduceLayer(l.size, l.clean, hasAdv ? l.adversarial : null, per, deriveSeed(seed, `prefix-projection:${l.name}:${per}`)));
    const d = blocks.reduce((s, b) => s + b.dims, 0);
    const concat = (pick: (b: (typeof blocks)[number]) => Float64Array): Float64Array => {
      const x = new Float64Array(n * d);
      let off = 0;
      for (const b of blocks) {
        const src = pick(b);
        for (let i = 0; i < n; i++) for (let q = 0; q < b.dims; q++) x[i * d + off + q] = src[i * b.dims + q];
        off += b.dims;
      }
      return x;
    };
    const clean = concat((b) => b.clean);
    const adv = hasAdv ? concat((b) => b.adversarial!) : null;
    const probe = ridgeProbe(takeRows(clean, d, train), trainLabels, d, numClasses, { seed: deriveSeed(seed, `prefix-probe:${j}`) }, { signal: control.signal });
    const predClean = ridgePredict(probe, clean, test);
    const predAdv = adv ? ridgePredict(probe, adv, test) : null;
    out.push({
      depth: j,
      lastLayer: layers[j - 1].name,
      features: d,
      projected: blocks.some((b) => b.projected),
      lambda: probe.lambda,
      lambdaAtGridEdge: probe.lambdaAtGridEdge,
      cvAccuracy: probe.cvAccuracy,
      cleanAccuracy: agreement(predClean, labels, test),
      adversarialAccuracy: predAdv ? agreement(predAdv, labels, test) : null,
      cleanAgreement: preds ? agreement(predClean, preds.clean, test) : null,
      adversarialAgreement: preds?.adversarial && predAdv ? agreement(predAdv, preds.adversarial, test) : null,
    });
  }
  control.onProgress?.({ fraction: 1 });
  return out;
}
