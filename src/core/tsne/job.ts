/**
 * Layerwise t-SNE job (issue #6; Valentim, Antunes & Lourenço, arXiv 2406.14073): per tapped
 * layer, a joint t-SNE of the clean and the adversarial activations of the same images, the
 * overlap metric on the embedding (spec tsne.md §3) with its attack-success-restricted
 * variant, the same metric in the 50-D PCA space as a baseline, and mean ± sd of the metric
 * over several cold-start seeds. Positions stream out every few iterations.
 *
 * Rows 0..n−1 are the clean images, rows n..2n−1 their adversarial partners (an explicit
 * index map is passed to the metric; spec §2.1).
 *
 * A TsneSession keeps each layer's embedding between jobs so that an ε change is a warm
 * start (spec §2.6): only the adversarial rows get new data and P rows, the clean points
 * keep their positions ('anchored' freezes them; 'joint' lets everything move).
 */
import { collectActivations } from '../analysis/activations';
import { runAttack } from '../attacks/runner';
import type { AttackSpec } from '../attacks/types';
import type { LabModel } from '../model/model';
import { deriveSeed } from '../random';
import { overlapAcrossSeeds, tsneOverlap, type OverlapResult } from '../tsne/overlap';
import { fitPca, projectPca, PCA_DEFAULT_COMPONENTS } from '../tsne/pca';
import { createTsne, type Tsne } from '../tsne/tsne';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { jobSample, subProgress, type Emit, type JobContext } from '../analyses/context';

export interface TsneJobParams {
  spec: AttackSpec;
  layers: string[];
  n: number;
  perplexity: number;
  iterations: number;
  /** Cold-start seeds for the metric's mean ± sd (spec: ≥ 3); seed 0's layout is shown. */
  seeds: number;
  mode: 'joint' | 'anchored';
  /** Iteration implementation (tsne.ts autoImpl for 'auto'): tfjs ops or typed arrays. */
  impl?: 'auto' | 'tfjs' | 'typed';
  /** Stream positions every this many iterations. */
  emitEvery?: number;
  /** Which model: the t-SNE view shows one model at a time (A or the compare model B). */
  which?: 'a' | 'b';
  /**
   * Positions of the shown embedding per layer (2n × 2), for a warm start when the worker no
   * longer holds the session (it was replaced, e.g. after a slow cancel).
   */
  warmFrom?: Record<string, Float32Array>;
}

export interface OverlapSummary {
  value: number | null;
  reason: string | null;
  successRestricted: number | null;
  count: number;
}

export interface LayerEmbedding {
  layer: string;
  /** 2n × 2 positions: clean rows then adversarial rows. */
  positions: Float32Array;
  iteration: number;
  totalIterations: number;
  kl: number;
  /** Which t-SNE implementation ran (tfjs ops or typed arrays; tsne.ts autoImpl). */
  impl?: 'tfjs' | 'typed';
  /** Overlap on the shown layout (seed 0). */
  overlap: OverlapSummary | null;
  /** Mean ± sd over the cold-start seeds (null until all seeds ran). */
  overlapSeeds: { mean: number | null; sd: number | null; n: number } | null;
  /** The metric in the 50-D PCA space (baseline, no t-SNE randomness). */
  overlapPca: OverlapSummary | null;
  /** 'cold', 'warm-joint' or 'warm-anchored': the UI says which a number came from. */
  start: 'cold' | 'warm-joint' | 'warm-anchored';
  done: boolean;
}

export interface TsneJobResult {
  which: 'a' | 'b';
  eps: number;
  indices: Int32Array;
  labels: Int32Array;
  cleanPred: Int32Array;
  advPred: Int32Array;
  layers: LayerEmbedding[];
}

function summary(r: OverlapResult): OverlapSummary {
  return { value: r.value, reason: r.reason, successRestricted: r.successRestricted?.value ?? null, count: r.count };
}

/** Layer embeddings kept between jobs for warm starts. Owned by the worker; dispose on model/data change. */
export class TsneSession {
  private key = '';
  private byLayer = new Map<string, Tsne>();

  /** Returns the kept embedding of `layer` when `key` (everything but ε) still matches. */
  take(key: string, layer: string): Tsne | null {
    if (key !== this.key) {
      this.dispose();
      this.key = key;
    }
    return this.byLayer.get(layer) ?? null;
  }

  keep(layer: string, tsne: Tsne): void {
    const old = this.byLayer.get(layer);
    if (old && old !== tsne) old.dispose();
    this.byLayer.set(layer, tsne);
  }

  dispose(): void {
    for (const t of this.byLayer.values()) t.dispose();
    this.byLayer.clear();
    this.key = '';
  }
}

function pcaRows(act: Float32Array, size: number, cleanRows: Int32Array, seed: number): { data: Float32Array; d: number } {
  const pca = fitPca(act, size, cleanRows, { nComponents: Math.min(PCA_DEFAULT_COMPONENTS, size), seed });
  return { data: projectPca(pca, act), d: pca.k };
}

export async function layerwiseTsne(
  ctx: JobContext,
  params: TsneJobParams,
  session: TsneSession | null,
  control: JobControl = {},
  emit: Emit<TsneJobResult> = () => undefined,
): Promise<TsneJobResult> {
  const which = params.which ?? 'a';
  const model: LabModel | null = which === 'a' ? ctx.models.a : ctx.models.b;
  if (!model) throw new LabError('no compare model loaded');
  if (!params.layers.length) throw new LabError('choose at least one layer');
  const emitEvery = Math.max(5, params.emitEvery ?? 25);
  const sample = jobSample(ctx.dataset, params.n, ctx.seed);
  const n = sample.labels.length;
  const total = params.layers.length;
  const attack = await runAttack(model.logits, sample, params.spec, { seed: ctx.seed }, subProgress(control, 0, total + 1, `${params.spec.attack} ε=${params.spec.eps}`));
  const clean = await collectActivations(model, sample.images, sample.shape, params.layers, { signal: control.signal });
  const adv = await collectActivations(model, attack.adversarial, sample.shape, params.layers, { signal: control.signal });
  const cleanRows = Int32Array.from({ length: n }, (_, i) => i);
  const advRows = Int32Array.from({ length: n }, (_, i) => n + i);
  const result: TsneJobResult = { which, eps: params.spec.eps, indices: sample.indices, labels: sample.labels, cleanPred: attack.cleanPred, advPred: attack.advPred, layers: [] };
  const metricInput = (points: Float32Array, dim: number) => ({ points, dim, cleanRows, advRows, labels: sample.labels, cleanPred: attack.cleanPred, advPred: attack.advPred });
  const { eps: _eps, ...specNoEps } = params.spec;
  const sessionKey = JSON.stringify({ model: which, n, seed: ctx.seed, spec: specNoEps, perplexity: params.perplexity, layers: params.layers, iterations: params.iterations });
  try {
    for (let l = 0; l < params.layers.length; l++) {
      const layer = params.layers[l];
      const size = model.layers.find((x) => x.name === layer)?.size ?? 0;
      const joint = new Float32Array(2 * n * size);
      joint.set(clean[l], 0);
      joint.set(adv[l], n * size);
      let nanRows = 0;
      for (let i = 0; i < joint.length; i++) if (!Number.isFinite(joint[i])) { joint[i] = 0; nanRows++; }
      if (nanRows) throw new LabError(`layer ${layer}: ${nanRows} non-finite activations; t-SNE needs finite values`);
      const { data, d } = pcaRows(joint, size, cleanRows, deriveSeed(ctx.seed, `pca:${layer}`));
      const entry: LayerEmbedding = {
        layer, positions: new Float32Array(4 * n), iteration: 0, totalIterations: params.iterations, kl: NaN,
        overlap: null, overlapSeeds: null, overlapPca: summary(tsneOverlap(metricInput(data, d))), start: 'cold', done: false,
      };
      result.layers.push(entry);
      const lp = subProgress(control, l + 1, total + 1, `layer ${layer}`);
      const kept = session?.take(sessionKey, layer) ?? null;
      let tsne: Tsne;
      let iterations = params.iterations;
      if (kept && kept.n === 2 * n) {
        // Warm start (spec §2.6): new adversarial rows, P recomputed for them only.
        tsne = kept;
        // Adversarial points start where they were (their previous-ε positions).
        await tsne.warmStart(advRows, data.subarray(n * d), { mode: params.mode });
        entry.start = params.mode === 'anchored' ? 'warm-anchored' : 'warm-joint';
        iterations = Math.max(50, Math.round(params.iterations / 3));
      } else if (params.warmFrom?.[layer]?.length === 4 * n) {
        // Same warm start from the positions the view still shows: P is rebuilt, every point
        // starts where it is on screen.
        tsne = await createTsne(data, 2 * n, d, { perplexity: params.perplexity, seed: deriveSeed(ctx.seed, `tsne:${layer}:0`), nIter: params.iterations, init: params.warmFrom[layer], impl: params.impl });
        await tsne.warmStart(advRows, data.subarray(n * d), { mode: params.mode });
        entry.start = params.mode === 'anchored' ? 'warm-anchored' : 'warm-joint';
        iterations = Math.max(50, Math.round(params.iterations / 3));
      } else {
        tsne = await createTsne(data, 2 * n, d, { perplexity: params.perplexity, seed: deriveSeed(ctx.seed, `tsne:${layer}:0`), nIter: params.iterations, initFitRows: cleanRows, impl: params.impl });
      }
      entry.totalIterations = iterations;
      try {
        for (let it = 0; it < iterations; it += emitEvery) {
          if (control.signal?.aborted) throw new JobCancelledError(result);
          const s = await tsne.step(Math.min(emitEvery, iterations - it));
          entry.positions = s.positions;
          entry.kl = s.kl;
          entry.impl = s.impl;
          entry.iteration = it + Math.min(emitEvery, iterations - it);
          lp.onProgress?.({ fraction: entry.iteration / iterations, message: `iteration ${entry.iteration}/${iterations}, KL ${s.kl.toFixed(3)}` });
          emit(result);
          await new Promise((r) => setTimeout(r, 0));
        }
      } catch (e) {
        if (!session) tsne.dispose();
        throw e;
      }
      entry.overlap = summary(tsneOverlap(metricInput(entry.positions, 2)));
      if (session) session.keep(layer, tsne);
      else tsne.dispose();
      // Mean ± sd of the metric over cold starts (spec §3: ≥ 3 seeds), seed 0 being the shown one
      // when it was a cold start.
      const values: (number | null)[] = entry.start === 'cold' ? [entry.overlap.value] : [];
      for (let s = entry.start === 'cold' ? 1 : 0; values.length < params.seeds; s++) {
        if (control.signal?.aborted) throw new JobCancelledError(result);
        // PCA init is deterministic, so every seed would give the same layout (sd 0): the extra
        // cold starts begin from seeded random layouts (spec §3: spread over seeds).
        const extra = await createTsne(data, 2 * n, d, { perplexity: params.perplexity, seed: deriveSeed(ctx.seed, `tsne:${layer}:${s}`), nIter: params.iterations, initFitRows: cleanRows, initMode: 'random', impl: params.impl });
        try {
          for (let it = 0; it < params.iterations; it += 50) {
            if (control.signal?.aborted) throw new JobCancelledError(result);
            await extra.step(Math.min(50, params.iterations - it));
            await new Promise((r) => setTimeout(r, 0));
          }
          values.push(tsneOverlap(metricInput(await extra.positions(), 2)).value);
        } finally {
          extra.dispose();
        }
        lp.onProgress?.({ fraction: 1, message: `seed ${s + 1}/${params.seeds}` });
      }
      entry.overlapSeeds = overlapAcrossSeeds(values);
      entry.done = true;
      emit(result);
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
