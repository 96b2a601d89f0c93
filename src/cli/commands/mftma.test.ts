// `layerwise mftma --model`, the command generated from the MFTMA definition, on a zoo model
// with small P / M: the user's path (child process, JSON out: the lab's result under `result`),
// the older flags (--perturb kind:size, --sweep, --P/--M, --nt, --reps) round-tripping through
// the reproducing command, and one-line errors for bad input.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliCommand } from '../../core/analyses/define';
import { mftmaDefinition } from '../../core/mftma/definition';
import type { MftmaJobResult } from '../../core/mftma/job';
import { parseAnalysisArgs } from '../analysis-command';
import { main } from '../main';

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

/** `main` in-process: exit code and the stderr line (argument errors return before any model loads). */
async function mainErr(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => ((stderr += String(s)), true)) as never;
  try {
    return { code: await main(args), stderr };
  } finally {
    process.stderr.write = write;
  }
}

const BASE = ['--model', 'mnist-small-st', '--data', 'mnist'];

describe('layerwise mftma --model', () => {
  it('Gaussian exemplar sweep: per-layer points, projection stated, capacity falls with σ at the input', async () => {
    const r = await layerwise(
      'mftma', ...BASE, '--manifolds', 'exemplar', '--perturb', 'gaussian', '--sweep', '0.01,0.3',
      '--P', '4', '--M', '8', '--layers', 'input,relu_1', '--max-dims', '1000', '--nt', '50', '--reps', '2', '--backend', 'cpu', '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { analysis: string; command: string; result: MftmaJobResult };
    expect(out.analysis).toBe('mftma');
    expect(out.command).toBe('layerwise mftma --model mnist-small-st --data mnist --layers input,relu_1 --sweep 0.01,0.3 --P 4 --M 8 --max-dims 1000 --nt 50 --reps 2');
    const res = out.result;
    expect(res.ladder).toEqual([0.01, 0.3]);
    expect(res.layers).toEqual(['input', 'relu_1']);
    expect(res.b).toBeNull();
    const layer = (name: string) => res.a.filter((p) => p.layer === name);
    const [input, relu1] = [layer('input'), layer('relu_1')];
    expect(input[0].projection).toBeNull();
    expect(input[0].width).toBe(784);
    // 32 points span 31 dimensions after centring: reduced exactly, not randomly projected.
    expect(relu1[0].projection).toMatchObject({ kind: 'span', fromDims: 5408, toDims: 31 });
    for (const ps of [input, relu1]) {
      expect(ps.map((p) => p.size)).toEqual([0.01, 0.3]);
      for (const p of ps) {
        expect([p.kind, p.p, p.m]).toEqual(['exemplar', 4, 8]);
        expect(p.capacityPerManifold).toHaveLength(4);
        expect(p.radiusPerManifold).toHaveLength(4);
        expect(p.dimensionPerManifold).toHaveLength(4);
      }
    }
    expect(input[1].capacity).toBeLessThan(input[0].capacity);
    expect(input[1].radius).toBeGreaterThan(input[0].radius);
    // The model's accuracy on the P·M points: clean, then per σ.
    expect(res.accuracy.a.map((x) => x.size)).toEqual([0, 0.01, 0.3]);
  }, 120_000);

  it('adversarial exemplar manifolds (PGD random starts, --perturb attack:pgd:ε) report the misclassified fraction; the text names them', async () => {
    const args = ['mftma', ...BASE, '--manifolds', 'exemplar', '--perturb', 'attack:pgd:0.3', '--attack-steps', '5', '--P', '3', '--M', '4', '--layers', 'fc1', '--nt', '30', '--reps', '2', '--backend', 'cpu'];
    const r = await layerwise(...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { result: MftmaJobResult };
    const p = out.result.a[0];
    expect(p.perturbation).toEqual({ kind: 'attack', attack: 'pgd', norm: 'linf', eps: 0.3, steps: 5 });
    expect(p.attackSuccessRate).toBeGreaterThanOrEqual(0);
    expect(p.attackSuccessRate).toBeLessThanOrEqual(1);
    expect(p.capacity).toBeGreaterThan(0);
    const text = await layerwise(...args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('exemplar manifolds, P = 3 × M = 4, PGD linf');
    expect(text.stdout).toMatch(new RegExp(`^ {4}ε 0\\.3 +capacity ${p.capacity.toFixed(5)} .*misclassified`, 'm'));
  }, 120_000);

  it('bad input fails with a one-line error and exit 2', async () => {
    expect(await mainErr(['mftma', ...BASE, '--manifolds', 'spheres'])).toEqual({ code: 2, stderr: 'layerwise: --manifolds must be one of exemplar, class (got "spheres")\n' });
    const layer = await layerwise('mftma', ...BASE, '--layers', 'conv9', '--P', '2', '--M', '2', '--backend', 'cpu');
    expect(layer.code).toBe(2);
    expect(layer.stderr).toBe('layerwise: model has no layer named "conv9"\n');
    // Exemplar manifolds need a perturbation: the clean point (--perturb none, ladder 0) is for class manifolds.
    const clean = await layerwise('mftma', ...BASE, '--perturb', 'none', '--P', '2', '--M', '2', '--layers', 'fc2', '--backend', 'cpu');
    expect(clean.code).toBe(2);
    expect(clean.stderr).toMatch(/^layerwise: exemplar manifolds need a perturbation: M unperturbed copies of an image are a single point\n$/);
  }, 60_000);

  it('validates arguments before loading anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--perturb', 'blur:2'], /^layerwise: --perturb must be gaussian, linf, l2, attack/],
      [['--perturb', 'attack:fgsm:0.3'], /--perturb attack:fgsm:0\.3: manifold attacks need a random start/],
      [['--perturb', 'linf:-1'], /the size must be a number > 0/],
      [['--sweep', '0.1,x'], /^layerwise: --sweep must be a comma list of numbers ≥ 0 \(got "0\.1,x"\)/],
      [['--sweep', '0.1,,0.2'], /--sweep has an empty item/],
      [['--P', '1'], /^layerwise: --P must be an integer ≥ 2 and ≤ 100 \(got "1"\)/],
      [['--M', '2.5'], /^layerwise: --M must be an integer ≥ 2 and ≤ 500 \(got "2\.5"\)/],
      [['--nt', '0'], /--nt must be an integer ≥ 1/],
      [['--kappa=-1'], /--kappa must be a number ≥ 0/],
      [['--attack-steps', '1.5'], /--attack-steps must be an integer ≥ 0/],
      [['--steps', '3', '--frobnicate'], /Unknown option '--frobnicate'/],
      [['--input', 'x.f32'], /either --input\/--header \(fixture mode\) or --model\/--data/],
    ];
    for (const [extra, re] of cases) {
      const r = await mainErr(['mftma', ...BASE, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('the older flags land on the schema, and the reproducing command parses back to the same values', () => {
    const legacy = ['--manifolds', 'class', '--perturb', 'attack:apgd-ce:0.5:l2', '--P', '4', '--M', '50', '--nt', '50', '--reps', '3', '--kappa', '0.5', '--max-dims', '1000', '--attack-steps', '7', '--layers', 'relu_1,fc1', '--seed', '3'];
    const a = parseAnalysisArgs(mftmaDefinition, [...BASE, ...legacy]);
    expect(a.own).toEqual({ kind: 'class', perturb: 'attack', ladder: [0.5], P: 4, M: 50, maxDims: 1000, attackSteps: 7, kappa: 0.5, nT: 50, nReps: 3 });
    expect(a.setup.attack.norm).toBe('l2');
    expect(a.setup.layers).toEqual(['relu_1', 'fc1']);
    const command = cliCommand(mftmaDefinition, a.setup, a.own);
    expect(command).toBe('layerwise mftma --model mnist-small-st --data mnist --seed 3 --norm l2 --layers relu_1,fc1 --manifolds class --perturb attack --sweep 0.5 --P 4 --M 50 --max-dims 1000 --attack-steps 7 --kappa 0.5 --nt 50 --reps 3');
    const b = parseAnalysisArgs(mftmaDefinition, command.split(' ').slice(2));
    expect(b.own).toEqual(a.own);
    expect(b.setup).toEqual(a.setup);
    // --sweep gives the ladder whatever --perturb's size; --perturb none is the clean point.
    expect(parseAnalysisArgs(mftmaDefinition, [...BASE, '--perturb', 'gaussian:0.1', '--sweep', '0.01,0.3']).own.ladder).toEqual([0.01, 0.3]);
    expect(parseAnalysisArgs(mftmaDefinition, [...BASE, '--sweep', '0.01,0.3', '--perturb', 'linf:0.1']).own.ladder).toEqual([0.01, 0.3]);
    expect(parseAnalysisArgs(mftmaDefinition, [...BASE, '--perturb', 'none', '--manifolds', 'class']).own).toMatchObject({ perturb: 'gaussian', ladder: [0], kind: 'class' });
  });
});
