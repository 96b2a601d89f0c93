/**
 * Running analyses from the lab: one path for every kind (core/analyses: the definitions the
 * CLI runs too). A request is keyed by exactly the parameters its definition reads; a result
 * already in the one result cache (resultCache.ts) shows at once, otherwise the worker runs it,
 * latest-wins in its lane (jobs.ts), partial results streaming into the store.
 */
import { findAnalysis, type AnalysisKind } from '../core/analyses';
import { analysisKey, cliCommand, type AnalysisSetup, type AnyAnalysis } from '../core/analyses/define';
import { ownValues } from '../core/analyses/lab';
import type { SliceAnalysisResult } from '../core/analysis/definition';
import type { AttackValues } from '../core/schema';
import { CancelledError, WorkerReplacedError } from './bridge';
import { claimLane, laneOwner, releaseLane, startMainJob, type Lane } from './jobs';
import { cachePut, cacheTouch } from './resultCache';
import { getBridge } from './runtime';
import { useLab, type AnalysisState, type Params, type SliceEntry, type StoredResult } from './store';

const get = () => useLab.getState();

/** The layers the analyses tap: the chosen ones the loaded model has ([] = its feature layers). */
export function chosenLayers(params: Params): string[] {
  const model = get().model;
  if (!model) return params.view.layers;
  const known = new Set(model.layers.map((l) => l.name));
  return params.view.layers.filter((l) => known.has(l));
}

export interface RunOptions {
  /** Run even if the result is cached or running. */
  force?: boolean;
  /** The store slot: a view may keep several results of one kind (t-SNE of A and of B). */
  slot?: string;
  /** Let the slot's running job finish and run only the latest request after it (t-SNE warm starts). */
  queue?: boolean;
  /** Values that differ from the lab's for this run (the slider's FGSM preview, a ladder ε). */
  attack?: Partial<AttackValues>;
  own?: Record<string, unknown>;
  /** What the worker gets beyond the parameters (the shown t-SNE layout for a warm start). */
  carry?: unknown;
  /** ε slices: a background ladder point that does not replace the slice on screen. */
  background?: boolean;
  /** ε slices: the FGSM preview while the slider is dragged. */
  preview?: boolean;
  /** Status-bar label of a main-lane job. */
  label?: string;
}

/** The setup and own values of an analysis at the lab's parameters, with a run's overrides. */
export function requestOf(def: AnyAnalysis, params: Params, opts: Pick<RunOptions, 'attack' | 'own'> = {}): { setup: AnalysisSetup; own: Record<string, unknown> } {
  return {
    setup: { setup: params.setup, compare: get().compareModel ? params.lab.compare : '', attack: { ...params.attack, ...opts.attack }, layers: chosenLayers(params) },
    own: { ...ownValues(params, def), ...opts.own },
  };
}

/** The exact `layerwise` command that reproduces an analysis at the lab's current values. */
export function commandFor(kind: AnalysisKind): string {
  const def = findAnalysis(kind) as AnyAnalysis;
  const { setup, own } = requestOf(def, get().params);
  return cliCommand(def, setup, own);
}

function put(slot: string, patch: Partial<AnalysisState>): void {
  const prev = get().analyses[slot];
  get().set({ analyses: { ...get().analyses, [slot]: { ...(prev ?? { key: '', status: 'running', fraction: 0, message: '', result: null }), ...patch } } });
}

function sliceViews(r: SliceAnalysisResult, key: string, ladderKey: string, preview: boolean): SliceEntry['slice'] {
  const view = (m: SliceAnalysisResult['a'], which: 'a' | 'b'): StoredResult => ({ ...m, key: which === 'a' ? key : `B|${key}`, ladderKey: which === 'a' ? ladderKey : `B|${ladderKey}`, eps: r.eps, preview });
  return { a: view(r.a, 'a'), b: r.b ? view(r.b, 'b') : null };
}

function store(def: AnyAnalysis, key: string, ladderKey: string, result: unknown, preview: boolean): void {
  const slice = def.kind === 'slice' ? sliceViews(result as SliceAnalysisResult, key, ladderKey, preview) : undefined;
  const eps = def.kind === 'slice' ? (result as SliceAnalysisResult).eps : undefined;
  get().set({ cache: cachePut(get().cache, { key, kind: def.kind, result, ladderKey, eps, preview, ...(slice ? { slice } : {}) }) });
}

/** The message the last failed slice put up (a later slice clears only that one). */
let lastSliceError: string | null = null;

/** Slot and request queued behind a running job of the same slot (queue mode). */
let queued: { slot: string; run: () => Promise<unknown> } | null = null;
const runningSlots = new Map<Lane, string>();

/**
 * Run an analysis at the lab's current parameters (with `opts` overrides) unless its result is
 * already cached or running; resolves with the result, or null when it was cancelled or failed.
 */
export async function runAnalysis(kind: AnalysisKind, opts: RunOptions = {}): Promise<unknown> {
  const def = findAnalysis(kind) as AnyAnalysis;
  const params = get().params;
  const request = requestOf(def, params, opts);
  const key = analysisKey(def, request.setup, request.own);
  const ladderKey = def.kind === 'slice' ? analysisKey(def, { ...request.setup, attack: { ...request.setup.attack, eps: -1 } }, request.own) : key;
  const slot = opts.slot ?? kind;
  const lane: Lane = kind === 'slice' ? 'main' : 'view';
  const cached = get().cache[key];
  if (cached && !opts.force) {
    get().set({ cache: cacheTouch(get().cache, key) });
    if (kind === 'slice') {
      if (!opts.background) {
        laneOwner('main')?.abort();
        get().set({ shownKey: key });
      }
    } else put(slot, { key, status: 'done', fraction: 1, message: '', result: cached.result, error: undefined, startedAt: undefined, finishedAt: undefined });
    return cached.result;
  }
  const have = get().analyses[slot];
  if (kind !== 'slice' && !opts.force && have && have.key === key && have.status === 'running') return null;
  // Queue mode: let the running job of this slot finish and run only the latest request after it.
  // Aborting could cost the worker (a GPU step that cannot yield within the grace period gets its
  // worker replaced) and with it the warm state.
  if (opts.queue && laneOwner(lane) && runningSlots.get(lane) === slot) {
    queued = { slot, run: () => runAnalysis(kind, { ...opts, queue: false }) };
    return null;
  }
  if (queued?.slot === slot) queued = null;
  const main = lane === 'main' ? startMainJob('slice', opts.label ?? `${opts.preview ? 'FGSM preview' : request.setup.attack.attack.toUpperCase()} at ε=${request.setup.attack.eps}`, !!opts.preview) : null;
  const controller = main?.controller ?? claimLane(lane);
  runningSlots.set(lane, slot);
  // Keep the previous result on screen while the new one streams in (warm starts animate from it).
  if (kind !== 'slice') put(slot, { key, status: 'running', fraction: 0, message: 'starting', error: undefined, startedAt: Date.now(), finishedAt: undefined });
  const mine = () => laneOwner(lane) === controller && (kind === 'slice' || get().analyses[slot]?.key === key);
  try {
    const result = await getBridge().analysis(kind, { ...request, carry: opts.carry }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (!mine()) return;
        if (main) main.onProgress(p);
        else put(slot, { fraction: p.fraction, message: p.message ?? '' });
      },
      onPartial: (r) => mine() && kind !== 'slice' && put(slot, { result: r }),
    });
    store(def, key, ladderKey, result, !!opts.preview);
    if (kind === 'slice') {
      // A slice that works retires the message of a slice that failed, not a load error (B's).
      if (!opts.background) get().set({ shownKey: key, ...(get().error !== null && get().error === lastSliceError ? { error: null } : {}) });
      main?.finish('done');
    } else if (mine()) put(slot, { status: 'done', fraction: 1, message: '', result, finishedAt: Date.now() });
    return result;
  } catch (e) {
    const cancelled = e instanceof CancelledError || e instanceof WorkerReplacedError;
    if (main) {
      main.finish(cancelled ? 'cancelled' : 'error');
      // The device was lost under this job: run it again on the fresh worker.
      if (e instanceof WorkerReplacedError && e.message.includes('WebGPU device lost')) return runAnalysis(kind, opts);
      if (!cancelled) {
        lastSliceError = ((e as Error).message ?? String(e)).split('\n')[0];
        get().set({ error: lastSliceError });
      }
    } else if (mine()) {
      if (cancelled) put(slot, { status: 'cancelled' });
      else put(slot, { status: 'error', error: ((e as Error).message ?? String(e)).split('\n')[0] });
    }
    return null;
  } finally {
    if (!main) releaseLane(lane, controller);
    if (laneOwner(lane) === undefined || laneOwner(lane) === controller) runningSlots.delete(lane);
    const next = queued;
    if (next && next.slot === slot && !laneOwner(lane)) {
      queued = null;
      void next.run();
    }
  }
}

/** Cancel the open view's analysis. */
export function cancelAnalysis(): void {
  laneOwner('view')?.abort();
}

/** The streamed or finished result in a slot, typed by the caller. */
export function resultOf<R>(slot: string): R | null {
  return (get().analyses[slot]?.result as R) ?? null;
}

/**
 * How long the analysis would take at the lab's current values (seconds), from the worker's
 * measured throughput of these models on this backend (core/analyses/estimate.ts), counting
 * attacks the worker already holds as free; null when not known (no model yet, or the worker
 * stayed busy, which `busy` says so the view asks again). Asked afresh each time: a finished
 * view can make another one cheaper.
 */
export async function estimateOf(kind: AnalysisKind): Promise<{ key: string; seconds: number | null; busy: boolean }> {
  const def = findAnalysis(kind) as AnyAnalysis;
  const request = requestOf(def, get().params);
  const key = analysisKey(def, request.setup, request.own);
  const r = await getBridge().estimate(kind, request).catch(() => null);
  if (r && 'busy' in r) return { key, seconds: null, busy: true };
  return { key, seconds: r?.seconds ?? null, busy: false };
}
