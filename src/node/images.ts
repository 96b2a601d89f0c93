/**
 * Node dataset adapters for the CLI and Node tests: walk folders, read files, decode
 * PNG (pngjs) and JPEG (jpeg-js), then hand plain bytes to the pure readers in
 * src/core/data. Every failure is a one-line LabError naming the path.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { LabError, type ImageDataset } from '../core/types';
import {
  checkImageHeader,
  cifarFromBatches,
  classOfPath,
  decodeErrorMessage,
  CIFAR_META_FILE,
  detectDataFormat,
  imageFolderDataset,
  isIdxName,
  isJunkName,
  mnistFromIdx,
  pairMnistFiles,
  parsePackedDataset,
  validatePackedIndex,
  type DataFormat,
  type DecodedImage,
  type ImageFolderEntry,
  type NamedBytes,
} from '../core/data';

export interface ImageFolderLoadOptions {
  /** labels.txt contents; default: `<dir>/labels.txt` if it exists. */
  labelsTxt?: string;
  id?: string;
  name?: string;
}

export interface LoadDatasetOptions extends ImageFolderLoadOptions {
  /** For a CIFAR folder: which batches to read. Default 'all' (every *.bin batch, by name). */
  split?: 'test' | 'train' | 'all';
  /** For CIFAR: keep only the first `limit` images (see CifarOptions.limit). */
  limit?: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** JPEG files start with an SOI marker followed by another marker. */
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
/** Well above any dataset image; stops a huge or malicious JPEG from eating the heap. */
const MAX_JPEG_MEGAPIXELS = 100;

function startsWith(b: Uint8Array, sig: number[]): boolean {
  return b.length >= sig.length && sig.every((v, i) => b[i] === v);
}

/** Decode PNG or JPEG bytes to RGBA; anything else is a LabError naming `label`. */
export function decodeImageBytes(label: string, bytes: Uint8Array): DecodedImage {
  const expected = 'a PNG or JPEG image';
  // The declared size is checked before any pixel is allocated (a small PNG may declare gigapixels).
  if (startsWith(bytes, PNG_SIGNATURE) || startsWith(bytes, JPEG_SIGNATURE)) checkImageHeader(label, bytes, expected);
  try {
    if (startsWith(bytes, PNG_SIGNATURE)) {
      // pngjs normalises every colour type and bit depth to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    if (startsWith(bytes, JPEG_SIGNATURE)) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_JPEG_MEGAPIXELS });
      return { width: img.width, height: img.height, channels: 4, data: img.data };
    }
  } catch (err) {
    throw new LabError(decodeErrorMessage(label, err, expected));
  }
  throw new LabError(decodeErrorMessage(label, undefined, expected));
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const dir = path.join(root, rel);
  const dirents = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const d of dirents) {
    if (isJunkName(d.name)) continue;
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await listFiles(root, r)));
    else if (d.isFile()) out.push(r);
  }
  return out;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readNamed(p: string): Promise<NamedBytes> {
  return { name: p, bytes: new Uint8Array(await readFile(p)) };
}

/**
 * An image-folder dataset from disk: `<dir>/<class>/<...>/<image>.png|jpg`. An optional
 * `<dir>/labels.txt` fixes the class order. Paths in messages are `<dir>/<rel>`.
 */
export async function loadImageFolder(dirPath: string, opts: ImageFolderLoadOptions = {}): Promise<ImageDataset> {
  if (!(await isDir(dirPath))) throw new LabError(`${dirPath}: not a folder`);
  let labelsTxt = opts.labelsTxt;
  const files = (await listFiles(dirPath)).filter((rel) => rel !== 'labels.txt');
  if (labelsTxt === undefined && (await exists(path.join(dirPath, 'labels.txt')))) {
    labelsTxt = await readFile(path.join(dirPath, 'labels.txt'), 'utf8');
  }
  if (files.length === 0) throw new LabError(`${dirPath}: no images found (expected one sub-folder per class)`);
  // Top-level files have no class: report that before spending time decoding.
  for (const rel of files) {
    try {
      classOfPath(rel);
    } catch (err) {
      if (err instanceof LabError) throw new LabError(`${path.join(dirPath, rel)}${err.message.slice(rel.length)}`);
      throw err;
    }
  }
  const entries: ImageFolderEntry[] = [];
  for (const rel of files) {
    const full = path.join(dirPath, rel);
    const bytes = new Uint8Array(await readFile(full));
    entries.push({ path: rel, image: decodeImageBytes(full, bytes) });
  }
  return imageFolderDataset(entries, {
    labelsTxt,
    id: opts.id ?? 'image-folder',
    name: opts.name ?? path.basename(path.resolve(dirPath)),
  });
}

/** An MNIST pair as found by pairMnistFiles / detectDataFormat (src/core/data/detect.ts). */
async function loadMnistPair(pair: Extract<DataFormat, { format: 'mnist-idx' }>): Promise<ImageDataset> {
  return mnistFromIdx(await readNamed(pair.images), await readNamed(pair.labels), { id: pair.id, name: pair.name });
}

async function loadCifarFiles(batchPaths: string[], metaPath: string | undefined, opts: LoadDatasetOptions, name: string): Promise<ImageDataset> {
  const files: NamedBytes[] = [];
  if (metaPath) files.push(await readNamed(metaPath));
  for (const p of batchPaths) files.push(await readNamed(p));
  return cifarFromBatches(files, { id: opts.id ?? 'cifar10', name: opts.name ?? name, limit: opts.limit });
}

async function loadPackedFromJson(jsonPath: string): Promise<ImageDataset> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new LabError(`${jsonPath}: not valid JSON (${err.message})`);
    throw new LabError(`${jsonPath}: cannot be read`);
  }
  const index = validatePackedIndex(raw, jsonPath);
  const binPath = path.join(path.dirname(jsonPath), index.file);
  if (!(await exists(binPath))) throw new LabError(`${binPath}: missing (named by ${jsonPath})`);
  return parsePackedDataset(index, new Uint8Array(await readFile(binPath)));
}

/**
 * Load whatever dataset `p` points at:
 *  - a folder: its files (all levels) go through detectDataFormat (src/core/data/detect.ts,
 *    the rule the lab applies to dropped files too): an MNIST IDX pair, CIFAR-10 binary
 *    batches (`opts.split` picks test_batch* or data_batch*), else class sub-folders of
 *    PNG/JPEG images;
 *  - an MNIST images (or labels) IDX file, its partner found next to it (pairMnistFiles);
 *  - a single CIFAR batch (.bin) or a packed dataset index (.json).
 */
export async function loadDatasetFromPath(p: string, opts: LoadDatasetOptions = {}): Promise<ImageDataset> {
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new LabError(`${p}: no such file or folder`);
  }
  if (st.isDirectory()) {
    const files = (await listFiles(p)).filter((rel) => rel !== 'labels.txt').map((rel) => ({ path: path.join(p, rel) }));
    const found = detectDataFormat(files);
    if (found.format === 'mnist-idx') return loadMnistPair(found);
    if (found.format === 'cifar-batches') {
      const split = opts.split ?? 'all';
      const chosen = found.batches.filter((b) => {
        const n = path.basename(b);
        return split === 'all' || (split === 'test' ? n.startsWith('test') : n.startsWith('data'));
      });
      if (chosen.length === 0) throw new LabError(`${p}: no CIFAR ${split} batches (found ${found.batches.map((b) => path.basename(b)).join(', ')})`);
      const label = split === 'all' ? 'CIFAR-10' : `CIFAR-10 ${split}`;
      return loadCifarFiles(chosen, found.meta, opts, label);
    }
    return loadImageFolder(p, opts);
  }
  const base = path.basename(p);
  if (isIdxName(base)) {
    // Siblings named with p's own folder prefix, so the partner is found whatever form p has.
    const prefix = p.slice(0, p.length - base.length);
    const siblings = (await readdir(path.dirname(p))).map((n) => prefix + n);
    return loadMnistPair(pairMnistFiles(p, siblings));
  }
  if (base.endsWith('.bin')) {
    const meta = path.join(path.dirname(p), CIFAR_META_FILE);
    return loadCifarFiles([p], (await exists(meta)) ? meta : undefined, opts, `CIFAR-10 (${base})`);
  }
  if (base.endsWith('.json')) return loadPackedFromJson(p);
  throw new LabError(
    `${p}: unrecognised dataset (expected a folder of class sub-folders, CIFAR-10 .bin batches, an MNIST IDX file such as t10k-images-idx3-ubyte or a packed .json)`,
  );
}

/** Ids of built-in datasets are file stems; anything else could escape public/data. */
const BUILTIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Load a built-in dataset from `<publicDir>/data/<id>.json` and its .bin. */
export async function loadBuiltinDataset(id: string, publicDir: string): Promise<ImageDataset> {
  const dataDir = path.join(publicDir, 'data');
  const jsonPath = path.join(dataDir, `${id}.json`);
  if (!BUILTIN_ID.test(id) || id === 'index' || !(await exists(jsonPath))) {
    let available: string[] = [];
    try {
      available = (await readdir(dataDir)).filter((n) => n.endsWith('.json') && n !== 'index.json').map((n) => n.slice(0, -5));
    } catch {
      // No data folder at all: the hint below covers it.
    }
    const list = available.length ? `available: ${available.sort().join(', ')}` : 'none found; run npm run prepare-data';
    throw new LabError(`${jsonPath}: no built-in dataset "${id}" (${list})`);
  }
  return loadPackedFromJson(jsonPath);
}
