/**
 * The bridge's watchdog, with stand-in workers (comlink over a MessageChannel): a setup call
 * that hangs is given up at its deadline, the worker is replaced and the last good setup
 * replayed; an aborted load returns at once; a replay that fails is reported; a worker that
 * errors and stops answering is replaced.
 */
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, LabBridge, PING_GRACE_MS, type WorkerLike } from './bridge';

type Next = { model?: { url: string }; data?: { indexUrl: string } };
interface Behaviour {
  configure?(next: Next): Promise<unknown>;
  memory?(): Promise<number>;
  estimate?(): Promise<unknown>;
}
const never = () => new Promise<never>(() => {});

/** Workers made by the bridge, each with the calls it received and a handle to fire its onerror. */
function factory(behaviour: (index: number) => Behaviour) {
  const workers: { calls: string[]; inits: string[]; fireError(message: string): void; terminated: boolean }[] = [];
  const create = (): WorkerLike => {
    const index = workers.length;
    const b = behaviour(index);
    const { port1, port2 } = new MessageChannel();
    const record = { calls: [] as string[], inits: [] as string[], fireError: (_: string) => {}, terminated: false };
    Comlink.expose(
      {
        // 'auto' measures unless handed the session's earlier decision (core/backend.ts selectBackend).
        init: async (request: string, previous?: { choice?: { reason: string } } | null, precision = 'float32') => {
          record.inits.push(`${request} ${previous?.choice?.reason ?? 'fresh'}${precision === 'float32' ? '' : ` ${precision}`}`);
          return request === 'auto' ? { requested: 'auto', active: 'wasm', choice: { reason: previous?.choice?.reason ?? `measured by worker ${index}` } } : { requested: request, active: 'cpu' };
        },
        configure: async (next: Next) => {
          record.calls.push(`configure ${next.model?.url ?? '-'} ${next.data?.indexUrl ?? '-'}`);
          return b.configure ? b.configure(next) : { model: null, data: null };
        },
        setCompare: async () => null,
        drawSample: async () => {
          record.calls.push('drawSample');
          return {};
        },
        memory: async () => (b.memory ? b.memory() : 0),
        estimate: async () => (b.estimate ? b.estimate() : { seconds: 1 }),
        onDeviceLost: () => undefined,
        cancel: () => undefined,
      },
      port2,
    );
    const w: WorkerLike = {
      postMessage: port1.postMessage.bind(port1) as never,
      addEventListener: port1.addEventListener.bind(port1) as never,
      removeEventListener: port1.removeEventListener.bind(port1) as never,
      terminate: () => {
        record.terminated = true;
        port1.close();
        port2.close();
      },
      onerror: null,
      onmessageerror: null,
    };
    record.fireError = (message) => w.onerror?.({ message, preventDefault: () => undefined } as ErrorEvent);
    workers.push(record);
    return w;
  };
  return { workers, create };
}

const bridges: LabBridge[] = [];
afterEach(() => bridges.splice(0));

function setup(behaviour: (index: number) => Behaviour, deadline = 200) {
  const events = { respawns: [] as string[], replayFailures: [] as string[] };
  const f = factory(behaviour);
  const bridge = new LabBridge(
    { onDeviceLost: () => undefined, onRespawn: (r) => events.respawns.push(r), onReplayFailed: (r) => events.replayFailures.push(r) },
    { createWorker: f.create, setupDeadlineMs: deadline },
  );
  bridges.push(bridge);
  return { bridge, events, workers: f.workers };
}

describe('LabBridge setup watchdog', () => {
  it('gives up a hanging load at its deadline, replaces the worker and replays the last good setup', async () => {
    const { bridge, events, workers } = setup((i) => ({ configure: async (next) => (i === 0 && next.model?.url === 'hang' ? never() : { model: null, data: null }) }));
    await bridge.init('cpu');
    await bridge.configure({ model: { url: 'good' }, data: { indexUrl: 'd' } });
    await bridge.drawSample(8, 1);
    const t0 = performance.now();
    await expect(bridge.configure({ model: { url: 'hang' } })).rejects.toThrow('loading the model did not finish within 0.2 s; the compute worker was restarted with the previous setup');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(workers[0].terminated).toBe(true);
    expect(events.respawns).toEqual(['loading the model did not finish within 0.2 s']);
    // The replacement got the last good setup, not the hanging model.
    await bridge.configure({ model: { url: 'next' } });
    expect(workers[1].calls).toEqual(['configure good d', 'drawSample', 'configure next -']);
  });

  it('an aborted load returns at once with CancelledError and leaves the previous setup', async () => {
    const { bridge, workers } = setup((i) => ({ configure: async (next) => (i === 0 && next.model?.url === 'slow' ? never() : { model: null, data: null }) }), 60_000);
    await bridge.init('cpu');
    await bridge.configure({ model: { url: 'good' } });
    const controller = new AbortController();
    const pending = bridge.configure({ model: { url: 'slow' } }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    const t0 = performance.now();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(performance.now() - t0).toBeLessThan(500);
    await bridge.configure({ data: { indexUrl: 'd2' } });
    expect(workers[1].calls).toEqual(['configure good -', 'configure - d2']);
  });

  it('reports a replay that fails instead of swallowing it', async () => {
    const { bridge, events } = setup((i) => ({
      configure: async (next) => {
        if (i === 0 && next.model?.url === 'hang') return never();
        if (i === 1) throw new Error('model shards are gone');
        return { model: null, data: null };
      },
    }));
    await bridge.init('cpu');
    await bridge.configure({ model: { url: 'good' } });
    await expect(bridge.configure({ model: { url: 'hang' } })).rejects.toThrow(/did not finish/);
    await expect.poll(() => events.replayFailures).toEqual([
      'compute worker restarted (loading the model did not finish within 0.2 s) but restoring the setup failed: model shards are gone',
    ]);
  });

  it('replaces a worker that reports an error and stops answering, but not one that still answers', async () => {
    let stuck = false;
    const { bridge, events, workers } = setup((i) => ({ memory: async () => (i === 0 && stuck ? never() : 0) }));
    await bridge.init('cpu');
    workers[0].fireError('a stray error');
    await new Promise((r) => setTimeout(r, 100));
    expect(events.respawns).toEqual([]);
    stuck = true;
    workers[0].fireError('out of memory');
    await expect.poll(() => events.respawns, { timeout: PING_GRACE_MS + 2000 }).toEqual(['the compute worker failed (out of memory); it stopped answering']);
    expect(workers).toHaveLength(2);
  });
});

describe("LabBridge and 'auto'", () => {
  it('a replacement worker takes over the measured decision instead of measuring again', async () => {
    const { bridge, workers } = setup(() => ({}));
    const first = await bridge.init('auto');
    await bridge.configure({ model: { url: 'good' } });
    await bridge.respawn('a cancelled job');
    expect(workers[0].inits).toEqual(['auto fresh']);
    expect(workers[1].inits).toEqual([`auto ${first.choice?.reason}`]);
    // An explicit backend measures nothing; going back to 'auto' reuses the session's decision.
    await bridge.init('cpu');
    await bridge.init('auto');
    expect(workers[2].inits).toEqual(['cpu fresh']);
    expect(workers[3].inits).toEqual(['auto measured by worker 0']);
  });
});

describe('LabBridge and half precision', () => {
  it('changes precision in a fresh worker (tfjs reads the float16 flag once), keeping the loaded setup', async () => {
    const { bridge, workers } = setup(() => ({}));
    await bridge.init('webgl');
    await bridge.init('webgl', 'float16');
    // Nothing loaded yet: the fresh worker only starts the backend.
    expect(workers.map((w) => w.inits)).toEqual([['webgl fresh'], ['webgl fresh float16']]);
    expect(workers[0].terminated).toBe(true);
    expect(workers[1].calls).toEqual([]);
    await bridge.configure({ model: { url: 'good' } });
    await bridge.init('webgl', 'float32');
    expect(workers[2].inits).toEqual(['webgl fresh']);
    expect(workers[2].calls).toEqual(['configure good -']);
    // The same precision again reuses the worker; a replacement keeps the precision.
    await bridge.init('webgl', 'float32');
    expect(workers).toHaveLength(3);
    await bridge.init('webgl', 'float16');
    await bridge.respawn('a cancelled job');
    expect(workers[4].inits).toEqual(['webgl fresh float16']);
  });
});

describe('LabBridge estimates', () => {
  it('an estimate asked of a worker that is then replaced (a backend switch, a respawn) answers busy instead of never', async () => {
    // Worker 0 and 1 never answer an estimate; worker 2 does.
    const { bridge, workers } = setup((index) => ({ estimate: index < 2 ? never : async () => ({ seconds: 3 }) }));
    await bridge.init('wasm');
    await bridge.configure({ model: { url: 'good' } });
    const onSwitch = bridge.estimate('curve', {} as never);
    await bridge.init('webgl');
    await expect(onSwitch).resolves.toEqual({ busy: true });
    const onRespawn = bridge.estimate('curve', {} as never);
    await new Promise((r) => setTimeout(r, 20));
    await bridge.respawn('a cancelled job');
    await expect(onRespawn).resolves.toEqual({ busy: true });
    await expect(bridge.estimate('curve', {} as never)).resolves.toEqual({ seconds: 3 });
    expect(workers).toHaveLength(3);
  });
});
