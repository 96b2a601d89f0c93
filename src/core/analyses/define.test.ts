import { describe, expect, it } from 'vitest';
import { ANALYSES, findAnalysis } from './index';
import { analysisKey, cliCommand, resultJson, type AnalysisSetup } from './define';
import { duplicateUrlKeys, type Schema } from '../schema';
import { LAB_GROUPS, labDefaults, labHash, parseLabHash, patchParams, setupOf } from './lab';

const base = labDefaults();
const setup = (patch = {}): AnalysisSetup => setupOf(patchParams(base, patch));

describe('analysis definitions', () => {
  it('every kind has a unique name, CLI aliases and URL keys that collide with nothing', () => {
    const names = ANALYSES.flatMap((d) => [d.kind, ...(d.cliAliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
    expect(duplicateUrlKeys(LAB_GROUPS as unknown as Record<string, Schema>)).toEqual([]);
    expect(findAnalysis('overlap')?.kind).toBe('tsne');
    expect(findAnalysis('manifolds')?.kind).toBe('mftma');
    expect(findAnalysis('nope')).toBeUndefined();
  });

  it('keys a result by exactly the parameters its definition reads', () => {
    const curve = findAnalysis('curve')!;
    const collision = findAnalysis('collision')!;
    const own = (kind: string) => (base as unknown as Record<string, Record<string, unknown>>)[kind];
    // The curve reads the attack but not its ε (its ladder replaces it); the collision search reads neither.
    expect(analysisKey(curve, setup({ attack: { steps: 20 } }), own('curve'))).not.toBe(analysisKey(curve, setup(), own('curve')));
    expect(analysisKey(curve, setup({ attack: { eps: 0.2 } }), own('curve'))).toBe(analysisKey(curve, setup(), own('curve')));
    expect(analysisKey(findAnalysis('logits')!, setup({ attack: { eps: 0.2 } }), own('logits'))).not.toBe(analysisKey(findAnalysis('logits')!, setup(), own('logits')));
    expect(analysisKey(collision, setup({ attack: { eps: 0.2 } }), own('collision'))).toBe(analysisKey(collision, setup(), own('collision')));
    expect(analysisKey(collision, setup({ setup: { seed: 1 } }), own('collision'))).not.toBe(analysisKey(collision, setup(), own('collision')));
    // The strip's sample size matters to the slice only.
    expect(analysisKey(findAnalysis('slice')!, setup({ setup: { n: 32 } }), own('slice'))).not.toBe(analysisKey(findAnalysis('slice')!, setup(), own('slice')));
    expect(analysisKey(curve, setup({ setup: { n: 32 } }), own('curve'))).toBe(analysisKey(curve, setup(), own('curve')));
    // Half precision gives other numbers: its results key apart; float32 keeps the keys it always had.
    expect(analysisKey(curve, setup({ setup: { precision: 'float16' } }), own('curve'))).not.toBe(analysisKey(curve, setup(), own('curve')));
    expect(analysisKey(curve, setup({ setup: { precision: 'float32', backend: 'webgl' } }), own('curve'))).toBe(analysisKey(curve, setup(), own('curve')));
  });

  it('states ε in every command that reads it, even at its default (else each side would use its data’s threat-model start)', () => {
    expect(cliCommand(findAnalysis('logits')!, setup(), {})).toContain('--eps 0.1');
    expect(cliCommand(findAnalysis('mftma')!, setup(), {})).not.toContain('--eps');
  });

  it('writes the reproducing command with non-default values only', () => {
    const curve = findAnalysis('curve')!;
    expect(cliCommand(curve, setup(), { ladder: [], n: 60 })).toBe('layerwise curve --model mnist-small-st --data mnist-test');
    expect(cliCommand(curve, setup({ setup: { seed: 3 }, lab: { compare: 'mnist-small-pgd-linf' }, attack: { eps: 0.3, attack: 'apgd-ce' } }), { ladder: [0, 0.1], n: 50 })).toBe(
      'layerwise curve --model mnist-small-st --data mnist-test --compare mnist-small-pgd-linf --seed 3 --attack apgd-ce --eps 0.3 --ladder 0,0.1 --n 50',
    );
    // Layers only for analyses that tap them; quoting for the shell.
    const tsne = findAnalysis('tsne')!;
    expect(cliCommand(tsne, setup({ view: { layers: ['conv 1', 'fc'] } }), {})).toBe("layerwise tsne --model mnist-small-st --data mnist-test --eps 0.1 --layers 'conv 1,fc'");
    expect(cliCommand(curve, setup({ view: { layers: ['fc'] } }), {})).toBe('layerwise curve --model mnist-small-st --data mnist-test');
  });

  it('serialises results with typed arrays as arrays and non-finite numbers as null', () => {
    expect(resultJson({ a: new Float32Array([0.5, Infinity]), b: -Infinity, c: NaN, d: new Int32Array([1, 2]), e: [1, null] })).toBe('{"a":[0.5,null],"b":null,"c":null,"d":[1,2],"e":[1,null]}');
  });
});

describe('the lab URL', () => {
  it('writes only non-default values (and the seed) and reads them back', () => {
    expect(labHash(base)).toBe('seed=0');
    const p = patchParams(base, { attack: { eps: 0.3 }, tsne: { perplexity: 50 }, lab: { view: 'tsne' } });
    expect(labHash(p)).toBe('seed=0&eps=0.3&view=tsne&perp=50');
    expect(parseLabHash(labHash(p))).toEqual({ params: p, errors: [] });
  });

  it('opens old URLs: every value written, old view names, string ladders', () => {
    const { params, errors } = parseLabHash('#model=mnist-small-st&data=mnist-test&n=8&seed=0&backend=wasm&view=manifolds&mfl=0.0001,0.01&ceps=&cc=3,7');
    expect(errors).toEqual([]);
    expect(params.lab.view).toBe('mftma');
    expect(params.mftma.ladder).toEqual([0.0001, 0.01]);
    expect(params.curve.ladder).toEqual([]);
    expect(params.collision.classes).toEqual(['3', '7']);
    expect(params.setup.backend).toBe('wasm');
  });
});
