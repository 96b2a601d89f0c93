import { describe, expect, it } from 'vitest';
import { detectDataFormat, pairMnistFiles } from './detect';

const files = (...paths: string[]) => paths.map((path) => ({ path }));

describe('detectDataFormat', () => {
  it('an MNIST IDX pair, raw or gzipped, named after its split', () => {
    expect(detectDataFormat(files('t10k-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte'))).toEqual({
      format: 'mnist-idx', images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte.gz', id: 'mnist-t10k', name: 'MNIST (t10k)',
    });
    expect(detectDataFormat(files('m/images-idx3-ubyte', 'm/labels-idx1-ubyte'))).toMatchObject({ images: 'm/images-idx3-ubyte', labels: 'm/labels-idx1-ubyte', id: 'mnist', name: 'MNIST' });
  });

  it('the Kaggle names (train-images.idx3-ubyte) are an MNIST pair too (the CLI used to read them as an image folder)', () => {
    expect(detectDataFormat(files('train-images.idx3-ubyte', 'train-labels.idx1-ubyte'))).toMatchObject({
      format: 'mnist-idx', images: 'train-images.idx3-ubyte', labels: 'train-labels.idx1-ubyte', id: 'mnist-train',
    });
  });

  it('both splits: the test split, paired by name (the lab used to take the first images and the first labels file)', () => {
    const found = detectDataFormat(files('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'));
    expect(found).toMatchObject({ images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' });
    // One split raw and gzipped is one file, the raw one read.
    expect(detectDataFormat(files('x-images-idx3-ubyte.gz', 'x-images-idx3-ubyte', 'x-labels-idx1-ubyte'))).toMatchObject({ images: 'x-images-idx3-ubyte' });
  });

  it('refuses IDX sets it cannot pair, naming what it expected', () => {
    expect(() => detectDataFormat(files('train-images-idx3-ubyte'))).toThrow('train-images-idx3-ubyte: no matching labels file (train-labels-idx1-ubyte, raw or .gz) next to it');
    expect(() => detectDataFormat(files('t10k-labels-idx1-ubyte'))).toThrow('MNIST IDX needs two files: one with "images" and one with "labels" in its name (found t10k-labels-idx1-ubyte)');
    expect(() => detectDataFormat(files('a-images-idx3-ubyte', 'b-images-idx3-ubyte', 'a-labels-idx1-ubyte'))).toThrow(/several MNIST image files \(a-images-idx3-ubyte, b-images-idx3-ubyte\) and none is the test split/);
    // The partner is looked for in the images file's own folder only.
    expect(() => detectDataFormat(files('a/t10k-images-idx3-ubyte', 'b/t10k-labels-idx1-ubyte'))).toThrow(/a\/t10k-images-idx3-ubyte: no matching labels file/);
  });

  it('CIFAR-10 batches: every .bin, sorted, with batches.meta.txt; other files (readme.html) ignored', () => {
    // The official archive's folder: the lab used to read it as an image folder (readme.html is not a .bin).
    expect(detectDataFormat(files('c/readme.html', 'c/test_batch.bin', 'c/batches.meta.txt', 'c/data_batch_2.bin', 'c/data_batch_1.bin'))).toEqual({
      format: 'cifar-batches', batches: ['c/data_batch_1.bin', 'c/data_batch_2.bin', 'c/test_batch.bin'], meta: 'c/batches.meta.txt',
    });
    // Names decide, not sizes: a wrong-sized .bin is the CIFAR reader's error (the CLI used to skip it).
    expect(detectDataFormat(files('odd.bin'))).toEqual({ format: 'cifar-batches', batches: ['odd.bin'] });
  });

  it('IDX files and .bin batches together are two datasets: an error (the lab read MNIST, the CLI CIFAR)', () => {
    expect(() => detectDataFormat(files('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'test_batch.bin'))).toThrow(
      'found MNIST IDX files (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) and CIFAR-10 batches (test_batch.bin) together; give one dataset at a time',
    );
  });

  it('otherwise an image folder, junk left out', () => {
    expect(detectDataFormat(files('dog/b.png', 'cat/.DS_Store', 'cat/a.jpg', 'Thumbs.db', 'dog/desktop.ini', '._x'))).toEqual({ format: 'image-folder', images: ['cat/a.jpg', 'dog/b.png'] });
    expect(detectDataFormat([])).toEqual({ format: 'image-folder', images: [] });
    // "images" in a folder name does not make PNGs an IDX set.
    expect(detectDataFormat(files('images/cat/a.png'))).toMatchObject({ format: 'image-folder' });
  });

  it('full paths with either separator work the same', () => {
    expect(detectDataFormat(files('/d/m/t10k-images-idx3-ubyte', '/d/m/t10k-labels-idx1-ubyte'))).toMatchObject({ labels: '/d/m/t10k-labels-idx1-ubyte' });
    expect(detectDataFormat(files('C:\\m\\t10k-images-idx3-ubyte', 'C:\\m\\t10k-labels-idx1-ubyte'))).toMatchObject({ labels: 'C:\\m\\t10k-labels-idx1-ubyte' });
  });
});

describe('pairMnistFiles', () => {
  it('from either file of the pair', () => {
    const all = ['d/train-images-idx3-ubyte.gz', 'd/train-labels-idx1-ubyte.gz', 'd/t10k-images-idx3-ubyte'];
    expect(pairMnistFiles('d/train-labels-idx1-ubyte.gz', all)).toMatchObject({ images: 'd/train-images-idx3-ubyte.gz', labels: 'd/train-labels-idx1-ubyte.gz', id: 'mnist-train' });
    expect(() => pairMnistFiles('d/t10k-images-idx3-ubyte', all)).toThrow('d/t10k-images-idx3-ubyte: no matching labels file (t10k-labels-idx1-ubyte, raw or .gz) next to it');
    expect(() => pairMnistFiles('d/data-ubyte', all)).toThrow('d/data-ubyte: an MNIST IDX file needs "images" or "labels" in its name');
  });
});
