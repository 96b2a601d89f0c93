/**
 * Main-thread side of the compute worker (after Squoosh's worker bridge): every call is
 * async, long jobs carry an AbortSignal; cancelling asks the worker to stop and, if the
 * job has not settled within CANCEL_GRACE_MS (a kernel that cannot yield), terminates
 * the worker and starts a fresh one, replaying the setup (backend, model, data, sample)
 * so the lab keeps working. The same respawn handles a lost WebGPU device.
 */
import * as Comlink from 'comlink';
import type { BackendRequest, BackendState } from '../core/backend';
import type { AttackSpec } from '../core/attacks/types';
import type { JobProgress } from '../core/types';
import type { AnalysisKind, AnalysisParams, AnalysisResult, DataSource, DatasetSummary, LabWorkerApi, ModelSource, ModelSummary, SampleData, SliceTransfer } from '../../workers/lab.worker';

/** How long a cancelled job may take to notice before its worker is replaced. */
export const CANCEL_GRACE_MS = 200;

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

interface Setup {
  backend: BackendRequest;
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
}

let jobCounter = 0;
const REPLACED = Symbol('worker replaced');

export class LabBridge {
  private worker!: Worker;
  private api!: Comlink.Remote<LabWorkerApi>;
  private setup: Setup = { backend: 'auto' };
  private events: BridgeEvents;
  /** Resolves when the current worker has replayed its setup. */
  private ready: Promise<unknown> = Promise.resolve();
  /** Rejecters of jobs in flight: a terminated worker never answers them. */
  private pending = new Set<(e: Error) => void>();

  constructor(events: BridgeEvents) {
    this.events = events;
    this.spawn();
  }

  private spawn() {
    this.worker = new Worker(new URL('../../workers/lab.worker.ts', import.meta.url), { type: 'module' });
    this.api = Comlink.wrap<LabWorkerApi>(this.worker);
    void this.api.onDeviceLost(
      Comlink.proxy((reason: string) => {
        this.events.onDeviceLost(reason);
        void this.respawn(`WebGPU device lost: ${reason}`);
      }),
    );
  }

  /** Replace the worker and bring the new one to the same setup. */
  async respawn(reason: string): Promise<void> {
    this.worker.terminate();
    for (const reject of this.pending) reject(new WorkerReplacedError(reason));
    this.pending.clear();
    this.spawn();
    const s = this.setup;
    this.ready = (async () => {
      await this.api.init(s.backend);
      if (s.model || s.data) await this.api.configure({ model: s.model, data: s.data });
      if (s.compare) await this.api.setCompare(s.compare);
      if (s.sample) await this.api.drawSample(s.sample.n, s.sample.seed);
    })().catch(() => undefined);
    this.events.onRespawn(reason);
    await this.ready;
  }

  async init(backend: BackendRequest): Promise<BackendState> {
    await this.ready;
    if (this.setup.backend !== backend && (this.setup.model || this.setup.data)) {
      // A backend switch on a loaded lab: a fresh worker avoids mixing backends' tensors.
      this.setup.backend = backend;
      this.worker.terminate();
      this.spawn();
      const state = await this.api.init(backend);
      await this.api.configure({ model: this.setup.model, data: this.setup.data });
      if (this.setup.compare) await this.api.setCompare(this.setup.compare);
      if (this.setup.sample) await this.api.drawSample(this.setup.sample.n, this.setup.sample.seed);
      return state;
    }
    this.setup.backend = backend;
    return this.api.init(backend);
  }

  /**
   * A setup call that outlives a worker replacement: the replacement replays the setup recorded
   * so far, which does not yet hold a call still in flight, and a terminated worker never answers
   * it; so the call is made again on the new worker once that has replayed.
   */
  private async setupCall<T>(call: (api: Comlink.Remote<LabWorkerApi>) => Promise<T>): Promise<T> {
    for (;;) {
      await this.ready;
      let onReplaced!: () => void;
      const replaced = new Promise<typeof REPLACED>((resolve) => (onReplaced = () => resolve(REPLACED)));
      this.pending.add(onReplaced);
      try {
        const r = await Promise.race([call(this.api), replaced]);
        if (r !== REPLACED) return r as T;
      } finally {
        this.pending.delete(onReplaced);
      }
    }
  }

  async configure(next: { model?: ModelSource; data?: DataSource }): Promise<{ model: ModelSummary | null; data: DatasetSummary | null }> {
    const result = await this.setupCall((api) => api.configure(next));
    if (next.model) this.setup.model = next.model;
    if (next.data) {
      this.setup.data = next.data;
      this.setup.sample = undefined;
    }
    return result;
  }

  async drawSample(n: number, seed: number): Promise<SampleData> {
    const s = await this.setupCall((api) => api.drawSample(n, seed));
    this.setup.sample = { n, seed };
    return s;
  }

  /** Load or clear (null) the compare model B. */
  async setCompare(source: ModelSource | null): Promise<ModelSummary | null> {
    const r = await this.setupCall((api) => api.setCompare(source));
    this.setup.compare = source;
    return r;
  }

  /** Logits of a few images on model A or B (row-major, n × classes). */
  async logitsOf(images: Float32Array, which: 'a' | 'b' = 'a'): Promise<Float32Array> {
    await this.ready;
    return this.api.logitsOf(images, which);
  }

  /** Run a slice job; rejects with CancelledError when `signal` aborts. */
  async slice(spec: AttackSpec, layers: string[], seed: number, control: { signal?: AbortSignal; onProgress?: (p: JobProgress) => void }, which: 'a' | 'b' = 'a'): Promise<SliceTransfer> {
    return this.track(control.signal, (jobId) => this.api.slice(jobId, spec, layers, seed, control.onProgress ? Comlink.proxy(control.onProgress) : undefined, which));
  }

  /** Run an analysis job; partial results arrive through `onPartial`. */
  async analysis<K extends AnalysisKind>(
    kind: K,
    seed: number,
    params: AnalysisParams<K>,
    control: { signal?: AbortSignal; onProgress?: (p: JobProgress) => void; onPartial?: (r: AnalysisResult<K>) => void },
  ): Promise<AnalysisResult<K>> {
    return this.track(control.signal, (jobId) =>
      this.api.analysis(
        jobId,
        kind,
        seed,
        params as never,
        control.onProgress ? Comlink.proxy(control.onProgress) : undefined,
        control.onPartial ? Comlink.proxy(control.onPartial as (r: unknown) => void) : undefined,
      ) as Promise<AnalysisResult<K>>,
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
