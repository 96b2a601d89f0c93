/**
 * Colour legend of the heat maps (issue #21): one bar per shared scale, drawn once under the
 * maps that use it, so "the same value is the same colour" can be checked by eye. Ticks at the
 * ends and the middle, with the quantity and its unit.
 */
import { heatGradientCss } from '../charts/colors';

export function HeatLegend({ domain, label, format = (v) => v.toFixed(3), testId }: { domain: readonly [number, number]; label: string; format?: (v: number) => string; testId: string }) {
  const [lo, hi] = domain;
  return (
    <div className="heat-legend" data-testid={testId} data-lo={lo} data-hi={hi}>
      <span className="heat-legend-label">{label}</span>
      <span className="heat-legend-scale">
        <span className="heat-legend-bar" style={{ background: heatGradientCss(domain) }} />
        <span className="heat-legend-ticks">
          <span>{format(lo)}</span>
          <span>{format((lo + hi) / 2)}</span>
          <span>{format(hi)}</span>
        </span>
      </span>
    </div>
  );
}
