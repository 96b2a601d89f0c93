/**
 * The training definition: one parameter schema (src/core/schema.ts) for the Train view's
 * controls, the URL hash and `layerwise train`'s flags and --help, so the three cannot drift.
 * URL keys all start with "tr" (no other schema's key does; the lab's duplicate-key test checks
 * the groups it holds). Defaults: the zoo's MNIST small-CNN recipe (Adam 1e-3, batch 128), PGD
 * at MNIST's L∞ ε = 0.3 when a robust method is picked, probes every 50 steps.
 */
import { flagOf, formatValue, param, type ParamDef, type Values } from '../schema';
import { classBalancedSample, takeSamples } from '../data/sampler';
import { deriveSeed } from '../random';
import type { ImageDataset } from '../types';

export const trainSchema = {
  data: param.text({ url: 'trdata', label: 'Training data', default: 'mnist', help: 'mnist (the 60,000-image train split; probes on the MNIST test set), or a path: an MNIST IDX pair, CIFAR-10 batches or an image folder (the probe set is held out from it).' }),
  arch: param.select({
    url: 'trarch', label: 'Architecture', default: 'small',
    options: [
      { value: 'mlp', label: 'MLP (flatten, 256, 256)' },
      { value: 'small', label: 'Small CNN (Gowal et al. 2018; the zoo’s mnist-small)' },
      { value: 'medium', label: 'Medium CNN (Gowal et al. 2018; the zoo’s mnist-medium)' },
      { value: 'resnet', label: 'ResNet-8 with BatchNorm (He et al. 2016)' },
    ],
  }),
  method: param.select({
    url: 'trmethod', label: 'Method', default: 'standard',
    options: [
      { value: 'standard', label: 'Standard (clean cross-entropy)' },
      { value: 'fgsm-rs', label: 'FGSM-RS fast AT (Wong et al. 2020)' },
      { value: 'pgd', label: 'PGD-AT (Madry et al. 2018)' },
      { value: 'trades', label: 'TRADES (Zhang et al. 2019)' },
    ],
  }),
  norm: param.select({ url: 'trnorm', label: 'Norm', default: 'linf', options: [{ value: 'linf', label: 'L∞' }, { value: 'l2', label: 'L2' }] }),
  eps: param.number({ url: 'treps', label: 'ε', default: 0.3, min: 0, max: 50, step: 0.005, help: 'Training radius (and the probe’s PGD radius) in [0, 1] pixel units.' }),
  epsRamp: param.number({ url: 'trramp', label: 'ε ramp (epochs)', default: 0, min: 0, max: 1000, step: 0.1, help: 'ε and α grow linearly from 0 over this many epochs, per batch (0 = full ε from the start).' }),
  steps: param.int({ url: 'trk', label: 'Attack steps k', default: 7, min: 1, max: 1000, step: 1, help: 'PGD-AT and TRADES inner steps; FGSM-RS takes one.' }),
  stepSize: param.number({ url: 'tralpha', label: 'Step size α (0 = auto)', default: 0, min: 0, max: 50, step: 0.001, help: '0 = 1.25·ε for FGSM-RS, 2.5·ε/k for PGD-AT and TRADES.' }),
  beta: param.number({ url: 'trbeta', label: 'TRADES β', default: 6, min: 0, max: 1000, step: 0.5, help: 'Weight of the KL term (Zhang et al. use 6).' }),
  optimizer: param.select({ url: 'tropt', label: 'Optimiser', default: 'adam', options: [{ value: 'sgd', label: 'SGD with momentum' }, { value: 'adam', label: 'Adam' }] }),
  lr: param.number({ url: 'trlr', label: 'Learning rate', default: 0.001, min: 0, max: 10, step: 0.0001 }),
  momentum: param.number({ url: 'trmom', label: 'Momentum (SGD)', default: 0.9, min: 0, max: 0.999, step: 0.01 }),
  nesterov: param.int({ url: 'trnest', label: 'Nesterov (SGD)', default: 1, min: 0, max: 1, step: 1 }),
  weightDecay: param.number({ url: 'trwd', label: 'Weight decay', default: 0, min: 0, max: 1, step: 0.0001, help: 'Coupled L2, as PyTorch’s weight_decay.' }),
  schedule: param.select({
    url: 'trsched', label: 'LR schedule', default: 'constant',
    options: [
      { value: 'constant', label: 'constant' },
      { value: 'step', label: 'step (×0.1 at 50 % and 75 %)' },
      { value: 'cosine', label: 'cosine' },
      { value: 'onecycle', label: 'one-cycle (up 40 %, down 60 %)' },
    ],
  }),
  batch: param.int({ url: 'trbatch', label: 'Batch size', default: 128, min: 2, max: 4096, step: 1 }),
  epochs: param.int({ url: 'trepochs', label: 'Epochs', default: 1, min: 1, max: 1000, step: 1 }),
  maxSteps: param.int({ url: 'trmax', label: 'Max steps (0 = all)', default: 0, min: 0, max: 2 ** 31 - 1, step: 1, help: 'Stop after this many batches; the schedule then spans these steps.' }),
  probeEvery: param.int({ url: 'trpe', label: 'Probe every (steps)', default: 50, min: 1, max: 1_000_000, step: 1, help: 'Loss, clean and PGD robust accuracy on the fixed probe set every this many steps (and at the end).' }),
  probeN: param.int({ url: 'trpn', label: 'Probe images', default: 500, min: 1, max: 10_000, step: 1 }),
  probeSteps: param.int({ url: 'trps', label: 'Probe PGD steps', default: 10, min: 1, max: 1000, step: 1 }),
  seed: param.int({ url: 'trseed', label: 'Master seed', default: 0, min: 0, max: 2 ** 31 - 1, step: 1, help: 'Drives initialisation, data order, random starts and the probe sample.' }),
};

export type TrainSchema = typeof trainSchema;
export type TrainValues = Values<TrainSchema>;

/** The `layerwise train` command that reproduces `values` (non-default flags, the seed and the backend always: bit-identity holds per backend). */
export function trainCommand(values: TrainValues, out: string, backend: string): string {
  const parts = ['layerwise', 'train'];
  for (const [key, d] of Object.entries(trainSchema) as [string, ParamDef][]) {
    const v = (values as Record<string, unknown>)[key];
    if (key !== 'seed' && key !== 'data' && formatValue(v) === formatValue(d.default)) continue;
    parts.push(`--${flagOf(key, d)}`, formatValue(v));
  }
  parts.push('--backend', backend, '--out', out);
  return parts.map((p) => (/^[\w.,/:=+-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * The probe set of a run on the MNIST train split: a class-balanced sample of the MNIST test
 * set drawn from the master seed, the same in the lab's Train view and in `layerwise train`.
 */
export function mnistProbeSample(test: ImageDataset, probeN: number, seed: number): ImageDataset {
  const n = Math.min(probeN, test.n);
  return takeSamples(test, classBalancedSample(test.labels, test.classNames.length, n, deriveSeed(seed, 'probe-sample')));
}
