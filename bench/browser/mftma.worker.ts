/**
 * Worker side of `npm run bench -- mftma --browser`: a module worker, as the lab runs its
 * analyses (workers/lab.worker.ts). It activates one tfjs backend, fetches fixture cases from
 * the dev server and times `manifoldAnalysis` on them with the Node bench's options. The
 * analysis itself is float64 JavaScript on the CPU (src/core/mftma/mftma.ts), so the backend
 * only decides what else is loaded in the worker; the numbers must match Node's exactly.
 *
 * Wide layers: `self.layerwiseMftmaWide` (WideApi), called by the Node side through
 * Playwright's worker.evaluate, loads a zoo model and a built-in dataset from the dev server as
 * the lab's worker does (model.json + shards by fetch, /data/<id>.json + its .bin), builds the
 * Node bench's class manifolds and times `analyzeLayers` on one layer. There the backend does
 * matter: it runs the forward pass (activations) and the projection's matmuls in float32, so
 * GPU backends may legitimately differ from Node in the last bits, which MFTMA then carries on.
 */
import * as tf from '@tensorflow/tfjs';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend, type BackendName } from '../../src/core/backend';
import { manifoldAnalysis, type MftmaInput } from '../../src/core/mftma/mftma';
import { analyzeLayers, buildManifoldImages, layerMftmaInput, reduceWideLayer, type ManifoldImages, type ManifoldSpec, type Perturbation } from '../../src/core/mftma/manifolds';
import { loadLabModel, type LabModel } from '../../src/core/model/model';
import { parsePackedDataset, validatePackedIndex } from '../../src/core/data/packed';
import { deriveSeed } from '../../src/core/random';

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

/** What the Node side sends to set up the wide-layer runs (bench/mftma.ts: WIDE_*). */
export interface WideSetup {
  model: string;
  dataset: string;
  spec: ManifoldSpec & { perturbation: Perturbation };
  widths: number[];
}

export interface WideRequest {
  layer: string;
  maxDims: number;
  seed: number;
}

export interface WideNumbers extends MftmaNumbers {
  width: number;
  analysedDims: number;
}

/**
 * The MFTMA inputs of one layer, for the Node side to compare with its own: the activations
 * and (if projected) the projected points, all P·M points in a row, as base64 of the float32
 * bytes (Playwright's evaluate passes JSON).
 */
export interface WideInputs {
  raw: string;
  projected: string | null;
  projectionSeconds: number | null;
}

export interface WideApi {
  /** The backend asked for in `init`. */
  requested: () => string | null;
  /** Load model and dataset, build the manifolds; the layers of the wanted widths. */
  setup: (s: WideSetup) => Promise<{ layer: string; width: number }[]>;
  /** One timed `analyzeLayers` run (the Node bench's options). */
  run: (r: WideRequest) => Promise<{ seconds: number; numbers: WideNumbers }>;
  /** Untimed: the layer's activations and projected points, and the projection's seconds. */
  inputs: (r: WideRequest) => Promise<WideInputs>;
}

let requested: string | null = null;
let wide: { model: LabModel; set: ManifoldImages } | null = null;

async function fetchBytes(url: string | URL): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${String(url)}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function base64(xs: ArrayLike<number>[]): string {
  const total = xs.reduce((a, x) => a + x.length, 0);
  const all = new Float32Array(total);
  let off = 0;
  for (const x of xs) {
    all.set(x, off);
    off += x.length;
  }
  const bytes = new Uint8Array(all.buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function wideState() {
  if (!wide) throw new Error('wide layers: call setup first');
  return wide;
}

const wideApi: WideApi = {
  requested: () => requested,
  async setup(s) {
    wide?.model.dispose();
    wide = null;
    // As workers/lab.worker.ts: urlReader for the model, indexUrl for a built-in dataset.
    const modelBase = new URL(`/models/${encodeURIComponent(s.model)}/model.json`, self.location.href);
    const model = await loadLabModel('model.json', (rel) => fetchBytes(new URL(rel, modelBase)), modelBase.href);
    const indexUrl = new URL(`/data/${encodeURIComponent(s.dataset)}.json`, self.location.href);
    const indexRes = await fetch(indexUrl);
    if (!indexRes.ok) throw new Error(`${indexUrl.href}: HTTP ${indexRes.status}`);
    const index = validatePackedIndex(await indexRes.json(), indexUrl.href);
    const ds = parsePackedDataset(index, await fetchBytes(new URL(index.file, indexUrl)));
    const set = await buildManifoldImages(ds, s.spec);
    wide = { model, set };
    return s.widths.flatMap((w) => model.layers.filter((l) => l.size === w).slice(0, 1).map((l) => ({ layer: l.name, width: l.size })));
  },
  async run({ layer, maxDims, seed }) {
    const { model, set } = wideState();
    const t0 = performance.now();
    const [r] = await analyzeLayers(model, set, [layer], { maxDims, seed });
    const seconds = (performance.now() - t0) / 1000;
    return {
      seconds,
      numbers: { capacity: r.capacity, radius: r.radius, dimension: r.dimension, centerCorrelation: r.centerCorrelation, k: r.k, width: r.width, analysedDims: r.projection?.toDims ?? r.width },
    };
  },
  async inputs({ layer, maxDims, seed }) {
    const { model, set } = wideState();
    const raw = await layerMftmaInput(model, set, layer);
    // The projection seed of analyzeLayers (src/core/mftma/manifolds.ts).
    const t0 = performance.now();
    const { input, projection } = await reduceWideLayer(raw, maxDims, deriveSeed(seed, `mftma/projection:${layer}`));
    const projectionSeconds = (performance.now() - t0) / 1000;
    return { raw: base64(raw.manifolds), projected: projection ? base64(input.manifolds) : null, projectionSeconds: projection ? projectionSeconds : null };
  },
};
(self as unknown as { layerwiseMftmaWide: WideApi }).layerwiseMftmaWide = wideApi;

async function handle(req: MftmaWorkerRequest): Promise<MftmaWorkerReply> {
  if (req.kind === 'init') {
    requested = req.backend;
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
