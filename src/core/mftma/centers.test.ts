// Center correlation, maxK and the Stiefel CG of spec §2–§3 on hand-checkable inputs.
import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { alignmentCost, alignmentProblem, centerCorrelation, chooseMaxK, randomStiefel, removeSubspace, searchCommonCenters, stiefelCg } from './centers';
import { householderQR, symmetricEigenvalues } from './linalg';

function randomMatrix(seed: number, rows: number, cols: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: rows * cols }, () => rng.normal());
}

describe('centerCorrelation', () => {
  it('is the mean |cos| over ordered off-diagonal pairs', () => {
    // Rows (1,0), (0,1), (1,1): cosines 0, 1/√2, 1/√2 → mean over 6 ordered pairs = √2/3.
    expect(centerCorrelation(Float64Array.of(1, 0, 0, 1, 1, 1), 3, 2)).toBeCloseTo(Math.SQRT2 / 3, 14);
    // Scaling or flipping a row does not change |cos|.
    expect(centerCorrelation(Float64Array.of(-3, 0, 0, 2, 1, 1), 3, 2)).toBeCloseTo(Math.SQRT2 / 3, 14);
  });
});

describe('chooseMaxK (spec §2)', () => {
  it('gives 11 when the first direction explains ≥ 95%', () => {
    // Rows ±(10, 0, 0) and a small orthogonal wiggle.
    const b = Float64Array.of(10, 0.1, 0, -10, -0.1, 0, 0, 0, 0);
    expect(chooseMaxK(b, 3, 3)).toBe(11);
  });
  it('counts the k with e_k < 0.95 and adds 10', () => {
    // Four equal orthogonal directions: e = 0.25, 0.5, 0.75, 1 → 3 below 0.95 → 13.
    const b = new Float64Array(16);
    for (let i = 0; i < 4; i++) b[i * 4 + i] = 1;
    expect(chooseMaxK(b, 4, 4)).toBe(13);
  });
});

describe('linalg', () => {
  it('householderQR reproduces A with orthonormal Q and diag(R) ≥ 0', () => {
    const m = 9;
    const n = 4;
    const a = randomMatrix(3, m, n);
    const { q, r } = householderQR(a, m, n);
    const qq = q as Float64Array;
    for (let i = 0; i < n; i++) expect(r[i * n + i]).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += qq[i * n + k] * r[k * n + j];
      expect(s).toBeCloseTo(a[i * n + j], 12);
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += qq[k * n + i] * qq[k * n + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 13);
    }
  });
  it('symmetricEigenvalues of a known matrix', () => {
    const ev = symmetricEigenvalues(Float64Array.of(2, 1, 0, 1, 2, 0, 0, 0, 5), 3);
    expect(Array.from(ev).map((v) => +v.toFixed(12))).toEqual([5, 3, 1]);
  });
});

describe('alignment cost and Stiefel CG (spec §3.3–3.4)', () => {
  const p = 7;
  const q = p - 1;
  const y = randomMatrix(11, p, q);
  const prob = alignmentProblem(y, p, q);

  it('analytic gradient agrees with central differences', () => {
    const k = 2;
    const v = randomStiefel(createRng(5), q, k);
    const g = new Float64Array(q * k);
    alignmentCost(prob, v, k, g);
    const h = 1e-6;
    for (let i = 0; i < v.length; i++) {
      const vp = Float64Array.from(v);
      const vm = Float64Array.from(v);
      vp[i] += h;
      vm[i] -= h;
      const fd = (alignmentCost(prob, vp, k) - alignmentCost(prob, vm, k)) / (2 * h);
      expect(Math.abs(fd - g[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(g[i])));
    }
  });

  it('cost includes the constant P/2 of the diagonal terms', () => {
    // With K = 0 removed directions the cost is ½ Σ cos² over all pairs (diagonal gives P/2).
    const c = alignmentCost(prob, new Float64Array(0), 0);
    let s = 0;
    const cos = (a: number, b: number) => {
      let d = 0;
      let na = 0;
      let nb = 0;
      for (let j = 0; j < q; j++) {
        d += y[a * q + j] * y[b * q + j];
        na += y[a * q + j] ** 2;
        nb += y[b * q + j] ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) s += cos(a, b) ** 2;
    expect(c).toBeCloseTo(s / 2, 12);
  });

  it('decreases the cost and stays orthonormal within 1e-10', () => {
    const k = 2;
    const start = randomStiefel(createRng(9), q, k);
    const before = alignmentCost(prob, start, k);
    const res = stiefelCg(prob, start, k);
    expect(res.cost).toBeLessThan(before);
    let err = 0;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      let s = 0;
      for (let j = 0; j < q; j++) s += res.v[j * k + a] * res.v[j * k + b];
      err += (s - (a === b ? 1 : 0)) ** 2;
    }
    expect(Math.sqrt(err)).toBeLessThan(1e-10);
    expect(['gradient', 'step', 'iterations']).toContain(res.stop);
  });

  it('removeSubspace leaves residuals orthogonal to V', () => {
    const k = 2;
    const v = randomStiefel(createRng(2), q, k);
    const r = removeSubspace(y, p, q, v, k);
    for (let m = 0; m < p; m++) for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < q; j++) s += r[m * q + j] * v[j * k + a];
      expect(Math.abs(s)).toBeLessThan(1e-12);
    }
  });

  it('search is seeded, guarded by P − 2 and returns the argmin of the curve', async () => {
    const a = await searchCommonCenters(y, p, q, { maxK: 11, nReps: 2, seed: 4 });
    const b = await searchCommonCenters(y, p, q, { maxK: 11, nReps: 2, seed: 4 });
    expect(a.maxKUsed).toBe(p - 2);
    expect(a.residualCorrelation).toEqual(b.residualCorrelation);
    expect(a.residualCorrelation[a.k - 1]).toBe(Math.min(...a.residualCorrelation));
    expect(a.v.length).toBe(q * a.k);
    const none = await searchCommonCenters(Float64Array.of(1, -1), 2, 1, { maxK: 11 });
    expect(none.k).toBe(0);
  });
});
