/** Node file adapters for the CLI and Node tests (core stays free of fs). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReadModelFile } from '../core/model/artifacts';

/**
 * A ReadModelFile that resolves names relative to the folder of `modelJsonPath` and refuses
 * any name that resolves outside it (the validator refuses `..` already; this holds even for
 * a name it did not see).
 */
export function nodeModelReader(modelJsonPath: string): { name: string; read: ReadModelFile } {
  const dir = path.dirname(path.resolve(modelJsonPath));
  return {
    name: path.basename(modelJsonPath),
    read: async (rel) => {
      const full = path.resolve(dir, rel);
      if (full !== dir && !full.startsWith(dir + path.sep)) throw new Error(`"${rel}" lies outside the model's folder`);
      return new Uint8Array(await readFile(full));
    },
  };
}
