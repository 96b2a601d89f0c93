/**
 * The one calling convention of every chart module in this folder (STYLE.md conventions
 * 9–10): `createX(el, options?)` takes the <svg> or <canvas> React rendered and returns a
 * `Chart`. D3 (or the 2D context) owns only the inside of that element; React owns the
 * element and its box. `update(data)` draws (and may diff against the previous data),
 * `destroy()` removes what the chart added and its listeners. Options carry interaction
 * callbacks; a chart keeps no app state. The React side is `useChart` (./useChart.ts).
 */
export interface Chart<D> {
  update(data: D): void;
  destroy(): void;
}
