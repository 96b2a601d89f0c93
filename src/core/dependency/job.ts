/**
 * Layer dependency job (issue #9; Craig et al., "A Theoretical Perspective on Subnetwork
 * Contributions to Adversarial Robustness"): per tapped layer, ridge probes trained on
 * clean activations and scored clean vs under the chosen attack, mutual information with
 * the label and with the previous layer (class-conditional), clean vs adversarial, and the
 * seed's prefix probe (one linear map from the concatenated layers 1..j). Model B in
 * compare mode gets the same on the same samples.
 */
import { collectActivations } from '../analysis/activations';
import type { AttackSpec } from '../attacks/types';
import { layerDependency, type LayerDependency } from '../dependency/layers';
import { prefixProbes, type PrefixProbe } from '../dependency/prefix';
import { predictAll } from '../model/predict';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { attackSample, jobSample, modelsOf, subProgress, type Emit, type JobContext } from '../analyses/context';

export interface DependencyJobParams {
  n: number;
  layers: string[];
  spec: AttackSpec | null;
  /** Ridge probes see at most this many features per layer (random projection above). */
  probeFeatures?: number;
  /** The prefix probe's feature budget over layers 1..j. */
  prefixFeatures?: number;
}

export interface ModelDependency {
  layers: LayerDependency[];
  prefix: PrefixProbe[];
  /** The model's accuracy on the sample, clean and (when attacked) under the attack. */
  cleanAccuracy: number;
  robustAccuracy: number | null;
}

export interface DependencyJobResult {
  n: number;
  a: ModelDependency | null;
  b: ModelDependency | null;
}

export async function dependencyAnalysis(ctx: JobContext, params: DependencyJobParams, control: JobControl = {}, emit: Emit<DependencyJobResult> = () => undefined): Promise<DependencyJobResult> {
  if (!params.layers.length) throw new LabError('choose at least one layer');
  const sample = jobSample(ctx.dataset, params.n, ctx.seed);
  const k = ctx.dataset.classNames.length;
  const models = modelsOf(ctx);
  const result: DependencyJobResult = { n: sample.labels.length, a: null, b: null };
  try {
    for (let m = 0; m < models.length; m++) {
      const { which, model } = models[m];
      // Layers model B does not have (a different architecture) are left out for B.
      const layers = params.layers.filter((name) => model.layers.some((l) => l.name === name));
      if (!layers.length) throw new LabError(`model ${which.toUpperCase()} has none of the chosen layers`);
      const sub = subProgress(control, m, models.length, `model ${which.toUpperCase()}`);
      const clean = await collectActivations(model, sample.images, sample.shape, layers, { signal: control.signal });
      let adv: Float32Array[] | null = null;
      let robustAccuracy: number | null = null;
      let advPred: Int32Array | null = null;
      if (params.spec) {
        const r = await attackSample(ctx, which, sample, params.spec, sub);
        robustAccuracy = r.robustAccuracy;
        advPred = r.advPred;
        adv = await collectActivations(model, r.adversarial, sample.shape, layers, { signal: control.signal });
      }
      const predicted = await predictAll(model, sample.images, sample.labels, sample.shape);
      const cleanPred = predicted.pred;
      const acts = layers.map((name, l) => ({ name, size: model.layers.find((x) => x.name === name)?.size ?? 0, clean: clean[l], adversarial: adv?.[l] }));
      if (control.signal?.aborted) throw new JobCancelledError(result);
      const dep = layerDependency(acts, sample.labels, k, ctx.seed, sub, { maxProbeFeatures: params.probeFeatures });
      const prefix = prefixProbes(acts, sample.labels, k, ctx.seed, { maxFeatures: params.prefixFeatures, modelPredictions: { clean: cleanPred, adversarial: advPred } }, sub);
      result[which] = { layers: dep, prefix, cleanAccuracy: predicted.accuracy, robustAccuracy };
      emit(result);
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
