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
