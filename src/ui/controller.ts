/**
 * Orchestration between the store, the URL and the compute worker. Owns the worker bridge
 * and the abort controller of the running job (neither belongs in the store).
 *
 * Slider-driven jobs are latest-wins (STYLE.md convention 4): a new request aborts the
 * previous one; results are cached by a key of every parameter; while the ε slider is
 * dragged a cheap FGSM preview runs, the chosen attack on release.
 */
import { fromHash, toHash } from '../core/schema';
import * as Comlink from 'comlink';
import type { BackendName, BackendRequest } from '../core/backend';
import type { AttackSpec } from '../core/attacks/types';
import { CancelledError, LabBridge, WorkerReplacedError } from './bridge';
import { DEFAULT_PARAMS, sliceKeys, URL_SCHEMAS, useLab, type DataEntry, type Params, type StoredResult, type ZooEntry } from './store';
import type { DataSource, ModelSource } from '../../workers/lab.worker';
import type { ParityReport, ParityWorkerApi } from '../../workers/parity.worker';

export const APP_VERSION = '0.1.0';
const SCHEMAS = URL_SCHEMAS;
const BASE = import.meta.env.BASE_URL;

let bridge: LabBridge | null = null;
let running: AbortController | null = null;
let jobCounter = 0;
/** The user's own model/data sources, kept so a respawned worker can reload them. */
const userSources: { model?: ModelSource; data?: DataSource } = {};

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

function message(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0];
}

let hashTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Mirror the parameters into the URL hash. history.replaceState costs a round trip to the
 * browser process, so slider drags write it at most once per HASH_WRITE_MS (trailing).
 */
const HASH_WRITE_MS = 200;
export function writeHash(params: Params): void {
  if (hashTimer) clearTimeout(hashTimer);
  hashTimer = setTimeout(() => {
    hashTimer = null;
    const hash = toHash(SCHEMAS, params as unknown as Record<string, unknown>);
    if (location.hash.slice(1) !== hash) history.replaceState(null, '', `#${hash}`);
  }, HASH_WRITE_MS);
}

export function readHash(): { params: Params; errors: string[] } {
  const { values, errors } = fromHash(SCHEMAS, location.hash);
  return { params: { ...DEFAULT_PARAMS, ...(values as Partial<Params>) }, errors };
}

/** Other origins the user agreed, in this page session, to load a model from. */
const confirmedOrigins = new Set<string>();

/**
 * A model URL on another origin (a shared link's #model=https://…) is fetched only after the
 * user confirms: the lab makes no request the user did not ask for. Declining is an error
 * that keeps the current setup. (The CSP lets fetches reach other https origins for exactly
 * this: vite.config.ts.)
 */
function confirmModelOrigin(id: string): void {
  let url: URL;
  try {
    url = new URL(id, location.href);
  } catch {
    throw new Error(`model URL "${id}" is not a valid URL`);
  }
  if (url.origin === location.origin || confirmedOrigins.has(url.origin)) return;
  const ok = window.confirm(`Load a model from another site?\n\n${url.href}\n\nThe lab fetches nothing from other sites unless you agree.`);
  if (!ok) throw new Error(`model from ${url.origin} not loaded: a model on another site loads only after you confirm`);
  confirmedOrigins.add(url.origin);
}

export function modelSource(id: string): ModelSource {
  if (id.startsWith('user:') && userSources.model) return userSources.model;
  // A model given by URL (e.g. #model=https://host/path/model.json) loads from there, once confirmed if cross-origin.
  if (/^(https?:)?\/\//.test(id) || id.endsWith('.json') || /\.onnx$/i.test(id)) {
    confirmModelOrigin(id);
    return { url: id };
  }
  return { url: `${BASE}models/${id}/model.json` };
}

function dataSource(id: string): DataSource {
  if (id.startsWith('user:') && userSources.data) return userSources.data;
  return { indexUrl: `${BASE}data/${id}.json` };
}

function startJob(kind: 'load' | 'sample' | 'slice', label: string, preview = false) {
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const id = ++jobCounter;
  get().set({ job: { id, kind, label, fraction: 0, message: '', status: 'running', preview } });
  const finish = (status: 'done' | 'cancelled' | 'error') => {
    if (running === controller) running = null;
    const job = get().job;
    if (job?.id === id) get().set({ job: { ...job, status, fraction: status === 'done' ? 1 : job.fraction } });
  };
  const onProgress = (p: { fraction: number; message?: string }) => {
    const job = get().job;
    if (job?.id === id && job.status === 'running') get().set({ job: { ...job, fraction: p.fraction, message: p.message ?? '' } });
  };
  return { controller, finish, onProgress };
}

/** Cancel whatever runs now; partial results stay on screen. */
export function cancelJob(): void {
  running?.abort();
}

export function layersFor(params: Params): string[] {
  const model = get().model;
  if (!model) return [];
  const known = new Set(model.layers.map((l) => l.name));
  const chosen = params.layers.filter((l) => known.has(l));
  return chosen.length ? chosen : model.layers.filter((l) => l.defaultTap).map((l) => l.name);
}

export function attackSpec(params: Params, preview: boolean): AttackSpec {
  if (preview || params.attack === 'fgsm') return { attack: 'fgsm', norm: params.norm, eps: params.eps, steps: 1 };
  return {
    attack: params.attack,
    norm: params.norm,
    eps: params.eps,
    steps: params.steps,
    stepSize: params.stepSize > 0 ? params.stepSize : undefined,
    restarts: params.restarts,
    targets: params.targets,
    ...(params.attack === 'apgd-t' && params.targetClass >= 0 ? { targetClass: params.targetClass } : {}),
    draws: params.draws,
  };
}

/** Key of model B's result for the same slice. */
export function compareKey(key: string): string {
  return `B:${get().params.compare}|${key}`;
}

/** Run (or fetch from cache) the slice at the current parameters. */
export async function runSlice(preview = false): Promise<void> {
  const { params, sample } = get();
  if (!sample) return;
  const layers = layersFor(params);
  const { key, ladderKey } = sliceKeys(params, preview, layers);
  const cached = get().results[key];
  if (cached && (preview || !get().compareModel || get().results[compareKey(key)])) {
    running?.abort();
    get().set({ shownKey: key });
    return;
  }
  const spec = attackSpec(params, preview);
  const { controller, finish, onProgress } = startJob('slice', preview ? `FGSM preview at ε=${params.eps}` : `${spec.attack.toUpperCase()} at ε=${params.eps}`, preview);
  try {
    const r = await getBridge().slice(spec, layers, params.seed, { signal: controller.signal, onProgress });
    const stored: StoredResult = { ...r, key, ladderKey, eps: params.eps, preview };
    get().set({ results: { ...get().results, [key]: stored }, shownKey: key, error: null });
    if (!preview && get().compareModel) {
      // Compare mode: the same slice for model B (same samples, same seed), drawn dashed.
      const rb = await getBridge().slice(spec, layers, params.seed, { signal: controller.signal, onProgress }, 'b');
      get().set({ results: { ...get().results, [compareKey(key)]: { ...rb, key: compareKey(key), ladderKey: compareKey(ladderKey), eps: params.eps, preview } } });
    }
    finish('done');
    if (!preview) void fillLadder();
  } catch (e) {
    if (e instanceof CancelledError) finish('cancelled');
    else if (e instanceof WorkerReplacedError) {
      // The device was lost under this job: run it again on the fresh worker.
      finish('cancelled');
      if (e.message.includes('WebGPU device lost')) void runSlice(preview);
    } else {
      finish('error');
      get().set({ error: message(e) });
    }
  }
}

/**
 * After a full result, compute a small ε ladder around it (½ε and 2ε, clamped) in the
 * background so the per-layer chart has lines to compare; any user action cancels it.
 */
async function fillLadder(): Promise<void> {
  const { params, results } = get();
  if (params.eps <= 0) return;
  const layers = layersFor(params);
  const { ladderKey } = sliceKeys(params, false, layers);
  const have = Object.values(results).filter((r) => r.ladderKey === ladderKey).length;
  if (have >= 3) return;
  const max = params.norm === 'linf' ? 1 : 20;
  for (const eps of [params.eps / 2, Math.min(max, params.eps * 2)].map((e) => +e.toPrecision(4))) {
    const p = { ...get().params, eps };
    const { key } = sliceKeys(p, false, layers);
    if (get().results[key] || get().params.eps !== params.eps) continue;
    const { controller, finish, onProgress } = startJob('slice', `ladder: ${p.attack.toUpperCase()} at ε=${eps}`);
    try {
      const r = await getBridge().slice(attackSpec(p, false), layers, p.seed, { signal: controller.signal, onProgress });
      get().set({ results: { ...get().results, [key]: { ...r, key, ladderKey, eps, preview: false } } });
      if (get().compareModel) {
        const rb = await getBridge().slice(attackSpec(p, false), layers, p.seed, { signal: controller.signal, onProgress }, 'b');
        get().set({ results: { ...get().results, [compareKey(key)]: { ...rb, key: compareKey(key), ladderKey: compareKey(ladderKey), eps, preview: false } } });
      }
      finish('done');
    } catch (e) {
      finish(e instanceof CancelledError ? 'cancelled' : 'error');
      return;
    }
  }
}

/**
 * Setup changes (backend, model, data, compare model, sample) run one at a time: two in flight
 * interleave in the worker, and the one that finishes last there (and in the store) need not be
 * the one the user asked for last, e.g. a preset clicked while the page is still booting.
 */
let setupChain: Promise<unknown> = Promise.resolve();
function serialSetup<T>(work: () => Promise<T>): Promise<T> {
  const run = setupChain.then(work, work);
  setupChain = run.catch(() => undefined);
  return run;
}

async function drawSample(): Promise<void> {
  const { params } = get();
  const { controller, finish } = startJob('sample', `sampling ${params.n} images`);
  try {
    const sample = await getBridge().drawSample(params.n, params.seed, controller.signal);
    get().set({ sample, brushed: [], hovered: null });
    finish('done');
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    throw e;
  }
}

/**
 * Apply new parameters: reload what they touch (backend → model/data → sample → slice).
 * A failed load reverts the parameters it touched and keeps the working setup.
 */
export async function applyParams(partial: Partial<Params>, opts: { preview?: boolean } = {}): Promise<void> {
  const before = get().params;
  const next = { ...before, ...partial };
  // A zoo model brings its own dataset when the current one does not fit.
  if (partial.model && partial.model !== before.model && !partial.data) {
    const entry = get().zoo.find((z) => z.id === partial.model);
    if (entry && entry.dataset !== before.data && get().datasets.some((d) => d.id === entry.dataset)) next.data = entry.dataset;
  }
  get().setParams(next);
  writeHash(next);
  const modelChanged = next.model !== before.model;
  const dataChanged = next.data !== before.data;
  try {
    await serialSetup(() => applySetup(before, next, modelChanged, dataChanged));
    await runSlice(opts.preview ?? false);
    if (!opts.preview) onParamsApplied(before, next);
  } catch (e) {
    // A cancelled load is the user's choice, not an error; the previous setup stays.
    if (!(e instanceof CancelledError)) get().set({ error: message(e) });
  }
}

async function applySetup(before: Params, next: Params, modelChanged: boolean, dataChanged: boolean): Promise<void> {
  if (next.backend !== before.backend) {
    const state = await getBridge().init(next.backend as BackendRequest);
    get().set({ backend: state });
  }
  if (modelChanged || dataChanged) {
    const { controller, finish } = startJob('load', 'loading model and data');
    try {
      const r = await getBridge().configure(
        {
          model: modelChanged ? modelSource(next.model) : undefined,
          data: dataChanged ? dataSource(next.data) : undefined,
        },
        controller.signal,
      );
      get().set({ model: r.model, dataset: r.data, error: null });
      finish('done');
    } catch (e) {
      finish(e instanceof CancelledError ? 'cancelled' : 'error');
      get().setParams({ model: before.model, data: before.data });
      writeHash(get().params);
      throw e;
    }
  }
  if (next.compare !== before.compare || (modelChanged && next.compare)) await applyCompare(next.compare);
  if (modelChanged || dataChanged || next.n !== before.n || next.seed !== before.seed) await drawSample();
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${url}: not JSON (is the file missing?)`);
  }
}

/** Boot: URL → params, backend, indexes, model and data, first sample and slice. */
export async function boot(): Promise<void> {
  const { params, errors } = readHash();
  get().set({ params, notice: errors.length ? `ignored in the URL: ${errors.join('; ')}` : null });
  try {
    await serialSetup(() => bootSetup(params));
    await runSlice(false);
    onParamsApplied(null, params);
  } catch (e) {
    get().set({ error: message(e) });
  }
}

async function bootSetup(params: Params): Promise<void> {
  const backendReady = getBridge().init(params.backend as BackendRequest);
  const [zoo, datasets] = await Promise.all([
    fetchJson<{ models: ZooEntry[] } | ZooEntry[]>(`${BASE}models/index.json`).catch((e) => {
      get().set({ notice: `model zoo index unavailable (${message(e)})` });
      return [] as ZooEntry[];
    }),
    fetchJson<{ datasets: DataEntry[] } | DataEntry[]>(`${BASE}data/index.json`),
  ]);
  get().set({
    zoo: Array.isArray(zoo) ? zoo : zoo.models,
    datasets: Array.isArray(datasets) ? datasets : datasets.datasets,
  });
  get().set({ backend: await backendReady });
  const { controller, finish } = startJob('load', 'loading model and data');
  try {
    const r = await getBridge().configure({ model: modelSource(params.model), data: dataSource(params.data) }, controller.signal);
    get().set({ model: r.model, dataset: r.data });
    finish('done');
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    throw e;
  }
  // Not `params`: a change made while booting (it waits in the setup chain) is already in the store.
  writeHash(get().params);
  if (params.compare) await applyCompare(params.compare);
  await drawSample();
}

/** Load or clear the compare model B; a failure clears the parameter and says why. */
async function applyCompare(id: string): Promise<void> {
  try {
    const summary = await getBridge().setCompare(id ? modelSource(id) : null);
    get().set({ compareModel: summary, analyses: {} });
  } catch (e) {
    get().setParams({ compare: '' });
    writeHash(get().params);
    get().set({ compareModel: null, error: `compare model: ${message(e)}` });
  }
}

type AppliedHook = (before: Params | null, next: Params) => void;
const appliedHooks: AppliedHook[] = [];
/** Views register what should re-run when parameters change (e.g. t-SNE warm start on ε). */
export function onApplied(hook: AppliedHook): void {
  appliedHooks.push(hook);
}
function onParamsApplied(before: Params | null, next: Params): void {
  for (const hook of appliedHooks) hook(before, next);
}

/** Load a model from files the user picked (model.json + shards, several at once). */
export async function loadModelFiles(files: File[]): Promise<void> {
  const payload = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  const { controller, finish } = startJob('load', `loading ${files.length} model files`);
  try {
    const source: ModelSource = { files: payload };
    await serialSetup(async () => {
      const r = await getBridge().configure({ model: source }, controller.signal);
      userSources.model = source;
      const id = `user:${(files.find((f) => /\.onnx$/i.test(f.name)) ?? files.find((f) => f.name.endsWith('.json')))?.name ?? 'model'}`;
      get().set({ model: r.model, dataset: r.data, userModelLabel: id, error: null, results: {}, shownKey: null });
      get().setParams({ model: id });
      finish('done');
      await drawSample();
    });
    await runSlice(false);
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    if (!(e instanceof CancelledError)) get().set({ error: message(e) });
  }
}

/** Load an image folder (files with relative paths class/image.png; optional labels.txt). */
export async function loadImageFiles(files: File[], paths?: Map<File, string>): Promise<void> {
  const { controller, finish } = startJob('load', `decoding ${files.length} images`);
  try {
    const rel = (f: File) => paths?.get(f) || (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    const labelsFile = files.find((f) => rel(f).split('/').pop() === 'labels.txt');
    // Paths relative to the chosen folder: drop its own name, keep class/image.
    // Hidden files (.DS_Store and the like) are not images.
    const images = files.filter((f) => f !== labelsFile && !f.name.startsWith('.'));
    // A folder keeps class/image; loose files (IDX pair, CIFAR batches) keep their name.
    const payload = await Promise.all(images.map(async (f) => ({ path: rel(f).split('/').slice(-2).join('/'), bytes: await f.arrayBuffer() })));
    const source: DataSource = { files: payload, labelsTxt: labelsFile ? await labelsFile.text() : undefined };
    await serialSetup(async () => {
      const r = await getBridge().configure({ data: source }, controller.signal);
      userSources.data = source;
      get().set({ model: r.model, dataset: r.data, error: null });
      get().setParams({ data: 'user:images' });
      get().set({ results: {}, shownKey: null });
      finish('done');
      await drawSample();
    });
    await runSlice(false);
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    if (!(e instanceof CancelledError)) get().set({ error: message(e) });
  }
}

/**
 * Hooks for tests and the curious, on window.layerwise: tensor count, a simulated device
 * loss, and the kernel-parity self-test of a backend (in a worker of its own, so the lab's
 * model and jobs are untouched).
 */
export function installDebugHooks(): void {
  (window as unknown as { layerwise: unknown }).layerwise = {
    tensors: () => getBridge().memory(),
    loseDevice: () => getBridge().debugLoseDevice(),
    kernelParity: runKernelParityInWorker,
  };
}

/** Run the kernel-parity suite (ops and the given models) on `backend` against the CPU backend. */
export async function runKernelParityInWorker(backend: BackendName, modelUrls: string[] = []): Promise<ParityReport> {
  const worker = new Worker(new URL('../../workers/parity.worker.ts', import.meta.url), { type: 'module' });
  try {
    // Relative to the page, not to the worker's script in assets/.
    return await Comlink.wrap<ParityWorkerApi>(worker).run(backend, modelUrls.map((u) => new URL(u, document.baseURI).href));
  } finally {
    worker.terminate();
  }
}

/** The JSON run manifest: everything needed to reproduce the current view. */
export function runManifest(): Record<string, unknown> {
  const s = get();
  const shown = s.shownKey ? s.results[s.shownKey] : null;
  return {
    app: 'layerwise',
    version: APP_VERSION,
    created: new Date().toISOString(),
    url: location.href,
    seed: s.params.seed,
    params: s.params,
    backend: s.backend,
    model: s.model && { source: s.model.source, kind: s.model.kind, inputShape: s.model.inputShape, logitsLayer: s.model.logitsLayer, softmaxNote: s.model.softmaxNote, parameters: s.model.parameters },
    data: s.dataset,
    sampleIndices: s.sample ? Array.from(s.sample.indices) : [],
    attack: shown?.spec ?? null,
    preview: shown?.preview ?? null,
    versions: { layerwise: APP_VERSION, tfjs: s.backend?.tfjs ?? null },
  };
}
