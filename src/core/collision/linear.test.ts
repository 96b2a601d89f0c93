import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linearCollision } from './linear';
import { ridgeSolve, rowSpaceBasis } from './linalg';

interface LinearCase {
  name: string;
  H: number[][];
  k: number[];
  A: number[][];
  rank_AH: number;
  pairs: { x: number[]; x_prime: number[]; d_closed_form: number }[];
}
const linearFixture = JSON.parse(readFileSync(new URL('./fixtures/collision-linear.json', import.meta.url), 'utf8')) as { cases: LinearCase[] };

describe('linearCollision (closed form ½‖Vᵀ(x − x′)‖)', () => {
  it('identity map: d = ‖x − x′‖/2, points meet at the midpoint', () => {
    const r = linearCollision([1, 0, 0, 1], 2, 2, [0, 0], [3, 4]);
    expect(r.dRms).toBeCloseTo(2.5, 15);
    expect(r.objective).toBeCloseTo(12.5, 14);
    expect(Array.from(r.xTilde)).toEqual([1.5, 2]);
    expect(Array.from(r.xPrimeTilde)).toEqual([1.5, 2]);
  });
  it('rank-deficient map (repeated row, zero row): no NaN, only the row space counts', () => {
    // Rows (1,0,0), (2,0,0), (0,0,0): rank 1, so only the first coordinate must match.
    const r = linearCollision([1, 0, 0, 2, 0, 0, 0, 0, 0], 3, 3, [0, 1, 2], [4, 5, 9]);
    expect(r.rank).toBe(1);
    expect(r.dRms).toBeCloseTo(2, 15);
    expect(Array.from(r.xTilde)).toEqual([2, 1, 2]);
    expect(Array.from(r.xPrimeTilde)).toEqual([2, 5, 9]);
  });
  it('all-zero map: d = 0', () => {
    const r = linearCollision([0, 0], 1, 2, [0, 0], [1, 1]);
    expect(r.rank).toBe(0);
    expect(r.dRms).toBe(0);
  });
  for (const c of linearFixture.cases) {
    it(`fixture ${c.name}: matches d_closed_form and rank`, () => {
      for (const p of c.pairs) {
        const r = linearCollision(c.H.flat(), c.H.length, c.H[0].length, p.x, p.x_prime, { A: c.A.flat(), m: c.A.length });
        expect(r.rank).toBe(c.rank_AH);
        expect(Math.abs(r.dRms - p.d_closed_form)).toBeLessThanOrEqual(1e-12 * Math.max(1, p.d_closed_form));
        expect(r.dMax).toBe(r.dRms);
      }
    });
  }
});

describe('linalg', () => {
  it('rowSpaceBasis is orthonormal', () => {
    const { basis, rank } = rowSpaceBasis([1, 1, 0, 1, 2, 3, 2, 3, 3], 3, 3);
    expect(rank).toBe(2); // row 3 = row 1 + row 2
    for (let i = 0; i < rank; i++)
      for (let j = 0; j < rank; j++) {
        let d = 0;
        for (let c = 0; c < 3; c++) d += basis[i * 3 + c] * basis[j * 3 + c];
        expect(d).toBeCloseTo(i === j ? 1 : 0, 14);
      }
  });
  it('ridgeSolve: SPD exact, singular consistent → min-norm, zero → null', () => {
    const y = ridgeSolve([4, 2, 2, 3], [2, 1], 2, 0) as Float64Array;
    expect(y[0]).toBeCloseTo(0.5, 14);
    expect(y[1]).toBeCloseTo(0, 14);
    const s = ridgeSolve([1, 1, 1, 1], [2, 2], 2, 1e-12) as Float64Array;
    expect(s[0]).toBeCloseTo(1, 9);
    expect(s[1]).toBeCloseTo(1, 9);
    expect(ridgeSolve([0, 0, 0, 0], [1, 1], 2, 1e-6)).toBeNull();
  });
});
