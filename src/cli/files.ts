/** Node file adapters for the CLI and Node tests (core stays free of fs). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReadModelFile } from '../core/model/artifacts';

/** A ReadModelFile that resolves names relative to the folder of `modelJsonPath`. */
export function nodeModelReader(modelJsonPath: string): { name: string; read: ReadModelFile } {
  const dir = path.dirname(path.resolve(modelJsonPath));
  return {
    name: path.basename(modelJsonPath),
    read: async (rel) => new Uint8Array(await readFile(path.join(dir, rel))),
  };
}
