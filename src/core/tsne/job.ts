/**
 * Layerwise t-SNE job (issue #6; Valentim, Antunes & Lourenço, arXiv 2406.14073): per tapped
 * layer, a joint t-SNE of the clean and the adversarial activations of the same images, the
 * overlap metric on the embedding (spec tsne.md §3) with its attack-success-restricted
 * variant, the same metric in the 50-D PCA space as a baseline, and mean ± sd of the metric
 * over several cold-start seeds. Positions stream out every few iterations.
 *
 * Rows 0..n−1 are the clean images, rows n..2n−1 their adversarial partners (an explicit
 * index map is passed to the metric; spec §2.1). The PCA basis is fitted on the clean rows
 * only (so it does not move with ε) and keeps at most min(50, layer size, n − 1) components:
 * beyond the clean rows' rank the components would be an arbitrary basis of their null space.
 *
 * Seeds (one rule for the lab and `layerwise tsne`, issue #20): seed s of layer L runs with
 * deriveSeed(master, `tsne:L:s`). Seed 0 is the layout shown and starts from the PCA of the
 * clean rows (`init: 'pca'`, spec §2.5) or from a seeded random layout (`init: 'random'`);
 * seeds 1.. always start from seeded random layouts, since a PCA start is deterministic and
 * would repeat seed 0's layout (sd 0 by construction).
 *
 * A TsneSession keeps each layer's embedding between jobs so that an ε change is a warm
 * start (spec §2.6): only the adversarial rows get new data and P rows, the clean points
 * keep their positions ('anchored' freezes them; 'joint' lets everything move).
 */
import { collectActivations } from '../analysis/activations';
import type { AttackSpec } from '../attacks/types';
import type { LabModel } from '../model/model';
import { deriveSeed } from '../random';
import { overlapAcrossSeeds, tsneOverlap, type OverlapResult } from '../tsne/overlap';
import { fitPca, projectPca, PCA_DEFAULT_COMPONENTS } from '../tsne/pca';
import { createTsne, type Tsne, type TsneEngine } from '../tsne/tsne';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { attackSample, jobSample, subProgress, type Emit, type JobContext } from '../analyses/context';

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
  /** Repulsion engine (tsne.ts; 'auto' = exact up to its crossover, FFT above). */
  engine?: 'auto' | TsneEngine;
  /** Start of seed 0's cold run: PCA of the clean rows (default) or a seeded random layout. */
  init?: 'pca' | 'random';
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
  /** The attack-success-restricted variant (i ∈ S whose attack succeeded); null when that set is empty. */
  successRestricted: number | null;
  /** |S|: correctly classified clean images. */
  count: number;
  /** |S ∩ successful attacks|, the restricted variant's denominator. */
  successCount: number;
}

/** Mean ± sd of a metric over seeds, with the per-seed values (null = undefined for that seed). */
export interface SeedStats {
  mean: number | null;
  sd: number | null;
  /** Seeds with a defined value. */
  n: number;
  values: (number | null)[];
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
  /** Which repulsion engine ran (exact or FFT; resolved from 'auto'). */
  engine?: TsneEngine;
  /** Components of the PCA space the t-SNE and the baseline metric run in. */
  pcaDims: number;
  /** Overlap on the shown layout (seed 0). */
  overlap: OverlapSummary | null;
  /**
   * Mean ± sd over the cold-start seeds, with the per-seed values and the same for the
   * attack-success-restricted variant (null until all seeds ran).
   */
  overlapSeeds: (SeedStats & { successRestricted: SeedStats }) | null;
  /** The metric in the 50-D PCA space (baseline, no t-SNE randomness). */
  overlapPca: OverlapSummary | null;
  /** 'cold', 'warm-joint' or 'warm-anchored': the UI says which a number came from. */
  start: 'cold' | 'warm-joint' | 'warm-anchored';
  done: boolean;
}

export interface TsneJobResult {
  which: 'a' | 'b';
  eps: number;
  /** Accuracy of the shown model on the sample, clean and under the attack. */
  cleanAccuracy: number;
  robustAccuracy: number;
  /** Seed 0's start ('pca' or 'random'); the other seeds start from random layouts. */
  init: 'pca' | 'random';
  indices: Int32Array;
  labels: Int32Array;
  cleanPred: Int32Array;
  advPred: Int32Array;
  layers: LayerEmbedding[];
}

function summary(r: OverlapResult): OverlapSummary {
  return { value: r.value, reason: r.reason, successRestricted: r.successRestricted?.value ?? null, count: r.count, successCount: r.successRestricted?.count ?? 0 };
}

function seedStats(values: (number | null)[]): SeedStats {
  return { ...overlapAcrossSeeds(values), values };
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
  const pca = fitPca(act, size, cleanRows, { nComponents: Math.max(1, Math.min(PCA_DEFAULT_COMPONENTS, size, cleanRows.length - 1)), seed });
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
  const attack = await attackSample(ctx, which, sample, params.spec, subProgress(control, 0, total + 1, `${params.spec.attack} ε=${params.spec.eps}`));
  const clean = await collectActivations(model, sample.images, sample.shape, params.layers, { signal: control.signal });
  const adv = await collectActivations(model, attack.adversarial, sample.shape, params.layers, { signal: control.signal });
  const cleanRows = Int32Array.from({ length: n }, (_, i) => i);
  const advRows = Int32Array.from({ length: n }, (_, i) => n + i);
  const init = params.init ?? 'pca';
  const engine = params.engine ?? 'auto';
  const result: TsneJobResult = {
    which, eps: params.spec.eps, cleanAccuracy: attack.cleanAccuracy, robustAccuracy: attack.robustAccuracy, init,
    indices: sample.indices, labels: sample.labels, cleanPred: attack.cleanPred, advPred: attack.advPred, layers: [],
  };
  const metricInput = (points: Float32Array, dim: number) => ({ points, dim, cleanRows, advRows, labels: sample.labels, cleanPred: attack.cleanPred, advPred: attack.advPred });
  const { eps: _eps, ...specNoEps } = params.spec;
  const sessionKey = JSON.stringify({ model: which, n, seed: ctx.seed, spec: specNoEps, perplexity: params.perplexity, layers: params.layers, iterations: params.iterations, engine, init });
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
        layer, positions: new Float32Array(4 * n), iteration: 0, totalIterations: params.iterations, kl: NaN, pcaDims: d,
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
        tsne = await createTsne(data, 2 * n, d, { perplexity: params.perplexity, seed: deriveSeed(ctx.seed, `tsne:${layer}:0`), nIter: params.iterations, init: params.warmFrom[layer], impl: params.impl, engine });
        await tsne.warmStart(advRows, data.subarray(n * d), { mode: params.mode });
        entry.start = params.mode === 'anchored' ? 'warm-anchored' : 'warm-joint';
        iterations = Math.max(50, Math.round(params.iterations / 3));
      } else {
        tsne = await createTsne(data, 2 * n, d, { perplexity: params.perplexity, seed: deriveSeed(ctx.seed, `tsne:${layer}:0`), nIter: params.iterations, initFitRows: cleanRows, initMode: init, impl: params.impl, engine });
      }
      entry.totalIterations = iterations;
      try {
        for (let it = 0; it < iterations; it += emitEvery) {
          if (control.signal?.aborted) throw new JobCancelledError(result);
          const s = await tsne.step(Math.min(emitEvery, iterations - it));
          entry.positions = s.positions;
          entry.kl = s.kl;
          entry.impl = s.impl;
          entry.engine = s.engine;
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
      const success: (number | null)[] = entry.start === 'cold' ? [entry.overlap.successRestricted] : [];
      for (let s = entry.start === 'cold' ? 1 : 0; values.length < params.seeds; s++) {
        if (control.signal?.aborted) throw new JobCancelledError(result);
        // PCA init is deterministic, so every seed would give the same layout (sd 0): the extra
        // cold starts begin from seeded random layouts (spec §3: spread over seeds).
        const extra = await createTsne(data, 2 * n, d, { perplexity: params.perplexity, seed: deriveSeed(ctx.seed, `tsne:${layer}:${s}`), nIter: params.iterations, initFitRows: cleanRows, initMode: 'random', impl: params.impl, engine });
        try {
          for (let it = 0; it < params.iterations; it += 50) {
            if (control.signal?.aborted) throw new JobCancelledError(result);
            await extra.step(Math.min(50, params.iterations - it));
            await new Promise((r) => setTimeout(r, 0));
          }
          const o = tsneOverlap(metricInput(await extra.positions(), 2));
          values.push(o.value);
          success.push(o.successRestricted?.value ?? null);
        } finally {
          extra.dispose();
        }
        lp.onProgress?.({ fraction: 1, message: `seed ${s + 1}/${params.seeds}` });
      }
      entry.overlapSeeds = { ...seedStats(values), successRestricted: seedStats(success) };
      entry.done = true;
      emit(result);
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
