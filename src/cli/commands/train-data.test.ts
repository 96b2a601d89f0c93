/**
 * The Train view's loaded data and `layerwise train --data PATH` split the same data the same
 * way: the view parses the picked files with the lab's data loader (datasetFromFiles, which
 * workers/train.worker.ts calls) and holds the probe set out with holdOutProbe; the CLI opens
 * the folder from disk and calls the same function. Real images: the lab's CIFAR-10 test
 * subset written back out as two CIFAR-10 binary batches.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFromFiles } from '../../core/data/fromFiles';
import { cliDataArg, holdOutProbe, trainCommand, trainSchema, userDataValue } from '../../core/train/definition';
import { defaults } from '../../core/schema';
import type { ImageDataset } from '../../core/types';
import { loadBuiltinDataset } from '../../node/images';
import { PUBLIC_DIR } from '../../node/paths';
import { openTrainingData } from './train';

const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-train-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Images [from, to) of `ds` as a CIFAR-10 binary batch: per record a label byte, then the R, G and B planes. */
function cifarBatch(ds: ImageDataset, from: number, to: number): Uint8Array {
  const plane = ds.height * ds.width;
  const out = new Uint8Array((to - from) * (1 + 3 * plane));
  for (let i = from, o = 0; i < to; i++) {
    out[o++] = ds.labels[i];
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) out[o++] = Math.round(ds.images[(i * plane + p) * 3 + c] * 255);
  }
  return out;
}

/** A copy with one value changed: sameBytes can fail. */
const tweaked = (a: Float32Array) => {
  const b = a.slice();
  b[b.length - 1] += 1;
  return b;
};

const files: { path: string; bytes: ArrayBuffer }[] = [];

beforeAll(async () => {
  const cifar = await loadBuiltinDataset('cifar10-test', PUBLIC_DIR);
  // Two batches of unequal size: the order across files matters to the split.
  for (const [name, from, to] of [['data_batch_1.bin', 0, 700], ['data_batch_2.bin', 700, 1500]] as const) {
    const bytes = cifarBatch(cifar, from, to);
    writeFileSync(path.join(dir, name), bytes);
    files.push({ path: name, bytes: bytes.slice().buffer });
  }
});

/** Byte equality of two typed arrays (vitest's deep equality takes minutes on millions of floats). */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const noDecode = async (): Promise<never> => {
  throw new Error('CIFAR batches need no image decoder');
};

describe('training data the user loads: the view and the CLI hold out the same probe set', () => {
  it('same files, same seed: the same probe images and the same training images in the same order', async () => {
    // Picked in another order: the loader sorts them, as the CLI lists the folder.
    const all = await datasetFromFiles([...files].reverse(), { decode: noDecode, id: 'user-data', name: 'batches' });
    const view = holdOutProbe(all, 100, 7);
    const cli = await openTrainingData(dir, 100, 7);
    expect(all.n).toBe(1500);
    expect(view.train.n).toBe(1400);
    expect(cli.train.n).toBe(1400);
    expect(Array.from(view.probe.labels)).toEqual(Array.from(cli.probe.labels));
    expect(sameBytes(view.probe.images, cli.probe.images)).toBe(true);
    expect(sameBytes(view.train.labels, cli.train.labels)).toBe(true);
    expect(sameBytes(view.train.images, cli.train.images)).toBe(true);
    expect(sameBytes(view.train.images, tweaked(view.train.images))).toBe(false);
    // Class-balanced (ten of each class) and disjoint from the training part.
    expect(Array.from({ length: 10 }, (_, c) => view.probe.labels.filter((l) => l === c).length)).toEqual(Array(10).fill(10));
    expect(new Set(view.held).size).toBe(100);

    // Another seed holds out other images.
    const other = holdOutProbe(all, 100, 8);
    expect(Array.from(other.held)).not.toEqual(Array.from(view.held));
  });

  it('refuses a probe set as large as the data, with one line', async () => {
    const all = await datasetFromFiles(files.slice(0, 1), { decode: noDecode, id: 'user-data', name: 'one batch' });
    expect(() => holdOutProbe(all, 700, 0)).toThrow('700 probe images leave no training images in cifar10 (700 images)');
  });

  it('names the data in the CLI command: the folder or file, a placeholder folder for several loose files', () => {
    expect(userDataValue({ folder: 'cifar-10-batches-bin', files: ['data_batch_1.bin'] })).toBe('user:cifar-10-batches-bin');
    expect(userDataValue({ files: ['data_batch_1.bin'] })).toBe('user:data_batch_1.bin');
    const loose = userDataValue({ files: ['data_batch_2.bin', 'data_batch_1.bin', 'data_batch_3.bin'] });
    expect(loose).toBe('user:data_batch_1.bin +2');
    expect(cliDataArg(loose)).toBe('<folder holding data_batch_1.bin and the 2 other files>');
    expect(cliDataArg('user:cifar-10-batches-bin')).toBe('cifar-10-batches-bin');
    expect(cliDataArg('mnist')).toBe('mnist');
    const command = trainCommand({ ...defaults(trainSchema), data: 'user:my images' }, 'out', 'wasm');
    expect(command).toContain("--data 'my images'");
  });
});
