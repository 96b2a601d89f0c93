/**
 * Main-thread side of the compute worker (after Squoosh's worker bridge): every call is
 * async, long jobs carry an AbortSignal; cancelling asks the worker to stop and, if the
 * job has not settled within CANCEL_GRACE_MS (a kernel that cannot yield), terminates
 * the worker and starts a fresh one, replaying the setup (backend, model, data, sample)
 * so the lab keeps working. The same respawn handles a lost WebGPU device.
 *
 * Setup calls (load a model or data, draw a sample) cannot be stopped inside the worker, so
 * they get a deadline and an AbortSignal here: when either fires, the worker is replaced and
 * the last setup that succeeded is replayed; the call rejects with the reason. A worker that
 * reports an error and then stops answering is replaced too, and a replay that fails is
 * reported (onReplayFailed), never swallowed.
 */
import * as Comlink from 'comlink';
import type { BackendRequest, BackendState } from '../core/backend';
import type { Precision } from '../core/precision';
import type { JobProgress } from '../core/types';
import type { AnalysisKind, AnalysisRequest, DataSource, DatasetSummary, LabWorkerApi, ModelSource, ModelSummary, SampleData } from '../../workers/lab.worker';

/** How long a cancelled job may take to notice before its worker is replaced. */
export const CANCEL_GRACE_MS = 200;
/**
 * Longest a setup call may take before the worker is considered stuck: loading the largest zoo
 * model and CIFAR-10 and drawing a 1000-image sample takes seconds, so two minutes is a hang.
 */
export const SETUP_DEADLINE_MS = 120_000;
/** After the worker reports an uncaught error, how long it has to answer a ping before it is replaced. */
export const PING_GRACE_MS = 2_000;

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

interface Setup {
  backend: BackendRequest;
  precision: Precision;
  model?: ModelSource;
  data?: DataSource;
  compare?: ModelSource | null;
  sample?: { n: number; seed: number };
}

/** A job whose worker was replaced under it (device loss, forced cancel). */
export class WorkerReplacedError extends Error {
  constructor(reason: string) {
    super(`compute worker restarted: ${reason}`);
    this.name = 'WorkerReplacedError';
  }
}

export interface BridgeEvents {
  onDeviceLost(reason: string): void;
  onRespawn(reason: string): void;
  /** The replacement worker could not be brought back to the last good setup. */
  onReplayFailed?(reason: string): void;
}

/** The parts of a Worker the bridge uses (tests pass a MessagePort-backed stand-in). */
export type WorkerLike = Pick<Worker, 'postMessage' | 'addEventListener' | 'removeEventListener' | 'terminate'> & {
  onerror: ((e: ErrorEvent) => unknown) | null;
  onmessageerror: ((e: MessageEvent) => unknown) | null;
};

export interface BridgeOptions {
  createWorker?: () => WorkerLike;
  setupDeadlineMs?: number;
}

const defaultWorker = (): WorkerLike => new Worker(new URL('../../workers/lab.worker.ts', import.meta.url), { type: 'module' });

let jobCounter = 0;
const REPLACED = Symbol('worker replaced');

export class LabBridge {
  private worker!: WorkerLike;
  private api!: Comlink.Remote<LabWorkerApi>;
  private setup: Setup = { backend: 'auto', precision: 'float32' };
  /** Whether the current worker has started a backend (its WebGL precision is then fixed). */
  private started = false;
  private events: BridgeEvents;
  /** Resolves when the current worker has replayed its setup. */
  private ready: Promise<unknown> = Promise.resolve();
  /** Rejecters of jobs in flight: a terminated worker never answers them. */
  private pending = new Set<(e: Error) => void>();

  private readonly createWorker: () => WorkerLike;
  private readonly setupDeadlineMs: number;

  constructor(events: BridgeEvents, opts: BridgeOptions = {}) {
    this.events = events;
    this.createWorker = opts.createWorker ?? defaultWorker;
    this.setupDeadlineMs = opts.setupDeadlineMs ?? SETUP_DEADLINE_MS;
    this.spawn();
  }

  private spawn() {
    this.started = false;
    const worker = this.createWorker();
    this.worker = worker;
    this.api = Comlink.wrap<LabWorkerApi>(worker as unknown as Comlink.Endpoint);
    // An uncaught error need not kill a worker: replace it only if it then stops answering.
    worker.onerror = (e) => {
      e.preventDefault?.();
      void this.checkAlive(worker, `the compute worker failed (${e.message || 'unknown error'})`);
    };
    worker.onmessageerror = () => void this.checkAlive(worker, 'a message from the compute worker could not be read');
    void this.api.onDeviceLost(
      Comlink.proxy((reason: string) => {
        this.events.onDeviceLost(reason);
        void this.respawn(`WebGPU device lost: ${reason}`);
      }),
    );
  }

  /** Ping `worker` (if still current); replace it when it does not answer within PING_GRACE_MS. */
  private async checkAlive(worker: WorkerLike, reason: string): Promise<void> {
    if (worker !== this.worker) return;
    const alive = await Promise.race([this.api.memory().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), PING_GRACE_MS))]);
    if (!alive && worker === this.worker) await this.respawn(`${reason}; it stopped answering`);
  }

  /** Replace the worker and bring the new one to the last good setup; a failed replay is reported. */
  async respawn(reason: string): Promise<void> {
    this.worker.terminate();
    for (const reject of this.pending) reject(new WorkerReplacedError(reason));
    this.pending.clear();
    this.spawn();
    const s = this.setup;
    const api = this.api;
    const replay = (async () => {
      await this.initOn(api, s.backend, s.precision);
      if (s.model || s.data) await api.configure({ model: s.model, data: s.data });
      if (s.compare) await api.setCompare(s.compare);
      if (s.sample) await api.drawSample(s.sample.n, s.sample.seed);
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${this.setupDeadlineMs / 1000} s`)), this.setupDeadlineMs)));
    this.ready = Promise.race([replay, deadline])
      .catch((e: Error) => this.events.onReplayFailed?.(`compute worker restarted (${reason}) but restoring the setup failed: ${(e?.message ?? String(e)).split('\n')[0]}`))
      .finally(() => clearTimeout(timer));
    this.events.onRespawn(reason);
    await this.ready;
  }

  /** The 'auto' decision of this session: replacement workers take it over instead of measuring again. */
  private autoChoice: BackendState | null = null;

  private async initOn(api: Comlink.Remote<LabWorkerApi>, backend: BackendRequest, precision: Precision): Promise<BackendState> {
    const state = await api.init(backend, backend === 'auto' ? this.autoChoice : null, precision);
    if (api === this.api) this.started = true;
    if (state?.requested === 'auto') this.autoChoice = state;
    return state;
  }

  async init(backend: BackendRequest, precision: Precision = 'float32'): Promise<BackendState> {
    await this.ready;
    const backendSwitch = this.setup.backend !== backend && Boolean(this.setup.model || this.setup.data);
    // tfjs reads WebGL's float16 flag once, when WebGL starts: another precision needs a fresh worker.
    const precisionSwitch = this.setup.precision !== precision && this.started;
    if (backendSwitch || precisionSwitch) {
      // A fresh worker also avoids mixing backends' tensors on a loaded lab.
      this.setup.backend = backend;
      this.setup.precision = precision;
      this.worker.terminate();
      for (const reject of this.pending) reject(new WorkerReplacedError(backendSwitch ? `backend switched to ${backend}` : `precision switched to ${precision}`));
      this.pending.clear();
      this.spawn();
      const state = await this.initOn(this.api, backend, precision);
      if (this.setup.model || this.setup.data) await this.api.configure({ model: this.setup.model, data: this.setup.data });
      if (this.setup.compare) await this.api.setCompare(this.setup.compare);
      if (this.setup.sample) await this.api.drawSample(this.setup.sample.n, this.setup.sample.seed);
      return state;
    }
    this.setup.backend = backend;
    this.setup.precision = precision;
    return this.initOn(this.api, backend, precision);
  }

  /**
   * A setup call with a deadline and an abort. The worker cannot stop a load half-way, so when
   * the deadline passes or `signal` aborts, the worker is replaced (its replay restores the last
   * good setup, which does not include this call) and the call rejects with the reason.
   *
   * A replacement for another cause (a cancelled job, a lost device) also kills the call, which
   * the replay does not hold yet; it is then made again on the new worker, once.
   */
  private async setupCall<T>(label: string, call: (api: Comlink.Remote<LabWorkerApi>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.ready;
      if (signal?.aborted) throw new CancelledError();
      const outcome = await new Promise<{ value: T } | { error: unknown } | typeof REPLACED>((resolve) => {
        let done = false;
        const finish = (o: { value: T } | { error: unknown } | typeof REPLACED) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.pending.delete(onReplaced);
          signal?.removeEventListener('abort', onAbort);
          resolve(o);
        };
        const onReplaced = () => finish(REPLACED);
        const onAbort = () => {
          finish({ error: new CancelledError() });
          void this.respawn(`${label} was cancelled`);
        };
        const timer = setTimeout(() => {
          const s = this.setupDeadlineMs / 1000;
          finish({ error: new Error(`${label} did not finish within ${s} s; the compute worker was restarted with the previous setup`) });
          void this.respawn(`${label} did not finish within ${s} s`);
        }, this.setupDeadlineMs);
        this.pending.add(onReplaced);
        signal?.addEventListener('abort', onAbort, { once: true });
        call(this.api).then(
          (value) => finish({ value }),
          (error: unknown) => finish({ error }),
        );
      });
      if (outcome === REPLACED) {
        if (attempt >= 1) throw new WorkerReplacedError(`${label} was interrupted twice`);
        continue;
      }
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    }
  }

  async configure(next: { model?: ModelSource; data?: DataSource }, signal?: AbortSignal): Promise<{ model: ModelSummary | null; data: DatasetSummary | null }> {
    const what = next.model && next.data ? 'loading the model and data' : next.model ? 'loading the model' : 'loading the data';
    const result = await this.setupCall(what, (api) => api.configure(next), signal);
    if (next.model) this.setup.model = next.model;
    if (next.data) {
      this.setup.data = next.data;
      this.setup.sample = undefined;
    }
    return result;
  }

  async drawSample(n: number, seed: number, signal?: AbortSignal): Promise<SampleData> {
    const s = await this.setupCall('drawing the sample', (api) => api.drawSample(n, seed), signal);
    this.setup.sample = { n, seed };
    return s;
  }

  /** Load or clear (null) the compare model B. */
  async setCompare(source: ModelSource | null, signal?: AbortSignal): Promise<ModelSummary | null> {
    const r = await this.setupCall('loading the compare model', (api) => api.setCompare(source), signal);
    this.setup.compare = source;
    return r;
  }

  /** Logits of a few images on model A or B (row-major, n × classes). */
  async logitsOf(images: Float32Array, which: 'a' | 'b' = 'a'): Promise<Float32Array> {
    await this.ready;
    return this.api.logitsOf(images, which);
  }

  /** How long an analysis would take on the loaded models (busy: ask again; null: not known). */
  async estimate(kind: AnalysisKind, request: AnalysisRequest): Promise<{ seconds: number } | { busy: true } | null> {
    await this.ready;
    // A call on a worker that is then replaced never settles: answer busy so the view asks the new one.
    return new Promise((resolve, reject) => {
      const onReplaced = () => resolve({ busy: true });
      this.pending.add(onReplaced);
      this.api.estimate(kind, request).then(resolve, reject).finally(() => this.pending.delete(onReplaced));
    });
  }

  /** Run an analysis (core/analyses); partial results arrive through `onPartial`; rejects with CancelledError when `signal` aborts. */
  async analysis(kind: AnalysisKind, request: AnalysisRequest, control: { signal?: AbortSignal; onProgress?: (p: JobProgress) => void; onPartial?: (r: unknown) => void }): Promise<unknown> {
    return this.track(control.signal, (jobId) =>
      this.api.analysis(jobId, kind, request, control.onProgress ? Comlink.proxy(control.onProgress) : undefined, control.onPartial ? Comlink.proxy(control.onPartial) : undefined),
    );
  }

  /**
   * A worker job with cancellation: abort asks the worker to stop; after CANCEL_GRACE_MS
   * without an answer the worker is replaced (a kernel that cannot yield).
   */
  private async track<T>(signal: AbortSignal | undefined, start: (jobId: string) => Promise<T>): Promise<T> {
    await this.ready;
    const jobId = `job${++jobCounter}`;
    if (signal?.aborted) throw new CancelledError();
    const job = start(jobId);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        this.pending.delete(onReplaced);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onReplaced = (e: Error) => settle(() => reject(signal?.aborted ? new CancelledError() : e));
      const onAbort = () => {
        void this.api.cancel(jobId);
        setTimeout(() => {
          if (settled) return;
          settle(() => reject(new CancelledError()));
          void this.respawn('a cancelled job did not stop in time');
        }, CANCEL_GRACE_MS);
      };
      this.pending.add(onReplaced);
      signal?.addEventListener('abort', onAbort, { once: true });
      job.then(
        (r) => settle(() => (signal?.aborted ? reject(new CancelledError()) : resolve(r))),
        (e: Error) => settle(() => reject(signal?.aborted || e.message === 'cancelled' ? new CancelledError() : e)),
      );
    });
  }

  debugLoseDevice(): Promise<boolean> {
    return this.api.debugLoseDevice();
  }

  memory(): Promise<number> {
    return this.api.memory();
  }
}
