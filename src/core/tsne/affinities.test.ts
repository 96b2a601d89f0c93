import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { calibrateRows, computeP, exactKnn, symmetrise, updateP } from './affinities';

describe('exactKnn (spec §2.2)', () => {
  it('finds nearest neighbours on a line, self excluded, ties broken by index', async () => {
    // Points 0, 1, 3, 3 (rows 2 and 3 duplicate), 10.
    const x = new Float32Array([0, 1, 3, 3, 10]);
    const { indices, sqDistances } = exactKnn(x, 5, 1, 2);
    expect(Array.from(indices.subarray(0, 2))).toEqual([1, 2]); // row 0: 1 (d²=1), 2 (d²=9, beats 3 by index)
    expect(Array.from(sqDistances.subarray(0, 2))).toEqual([1, 9]);
    expect(Array.from(indices.subarray(4, 6))).toEqual([3, 1]); // row 2: duplicate 3 at 0, then 1
    expect(Array.from(indices.subarray(6, 8))).toEqual([2, 1]); // row 3: duplicate 2 at 0
    expect(Array.from(indices.subarray(8, 10))).toEqual([2, 3]); // row 4: tie 2, 3 → index order
  });
});

describe('calibrateRows (spec §2.3)', () => {
  it('reaches the target perplexity in every row', async () => {
    const rng = createRng(5);
    const k = 15;
    const d2 = new Float64Array(4 * k);
    for (let i = 0; i < d2.length; i++) d2[i] = 1 + 20 * rng.next();
    const { p } = calibrateRows(d2, k, 5);
    for (let r = 0; r < 4; r++) {
      let h = 0;
      let s = 0;
      for (let t = 0; t < k; t++) {
        const v = p[r * k + t];
        s += v;
        if (v > 0) h -= v * Math.log(v);
      }
      expect(s).toBeCloseTo(1, 12);
      expect(Math.exp(h)).toBeCloseTo(5, 3);
    }
  });

  it('with all-equal distances gives uniform p (perplexity = k)', async () => {
    const { p } = calibrateRows(new Float64Array([2, 2, 2, 2]), 4, 4);
    for (const v of p) expect(v).toBeCloseTo(0.25, 10);
  });
});

describe('symmetrise / computeP', () => {
  it('gives p_ij = (p_j|i + p_i|j)/2N, symmetric, summing to 1, CSR sorted by (i, j)', async () => {
    // n = 3, k = 1: 0→1 (1), 1→0 (1), 2→1 (1).
    const sp = symmetrise(3, 1, Int32Array.from([1, 0, 1]), new Float64Array([1, 1, 1]));
    expect(Array.from(sp.rows)).toEqual([0, 1, 1, 2]);
    expect(Array.from(sp.cols)).toEqual([1, 0, 2, 1]);
    expect(Array.from(sp.vals)).toEqual([2 / 6, 2 / 6, 1 / 6, 1 / 6]);
    expect(Array.from(sp.rowPtr)).toEqual([0, 1, 3, 4]);
  });

  it('builds a symmetric P on random data with k = 3·perplexity neighbours', async () => {
    const rng = createRng(9);
    const n = 40;
    const x = new Float32Array(n * 3);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const p = await computeP(x, n, 3, 5);
    expect(p.knn.k).toBe(15);
    let s = 0;
    const map = new Map<number, number>();
    for (let e = 0; e < p.vals.length; e++) {
      s += p.vals[e];
      map.set(p.rows[e] * n + p.cols[e], p.vals[e]);
    }
    expect(s).toBeCloseTo(1, 10);
    for (const [key, v] of map) expect(map.get((key % n) * n + Math.floor(key / n))).toBe(v);
  });
});

describe('updateP (spec §2.6 incremental warm start)', () => {
  it('equals a from-scratch computeP after the adversarial rows move, re-calibrating fewer rows', async () => {
    const rng = createRng(21);
    const m = 30;
    const d = 4;
    const x = new Float32Array(2 * m * d);
    for (let i = 0; i < m * d; i++) x[i] = rng.normal() + (Math.floor(i / d) % 2 ? 6 : 0);
    const changed = Int32Array.from({ length: m }, (_, i) => m + i);
    const check = async (before: Float32Array, after: Float32Array) => {
      const inc = await updateP(await computeP(before, 2 * m, d, 4), after, 2 * m, d, 4, changed);
      const ref = await computeP(after, 2 * m, d, 4);
      expect(Array.from(inc.knn.indices)).toEqual(Array.from(ref.knn.indices));
      expect(Array.from(inc.rows)).toEqual(Array.from(ref.rows));
      expect(Array.from(inc.cols)).toEqual(Array.from(ref.cols));
      for (let e = 0; e < ref.vals.length; e++) expect(inc.vals[e]).toBeCloseTo(ref.vals[e], 12);
      return inc.recalibrated;
    };
    // ε = 0 → large ε: every clean row had its twin as neighbour, so all rows are redone.
    x.copyWithin(m * d, 0, m * d);
    const far = Float32Array.from(x);
    for (let i = 0; i < m; i++) far[(m + i) * d] += 40;
    expect(await check(x, far)).toBe(2 * m);
    // Large ε → larger ε: clean neighbour lists are untouched, only adversarial rows re-calibrate.
    const farther = Float32Array.from(far);
    for (let i = 0; i < m; i++) farther[(m + i) * d + 1] += i % 3 === 0 ? 5 : 0;
    expect(await check(far, farther)).toBe(m);
    // Moves that bring adversarial rows into clean neighbourhoods still match from-scratch P.
    const back = Float32Array.from(farther);
    for (let i = 0; i < m; i += 2) back[(m + i) * d] -= 39;
    await check(farther, back);
  });
});
