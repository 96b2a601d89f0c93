/**
 * Per-layer representation-shift chart: x = tapped layers, y = relative shift
 * ‖f_l(x_adv) − f_l(x)‖₂ / ‖f_l(x)‖₂ (see core/analysis/shift.ts). One line per ε of the
 * ladder, the current ε thicker with its interquartile band, optional faint per-sample
 * polylines that can be hovered and brushed, and an optional second model drawn dashed.
 *
 * Lifecycle (STYLE.md conventions 9–10): React gives us an <svg> and owns its box; we own
 * only what is inside. `update(data)` is called from a React effect and may be called on
 * every render, so it diffs cheaply: hover/highlight changes only restyle the per-sample
 * paths, anything else redraws. Size comes from the svg's client box via ResizeObserver.
 * Interaction is reported through callbacks; the chart never keeps app state of its own
 * except the brush rectangle (a gesture, not a selection — the selection lives in the store).
 */
import {
  area,
  axisBottom,
  axisLeft,
  brushY,
  Delaunay,
  line,
  pointer,
  quantile,
  scaleLinear,
  scalePoint,
  select,
  type BrushBehavior,
  type D3BrushEvent,
  type ScaleLinear,
  type ScalePoint,
} from 'd3';
import {
  computeMargins,
  createSvgTooltip,
  drawLegend,
  drawTitle,
  FONT_SIZE,
  legendEntryWidth,
  placeLegend,
  textWidth,
  type Chart,
  type LegendItem,
  type LegendPlacement,
  type Margins,
} from './chart';
import { epsColor, HIGHLIGHT_COLOR, HOVER_COLOR } from './colors';

export interface LayerSeries {
  eps: number;
  /** Legend text; when empty the legend shows "ε = <eps>". */
  label: string;
  current: boolean;
  mean: number[];
  q25: number[];
  q75: number[];
  /** [layerIndex][sampleIndex]; NaN allowed. Only used for the current series. */
  perSample?: Float32Array[];
}

export interface LayerChartData {
  layers: string[];
  series: LayerSeries[];
  /** Sample indices to draw strong; the others are dimmed, never hidden. */
  highlighted: number[];
  hovered: number | null;
  yLabel?: string;
  /** Optional second model, drawn dashed in the same ε colours. */
  compare?: LayerSeries[];
  /** Chart title (default: what the chart shows). */
  title?: string;
  /** Legend names of the models ("A mnist-small-st"); the dashed entry names B. */
  modelName?: string;
  compareName?: string;
  /**
   * Upper end of the threat model's ε range: ε colours are placed on it (colors.ts epsColor),
   * so an ε keeps its colour however the ladder grows. Default: the largest ε shown.
   */
  epsRangeMax?: number;
}

export interface LayerChartCallbacks {
  onHoverSample?(i: number | null): void;
  onBrushSamples?(indices: number[]): void;
  onHoverLayer?(layer: string | null): void;
}

export type LayerChart = Chart<LayerChartData>;

// ---- Layout (px). Margins come from the measured tick labels (chart.ts computeMargins);
// text is measured on a 2D canvas context, so a redraw never forces a synchronous layout.
/** Tick labels longer than this are cut with "…" (full name in a <title> tooltip). */
const MAX_TICK_CHARS = 18;
const TICK_ROTATION_DEG = 40;
const DEFAULT_Y_LABEL = 'relative shift ‖Δf‖ / ‖f‖ (ratio)';
const DEFAULT_TITLE = 'Representation shift per layer';
/** The tooltip shows a mean line's value within this distance of one of its vertices. */
const SERIES_HOVER_RADIUS_PX = 10;

// ---- Interaction constants.
/** A per-sample line counts as hovered when the pointer is within this distance of it. */
const HOVER_RADIUS_PX = 10;
/** Brush columns are at most this wide, so neighbouring layers stay easy to tell apart. */
const MAX_BRUSH_WIDTH = 36;

/**
 * The y axis ends at this quantile of the per-sample values (not their max) so one outlier
 * — typically a layer whose clean activation is almost zero — cannot flatten every other
 * line. Lines above it are clipped at the top; a brush touching the top is open-ended.
 */
const SAMPLE_Y_QUANTILE = 0.99;

let instanceCounter = 0;

interface BrushState {
  layer: string;
  lo: number;
  hi: number;
}

interface Layout {
  width: number;
  height: number;
  plotW: number;
  plotH: number;
  margins: Margins;
  legend: LegendPlacement;
  legendItems: LegendItem[];
  /** Width and height left to the plot and its axes once the legend has its room. */
  availW: number;
  availH: number;
  /** Tick labels are rotated when the longest does not fit its column. */
  rotateTicks: boolean;
  yTicks: number;
  x: ScalePoint<string>;
  y: ScaleLinear<number, number>;
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback;
}

function sameRefs<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameIndexSet(a: readonly number[] | null, b: readonly number[]): boolean {
  if (!a || a.length !== b.length) return false;
  const sa = [...a].sort((p, q) => p - q);
  const sb = [...b].sort((p, q) => p - q);
  return sa.every((v, i) => v === sb[i]);
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function formatEps(eps: number): string {
  // ε values are small fractions like 8/255 = 0.0313725…; three significant digits suffice.
  return Number.isFinite(eps) ? String(Number(eps.toPrecision(3))) : String(eps);
}

function legendText(s: LayerSeries): string {
  return s.label || `ε = ${formatEps(s.eps)}`;
}

/** An ε axis-free chart still names its models: "A model: ε = 0.1", B as one dashed entry. */
function legendItems(d: LayerChartData, maxEps: number): LegendItem[] {
  const items: LegendItem[] = [...d.series]
    .sort((a, b) => a.eps - b.eps)
    .map((s) => ({ label: d.modelName ? `${d.modelName}: ${legendText(s)}` : legendText(s), color: epsColor(s.eps, maxEps), width: s.current ? 3 : 1.5 }));
  if (d.compare?.length) items.push({ label: `${d.compareName ?? 'model B'}: dashed, same ε colours`, color: 'currentColor', width: 1.5, dash: '6 4' });
  return items;
}

/** perSample is only usable when it has one column per layer and equal sample counts. */
function usablePerSample(s: LayerSeries | undefined, nLayers: number): Float32Array[] | null {
  const ps = s?.perSample;
  if (!ps || ps.length !== nLayers || nLayers === 0) return null;
  const n = ps[0].length;
  return n > 0 && ps.every((col) => col.length === n) ? ps : null;
}

export function createLayerChart(svgEl: SVGSVGElement, callbacks: LayerChartCallbacks): LayerChart {
  const id = `layer-chart-${++instanceCounter}`;
  const svg = select(svgEl);

  // The svg must be focusable (Escape clears the brush). Respect a tabindex React set.
  const addedTabIndex = !svgEl.hasAttribute('tabindex');
  if (addedTabIndex) svgEl.setAttribute('tabindex', '0');

  const defs = svg.append('defs').attr('data-owner', id);
  const clipRect = defs.append('clipPath').attr('id', `${id}-clip`).append('rect');

  const root = svg
    .append('g')
    .attr('class', 'layer-chart')
    .attr('font-family', 'system-ui, sans-serif')
    .attr('font-size', FONT_SIZE);
  const titleG = root.append('g').attr('class', 'title');
  const emptyText = root
    .append('text')
    .attr('class', 'empty')
    .attr('text-anchor', 'middle')
    .attr('dominant-baseline', 'middle')
    .attr('fill', 'currentColor')
    .attr('fill-opacity', 0.6)
    .text('no data yet');

  const plot = root.append('g').attr('class', 'plot');
  const gridG = plot.append('g').attr('class', 'grid');
  const xAxisG = plot.append('g').attr('class', 'x-axis');
  const yAxisG = plot.append('g').attr('class', 'y-axis');
  const xTitle = plot.append('text').attr('class', 'x-title').attr('text-anchor', 'middle').attr('fill', 'currentColor');
  const yTitle = plot.append('text').attr('class', 'y-title').attr('text-anchor', 'middle').attr('fill', 'currentColor');
  const guide = plot
    .append('line')
    .attr('class', 'layer-guide')
    .attr('data-export', 'skip')
    .attr('stroke', 'currentColor')
    .attr('stroke-opacity', 0.18)
    .attr('stroke-width', 1)
    .attr('pointer-events', 'none')
    .style('display', 'none');
  const clipped = plot.append('g').attr('class', 'data').attr('clip-path', `url(#${id}-clip)`);
  const bandG = clipped.append('g').attr('class', 'bands').attr('pointer-events', 'none');
  const samplesG = clipped.append('g').attr('class', 'samples').attr('pointer-events', 'none');
  const seriesG = clipped.append('g').attr('class', 'series-lines').attr('pointer-events', 'none');
  const compareG = clipped.append('g').attr('class', 'compare-lines').attr('pointer-events', 'none');
  const brushesG = plot.append('g').attr('class', 'brushes');
  const legendG = root.append('g').attr('class', 'legend').attr('pointer-events', 'none');
  const tooltip = createSvgTooltip(root, () => size);

  let data: LayerChartData | null = null;
  let layout: Layout | null = null;
  let size = { width: 0, height: 0 };

  // Hover index. Vertices go into a Delaunay triangulation (nearest point in O(log n));
  // the segments between two layer columns are scanned directly, because indexing them as
  // subdivided points would cost ~200k points and ~0.5 s per redraw at 1000 samples, while
  // the scan is O(n) per pointer move on the one column gap under the pointer.
  let delaunay: Delaunay<number> | null = null;
  let pointOwner = new Int32Array(0);
  let pointLayer = new Int32Array(0);
  let lastFound = 0;
  let hoverXs: number[] = [];
  /** [layerIndex][sampleIndex] pixel y, NaN where the value is missing. */
  let hoverYs: Float32Array[] = [];
  /**
   * The triangulation is built on the first pointer move after a redraw, not in the redraw:
   * at 1000 samples it costs ~50–100 ms, which a resize or a new run should not pay when
   * nobody is hovering.
   */
  let hoverIndexDirty = false;

  let brushState: BrushState | null = null;
  let lastEmittedBrush: number[] | null = null;
  let lastHoverSample: number | null = null;
  let lastHoverLayer: string | null = null;

  const brush: BrushBehavior<string> = brushY<string>();

  // ---------------------------------------------------------------- helpers

  function currentSeries(d: LayerChartData): LayerSeries | undefined {
    return d.series.find((s) => s.current);
  }

  function currentPerSample(): Float32Array[] | null {
    if (!data) return null;
    return usablePerSample(currentSeries(data), data.layers.length);
  }

  function emitHoverSample(i: number | null): void {
    if (i === lastHoverSample) return;
    lastHoverSample = i;
    callbacks.onHoverSample?.(i);
  }

  function emitHoverLayer(layer: string | null): void {
    if (layer === lastHoverLayer) return;
    lastHoverLayer = layer;
    callbacks.onHoverLayer?.(layer);
  }

  function emitBrush(indices: number[]): void {
    if (sameIndexSet(lastEmittedBrush, indices)) return;
    lastEmittedBrush = indices;
    callbacks.onBrushSamples?.(indices);
  }

  function samplesInBrush(state: BrushState): number[] {
    const ps = currentPerSample();
    if (!ps || !data) return [];
    const j = data.layers.indexOf(state.layer);
    if (j < 0) return [];
    const col = ps[j];
    const out: number[] = [];
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (Number.isFinite(v) && v >= state.lo && v <= state.hi) out.push(i);
    }
    return out;
  }

  function clearBrush(emit: boolean): void {
    const had = brushState !== null;
    brushState = null;
    // Programmatic moves carry no sourceEvent, so the brush handler ignores them.
    brushesG.selectAll<SVGGElement, string>('g.brush').call(brush.move, null);
    if (emit && had) {
      lastEmittedBrush = [];
      callbacks.onBrushSamples?.([]);
    }
  }

  // ---------------------------------------------------------------- layout

  function computeLayout(d: LayerChartData): Layout {
    const { width, height } = size;
    const all = [...d.series, ...(d.compare ?? [])];

    // The legend takes its room first (right column or rows below), so it never covers data.
    const items = legendItems(d, epsMaxOf(d));
    // The legend's origin is 8 px in from the left: it wraps within what is left.
    const legend = placeLegend(items.map((e) => ({ width: legendEntryWidth(e.label) })), width - 16);
    const availW = legend.side === 'right' ? width - legend.width : width;
    const availH = legend.side === 'bottom' ? height - legend.height : height;

    let yMax = 0;
    for (const s of all) {
      for (const arr of [s.mean, s.q75, s.q25]) for (const v of arr) if (Number.isFinite(v) && v > yMax) yMax = v;
    }
    const ps = usablePerSample(currentSeries(d), d.layers.length);
    if (ps) {
      const vals: number[] = [];
      for (const col of ps) for (const v of col) if (Number.isFinite(v)) vals.push(v);
      yMax = Math.max(yMax, finiteOr(quantile(vals, SAMPLE_Y_QUANTILE) ?? 0, 0));
    }
    if (!(yMax > 0)) yMax = 1;
    const yTicks = Math.max(2, Math.floor((availH - 70) / 40));
    const y = scaleLinear().domain([0, yMax * 1.05]).nice(yTicks);
    const yTickLabels = y.ticks(yTicks).map(y.tickFormat(yTicks, '~g'));
    const xTickLabels = d.layers.map((l) => truncate(l, MAX_TICK_CHARS));

    // Margins from the measured labels; rotate the layer names when they do not fit a column.
    const marginsFor = (rotation: number) => computeMargins({ yTicks: yTickLabels, xTicks: xTickLabels, xTickRotation: rotation, hasTitle: true, hasXTitle: true, hasYTitle: true });
    let margins = marginsFor(0);
    let plotW = Math.max(10, availW - margins.left - margins.right);
    const step = plotW / Math.max(1, d.layers.length);
    const rotateTicks = Math.max(0, ...xTickLabels.map((t) => textWidth(t))) > step * 0.9;
    if (rotateTicks) {
      margins = marginsFor(TICK_ROTATION_DEG);
      // Rotated labels may take at most 40% of the height; longer ones keep their full text in the tooltip.
      margins.bottom = Math.min(margins.bottom, Math.max(40, availH * 0.4));
      plotW = Math.max(10, availW - margins.left - margins.right);
    }
    const plotH = Math.max(10, availH - margins.top - margins.bottom);

    // scalePoint with padding 0.5 puts n points at the centres of n equal columns.
    const x = scalePoint<string>().domain(d.layers).range([0, plotW]).padding(0.5);
    y.range([plotH, 0]);
    return { width, height, plotW, plotH, margins, legend, legendItems: items, availW, availH, rotateTicks, yTicks, x, y };
  }

  // ---------------------------------------------------------------- drawing

  function drawAxes(d: LayerChartData, L: Layout): void {
    const { x, y, plotW, plotH } = L;
    const yTicks = L.yTicks;

    gridG
      .call(
        axisLeft(y)
          .ticks(yTicks)
          .tickSize(-plotW)
          .tickFormat(() => ''),
      )
      .call((g) => g.select('.domain').remove())
      .call((g) => g.selectAll('line').attr('stroke', 'currentColor').attr('stroke-opacity', 0.08));

    yAxisG.call(axisLeft(y).ticks(yTicks, '~g'));

    xAxisG.attr('transform', `translate(0,${plotH})`).call(axisBottom(x).tickFormat((l) => truncate(l, MAX_TICK_CHARS)));
    const texts = xAxisG.selectAll<SVGTextElement, string>('.tick text');
    if (L.rotateTicks) {
      texts
        .attr('text-anchor', 'end')
        .attr('transform', `rotate(-${TICK_ROTATION_DEG})`)
        .attr('dx', '-0.6em')
        .attr('dy', '0.4em');
    } else {
      texts.attr('text-anchor', 'middle').attr('transform', null).attr('dx', null).attr('dy', '0.71em');
    }
    // Full layer name on hover, since long names are truncated.
    texts.selectAll('title').data((l) => [l]).join('title').text((l) => l);

    xTitle
      .attr('x', plotW / 2)
      .attr('y', plotH + L.margins.bottom - 6)
      .text('layer');
    const yLabel = d.yLabel ?? DEFAULT_Y_LABEL;
    const yRoom = plotH + L.margins.top;
    let yShown = yLabel;
    while (yShown.length > 4 && textWidth(yShown) > yRoom) yShown = `${yShown.slice(0, -2)}…`;
    yTitle
      .attr('transform', `translate(${-L.margins.left + FONT_SIZE},${plotH / 2}) rotate(-90)`)
      .text(yShown);
    yTitle.selectAll('title').data([yLabel]).join('title').text((t) => t);
  }

  function drawSeries(d: LayerChartData, L: Layout, maxEps: number): void {
    const { x, y } = L;
    const px = (j: number) => x(d.layers[j]) ?? 0;
    const ln = line<number>()
      .defined((v) => Number.isFinite(v))
      .x((_, j) => px(j))
      .y((v) => y(v));

    const cur = currentSeries(d);
    const layerIdx = d.layers.map((_, j) => j);
    const bandOf = (s: LayerSeries) =>
      area<number>()
        .defined((j) => Number.isFinite(s.q25[j]) && Number.isFinite(s.q75[j]))
        .x((j) => px(j))
        .y0((j) => y(s.q25[j]))
        .y1((j) => y(s.q75[j]))(layerIdx);
    bandG
      .selectAll<SVGPathElement, LayerSeries>('path.band')
      .data(cur ? [cur] : [])
      .join('path')
      .attr('class', 'band')
      .attr('data-eps', (s) => s.eps)
      .attr('fill', (s) => epsColor(s.eps, maxEps))
      .attr('fill-opacity', 0.18)
      .attr('stroke', 'none')
      .attr('d', bandOf);

    // The current series is drawn last so it sits above the rest of the ladder.
    const ordered = [...d.series].sort((a, b) => Number(a.current) - Number(b.current) || a.eps - b.eps);
    seriesG
      .selectAll<SVGPathElement, LayerSeries>('path.series')
      .data(ordered)
      .join('path')
      .attr('class', 'series')
      .attr('data-eps', (s) => s.eps)
      .attr('data-current', (s) => (s.current ? 'true' : null))
      .attr('fill', 'none')
      .attr('stroke', (s) => epsColor(s.eps, maxEps))
      .attr('stroke-width', (s) => (s.current ? 3 : 1.5))
      .attr('stroke-linecap', 'round')
      .attr('stroke-linejoin', 'round')
      .attr('d', (s) => ln(d.layers.map((_, j) => s.mean[j] ?? NaN)));

    const cmp = [...(d.compare ?? [])].sort((a, b) => Number(a.current) - Number(b.current) || a.eps - b.eps);
    compareG
      .selectAll<SVGPathElement, LayerSeries>('path.series')
      .data(cmp)
      .join('path')
      .attr('class', 'series compare')
      .attr('data-eps', (s) => s.eps)
      .attr('data-current', (s) => (s.current ? 'true' : null))
      .attr('fill', 'none')
      .attr('stroke', (s) => epsColor(s.eps, maxEps))
      .attr('stroke-width', (s) => (s.current ? 2.5 : 1.25))
      .attr('stroke-dasharray', '6 4')
      .attr('stroke-linecap', 'butt')
      .attr('d', (s) => ln(d.layers.map((_, j) => s.mean[j] ?? NaN)));
  }

  function drawSamples(d: LayerChartData, L: Layout): void {
    const ps = currentPerSample();
    const n = ps ? ps[0].length : 0;
    const { x, y } = L;
    const ln = line<number>()
      .defined((v) => Number.isFinite(v))
      .x((_, j) => x(d.layers[j]) ?? 0)
      .y((v) => y(v));
    const indices = Array.from({ length: n }, (_, i) => i);
    samplesG
      .selectAll<SVGPathElement, number>('path.sample')
      .data(indices, (i) => i)
      .join('path')
      .attr('class', 'sample')
      .attr('data-sample', (i) => i)
      .attr('fill', 'none')
      .attr('stroke-linejoin', 'round')
      .attr('stroke-linecap', 'round')
      .attr('d', (i) => (ps ? ln(ps.map((col) => col[i])) : null));

    buildHoverIndex(d, L, ps);
  }

  function resetHoverIndex(): void {
    delaunay = null;
    pointOwner = new Int32Array(0);
    pointLayer = new Int32Array(0);
    lastFound = 0;
    hoverXs = [];
    hoverYs = [];
    hoverIndexDirty = false;
  }

  /** Pixel positions of every per-sample vertex; cheap, done on each redraw. */
  function buildHoverIndex(d: LayerChartData, L: Layout, ps: Float32Array[] | null): void {
    resetHoverIndex();
    if (!ps) return;
    hoverIndexDirty = true;
    hoverXs = d.layers.map((l) => L.x(l) ?? 0);
    const [bottom, top] = L.y.range();
    // Clamp to the visible range: a line clipped at the top is hovered where it leaves the plot.
    hoverYs = ps.map((col) => col.map((v) => (Number.isFinite(v) ? Math.max(top, Math.min(bottom, L.y(v))) : NaN)));
  }

  function buildTriangulation(): void {
    hoverIndexDirty = false;
    if (hoverYs.length === 0) return;
    const n = hoverYs[0].length;
    const coords: number[] = [];
    const owner: number[] = [];
    const layerOf: number[] = [];
    for (let j = 0; j < hoverYs.length; j++) {
      const ys = hoverYs[j];
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(ys[i])) continue;
        // Every vertex of a column shares one x. Thousands of exactly collinear points are
        // Delaunator's worst case (~6× slower, 0.1–0.4 s at 1000 samples); a deterministic
        // sub-pixel x jitter (golden-ratio sequence, ±0.5 px) removes the degeneracy
        // without any visible effect on hit-testing.
        const jitter = ((i * 0.6180339887) % 1) - 0.5;
        coords.push(hoverXs[j] + jitter, ys[i]);
        owner.push(i);
        layerOf.push(j);
      }
    }
    if (owner.length === 0) return;
    delaunay = new Delaunay(Float64Array.from(coords));
    pointOwner = Int32Array.from(owner);
    pointLayer = Int32Array.from(layerOf);
  }

  /** Nearest per-sample line to (mx, my) within HOVER_RADIUS_PX, or null. */
  function nearestSample(mx: number, my: number): number | null {
    let best: number | null = null;
    let bestD2 = HOVER_RADIUS_PX * HOVER_RADIUS_PX;
    if (hoverIndexDirty) buildTriangulation();
    if (delaunay) {
      const k = delaunay.find(mx, my, lastFound);
      lastFound = k;
      // Distance to the true (unjittered) vertex.
      const dx = hoverXs[pointLayer[k]] - mx;
      const dy = delaunay.points[2 * k + 1] - my;
      const d2 = dx * dx + dy * dy;
      if (d2 <= bestD2) {
        bestD2 = d2;
        best = pointOwner[k];
      }
    }
    // Segments of the column gap under the pointer: point-to-segment distance per sample.
    const nL = hoverXs.length;
    if (nL >= 2) {
      let j = 0;
      while (j < nL - 2 && mx > hoverXs[j + 1]) j++;
      const ax = hoverXs[j];
      const bx = hoverXs[j + 1];
      if (mx >= ax && mx <= bx) {
        const ya = hoverYs[j];
        const yb = hoverYs[j + 1];
        const sx = bx - ax;
        for (let i = 0; i < ya.length; i++) {
          const ay = ya[i];
          const by = yb[i];
          if (Number.isNaN(ay) || Number.isNaN(by)) continue;
          const sy = by - ay;
          const t = Math.max(0, Math.min(1, ((mx - ax) * sx + (my - ay) * sy) / (sx * sx + sy * sy || 1)));
          const dx = ax + t * sx - mx;
          const dy = ay + t * sy - my;
          const d2 = dx * dx + dy * dy;
          if (d2 < bestD2) {
            bestD2 = d2;
            best = i;
          }
        }
      }
    }
    return best;
  }

  /** Cheap pass: only opacity/width/colour/order of the per-sample paths. */
  function restyle(): void {
    if (!data) return;
    const paths = samplesG.selectAll<SVGPathElement, number>('path.sample');
    const n = paths.size();
    if (n === 0) return;
    const cur = currentSeries(data);
    const base = cur ? epsColor(cur.eps, epsMaxOf(data)) : 'currentColor';
    const highlighted = new Set(data.highlighted);
    const hovered = data.hovered;
    // Overlap accumulates alpha, so the faint opacity shrinks with n (16 samples → 0.15,
    // 1000 → 0.04); dimmed lines keep a floor so they are never invisible.
    const faint = Math.min(0.15, Math.max(0.04, 2.4 / n));
    const dimmed = Math.max(0.025, faint * 0.5);
    const anyHighlight = highlighted.size > 0;

    paths
      .attr('stroke', (i) => (i === hovered ? HOVER_COLOR : highlighted.has(i) ? HIGHLIGHT_COLOR : base))
      .attr('stroke-opacity', (i) => (i === hovered ? 1 : highlighted.has(i) ? 0.85 : anyHighlight ? dimmed : faint))
      .attr('stroke-width', (i) => (i === hovered ? 2.5 : highlighted.has(i) ? 1.5 : 1))
      .attr('data-highlighted', (i) => (highlighted.has(i) ? 'true' : null))
      .attr('data-hovered', (i) => (i === hovered ? 'true' : null));
    // Strong lines on top of faint ones; sorting by the rank keeps the DOM order stable.
    const rank = (i: number) => (i === hovered ? 2 : highlighted.has(i) ? 1 : 0);
    paths.sort((a, b) => rank(a) - rank(b) || a - b);
  }

  function maxEpsOf(d: LayerChartData): number {
    let m = 0;
    for (const s of [...d.series, ...(d.compare ?? [])]) if (Number.isFinite(s.eps) && s.eps > m) m = s.eps;
    return m;
  }

  /** The range ε colours are placed on: the threat model's, else the largest ε shown. */
  function epsMaxOf(d: LayerChartData): number {
    return d.epsRangeMax !== undefined && d.epsRangeMax > 0 ? d.epsRangeMax : maxEpsOf(d);
  }

  function drawLegendBox(L: Layout): void {
    legendG.attr('transform', L.legend.side === 'right' ? `translate(${L.availW + 8},${L.margins.top})` : `translate(8,${L.availH})`);
    drawLegend(legendG, L.legendItems, L.legend);
  }

  function drawBrushes(d: LayerChartData, L: Layout): void {
    const ps = currentPerSample();
    const cols = ps ? d.layers : [];
    const bw = Math.max(8, Math.min(MAX_BRUSH_WIDTH, L.x.step() * 0.6));
    brush.extent((l) => {
      const cx = L.x(l) ?? 0;
      return [
        [cx - bw / 2, 0],
        [cx + bw / 2, L.plotH],
      ];
    });
    const groups = brushesG
      .selectAll<SVGGElement, string>('g.brush')
      .data(cols, (l) => l)
      .join('g')
      .attr('class', 'brush')
      .attr('data-layer', (l) => l)
      .call(brush);
    // The selection rectangle is part of the figure; the hit area and handles are not.
    groups.selectAll('.overlay, .handle').attr('data-export', 'skip');

    if (!brushState) return;
    const state: BrushState = brushState;
    if (!d.layers.includes(state.layer)) {
      clearBrush(true);
      return;
    }
    if (!ps) return; // keep the range; it reappears when per-sample data returns
    // Re-place the rectangle in the new y scale (programmatic: the handler ignores it).
    const [bottom, top] = L.y.range();
    const yHi = Number.isFinite(state.hi) ? Math.max(top, L.y(state.hi)) : top;
    const yLo = Math.min(bottom, L.y(state.lo));
    groups.filter((l) => l === state.layer).call(brush.move, [yHi, yLo]);
    // Same range, new samples (e.g. another ε): the selection follows the data.
    emitBrush(samplesInBrush(state));
  }

  function render(): void {
    const d = data;
    const { width, height } = size;
    emptyText.attr('x', width / 2).attr('y', height / 2);
    const empty = !d || d.layers.length === 0 || (d.series.length === 0 && !(d.compare?.length ?? 0));
    // Value functions, because the typings have no overload for a `string | null` constant.
    emptyText.style('display', () => (empty ? null : 'none'));
    plot.style('display', () => (empty || width === 0 || height === 0 ? 'none' : null));
    if (empty || !d || width === 0 || height === 0) {
      layout = null;
      resetHoverIndex();
      samplesG.selectAll('path.sample').remove();
      return;
    }

    const L = computeLayout(d);
    layout = L;
    drawTitle(titleG, d.title ?? DEFAULT_TITLE);
    plot.attr('transform', `translate(${L.margins.left},${L.margins.top})`);
    // A little headroom above the plot so the thick current line is not cut at the top.
    clipRect.attr('x', -4).attr('y', -4).attr('width', L.plotW + 8).attr('height', L.plotH + 8);
    guide.attr('y1', 0).attr('y2', L.plotH);

    const maxEps = epsMaxOf(d);
    drawAxes(d, L);
    drawSeries(d, L, maxEps);
    drawSamples(d, L);
    drawLegendBox(L);
    drawBrushes(d, L);
    restyle();
  }

  // ---------------------------------------------------------------- events

  brush.on('start brush end', (event: D3BrushEvent<string>, layer: string) => {
    if (!event.sourceEvent || !layout) return; // programmatic move
    if (event.type === 'start') {
      // One brushed column at a time: starting a new one clears the others.
      brushesG
        .selectAll<SVGGElement, string>('g.brush')
        .filter((l) => l !== layer)
        .call(brush.move, null);
    }
    const sel = event.selection as [number, number] | null;
    if (!sel) {
      if (event.type === 'end' && brushState) clearBrush(true);
      return;
    }
    const [top, bottom] = sel;
    // A click starts a zero-height rectangle; it selects nothing yet, so it is not reported.
    if (bottom - top < 1) return;
    const yTop = layout.y.range()[1];
    brushState = {
      layer,
      lo: Math.max(0, layout.y.invert(bottom)),
      // A rectangle reaching the top edge also takes the values clipped above the axis.
      hi: top <= yTop + 1 ? Infinity : layout.y.invert(top),
    };
    emitBrush(samplesInBrush(brushState));
  });

  function onPointerMove(event: PointerEvent): void {
    if (!layout || !data) return;
    const [mx, my] = pointer(event, plot.node());
    const { plotW, plotH, x } = layout;
    const inside = mx >= 0 && mx <= plotW && my >= 0 && my <= plotH;
    if (!inside || event.buttons !== 0) {
      // Outside the plot, or while dragging a brush: no hover.
      if (!inside) {
        guide.style('display', 'none');
        emitHoverLayer(null);
      }
      tooltip.hide();
      emitHoverSample(null);
      return;
    }
    const j = Math.max(0, Math.min(data.layers.length - 1, Math.round((mx - (x(data.layers[0]) ?? 0)) / x.step())));
    const layer = data.layers[j];
    const gx = x(layer) ?? 0;
    guide.style('display', null).attr('x1', gx).attr('x2', gx);
    emitHoverLayer(layer);

    const sample = nearestSample(mx, my);
    emitHoverSample(sample);
    showTooltip(j, mx, my, sample);
  }

  /**
   * The exact values under the pointer: the nearest ε line's vertex at this layer (mean and
   * IQR), else the hovered sample's value. Positions are in the svg's coordinates.
   */
  function showTooltip(j: number, mx: number, my: number, sample: number | null): void {
    if (!layout || !data) return;
    const L = layout;
    const d = data;
    const gx = L.x(d.layers[j]) ?? 0;
    const at = (px: number, py: number) => [px + L.margins.left, py + L.margins.top] as const;
    let best: { s: LayerSeries; compare: boolean } | null = null;
    let bestD = SERIES_HOVER_RADIUS_PX;
    if (Math.abs(mx - gx) <= SERIES_HOVER_RADIUS_PX) {
      for (const [list, compare] of [[d.series, false], [d.compare ?? [], true]] as const) {
        for (const s of list) {
          const v = s.mean[j];
          if (!Number.isFinite(v)) continue;
          const dist = Math.abs(L.y(v) - my);
          if (dist <= bestD) {
            bestD = dist;
            best = { s, compare };
          }
        }
      }
    }
    const f = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : 'n/a');
    if (best) {
      const who = best.compare ? (d.compareName ?? 'model B') : (d.modelName ?? '');
      const [tx, ty] = at(mx, my);
      tooltip.show(tx, ty, [`${who ? `${who} · ` : ''}ε = ${formatEps(best.s.eps)}`, `layer ${d.layers[j]}`, `mean shift ${f(best.s.mean[j])}`, `IQR ${f(best.s.q25[j])} – ${f(best.s.q75[j])}`]);
      return;
    }
    const ps = currentPerSample();
    if (sample !== null && ps) {
      const [tx, ty] = at(mx, my);
      tooltip.show(tx, ty, [`sample ${sample + 1} of the strip`, `layer ${d.layers[j]}`, `shift ${f(ps[j][sample])}`]);
      return;
    }
    tooltip.hide();
  }

  function onPointerLeave(): void {
    guide.style('display', 'none');
    tooltip.hide();
    emitHoverSample(null);
    emitHoverLayer(null);
  }

  function onKeyDown(event: KeyboardEvent): void {
    if (event.key === 'Escape' && brushState) {
      clearBrush(true);
      event.preventDefault();
    }
  }

  svg.on(`pointermove.${id}`, onPointerMove).on(`pointerleave.${id}`, onPointerLeave).on(`keydown.${id}`, onKeyDown);

  function measure(): boolean {
    const width = svgEl.clientWidth;
    const height = svgEl.clientHeight;
    if (width === size.width && height === size.height) return false;
    size = { width, height };
    return true;
  }

  const resizeObserver =
    typeof ResizeObserver === 'undefined'
      ? null
      : new ResizeObserver(() => {
          if (measure()) render();
        });
  resizeObserver?.observe(svgEl);
  measure();
  render();

  return {
    update(next: LayerChartData): void {
      const prev = data;
      data = next;
      // React rebuilds the data object every render; only a change in what is drawn needs a
      // redraw. Hover and highlight changes (the frequent ones) just restyle.
      const geometryChanged =
        !prev ||
        !sameRefs(prev.layers, next.layers) ||
        !sameRefs(prev.series, next.series) ||
        !sameRefs(prev.compare, next.compare) ||
        prev.yLabel !== next.yLabel;
      const resized = measure();
      if (geometryChanged || resized || !layout) render();
      else restyle();
    },
    destroy(): void {
      resizeObserver?.disconnect();
      svg.on(`.${id}`, null);
      brush.on('start brush end', null);
      root.remove();
      defs.remove();
      if (addedTabIndex) svgEl.removeAttribute('tabindex');
      data = null;
      delaunay = null;
    },
  };
}
