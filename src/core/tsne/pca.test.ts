import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { LabError } from '../types';
import { jacobiEigen } from '../linalg/jacobi';
import { fitPca, projectPca } from './pca';

describe('jacobiEigen', () => {
  it('diagonalises a hand-checkable 2 × 2 matrix: [[2,1],[1,2]] → 3, 1', () => {
    const { values, vectors } = jacobiEigen(new Float64Array([2, 1, 1, 2]), 2);
    const sorted = Array.from(values).sort((a, b) => b - a);
    expect(sorted[0]).toBeCloseTo(3, 12);
    expect(sorted[1]).toBeCloseTo(1, 12);
    // Eigenvector of 3 is (1,1)/√2 up to sign.
    const j = values[0] > values[1] ? 0 : 1;
    expect(Math.abs(vectors[0 * 2 + j])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(Math.abs(vectors[1 * 2 + j])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('satisfies A v = λ v on a random symmetric 12 × 12 matrix', () => {
    const n = 12;
    const rng = createRng(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const copy = Float64Array.from(a);
    const { values, vectors } = jacobiEigen(a, n);
    for (let c = 0; c < n; c++) {
      for (let r = 0; r < n; r++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += copy[r * n + k] * vectors[k * n + c];
        expect(av).toBeCloseTo(values[c] * vectors[r * n + c], 9);
      }
    }
  });
});

/** Points x = 3·u·e_2 + 1·v·e_0 + 0.1·noise in 4-D, centred at (1, 2, 3, 4). */
function anisotropic(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4 + 0] = 1 + 1 * rng.normal();
    out[i * 4 + 1] = 2 + 0.1 * rng.normal();
    out[i * 4 + 2] = 3 + 3 * rng.normal();
    out[i * 4 + 3] = 4 + 0.1 * rng.normal();
  }
  return out;
}

describe('fitPca / projectPca (spec §2.1)', () => {
  it('finds the high-variance axes in order with the largest-|loading| entry positive', () => {
    const data = anisotropic(400, 1);
    const fit = Int32Array.from({ length: 400 }, (_, i) => i);
    const m = fitPca(data, 4, fit, { nComponents: 2 });
    expect(m.k).toBe(2);
    expect(m.components[0 * 4 + 2]).toBeGreaterThan(0.99); // PC1 ≈ +e_2
    expect(m.components[1 * 4 + 0]).toBeGreaterThan(0.99); // PC2 ≈ +e_0
    expect(m.variances[0]).toBeGreaterThan(7); // ≈ 9
    expect(m.variances[0]).toBeLessThan(11);
    expect(m.mean[3]).toBeCloseTo(4, 1);
  });

  it('fits on the clean rows only: adversarial rows never move the basis, but are projected', () => {
    const clean = anisotropic(200, 2);
    const both = new Float32Array(400 * 4);
    both.set(clean, 0);
    // Wild "adversarial" rows along e_1 that would dominate a fit on all rows.
    for (let i = 0; i < 200; i++) both[(200 + i) * 4 + 1] = 100 * (i % 2 ? 1 : -1);
    const cleanRows = Int32Array.from({ length: 200 }, (_, i) => i);
    const mClean = fitPca(clean, 4, cleanRows, { nComponents: 3 });
    const mBoth = fitPca(both, 4, cleanRows, { nComponents: 3 });
    expect(Array.from(mBoth.components)).toEqual(Array.from(mClean.components));
    const proj = projectPca(mBoth, both);
    expect(proj.length).toBe(400 * 3);
    // Clean rows project identically to a clean-only projection.
    expect(Array.from(proj.subarray(0, 600))).toEqual(Array.from(projectPca(mClean, clean)));
    // Projected clean rows are centred.
    let s = 0;
    for (let i = 0; i < 200; i++) s += proj[i * 3];
    expect(Math.abs(s / 200)).toBeLessThan(1e-4);
  });

  it('is deterministic and the subspace-iteration path agrees with Jacobi', () => {
    // 40-D data with a decaying spectrum (std 40/(c+1) on axis c) in a random rotation.
    const d = 40;
    const n = 300;
    const rng = createRng(7);
    const data = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) data[i * d + c] = (rng.normal() * 40) / (c + 1) ** 1.5;
    const fit = Int32Array.from({ length: n }, (_, i) => i);
    const a = fitPca(data, d, fit, { nComponents: 5, method: 'jacobi' });
    const b = fitPca(data, d, fit, { nComponents: 5, method: 'subspace', seed: 11 });
    const a2 = fitPca(data, d, fit, { nComponents: 5, method: 'jacobi' });
    expect(Array.from(a2.components)).toEqual(Array.from(a.components));
    for (let c = 0; c < 5; c++) {
      expect(b.variances[c]).toBeCloseTo(a.variances[c], 6);
      let dot = 0;
      for (let r = 0; r < d; r++) dot += a.components[c * d + r] * b.components[c * d + r];
      expect(dot).toBeCloseTo(1, 6); // same sign convention → +1, not −1
    }
  });

  it('clamps k to the input dimension and rejects bad input', () => {
    const data = anisotropic(10, 3);
    const fit = Int32Array.from({ length: 10 }, (_, i) => i);
    expect(fitPca(data, 4, fit).k).toBe(4);
    expect(() => fitPca(data, 3, fit)).toThrow(LabError);
    expect(() => fitPca(data, 4, Int32Array.from([0]))).toThrow(LabError);
  });
});

describe('fitPca Gram path (fewer rows than dimensions)', () => {
  it('matches the covariance path on a wide matrix: same variances, same subspace', () => {
    const rng = createRng(7);
    const n = 40;
    const d = 300; // > JACOBI_MAX_DIM, so 'auto' takes the Gram path
    const x = new Float32Array(n * d);
    // Low-rank signal plus noise so the top components are well separated.
    for (let i = 0; i < n; i++) {
      const a = 3 * rng.normal();
      const b = rng.normal();
      for (let c = 0; c < d; c++) x[i * d + c] = a * Math.sin(c / 7) + b * Math.cos(c / 3) + 0.05 * rng.normal();
    }
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const gram = fitPca(x, d, rows, { nComponents: 5 });
    const cov = fitPca(x, d, rows, { nComponents: 5, method: 'jacobi' });
    expect(gram.k).toBe(5);
    for (let c = 0; c < 5; c++) expect(gram.variances[c]).toBeCloseTo(cov.variances[c], 6);
    // Sign-fixed the same way, so the leading components coincide.
    for (let c = 0; c < 2; c++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += gram.components[c * d + r] * cov.components[c * d + r];
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-6);
    }
  });

  it('caps the component count at n − 1 (the rank of centred rows)', () => {
    const d = 400;
    const x = new Float32Array(3 * d).map((_, i) => Math.sin(i));
    const m = fitPca(x, d, Int32Array.from([0, 1, 2]), { nComponents: 50 });
    expect(m.k).toBe(2);
  });
});
