import { describe, expect, it } from 'vitest';
import { detExp, detLog, detPow, detSinCos } from './detmath';

/** Relative (or, near zero, absolute) difference. */
const diff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('deterministic math (IEEE +, −, ×, ÷ only)', () => {
  it('hand-checkable values', () => {
    expect(detLog(1)).toBe(0);
    expect(detLog(Math.E)).toBeCloseTo(1, 15);
    expect(detLog(0)).toBe(-Infinity);
    expect(Number.isNaN(detLog(-1))).toBe(true);
    expect(detExp(0)).toBe(1);
    expect(detExp(1)).toBeCloseTo(Math.E, 15);
    expect(detExp(-800)).toBe(0);
    expect(detExp(800)).toBe(Infinity);
    const [s, c] = detSinCos(Math.PI / 6);
    expect(s).toBeCloseTo(0.5, 15);
    expect(c).toBeCloseTo(Math.sqrt(3) / 2, 15);
    expect(detPow(0.25, 0.5)).toBeCloseTo(0.5, 15);
  });

  it('agrees with Math.* within a few ulp on the ranges the lab uses', () => {
    let worst = { log: 0, exp: 0, sin: 0, cos: 0 };
    for (let i = 1; i <= 20000; i++) {
      const u = i / 20001; // (0, 1): the Gaussian draws' log argument
      const big = 1e-300 * 1.7 ** i; // many exponents, subnormal to huge
      worst.log = Math.max(worst.log, diff(detLog(u), Math.log(u)), Number.isFinite(big) && big > 0 ? diff(detLog(big), Math.log(big)) : 0);
      const x = -700 + (1400 * i) / 20000;
      worst.exp = Math.max(worst.exp, diff(detExp(x), Math.exp(x)));
      const t = (2 * Math.PI * i) / 20000;
      const [s, c] = detSinCos(t);
      // Absolute near the zeros of sin/cos, relative elsewhere.
      worst.sin = Math.max(worst.sin, Math.abs(s - Math.sin(t)));
      worst.cos = Math.max(worst.cos, Math.abs(c - Math.cos(t)));
    }
    worst = { ...worst };
    expect(worst.log).toBeLessThan(1e-15);
    expect(worst.exp).toBeLessThan(2e-13); // |x| up to 700 multiplies the reduction error
    expect(worst.sin).toBeLessThan(1e-15);
    expect(worst.cos).toBeLessThan(1e-15);
  });
});
