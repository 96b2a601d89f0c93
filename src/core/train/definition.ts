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
import { LabError, type ImageDataset } from '../types';

export const trainSchema = {
  data: param.text({ url: 'trdata', label: 'Training data', default: 'mnist', help: 'mnist (the 60,000-image train split; probes on the MNIST test set), or a path: an MNIST IDX pair, CIFAR-10 batches or an image folder (the probe set is held out from it). In the lab, user:NAME is data you load (a link names it but cannot carry its files).' }),
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
  probeTsne: param.text({ url: 'trtsne', label: 't-SNE layer (live)', default: 'off', help: 'After each probe, the lab’s t-SNE of this layer on the first 200 probe images, each probe’s layout warm-started from the last so the points move as the model learns: off, auto (the last hidden layer), or a layer name.' }),
  probeMftma: param.text({ url: 'trmftma', label: 'MFTMA layer (live)', default: 'off', help: 'After each probe, the MFTMA capacity of this layer’s clean class manifolds (P classes × M = 20 probe images): off, auto (the last hidden layer), or a layer name.' }),
  seed: param.int({ url: 'trseed', label: 'Master seed', default: 0, min: 0, max: 2 ** 31 - 1, step: 1, help: 'Drives initialisation, data order, random starts and the probe sample.' }),
};

export type TrainSchema = typeof trainSchema;
export type TrainValues = Values<TrainSchema>;

/**
 * The second run of the Train view (issue #25: "train a standard and an adversarially trained
 * model on the same data order and seed, interleaved"): run B is run A's recipe (architecture,
 * optimiser, schedule, batch, epochs, seed: so the same batches in the same order) with its own
 * method, norm, ε and attack steps. Its URL keys start with "tr2" (no other key does).
 */
export const trainBSchema = {
  on: param.int({ url: 'tr2', label: 'Second run B (side by side)', default: 0, min: 0, max: 1, step: 1, help: '1 = train a second model B with the same recipe, seed and batches, interleaved with A (A step, B step), with the method below.' }),
  method: param.select({ ...trainSchema.method, url: 'tr2method', label: 'B: method', default: 'pgd' }),
  norm: param.select({ ...trainSchema.norm, url: 'tr2norm', label: 'B: norm' }),
  eps: param.number({ ...trainSchema.eps, url: 'tr2eps', label: 'B: ε' }),
  steps: param.int({ ...trainSchema.steps, url: 'tr2k', label: 'B: attack steps k' }),
  stepSize: param.number({ ...trainSchema.stepSize, url: 'tr2alpha', label: 'B: step size α (0 = auto)' }),
  beta: param.number({ ...trainSchema.beta, url: 'tr2beta', label: 'B: TRADES β' }),
};

export type TrainBValues = Values<typeof trainBSchema>;

/** Run B's full recipe: run A's with B's method, norm, ε and attack settings. */
export function secondRunValues(a: TrainValues, b: TrainBValues): TrainValues {
  return { ...a, method: b.method, norm: b.norm, eps: b.eps, steps: b.steps, stepSize: b.stepSize, beta: b.beta };
}

/** A run's name in legends and snapshot ids: architecture, method and (for a robust method) norm and ε. */
export function recipeName(v: Pick<TrainValues, 'arch' | 'method' | 'norm' | 'eps'>): string {
  return v.method === 'standard' ? `${v.arch} standard` : `${v.arch} ${v.method} ${v.norm === 'l2' ? 'L2' : 'L∞'} ε=${v.eps}`;
}

export interface TrainPreset {
  id: string;
  label: string;
  help: string;
  /** Every value of both groups is set (a preset is a whole recipe, not a patch on the last one). */
  train: Partial<TrainValues>;
  trainB: Partial<TrainBValues>;
}

/**
 * One-click recipes. The first is the seed papers' contrast on the zoo's small CNN (Madry et al.
 * 2018's MNIST threat model, L∞ ε = 0.3, PGD-AT with k = 7 and α = 2.5·ε/k, ε ramped over the
 * first half epoch as Gowal et al. 2018 do, since PGD-AT at full ε from the start can stall on
 * MNIST); the second a seconds-long MLP demo; the third an epoch short enough to see epoch
 * snapshots at once (batch 4,096: 14 steps per epoch).
 */
export const TRAIN_PRESETS: TrainPreset[] = [
  {
    id: 'small-st-vs-pgd',
    label: 'MNIST small CNN: standard vs PGD-AT ε = 0.3',
    help: 'Two small CNNs on the same batches, one epoch (468 steps): A standard, B PGD-AT (k = 7, ε ramped over half an epoch). Minutes on WASM.',
    train: { arch: 'small', method: 'standard', norm: 'linf', eps: 0.3, epsRamp: 0.5, optimizer: 'adam', lr: 0.001, schedule: 'constant', batch: 128, epochs: 1, maxSteps: 0, probeEvery: 50, probeN: 500, probeSteps: 10 },
    trainB: { on: 1, method: 'pgd', norm: 'linf', eps: 0.3, steps: 7, stepSize: 0 },
  },
  {
    id: 'mlp-quick',
    label: 'MLP quick demo (seconds)',
    help: 'Two MLPs, 300 steps of batch 64: A standard, B FGSM-RS at ε = 0.1; probes of 200 images every 25 steps.',
    train: { arch: 'mlp', method: 'standard', norm: 'linf', eps: 0.1, epsRamp: 0, optimizer: 'adam', lr: 0.001, schedule: 'constant', batch: 64, epochs: 1, maxSteps: 300, probeEvery: 25, probeN: 200, probeSteps: 5 },
    trainB: { on: 1, method: 'fgsm-rs', norm: 'linf', eps: 0.1, steps: 1, stepSize: 0 },
  },
  {
    id: 'mlp-epochs',
    label: 'MLP, whole epochs (an epoch snapshot every 14 steps)',
    help: 'Batch 4,096 makes an MNIST epoch 14 steps: three epochs, standard vs FGSM-RS ε = 0.1, a snapshot kept at each epoch end.',
    train: { arch: 'mlp', method: 'standard', norm: 'linf', eps: 0.1, epsRamp: 0, optimizer: 'adam', lr: 0.003, schedule: 'constant', batch: 4096, epochs: 3, maxSteps: 0, probeEvery: 7, probeN: 200, probeSteps: 5 },
    trainB: { on: 1, method: 'fgsm-rs', norm: 'linf', eps: 0.1, steps: 1, stepSize: 0 },
  },
];

/** The `layerwise train` command that reproduces `values` (non-default flags, the seed and the backend always: bit-identity holds per backend). */
export function trainCommand(values: TrainValues, out: string, backend: string): string {
  const parts = ['layerwise', 'train'];
  for (const [key, d] of Object.entries(trainSchema) as [string, ParamDef][]) {
    const v = (values as Record<string, unknown>)[key];
    if (key !== 'seed' && key !== 'data' && formatValue(v) === formatValue(d.default)) continue;
    parts.push(`--${flagOf(key, d)}`, key === 'data' ? cliDataArg(String(v)) : formatValue(v));
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

/**
 * Training data the user loaded in the lab is `user:NAME` in the recipe and the URL: NAME is the
 * folder they chose, the one file, or for several loose files the first with "+N" (a link names
 * the data but cannot carry its files, as with the user's own models: src/ui/byo.ts).
 */
export const USER_DATA_PREFIX = 'user:';

/** NAME of a `user:NAME` data value, or null for mnist and paths. */
export function userDataName(data: string): string | null {
  return data.startsWith(USER_DATA_PREFIX) ? data.slice(USER_DATA_PREFIX.length) || 'data' : null;
}

/** The `user:` value for files the user chose: the folder's name, the one file's, or the first file's with "+N". */
export function userDataValue(names: { folder?: string; files: readonly string[] }): string {
  const first = [...names.files].sort()[0] ?? 'data';
  return USER_DATA_PREFIX + (names.folder || (names.files.length > 1 ? `${first} +${names.files.length - 1}` : first));
}

/**
 * `--data` for the CLI command of a recipe: mnist and paths as they are; the user's folder or
 * file by its name (the CLI takes it as a path on the user's disk); several loose files as a
 * placeholder for a folder holding just them, since `--data` takes one path and a folder with
 * more batches (test_batch.bin) would train on those too.
 */
export function cliDataArg(data: string): string {
  const name = userDataName(data);
  if (name === null) return data;
  const loose = /^(.*) \+(\d+)$/.exec(name);
  return loose ? `<folder holding ${loose[1]} and the ${loose[2]} other files>` : name;
}

/**
 * The probe set held out of a training set the user gives (`layerwise train --data PATH` and
 * the Train view's loaded data): a class-balanced sample of `probeN` drawn from the master
 * seed; the rest, in their order, is the training set. One function for the lab and the CLI,
 * so the same data and seed give the same split in both (definition.test.ts).
 */
export function holdOutProbe(all: ImageDataset, probeN: number, seed: number): { train: ImageDataset; probe: ImageDataset; held: Int32Array } {
  if (probeN >= all.n) throw new LabError(`${probeN} probe images leave no training images in ${all.id} (${all.n} images); lower the probe images`);
  const held = classBalancedSample(all.labels, all.classNames.length, probeN, deriveSeed(seed, 'probe-sample'));
  const heldSet = new Set(held);
  const rest = Int32Array.from({ length: all.n }, (_, i) => i).filter((i) => !heldSet.has(i));
  return {
    train: takeSamples(all, rest, { id: `${all.id}-train`, name: `${all.name} (training part)` }),
    probe: takeSamples(all, held, { id: `${all.id}-probe` }),
    held,
  };
}
