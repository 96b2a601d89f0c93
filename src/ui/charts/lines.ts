/**
 * A small multi-series line chart (D3 owns only the inside of the svg React gives it,
 * STYLE.md): numeric or categorical x, optional band per series (mean ± sd, IQR), dashed
 * series for the compare model B, hover tooltips and a click callback on points. Used by
 * the robustness curve, the per-layer overlap, probes, MI, capacity and optimal-loss views.
 */
import * as d3 from 'd3';
import type { Chart } from './chart';
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
}

export interface LineChartData {
  /** Numeric x values, or category names (layers). */
  x: (number | string)[];
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  yDomain?: [number, number];
  /** Horizontal reference lines, e.g. log 2 ceiling. */
  rules?: { y: number; label: string }[];
  /** Highlighted x position (e.g. the current ε). */
  markX?: number | string | null;
  format?: (v: number) => string;
}

export type LineChart = Chart<LineChartData>;

const M = { top: 14, right: 16, bottom: 46, left: 52 };

export function createLineChart(svgEl: SVGSVGElement, opts: { onClickX?: (x: number | string) => void; onHoverX?: (x: number | string | null) => void } = {}): LineChart {
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  const root = svg.append('g');
  const tooltip = svg.append('text').attr('class', 'tooltip').attr('font-size', 11).attr('pointer-events', 'none');

  function update(data: LineChartData) {
    const width = svgEl.clientWidth || 600;
    const height = svgEl.clientHeight || 260;
    root.selectAll('*').remove();
    const g = root.append('g').attr('transform', `translate(${M.left},${M.top})`);
    const w = Math.max(10, width - M.left - M.right);
    const h = Math.max(10, height - M.top - M.bottom);
    const categorical = data.x.some((v) => typeof v === 'string');
    const xPos: (i: number) => number = categorical
      ? (() => {
          const s = d3.scalePoint<number>().domain(data.x.map((_, i) => i)).range([0, w]).padding(0.3);
          return (i: number) => s(i) ?? 0;
        })()
      : (() => {
          const xs = data.x as number[];
          const s = d3.scaleLinear().domain(d3.extent(xs) as [number, number]).nice().range([0, w]);
          return (i: number) => s(xs[i]);
        })();
    const values = data.series.flatMap((s) => [...s.y, ...(s.band?.low ?? []), ...(s.band?.high ?? [])]).filter((v): v is number => v !== null && Number.isFinite(v));
    const yDomain = data.yDomain ?? ([Math.min(0, d3.min(values) ?? 0), (d3.max(values) ?? 1) * 1.05 || 1] as [number, number]);
    const y = d3.scaleLinear().domain(yDomain).nice().range([h, 0]);
    const fmt = data.format ?? d3.format('.3~g');
    // Axes.
    const xAxis = g.append('g').attr('transform', `translate(0,${h})`);
    if (categorical) {
      xAxis.call(d3.axisBottom(d3.scalePoint<string>().domain(data.x.map(String)).range([0, w]).padding(0.3)));
      if (data.x.length > 6) xAxis.selectAll('text').attr('transform', 'rotate(-25)').style('text-anchor', 'end');
    } else {
      const xs = data.x as number[];
      xAxis.call(d3.axisBottom(d3.scaleLinear().domain(d3.extent(xs) as [number, number]).nice().range([0, w])).ticks(6));
    }
    g.append('g').call(d3.axisLeft(y).ticks(5));
    g.append('text').attr('x', w / 2).attr('y', h + 40).attr('text-anchor', 'middle').attr('font-size', 11).text(data.xLabel);
    g.append('text').attr('transform', 'rotate(-90)').attr('x', -h / 2).attr('y', -40).attr('text-anchor', 'middle').attr('font-size', 11).text(data.yLabel);
    for (const rule of data.rules ?? []) {
      g.append('line').attr('x1', 0).attr('x2', w).attr('y1', y(rule.y)).attr('y2', y(rule.y)).attr('stroke', COLOR.rule).attr('stroke-dasharray', '2,3');
      g.append('text').attr('x', w - 2).attr('y', y(rule.y) - 3).attr('text-anchor', 'end').attr('font-size', 10).attr('fill', COLOR.ruleText).text(rule.label);
    }
    if (data.markX !== undefined && data.markX !== null) {
      const i = data.x.findIndex((v) => v === data.markX);
      if (i >= 0) g.append('line').attr('x1', xPos(i)).attr('x2', xPos(i)).attr('y1', 0).attr('y2', h).attr('stroke', COLOR.current).attr('stroke-width', 1).attr('opacity', 0.5);
    }
    const ok = (v: number | null): v is number => v !== null && Number.isFinite(v);
    for (const s of data.series) {
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
      g.append('path').attr('d', line(d3.range(data.x.length))).attr('fill', 'none').attr('stroke', s.color).attr('stroke-width', 2).attr('stroke-dasharray', s.dashed === true ? '6,4' : s.dashed || null);
      g.selectAll(null)
        .data(d3.range(data.x.length).filter((i) => ok(s.y[i])))
        .join('circle')
        .attr('cx', (i) => xPos(i))
        .attr('cy', (i) => y(s.y[i] as number))
        .attr('r', 3.5)
        .attr('fill', s.hollow ? COLOR.paper : s.color)
        .attr('stroke', s.color)
        .style('cursor', opts.onClickX ? 'pointer' : 'default')
        .on('mouseenter', (_e, i) => {
          tooltip.attr('x', M.left + xPos(i) + 6).attr('y', M.top + y(s.y[i] as number) - 6).text(`${s.label} · ${data.x[i]}: ${fmt(s.y[i] as number)}`);
          opts.onHoverX?.(data.x[i]);
        })
        .on('mouseleave', () => {
          tooltip.text('');
          opts.onHoverX?.(null);
        })
        .on('click', (_e, i) => opts.onClickX?.(data.x[i]));
      // Missing values are shown as "n/a" markers on the axis, never as zero.
      g.selectAll(null)
        .data(d3.range(data.x.length).filter((i) => s.y[i] === null))
        .join('text')
        .attr('x', (i) => xPos(i))
        .attr('y', h - 4)
        .attr('text-anchor', 'middle')
        .attr('font-size', 9)
        .attr('fill', s.color)
        .text('n/a');
    }
    // Legend.
    const legend = g.append('g').attr('transform', `translate(4,0)`);
    data.series.forEach((s, k) => {
      const row = legend.append('g').attr('transform', `translate(0,${k * 14})`);
      row.append('line').attr('x1', 0).attr('x2', 18).attr('y1', 0).attr('y2', 0).attr('stroke', s.color).attr('stroke-width', 2).attr('stroke-dasharray', s.dashed === true ? '5,3' : s.dashed || null);
      row.append('text').attr('x', 22).attr('y', 4).attr('font-size', 10).text(s.label);
    });
  }

  return {
    update,
    destroy() {
      svg.selectAll('*').remove();
    },
  };
}
