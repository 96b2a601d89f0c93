/**
 * MNIST from its two IDX files (images 0x00000803, labels 0x00000801), raw or gzipped.
 * Pixels are scaled by 1/255 to [0, 1], the range every model in the lab expects.
 */
import { LabError, type ImageDataset } from '../types';
import { hex32, readIdx, type Bytes, type IdxArray } from './idx';

export interface NamedBytes {
  /** File name or path, used in error messages. */
  name: string;
  bytes: Bytes;
}

export interface MnistOptions {
  id?: string;
  name?: string;
  /**
   * Required image size [rows, cols]; MNIST, Fashion-MNIST, KMNIST and EMNIST are all
   * 28×28. Pass null to accept any size (other single-channel IDX sets).
   */
  size?: [number, number] | null;
  /** Number of classes; labels must be < this. Default 10. */
  numClasses?: number;
}

const IDX_IMAGES = 0x00000803;
const IDX_LABELS = 0x00000801;

/** Check two parsed IDX files and build the dataset (sync; the async part is reading). */
export function mnistFromIdxArrays(
  images: { name: string; idx: IdxArray },
  labels: { name: string; idx: IdxArray },
  opts: MnistOptions = {},
): ImageDataset {
  const size = opts.size === undefined ? [28, 28] : opts.size;
  const numClasses = opts.numClasses ?? 10;
  const im = images.idx;
  const lb = labels.idx;
  if (im.magic !== IDX_IMAGES) {
    const hint = im.magic === IDX_LABELS ? ' (this looks like a labels file; were the two files swapped?)' : '';
    throw new LabError(
      `${images.name}: expected an IDX images file (magic ${hex32(IDX_IMAGES)}, 3-D) but found magic ${hex32(im.magic)}${hint}`,
    );
  }
  if (lb.magic !== IDX_LABELS) {
    const hint = lb.magic === IDX_IMAGES ? ' (this looks like an images file; were the two files swapped?)' : '';
    throw new LabError(
      `${labels.name}: expected an IDX labels file (magic ${hex32(IDX_LABELS)}, 1-D) but found magic ${hex32(lb.magic)}${hint}`,
    );
  }
  const [n, rows, cols] = im.shape;
  if (rows === 0 || cols === 0) throw new LabError(`${images.name}: images are ${rows}×${cols}; expected non-empty images`);
  if (size && (rows !== size[0] || cols !== size[1])) {
    throw new LabError(`${images.name}: images are ${rows}×${cols} but ${size[0]}×${size[1]} was expected`);
  }
  if (lb.shape[0] !== n) {
    throw new LabError(
      `${images.name} has ${n} images but ${labels.name} has ${lb.shape[0]} labels; the two files must belong together`,
    );
  }
  if (n === 0) throw new LabError(`${images.name}: contains no images`);
  const labelsOut = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lb.data[i];
    if (v >= numClasses) {
      throw new LabError(`${labels.name}: label ${v} at index ${i} is out of range 0..${numClasses - 1}`);
    }
    labelsOut[i] = v;
  }
  const px = im.data;
  const imagesOut = new Float32Array(px.length);
  const inv = 1 / 255;
  for (let i = 0; i < px.length; i++) imagesOut[i] = px[i] * inv;
  return {
    id: opts.id ?? 'mnist',
    name: opts.name ?? 'MNIST',
    n,
    height: rows,
    width: cols,
    channels: 1,
    images: imagesOut,
    labels: labelsOut,
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
  };
}

/** Read an MNIST-format pair (each raw or gzipped) into an ImageDataset (28×28×1). */
export async function mnistFromIdx(images: NamedBytes, labels: NamedBytes, opts: MnistOptions = {}): Promise<ImageDataset> {
  const [im, lb] = await Promise.all([readIdx(images.name, images.bytes), readIdx(labels.name, labels.bytes)]);
  return mnistFromIdxArrays({ name: images.name, idx: im }, { name: labels.name, idx: lb }, opts);
}
