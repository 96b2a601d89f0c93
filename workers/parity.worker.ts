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
import { loadLabModel, type LabModel } from '../src/core/model/model';
import { runKernelParity, runModelParity, type CaseOutcome } from '../src/core/model/kernel-parity';
import { isOnnxName, loadOnnxModel } from '../src/core/onnx/import';
import { crossEntropyPerSample } from '../src/core/attacks/common';
import { gpuMemory, type GpuMemory, type Precision, type PrecisionState } from '../src/core/precision';

export interface ParityReport {
  backend: string;
  /** Why the requested backend is not the one tested, if so. */
  fallbackReason: string | null;
  adapter?: string;
  ops: CaseOutcome[];
  models: CaseOutcome[];
  tensorsAfter: number;
}

const BACKEND_OPTIONS = {
  wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl } as never,
};

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url.pathname}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A model by URL: a tfjs model.json with its shards, or an .onnx file (with external data beside it). */
function loadByUrl(url: string): Promise<LabModel> {
  const base = new URL(url, self.location.href);
  const name = base.pathname.split('/').pop() ?? 'model.json';
  if (isOnnxName(name)) return fetchBytes(base).then((model) => loadOnnxModel({ model, readExternal: (rel) => fetchBytes(new URL(rel, base)) }, name));
  return loadLabModel(name, (rel) => fetchBytes(new URL(rel, base)), url);
}

const api = {
  /** Ops, then each model (URL of its model.json), on `backend` against the CPU backend. */
  async run(backend: BackendName, modelUrls: string[] = []): Promise<ParityReport> {
    const state = await selectBackend(backend, BACKEND_OPTIONS);
    if (state.active !== backend) return { backend: state.active, fallbackReason: state.fallbackReason, ops: [], models: [], tensorsAfter: tf.memory().numTensors };
    const ops = await runKernelParity(backend);
    const models = await runModelParity(
      backend,
      modelUrls.map((url) => ({
        name: url,
        load: () => loadByUrl(url),
      })),
    );
    await tf.setBackend(backend);
    return { backend, fallbackReason: null, adapter: state.adapter, ops, models, tensorsAfter: tf.memory().numTensors };
  },
  /**
   * One model's logits and the input gradient of the summed cross-entropy on given NHWC images
   * and labels, on `backend`: the e2e compares them with PyTorch's own numbers (issue #23), and
   * half precision's with float32 CPU's. `memory` is WebGL's texture bytes with the model's
   * weights still held, after the pass's intermediates were released (null on other backends).
   */
  async logitsAndGradient(
    backend: BackendName,
    url: string,
    images: Float32Array,
    labels: Int32Array,
    shape: number[],
    precision: Precision = 'float32',
  ): Promise<{ logits: Float32Array; gradient: Float32Array; precision?: PrecisionState; memory: GpuMemory | null }> {
    const state = await selectBackend(backend, { ...BACKEND_OPTIONS, precision });
    if (state.active !== backend) throw new Error(`${backend} unavailable: ${state.fallbackReason}`);
    const model = await loadByUrl(url);
    const x = tf.tensor4d(images, shape as [number, number, number, number]);
    const y = tf.tensor1d(labels, 'int32');
    try {
      const z = model.logits(x);
      const g = tf.grad((v: tf.Tensor) => tf.sum(crossEntropyPerSample(model.logits(v as tf.Tensor4D), y)))(x);
      const out = { logits: (await z.data()) as Float32Array, gradient: (await g.data()) as Float32Array };
      tf.dispose([z, g]);
      return { ...out, precision: state.precision, memory: gpuMemory() };
    } finally {
      tf.dispose([x, y]);
      model.dispose();
    }
  },
};

export type ParityWorkerApi = typeof api;
Comlink.expose(api);
