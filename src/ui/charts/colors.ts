/**
 * Shared colour choices for every chart, so a class or an ε looks the same in the
 * layer chart, the embedding view and the exported files.
 */
import { color, interpolateViridis, schemeTableau10 } from 'd3';

/**
 * Colour of class k. Tableau10 is designed for categorical distinctness and stays legible
 * for common colour-vision deficiencies better than d3.schemeCategory10. Datasets with more
 * than ten classes wrap around: colour then stops being unique, so views must not rely on it
 * alone (labels and tooltips carry the class name).
 */
export function classColor(k: number): string {
  const n = schemeTableau10.length;
  const i = Number.isFinite(k) ? ((Math.trunc(k) % n) + n) % n : 0;
  return schemeTableau10[i];
}

/**
 * Viridis spans dark purple (0) to pale yellow (1). The last ~15% is too light to read as a
 * thin line on a white background, so the largest ε stops at 0.85 instead.
 */
const EPS_T_MAX = 0.85;

/**
 * Colour of a perturbation budget on the ε ladder: sequential (perceptually uniform, so a
 * larger ε reads as "more"), scaled to the largest ε shown. ε = 0 (the clean baseline) gets
 * the darkest colour. A missing or non-positive maxEps maps everything to the start.
 */
export function epsColor(eps: number, maxEps: number): string {
  const t = maxEps > 0 && Number.isFinite(eps) ? Math.min(1, Math.max(0, eps / maxEps)) : 0;
  return interpolateViridis(t * EPS_T_MAX);
}

/** Accent for highlighted (selected/brushed) samples: orange contrasts with every viridis hue. */
export const HIGHLIGHT_COLOR = '#f28e2b';
/** Accent for the single hovered sample: red, so it stands out even among highlighted ones. */
export const HOVER_COLOR = '#e15759';

const BLUE = '#1f6feb';
const RED = '#d1495b';

/**
 * Semantic colours: one meaning, one colour, in every view and chart. Model A is blue and
 * solid, model B red and dashed; within one model, clean is blue and adversarial red (the
 * same two hues, so "A / clean" and "B / adversarial" read alike across views).
 */
const SEMANTIC = {
  modelA: BLUE,
  modelB: RED,
  /** A model's secondary series (attacked probes, mean over draws, seed means): lighter, hollow markers. */
  modelALight: '#7aa6f0',
  modelBLight: '#e89aa5',
  clean: BLUE,
  adversarial: RED,
  /** The other of A/B when one view shows a single model's result (t-SNE overlap chart). */
  otherModel: '#2f7d4f',
  /** Samples two models rank far apart (the logit rank scatter and its image row: "red"). */
  far: RED,
  /** Points a model gets wrong, ringed (t-SNE scatter). */
  misclassified: '#b42318',
  /** The current x (e.g. the lab's ε) marked on a chart. */
  current: BLUE,
  /** Baselines and controls: the 50-D PCA baseline; the permutation control, ordinary points. */
  baseline: '#555',
  control: '#888',
  /** Reference rules (log 2, chance) and their labels; the y = x diagonal. */
  rule: '#999',
  ruleText: '#777',
  diagonal: '#bbb',
  /** Graph edges at rest, and edges / outlines of the focused vertex. */
  edge: '#999',
  focus: '#222',
  /** Captions and notes drawn inside a chart. */
  note: '#666',
  /** The brush rectangle being dragged on a canvas. */
  brush: '#333',
  /** A heat-map cell whose value has not arrived yet. */
  pending: '#f4f4f4',
  /** Numbers on heat-map cells: light ink on dark cells, dark ink on light ones. */
  inkOnDark: '#fff',
  inkOnLight: '#000',
  /** Fill of hollow markers (the page background). */
  paper: '#fff',
};
export const COLOR: Readonly<typeof SEMANTIC> = SEMANTIC;

/**
 * The adversarial variant of a series colour in a clean-vs-adversarial pair of histograms
 * (same hue, brighter; d3's brighter(1.2)).
 */
export function adversarialVariant(c: string): string {
  return color(c)?.brighter(1.2)?.formatHex() ?? c;
}
