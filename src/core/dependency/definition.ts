/**
 * Layer dependency as an analysis (issue #9; Craig et al.): ridge probes clean vs attacked,
 * the prefix probes, and mutual information with the label and the previous layer.
 * The attack runs when ε > 0 (ε = 0: clean only), with the attack panel's values (the CLI's
 * attack flags and defaults; the command it replaced attacked only when given --attack).
 */
import { attackSpecOf } from '../attacks/spec';
import { attackCost, layerSizes, type Cost } from '../analyses/estimate';
import type { LabModel } from '../model/model';
import { defineAnalysis } from '../analyses/define';
import { tappedLayers } from '../analyses/context';
import { param } from '../schema';
import { dependencyAnalysis, type DependencyJobResult } from './job';
import { DEFAULT_PROBE_FEATURES } from './layers';
import { DEFAULT_PREFIX_FEATURES } from './prefix';

/** Calibration of the probes' operation count against timed default runs in Chromium on WASM (e2e/estimates.spec.ts; Node: bench/estimates.ts). */
const DEPENDENCY_OPS = 2.5;

export const dependencyDefinition = defineAnalysis({
  kind: 'dependency',
  title: 'Layer dependency',
  summary: 'held-out ridge probes and prefix probes per layer, mutual information with the label and the previous layer, clean vs attacked',
  schema: {
    n: param.int({ url: 'dn', label: 'Samples', default: 300, min: 50, max: 5000, step: 50, help: 'Probes train on 70% and are scored on the held-out 30%, clean and attacked.' }),
    probeDims: param.int({ url: 'dpd', label: 'Probe features', default: DEFAULT_PROBE_FEATURES, min: 1, max: 100000, step: 1, help: 'Wider layers are randomly projected to this many features before the ridge probe.' }),
    prefixDims: param.int({ url: 'dxd', label: 'Prefix features', default: DEFAULT_PREFIX_FEATURES, min: 1, max: 100000, step: 1, help: 'Feature budget of the prefix probe over layers 1..j.' }),
  },
  uses: { attack: true, layers: true },
  run(ctx, params, control, emit) {
    const spec = params.attack.eps > 0 ? attackSpecOf(params.attack) : null;
    return dependencyAnalysis(ctx, { n: params.n, layers: tappedLayers(ctx.models.a, params.layers), spec, probeFeatures: params.probeDims, prefixFeatures: params.prefixDims }, control, emit);
  },
  cost(ctx, params) {
    const n = Math.min(params.n, ctx.dataset.n);
    const spec = params.attack.eps > 0 ? attackSpecOf(params.attack) : null;
    const k = ctx.dataset.classNames.length;
    const cost: Cost = [];
    for (const which of ctx.models.b ? (['a', 'b'] as const) : (['a'] as const)) {
      const model = which === 'a' ? ctx.models.a : (ctx.models.b as LabModel);
      const sizes = layerSizes(model, tappedLayers(ctx.models.a, params.layers).filter((l) => model.layers.some((x) => x.name === l)));
      cost.push({ which, forwards: 2 * n }, ...(spec ? [attackCost(spec, n, k, which), { which, forwards: n }] : []));
      // Per layer: a ridge probe on p projected features (n·p² + p³, per fold and class), the
      // prefix probe on up to P features, and the MI estimates (n² per layer pair).
      let prefix = 0;
      for (const size of sizes) {
        const p = Math.min(size, params.probeDims);
        prefix = Math.min(prefix + size, params.prefixDims);
        const sets = spec ? 2 : 1;
        cost.push({ which, operations: DEPENDENCY_OPS * sets * (n * p * (p + k) + p * p * p + n * prefix * (prefix + k) + prefix ** 3 + n * n * 4) });
      }
    }
    return cost;
  },
  summarise(r: DependencyJobResult, params) {
    const f = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));
    const pair = (c: number | null | undefined, a: number | null | undefined) => `${f(c)}/${f(a)}`;
    const spec = params.attack.eps > 0 ? attackSpecOf(params.attack) : null;
    const lines: string[] = [`${r.n} samples (probes: 70% train, 30% held out), ${spec ? `clean/attacked by ${spec.attack} ${spec.norm} ε=${spec.eps}` : 'clean only (ε = 0)'}; MI in nats`];
    for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      lines.push(`model ${name}: clean ${(100 * m.cleanAccuracy).toFixed(1)}%${m.robustAccuracy === null ? '' : `, robust ${(100 * m.robustAccuracy).toFixed(1)}%`}`);
      lines.push(`  layer                 probe CV  held-out clean/adv  I(layer;y) clean/adv  I(prev;layer)  I(prev;layer|y)  Gauss I(prev;layer|y) clean/adv  prefix clean/adv`);
      m.layers.forEach((l, i) =>
        lines.push(
          `  ${l.layer.padEnd(20)}${f(l.probeCleanAccuracy).padStart(9)}${pair(l.probeHeldOutCleanAccuracy, l.probeHeldOutAdversarialAccuracy).padStart(20)}${pair(l.labelMi, l.labelMiAdversarial).padStart(22)}${f(l.miWithPrevious).padStart(15)}${f(l.conditionalMiWithPrevious).padStart(17)}${pair(l.gaussianConditionalMiWithPrevious, l.gaussianConditionalMiWithPreviousAdversarial).padStart(32)}${pair(m.prefix[i]?.cleanAccuracy, m.prefix[i]?.adversarialAccuracy).padStart(18)}`,
        ),
      );
    }
    return lines.join('\n');
  },
});
