import { describe, expect, it } from 'vitest';
import { attackName, captionPhrases, wrapCaption, type CaptionFacts } from './caption';

const facts: CaptionFacts = {
  title: 'Relative representation shift per layer',
  modelA: 'mnist-small-st',
  modelB: 'mnist-small-pgd-linf',
  data: 'mnist-test',
  samples: 8,
  attack: { attack: 'pgd', norm: 'linf', eps: 0.1, steps: 5, stepSize: 0.05 },
  ladder: [0.05, 0.1, 0.2],
  seed: 3,
  created: '2026-12-03T20:10:42.123Z',
  version: '0.1.0',
  tfjs: '4.22.0',
  backend: 'wasm',
};

describe('captionPhrases', () => {
  it('names both models, data, attack with norm, ε and α, the other ε values, seed, date and versions', () => {
    expect(captionPhrases(facts)).toEqual([
      'Relative representation shift per layer',
      'model A: mnist-small-st',
      'model B: mnist-small-pgd-linf',
      'data: mnist-test, 8 samples',
      'attack: PGD-5 L∞, ε = 0.1, α = 0.05',
      'also ε = 0.05, 0.2',
      'seed 3',
      '2026-12-03 20:10 UTC',
      'layerwise 0.1.0, tfjs 4.22.0, wasm',
    ]);
  });

  it('names half precision, which changes the numbers, and says nothing of float32', () => {
    expect(captionPhrases({ ...facts, backend: 'webgl', precision: 'float16' }).at(-1)).toBe('layerwise 0.1.0, tfjs 4.22.0, webgl, half precision (float16 textures)');
    expect(captionPhrases({ ...facts, precision: 'float32' }).at(-1)).toBe('layerwise 0.1.0, tfjs 4.22.0, wasm');
  });

  it('leaves out B, the step size of FGSM and an empty ladder; says when the result is the preview', () => {
    const p = captionPhrases({ ...facts, modelB: null, attack: { attack: 'fgsm', norm: 'l2', eps: 1.5, steps: 1, stepSize: 1.5 }, ladder: [1.5], preview: true });
    expect(p).not.toContain('model B: mnist-small-pgd-linf');
    expect(p).toContain('attack: FGSM preview L2, ε = 1.5');
    expect(p.some((x) => x.startsWith('also ε'))).toBe(false);
  });

  it('prints ε to 4 significant digits (no float noise)', () => {
    expect(captionPhrases({ ...facts, attack: { ...facts.attack!, eps: 0.30000001192092896 }, ladder: [] })).toContain('attack: PGD-5 L∞, ε = 0.3, α = 0.05');
  });

  it('has no attack phrase before a result', () => {
    expect(captionPhrases({ ...facts, attack: null }).some((x) => x.startsWith('attack'))).toBe(false);
  });
});

describe('attackName', () => {
  it('adds the step count to iterative attacks only', () => {
    expect(attackName('pgd', 10)).toBe('PGD-10');
    expect(attackName('fgsm', 1)).toBe('FGSM');
  });
});

describe('wrapCaption', () => {
  it('puts the title alone first and packs the facts into lines of at most maxChars', () => {
    expect(wrapCaption(['Title', 'aaa', 'bbb', 'ccc'], 9)).toEqual(['Title', 'aaa · bbb', 'ccc']);
    expect(wrapCaption(['Title', 'aaa', 'bbb', 'ccc'], 100)).toEqual(['Title', 'aaa · bbb · ccc']);
  });

  it('never splits a phrase: a long one gets a line of its own', () => {
    expect(wrapCaption(['T', 'a', 'a-very-long-model-id', 'b'], 5)).toEqual(['T', 'a', 'a-very-long-model-id', 'b']);
  });

  it('is empty for no phrases', () => {
    expect(wrapCaption([], 10)).toEqual([]);
  });
});
