/**
 * Per-class rank-order scatter of two models' confidences (the logit seed: AT and ST
 * networks are confident on different images): x = a sample's confidence rank under A,
 * y = under B, the y = x diagonal for agreement. Samples ranked far apart are drawn red and
 * can be clicked (reported through `onFocus`); the focused sample is enlarged. D3 owns only
 * the inside of the given svg; every update redraws.
 */
import * as d3 from 'd3';
import type { Chart } from './chart';
import { COLOR } from './colors';

/** One class's rank orders (the fields of core's ClassRankOrder the scatter reads). */
export interface RankScatterClass {
  /** Samples of the class. */
  n: number;
  /** Global (dataset) index of each point. */
  indices: ArrayLike<number>;
  /** Average rank (1..n) of each point under A and under B. */
  rankA: ArrayLike<number>;
  rankB: ArrayLike<number>;
  /** Global indices of the samples ranked far apart. */
  farIndices: ArrayLike<number>;
}

export interface RankScatterData {
  cls: RankScatterClass;
  /** Focused sample (global index), or null. */
  focus: number | null;
}

export function createRankScatter(svgEl: SVGSVGElement, opts: { onFocus?: (index: number) => void } = {}): Chart<RankScatterData> {
  const svg = d3.select(svgEl);
  return {
    update({ cls: c, focus }) {
      svg.selectAll('*').remove();
      const size = Math.min(svgEl.clientWidth || 280, 280);
      const m = 36;
      const x = d3.scaleLinear().domain([1, Math.max(2, c.n)]).range([m, size - 8]);
      const y = d3.scaleLinear().domain([1, Math.max(2, c.n)]).range([size - m, 8]);
      svg.append('g').attr('transform', `translate(0,${size - m})`).call(d3.axisBottom(x).ticks(4));
      svg.append('g').attr('transform', `translate(${m},0)`).call(d3.axisLeft(y).ticks(4));
      svg.append('line').attr('x1', x(1)).attr('y1', y(1)).attr('x2', x(c.n)).attr('y2', y(c.n)).attr('stroke', COLOR.diagonal);
      svg.append('text').attr('x', size / 2).attr('y', size - 4).attr('text-anchor', 'middle').attr('font-size', 10).text('confidence rank under A');
      svg.append('text').attr('transform', 'rotate(-90)').attr('x', -size / 2).attr('y', 10).attr('text-anchor', 'middle').attr('font-size', 10).text('rank under B');
      const far = new Set(Array.from(c.farIndices));
      svg
        .selectAll(null)
        .data(d3.range(c.indices.length))
        .join('circle')
        .attr('cx', (j) => x(c.rankA[j]))
        .attr('cy', (j) => y(c.rankB[j]))
        .attr('r', (j) => (c.indices[j] === focus ? 5 : 3))
        .attr('fill', (j) => (far.has(c.indices[j]) ? COLOR.far : COLOR.control))
        .attr('opacity', 0.8)
        .style('cursor', (j) => (far.has(c.indices[j]) ? 'pointer' : 'default'))
        .on('click', (_e, j) => far.has(c.indices[j]) && opts.onFocus?.(c.indices[j]));
    },
    destroy() {
      svg.selectAll('*').remove();
    },
  };
}
