/**
 * `layerwise dependency --model M --data D [--layers a,b] [--attack A --norm N --eps E]
 *  [--probe-dims 256] [--prefix-dims 512] --json`:
 * per tapped layer, ridge probes (held-out clean vs adversarial), I(layer; label),
 * I(previous; layer) and I(previous; layer | label) by KSG and by bias-corrected
 * Gaussian MI, clean vs adversarial; and the
 * prefix probes of Craig et al. (one linear map from layers 1..j to the labels, with its
 * agreement with the full model's predictions), clean vs adversarial.
 */
import { collectActivations } from '../../core/analysis/activations';
import { runAttack } from '../../core/attacks/runner';
import type { AttackName } from '../../core/attacks/types';
import type { Norm } from '../../core/attacks/common';
import { DEFAULT_PROBE_FEATURES, layerDependency } from '../../core/dependency/layers';
import { DEFAULT_PREFIX_FEATURES, prefixProbes } from '../../core/dependency/prefix';
import { checkInputCompatibility } from '../../core/model/model';
import { predictAll } from '../../core/model/predict';
import { LabError } from '../../core/types';
import { nameList, num, parse, print, str } from '../args';
import { sampleData } from '../common';
import { setupBackend } from '../../node/backend';
import { checkAttackable, openData, openModel } from '../../node/open';

async function cmdDependency(args: string[]) {
  const v = parse(args, {
    model: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' }, layers: { type: 'string' },
    attack: { type: 'string' }, norm: { type: 'string', default: 'linf' }, eps: { type: 'string' }, steps: { type: 'string' },
    'probe-dims': { type: 'string' }, 'prefix-dims': { type: 'string' },
  });
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const model = await openModel(str(v.model, 'model'));
  try {
    const ds = await openData(str(v.data, 'data'));
    checkInputCompatibility(model, ds);
    if (v.attack) checkAttackable(ds);
    const { data } = sampleData(ds, v.n, seed, 500);
    const shape: [number, number, number] = [data.height, data.width, data.channels];
    const names = v.layers ? nameList(v.layers, 'layers') : model.layers.filter((l) => l.defaultTap).map((l) => l.name);
    for (const name of names) if (!model.layers.some((l) => l.name === name)) throw new LabError(`model has no layer named "${name}"`);
    const clean = await collectActivations(model, data.images, shape, names);
    let adversarial: Float32Array[] | null = null;
    let robustAccuracy: number | null = null;
    let predictions: { clean: Int32Array; adversarial: Int32Array | null };
    if (v.attack) {
      // Non-finite logits refuse here, before an attack would run on them.
      await predictAll(model, data.images, data.labels, shape);
      const r = await runAttack(model.logits, { images: data.images, labels: data.labels, shape }, { attack: v.attack as AttackName, norm: v.norm as Norm, eps: num(v.eps, 'eps'), steps: num(v.steps, 'steps', 20) }, { seed });
      robustAccuracy = r.robustAccuracy;
      adversarial = await collectActivations(model, r.adversarial, shape, names);
      predictions = { clean: r.cleanPred, adversarial: r.advPred };
    } else {
      predictions = { clean: (await predictAll(model, data.images, data.labels, shape)).pred, adversarial: null };
    }
    const sizes = names.map((name) => model.layers.find((l) => l.name === name)!.size);
    const layers = names.map((name, l) => ({ name, size: sizes[l], clean: clean[l], adversarial: adversarial?.[l] }));
    const probeDims = num(v['probe-dims'], 'probe-dims', DEFAULT_PROBE_FEATURES);
    const result = layerDependency(layers, data.labels, model.numClasses, seed, {}, { maxProbeFeatures: probeDims });
    // Target: the true labels (what Craig et al. retrain the layers after a frozen prefix on);
    // agreement with the full model's own predictions is reported alongside.
    const prefix = prefixProbes(layers, data.labels, model.numClasses, seed, { maxFeatures: num(v['prefix-dims'], 'prefix-dims', DEFAULT_PREFIX_FEATURES), modelPredictions: predictions });
    const payload = {
      model: v.model, data: ds.id, n: data.n, seed, backend: backend.active, attack: v.attack ?? null, norm: v.attack ? v.norm : null, eps: v.eps ? Number(v.eps) : null, robustAccuracy,
      probeTarget: 'labels', probeFeatures: probeDims, layers: result, prefix,
    };
    const f = (x: number | null) => (x === null ? '  n/a' : x.toFixed(3));
    print(v.json as boolean, payload, () =>
      [
        `layer                 probe CV  held-out clean  held-out adv  I(layer;y)  I(layer;y) adv  I(prev;layer)  I(prev;layer|y)  Gauss I(prev;layer|y) clean/adv  prefix clean  prefix adv`,
        ...result.map(
          (r, l) =>
            `${r.layer.padEnd(22)}${f(r.probeCleanAccuracy).padStart(8)}${f(r.probeHeldOutCleanAccuracy).padStart(16)}${f(r.probeHeldOutAdversarialAccuracy).padStart(14)}${f(r.labelMi).padStart(12)}${f(r.labelMiAdversarial).padStart(16)}${f(r.miWithPrevious).padStart(15)}${f(r.conditionalMiWithPrevious).padStart(17)}${`${f(r.gaussianConditionalMiWithPrevious)}/${f(r.gaussianConditionalMiWithPreviousAdversarial)}`.padStart(31)}${f(prefix[l].cleanAccuracy).padStart(14)}${f(prefix[l].adversarialAccuracy).padStart(12)}`,
        ),
      ].join('\n'),
    );
  } finally {
    model.dispose();
  }
}

export const dependencyCommands: Record<string, (args: string[]) => Promise<void>> = { dependency: cmdDependency };
