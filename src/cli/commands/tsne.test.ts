/**
 * `layerwise tsne --model …` (alias `overlap`): the t-SNE analysis's generated command, run
 * in-process through the CLI's entry. Its JSON is `{ …, command, result }` with the lab's
 * result object (core/tsne/job.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../testing';

const cli = (...argv: string[]) => runCliInProcess(argv);

interface Stats { mean: number | null; sd: number | null; n: number; values: (number | null)[] }
interface Summary { value: number | null; successRestricted: number | null; count: number; successCount: number }
interface Layer { layer: string; pcaDims: number; engine: string; start: string; overlap: Summary; overlapPca: Summary; overlapSeeds: Stats & { successRestricted: Stats } }

const base = ['--model', 'mnist-small-st', '--data', 'mnist', '--n', '20', '--seeds', '3', '--iters', '60', '--perplexity', '4', '--backend', 'cpu', '--json'];

async function overlap(...extra: string[]) {
  const r = await cli('overlap', ...base, ...extra);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('overlap command (spec §3), the lab pipeline', () => {
  it('ε = 0: every pair coincides, so the PCA-space overlap is exactly 1 and the success-only variant is undefined', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const out = await overlap('--attack', 'fgsm', '--eps', '0', '--layers', 'conv1', '--engine', 'exact');
    expect(tf.memory().numTensors).toBe(before);
    expect(out.analysis).toBe('tsne');
    expect(out.command).toBe('layerwise tsne --model mnist-small-st --data mnist --attack fgsm --eps 0 --layers conv1 --n 20 --perplexity 4 --iters 60 --engine exact');
    const r = out.result;
    expect(r.layers).toHaveLength(1);
    const l = r.layers[0] as Layer;
    expect(l.layer).toBe('conv1');
    expect(l.overlapPca.count).toBe(Math.round(r.cleanAccuracy * 20));
    // a_i = 0 < r_i for every i ∈ S (distinct images of other classes are at r_i > 0).
    expect(l.overlapPca.value).toBe(1);
    // No attack succeeds at ε = 0 → empty set → null ("n/a"), never 0.
    expect(r.robustAccuracy).toBe(r.cleanAccuracy);
    expect(l.overlapPca.successCount).toBe(0);
    expect(l.overlapPca.successRestricted).toBeNull();
    expect(l.overlapSeeds.successRestricted.mean).toBeNull();
    expect(l.overlapSeeds.values).toHaveLength(3);
    expect(l.overlapSeeds.values[0]).toBe(l.overlap.value);
    expect(l.engine).toBe('exact');
    expect(l.start).toBe('cold');
    // ≤ M − 1 components: beyond the clean rows' rank PCA has no directions of its own.
    expect(l.pcaDims).toBe(19);
  }, 240_000);

  it('FGSM on the default taps: one row per tap, mean and sd are those of the per-seed values', async () => {
    const out = await overlap('--attack', 'fgsm', '--norm', 'linf', '--eps', '0.3');
    const r = out.result;
    expect(r.layers.length).toBeGreaterThanOrEqual(2);
    for (const l of r.layers as Layer[]) {
      const count = l.overlapPca.count;
      for (const stats of [l.overlapSeeds, l.overlapSeeds.successRestricted]) {
        expect(stats.values).toHaveLength(3);
        const vals = stats.values.filter((x): x is number => x !== null);
        for (const x of vals) expect(x).toBeGreaterThanOrEqual(0);
        for (const x of vals) expect(x).toBeLessThanOrEqual(1);
        const mean = vals.reduce((s, x) => s + x, 0) / vals.length;
        expect(stats.mean).toBeCloseTo(mean, 12);
        const sd = Math.sqrt(vals.reduce((s, x) => s + (x - mean) ** 2, 0) / (vals.length - 1));
        expect(stats.sd).toBeCloseTo(sd, 12);
      }
      // Each value is a fraction over |S|.
      for (const x of l.overlapSeeds.values) if (x !== null) expect(Math.abs(x * count - Math.round(x * count))).toBeLessThan(1e-9);
      expect(l.pcaDims).toBeLessThanOrEqual(19);
      expect(l.overlapPca.successCount).toBeLessThanOrEqual(count);
    }
    // Seeds 1.. start from random layouts: they differ from one another somewhere.
    expect((r.layers as Layer[]).some((l) => (l.overlapSeeds.sd ?? 0) > 0)).toBe(true);
    // FGSM at 0.3 fools the standard-trained model on most images.
    expect(r.robustAccuracy).toBeLessThan(r.cleanAccuracy);
  }, 300_000);

  it('--init changes only seed 0: seeds 1.. are the same runs (one seed rule)', async () => {
    const args = ['--attack', 'fgsm', '--eps', '0.3', '--layers', 'fc1'];
    const pca = (await overlap(...args)).result.layers[0] as Layer & { positions: number[] };
    const random = (await overlap(...args, '--init', 'random')).result.layers[0] as Layer & { positions: number[] };
    expect(random.overlapSeeds.values.slice(1)).toEqual(pca.overlapSeeds.values.slice(1));
    expect(random.positions).not.toEqual(pca.positions);
    expect(random.overlapPca).toEqual(pca.overlapPca);
  }, 240_000);

  it('rejects bad usage with one line naming the flag, exit 2', async () => {
    const bad = async (pattern: RegExp, ...extra: string[]) => {
      const r = await cli('overlap', ...base, ...extra);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    };
    await bad(/^layerwise: --engine must be one of auto, exact, fft \(got "bh"\)/, '--engine', 'bh');
    await bad(/^layerwise: --seeds must be an integer ≥ 1/, '--seeds', '0');
    await bad(/^layerwise: --init must be one of pca, random \(got "umap"\)/, '--init', 'umap');
    await bad(/^layerwise: --n must be an integer ≥ 20/, '--n', '16');
    await bad(/^layerwise: model has no layer named "nope"/, '--layers', 'nope');
    const missing = await cli('overlap', '--data', 'mnist');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model/);
  }, 120_000);
});
