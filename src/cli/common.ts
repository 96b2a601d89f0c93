/** The CLI's own piece of sampling: `--n` as typed, checked against the data (the sampling itself is src/node/open.ts). */
import type { ImageDataset } from '../core/types';
import { sampleDataset } from '../node/open';
import { sampleSize } from './args';

/**
 * A class-balanced sample of `--n` items (`nArg` as typed; `fallback` when absent, all when
 * neither): at least 1 and at most what the data holds, or a usage error that says so.
 */
export function sampleData(ds: ImageDataset, nArg: string | boolean | undefined, seed: number, fallback?: number): { data: ImageDataset; indices: Int32Array } {
  // An empty dataset is sampleDataset's error, not a complaint about --n.
  const count = ds.n === 0 ? 0 : sampleSize(nArg, ds.n, `dataset ${ds.id}`, fallback ?? ds.n);
  return sampleDataset(ds, count, seed);
}
