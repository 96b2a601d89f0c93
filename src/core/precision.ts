/**
 * Half precision on the GPU (issue #23): what tfjs 4.22 allows, decided here and started by
 * backend.ts before the backend initialises.
 *
 * tfjs 4.22 has no float16 tensor dtype. What it has is a WebGL flag, WEBGL_FORCE_F16_TEXTURES,
 * read when the WebGL backend starts: every texture a kernel renders into (weights once uploaded,
 * activations, gradients) is then R16F/RGBA16F instead of R32F/RGBA32F, so each stored value
 * takes 2 bytes instead of 4 and carries IEEE half's 11-bit significand (relative rounding
 * 2^-11 ≈ 4.9e-4, largest finite 65504, smallest normal 6.1e-5). Shaders still compute in their
 * own (float32 highp) arithmetic; only what is stored between kernels is rounded. Uploads pass
 * through a float32 staging texture that returns to tfjs's texture pool, so the pool also holds
 * float32 textures of the uploaded shapes.
 *
 * WebGPU in tfjs 4.22 declares every float buffer `array<f32>` (webgpu_program.ts
 * dataTypeToGPUType) and never requests the 'shader-f16' feature: there is no float16 storage
 * to switch on. WASM and CPU compute in float32 (XNNPACK, plain JS), with no half path at all.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';

export type Precision = 'float32' | 'float16';

/**
 * How far half precision may move the numbers: max |float16 − float32 CPU| over the batch, over
 * the largest |float32 CPU| value (e2e/half-precision.spec.ts, WebGL on SwiftShader, 8 test
 * images). Measured: logits 2.3e-4 (mnist-small-st) and 9.1e-4 (cifar-medium-st); input
 * gradients 1.1e-3 and 5.7e-2. The tolerance is about 3× the worse model's. Per sample there is
 * no bound: where softmax's 1 − p is below float16's spacing under 1 (2⁻¹¹), p − 1 rounds to 0
 * and the sample's whole cross-entropy gradient vanishes (1 of the 8 MNIST samples).
 */
export const HALF_PRECISION_TOLERANCE = { logits: 3e-3, gradient: 0.15 } as const;

/** What half precision does to the numbers, in one line for the badge and the schema's help. */
export const HALF_PRECISION_CAVEAT = `logits within ${HALF_PRECISION_TOLERANCE.logits} and input gradients within ${HALF_PRECISION_TOLERANCE.gradient} of float32, relative to the largest value; a very confident sample (1 − p < 2⁻¹¹) gets a zero cross-entropy gradient, so gradient attacks can overstate robustness`;

export interface PrecisionState {
  requested: Precision;
  /** What the backend stores values in. */
  active: Precision;
  /** Why `active` differs from `requested` (one line for the UI), null when it does not. */
  note: string | null;
}

/** Why half precision does not apply to a backend, or null where it does (WebGL). */
export function halfPrecisionUnavailable(backend: BackendName): string | null {
  switch (backend) {
    case 'webgl':
      return null;
    case 'webgpu':
      return 'WebGPU in tfjs 4.22 has no float16 storage (f32 buffers only, no shader-f16); stays float32';
    case 'wasm':
      return 'WASM computes in float32 (no half path); half precision is for WebGL';
    case 'cpu':
      return 'the CPU backend computes in float32; half precision is for WebGL';
  }
}

/**
 * The precision the lab ends up with, from facts only (pure, unit-tested): float16 only on WebGL
 * with half-float render targets and a round trip that shows half rounding (`roundTripIsHalf`).
 */
export function resolvePrecision(
  requested: Precision,
  active: BackendName,
  facts: { renderTargets: string | null; roundTripIsHalf?: boolean },
): PrecisionState {
  if (requested === 'float32') return { requested, active: 'float32', note: null };
  const unavailable = halfPrecisionUnavailable(active);
  if (unavailable) return { requested, active: 'float32', note: unavailable };
  if (facts.renderTargets) return { requested, active: 'float32', note: `WebGL here cannot render to half floats (${facts.renderTargets}); stays float32` };
  if (!facts.roundTripIsHalf) return { requested, active: 'float32', note: 'WebGL kept float32 textures (a stored 1 + 2⁻¹³ came back unrounded); stays float32' };
  return { requested, active: 'float16', note: null };
}

/**
 * Whether a WebGL2 context here can render into half-float textures (what the forced-f16 path
 * needs: every kernel output is a render target), checked on a throwaway context before tfjs
 * starts WebGL. Null when it can, else the reason. WebGL1 is not checked: tfjs's WebGL1 path
 * throws at start-up itself when OES_texture_half_float or EXT_color_buffer_half_float is missing.
 */
export function halfFloatRenderTargets(): string | null {
  if (typeof OffscreenCanvas === 'undefined') return 'no OffscreenCanvas';
  let gl: WebGL2RenderingContext | null = null;
  try {
    gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return 'no WebGL2 context';
    // WebGL2 makes R16F/RGBA16F colour-renderable only with one of these extensions.
    if (!gl.getExtension('EXT_color_buffer_float') && !gl.getExtension('EXT_color_buffer_half_float')) return 'neither EXT_color_buffer_float nor EXT_color_buffer_half_float';
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA16F, 1, 1, 0, gl.RGBA, gl.HALF_FLOAT, null);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    const complete = gl.checkFramebufferStatus(gl.FRAMEBUFFER) === gl.FRAMEBUFFER_COMPLETE;
    gl.deleteFramebuffer(framebuffer);
    gl.deleteTexture(texture);
    return complete ? null : 'an RGBA16F framebuffer is incomplete';
  } catch (e) {
    return `half-float check failed: ${(e as Error).message}`;
  } finally {
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/** Ask tfjs for float16 textures; must run before the WebGL backend starts (tfjs reads the flag once). */
export function forceHalfTextures(): void {
  tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
}

/** Whether this realm asked tfjs for float16 textures. */
export function halfTexturesForced(): boolean {
  return tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
}

/**
 * 1 + 2⁻¹³ survives float32 storage and rounds to 1 in float16 (11-bit significand, either
 * rounding mode). Eight values, so tfjs uploads a texture instead of a shader uniform.
 */
const PROBE_VALUE = 1 + 2 ** -13;

/** Whether the active backend stores values in half precision: a stored value comes back rounded. */
export async function roundTripIsHalf(): Promise<boolean> {
  const stored = tf.tidy(() => tf.mul(tf.fill([8], PROBE_VALUE), 1));
  try {
    const v = await stored.data();
    return v[0] === 1;
  } finally {
    stored.dispose();
  }
}

/** GPU memory of the WebGL backend, from its texture manager (format-aware: half textures count 2 bytes a value). */
export interface GpuMemory {
  /** Bytes of textures held by live tensors. */
  inUse: number;
  /** Bytes of every texture allocated, tfjs's pool of released ones included. */
  allocated: number;
}

/**
 * The WebGL backend's texture bytes, or null on other backends. tf.memory().numBytesInGPU counts
 * 4 bytes per value whatever the texture format, so it cannot show the saving; the texture
 * manager's numbers (numBytesInGPUAllocated/Free) use the real internal format.
 */
export function gpuMemory(): GpuMemory | null {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPUAllocated?: number; numBytesInGPUFree?: number };
  if (tf.getBackend() !== 'webgl' || m.numBytesInGPUAllocated === undefined) return null;
  return { inUse: m.numBytesInGPUAllocated - (m.numBytesInGPUFree ?? 0), allocated: m.numBytesInGPUAllocated };
}
