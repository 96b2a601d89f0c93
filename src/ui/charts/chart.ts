import type { Selection } from 'd3';

/**
 * The one calling convention of every chart module in this folder (STYLE.md conventions
 * 9–10): `createX(el, options?)` takes the <svg> or <canvas> React rendered and returns a
 * `Chart`. D3 (or the 2D context) owns only the inside of that element; React owns the
 * element and its box. `update(data)` draws (and may diff against the previous data),
 * `destroy()` removes what the chart added and its listeners. Options carry interaction
 * callbacks; a chart keeps no app state. The React side is `useChart` (./useChart.ts).
 */
export interface Chart<D> {
  update(data: D): void;
  destroy(): void;
}

// ---------------------------------------------------------------------------------------
// The chart conventions every chart here follows (issue #21, "a chart system"):
// - a title on top of every chart (inside the svg, so exports carry it);
// - margins computed from the measured width of the tick labels and axis titles, never
//   constants, so no axis label is clipped;
// - the legend outside the plot area: to the right when it fits in LEGEND_MAX_SHARE of the
//   width, else in rows below the x axis — never over the data;
// - axis titles carry their unit;
// - a tooltip with the exact values on the nearest point (lines, scatters) or the cell.
// The pure parts (text measuring, margins, legend placement, nearest point) live here and
// are unit-tested; the svg parts (title, tooltip, legend) are small D3 helpers.
// ---------------------------------------------------------------------------------------

export const FONT_FAMILY = 'system-ui, sans-serif';
export const FONT_SIZE = 11;
export const TITLE_SIZE = 12;
/** Without a canvas (Node tests) text is estimated at this many px per character at 11 px. */
const CHAR_W_PER_PX = 6.2 / 11;

let measureCtx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null | undefined;
const widthCache = new Map<string, number>();

/**
 * Width in px of `text` at `size` px in the charts' font. Measured with a 2D canvas context
 * (no layout, so a redraw never forces a synchronous reflow), cached; estimated in Node.
 */
export function textWidth(text: string, size = FONT_SIZE): number {
  const key = `${size}|${text}`;
  const cached = widthCache.get(key);
  if (cached !== undefined) return cached;
  if (measureCtx === undefined) {
    measureCtx = null;
    try {
      if (typeof OffscreenCanvas !== 'undefined') measureCtx = new OffscreenCanvas(1, 1).getContext('2d');
      else if (typeof document !== 'undefined') measureCtx = document.createElement('canvas').getContext('2d');
    } catch {
      measureCtx = null;
    }
  }
  let w: number;
  if (measureCtx) {
    measureCtx.font = `${size}px ${FONT_FAMILY}`;
    w = measureCtx.measureText(text).width;
  } else {
    w = text.length * CHAR_W_PER_PX * size;
  }
  if (widthCache.size > 5000) widthCache.clear();
  widthCache.set(key, w);
  return w;
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface MarginInputs {
  /** The y tick labels as they will be printed. */
  yTicks: string[];
  /** The x tick labels as they will be printed. */
  xTicks: string[];
  /** Rotate the x tick labels by this many degrees (0 = horizontal). */
  xTickRotation?: number;
  hasTitle: boolean;
  hasXTitle: boolean;
  hasYTitle: boolean;
  /** Width of the text measurer (tests pass a fixed one). */
  measure?: (text: string, size?: number) => number;
}

/** Tick length + gap to the label (d3 axis defaults: 6 + 3). */
const TICK_SPACE = 9;
const GAP = 4;

/**
 * Margins around the plot from the measured labels: left = widest y tick + tick + the rotated
 * y title's line; bottom = x tick labels (their rotated height when rotated) + the x title's
 * line; top = the title's line; right = half the last x tick label, which d3 centres on the
 * plot's right edge.
 */
export function computeMargins(m: MarginInputs): Margins {
  const measure = m.measure ?? textWidth;
  const line = FONT_SIZE + GAP;
  const yTickW = Math.max(0, ...m.yTicks.map((t) => measure(t, FONT_SIZE)));
  const xTickWs = m.xTicks.map((t) => measure(t, FONT_SIZE));
  const widestX = Math.max(0, ...xTickWs);
  const rot = ((m.xTickRotation ?? 0) * Math.PI) / 180;
  const xTickH = rot ? widestX * Math.sin(rot) + FONT_SIZE * Math.cos(rot) : FONT_SIZE;
  const lastX = xTickWs.length ? xTickWs[xTickWs.length - 1] : 0;
  return {
    top: (m.hasTitle ? TITLE_SIZE + 2 * GAP : GAP) + GAP,
    right: Math.ceil(rot ? GAP : lastX / 2 + GAP),
    bottom: Math.ceil(TICK_SPACE + xTickH + (m.hasXTitle ? line + GAP : GAP)),
    left: Math.ceil(TICK_SPACE + yTickW + (m.hasYTitle ? line + GAP : GAP)),
  };
}

export interface LegendEntryBox {
  width: number;
}

export interface LegendPlacement {
  side: 'right' | 'bottom';
  /** Space the legend takes (px): a column on the right or rows below. */
  width: number;
  height: number;
  /** Top-left of each entry, relative to the legend's origin. */
  positions: { x: number; y: number }[];
}

/** The right-hand legend column takes at most this share of the chart's width. */
export const LEGEND_MAX_SHARE = 0.32;
export const LEGEND_ROW = 15;
export const LEGEND_SWATCH = 18;
const LEGEND_GAP = 12;

/**
 * Where the legend goes so that it never covers data: a column right of the plot when its
 * widest entry fits in LEGEND_MAX_SHARE of the width, else rows below the plot, wrapped to the
 * width. Entry widths include their swatch.
 */
export function placeLegend(entries: LegendEntryBox[], width: number): LegendPlacement {
  if (!entries.length) return { side: 'right', width: 0, height: 0, positions: [] };
  const widest = Math.max(...entries.map((e) => e.width));
  if (widest + LEGEND_GAP <= width * LEGEND_MAX_SHARE) {
    return { side: 'right', width: widest + LEGEND_GAP, height: entries.length * LEGEND_ROW, positions: entries.map((_, k) => ({ x: 0, y: k * LEGEND_ROW })) };
  }
  const positions: { x: number; y: number }[] = [];
  let x = 0;
  let row = 0;
  for (const e of entries) {
    if (x > 0 && x + e.width > width) {
      x = 0;
      row++;
    }
    positions.push({ x, y: row * LEGEND_ROW });
    x += e.width + LEGEND_GAP;
  }
  return { side: 'bottom', width, height: (row + 1) * LEGEND_ROW + GAP, positions };
}

/** Index of the point nearest (px, py) within `radius` px, or -1. Points with NaN are skipped. */
export function nearestPoint(xs: ArrayLike<number>, ys: ArrayLike<number>, px: number, py: number, radius = Infinity): number {
  let best = -1;
  let bestD2 = radius * radius;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i] - px;
    const dy = ys[i] - py;
    const d2 = dx * dx + dy * dy;
    if (d2 <= bestD2) {
      bestD2 = d2;
      best = i;
    }
  }
  return best;
}

type AnyG = Selection<SVGGElement, unknown, null, undefined>;

/** The chart's title, left-aligned at the top of the svg. */
export function drawTitle(root: AnyG, text: string): void {
  root.selectAll('text.chart-title').data([text]).join('text').attr('class', 'chart-title').attr('x', 2).attr('y', TITLE_SIZE + 2).attr('font-size', TITLE_SIZE).attr('font-weight', 600).attr('fill', 'currentColor').text((t) => t);
}

export interface LegendItem {
  label: string;
  color: string;
  /** SVG dash array of the swatch line, or null for solid. */
  dash?: string | null;
  width?: number;
  /** A hollow/filled dot drawn on the swatch (series with markers). */
  marker?: 'filled' | 'hollow' | null;
}

/** Width of a legend entry: swatch, gap, label. */
export function legendEntryWidth(label: string): number {
  return LEGEND_SWATCH + 6 + textWidth(label, FONT_SIZE - 1);
}

/**
 * Draws the legend entries at the given placement into `g` (positioned by the caller).
 * Swatch markers are rects, never circles, so counting a chart's circles counts its data.
 */
export function drawLegend(g: AnyG, items: LegendItem[], placement: LegendPlacement): void {
  const rows = g
    .selectAll<SVGGElement, LegendItem>('g.legend-entry')
    .data(items)
    .join((enter) => {
      const e = enter.append('g').attr('class', 'legend-entry');
      e.append('line').attr('x1', 0).attr('x2', LEGEND_SWATCH).attr('y1', 0).attr('y2', 0);
      e.append('rect').attr('x', LEGEND_SWATCH / 2 - 3).attr('y', -3).attr('width', 6).attr('height', 6);
      e.append('text').attr('x', LEGEND_SWATCH + 6).attr('dy', '0.35em').attr('font-size', FONT_SIZE - 1).attr('fill', 'currentColor');
      return e;
    })
    .attr('transform', (_, k) => `translate(${placement.positions[k]?.x ?? 0},${(placement.positions[k]?.y ?? 0) + LEGEND_ROW / 2})`);
  rows.select('line').attr('stroke', (d) => d.color).attr('stroke-width', (d) => d.width ?? 2).attr('stroke-dasharray', (d) => d.dash ?? null);
  rows
    .select('rect')
    .style('display', (d) => (d.marker ? null : 'none'))
    .attr('fill', (d) => (d.marker === 'hollow' ? '#fff' : d.color))
    .attr('stroke', (d) => d.color);
  rows.select('text').text((d) => d.label);
}

/**
 * A tooltip drawn inside the svg (so it works in every chart without React plumbing, and is
 * skipped by the exports): a light box with one line per entry, kept inside the svg's box.
 */
export interface SvgTooltip {
  show(x: number, y: number, lines: string[]): void;
  hide(): void;
}

export function createSvgTooltip(parent: AnyG, bounds: () => { width: number; height: number }): SvgTooltip {
  const g = parent.append('g').attr('class', 'chart-tooltip').attr('data-testid', 'chart-tooltip').attr('data-export', 'skip').attr('pointer-events', 'none').style('display', 'none');
  const box = g.append('rect').attr('fill', '#fff').attr('fill-opacity', 0.95).attr('stroke', '#888').attr('rx', 3);
  const text = g.append('text').attr('font-size', FONT_SIZE).attr('fill', '#111');
  return {
    show(x, y, lines) {
      text
        .selectAll('tspan')
        .data(lines)
        .join('tspan')
        .attr('x', 6)
        .attr('dy', (_, i) => (i === 0 ? FONT_SIZE + 3 : FONT_SIZE + 3))
        .attr('font-weight', (_, i) => (i === 0 ? 600 : null))
        .text((l) => l);
      const w = Math.max(...lines.map((l) => textWidth(l, FONT_SIZE))) + 14;
      const h = lines.length * (FONT_SIZE + 3) + 8;
      const { width, height } = bounds();
      // Right of and above the pointer; flipped when it would leave the svg.
      const tx = x + 12 + w > width ? Math.max(0, x - 12 - w) : x + 12;
      const ty = Math.max(0, Math.min(height - h, y - h - 6));
      box.attr('width', w).attr('height', h);
      g.attr('transform', `translate(${tx},${ty})`).style('display', null).raise();
    },
    hide() {
      g.style('display', 'none');
    },
  };
}
