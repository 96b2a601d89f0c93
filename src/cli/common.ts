/** Shared pieces of the CLI's commands: backend, model and data resolution, sampling. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendRequest } from '../core/backend';
import { classBalancedSample, takeSamples } from '../core/data/sampler';
import { loadLabModel, type LabModel } from '../core/model/model';
import { LabError, type ImageDataset } from '../core/types';
import { UsageError } from './args';
import { nodeModelReader } from './files';
import { loadBuiltinDataset, loadDatasetFromPath } from './images';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PUBLIC_DIR = path.join(ROOT, 'public');
/** A zoo id (public/models/<id>/model.json) or a path to a model.json. */
export function resolveModelPath(spec: string): string {
  if (existsSync(spec)) return existsSync(path.join(spec, 'model.json')) ? path.join(spec, 'model.json') : spec;
  const zoo = path.join(PUBLIC_DIR, 'models', spec, 'model.json');
  if (existsSync(zoo)) return zoo;
  throw new LabError(`model "${spec}" is neither a file nor a zoo id (see public/models/index.json)`);
}

export async function openModel(spec: string): Promise<LabModel> {
  const file = resolveModelPath(spec);
  const reader = nodeModelReader(file);
  return loadLabModel(reader.name, reader.read, file);
}

export const BUILTIN_DATA: Record<string, string> = { mnist: 'mnist-test', 'mnist-test': 'mnist-test', cifar10: 'cifar10-test', 'cifar10-test': 'cifar10-test' };

export async function openData(spec: string): Promise<ImageDataset> {
  const builtin = BUILTIN_DATA[spec];
  if (builtin) return loadBuiltinDataset(builtin, PUBLIC_DIR);
  if (!existsSync(spec)) throw new LabError(`data "${spec}" is neither mnist, cifar10 nor an existing path`);
  return loadDatasetFromPath(spec);
}

export function sampleData(ds: ImageDataset, n: number | undefined, seed: number): { data: ImageDataset; indices: Int32Array } {
  const count = Math.min(n ?? ds.n, ds.n);
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

