/**
 * The first vertical slice of the lab as one job: attack a sample set at one ε, then
 * measure how far every tapped layer's representation moved. Both the worker (live,
 * per slider position) and the CLI run exactly this.
 */
import type { LabModel } from '../model/model';
import { runAttack } from '../attacks/runner';
import type { AttackResult, AttackSpec } from '../attacks/types';
import { representationShift, type LayerShift } from './shift';
import type { JobControl } from '../types';

export interface SliceInput {
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
}

export interface SliceResult {
  attack: AttackResult;
  shifts: LayerShift[];
}

/** Who attacks: runAttack, or the analyses' shared attack (analyses/context.ts attackSample). */
export type SliceAttack = (input: SliceInput, spec: AttackSpec, control: JobControl) => Promise<AttackResult>;

export async function runSlice(
  model: LabModel,
  input: SliceInput,
  spec: AttackSpec,
  layers: string[],
  seed: number,
  control: JobControl = {},
  attackWith: SliceAttack = (x, s, c) => runAttack(model.logits, x, s, { seed }, c),
): Promise<SliceResult> {
  // Attack dominates the cost (steps × forward+backward); the taps are two forwards.
  const attackShare = spec.attack === 'fgsm' ? 0.5 : 0.9;
  const attack = await attackWith(input, spec, {
    signal: control.signal,
    onProgress: (p) => control.onProgress?.({ fraction: p.fraction * attackShare, message: p.message }),
  });
  const shifts = await representationShift(model, input.images, attack.adversarial, input.shape, layers, {
    signal: control.signal,
    onProgress: (p) => control.onProgress?.({ fraction: attackShare + p.fraction * (1 - attackShare), message: p.message }),
  });
  return { attack, shifts };
}
