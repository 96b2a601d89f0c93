/**
 * The lab's runtime: the one worker bridge (respawn, device loss, replay), and the hooks on
 * window.layerwise for tests and the curious (tensor count, a simulated device loss, the
 * kernel-parity self-test in a worker of its own).
 */
import * as Comlink from 'comlink';
import type { BackendName } from '../core/backend';
import type { Precision } from '../core/precision';
import type { TrainValues } from '../core/train/definition';
import { LabBridge } from './bridge';
import { resultJson } from '../core/analyses/define';
import { useLab } from './store';
import type { ParityReport, ParityWorkerApi } from '../../workers/parity.worker';

export const APP_VERSION = '0.1.0';

let bridge: LabBridge | null = null;
const get = () => useLab.getState();

export function getBridge(): LabBridge {
  if (!bridge) {
    bridge = new LabBridge({
      onDeviceLost: (reason) => get().set({ notice: `WebGPU device lost (${reason}); restarting the worker (a job that was running is re-run)` }),
      onRespawn: (reason) => {
        get().set({ notice: `compute worker restarted: ${reason}` });
      },
      // The fresh worker holds less than the store shows: say so, and drop the sample it lacks.
      onReplayFailed: (reason) => get().set({ error: reason, sample: null }),
    });
  }
  return bridge;
}

/** The first line of whatever was thrown, for the status bar. */
export function message(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0];
}

export function installDebugHooks(): void {
  (window as unknown as { layerwise: unknown }).layerwise = {
    tensors: () => getBridge().memory(),
    loseDevice: () => getBridge().debugLoseDevice(),
    kernelParity: runKernelParityInWorker,
    /** One model's logits and input gradient on given images, in a worker of its own (the ONNX-vs-PyTorch e2e). */
    logitsAndGradient: (backend: BackendName, url: string, images: Float32Array, labels: Int32Array, shape: number[], precision: Precision = 'float32') =>
      inParityWorker((api) => api.logitsAndGradient(backend, new URL(url, document.baseURI).href, images, labels, shape, precision)),
    /** Snapshot the Train view's weights: the SHA-256 of its shard and its card (the lab-vs-CLI training e2e). */
    trainSnapshot: () => import('./train').then((m) => m.snapshotDigest()),
    /** A timed training run in a fresh Train-view worker (the training bench, bench/train.ts). */
    trainBench: (values: TrainValues, backend: BackendName, metrics: boolean | { metrics: boolean; view?: boolean }) => import('./train').then((m) => m.benchTraining(values, backend, metrics)),
    /** Run one analysis in the lab's worker with explicit values; its result as `layerwise <kind> --json` prints it (the CLI parity test). */
    analysis: async (kind: string, request: unknown) => resultJson(await getBridge().analysis(kind as never, request as never, {})),
  };
}

/** Run the kernel-parity suite (ops and the given models) on `backend` against the CPU backend. */
export function runKernelParityInWorker(backend: BackendName, modelUrls: string[] = []): Promise<ParityReport> {
  // Relative to the page, not to the worker's script in assets/.
  return inParityWorker((api) => api.run(backend, modelUrls.map((u) => new URL(u, document.baseURI).href)));
}

/** A throwaway parity worker for one call, so the lab's own worker and backend stay untouched. */
async function inParityWorker<T>(call: (api: Comlink.Remote<ParityWorkerApi>) => Promise<T>): Promise<T> {
  const worker = new Worker(new URL('../../workers/parity.worker.ts', import.meta.url), { type: 'module' });
  try {
    return await call(Comlink.wrap<ParityWorkerApi>(worker));
  } finally {
    worker.terminate();
  }
}
