/**
 * The Train view's side of the page (issue #25): its own small store and the bridge to
 * workers/train.worker.ts. Training runs there, on the lab's backend, so the page and the
 * lab's analyses never wait on it. Snapshots are the trained weights as model files: the lab
 * loads them as model A or B exactly like files the user picks, and can download them.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import type { BackendName } from '../core/backend';
import type { TrainValues } from '../core/train/definition';
import type { TrainLayerProbe } from '../core/train/layers';
import type { ProbeMetrics } from '../core/train/trainer';
import type { TrainEvent, TrainOutcome, TrainWorkerApi } from '../../workers/train.worker';
import { loadModelFiles } from './setup';
import { useLab } from './store';

export interface Snapshot {
  id: string;
  step: number;
  /** model.json, the weight shard and card.json, as `layerwise train` writes them. */
  files: Record<string, string | Uint8Array>;
}

export type TrainStatus = 'idle' | 'running' | 'paused' | 'done' | 'cancelled' | 'error';

export interface TrainState {
  status: TrainStatus;
  message: string;
  error: string | null;
  step: number;
  totalSteps: number;
  stepsPerSecond: number;
  loss: number | null;
  probes: ProbeMetrics[];
  /** Every layer's relative shift under FGSM at each probe, oldest first. */
  layerProbes: TrainLayerProbe[];
  snapshots: Snapshot[];
  /** The CLI command of the run (the same definition's flags). */
  command: string;
}

const IDLE: Omit<TrainState, 'snapshots'> = { status: 'idle', message: '', error: null, step: 0, totalSteps: 0, stepsPerSecond: 0, loss: null, probes: [], layerProbes: [], command: '' };

export const useTrain = create<TrainState>(() => ({ ...IDLE, snapshots: [] }));
const set = (patch: Partial<TrainState>) => useTrain.setState(patch);

/** The Train view's worker script: the view's own worker and the bench's throwaway ones are the same code. */
const spawnTrainWorker = () => new Worker(new URL('../../workers/train.worker.ts', import.meta.url), { type: 'module' });

let remote: Comlink.Remote<TrainWorkerApi> | null = null;
function trainWorker(): Comlink.Remote<TrainWorkerApi> {
  if (!remote) remote = Comlink.wrap<TrainWorkerApi>(spawnTrainWorker());
  return remote;
}

const firstLine = (e: unknown) => ((e as Error)?.message ?? String(e)).split('\n')[0];

function onEvent(e: TrainEvent): void {
  if (e.kind === 'status') set({ message: e.message });
  else if (e.kind === 'step') set({ step: e.report.step, totalSteps: e.totalSteps, stepsPerSecond: e.stepsPerSecond, loss: e.report.loss });
  else if (e.kind === 'probe') set({ probes: [...useTrain.getState().probes, e.metrics] });
  else set({ layerProbes: [...useTrain.getState().layerProbes, e.probe] });
}

/** Start a run with the Train view's values on the lab's backend. */
export async function startTraining(command: string): Promise<void> {
  const s = useTrain.getState();
  if (s.status === 'running' || s.status === 'paused') return;
  const lab = useLab.getState();
  if (!lab.backend) return; // the view's button waits for the lab's backend
  set({ ...IDLE, status: 'running', message: 'starting…', command });
  try {
    const outcome: TrainOutcome = await trainWorker().start(lab.params.train, lab.backend.active, document.baseURI, Comlink.proxy(onEvent));
    set({
      status: outcome.status,
      step: outcome.steps,
      totalSteps: outcome.totalSteps,
      message: outcome.status === 'done' ? `done: ${outcome.steps} steps in ${outcome.seconds.toFixed(1)} s on ${outcome.backend}` : `cancelled at step ${outcome.steps} of ${outcome.totalSteps}; the weights learned so far are kept (snapshot them)`,
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

/** Keep the current weights as a snapshot (every view can then use it as model A or B). */
export async function takeSnapshot(): Promise<Snapshot | null> {
  try {
    const { id, files } = await trainWorker().snapshot();
    const snap: Snapshot = { id, step: Number(/step(\d+)$/.exec(id)?.[1] ?? 0), files };
    set({ snapshots: [...useTrain.getState().snapshots.filter((s) => s.id !== snap.id), snap] });
    return snap;
  } catch (e) {
    set({ error: firstLine(e) });
    return null;
  }
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
}

export interface TrainBenchResult {
  events: TrainBenchEvent[];
  /** The worker's tfjs memory right after the last timed step (taken at its next yield). */
  memory: Awaited<ReturnType<TrainWorkerApi['memory']>> | null;
  error?: string;
}

/**
 * The training bench (bench/train.ts, issue #25): a run of `values` (maxSteps set) on `backend`
 * in a fresh Train-view worker, every event timestamped on arrival. With `metrics` false it ends
 * at the last step's event; with `metrics` true it waits for the run's final probe and layer
 * shift, the live metrics the view shows after every probe. The worker is then terminated, so
 * nothing of the run outlives it and the view's own worker is untouched.
 */
export function benchTraining(values: TrainValues, backend: BackendName, metrics: boolean): Promise<TrainBenchResult> {
  const worker = spawnTrainWorker();
  const api = Comlink.wrap<TrainWorkerApi>(worker);
  const events: TrainBenchEvent[] = [];
  return new Promise<TrainBenchResult>((resolve) => {
    let finished = false;
    const finish = async (error?: string) => {
      if (finished) return;
      finished = true;
      const memory = error ? null : await api.memory().catch(() => null);
      worker.terminate();
      resolve({ events, memory, error });
    };
    const onBenchEvent = (e: TrainEvent) => {
      const t = performance.now();
      const step = e.kind === 'step' ? e.report.step : e.kind === 'probe' ? e.metrics.step : e.kind === 'layers' ? e.probe.step : undefined;
      events.push({ t, kind: e.kind, step, message: e.kind === 'status' ? e.message : undefined });
      if (!metrics && e.kind === 'step' && e.report.step >= values.maxSteps) void finish();
      if (metrics && e.kind === 'layers' && e.probe.step >= values.maxSteps) void finish();
    };
    api.start(values, backend, document.baseURI, Comlink.proxy(onBenchEvent)).then(
      () => void finish(),
      (e) => void finish(firstLine(e)),
    );
  });
}
