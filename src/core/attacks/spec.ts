/** The attack panel's values (core/schema.ts attackSchema) as the attack runner's spec. */
import type { AttackValues } from '../schema';
import type { AttackName, AttackSpec } from './types';
import type { Norm } from './common';

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
