/**
 * CIFAR-10 "binary version" batches (https://www.cs.toronto.edu/~kriz/cifar.html):
 * each record is 1 label byte followed by 3072 pixel bytes in CHW order (1024 red, then
 * 1024 green, then 1024 blue, each 32×32 row-major). The lab is NHWC throughout (tfjs'
 * default layout), so records are transposed while scaling to [0, 1].
 */
import { LabError, type ImageDataset } from '../types';
import { toU8 } from './idx';
import type { NamedBytes } from './mnist';
import { baseName, CIFAR_META_FILE } from './detect';

export const CIFAR10_CLASS_NAMES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

const SIDE = 32;
const PLANE = SIDE * SIDE;
export const CIFAR_RECORD_BYTES = 1 + 3 * PLANE; // 3073

export interface CifarOptions {
  id?: string;
  name?: string;
  /** Contents of batches.meta.txt (one class name per line); overrides a meta file in `files`. */
  metaTxt?: string;
  /**
   * Keep only the first `limit` images (across files, in order). All six batches are
   * 60k images = 737 MB as float32, more than a browser tab should hold at once.
   */
  limit?: number;
}

/** Parse batches.meta.txt: one class name per non-blank line, 10 expected. */
export function parseCifarMeta(name: string, text: string): string[] {
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== 10) {
    throw new LabError(`${name}: expected 10 class names (one per line) but found ${names.length}`);
  }
  return names;
}

/**
 * Decode CIFAR-10 binary batches into one NHWC float32 dataset. A file whose base name
 * is `batches.meta.txt` among `files` supplies the class names (UTF-8 text).
 */
export function cifarFromBatches(files: NamedBytes[], opts: CifarOptions = {}): ImageDataset {
  let classNames = [...CIFAR10_CLASS_NAMES];
  const batches: { name: string; bytes: Uint8Array }[] = [];
  for (const f of files) {
    if (baseName(f.name) === CIFAR_META_FILE) {
      if (opts.metaTxt === undefined) classNames = parseCifarMeta(f.name, new TextDecoder().decode(toU8(f.bytes)));
      continue;
    }
    batches.push({ name: f.name, bytes: toU8(f.bytes) });
  }
  if (opts.metaTxt !== undefined) classNames = parseCifarMeta(CIFAR_META_FILE, opts.metaTxt);
  if (batches.length === 0) throw new LabError('CIFAR-10: no batch files given (expected e.g. test_batch.bin)');

  let total = 0;
  for (const b of batches) {
    if (b.bytes.length === 0) throw new LabError(`${b.name}: empty file`);
    if (b.bytes.length % CIFAR_RECORD_BYTES !== 0) {
      throw new LabError(
        `${b.name}: size ${b.bytes.length} bytes is not a multiple of ${CIFAR_RECORD_BYTES} (1 label byte + 32×32×3 pixels per image); not a CIFAR-10 binary batch`,
      );
    }
    total += b.bytes.length / CIFAR_RECORD_BYTES;
  }
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new LabError(`CIFAR-10: limit must be a positive integer, got ${opts.limit}`);
    total = Math.min(total, opts.limit);
  }

  const images = new Float32Array(total * 3 * PLANE);
  const labels = new Int32Array(total);
  const inv = 1 / 255;
  let i = 0;
  for (const b of batches) {
    const records = b.bytes.length / CIFAR_RECORD_BYTES;
    for (let r = 0; r < records && i < total; r++, i++) {
      const off = r * CIFAR_RECORD_BYTES;
      const label = b.bytes[off];
      if (label >= classNames.length) {
        throw new LabError(`${b.name}: record ${r} has label ${label}, out of range 0..${classNames.length - 1}`);
      }
      labels[i] = label;
      const src = off + 1;
      const dst = i * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        const o = dst + 3 * p;
        images[o] = b.bytes[src + p] * inv;
        images[o + 1] = b.bytes[src + PLANE + p] * inv;
        images[o + 2] = b.bytes[src + 2 * PLANE + p] * inv;
      }
    }
  }
  return {
    id: opts.id ?? 'cifar10',
    name: opts.name ?? 'CIFAR-10',
    n: total,
    height: SIDE,
    width: SIDE,
    channels: 3,
    images,
    labels,
    classNames,
  };
}
