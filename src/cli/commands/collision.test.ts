import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cliCommand } from '../../core/analyses/define';
import { collisionDefinition } from '../../core/collision/definition';
import { parseAnalysisArgs } from '../analysis-command';
import { UsageError } from '../args';
import { main as cliMain } from '../main';
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

/** `layerwise …` in-process: exit code, stdout and stderr. */
async function main(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    return { code: await cliMain(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

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

// Layer-by-layer analysis on a zoo CNN through `layerwise collision` (the command generated from
// the collision definition, in-process): tiny S, short Algorithm 1 runs; checks shapes and
// invariants that hold for any model, not recorded numbers.
describe('layerwise collision (zoo model mnist-small-st)', () => {
  const EPS = [0.5, 1, 2, 3, 4, 6, 8];
  it('--json: per-pair distances, loss ≤ ln 2, nondecreasing in ε, exact input baseline', async () => {
    const args = ['collision', '--model', 'mnist-small-st', '--data', 'mnist', '--classes', '3,7', '--per-class', '2', '--m', '3', '--projections', '2', '--backend', 'wasm'];
    const before = tf.memory().numTensors;
    const run = await main([...args, '--layers', 'input,conv1,fc2', '--eps-list', EPS.join(','), '--gamma', '0.8', '--max-iter', '80', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const out = JSON.parse(run.stdout);
    expect(out.analysis).toBe('collision');
    expect(out.command).toBe('layerwise collision --model mnist-small-st --data mnist --layers input,conv1,fc2 --m 3 --projections 2 --eps-list 0.5,1,2,3,4,6,8 --max-iter 80 --gamma 0.8');
    const p = out.result.a;
    expect(out.result.b).toBeNull();
    expect(p.classes).toEqual([3, 7]);
    expect(p.sampleLabels).toEqual([3, 3, 7, 7]);
    expect(p.pairI).toEqual([0, 0, 1, 1]);
    expect(p.pairJ).toEqual([2, 3, 2, 3]);
    expect(p.settings.collision).toMatchObject({ gamma: 0.8, maxIter: 80 });
    expect(p.layers.map((l: { layer: string }) => l.layer)).toEqual(['input', 'conv1', 'fc2']);
    const [input, conv1, fc2] = p.layers;
    // Input: exact, unprojected, d = ‖x − x′‖/2 recomputed here from the data.
    expect(input.exact).toBe(true);
    expect(input.m).toBe(784);
    // conv1 (3136 features) and fc2 (10 > m = 3) are projected N times, seeds recorded.
    expect(conv1.projected).toBe(true);
    expect(conv1.stats).toHaveLength(2);
    expect(conv1.stats[0].seed).not.toBe(conv1.stats[1].seed);
    expect(fc2.features).toBe(10);
    for (const l of p.layers) {
      expect(l.distances).toHaveLength(l.exact ? 1 : 2);
      for (let n = 0; n < l.distances.length; n++) {
        expect(l.distances[n]).toHaveLength(4);
        l.distances[n].forEach((d: number | null) => d !== null && expect(d).toBeGreaterThanOrEqual(0));
        // Distances feasible: residual within the float32 tolerance of spec §2 (1e-4 · s).
        if (!l.exact) expect(Math.max(...l.relResidual[n])).toBeLessThanOrEqual(1e-4 + 1e-12);
      }
      // The colliding points are kept for the lab's pair explorer: pairs × 784 per projection.
      expect(l.points[0].xTilde).toHaveLength(4 * 784);
      const c = l.curve;
      expect(c.eps).toEqual(EPS);
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
    p.pairI.forEach((i: number, k: number) => {
      const a = p.sampleIndices[i];
      const b = p.sampleIndices[p.pairJ[k]];
      let s = 0;
      for (let t = 0; t < n0; t++) s += (data.images[a * n0 + t] - data.images[b * n0 + t]) ** 2;
      expect(input.distances[0][k]).toBeCloseTo(Math.sqrt(s) / 2, 5);
    });
    const dmax = Math.max(...input.distances[0]);
    const firstAll = EPS.findIndex((e) => e >= dmax);
    if (firstAll >= 0) expect(input.curve.meanLogLoss[firstAll]).toBeCloseTo(Math.LN2, 12);
    const dmin = Math.min(...input.distances[0]);
    EPS.forEach((e, i) => e < dmin && expect(input.curve.meanLogLoss[i]).toBe(0));
    // Text mode: the input row with its width; the older --m list is m and the m sweep.
    const text = await main([...args.slice(0, 10), '3,5', ...args.slice(11), '--layers', 'input', '--eps-list', '1,8']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}input\s+784\s/m);
    expect(text.stdout).toMatch(/^m sweep, m = 5, model A: classes 3,7, 2 per class, 4 cross-class pairs, m = 5/m);
    // One-line errors, exit 2.
    const fails: [string[], RegExp][] = [
      [[...args, '--layers', 'nope'], /^layerwise: model has no layer named "nope"\n$/],
      [[...args, '--per-class', '0'], /^layerwise: --per-class must be an integer ≥ 2 and ≤ 200 \(got "0"\)\n$/],
      [[...args, '--classes', '3,12'], /^layerwise: classes must be "all" or class indices 0…9 of mnist-test \(got "3,12"\)\n$/],
      [[...args, '--no-projection', '--layers', 'conv1'], /^layerwise: layer "conv1" has 3136 features; the unprojected search needs/],
    ];
    for (const [argv, re] of fails) {
      const r = await main(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(re);
    }
  }, 600_000);

  it('the older flags land on the schema, and the reproducing command parses back to the same values', () => {
    const legacy = ['--classes', 'all', '--per-class', '3', '--m', '3,10,30', '--projections', '5', '--eps-list', '1,2', '--box', '--no-projection', '--edge', 'max', '--gamma', '0.9', '--max-iter', '100', '--batch', '8', '--layers', 'input,fc1', '--seed', '2'];
    const a = parseAnalysisArgs(collisionDefinition, ['--model', 'mnist-small-st', '--data', 'mnist', ...legacy]);
    expect(a.own).toEqual({
      classes: ['all'], perClass: 3, m: 3, mSweep: [10, 30], projections: 5, projection: 'none', epsList: [1, 2], iterations: 100, gamma: 0.9, edge: 'max', batch: 8, extra: [], box: 1,
    });
    const command = cliCommand(collisionDefinition, a.setup, a.own);
    expect(command).toBe('layerwise collision --model mnist-small-st --data mnist --seed 2 --layers input,fc1 --classes all --per-class 3 --m 3 --m-sweep 10,30 --projections 5 --projection none --eps-list 1,2 --max-iter 100 --gamma 0.9 --edge max --batch 8 --box 1');
    const b = parseAnalysisArgs(collisionDefinition, command.split(' ').slice(2));
    expect(b.own).toEqual(a.own);
    expect(b.setup).toEqual(a.setup);
    // A bare --box is 1 wherever it stands; --box 0 and --box 1 as written.
    const box = (...x: string[]) => parseAnalysisArgs(collisionDefinition, ['--model', 'm', '--data', 'd', ...x]).own.box;
    expect([box('--box'), box('--box', '--json'), box('--box', '0'), box('--box', '1'), box('--box=0'), box()]).toEqual([1, 1, 0, 1, 0, 0]);
  });
});
