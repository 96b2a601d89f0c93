/** The ε slice (core/analysis/definition.ts) in compare mode on real zoo models: an error about B names B. */
import { describe, expect, it } from 'vitest';
import { setupBackend } from './backend';
import { openData, openModel } from './open';
import { attackSchema, defaults } from '../core/schema';
import type { AnalysisContext } from '../core/analyses/context';
import { sliceDefinition } from '../core/analysis/definition';

describe('slice in compare mode', () => {
  it('names model B when B lacks a layer picked on A', async () => {
    await setupBackend({ backend: 'wasm' });
    // conv3 is a layer of the medium CNN (A), not of the small one (B).
    const a = await openModel('mnist-medium-st');
    const b = await openModel('mnist-small-pgd-linf');
    const ds = await openData('mnist');
    const ctx = { models: { a, b }, modelIds: { a: 'mnist-medium-st', b: 'mnist-small-pgd-linf' }, dataset: ds, seed: 0, backend: 'wasm', resources: {} as AnalysisContext['resources'] } as AnalysisContext;
    const params = { models: 'both' as const, attack: { ...defaults(attackSchema), attack: 'fgsm', eps: 0.1 }, layers: ['conv3'], sampleSize: 2 };
    await expect(sliceDefinition.run(ctx, params as never, {}, () => undefined)).rejects.toThrow('model B (mnist-small-pgd-linf) has no layer named "conv3"');
    // A alone: A has conv3, so the same request runs.
    const alone = { ...ctx, models: { a, b: null }, modelIds: { a: 'mnist-medium-st', b: null } } as AnalysisContext;
    const r = (await sliceDefinition.run(alone, params as never, {}, () => undefined)) as { a: { shifts: { layer: string }[] } };
    expect(r.a.shifts.map((s) => s.layer)).toEqual(['conv3']);
    a.dispose();
    b.dispose();
  });
});
