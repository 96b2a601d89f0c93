/**
 * Layer dependency as an analysis (issue #9; Craig et al.): ridge probes clean vs attacked,
 * the prefix probes, and mutual information with the label and the previous layer.
 * The attack runs when ε > 0 (ε = 0: clean only).
 */
import { attackSpecOf } from '../attacks/spec';
import { defineAnalysis } from '../analyses/define';
import { tappedLayers } from '../analyses/context';
import { param } from '../schema';
import { dependencyAnalysis, type DependencyJobResult } from './job';
import { DEFAULT_PROBE_FEATURES } from './layers';
import { DEFAULT_PREFIX_FEATURES } from './prefix';

export const dependencyDefinition = defineAnalysis({
  kind: 'dependency',
  title: 'Layer dependency',
  summary: 'held-out ridge probes and prefix probes per layer, mutual information with the label and the previous layer, clean vs attacked',
  schema: {
    n: param.int({ url: 'dn', label: 'Samples', default: 500, min: 50, max: 5000, step: 50, help: 'Probes train on 70% and are scored on the held-out 30%, clean and attacked.' }),
    probeDims: param.int({ url: 'dpd', label: 'Probe features', default: DEFAULT_PROBE_FEATURES, min: 1, max: 100000, step: 1, help: 'Wider layers are randomly projected to this many features before the ridge probe.' }),
    prefixDims: param.int({ url: 'dxd', label: 'Prefix features', default: DEFAULT_PREFIX_FEATURES, min: 1, max: 100000, step: 1, help: 'Feature budget of the prefix probe over layers 1..j.' }),
  },
  uses: { attack: true, layers: true },
  run(ctx, params, control, emit) {
    const spec = params.attack.eps > 0 ? attackSpecOf(params.attack) : null;
    return dependencyAnalysis(ctx, { n: params.n, layers: tappedLayers(ctx.models.a, params.layers), spec, probeFeatures: params.probeDims, prefixFeatures: params.prefixDims }, control, emit);
  },
  summarise(r: DependencyJobResult) {
    const f = (x: number | null | undefined) => (x === null || x === undefined ? '  n/a' : x.toFixed(3));
    const lines: string[] = [];
    for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      lines.push(`model ${name} (${r.n} samples${m.robustAccuracy === null ? '' : `, robust ${(100 * m.robustAccuracy).toFixed(2)}%`})`);
      lines.push(`  layer                 probe clean  probe adv  I(layer;y)  I(prev;layer|y)  prefix clean  prefix adv`);
      m.layers.forEach((l, i) => lines.push(`  ${l.layer.padEnd(22)}${f(l.probeHeldOutCleanAccuracy).padStart(10)}${f(l.probeHeldOutAdversarialAccuracy).padStart(11)}${f(l.labelMi).padStart(12)}${f(l.gaussianConditionalMiWithPrevious).padStart(17)}${f(m.prefix[i]?.cleanAccuracy).padStart(14)}${f(m.prefix[i]?.adversarialAccuracy).padStart(12)}`));
    }
    return lines.join('\n');
  },
});
