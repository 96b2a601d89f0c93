/**
 * The per-layer t-SNE overlap of specs/tsne.md §3 (Valentim, Antunes & Lourenço, arXiv
 * 2406.14073) from raw layer activations, as the CLI and the lab report it:
 *  - rows: clean 0..M−1, adversarial M..2M−1 with an explicit pair map (spec §2.1);
 *  - PCA to ≤ 50 dims fitted on the clean rows only, applied to all rows (§2.1);
 *  - the metric in that PCA space (no t-SNE) as the baseline of §3 (b);
 *  - a joint t-SNE per seed (cold starts, seeds derived from the master seed), the metric and
 *    its attack-success-restricted variant on each, mean ± sd over the seeds (§3).
 */
import { LabError, type JobControl } from '../types';
import { deriveSeed } from '../random';
import { fitPca, projectPca, PCA_DEFAULT_COMPONENTS } from './pca';
import { overlapAcrossSeeds, tsneOverlap, type OverlapValue } from './overlap';
import { runTsne, type TsneEngine, type TsneOptions } from './tsne';

export interface LayerOverlapInput {
  /** Clean activations, M × size (row-major). */
  clean: Float32Array;
  /** Adversarial activations of the same M images, M × size. */
  adversarial: Float32Array;
  size: number;
  labels: Int32Array;
  cleanPred: Int32Array;
  advPred: Int32Array;
}

export interface LayerOverlapOptions {
  /** Number of cold-start seeds (spec: ≥ 3). */
  seeds?: number;
  seed?: number;
  /** t-SNE options (perplexity, nIter, engine, ...); seed and init are set per run. */
  tsne?: Omit<TsneOptions, 'seed' | 'init' | 'initFitRows'>;
  pcaComponents?: number;
  /**
   * Cold-start init per seed: 'random' (default) so seeds give different layouts and the sd
   * measures t-SNE's stochasticity; 'pca' is deterministic (sd 0 by construction).
   */
  init?: 'pca' | 'random';
}

export interface SeedSummary {
  mean: number | null;
  sd: number | null;
  /** Seeds with a defined value. */
  n: number;
  values: (number | null)[];
}

export interface LayerOverlapResult {
  /** |S| (correctly classified clean images) and |S ∩ successful attacks|. */
  count: number;
  successCount: number;
  pcaDims: number;
  /** t-SNE overlap per seed and mean ± sd. */
  tsne: SeedSummary;
  /** Attack-success-restricted variant per seed and mean ± sd. */
  tsneSuccess: SeedSummary;
  /** The same definition in the PCA space (deterministic, no t-SNE). */
  pca: OverlapValue;
  pcaSuccess: OverlapValue | null;
  /** Why the t-SNE value is undefined, if it is ('empty' | 'single-class'). */
  reason: string | null;
  engine: TsneEngine | null;
  /** Final KL per seed. */
  kl: number[];
}

const summary = (values: (number | null)[]): SeedSummary => ({ ...overlapAcrossSeeds(values), values });

export async function layerOverlap(input: LayerOverlapInput, opts: LayerOverlapOptions = {}, control: JobControl = {}): Promise<LayerOverlapResult> {
  const { clean, adversarial, size, labels, cleanPred, advPred } = input;
  const m = labels.length;
  if (clean.length !== m * size || adversarial.length !== m * size) throw new LabError(`overlap: activations must be ${m} × ${size}`);
  if (m < 2) throw new LabError(`overlap: need at least 2 images, got ${m}`);
  const n = 2 * m;
  const rows = new Float32Array(n * size);
  rows.set(clean, 0);
  rows.set(adversarial, m * size);
  const cleanRows = Int32Array.from({ length: m }, (_, i) => i);
  const advRows = Int32Array.from({ length: m }, (_, i) => i + m);
  const seed = opts.seed ?? 0;
  // PCA basis from the clean rows only, so it does not move with ε (spec §2.1).
  const k = Math.max(1, Math.min(opts.pcaComponents ?? PCA_DEFAULT_COMPONENTS, size, m - 1));
  const pca = fitPca(rows, size, cleanRows, { nComponents: k, seed: deriveSeed(seed, 'overlap-pca') });
  const x = projectPca(pca, rows);
  const base = { cleanRows, advRows, labels, cleanPred, advPred };
  const pcaMetric = tsneOverlap({ points: x, dim: k, ...base });

  const values: (number | null)[] = [];
  const succ: (number | null)[] = [];
  const kl: number[] = [];
  let reason: string | null = null;
  let engine: TsneEngine | null = null;
  const seeds = Math.max(1, opts.seeds ?? 3);
  for (let s = 0; s < seeds; s++) {
    const r = await runTsne(x, { n, d: k }, { ...opts.tsne, seed: deriveSeed(seed, `overlap-tsne-${s}`), initMode: opts.init ?? 'random', initFitRows: cleanRows }, {
      signal: control.signal,
      onProgress: (p) => control.onProgress?.({ fraction: (s + p.fraction) / seeds, message: `seed ${s + 1}/${seeds}: ${p.message ?? ''}` }),
    });
    engine = r.engine ?? null;
    kl.push(r.kl);
    const o = tsneOverlap({ points: r.positions, dim: 2, ...base });
    values.push(o.value);
    succ.push(o.successRestricted?.value ?? null);
    reason = o.reason;
  }
  return {
    count: pcaMetric.count,
    successCount: pcaMetric.successRestricted?.count ?? 0,
    pcaDims: k,
    tsne: summary(values),
    tsneSuccess: summary(succ),
    pca: { value: pcaMetric.value, reason: pcaMetric.reason, overlapping: pcaMetric.overlapping, count: pcaMetric.count },
    pcaSuccess: pcaMetric.successRestricted,
    reason,
    engine,
    kl,
  };
}
