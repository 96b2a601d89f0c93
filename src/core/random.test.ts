import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, shuffleInPlace } from './random';

describe('seeded randomness', () => {
  it('repeats for a seed and differs across seeds and purposes', () => {
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRng(8).next()).not.toBe(xs[0]);
    expect(deriveSeed(1, 'sampler')).not.toBe(deriveSeed(1, 'attack'));
    expect(deriveSeed(1, 'sampler')).toBe(deriveSeed(1, 'sampler'));
  });

  it('uniforms lie in [0,1) and normals have mean ≈ 0, variance ≈ 1', () => {
    const rng = createRng(123);
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const z = rng.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });

  it('shuffles to a permutation', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7];
    shuffleInPlace(xs, createRng(1));
    expect([...xs].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
