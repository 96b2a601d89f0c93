// The collision definition: the older `--m 3,10,30` list, the class checks, the reproducing
// command and the summary printing the result's numbers. (The CLI round trip and runs on a
// zoo model: src/cli/commands/collision.test.ts.)
import { describe, expect, it } from 'vitest';
import { cliCommand, runParams, type AnalysisSetup } from '../analyses/define';
import { attackSchema, defaults, setupSchema } from '../schema';
import type { CollisionAnalysisResult, LayerCollisionResult } from './analysis';
import { applyLegacyM, collisionClasses, collisionDefinition } from './definition';
import type { CollisionJobResult } from './job';

const setup = (): AnalysisSetup => ({ setup: { ...defaults(setupSchema), model: 'mnist-small-st', data: 'mnist' }, compare: '', attack: defaults(attackSchema), layers: [] });

describe('collision definition', () => {
  it('reads --m as one m or the older list (first = m, the rest = the m sweep)', () => {
    const own: Record<string, unknown> = defaults(collisionDefinition.schema);
    applyLegacyM('12', own);
    expect([own.m, own.mSweep]).toEqual([12, []]);
    applyLegacyM('3,10,30', own);
    expect([own.m, own.mSweep]).toEqual([3, [10, 30]]);
    for (const bad of ['0', '201', '2.5', '3,,4', 'x', '']) expect(() => applyLegacyM(bad, own), bad).toThrow(/^--m must be an integer ≥ 1 and ≤ 200/);
  });

  it('checks the classes against the data: indices or "all", enough samples of each', () => {
    const ds = { id: 'tiny', classNames: ['a', 'b', 'c'], labels: Int32Array.from([0, 0, 0, 1, 1, 2]) };
    expect(collisionClasses(['0', '1'], 2, ds)).toEqual([0, 1]);
    expect(collisionClasses(['all'], 1, ds)).toBe('all');
    expect(() => collisionClasses(['0', '3'], 1, ds)).toThrow('classes must be "all" or class indices 0…2 of tiny (got "0,3")');
    expect(() => collisionClasses(['0', 'b'], 1, ds)).toThrow(/class indices 0…2/);
    expect(() => collisionClasses(['-1', '0'], 1, ds)).toThrow(/class indices 0…2/);
    expect(() => collisionClasses(['0', '1'], 3, ds)).toThrow('per class 3 is more than the 2 samples of class 1 in tiny');
    expect(() => collisionClasses(['all'], 2, ds)).toThrow(/the 1 samples of class 2/);
  });

  it('writes the command that reproduces a run: the box as --box 1, the m sweep as --m-sweep', () => {
    const own = { ...defaults(collisionDefinition.schema), classes: ['3', '5'], perClass: 3, m: 3, mSweep: [10, 30], projections: 2, projection: 'none', gamma: 0.8, edge: 'max', batch: 8, box: 1 };
    expect(cliCommand(collisionDefinition, { ...setup(), layers: ['input', 'fc1'] }, own)).toBe(
      'layerwise collision --model mnist-small-st --data mnist --layers input,fc1 --classes 3,5 --per-class 3 --m 3 --m-sweep 10,30 --projections 2 --projection none --gamma 0.8 --edge max --batch 8 --box 1',
    );
  });

  it('summarises a result with its numbers: loss / 0-1 loss per layer and ε, m, projections, the sweep', () => {
    const layer = (name: string, m: number, exact: boolean, loss: number[]): LayerCollisionResult => ({
      layer: name, features: name === 'input' ? 784 : 3136, m, projected: !exact, exact, numProjections: exact ? 1 : 2, projectionsDone: exact ? 1 : 2,
      distances: [], relResidual: [], stats: exact ? [{ seed: null, infeasible: 0, medianIterations: 0, seconds: 0 }] : [{ seed: 1, infeasible: 1, medianIterations: 40, seconds: 1 }, { seed: 2, infeasible: 0, medianIterations: 60, seconds: 1 }],
      curve: { eps: [1, 2], meanLogLoss: loss, minLogLoss: loss, maxLogLoss: loss, meanZeroOne: loss.map((x) => x / 2), minZeroOne: null, maxZeroOne: null, maxGap: null }, complete: true,
    });
    const analysis = (m: number): CollisionAnalysisResult => ({
      classes: [3, 7], perClass: 2, sampleIndices: Int32Array.from([1, 2, 3, 4]), sampleLabels: Int32Array.from([3, 3, 7, 7]), pairI: Int32Array.from([0, 0, 1, 1]), pairJ: Int32Array.from([2, 3, 2, 3]), approximate: false,
      settings: { m, numProjections: 2, projection: 'gaussian', seed: 0, edgeRule: 'rms', box: null, collision: {} as CollisionAnalysisResult['settings']['collision'] },
      layers: [layer('input', 784, true, [0, 0.25]), layer('conv1', m, false, [0.5, Math.LN2])], seconds: 3.2,
    });
    const a = analysis(3);
    const r: CollisionJobResult = { a, b: null, extra: [{ id: 'mnist-small-pgd-linf', result: analysis(3) }], shape: [28, 28, 1], images: null, sweep: [{ m: 3, a, b: null }, { m: 10, a: analysis(10), b: null }] };
    const text = collisionDefinition.summarise(r, runParams(collisionDefinition, setup(), defaults(collisionDefinition.schema)));
    expect(text).toContain('model A: classes 3,7, 2 per class, 4 cross-class pairs, m = 3, 2 projections, 3.2 s');
    expect(text).toMatch(/^ {2}input +784 +0\.0000\/0\.000 +0\.2500\/0\.125 +exact$/m);
    expect(text).toMatch(/^ {2}conv1 +3 +0\.5000\/0\.250 +0\.6931\/0\.347 +×2 proj, median 50 it, 1 infeasible$/m);
    expect(text).toContain('mnist-small-pgd-linf: classes 3,7');
    expect(text).toContain('m sweep, m = 10, model A: classes 3,7');
    expect(text).not.toContain('m sweep, m = 3');
    expect(text).not.toContain('model B');
  });
});
