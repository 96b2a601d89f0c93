import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { correctFix1, fixTopKAverage, fixTopKPermute, manipulateLogits, manipulationDistributions, softmaxEntropy } from './manipulate';

describe('logit manipulations', () => {
  const v = new Float32Array([1, 4, 2, 3]); // top-2: class 1 (4), class 3 (3)

  it('fix-k average replaces the rest by their mean', () => {
    expect(Array.from(fixTopKAverage(v, 2))).toEqual([1.5, 4, 1.5, 3]);
    expect(Array.from(fixTopKAverage(v, 4))).toEqual([1, 4, 2, 3]);
    expect(Array.from(v)).toEqual([1, 4, 2, 3]); // input untouched
  });

  it('fix-k permute keeps the top-k and permutes the rest', () => {
    const seen = new Set<string>();
    const rng = createRng(7);
    for (let t = 0; t < 20; t++) {
      const m = fixTopKPermute(v, 2, rng);
      expect(m[1]).toBe(4);
      expect(m[3]).toBe(3);
      expect([m[0], m[2]].sort()).toEqual([1, 2]);
      seen.add(`${m[0]},${m[2]}`);
    }
    expect(seen.size).toBe(2);
    expect(Array.from(v)).toEqual([1, 4, 2, 3]);
  });

  it('correct-fix-1 swaps the max onto the true class', () => {
    expect(Array.from(correctFix1(v, 0))).toEqual([4, 1, 2, 3]);
    expect(Array.from(correctFix1(v, 1))).toEqual([1, 4, 2, 3]);
  });

  it('manipulateLogits applies row-wise and is reproducible', () => {
    const L = new Float32Array([1, 4, 2, 3, 0, 1, 5, 2]);
    const a = manipulateLogits(L, 4, { kind: 'fixPermute', k: 1 }, { seed: 3 });
    expect(manipulateLogits(L, 4, { kind: 'fixPermute', k: 1 }, { seed: 3 })).toEqual(a);
    expect(a[1]).toBe(4);
    expect(a[6]).toBe(5);
    expect(Array.from(manipulateLogits(L, 4, { kind: 'fixAverage', k: 1 }))).toEqual([2, 4, 2, 2, 1, 1, 5, 1]);
    expect(Array.from(manipulateLogits(L, 4, { kind: 'correctFix1' }, { labels: new Int32Array([3, 0]) }))).toEqual([1, 3, 2, 4, 5, 1, 0, 2]);
    expect(() => manipulateLogits(L, 4, { kind: 'correctFix1' })).toThrow();
  });
});

describe('manipulation distributions', () => {
  it('softmaxEntropy is log K for equal logits and 0-ish for a dominant one', () => {
    const h = softmaxEntropy(new Float32Array([2, 2, 2, 2, 100, 0, 0, 0]), 4);
    expect(h[0]).toBeCloseTo(Math.log(4), 12);
    expect(h[1]).toBeLessThan(1e-40);
  });

  it('permutation and correct-fix-1 keep max/gap/entropy; averaging moves the gap at k = 1', () => {
    // Rows [1, 4, 2, 3] (label 0: wrong) and [5, 0, 1, 2] (label 0: right).
    const L = new Float32Array([1, 4, 2, 3, 5, 0, 1, 2]);
    const labels = new Int32Array([0, 0]);
    const [orig, perm, avg, fix] = manipulationDistributions(
      L,
      4,
      [{ kind: 'fixPermute', k: 1 }, { kind: 'fixAverage', k: 1 }, { kind: 'correctFix1' }],
      { labels, bins: 4, seed: 1 },
    );
    expect(orig.manipulation).toBeNull();
    expect(perm.maxLogit.counts).toEqual(orig.maxLogit.counts);
    expect(perm.gap.mean).toBeCloseTo(orig.gap.mean, 6);
    expect(perm.entropy.mean).toBeCloseTo(orig.entropy.mean, 6);
    expect(fix.gap.mean).toBeCloseTo(orig.gap.mean, 6);
    // Original gaps 1 and 3 (mean 2); fix-1-average gaps 4 − 2 = 2 and 5 − 1 = 4 (mean 3).
    expect(orig.gap.mean).toBeCloseTo(2, 6);
    expect(avg.gap.mean).toBeCloseTo(3, 6);
    expect(orig.topIsLabel).toBe(0.5);
    expect(fix.topIsLabel).toBe(1);
    expect(avg.trueClassProbability!.mean).not.toBeCloseTo(orig.trueClassProbability!.mean, 3);
  });
});
