/**
 * A throwaway worker for the kernel-parity self-test (src/core/model/kernel-parity.ts): it
 * switches tfjs between the backend under test and the CPU reference, which the lab's own
 * worker must never do under a loaded model and running jobs. Thin comlink adapter.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend, type BackendName } from '../src/core/backend';
import { loadLabModel } from '../src/core/model/model';
import { runKernelParity, runModelParity, type CaseOutcome } from '../src/core/model/kernel-parity';

export interface ParityReport {
  backend: string;
  /** Why the requested backend is not the one tested, if so. */
  fallbackReason: string | null;
  adapter?: string;
  ops: CaseOutcome[];
  models: CaseOutcome[];
  tensorsAfter: number;
}

const api = {
  /** Ops, then each model (URL of its model.json), on `backend` against the CPU backend. */
  async run(backend: BackendName, modelUrls: string[] = []): Promise<ParityReport> {
    const state = await selectBackend(backend, {
      wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl } as never,
    });
    if (state.active !== backend) return { backend: state.active, fallbackReason: state.fallbackReason, ops: [], models: [], tensorsAfter: tf.memory().numTensors };
    const ops = await runKernelParity(backend);
    const models = await runModelParity(
      backend,
      modelUrls.map((url) => ({
        name: url,
        load: () => {
          const base = new URL(url, self.location.href);
          return loadLabModel(base.pathname.split('/').pop() ?? 'model.json', async (rel) => {
            const res = await fetch(new URL(rel, base));
            if (!res.ok) throw new Error(`HTTP ${res.status} for ${rel}`);
            return new Uint8Array(await res.arrayBuffer());
          }, url);
        },
      })),
    );
    await tf.setBackend(backend);
    return { backend, fallbackReason: null, adapter: state.adapter, ops, models, tensorsAfter: tf.memory().numTensors };
  },
};

export type ParityWorkerApi = typeof api;
Comlink.expose(api);
