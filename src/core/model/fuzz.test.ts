/**
 * Seeded mutation fuzzers of the two parsers that take files from strangers: model.json (the
 * validator, then the full load through tfjs) and IDX. Each mutant must come back, within a
 * time bound, either loaded or with a LabError of one line; never a hang, never another
 * exception. Seeds are fixed so a failure reproduces; FUZZ_SEED and FUZZ_CASES widen a run.
 */
import { readFileSync, writeSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseIdx, readIdx } from '../data/idx';
import { mnistFromIdx } from '../data/mnist';
import { createRng, type Rng } from '../random';
import { LabError } from '../types';
import { loadLabModel } from './model';
import { checkModelJson } from './validate';

const SEED = Number(process.env.FUZZ_SEED ?? 22);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
/** A single case slower than this counts as a hang (the slowest legitimate load is ~50 ms). */
const CASE_LIMIT_MS = 2_000;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const BASE = JSON.parse(readFileSync('public/models/mnist-small-st/model.json', 'utf8'));
const SHARD = new Uint8Array(readFileSync('public/models/mnist-small-st/group1-shard1of1.bin'));

/** A small hand-written graph model (x · W → Softmax), the second fuzz base. */
const GRAPH = {
  format: 'graph-model',
  modelTopology: {
    node: [
      { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
      { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '3' }] } } } } },
      { name: 'logits', op: 'MatMul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
      { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: { type: 'DT_FLOAT' } } },
    ],
    versions: { producer: 1 },
  },
  weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [4, 3], dtype: 'float32' }] }],
};
const GRAPH_SHARD = new Uint8Array(new Float32Array(12).fill(0.5).buffer);

type Json = unknown;
const NAMES = ['input', 'conv1', 'relu', 'fc1', 'fc2', 'ghost', '', 'conv1.pad'];
const VALUES: Json[] = [null, 0, -1, 1.5, 1e300, 2 ** 31, '', 'hello', 'conv1', [], {}, [null], [[]], true, [-1, 0], { a: 1 }];

/** Every path in a JSON tree, breadth-first, bounded. */
function paths(root: Json, limit = 5000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: { v: Json; p: (string | number)[] }[] = [{ v: root, p: [] }];
  while (queue.length && out.length < limit) {
    const { v, p } = queue.shift()!;
    out.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => queue.push({ v: x, p: [...p, i] }));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) queue.push({ v: x, p: [...p, k] });
  }
  return out;
}

function get(root: Json, p: (string | number)[]): Json {
  return p.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], root);
}

/** One to three structural mutations of a copy of `base`. */
function mutate(base: Json, rng: Rng): Json {
  const root = JSON.parse(JSON.stringify(base));
  const all = paths(root);
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const p = all[1 + rng.int(all.length - 1)];
    let parent: Json;
    try {
      parent = get(root, p.slice(0, -1));
    } catch {
      continue; // an earlier mutation removed this path
    }
    if (!parent || typeof parent !== 'object') continue;
    const key = p[p.length - 1];
    const container = parent as Record<string | number, Json>;
    const current = container[key];
    switch (rng.int(7)) {
      case 0: // delete
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete container[key];
        break;
      case 1: // replace by a value of another type
        container[key] = VALUES[rng.int(VALUES.length)];
        break;
      case 2: // a layer name, possibly another layer's or none
        container[key] = NAMES[rng.int(NAMES.length)];
        break;
      case 3: // numbers: off by one, negated, fractional, huge
        if (typeof current === 'number') container[key] = [current + 1, -current, current + 0.5, current * 1e6, 0][rng.int(5)];
        else container[key] = rng.int(5) - 1;
        break;
      case 4: // duplicate an element in place
        if (Array.isArray(parent)) parent.splice(key as number, 0, JSON.parse(JSON.stringify(current ?? null)));
        break;
      case 5: // swap with a sibling
        if (Array.isArray(parent) && parent.length > 1) {
          const j = rng.int(parent.length);
          [parent[key as number], parent[j]] = [parent[j], parent[key as number]];
        }
        break;
      default: // wrap in a list
        container[key] = [current];
    }
  }
  return root;
}

/** Byte-level damage to the JSON text: truncation, flipped bytes, inserted garbage. */
function damageText(text: string, rng: Rng): string {
  switch (rng.int(3)) {
    case 0:
      return text.slice(0, rng.int(text.length));
    case 1: {
      const chars = text.split('');
      for (let i = 0; i < 1 + rng.int(4); i++) chars[rng.int(chars.length)] = String.fromCharCode(rng.int(128));
      return chars.join('');
    }
    default: {
      const at = rng.int(text.length);
      return text.slice(0, at) + ['{', ']', '"', '\u0000', ',,', 'null'][rng.int(6)] + text.slice(at);
    }
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const t0 = performance.now();
  try {
    await work();
    return { ms: performance.now() - t0, error: null };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

/** What a fuzz case may end in: success or a one-line LabError. */
function verdict(r: { ms: number; error: unknown }): string | null {
  if (r.ms > CASE_LIMIT_MS) return `took ${r.ms.toFixed(0)} ms`;
  if (r.error === null) return null;
  if (!(r.error instanceof LabError)) return `threw ${(r.error as Error)?.name}: ${(r.error as Error)?.message ?? String(r.error)}`;
  if (r.error.message.includes('\n')) return 'a multi-line message';
  return null;
}

describe('model.json mutation fuzzer', () => {
  it(`${CASES} structural and textual mutants: the validator never throws; loads end in a model or a LabError, in time`, async () => {
    const rng = createRng(SEED);
    const failures: string[] = [];
    let loaded = 0;
    let refusedByValidator = 0;
    /** Refusals that are LabErrors but quote a raw tfjs TypeError: reported, to be turned into validator checks. */
    const rawMessages: string[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const t0 = performance.now();
    for (let i = 0; i < CASES; i++) {
      // One case in four mutates the graph model, the rest the Layers model; one in five damages the text.
      const base = rng.int(4) === 0 ? GRAPH : BASE;
      const textual = rng.int(5) === 0;
      const json = textual ? null : mutate(base, rng);
      const text = textual ? damageText(JSON.stringify(base), rng) : JSON.stringify(json);
      if (json !== null) {
        // The validator alone must never throw, whatever the JSON.
        try {
          if (checkModelJson(json, 'm.json').problems.length) refusedByValidator++;
        } catch (e) {
          failures.push(`case ${i}: validator threw ${(e as Error).message}`);
          continue;
        }
      }
      const bytes = new TextEncoder().encode(text);
      const read = async (name: string) => {
        if (name === 'model.json') return bytes;
        if (name === 'group1-shard1of1.bin') return SHARD;
        if (name === 'w.bin') return GRAPH_SHARD;
        throw new Error('ENOENT');
      };
      // FUZZ_TRACE=1 writes each case before it runs, so a hang shows which one (synchronously: a hang never flushes).
      if (process.env.FUZZ_TRACE) writeSync(2, `case ${i}: ${text}\n`);
      const r = await timed(async () => (await loadLabModel('model.json', read, 'fuzz/model.json')).dispose());
      const v = verdict(r);
      if (v) failures.push(`case ${i}: ${v}`);
      if (r.error === null) loaded++;
      else if (/Cannot read properties|is not a function|is not iterable/.test((r.error as Error).message)) rawMessages.push(`case ${i}: ${(r.error as Error).message}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`model.json fuzz: ${CASES} cases (seed ${SEED}) in ${seconds.toFixed(1)} s; ${loaded} loaded, ${refusedByValidator} refused by the validator, ${rawMessages.length} refused by tfjs with a raw message${rawMessages.length ? ` (${rawMessages.slice(0, 3).join(' | ')})` : ''}\n`);
    expect(failures.slice(0, 10)).toEqual([]);
    // Failed loads free their variables (model.ts); tfjs may still strand a few decoded weight
    // tensors per failure. Bound it, so a real leak (a whole model per failure) fails here.
    const leaked = tf.memory().numTensors - tensorsBefore;
    process.stdout.write(`model.json fuzz: ${leaked} tensors left after ${CASES - loaded} failed loads\n`);
    expect(leaked).toBeLessThan((CASES - loaded) / 2);
  }, 600_000);
});

describe('IDX mutation fuzzer', () => {
  /** A valid pair: n 4×4 images and their labels (the size check is switched off below). */
  function idx(dims: number[], data: Uint8Array): Uint8Array {
    const out = new Uint8Array(4 + 4 * dims.length + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0x800 + dims.length);
    dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
    out.set(data, 4 + 4 * dims.length);
    return out;
  }

  it(`${CASES} mutated IDX pairs (header-biased byte edits, truncation, extension) end in a dataset or a LabError, in time`, async () => {
    const rng = createRng(SEED + 1);
    const n = 6;
    const images = idx([n, 4, 4], Uint8Array.from({ length: n * 16 }, (_, i) => i));
    const labels = idx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
    const failures: string[] = [];
    let ok = 0;
    const t0 = performance.now();
    for (let i = 0; i < CASES; i++) {
      const which = rng.int(2);
      const target = (which === 0 ? images : labels).slice();
      let bytes: Uint8Array = target;
      switch (rng.int(4)) {
        case 0: // header bytes, where the shape lives
          for (let k = 0; k < 1 + rng.int(3); k++) target[rng.int(Math.min(16, target.length))] = rng.int(256);
          break;
        case 1:
          for (let k = 0; k < 1 + rng.int(8); k++) target[rng.int(target.length)] = rng.int(256);
          break;
        case 2:
          bytes = target.subarray(0, rng.int(target.length));
          break;
        default: {
          const extra = new Uint8Array(target.length + 1 + rng.int(64));
          extra.set(target);
          bytes = extra;
        }
      }
      const pair = which === 0 ? [bytes, labels] : [images, bytes];
      const r = await timed(async () => {
        parseIdx('x', pair[0]);
        return mnistFromIdx({ name: 'images', bytes: pair[0] }, { name: 'labels', bytes: pair[1] }, { size: null });
      });
      const v = verdict(r);
      if (v) failures.push(`case ${i}: ${v}`);
      if (r.error === null) ok++;
    }
    // A few gzip-wrapped mutants too: corrupt streams must be LabErrors as well.
    const { gzipSync } = await import('node:zlib');
    const gz = new Uint8Array(gzipSync(images));
    for (let i = 0; i < 200; i++) {
      const g = gz.slice(0, rng.int(2) ? gz.length : rng.int(gz.length));
      g[10 + rng.int(Math.max(1, g.length - 10))] ^= 1 + rng.int(255);
      const v = verdict(await timed(() => readIdx('images.gz', g)));
      if (v) failures.push(`gzip case ${i}: ${v}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`IDX fuzz: ${CASES} + 200 gzip cases (seed ${SEED + 1}) in ${seconds.toFixed(1)} s; ${ok} parsed\n`);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 600_000);
});
