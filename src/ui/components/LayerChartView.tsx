/**
 * React shell of the per-layer shift chart: gives D3 an svg and feeds it the ε ladder of
 * cached results (one line each), the current result's per-sample lines, and the linked
 * selection.
 */
import { useEffect, useMemo, useRef } from 'react';
import { createLayerChart, type LayerChartData, type LayerSeries } from '../charts/layerChart';
import { useLab } from '../store';

export function useLayerSeries(): { layers: string[]; series: LayerSeries[] } {
  const results = useLab((s) => s.results);
  const shownKey = useLab((s) => s.shownKey);
  return useMemo(() => {
    const shown = shownKey ? results[shownKey] : null;
    if (!shown) return { layers: [], series: [] };
    const ladder = Object.values(results)
      .filter((r) => r.ladderKey === shown.ladderKey)
      .sort((a, b) => a.eps - b.eps);
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
    return { layers, series };
  }, [results, shownKey]);
}

export function LayerChartView({ svgRef }: { svgRef?: React.RefObject<SVGSVGElement | null> }) {
  const ownRef = useRef<SVGSVGElement>(null);
  const ref = svgRef ?? ownRef;
  const chart = useRef<ReturnType<typeof createLayerChart> | null>(null);
  const { layers, series } = useLayerSeries();
  const hovered = useLab((s) => s.hovered);
  const brushed = useLab((s) => s.brushed);

  useEffect(() => {
    if (!ref.current) return;
    chart.current = createLayerChart(ref.current, {
      onHoverSample: (i) => useLab.getState().set({ hovered: i }),
      onBrushSamples: (indices) => useLab.getState().set({ brushed: indices }),
    });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [ref]);

  useEffect(() => {
    const data: LayerChartData = { layers, series, highlighted: brushed, hovered, yLabel: '‖f(x_adv) − f(x)‖ / ‖f(x)‖' };
    chart.current?.update(data);
  }, [layers, series, hovered, brushed]);

  return <svg ref={ref} className="layer-chart" data-testid="layer-chart" tabIndex={0} aria-label="relative representation shift per layer" />;
}
