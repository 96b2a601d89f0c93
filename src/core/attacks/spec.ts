/** The attack panel's values (core/schema.ts attackSchema) as the attack runner's spec. */
import type { AttackValues } from '../schema';
import type { AttackName, AttackSpec } from './types';
import type { Norm } from './common';

/** C&W's Adam learning rate when no step size is given (Carlini & Wagner 2017 use 0.01). */
export const CW_LEARNING_RATE = 0.01;

/** PGD/BIM's automatic step size is this many ε spread over the steps (Madry et al. 2018 use 2.5·ε/steps). */
export const AUTO_STEP_FACTOR = 2.5;

/**
 * One rule for every analysis: FGSM is one step; a step size of 0 means the attack's own
 * default (2.5·ε/steps for PGD, Madry et al.); a target class applies to APGD-T only.
 */
export function attackSpecOf(a: AttackValues, eps: number = a.eps): AttackSpec {
  const attack = a.attack as AttackName;
  const norm = a.norm as Norm;
  if (attack === 'fgsm') return { attack, norm, eps, steps: 1 };
  return {
    attack,
    norm,
    eps,
    steps: a.steps,
    stepSize: a.stepSize > 0 ? a.stepSize : undefined,
    restarts: a.restarts,
    targets: a.targets,
    ...(attack === 'apgd-t' && a.targetClass >= 0 ? { targetClass: a.targetClass } : {}),
    draws: a.draws,
  };
}

/** The lab's cheap preview while the ε slider is dragged: one FGSM step at the slider's ε. */
export function previewAttack(a: AttackValues): AttackValues {
  return { ...a, attack: 'fgsm', steps: 1, stepSize: 0, restarts: 1, targets: 9, targetClass: -1, draws: 10 };
}

/**
 * Minimum-norm attacks have no ε ball: they search for the smallest perturbation, the
 * runner records its norm (in the attack's norm) and counts success at ε only within ε.
 */
export function isMinimumNormAttack(attack: AttackName): boolean {
  return attack === 'deepfool' || attack === 'fab' || attack === 'cw';
}

/** The step size an attack really takes (the runner records it in its result's spec). */
export function resolvedStepSize(spec: AttackSpec): number {
  if (spec.attack === 'cw') return spec.stepSize ?? CW_LEARNING_RATE;
  if (spec.attack === 'fgsm' || spec.attack === 'gaussian' || isMinimumNormAttack(spec.attack)) return spec.eps;
  // APGD adapts its own per-sample step size, starting at 2·eps.
  if (spec.attack.startsWith('apgd')) return 2 * spec.eps;
  return spec.stepSize ?? (AUTO_STEP_FACTOR * spec.eps) / Math.max(1, spec.steps);
}

/**
 * The step size the attack panel's values give, as the lab shows it next to the control:
 * "α auto = 2.5·ε/steps = 0.025" when the field is 0, the value and what auto would be otherwise.
 * Null for attacks whose step the field does not set (FGSM is one step of ε, APGD adapts its own).
 */
export function stepSizeNote(a: AttackValues): string | null {
  if (a.attack !== 'pgd' && a.attack !== 'bim') return null;
  const spec = attackSpecOf(a);
  const auto = resolvedStepSize({ ...spec, stepSize: undefined });
  const shown = (x: number) => String(+x.toPrecision(3));
  const rule = `${AUTO_STEP_FACTOR}·ε/steps = ${AUTO_STEP_FACTOR}·${shown(spec.eps)}/${spec.steps}`;
  if (spec.stepSize === undefined) return `α auto = ${rule} = ${shown(auto)}`;
  return `α = ${shown(resolvedStepSize(spec))} (auto would be ${rule} = ${shown(auto)})`;
}
