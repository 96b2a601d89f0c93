/** Shared pieces of the CLI's commands: backend, model and data resolution, sampling. */
import { existsSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendRequest } from '../core/backend';
import { classBalancedSample, takeSamples } from '../core/data/sampler';
import { loadLabModel, type LabModel } from '../core/model/model';
import { isOnnxName, loadOnnxModel } from '../core/onnx/import';
import { LabError, type ImageDataset } from '../core/types';
import { sampleSize, UsageError } from './args';
import { escapeControl } from '../core/text';
import { nodeModelReader } from './files';
import { loadBuiltinDataset, loadDatasetFromPath } from './images';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PUBLIC_DIR = path.join(ROOT, 'public');
/** A zoo id (public/models/<id>/model.json), a path to a model.json or to an .onnx file. */
export function resolveModelPath(spec: string): string {
  if (existsSync(spec)) return existsSync(path.join(spec, 'model.json')) ? path.join(spec, 'model.json') : spec;
  const zoo = path.join(PUBLIC_DIR, 'models', spec, 'model.json');
  if (existsSync(zoo)) return zoo;
  throw new LabError(`model "${spec}" is neither a file nor a zoo id (see public/models/index.json)`);
}

export async function openModel(spec: string): Promise<LabModel> {
  const file = resolveModelPath(spec);
  const reader = nodeModelReader(file);
  if (isOnnxName(file)) {
    // External data (a .data file written past 2 GB) is read from the .onnx's own folder only.
    return loadOnnxModel({ model: await reader.read(reader.name), readExternal: reader.read }, file);
  }
  return loadLabModel(reader.name, reader.read, file);
}

export const BUILTIN_DATA: Record<string, string> = { mnist: 'mnist-test', 'mnist-test': 'mnist-test', cifar10: 'cifar10-test', 'cifar10-test': 'cifar10-test' };

export async function openData(spec: string): Promise<ImageDataset> {
  const builtin = BUILTIN_DATA[spec];
  if (builtin) return loadBuiltinDataset(builtin, PUBLIC_DIR);
  if (!existsSync(spec)) throw new LabError(`data "${spec}" is neither mnist, cifar10 nor an existing path`);
  return loadDatasetFromPath(spec);
}

/**
 * A class-balanced sample of `--n` items (`nArg` as typed; `fallback` when absent, all when
 * neither): at least 1 and at most what the data holds, or a usage error that says so. A
 * number (tools that chose their own size) is capped at the data's size as before.
 */
export function sampleData(ds: ImageDataset, nArg: string | number | boolean | undefined, seed: number, fallback?: number): { data: ImageDataset; indices: Int32Array } {
  if (ds.n === 0) throw new LabError(`dataset ${escapeControl(ds.id)} has no samples`);
  const count = typeof nArg === 'number' ? Math.min(nArg, ds.n) : sampleSize(nArg, ds.n, `dataset ${ds.id}`, fallback ?? ds.n);
  if (count === ds.n) return { data: ds, indices: Int32Array.from({ length: ds.n }, (_, i) => i) };
  const indices = classBalancedSample(ds.labels, ds.classNames.length, count, seed);
  return { data: takeSamples(ds, indices), indices };
}

export async function setupBackend(values: Record<string, string | boolean | undefined>) {
  // PROD silences tfjs's "install tfjs-node" banner, which would break one-line errors.
  tf.env().set('PROD', true);
  const requested = values.backend as string;
  if (!['auto', 'cpu', 'wasm'].includes(requested)) throw new UsageError(`--backend must be auto, cpu or wasm (got "${requested}")`);
  // These commands need inference and input gradients only, which WASM runs fast (the
  // lab's plain-op executor avoids the weight-gradient kernel WASM lacks).
  const backend = await selectBackend(requested === 'auto' ? 'wasm' : (requested as BackendRequest), {
    node: true,
    wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep,
  });
  if (requested !== 'auto' && backend.active !== backend.requested) {
    throw new LabError(`backend ${backend.requested} unavailable here (${backend.fallbackReason})`);
  }
  return backend;
}


/** Longest a check of the --out location may take: a path on a stuck network mount must not hang the CLI. */
export const OUT_CHECK_TIMEOUT_MS = 5_000;

/**
 * Make sure `file` can be written, before any compute: create its missing folders one level
 * at a time (Node's recursive mkdir loops forever under /proc), refuse a parent that is a
 * file, and create the file itself. One line on failure, exit 2.
 */
export async function prepareOutFile(file: string, option: string): Promise<void> {
  const full = path.resolve(file);
  const fail = (why: string) => new UsageError(`--${option} ${escapeControl(file)}: ${why}`);
  const work = async () => {
    const missing: string[] = [];
    let dir = path.dirname(full);
    for (;;) {
      const s = await stat(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
      if (s) {
        if (!s.isDirectory()) throw fail(`${escapeControl(dir)} is not a folder`);
        break;
      }
      missing.unshift(dir);
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    for (const d of missing) await mkdir(d).catch((e: NodeJS.ErrnoException) => Promise.reject(fail(`cannot create the folder ${escapeControl(d)} (${e.code ?? e.message})`)));
    const s = await stat(full).catch(() => null);
    if (s?.isDirectory()) throw fail('is a folder');
    const handle = await open(full, 'w').catch((e: NodeJS.ErrnoException) => Promise.reject(fail(`cannot be written (${e.code ?? e.message})`)));
    await handle.close();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(fail(`no answer from the file system within ${OUT_CHECK_TIMEOUT_MS / 1000} s`)), OUT_CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([work().catch((e) => Promise.reject(e instanceof UsageError ? e : fail((e as Error).message))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Accuracies and attacks need at least two classes in the data: with one, "accuracy" is a statement about one label. */
export function checkAttackable(ds: ImageDataset): void {
  const seen = new Set<number>();
  for (let i = 0; i < ds.labels.length && seen.size < 2; i++) seen.add(ds.labels[i]);
  if (seen.size < 2) throw new LabError(`dataset ${escapeControl(ds.id)} holds a single class${seen.size ? ` (${escapeControl(ds.classNames[[...seen][0]] ?? String([...seen][0]))})` : ''}; accuracies and attacks need samples of at least two classes`);
}
