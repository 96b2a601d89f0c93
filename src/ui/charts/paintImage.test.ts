import { describe, expect, it } from 'vitest';
import { divergingRgb } from './diverging';
import { toByte, writeDifference, writeImage } from './paintImage';

/** An ImageData-like target (vitest runs in node: no canvas). */
const target = (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) });

describe('the image painter', () => {
  it('rounds halves up, clamps to 0…255 and paints NaN black', () => {
    expect([0, 0.5, 1, 0.25].map(toByte)).toEqual([0, 128, 255, 64]);
    expect([-0.2, 1.3, NaN, -0.001].map(toByte)).toEqual([0, 255, 0, 0]);
  });

  it('paints a 2×2 grey image: each value on R, G and B, opaque', () => {
    const t = target(2, 2);
    writeImage(t, Float32Array.from([0, 0.5, 1, 0.25]), [2, 2, 1]);
    expect(Array.from(t.data)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 64, 64, 64, 255]);
  });

  it('paints a 1×1 RGB image from the first three channels', () => {
    const t = target(1, 1);
    writeImage(t, Float32Array.from([0.1, 0.2, 0.3]), [1, 1, 3]);
    // 25.5 → 26, 51 → 51, 76.5 → 77 (float32 inputs sit just above the halves).
    expect(Array.from(t.data)).toEqual([26, 51, 77, 255]);
  });

  it('reads an image out of a batch at an offset, maps values first, and upscales by nearest neighbour', () => {
    // Two 1×2 grey images; paint the second, magnified around mid-grey, at scale 2.
    const batch = Float32Array.from([0.9, 0.9, -0.5, 0.5]);
    const t = target(4, 2);
    writeImage(t, batch, [1, 2, 1], { offset: 2, map: (v) => 0.5 + 0.5 * v, scale: 2 });
    const a = [64, 64, 64, 255];
    const b = [191, 191, 191, 255];
    expect(Array.from(t.data)).toEqual([...a, ...a, ...b, ...b, ...a, ...a, ...b, ...b]);
  });

  it('paints a difference map on the diverging scale, symmetric at maxAbs', () => {
    const t = target(3, 1);
    writeDifference(t, [-0.2, 0, 0.1], 3, 1, 0.2);
    // −maxAbs: the blue end; 0: white; +maxAbs/2: halfway from white to the red end.
    expect(Array.from(t.data)).toEqual([31, 119, 180, 255, 255, 255, 255, 255, 235, 147, 148, 255]);
    expect(divergingRgb(0.5)).toEqual([235, 147, 148]);
    const flat = target(1, 1);
    writeDifference(flat, [0], 1, 1, 0);
    expect(Array.from(flat.data)).toEqual([255, 255, 255, 255]);
  });

  it('refuses a target of the wrong size', () => {
    expect(() => writeImage(target(2, 2), new Float32Array(4), [2, 2, 1], { scale: 2 })).toThrow(/expected 4×4/);
  });
});
