/**
 * The browser side of `npm run bench -- tsne --browser` for the lab's t-SNE: exposes
 * `window.layerwiseTsneBench` for Playwright. `init` activates one tfjs backend for the page
 * (one page per backend); `run` times the lab's `runTsne` exactly as the Node bench does
 * (bench/tsne.ts runLab: createTsne + the openTSNE schedule with its early stop, batch 50,
 * positions read back) on data handed over from Node, with the page's wall clock.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../../src/core/backend';
import { runTsne, type TsneImpl } from '../../src/core/tsne/tsne';

export interface LabInit {
  backend: BackendName;
}

export interface LabInitResult {
  backend: string;
  fallbackReason: string | null;
  adapter?: string;
  webglFloat32?: boolean;
}

export interface LabJob {
  x: number[];
  n: number;
  d: number;
  seed: number;
  impl: TsneImpl;
}

export interface LabResult {
  seconds: number;
  positions: number[];
  iters: number;
  impl: string;
  engine: string;
  engineIterations?: { exact: number; fft: number };
  backend: string;
  leakedTensors: number;
}

async function init(job: LabInit): Promise<LabInitResult> {
  tf.env().set('PROD', true);
  // The WASM binaries straight from node_modules through the dev server (the typed impl does
  // not call tfjs kernels in its loop, but the backend must start).
  const state = await selectBackend(job.backend, { wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' });
  const webglFloat32 = state.active === 'webgl' ? tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') : undefined;
  return { backend: state.active, fallbackReason: state.fallbackReason, adapter: state.adapter, webglFloat32 };
}

async function run(job: LabJob): Promise<LabResult> {
  const before = tf.memory().numTensors;
  const x = Float32Array.from(job.x);
  const t0 = performance.now();
  const r = await runTsne(x, { n: job.n, d: job.d }, { seed: job.seed, engine: 'auto', impl: job.impl, batch: 50 });
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds, positions: Array.from(r.positions), iters: r.iteration, impl: r.impl ?? job.impl, engine: r.engine ?? 'auto', engineIterations: r.engineIterations, backend: tf.getBackend(),
    leakedTensors: tf.memory().numTensors - before,
  };
}

(window as unknown as { layerwiseTsneBench: { init: typeof init; run: typeof run; ready: boolean } }).layerwiseTsneBench = { init, run, ready: true };
