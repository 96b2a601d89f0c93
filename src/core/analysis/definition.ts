/**
 * The ε slice (the lab's main view): attack the strip's sample at one ε, then measure how far
 * each tapped layer's representation moved (shift.ts). The lab runs it per slider position
 * (an FGSM preview while dragging, the chosen attack on release) and keeps a ladder of ε
 * values; `layerwise slice` prints the same numbers.
 */
import { attackSpecOf } from '../attacks/spec';
import { attackCost } from '../analyses/estimate';
import { defineAnalysis } from '../analyses/define';
import { attackSample, jobSample, subProgress, tappedLayers } from '../analyses/context';
import { param } from '../schema';
import { JobCancelledError } from '../types';
import type { AttackSpec } from '../attacks/types';
import type { LayerShift } from './shift';
import { runSlice } from './slice';

export interface SliceModelResult {
  spec: AttackSpec & { stepSize: number };
  adversarial: Float32Array;
  advPred: Int32Array;
  advConfidence: Float32Array;
  cleanPred: Int32Array;
  success: Uint8Array;
  linf: Float32Array;
  l2: Float32Array;
  firstSuccessStep: Int32Array;
  /** Attacked samples left with an exactly zero input gradient or unperturbed. */
  zeroGradient: number;
  cleanAccuracy: number;
  robustAccuracy: number;
  shifts: LayerShift[];
}

export interface SliceAnalysisResult {
  eps: number;
  indices: Int32Array;
  labels: Int32Array;
  a: SliceModelResult;
  /** Model B on the same samples and random choices (compare mode, unless `models` is 'a'). */
  b: SliceModelResult | null;
}

export const sliceDefinition = defineAnalysis({
  kind: 'slice',
  title: 'Layer shift',
  summary: 'attack the sample at one ε and measure each layer’s relative representation shift',
  cliAliases: ['shift'],
  schema: {
    models: param.select({
      url: 'sm', label: 'Models', default: 'both', control: false,
      options: [{ value: 'both', label: 'A and, in compare mode, B' }, { value: 'a', label: 'A only (the slider preview)' }],
      help: 'Whether compare mode also runs model B.',
    }),
  },
  uses: { attack: true, layers: true, sample: true },
  transfer: true,
  async run(ctx, params, control) {
    const sample = jobSample(ctx.dataset, params.sampleSize, ctx.seed);
    const spec = attackSpecOf(params.attack);
    const models = ctx.models.b && params.models === 'both' ? (['a', 'b'] as const) : (['a'] as const);
    const result: Partial<SliceAnalysisResult> = { eps: spec.eps, indices: sample.indices, labels: sample.labels, a: undefined, b: null };
    try {
      for (let m = 0; m < models.length; m++) {
        const which = models[m];
        const model = which === 'a' ? ctx.models.a : (ctx.models.b as NonNullable<typeof ctx.models.b>);
        // In compare mode the layers were picked on A: say it is B that lacks one, and the way out.
        const layers = tappedLayers(model, params.layers, models.length > 1 ? `model ${which.toUpperCase()} (${which === 'a' ? ctx.modelIds.a : ctx.modelIds.b})` : 'model');
        const r = await runSlice(model, sample, spec, layers, ctx.seed, subProgress(control, m, models.length, models.length > 1 ? `model ${which.toUpperCase()}` : ''), (_x, s, c) =>
          attackSample(ctx, which, sample, s, c),
        );
        const a = r.attack;
        result[which] = {
          spec: a.spec, adversarial: a.adversarial, advPred: a.advPred, advConfidence: a.advConfidence, cleanPred: a.cleanPred,
          success: a.success, linf: a.linf, l2: a.l2, firstSuccessStep: a.firstSuccessStep,
          zeroGradient: a.zeroGradient.reduce((s, x) => s + x, 0), cleanAccuracy: a.cleanAccuracy, robustAccuracy: a.robustAccuracy, shifts: r.shifts,
        };
      }
    } catch (e) {
      if (e instanceof JobCancelledError) throw new JobCancelledError(result);
      throw e;
    }
    return result as SliceAnalysisResult;
  },
  cost(ctx, params) {
    const spec = attackSpecOf(params.attack);
    const n = Math.min(params.sampleSize, ctx.dataset.n);
    const models = ctx.models.b && params.models === 'both' ? (['a', 'b'] as const) : (['a'] as const);
    return models.flatMap((which) => [attackCost(spec, n, ctx.dataset.classNames.length, which), { which, forwards: 2 * n }]);
  },
  summarise(r) {
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const lines = [`${r.a.spec.attack} ${r.a.spec.norm} ε=${r.eps} on ${r.indices.length} samples`];
    for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      lines.push(`model ${name}: clean ${pct(m.cleanAccuracy)}, robust ${pct(m.robustAccuracy)}${m.zeroGradient ? `, ${m.zeroGradient} samples with a zero gradient` : ''}`);
      lines.push(`  layer                          mean shift   median   q25–q75`);
      for (const s of m.shifts) lines.push(`  ${s.layer.padEnd(30)} ${s.mean.toFixed(4).padStart(10)} ${s.median.toFixed(4).padStart(8)}   ${s.q25.toFixed(4)}–${s.q75.toFixed(4)}`);
    }
    return lines.join('\n');
  },
});
