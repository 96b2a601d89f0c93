/**
 * One layer's joint t-SNE scatter on a canvas (thousands of points; svg would choke):
 * clean points filled, adversarial points hollow, a faint line from each clean point to its
 * adversarial partner, colour = true class, misclassified points ringed in red. New
 * positions animate from the previous frame (no jumps on warm start), with the view box
 * eased too so a growing layout does not snap.
 */
import { classColor } from './colors';

export interface ScatterFrame {
  /** 2n × 2 positions: clean rows then adversarial rows. */
  positions: Float32Array;
  labels: Int32Array;
  cleanPred: Int32Array;
  advPred: Int32Array;
  /** Dataset indices of the pairs (hover/brush linking uses them). */
  highlighted?: Set<number>;
}

export interface Scatter {
  update(frame: ScatterFrame): void;
  destroy(): void;
}

const ANIMATION_MS = 350;

function extent(p: Float32Array): [number, number, number, number] {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < p.length; i += 2) {
    if (p[i] < x0) x0 = p[i];
    if (p[i] > x1) x1 = p[i];
    if (p[i + 1] < y0) y0 = p[i + 1];
    if (p[i + 1] > y1) y1 = p[i + 1];
  }
  if (!Number.isFinite(x0)) return [-1, 1, -1, 1];
  return [x0, x1, y0, y1];
}

export function createScatter(canvas: HTMLCanvasElement, opts: { onHover?: (pair: number | null) => void } = {}): Scatter {
  let from: Float32Array | null = null;
  let to: Float32Array | null = null;
  let boxFrom: number[] | null = null;
  let boxTo: number[] = [-1, 1, -1, 1];
  let frame: ScatterFrame | null = null;
  let t0 = 0;
  let raf = 0;
  let shown: Float32Array | null = null;
  let shownBox = boxTo;

  function draw(p: Float32Array, box: number[]) {
    const ctx = canvas.getContext('2d');
    if (!ctx || !frame) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = canvas.clientWidth || 220;
    const h = canvas.clientHeight || 220;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const [x0, x1, y0, y1] = box;
    const pad = 8;
    const s = Math.min((w - 2 * pad) / Math.max(1e-9, x1 - x0), (h - 2 * pad) / Math.max(1e-9, y1 - y0));
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const X = (v: number) => w / 2 + (v - cx) * s;
    const Y = (v: number) => h / 2 - (v - cy) * s;
    const n = frame.labels.length;
    ctx.lineWidth = 0.6;
    ctx.globalAlpha = 0.25;
    for (let i = 0; i < n; i++) {
      ctx.strokeStyle = classColor(frame.labels[i]);
      ctx.beginPath();
      ctx.moveTo(X(p[2 * i]), Y(p[2 * i + 1]));
      ctx.lineTo(X(p[2 * (n + i)]), Y(p[2 * (n + i) + 1]));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    for (let i = 0; i < n; i++) {
      const col = classColor(frame.labels[i]);
      // Clean: filled.
      ctx.fillStyle = col;
      ctx.beginPath();
      ctx.arc(X(p[2 * i]), Y(p[2 * i + 1]), 2.6, 0, 2 * Math.PI);
      ctx.fill();
      if (frame.cleanPred[i] !== frame.labels[i]) {
        ctx.strokeStyle = '#b42318';
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      // Adversarial: hollow; red ring when the attack succeeded.
      ctx.strokeStyle = frame.advPred[i] !== frame.labels[i] ? '#b42318' : col;
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      ctx.arc(X(p[2 * (n + i)]), Y(p[2 * (n + i) + 1]), 2.8, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  function tick(now: number) {
    if (!to) return;
    const t = from && from.length === to.length ? Math.min(1, (now - t0) / ANIMATION_MS) : 1;
    const e = t * (2 - t);
    const p = new Float32Array(to.length);
    for (let i = 0; i < p.length; i++) p[i] = from && t < 1 ? from[i] + (to[i] - from[i]) * e : to[i];
    const box = boxFrom && t < 1 ? boxTo.map((b, k) => boxFrom![k] + (b - boxFrom![k]) * e) : boxTo;
    shown = p;
    shownBox = box;
    draw(p, box);
    if (t < 1) raf = requestAnimationFrame(tick);
  }

  return {
    update(next) {
      frame = next;
      from = shown;
      boxFrom = shown ? shownBox : null;
      to = next.positions;
      boxTo = extent(next.positions);
      t0 = performance.now();
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(tick);
      void opts;
    },
    destroy() {
      cancelAnimationFrame(raf);
    },
  };
}
