/**
 * One sample's logits, clean vs adversarial, as grouped bars per class (the per-sample
 * detail): blue clean bar then red adversarial bar in each class's band, bars from 0, the
 * true class marked "*" on the axis; title, measured margins and a legend row under the plot
 * (chart.ts conventions), exact values in each bar's tooltip. D3 owns only the inside of the
 * given svg; every update redraws.
 */
import * as d3 from 'd3';
import { computeMargins, drawLegend, drawTitle, FONT_SIZE, LEGEND_ROW, legendEntryWidth, placeLegend, type Chart, type LegendItem } from './chart';
import { COLOR } from './colors';

export interface LogitBarsData {
  clean: Float32Array;
  adv: Float32Array;
  /** Class names (the index when missing). */
  names: string[];
  /** True class. */
  label: number;
}

export function createLogitBars(svgEl: SVGSVGElement): Chart<LogitBarsData> {
  const svg = d3.select(svgEl);
  return {
    update({ clean, adv, names, label }) {
      svg.selectAll('*').remove();
      const w = svgEl.clientWidth || 360;
      const h = svgEl.clientHeight || 180;
      const root = svg.append('g').attr('font-family', 'system-ui, sans-serif');
      drawTitle(root, 'Logits of this sample, clean vs adversarial');
      const k = clean.length;
      const lo = Math.min(0, d3.min([...clean, ...adv]) ?? 0);
      const hi = Math.max(0, d3.max([...clean, ...adv]) ?? 0);
      const y = d3.scaleLinear().domain([lo, hi]).nice();
      // Legend in a row under the class axis, never over the bars.
      const items: LegendItem[] = [
        { label: 'clean', color: COLOR.clean, width: 8 },
        { label: 'adversarial', color: COLOR.adversarial, width: 8 },
        { label: '* = true class', color: 'transparent', width: 0 },
      ];
      const legend = placeLegend(items.map((e) => ({ width: legendEntryWidth(e.label) })), w);
      const legendH = legend.side === 'bottom' ? legend.height : LEGEND_ROW + 4;
      const tickLabels = d3.range(k).map((i) => `${names[i] ?? i}${i === label ? '*' : ''}`);
      const m = computeMargins({ yTicks: y.ticks(5).map(y.tickFormat(5)), xTicks: tickLabels, hasTitle: true, hasXTitle: false, hasYTitle: true });
      const x = d3.scaleBand<number>().domain(d3.range(k)).range([m.left, w - m.right]).padding(0.2);
      y.range([h - m.bottom - legendH, m.top]);
      const half = x.bandwidth() / 2;
      for (const [series, values, colour, dx] of [['clean', clean, COLOR.clean, 0], ['adversarial', adv, COLOR.adversarial, half]] as const) {
        root
          .append('g')
          .selectAll('rect')
          .data(Array.from(values))
          .join('rect')
          .attr('class', 'bar')
          .attr('x', (_v, i) => (x(i) ?? 0) + dx)
          .attr('width', half)
          .attr('y', (v) => y(Math.max(0, v)))
          .attr('height', (v) => Math.abs(y(v) - y(0)))
          .attr('fill', colour)
          .append('title')
          .text((v, i) => `${series} logit of ${names[i] ?? i}: ${v.toFixed(3)}`);
      }
      root.append('g').attr('transform', `translate(0,${y(0)})`).call(d3.axisBottom(x).tickFormat((i) => tickLabels[i]).tickSizeOuter(0));
      root.append('g').attr('transform', `translate(${m.left},0)`).call(d3.axisLeft(y).ticks(5));
      const [y0, y1] = y.range();
      root.append('text').attr('transform', 'rotate(-90)').attr('x', -(y0 + y1) / 2).attr('y', FONT_SIZE).attr('text-anchor', 'middle').attr('font-size', FONT_SIZE).attr('fill', 'currentColor').text('logit');
      const legendG = root.append('g').attr('transform', `translate(${m.left},${h - legendH})`);
      drawLegend(legendG, items, legend.side === 'bottom' ? legend : { ...legend, positions: legend.positions.map((_, i) => ({ x: items.slice(0, i).reduce((a, e) => a + legendEntryWidth(e.label) + 12, 0), y: 0 })) });
    },
    destroy() {
      svg.selectAll('*').remove();
    },
  };
}
