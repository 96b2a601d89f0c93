/**
 * Live numbers of the stories (issue #24): each `{placeholder}` in a step's text is computed
 * from the results of the analyses the step ran on our models, never pasted. Pure functions of
 * the analyses' typed results; a number whose result has not arrived (or does not define it,
 * e.g. no layer loses overlap) is null and the panel shows "…".
 */
import type { SliceModelResult } from '../analysis/definition';
import type { CollisionAnalysisResult } from '../collision/analysis';
import type { CollisionJobResult } from '../collision/job';
import type { CurveResult } from '../curve/curve';
import type { DependencyJobResult, ModelDependency } from '../dependency/job';
import type { LogitsJobResult, ModelLogits } from '../logits/job';
import type { MftmaJobResult, MftmaPoint } from '../mftma/job';
import type { TsneJobResult } from '../tsne/job';

/** What a story step runs; t-SNE shows one model at a time, so A and B are two runs. */
export type StoryRun = 'slice' | 'curve' | 'tsne-a' | 'tsne-b' | 'logits' | 'dependency' | 'mftma' | 'collision';
export const STORY_RUNS: readonly StoryRun[] = ['slice', 'curve', 'tsne-a', 'tsne-b', 'logits', 'dependency', 'mftma', 'collision'];

/** The ε slice on screen: A's and B's numbers at one ε. */
export interface SliceNumbers {
  eps: number;
  a: SliceModelResult;
  b: SliceModelResult | null;
}

/** The finished results a step's numbers read, by run. */
export interface StoryResults {
  slice?: SliceNumbers | null;
  curve?: CurveResult | null;
  'tsne-a'?: TsneJobResult | null;
  'tsne-b'?: TsneJobResult | null;
  logits?: LogitsJobResult | null;
  dependency?: DependencyJobResult | null;
  mftma?: MftmaJobResult | null;
  collision?: CollisionJobResult | null;
}

export interface LiveNumber {
  /** The run whose result it reads (a step using it must run it). */
  needs: StoryRun;
  /** One line for authors: what the number is. */
  about: string;
  compute(results: StoryResults): string | null;
}

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
/** Accuracies and overlaps as whole percentages: the texts compare them at a glance. */
export const pct = (x: number | null | undefined): string | null => (finite(x) ? `${Math.round(100 * x)}%` : null);
export const num = (x: number | null | undefined, digits = 2): string | null => (finite(x) ? x.toFixed(digits) : null);

/** A value per layer, in the model's order. */
export interface LayerValue {
  layer: string;
  value: number;
}

/**
 * The layer where a per-layer value falls most from the layer before it, with the values
 * either side; null with fewer than two finite layers or when it never falls.
 */
export function largestDrop(series: LayerValue[]): { layer: string; from: number; to: number } | null {
  const rows = series.filter((s) => finite(s.value));
  let best: { layer: string; from: number; to: number } | null = null;
  for (let i = 1; i < rows.length; i++) {
    const drop = rows[i - 1].value - rows[i].value;
    if (drop > 0 && (!best || drop > best.from - best.to)) best = { layer: rows[i].layer, from: rows[i - 1].value, to: rows[i].value };
  }
  return best;
}

/** The layer with the largest value (the first on ties); null when none is finite. */
export function largestLayer(series: LayerValue[]): LayerValue | null {
  let best: LayerValue | null = null;
  for (const s of series) if (finite(s.value) && (!best || s.value > best.value)) best = s;
  return best;
}

/**
 * Overlap per layer (Valentim et al.): the mean over the cold-start seeds when they all ran,
 * else the shown layout's value.
 */
export function overlapSeries(r: TsneJobResult | null | undefined): LayerValue[] {
  if (!r) return [];
  return r.layers.filter((l) => l.done).map((l) => ({ layer: l.layer, value: l.overlapSeeds?.mean ?? l.overlap?.value ?? NaN }));
}

export function shiftSeries(m: SliceModelResult | null | undefined): LayerValue[] {
  return m ? m.shifts.map((s) => ({ layer: s.layer, value: s.mean })) : [];
}


type CollisionLayer = CollisionAnalysisResult['layers'][number];

/**
 * A layer's median collision distance over its pairs (each pair's distance averaged over the
 * projections): the input-space L2 radius at which half of the 3–7 pairs can be made to look
 * the same at that layer. An infeasible pair counts as ∞ (no edge at any ε), so a median
 * over mostly infeasible pairs is ∞ and shows as not computed.
 */
export function medianCollision(layer: CollisionLayer | null | undefined): number | null {
  if (!layer || !layer.complete || !layer.distances.length) return null;
  const pairs = layer.distances[0].length;
  if (!pairs) return null;
  const d = Array.from({ length: pairs }, (_, k) => layer.distances.reduce((a, row) => a + row[k], 0) / layer.distances.length).sort((u, v) => u - v);
  return pairs % 2 ? d[(pairs - 1) / 2] : (d[pairs / 2 - 1] + d[pairs / 2]) / 2;
}

/** The smallest ε of the list at which a layer's mean optimal log-loss reaches chance (ln 2, to rounding); null if it never does. */
export function chanceEps(layer: CollisionLayer | null | undefined): number | null {
  if (!layer || !layer.complete) return null;
  const i = layer.curve.meanLogLoss.findIndex((v) => v >= Math.LN2 * (1 - 1e-9));
  return i < 0 ? null : layer.curve.eps[i];
}

/** The hidden layers of a collision result (the exact input baseline left out), in the model's order. */
export function hiddenLayers(r: CollisionAnalysisResult | null | undefined): CollisionLayer[] {
  return (r?.layers ?? []).filter((l) => l.layer !== 'input');
}

/** The hidden layer that reaches chance at the smallest ε (the earlier layer on ties); null if none does or a layer is unfinished. */
export function earliestChance(r: CollisionAnalysisResult | null | undefined): { layer: string; eps: number } | null {
  const layers = hiddenLayers(r);
  if (!layers.length || layers.some((l) => !l.complete)) return null;
  let best: { layer: string; eps: number } | null = null;
  for (const l of layers) {
    const eps = chanceEps(l);
    if (eps !== null && (!best || eps < best.eps)) best = { layer: l.layer, eps };
  }
  return best;
}

/** ε list values as the texts print them (0.75, 1, 1.25): no trailing zeros. */
const epsText = (x: number | null | undefined): string | null => (finite(x) ? String(Number(x.toFixed(3))) : null);

/** The smallest ε of the ladder where robust accuracy is at most half the clean accuracy. */
export function halfAccuracyEps(points: CurveResult['a']['points']): number | null {
  const clean = points.find((p) => p.eps === 0)?.cleanAccuracy ?? points[0]?.cleanAccuracy;
  if (!finite(clean)) return null;
  const hit = points.find((p) => p.robustAccuracy <= clean / 2);
  return hit ? hit.eps : null;
}

/** Robust accuracy in the non-empty clean-gap bins with the smallest and the largest gaps. */
export function gapEnds(m: ModelLogits | null | undefined): { low: number; high: number } | null {
  const bins = (m?.robustByGap ?? []).filter((b) => b.count > 0);
  if (bins.length < 2) return null;
  return { low: bins[0].accuracy, high: bins[bins.length - 1].accuracy };
}

/** The per-epoch max-logit means of one model's training snapshots (first and last epoch). */
export function epochMaxLogits(r: LogitsJobResult | null | undefined, model: 'A' | 'B'): { first: { epoch: number; mean: number }; last: { epoch: number; mean: number } } | null {
  const rows = r?.epochs?.find((e) => e.model === model)?.summaries.epochs ?? [];
  if (rows.length < 2) return null;
  const at = (i: number) => ({ epoch: rows[i].epoch, mean: rows[i].maxLogit.mean });
  return { first: at(0), last: at(rows.length - 1) };
}

/** MFTMA points of one model at one ladder value, in layer order. */
export function mftmaAt(points: MftmaPoint[] | null | undefined, size: 'smallest' | 'largest'): MftmaPoint[] {
  if (!points?.length) return [];
  const sizes = points.map((p) => p.size);
  const want = size === 'smallest' ? Math.min(...sizes) : Math.max(...sizes);
  return points.filter((p) => p.size === want);
}

/** Where a probe's clean − adversarial held-out accuracy gap widens most from one layer to the next. */
export function probeGapSeries(m: ModelDependency | null | undefined): LayerValue[] {
  return (m?.layers ?? []).map((l) => ({ layer: l.layer, value: l.probeHeldOutAdversarialAccuracy === null ? NaN : l.probeHeldOutCleanAccuracy - l.probeHeldOutAdversarialAccuracy }));
}

/** The smallest finite value of a series; null when none is finite. */
export function smallestValue(series: LayerValue[]): number | null {
  const values = series.map((s) => s.value).filter(finite);
  return values.length ? Math.min(...values) : null;
}

const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];
const negate = (s: LayerValue[]) => s.map((x) => ({ layer: x.layer, value: -x.value }));
const count = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + (x ? 1 : 0), 0);

/** Slice numbers for model A or B. */
function sliceNumbers(which: 'a' | 'b'): Record<string, LiveNumber> {
  const suffix = which === 'a' ? '' : 'B';
  const m = (r: StoryResults) => (which === 'a' ? r.slice?.a : r.slice?.b) ?? null;
  return {
    [`sliceCleanAcc${suffix}`]: { needs: 'slice', about: `clean accuracy of model ${which.toUpperCase()} on the strip`, compute: (r) => pct(m(r)?.cleanAccuracy) },
    [`sliceRobustAcc${suffix}`]: { needs: 'slice', about: `robust accuracy of model ${which.toUpperCase()} at the slider's ε`, compute: (r) => pct(m(r)?.robustAccuracy) },
    [`sliceFooled${suffix}`]: { needs: 'slice', about: 'images whose attack succeeded', compute: (r) => (m(r) ? String(count(m(r)!.success)) : null) },
    [`sliceFirstLayer${suffix}`]: { needs: 'slice', about: 'the first tapped layer', compute: (r) => shiftSeries(m(r))[0]?.layer ?? null },
    [`sliceFirstShift${suffix}`]: { needs: 'slice', about: 'mean relative shift at the first layer', compute: (r) => num(shiftSeries(m(r))[0]?.value) },
    [`sliceMaxShiftLayer${suffix}`]: { needs: 'slice', about: 'the layer with the largest mean shift', compute: (r) => largestLayer(shiftSeries(m(r)))?.layer ?? null },
    [`sliceMaxShift${suffix}`]: { needs: 'slice', about: 'the largest mean relative shift', compute: (r) => num(largestLayer(shiftSeries(m(r)))?.value) },
  };
}

/** t-SNE overlap numbers of the A or B run. */
function tsneNumbers(which: 'a' | 'b'): Record<string, LiveNumber> {
  const run: StoryRun = which === 'a' ? 'tsne-a' : 'tsne-b';
  const S = which.toUpperCase();
  const series = (r: StoryResults) => overlapSeries(r[run]);
  return {
    [`tsneRobustAcc${S}`]: { needs: run, about: `robust accuracy of model ${S} on the t-SNE images`, compute: (r) => pct(r[run]?.robustAccuracy) },
    [`tsneFirstLayer${S}`]: { needs: run, about: 'the first layer embedded', compute: (r) => series(r)[0]?.layer ?? null },
    [`tsneFirstOverlap${S}`]: { needs: run, about: 'overlap at the first layer', compute: (r) => pct(series(r)[0]?.value) },
    [`tsneLastLayer${S}`]: { needs: run, about: 'the last layer embedded', compute: (r) => last(series(r))?.layer ?? null },
    [`tsneLastOverlap${S}`]: { needs: run, about: 'overlap at the last layer', compute: (r) => pct(last(series(r))?.value) },
    [`tsneDropLayer${S}`]: { needs: run, about: 'the layer where the overlap falls most', compute: (r) => largestDrop(series(r))?.layer ?? null },
    [`tsneDropFrom${S}`]: { needs: run, about: 'overlap the layer before the largest fall', compute: (r) => pct(largestDrop(series(r))?.from) },
    [`tsneDropTo${S}`]: { needs: run, about: 'overlap at the layer of the largest fall', compute: (r) => pct(largestDrop(series(r))?.to) },
    [`tsneMinOverlap${S}`]: { needs: run, about: 'the lowest overlap over the layers', compute: (r) => pct(smallestValue(series(r))) },
  };
}

/** Collision numbers of model A, B or the first extra model (the story's TRADES twin). */
function collisionNumbers(which: 'A' | 'B' | 'Extra'): Record<string, LiveNumber> {
  const res = (r: StoryResults) => (which === 'A' ? r.collision?.a : which === 'B' ? r.collision?.b : r.collision?.extra[0]?.result) ?? null;
  const first = (r: StoryResults) => hiddenLayers(res(r))[0];
  const lastHidden = (r: StoryResults) => last(hiddenLayers(res(r)));
  const input = (r: StoryResults) => res(r)?.layers.find((l) => l.layer === 'input');
  return {
    [`collisionInputMedian${which}`]: { needs: 'collision', about: 'median collision distance in pixel space (exact, d = ‖x − x′‖/2), input L2', compute: (r) => num(medianCollision(input(r))) },
    [`collisionFirstLayer${which}`]: { needs: 'collision', about: 'the first hidden layer searched', compute: (r) => first(r)?.layer ?? null },
    [`collisionFirstMedian${which}`]: { needs: 'collision', about: 'median collision distance at the first hidden layer, input L2', compute: (r) => num(medianCollision(first(r))) },
    [`collisionLastLayer${which}`]: { needs: 'collision', about: 'the last hidden layer searched', compute: (r) => lastHidden(r)?.layer ?? null },
    [`collisionLastMedian${which}`]: { needs: 'collision', about: 'median collision distance at the last hidden layer, input L2', compute: (r) => num(medianCollision(lastHidden(r))) },
    [`collisionChanceLayer${which}`]: { needs: 'collision', about: 'the hidden layer whose optimal log-loss reaches chance (ln 2) at the smallest ε', compute: (r) => earliestChance(res(r))?.layer ?? null },
    [`collisionChanceEps${which}`]: { needs: 'collision', about: 'that ε (input L2)', compute: (r) => epsText(earliestChance(res(r))?.eps) },
  };
}

function logitNumbers(which: 'A' | 'B'): Record<string, LiveNumber> {
  const m = (r: StoryResults) => (which === 'A' ? r.logits?.a : r.logits?.b) ?? null;
  return {
    [`logitsMaxMean${which}`]: { needs: 'logits', about: 'mean clean max logit', compute: (r) => num(m(r)?.clean.maxLogit.mean, 1) },
    [`logitsGapMean${which}`]: { needs: 'logits', about: 'mean clean logit gap (max − second)', compute: (r) => num(m(r)?.clean.gap.mean, 1) },
    [`logitsRobustAcc${which}`]: { needs: 'logits', about: 'robust accuracy on the logit images', compute: (r) => pct(m(r)?.robustAccuracy) },
    [`logitsLowGapRobust${which}`]: { needs: 'logits', about: 'robust accuracy in the smallest-gap bin', compute: (r) => pct(gapEnds(m(r))?.low) },
    [`logitsHighGapRobust${which}`]: { needs: 'logits', about: 'robust accuracy in the largest-gap bin', compute: (r) => pct(gapEnds(m(r))?.high) },
    [`logitsEpochFirst${which}`]: { needs: 'logits', about: 'the first snapshot epoch', compute: (r) => epochMaxLogits(r.logits, which)?.first.epoch.toString() ?? null },
    [`logitsEpochFirstMax${which}`]: { needs: 'logits', about: 'mean max logit at the first snapshot', compute: (r) => num(epochMaxLogits(r.logits, which)?.first.mean, 1) },
    [`logitsEpochLast${which}`]: { needs: 'logits', about: 'the last epoch', compute: (r) => epochMaxLogits(r.logits, which)?.last.epoch.toString() ?? null },
    [`logitsEpochLastMax${which}`]: { needs: 'logits', about: 'mean max logit at the last epoch', compute: (r) => num(epochMaxLogits(r.logits, which)?.last.mean, 1) },
  };
}

function mftmaNumbers(which: 'A' | 'B'): Record<string, LiveNumber> {
  const pts = (r: StoryResults) => (which === 'A' ? r.mftma?.a : r.mftma?.b) ?? null;
  const at = (r: StoryResults, size: 'smallest' | 'largest', end: 'first' | 'last') => {
    const rows = mftmaAt(pts(r), size);
    return end === 'first' ? rows[0] : last(rows);
  };
  return {
    [`mftmaFirstLayer${which}`]: { needs: 'mftma', about: 'the first layer analysed', compute: (r) => at(r, 'smallest', 'first')?.layer ?? null },
    [`mftmaLastLayer${which}`]: { needs: 'mftma', about: 'the last layer analysed', compute: (r) => at(r, 'smallest', 'last')?.layer ?? null },
    [`mftmaCapFirst${which}`]: { needs: 'mftma', about: 'capacity at the first layer, smallest σ/ε', compute: (r) => num(at(r, 'smallest', 'first')?.capacity) },
    [`mftmaCapLast${which}`]: { needs: 'mftma', about: 'capacity at the last layer, smallest σ/ε', compute: (r) => num(at(r, 'smallest', 'last')?.capacity) },
    [`mftmaCapLastNoisy${which}`]: { needs: 'mftma', about: 'capacity at the last layer, largest σ/ε', compute: (r) => num(at(r, 'largest', 'last')?.capacity) },
    [`mftmaRadiusFirst${which}`]: { needs: 'mftma', about: 'manifold radius at the first layer, largest σ/ε', compute: (r) => num(at(r, 'largest', 'first')?.radius) },
    [`mftmaRadiusLast${which}`]: { needs: 'mftma', about: 'manifold radius at the last layer, largest σ/ε', compute: (r) => num(at(r, 'largest', 'last')?.radius) },
    [`mftmaLargest${which}`]: { needs: 'mftma', about: 'the largest σ/ε of the ladder', compute: (r) => num(last(mftmaAt(pts(r), 'largest'))?.size, 2) },
  };
}

function dependencyNumbers(which: 'A' | 'B'): Record<string, LiveNumber> {
  const m = (r: StoryResults) => (which === 'A' ? r.dependency?.a : r.dependency?.b) ?? null;
  const lastLayer = (r: StoryResults) => last(m(r)?.layers ?? []);
  return {
    [`depLastLayer${which}`]: { needs: 'dependency', about: 'the last probed layer', compute: (r) => lastLayer(r)?.layer ?? null },
    [`depProbeCleanLast${which}`]: { needs: 'dependency', about: 'held-out clean probe accuracy at the last layer', compute: (r) => pct(lastLayer(r)?.probeHeldOutCleanAccuracy) },
    [`depProbeAdvLast${which}`]: { needs: 'dependency', about: 'held-out adversarial probe accuracy at the last layer', compute: (r) => pct(lastLayer(r)?.probeHeldOutAdversarialAccuracy) },
    [`depGapLayer${which}`]: { needs: 'dependency', about: 'the layer where the clean − adversarial probe gap widens most', compute: (r) => largestDrop(negate(probeGapSeries(m(r))))?.layer ?? null },
    [`depLabelMiLast${which}`]: { needs: 'dependency', about: 'I(last layer; label), clean, nats', compute: (r) => num(lastLayer(r)?.labelMi) },
    [`depLabelMiAdvLast${which}`]: { needs: 'dependency', about: 'I(last layer; label), attacked, nats', compute: (r) => num(lastLayer(r)?.labelMiAdversarial) },
    [`depRobustAcc${which}`]: { needs: 'dependency', about: 'robust accuracy on the probe images', compute: (r) => pct(m(r)?.robustAccuracy) },
  };
}

/** Every placeholder a story may use, by name. */
export const LIVE_NUMBERS: Record<string, LiveNumber> = {
  sliceEps: { needs: 'slice', about: 'the ε of the slice on screen', compute: (r) => (r.slice ? String(Number(r.slice.eps.toFixed(4))) : null) },
  sliceCount: { needs: 'slice', about: 'images in the strip', compute: (r) => (r.slice ? String(r.slice.a.success.length) : null) },
  ...sliceNumbers('a'),
  ...sliceNumbers('b'),
  curveHalfEps: { needs: 'curve', about: 'smallest ladder ε where robust accuracy is at most half the clean accuracy', compute: (r) => num(r.curve ? halfAccuracyEps(r.curve.a.points) : null) },
  curveHalfEpsB: { needs: 'curve', about: 'the same for model B', compute: (r) => num(r.curve?.b ? halfAccuracyEps(r.curve.b.points) : null) },
  curveLastEps: { needs: 'curve', about: 'the largest ε of the ladder', compute: (r) => num(last(r.curve?.a.points ?? [])?.eps) },
  curveLastAcc: { needs: 'curve', about: 'robust accuracy at the largest ε', compute: (r) => pct(last(r.curve?.a.points ?? [])?.robustAccuracy) },
  ...tsneNumbers('a'),
  ...tsneNumbers('b'),
  ...collisionNumbers('A'),
  ...collisionNumbers('B'),
  ...collisionNumbers('Extra'),
  collisionLastRatioB: { needs: 'collision', about: "model B's median collision distance at the last hidden layer over model A's", compute: (r) => {
    const a = medianCollision(last(hiddenLayers(r.collision?.a)));
    const b = medianCollision(last(hiddenLayers(r.collision?.b)));
    return a && b !== null ? num(b / a, 1) : null;
  } },
  ...logitNumbers('A'),
  ...logitNumbers('B'),
  ...mftmaNumbers('A'),
  ...mftmaNumbers('B'),
  ...dependencyNumbers('A'),
  ...dependencyNumbers('B'),
};

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The placeholder names of a text, in order. */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Every placeholder's value from the results (null = not computed yet, or undefined for them). */
export function liveValues(text: string, results: StoryResults): Record<string, string | null> {
  return Object.fromEntries(placeholdersOf(text).map((name) => [name, LIVE_NUMBERS[name]?.compute(results) ?? null]));
}

/** The text with its numbers filled in; a number not available yet reads "…". */
export function fillText(text: string, values: Record<string, string | null>): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => values[name] ?? '…');
}
