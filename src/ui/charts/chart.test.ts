import { describe, expect, it } from 'vitest';
import { computeMargins, LEGEND_MAX_SHARE, LEGEND_ROW, nearestPoint, placeLegend } from './chart';

// A fixed measurer: 6 px per character, whatever the size.
const measure = (t: string) => 6 * t.length;

describe('computeMargins', () => {
  it('makes room for the widest y tick label and the y title', () => {
    const narrow = computeMargins({ yTicks: ['0', '1'], xTicks: ['a'], hasTitle: true, hasXTitle: true, hasYTitle: true, measure });
    const wide = computeMargins({ yTicks: ['0.0001', '100.0%'], xTicks: ['a'], hasTitle: true, hasXTitle: true, hasYTitle: true, measure });
    // Five more characters of tick label: 30 px more on the left.
    expect(wide.left - narrow.left).toBe(30);
    // Tick (9) + label (6 × 6) + title line (11 + 4) + gap (4).
    expect(wide.left).toBe(9 + 36 + 15 + 4);
  });

  it('rotated x labels take their rotated height; horizontal ones one line', () => {
    const flat = computeMargins({ yTicks: ['1'], xTicks: ['conv2d_relu_block'], hasTitle: false, hasXTitle: true, hasYTitle: false, measure });
    const rotated = computeMargins({ yTicks: ['1'], xTicks: ['conv2d_relu_block'], xTickRotation: 30, hasTitle: false, hasXTitle: true, hasYTitle: false, measure });
    // 17 characters = 102 px at 30°: 51 px up plus 11·cos 30° ≈ 9.5.
    expect(rotated.bottom - flat.bottom).toBeCloseTo(51 + 11 * Math.cos(Math.PI / 6) - 11, 0);
    // A horizontal last label is centred on the plot's right edge: half of it sticks out.
    expect(flat.right).toBe(Math.ceil(51 + 4));
  });

  it('a title adds its line at the top', () => {
    const a = computeMargins({ yTicks: [], xTicks: [], hasTitle: true, hasXTitle: false, hasYTitle: false, measure });
    const b = computeMargins({ yTicks: [], xTicks: [], hasTitle: false, hasXTitle: false, hasYTitle: false, measure });
    expect(a.top).toBeGreaterThan(b.top + 12);
  });
});

describe('placeLegend', () => {
  it('puts a narrow legend in a column right of the plot', () => {
    const p = placeLegend([{ width: 80 }, { width: 100 }], 600);
    expect(p.side).toBe('right');
    expect(p.width).toBeLessThanOrEqual(600 * LEGEND_MAX_SHARE);
    expect(p.positions).toEqual([{ x: 0, y: 0 }, { x: 0, y: LEGEND_ROW }]);
  });

  it('moves a wide legend below the plot, wrapped into rows within the width', () => {
    const p = placeLegend([{ width: 200 }, { width: 200 }, { width: 200 }], 500);
    expect(p.side).toBe('bottom');
    // Two entries fit in 500 px (200 + 12 + 200), the third wraps.
    expect(p.positions.map((q) => q.y)).toEqual([0, 0, LEGEND_ROW]);
    for (const [k, q] of p.positions.entries()) expect(q.x + [200, 200, 200][k]).toBeLessThanOrEqual(500);
    expect(p.height).toBeGreaterThanOrEqual(2 * LEGEND_ROW);
  });

  it('takes no room without entries', () => {
    expect(placeLegend([], 400)).toMatchObject({ width: 0, height: 0 });
  });
});

describe('nearestPoint', () => {
  it('finds the nearest point within the radius, skipping NaN', () => {
    const xs = [0, 10, NaN, 30];
    const ys = [0, 0, 5, 0];
    expect(nearestPoint(xs, ys, 12, 1, 5)).toBe(1);
    expect(nearestPoint(xs, ys, 20, 0, 5)).toBe(-1);
    expect(nearestPoint(xs, ys, 29, 0)).toBe(3);
  });
});
