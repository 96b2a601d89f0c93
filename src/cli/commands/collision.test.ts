import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../args';
import { collisionCommands, runCollide, runOptloss } from './collision';

const fixtures = new URL('../../core/collision/fixtures/', import.meta.url);
const readFixture = (f: string) => JSON.parse(readFileSync(new URL(f, fixtures), 'utf8'));
const optloss = readFixture('optloss-public.json') as { cases: { name: string; optimal_logloss: number; optimal_01_loss: number }[] };
const mlp = readFixture('collision-mlp-public.json');
const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-collision-'));

/** Runs a command function and returns what it wrote to stdout. */
async function capture(cmd: string, args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await collisionCommands[cmd](args);
  } finally {
    spy.mockRestore();
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => vi.restoreAllMocks());

describe('optloss command', () => {
  it('runOptloss solves every fixture case', () => {
    const r = runOptloss(optloss) as { cases: { logLoss: number; zeroOneLoss: number; certificateGap: number }[] };
    optloss.cases.forEach((c, i) => {
      expect(Math.abs(r.cases[i].logLoss - c.optimal_logloss)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(r.cases[i].zeroOneLoss - c.optimal_01_loss)).toBeLessThanOrEqual(1e-9);
      expect(r.cases[i].certificateGap).toBeLessThanOrEqual(1e-10);
    });
  });
  it('--graph file --json prints one JSON line; p defaults to uniform', async () => {
    const file = path.join(dir, 'g.json');
    writeFileSync(file, JSON.stringify({ n_class0: 2, num_vertices: 4, edges: [[0, 2], [1, 3]] }));
    const out = await capture('optloss', ['--graph', file, '--json']);
    const payload = JSON.parse(out);
    expect(payload.logLoss).toBeCloseTo(Math.LN2, 14);
    expect(payload.zeroOneLoss).toBeCloseTo(0.5, 14);
    expect(await capture('optloss', ['--graph', file])).toMatch(/optimal log-loss 0\.693147181/);
  });
  it('usage and input errors are one-line errors', async () => {
    await expect(collisionCommands.optloss([])).rejects.toBeInstanceOf(UsageError);
    await expect(collisionCommands.optloss(['--graph', path.join(dir, 'missing.json')])).rejects.toThrow(/cannot read graph file/);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ n_class0: 1, num_vertices: 2, edges: [[1, 0]] }));
    await expect(collisionCommands.optloss(['--graph', bad])).rejects.toThrow(/must join a class-0 vertex/);
  });
});

describe('collide command', () => {
  it('runCollide float64 on the fixture net (h2, pairs 0–4): feasible, ≤ 1.02 × reference', async () => {
    const r = await runCollide(mlp, mlp, { layers: ['h2'], float64: true, collision: { gamma: 0.95, maxIter: 1000 } });
    expect(r.layers.h2.m).toBe(3);
    r.layers.h2.pairs.forEach((p, i) => {
      expect(p.feasible).toBe(true);
      expect(p.dRms).toBeLessThanOrEqual(1.02 * mlp.pairs[i].layers.h2.alg1_d_rms);
    });
  });
  it('--net --pairs --json (tfjs float32) on two pairs of layer out, no leaked tensors', async () => {
    const net = path.join(dir, 'net.json');
    const pairs = path.join(dir, 'pairs.json');
    writeFileSync(net, JSON.stringify(mlp.meta.network));
    writeFileSync(pairs, JSON.stringify(mlp.pairs.slice(0, 2).map((p: { x: number[]; x_prime: number[] }) => ({ x: p.x, x_prime: p.x_prime }))));
    const before = tf.memory().numTensors;
    const payload = JSON.parse(await capture('collide', ['--net', net, '--pairs', pairs, '--layer', 'out', '--gamma', '0.95', '--max-iter', '600', '--json']));
    expect(tf.memory().numTensors).toBe(before);
    expect(payload.precision).toBe('float32');
    payload.layers.out.pairs.forEach((p: { dRms: number; feasible: boolean }, i: number) => {
      expect(p.feasible).toBe(true);
      expect(p.dRms).toBeLessThanOrEqual(1.02 * mlp.pairs[i].layers.out.alg1_d_rms);
    });
    await expect(collisionCommands.collide(['--net', net, '--pairs', pairs, '--layer', 'h9'])).rejects.toThrow(/no layer "h9"/);
  });
});

// End-to-end through the real binary.
describe('layerwise binary', () => {
  it('layerwise optloss --graph <fixture> --json', () => {
    const bin = new URL('../layerwise.mjs', import.meta.url).pathname;
    const graph = new URL('optloss-public.json', fixtures).pathname;
    const r = spawnSync(process.execPath, [bin, 'optloss', '--graph', graph, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const payload = JSON.parse(r.stdout);
    optloss.cases.forEach((c, i) => expect(Math.abs(payload.cases[i].logLoss - c.optimal_logloss)).toBeLessThanOrEqual(1e-9));
  });
});

// Layer-by-layer analysis on a zoo CNN: tiny S, short Algorithm 1 runs; checks shapes and
// invariants that hold for any model, not recorded numbers.
describe('collision command (zoo model mnist-small-st)', () => {
  const EPS = [0.5, 1, 2, 3, 4, 6, 8];
  it('--json: per-pair distances, loss ≤ ln 2, nondecreasing in ε, exact input baseline', async () => {
    const args = ['--model', 'mnist-small-st', '--data', 'mnist', '--classes', '3,7', '--per-class', '2', '--layers', 'input,conv1,fc2', '--m', '3', '--projections', '2'];
    const before = tf.memory().numTensors;
    const out = await capture('collision', [...args, '--eps-list', EPS.join(','), '--gamma', '0.8', '--max-iter', '80', '--backend', 'wasm', '--json']);
    expect(tf.memory().numTensors).toBe(before);
    const p = JSON.parse(out);
    expect(p.classes).toEqual([3, 7]);
    expect(p.sampleLabels).toEqual([3, 3, 7, 7]);
    expect(p.pairs).toEqual([[0, 2], [0, 3], [1, 2], [1, 3]]);
    expect(p.layers.map((l: { layer: string }) => l.layer)).toEqual(['input', 'conv1', 'fc2']);
    const [input, conv1, fc2] = p.layers;
    // Input: exact, unprojected, d = ‖x − x′‖/2 recomputed here from the data.
    expect(input.exact).toBe(true);
    expect(input.m).toBe(784);
    // conv1 (3136 features) and fc2 (10 > m = 3) are projected N times, seeds recorded.
    expect(conv1.projected).toBe(true);
    expect(conv1.projections).toHaveLength(2);
    expect(conv1.projections[0].seed).not.toBe(conv1.projections[1].seed);
    expect(fc2.features).toBe(10);
    for (const l of p.layers) {
      for (const pr of l.projections) {
        expect(pr.distances).toHaveLength(4);
        // Distances feasible: residual within the float32 tolerance of spec §2 (1e-4 · s).
        pr.distances.forEach((d: number | null) => d !== null && expect(d).toBeGreaterThanOrEqual(0));
        if (!l.exact) expect(pr.maxRelResidual).toBeLessThanOrEqual(1e-4 + 1e-12);
      }
      const c = l.curve;
      expect(c.eps).toEqual(EPS);
      // JSON losses carry 12 decimals, hence the 1e-12 slack below.
      for (let i = 0; i < EPS.length; i++) {
        expect(c.meanLogLoss[i]).toBeLessThanOrEqual(Math.LN2 + 1e-12);
        expect(c.meanLogLoss[i]).toBeGreaterThanOrEqual(0);
        expect(c.minLogLoss[i]).toBeLessThanOrEqual(c.meanLogLoss[i] + 1e-15);
        expect(c.maxLogLoss[i]).toBeGreaterThanOrEqual(c.meanLogLoss[i] - 1e-15);
        expect(c.meanZeroOne[i]).toBeLessThanOrEqual(0.5 + 1e-12);
        if (i > 0) {
          expect(c.meanLogLoss[i]).toBeGreaterThanOrEqual(c.meanLogLoss[i - 1] - 1e-12);
          expect(c.meanZeroOne[i]).toBeGreaterThanOrEqual(c.meanZeroOne[i - 1] - 1e-12);
        }
      }
    }
    // Hand-checkable input curve: 0 below the smallest distance, and once all four pairs are
    // edges (K_{2,2}, one block with A = B) exactly ln 2.
    const data = await import('../../node/open').then((m) => m.openData('mnist'));
    const n0 = 784;
    p.pairs.forEach(([i, j]: number[], k: number) => {
      const a = p.sampleIndices[i];
      const b = p.sampleIndices[j];
      let s = 0;
      for (let t = 0; t < n0; t++) s += (data.images[a * n0 + t] - data.images[b * n0 + t]) ** 2;
      expect(input.projections[0].distances[k]).toBeCloseTo(Math.sqrt(s) / 2, 5);
    });
    const dmax = Math.max(...input.projections[0].distances);
    const firstAll = EPS.findIndex((e) => e >= dmax);
    if (firstAll >= 0) expect(input.curve.meanLogLoss[firstAll]).toBeCloseTo(Math.LN2, 12);
    const dmin = Math.min(...input.projections[0].distances);
    EPS.forEach((e, i) => e < dmin && expect(input.curve.meanLogLoss[i]).toBe(0));
    // Text mode and one-line errors.
    const text = await capture('collision', [...args.slice(0, 8), '--layers', 'input', '--eps-list', '1,8', '--backend', 'wasm']);
    expect(text).toMatch(/^input\s+784\s/m);
    await expect(collisionCommands.collision([...args.slice(0, 8), '--layers', 'nope', '--backend', 'wasm'])).rejects.toThrow(/has no layer "nope"/);
    await expect(collisionCommands.collision([...args.slice(0, 6), '--per-class', '0'])).rejects.toThrow(/--per-class must be a positive integer/);
    await expect(collisionCommands.collision([...args, '--no-projection', '--layers', 'conv1', '--backend', 'wasm'])).rejects.toThrow(/3136 features/);
  }, 600_000);
});
