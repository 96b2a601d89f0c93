/**
 * Logit analysis as an analysis (issue #9): max-logit and gap distributions clean vs
 * attacked, robustness binned by clean gap, error classes, AO@k, and the per-epoch ridgeline
 * of the zoo's training snapshots of A and B.
 */
import { attackSpecOf } from '../attacks/spec';
import { defineAnalysis } from '../analyses/define';
import type { LabModel } from '../model/model';
import { param } from '../schema';
import { logitAnalysis, type LogitsJobResult, type SnapshotModel } from './job';

export const logitsDefinition = defineAnalysis({
  kind: 'logits',
  title: 'Logits',
  summary: 'max-logit and logit-gap distributions clean vs attacked, robustness by gap, error classes, AO@k, per-epoch ridgeline',
  schema: {
    n: param.int({ url: 'ln', label: 'Samples', default: 500, min: 20, max: 10000, step: 10 }),
    underAttack: param.int({ url: 'latt', label: 'Under attack', default: 1, min: 0, max: 1, step: 1, help: '1 = also the distributions under the chosen attack at the current ε; 0 = clean only.' }),
    epochs: param.int({ url: 'lep', label: 'Epochs', default: 1, min: 0, max: 1, step: 1, help: '1 = include the zoo’s training snapshots of model A (ridgeline per epoch), when it has them.' }),
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
  summarise(r: LogitsJobResult) {
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
    const lines: string[] = [];
    for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      lines.push(`model ${name}: clean ${pct(m.cleanAccuracy)}, robust ${pct(m.robustAccuracy)}, ${m.errorCount} clean errors`);
    }
    return lines.join('\n');
  },
});
