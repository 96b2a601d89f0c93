/**
 * Bipartite conflict graph at ε for one layer of a collision result (first projection):
 * class A's samples in the left column, class B's in the right, an edge per pair whose
 * collision distance is ≤ ε. A vertex is a sample: the focused one (hovered here or in the
 * view's sample row) is enlarged with its edges drawn strong; clicks are reported through the
 * callbacks. D3 owns only the inside of the given svg.
 *
 * `update` redraws when the result, layer or ε changed and otherwise only restyles the focus
 * (a redraw would replace the vertex under the pointer).
 */
import * as d3 from 'd3';
import type { CollisionAnalysisResult } from '../../core/collision/analysis';
import { drawTitle, FONT_SIZE, TITLE_SIZE, type Chart } from './chart';
import { classColor, COLOR } from './colors';

export interface ConflictGraphData {
  res: CollisionAnalysisResult;
  layer: string;
  eps: number;
  /** Focused vertex (sample position in the result), or null. */
  focus: number | null;
}

export interface ConflictGraphCallbacks {
  /** An edge was clicked: its pair index. */
  onPair?(pair: number): void;
  /** The pointer entered a vertex (its position) or left it (null). */
  onFocus?(vertex: number | null): void;
  /** A vertex was clicked: its dataset index; `add` when shift was held. */
  onSelectSample?(datasetIndex: number, add: boolean): void;
}

export function createConflictGraph(svgEl: SVGSVGElement, callbacks: ConflictGraphCallbacks = {}): Chart<ConflictGraphData> {
  const svg = d3.select(svgEl);
  let drawn: Omit<ConflictGraphData, 'focus'> | null = null;

  function draw({ res, layer, eps }: ConflictGraphData) {
    // Clear first: a model still running (or without this layer) must not show another's graph.
    svg.selectAll('*').remove();
    const l = res.layers.find((x) => x.layer === layer);
    if (!l || !l.distances.length || !res.pairI.length) {
      svg.append('text').attr('x', 4).attr('y', 14).attr('font-size', 11).attr('fill', COLOR.note).text(`no distances at ${layer} for this model yet`);
      return;
    }
    const w = svgEl.clientWidth || 300;
    const h = svgEl.clientHeight || 260;
    const verts = res.sampleLabels.length;
    const cls = res.classes;
    const colOf = (v: number) => cls.indexOf(res.sampleLabels[v]);
    const rowOf = (v: number) => {
      let k = 0;
      for (let u = 0; u < v; u++) if (res.sampleLabels[u] === res.sampleLabels[v]) k++;
      return k;
    };
    const per = Math.max(1, res.perClass);
    // Title and the class key (one label per column, in its class colour) above the vertices.
    const top = TITLE_SIZE + 8 + FONT_SIZE + 10;
    const bottom = FONT_SIZE + 8;
    const x = (v: number) => 30 + (colOf(v) * (w - 60)) / Math.max(1, cls.length - 1);
    const y = (v: number) => top + (rowOf(v) * (h - top - bottom)) / Math.max(1, per - 1);
    const root = svg.append('g').attr('font-family', 'system-ui, sans-serif');
    drawTitle(root, `Conflict graph at ε = ${eps}, layer ${layer}`);
    svg
      .selectAll(null)
      .data(cls)
      .join('text')
      .attr('class', 'class-key')
      .attr('x', (_, k) => 30 + (k * (w - 60)) / Math.max(1, cls.length - 1))
      .attr('y', top - 8)
      .attr('text-anchor', (_, k) => (k === 0 ? 'start' : k === cls.length - 1 ? 'end' : 'middle'))
      .attr('font-size', FONT_SIZE)
      .attr('font-weight', 600)
      .attr('fill', (c) => classColor(c))
      .text((c) => `class ${c}`);
    const d = l.distances[0];
    const edges = Array.from(res.pairI.keys()).filter((k) => d[k] <= eps);
    svg
      .selectAll(null)
      .data(edges)
      .join('line')
      .attr('x1', (k) => x(res.pairI[k]))
      .attr('y1', (k) => y(res.pairI[k]))
      .attr('x2', (k) => x(res.pairJ[k]))
      .attr('y2', (k) => y(res.pairJ[k]))
      .attr('class', 'edge')
      .attr('stroke', COLOR.edge)
      .attr('stroke-width', 1.2)
      .style('cursor', 'pointer')
      .on('click', (_e, k) => callbacks.onPair?.(k))
      .append('title')
      .text((k) => `pair ${res.pairI[k]}–${res.pairJ[k]}: d = ${d[k].toFixed(3)}`);
    svg
      .selectAll(null)
      .data(d3.range(verts))
      .join('circle')
      .attr('cx', x)
      .attr('cy', y)
      .attr('class', 'vertex')
      .attr('r', 4)
      .attr('fill', (v) => classColor(res.sampleLabels[v]))
      .style('cursor', 'pointer')
      .on('mouseenter', (_e, v) => callbacks.onFocus?.(v))
      .on('mouseleave', () => callbacks.onFocus?.(null))
      .on('click', (e: MouseEvent, v) => callbacks.onSelectSample?.(res.sampleIndices[v], e.shiftKey))
      .append('title')
      .text((v) => `sample ${res.sampleIndices[v]} (class ${res.sampleLabels[v]}): ${edges.filter((k) => res.pairI[k] === v || res.pairJ[k] === v).length} conflicts at ε=${eps}`);
    svg.append('text').attr('x', 4).attr('y', h - 2).attr('font-size', 10).attr('fill', COLOR.note).text(`${edges.length} conflict edges at ε=${eps} (${layer}, projection 1); click an edge`);
  }

  function restyle({ res, focus }: ConflictGraphData) {
    const on = (k: number) => focus !== null && (res.pairI[k] === focus || res.pairJ[k] === focus);
    svg.selectAll<SVGLineElement, number>('line.edge').attr('stroke', (k) => (on(k) ? COLOR.focus : COLOR.edge)).attr('stroke-width', (k) => (on(k) ? 2.4 : 1.2));
    svg.selectAll<SVGCircleElement, number>('circle.vertex').attr('r', (v) => (v === focus ? 7 : 4)).attr('stroke', (v) => (v === focus ? COLOR.focus : 'none'));
  }

  return {
    update(data) {
      if (!drawn || drawn.res !== data.res || drawn.layer !== data.layer || drawn.eps !== data.eps) {
        draw(data);
        drawn = { res: data.res, layer: data.layer, eps: data.eps };
      }
      restyle(data);
    },
    destroy() {
      svg.selectAll('*').remove();
      drawn = null;
    },
  };
}
