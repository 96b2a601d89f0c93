/**
 * The lab's served dataset format: `<id>.json` (a PackedDatasetIndex) plus one binary
 * file holding uint8 pixels N·H·W·C (NHWC) followed by uint8 labels N. No header and no
 * compression: a fetch of the .bin is the whole parse, and HTTP compression (or its
 * absence) is the server's business. uint8 keeps MNIST test at 7.8 MB instead of 31 MB
 * of float32. tools/prepare-data.mjs and tools/make-cifar-subset.mjs write the same
 * layout inline (they are plain Node scripts).
 */
import { LabError, type ImageDataset } from '../types';
import { toU8, type Bytes } from './idx';

export interface PackedDatasetIndex {
  id: string;
  name: string;
  n: number;
  height: number;
  width: number;
  channels: number;
  classNames: string[];
  /** Binary file name, relative to the index JSON. */
  file: string;
  /** Where the data came from (shown in the UI and written into exports). */
  source: string;
  notes: string;
  /** For subsets: index of each image in the original release. */
  originalIndices?: number[];
}

function isPosInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * Check an index parsed from JSON. `label` names it in messages (e.g. "cifar10-test.json").
 * Returns the same object, typed.
 */
export function validatePackedIndex(raw: unknown, label = 'dataset index'): PackedDatasetIndex {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LabError(`${label}: expected a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of ['id', 'name', 'file'] as const) {
    if (typeof o[k] !== 'string' || (o[k] as string).length === 0) throw new LabError(`${label}: "${k}" must be a non-empty string`);
  }
  for (const k of ['n', 'height', 'width', 'channels'] as const) {
    if (!isPosInt(o[k])) throw new LabError(`${label}: "${k}" must be a positive integer, got ${JSON.stringify(o[k])}`);
  }
  if (o.channels !== 1 && o.channels !== 3) throw new LabError(`${label}: "channels" must be 1 or 3, got ${o.channels as number}`);
  const cn = o.classNames;
  if (!Array.isArray(cn) || cn.length === 0 || !cn.every((c) => typeof c === 'string')) {
    throw new LabError(`${label}: "classNames" must be a non-empty array of strings`);
  }
  if (cn.length > 256) throw new LabError(`${label}: ${cn.length} classes do not fit uint8 labels`);
  if (o.originalIndices !== undefined) {
    const oi = o.originalIndices;
    if (!Array.isArray(oi) || oi.length !== o.n || !oi.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
      throw new LabError(`${label}: "originalIndices" must be ${o.n as number} non-negative integers`);
    }
  }
  return {
    ...(o as unknown as PackedDatasetIndex),
    source: typeof o.source === 'string' ? o.source : '',
    notes: typeof o.notes === 'string' ? o.notes : '',
  };
}

/** Decode a packed dataset; the byte length must match the index exactly. */
export function parsePackedDataset(index: PackedDatasetIndex, bytes: Bytes): ImageDataset {
  const idx = validatePackedIndex(index, `${(index as Partial<PackedDatasetIndex>)?.id ?? 'dataset'}.json`);
  const b = toU8(bytes);
  const { n, height: h, width: w, channels: c } = idx;
  const pixelBytes = n * h * w * c;
  const expected = pixelBytes + n;
  if (b.length !== expected) {
    throw new LabError(
      `${idx.file}: size ${b.length} bytes but ${idx.id}.json says ${expected} (${n} × ${h}×${w}×${c} pixels + ${n} labels)`,
    );
  }
  const images = new Float32Array(pixelBytes);
  const inv = 1 / 255;
  for (let i = 0; i < pixelBytes; i++) images[i] = b[i] * inv;
  const labels = new Int32Array(n);
  const k = idx.classNames.length;
  for (let i = 0; i < n; i++) {
    const v = b[pixelBytes + i];
    if (v >= k) throw new LabError(`${idx.file}: label ${v} of image ${i} is out of range 0..${k - 1}`);
    labels[i] = v;
  }
  return { id: idx.id, name: idx.name, n, height: h, width: w, channels: c, images, labels, classNames: [...idx.classNames] };
}

/** Quantise a dataset to the packed format (round to nearest of 256 levels). */
export function packDataset(
  ds: ImageDataset,
  meta: { file?: string; source?: string; notes?: string; originalIndices?: number[] } = {},
): { index: PackedDatasetIndex; bytes: Uint8Array } {
  const pixelCount = ds.n * ds.height * ds.width * ds.channels;
  if (ds.images.length !== pixelCount) {
    throw new LabError(`${ds.id}: has ${ds.images.length} pixel values, expected ${pixelCount}`);
  }
  if (ds.classNames.length > 256) throw new LabError(`${ds.id}: ${ds.classNames.length} classes do not fit uint8 labels`);
  const bytes = new Uint8Array(pixelCount + ds.n);
  for (let i = 0; i < pixelCount; i++) {
    const v = Math.round(ds.images[i] * 255);
    bytes[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  for (let i = 0; i < ds.n; i++) {
    const l = ds.labels[i];
    if (l < 0 || l >= ds.classNames.length) throw new LabError(`${ds.id}: label ${l} of image ${i} is out of range`);
    bytes[pixelCount + i] = l;
  }
  const index: PackedDatasetIndex = {
    id: ds.id,
    name: ds.name,
    n: ds.n,
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    classNames: [...ds.classNames],
    file: meta.file ?? `${ds.id}.bin`,
    source: meta.source ?? '',
    notes: meta.notes ?? '',
  };
  if (meta.originalIndices) index.originalIndices = [...meta.originalIndices];
  return { index, bytes };
}
