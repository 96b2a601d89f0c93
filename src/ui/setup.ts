/**
 * The lab's setup: backend, model, data, compare model and sample, loaded in the order the
 * parameters need (backend → model/data → sample → slice), one change at a time, and
 * transactional (a failed load reverts the parameters it touched and keeps the working setup).
 */
import type { BackendRequest } from '../core/backend';
import { CancelledError } from './bridge';
import { startMainJob } from './jobs';
import { getBridge, message } from './runtime';
import { runSlice } from './slice';
import { readHash, writeHash } from './url';
import { useLab, type DataEntry, type Params, type ParamsPatch, type ZooEntry } from './store';
import type { DataSource, ModelSource } from '../../workers/lab.worker';
import { patchParams } from '../core/analyses/lab';
import { rescaleEps } from '../core/attacks/threat';
import { shapeOfData } from './threat';
import { attackSchema } from '../core/schema';
import type { Norm } from '../core/attacks/common';
import { mismatchFix, parseShapeMismatch, userModelName } from './byo';
import { plural, type FileArrival } from './text';
import { isClassNamesFile } from '../core/model/classNames';

const BASE = import.meta.env.BASE_URL;

/** The user's own model/data sources (A, B, data), kept so a respawned worker can reload them. */
const userSources: { model?: ModelSource; compare?: ModelSource; data?: DataSource } = {};

/**
 * A `user:` model id whose files this page does not hold (a shared link or a reload): the
 * setup asks for them (store.filesNeeded) instead of fetching a URL made of the id.
 */
export class FilesNeededError extends Error {
  constructor(
    readonly which: 'a' | 'b',
    readonly fileName: string,
  ) {
    super(`load your model files again: ${fileName} (a link names your own model but cannot carry its files)`);
  }
}

const get = () => useLab.getState();

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

export function modelSource(id: string, which: 'a' | 'b' = 'a'): ModelSource {
  const userName = userModelName(id);
  if (userName !== null) {
    const source = which === 'a' ? userSources.model : userSources.compare;
    if (source) return source;
    throw new FilesNeededError(which, userName);
  }
  // A model given by URL (e.g. #model=https://host/path/model.json) loads from there, once confirmed if cross-origin.
  if (/^(https?:)?\/\//.test(id) || id.endsWith('.json') || /\.onnx$/i.test(id)) {
    confirmModelOrigin(id);
    return { url: id };
  }
  return { url: `${BASE}models/${id}/model.json` };
}

function dataSource(id: string): DataSource {
  if (id.startsWith('user:')) {
    if (userSources.data) return userSources.data;
    throw new Error('load your data files again (a link names your own data but cannot carry its files)');
  }
  return { indexUrl: `${BASE}data/${id}.json` };
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

/** What a mismatch fix loads besides the built-in side it names: the model or data the user just chose. */
let fixPending: { modelId?: string; modelFiles?: ModelSource; dataId?: string; dataFiles?: DataSource } | null = null;

/** "model A (…)" / "model B (…)" in compare mode, so a message says which model it concerns. */
function aboutModel(which: 'a' | 'b', id: string): string {
  return `model ${which.toUpperCase()} (${userModelName(id) ?? id})`;
}

/**
 * Show a failed load; when it is a model/data shape mismatch, offer the fix as a button
 * (keep what the user just chose, `changed`, and load the built-in counterpart that fits it).
 */
function reportLoadError(e: unknown, changed: 'model' | 'data' | null, pending: NonNullable<typeof fixPending>, prefix = ''): void {
  const text = prefix + message(e);
  const mismatch = changed ? parseShapeMismatch(text) : null;
  const fix = mismatch && changed ? mismatchFix(mismatch, changed, get().zoo, get().datasets) : null;
  fixPending = fix ? pending : null;
  get().set({ error: text, errorFix: fix ? { ...fix, forError: text } : null });
}

/** Errors about model B start with "model B" (aboutModel; the slice names B the same way). */
const isAboutB = (error: string | null) => !!error && /^model B\b/.test(error);

async function drawSample(): Promise<void> {
  const { params } = get();
  const { controller, finish } = startMainJob('sample', `sampling ${params.setup.n} images`);
  try {
    const sample = await getBridge().drawSample(params.setup.n, params.setup.seed, controller.signal);
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
export async function applyParams(patch: ParamsPatch, opts: { preview?: boolean } = {}): Promise<void> {
  const before = get().params;
  const next = patchParams(before, patch);
  // A zoo model brings its own dataset when the current one does not fit.
  if (patch.setup?.model && patch.setup.model !== before.setup.model && !patch.setup.data) {
    const entry = get().zoo.find((z) => z.id === patch.setup?.model);
    if (entry && entry.dataset !== before.setup.data && get().datasets.some((d) => d.id === entry.dataset)) next.setup = { ...next.setup, data: entry.dataset };
  }
  // Another data family or norm is another threat model: ε moves to its start and says so.
  const rescaled = rescaleEps({ shape: shapeOfData(before.setup.data), norm: before.attack.norm as Norm }, { shape: shapeOfData(next.setup.data), norm: next.attack.norm as Norm }, next.attack.eps, patch.attack?.eps !== undefined);
  if (rescaled) next.attack = { ...next.attack, eps: rescaled.eps };
  get().set({ params: next, ...(rescaled ? { notice: rescaled.notice } : {}) });
  writeHash(next);
  const modelChanged = next.setup.model !== before.setup.model;
  const dataChanged = next.setup.data !== before.setup.data;
  try {
    await serialSetup(() => applySetup(before, next, modelChanged, dataChanged));
    await runSlice(opts.preview ?? false);
    if (!opts.preview) onParamsApplied(before, next);
  } catch (e) {
    // The data went back (the load failed): so does an ε rescaled for it.
    if (rescaled && get().params.setup.data === before.setup.data && get().params.attack.eps === rescaled.eps) {
      get().setParams({ attack: { eps: before.attack.eps } });
      get().set({ notice: null });
      writeHash(get().params);
    }
    // A cancelled load is the user's choice, not an error; the previous setup stays.
    if (!(e instanceof CancelledError) && !(e instanceof ReportedError)) get().set({ error: message(e), errorFix: null });
  }
}

/** A failure already shown (with its fix); callers up the chain only stop. */
class ReportedError extends Error {}

async function applySetup(before: Params, next: Params, modelChanged: boolean, dataChanged: boolean): Promise<void> {
  if (next.setup.backend !== before.setup.backend || next.setup.precision !== before.setup.precision) {
    const state = await getBridge().init(next.setup.backend as BackendRequest, next.setup.precision);
    get().set({ backend: state });
  }
  if (modelChanged || dataChanged) {
    const { controller, finish } = startMainJob('load', 'loading model and data');
    try {
      const r = await getBridge().configure(
        {
          model: modelChanged ? modelSource(next.setup.model) : undefined,
          data: dataChanged ? dataSource(next.setup.data) : undefined,
        },
        controller.signal,
      );
      get().set({ model: r.model, dataset: r.data, error: null });
      finish('done');
    } catch (e) {
      finish(e instanceof CancelledError ? 'cancelled' : 'error');
      get().setParams({ setup: { model: before.setup.model, data: before.setup.data } });
      writeHash(get().params);
      if (e instanceof CancelledError) throw e;
      const changed = modelChanged && !dataChanged ? 'model' : dataChanged && !modelChanged ? 'data' : null;
      reportLoadError(e, changed, changed === 'model' ? { modelId: next.setup.model } : { dataId: next.setup.data }, get().compareModel ? `${aboutModel('a', next.setup.model)}: ` : '');
      throw new ReportedError();
    }
    if (get().filesNeeded?.which === 'a') get().set({ filesNeeded: null });
  }
  if (next.lab.compare !== before.lab.compare || (modelChanged && next.lab.compare)) await applyCompare(next.lab.compare);
  if (modelChanged || dataChanged || next.setup.n !== before.setup.n || next.setup.seed !== before.setup.seed) await drawSample();
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
  // A URL that states ε reproduces it exactly; one that does not gets its data's threat model.
  const epsStated = new URLSearchParams(location.hash.replace(/^#/, '')).has(attackSchema.eps.url);
  get().set({ params, notice: errors.length ? `ignored in the URL: ${errors.join('; ')}` : null });
  try {
    await serialSetup(() => bootSetup(params));
    const loaded = get().dataset;
    const current = get().params;
    // Not when ε was changed while booting (that change states it).
    const rescaled = loaded && current.attack.eps === params.attack.eps ? rescaleEps({ shape: null, norm: params.attack.norm as Norm }, { shape: { height: loaded.shape[0], width: loaded.shape[1], channels: loaded.shape[2] }, norm: current.attack.norm as Norm }, current.attack.eps, epsStated) : null;
    if (rescaled) {
      get().setParams({ attack: { eps: rescaled.eps } });
      get().set({ notice: [get().notice, rescaled.notice].filter(Boolean).join('; ') });
      writeHash(get().params);
    }
    await runSlice(false);
    if (get().model) onParamsApplied(null, get().params);
  } catch (e) {
    get().set({ error: message(e) });
  }
}

async function bootSetup(params: Params): Promise<void> {
  const backendReady = getBridge().init(params.setup.backend as BackendRequest, params.setup.precision);
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
  // A link to the user's own model names its files but cannot carry them: load the data, keep
  // every parameter, and ask for the files (store.filesNeeded) instead of failing.
  const missingA = userModelName(params.setup.model);
  const { controller, finish } = startMainJob('load', missingA === null ? 'loading model and data' : 'loading data');
  try {
    const r = await getBridge().configure({ model: missingA === null ? modelSource(params.setup.model) : undefined, data: dataSource(params.setup.data) }, controller.signal);
    get().set({ model: r.model, dataset: r.data });
    finish('done');
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    throw e;
  }
  // Not `params`: a change made while booting (it waits in the setup chain) is already in the store.
  writeHash(get().params);
  if (missingA !== null) {
    get().set({ filesNeeded: { which: 'a', name: missingA } });
    return;
  }
  if (params.lab.compare) await applyCompare(params.lab.compare);
  await drawSample();
}

/**
 * Load or clear the compare model B; a failure clears the parameter and says why, naming B.
 * An error about B goes once B changes or compare is turned off. B from the user's own files
 * named by a link waits for those files (store.filesNeeded), keeping the parameter.
 */
async function applyCompare(id: string): Promise<void> {
  // A new B, or turning off a B that was loaded, retires its message; clearing the parameter
  // after B failed to load (below) must leave that failure on screen.
  const aboutB = isAboutB(get().error) && (id !== '' || get().compareModel) ? { error: null, errorFix: null } : {};
  if (get().filesNeeded?.which === 'b') get().set({ filesNeeded: null });
  const missingB = userModelName(id);
  if (missingB !== null && !userSources.compare) {
    get().set({ compareModel: null, analyses: {}, filesNeeded: { which: 'b', name: missingB }, ...aboutB });
    await getBridge().setCompare(null);
    return;
  }
  try {
    const summary = await getBridge().setCompare(id ? modelSource(id, 'b') : null);
    get().set({ compareModel: summary, analyses: {}, ...aboutB });
  } catch (e) {
    get().setParams({ lab: { compare: '' } });
    writeHash(get().params);
    get().set({ compareModel: null, error: `${aboutModel('b', id)}: ${message(e)}`, errorFix: null });
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

/**
 * Load a model from the user's files (model.json + shards, or .onnx + .data, several at once,
 * optionally with its class names as labels.txt or a JSON list)
 * as model A or, `which: 'b'`, as the compare model B. Resolves false when the files were
 * refused (the caller clears its file input so the refused choice does not linger).
 */
export async function loadModelFiles(files: File[], opts: { arrival?: FileArrival; which?: 'a' | 'b' } = {}): Promise<boolean> {
  const which = opts.which ?? 'a';
  // An .onnx and the files chosen with it other than class names or JSON (its external data)
  // go to the worker as Files, which the importer reads in pieces instead of the tab holding
  // each whole (146 MB for WRN-28-10).
  const onnxChosen = files.some((f) => /\.onnx$/i.test(f.name));
  const inPieces = (f: File) => onnxChosen && !/\.(json|txt)$/i.test(f.name);
  const payload = await Promise.all(files.map(async (f) => (inPieces(f) ? null : { name: f.name, bytes: await f.arrayBuffer() })));
  // The id names the model file, not a labels.json chosen with it.
  const modelFiles = files.filter((_, i) => !(payload[i] && isClassNamesFile(payload[i]!)));
  const id = `user:${(modelFiles.find((f) => /\.onnx$/i.test(f.name)) ?? modelFiles.find((f) => f.name.endsWith('.json')))?.name ?? 'model'}`;
  const source: ModelSource = {
    files: payload.filter((p): p is { name: string; bytes: ArrayBuffer } => p !== null),
    blobs: files.filter(inPieces).map((f) => ({ name: f.name, blob: f })),
    arrival: opts.arrival ?? 'picked',
  };
  const { controller, finish } = startMainJob('load', `loading ${plural(files.length, 'model file')}${which === 'b' ? ' as model B' : ''}`);
  try {
    await serialSetup(async () => {
      if (which === 'b') {
        const summary = await getBridge().setCompare(source, controller.signal);
        userSources.compare = source;
        get().set({ compareModel: summary, analyses: {}, filesNeeded: null, ...(isAboutB(get().error) ? { error: null, errorFix: null } : {}) });
        get().setParams({ lab: { compare: id } });
        writeHash(get().params);
        finish('done');
        return;
      }
      const r = await getBridge().configure({ model: source }, controller.signal);
      userSources.model = source;
      get().set({ model: r.model, dataset: r.data, userModelLabel: id, error: null, errorFix: null, cache: {}, shownKey: null, filesNeeded: null });
      get().setParams({ setup: { model: id } });
      writeHash(get().params);
      finish('done');
      await drawSample();
      // A compare model the link named waited for A (boot asks for A's files first).
      const compare = get().params.lab.compare;
      if (compare && !get().compareModel) await applyCompare(compare);
    });
    await runSlice(false);
    return true;
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    if (!(e instanceof CancelledError)) {
      const prefix = which === 'b' ? `${aboutModel('b', id)}: ` : get().compareModel ? `${aboutModel('a', id)}: ` : '';
      // B must fit A's data as it is: no fix that would swap the data under A.
      reportLoadError(e, which === 'a' ? 'model' : null, { modelId: id, modelFiles: source }, prefix);
    }
    return false;
  }
}

/**
 * Load the user's data: an image folder (class/image paths; optional labels.txt), an MNIST
 * IDX pair or CIFAR-10 batches. Resolves false when refused (see loadModelFiles).
 */
export async function loadImageFiles(files: File[], paths?: Map<File, string>, arrival: FileArrival = 'picked'): Promise<boolean> {
  const { controller, finish } = startMainJob('load', `decoding ${plural(files.length, 'file')}`);
  let source: DataSource | null = null;
  try {
    const rel = (f: File) => paths?.get(f) || (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    const labelsFile = files.find((f) => rel(f).split('/').pop() === 'labels.txt');
    // Paths relative to the chosen folder: drop its own name, keep class/image.
    // Hidden files (.DS_Store and the like) are not images.
    const images = files.filter((f) => f !== labelsFile && !f.name.startsWith('.'));
    // A folder keeps class/image; loose files (IDX pair, CIFAR batches) keep their name.
    const payload = await Promise.all(images.map(async (f) => ({ path: rel(f).split('/').slice(-2).join('/'), bytes: await f.arrayBuffer() })));
    const data: DataSource = { files: payload, labelsTxt: labelsFile ? await labelsFile.text() : undefined, arrival };
    source = data;
    await serialSetup(async () => {
      const shapeBefore = shapeOfData(get().params.setup.data);
      const r = await getBridge().configure({ data }, controller.signal);
      userSources.data = data;
      get().set({ model: r.model, dataset: r.data, error: null, errorFix: null });
      get().setParams({ setup: { data: 'user:images' } });
      // Your own images are a threat model of their own (their family and size): ε follows.
      const { norm, eps } = get().params.attack;
      const rescaled = r.data ? rescaleEps({ shape: shapeBefore, norm: norm as Norm }, { shape: { height: r.data.shape[0], width: r.data.shape[1], channels: r.data.shape[2] }, norm: norm as Norm }, eps, false) : null;
      if (rescaled) {
        get().setParams({ attack: { eps: rescaled.eps } });
        get().set({ notice: rescaled.notice });
      }
      writeHash(get().params);
      get().set({ cache: {}, shownKey: null });
      finish('done');
      await drawSample();
    });
    await runSlice(false);
    return true;
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    if (!(e instanceof CancelledError)) reportLoadError(e, 'data', { dataId: 'user:images', dataFiles: source ?? undefined });
    return false;
  }
}

/**
 * The button of a mismatch message: keep what the user just chose and load the built-in data
 * set (or zoo model) that fits it, both in one transactional load.
 */
export async function applyFix(): Promise<void> {
  const fix = get().errorFix;
  const pending = fixPending;
  if (!fix || !pending) return;
  fixPending = null;
  get().set({ error: null, errorFix: null });
  if (fix.kind === 'data') {
    if (pending.modelFiles) await loadPair(pending.modelId as string, pending.modelFiles, fix.dataId, dataSource(fix.dataId));
    else await applyParams({ setup: { model: pending.modelId, data: fix.dataId } });
  } else if (pending.dataFiles) await loadPair(fix.modelId, modelSource(fix.modelId), 'user:images', pending.dataFiles);
  else await applyParams({ setup: { model: fix.modelId, data: fix.dataId } });
}

/** Replace model A and the data together (a mismatch fix that involves the user's own files). */
async function loadPair(modelId: string, model: ModelSource, dataId: string, data: DataSource): Promise<void> {
  const { controller, finish } = startMainJob('load', 'loading model and data');
  try {
    await serialSetup(async () => {
      const r = await getBridge().configure({ model, data }, controller.signal);
      if (userModelName(modelId) !== null) userSources.model = model;
      if (dataId === 'user:images') userSources.data = data;
      get().set({ model: r.model, dataset: r.data, error: null, errorFix: null, cache: {}, shownKey: null, filesNeeded: null, ...(userModelName(modelId) !== null ? { userModelLabel: modelId } : {}) });
      get().setParams({ setup: { model: modelId, data: dataId } });
      writeHash(get().params);
      finish('done');
      // B was checked against the old data: load it again against the new (a misfit says so, naming B).
      if (get().params.lab.compare) await applyCompare(get().params.lab.compare);
      await drawSample();
    });
    await runSlice(false);
  } catch (e) {
    finish(e instanceof CancelledError ? 'cancelled' : 'error');
    if (!(e instanceof CancelledError)) reportLoadError(e, null, {});
  }
}
