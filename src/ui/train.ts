/**
 * The Train view's side of the page (issue #25): its own small store and the bridge to
 * workers/train.worker.ts. Training runs there, on the lab's backend, so the page and the
 * lab's analyses never wait on it. Snapshots are the trained weights as model files: the lab
 * loads them as model A or B exactly like files the user picks, and can download them.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import type { BackendName } from '../core/backend';
import { recipeName, secondRunValues, type TrainValues } from '../core/train/definition';
import type { TrainMftmaProbe, TrainTsneProbe } from '../core/train/embedding';
import type { TrainLayerProbe } from '../core/train/layers';
import type { TrainLogitProbe } from '../core/train/logits';
import type { LiveBudget } from '../core/train/pair';
import type { ProbeMetrics } from '../core/train/trainer';
import type { SnapshotFiles, TrainEvent, TrainOutcome, TrainWorkerApi } from '../../workers/train.worker';
import { loadModelFiles } from './setup';
import { useLab } from './store';

export interface Snapshot {
  id: string;
  /** 0 = run A, 1 = run B. */
  run: number;
  step: number;
  /** The epoch it closes (automatic snapshot), or null (taken on click). */
  epoch: number | null;
  /** model.json, the weight shard and card.json, as `layerwise train` writes them. */
  files: Record<string, string | Uint8Array>;
}

export type TrainStatus = 'idle' | 'running' | 'paused' | 'done' | 'cancelled' | 'error';

/** One run's live state: A, or the second run B trained side by side. */
export interface RunState {
  /** The recipe's name in legends ("small standard", "small pgd L∞ ε=0.3"). */
  name: string;
  step: number;
  totalSteps: number;
  stepsPerSecond: number;
  loss: number | null;
  probes: ProbeMetrics[];
  /** Every layer's relative shift under FGSM at each probe, oldest first. */
  layerProbes: TrainLayerProbe[];
  /** Clean logits of the probe images at each probe (the max-logit and gap ridgelines), oldest first. */
  logitProbes: TrainLogitProbe[];
  /** The latest t-SNE layout of the chosen layer (each warm-started from the one before; the scatter animates between them). */
  tsne: TrainTsneProbe | null;
  /** t-SNE layouts received so far. */
  tsneCount: number;
  /** MFTMA capacity of the chosen layer at each probe, oldest first. */
  mftmaProbes: TrainMftmaProbe[];
}

export interface TrainState {
  status: TrainStatus;
  message: string;
  error: string | null;
  runs: RunState[];
  /** The live metrics' share of the run time so far (the throttle's account). */
  budget: LiveBudget | null;
  snapshots: Snapshot[];
  /** The CLI command of the run (the same definition's flags). */
  command: string;
}

/**
 * Automatic (epoch-end) snapshots the page keeps: 64 MB of weights (a medium CNN's epoch is
 * about 10 MB, an MLP's or small CNN's about 1 MB), the oldest epoch dropped first. Snapshots
 * taken on click are never dropped.
 */
export const AUTO_SNAPSHOT_BYTES = 64 * 2 ** 20;
/** Logit probes kept per run (500 × 10 logits = 20 kB each): past this, every other old one is dropped; the ridgeline shows ten anyway. */
export const LOGIT_PROBES_KEPT = 200;

const IDLE: Omit<TrainState, 'snapshots'> = { status: 'idle', message: '', error: null, runs: [], budget: null, command: '' };

export const useTrain = create<TrainState>(() => ({ ...IDLE, snapshots: [] }));
const set = (patch: Partial<TrainState>) => useTrain.setState(patch);

/** The Train view's worker script: the view's own worker and the bench's throwaway ones are the same code. */
const spawnTrainWorker = () => new Worker(new URL('../../workers/train.worker.ts', import.meta.url), { type: 'module' });

let remote: Comlink.Remote<TrainWorkerApi> | null = null;
export function trainWorker(): Comlink.Remote<TrainWorkerApi> {
  if (!remote) remote = Comlink.wrap<TrainWorkerApi>(spawnTrainWorker());
  return remote;
}

const firstLine = (e: unknown) => ((e as Error)?.message ?? String(e)).split('\n')[0];

const bytesOf = (s: Snapshot) => Object.values(s.files).reduce((n, f) => n + (typeof f === 'string' ? f.length : f.byteLength), 0);

/** Add `snap` (replacing one of the same id), then drop the oldest automatic snapshots until they fit `cap` bytes. */
export function keepSnapshots(list: readonly Snapshot[], snap: Snapshot, cap = AUTO_SNAPSHOT_BYTES): Snapshot[] {
  const out = [...list.filter((s) => s.id !== snap.id), snap];
  let auto = out.filter((s) => s.epoch !== null).reduce((n, s) => n + bytesOf(s), 0);
  while (auto > cap) {
    const oldest = out.findIndex((s) => s.epoch !== null && s !== snap);
    if (oldest < 0) break;
    auto -= bytesOf(out[oldest]);
    out.splice(oldest, 1);
  }
  return out;
}

/** Append `item`, thinning the older half to every other item once `max` is reached. */
export function appendThinned<T>(list: readonly T[], item: T, max: number): T[] {
  if (list.length < max) return [...list, item];
  const half = Math.floor(list.length / 2);
  return [...list.slice(0, half).filter((_, i) => i % 2 === 0), ...list.slice(half), item];
}

function patchRun(run: number, patch: (r: RunState) => Partial<RunState>): void {
  const runs = useTrain.getState().runs.slice();
  if (!runs[run]) return;
  runs[run] = { ...runs[run], ...patch(runs[run]) };
  set({ runs });
}

function fromWorker(s: SnapshotFiles): Snapshot {
  return { id: s.id, run: s.run, step: s.step, epoch: s.epoch, files: s.files };
}

type ChartEvent = Extract<TrainEvent, { kind: 'probe' | 'layers' | 'logits' | 'tsne' | 'mftma' }>;

function withChartEvent(r: RunState, e: ChartEvent): RunState {
  if (e.kind === 'probe') return { ...r, probes: [...r.probes, e.metrics] };
  if (e.kind === 'layers') return { ...r, layerProbes: [...r.layerProbes, e.probe] };
  if (e.kind === 'tsne') return { ...r, tsne: e.probe, tsneCount: r.tsneCount + 1 };
  if (e.kind === 'mftma') return { ...r, mftmaProbes: [...r.mftmaProbes, e.probe] };
  return { ...r, logitProbes: appendThinned(r.logitProbes, e.probe, LOGIT_PROBES_KEPT) };
}

/**
 * A live round's chart events (probe, layer shift, logits, t-SNE and MFTMA of each run), held until the round
 * ends (its budget event, or the run's end) and then applied in one store update: the page
 * redraws its charts once per round instead of once per event, and not while the worker still
 * computes the round (the page's drawing shares the cores with training; issue #25's ≥ 80 %).
 */
let pendingCharts: ChartEvent[] = [];
function flushCharts(): void {
  if (!pendingCharts.length) return;
  const runs = useTrain.getState().runs.slice();
  for (const e of pendingCharts) if (runs[e.run]) runs[e.run] = withChartEvent(runs[e.run], e);
  pendingCharts = [];
  set({ runs });
}

/**
 * The runs as the charts read them: the same array as long as no run's name, probes, layer
 * probes, logit probes, t-SNE layout or MFTMA probes changed, so the step events (a few a second) re-render the status
 * line without recomputing or redrawing a chart.
 */
let charted: { runs: RunState[]; parts: unknown[] } | null = null;
export function chartRuns(runs: RunState[]): RunState[] {
  const parts = runs.flatMap((r) => [r.name, r.probes, r.layerProbes, r.logitProbes, r.tsne, r.mftmaProbes]);
  if (charted && charted.parts.length === parts.length && charted.parts.every((p, i) => p === parts[i])) return charted.runs;
  charted = { runs, parts };
  return runs;
}

function onEvent(e: TrainEvent): void {
  if (e.kind === 'status') set({ message: e.message });
  else if (e.kind === 'step') patchRun(e.run, () => ({ step: e.report.step, totalSteps: e.totalSteps, stepsPerSecond: e.stepsPerSecond, loss: e.report.loss }));
  else if (e.kind === 'probe' || e.kind === 'layers' || e.kind === 'logits' || e.kind === 'tsne' || e.kind === 'mftma') pendingCharts.push(e);
  else if (e.kind === 'budget') {
    flushCharts();
    set({ budget: e.budget });
  } else set({ snapshots: keepSnapshots(useTrain.getState().snapshots, fromWorker(e.snapshot)) });
}

/** The recipes of the Train view: run A, and run B when the second run is on. */
export function trainRecipes(): TrainValues[] {
  const { train, trainB } = useLab.getState().params;
  return trainB.on ? [train, secondRunValues(train, trainB)] : [train];
}

/** Start a run (or two side by side) with the Train view's values on the lab's backend. */
export async function startTraining(command: string): Promise<void> {
  const s = useTrain.getState();
  if (s.status === 'running' || s.status === 'paused') return;
  const lab = useLab.getState();
  if (!lab.backend) return; // the view's button waits for the lab's backend
  const recipes = trainRecipes();
  const runs: RunState[] = recipes.map((r) => ({ name: recipeName(r), step: 0, totalSteps: 0, stepsPerSecond: 0, loss: null, probes: [], layerProbes: [], logitProbes: [], tsne: null, tsneCount: 0, mftmaProbes: [] }));
  pendingCharts = [];
  set({ ...IDLE, runs, status: 'running', message: 'starting…', command });
  try {
    const outcome: TrainOutcome = await trainWorker().start(recipes[0], recipes[1] ?? null, lab.backend.active, document.baseURI, Comlink.proxy(onEvent)).finally(flushCharts);
    patchRun(0, () => ({ step: outcome.steps, totalSteps: outcome.totalSteps }));
    set({
      status: outcome.status,
      budget: outcome.budget ?? useTrain.getState().budget,
      message: outcome.status === 'done' ? `done: ${outcome.steps} steps${recipes.length > 1 ? ' per run' : ''} in ${outcome.seconds.toFixed(1)} s on ${outcome.backend}` : `cancelled at step ${outcome.steps} of ${outcome.totalSteps}; the weights learned so far are kept (snapshot them)`,
    });
  } catch (e) {
    set({ status: 'error', error: firstLine(e), message: '' });
  }
}

export function pauseTraining(): void {
  if (useTrain.getState().status !== 'running') return;
  set({ status: 'paused' });
  void trainWorker().pause();
}
export function resumeTraining(): void {
  if (useTrain.getState().status !== 'paused') return;
  set({ status: 'running' });
  void trainWorker().resume();
}
export function stepTraining(): void {
  if (useTrain.getState().status === 'paused') void trainWorker().step();
}
export function cancelTraining(): void {
  void trainWorker().cancel();
}

/** Keep run `run`'s current weights as a snapshot (every view can then use it as model A or B). */
export async function takeSnapshot(run = 0): Promise<Snapshot | null> {
  try {
    const snap = fromWorker(await trainWorker().snapshot(run));
    set({ snapshots: keepSnapshots(useTrain.getState().snapshots, snap) });
    return snap;
  } catch (e) {
    set({ error: firstLine(e) });
    return null;
  }
}

/** Snapshot every run (the view's Snapshot button: with two runs, both). */
export async function takeSnapshots(): Promise<void> {
  for (let run = 0; run < useTrain.getState().runs.length; run++) await takeSnapshot(run);
}

/** The snapshot's model.json (named after it, so the lab's menus say which one) and its shard, as picked files. */
function snapshotFiles(snap: Snapshot): File[] {
  const out: File[] = [];
  for (const [name, contents] of Object.entries(snap.files)) {
    if (name === 'card.json') continue; // the card describes the model; the loader reads model.json and the shard
    out.push(new File([contents as BlobPart], name === 'model.json' ? `${snap.id}.json` : name));
  }
  return out;
}

/** Load a snapshot as model A or B, through the same path as files the user picks. */
export function loadSnapshotAs(snap: Snapshot, which: 'a' | 'b'): Promise<boolean> {
  return loadModelFiles(snapshotFiles(snap), { which });
}

/** Download a snapshot's files (model.json, shard, card.json), loadable by the lab and `layerwise --model`. */
export function downloadSnapshot(snap: Snapshot): void {
  for (const [name, contents] of Object.entries(snap.files)) {
    const url = URL.createObjectURL(new Blob([contents as BlobPart]));
    const a = document.createElement('a');
    a.href = url;
    a.download = name; // the layout `layerwise train --out DIR` writes: put them in one folder
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

/**
 * A snapshot of the current weights and the SHA-256 of its weight shard, with the command that
 * reproduces it (the e2e compares the digest with `layerwise train`'s shard: the same numbers
 * in the lab and the CLI).
 */
export async function snapshotDigest(): Promise<{ id: string; step: number; sha256: string; card: string } | null> {
  const snap = await takeSnapshot();
  if (!snap) return null;
  const shard = Object.entries(snap.files).find(([name]) => name.endsWith('.bin'))?.[1] as Uint8Array;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', shard as BufferSource));
  return { id: snap.id, step: snap.step, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), card: String(snap.files['card.json']) };
}

/** One event of a bench run as the page received it: page time in ms, the step it reports. */
export interface TrainBenchEvent {
  t: number;
  kind: TrainEvent['kind'];
  step?: number;
  message?: string;
  /** The controller's account, on budget events (the live bench reads the last one). */
  budget?: LiveBudget;
}

export interface TrainBenchResult {
  events: TrainBenchEvent[];
  /** The worker's tfjs memory right after the last timed step (taken at its next yield). */
  memory: Awaited<ReturnType<TrainWorkerApi['memory']>> | null;
  /** The worker's outcome (null when the bench ended at the last step's event, before it). */
  outcome: TrainOutcome | null;
  error?: string;
}

export interface TrainBenchOptions {
  /** Wait for the run's final probe and live analyses (else the bench ends at the last step's event). */
  metrics: boolean;
  /**
   * Feed the events to the Train view's store as a real run does, so the page draws its charts
   * while the worker trains (the live-metrics bench: the page's drawing shares the cores).
   */
  view?: boolean;
}

/**
 * The training bench (bench/train.ts, issue #25): a run of `values` (maxSteps set) on `backend`
 * in a fresh Train-view worker, every event timestamped on arrival. With `metrics` false it ends
 * at the last step's event; with `metrics` true it waits for the run's end, after its final probe
 * and live analyses (what the view shows after every probe). The worker is then terminated, so
 * nothing of the run outlives it and the view's own worker is untouched.
 */
export function benchTraining(values: TrainValues, backend: BackendName, opts: TrainBenchOptions | boolean): Promise<TrainBenchResult> {
  const { metrics, view = false } = typeof opts === 'boolean' ? { metrics: opts } : opts;
  const worker = spawnTrainWorker();
  const api = Comlink.wrap<TrainWorkerApi>(worker);
  const events: TrainBenchEvent[] = [];
  let outcome: TrainOutcome | null = null;
  if (view) pendingCharts = [];
  if (view) set({ ...IDLE, runs: [{ name: recipeName(values), step: 0, totalSteps: 0, stepsPerSecond: 0, loss: null, probes: [], layerProbes: [], logitProbes: [], tsne: null, tsneCount: 0, mftmaProbes: [] }], status: 'running', message: 'starting…' });
  return new Promise<TrainBenchResult>((resolve) => {
    let finished = false;
    const finish = async (error?: string) => {
      if (finished) return;
      finished = true;
      const memory = error ? null : await api.memory().catch(() => null);
      worker.terminate();
      if (view) {
        flushCharts();
        set({ status: error ? 'error' : 'done', error: error ?? null });
      }
      resolve({ events, memory, outcome, error });
    };
    const onBenchEvent = (e: TrainEvent) => {
      const t = performance.now();
      const step = e.kind === 'step' ? e.report.step : e.kind === 'probe' ? e.metrics.step : e.kind === 'layers' ? e.probe.step : e.kind === 'logits' ? e.probe.step : undefined;
      events.push({ t, kind: e.kind, step, message: e.kind === 'status' ? e.message : undefined, budget: e.kind === 'budget' ? e.budget : undefined });
      if (view) onEvent(e);
      if (!metrics && e.kind === 'step' && e.report.step >= values.maxSteps) void finish();
    };
    // With metrics, the run's end: its final live round is done and its last budget event sent.
    api.start(values, null, backend, document.baseURI, Comlink.proxy(onBenchEvent)).then(
      (o) => {
        outcome = o;
        void finish();
      },
      (e) => void finish(firstLine(e)),
    );
  });
}
