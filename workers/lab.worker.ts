/**
 * The lab's compute worker: a thin comlink adapter over src/core (STYLE.md convention 2).
 * It owns the tfjs backend, the loaded model and data, and long jobs. Jobs take a job id
 * so the main thread can cancel them (AbortSignals cannot cross postMessage); results
 * come back as typed arrays, transferred, never copied.
 *
 * Loading is transactional: a new model or data set replaces the current one only after
 * it loaded and passed the compatibility check, so bad input never loses the working setup.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { AttackCache } from '../src/core/attacks/shared';
import { selectBackend, type BackendRequest, type BackendState } from '../src/core/backend';
import type { Precision } from '../src/core/precision';
import { checkInputCompatibility, loadLabModel, type LabModel, type LayerInfo } from '../src/core/model/model';
import { shardUrl } from '../src/core/model/artifacts';
import { predictAll } from '../src/core/model/predict';
import { parsePackedDataset } from '../src/core/data/packed';
import { datasetFromFiles } from '../src/core/data/fromFiles';
import { classBalancedSample, takeSamples } from '../src/core/data/sampler';
import { JobCancelledError, LabError, type ImageDataset, type JobProgress } from '../src/core/types';
import { findAnalysis, type AnalysisKind } from '../src/core/analyses';
import { estimateAnalysis, runParams, type AnalysisSetup, type AnyAnalysis } from '../src/core/analyses/define';
import type { AnalysisContext, AnalysisResources, ZooModelEntry } from '../src/core/analyses/context';
import { loadPlainLayerTap } from '../src/core/collision/maps';
import { decodeImageFile } from './images';
import { checkClassNames, namedByModel, readClassNames, splitClassNamesFile } from '../src/core/model/classNames';
import { isOnnxName, loadOnnxModel, type OnnxCard, type OnnxLabModel } from '../src/core/onnx/import';
import { blobSource, bytesSource, type ByteSource } from '../src/core/onnx/stream';
import { openHttpRange } from '../src/core/onnx/httpRange';
import { classifyFetchError, describeFetchFailure } from './fetchFailure';

export interface ModelSummary {
  source: string;
  kind: 'layers' | 'graph' | 'onnx';
  inputShape: number[];
  numClasses: number;
  logitsLayer: string;
  softmaxNote: string | null;
  layers: LayerInfo[];
  parameters: number;
  /** The class names given with the model (labels.txt or a JSON list), null when the data's are shown. */
  classNames: string[] | null;
  /** The file the class names came from (labels.txt, a .json list). */
  classNamesFile: string | null;
  /** For an imported .onnx file: opset, declared input, normalisation found in the graph. */
  onnx?: OnnxCard;
}

export interface DatasetSummary {
  id: string;
  name: string;
  n: number;
  shape: [number, number, number];
  classNames: string[];
}

export interface SampleData {
  indices: Int32Array;
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
  cleanPred: Int32Array;
  cleanConfidence: Float32Array;
  cleanAccuracy: number;
}

export type { SliceModelResult as SliceTransfer } from '../src/core/analysis/definition';

/** A model by URL, or the user's files (`arrival`: chosen in a file input or dropped, as messages say it). */
export type ModelSource =
  | { url: string }
  | {
      files: { name: string; bytes: ArrayBuffer }[];
      /** Files passed as Blobs (an .onnx and its external data): the importer reads them in pieces. */
      blobs?: { name: string; blob: Blob }[];
      arrival?: 'picked' | 'dropped';
    };
export type DataSource = { indexUrl: string } | { files: { path: string; bytes: ArrayBuffer }[]; labelsTxt?: string; arrival?: 'picked' | 'dropped' };

let model: LabModel | null = null;
let modelSummary: ModelSummary | null = null;
/** Compare mode: model B, run on the same samples with the same random choices. */
let compareModel: LabModel | null = null;
let compareSummary: ModelSummary | null = null;
/** State analyses keep across runs (t-SNE warm starts), dropped when the models or data change. */
const sessions = new Map<string, { dispose(): void }>();
/** Adversarial examples every analysis shares (core/attacks/shared.ts), valid for the loaded models and data. */
const attacks = new AttackCache();
function dropSessions(): void {
  for (const s of sessions.values()) s.dispose();
  sessions.clear();
  attacks.clear();
}
/** Where A and B came from: the collision search reloads them as plain-op taps (fast input gradients). */
let modelSourceA: ModelSource | null = null;
let modelSourceB: ModelSource | null = null;
let dataset: ImageDataset | null = null;
let sample: ImageDataset | null = null;
const jobs = new Map<string, AbortController>();
let deviceLostCallback: ((reason: string) => void) | null = null;

function urlReader(modelUrl: string) {
  const base = new URL(modelUrl, self.location.href);
  const name = base.pathname.split('/').pop() ?? 'model.json';
  return {
    name,
    url: base.href,
    urlOf: (rel: string) => shardUrl(base, rel).href,
    read: async (rel: string) => {
      const url = rel === name ? base : shardUrl(base, rel);
      let res: Response;
      try {
        res = await fetch(url);
      } catch {
        // A bare "Failed to fetch" says nothing: tell CORS, network and a blocked scheme apart.
        throw new LabError(describeFetchFailure(await classifyFetchError(url, self.location.origin, fetch)));
      }
      if (!res.ok) throw new LabError(describeFetchFailure({ kind: 'http', status: res.status, statusText: res.statusText }));
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

function filesReader(chosen: { name: string; bytes: ArrayBuffer }[], arrival: 'picked' | 'dropped' = 'picked', blobs: { name: string; blob: Blob }[] = []) {
  // A class-name list chosen with the model (a labels.json too) is not the model's JSON.
  const files = splitClassNamesFile(chosen).model;
  const base = (name: string) => name.split('/').pop() as string;
  const byName = new Map(files.map((f) => [base(f.name), f.bytes]));
  const blobByName = new Map(blobs.map((f) => [base(f.name), f.blob]));
  const names = [...files.map((f) => f.name), ...blobs.map((f) => f.name)];
  // An .onnx file (with its external .data, if any) wins over JSON files chosen with it.
  const json = names.find((n) => isOnnxName(n)) ?? names.find((n) => n.endsWith('.json') && !n.endsWith('card.json'));
  if (!json) throw new LabError(`the ${arrival} files contain no model.json or .onnx file`);
  return {
    name: base(json),
    read: async (rel: string) => {
      const blob = blobByName.get(base(rel));
      if (blob) return new Uint8Array(await blob.arrayBuffer());
      const bytes = byName.get(base(rel));
      if (!bytes) throw new Error('not among the chosen files');
      return new Uint8Array(bytes);
    },
    /** The file for ranged reads: a chosen File is sliced, never read whole (stream.ts). */
    open: async (rel: string): Promise<ByteSource> => {
      const blob = blobByName.get(base(rel));
      if (blob) return blobSource(blob);
      const bytes = byName.get(base(rel));
      if (!bytes) throw new Error('not among the chosen files');
      return bytesSource(new Uint8Array(bytes));
    },
  };
}

/**
 * Load a model from a URL or chosen files: an .onnx file through the ONNX importer (its
 * external data read beside it: the same folder of the same origin, or the chosen files),
 * anything else as a tfjs model.json.
 */
async function loadSource(source: ModelSource): Promise<{ model: LabModel; label: string; classNamesFile: string | null }> {
  // Class names chosen with the model (labels.txt or a JSON list) are not model files.
  const split = 'files' in source ? splitClassNamesFile(source.files) : null;
  const names = split?.classNames ? readClassNames(split.classNames) : null;
  const chosen = 'url' in source ? null : filesReader(source.files, source.arrival, source.blobs);
  const byUrl = 'url' in source ? urlReader(source.url) : null;
  const reader = byUrl ?? chosen!;
  const label = 'url' in source ? source.url : `${source.arrival ?? 'picked'} ${reader.name}`;
  let loaded: LabModel;
  if (isOnnxName(reader.name) && chosen) {
    // Chosen files: read in pieces, one weight at a time, the .onnx and its external data alike.
    const file = await chosen.open(reader.name).catch((e: Error) => Promise.reject(new LabError(`${label}: cannot read ${reader.name} (${e.message})`)));
    loaded = await loadOnnxModel({ model: file, openExternal: chosen.open }, label);
  } else if (isOnnxName(reader.name) && byUrl) {
    // A URL: read in pieces by HTTP range requests where the server serves them (httpRange.ts),
    // its external data too; else fetched whole (a failed probe too: the whole fetch then says why).
    const ranged = (url: string) => openHttpRange(url, fetch, label).catch(() => null);
    const file = await ranged(byUrl.url);
    const bytes = file ? null : await byUrl.read(byUrl.name).catch((e: Error) => Promise.reject(new LabError(`${label}: cannot read ${byUrl.name} (${e.message})`)));
    const openExternal = async (rel: string) => (await ranged(byUrl.urlOf(rel))) ?? bytesSource(await byUrl.read(rel));
    loaded = await loadOnnxModel({ model: file ?? bytes!, openExternal }, label);
  } else {
    loaded = await loadLabModel(reader.name, reader.read, label);
  }
  if (split?.classNames && names) {
    try {
      checkClassNames(split.classNames.name, names, loaded.numClasses);
      loaded.classNames = names;
    } catch (e) {
      loaded.dispose();
      throw e;
    }
  }
  return { model: loaded, label, classNamesFile: split?.classNames?.name ?? null };
}

function summarise(m: LabModel, source: string, classNamesFile: string | null = null): ModelSummary {
  return {
    ...('onnx' in m ? { onnx: (m as OnnxLabModel).onnx } : {}),
    source,
    kind: m.kind,
    inputShape: m.inputShape,
    numClasses: m.numClasses,
    logitsLayer: m.logitsLayer,
    softmaxNote: m.softmaxNote,
    layers: m.layers,
    parameters: m.layers.reduce((s, l) => s + l.params, 0),
    classNames: m.classNames ?? null,
    classNamesFile: m.classNames ? classNamesFile : null,
  };
}

async function loadData(source: DataSource): Promise<ImageDataset> {
  if ('indexUrl' in source) {
    const indexRes = await fetch(source.indexUrl);
    if (!indexRes.ok) throw new LabError(`${source.indexUrl}: HTTP ${indexRes.status}`);
    const index = await indexRes.json();
    const binUrl = new URL(index.file, new URL(source.indexUrl, self.location.href));
    const binRes = await fetch(binUrl);
    if (!binRes.ok) throw new LabError(`${binUrl}: HTTP ${binRes.status}`);
    return parsePackedDataset(index, new Uint8Array(await binRes.arrayBuffer()));
  }
  // One rule for dropped files and the CLI's --data folder (src/core/data/detect.ts), and the
  // Train view's data (workers/train.worker.ts) goes through the same function.
  // Named by how the images arrived: a folder chosen in the picker was not "dropped".
  const dropped = source.arrival === 'dropped';
  return datasetFromFiles(source.files, { decode: decodeImageFile, labelsTxt: source.labelsTxt, id: dropped ? 'dropped-images' : 'picked-images', name: dropped ? 'Dropped images' : 'Your images' });
}

/**
 * One line for the user from whatever was thrown. Allocation failures from the backends get a
 * reason instead of their engine wording ("memory access out of bounds" is WASM running out).
 */
function asLabError(e: unknown): LabError {
  if (e instanceof LabError) return e;
  const first = ((e as Error)?.message ?? String(e)).split('\n')[0];
  if (/memory access out of bounds|out of memory|Array buffer allocation failed|Invalid typed array length|Failed to allocate|RangeError: Invalid array length/i.test(first)) {
    return new LabError(`the model does not fit in this backend's memory at this size (${first}); try fewer samples or another backend`);
  }
  return new LabError(first);
}

/** Samples the configure step runs through a new model before committing it. */
const PROBE_SAMPLES = 2;

async function probeModel(m: LabModel, d: ImageDataset): Promise<void> {
  const n = Math.min(PROBE_SAMPLES, d.n);
  if (n === 0) throw new LabError(`dataset ${d.id} has no samples`);
  const per = d.height * d.width * d.channels;
  await predictAll(m, d.images.subarray(0, n * per), d.labels.subarray(0, n), [d.height, d.width, d.channels]);
}

const BASE = import.meta.env.BASE_URL;

/**
 * A zoo id as the URL of its model.json. Analyses open further models by zoo id only (collision's
 * "also compare", logits' training snapshots): a URL or path here would be a fetch the user never
 * confirmed (the lab asks before loading a model from another site, setup.ts).
 */
function zooModelUrl(id: string): string {
  if (!/^[\w.-]+$/.test(id) || id.startsWith('.')) throw new LabError(`"${id}" is not a zoo model id`);
  return `${BASE}models/${id}/model.json`;
}

/** What the worker lends an analysis: zoo models by id, the zoo index, plain-op taps, sessions. */
const resources: AnalysisResources = {
  async openModel(id) {
    const url = zooModelUrl(id);
    const reader = urlReader(url);
    return loadLabModel(reader.name, reader.read, url);
  },
  async zoo() {
    const res = await fetch(`${BASE}models/index.json`).catch(() => null);
    if (!res?.ok) return [];
    const index = (await res.json()) as ZooModelEntry[] | { models: ZooModelEntry[] };
    return Array.isArray(index) ? index : index.models;
  },
  async plainTap(which) {
    const source = which === 'a' ? modelSourceA : which === 'b' ? modelSourceB : { url: zooModelUrl(which) };
    if (!source) return null;
    const reader = 'url' in source ? urlReader(source.url) : filesReader(source.files, source.arrival, source.blobs);
    // ONNX models already run as plain ops: the analysis taps the loaded model itself.
    if (isOnnxName(reader.name)) return null;
    return loadPlainLayerTap(reader.name, reader.read);
  },
  attacks,
  session(name, make) {
    let s = sessions.get(name);
    if (!s) sessions.set(name, (s = make()));
    return s as ReturnType<typeof make>;
  },
};

/** The analyses' context for a request on the loaded model(s) and data. */
function contextOf(request: AnalysisRequest): AnalysisContext {
  if (!model || !dataset) throw new LabError('load a model and data first');
  return {
    models: { a: model, b: compareModel },
    modelIds: { a: request.setup.setup.model, b: compareModel ? request.setup.compare || 'B' : null },
    // Model A's own class names, when given, name the classes everywhere (as in the CLI).
    dataset: namedByModel(dataset, model),
    seed: request.setup.setup.seed,
    backend: tf.getBackend(),
    resources,
    carry: request.carry,
  };
}

/** How long an estimate waits for running jobs before it gives up (it is asked again later). */
const ESTIMATE_WAIT_MS = 15_000;

/** Every ArrayBuffer of a result, for a transfer instead of a copy. */
function buffersOf(value: unknown, out = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) out.add(value.buffer as ArrayBuffer);
  else if (Array.isArray(value)) for (const v of value) buffersOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) buffersOf(v, out);
  return [...out];
}

/** One analysis request: the setup it was keyed by, its own values, and what the lab carries over (t-SNE layout). */
export interface AnalysisRequest {
  setup: AnalysisSetup;
  own: Record<string, unknown>;
  carry?: unknown;
}

const api = {
  /**
   * Start the backend. 'auto' measures the backends here (core/backend.ts) unless `previous` is
   * this session's earlier 'auto' decision: a replacement worker takes it over instead of
   * measuring again, so the lab's numbers keep coming from one backend. `precision` 'float16'
   * asks WebGL for half textures (core/precision.ts); tfjs reads that once, so the bridge
   * changes precision in a fresh worker.
   */
  async init(request: BackendRequest, previous?: BackendState | null, precision: Precision = 'float32'): Promise<BackendState> {
    const state = await selectBackend(
      request,
      { wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl } as never, precision },
      previous,
    );
    if (state.active === 'webgpu') {
      const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
      device?.lost.then((info) => deviceLostCallback?.(info.message || String(info.reason)));
    }
    return state;
  },

  onDeviceLost(callback: (reason: string) => void) {
    deviceLostCallback = callback;
  },

  /**
   * Load a model and/or data set; commit both only if they load and fit each other.
   * Returns the summaries of what is now active.
   */
  async configure(next: { model?: ModelSource; data?: DataSource }): Promise<{ model: ModelSummary | null; data: DatasetSummary | null }> {
    let newModel: LabModel | null = null;
    let newSummary: ModelSummary | null = null;
    let newData: ImageDataset | null = null;
    try {
      if (next.model) {
        const loaded = await loadSource(next.model);
        newModel = loaded.model;
        newSummary = summarise(newModel, loaded.label, loaded.classNamesFile);
      }
      if (next.data) newData = await loadData(next.data);
      const m = newModel ?? model;
      const d = newData ?? dataset;
      if (m && d) {
        checkInputCompatibility(m, d);
        // A model that cannot run (out of memory, non-finite logits) is refused now, while the
        // previous one is still in place, rather than committed and failing every later job.
        if (newModel || newData) await probeModel(m, d);
      }
    } catch (e) {
      newModel?.dispose();
      throw asLabError(e);
    }
    if (newModel || newData) dropSessions();
    if (newModel) {
      model?.dispose();
      model = newModel;
      modelSummary = newSummary;
      modelSourceA = next.model ?? null;
    }
    if (newData) {
      dataset = newData;
      sample = null;
    }
    return {
      model: modelSummary,
      data: dataset ? { id: dataset.id, name: dataset.name, n: dataset.n, shape: [dataset.height, dataset.width, dataset.channels], classNames: dataset.classNames } : null,
    };
  },

  async drawSample(n: number, seed: number): Promise<SampleData> {
    if (!model || !dataset) throw new LabError('load a model and data first');
    const count = Math.min(n, dataset.n);
    const indices = classBalancedSample(dataset.labels, dataset.classNames.length, count, seed);
    // Committed only once its predictions exist: a failed draw keeps the previous sample.
    const drawn = takeSamples(dataset, indices);
    const shape: [number, number, number] = [drawn.height, drawn.width, drawn.channels];
    const p = await predictAll(model, drawn.images, drawn.labels, shape).catch((e: unknown) => {
      throw asLabError(e);
    });
    sample = drawn;
    const out: SampleData = {
      indices,
      images: sample.images.slice(),
      labels: sample.labels.slice(),
      shape,
      cleanPred: p.pred,
      cleanConfidence: p.confidence,
      cleanAccuracy: p.accuracy,
    };
    return Comlink.transfer(out, [out.images.buffer, out.labels.buffer, out.cleanPred.buffer, out.cleanConfidence.buffer, indices.buffer]);
  },

  /** Logits of a few images of the current data's shape on model A or B (the per-sample detail: clean vs adversarial). */
  async logitsOf(images: Float32Array, which: 'a' | 'b' = 'a'): Promise<Float32Array> {
    const target = which === 'b' ? compareModel : model;
    if (!target || !sample) throw new LabError(which === 'b' ? 'no compare model loaded' : 'no sample drawn yet');
    const shape: [number, number, number] = [sample.height, sample.width, sample.channels];
    const d = shape[0] * shape[1] * shape[2];
    const n = images.length / d;
    if (!Number.isInteger(n) || n < 1) throw new LabError(`logitsOf: ${images.length} floats are not whole ${shape.join('×')} images`);
    const z = tf.tidy(() => target.logits(tf.tensor4d(images, [n, ...shape])));
    const out = (await z.data()) as Float32Array;
    z.dispose();
    return Comlink.transfer(out, [out.buffer]);
  },

  /** Load (or clear, with null) the compare model B; it must fit the current data. */
  async setCompare(source: ModelSource | null): Promise<ModelSummary | null> {
    if (!source) {
      compareModel?.dispose();
      compareModel = null;
      compareSummary = null;
      modelSourceB = null;
      dropSessions();
      return null;
    }
    let next: LabModel | null = null;
    try {
      const loaded = await loadSource(source);
      next = loaded.model;
      const label = loaded.label;
      if (dataset) checkInputCompatibility(next, dataset);
      if (model && next.numClasses !== model.numClasses) throw new LabError(`compare model has ${next.numClasses} classes, model A has ${model.numClasses}`);
      if (dataset) await probeModel(next, dataset);
      compareModel?.dispose();
      compareModel = next;
      compareSummary = summarise(next, label, loaded.classNamesFile);
      modelSourceB = source;
      dropSessions();
      return compareSummary;
    } catch (e) {
      next?.dispose();
      throw asLabError(e);
    }
  },

  /**
   * Run one analysis (core/analyses: the same definition the CLI runs) on the loaded model(s)
   * and data. Partial results stream through `onPartial` (structured clone, throttled by the
   * analysis); definitions marked `transfer` hand their typed arrays over instead of copying.
   */
  async analysis(jobId: string, kind: AnalysisKind, request: AnalysisRequest, onProgress?: (p: JobProgress) => void, onPartial?: (r: unknown) => void): Promise<unknown> {
    if (!model || !dataset) throw new LabError('load a model and data first');
    const def: AnyAnalysis | undefined = findAnalysis(kind);
    if (!def) throw new LabError(`unknown analysis "${kind}"`);
    const controller = new AbortController();
    jobs.set(jobId, controller);
    try {
      const ctx = contextOf(request);
      const before = tf.memory().numTensors;
      const job = def.run(ctx, runParams(def, request.setup, request.own as never), { signal: controller.signal, onProgress }, (r: unknown) => onPartial?.(r));
      // Answer a cancel at once, even while the job awaits the GPU; the abandoned job stops at
      // its next signal check and disposes its own tensors.
      job.catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new JobCancelledError()), { once: true }));
      const result = await Promise.race([job, aborted]);
      const leaked = tf.memory().numTensors - before;
      if (leaked > 0 && jobs.size === 1 && !sessions.size) console.warn(`${kind} left ${leaked} tensors`);
      return def.transfer ? Comlink.transfer(result, buffersOf(result)) : result;
    } catch (e) {
      if (e instanceof JobCancelledError) throw new Error('cancelled');
      throw asLabError(e);
    } finally {
      jobs.delete(jobId);
    }
  },

  /**
   * How long an analysis would take here, before it runs (core/analyses/estimate.ts). The
   * model's throughput is timed once per model and backend; the timing waits for running
   * jobs to finish (up to ESTIMATE_WAIT_MS), since a job sharing the thread would slow it;
   * `busy` says the jobs outlasted that wait and the view should ask again.
   */
  async estimate(kind: AnalysisKind, request: AnalysisRequest): Promise<{ seconds: number } | { busy: true } | null> {
    if (!model || !dataset) return null;
    const def: AnyAnalysis | undefined = findAnalysis(kind);
    if (!def) throw new LabError(`unknown analysis "${kind}"`);
    for (let waited = 0; jobs.size > 0; waited += 100) {
      if (waited > ESTIMATE_WAIT_MS) return { busy: true };
      await new Promise((r) => setTimeout(r, 100));
    }
    const ctx = contextOf(request);
    try {
      return { seconds: (await estimateAnalysis(def, ctx, runParams(def, request.setup, request.own as never))).seconds };
    } catch {
      // Parameters the run itself would refuse (its error says why then).
      return null;
    }
  },

  cancel(jobId: string) {
    jobs.get(jobId)?.abort();
  },

  /** Test hook: destroy the WebGPU device as a driver reset would, to exercise recovery. */
  debugLoseDevice(): boolean {
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    if (!device) return false;
    device.destroy();
    return true;
  },

  memory(): number {
    return tf.memory().numTensors;
  },
};

export type LabWorkerApi = typeof api;
export type { AnalysisKind };
Comlink.expose(api);
