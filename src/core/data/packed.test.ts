import { describe, expect, it } from 'vitest';
import { packDataset, parsePackedDataset, validatePackedIndex, type PackedDatasetIndex } from './packed';
import type { ImageDataset } from '../types';

const ds: ImageDataset = {
  id: 'tiny',
  name: 'Tiny',
  n: 2,
  height: 1,
  width: 2,
  channels: 3,
  images: new Float32Array([0, 1, 0.5, 0.2, 0.4, 0.6, 1, 0, 0, 0.001, 0.999, 2]),
  labels: new Int32Array([1, 0]),
  classNames: ['a', 'b'],
};

describe('packed datasets', () => {
  it('packs NHWC uint8 pixels then labels, and reads them back', () => {
    const { index, bytes } = packDataset(ds, { source: 'hand-made', originalIndices: [7, 3] });
    expect(index).toMatchObject({ id: 'tiny', n: 2, height: 1, width: 2, channels: 3, file: 'tiny.bin', source: 'hand-made', notes: '' });
    expect(index.originalIndices).toEqual([7, 3]);
    expect([...bytes]).toEqual([0, 255, 128, 51, 102, 153, 255, 0, 0, 0, 255, 255, 1, 0]);
    const back = parsePackedDataset(JSON.parse(JSON.stringify(index)) as PackedDatasetIndex, bytes.buffer);
    expect(back).toMatchObject({ id: 'tiny', name: 'Tiny', n: 2, channels: 3, classNames: ['a', 'b'] });
    expect([...back.labels]).toEqual([1, 0]);
    expect(back.images[1]).toBe(1);
    expect(back.images[3]).toBeCloseTo(51 / 255, 6);
  });

  it('requires the exact byte length', () => {
    const { index, bytes } = packDataset(ds);
    expect(() => parsePackedDataset(index, bytes.subarray(0, 13))).toThrow(
      'tiny.bin: size 13 bytes but tiny.json says 14 (2 × 1×2×3 pixels + 2 labels)',
    );
  });

  it('rejects labels beyond classNames', () => {
    const { index, bytes } = packDataset(ds);
    bytes[13] = 2;
    expect(() => parsePackedDataset(index, bytes)).toThrow('tiny.bin: label 2 of image 1 is out of range 0..1');
  });

  it('validates index fields', () => {
    expect(() => validatePackedIndex({ id: 'x', name: 'x', file: 'x.bin', n: 0 }, 'x.json')).toThrow('x.json: "n" must be a positive integer, got 0');
    expect(() => validatePackedIndex([], 'x.json')).toThrow('x.json: expected a JSON object');
    const { index } = packDataset(ds);
    expect(() => validatePackedIndex({ ...index, classNames: [] }, 'x.json')).toThrow(/classNames/);
  });
});
