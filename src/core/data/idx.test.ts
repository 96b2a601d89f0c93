import { describe, expect, it } from 'vitest';
// Node's gzip (core tests may use Node's modules) builds the fixture with an encoder
// independent of the DecompressionStream under test.
import { gzipSync } from 'node:zlib';
import { gunzip, isGzip, parseIdx, readIdx } from './idx';
import { LabError } from '../types';

/** Build an IDX file: magic 0x000008DD, big-endian sizes, then `data`. */
function makeIdx(shape: number[], data: number[], type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = shape.length;
  shape.forEach((s, i) => view.setUint32(4 + 4 * i, s, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

// Two 2×3 images with distinct pixel values, easy to check by eye.
const IMAGES = makeIdx([2, 2, 3], [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);

describe('parseIdx', () => {
  it('reads a 2-image 2×3 file', () => {
    const r = parseIdx('imgs', IMAGES);
    expect(r.magic).toBe(0x00000803);
    expect(r.shape).toEqual([2, 2, 3]);
    expect([...r.data]).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
  });

  it('reads a 1-D labels file from an ArrayBuffer', () => {
    const f = makeIdx([3], [7, 0, 9]);
    const r = parseIdx('labels', f.buffer);
    expect(r.magic).toBe(0x00000801);
    expect(r.shape).toEqual([3]);
    expect([...r.data]).toEqual([7, 0, 9]);
  });

  it('rejects a wrong magic, naming the file and the magic', () => {
    const bad = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]);
    expect(() => parseIdx('pic.png', bad)).toThrow(LabError);
    expect(() => parseIdx('pic.png', bad)).toThrow('pic.png: not an IDX file (magic 0x89504e47)');
  });

  it('rejects unsupported element types', () => {
    const f = makeIdx([1], [0, 0, 0, 0], 0x0d);
    expect(() => parseIdx('floats', f)).toThrow(/floats: IDX element type 0x0d is not supported/);
  });

  it('reports truncation with the declared size', () => {
    const cut = IMAGES.subarray(0, IMAGES.length - 4);
    expect(() => parseIdx('t10k-images', cut)).toThrow(
      't10k-images: truncated: header says 2 items of 2×3 (28 bytes) but file has 24 bytes',
    );
  });

  it('reports a truncated header and an empty file', () => {
    expect(() => parseIdx('x', IMAGES.subarray(0, 10))).toThrow('x: truncated: the 3-D IDX header needs 16 bytes but file has 10 bytes');
    expect(() => parseIdx('x', new Uint8Array(0))).toThrow('x: empty file');
  });

  it('rejects trailing bytes', () => {
    const long = new Uint8Array(IMAGES.length + 3);
    long.set(IMAGES);
    expect(() => parseIdx('x', long)).toThrow(/x: 3 unexpected bytes after the data/);
  });
});

describe('readIdx (gzip)', () => {
  it('detects gzip and gives the same result as the raw file', async () => {
    const gz = new Uint8Array(gzipSync(IMAGES));
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(IMAGES)).toBe(false);
    const r = await readIdx('imgs.gz', gz);
    expect(r.shape).toEqual([2, 2, 3]);
    expect([...r.data]).toEqual([...parseIdx('imgs', IMAGES).data]);
  });

  it('reads raw input through the same entry point', async () => {
    const r = await readIdx('imgs', IMAGES);
    expect(r.shape).toEqual([2, 2, 3]);
  });

  it('turns corrupt gzip into a LabError naming the file', async () => {
    const gz = new Uint8Array(gzipSync(IMAGES));
    const cut = gz.subarray(0, gz.length - 12);
    await expect(gunzip('imgs.gz', cut)).rejects.toThrow(/^imgs\.gz: corrupt or truncated gzip data/);
    await expect(readIdx('imgs.gz', cut)).rejects.toBeInstanceOf(LabError);
  });
});
