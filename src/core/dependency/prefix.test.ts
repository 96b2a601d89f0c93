import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { prefixProbes } from './prefix';

describe('prefixProbes', () => {
  it('a prefix decodes what its layers jointly carry, and breaks when a layer is scrambled', () => {
    // 3 classes. Layer A marks class 1 only, layer B marks class 2 only; class 0 is "neither".
    // Prefix {A} cannot tell 0 from 2 (best ≈ 2/3 accuracy); prefix {A, B} separates all three.
    // Adversarially, B is replaced by noise: prefix {A, B} then falls back towards {A}.
    const rng = createRng(11);
    const n = 300;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const a = new Float32Array(2 * n);
    const b = new Float32Array(2 * n);
    const bAdv = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      a[2 * i] = (labels[i] === 1 ? 4 : 0) + 0.4 * rng.normal();
      a[2 * i + 1] = rng.normal();
      b[2 * i] = (labels[i] === 2 ? 4 : 0) + 0.4 * rng.normal();
      b[2 * i + 1] = rng.normal();
      bAdv[2 * i] = 4 * rng.normal();
      bAdv[2 * i + 1] = rng.normal();
    }
    const [p1, p2] = prefixProbes(
      [
        { name: 'a', size: 2, clean: a, adversarial: a },
        { name: 'b', size: 2, clean: b, adversarial: bAdv },
      ],
      labels,
      3,
      0,
      { modelPredictions: { clean: labels, adversarial: labels } },
    );
    expect(p1.depth).toBe(1);
    expect(p1.features).toBe(2);
    expect(p2.features).toBe(4);
    expect(p2.lastLayer).toBe('b');
    expect(p1.projected).toBe(false);
    expect(p1.cleanAccuracy).toBeLessThan(0.8);
    expect(p1.cleanAccuracy).toBeGreaterThan(0.5);
    expect(p1.adversarialAccuracy).toBe(p1.cleanAccuracy); // A is untouched by the "attack"
    expect(p2.cleanAccuracy).toBeGreaterThan(0.95);
    expect(p2.adversarialAccuracy!).toBeLessThan(0.8);
    // Predictions equal to the labels: agreement is accuracy.
    expect(p2.cleanAgreement).toBe(p2.cleanAccuracy);
    expect(p2.adversarialAgreement).toBe(p2.adversarialAccuracy);
  });

  it('splits the feature budget across the prefix and projects wide layers', () => {
    const rng = createRng(2);
    const n = 60;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const wide = Float32Array.from({ length: n * 50 }, (_, t) => (labels[Math.floor(t / 50)] === 1 ? 1 : 0) + rng.normal());
    const r = prefixProbes(
      [
        { name: 'x', size: 50, clean: wide },
        { name: 'y', size: 50, clean: wide },
      ],
      labels,
      2,
      1,
      { maxFeatures: 16 },
    );
    expect(r[0].features).toBe(16);
    expect(r[1].features).toBe(16); // 8 + 8
    expect(r[0].projected).toBe(true);
    expect(r[0].adversarialAccuracy).toBeNull();
    expect(r[0].cleanAgreement).toBeNull();
  });
});
