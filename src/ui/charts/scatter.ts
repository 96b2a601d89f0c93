/**
 * One layer's joint t-SNE scatter on a canvas (thousands of points; svg would choke):
 * clean points filled, adversarial points hollow, a faint line from each clean point to its
 * adversarial partner, colour = true class (colour-blind-safe palette, colors.ts), points the
 * model gets wrong outlined thinly in near-black — a colour no class has, and thin, so the
 * class colours stay readable. Hovering reports the nearest point (`onHoverPoint`) for the
 * view's tooltip. Without adversarial predictions a frame is one point per image (the Train
 * view's t-SNE over training: no partners, no hollow points). New
 * positions animate from the previous frame (no jumps on warm start), with the view box
 * eased too so a growing layout does not snap.
 */
import type { Chart } from './chart';
import { classColor, COLOR } from './colors';

export interface ScatterFrame {
  /** 2n × 2 positions: clean rows then adversarial rows (n × 2, clean only, without `advPred`). */
  positions: Float32Array;
  labels: Int32Array;
  cleanPred: Int32Array;
  /** Absent: one point per image, no adversarial partners (the Train view's t-SNE over training). */
  advPred?: Int32Array;
  /** Pair positions (0 … n−1) selected elsewhere: drawn on top, the rest faded. */
  highlighted?: Set<number>;
}

export type Scatter = Chart<ScatterFrame>;

/** The point under the pointer: pair position, which half, and where it is on the canvas (CSS px). */
export interface ScatterHover {
  pair: number;
  adversarial: boolean;
  x: number;
  y: number;
}

/** A point counts as hovered within this distance of the pointer (CSS px). */
const HOVER_RADIUS_PX = 8;
const CLEAN_R = 2.6;
const ADV_R = 2.8;
/** The misclassified outline sits this far outside the point, thin, so the fill stays visible. */
const MISCLASSIFIED_GAP = 1.3;
const MISCLASSIFIED_WIDTH = 0.8;

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

/**
 * `onBrush`: drag a rectangle to select the pairs with a clean or adversarial point inside
 * (pair positions; an empty click clears).
 */
/** Data → canvas CSS pixels for a view box, keeping the aspect ratio. */
function transform(box: number[], w: number, h: number) {
  const [x0, x1, y0, y1] = box;
  const pad = 8;
  const s = Math.min((w - 2 * pad) / Math.max(1e-9, x1 - x0), (h - 2 * pad) / Math.max(1e-9, y1 - y0));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return { X: (v: number) => w / 2 + (v - cx) * s, Y: (v: number) => h / 2 - (v - cy) * s };
}

export function createScatter(canvas: HTMLCanvasElement, opts: { onBrush?: (pairs: number[]) => void; onHoverPoint?: (hover: ScatterHover | null) => void } = {}): Scatter {
  let from: Float32Array | null = null;
  let to: Float32Array | null = null;
  let boxFrom: number[] | null = null;
  let boxTo: number[] = [-1, 1, -1, 1];
  let frame: ScatterFrame | null = null;
  let t0 = 0;
  let raf = 0;
  let shown: Float32Array | null = null;
  let shownBox = boxTo;
  /** Point index (0 … 2n−1) under the pointer, drawn with a focus ring. */
  let hoveredPoint = -1;

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
    const { X, Y } = transform(box, w, h);
    const n = frame.labels.length;
    const hl = frame.highlighted && frame.highlighted.size ? frame.highlighted : null;
    const faded = (i: number) => hl !== null && !hl.has(i);
    const advPred = frame.advPred;
    ctx.lineWidth = 0.6;
    for (let i = 0; advPred && i < n; i++) {
      ctx.globalAlpha = faded(i) ? 0.05 : 0.25;
      ctx.strokeStyle = classColor(frame.labels[i]);
      ctx.beginPath();
      ctx.moveTo(X(p[2 * i]), Y(p[2 * i + 1]));
      ctx.lineTo(X(p[2 * (n + i)]), Y(p[2 * (n + i) + 1]));
      ctx.stroke();
    }
    const outline = (x: number, y: number, r: number) => {
      ctx.strokeStyle = COLOR.misclassified;
      ctx.lineWidth = MISCLASSIFIED_WIDTH;
      ctx.beginPath();
      ctx.arc(x, y, r + MISCLASSIFIED_GAP, 0, 2 * Math.PI);
      ctx.stroke();
    };
    for (let i = 0; i < n; i++) {
      ctx.globalAlpha = faded(i) ? 0.15 : 1;
      const col = classColor(frame.labels[i]);
      // Clean: filled.
      const cx = X(p[2 * i]);
      const cy = Y(p[2 * i + 1]);
      ctx.fillStyle = col;
      ctx.beginPath();
      ctx.arc(cx, cy, CLEAN_R, 0, 2 * Math.PI);
      ctx.fill();
      if (frame.cleanPred[i] !== frame.labels[i]) outline(cx, cy, CLEAN_R);
      if (!advPred) continue;
      // Adversarial: hollow in the class colour; outlined when the attack succeeded.
      const ax = X(p[2 * (n + i)]);
      const ay = Y(p[2 * (n + i) + 1]);
      ctx.strokeStyle = col;
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      ctx.arc(ax, ay, ADV_R, 0, 2 * Math.PI);
      ctx.stroke();
      if (advPred[i] !== frame.labels[i]) outline(ax, ay, ADV_R);
    }
    ctx.globalAlpha = 1;
    if (hoveredPoint >= 0 && hoveredPoint < p.length / 2) {
      ctx.strokeStyle = COLOR.focus;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(X(p[2 * hoveredPoint]), Y(p[2 * hoveredPoint + 1]), 6, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (brush) {
      ctx.strokeStyle = COLOR.brush;
      ctx.setLineDash([3, 3]);
      ctx.strokeRect(Math.min(brush.x0, brush.x1), Math.min(brush.y0, brush.y1), Math.abs(brush.x1 - brush.x0), Math.abs(brush.y1 - brush.y0));
      ctx.setLineDash([]);
    }
  }

  // Brushing: a rectangle in CSS pixels of the canvas.
  let brush: { x0: number; y0: number; x1: number; y1: number } | null = null;
  const local = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const onDown = (e: PointerEvent) => {
    const q = local(e);
    brush = { x0: q.x, y0: q.y, x1: q.x, y1: q.y };
    canvas.setPointerCapture?.(e.pointerId);
  };
  const hoverAt = (e: PointerEvent) => {
    if (!shown || !frame) return;
    const q = local(e);
    const w = canvas.clientWidth || 220;
    const h = canvas.clientHeight || 220;
    const { X, Y } = transform(shownBox, w, h);
    let best = -1;
    let bestD2 = HOVER_RADIUS_PX * HOVER_RADIUS_PX;
    for (let k = 0; k < shown.length / 2; k++) {
      const dx = X(shown[2 * k]) - q.x;
      const dy = Y(shown[2 * k + 1]) - q.y;
      const d2 = dx * dx + dy * dy;
      if (d2 <= bestD2) {
        bestD2 = d2;
        best = k;
      }
    }
    if (best === hoveredPoint) return;
    hoveredPoint = best;
    draw(shown, shownBox);
    const n = frame.labels.length;
    opts.onHoverPoint?.(best < 0 ? null : { pair: best % n, adversarial: best >= n, x: X(shown[2 * best]), y: Y(shown[2 * best + 1]) });
  };
  const onLeave = () => {
    if (hoveredPoint < 0) return;
    hoveredPoint = -1;
    if (shown) draw(shown, shownBox);
    opts.onHoverPoint?.(null);
  };
  const onMove = (e: PointerEvent) => {
    if (!brush) {
      hoverAt(e);
      return;
    }
    const q = local(e);
    brush.x1 = q.x;
    brush.y1 = q.y;
    if (shown) draw(shown, shownBox);
  };
  const onUp = () => {
    if (!brush || !shown || !frame) {
      brush = null;
      return;
    }
    const { X, Y } = transform(shownBox, canvas.clientWidth || 220, canvas.clientHeight || 220);
    const [bx0, bx1] = [Math.min(brush.x0, brush.x1), Math.max(brush.x0, brush.x1)];
    const [by0, by1] = [Math.min(brush.y0, brush.y1), Math.max(brush.y0, brush.y1)];
    const n = frame.labels.length;
    const inside = (k: number) => {
      const x = X(shown![2 * k]);
      const y = Y(shown![2 * k + 1]);
      return x >= bx0 && x <= bx1 && y >= by0 && y <= by1;
    };
    const pairs: number[] = [];
    // A click (no drag) clears the selection.
    if (bx1 - bx0 > 2 || by1 - by0 > 2) for (let i = 0; i < n; i++) if (inside(i) || (frame.advPred && inside(n + i))) pairs.push(i);
    brush = null;
    draw(shown, shownBox);
    opts.onBrush?.(pairs);
  };
  // The cell can grow or shrink (hovering a layer enlarges it): redraw at the new size.
  const resize = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => shown && draw(shown, shownBox));
  resize?.observe(canvas);
  if (opts.onBrush) {
    canvas.addEventListener('pointerdown', onDown);
    canvas.addEventListener('pointerup', onUp);
  }
  canvas.addEventListener('pointermove', onMove);
  canvas.addEventListener('pointerleave', onLeave);

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
    },
    destroy() {
      cancelAnimationFrame(raf);
      resize?.disconnect();
      canvas.removeEventListener('pointerdown', onDown);
      canvas.removeEventListener('pointermove', onMove);
      canvas.removeEventListener('pointerup', onUp);
      canvas.removeEventListener('pointerleave', onLeave);
    },
  };
}
