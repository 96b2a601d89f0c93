/**
 * React shell of the per-layer shift chart: gives D3 an svg and feeds it the ε ladder of
 * cached results (one line each), the current result's per-sample lines, and the linked
 * selection.
 */
import { useMemo } from 'react';
import { createLayerChart, type LayerChartData, type LayerSeries } from '../charts/layerChart';
import { useChart } from '../charts/useChart';
import { ladderOf, useLab } from '../store';
import { useEpsRangeMax, useModelNames } from '../modelNames';

export function useLayerSeries(): { layers: string[]; series: LayerSeries[]; compare: LayerSeries[] } {
  const cache = useLab((s) => s.cache);
  const shownKey = useLab((s) => s.shownKey);
  const compareOn = useLab((s) => !!s.compareModel);
  return useMemo(() => {
    const entries = ladderOf({ cache, shownKey });
    const shown = entries.find((e) => e.key === shownKey)?.slice.a;
    if (!shown) return { layers: [], series: [], compare: [] };
    const ladder = entries.map((e) => e.slice.a);
    const layers = shown.shifts.map((s) => s.layer);
    const series = ladder.map((r) => ({
      eps: r.eps,
      label: `ε = ${r.eps}`,
      current: r.key === shown.key,
      mean: r.shifts.map((s) => s.mean),
      q25: r.shifts.map((s) => s.q25),
      q75: r.shifts.map((s) => s.q75),
      perSample: r.key === shown.key ? r.shifts.map((s) => s.values) : undefined,
    }));
    // Compare mode: model B's results of the same ladder, on the layers both models have.
    const compare = compareOn
      ? entries
          .map((e) => e.slice.b)
          .filter((r) => r !== null)
          .map((r) => ({
            eps: r.eps,
            label: `B ε = ${r.eps}`,
            current: r.eps === shown.eps,
            mean: layers.map((name) => r.shifts.find((s) => s.layer === name)?.mean ?? NaN),
            q25: layers.map((name) => r.shifts.find((s) => s.layer === name)?.q25 ?? NaN),
            q75: layers.map((name) => r.shifts.find((s) => s.layer === name)?.q75 ?? NaN),
          }))
      : [];
    return { layers, series, compare };
  }, [cache, shownKey, compareOn]);
}

/** The chart reports hover and brush straight into the store (module-level: created once). */
const createShiftChart = (el: SVGSVGElement) =>
  createLayerChart(el, {
    onHoverSample: (i) => useLab.getState().set({ hovered: i }),
    onBrushSamples: (indices) => useLab.getState().set({ brushed: indices, brushedIndices: [] }),
  });

export function LayerChartView({ svgRef }: { svgRef?: React.RefObject<SVGSVGElement | null> }) {
  const { layers, series, compare } = useLayerSeries();
  const hovered = useLab((s) => s.hovered);
  const brushed = useLab((s) => s.brushed);
  // Samples brushed in a view with its own sample set (t-SNE) that this chart also shows.
  const brushedIndices = useLab((s) => s.brushedIndices);
  const stripIndices = useLab((s) => s.sample?.indices);
  const highlighted = useMemo(() => {
    if (!brushedIndices.length || !stripIndices) return brushed;
    const extra = Array.from(stripIndices.keys()).filter((i) => brushedIndices.includes(stripIndices[i]));
    return [...new Set([...brushed, ...extra])];
  }, [brushed, brushedIndices, stripIndices]);
  const names = useModelNames();
  const epsRangeMax = useEpsRangeMax();
  const data = useMemo<LayerChartData>(
    () => ({
      title: names.b && compare.length ? `Representation shift per layer: ${names.a} vs ${names.b}` : `Representation shift per layer: ${names.a}`,
      layers,
      series,
      compare,
      highlighted,
      hovered,
      yLabel: '‖f(x_adv) − f(x)‖ / ‖f(x)‖ (ratio)',
      modelName: names.a,
      compareName: names.b ?? undefined,
      epsRangeMax,
    }),
    [layers, series, compare, hovered, highlighted, names, epsRangeMax],
  );
  const ref = useChart(createShiftChart, data, svgRef);

  return <svg ref={ref} className="layer-chart" data-testid="layer-chart" tabIndex={0} aria-label="relative representation shift per layer" />;
}
