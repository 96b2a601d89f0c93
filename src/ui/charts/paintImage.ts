/**
 * The one image painter of the lab: every thumbnail (image strip, collision samples and
 * pair explorer, far samples of the logit view) and every perturbation heat map (sample
 * detail) goes through here.
 *
 * Pixels are Float32 NHWC in [0, 1] (one image, or a batch with `offset`). One channel is
 * grey; with three or more, the first three are R, G, B. The byte rule, stated once:
 *
 *   byte = clamp(round(255 · v), 0, 255), with Math.round (halves up) and NaN → 0.
 *
 * The canvas is sized to the image times an integer `scale` (nearest neighbour; 1 = one
 * canvas pixel per image pixel, the CSS then scales it with image-rendering: pixelated).
 * The write* functions are pure (any ImageData-like target); paint* own the canvas side.
 */
import { divergingRgb } from './diverging';

/** [height, width, channels]. */
export type ImageShape = readonly [number, number, number];

/** ImageData or anything shaped like it (tests use a plain object). */
export interface RgbaTarget {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export interface ImageOptions {
  /** Index of the image's first value in `pixels` (a batch buffer); default 0. */
  offset?: number;
  /** Applied to each value before the byte rule, e.g. a perturbation magnified around mid-grey. */
  map?: (v: number) => number;
  /** Integer upscale, default 1. */
  scale?: number;
}

/** The byte rule: clamp(round(255 · v), 0, 255); NaN → 0. */
export function toByte(v: number): number {
  const b = Math.round(255 * v);
  return b > 0 ? (b < 255 ? b : 255) : 0;
}

function scaleOf(scale: number | undefined): number {
  return Math.max(1, Math.floor(scale ?? 1));
}

/** Fill `target` (w·s × h·s) pixel by pixel from `rgb` (which writes one pixel's bytes into `out`). */
function fill(target: RgbaTarget, w: number, h: number, s: number, rgb: (p: number, out: number[]) => void): void {
  if (target.width !== w * s || target.height !== h * s) throw new Error(`paintImage: target is ${target.width}×${target.height}, expected ${w * s}×${h * s}`);
  const data = target.data;
  const out = [0, 0, 0];
  const rowLength = w * s;
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      rgb(py * w + px, out);
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) {
          const q = ((py * s + dy) * rowLength + px * s + dx) * 4;
          data[q] = out[0];
          data[q + 1] = out[1];
          data[q + 2] = out[2];
          data[q + 3] = 255;
        }
      }
    }
  }
}

/** Write one image (grey or RGB, see the module comment) into `target`. */
export function writeImage(target: RgbaTarget, pixels: ArrayLike<number>, shape: ImageShape, opts: ImageOptions = {}): void {
  const [h, w, ch] = shape;
  const offset = opts.offset ?? 0;
  const map = opts.map;
  fill(target, w, h, scaleOf(opts.scale), (p, out) => {
    for (let k = 0; k < 3; k++) {
      const v = pixels[offset + p * ch + (ch >= 3 ? k : 0)];
      out[k] = toByte(map ? map(v) : v);
    }
  });
}

/**
 * Write a signed difference map (one channel plane of δ = x_adv − x) into `target` on the
 * diverging scale of ./diverging.ts: −maxAbs blue, 0 white, +maxAbs red (all white when
 * maxAbs is 0).
 */
export function writeDifference(target: RgbaTarget, plane: ArrayLike<number>, width: number, height: number, maxAbs: number, scale?: number): void {
  fill(target, width, height, scaleOf(scale), (p, out) => {
    const [r, g, b] = divergingRgb(maxAbs > 0 ? plane[p] / maxAbs : 0);
    out[0] = r;
    out[1] = g;
    out[2] = b;
  });
}

/** Size the canvas to w·s × h·s and hand a fresh ImageData to `write`. */
function paint(canvas: HTMLCanvasElement, w: number, h: number, s: number, write: (img: ImageData) => void): void {
  canvas.width = w * s;
  canvas.height = h * s;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(w * s, h * s);
  write(img);
  ctx.putImageData(img, 0, 0);
}

/** Paint one image into `canvas` (resized to the image times `scale`). */
export function paintImage(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, shape: ImageShape, opts: ImageOptions = {}): void {
  const s = scaleOf(opts.scale);
  paint(canvas, shape[1], shape[0], s, (img) => writeImage(img, pixels, shape, opts));
}

/** Paint a difference map into `canvas` (resized to width·scale × height·scale). */
export function paintDifference(canvas: HTMLCanvasElement, plane: ArrayLike<number>, width: number, height: number, maxAbs: number, scale?: number): void {
  const s = scaleOf(scale);
  paint(canvas, width, height, s, (img) => writeDifference(img, plane, width, height, maxAbs, s));
}
