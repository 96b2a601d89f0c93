/** The robustness curve as an analysis (issue #5): one attack over an ε ladder, model A and B. */
import { attackSpecOf } from '../attacks/spec';
import { attackCost } from '../analyses/estimate';
import type { Norm } from '../attacks/common';
import { CURVE_LADDER_POINTS, threatModel, type ImageShape } from '../attacks/threat';
import { defineAnalysis } from '../analyses/define';
import { param } from '../schema';
import { robustnessCurve, type CurveResult } from './curve';

/**
 * The ladder: the given ε values, or the threat model's own ladder (core/attacks/threat.ts):
 * CURVE_LADDER_POINTS evenly spaced radii from 0 past the standard radius of the data family and
 * norm (MNIST L∞ to 0.4, L2 to 4; CIFAR-10 L∞ to 16/255, L2 to 2). It does not follow the current
 * ε: a ladder relative to ε ran 0.75 and 1.0 L∞ at ε = 0.5, radii that mean nothing for [0, 1] images.
 */
export function curveLadder(explicit: number[], norm: Norm, shape: ImageShape): number[] {
  if (explicit.length) return explicit;
  return threatModel(shape, norm).ladder;
}

export const curveDefinition = defineAnalysis({
  kind: 'curve',
  title: 'Robustness curve',
  summary: 'robust accuracy over an ε ladder, per-sample broken-at ε by class, gradient-masking checks',
  schema: {
    ladder: param.numbers({ url: 'ceps', flag: 'ladder', label: 'ε ladder', default: [], min: 0, help: `Comma list of ε; empty = the threat model's ladder: ${CURVE_LADDER_POINTS} evenly spaced ε from 0 (MNIST L∞ to 0.4, L2 to 4; CIFAR-10 L∞ to 16/255, L2 to 2).` }),
    n: param.int({ url: 'cn', label: 'Samples', default: 60, min: 10, max: 2000, step: 10, help: 'Class-balanced samples for the curve (master seed).' }),
  },
  // The ladder replaces the panel's ε: a new ε on the slider leaves the curve as it is.
  uses: { attack: true, eps: false },
  run(ctx, params, control, emit) {
    const { eps: _eps, ...spec } = attackSpecOf(params.attack);
    return robustnessCurve(ctx, { spec, epsList: curveLadder(params.ladder, params.attack.norm as Norm, ctx.dataset), n: params.n }, control, emit);
  },
  cost(ctx, params) {
    const { eps: _eps, ...spec } = attackSpecOf(params.attack);
    const n = Math.min(params.n, ctx.dataset.n);
    const models = ctx.models.b ? (['a', 'b'] as const) : (['a'] as const);
    return models.flatMap((which) => curveLadder(params.ladder, params.attack.norm as Norm, ctx.dataset).map((eps) => attackCost({ ...spec, eps }, n, ctx.dataset.classNames.length, which)));
  },
  summarise(r: CurveResult) {
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const lines = [`${r.spec.attack} ${r.spec.norm} robustness curve on ${r.labels.length} samples`];
    for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      lines.push(`model ${name}:`);
      for (const p of m.points) lines.push(`  ε ${String(p.eps).padEnd(8)} clean ${pct(p.cleanAccuracy)}  robust ${pct(p.robustAccuracy)}`);
      for (const w of m.warnings) lines.push(`  warning: ${w}`);
    }
    return lines.join('\n');
  },
});
