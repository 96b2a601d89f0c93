import { describe, expect, it } from 'vitest';
import { checkImageHeader, MAX_IMAGE_PIXELS, readImageHeader } from './imageHeader';

/** PNG signature + an IHDR chunk declaring w × h (CRC not checked by the header reader). */
function pngHeader(w: number, h: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const v = new DataView(b.buffer);
  v.setUint32(16, w);
  v.setUint32(20, h);
  b[24] = 8;
  b[25] = 6;
  return b;
}

/** A JPEG start: SOI, an APP0 segment, then SOF0 declaring w × h. */
function jpegHeader(w: number, h: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, ...Array(14).fill(0)];
  const sof = [0xff, 0xc0, 0, 11, 8, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0];
  return new Uint8Array([0xff, 0xd8, ...app0, ...sof]);
}

describe('image headers', () => {
  it('reads declared sizes without decoding', () => {
    expect(readImageHeader(pngHeader(28, 32))).toEqual({ format: 'png', width: 28, height: 32 });
    expect(readImageHeader(jpegHeader(640, 480))).toEqual({ format: 'jpeg', width: 640, height: 480 });
    const gif = new Uint8Array([...'GIF89a'].map((c) => c.charCodeAt(0)).concat([10, 0, 20, 0]));
    expect(readImageHeader(gif)).toEqual({ format: 'gif', width: 10, height: 20 });
    expect(readImageHeader(new TextEncoder().encode('hello, I am a PNG'))).toBeNull();
    expect(readImageHeader(pngHeader(1, 1).subarray(0, 20))).toBeNull();
  });

  it('refuses a 30000 × 30000 PNG and a huge JPEG before decoding, in well under a second', () => {
    const t0 = performance.now();
    expect(() => checkImageHeader('big.png', pngHeader(30000, 30000))).toThrow(`big.png: PNG header declares 30000 × 30000 pixels, more than the ${MAX_IMAGE_PIXELS / 2 ** 20} megapixels`);
    expect(() => checkImageHeader('wide.jpg', jpegHeader(65000, 2))).toThrow(/wide\.jpg: JPEG header declares 65000 × 2 pixels/);
    expect(() => checkImageHeader('zero.png', pngHeader(0, 5))).toThrow('zero.png: PNG header declares 0 × 5 pixels');
    expect(() => checkImageHeader('text.png', new TextEncoder().encode('not an image'))).toThrow(/text\.png: not a PNG, JPEG, GIF, BMP or WebP image/);
    expect(performance.now() - t0).toBeLessThan(100);
  });
});
