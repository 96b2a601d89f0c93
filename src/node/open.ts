/** Models and data by name or path for Node runs (CLI, tools, benchmarks): resolution, loading, sampling. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { classBalancedSample, takeSamples } from '../core/data/sampler';
import { loadLabModel, type LabModel } from '../core/model/model';
import { checkClassNames, readClassNames } from '../core/model/classNames';
import { isOnnxName, loadOnnxModel, type OnnxLabModel } from '../core/onnx/import';
import { ONNX_MEMORY_BUDGET_NODE, type MemoryBudget } from '../core/onnx/memory';
import { escapeControl } from '../core/text';
import { LabError, type ImageDataset } from '../core/types';
import { nodeModelReader, type FileSource } from './files';
import { loadBuiltinDataset, loadDatasetFromPath } from './images';
import { PUBLIC_DIR } from './paths';

/** A zoo id (public/models/<id>/model.json), a path to a model.json or to an .onnx file. */
export function resolveModelPath(spec: string): string {
  if (existsSync(spec)) return existsSync(path.join(spec, 'model.json')) ? path.join(spec, 'model.json') : spec;
  const zoo = path.join(PUBLIC_DIR, 'models', spec, 'model.json');
  if (existsSync(zoo)) return zoo;
  throw new LabError(`model "${spec}" is neither a file nor a zoo id (see public/models/index.json)`);
}

/**
 * Open a model; `labels` is a labels.txt or JSON list of its class names (the CLI's --labels),
 * read and parsed before the model loads and checked against its class count after.
 */
export async function openModel(spec: string, opts: { labels?: string; memoryBudget?: number } = {}): Promise<LabModel> {
  const file = resolveModelPath(spec);
  const names = opts.labels === undefined ? null : await readClassNamesFile(opts.labels);
  const reader = nodeModelReader(file);
  const model = isOnnxName(file) ? await loadOnnxFile(file, nodeBudget(opts.memoryBudget)) : await loadLabModel(reader.name, reader.read, file);
  if (names && opts.labels !== undefined) {
    try {
      checkClassNames(opts.labels, names, model.numClasses);
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.classNames = names;
  }
  return model;
}

/**
 * Load an .onnx file read in pieces (src/core/onnx/stream.ts): its structure first, then
 * each weight's bytes by a positioned read when the importer needs it, so the file is never
 * held whole. External data (a .data file written past 2 GB) is read the same way, tensor by
 * tensor, from the .onnx's own folder only.
 */
export async function loadOnnxFile(file: string, budget: MemoryBudget, label = file): Promise<OnnxLabModel> {
  const reader = nodeModelReader(file);
  const opened: FileSource[] = [];
  const openFile = async (rel: string) => {
    const src = await reader.open(rel);
    opened.push(src);
    return src;
  };
  try {
    return await loadOnnxModel({ model: await openFile(reader.name), openExternal: openFile, budget }, label);
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

/** The Node memory budget for ONNX models (memory.ts), or the CLI's --memory-budget. */
export function nodeBudget(bytes?: number): MemoryBudget {
  return bytes === undefined
    ? { bytes: ONNX_MEMORY_BUDGET_NODE, advice: `raise it with --memory-budget (e.g. --memory-budget 6GB) if this machine has the memory, or use a smaller model` }
    : { bytes, advice: 'raise --memory-budget if this machine has the memory, or use a smaller model' };
}

async function readClassNamesFile(file: string): Promise<string[]> {
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new LabError(`${escapeControl(path.basename(file))}: cannot read the class names (${e.code ?? e.message})`);
  });
  return readClassNames({ name: file, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
}

export const BUILTIN_DATA: Record<string, string> = { mnist: 'mnist-test', 'mnist-test': 'mnist-test', cifar10: 'cifar10-test', 'cifar10-test': 'cifar10-test' };

export async function openData(spec: string): Promise<ImageDataset> {
  const builtin = BUILTIN_DATA[spec];
  if (builtin) return loadBuiltinDataset(builtin, PUBLIC_DIR);
  if (!existsSync(spec)) throw new LabError(`data "${spec}" is neither mnist, cifar10 nor an existing path`);
  return loadDatasetFromPath(spec);
}

/**
 * A class-balanced sample of `count` items (capped at what the data holds; all of it when
 * `count` reaches that), with the indices drawn. An empty dataset is an error.
 */
export function sampleDataset(ds: ImageDataset, count: number, seed: number): { data: ImageDataset; indices: Int32Array } {
  if (ds.n === 0) throw new LabError(`dataset ${escapeControl(ds.id)} has no samples`);
  const k = Math.min(count, ds.n);
  if (k === ds.n) return { data: ds, indices: Int32Array.from({ length: ds.n }, (_, i) => i) };
  const indices = classBalancedSample(ds.labels, ds.classNames.length, k, seed);
  return { data: takeSamples(ds, indices), indices };
}

/** Accuracies and attacks need at least two classes in the data: with one, "accuracy" is a statement about one label. */
export function checkAttackable(ds: ImageDataset): void {
  const seen = new Set<number>();
  for (let i = 0; i < ds.labels.length && seen.size < 2; i++) seen.add(ds.labels[i]);
  if (seen.size < 2) throw new LabError(`dataset ${escapeControl(ds.id)} holds a single class${seen.size ? ` (${escapeControl(ds.classNames[[...seen][0]] ?? String([...seen][0]))})` : ''}; accuracies and attacks need samples of at least two classes`);
}
