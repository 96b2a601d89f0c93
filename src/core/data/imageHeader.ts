/**
 * The pixel size an image file declares in its header, read without decoding it, so that
 * decoders can refuse a huge image before allocating its pixels: an 875 KB PNG may declare
 * 30 000 × 30 000 pixels (3.6 GB of RGBA) and a decoder would try to honour that.
 *
 * Formats: PNG (IHDR), JPEG (first SOF marker), GIF (logical screen), BMP (info header)
 * and WebP (VP8, VP8L, VP8X). Anything else is "unknown" and callers refuse it.
 */
import { LabError } from '../types';

/**
 * Most pixels one dataset image may declare: 16 megapixels (64 MB as RGBA) is far above any
 * image a classifier here takes (28×28 to 224×224) and still decodes in well under a second.
 */
export const MAX_IMAGE_PIXELS = 16 * 2 ** 20;
/** Longest side accepted, so a 1 × 16M strip cannot pass the pixel cap. */
export const MAX_IMAGE_SIDE = 16_384;

export interface ImageHeader {
  format: 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp';
  width: number;
  height: number;
}

const startsWith = (b: Uint8Array, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** The declared size, or null when the bytes are no known format or the header is cut off. */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    // The first chunk must be IHDR: width and height are big-endian uint32 at 16 and 20.
    if (b.length < 24 || !startsWith(b, ascii('IHDR'), 12)) return null;
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (startsWith(b, [0xff, 0xd8, 0xff])) {
    // Walk the marker segments to the first start-of-frame (SOF0–SOF15 except DHT C4, JPG C8, DAC CC).
    let i = 2;
    while (i + 4 <= b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2; // standalone markers carry no length
        continue;
      }
      const length = view.getUint16(i + 2);
      if (length < 2) return null;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (i + 9 > b.length) return null;
        return { format: 'jpeg', height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
      if (marker === 0xda || marker === 0xd9) return null; // scan data or end before any frame header
      i += 2 + length;
    }
    return null;
  }
  if (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) {
    if (b.length < 10) return null;
    return { format: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (startsWith(b, ascii('BM'))) {
    if (b.length < 26) return null;
    // BITMAPINFOHEADER: int32 width and height (negative height = top-down rows).
    return { format: 'bmp', width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  }
  if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) {
    if (startsWith(b, ascii('VP8X'), 12) && b.length >= 30) {
      const w = b[24] | (b[25] << 8) | (b[26] << 16);
      const h = b[27] | (b[28] << 8) | (b[29] << 16);
      return { format: 'webp', width: w + 1, height: h + 1 };
    }
    if (startsWith(b, ascii('VP8L'), 12) && b.length >= 25) {
      const bits = view.getUint32(21, true);
      return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (startsWith(b, ascii('VP8 '), 12) && b.length >= 30) {
      return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    }
    return null;
  }
  return null;
}

/**
 * Refuse, before decoding, an image whose header is unreadable or declares more than
 * MAX_IMAGE_PIXELS or a side above MAX_IMAGE_SIDE. `name` names the file in the message.
 */
export function checkImageHeader(name: string, bytes: Uint8Array, expected = 'a PNG, JPEG, GIF, BMP or WebP image'): ImageHeader {
  const h = readImageHeader(bytes);
  if (!h) throw new LabError(`${name}: not ${expected} (no readable image header)`);
  if (h.width < 1 || h.height < 1) throw new LabError(`${name}: ${h.format.toUpperCase()} header declares ${h.width} × ${h.height} pixels`);
  if (h.width > MAX_IMAGE_SIDE || h.height > MAX_IMAGE_SIDE || h.width * h.height > MAX_IMAGE_PIXELS) {
    throw new LabError(
      `${name}: ${h.format.toUpperCase()} header declares ${h.width} × ${h.height} pixels, more than the ${MAX_IMAGE_PIXELS / 2 ** 20} megapixels (${MAX_IMAGE_SIDE} per side) a dataset image may have; not decoded`,
    );
  }
  return h;
}
