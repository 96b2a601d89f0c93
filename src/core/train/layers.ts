/**
 * Every layer while it learns (issue #25): the lab's own layer-shift analysis (relative
 * representation shift ‖a(x′) − a(x)‖ / ‖a(x)‖ per layer, src/core/analysis/shift.ts) run on
 * the trainer's current weights. The weights go through the very files a snapshot writes and
 * the product's model loader, so the layers, their names and their numbers are those the
 * layer-shift view shows when the snapshot is loaded as a model; nothing is re-implemented.
 */
import type * as tf from '@tensorflow/tfjs';
import { tappedLayers } from '../analyses/context';
import { representationShift } from '../analysis/shift';
import { runAttack } from '../attacks/runner';
import { loadLabModel, type LabModel } from '../model/model';
import { deriveSeed } from '../random';
import type { ImageDataset, JobControl } from '../types';
import { exportModelFiles } from './export';
import type { Trainer } from './trainer';

export interface TrainLayerProbe {
  step: number;
  /** FGSM at the training ε and norm: the cheap attack of the lab's drag preview. */
  eps: number;
  layers: { layer: string; mean: number; median: number }[];
}

/**
 * `fn` on `trainer`'s current weights loaded as a lab model: exported as the snapshot files and
 * read back by the product's loader (so every live analysis sees the model a snapshot gives).
 */
export async function withTrainerModel<T>(trainer: Trainer, classNames: string[], fn: (model: LabModel) => Promise<T>): Promise<T> {
  const { files } = await exportModelFiles(trainer.net, {
    id: 'training', label: 'the weights being trained', dataset: 'mnist-train', classNames,
    recipe: { ...trainer.options, data: 'mnist', probeN: 0 }, stepsDone: trainer.stepsDone, epochsDone: trainer.stepsDone / trainer.stepsPerEpoch, backend: '', seconds: 0,
  });
  const read = async (name: string) => {
    const f = files[name];
    if (f === undefined) throw new Error(`no file ${name}`);
    return typeof f === 'string' ? new TextEncoder().encode(f) : f;
  };
  const model = await loadLabModel('model.json', read, 'the weights being trained');
  try {
    return await fn(model);
  } finally {
    model.dispose();
  }
}

/** The layer shift of `model` (the trainer's weights at `step`) on the first `n` images of `probe`. */
export async function modelLayerShift(model: LabModel, trainer: Trainer, probe: ImageDataset, n: number, control: JobControl = {}): Promise<TrainLayerProbe> {
  const shape: [number, number, number] = [probe.height, probe.width, probe.channels];
  const count = Math.min(n, probe.n);
  const d = shape[0] * shape[1] * shape[2];
  const images = probe.images.subarray(0, count * d);
  const eps = trainer.options.eps;
  const attack = await runAttack(
    (x: tf.Tensor4D) => model.logits(x),
    { images, labels: probe.labels.subarray(0, count), shape },
    { attack: 'fgsm', norm: trainer.options.norm as 'linf' | 'l2', eps, steps: 1 },
    { seed: deriveSeed(trainer.options.seed, 'train-layer-probe') },
    control,
  );
  const shifts = await representationShift(model, images, attack.adversarial, shape, tappedLayers(model, []), control);
  return { step: trainer.stepsDone, eps, layers: shifts.map((s) => ({ layer: s.layer, mean: s.mean, median: s.median })) };
}

/** The layer shift of `trainer`'s current weights on the first `n` images of `probe`. */
export async function trainerLayerShift(trainer: Trainer, probe: ImageDataset, n: number, control: JobControl = {}): Promise<TrainLayerProbe> {
  return withTrainerModel(trainer, probe.classNames, (model) => modelLayerShift(model, trainer, probe, n, control));
}
