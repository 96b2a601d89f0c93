/**
 * A dataset from the files the user brought (dropped or picked; paths relative to the drop):
 * the one dispatch the lab's data loader (workers/lab.worker.ts) and the Train view's data
 * (workers/train.worker.ts) share, on the format rule the CLI's `--data <folder>` applies too
 * (detectDataFormat) and the same parsers. Pure: the caller passes the image decoder (the
 * browser's createImageBitmap in a worker).
 */
import type { ImageDataset } from '../types';
import { cifarFromBatches } from './cifar';
import { detectDataFormat } from './detect';
import { imageFolderDataset, type DecodedImage } from './imageFolder';
import { mnistFromIdx } from './mnist';

export interface UserDataFile {
  /** Relative to what the user chose: `class/image.png`, `data_batch_1.bin`, `folder/data_batch_1.bin`. */
  path: string;
  bytes: ArrayBuffer;
}

export interface UserDataOptions {
  decode: (path: string, bytes: ArrayBuffer) => Promise<DecodedImage>;
  /** A root-level labels.txt (the class order of an image folder). */
  labelsTxt?: string;
  /** Id and name of an image-folder dataset (IDX pairs and CIFAR batches name themselves). */
  id: string;
  name: string;
}

export async function datasetFromFiles(files: readonly UserDataFile[], opts: UserDataOptions): Promise<ImageDataset> {
  const found = detectDataFormat(files);
  const byPath = new Map(files.map((f) => [f.path, f.bytes]));
  const named = (p: string) => ({ name: p, bytes: new Uint8Array(byPath.get(p) as ArrayBuffer) });
  if (found.format === 'mnist-idx') return mnistFromIdx(named(found.images), named(found.labels), { id: found.id, name: found.name });
  if (found.format === 'cifar-batches') return cifarFromBatches([...(found.meta ? [found.meta] : []), ...found.batches].map(named));
  const entries = [];
  for (const p of found.images) entries.push({ path: p, image: await opts.decode(p, byPath.get(p) as ArrayBuffer) });
  return imageFolderDataset(entries, { labelsTxt: opts.labelsTxt, id: opts.id, name: opts.name });
}
