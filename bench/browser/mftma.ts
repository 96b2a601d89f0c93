/**
 * Page side of `npm run bench -- mftma --browser`: exposes `window.layerwiseMftmaBench` for
 * Playwright. Each backend gets its own module worker (bench/browser/mftma.worker.ts), kept
 * alive across runs so Node can interleave its own runs with the browser's; the page only
 * relays messages, the timing happens inside the worker.
 */
import type { BackendName } from '../../src/core/backend';
import type { MftmaWorkerReply, MftmaWorkerRequest } from './mftma.worker';

const workers = new Map<BackendName, Worker>();

function call(worker: Worker, req: MftmaWorkerRequest): Promise<MftmaWorkerReply> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<MftmaWorkerReply>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
    worker.postMessage(req);
  });
}

async function init(backend: BackendName): Promise<MftmaWorkerReply> {
  const worker = new Worker(new URL('./mftma.worker.ts', import.meta.url), { type: 'module' });
  workers.set(backend, worker);
  return call(worker, { kind: 'init', backend });
}

async function run(backend: BackendName, name: string, seed: number): Promise<MftmaWorkerReply> {
  const worker = workers.get(backend);
  if (!worker) throw new Error(`no worker for ${backend}: call init first`);
  return call(worker, { kind: 'run', name, seed });
}

(window as unknown as { layerwiseMftmaBench: { init: typeof init; run: typeof run; ready: boolean } }).layerwiseMftmaBench = { init, run, ready: true };
