/**
 * Ridgeline of histograms on shared bins (one row per training epoch; the logit seed's
 * Figure 1): each row is a filled density curve, scaled to its own maximum, offset
 * vertically; later rows drawn on top. D3 owns only the inside of the given svg.
 */
import * as d3 from 'd3';
import type { Chart } from './chart';
import { epsColor } from './colors';

export interface RidgeRow {
  label: string;
  counts: ArrayLike<number>;
}

export interface RidgelineData {
  /** Shared bin edges (one more than each row's counts). */
  edges: ArrayLike<number>;
  rows: RidgeRow[];
  xLabel: string;
}

export function createRidgeline(svgEl: SVGSVGElement): Chart<RidgelineData> {
  const svg = d3.select(svgEl);
  return {
    update: (data) => draw(svgEl, data),
    destroy() {
      svg.selectAll('*').remove();
    },
  };
}

function draw(svgEl: SVGSVGElement, { edges, rows, xLabel }: RidgelineData): void {
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  const width = svgEl.clientWidth || 400;
  const height = svgEl.clientHeight || 240;
  const m = { top: 10, right: 12, bottom: 34, left: 70 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const g = svg.append('g').attr('transform', `translate(${m.left},${m.top})`);
  const nb = edges.length - 1;
  if (nb < 1 || !rows.length) return;
  const centers = d3.range(nb).map((i) => (edges[i] + edges[i + 1]) / 2);
  const x = d3.scaleLinear().domain([edges[0], edges[nb]]).range([0, w]);
  const band = d3.scaleBand<number>().domain(d3.range(rows.length)).range([0, h]).paddingInner(0);
  const overlap = 1.8;
  g.append('g').attr('transform', `translate(0,${h})`).call(d3.axisBottom(x).ticks(6));
  g.append('text').attr('x', w / 2).attr('y', h + 30).attr('text-anchor', 'middle').attr('font-size', 11).text(xLabel);
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
    const color = epsColor(r, Math.max(1, rows.length - 1));
    g.append('path').attr('d', area(d3.range(nb))).attr('fill', color).attr('fill-opacity', 0.45).attr('stroke', color).attr('stroke-width', 1.2);
    g.append('text').attr('x', -6).attr('y', base - 2).attr('text-anchor', 'end').attr('font-size', 10).text(row.label);
  });
}
