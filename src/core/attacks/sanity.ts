/**
 * Gradient-masking and attack-bug warnings from several attack runs on the same samples,
 * following the sanity checks of shared spec attacks.md §10 (after Athalye, Carlini &
 * Wagner, ICML 2018, and Carlini et al., "On evaluating adversarial robustness", 2019):
 *
 * - a one-step attack (FGSM) must not beat an iterative one at the same ε;
 * - robust accuracy must not increase with ε;
 * - inputs with an exactly zero gradient point at saturation or masking;
 * - the strongest attack here (AA-style: APGD-CE then APGD-T) should give the lowest
 *   robust accuracy among the gradient attacks;
 * - a minimum-norm attack must not report a larger norm than a bounded attack's success
 *   at ε already proves to exist;
 * - at L-inf ε ≥ 0.5 every image can be moved to the all-0.5 image, so at most the most
 *   frequent class can stay robust; more robust points prove the attack failed.
 *
 * Pure functions on plain data: `AttackResult` satisfies `SanityRun` as it is.
 */
import type { Norm } from './common';
import type { AttackName } from './types';

export interface SanityRun {
  spec: { attack: AttackName; norm: Norm; eps: number };
  robustAccuracy: number;
  /** Samples processed (the denominator of the accuracies). */
  completed: number;
  labels: ArrayLike<number>;
  cleanPred: ArrayLike<number>;
  /** Per sample: clean-correct and misclassified after the attack. */
  success: ArrayLike<number>;
  /** Per sample: the first input gradient was exactly zero. */
  zeroGradient: ArrayLike<number>;
  /** Minimum-norm attacks: smallest perturbation found per sample, in the run's norm (∞ if none). */
  minimalNorm?: ArrayLike<number>;
}

export type SanityWarningKind =
  | 'one-step-beats-iterative'
  | 'not-monotone-in-eps'
  | 'zero-gradients'
  | 'strongest-not-lowest'
  | 'minimum-norm-too-large'
  | 'robust-beyond-half-range';

export interface SanityWarning {
  kind: SanityWarningKind;
  /** One sentence for a human. */
  message: string;
  attack: AttackName;
  norm: Norm;
  eps: number;
}

export interface SanityOptions {
  /**
   * Warn when more than this fraction of the samples had a zero gradient or were left
   * unperturbed (default 0: any, as AutoAttack's check_zero_gradients does).
   */
  zeroGradientFraction?: number;
  /** Robust-accuracy differences at or below this are ties (default 1e-9, i.e. exact). */
  tolerance?: number;
}

const ITERATIVE: AttackName[] = ['bim', 'pgd', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'aa'];
const GRADIENT_BOUNDED: AttackName[] = ['fgsm', ...ITERATIVE];
/** Relative float32 slack on norms, as the runner's ε-ball check. */
const NORM_SLACK = 1e-5;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function gradientMaskingWarnings(runs: SanityRun[], options: SanityOptions = {}): SanityWarning[] {
  const zeroFraction = options.zeroGradientFraction ?? 0;
  const tol = options.tolerance ?? 1e-9;
  const warnings: SanityWarning[] = [];
  const warn = (kind: SanityWarningKind, run: SanityRun, message: string) =>
    warnings.push({ kind, message, attack: run.spec.attack, norm: run.spec.norm, eps: run.spec.eps });

  for (const run of runs) {
    let zeros = 0;
    for (let i = 0; i < run.completed; i++) zeros += run.zeroGradient[i] ? 1 : 0;
    if (run.completed > 0 && zeros / run.completed > zeroFraction) {
      const which: number[] = [];
      for (let i = 0; i < run.completed && which.length < 5; i++) if (run.zeroGradient[i]) which.push(i);
      warn('zero-gradients', run, `${run.spec.attack} at ε = ${run.spec.eps}: ${zeros} of ${run.completed} samples had an exactly zero input gradient or were left unperturbed (sample ${which.join(', ')}${zeros > which.length ? ', …' : ''}), a sign of saturated softmax, gradient masking or a broken model: their robustness is unproven.`);
    }
  }

  const sameThreat = (a: SanityRun, b: SanityRun) => a.spec.norm === b.spec.norm && a.spec.eps === b.spec.eps;
  for (const fgsm of runs.filter((r) => r.spec.attack === 'fgsm')) {
    for (const other of runs.filter((r) => ITERATIVE.includes(r.spec.attack) && sameThreat(r, fgsm))) {
      if (fgsm.robustAccuracy < other.robustAccuracy - tol) {
        warn('one-step-beats-iterative', other, `At ${fgsm.spec.norm} ε = ${fgsm.spec.eps} one-step FGSM leaves ${pct(fgsm.robustAccuracy)} robust but ${other.spec.attack} leaves ${pct(other.robustAccuracy)}, so the iterative attack is failing (masked gradients or too small steps).`);
      }
    }
  }

  // Monotonicity per (attack, norm): a larger ε can only make the attacker stronger.
  const groups = new Map<string, SanityRun[]>();
  for (const run of runs) {
    if (run.spec.attack === 'gaussian') continue;
    const key = `${run.spec.attack}|${run.spec.norm}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => a.spec.eps - b.spec.eps);
    for (let i = 1; i < sorted.length; i++) {
      const [small, large] = [sorted[i - 1], sorted[i]];
      if (large.spec.eps > small.spec.eps && large.robustAccuracy > small.robustAccuracy + tol) {
        warn('not-monotone-in-eps', large, `${large.spec.attack} (${large.spec.norm}) gives ${pct(large.robustAccuracy)} robust at ε = ${large.spec.eps} but ${pct(small.robustAccuracy)} at the smaller ε = ${small.spec.eps}; robust accuracy must not rise with ε.`);
      }
    }
  }

  for (const aa of runs.filter((r) => r.spec.attack === 'aa')) {
    const rivals = runs.filter((r) => r !== aa && GRADIENT_BOUNDED.includes(r.spec.attack) && sameThreat(r, aa));
    const strongest = rivals.reduce<SanityRun | null>((best, r) => (best === null || r.robustAccuracy < best.robustAccuracy ? r : best), null);
    if (strongest && strongest.robustAccuracy < aa.robustAccuracy - tol) {
      warn('strongest-not-lowest', aa, `At ${aa.spec.norm} ε = ${aa.spec.eps} the AA-style ensemble leaves ${pct(aa.robustAccuracy)} robust but ${strongest.spec.attack} leaves ${pct(strongest.robustAccuracy)}; the strongest attack should give the lowest robust accuracy.`);
    }
  }

  // A bounded attack that broke sample i at ε proves a perturbation of norm ≤ ε exists;
  // a minimum-norm attack reporting more than that (or nothing) missed it.
  for (const minimum of runs.filter((r) => r.minimalNorm)) {
    for (const bounded of runs.filter((r) => GRADIENT_BOUNDED.includes(r.spec.attack) && r.spec.norm === minimum.spec.norm)) {
      const n = Math.min(bounded.completed, minimum.completed);
      let missed = 0;
      for (let i = 0; i < n; i++) {
        if (bounded.success[i] && bounded.labels[i] === minimum.labels[i] && minimum.minimalNorm![i] > bounded.spec.eps * (1 + NORM_SLACK) + 1e-6) missed++;
      }
      if (missed > 0) {
        warn('minimum-norm-too-large', minimum, `${minimum.spec.attack} reports a minimal ${minimum.spec.norm} norm above ε = ${bounded.spec.eps} for ${missed} sample(s) that ${bounded.spec.attack} broke within ε, so the minimum-norm search is not converging there.`);
      }
    }
  }

  for (const run of runs.filter((r) => r.spec.norm === 'linf' && r.spec.eps >= 0.5 && GRADIENT_BOUNDED.includes(r.spec.attack))) {
    // Any image is within L-inf 0.5 of the all-0.5 image, so at most the class that
    // image is assigned to can stay robust: robust ≤ that class's share ≤ the largest share.
    const counts = new Map<number, number>();
    for (let i = 0; i < run.completed; i++) counts.set(run.labels[i], (counts.get(run.labels[i]) ?? 0) + 1);
    const largestShare = Math.max(0, ...counts.values()) / Math.max(1, run.completed);
    if (run.robustAccuracy > largestShare + tol) {
      warn('robust-beyond-half-range', run, `${run.spec.attack} leaves ${pct(run.robustAccuracy)} robust at L-inf ε = ${run.spec.eps}, but at ε ≥ 0.5 every image can be turned into the same gray image, so at most ${pct(largestShare)} (the largest class) can be robust: the attack is failing.`);
    }
  }
  return warnings;
}
