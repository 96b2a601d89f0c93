import { describe, expect, it } from 'vitest';
import { cifarFromBatches, CIFAR_RECORD_BYTES } from './cifar';

/** A record whose pixel (y, x) in channel c has value (c * 80 + y * 2 + x) % 256. */
function record(label: number, bias = 0): Uint8Array {
  const r = new Uint8Array(CIFAR_RECORD_BYTES);
  r[0] = label;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
    r[1 + c * 1024 + y * 32 + x] = (bias + c * 80 + y * 2 + x) % 256;
  }
  return r;
}

function batch(...records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.length * CIFAR_RECORD_BYTES);
  records.forEach((r, i) => out.set(r, i * CIFAR_RECORD_BYTES));
  return out;
}

describe('cifarFromBatches', () => {
  it('transposes CHW records to NHWC', () => {
    const ds = cifarFromBatches([{ name: 'b.bin', bytes: batch(record(3), record(9, 1)) }]);
    expect(ds).toMatchObject({ n: 2, height: 32, width: 32, channels: 3 });
    expect([...ds.labels]).toEqual([3, 9]);
    expect(ds.classNames[0]).toBe('airplane');
    expect(ds.classNames[9]).toBe('truck');
    const at = (i: number, y: number, x: number, c: number) => Math.round(ds.images[((i * 32 + y) * 32 + x) * 3 + c] * 255);
    expect(at(0, 0, 0, 0)).toBe(0);
    expect(at(0, 0, 0, 1)).toBe(80);
    expect(at(0, 0, 0, 2)).toBe(160);
    expect(at(0, 5, 7, 2)).toBe(160 + 10 + 7);
    expect(at(0, 31, 31, 1)).toBe(80 + 62 + 31);
    expect(at(1, 2, 1, 0)).toBe(1 + 4 + 1);
  });

  it('concatenates batches in order and honours limit', () => {
    const files = [
      { name: 'a.bin', bytes: batch(record(1), record(2)) },
      { name: 'b.bin', bytes: batch(record(3)) },
    ];
    expect([...cifarFromBatches(files).labels]).toEqual([1, 2, 3]);
    expect([...cifarFromBatches(files, { limit: 2 }).labels]).toEqual([1, 2]);
  });

  it('takes class names from batches.meta.txt', () => {
    const meta = new TextEncoder().encode('a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const ds = cifarFromBatches([
      { name: 'dir/batches.meta.txt', bytes: meta },
      { name: 'dir/test_batch.bin', bytes: batch(record(0)) },
    ]);
    expect(ds.classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    expect(() => cifarFromBatches([{ name: 'b.bin', bytes: batch(record(0)) }], { metaTxt: 'x\ny' })).toThrow(
      'batches.meta.txt: expected 10 class names (one per line) but found 2',
    );
  });

  it('rejects sizes that are not a multiple of 3073', () => {
    expect(() => cifarFromBatches([{ name: 'data_batch_1.bin', bytes: new Uint8Array(3074) }])).toThrow(
      /^data_batch_1\.bin: size 3074 bytes is not a multiple of 3073/,
    );
  });

  it('rejects a label > 9 naming file and record', () => {
    expect(() => cifarFromBatches([{ name: 'x.bin', bytes: batch(record(1), record(1), record(12)) }])).toThrow(
      'x.bin: record 2 has label 12, out of range 0..9',
    );
  });

  it('rejects an empty list', () => {
    expect(() => cifarFromBatches([])).toThrow(/no batch files/);
  });
});
