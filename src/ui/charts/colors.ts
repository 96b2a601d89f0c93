/**
 * Shared colour choices for every chart, so a class or an ε looks the same in the
 * layer chart, the embedding view and the exported files.
 */
import { color, interpolateMagma, interpolateViridis } from 'd3';

/**
 * Class palette: the seven Okabe–Ito hues (Okabe & Ito 2008, "Color Universal Design"; black
 * left out because it is the misclassified marker) plus three darker hues so ten classes
 * (MNIST, CIFAR-10) each get their own. Unlike Tableau 10 (min ΔE76 between two classes 0.9
 * under simulated deuteranopia) every pair stays ≥ 13 ΔE apart under protan-, deutan- and
 * tritanopia (Machado et al. 2009 simulation; colors.test.ts measures it).
 */
export const CLASS_PALETTE: readonly string[] = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#882255', '#999933', '#332288'];

/**
 * Colour of class k. Datasets with more than ten classes wrap around: colour then stops
 * being unique, so views must not rely on it alone (the key and tooltips carry the class name).
 */
export function classColor(k: number): string {
  const n = CLASS_PALETTE.length;
  const i = Number.isFinite(k) ? ((Math.trunc(k) % n) + n) % n : 0;
  return CLASS_PALETTE[i];
}

/**
 * The ε colours: a sequential scale (magma: dark = small ε, light = large; perceptually
 * ordered and readable with colour-vision deficiencies) cut into EPS_SLOTS discrete colours.
 * Twelve slots keep neighbouring slots ≥ 11 ΔE76 apart; the light end stops at 0.85 because
 * paler colours vanish as thin lines on white.
 */
export const EPS_SLOTS = 12;
const EPS_T_MIN = 0.05;
const EPS_T_MAX = 0.85;
const epsSlotColors: readonly string[] = Array.from({ length: EPS_SLOTS }, (_, i) => color(interpolateMagma(EPS_T_MIN + ((EPS_T_MAX - EPS_T_MIN) * i) / (EPS_SLOTS - 1)))!.formatHex());

/**
 * A stable colour per ε while the page is open. Each ε is placed on the fixed range of its
 * threat model (0 … the slider's maximum for that norm and data set, never the largest ε
 * shown), so its colour does not depend on which other ε are on the ladder. The first time an
 * ε is seen it takes the slot its value asks for, or the nearest free one when a nearby ε
 * already holds it (neighbouring ε stay distinguishable); from then on it keeps that colour,
 * however the ladder grows. Only when all slots are taken do two ε share a colour.
 */
export class EpsColors {
  private readonly slotOf = new Map<string, number>();
  private readonly owner: (number | null)[] = new Array<number | null>(EPS_SLOTS).fill(null);

  constructor(readonly maxEps: number) {}

  /** Slot an ε would take on an empty palette: its position on the threat-model range. */
  idealSlot(eps: number): number {
    const t = this.maxEps > 0 && Number.isFinite(eps) ? Math.min(1, Math.max(0, eps / this.maxEps)) : 0;
    return Math.round(t * (EPS_SLOTS - 1));
  }

  slot(eps: number): number {
    const key = epsKey(eps);
    const known = this.slotOf.get(key);
    if (known !== undefined) return known;
    const ideal = this.idealSlot(eps);
    let chosen = ideal;
    if (this.owner[ideal] !== null) {
      // Nearest free slot; on a tie, the side that keeps the order with the slot's owner.
      const preferUp = eps > (this.owner[ideal] as number);
      chosen = ideal;
      for (let d = 1; d < EPS_SLOTS; d++) {
        const order = preferUp ? [ideal + d, ideal - d] : [ideal - d, ideal + d];
        const free = order.find((s) => s >= 0 && s < EPS_SLOTS && this.owner[s] === null);
        if (free !== undefined) {
          chosen = free;
          break;
        }
      }
    }
    if (this.owner[chosen] === null) this.owner[chosen] = eps;
    this.slotOf.set(key, chosen);
    return chosen;
  }

  color(eps: number): string {
    return epsSlotColors[this.slot(eps)];
  }
}

/** ε values that print the same (8/255 computed twice) are one ε. */
function epsKey(eps: number): string {
  return Number.isFinite(eps) ? String(Number(eps.toPrecision(6))) : String(eps);
}

/** One palette per threat-model range, kept for the page's lifetime. */
const epsPalettes = new Map<number, EpsColors>();

/**
 * Colour of a perturbation budget ε on the threat model whose range is [0, maxEps] (for the
 * lab's ε: epsRange(norm, channels).max of the slider). Stable while the page is open.
 */
export function epsColor(eps: number, maxEps: number): string {
  let palette = epsPalettes.get(maxEps);
  if (!palette) {
    palette = new EpsColors(maxEps);
    epsPalettes.set(maxEps, palette);
  }
  return palette.color(eps);
}

/**
 * Colour of an ordered position t ∈ [0, 1] that is not an ε (a layer's depth, an epoch, a
 * rank): the same sequential scale, continuous.
 */
export function sequentialColor(t: number): string {
  const c = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  return interpolateMagma(EPS_T_MIN + (EPS_T_MAX - EPS_T_MIN) * c);
}

/**
 * Heat-map colour of v on a domain [lo, hi] shared by every map that shows the same quantity
 * (viridis; a degenerate domain maps to its middle). Compared maps must pass the same domain.
 */
export function heatColor(v: number, [lo, hi]: readonly [number, number]): string {
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return interpolateViridis(Math.min(1, Math.max(0, t)));
}

/** Light ink on the dark (low) end of viridis, dark ink on the light end. */
export function heatInk(v: number, [lo, hi]: readonly [number, number]): string {
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return t > 0.6 ? SEMANTIC.inkOnLight : SEMANTIC.inkOnDark;
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
  /** Points a model gets wrong: a thin near-black outline (t-SNE scatter); no class uses it. */
  misclassified: '#111111',
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

/**
 * One domain for heat maps that show the same quantity side by side (MFTMA capacity of A and
 * B): the extent of every finite value of every map, so the same number is the same colour in
 * each. A fixed domain (CKA's [0, 1]) wins when given. Without any finite value: [0, 1].
 */
export function sharedDomain(maps: readonly (readonly number[])[], fixed?: readonly [number, number]): [number, number] {
  if (fixed) return [fixed[0], fixed[1]];
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of maps)
    for (const v of m)
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** CSS linear-gradient of the heat scale over a domain, left = low (for the colour legends). */
export function heatGradientCss(domain: readonly [number, number], stops = 11): string {
  const [lo, hi] = domain;
  const parts = Array.from({ length: stops }, (_, i) => `${heatColor(lo + ((hi - lo) * i) / (stops - 1), domain)} ${((100 * i) / (stops - 1)).toFixed(0)}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}
