/**
 * The MFTMA and collision definitions' own `run` and `summarise` on the zoo model
 * mnist-small-st, tiny sizes: the values the CLI and the lab hand over reach the jobs (the clean
 * ladder point, per-manifold numbers; the input layer alone, the class checks), and the summary
 * prints the result's numbers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisContext } from '../core/analyses/context';
import { runParams, type AnalysisSetup } from '../core/analyses/define';
import { selectBackend } from '../core/backend';
import { collisionDefinition } from '../core/collision/definition';
import { parsePackedDataset } from '../core/data/packed';
import { mftmaDefinition } from '../core/mftma/definition';
import { loadLabModel, type LabModel } from '../core/model/model';
import { attackSchema, defaults, setupSchema } from '../core/schema';
import type { ImageDataset } from '../core/types';

const PUBLIC = path.resolve('public');
let model: LabModel;
let ds: ImageDataset;

beforeAll(async () => {
  await selectBackend('wasm', { node: true, wasmPaths: path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
  const dir = path.join(PUBLIC, 'models', 'mnist-small-st');
  model = await loadLabModel('model.json', async (rel) => new Uint8Array(readFileSync(path.join(dir, rel))), 'mnist-small-st');
  const index = JSON.parse(readFileSync(path.join(PUBLIC, 'data/mnist-test.json'), 'utf8'));
  ds = parsePackedDataset(index, new Uint8Array(readFileSync(path.join(PUBLIC, 'data', index.file))));
}, 60_000);

/** A context without extra resources: no other models, no plain-op taps (the slower tap is used). */
const ctx = (): AnalysisContext => ({
  models: { a: model, b: null }, modelIds: { a: 'mnist-small-st', b: null }, dataset: ds, seed: 1, backend: 'wasm',
  resources: {
    openModel: () => Promise.reject(new Error('no other models here')),
    zoo: async () => [],
    plainTap: async () => null,
    session: (_name, make) => make(),
  },
});
const setup = (layers: string[]): AnalysisSetup => ({ setup: { ...defaults(setupSchema), model: 'mnist-small-st', data: 'mnist' }, compare: '', attack: defaults(attackSchema), layers });

describe('definitions on the zoo model', () => {
  it('mftma: class manifolds with the clean point (ladder 0) and σ, per-manifold numbers, the summary', async () => {
    const own = { ...defaults(mftmaDefinition.schema), kind: 'class' as const, ladder: [0, 0.1], P: 3, M: 6, nT: 40, nReps: 2 };
    const params = runParams(mftmaDefinition, setup(['fc2']), own);
    const r = await mftmaDefinition.run(ctx(), params, {}, () => undefined);
    expect(r.a.map((p) => [p.layer, p.size, p.perturbation.kind])).toEqual([['fc2', 0, 'none'], ['fc2', 0.1, 'gaussian']]);
    for (const p of r.a) {
      expect(p.capacityPerManifold).toHaveLength(3);
      expect(p.capacity).toBeGreaterThan(0);
    }
    const text = mftmaDefinition.summarise(r, params);
    expect(text).toContain(`clean        capacity ${r.a[0].capacity.toFixed(5)}`);
    expect(text).toContain(`σ 0.1        capacity ${r.a[1].capacity.toFixed(5)}`);
  }, 60_000);

  it('collision: "input" alone is the exact baseline row; classes are checked against the data', async () => {
    const own = { ...defaults(collisionDefinition.schema), perClass: 2, epsList: [1, 8] };
    const r = await collisionDefinition.run(ctx(), runParams(collisionDefinition, setup(['input']), own), {}, () => undefined);
    expect(r.a!.layers.map((l) => [l.layer, l.exact])).toEqual([['input', true]]);
    expect(r.a!.layers[0].curve.meanLogLoss[1]).toBeCloseTo(Math.LN2, 12);
    expect(collisionDefinition.summarise(r, runParams(collisionDefinition, setup(['input']), own))).toMatch(/^ {2}input +784 +\d\.\d{4}\/\d\.\d{3} +0\.6931\/0\.500 +exact$/m);
    await expect(collisionDefinition.run(ctx(), runParams(collisionDefinition, setup(['input']), { ...own, classes: ['3', '10'] }), {}, () => undefined)).rejects.toThrow(/class indices 0…9 of mnist-test/);
  }, 60_000);
});
