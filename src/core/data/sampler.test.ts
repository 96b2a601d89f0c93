import { describe, expect, it } from 'vitest';
import { classBalancedSample, takeSamples } from './sampler';
import type { ImageDataset } from '../types';

// 95 labels over 10 classes in a scrambled fixed order; each class has 9 or 10 images.
const labels = new Int32Array(Array.from({ length: 95 }, (_, i) => (i < 50 ? (i * 7) % 10 : (i * 3) % 10)));

function countPerClass(idx: Int32Array, k = 10): number[] {
  const counts = new Array(k).fill(0);
  for (const i of idx) counts[labels[i]]++;
  return counts;
}

describe('classBalancedSample', () => {
  it('is balanced, with extras going to the lowest classes', () => {
    const s = classBalancedSample(labels, 10, 23, 42);
    expect(s.length).toBe(23);
    expect(countPerClass(s)).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    expect(new Set(s).size).toBe(23);
  });

  it('interleaves classes so every prefix is balanced', () => {
    const s = classBalancedSample(labels, 10, 30, 1);
    expect(Array.from(s, (i) => labels[i])).toEqual([...Array(3)].flatMap(() => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect([...classBalancedSample(labels, 10, 40, 7)]).toEqual([...classBalancedSample(labels, 10, 40, 7)]);
    expect([...classBalancedSample(labels, 10, 40, 7)]).not.toEqual([...classBalancedSample(labels, 10, 40, 8)]);
  });

  it('grows by extension: sample(n) is a prefix of sample(m > n)', () => {
    const big = classBalancedSample(labels, 10, 50, 3);
    for (const n of [1, 9, 10, 17, 33]) expect([...classBalancedSample(labels, 10, n, 3)]).toEqual([...big.subarray(0, n)]);
  });

  it('restricts to chosen classes in ascending order', () => {
    const s = classBalancedSample(labels, 10, 5, 0, { classes: [7, 2] });
    expect(Array.from(s, (i) => labels[i])).toEqual([2, 7, 2, 7, 2]);
  });

  it('errors when a class has too few images', () => {
    expect(() => classBalancedSample(labels, 10, 92, 0)).toThrow('sampler: class 1 has only 9 images but 10 are needed');
    const few = new Int32Array([0, 0, 0, 1]);
    expect(() => classBalancedSample(few, 2, 4, 0)).toThrow(
      'sampler: class 1 has only 1 images but 2 are needed for a balanced sample of 4 over 2 classes',
    );
    expect(() => classBalancedSample(few, 2, 2, 0, { classes: [3] })).toThrow(/class 3 is out of range/);
  });
});

describe('takeSamples', () => {
  it('copies the chosen images and labels in order', () => {
    const ds: ImageDataset = {
      id: 'd', name: 'D', n: 3, height: 1, width: 1, channels: 2,
      images: new Float32Array([0, 0.1, 1, 1.1, 2, 2.1]),
      labels: new Int32Array([5, 6, 7]),
      classNames: ['a'],
    };
    const sub = takeSamples(ds, new Int32Array([2, 0]));
    expect(sub.n).toBe(2);
    expect([...sub.images]).toEqual([...new Float32Array([2, 2.1, 0, 0.1])]);
    expect([...sub.labels]).toEqual([7, 5]);
    expect(() => takeSamples(ds, [3])).toThrow('d: sample index 3 is out of range 0..2');
  });
});
