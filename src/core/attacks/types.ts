import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random';
import type { Norm } from './common';

export type AttackName = 'gaussian' | 'fgsm' | 'bim' | 'pgd' | 'apgd-ce' | 'apgd-dlr' | 'apgd-t' | 'aa' | 'deepfool' | 'fab' | 'cw';

/** Parameters of one attack run. Step size and steps are ignored by FGSM. */
export interface AttackSpec {
  attack: AttackName;
  norm: Norm;
  /** Radius of the threat-model ball, in [0, 1] pixel units. */
  eps: number;
  steps: number;
  /** Absolute step size α; when omitted, 2.5·eps/steps (Madry et al.). C&W: the Adam learning rate (default 0.01). */
  stepSize?: number;
  /** APGD-CE/DLR: passes over the still-robust samples (AutoAttack standard: 1). FAB: runs, the later ones from a random start. */
  restarts?: number;
  /** C&W: rounds of the per-sample binary search on the constant c (default 9); `steps` is the Adam steps per round. */
  searchSteps?: number;
  /** C&W: initial constant c of the misclassification term (torchattacks: 1). */
  initialConstant?: number;
  /** C&W: confidence κ, the logit margin by which the adversarial must be misclassified (default 0). */
  confidence?: number;
  /** APGD-T: number of target classes, ranked by clean logit (AutoAttack: 9). */
  targets?: number;
  /**
   * APGD-T: one explicit target class for every sample instead of the clean-logit ranking
   * (one pass; a sample of that class is pushed toward its most likely other class instead).
   */
  targetClass?: number;
  /** Gaussian noise: number of draws R (reference: 10); `eps` is σ. */
  draws?: number;
}

/** What a batch attack sees: one fixed-size batch, everything as tensors. */
export interface BatchContext {
  logits: (x: tf.Tensor4D) => tf.Tensor2D;
  x0: tf.Tensor4D;
  labels: tf.Tensor1D;
  /** Samples to attack (clean-correct and not padding). bool [B]. */
  active: tf.Tensor1D;
  spec: AttackSpec;
  rng: Rng;
  signal?: AbortSignal;
  /** Called after each gradient step with the step index (1-based). */
  onStep?: (step: number) => void;
}

/** Tensors a batch attack returns; the runner owns and disposes them. */
export interface BatchOutcome {
  adversarial: tf.Tensor4D;
  /** First iterate index that misclassified (0 = the random start / FGSM step), −1 never. int32 [B]. */
  firstSuccessStep: tf.Tensor1D;
  /** Samples whose first input gradient was exactly zero (a gradient-masking symptom). bool [B]. */
  zeroGradient: tf.Tensor1D;
  /** Gaussian noise: fraction of draws still classified correctly, per sample. */
  correctFraction?: tf.Tensor1D;
  /** Minimum-norm attacks (DeepFool, FAB, C&W): the perturbation is not bounded by ε. */
  minimumNorm?: boolean;
}

/** Per-sample outcome of an attack over a whole sample set. */
export interface AttackResult {
  spec: AttackSpec & { stepSize: number };
  n: number;
  shape: [number, number, number];
  /** Adversarial images, NHWC float32 in [0, 1]; equal to the clean image where not attacked. */
  adversarial: Float32Array;
  labels: Int32Array;
  cleanPred: Int32Array;
  advPred: Int32Array;
  /** Softmax probability of the predicted class. */
  cleanConfidence: Float32Array;
  advConfidence: Float32Array;
  /** Clean-correct and misclassified after the attack. */
  success: Uint8Array;
  linf: Float32Array;
  l2: Float32Array;
  /** Step at which the attack first succeeded (0-based iterate index), −1 if never. */
  firstSuccessStep: Int32Array;
  /**
   * Attacked (clean-correct) samples whose first input gradient was exactly zero, or whose
   * adversarial image equals the clean one although ε > 0: a sign of gradient masking or a
   * broken model or kernel; their robustness is unproven.
   */
  zeroGradient: Uint8Array;
  /**
   * Minimum-norm attacks: the norm of the smallest perturbation found per sample, measured
   * in the attack's norm (L2 for DeepFool and C&W, L-inf or L2 for FAB); ∞ if none found.
   */
  minimalNorm?: Float32Array;
  /** Gaussian noise: accuracy averaged over all draws (spec §1), alongside the any-draw robust accuracy. */
  meanDrawAccuracy?: number;
  cleanAccuracy: number;
  robustAccuracy: number;
  /** Samples processed; smaller than n only in a cancelled partial result. */
  completed: number;
}
