/**
 * Learning-rate schedules and the ε ramp, as functions of the step (0-based) and the run's
 * total steps, so a run cut short by --max-steps follows the same curve compressed, and a
 * resumed run continues it. Cosine uses detmath, not Math.cos: the same bits in every
 * browser and in Node (src/core/detmath.ts), which bit-identical weights need.
 */
import { detSinCos } from '../detmath';

export type ScheduleName = 'constant' | 'step' | 'cosine' | 'onecycle';

/**
 * The learning rate of step `step` of `total`:
 *  - constant: lr;
 *  - step: lr × 0.1 from 50 % and again from 75 % of the steps (He et al. 2016 decay at 32k
 *    and 48k of 64k iterations);
 *  - cosine: lr · ½(1 + cos(π·t/T)) (Loshchilov & Hutter, ICLR 2017, SGDR without restarts);
 *  - onecycle: linear 0 → lr over the first 40 % of the steps, then linear → 0 at the end
 *    (Smith & Topin 2019; the short cyclic schedule of Wong et al. 2020 "Fast is better than
 *    free", as tools/zoo/train.py runs it: t = (step + 0)/T, so the first step has lr 0 only
 *    when t = 0 — as there, the first batch does not move the weights).
 */
export function learningRate(schedule: ScheduleName, lr: number, step: number, total: number): number {
  const t = total > 0 ? Math.min(1, step / total) : 0;
  switch (schedule) {
    case 'constant':
      return lr;
    case 'step':
      return lr * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1);
    case 'cosine':
      return lr * 0.5 * (1 + detSinCos(Math.PI * t)[1]);
    case 'onecycle':
      return lr * (t < 0.4 ? t / 0.4 : Math.max(0, (1 - t) / 0.6));
  }
}

/**
 * The fraction of ε (and of the attack step size) at step `step`: grows linearly from 1/R to 1
 * over the first R = rampEpochs·stepsPerEpoch steps, then stays at 1 (tools/zoo/train.py
 * --eps-ramp; Gowal et al. 2018 ramp ε the same way). No ramp: 1 from the start.
 */
export function epsFraction(step: number, rampEpochs: number, stepsPerEpoch: number): number {
  const rampSteps = rampEpochs * stepsPerEpoch;
  if (rampSteps <= 0) return 1;
  return Math.min(1, (step + 1) / rampSteps);
}
