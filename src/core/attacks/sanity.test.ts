import { describe, expect, it } from 'vitest';
import { gradientMaskingWarnings, type SanityRun } from './sanity';
import type { AttackName } from './types';
import type { Norm } from './common';

/** A hand-made run on n samples: `broken` lists the samples the attack broke (all clean-correct). */
function run(attack: AttackName, eps: number, broken: number[], n = 10, extra: Partial<SanityRun> = {}, norm: Norm = 'linf'): SanityRun {
  const success = new Uint8Array(n);
  for (const i of broken) success[i] = 1;
  return {
    spec: { attack, norm, eps },
    robustAccuracy: (n - broken.length) / n,
    completed: n,
    labels: Int32Array.from({ length: n }, (_, i) => i % 5),
    cleanPred: Int32Array.from({ length: n }, (_, i) => i % 5),
    success,
    zeroGradient: new Uint8Array(n),
    ...extra,
  };
}

const kinds = (runs: SanityRun[], options = {}) => gradientMaskingWarnings(runs, options).map((w) => w.kind);

describe('gradient-masking warnings', () => {
  it('a consistent evaluation raises nothing', () => {
    const runs = [run('fgsm', 0.1, [0, 1]), run('pgd', 0.1, [0, 1, 2]), run('aa', 0.1, [0, 1, 2, 3]), run('pgd', 0.2, [0, 1, 2, 4, 5])];
    expect(gradientMaskingWarnings(runs)).toEqual([]);
  });

  it('FGSM beating PGD at the same ε fires, with a one-sentence message; at another ε it does not', () => {
    const w = gradientMaskingWarnings([run('fgsm', 0.1, [0, 1, 2]), run('pgd', 0.1, [0])]);
    expect(w.map((x) => x.kind)).toEqual(['one-step-beats-iterative']);
    expect(w[0].message).toMatch(/FGSM leaves 70\.0% robust but pgd leaves 90\.0%/);
    expect(w[0].message.trim().split(/(?<=\.)\s+(?=[A-Z])/)).toHaveLength(1);
    expect(kinds([run('fgsm', 0.2, [0, 1, 2]), run('pgd', 0.1, [0])])).toEqual([]);
    expect(kinds([run('fgsm', 0.1, [0, 1, 2]), run('pgd', 0.1, [0], 10, {}, 'l2')])).toEqual([]);
  });

  it('zero gradients above the threshold fraction fire; at or below it they do not', () => {
    const zeros = (k: number) => Uint8Array.from({ length: 10 }, (_, i) => (i < k ? 1 : 0));
    expect(kinds([run('pgd', 0.1, [], 10, { zeroGradient: zeros(2) })], { zeroGradientFraction: 0.1 })).toEqual(['zero-gradients']);
    expect(kinds([run('pgd', 0.1, [], 10, { zeroGradient: zeros(1) })], { zeroGradientFraction: 0.1 })).toEqual([]);
  });

  it('robust accuracy rising with ε fires for that attack only', () => {
    const w = gradientMaskingWarnings([run('pgd', 0.1, [0, 1, 2]), run('pgd', 0.2, [0]), run('bim', 0.1, [0]), run('bim', 0.2, [0, 1])]);
    expect(w.map((x) => [x.kind, x.attack, x.eps])).toEqual([['not-monotone-in-eps', 'pgd', 0.2]]);
    // Equal accuracy at a larger ε is allowed.
    expect(kinds([run('pgd', 0.1, [0]), run('pgd', 0.2, [1])])).toEqual([]);
  });

  it('the AA-style ensemble not giving the lowest robust accuracy fires', () => {
    expect(kinds([run('aa', 0.1, [0]), run('apgd-ce', 0.1, [0, 1])])).toEqual(['strongest-not-lowest']);
    expect(kinds([run('aa', 0.1, [0, 1]), run('apgd-ce', 0.1, [0, 1])])).toEqual([]);
  });

  it('a minimum-norm attack reporting more than a bounded success implies fires', () => {
    const l2 = (attack: AttackName, eps: number, broken: number[], extra: Partial<SanityRun> = {}) => run(attack, eps, broken, 4, extra, 'l2');
    const pgd = l2('pgd', 0.5, [0, 1]);
    const deepfoolBad = l2('deepfool', Infinity, [0, 1, 2], { minimalNorm: Float32Array.from([0.4, 0.9, 0.3, Infinity]) });
    const deepfoolGood = l2('deepfool', Infinity, [0, 1, 2], { minimalNorm: Float32Array.from([0.4, 0.5, 0.3, Infinity]) });
    const w = gradientMaskingWarnings([pgd, deepfoolBad]);
    expect(w.map((x) => x.kind)).toEqual(['minimum-norm-too-large']);
    expect(w[0].message).toMatch(/for 1 sample/);
    expect(kinds([pgd, deepfoolGood])).toEqual([]);
    // A minimum-norm result that found nothing where PGD succeeded also fires.
    expect(kinds([pgd, l2('deepfool', Infinity, [], { minimalNorm: Float32Array.from([0.4, Infinity, 0.3, Infinity]) })])).toEqual(['minimum-norm-too-large']);
  });

  it('robust accuracy above the largest class share at L-inf ε ≥ 0.5 fires', () => {
    // Labels cycle over 5 classes: the largest share is 20 %.
    expect(kinds([run('pgd', 0.5, [0, 1, 2, 3, 4, 5, 6])])).toEqual(['robust-beyond-half-range']); // 30 % robust
    expect(kinds([run('pgd', 0.5, [0, 1, 2, 3, 4, 5, 6, 7])])).toEqual([]); // 20 %
    expect(kinds([run('pgd', 0.4, [0, 1, 2, 3, 4, 5, 6])])).toEqual([]);
  });
});
