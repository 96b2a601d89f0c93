// The MFTMA definition: the older `--perturb kind:size` form, the reproducing command, the
// URL keys, and the summary printing the result's numbers. (The CLI round trip and runs on a
// zoo model: src/cli/commands/mftma.test.ts.)
import { describe, expect, it } from 'vitest';
import { cliCommand, runParams, type AnalysisSetup } from '../analyses/define';
import { LAB_GROUPS } from '../analyses/lab';
import { attackSchema, defaults, duplicateUrlKeys, setupSchema } from '../schema';
import { applyLegacyPerturb, mftmaDefinition } from './definition';
import type { MftmaJobResult, MftmaPoint } from './job';

const setup = (): AnalysisSetup => ({ setup: { ...defaults(setupSchema), model: 'mnist-small-st', data: 'mnist' }, compare: '', attack: defaults(attackSchema), layers: [] });

function legacy(text: string) {
  const own: Record<string, unknown> = defaults(mftmaDefinition.schema);
  const attack: Record<string, unknown> = defaults(attackSchema);
  applyLegacyPerturb(text, own, attack);
  return { perturb: own.perturb, ladder: own.ladder, norm: attack.norm };
}

describe('mftma definition', () => {
  it('reads the older --perturb kind:size form into the perturbation, the ladder and the norm', () => {
    const ladder = mftmaDefinition.schema.ladder.default;
    expect(legacy('gaussian')).toEqual({ perturb: 'gaussian', ladder, norm: 'linf' });
    expect(legacy('gaussian:0.1')).toEqual({ perturb: 'gaussian', ladder: [0.1], norm: 'linf' });
    expect(legacy('l2:2')).toEqual({ perturb: 'l2', ladder: [2], norm: 'linf' });
    expect(legacy('attack:apgd-ce:0.5:l2')).toEqual({ perturb: 'attack', ladder: [0.5], norm: 'l2' });
    expect(legacy('attack:pgd:0.3')).toEqual({ perturb: 'pgd', ladder: [0.3], norm: 'linf' });
    expect(legacy('attack')).toEqual({ perturb: 'attack', ladder, norm: 'linf' });
    expect(legacy('none')).toEqual({ perturb: 'gaussian', ladder: [0], norm: 'linf' });
    expect(() => legacy('blur:2')).toThrow(/^--perturb must be gaussian, linf, l2, attack/);
    expect(() => legacy('linf:-1')).toThrow('--perturb linf:-1: the size must be a number > 0');
    expect(() => legacy('gaussian:0x1')).toThrow(/must be a number > 0/);
    expect(() => legacy('attack:fgsm:0.3')).toThrow(/need a random start: attack:apgd-ce:ε or attack:pgd:ε/);
    expect(() => legacy('attack:pgd:0.3:l7')).toThrow(/--perturb must be/);
  });

  it('writes the command that reproduces a run: non-default values only, P and M as --P and --M', () => {
    const own = { ...defaults(mftmaDefinition.schema), kind: 'class', perturb: 'pgd', ladder: [0.01, 0.3], P: 4, M: 8, attackSteps: 5, kappa: 0.5, nT: 50, nReps: 2 };
    expect(cliCommand(mftmaDefinition, { ...setup(), attack: { ...defaults(attackSchema), norm: 'l2' }, layers: ['input', 'relu_1'] }, own)).toBe(
      'layerwise mftma --model mnist-small-st --data mnist --norm l2 --layers input,relu_1 --manifolds class --perturb pgd --sweep 0.01,0.3 --P 4 --M 8 --attack-steps 5 --kappa 0.5 --nt 50 --reps 2',
    );
    expect(cliCommand(mftmaDefinition, setup(), defaults(mftmaDefinition.schema))).toBe('layerwise mftma --model mnist-small-st --data mnist');
  });

  it('adds no URL key another part of the lab uses', () => {
    expect(duplicateUrlKeys(LAB_GROUPS)).toEqual([]);
  });

  it('summarises a result with its numbers, per layer and ladder value, clean included', () => {
    const point = (layer: string, size: number, capacity: number): MftmaPoint => ({
      layer, size, perturbation: size ? { kind: 'gaussian', sigma: size } : { kind: 'none' }, kind: 'class', p: 3, m: 4, width: layer === 'fc1' ? 100 : 5408,
      projection: layer === 'fc1' ? null : { kind: 'span', fromDims: 5408, toDims: 11 } as MftmaPoint['projection'],
      capacity, radius: 0.25, dimension: 1.5, centerCorrelation: 0.125, k: 1, seconds: 0.1,
      capacityPerManifold: [capacity, capacity, capacity], radiusPerManifold: [0.25, 0.25, 0.25], dimensionPerManifold: [1.5, 1.5, 1.5],
    });
    const r: MftmaJobResult = {
      a: [point('relu_1', 0, 1.23456), point('fc1', 0, 2.5), point('relu_1', 0.1, 0.98765), point('fc1', 0.1, 2)],
      b: null,
      accuracy: { a: [{ size: 0, accuracy: 1 }, { size: 0, accuracy: 1 }, { size: 0.1, accuracy: 0.75 }], b: null },
      ladder: [0, 0.1],
      layers: ['relu_1', 'fc1'],
    };
    const own = { ...defaults(mftmaDefinition.schema), kind: 'class' as const, ladder: [0, 0.1], P: 3, M: 4 };
    const text = mftmaDefinition.summarise(r, runParams(mftmaDefinition, setup(), own));
    expect(text).toContain('class manifolds, P = 3 × M = 4, gaussian');
    expect(text).toContain('relu_1 (N = 5408, reduced exactly to the 11-dimensional span of its points)');
    expect(text).toMatch(/^ {4}clean +capacity 1\.23456 {2}radius 0\.2500 {2}dimension 1\.500 {2}ρ 0\.1250 {2}K 1$/m);
    expect(text).toMatch(/^ {4}σ 0\.1 +capacity 0\.98765/m);
    expect(text).toContain('  fc1 (N = 100)');
    expect(text).toContain('accuracy on the manifold points: clean 100.0%, σ 0.1 75.0%');
    expect(text).not.toContain('model B');
  });
});
