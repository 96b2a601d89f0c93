import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { layerOverlap } from './layer-overlap';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 3 classes × 8 images, 6-D activations: class centres 10 apart, sd 1. */
function acts(seed: number) {
  const rng = createRng(seed);
  const m = 24;
  const size = 6;
  const clean = new Float32Array(m * size);
  const labels = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    labels[i] = i % 3;
    for (let c = 0; c < size; c++) clean[i * size + c] = rng.normal() + (c === labels[i] ? 10 : 0);
  }
  return { clean, labels, m, size };
}

describe('layerOverlap (spec §3 per layer)', () => {
  it('adversarial = clean gives PCA overlap 1; adversarial = a partner of another class gives 0', async () => {
    const { clean, labels, m, size } = acts(1);
    const pred = Int32Array.from(labels);
    const same = await layerOverlap({ clean, adversarial: clean, size, labels, cleanPred: pred, advPred: pred }, { seeds: 1, tsne: { nIter: 50, perplexity: 5 } });
    expect(same.pca.value).toBe(1);
    expect(same.count).toBe(m);
    expect(same.tsne.values).toHaveLength(1);
    // Image i's "adversarial" activation is image i+1's clean one (next class): a_i ≥ r_i exactly.
    const moved = new Float32Array(m * size);
    for (let i = 0; i < m; i++) moved.set(clean.subarray(((i + 1) % m) * size, ((i + 2) % m || m) * size), i * size);
    const advPred = Int32Array.from(labels, (l) => (l + 1) % 3);
    const other = await layerOverlap({ clean, adversarial: moved, size, labels, cleanPred: pred, advPred }, { seeds: 2, tsne: { nIter: 50, perplexity: 5 } });
    expect(other.pca.value).toBe(0);
    expect(other.pcaSuccess?.value).toBe(0);
    expect(other.successCount).toBe(m);
    expect(other.tsne.values).toHaveLength(2);
  });
});
