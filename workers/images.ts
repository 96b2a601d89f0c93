/**
 * Browser image decoding for dataset upload, usable in a worker (no DOM): the
 * platform decoder via createImageBitmap, pixels read back through an OffscreenCanvas.
 * Everything after decoding is core (src/core/data/imageFolder).
 */
import { LabError, type ImageDataset } from '../src/core/types';
import {
  checkImageHeader,
  classOfPath,
  decodeErrorMessage,
  imageFolderDataset,
  type DecodedImage,
  type ImageFolderEntry,
  type ImageFolderOptions,
} from '../src/core/data';

/** Decode one image file (any format the browser knows) to 8-bit RGBA. */
export async function decodeImageFile(name: string, bytes: ArrayBuffer): Promise<DecodedImage> {
  // The declared size is checked before the browser decodes anything (a small PNG may declare gigapixels).
  checkImageHeader(name, new Uint8Array(bytes), 'a decodable image');
  let bitmap: ImageBitmap;
  try {
    // 'none' for both: pixel values must be the file's own, not colour-managed or
    // premultiplied, or the same PNG would give different inputs here and in the CLI.
    bitmap = await createImageBitmap(new Blob([bytes]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (err) {
    throw new LabError(decodeErrorMessage(name, err));
  }
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new LabError(`${name}: cannot read pixels (no 2D canvas context in this browser)`);
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, width, height).data;
    return { width, height, channels: 4, data };
  } finally {
    bitmap.close();
  }
}

/**
 * Decode dropped files (`path` relative to the dropped folder, e.g. from
 * webkitRelativePath minus the root) into an image-folder dataset. A root-level
 * `labels.txt` is used as the class order; dotfiles are skipped.
 */
export async function imageFolderFromFiles(
  files: { path: string; bytes: ArrayBuffer }[],
  opts: Omit<ImageFolderOptions, 'labelsTxt'> = {},
): Promise<ImageDataset> {
  let labelsTxt: string | undefined;
  const images: { path: string; bytes: ArrayBuffer }[] = [];
  for (const f of files) {
    const segs = f.path.split(/[\\/]+/).filter((s) => s.length > 0 && s !== '.');
    if (segs.length === 0 || segs[segs.length - 1].startsWith('.')) continue;
    if (segs.length === 1 && segs[0] === 'labels.txt') {
      labelsTxt = new TextDecoder().decode(f.bytes);
      continue;
    }
    classOfPath(f.path); // top-level images: fail before decoding anything
    images.push(f);
  }
  const entries: ImageFolderEntry[] = [];
  for (const f of images) entries.push({ path: f.path, image: await decodeImageFile(f.path, f.bytes) });
  return imageFolderDataset(entries, { ...opts, labelsTxt });
}
