import { describe, expect, it } from 'vitest';
import { channelPlanes, divergingRgb } from './diverging';

describe('perturbation heat map helpers', () => {
  it('maps 0 to white, ±1 to the end colours, and clamps beyond', () => {
    expect(divergingRgb(0)).toEqual([255, 255, 255]);
    expect(divergingRgb(1)).toEqual([214, 39, 40]);
    expect(divergingRgb(-1)).toEqual([31, 119, 180]);
    expect(divergingRgb(5)).toEqual(divergingRgb(1));
    // Halfway to red: the mean of white and red.
    expect(divergingRgb(0.5)).toEqual([Math.round((255 + 214) / 2), Math.round((255 + 39) / 2), Math.round((255 + 40) / 2)]);
  });

  it('splits δ of an NHWC image into channel planes with the symmetric range', () => {
    // 2 pixels × 3 channels: δ = (0.1, −0.2, 0) at pixel 0 and (0, 0, 0.05) at pixel 1.
    const clean = Float32Array.from([0.5, 0.5, 0.5, 0.2, 0.2, 0.2]);
    const adv = Float32Array.from([0.6, 0.3, 0.5, 0.2, 0.2, 0.25]);
    const { planes, maxAbs } = channelPlanes(clean, adv, 3);
    expect(planes).toHaveLength(3);
    expect(Array.from(planes[0]).map((v) => +v.toFixed(6))).toEqual([0.1, 0]);
    expect(Array.from(planes[1]).map((v) => +v.toFixed(6))).toEqual([-0.2, 0]);
    expect(Array.from(planes[2]).map((v) => +v.toFixed(6))).toEqual([0, 0.05]);
    expect(maxAbs).toBeCloseTo(0.2, 6);
  });
});
