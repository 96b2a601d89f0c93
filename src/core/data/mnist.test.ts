import { describe, expect, it } from 'vitest';
// Node's gzip (core tests may use Node's modules) builds the fixture with an encoder
// independent of the DecompressionStream under test.
import { gzipSync } from 'node:zlib';
import { mnistFromIdx } from './mnist';

/** IDX file of unsigned bytes (same layout as in idx.test.ts; duplicated to keep test files independent). */
function makeIdx(shape: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((s, i) => view.setUint32(4 + 4 * i, s, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

function pair(n: number, rows: number, cols: number, labels: number[]) {
  const px = Array.from({ length: n * rows * cols }, (_, i) => (i * 17) % 256);
  return {
    images: { name: 'imgs-idx3', bytes: makeIdx([n, rows, cols], px) },
    labels: { name: 'labels-idx1', bytes: makeIdx([labels.length], labels) },
    px,
  };
}

describe('mnistFromIdx', () => {
  it('builds a 28×28×1 dataset scaled to [0, 1]', async () => {
    const p = pair(2, 28, 28, [3, 9]);
    const ds = await mnistFromIdx(p.images, p.labels, { id: 'm', name: 'M' });
    expect(ds).toMatchObject({ id: 'm', name: 'M', n: 2, height: 28, width: 28, channels: 1 });
    expect([...ds.labels]).toEqual([3, 9]);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(ds.images.length).toBe(2 * 28 * 28);
    expect(ds.images[1]).toBeCloseTo(17 / 255, 6);
    expect(ds.images[15]).toBeCloseTo(255 / 255, 6);
  });

  it('accepts gzipped files', async () => {
    const p = pair(2, 28, 28, [1, 2]);
    const ds = await mnistFromIdx(
      { name: 'i.gz', bytes: new Uint8Array(gzipSync(p.images.bytes)) },
      { name: 'l.gz', bytes: new Uint8Array(gzipSync(p.labels.bytes)) },
    );
    expect([...ds.labels]).toEqual([1, 2]);
  });

  it('rejects mismatched counts naming both files', async () => {
    const p = pair(2, 28, 28, [1, 2, 3]);
    await expect(mnistFromIdx(p.images, p.labels)).rejects.toThrow(
      'imgs-idx3 has 2 images but labels-idx1 has 3 labels; the two files must belong together',
    );
  });

  it('rejects a label out of range with its index', async () => {
    const p = pair(3, 28, 28, [1, 10, 2]);
    await expect(mnistFromIdx(p.images, p.labels)).rejects.toThrow('labels-idx1: label 10 at index 1 is out of range 0..9');
  });

  it('rejects wrong image dims unless size is null', async () => {
    const p = pair(2, 2, 3, [0, 1]);
    await expect(mnistFromIdx(p.images, p.labels)).rejects.toThrow('imgs-idx3: images are 2×3 but 28×28 was expected');
    const ds = await mnistFromIdx(p.images, p.labels, { size: null });
    expect([ds.height, ds.width]).toEqual([2, 3]);
  });

  it('spots swapped files', async () => {
    const p = pair(2, 28, 28, [0, 1]);
    await expect(mnistFromIdx(p.labels, p.images)).rejects.toThrow(/labels-idx1: expected an IDX images file .*swapped/);
  });
});
