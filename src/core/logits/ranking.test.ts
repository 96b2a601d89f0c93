import { describe, expect, it } from 'vitest';
import { averageOverlap, averageOverlapControl, averageRanks, errorClassRanks, pooledFractionFar, rankOrderByClass } from './ranking';

describe('rank order', () => {
  it('averages tied ranks', () => {
    expect(Array.from(averageRanks([3, 1, 3]))).toEqual([2.5, 1, 2.5]);
  });

  it('counts samples whose ranks are more than half the range apart', () => {
    // Class 0: reversed order → rank diffs 4,2,0,2,4 with half-range 2 → 2/5 far.
    // Class 1: identical order → none far.
    const labels = new Int32Array([0, 0, 0, 0, 0, 1, 1, 1]);
    const a = [1, 2, 3, 4, 5, 0.1, 0.2, 0.3];
    const b = [5, 4, 3, 2, 1, 0.5, 0.6, 0.7];
    const r = rankOrderByClass(a, b, labels, 3);
    expect(r[0].fractionFar).toBeCloseTo(0.4, 12);
    expect(r[0].spearman).toBeCloseTo(-1, 12);
    expect(r[1].fractionFar).toBe(0);
    expect(r[1].spearman).toBeCloseTo(1, 12);
    expect(r[2].n).toBe(0);
    // Far samples of class 0 are its first and last (global indices 0 and 4).
    expect(Array.from(r[0].farIndices)).toEqual([0, 4]);
    expect(Array.from(r[0].rankA)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(r[0].rankB)).toEqual([5, 4, 3, 2, 1]);
    expect(Array.from(r[1].indices)).toEqual([5, 6, 7]);
    expect(r[1].farIndices.length).toBe(0);
    expect(pooledFractionFar(r)).toBeCloseTo(2 / 8, 12);
  });
});

describe('average overlap AO@k', () => {
  const A = new Float32Array([3, 2, 1]); // order 0,1,2
  const B = new Float32Array([2, 3, 1]); // order 1,0,2

  it('is 1 for identical rankings', () => {
    expect(Array.from(averageOverlap(A, A, 3))).toEqual([1, 1, 1]);
  });

  it('matches the hand computation for a top-2 swap', () => {
    // overlaps at depth 1,2,3: 0, 1, 1 → AO@1 = 0, AO@2 = 1/2, AO@3 = 2/3.
    const ao = averageOverlap(A, B, 3);
    expect(ao[0]).toBe(0);
    expect(ao[1]).toBeCloseTo(0.5, 12);
    expect(ao[2]).toBeCloseTo(2 / 3, 12);
  });

  it('can exclude the true label', () => {
    expect(Array.from(averageOverlap(A, B, 3, { excludeLabel: true, labels: new Int32Array([2]) }))).toEqual([0, 0.5]);
    expect(Array.from(averageOverlap(A, B, 3, { excludeLabel: true, labels: new Int32Array([0]) }))).toEqual([1, 1]);
  });

  it('within-class permutation control is seeded and breaks the image pairing', () => {
    // One class, two samples with opposite rankings; B = A. The identity pairing gives
    // AO = 1; a swap compares opposite rankings: overlaps 0, 1/2, 1 → AO = [0, 1/4, 1/2].
    const L = new Float32Array([3, 2, 1, 1, 2, 3]);
    const labels = new Int32Array([0, 0]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const c = Array.from(averageOverlapControl(L, L, labels, 3, seed));
      expect(averageOverlapControl(L, L, labels, 3, seed)).toEqual(Float64Array.from(c));
      const key = c.map((v) => v.toFixed(6)).join(',');
      expect(['1.000000,1.000000,1.000000', '0.000000,0.250000,0.500000']).toContain(key);
      seen.add(key);
    }
    expect(seen.size).toBe(2);
  });
});

describe('errorClassRanks', () => {
  it('ranks predicted wrong classes against the class-average logit vector', () => {
    // Class 0 mean [3, 3, 0.5] → others 1, 2; error (pred 1) at rank 1.
    // Class 1 mean [0, 1, 4] → others 2, 0; error (pred 2) at rank 1.
    // Class 2 mean [1, 1.5, 1] → others 1, 0; errors pred 0 (rank 2) and pred 1 (rank 1).
    const logits = new Float32Array([5, 3, 1, 1, 3, 0, 0, 1, 4, 2, 0, 1, 0, 3, 1]);
    const labels = new Int32Array([0, 0, 1, 2, 2]);
    const r = errorClassRanks(logits, labels, 3);
    expect(r.errors).toBe(4);
    expect(Array.from(r.counts)).toEqual([3, 1]);
    expect(Array.from(r.fraction)).toEqual([0.75, 0.25]);
    expect(Array.from(r.orderByClass[2])).toEqual([1, 0]);
  });
});
