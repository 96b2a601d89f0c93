import { describe, expect, it } from 'vitest';
import { classOfPath, decodeErrorMessage, imageFolderDataset, type DecodedImage } from './imageFolder';
import { LabError } from '../types';

/** A w×h RGBA image where every pixel is (r, g, b, 255). */
function solid(w: number, h: number, r: number, g = r, b = r): DecodedImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let p = 0; p < w * h; p++) data.set([r, g, b, 255], p * 4);
  return { width: w, height: h, channels: 4, data };
}

describe('imageFolderDataset', () => {
  const entries = [
    { path: 'zebra/1.png', image: solid(2, 2, 10) },
    { path: 'ant/b.png', image: solid(2, 2, 20) },
    { path: 'ant/a.png', image: solid(2, 2, 30) },
    { path: 'moth/x.jpg', image: solid(2, 2, 40) },
  ];

  it('sorts sub-folders by name for class indices and orders images by class then path', () => {
    const ds = imageFolderDataset(entries, { id: 'f' });
    expect(ds.classNames).toEqual(['ant', 'moth', 'zebra']);
    expect([...ds.labels]).toEqual([0, 0, 1, 2]);
    expect(ds).toMatchObject({ id: 'f', n: 4, height: 2, width: 2, channels: 1 });
    // ant/a.png (30) before ant/b.png (20), then moth (40), zebra (10); one value per pixel.
    expect(Array.from(ds.images.filter((_, i) => i % 4 === 0), (v) => Math.round(v * 255))).toEqual([30, 20, 40, 10]);
  });

  it('uses labels.txt order when given, allowing empty classes', () => {
    const ds = imageFolderDataset(entries, { labelsTxt: 'zebra\r\nmoth\nbee\nant\n' });
    expect(ds.classNames).toEqual(['zebra', 'moth', 'bee', 'ant']);
    expect([...ds.labels]).toEqual([0, 1, 3, 3]);
  });

  it('rejects a folder missing from labels.txt', () => {
    expect(() => imageFolderDataset(entries, { labelsTxt: 'ant\nmoth\n' })).toThrow(
      'zebra/: folder is not a class listed in labels.txt (ant, moth)',
    );
  });

  it('rejects duplicate names in labels.txt', () => {
    expect(() => imageFolderDataset(entries, { labelsTxt: 'ant\nant\n' })).toThrow('labels.txt: class "ant" is listed twice');
  });

  it('keeps 3 channels (dropping alpha) when any image has colour', () => {
    const ds = imageFolderDataset([
      { path: 'a/1.png', image: solid(1, 1, 5) },
      { path: 'b/2.png', image: solid(1, 1, 255, 0, 51) },
      { path: 'b/3.png', image: { width: 1, height: 1, channels: 1, data: new Uint8Array([102]) } },
    ]);
    expect(ds.channels).toBe(3);
    expect(Array.from(ds.images, (v) => Math.round(v * 255))).toEqual([5, 5, 5, 255, 0, 51, 102, 102, 102]);
  });

  it('names the odd file and both sizes on a size mismatch', () => {
    expect(() =>
      imageFolderDataset([
        { path: 'a/1.png', image: solid(2, 2, 0) },
        { path: 'b/2.png', image: solid(3, 2, 0) },
      ]),
    ).toThrow('b/2.png: image is 3×2 but a/1.png is 2×2; all images must have the same size');
  });

  it('rejects top-level files and empty input', () => {
    expect(() => imageFolderDataset([{ path: 'x.png', image: solid(1, 1, 0) }])).toThrow(LabError);
    expect(() => classOfPath('./x.png')).toThrow(/x\.png: image is at the top level/);
    expect(classOfPath('cat\\sub\\1.png')).toBe('cat');
    expect(() => imageFolderDataset([])).toThrow(/no images found/);
  });

  it('checks decoded data length', () => {
    const bad: DecodedImage = { width: 2, height: 2, channels: 3, data: new Uint8Array(11) };
    expect(() => imageFolderDataset([{ path: 'a/1.png', image: bad }])).toThrow('a/1.png: decoded data has 11 bytes, expected 12 (2×2×3)');
  });
});

describe('decodeErrorMessage', () => {
  it('gives one line naming the file', () => {
    expect(decodeErrorMessage('a/x.png')).toBe('a/x.png: not a decodable image');
    expect(decodeErrorMessage('a/x.png', new Error('bad\nstack'), 'a PNG or JPEG image')).toBe('a/x.png: not a PNG or JPEG image (bad)');
  });
});
