/**
 * Linear CKA against cases checkable by hand, its invariances (Kornblith et al. 2019, §3:
 * orthogonal transforms and isotropic scaling, not arbitrary invertible linear maps), the
 * agreement of its feature and Gram forms, degenerate layers, and the debiased estimator
 * against Song et al.'s (2012) unbiased HSIC formula written out directly.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { ckaCosts, ckaMatrix, ckaOfGrams, layerGram, linearCka, type Rows } from './cka';

/** n × p standard normal rows. */
function gaussian(seed: number, n: number, p: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n * p }, () => rng.normal());
}

/** Row-major X (n × p) times M (p × q). */
function times(x: Rows, n: number, p: number, m: number[][]): Float64Array {
  const q = m[0].length;
  const out = new Float64Array(n * q);
  for (let i = 0; i < n; i++) for (let j = 0; j < q; j++) for (let k = 0; k < p; k++) out[i * q + j] += x[i * p + k] * m[k][j];
  return out;
}

const both = (x: Rows, y: Rows, n: number) => [linearCka(x, y, n, { form: 'feature' }).value, linearCka(x, y, n, { form: 'gram' }).value];

describe('linear CKA', () => {
  const n = 30;
  const p = 3;
  const x = gaussian(1, n, p);

  it('hand case, one feature: X = [1,2,3], Y = [1,0,2] gives 1/4', () => {
    // Centred: x = [−1, 0, 1] (mean 2), y = [0, −1, 1] (mean 1).
    // YᵀX = (−1)(0) + (0)(−1) + (1)(1) = 1; XᵀX = 1 + 0 + 1 = 2; YᵀY = 0 + 1 + 1 = 2.
    // CKA = ‖YᵀX‖² / (‖XᵀX‖ ‖YᵀY‖) = 1 / (2 · 2) = 0.25 (for one feature, the squared correlation 0.5²).
    for (const v of both(new Float64Array([1, 2, 3]), new Float64Array([1, 0, 2]), 3)) expect(v).toBeCloseTo(0.25, 14);
  });

  it('hand case, two features: X = [[1,0],[0,1],[−1,−1]], Y = [1,0,−1] gives 5/(2√10)', () => {
    // Both already centred (column sums 0).
    // XᵀX = [[1+0+1, 0+0+1], [1, 0+1+1]] = [[2,1],[1,2]], ‖XᵀX‖² = 4+1+1+4 = 10.
    // YᵀY = 1 + 0 + 1 = 2.  YᵀX = [1·1 + 0·0 + (−1)(−1), 1·0 + 0·1 + (−1)(−1)] = [2, 1], ‖YᵀX‖² = 5.
    // CKA = 5 / (√10 · 2) = 0.790569415…
    const expected = 5 / (2 * Math.sqrt(10));
    for (const v of both(new Float64Array([1, 0, 0, 1, -1, -1]), new Float64Array([1, 0, -1]), 3)) expect(v).toBeCloseTo(expected, 14);
  });

  it('CKA(X, X) = 1, and exactly 1 from the Gram form', () => {
    expect(linearCka(x, x, n, { form: 'feature' }).value).toBeCloseTo(1, 14);
    const g = layerGram(x, n);
    expect(ckaOfGrams(g, g).value).toBe(1);
  });

  it('CKA(X, XQ) = 1 for orthogonal Q: a rotation and a permutation', () => {
    const t = 0.7;
    const rotation = [
      [Math.cos(t), -Math.sin(t), 0],
      [Math.sin(t), Math.cos(t), 0],
      [0, 0, 1],
    ];
    const permutation = [
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
    ];
    for (const q of [rotation, permutation]) for (const v of both(x, times(x, n, p, q), n)) expect(v).toBeCloseTo(1, 12);
  });

  it('CKA(X, cX) = 1 for isotropic scaling, and invariance to adding a constant to every row', () => {
    for (const v of both(x, x.map((v) => -3.5 * v), n)) expect(v).toBeCloseTo(1, 12);
    const y = gaussian(2, n, 2);
    const shifted = y.map((v, i) => v + (i % 2 === 0 ? 1000 : -7));
    const [f0, g0] = both(x, y, n);
    const [f1, g1] = both(x, shifted, n);
    expect(f1).toBeCloseTo(f0, 12);
    expect(g1).toBeCloseTo(g0, 12);
  });

  it('not invariant to non-isotropic scaling: CKA(X, X·diag(1, 3)) < 1', () => {
    // X = [[1,0],[0,1],[−1,−1]] (centred), Y = [[1,0],[0,3],[−1,−3]].
    // XᵀX = [[2,1],[1,2]] (‖·‖² = 10); YᵀY = [[2,3],[3,18]] (‖·‖² = 4+9+9+324 = 346);
    // YᵀX = [[2,1],[3,6]] (‖·‖² = 4+1+9+36 = 50). CKA = 50/√(10·346) = 0.85004…
    const x2 = new Float64Array([1, 0, 0, 1, -1, -1]);
    const y2 = times(x2, 3, 2, [
      [1, 0],
      [0, 3],
    ]);
    for (const v of both(x2, y2, 3)) expect(v).toBeCloseTo(50 / Math.sqrt(3460), 14);
  });

  it('symmetric, in [0, 1] on random data, and the feature and Gram forms agree to 1e-12', () => {
    for (let s = 0; s < 8; s++) {
      const a = gaussian(10 + s, 25, 1 + s);
      const b = gaussian(40 + s, 25, 9 - s).map((v, i) => v + 0.3 * a[i % a.length]);
      const [f, g] = both(a, b, 25);
      const [fr, gr] = both(b, a, 25);
      expect(Math.abs(f - g)).toBeLessThan(1e-12);
      expect(Math.abs(f - fr)).toBeLessThan(1e-12);
      expect(Math.abs(g - gr)).toBeLessThan(1e-12);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThanOrEqual(1);
    }
  });

  it('float32 input: the same CKA as its float64 copy (sums in float64)', () => {
    const a32 = Float32Array.from(gaussian(5, 40, 6));
    const b32 = Float32Array.from(gaussian(6, 40, 4));
    expect(linearCka(a32, b32, 40).value).toBeCloseTo(linearCka(Float64Array.from(a32), Float64Array.from(b32), 40).value, 14);
  });

  it('auto form: the cheaper one (feature space for narrow layers, Grams for wide ones)', () => {
    expect(linearCka(gaussian(1, 50, 4), gaussian(2, 50, 4), 50).form).toBe('feature');
    expect(linearCka(gaussian(1, 10, 300), gaussian(2, 10, 200), 10).form).toBe('gram');
    const c = ckaCosts(10, 300, 200);
    expect(c.gram).toBeLessThan(c.feature);
  });

  it('a constant layer (or a non-finite one, or one sample) gives NaN with a reason, not a throw', () => {
    const constant = new Float32Array(n * 4).fill(0.1);
    for (const form of ['feature', 'gram'] as const) {
      const r = linearCka(x, constant, n, { form });
      expect(r.value).toBeNaN();
      expect(r.reason).toMatch(/constant/);
    }
    const broken = x.slice();
    broken[4] = NaN;
    expect(linearCka(broken, x, n).reason).toMatch(/non-finite/);
    expect(linearCka(new Float64Array([1, 2]), new Float64Array([3]), 1).reason).toMatch(/at least 2 samples/);
    // Every other layer of the matrix keeps its numbers.
    const m = ckaMatrix([layerGram(x, n), layerGram(constant, n)]);
    expect(m[0][0]).toBe(1);
    expect(m[0][1]).toBeNaN();
    expect(m[1][1]).toBeNaN();
  });

  it('mismatched shapes are a programming error', () => {
    expect(() => linearCka(new Float64Array(7), new Float64Array(6), 3)).toThrow(/not n = 3 rows/);
    expect(() => ckaOfGrams(layerGram(x, n), layerGram(x.subarray(0, 3 * 10), 10))).toThrow(/same samples/);
  });
});

describe('CKA matrix from Grams computed once', () => {
  it('equals pairwise CKA; symmetric with unit diagonal; rows × columns for two sets', () => {
    const n = 20;
    const layers = [gaussian(1, n, 5), gaussian(2, n, 40), gaussian(3, n, 2)];
    layers[2] = layers[2].map((v, i) => v + layers[0][i]);
    const grams = layers.map((l) => layerGram(l, n));
    const m = ckaMatrix(grams);
    for (let i = 0; i < 3; i++) {
      expect(m[i][i]).toBe(1);
      for (let j = 0; j < 3; j++) {
        expect(m[i][j]).toBe(m[j][i]);
        expect(m[i][j]).toBeCloseTo(linearCka(layers[i], layers[j], n, { form: 'feature' }).value, 12);
      }
    }
    const cross = ckaMatrix(grams.slice(0, 2), grams);
    expect(cross).toHaveLength(2);
    expect(cross[1]).toEqual(m[1]);
  });
});

describe('debiased CKA (unbiased HSIC, Song et al. 2012)', () => {
  /** Song et al. 2012, eq. (5), from raw Grams: n(n−3)·HSIC_u = tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1. */
  function songHsicTimesN(x: Float64Array, p: number, y: Float64Array, q: number, n: number): number {
    const gram = (z: Float64Array, w: number) => {
      const k = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) for (let c = 0; c < w; c++) k[i * n + j] += z[i * w + c] * z[j * w + c];
      return k;
    };
    const k = gram(x, p);
    const l = gram(y, q);
    let tr = 0;
    let sk = 0;
    let sl = 0;
    let kl1 = 0;
    for (let i = 0; i < n; i++) {
      let rowK = 0;
      let rowL = 0;
      for (let j = 0; j < n; j++) {
        tr += k[i * n + j] * l[j * n + i];
        sk += k[i * n + j];
        sl += l[i * n + j];
        rowK += k[j * n + i];
        rowL += l[i * n + j];
      }
      kl1 += rowK * rowL; // 1ᵀK̃L̃1 = Σ_i (Σ_j K̃_ji)(Σ_j L̃_ij)
    }
    return tr + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kl1;
  }

  it('the U-centred inner product is Song et al.\'s estimator; CKA(X, X) = 1; invariant to a shift; symmetric', () => {
    const n = 12;
    const x = gaussian(7, n, 3);
    const y = gaussian(8, n, 5).map((v, i) => v + 5 + x[i % x.length]);
    const gx = layerGram(x, n, { debiased: true });
    const gy = layerGram(y, n, { debiased: true });
    let inner = 0;
    for (let i = 0; i < n * n; i++) inner += gx.gram[i] * gy.gram[i];
    expect(inner).toBeCloseTo(songHsicTimesN(x, 3, y, 5, n), 9);
    expect(ckaOfGrams(gx, gx).value).toBe(1);
    const shifted = linearCka(x.map((v) => v + 100), y, n, { debiased: true });
    expect(shifted.form).toBe('gram');
    expect(shifted.value).toBeCloseTo(ckaOfGrams(gx, gy).value, 10);
    expect(ckaOfGrams(gy, gx).value).toBe(ckaOfGrams(gx, gy).value);
  });

  it('is near 0 for independent wide layers where the biased estimator is inflated', () => {
    const n = 20;
    const a = gaussian(21, n, 500);
    const b = gaussian(22, n, 500);
    const biased = linearCka(a, b, n).value;
    const debiased = linearCka(a, b, n, { debiased: true }).value;
    expect(biased).toBeGreaterThan(0.5);
    expect(Math.abs(debiased)).toBeLessThan(0.15);
  });

  it('needs 4 samples', () => {
    expect(linearCka(gaussian(1, 3, 2), gaussian(2, 3, 2), 3, { debiased: true }).reason).toMatch(/at least 4 samples/);
  });
});
