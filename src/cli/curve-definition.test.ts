/**
 * The robustness curve on a zoo model with no ladder given: the CLI (and the lab, the same
 * definition) runs the threat model's ladder of the data it opened, MNIST L∞ 0 … 0.4, and the
 * per-sample smallest breaking ε resolves the classes (issue #21: six points left it flat).
 */
import { describe, expect, it } from 'vitest';
import { curveDefinition } from '../core/curve/definition';
import type { CurveResult } from '../core/curve/curve';
import { threatModel } from '../core/attacks/threat';
import { runDefinition } from './definition-harness';

describe('curve definition on the zoo', () => {
  it('runs the MNIST L∞ threat-model ladder when no ladder is given', async () => {
    const { result, dataset } = await runDefinition<CurveResult>(curveDefinition, ['--model', 'mnist-small-st', '--data', 'mnist', '--attack', 'fgsm', '--eps', '0.5', '--n', '30', '--backend', 'wasm']);
    const ladder = threatModel(dataset, 'linf').ladder;
    // ε = 0.5 on the panel does not stretch the ladder past the threat model.
    expect(result.a.points.map((p) => p.eps)).toEqual(ladder);
    expect(ladder.at(-1)).toBe(0.4);
    // Robust accuracy falls from clean to (near) nothing across the ladder.
    expect(result.a.points[0].robustAccuracy).toBeGreaterThan(0.9);
    expect(result.a.points.at(-1)!.robustAccuracy).toBeLessThan(0.2);
    // Clean-correct samples break at different rungs: more than two distinct smallest ε.
    const broken = new Set(Array.from(result.a.brokenAt).filter((e) => e > 0 && Number.isFinite(e)));
    expect(broken.size).toBeGreaterThan(2);
  }, 120_000);
});
