/**
 * The CKA definition (src/core/cka/definition.ts) on the zoo model mnist-small-st, n = 40,
 * FGSM: the layer × layer matrix is symmetric with unit diagonal and values in [0, 1], clean
 * vs attacked is 1 at ε = 0, compare mode pairs A and B on the same images (the input layer
 * is the same for both: CKA 1), and `layerwise cka --json`, generated from the definition
 * alone, prints the very numbers its `run` returns. (A Node test because core tests may not
 * read files: part of the CKA change.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisContext } from '../core/analyses/context';
import { resultJson, runParams, type AnalysisSetup } from '../core/analyses/define';
import { ckaDefinition, type CkaResult } from '../core/cka/definition';
import type { LabModel } from '../core/model/model';
import { attackSchema, defaults, setupSchema } from '../core/schema';
import type { ImageDataset } from '../core/types';
import { openMnistTwins } from '../node/testing';
import { runCliInProcess } from './testing';

let a: LabModel;
let b: LabModel;
let ds: ImageDataset;

beforeAll(async () => {
  ({ a, b, ds } = await openMnistTwins());
}, 60_000);

afterAll(() => {
  a?.dispose();
  b?.dispose();
});

const ctx = (compare: boolean): AnalysisContext => ({
  models: { a, b: compare ? b : null }, modelIds: { a: 'mnist-small-st', b: compare ? 'mnist-small-pgd-linf' : null }, dataset: ds, seed: 0, backend: 'wasm',
  resources: { openModel: () => Promise.reject(new Error('no other models here')), zoo: async () => [], plainTap: async () => null, session: (_name, make) => make() },
});
const setup = (eps: number, layers: string[] = []): AnalysisSetup => ({
  setup: { ...defaults(setupSchema), model: 'mnist-small-st', data: 'mnist' }, compare: '', attack: { ...defaults(attackSchema), attack: 'fgsm', eps }, layers,
});
const own = { ...defaults(ckaDefinition.schema), n: 40 };

function expectUnitDiagonalSymmetric(m: number[][]) {
  m.forEach((row, i) => {
    expect(row[i]).toBe(1);
    row.forEach((v, j) => {
      expect(v).toBe(m[j][i]);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    });
  });
}

describe('CKA definition on mnist-small-st', () => {
  let direct: CkaResult;

  it('FGSM ε = 0.1: symmetric layer × layer matrix with unit diagonal in [0, 1]; clean vs attacked in [0, 1]; the summary', async () => {
    const params = runParams(ckaDefinition, setup(0.1), own);
    const partials: number[] = [];
    direct = await ckaDefinition.run(ctx(false), params, {}, (p) => partials.push(p.a ? 1 : 0));
    expect(partials).toEqual([1]);
    const m = direct.a!;
    expect(direct.n).toBe(40);
    expect(direct.attacked).toBe(true);
    expect(m.layers).toEqual(a.layers.filter((l) => l.defaultTap).map((l) => l.name));
    expect(m.matrix).toHaveLength(m.layers.length);
    expectUnitDiagonalSymmetric(m.matrix);
    expect(m.notes).toEqual([]);
    for (const v of m.cleanVsAttacked) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // The attack changes the representation: below 1 at the last layer.
    expect(m.cleanVsAttacked.at(-1)).toBeLessThan(0.999);
    expect(m.robustAccuracy).toBeGreaterThanOrEqual(0);
    const text = ckaDefinition.summarise(direct, params);
    expect(text).toContain(`${m.layers[0].padEnd(22)}${m.cleanVsAttacked[0].toFixed(3).padStart(17)}`);
    expect(text).toContain(`[2] ${m.layers[1]}`);
  }, 120_000);

  it('ε = 0: not attacked, clean vs attacked is 1 for every layer', async () => {
    const r = await ckaDefinition.run(ctx(false), runParams(ckaDefinition, setup(0, ['input', 'relu_1', 'fc2']), own), {}, () => undefined);
    expect(r.attacked).toBe(false);
    expect(r.a!.robustAccuracy).toBeNull();
    expect(r.a!.cleanVsAttacked).toEqual([1, 1, 1]);
  }, 120_000);

  it('compare mode: B on the same samples, A × B matrix, the shared input layer scores 1', async () => {
    const layers = ['input', 'relu_1', 'fc2'];
    const r = await ckaDefinition.run(ctx(true), runParams(ckaDefinition, setup(0.1, layers), { ...own, estimator: 'debiased' }), {}, () => undefined);
    expect(r.b!.layers).toEqual(layers);
    expectUnitDiagonalSymmetric(r.b!.matrix.map((row) => row.map((v) => Math.max(0, v))));
    const ab = r.ab!;
    expect(ab.shared).toEqual(layers);
    expect(ab.matrix.map((row) => row.length)).toEqual([3, 3, 3]);
    // The input "layer" is the images themselves: A and B see the same ones.
    expect(ab.clean[0]).toBe(1);
    expect(ab.onAttackA![0]).toBe(1);
    expect(ab.onAttackB![0]).toBe(1);
    expect(ab.matrix[0][0]).toBe(1);
    // Row A-input of the A × B matrix is row input of B's own matrix (same Grams).
    expect(ab.matrix[0]).toEqual(r.b!.matrix[0]);
  }, 120_000);

  it('`layerwise cka --json` (generated from the definition) prints the numbers its run returns', async () => {
    const run = await runCliInProcess(['cka', '--model', 'mnist-small-st', '--data', 'mnist', '--attack', 'fgsm', '--n', '40', '--backend', 'wasm', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { analysis: string; command: string; result: unknown };
    expect(out.analysis).toBe('cka');
    expect(out.command).toBe('layerwise cka --model mnist-small-st --data mnist --attack fgsm --eps 0.1 --n 40');
    expect(out.result).toEqual(JSON.parse(resultJson(direct)));
  }, 120_000);
});
