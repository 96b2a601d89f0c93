/**
 * Worker side of `npm run bench -- mftma --browser`: a module worker, as the lab runs its
 * analyses (workers/lab.worker.ts). It activates one tfjs backend, fetches fixture cases from
 * the dev server and times `manifoldAnalysis` on them with the Node bench's options. The
 * analysis itself is float64 JavaScript on the CPU (src/core/mftma/mftma.ts), so the backend
 * only decides what else is loaded in the worker; the numbers must match Node's exactly.
 */
import * as tf from '@tensorflow/tfjs';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend, type BackendName } from '../../src/core/backend';
import { manifoldAnalysis, type MftmaInput } from '../../src/core/mftma/mftma';

export type MftmaWorkerRequest =
  | { kind: 'init'; backend: BackendName }
  | { kind: 'run'; name: string; seed: number };

export interface MftmaNumbers {
  capacity: number;
  radius: number;
  dimension: number;
  centerCorrelation: number;
  k: number;
}

export type MftmaWorkerReply =
  | { kind: 'ready'; backend: string; fallbackReason: string | null; adapter?: string }
  | { kind: 'done'; seconds: number; numbers: MftmaNumbers }
  | { kind: 'error'; message: string };

interface CaseJson {
  N: number;
  M: number[];
  n_t: number;
  n_reps: number;
}

const cache = new Map<string, { c: CaseJson; input: MftmaInput }>();

async function loadCase(name: string) {
  const hit = cache.get(name);
  if (hit) return hit;
  const dir = `/src/core/mftma/fixtures/${encodeURIComponent(name)}`;
  const [cRes, xRes] = await Promise.all([fetch(`${dir}/case.json`), fetch(`${dir}/input.f32`)]);
  if (!cRes.ok || !xRes.ok) throw new Error(`${dir}: HTTP ${cRes.status}/${xRes.status}`);
  const c = (await cRes.json()) as CaseJson;
  const x = new Float32Array(await xRes.arrayBuffer());
  const manifolds: Float32Array[] = [];
  let off = 0;
  for (const m of c.M) {
    manifolds.push(x.subarray(off * c.N, (off + m) * c.N));
    off += m;
  }
  const entry = { c, input: { n: c.N, manifolds } };
  cache.set(name, entry);
  return entry;
}

async function handle(req: MftmaWorkerRequest): Promise<MftmaWorkerReply> {
  if (req.kind === 'init') {
    tf.env().set('PROD', true);
    const state = await selectBackend(req.backend, {
      wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl } as never,
    });
    return { kind: 'ready', backend: state.active, fallbackReason: state.fallbackReason, adapter: state.adapter };
  }
  const { c, input } = await loadCase(req.name);
  // Same options as bench/mftma.ts (Node): own center search, the case's n_t and n_reps.
  const t0 = performance.now();
  const r = await manifoldAnalysis(input, { nT: c.n_t, nReps: c.n_reps, seed: req.seed });
  const seconds = (performance.now() - t0) / 1000;
  return { kind: 'done', seconds, numbers: { capacity: r.capacity, radius: r.radius, dimension: r.dimension, centerCorrelation: r.centerCorrelation, k: r.k } };
}

self.onmessage = (e: MessageEvent<MftmaWorkerRequest>) => {
  handle(e.data).then(
    (reply) => self.postMessage(reply),
    (err: unknown) => self.postMessage({ kind: 'error', message: (err as Error)?.message ?? String(err) } satisfies MftmaWorkerReply),
  );
};
