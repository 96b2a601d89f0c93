/**
 * Which dataset format a set of files holds, from their names alone: one rule for the lab's
 * dropped files (workers/lab.worker.ts) and the CLI's `--data <folder>` (src/node/images.ts).
 * Pure: the callers list the files and read the bytes.
 *
 * The rules, in order (junk — dotfiles, Thumbs.db, desktop.ini — is ignored throughout):
 *  1. MNIST IDX: any file named like IDX data (`idx<digit>` or `ubyte` in its name). The images
 *     file has "images" in its name; its labels file is found next to it by swapping
 *     images → labels and idx3 → idx1, raw or `.gz` (t10k-images-idx3-ubyte →
 *     t10k-labels-idx1-ubyte, train-images.idx3-ubyte → train-labels.idx1-ubyte). Several
 *     images files: the test split (`t10k…`) is taken, else it is an error.
 *  2. CIFAR-10 batches: any `*.bin` file. Every `.bin` is a batch (a wrong size is the reader's
 *     one-line error, not a reason to guess another format); `batches.meta.txt` gives the class
 *     names; anything else (the archive's readme.html) is ignored.
 *  3. Otherwise an image folder: `<class>/<...>/<image>`, decoded by the caller.
 * IDX files and `.bin` batches together are an error: two datasets, not one.
 */
import { LabError } from '../types';

export interface DataFile {
  /** As the caller names the file in messages: a path relative to a dropped folder, or a full path. */
  path: string;
}

export type DataFormat =
  | { format: 'mnist-idx'; images: string; labels: string; id: string; name: string }
  | { format: 'cifar-batches'; batches: string[]; meta?: string }
  | { format: 'image-folder'; images: string[] };

export const CIFAR_META_FILE = 'batches.meta.txt';

/** The last segment of a path (either separator). */
export function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1];
}

/** Files no dataset holds: dotfiles (.DS_Store, ._x) and OS thumbnail caches. */
export function isJunkName(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

/** An MNIST-style IDX file by name: `t10k-images-idx3-ubyte`, `train-labels.idx1-ubyte.gz`, … */
export function isIdxName(name: string): boolean {
  return /idx\d|ubyte/.test(name);
}

const stripGz = (name: string) => name.replace(/\.gz$/, '');

/** "t10k-images-idx3-ubyte" → id mnist-t10k, name "MNIST (t10k)": the prefix tells splits (and MNIST look-alikes) apart. */
function mnistNaming(imagesPath: string): { id: string; name: string } {
  const stem = baseName(imagesPath).replace(/[-._]?images.*$/, '');
  return { id: stem ? `mnist-${stem}` : 'mnist', name: stem ? `MNIST (${stem})` : 'MNIST' };
}

/**
 * The images and labels files of the MNIST pair that `chosen` (either of the two) belongs to,
 * its partner looked up among `paths` in the same folder: images ↔ labels, idx3 ↔ idx1, raw
 * or `.gz`. A LabError names the partner it expected.
 */
export function pairMnistFiles(chosen: string, paths: readonly string[]): Extract<DataFormat, { format: 'mnist-idx' }> {
  const base = baseName(chosen);
  const isImages = base.includes('images');
  if (!isImages && !base.includes('labels')) {
    throw new LabError(`${chosen}: an MNIST IDX file needs "images" or "labels" in its name (e.g. t10k-images-idx3-ubyte)`);
  }
  const want = isImages ? base.replace('images', 'labels').replace('idx3', 'idx1') : base.replace('labels', 'images').replace('idx1', 'idx3');
  const dir = chosen.slice(0, chosen.length - base.length);
  const have = new Set(paths);
  const partner = [want, stripGz(want), `${stripGz(want)}.gz`].map((n) => dir + n).find((p) => p !== chosen && have.has(p));
  if (!partner) throw new LabError(`${chosen}: no matching ${isImages ? 'labels' : 'images'} file (${want}, raw or .gz) next to it`);
  const [images, labels] = isImages ? [chosen, partner] : [partner, chosen];
  return { format: 'mnist-idx', images, labels, ...mnistNaming(images) };
}

/** The dataset format of `files` (the rules above); a LabError when they hold none or two. */
export function detectDataFormat(files: readonly DataFile[]): DataFormat {
  const paths = files.map((f) => f.path).filter((p) => !isJunkName(baseName(p))).sort();
  const idx = paths.filter((p) => isIdxName(baseName(p)));
  const bins = paths.filter((p) => !isIdxName(baseName(p)) && baseName(p).endsWith('.bin'));
  if (idx.length > 0 && bins.length > 0) {
    throw new LabError(`found MNIST IDX files (${idx.map(baseName).join(', ')}) and CIFAR-10 batches (${bins.map(baseName).join(', ')}) together; give one dataset at a time`);
  }
  if (idx.length > 0) {
    const images = idx.filter((p) => baseName(p).includes('images'));
    if (images.length === 0) throw new LabError(`MNIST IDX needs two files: one with "images" and one with "labels" in its name (found ${idx.map(baseName).join(', ')})`);
    // One file, raw or gzipped (sorted: the raw one first); of several, the test split.
    const pick = new Set(images.map(stripGz)).size === 1 ? images[0] : images.find((p) => baseName(p).startsWith('t10k'));
    if (!pick) throw new LabError(`several MNIST image files (${images.map(baseName).join(', ')}) and none is the test split (t10k); give the one to use`);
    return pairMnistFiles(pick, idx);
  }
  if (bins.length > 0) {
    const meta = paths.find((p) => baseName(p) === CIFAR_META_FILE);
    return { format: 'cifar-batches', batches: bins, ...(meta ? { meta } : {}) };
  }
  return { format: 'image-folder', images: paths };
}
