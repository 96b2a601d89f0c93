/**
 * A small multi-series line chart (D3 owns only the inside of the svg React gives it,
 * STYLE.md): numeric or categorical x, optional band per series (mean ± sd, IQR), dashed
 * series for the compare model B, a tooltip with the exact values of the nearest point and a
 * click callback on points. Used by the robustness curve, the per-layer overlap, probes, MI,
 * capacity, logits and optimal-loss views. Follows the chart conventions of ./chart.ts:
 * title, measured margins, legend outside the plot, units in the axis titles.
 */
import * as d3 from 'd3';
import {
  computeMargins,
  createSvgTooltip,
  drawLegend,
  drawTitle,
  FONT_SIZE,
  legendEntryWidth,
  nearestPoint,
  placeLegend,
  textWidth,
  type Chart,
  type LegendItem,
} from './chart';
import { COLOR } from './colors';

export interface LineSeries {
  label: string;
  color: string;
  /** true = dashed; a string is an SVG dash array (e.g. '2,3' dotted for a third model). */
  dashed?: boolean | string;
  /** y per x position; null/NaN = missing (n/a: drawn as a gap, never as 0). */
  y: (number | null)[];
  band?: { low: (number | null)[]; high: (number | null)[] };
  /** Hollow markers (e.g. baselines). */
  hollow?: boolean;
  /**
   * Missing values are still being computed (a model streaming in): no "n/a" marks, and the
   * legend says "computing…" until every value is there.
   */
  pending?: boolean;
}

export interface LineChartData {
  /** Shown above the plot (and in exports). */
  title: string;
  /** Numeric x values, or category names (layers). */
  x: (number | string)[];
  series: LineSeries[];
  /** Axis titles, with their unit where there is one. */
  xLabel: string;
  yLabel: string;
  yDomain?: [number, number];
  /** Horizontal reference lines, e.g. log 2 ceiling. */
  rules?: { y: number; label: string }[];
  /** Highlighted x position (e.g. the current ε). */
  markX?: number | string | null;
  /** Format of y values (ticks and tooltip). */
  format?: (v: number) => string;
  /** Legend-only entries for series that have not started ("B mnist-small-pgd-linf: computing…"). */
  placeholders?: string[];
}

export type LineChart = Chart<LineChartData>;

/** Category tick labels longer than this are cut with "…" (full name in a <title>). */
const MAX_TICK_CHARS = 18;
const TICK_ROTATION_DEG = 35;
/** The legend starts this far in from the plot's right edge or the svg's left edge. */
const LEGEND_INSET = 8;
/** The tooltip follows the nearest point within this distance of the pointer. */
const HOVER_RADIUS_PX = 28;
/** An axis title longer than its axis is cut with "…" (full text in a <title>). */
function fitText(text: string, px: number, size = FONT_SIZE): string {
  if (textWidth(text, size) <= px) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(`${text.slice(0, mid)}…`, size) <= px) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, Math.max(1, lo))}…`;
}

const truncate = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const ok = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
const dashOf = (s: LineSeries) => (s.dashed === true ? '6,4' : s.dashed || null);
const legendLabel = (s: LineSeries) => (s.pending && s.y.some((v) => !ok(v)) ? `${s.label} (computing…)` : s.label);

export function createLineChart(svgEl: SVGSVGElement, opts: { onClickX?: (x: number | string) => void; onHoverX?: (x: number | string | null) => void } = {}): LineChart {
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  const root = svg.append('g').attr('font-family', 'system-ui, sans-serif');
  const content = root.append('g');
  const size = { width: 0, height: 0 };
  const tooltip = createSvgTooltip(root, () => size);
  let current: LineChartData | null = null;
  /** Pixel positions of every drawn point, for the nearest-point tooltip. */
  let hit: { px: number[]; py: number[]; series: number[]; index: number[]; xAt: (i: number) => number; plotW: number; plotH: number; left: number; top: number } | null = null;
  let lastHoverX: number | string | null = null;

  function update(data: LineChartData) {
    current = data;
    const width = svgEl.clientWidth || 600;
    const height = svgEl.clientHeight || 260;
    size.width = width;
    size.height = height;
    content.selectAll('*').remove();
    tooltip.hide();
    drawTitle(content, data.title);
    const categorical = data.x.some((v) => typeof v === 'string');
    const xs = data.x as number[];

    // Legend first: it decides how much room the plot has.
    const items: LegendItem[] = [
      ...data.series.map((s) => ({ label: legendLabel(s), color: s.color, dash: dashOf(s), marker: s.hollow ? ('hollow' as const) : ('filled' as const) })),
      ...(data.placeholders ?? []).map((label) => ({ label, color: COLOR.control, dash: '2,3' })),
    ];
    // The legend's origin is LEGEND_INSET in from the left: it wraps within what is left.
    const legend = placeLegend(items.map((e) => ({ width: legendEntryWidth(e.label) })), width - 2 * LEGEND_INSET);
    const availW = legend.side === 'right' ? width - legend.width : width;
    const availH = legend.side === 'bottom' ? height - legend.height : height;

    const values = data.series.flatMap((s) => [...s.y, ...(s.band?.low ?? []), ...(s.band?.high ?? [])]).filter(ok);
    const yDomain = data.yDomain ?? ([Math.min(0, d3.min(values) ?? 0), (d3.max(values) ?? 1) * 1.05 || 1] as [number, number]);
    const y = d3.scaleLinear().domain(yDomain).nice();
    // Tick count from a first guess of the plot height (the margins change it by a few px).
    const yTickCount = Math.max(2, Math.min(8, Math.floor((availH - 70) / 36)));
    const yTicks = y.ticks(yTickCount);
    const yTickFormat = data.format ?? y.tickFormat(yTickCount);
    const xNumeric = categorical ? null : d3.scaleLinear().domain(d3.extent(xs) as [number, number]).nice();
    const xTickCount = Math.max(2, Math.min(8, Math.floor(availW / 80)));
    const xTickLabels = categorical ? data.x.map((v) => truncate(String(v), MAX_TICK_CHARS)) : xNumeric!.ticks(xTickCount).map(xNumeric!.tickFormat(xTickCount));

    let margins = computeMargins({ yTicks: yTicks.map(yTickFormat), xTicks: xTickLabels, hasTitle: true, hasXTitle: true, hasYTitle: true });
    let w = Math.max(10, availW - margins.left - margins.right);
    const step = categorical ? w / Math.max(1, data.x.length) : Infinity;
    const rotate = categorical && Math.max(0, ...xTickLabels.map((t) => textWidth(t))) > step * 0.9;
    if (rotate) {
      margins = computeMargins({ yTicks: yTicks.map(yTickFormat), xTicks: xTickLabels, xTickRotation: TICK_ROTATION_DEG, hasTitle: true, hasXTitle: true, hasYTitle: true });
      w = Math.max(10, availW - margins.left - margins.right);
    }
    const h = Math.max(10, availH - margins.top - margins.bottom);
    y.range([h, 0]);
    const g = content.append('g').attr('class', 'plot').attr('transform', `translate(${margins.left},${margins.top})`);
    const xCat = d3.scalePoint<number>().domain(data.x.map((_, i) => i)).range([0, w]).padding(0.3);
    xNumeric?.range([0, w]);
    const xPos = (i: number) => (categorical ? (xCat(i) ?? 0) : xNumeric!(xs[i]));

    // Axes.
    const xAxis = g.append('g').attr('class', 'x-axis').attr('transform', `translate(0,${h})`);
    if (categorical) {
      xAxis.call(d3.axisBottom(xCat).tickFormat((i) => truncate(String(data.x[i]), MAX_TICK_CHARS)));
      xAxis.selectAll<SVGTextElement, number>('.tick text').append('title').text((i) => String(data.x[i]));
      if (rotate) xAxis.selectAll('.tick text').attr('transform', `rotate(-${TICK_ROTATION_DEG})`).style('text-anchor', 'end').attr('dx', '-0.5em').attr('dy', '0.5em');
    } else {
      xAxis.call(d3.axisBottom(xNumeric!).ticks(xTickCount));
    }
    g.append('g').attr('class', 'y-axis').call(d3.axisLeft(y).ticks(yTickCount).tickFormat((v) => yTickFormat(v as number)));
    g.selectAll('.tick text').attr('font-size', FONT_SIZE);
    const xTitle = g.append('text').attr('class', 'x-title').attr('x', w / 2).attr('y', h + margins.bottom - 6).attr('text-anchor', 'middle').attr('font-size', FONT_SIZE).attr('fill', 'currentColor').text(fitText(data.xLabel, availW - 8));
    xTitle.append('title').text(data.xLabel);
    const yTitle = g.append('text').attr('class', 'y-title').attr('transform', 'rotate(-90)').attr('x', -h / 2).attr('y', -margins.left + FONT_SIZE).attr('text-anchor', 'middle').attr('font-size', FONT_SIZE).attr('fill', 'currentColor').text(fitText(data.yLabel, h + margins.top));
    yTitle.append('title').text(data.yLabel);

    for (const rule of data.rules ?? []) {
      g.append('line').attr('x1', 0).attr('x2', w).attr('y1', y(rule.y)).attr('y2', y(rule.y)).attr('stroke', COLOR.rule).attr('stroke-dasharray', '2,3');
      g.append('text').attr('x', w - 2).attr('y', y(rule.y) - 3).attr('text-anchor', 'end').attr('font-size', FONT_SIZE - 1).attr('fill', COLOR.ruleText).text(rule.label);
    }
    if (data.markX !== undefined && data.markX !== null) {
      const i = data.x.findIndex((v) => v === data.markX);
      if (i >= 0) g.append('line').attr('class', 'mark-x').attr('x1', xPos(i)).attr('x2', xPos(i)).attr('y1', 0).attr('y2', h).attr('stroke', COLOR.current).attr('stroke-width', 1).attr('opacity', 0.5);
    }
    const px: number[] = [];
    const py: number[] = [];
    const seriesOf: number[] = [];
    const indexOf: number[] = [];
    data.series.forEach((s, k) => {
      if (s.band) {
        const area = d3
          .area<number>()
          .defined((i) => ok(s.band!.low[i]) && ok(s.band!.high[i]))
          .x((i) => xPos(i))
          .y0((i) => y(s.band!.low[i] as number))
          .y1((i) => y(s.band!.high[i] as number));
        g.append('path').attr('d', area(d3.range(data.x.length))).attr('fill', s.color).attr('opacity', 0.15);
      }
      const line = d3
        .line<number>()
        .defined((i) => ok(s.y[i]))
        .x((i) => xPos(i))
        .y((i) => y(s.y[i] as number));
      g.append('path').attr('class', 'series').attr('d', line(d3.range(data.x.length))).attr('fill', 'none').attr('stroke', s.color).attr('stroke-width', 2).attr('stroke-dasharray', dashOf(s));
      const shown = d3.range(data.x.length).filter((i) => ok(s.y[i]));
      g.selectAll(null)
        .data(shown)
        .join('circle')
        .attr('class', 'point')
        .attr('data-series', k)
        .attr('data-index', (i) => i)
        .attr('cx', (i) => xPos(i))
        .attr('cy', (i) => y(s.y[i] as number))
        .attr('r', 3.5)
        .attr('fill', s.hollow ? COLOR.paper : s.color)
        .attr('stroke', s.color);
      for (const i of shown) {
        px.push(xPos(i));
        py.push(y(s.y[i] as number));
        seriesOf.push(k);
        indexOf.push(i);
      }
      // Values that are undefined (not merely not computed yet) are marked "n/a" just above
      // the axis, never drawn as zero.
      if (!s.pending) {
        g.selectAll(null)
          .data(d3.range(data.x.length).filter((i) => s.y[i] === null))
          .join('text')
          .attr('class', 'na')
          .attr('x', (i) => xPos(i))
          .attr('y', h - 4)
          .attr('text-anchor', 'middle')
          .attr('font-size', 9)
          .attr('fill', s.color)
          .text('n/a');
      }
    });
    hit = { px, py, series: seriesOf, index: indexOf, xAt: xPos, plotW: w, plotH: h, left: margins.left, top: margins.top };

    // Legend outside the plot: right of it, or in rows under the x title.
    const legendG = content.append('g').attr('class', 'legend').attr('pointer-events', 'none');
    legendG.attr('transform', legend.side === 'right' ? `translate(${availW + LEGEND_INSET},${margins.top})` : `translate(${LEGEND_INSET},${availH})`);
    drawLegend(legendG, items, legend);
    svg.style('cursor', () => null);
  }

  function tooltipLines(d: LineChartData, k: number, i: number): string[] {
    const s = d.series[k];
    const fmt = d.format ?? d3.format('.4~g');
    const xText = typeof d.x[i] === 'number' ? d3.format('.4~g')(d.x[i] as number) : String(d.x[i]);
    const lines = [s.label, `${d.xLabel.split(' — ')[0]}: ${xText}`, `${d.yLabel}: ${fmt(s.y[i] as number)}`];
    if (s.band && ok(s.band.low[i]) && ok(s.band.high[i])) lines.push(`band: ${fmt(s.band.low[i] as number)} – ${fmt(s.band.high[i] as number)}`);
    return lines;
  }

  function hoverIndex(event: PointerEvent): { k: number; i: number; xi: number | null } | null {
    if (!hit || !current) return null;
    const [mx, my] = d3.pointer(event, svgEl);
    const x = mx - hit.left;
    const y = my - hit.top;
    if (x < -8 || x > hit.plotW + 8 || y < -8 || y > hit.plotH + 8) return null;
    // The x column under the pointer (for linked views: the t-SNE overlap enlarges a layer).
    let xi: number | null = null;
    let best = Infinity;
    for (let j = 0; j < current.x.length; j++) {
      const d = Math.abs(hit.xAt(j) - x);
      if (d < best) {
        best = d;
        xi = j;
      }
    }
    const p = nearestPoint(hit.px, hit.py, x, y, HOVER_RADIUS_PX);
    return p < 0 ? { k: -1, i: -1, xi } : { k: hit.series[p], i: hit.index[p], xi };
  }

  function onMove(event: PointerEvent) {
    const h = hoverIndex(event);
    const hx = h && h.xi !== null && current ? current.x[h.xi] : null;
    if (hx !== lastHoverX) {
      lastHoverX = hx;
      opts.onHoverX?.(hx);
    }
    svg.selectAll<SVGCircleElement, number>('circle.point').attr('r', 3.5);
    if (!h || h.k < 0 || !current || !hit) {
      tooltip.hide();
      svg.style('cursor', () => null);
      return;
    }
    svg.select<SVGCircleElement>(`circle.point[data-series="${h.k}"][data-index="${h.i}"]`).attr('r', 5.5);
    const [mx, my] = d3.pointer(event, svgEl);
    tooltip.show(mx, my, tooltipLines(current, h.k, h.i));
    svg.style('cursor', () => (opts.onClickX ? 'pointer' : null));
  }

  function onLeave() {
    tooltip.hide();
    svg.selectAll<SVGCircleElement, number>('circle.point').attr('r', 3.5);
    if (lastHoverX !== null) {
      lastHoverX = null;
      opts.onHoverX?.(null);
    }
  }

  function onClick(event: PointerEvent) {
    const h = hoverIndex(event);
    if (h && h.k >= 0 && current) opts.onClickX?.(current.x[h.i]);
  }

  svg.on('pointermove.lines', onMove).on('pointerleave.lines', onLeave).on('click.lines', onClick);

  return {
    update,
    destroy() {
      svg.on('.lines', null);
      svg.selectAll('*').remove();
    },
  };
}
