/**
 * Backend choice lives here and only here (STYLE.md convention 8). In the browser, 'auto'
 * chooses by measurement: known adapter facts first (a software adapter such as SwiftShader,
 * or a WebGPU fallback adapter, is skipped without running anything), then a few milliseconds
 * of the lab's typical work on every backend that starts (backendProbe.ts), and the fastest
 * wins. The decision is the pure `chooseBackend`, which also words the reason for the badge.
 * An explicit request runs that backend without measuring, and falls back in BACKEND_ORDER
 * when it cannot start; whenever the lab ends up on something other than what was asked for,
 * it records why, so the UI badge can say e.g. "webgl (navigator.gpu missing)".
 * With `env.node` (CLI, tests) nothing is measured: 'auto' takes cpu, then wasm, as before (the
 * CLI passes its own default, src/node/backend.ts), so CLI numbers do not depend on timing.
 */
import * as tf from '@tensorflow/tfjs';
import { PROBE_CAP_MS, timeProbeWorkload } from './backendProbe';
import { forceHalfTextures, halfFloatRenderTargets, halfTexturesForced, resolvePrecision, roundTripIsHalf, type Precision, type PrecisionState } from './precision';

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
  /** How 'auto' chose in the browser: what each backend did in the probe, and the reason in words. */
  choice?: BackendChoice;
  /** What values are stored in (float16 only on WebGL with half textures, precision.ts); absent in older saved states. */
  precision?: PrecisionState;
}

/** What one backend did in the start-up probe of 'auto'. */
export type BackendMeasurement =
  /** Ran the probe: median milliseconds per step (forward + input gradient, batch 8, 28×28×1). */
  | { backend: BackendName; outcome: 'measured'; msPerStep: number; adapter?: string }
  /**
   * Not run: a known fact says it is slower here (a software adapter or a WebGPU fallback
   * adapter; CPU once WASM ran, as WASM runs the same kernels compiled). `reason` says which.
   */
  | { backend: BackendName; outcome: 'skipped'; reason: string; adapter?: string }
  /** Started, but one step took longer than the probe's cap. */
  | { backend: BackendName; outcome: 'timed-out'; capMs: number; adapter?: string }
  /** Could not start (no adapter, no WebGL, a failed initialisation). */
  | { backend: BackendName; outcome: 'unavailable'; reason: string };

export interface BackendChoice {
  /** Why the active backend was picked, for the badge: "fastest here (wasm 4.1 ms, …)". */
  reason: string;
  /** Every backend's probe outcome, in BACKEND_ORDER. */
  measurements: BackendMeasurement[];
  /** Wall time of the whole probe, start-up included. */
  probeMs: number;
  /** Set when a replacement worker took over an earlier decision instead of measuring again. */
  reused?: boolean;
}

/**
 * Measured times closer than this ratio count as a tie, and a tie goes to the backend earlier in
 * BACKEND_ORDER: the probe's batch of 8 is the smallest the lab runs, and GPUs gain on the CPU
 * paths as batches grow (the ε ladder, 16+ samples, analyses of hundreds of images).
 */
export const TIE_RATIO = 1.1;

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** One backend's probe outcome in a few words, for the reason and the backend menu. */
export function describeMeasurement(m: BackendMeasurement): string {
  switch (m.outcome) {
    case 'measured':
      return `${m.backend} ${formatMs(m.msPerStep)}`;
    case 'skipped':
      return `${m.backend} skipped: ${m.reason}`;
    case 'timed-out':
      return `${m.backend} no step within ${m.capMs} ms`;
    case 'unavailable':
      return `${m.backend} unavailable: ${m.reason}`;
  }
}

/**
 * The decision behind 'auto', from facts and measurements only (no timing, no tfjs): the fastest
 * measured backend (ties within TIE_RATIO to the earlier in BACKEND_ORDER); when none could be
 * measured, a skipped or timed-out one (a software adapter) still beats none. Null when nothing can run.
 */
export function chooseBackend(measurements: BackendMeasurement[]): { active: BackendName; reason: string } | null {
  const rank = (b: BackendName) => BACKEND_ORDER.indexOf(b);
  const measured = measurements.filter((m): m is Extract<BackendMeasurement, { outcome: 'measured' }> => m.outcome === 'measured').sort((a, b) => a.msPerStep - b.msPerStep);
  const others = measurements.filter((m) => m.outcome !== 'measured').sort((a, b) => rank(a.backend) - rank(b.backend));
  const details = [...measured, ...others].map(describeMeasurement).join(', ');
  if (measured.length) {
    const fastest = measured[0].msPerStep;
    const tied = measured.filter((m) => m.msPerStep <= fastest * TIE_RATIO).sort((a, b) => rank(a.backend) - rank(b.backend));
    const pick = tied[0];
    const why = measured.length === 1 ? 'the only backend that ran the probe' : pick.msPerStep === fastest ? 'fastest here' : `as fast as ${measured[0].backend} here, and gains more on larger batches`;
    return { active: pick.backend, reason: `${why} (${details})` };
  }
  const slow = others.find((m) => m.outcome === 'skipped' || m.outcome === 'timed-out');
  if (slow) return { active: slow.backend, reason: `no faster backend could start (${details})` };
  return null;
}

export interface BackendEnvironment {
  /** Where the tfjs WASM binaries are served or stored (URL or directory prefix ending in '/'). */
  wasmPaths?: string | Record<string, string>;
  /** Node has no WebGPU or WebGL: the default order there is cpu, and wasm on request. */
  node?: boolean;
  /** Per-backend cap of the 'auto' probe (PROBE_CAP_MS unless set). */
  probeCapMs?: number;
  /**
   * 'float16' asks WebGL for half-precision textures (precision.ts). tfjs reads the flag once,
   * when WebGL starts, so a realm that started WebGL in one precision cannot switch: the lab
   * changes precision in a fresh worker.
   */
  precision?: Precision;
}

async function probeWebGpu(): Promise<{ ok: boolean; reason?: string; adapter?: string; fallbackAdapter?: boolean }> {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (!nav || !('gpu' in nav) || !nav.gpu) return { ok: false, reason: 'navigator.gpu missing' };
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'no WebGPU adapter (requestAdapter returned null)' };
    // isFallbackAdapter moved from the adapter to its info in the WebGPU spec; read either.
    const facts = adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean };
    const info = facts.info;
    return {
      ok: true,
      adapter: info ? `${info.vendor || 'unknown'} ${info.architecture || ''}`.trim() : undefined,
      fallbackAdapter: Boolean(info?.isFallbackAdapter ?? facts.isFallbackAdapter),
    };
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

/**
 * The renderer string of a WebGL context: the unmasked one where WEBGL_debug_renderer_info is
 * offered (a worker's OffscreenCanvas context says only "WebKit WebGL" for RENDERER).
 */
function rendererOf(gl: WebGLRenderingContext | WebGL2RenderingContext | null | undefined): string | undefined {
  try {
    if (!gl) return undefined;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const r: unknown = gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    return typeof r === 'string' && r ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The WebGL renderer of tfjs's context, if readable. */
function webglRenderer(): string | undefined {
  return rendererOf((tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl);
}

/**
 * The WebGL renderer from a throwaway 1×1 context, read before tfjs starts its WebGL backend, so
 * a software renderer is ruled out without paying for that start-up and shader compilation.
 */
function webglRendererBeforeStart(): string | undefined {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
    const renderer = rendererOf(gl);
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return undefined;
  }
}

let activeState: BackendState | null = null;

/** The state of the last successful selectBackend in this realm (null before one). */
export function activeBackendState(): BackendState | null {
  return activeState;
}

const SOFTWARE_ADAPTERS: [RegExp, string][] = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/softpipe/i, 'softpipe'],
  [/basic render/i, 'Microsoft Basic Render'],
  [/software/i, 'software renderer'],
];

/** The short name of a software rasteriser in an adapter or renderer string, or null for hardware. */
export function softwareAdapterName(adapter: string | undefined): string | null {
  for (const [pattern, name] of SOFTWARE_ADAPTERS) if (pattern.test(adapter ?? '')) return name;
  return null;
}

/**
 * Whether the active GPU backend runs on a software rasteriser (Chromium's SwiftShader,
 * Mesa's llvmpipe, Microsoft Basic Render): there, per-op dispatch dominates and the
 * typed-array CPU paths are faster than tfjs ops (bench tsne --browser: >20× at N = 1000).
 */
export function isSoftwareAdapter(state: BackendState | null = activeState): boolean {
  if (!state || (state.active !== 'webgpu' && state.active !== 'webgl')) return false;
  return softwareAdapterName(state.adapter) !== null;
}

/**
 * Free a backend the probe started but 'auto' did not pick (its GL context or GPU device),
 * keeping its factory so an explicit switch later in this worker can start it again.
 */
function releaseBackend(name: BackendName): void {
  // Only GPU backends hold scarce resources; WASM's module and the CPU backend are cheap to keep.
  if ((name !== 'webgl' && name !== 'webgpu') || name === tf.getBackend()) return;
  // tfjs's removeBackend would also forget the factory; this is its first half.
  const engine = tf.engine() as unknown as { registry: Record<string, tf.KernelBackend | undefined>; disposeRegisteredKernels?(name: string): void };
  if (!engine.registry[name]) return;
  try {
    engine.disposeRegisteredKernels?.(name);
    engine.registry[name]?.dispose();
  } catch {
    // A backend that fails to dispose holds its resources until the worker ends; nothing to recover.
  }
  delete engine.registry[name];
}

/**
 * Measure one backend for 'auto': start it, read the adapter facts, and run the probe unless a
 * fact already rules it out.
 */
async function measureBackend(name: BackendName, env: BackendEnvironment, capMs: number): Promise<BackendMeasurement> {
  let adapter: string | undefined;
  if (name === 'webgpu') {
    const facts = await probeWebGpu();
    if (!facts.ok) return { backend: name, outcome: 'unavailable', reason: facts.reason ?? 'WebGPU unavailable' };
    adapter = facts.adapter;
    const software = softwareAdapterName(adapter);
    if (software) return { backend: name, outcome: 'skipped', reason: `software adapter ${software}`, adapter: adapter as string };
    if (facts.fallbackAdapter) return { backend: name, outcome: 'skipped', reason: 'WebGPU fallback adapter (software)', ...(adapter ? { adapter } : {}) };
  }
  if (name === 'webgl' && !env.node) {
    adapter = webglRendererBeforeStart();
    if (softwareAdapterName(adapter)) return { backend: name, outcome: 'skipped', reason: `software adapter ${softwareAdapterName(adapter)}`, adapter: adapter as string };
  }
  const failure = await tryBackend(name, env);
  if (failure !== null) return { backend: name, outcome: 'unavailable', reason: failure };
  if (name === 'webgl') {
    adapter = webglRenderer() ?? adapter;
    if (softwareAdapterName(adapter)) return { backend: name, outcome: 'skipped', reason: `software adapter ${softwareAdapterName(adapter)}`, adapter: adapter as string };
  }
  const timing = await timeProbeWorkload(capMs);
  if (!timing.ok) return { backend: name, outcome: 'timed-out', capMs, ...(adapter ? { adapter } : {}) };
  return { backend: name, outcome: 'measured', msPerStep: timing.msPerStep, ...(adapter ? { adapter } : {}) };
}

/** A later backend's probe stops once it has taken this many times the best step time so far (selectByMeasurement). */
export const PROBE_CUTOFF_RATIO = 2.5;

/** 'auto' in the browser: measure every backend, pick by `chooseBackend`, and activate the pick. */
async function selectByMeasurement(env: BackendEnvironment): Promise<BackendState | null> {
  const started = performance.now();
  const measurements: BackendMeasurement[] = [];
  const cap = env.probeCapMs ?? PROBE_CAP_MS;
  for (const name of BACKEND_ORDER) {
    // Once a backend has a time, a later one that cannot finish its warm-up and one step in
    // 2.5 of those cannot be faster. Only WASM and CPU come after a measured backend in
    // BACKEND_ORDER, and they have no shader compilation to forgive in their warm-up.
    const best = Math.min(...measurements.map((m) => (m.outcome === 'measured' ? m.msPerStep : Infinity)));
    if (name === 'cpu' && measurements.some((m) => m.backend === 'wasm' && m.outcome === 'measured')) {
      // tfjs's CPU backend is the plain-JavaScript reference of the kernels WASM runs compiled
      // (XNNPACK, SIMD): 2–5× slower on the probe in Node and Chromium here, and its one
      // uninterruptible step would cost start-up as much as all the rest.
      measurements.push({ backend: 'cpu', outcome: 'skipped', reason: 'WASM runs the same kernels compiled' });
      continue;
    }
    measurements.push(await measureBackend(name, env, Number.isFinite(best) ? Math.min(cap, Math.ceil(PROBE_CUTOFF_RATIO * best)) : cap));
  }
  const choice = chooseBackend(measurements);
  if (!choice) return null;
  const failure = await tryBackend(choice.active, env);
  if (failure !== null) return null;
  // A timed-out GPU probe may still be running: its backend stays until the worker ends.
  for (const m of measurements) if (m.backend !== choice.active && m.outcome === 'measured') releaseBackend(m.backend);
  const found = measurements.find((m) => m.backend === choice.active);
  const adapter = found && 'adapter' in found ? found.adapter : undefined;
  return {
    requested: 'auto',
    active: choice.active,
    fallbackReason: null,
    ...(adapter ? { adapter } : {}),
    tfjs: tf.version.tfjs,
    choice: { reason: choice.reason, measurements, probeMs: Math.round(performance.now() - started) },
  };
}

/**
 * Activate the requested backend. 'auto' in the browser measures (selectByMeasurement) unless
 * `previous` holds an earlier 'auto' decision of this session, which a replacement worker takes
 * over so results keep coming from the same backend; 'auto' in Node takes cpu. An explicit
 * request that fails falls back through the rest of the order, so the lab keeps working, and
 * says so.
 */
export async function selectBackend(requested: BackendRequest, env: BackendEnvironment = {}, previous?: BackendState | null): Promise<BackendState> {
  const precision = env.precision ?? 'float32';
  // Half-float render targets are checked before WebGL starts: forcing f16 where they are missing
  // would make tfjs's WebGL fail to start (or render nothing), so the lab says so and stays float32.
  const renderTargets = precision === 'float16' && !env.node ? halfFloatRenderTargets() : precision === 'float16' ? 'no WebGL in Node' : null;
  if (precision === 'float16' && renderTargets === null) forceHalfTextures();
  const state = await selectWithoutPrecision(requested, env, previous);
  const halfForced = halfTexturesForced();
  // A realm whose WebGL started in half precision stays there: record what it stores, whatever was asked.
  const effective: Precision = state.active === 'webgl' && halfForced ? 'float16' : precision;
  state.precision = resolvePrecision(effective, state.active, {
    renderTargets: effective === 'float16' ? renderTargets : null,
    roundTripIsHalf: state.active === 'webgl' && halfForced ? await roundTripIsHalf() : false,
  });
  if (precision !== effective) state.precision = { ...state.precision, requested: precision, note: 'this worker started WebGL in half precision; a fresh worker is needed for float32' };
  activeState = state;
  return state;
}

async function selectWithoutPrecision(requested: BackendRequest, env: BackendEnvironment, previous?: BackendState | null): Promise<BackendState> {
  if (requested === 'auto' && !env.node) {
    if (previous?.requested === 'auto' && previous.choice && (await tryBackend(previous.active, env)) === null) {
      activeState = { ...previous, choice: { ...previous.choice, reused: true } };
      return activeState;
    }
    const measured = await selectByMeasurement(env);
    if (measured) {
      activeState = measured;
      return measured;
    }
  }
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
