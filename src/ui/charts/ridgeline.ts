/**
 * Ridgeline of histograms on shared bins (one row per training epoch; the logit seed's
 * Figure 1): each row is a filled density curve, scaled to its own maximum, offset
 * vertically; later rows drawn on top. Row colour follows the epoch order (the sequential
 * scale, colors.ts). Title on top, row labels in a measured left margin, a tooltip with the
 * bin and its count under the pointer. D3 owns only the inside of the given svg.
 */
import * as d3 from 'd3';
import { computeMargins, createSvgTooltip, drawTitle, FONT_SIZE, type Chart } from './chart';
import { sequentialColor } from './colors';

export interface RidgeRow {
  label: string;
  counts: ArrayLike<number>;
}

export interface RidgelineData {
  /** Shared bin edges (one more than each row's counts). */
  edges: ArrayLike<number>;
  rows: RidgeRow[];
  xLabel: string;
  /** Chart title (default: the x label). */
  title?: string;
}

export function createRidgeline(svgEl: SVGSVGElement): Chart<RidgelineData> {
  const svg = d3.select(svgEl);
  return {
    update: (data) => draw(svgEl, data),
    destroy() {
      svg.on('.ridge', null);
      svg.selectAll('*').remove();
    },
  };
}

function draw(svgEl: SVGSVGElement, { edges, rows, xLabel, title }: RidgelineData): void {
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  const width = svgEl.clientWidth || 400;
  const height = svgEl.clientHeight || 240;
  const root = svg.append('g').attr('font-family', 'system-ui, sans-serif');
  drawTitle(root, title ?? xLabel);
  const nb = edges.length - 1;
  if (nb < 1 || !rows.length) return;
  const x = d3.scaleLinear().domain([edges[0], edges[nb]]);
  const m = computeMargins({ yTicks: rows.map((r) => r.label), xTicks: x.ticks(6).map(x.tickFormat(6)), hasTitle: true, hasXTitle: true, hasYTitle: false });
  const w = Math.max(10, width - m.left - m.right);
  const h = Math.max(10, height - m.top - m.bottom);
  x.range([0, w]);
  const g = root.append('g').attr('transform', `translate(${m.left},${m.top})`);
  const centers = d3.range(nb).map((i) => (edges[i] + edges[i + 1]) / 2);
  // A row's curve rises up to `overlap` rows high; the first row starts that much lower so
  // its peak stays under the title.
  const overlap = 1.8;
  const rowH = h / (rows.length - 1 + overlap);
  const band = d3.scaleBand<number>().domain(d3.range(rows.length)).range([(overlap - 1) * rowH, h]).paddingInner(0);
  g.append('g').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x).ticks(6));
  g.append('text').attr('x', w / 2).attr('y', h + m.bottom - 6).attr('text-anchor', 'middle').attr('font-size', FONT_SIZE).attr('fill', 'currentColor').text(xLabel);
  rows.forEach((row, r) => {
    const max = Math.max(1e-12, ...Array.from(row.counts));
    const base = (band(r) ?? 0) + band.bandwidth();
    const y = (c: number) => base - (c / max) * band.bandwidth() * overlap;
    const area = d3
      .area<number>()
      .x((i) => x(centers[i]))
      .y0(base)
      .y1((i) => y(row.counts[i]))
      .curve(d3.curveMonotoneX);
    const color = sequentialColor(r / Math.max(1, rows.length - 1));
    g.append('path').attr('d', area(d3.range(nb))).attr('fill', color).attr('fill-opacity', 0.45).attr('stroke', color).attr('stroke-width', 1.2);
    g.append('text').attr('x', -6).attr('y', base - 2).attr('text-anchor', 'end').attr('font-size', FONT_SIZE - 1).attr('fill', 'currentColor').text(row.label);
  });
  const tooltip = createSvgTooltip(root, () => ({ width, height }));
  svg
    .on('pointermove.ridge', (event: PointerEvent) => {
      const [mx, my] = d3.pointer(event, g.node());
      if (mx < 0 || mx > w || my < 0 || my > h) return tooltip.hide();
      const r = Math.min(rows.length - 1, Math.max(0, Math.floor((my - band.range()[0]) / band.step())));
      const v = x.invert(mx);
      const i = Math.min(nb - 1, Math.max(0, d3.bisectRight(Array.from(edges), v) - 1));
      const counts = rows[r].counts;
      const total = Array.from(counts).reduce((a, b) => a + b, 0) || 1;
      const f = d3.format('.3~g');
      const [sx, sy] = d3.pointer(event, svgEl);
      tooltip.show(sx, sy, [rows[r].label, `bin ${f(edges[i])} – ${f(edges[i + 1])}`, `${counts[i]} samples (${((100 * counts[i]) / total).toFixed(1)}%)`]);
    })
    .on('pointerleave.ridge', () => tooltip.hide());
}
