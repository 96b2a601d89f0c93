/**
 * Backend choice lives here and only here (STYLE.md convention 8). The lab prefers
 * WebGPU, then WebGL, WASM and CPU; whenever it ends up on something other than what was
 * asked for, it records why, so the UI badge can say e.g. "webgl (navigator.gpu missing)".
 */
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type BackendRequest = BackendName | 'auto';

export const BACKEND_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendState {
  requested: BackendRequest;
  active: BackendName;
  /** Why the active backend differs from the first choice; null when it does not. */
  fallbackReason: string | null;
  /** Adapter description where known (WebGPU vendor/architecture). */
  adapter?: string;
  /** tfjs version running the backend (for manifests). */
  tfjs?: string;
}

export interface BackendEnvironment {
  /** Where the tfjs WASM binaries are served or stored (URL or directory prefix ending in '/'). */
  wasmPaths?: string | Record<string, string>;
  /** Node has no WebGPU or WebGL: the default order there is cpu, and wasm on request. */
  node?: boolean;
}

async function probeWebGpu(): Promise<{ ok: boolean; reason?: string; adapter?: string }> {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (!nav || !('gpu' in nav) || !nav.gpu) return { ok: false, reason: 'navigator.gpu missing' };
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'no WebGPU adapter (requestAdapter returned null)' };
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    return { ok: true, adapter: info ? `${info.vendor || 'unknown'} ${info.architecture || ''}`.trim() : undefined };
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
}

async function tryBackend(name: BackendName, env: BackendEnvironment): Promise<string | null> {
  try {
    if (name === 'webgpu') {
      const probe = await probeWebGpu();
      if (!probe.ok) return probe.reason ?? 'WebGPU unavailable';
      await import('@tensorflow/tfjs-backend-webgpu');
    } else if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (env.wasmPaths) wasm.setWasmPaths(env.wasmPaths as never);
    } else if (name === 'webgl') {
      if (env.node) return 'WebGL needs a browser';
      if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') return 'no OffscreenCanvas for WebGL';
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `${name} failed to initialise`;
    await tf.ready();
    return null;
  } catch (e) {
    return `${name} failed: ${((e as Error).message ?? String(e)).split('\n')[0]}`;
  }
}

/** The WebGL renderer string of tfjs's context (unmasked in current Chromium), if readable. */
function webglRenderer(): string | undefined {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    const r: unknown = gl?.getParameter(gl.RENDERER);
    return typeof r === 'string' && r ? r : undefined;
  } catch {
    return undefined;
  }
}

let activeState: BackendState | null = null;

/** The state of the last successful selectBackend in this realm (null before one). */
export function activeBackendState(): BackendState | null {
  return activeState;
}

/**
 * Whether the active GPU backend runs on a software rasteriser (Chromium's SwiftShader,
 * Mesa's llvmpipe, Microsoft Basic Render): there, per-op dispatch dominates and the
 * typed-array CPU paths are faster than tfjs ops (bench tsne --browser: >20× at N = 1000).
 */
export function isSoftwareAdapter(state: BackendState | null = activeState): boolean {
  if (!state || (state.active !== 'webgpu' && state.active !== 'webgl')) return false;
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(state.adapter ?? '');
}

/**
 * Activate the requested backend, or the first that works in BACKEND_ORDER for 'auto'.
 * An explicit request that fails falls back through the rest of the order too, so the
 * lab keeps working, and says so.
 */
export async function selectBackend(requested: BackendRequest, env: BackendEnvironment = {}): Promise<BackendState> {
  const order: BackendName[] = env.node ? ['cpu', 'wasm'] : BACKEND_ORDER;
  const first: BackendName = requested === 'auto' ? order[0] : requested;
  const candidates = [first, ...order.filter((b) => b !== first)];
  const reasons: string[] = [];
  for (const name of candidates) {
    const failure = await tryBackend(name, env);
    if (failure === null) {
      const state: BackendState = { requested, active: name, fallbackReason: reasons.length ? reasons.join('; ') : null, tfjs: tf.version.tfjs };
      if (name === 'webgpu') state.adapter = (await probeWebGpu()).adapter;
      if (name === 'webgl') state.adapter = webglRenderer();
      activeState = state;
      return state;
    }
    reasons.push(`${name}: ${failure}`);
  }
  throw new Error(`no tfjs backend could start (${reasons.join('; ')})`);
}
