import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../args';
import { tsneCommands } from './tsne';

/** Runs a command function and returns what it wrote to stdout. */
async function capture(cmd: string, args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await tsneCommands[cmd](args);
  } finally {
    spy.mockRestore();
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => vi.restoreAllMocks());

interface Summary { mean: number | null; sd: number | null; n: number; values: (number | null)[] }
interface Layer { layer: string; count: number; successCount: number; pcaDims: number; tsne: Summary; tsneSuccess: Summary; pca: { value: number | null; reason: string | null }; pcaSuccess: { value: number | null; reason: string | null } | null; engine: string }

const base = ['--model', 'mnist-small-st', '--data', 'mnist', '--n', '16', '--seeds', '3', '--iters', '60', '--perplexity', '4', '--backend', 'cpu', '--json'];

describe('overlap command (spec §3)', () => {
  it('ε = 0: every pair coincides, so the PCA-space overlap is exactly 1 and the success-only variant is undefined', async () => {
    const before = tf.memory().numTensors;
    const out = JSON.parse(await capture('overlap', [...base, '--attack', 'fgsm', '--eps', '0', '--layers', 'conv1', '--init', 'pca']));
    expect(tf.memory().numTensors).toBe(before);
    expect(out.layers).toHaveLength(1);
    const l = out.layers[0] as Layer;
    expect(l.layer).toBe('conv1');
    expect(l.count).toBe(Math.round(out.cleanAccuracy * 16));
    // a_i = 0 < r_i for every i ∈ S (distinct images of other classes are at r_i > 0).
    expect(l.pca.value).toBe(1);
    // No attack succeeds at ε = 0 → empty set → null ("n/a"), never 0.
    expect(l.successCount).toBe(0);
    expect(l.pcaSuccess?.value).toBeNull();
    expect(l.pcaSuccess?.reason).toBe('empty');
    expect(l.tsneSuccess.mean).toBeNull();
    expect(l.tsne.values).toHaveLength(3);
    expect(l.engine).toBe('exact');
    // PCA init is deterministic: the seeds cannot differ.
    expect(l.tsne.sd).toBe(0);
  }, 240_000);

  it('FGSM on the default taps: one row per tap, mean and sd are those of the per-seed values', async () => {
    const out = JSON.parse(await capture('overlap', [...base, '--attack', 'fgsm', '--norm', 'linf', '--eps', '0.3']));
    expect(out.layers.length).toBeGreaterThanOrEqual(2);
    for (const l of out.layers as Layer[]) {
      const vals = l.tsne.values.filter((x): x is number => x !== null);
      expect(l.tsne.values).toHaveLength(3);
      for (const x of vals) expect(x).toBeGreaterThanOrEqual(0);
      for (const x of vals) expect(x).toBeLessThanOrEqual(1);
      // Each value is a fraction over |S|.
      for (const x of vals) expect(Math.abs(x * l.count - Math.round(x * l.count))).toBeLessThan(1e-9);
      const mean = vals.reduce((s, x) => s + x, 0) / vals.length;
      expect(l.tsne.mean).toBeCloseTo(mean, 12);
      const sd = Math.sqrt(vals.reduce((s, x) => s + (x - mean) ** 2, 0) / (vals.length - 1));
      expect(l.tsne.sd).toBeCloseTo(sd, 12);
      expect(l.pcaDims).toBeLessThanOrEqual(15); // ≤ M − 1 clean rows
      expect(l.successCount).toBeLessThanOrEqual(l.count);
    }
    // Random cold starts (the default) do differ between seeds somewhere.
    expect((out.layers as Layer[]).some((l) => (l.tsne.sd ?? 0) > 0)).toBe(true);
    // FGSM at 0.3 fools the standard-trained model on most images.
    expect(out.robustAccuracy).toBeLessThan(out.cleanAccuracy);
  }, 300_000);

  it('rejects bad usage with one-line errors', async () => {
    await expect(capture('overlap', ['--model', 'mnist-small-st', '--data', 'mnist', '--eps', '0.1'])).rejects.toThrow(UsageError);
    await expect(capture('overlap', [...base, '--attack', 'pgd', '--eps', '0.1', '--engine', 'bh'])).rejects.toThrow(/--engine/);
    await expect(capture('overlap', [...base, '--attack', 'pgd', '--eps', '0.1', '--seeds', '0'])).rejects.toThrow(/--seeds/);
    await expect(capture('overlap', [...base, '--attack', 'pgd', '--eps', '0.1', '--init', 'umap'])).rejects.toThrow(/--init/);
    await expect(capture('overlap', [...base, '--attack', 'pgd', '--eps', '0.1', '--layers', 'nope'])).rejects.toThrow(/no layer named "nope"/);
  }, 120_000);
});
