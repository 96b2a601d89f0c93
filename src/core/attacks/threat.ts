/**
 * Threat models: what ε means for a data set and a norm (issue #21, "ε scales").
 *
 * ε is a radius in [0, 1] pixel units, but the radius that means something depends on the data
 * and the norm: 0.3 L∞ is the standard MNIST threat model and would turn a CIFAR-10 image into
 * mush; an L2 radius grows with √(pixels). One table gives, per data family and norm:
 *
 * - `standard`: the radius the literature quotes robustness at, and the zoo's adversarially
 *   trained twins were trained and evaluated at (public/models/index.json):
 *   MNIST L∞ 0.3 and CIFAR-10 L∞ 8/255 (Madry et al., "Towards Deep Learning Models Resistant to
 *   Adversarial Attacks", ICLR 2018); CIFAR-10 L2 0.5 (RobustBench, Croce et al., NeurIPS 2021
 *   Datasets and Benchmarks); MNIST L2 2.0 (the L2 radius of the zoo's MNIST twins; Schott et al.,
 *   ICLR 2019, evaluate MNIST L2 at 1.5, Croce & Hein 2020 at 2.0).
 * - `start`: where the ε slider lands when the lab switches to this threat model.
 * - the slider's range and step, and the robustness curve's automatic ladder, which spans the
 *   threat model (0 up to about 1.33–4× the standard radius), independent of the current ε.
 *
 * Other image folders fall back by channels: one channel is read as digit-like (MNIST's pixel
 * radii), anything else as natural images (CIFAR-10's). L∞ radii are per pixel, so they carry
 * over unchanged; L2 radii scale with √(height·width·channels) relative to the reference set
 * (RobustBench's ImageNet L2 radius 3.0 at 224×224×3 is CIFAR's 0.5 × 6, √-scaling gives ×7).
 *
 * Pure data and functions: the lab's slider and setup, the curve definition and the tests use it.
 */
import type { Norm } from './common';

/** The norms the attack panel offers (core/schema.ts attackSchema.norm). */
export const THREAT_NORMS: readonly Norm[] = ['linf', 'l2'];

/**
 * Points of the robustness curve's automatic ladder, ε = 0 included: 0 and 8 evenly spaced
 * radii up to the ladder's top. Six points left the per-class "smallest breaking ε" chart flat
 * (every class broke at the same one or two rungs); eight nonzero rungs resolve it while the
 * default curve stays a few PGD-10 passes over 100 samples.
 */
export const CURVE_LADDER_POINTS = 9;

export type DataFamily = 'mnist' | 'cifar10' | 'gray' | 'color';

/** What the threat model needs to know about the data: its image shape. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface ThreatModel {
  family: DataFamily;
  /** Family and size: two threat models with the same key and norm are the same. */
  key: string;
  /** For people: "MNIST", "CIFAR-10", "grayscale 64×64", "colour 224×224". */
  dataLabel: string;
  norm: Norm;
  /** The radius the literature quotes robustness at (see the module comment for sources). */
  standard: number;
  /** Where the slider lands when the lab switches to this threat model. */
  start: number;
  /** The ε slider: 0 to max in steps of step. */
  max: number;
  step: number;
  /** The robustness curve's automatic ladder: CURVE_LADDER_POINTS values from 0 to its top. */
  ladder: number[];
  /** ε reads best in 8-bit pixel units (k/255): L∞ on natural images. */
  in255: boolean;
  source: string;
}

interface Reference {
  dataLabel: string;
  /** Pixels × channels of the reference set, for √-scaling L2 radii. */
  dims: number;
  norms: Record<Norm, { standard: number; start: number; max: number; step: number; ladderTop: number; in255: boolean; source: string }>;
}

const MNIST_REFERENCE: Reference = {
  dataLabel: 'MNIST',
  dims: 28 * 28,
  norms: {
    // Start at a third of the threat model: there the undefended model is partly broken and the
    // slider has something to show in both directions (it is also the attack schema's default ε).
    linf: { standard: 0.3, start: 0.1, max: 0.5, step: 0.01, ladderTop: 0.4, in255: false, source: 'Madry et al. 2018: MNIST L∞ ε = 0.3' },
    l2: { standard: 2, start: 1, max: 5, step: 0.1, ladderTop: 4, in255: false, source: 'the zoo’s MNIST L2 twins, Croce & Hein 2020: MNIST L2 ε = 2' },
  },
};

const CIFAR_REFERENCE: Reference = {
  dataLabel: 'CIFAR-10',
  dims: 32 * 32 * 3,
  norms: {
    linf: { standard: 8 / 255, start: 8 / 255, max: 32 / 255, step: 1 / 255, ladderTop: 16 / 255, in255: true, source: 'Madry et al. 2018, RobustBench: CIFAR-10 L∞ ε = 8/255' },
    l2: { standard: 0.5, start: 0.5, max: 2, step: 0.05, ladderTop: 2, in255: false, source: 'RobustBench: CIFAR-10 L2 ε = 0.5' },
  },
};

/** The data family of an image shape: MNIST and CIFAR-10 by their exact shapes, others by channels. */
export function dataFamilyOf(shape: ImageShape): DataFamily {
  if (shape.height === 28 && shape.width === 28 && shape.channels === 1) return 'mnist';
  if (shape.height === 32 && shape.width === 32 && shape.channels === 3) return 'cifar10';
  return shape.channels === 1 ? 'gray' : 'color';
}

/** Two significant digits: scaled L2 radii read as 3.5, not 3.4641016. */
function round2(x: number): number {
  return +x.toPrecision(2);
}

/** The evenly spaced ladder 0, top/(k−1), …, top (k = CURVE_LADDER_POINTS). */
export function evenLadder(top: number, points = CURVE_LADDER_POINTS): number[] {
  // toPrecision(12) drops float noise (0.15000000000000002) but keeps k/255 exact enough to
  // match the slider's value for the same k.
  return Array.from({ length: points }, (_, i) => +((top * i) / (points - 1)).toPrecision(12));
}

/** The threat model of a data set's images under a norm. */
export function threatModel(shape: ImageShape, norm: Norm): ThreatModel {
  const family = dataFamilyOf(shape);
  const ref = family === 'mnist' || family === 'gray' ? MNIST_REFERENCE : CIFAR_REFERENCE;
  const row = ref.norms[norm];
  const dims = shape.height * shape.width * shape.channels;
  const reference = family === 'mnist' || family === 'cifar10';
  // L2: a perturbation of the same per-pixel size has √(dims) times the norm.
  const scale = norm === 'l2' && !reference ? Math.sqrt(dims / ref.dims) : 1;
  const sized = (x: number) => (scale === 1 ? x : round2(x * scale));
  const dataLabel = reference ? ref.dataLabel : `${family === 'gray' ? 'grayscale' : 'colour'} ${shape.height}×${shape.width}`;
  return {
    family,
    key: reference ? family : `${family}-${shape.height}x${shape.width}x${shape.channels}`,
    dataLabel,
    norm,
    standard: sized(row.standard),
    start: sized(row.start),
    max: sized(row.max),
    step: scale === 1 ? row.step : +(row.step * scale).toPrecision(1),
    ladder: evenLadder(sized(row.ladderTop)),
    in255: row.in255,
    source: reference ? row.source : `${row.source}, scaled from ${ref.dataLabel} by √(pixels) for L2`,
  };
}

/** ε as people read it: "8/255 = 0.031" for L∞ on natural images, else the decimal. */
export function formatEps(eps: number, tm: Pick<ThreatModel, 'in255'>): string {
  const decimal = +eps.toPrecision(3);
  if (!tm.in255) return String(decimal);
  const k = eps * 255;
  const k1 = Math.round(k * 10) / 10;
  return `${Number.isInteger(k1) ? k1 : k1.toFixed(1)}/255 = ${decimal}`;
}

/** What the lab knows before and after a change: the data's shape (null while unknown) and the norm. */
export interface ThreatSetting {
  shape: ImageShape | null;
  norm: Norm;
}

/**
 * The rescale rule: when a change moves the lab to another threat model (other data family or
 * size, or other norm) and does not state ε itself, ε goes to the new threat model's start,
 * with a one-line notice saying so. An ε the change states (a shared URL, a preset) is kept.
 * Returns null when ε stays.
 */
export function rescaleEps(before: ThreatSetting, after: ThreatSetting, eps: number, epsStated: boolean): { eps: number; notice: string } | null {
  if (epsStated || !after.shape) return null;
  const next = threatModel(after.shape, after.norm);
  const prev = before.shape ? threatModel(before.shape, before.norm) : null;
  if (prev && prev.key === next.key && prev.norm === next.norm) return null;
  if (eps === next.start) return null;
  const normLabel = next.norm === 'linf' ? 'L∞' : 'L2';
  // The old ε as the old threat model wrote it (8/255 = 0.0314 on CIFAR-10 L∞).
  return { eps: next.start, notice: `ε set to ${formatEps(next.start, next)} for ${next.dataLabel} ${normLabel} (was ${formatEps(eps, prev ?? { in255: false })})` };
}
