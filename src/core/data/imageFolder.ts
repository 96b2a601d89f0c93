/**
 * A dataset from a folder of images laid out one sub-folder per class
 * (`cat/001.png`, `dog/xyz.jpg`), the layout of torchvision's ImageFolder. Decoding is
 * the caller's job (pngjs/jpeg-js in Node, createImageBitmap in a worker) so this module
 * stays pure; it only checks and assembles decoded pixels.
 */
import { LabError, type ImageDataset } from '../types';

/** Pixels as decoders return them: row-major, interleaved, 8 bits per channel. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 = gray, 3 = RGB, 4 = RGBA (what canvas, pngjs and jpeg-js give). */
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

export interface ImageFolderEntry {
  /** Path relative to the dataset folder, '/' or '\' separated; first segment = class. */
  path: string;
  image: DecodedImage;
}

export interface ImageFolderOptions {
  /** Contents of labels.txt: one class name per line, line order = class index. */
  labelsTxt?: string;
  id?: string;
  name?: string;
}

/** Split a relative path into segments, ignoring empty and '.' parts. */
function segments(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s.length > 0 && s !== '.');
}

/**
 * The class (first folder) of an entry path. Throws for a file at the top level, which
 * has no class; adapters call this before decoding so that error comes first.
 */
export function classOfPath(path: string): string {
  const segs = segments(path);
  if (segs.length < 2) {
    throw new LabError(`${path}: image is at the top level; put each image in a sub-folder named after its class`);
  }
  return segs[0];
}

/** One-line message for an image that failed to decode, e.g. "a/b.png: not a decodable image (bad signature)". */
export function decodeErrorMessage(path: string, err?: unknown, expected = 'a decodable image'): string {
  let detail = '';
  if (err !== undefined && err !== null) {
    const raw = err instanceof Error ? err.message : String(err);
    const line = raw.split('\n')[0].trim();
    // Decoder messages can be long; the file name and the verdict are what matter.
    if (line) detail = ` (${line.length > 80 ? line.slice(0, 77) + '...' : line})`;
  }
  return `${path}: not ${expected}${detail}`;
}

/** Parse labels.txt: trimmed non-blank lines; duplicates are an error. */
export function parseLabelsTxt(text: string): string[] {
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new LabError('labels.txt: no class names (expected one per line)');
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new LabError(`labels.txt: class "${n}" is listed twice`);
    seen.add(n);
  }
  return names;
}

/** Code-point order, as Python's sorted() uses: it keeps indices the same as torchvision's ImageFolder. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isGray(img: DecodedImage): boolean {
  if (img.channels === 1) return true;
  const d = img.data;
  const step = img.channels;
  for (let o = 0; o < d.length; o += step) {
    if (d[o] !== d[o + 1] || d[o] !== d[o + 2]) return false;
  }
  return true;
}

/**
 * Assemble decoded images into a dataset. Classes are the sub-folders sorted by name
 * (code-point order) unless `labelsTxt` fixes the order. Output has 1 channel if every
 * image is gray (R = G = B everywhere), else 3; alpha is dropped. Images are ordered by
 * class, then by path, so the result does not depend on directory-listing order.
 */
export function imageFolderDataset(entries: ImageFolderEntry[], opts: ImageFolderOptions = {}): ImageDataset {
  if (entries.length === 0) throw new LabError('image folder: no images found (expected one sub-folder per class)');

  const folders = new Set<string>();
  const classOf = entries.map((e) => {
    const c = classOfPath(e.path);
    folders.add(c);
    return c;
  });

  let classNames: string[];
  if (opts.labelsTxt !== undefined) {
    classNames = parseLabelsTxt(opts.labelsTxt);
    const listed = new Set(classNames);
    for (const f of [...folders].sort(byCodePoint)) {
      if (!listed.has(f)) {
        const shown = classNames.length > 12 ? classNames.slice(0, 12).join(', ') + ', ...' : classNames.join(', ');
        throw new LabError(`${f}/: folder is not a class listed in labels.txt (${shown})`);
      }
    }
  } else {
    classNames = [...folders].sort(byCodePoint);
  }
  const indexOf = new Map(classNames.map((c, i) => [c, i]));

  const first = entries[0];
  const { width, height } = first.image;
  if (!(width > 0 && height > 0)) throw new LabError(`${first.path}: image has size ${width}×${height}`);
  let gray = true;
  for (const e of entries) {
    const img = e.image;
    if (img.width !== width || img.height !== height) {
      throw new LabError(
        `${e.path}: image is ${img.width}×${img.height} but ${first.path} is ${width}×${height}; all images must have the same size`,
      );
    }
    if (img.channels !== 1 && img.channels !== 3 && img.channels !== 4) {
      throw new LabError(`${e.path}: unsupported channel count ${img.channels as number}`);
    }
    const expected = width * height * img.channels;
    if (img.data.length !== expected) {
      throw new LabError(`${e.path}: decoded data has ${img.data.length} bytes, expected ${expected} (${width}×${height}×${img.channels})`);
    }
    if (gray && !isGray(img)) gray = false;
  }
  const channels = gray ? 1 : 3;

  const order = entries.map((_, i) => i);
  order.sort((a, b) => {
    const ca = indexOf.get(classOf[a])!;
    const cb = indexOf.get(classOf[b])!;
    return ca !== cb ? ca - cb : byCodePoint(entries[a].path, entries[b].path);
  });

  const n = entries.length;
  const pixels = width * height;
  const images = new Float32Array(n * pixels * channels);
  const labels = new Int32Array(n);
  const inv = 1 / 255;
  order.forEach((src, i) => {
    const { data, channels: ic } = entries[src].image;
    labels[i] = indexOf.get(classOf[src])!;
    const base = i * pixels * channels;
    if (channels === 1) {
      // Gray: R = G = B, so the first channel is the value.
      for (let p = 0; p < pixels; p++) images[base + p] = data[p * ic] * inv;
    } else {
      for (let p = 0; p < pixels; p++) {
        const o = base + 3 * p;
        if (ic === 1) {
          const v = data[p] * inv;
          images[o] = v;
          images[o + 1] = v;
          images[o + 2] = v;
        } else {
          const s = p * ic;
          images[o] = data[s] * inv;
          images[o + 1] = data[s + 1] * inv;
          images[o + 2] = data[s + 2] * inv;
        }
      }
    }
  });

  return {
    id: opts.id ?? 'image-folder',
    name: opts.name ?? 'Image folder',
    n,
    height,
    width,
    channels,
    images,
    labels,
    classNames,
  };
}
