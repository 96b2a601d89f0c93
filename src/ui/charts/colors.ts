/**
 * Shared colour choices for every chart, so a class or an ε looks the same in the
 * layer chart, the embedding view and the exported files.
 */
import { interpolateViridis, schemeTableau10 } from 'd3';

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
