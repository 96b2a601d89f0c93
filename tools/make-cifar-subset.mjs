#!/usr/bin/env node
/**
 * One-off: build the committed CIFAR-10 evaluation subset public/data/cifar10-test.bin +
 * .json from a CIFAR-10 binary folder. Takes the FIRST `--per-class` (default 200)
 * images of each class in test_batch.bin file order, kept in original index order, so
 * the subset is reproducible without a seed and traceable via `originalIndices`.
 *
 *   node tools/make-cifar-subset.mjs --dir <cifar-10-batches-bin> [--out public/data] [--per-class 200]
 *
 * Output layout as src/core/data/packed.ts (inlined: plain Node, no build step):
 * uint8 pixels N·32·32·3 (NHWC), then uint8 labels N.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const RECORD = 3073; // 1 label byte + 3 planes of 32×32
const PLANE = 1024;

function fail(message) {
  console.error(`make-cifar-subset: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { out: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public', 'data'), perClass: 200 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--dir') args.dir = value();
    else if (a === '--out') args.out = value();
    else if (a === '--per-class') args.perClass = Number(value());
    else fail(`unknown argument ${a} (usage: --dir <cifar10 folder> [--out dir] [--per-class 200])`);
  }
  if (!args.dir) fail('--dir <folder with test_batch.bin> is required');
  if (!Number.isInteger(args.perClass) || args.perClass < 1) fail('--per-class must be a positive integer');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const batchPath = path.join(args.dir, 'test_batch.bin');
if (!existsSync(batchPath)) fail(`${batchPath}: not found`);
const batch = readFileSync(batchPath);
if (batch.length === 0 || batch.length % RECORD !== 0) {
  fail(`${batchPath}: size ${batch.length} bytes is not a multiple of ${RECORD}; not a CIFAR-10 binary batch`);
}

let classNames = DEFAULT_CLASSES;
const metaPath = path.join(args.dir, 'batches.meta.txt');
if (existsSync(metaPath)) {
  const names = readFileSync(metaPath, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  if (names.length !== 10) fail(`${metaPath}: expected 10 class names, found ${names.length}`);
  classNames = names;
}

const total = batch.length / RECORD;
const taken = new Array(10).fill(0);
const originalIndices = [];
for (let r = 0; r < total && originalIndices.length < 10 * args.perClass; r++) {
  const label = batch[r * RECORD];
  if (label > 9) fail(`${batchPath}: record ${r} has label ${label}, out of range 0..9`);
  if (taken[label] < args.perClass) {
    taken[label]++;
    originalIndices.push(r);
  }
}
const short = taken.map((t, c) => [c, t]).filter(([, t]) => t < args.perClass);
if (short.length) fail(`${batchPath}: not enough images for classes ${short.map(([c, t]) => `${c} (${t})`).join(', ')}`);

const n = originalIndices.length;
const bytes = new Uint8Array(n * 3 * PLANE + n);
originalIndices.forEach((r, i) => {
  const src = r * RECORD + 1;
  const dst = i * 3 * PLANE;
  // CHW (R plane, G plane, B plane) → HWC interleaved.
  for (let p = 0; p < PLANE; p++) {
    bytes[dst + 3 * p] = batch[src + p];
    bytes[dst + 3 * p + 1] = batch[src + PLANE + p];
    bytes[dst + 3 * p + 2] = batch[src + 2 * PLANE + p];
  }
  bytes[n * 3 * PLANE + i] = batch[r * RECORD];
});

// The official test_batch.bin starts cat, ship, ship, airplane, frog, frog, automobile,
// frog, cat, automobile. Copies rebuilt from image folders are often re-ordered; then the
// indices below are positions in that copy, and the JSON should say so.
const OFFICIAL_FIRST_LABELS = [3, 8, 8, 0, 6, 6, 1, 6, 3, 1];
const officialOrder = OFFICIAL_FIRST_LABELS.every((l, i) => batch[i * RECORD] === l);
const orderNote = officialOrder
  ? ''
  : ' This copy is not in the official record order (its labels start ' +
    Array.from({ length: 10 }, (_, i) => batch[i * RECORD]).join(',') +
    ' instead of 3,8,8,0,6,6,1,6,3,1), so the indices are positions in that copy, not in the official release.';

const index = {
  id: 'cifar10-test',
  name: `CIFAR-10 test (${n.toLocaleString('en-US')}: ${args.perClass} per class)`,
  n,
  height: 32,
  width: 32,
  channels: 3,
  classNames,
  file: 'cifar10-test.bin',
  source: `CIFAR-10 test set, first ${args.perClass} per class in file order, from a binary copy decoded from a public JPEG copy; pixels differ slightly from the original release`,
  notes: `Made by tools/make-cifar-subset.mjs. originalIndices[i] is the record index of image i in the test_batch.bin it was made from.${orderNote}`,
  originalIndices,
};

mkdirSync(args.out, { recursive: true });
writeFileSync(path.join(args.out, 'cifar10-test.bin'), bytes);
// Pretty-printed for review in diffs, except the 2,000 indices which go on one line.
const json = JSON.stringify({ ...index, originalIndices: '@@' }, null, 2).replace('"@@"', JSON.stringify(originalIndices));
writeFileSync(path.join(args.out, 'cifar10-test.json'), json + '\n');
console.log(`make-cifar-subset: wrote ${n} images (${args.perClass} per class) to ${path.join(args.out, 'cifar10-test.{bin,json}')}`);
