import { describe, expect, it } from 'vitest';
import { LabError } from '../types';
import { overlapAcrossSeeds, tsneOverlap, type OverlapInput } from './overlap';

/**
 * Hand-made layout on a line (all values exact in float32):
 *   clean c0 (0,0) y=0, c1 (1,0) y=0, c2 (10,0) y=1, c3 (11,0) y=1
 *   r = [10, 9, 9, 10]
 *   adv x̃0 (0,3): a=3 < 10 overlaps; x̃1 (1,9.5): a=9.5 > 9 no;
 *       x̃2 (10,9): a=9 = r → tie, no (strict); x̃3 (11,0.5): a=0.5 overlaps.
 * Rows: clean 0..3, adversarial 4..7.
 */
function layout(overrides: Partial<OverlapInput> = {}): OverlapInput {
  return {
    points: new Float32Array([0, 0, 1, 0, 10, 0, 11, 0, 0, 3, 1, 9.5, 10, 9, 11, 0.5]),
    dim: 2,
    cleanRows: Int32Array.from([0, 1, 2, 3]),
    advRows: Int32Array.from([4, 5, 6, 7]),
    labels: Int32Array.from([0, 0, 1, 1]),
    cleanPred: Int32Array.from([0, 0, 1, 1]),
    ...overrides,
  };
}

describe('tsneOverlap (spec §3)', () => {
  it('counts a_i < r_i over S with r_i the nearest clean image of another class', () => {
    const res = tsneOverlap(layout());
    expect(Array.from(res.r)).toEqual([10, 9, 9, 10]);
    expect(Array.from(res.a)).toEqual([3, 9.5, 9, 0.5]);
    expect(Array.from(res.overlaps)).toEqual([1, 0, 0, 1]);
    expect(res.value).toBe(0.5);
    expect(res.count).toBe(4);
    expect(res.overlapping).toBe(2);
    expect(res.reason).toBeNull();
    expect(res.successRestricted).toBeNull();
  });

  it('treats a tie a_i = r_i as not overlapping (strict inequality)', () => {
    const res = tsneOverlap(layout());
    expect(res.a[2]).toBe(res.r[2]);
    expect(res.overlaps[2]).toBe(0);
  });

  it('duplicates with r_i = 0 never overlap, even with a_i = 0', () => {
    // c0 and c2 coincide although their classes differ; x̃0 = x0.
    const res = tsneOverlap(
      layout({ points: new Float32Array([5, 5, 1, 0, 5, 5, 11, 0, 5, 5, 1, 9.5, 10, 9, 11, 0.5]) }),
    );
    expect(res.r[0]).toBe(0);
    expect(res.a[0]).toBe(0);
    expect(res.overlaps[0]).toBe(0);
  });

  it('excludes misclassified clean images from numerator and denominator but keeps them as reference points', () => {
    // c1 is predicted as class 1: S = {0, 2, 3}. c1 (true class 0) is still the nearest
    // other-class neighbour of c2, so r_2 = 9 and the tie keeps pair 2 out.
    const base = layout({ cleanPred: Int32Array.from([0, 1, 1, 1]) });
    const res = tsneOverlap(base);
    expect(Array.from(res.inS)).toEqual([1, 0, 1, 1]);
    expect(Number.isNaN(res.a[1]) && Number.isNaN(res.r[1])).toBe(true);
    expect(res.count).toBe(3);
    expect(res.value).toBeCloseTo(2 / 3, 12);

    // Choice switched: misclassified images are not reference points → r_2 = 10 > 9.
    const noRef = tsneOverlap(base, { misclassifiedInReference: false });
    expect(noRef.r[2]).toBe(10);
    expect(noRef.value).toBe(1);

    // Choice switched: "another class" by prediction → c1 counts as class 1: r_0 = 1 < a_0 = 3.
    const byPred = tsneOverlap(base, { referenceLabel: 'predicted' });
    expect(byPred.r[0]).toBe(1);
    expect(byPred.r[2]).toBe(10);
    expect(Array.from(byPred.overlaps)).toEqual([0, 0, 1, 1]);
    expect(byPred.value).toBeCloseTo(2 / 3, 12);
  });

  it('is undefined (null, "n/a"), never 0, when |S| = 0', () => {
    const res = tsneOverlap(layout({ cleanPred: Int32Array.from([1, 1, 0, 0]) }));
    expect(res.value).toBeNull();
    expect(res.reason).toBe('empty');
    expect(res.count).toBe(0);
  });

  it('is undefined (flagged), not 1, when all clean images share one label (r_i = +∞)', () => {
    const same = Int32Array.from([0, 0, 0, 0]);
    const res = tsneOverlap(layout({ labels: same, cleanPred: same }));
    expect(Array.from(res.r)).toEqual([Infinity, Infinity, Infinity, Infinity]);
    expect(res.value).toBeNull();
    expect(res.reason).toBe('single-class');
  });

  it('handles classes with a single member: r_i looks only at other classes', () => {
    // Class 2 has one member (c3); class 0 = {c0, c1}, class 1 = {c2}.
    const labels = Int32Array.from([0, 0, 1, 2]);
    const res = tsneOverlap(layout({ labels, cleanPred: labels }));
    // r_3: nearest of c0, c1, c2 = c2 at 1; a_3 = 0.5 < 1.
    expect(res.r[3]).toBe(1);
    expect(res.overlaps[3]).toBe(1);
    // r_2: nearest of c0, c1, c3 = c3 at 1; a_2 = 9 → no.
    expect(res.r[2]).toBe(1);
    // Pair 0 (r = 10, a = 3) still overlaps: 2 of 4.
    expect(res.value).toBe(0.5);
  });

  it('gives overlap 1 at ε = 0 (x̃_i = x_i) on separated clusters — sanity check', () => {
    const clean = [0, 0, 1, 0, 10, 0, 11, 0];
    const res = tsneOverlap(layout({ points: new Float32Array([...clean, ...clean]) }));
    expect(Array.from(res.a)).toEqual([0, 0, 0, 0]);
    expect(res.value).toBe(1);
  });

  it('reports the attack-success-restricted variant (i ∈ S with ŷ(x̃_i) ≠ y_i)', () => {
    // Successful attacks on pairs 0 and 1 (of which only 0 overlaps); pair 2 misclassified clean.
    const res = tsneOverlap(
      layout({ cleanPred: Int32Array.from([0, 0, 0, 1]), advPred: Int32Array.from([1, 1, 0, 1]) }),
    );
    expect(res.successRestricted).toEqual({ value: 0.5, reason: null, overlapping: 1, count: 2 });
    // Pair 2 is excluded from S though its "attack" flips nothing; main metric over {0,1,3}.
    expect(res.count).toBe(3);
    // No successful attack → undefined, not 0.
    const none = tsneOverlap(layout({ advPred: Int32Array.from([0, 0, 1, 1]) }));
    expect(none.successRestricted?.value).toBeNull();
    expect(none.successRestricted?.reason).toBe('empty');
  });

  it('works in any dimension and with an arbitrary row index map (50-D PCA baseline)', () => {
    // Embed the line layout in 50-D (coordinates on axes 7 and 31) with rows shuffled.
    const dim = 50;
    const src = layout();
    const order = [5, 2, 7, 0, 4, 6, 1, 3]; // new row of old row k
    const pts = new Float64Array(8 * dim);
    for (let k = 0; k < 8; k++) {
      pts[order[k] * dim + 7] = src.points[2 * k];
      pts[order[k] * dim + 31] = src.points[2 * k + 1];
    }
    const res = tsneOverlap({
      ...src,
      points: pts,
      dim,
      cleanRows: Int32Array.from([0, 1, 2, 3].map((k) => order[k])),
      advRows: Int32Array.from([4, 5, 6, 7].map((k) => order[k])),
    });
    expect(Array.from(res.overlaps)).toEqual([1, 0, 0, 1]);
    expect(res.value).toBe(0.5);
  });

  it('rejects inconsistent inputs with a LabError', () => {
    expect(() => tsneOverlap(layout({ labels: Int32Array.from([0, 0, 1]) }))).toThrow(LabError);
    expect(() => tsneOverlap(layout({ advRows: Int32Array.from([4, 5, 6, 8]) }))).toThrow(LabError);
    expect(() => tsneOverlap(layout({ dim: 3 }))).toThrow(LabError);
  });

  it('summarises seeds as mean ± sd, skipping undefined values', () => {
    const s = overlapAcrossSeeds([0.5, null, 0.7, 0.6]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.6, 12);
    expect(s.sd).toBeCloseTo(0.1, 12);
    expect(overlapAcrossSeeds([null, null])).toEqual({ mean: null, sd: null, n: 0 });
  });
});
