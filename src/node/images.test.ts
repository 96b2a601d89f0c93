/**
 * Tests of the Node adapter src/node/images.ts (kept next to the readers it wraps):
 * real files in a temporary folder, PNG/JPEG written with pngjs/jpeg-js.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { loadBuiltinDataset, loadDatasetFromPath, loadImageFolder } from './images';
import { packDataset } from '../core/data/packed';

let root: string;

function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) p.data.set([...rgb, 255], i * 4);
  return PNG.sync.write(p);
}

function jpg(w: number, h: number, v: number): Buffer {
  const data = Buffer.alloc(w * h * 4, v);
  return jpeg.encode({ width: w, height: h, data }, 100).data;
}

function idxFile(shape: number[], data: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * shape.length + data.length);
  b[2] = 0x08;
  b[3] = shape.length;
  shape.forEach((s, i) => b.writeUInt32BE(s, 4 + 4 * i));
  Buffer.from(data).copy(b, 4 + 4 * shape.length);
  return b;
}

async function put(rel: string, data: Buffer | string): Promise<string> {
  const p = path.join(root, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, data);
  return p;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'layerwise-data-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadImageFolder', () => {
  it('decodes PNG and JPEG sub-folders, skipping dotfiles, honouring labels.txt', async () => {
    await put('f1/red/a.png', png(2, 2, [200, 0, 0]));
    await put('f1/gray/b.jpg', jpg(2, 2, 128));
    await put('f1/gray/.DS_Store', 'junk');
    let ds = await loadImageFolder(path.join(root, 'f1'));
    expect(ds.classNames).toEqual(['gray', 'red']);
    expect(ds).toMatchObject({ n: 2, width: 2, height: 2, channels: 3, name: 'f1' });
    expect(Math.round(ds.images[12] * 255)).toBe(200); // first pixel of the red image
    await put('f1/labels.txt', 'red\ngray\n');
    ds = await loadImageFolder(path.join(root, 'f1'));
    expect(ds.classNames).toEqual(['red', 'gray']);
    expect([...ds.labels]).toEqual([0, 1]);
  });

  it('rejects a text file named .png with one line naming it', async () => {
    await put('f2/cat/ok.png', png(1, 1, [1, 2, 3]));
    const bad = await put('f2/cat/x.png', 'hello, not an image');
    await expect(loadImageFolder(path.join(root, 'f2'))).rejects.toThrow(`${bad}: not a PNG or JPEG image`);
  });

  it('rejects a corrupt PNG with the decoder reason', async () => {
    const good = png(2, 2, [1, 2, 3]);
    const bad = await put('f3/cat/cut.png', good.subarray(0, 30));
    await expect(loadImageFolder(path.join(root, 'f3'))).rejects.toThrow(new RegExp(`^${bad.replace(/[.\\/]/g, '\\$&')}: not a PNG or JPEG image \\(`));
  });

  it('rejects top-level images before decoding', async () => {
    await put('f4/cat/a.png', png(1, 1, [0, 0, 0]));
    const top = await put('f4/stray.png', 'x');
    await expect(loadImageFolder(path.join(root, 'f4'))).rejects.toThrow(`${top}: image is at the top level`);
  });
});

describe('loadDatasetFromPath', () => {
  it('finds the MNIST labels file next to the images file, raw or gzipped', async () => {
    const pixels = Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 256);
    const imgs = await put('m/t10k-images-idx3-ubyte', idxFile([2, 28, 28], pixels));
    await put('m/t10k-labels-idx1-ubyte.gz', gzipSync(idxFile([2], [4, 2])));
    const ds = await loadDatasetFromPath(imgs);
    expect([...ds.labels]).toEqual([4, 2]);
    expect(ds.id).toBe('mnist-t10k');
    expect([...(await loadDatasetFromPath(path.join(root, 'm'))).labels]).toEqual([4, 2]);
    const lone = await put('m2/train-images-idx3-ubyte', idxFile([1, 28, 28], pixels.slice(0, 784)));
    await expect(loadDatasetFromPath(lone)).rejects.toThrow(/no matching labels file \(train-labels-idx1-ubyte, raw or \.gz\)/);
  });

  it('reads a folder of CIFAR batches, choosing a split', async () => {
    const rec = (label: number) => {
      const r = Buffer.alloc(3073, 7);
      r[0] = label;
      return r;
    };
    await put('c/data_batch_1.bin', Buffer.concat([rec(1), rec(2)]));
    await put('c/test_batch.bin', rec(5));
    await put('c/readme.html', 'x');
    expect([...(await loadDatasetFromPath(path.join(root, 'c'))).labels]).toEqual([1, 2, 5]);
    expect([...(await loadDatasetFromPath(path.join(root, 'c'), { split: 'test' })).labels]).toEqual([5]);
  });

  it('applies the shared detection rule (src/core/data/detect.ts) to folders and single IDX files', async () => {
    const pixels = Array.from({ length: 28 * 28 }, (_, i) => i % 256);
    // Kaggle names, gzipped labels: an MNIST pair, from the folder or either file.
    await put('k/train-images.idx3-ubyte', idxFile([1, 28, 28], pixels));
    const lbl = await put('k/train-labels.idx1-ubyte.gz', gzipSync(idxFile([1], [7])));
    expect(await loadDatasetFromPath(path.join(root, 'k'))).toMatchObject({ id: 'mnist-train', n: 1 });
    expect([...(await loadDatasetFromPath(lbl)).labels]).toEqual([7]);
    expect([...(await loadDatasetFromPath(`./${path.relative('.', lbl)}`)).labels]).toEqual([7]);
    // A wrong-sized .bin in a folder is a CIFAR batch with a size error, not an image.
    await put('odd/x.bin', Buffer.alloc(100));
    await expect(loadDatasetFromPath(path.join(root, 'odd'))).rejects.toThrow(/x\.bin: size 100 bytes is not a multiple of 3073/);
    // IDX files and batches together: two datasets.
    await put('both/t10k-images-idx3-ubyte', idxFile([1, 28, 28], pixels));
    await put('both/test_batch.bin', Buffer.alloc(3073));
    await expect(loadDatasetFromPath(path.join(root, 'both'))).rejects.toThrow(/found MNIST IDX files \(t10k-images-idx3-ubyte\) and CIFAR-10 batches \(test_batch\.bin\) together/);
  });

  it('falls back to an image folder and reports missing paths', async () => {
    expect((await loadDatasetFromPath(path.join(root, 'f1'))).classNames).toEqual(['red', 'gray']);
    await expect(loadDatasetFromPath(path.join(root, 'nope'))).rejects.toThrow(/nope: no such file or folder/);
  });
});

describe('loadBuiltinDataset', () => {
  it('reads public/data/<id>.json and its .bin, and lists ids when unknown', async () => {
    const { index, bytes } = packDataset({
      id: 'tiny', name: 'Tiny', n: 1, height: 1, width: 1, channels: 1,
      images: new Float32Array([1]), labels: new Int32Array([0]), classNames: ['only'],
    });
    await put('pub/data/tiny.json', JSON.stringify(index));
    await put('pub/data/tiny.bin', Buffer.from(bytes));
    const ds = await loadBuiltinDataset('tiny', path.join(root, 'pub'));
    expect(ds).toMatchObject({ id: 'tiny', n: 1, classNames: ['only'] });
    await expect(loadBuiltinDataset('../x', path.join(root, 'pub'))).rejects.toThrow(/no built-in dataset "\.\.\/x" \(available: tiny\)/);
  });
});

describe('committed built-in data', () => {
  it('cifar10-test is 2,000 images, 200 per class, traceable to the source file', async () => {
    const publicDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../public');
    const ds = await loadBuiltinDataset('cifar10-test', publicDir);
    expect(ds).toMatchObject({ n: 2000, height: 32, width: 32, channels: 3 });
    const counts = new Array(10).fill(0);
    for (const l of ds.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(200));
  });
});
