import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { halfPrecisionUnavailable, resolvePrecision, roundTripIsHalf } from './precision';
import { selectBackend } from './backend';

describe('resolvePrecision', () => {
  it('gives float16 only on WebGL with half render targets and a rounded round trip', () => {
    expect(resolvePrecision('float16', 'webgl', { renderTargets: null, roundTripIsHalf: true })).toEqual({ requested: 'float16', active: 'float16', note: null });
    expect(resolvePrecision('float32', 'webgl', { renderTargets: null, roundTripIsHalf: false })).toEqual({ requested: 'float32', active: 'float32', note: null });
  });

  it('says why it stays float32: WebGPU, WASM, CPU, missing render targets, an unrounded round trip', () => {
    expect(resolvePrecision('float16', 'webgpu', { renderTargets: null }).note).toMatch(/WebGPU in tfjs 4\.22 has no float16 storage/);
    for (const b of ['wasm', 'cpu'] as const) {
      const p = resolvePrecision('float16', b, { renderTargets: null, roundTripIsHalf: true });
      expect(p.active).toBe('float32');
      expect(p.note).toBe(halfPrecisionUnavailable(b));
    }
    expect(resolvePrecision('float16', 'webgl', { renderTargets: 'an RGBA16F framebuffer is incomplete' }).note).toMatch(/cannot render to half floats \(an RGBA16F framebuffer is incomplete\)/);
    expect(resolvePrecision('float16', 'webgl', { renderTargets: null, roundTripIsHalf: false })).toMatchObject({ active: 'float32', note: expect.stringMatching(/kept float32 textures/) });
    expect(halfPrecisionUnavailable('webgl')).toBeNull();
  });
});

describe('half precision on the CPU backend (Node)', () => {
  it('is recorded as float32 with the reason, and the round trip sees float32 storage', async () => {
    const state = await selectBackend('cpu', { node: true, precision: 'float16' });
    expect(state.precision).toMatchObject({ requested: 'float16', active: 'float32' });
    expect(state.precision?.note).toMatch(/CPU backend computes in float32/);
    const before = tf.memory().numTensors;
    expect(await roundTripIsHalf()).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });
});
