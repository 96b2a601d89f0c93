/**
 * Latest-wins, once (STYLE.md convention 4): a lane runs one job at a time and a new job in a
 * lane aborts the previous one. The 'main' lane carries the setup (model, data, sample) and
 * the ε slice under the slider, with its progress in the store's `job`; the 'view' lane
 * carries the open view's analysis, so dragging ε does not cancel a curve being computed.
 */
import { useLab, type JobState } from './store';

export type Lane = 'main' | 'view';

const lanes = new Map<Lane, AbortController>();
let jobCounter = 0;

/** Abort the lane's running job and claim the lane for a new one. */
export function claimLane(lane: Lane): AbortController {
  lanes.get(lane)?.abort();
  const controller = new AbortController();
  lanes.set(lane, controller);
  return controller;
}

export function releaseLane(lane: Lane, controller: AbortController): void {
  if (lanes.get(lane) === controller) lanes.delete(lane);
}

export function laneOwner(lane: Lane): AbortController | undefined {
  return lanes.get(lane);
}

/** Cancel whatever runs in the lane now; partial results stay on screen. */
export function cancelLane(lane: Lane): void {
  lanes.get(lane)?.abort();
}

/** A job of the main lane with its progress in the store's `job` (the status bar). */
export function startMainJob(kind: JobState['kind'], label: string, preview = false) {
  const controller = claimLane('main');
  const id = ++jobCounter;
  const get = () => useLab.getState();
  get().set({ job: { id, kind, label, fraction: 0, message: '', status: 'running', preview, startedAt: Date.now() } });
  const finish = (status: 'done' | 'cancelled' | 'error') => {
    releaseLane('main', controller);
    const job = get().job;
    if (job?.id === id) get().set({ job: { ...job, status, fraction: status === 'done' ? 1 : job.fraction } });
  };
  const onProgress = (p: { fraction: number; message?: string }) => {
    const job = get().job;
    if (job?.id === id && job.status === 'running') get().set({ job: { ...job, fraction: p.fraction, message: p.message ?? '' } });
  };
  return { controller, finish, onProgress };
}
