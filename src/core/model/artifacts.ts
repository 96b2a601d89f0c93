/**
 * Reading a tfjs model (model.json + binary weight shards) through an injected file
 * reader, with validation that turns every way the files can be broken into one clear
 * line: unparsable JSON, a structure tfjs would loop on or crash over (validate.ts, run
 * before any shard is read), a shard that is missing or shorter than the manifest says.
 * The same code serves URLs and dropped files (browser) and paths (CLI).
 */
import type * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';
import { checkModelJson, WEIGHT_DTYPE_BYTES } from './validate';
import { escapeControl } from '../text';

/** Largest model.json read (64 MiB): topologies are kilobytes; a bigger "model.json" is something else. */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

/** A model.json that failed structural validation: the message is the first problem, `problems` all of them. */
export class ModelFileError extends LabError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length > 1 ? `${problems[0]} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : problems[0]);
    this.problems = problems;
  }
}

/** Reads a file named relative to model.json; rejects (any error) when it is missing. */
export type ReadModelFile = (relativePath: string) => Promise<Uint8Array>;

interface WeightEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: { dtype: string };
}

/** Bytes of one weight; the manifest was validated, so shape and dtype are sound. */
function entryBytes(w: WeightEntry): number {
  const count = w.shape.reduce((a, b) => a * b, 1);
  return count * WEIGHT_DTYPE_BYTES[w.quantization?.dtype ?? w.dtype ?? 'float32'];
}

/**
 * Load and validate artifacts. `label` names the model in messages (a URL, a path or
 * "dropped files").
 */
export async function loadModelArtifacts(
  modelJsonName: string,
  read: ReadModelFile,
  label = modelJsonName,
): Promise<tf.io.ModelArtifacts> {
  let jsonBytes: Uint8Array;
  try {
    jsonBytes = await read(modelJsonName);
  } catch (e) {
    throw new LabError(`${label}: cannot read ${modelJsonName} (${(e as Error).message})`);
  }
  if (jsonBytes.byteLength > MAX_MODEL_JSON_BYTES) {
    throw new LabError(`${label}: ${modelJsonName} is ${(jsonBytes.byteLength / 2 ** 20).toFixed(0)} MB, more than the ${MAX_MODEL_JSON_BYTES / 2 ** 20} MB a model.json may have`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (e) {
    throw new LabError(`${label}: ${modelJsonName} is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (json === null || typeof json !== 'object' || !('modelTopology' in json) || json.modelTopology == null) {
    throw new LabError(`${label}: ${modelJsonName} has no "modelTopology"; is this a tfjs model.json?`);
  }
  const file = label.endsWith(modelJsonName) ? label : `${label}: ${modelJsonName}`;
  const check = checkModelJson(json, file);
  if (check.problems.length) throw new ModelFileError(check.problems);
  const manifest = (json.weightsManifest ?? []) as { paths: string[]; weights: WeightEntry[] }[];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  let total = 0;
  for (const group of manifest) {
    const expected = group.weights.reduce((s, w) => s + entryBytes(w), 0);
    let got = 0;
    const groupBuffers: Uint8Array[] = [];
    for (const p of group.paths) {
      let bytes: Uint8Array;
      try {
        bytes = await read(p);
      } catch {
        throw new LabError(`${label}: weight shard "${p}" is missing (listed in ${modelJsonName})`);
      }
      got += bytes.byteLength;
      groupBuffers.push(bytes);
    }
    if (got < expected) {
      throw new LabError(
        `${label}: weight shards ${group.paths.join(', ')} hold ${got} bytes but the manifest needs ${expected} (truncated shard?)`,
      );
    }
    if (got > expected) {
      throw new LabError(
        `${label}: weight shards ${group.paths.join(', ')} hold ${got} bytes but the manifest needs only ${expected} (wrong shard?)`,
      );
    }
    specs.push(...(group.weights as tf.io.WeightsManifestEntry[]));
    buffers.push(...groupBuffers);
    total += got;
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  const bad = firstNonFiniteWeight(specs, weightData);
  if (bad) throw new LabError(`${label}: weight "${escapeControl(bad.name)}" (layer "${escapeControl(bad.name.split('/')[0])}") holds ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (NaN or ±Inf); nothing computed with it would mean anything`);
  return {
    modelTopology: json.modelTopology as object,
    format: json.format as string | undefined,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
    weightSpecs: specs,
    weightData: weightData.buffer,
    signature: json.signature as object | undefined,
    userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
  };
}

/**
 * The URL of a weight shard named `rel` in the manifest of the model.json at `modelUrl`, or
 * a LabError when it would leave the model's origin or folder (a manifest must not make the
 * lab fetch from another host, nor from elsewhere on this one).
 */
export function shardUrl(modelUrl: URL, rel: string): URL {
  const folder = modelUrl.pathname.slice(0, modelUrl.pathname.lastIndexOf('/') + 1);
  let url: URL;
  try {
    url = new URL(rel, modelUrl);
  } catch {
    throw new LabError(`weight shard "${rel}" is not a valid URL path`);
  }
  if (url.origin !== modelUrl.origin || !url.pathname.startsWith(folder)) {
    throw new LabError(`weight shard "${rel}" lies outside the model's folder ${modelUrl.origin}${folder}`);
  }
  return url;
}

/**
 * The first weight holding NaN or ±Inf, with how many it holds. float32 and float16 (also as
 * float16 quantisation) are read as stored; uint8/uint16 quantised weights are finite whenever
 * their scale and offset are (the validator checks those); integer and bool weights always are.
 */
export function firstNonFiniteWeight(specs: tf.io.WeightsManifestEntry[], data: Uint8Array): { name: string; count: number } | null {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const w of specs as WeightEntry[]) {
    const bytes = entryBytes(w);
    const stored = w.quantization?.dtype ?? w.dtype ?? 'float32';
    let count = 0;
    if (stored === 'float32') {
      for (let i = offset; i < offset + bytes; i += 4) {
        // Exponent bits all ones: Inf or NaN.
        if ((view.getUint32(i, true) & 0x7f800000) === 0x7f800000) count++;
      }
    } else if (stored === 'float16') {
      for (let i = offset; i < offset + bytes; i += 2) if ((view.getUint16(i, true) & 0x7c00) === 0x7c00) count++;
    }
    if (count) return { name: w.name, count };
    offset += bytes;
  }
  return null;
}
