/**
 * One sample's logits, clean vs adversarial, as grouped bars per class (the per-sample
 * detail): blue clean bar then red adversarial bar in each class's band, bars from 0, the
 * true class marked "*" on the axis. D3 owns only the inside of the given svg; every update
 * redraws.
 */
import * as d3 from 'd3';
import type { Chart } from './chart';
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
      const m = { l: 36, r: 6, t: 8, b: 30 };
      const k = clean.length;
      const x = d3.scaleBand<number>().domain(d3.range(k)).range([m.l, w - m.r]).padding(0.2);
      const lo = Math.min(0, d3.min([...clean, ...adv]) ?? 0);
      const hi = Math.max(0, d3.max([...clean, ...adv]) ?? 0);
      const y = d3.scaleLinear().domain([lo, hi]).nice().range([h - m.b, m.t]);
      const half = x.bandwidth() / 2;
      for (const [series, values, colour, dx] of [['clean', clean, COLOR.clean, 0], ['adversarial', adv, COLOR.adversarial, half]] as const) {
        svg
          .append('g')
          .selectAll('rect')
          .data(Array.from(values))
          .join('rect')
          .attr('x', (_v, i) => (x(i) ?? 0) + dx)
          .attr('width', half)
          .attr('y', (v) => y(Math.max(0, v)))
          .attr('height', (v) => Math.abs(y(v) - y(0)))
          .attr('fill', colour)
          .append('title')
          .text((v, i) => `${series} logit of ${names[i] ?? i}: ${v.toFixed(3)}`);
      }
      svg.append('g').attr('transform', `translate(0,${y(0)})`).call(d3.axisBottom(x).tickFormat((i) => `${names[i] ?? i}${i === label ? '*' : ''}`).tickSizeOuter(0));
      svg.append('g').attr('transform', `translate(${m.l},0)`).call(d3.axisLeft(y).ticks(5));
      svg.append('text').attr('x', m.l).attr('y', h - 4).attr('font-size', 10).attr('fill', COLOR.note).text('logits: clean (blue) vs adversarial (red); * = true class');
    },
    destroy() {
      svg.selectAll('*').remove();
    },
  };
}
