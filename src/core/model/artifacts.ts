/**
 * Reading a tfjs model (model.json + binary weight shards) through an injected file
 * reader, with validation that turns every way the files can be broken into one clear
 * line: unparsable JSON, missing topology, a shard that is missing or shorter than the
 * manifest says. The same code serves URLs and dropped files (browser) and paths (CLI).
 */
import type * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';

/** Reads a file named relative to model.json; rejects (any error) when it is missing. */
export type ReadModelFile = (relativePath: string) => Promise<Uint8Array>;

interface WeightEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: { dtype: string };
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function entryBytes(w: WeightEntry): number {
  const count = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype ?? 'float32';
  const bytes = BYTES_PER_DTYPE[dtype];
  if (bytes === undefined) throw new LabError(`model.json: weight "${w.name}" has unsupported dtype "${dtype}"`);
  return count * bytes;
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
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (e) {
    throw new LabError(`${label}: ${modelJsonName} is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (json === null || typeof json !== 'object' || !('modelTopology' in json) || json.modelTopology == null) {
    throw new LabError(`${label}: ${modelJsonName} has no "modelTopology"; is this a tfjs model.json?`);
  }
  const manifest = (json.weightsManifest ?? []) as { paths: string[]; weights: WeightEntry[] }[];
  if (!Array.isArray(manifest)) throw new LabError(`${label}: "weightsManifest" must be a list`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  let total = 0;
  for (const group of manifest) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new LabError(`${label}: a weightsManifest group lacks "paths" or "weights"`);
    }
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
