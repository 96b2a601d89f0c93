import { describe, expect, it } from 'vitest';
import { cachePut, cacheTouch, resultBytes } from './resultCache';

describe('result cache', () => {
  it('counts typed-array bytes of a nested result', () => {
    expect(resultBytes(new Float32Array(10))).toBe(40);
    const r = { a: { values: new Float32Array(4) }, b: [new Int32Array(2)] };
    // 16 + 8 bytes of data, plus the object overheads (3 objects/arrays × 64).
    expect(resultBytes(r)).toBe(16 + 8 + 3 * 64);
  });

  it('evicts the least recently used entries beyond the cap, never the new one', () => {
    let c = {};
    c = cachePut(c, { key: 'x', kind: 'slice', result: null, bytes: 40 }, 100);
    c = cachePut(c, { key: 'y', kind: 'slice', result: null, bytes: 40 }, 100);
    c = cacheTouch(c, 'x');
    c = cachePut(c, { key: 'z', kind: 'curve', result: null, bytes: 40 }, 100);
    expect(Object.keys(c).sort()).toEqual(['x', 'z']);
    c = cachePut(c, { key: 'big', kind: 'tsne', result: null, bytes: 500 }, 100);
    expect(Object.keys(c)).toEqual(['big']);
  });
});
