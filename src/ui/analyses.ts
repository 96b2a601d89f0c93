/**
 * Analysis views' jobs (robustness curve, t-SNE, …): one running analysis at a time,
 * latest-wins (a new request aborts the previous one), results kept per view with the key
 * of the parameters they belong to, partial results streamed into the store.
 */
import type { AnalysisKind, AnalysisParams, AnalysisResult } from '../../workers/lab.worker';
import { CancelledError, WorkerReplacedError } from './bridge';
import { getBridge } from './controller';
import { useLab, type AnalysisState } from './store';

let running: AbortController | null = null;
/** The slot of the running job, and a request queued behind it (see `queue`). */
let runningSlot: string | null = null;
let queued: (() => Promise<void>) | null = null;
const get = () => useLab.getState();

function put(kind: string, patch: Partial<AnalysisState>): void {
  const prev = get().analyses[kind];
  get().set({ analyses: { ...get().analyses, [kind]: { ...(prev ?? { key: '', status: 'running', fraction: 0, message: '', result: null }), ...patch } } });
}

/** Run an analysis unless its result for `key` is already there. */
export async function runAnalysis<K extends AnalysisKind>(kind: K, key: string, params: AnalysisParams<K>, opts: { force?: boolean; slot?: string; queue?: boolean } = {}): Promise<void> {
  const job = kind;
  // The store slot: a view may keep several results of one job kind (t-SNE of A and of B).
  const slot = opts.slot ?? kind;
  const have = get().analyses[slot];
  if (!opts.force && have && have.key === key && (have.status === 'done' || have.status === 'running')) return;
  // Queue mode (t-SNE warm starts from the ε slider): let the running job of this slot finish
  // and run only the latest request after it. Aborting could cost the worker (a GPU step that
  // cannot yield within the grace period gets its worker replaced) and with it the warm state.
  if (opts.queue && running && runningSlot === slot) {
    queued = () => runAnalysis(kind, key, params, { ...opts, queue: false });
    return;
  }
  queued = null;
  running?.abort();
  const controller = new AbortController();
  running = controller;
  runningSlot = slot;
  // Keep the previous result on screen while the new one streams in (warm starts animate from it).
  put(slot, { key, status: 'running', fraction: 0, message: 'starting', error: undefined });
  const mine = () => get().analyses[slot]?.key === key && running === controller;
  try {
    const result = await getBridge().analysis(job, get().params.seed, params, {
      signal: controller.signal,
      onProgress: (p) => mine() && put(slot, { fraction: p.fraction, message: p.message ?? '' }),
      onPartial: (r) => mine() && put(slot, { result: r }),
    });
    if (mine()) put(slot, { status: 'done', fraction: 1, message: '', result });
  } catch (e) {
    if (!mine()) return;
    if (e instanceof CancelledError || e instanceof WorkerReplacedError) put(slot, { status: 'cancelled' });
    else put(slot, { status: 'error', error: ((e as Error).message ?? String(e)).split('\n')[0] });
  } finally {
    if (running === controller) {
      running = null;
      runningSlot = null;
      const next = queued as (() => Promise<void>) | null;
      queued = null;
      if (next) void next();
    }
  }
}

export function cancelAnalysis(): void {
  running?.abort();
}

export function resultOf<K extends AnalysisKind>(kind: K): AnalysisResult<K> | null {
  return (get().analyses[kind]?.result as AnalysisResult<K>) ?? null;
}
