/**
 * The dependency definition (issue #20): its reproducing command parses back to the same
 * values, ε = 0 means clean only, and the summary carries the result's numbers.
 */
import { describe, expect, it } from 'vitest';
import { cliCommand, type AnalysisSetup } from '../core/analyses/define';
import { attackSchema, defaults } from '../core/schema';
import { parseAnalysisArgs } from './analysis-command';
import { runDefinition } from './definition-harness';
import { dependencyDefinition } from '../core/dependency/definition';
import type { DependencyJobResult } from '../core/dependency/job';

const setup: AnalysisSetup = {
  setup: { model: 'mnist-small-st', data: 'mnist', seed: 11, n: 16 },
  compare: '',
  attack: { ...defaults(attackSchema), attack: 'bim', eps: 0.2, steps: 5, stepSize: 0.05 },
  layers: ['relu_1', 'fc1', 'fc2'],
};
const run = (...args: string[]) => runDefinition<DependencyJobResult>(dependencyDefinition, ['--model', 'mnist-small-st', '--data', 'mnist', '--backend', 'cpu', '--n', '60', '--layers', 'relu_1,fc2', '--probe-dims', '32', '--prefix-dims', '48', ...args]);
const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

describe('dependency definition', () => {
  it('cliCommand → parseAnalysisArgs round-trips every value', () => {
    const own = { n: 250, probeDims: 64, prefixDims: 128 };
    const command = cliCommand(dependencyDefinition, setup, own);
    expect(command).toBe('layerwise dependency --model mnist-small-st --data mnist --seed 11 --attack bim --eps 0.2 --steps 5 --step-size 0.05 --layers relu_1,fc1,fc2 --n 250 --probe-dims 64 --prefix-dims 128');
    const parsed = parseAnalysisArgs(dependencyDefinition, command.split(' ').slice(2));
    expect(parsed.own).toEqual(own);
    expect(parsed.setup.attack).toEqual(setup.attack);
    expect(parsed.setup.layers).toEqual(setup.layers);
    expect(cliCommand(dependencyDefinition, parsed.setup, parsed.own)).toBe(command);
    // ε = 0 is written out (it differs from the default 0.1) and means clean only.
    const clean = cliCommand(dependencyDefinition, { ...setup, attack: { ...setup.attack, eps: 0 } }, own);
    expect(parseAnalysisArgs(dependencyDefinition, clean.split(' ').slice(2)).setup.attack.eps).toBe(0);
  });

  it('ε = 0: clean only, no adversarial numbers', async () => {
    const { result: r, text } = await run('--eps', '0');
    const a = r.a!;
    expect(a.robustAccuracy).toBeNull();
    for (const l of a.layers) expect(l.probeHeldOutAdversarialAccuracy).toBeNull();
    for (const p of a.prefix) expect(p.adversarialAccuracy).toBeNull();
    expect(text).toContain('clean only (ε = 0)');
    expect(text).toContain(`${f(a.layers[1].probeHeldOutCleanAccuracy)}/n/a`);
  }, 120_000);

  it('attacked: the summary prints the numbers of the result', async () => {
    const { result: r, text } = await run('--attack', 'fgsm', '--eps', '0.2');
    const a = r.a!;
    expect(r.b).toBeNull();
    expect(a.layers.map((l) => l.layer)).toEqual(['relu_1', 'fc2']);
    expect(a.layers.every((l) => l.probeFeatures <= 32)).toBe(true);
    expect(a.robustAccuracy).toBeLessThan(a.cleanAccuracy);
    expect(text).toContain(`60 samples (probes: 70% train, 30% held out), clean/attacked by fgsm linf ε=0.2`);
    expect(text).toContain(`model A: clean ${(100 * a.cleanAccuracy).toFixed(1)}%, robust ${(100 * a.robustAccuracy!).toFixed(1)}%`);
    const rows = text.split('\n').slice(3);
    a.layers.forEach((l, i) => {
      expect(rows[i].trim().startsWith(l.layer)).toBe(true);
      for (const s of [f(l.probeCleanAccuracy), `${f(l.probeHeldOutCleanAccuracy)}/${f(l.probeHeldOutAdversarialAccuracy)}`, `${f(l.labelMi)}/${f(l.labelMiAdversarial)}`, `${f(a.prefix[i].cleanAccuracy)}/${f(a.prefix[i].adversarialAccuracy)}`]) expect(rows[i]).toContain(s);
    });
    // The second layer's MI with the previous one.
    expect(rows[1]).toContain(f(a.layers[1].miWithPrevious));
  }, 120_000);
});
