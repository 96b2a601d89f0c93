/**
 * The lab's threat model (core/attacks/threat.ts) from what the store knows: the data set's
 * image shape (the loaded one's, or a built-in's from the data index) and the attack's norm.
 */
import type { Norm } from '../core/attacks/common';
import { threatModel, type ImageShape, type ThreatModel } from '../core/attacks/threat';
import { useLab, type Params } from './store';

/** MNIST's shape, for the moments before any data set is known (the lab boots on MNIST). */
const BOOT_SHAPE: ImageShape = { height: 28, width: 28, channels: 1 };

/** The image shape of a data set id: the loaded one's, or a built-in's from the data index (null while unknown). */
export function shapeOfData(id: string): ImageShape | null {
  const s = useLab.getState();
  const entry = s.datasets.find((d) => d.id === id);
  if (entry) return { height: entry.height, width: entry.width, channels: entry.channels };
  if (s.dataset && id === s.params.setup.data) return { height: s.dataset.shape[0], width: s.dataset.shape[1], channels: s.dataset.shape[2] };
  return null;
}

/** The threat model of a setup (MNIST's while its data's shape is unknown). */
export function threatOf(params: Params): ThreatModel {
  return threatModel(shapeOfData(params.setup.data) ?? BOOT_SHAPE, params.attack.norm as Norm);
}
