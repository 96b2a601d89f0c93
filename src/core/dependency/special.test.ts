import { describe, expect, it } from 'vitest';
import { choleskyInPlace, choleskySolveInPlace } from './linalg';
import { digamma } from './special';

const EULER_GAMMA = 0.5772156649015329;

describe('digamma', () => {
  it('matches closed forms', () => {
    expect(digamma(1)).toBeCloseTo(-EULER_GAMMA, 12);
    expect(digamma(0.5)).toBeCloseTo(-EULER_GAMMA - 2 * Math.log(2), 12);
    // ψ(n) = H_{n−1} − γ for integers.
    let h = 0;
    for (let n = 1; n <= 50; n++) {
      expect(digamma(n)).toBeCloseTo(h - EULER_GAMMA, 11);
      h += 1 / n;
    }
    expect(digamma(1e6)).toBeCloseTo(Math.log(1e6) - 0.5e-6, 12);
    expect(Number.isNaN(digamma(0))).toBe(true);
  });
});

describe('cholesky', () => {
  it('solves a 2×2 SPD system', () => {
    // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0].
    const a = new Float64Array([4, 2, 2, 3]);
    choleskyInPlace(a, 2);
    expect(a[0]).toBeCloseTo(2, 12);
    expect(a[2]).toBeCloseTo(1, 12);
    expect(a[3]).toBeCloseTo(Math.SQRT2, 12);
    const b = new Float64Array([2, 1]);
    choleskySolveInPlace(a, 2, b, 1);
    expect(b[0]).toBeCloseTo(0.5, 12);
    expect(b[1]).toBeCloseTo(0, 12);
    expect(() => choleskyInPlace(new Float64Array([1, 2, 2, 1]), 2)).toThrow();
  });
});
