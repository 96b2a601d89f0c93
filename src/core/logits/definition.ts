/**
 * Logit analysis as an analysis (issue #9): max-logit and gap distributions clean vs
 * attacked, robustness binned by clean gap, error classes, AO@k, and the per-epoch ridgeline
 * of the zoo's training snapshots of A and B.
 */
import { attackSpecOf } from '../attacks/spec';
import { attackCost, type Cost } from '../analyses/estimate';
import { defineAnalysis } from '../analyses/define';
import type { LabModel } from '../model/model';
import { param } from '../schema';
import type { Histogram } from './summary';
import { logitAnalysis, type LogitsJobResult, type SnapshotModel } from './job';

export const logitsDefinition = defineAnalysis({
  kind: 'logits',
  title: 'Logits',
  summary: 'max-logit and logit-gap distributions clean vs attacked, robustness by gap, error classes, AO@k, per-epoch ridgeline',
  schema: {
    n: param.int({ url: 'ln', label: 'Samples', default: 300, min: 20, max: 10000, step: 10 }),
    underAttack: param.int({ url: 'latt', label: 'Under attack', default: 1, min: 0, max: 1, step: 1, help: '1 = also the distributions under the chosen attack at the current ε; 0 = clean only.' }),
    epochs: param.int({ url: 'lep', label: 'Epochs', default: 1, min: 0, max: 1, step: 1, help: '1 = include the zoo’s training snapshots of models A and B (ridgeline per epoch), when it has them; 0 = none.' }),
  },
  uses: { attack: true },
  async run(ctx, params, control, emit) {
    // Training snapshots of A and of B where the zoo ships them (the seed's Figure 1 sets ST and
    // AT side by side); with snapshots, the model itself is the last row (its final epoch).
    const zoo = params.epochs ? await ctx.resources.zoo() : [];
    const entryOf = (id: string | null) => (id ? zoo.find((z) => z.id === id) : undefined);
    const entries = { a: entryOf(ctx.modelIds.a), b: ctx.models.b ? entryOf(ctx.modelIds.b) : undefined };
    const loaded: SnapshotModel[] = [];
    try {
      for (const which of ['a', 'b'] as const) {
        for (const s of entries[which]?.snapshots ?? []) loaded.push({ epoch: s.epoch, which, model: (await ctx.resources.openModel(s.id)) as LabModel });
      }
      const finalEpochs = { a: entries.a?.snapshots?.length ? entries.a.epochs : undefined, b: entries.b?.snapshots?.length ? entries.b.epochs : undefined };
      return await logitAnalysis(ctx, { n: params.n, spec: params.underAttack ? attackSpecOf(params.attack) : null, bins: 30, finalEpochs }, loaded, control, emit);
    } finally {
      for (const s of loaded) s.model.dispose();
    }
  },
  async cost(ctx, params) {
    const n = Math.min(params.n, ctx.dataset.n);
    const zoo = params.epochs ? await ctx.resources.zoo() : [];
    const cost: Cost = [];
    for (const which of ctx.models.b ? (['a', 'b'] as const) : (['a'] as const)) {
      cost.push({ which, forwards: n });
      if (params.underAttack) cost.push(attackCost(attackSpecOf(params.attack), n, ctx.dataset.classNames.length, which), { which, forwards: n });
      const snapshots = zoo.find((z) => z.id === ctx.modelIds[which])?.snapshots?.length ?? 0;
      // A snapshot is another model of the same architecture: loading it costs about a forward pass of the sample.
      cost.push({ which, forwards: snapshots * 2 * n });
    }
    return cost;
  },
  summarise(r: LogitsJobResult, params) {
    const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
    const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    const dist = (d: { maxLogit: Histogram; gap: Histogram; confidence: Histogram }) => `max logit ${f(d.maxLogit.mean)} (skew ${f(d.maxLogit.skewness)}), gap ${f(d.gap.mean)} (skew ${f(d.gap.skewness)}), confidence ${f(d.confidence.mean)}`;
    const spec = params.underAttack ? attackSpecOf(params.attack) : null;
    const lines: string[] = [`${r.n} samples, ${spec ? `under ${spec.attack} ${spec.norm} ε=${spec.eps}` : 'clean only'} (means over the samples)`];
    for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      lines.push(`model ${name}: clean ${pct(m.cleanAccuracy)}${m.robustAccuracy === null ? '' : `, robust ${pct(m.robustAccuracy)}`}, ${m.errorCount} clean error${m.errorCount === 1 ? '' : 's'}`);
      lines.push(`  clean:    ${dist(m.clean)}`);
      if (m.adversarial) lines.push(`  attacked: ${dist(m.adversarial)}`);
      if (m.robustByGap) lines.push(`  robust accuracy by clean gap: ${m.robustByGap.filter((b) => b.count > 0).map((b) => `${f(b.low, 1)}–${f(b.high, 1)} ${pct(b.accuracy)} of ${b.count}`).join(', ')}`);
      if (m.errorCount > 0) lines.push(`  clean errors on the k-th likeliest other class: ${Array.from(m.errorClasses.subarray(0, 3), (x, k) => `k=${k + 1} ${pct(x)}`).join(', ')}`);
    }
    if (r.compare) {
      const at = (xs: Float64Array) => [1, 3, 5, xs.length].filter((k, i, all) => k <= xs.length && all.indexOf(k) === i).map((k) => `@${k} ${f(xs[k - 1], 3)}`).join(' ');
      lines.push(`A vs B: far-rank fraction ${f(r.compare.fractionFar, 3)}; AO ${at(r.compare.aok)}, within-class permuted ${at(r.compare.aokControl)}`);
      lines.push(`  without the true label: AO ${at(r.compare.aokExcludingLabel)}, permuted ${at(r.compare.aokExcludingLabelControl)}`);
    }
    for (const e of r.epochs ?? []) {
      lines.push(`epochs of model ${e.model}: ${e.summaries.epochs.map((x) => `${x.epoch}: max logit ${f(x.maxLogit.mean)}, gap ${f(x.gap.mean)}`).join('; ')}`);
    }
    return lines.join('\n');
  },
});
