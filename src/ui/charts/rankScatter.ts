/**
 * Per-class rank-order scatter of two models' confidences (the logit seed: AT and ST
 * networks are confident on different images): x = a sample's confidence rank under A,
 * y = under B, the y = x diagonal for agreement. Samples ranked far apart are drawn red and
 * can be clicked (reported through `onFocus`); the focused sample is enlarged. D3 owns only
 * the inside of the given svg; every update redraws.
 */
import * as d3 from 'd3';
import { computeMargins, createSvgTooltip, drawTitle, FONT_SIZE, nearestPoint, type Chart } from './chart';
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
  /** Axis names of the two models ("A mnist-small-st"); default "A" / "B". */
  nameA?: string;
  nameB?: string;
  /** Chart title (default: "Confidence ranks, A vs B"). */
  title?: string;
}

export function createRankScatter(svgEl: SVGSVGElement, opts: { onFocus?: (index: number) => void } = {}): Chart<RankScatterData> {
  const svg = d3.select(svgEl);
  return {
    update({ cls: c, focus, nameA = 'A', nameB = 'B', title }) {
      svg.on('.rank', null);
      svg.selectAll('*').remove();
      const size = Math.min(svgEl.clientWidth || 280, svgEl.clientHeight || 280);
      const root = svg.append('g').attr('font-family', 'system-ui, sans-serif');
      drawTitle(root, title ?? `Confidence ranks, ${nameA} vs ${nameB}`);
      const x = d3.scaleLinear().domain([1, Math.max(2, c.n)]);
      const y = d3.scaleLinear().domain([1, Math.max(2, c.n)]);
      const ticks = x.ticks(4).map(x.tickFormat(4));
      const m = computeMargins({ yTicks: ticks, xTicks: ticks, hasTitle: true, hasXTitle: true, hasYTitle: true });
      x.range([m.left, size - m.right]);
      y.range([size - m.bottom, m.top]);
      root.append('g').attr('transform', `translate(0,${size - m.bottom})`).call(d3.axisBottom(x).ticks(4));
      root.append('g').attr('transform', `translate(${m.left},0)`).call(d3.axisLeft(y).ticks(4));
      root.append('line').attr('x1', x(1)).attr('y1', y(1)).attr('x2', x(c.n)).attr('y2', y(c.n)).attr('stroke', COLOR.diagonal);
      root.append('text').attr('x', (m.left + size - m.right) / 2).attr('y', size - 4).attr('text-anchor', 'middle').attr('font-size', FONT_SIZE).attr('fill', 'currentColor').text(`confidence rank under ${nameA}`);
      root.append('text').attr('transform', 'rotate(-90)').attr('x', -(m.top + size - m.bottom) / 2).attr('y', FONT_SIZE).attr('text-anchor', 'middle').attr('font-size', FONT_SIZE).attr('fill', 'currentColor').text(`rank under ${nameB}`);
      const far = new Set(Array.from(c.farIndices));
      root
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
      // Tooltip on the nearest point: its sample and both ranks.
      const tooltip = createSvgTooltip(root, () => ({ width: size, height: size }));
      const px = Array.from({ length: c.indices.length }, (_, j) => x(c.rankA[j]));
      const py = Array.from({ length: c.indices.length }, (_, j) => y(c.rankB[j]));
      svg
        .on('pointermove.rank', (event: PointerEvent) => {
          const [mx, my] = d3.pointer(event, svgEl);
          const j = nearestPoint(px, py, mx, my, 10);
          if (j < 0) return tooltip.hide();
          const f = d3.format('.1f');
          tooltip.show(mx, my, [`sample #${c.indices[j]}${far.has(c.indices[j]) ? ' (ranked far apart)' : ''}`, `rank under ${nameA}: ${f(c.rankA[j])}`, `rank under ${nameB}: ${f(c.rankB[j])}`]);
        })
        .on('pointerleave.rank', () => tooltip.hide());
    },
    destroy() {
      svg.on('.rank', null);
      svg.selectAll('*').remove();
    },
  };
}
