/**
 * 'auto' by measurement: the pure decision (facts + measurements → backend + reason) on
 * hand-made cases, and the probe's timing on the real CPU and WASM backends in Node.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { chooseBackend, describeMeasurement, selectBackend, softwareAdapterName, type BackendMeasurement } from './backend';
import { PROBE_TIMED_STEPS, timeProbeWorkload } from './backendProbe';

const SWIFTSHADER_GL = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';

describe('chooseBackend', () => {
  it('skips software adapters and picks the fastest measured backend, saying why', () => {
    const m: BackendMeasurement[] = [
      { backend: 'webgpu', outcome: 'skipped', reason: 'software adapter SwiftShader', adapter: 'google swiftshader' },
      { backend: 'webgl', outcome: 'skipped', reason: 'software adapter SwiftShader', adapter: SWIFTSHADER_GL },
      { backend: 'wasm', outcome: 'measured', msPerStep: 4.12 },
      { backend: 'cpu', outcome: 'measured', msPerStep: 61.4 },
    ];
    expect(chooseBackend(m)).toEqual({
      active: 'wasm',
      reason: 'fastest here (wasm 4.1 ms, cpu 61 ms, webgpu skipped: software adapter SwiftShader, webgl skipped: software adapter SwiftShader)',
    });
  });

  it('a real GPU that is fastest wins', () => {
    const m: BackendMeasurement[] = [
      { backend: 'webgpu', outcome: 'measured', msPerStep: 1.5, adapter: 'nvidia ampere' },
      { backend: 'webgl', outcome: 'measured', msPerStep: 2.5 },
      { backend: 'wasm', outcome: 'measured', msPerStep: 4 },
      { backend: 'cpu', outcome: 'timed-out', capMs: 400 },
    ];
    expect(chooseBackend(m)).toEqual({ active: 'webgpu', reason: 'fastest here (webgpu 1.5 ms, webgl 2.5 ms, wasm 4.0 ms, cpu no step within 400 ms)' });
  });

  it('a near tie (within 10 %) goes to the backend earlier in the order, and says so', () => {
    const m: BackendMeasurement[] = [
      { backend: 'webgl', outcome: 'measured', msPerStep: 4.3 },
      { backend: 'wasm', outcome: 'measured', msPerStep: 4.0 },
    ];
    const choice = chooseBackend(m);
    expect(choice?.active).toBe('webgl');
    expect(choice?.reason).toBe('as fast as wasm here, and gains more on larger batches (wasm 4.0 ms, webgl 4.3 ms)');
    // Just outside the tie: the measurement decides.
    expect(chooseBackend([{ backend: 'webgl', outcome: 'measured', msPerStep: 4.5 }, { backend: 'wasm', outcome: 'measured', msPerStep: 4.0 }])?.active).toBe('wasm');
  });

  it('a single runner is named as such; unavailable backends say why', () => {
    const m: BackendMeasurement[] = [
      { backend: 'webgpu', outcome: 'unavailable', reason: 'navigator.gpu missing' },
      { backend: 'cpu', outcome: 'measured', msPerStep: 30 },
    ];
    expect(chooseBackend(m)).toEqual({ active: 'cpu', reason: 'the only backend that ran the probe (cpu 30 ms, webgpu unavailable: navigator.gpu missing)' });
  });

  it('with nothing measured, a software adapter beats nothing; with nothing at all, null', () => {
    const m: BackendMeasurement[] = [
      { backend: 'webgpu', outcome: 'skipped', reason: 'software adapter SwiftShader', adapter: 'google swiftshader' },
      { backend: 'wasm', outcome: 'unavailable', reason: 'wasm failed: no WebAssembly' },
    ];
    expect(chooseBackend(m)?.active).toBe('webgpu');
    expect(chooseBackend(m)?.reason).toMatch(/^no faster backend could start/);
    expect(chooseBackend([{ backend: 'cpu', outcome: 'unavailable', reason: 'broken' }])).toBeNull();
  });
});

describe('adapter facts', () => {
  it('names software rasterisers and passes hardware', () => {
    expect(softwareAdapterName('google swiftshader')).toBe('SwiftShader');
    expect(softwareAdapterName(SWIFTSHADER_GL)).toBe('SwiftShader');
    expect(softwareAdapterName('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe('llvmpipe');
    expect(softwareAdapterName('Microsoft Basic Render Driver')).toBe('Microsoft Basic Render');
    expect(softwareAdapterName('ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11)')).toBeNull();
    expect(softwareAdapterName(undefined)).toBeNull();
    expect(describeMeasurement({ backend: 'cpu', outcome: 'skipped', reason: 'WASM runs the same kernels compiled' })).toBe('cpu skipped: WASM runs the same kernels compiled');
  });
});

describe('the probe on real backends', () => {
  it('times forward + input gradient on CPU and WASM, leaving no tensors', async () => {
    await selectBackend('cpu', { node: true });
    const before = tf.memory().numTensors;
    const cpu = await timeProbeWorkload(5_000);
    expect(tf.memory().numTensors).toBe(before);
    expect(cpu.ok).toBe(true);
    if (cpu.ok) {
      expect(cpu.steps).toBeGreaterThanOrEqual(1);
      expect(cpu.steps).toBeLessThanOrEqual(PROBE_TIMED_STEPS);
      expect(cpu.msPerStep).toBeGreaterThan(0);
    }
    const state = await selectBackend('wasm', { node: true, wasmPaths: path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
    expect(state.active).toBe('wasm');
    const wasm = await timeProbeWorkload(5_000);
    expect(wasm.ok).toBe(true);
    // WASM runs the same kernels compiled: slower than tfjs's plain-JS CPU kernels would be a broken probe.
    if (wasm.ok && cpu.ok) expect(wasm.msPerStep).toBeLessThan(cpu.msPerStep);
    console.log(`probe: cpu ${cpu.ok ? cpu.msPerStep.toFixed(1) : '-'} ms/step, wasm ${wasm.ok ? wasm.msPerStep.toFixed(1) : '-'} ms/step`);
  }, 60_000);

  it('gives up at the cap: a cap of 0 ms is never met', async () => {
    await selectBackend('cpu', { node: true });
    const before = tf.memory().numTensors;
    const r = await timeProbeWorkload(0);
    expect(r.ok).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'auto' without the node flag runs the browser path: facts, the probe, the choice; a replacement reuses it", async () => {
    const wasmPaths = path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;
    const state = await selectBackend('auto', { wasmPaths });
    // Node has neither WebGPU nor OffscreenCanvas: only WASM can run the probe, and CPU is skipped once it did.
    expect(state.active).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(state.fallbackReason).toBeNull();
    const m = state.choice!.measurements;
    expect(m.map((x) => `${x.backend}:${x.outcome}`)).toEqual(['webgpu:unavailable', 'webgl:unavailable', 'wasm:measured', 'cpu:skipped']);
    expect(state.choice!.reason).toMatch(/^the only backend that ran the probe \(wasm \d+(\.\d)? ms, webgpu unavailable: navigator\.gpu missing, webgl unavailable: no OffscreenCanvas for WebGL, cpu skipped: WASM runs the same kernels compiled\)$/);
    expect(state.choice!.probeMs).toBeGreaterThan(0);
    await selectBackend('cpu', { node: true });
    const again = await selectBackend('auto', { wasmPaths }, state);
    expect(again.active).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(again.choice).toEqual({ ...state.choice, reused: true });
  }, 60_000);

  it("'auto' in Node keeps the CLI's order and measures nothing", async () => {
    const state = await selectBackend('auto', { node: true });
    expect(state.active).toBe('cpu');
    expect(state.choice).toBeUndefined();
  });
});
