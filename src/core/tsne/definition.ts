/**
 * Layerwise t-SNE and the overlap metric as an analysis (issue #6; Valentim, Antunes &
 * Lourenço, arXiv 2406.14073). The lab streams positions and warm-starts on ε changes (the
 * session kept by the host); `layerwise tsne --model …` (alias `overlap`) prints the same
 * overlap numbers. The fixture form `layerwise tsne --input X.f32` stays a CLI tool.
 */
import { attackSpecOf } from '../attacks/spec';
import { attackCost, layerSizes, type Cost } from '../analyses/estimate';
import type { LabModel } from '../model/model';
import { defineAnalysis } from '../analyses/define';
import { tappedLayers } from '../analyses/context';
import { param } from '../schema';
import { LabError } from '../types';
import { layerwiseTsne, TsneSession, type SeedStats, type TsneJobResult } from './job';

/** Calibration of the t-SNE operation count against timed default runs in Chromium on WASM (e2e/estimates.spec.ts; Node: bench/estimates.ts). */
const TSNE_PCA_DIMS = 50;
const TSNE_OPS_PER_POINT_ITERATION = 3200;

export const tsneDefinition = defineAnalysis({
  kind: 'tsne',
  title: 't-SNE',
  summary: 'joint t-SNE of clean and adversarial activations per layer, the overlap metric (mean ± sd over seeds, PCA baseline)',
  cliAliases: ['overlap'],
  schema: {
    n: param.int({ url: 'tn', label: 'Images', default: 200, min: 20, max: 5000, step: 10, help: 'Clean images per layer; the embedding has twice as many points (clean + adversarial).' }),
    perplexity: param.number({ url: 'perp', label: 'Perplexity', default: 30, min: 2, max: 100, step: 1 }),
    iterations: param.int({ url: 'titer', flag: 'iters', label: 'Iterations', default: 750, min: 50, max: 5000, step: 50, help: '250 early-exaggeration iterations, the rest plain (openTSNE defaults).' }),
    seeds: param.int({ url: 'tseeds', label: 'Seeds', default: 3, min: 1, max: 10, step: 1, help: 'Cold starts for the overlap metric’s mean ± sd (spec: ≥ 3).' }),
    mode: param.select({ url: 'tmode', label: 'Warm start', default: 'joint', options: [{ value: 'joint', label: 'joint (all points move; the metric)' }, { value: 'anchored', label: 'anchored (clean frozen; calm)' }] }),
    impl: param.select({ url: 'timpl', label: 'Implementation', default: 'auto', options: [{ value: 'auto', label: 'auto (GPU ops on a hardware GPU, else typed arrays)' }, { value: 'tfjs', label: 'GPU ops (tfjs, any backend)' }, { value: 'typed', label: 'typed arrays (CPU, in the worker)' }] }),
    engine: param.select({
      url: 'teng', label: 'Repulsion', default: 'auto',
      options: [{ value: 'auto', label: 'auto (exact for small N, FFT above)' }, { value: 'exact', label: 'exact (all pairs)' }, { value: 'fft', label: 'FFT-interpolated (FIt-SNE)' }],
      help: 'How the t-SNE repulsion is computed; which one ran is reported per layer.',
    }),
    init: param.select({
      url: 'tinit', label: 'First seed starts from', default: 'pca',
      options: [{ value: 'pca', label: 'PCA of the clean points' }, { value: 'random', label: 'a seeded random layout' }],
      help: 'The start of seed 0 (the layout shown); the other seeds always start from seeded random layouts.',
    }),
    model: param.select({ url: 'tmodel', flag: 'which', label: 'Model', default: 'a', options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B (compare)' }] }),
  },
  uses: { attack: true, layers: true },
  run(ctx, params, control, emit) {
    const which = params.model === 'b' && ctx.models.b ? 'b' : 'a';
    const model = which === 'b' ? ctx.models.b : ctx.models.a;
    if (!model) throw new LabError('no compare model loaded');
    const session = ctx.resources.session('tsne', () => new TsneSession());
    const warmFrom = (ctx.carry as { warmFrom?: Record<string, Float32Array> } | undefined)?.warmFrom;
    return layerwiseTsne(
      ctx,
      {
        spec: attackSpecOf(params.attack), layers: tappedLayers(model, params.layers), n: params.n, perplexity: params.perplexity, iterations: params.iterations, seeds: params.seeds,
        mode: params.mode, impl: params.impl, engine: params.engine, init: params.init, which, warmFrom,
      },
      session,
      control,
      emit,
    );
  },
  cost(ctx, params) {
    const which = params.model === 'b' && ctx.models.b ? 'b' : 'a';
    const model = (which === 'b' ? ctx.models.b : ctx.models.a) as LabModel;
    const n = Math.min(params.n, ctx.dataset.n);
    const points = 2 * n;
    const cost: Cost = [attackCost(attackSpecOf(params.attack), n, ctx.dataset.classNames.length, which), { which, forwards: 2 * n }];
    // Per layer: exact neighbours on the (PCA-reduced) activations, then per seed the
    // gradient iterations over the points' neighbour lists and the repulsion.
    for (const size of layerSizes(model, tappedLayers(model, params.layers))) {
      cost.push({ which, operations: points * points * Math.min(size, TSNE_PCA_DIMS) + params.seeds * params.iterations * points * TSNE_OPS_PER_POINT_ITERATION });
    }
    return cost;
  },
  summarise(r: TsneJobResult, params) {
    const f = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
    const ms = (s: SeedStats | undefined) => (!s || s.mean === null ? 'n/a' : `${f(s.mean)} ± ${f(s.sd)}`);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const spec = attackSpecOf(params.attack);
    return [
      `t-SNE overlap of model ${r.which.toUpperCase()}, ${spec.attack} ${spec.norm} ε=${r.eps} (${r.indices.length} images, ${params.seeds} seeds, seed 0 from ${r.init === 'pca' ? 'PCA' : 'a random layout'}): clean ${pct(r.cleanAccuracy)}, robust ${pct(r.robustAccuracy)}`,
      `layer                   |S|  seed 0   mean ± sd over seeds  success-only (|S∩succ|)   PCA overlap (dims)  engine`,
      ...r.layers.map((l) =>
        [
          l.layer.padEnd(22),
          String(l.overlapPca?.count ?? 0).padStart(5),
          f(l.overlap?.value).padStart(8),
          `   ${ms(l.overlapSeeds ?? undefined)}`.padEnd(22),
          `${ms(l.overlapSeeds?.successRestricted)} (${l.overlapPca?.successCount ?? 0})`.padEnd(25),
          `${f(l.overlapPca?.value)} (${l.pcaDims})`.padStart(18),
          `  ${l.engine ?? 'n/a'}${l.start === 'cold' ? '' : ` (${l.start})`}`,
        ].join(' '),
      ),
    ].join('\n');
  },
});
