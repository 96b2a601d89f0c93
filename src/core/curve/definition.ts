/** The robustness curve as an analysis (issue #5): one attack over an ε ladder, model A and B. */
import { attackSpecOf } from '../attacks/spec';
import { attackCost } from '../analyses/estimate';
import { defineAnalysis } from '../analyses/define';
import { param, type AttackValues } from '../schema';
import { robustnessCurve, type CurveResult } from './curve';

/** The ladder: the given ε values, or 0, ¼, ½, 1, 1.5, 2 and 3 times the attack panel's ε (L∞ capped at 1). */
export function curveLadder(explicit: number[], attack: AttackValues): number[] {
  if (explicit.length) return explicit;
  const max = attack.norm === 'linf' ? 1 : 50;
  return [...new Set([0, 0.25, 0.5, 1, 1.5, 2, 3].map((f) => Math.min(max, +(f * attack.eps).toPrecision(4))))];
}

export const curveDefinition = defineAnalysis({
  kind: 'curve',
  title: 'Robustness curve',
  summary: 'robust accuracy over an ε ladder, per-sample broken-at ε by class, gradient-masking checks',
  schema: {
    ladder: param.numbers({ url: 'ceps', flag: 'ladder', label: 'ε ladder', default: [], min: 0, help: 'Comma list of ε; empty = 0, ¼, ½, 1, 1.5, 2 and 3 times the current ε.' }),
    n: param.int({ url: 'cn', label: 'Samples', default: 100, min: 10, max: 2000, step: 10, help: 'Class-balanced samples for the curve (master seed).' }),
  },
  uses: { attack: true },
  run(ctx, params, control, emit) {
    const { eps: _eps, ...spec } = attackSpecOf(params.attack);
    return robustnessCurve(ctx, { spec, epsList: curveLadder(params.ladder, params.attack), n: params.n }, control, emit);
  },
  cost(ctx, params) {
    const { eps: _eps, ...spec } = attackSpecOf(params.attack);
    const n = Math.min(params.n, ctx.dataset.n);
    const models = ctx.models.b ? (['a', 'b'] as const) : (['a'] as const);
    return models.flatMap((which) => curveLadder(params.ladder, params.attack).map((eps) => attackCost({ ...spec, eps }, n, ctx.dataset.classNames.length, which)));
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
