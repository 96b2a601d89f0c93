// `layerwise mftma` in model mode on a zoo model with small P / M: the user's path (child
// process, JSON out) and one-line errors for bad input.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../args';
import { mftmaCommands, parsePerturbation } from './mftma';

const run = promisify(execFile);
const BIN = path.resolve('src/cli/layerwise.mjs');

async function layerwise(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

interface Point {
  size: number;
  capacity: number;
  radius: number;
  dimension: number;
  K: number;
  capacityPerManifold: number[];
  attackSuccessRate?: number;
}
interface Layer {
  layer: string;
  width: number;
  projection: { kind: string; fromDims: number; toDims: number } | null;
  points: Point[];
}

describe('layerwise mftma --model', () => {
  it('Gaussian exemplar sweep: per-layer points, projection stated, capacity falls with σ at the input', async () => {
    const r = await layerwise(
      'mftma', '--model', 'mnist-small-st', '--data', 'mnist', '--manifolds', 'exemplar', '--perturb', 'gaussian', '--sweep', '0.01,0.3',
      '--P', '4', '--M', '8', '--layers', 'input,relu_1', '--max-dims', '1000', '--nt', '50', '--reps', '2', '--backend', 'cpu', '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { P: number; M: number; ladder: number[]; layers: Layer[] };
    expect(out.P).toBe(4);
    expect(out.ladder).toEqual([0.01, 0.3]);
    expect(out.layers.map((l) => l.layer)).toEqual(['input', 'relu_1']);
    const [input, relu1] = out.layers;
    expect(input.projection).toBeNull();
    expect(input.width).toBe(784);
    // 32 points span 31 dimensions after centring: reduced exactly, not randomly projected.
    expect(relu1.projection).toMatchObject({ kind: 'span', fromDims: 5408, toDims: 31 });
    for (const l of out.layers) {
      expect(l.points.map((p) => p.size)).toEqual([0.01, 0.3]);
      for (const p of l.points) expect(p.capacityPerManifold).toHaveLength(4);
    }
    expect(input.points[1].capacity).toBeLessThan(input.points[0].capacity);
    expect(input.points[1].radius).toBeGreaterThan(input.points[0].radius);
  }, 120_000);

  it('adversarial exemplar manifolds (PGD random starts) report the misclassified fraction', async () => {
    const r = await layerwise(
      'mftma', '--model', 'mnist-small-st', '--data', 'mnist', '--manifolds', 'exemplar', '--perturb', 'attack:pgd:0.3', '--steps', '5',
      '--P', '3', '--M', '4', '--layers', 'fc1', '--nt', '30', '--reps', '2', '--backend', 'cpu', '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { layers: Layer[]; perturbation: { kind: string; eps: number; steps: number } };
    expect(out.perturbation).toEqual({ kind: 'attack', attack: 'pgd', norm: 'linf', eps: 0.3, steps: 5 });
    const p = out.layers[0].points[0];
    expect(p.attackSuccessRate).toBeGreaterThanOrEqual(0);
    expect(p.attackSuccessRate).toBeLessThanOrEqual(1);
    expect(p.capacity).toBeGreaterThan(0);
  }, 120_000);

  it('bad input fails with a one-line error and exit 2 (usage) or 1 (data)', async () => {
    const usage = await layerwise('mftma', '--model', 'mnist-small-st', '--data', 'mnist', '--manifolds', 'spheres');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('layerwise: --manifolds must be class or exemplar (got "spheres")\n');
    const layer = await layerwise('mftma', '--model', 'mnist-small-st', '--data', 'mnist', '--layers', 'conv9', '--P', '2', '--M', '2', '--backend', 'cpu');
    expect(layer.code).toBe(2);
    expect(layer.stderr).toMatch(/^layerwise: model mnist-small-st has no layer "conv9" \(layers: input, /);
    expect(layer.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('validates arguments before loading anything', async () => {
    const cmd = mftmaCommands.mftma;
    const base = ['--model', 'mnist-small-st', '--data', 'mnist'];
    await expect(cmd([...base, '--perturb', 'blur:2'])).rejects.toThrow(UsageError);
    await expect(cmd([...base, '--perturb', 'gaussian'])).rejects.toThrow(/needs a size/);
    await expect(cmd([...base, '--perturb', 'attack:fgsm:0.3'])).rejects.toThrow(/pgd or apgd-ce/);
    await expect(cmd([...base, '--sweep', '0.1,0.2'])).rejects.toThrow(/--sweep needs a --perturb kind/);
    await expect(cmd([...base, '--perturb', 'gaussian', '--sweep', '0.1,x'])).rejects.toThrow(/--sweep must be a number/);
    await expect(cmd([...base, '--P', '1'])).rejects.toThrow(/--P must be an integer ≥ 2/);
    await expect(cmd([...base, '--M', '2.5'])).rejects.toThrow(/--M must be a positive integer/);
    await expect(cmd([...base, '--perturb', 'linf:0.1', '--steps', '3'])).rejects.toThrow(/--steps applies to --perturb attack/);
    await expect(cmd([...base, '--input', 'x.f32'])).rejects.toThrow(/either --input\/--header/);
    expect(parsePerturbation('attack:apgd-ce:0.5:l2', true)).toEqual({ kind: 'attack', attack: 'apgd-ce', norm: 'l2', eps: 0.5 });
    expect(parsePerturbation('l2:2', true)).toEqual({ kind: 'l2', eps: 2 });
    expect(() => parsePerturbation('linf:-1', true)).toThrow(/> 0/);
  });
});
