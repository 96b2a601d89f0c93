/**
 * tfjs 4.22 kernels the lab works around, because they were found wrong or missing on a
 * backend (src/core/model/kernel-parity.ts finds such kernels; its tests run on WASM in Node
 * and on WebGL, WebGPU and WASM in Chromium). Gradients go into tfjs's gradient registry;
 * the AddN limit is kept by `sumOf`, which every multi-way sum in the core uses.
 *
 * MaxPool: tfjs 4.22's WASM `MaxPoolGrad` kernel returns a wrong input gradient for many
 * shapes (relative error up to 1 against the CPU backend on [3, 8, 8, 1] and on conv outputs
 * with several channels), while its forward pass is right. Every attack, collision search and
 * minimal-ε search on a model with max-pooling stood on that gradient. We replace the
 * gradient of the `MaxPool` kernel in tfjs's gradient registry, so every path that
 * differentiates through `tf.maxPool` (the plain-op executor, `layer.apply` fallbacks and
 * GraphModels alike) gets it, on every backend: the same numbers everywhere.
 *
 * Conv2D with dilation > 1: tfjs 4.22 has no gradient for it on any backend ("dilation rates
 * greater than 1 are not yet supported in gradients"), so a model with a dilated convolution
 * (the exporter writes them) could not be attacked at all. A dilated convolution is the plain
 * convolution with the filter spread out by zeros (Yu & Koltun, ICLR 2016, eq. 2), so its
 * gradients are tfjs's own plain-convolution gradients with that filter; the filter's
 * gradient is read back at the filter taps.
 *
 * Conv2D input gradient on WASM: not wrong but slow. tfjs 4.22's WASM `Conv2DBackpropInput`
 * is a plain loop, about 9× slower than the XNNPACK forward convolution of the same sizes, and
 * it was 90 % of a collision-search Jacobian on the MNIST medium CNN. There the input gradient
 * is the same transposed correlation written as one forward `conv2d` (as for depthwise below);
 * the parity suite checks it on WASM against the CPU backend's kernel.
 *
 * DepthwiseConv2dNative: the WASM backend has no `DepthwiseConv2dNativeBackpropInput` kernel,
 * so a depthwise-separable model (MobileNet style) could not be attacked there. Where the
 * active backend lacks it, the input gradient is computed as the transposed correlation
 * written with forward ops: dilate dy by the stride, pad it, and correlate it depthwise with
 * the filter rotated by 180°, once per channel multiplier. Backends that have the kernel keep
 * it, so the parity suite compares this construction (WASM) with tfjs's kernel (CPU).
 *
 * AvgPool with 'same' padding: tfjs 4.22's gradient (CPU and WASM alike) divides every
 * window by its full size, while its forward pass divides by the real pixels a border window
 * covers (as Keras does), so border gradients came out too small (relative error 0.7 against
 * PyTorch and finite differences; found by tools/zoo/torch-parity.test.ts, since the CPU
 * reference shares the bug). The replacement spreads dy / count over each window's real pixels.
 *
 * AddN on WebGPU: tfjs 4.22 binds every input as its own storage buffer, and with 8 or more
 * inputs (past WebGPU's default limit of 8 storage buffers per shader stage, with the output)
 * the sum comes out wrong without an error. `sumOf` adds at most 4 at a time; the executor's
 * Add layer and the max-pool gradient (9 window offsets for 3×3) use it.
 *
 * Sign on WASM: tfjs 4.22's WASM `Sign` returns 0 for |x| below about 1.2e-7 (FLT_EPSILON; CPU, WebGL and
 * WebGPU return ±1). An L∞ attack steps along sign(∇x loss), and a confidently classified
 * image has input gradients of 1e-9 and smaller (the softmax saturates), so on WASM FGSM,
 * PGD and APGD left such images exactly where they were and counted them robust: 71 of 500
 * MNIST test images for the standard small CNN under FGSM at ε = 0.3. `signOf` builds the
 * sign from two comparisons, exact on every backend; every sign in the core uses it.
 *
 * The max-pool replacement is built only from forward ops whose results the parity suite checks
 * (strided slices, comparisons, selects, pads, reshapes) and routes each output gradient to
 * the first maximum of its window in row-major order, PyTorch's rule for ties
 * (`max_pool2d` backward follows the argmax index, which keeps the first maximum found).
 * tfjs's CPU kernel keeps the last maximum instead; ties are rare after a convolution but
 * common after ReLU → BatchNorm, where every dead unit of a channel maps to the same value.
 */
import * as tf from '@tensorflow/tfjs';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** sign(x) ∈ {−1, 0, 1} from comparisons: exact for every magnitude on every backend (see above). */
export function signOf<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32')) as T);
}

/** Largest AddN the lab emits: tfjs's WebGPU AddN is wrong from 8 inputs on (see above). */
const MAX_ADD_N = 4;

/** Σ of same-shape tensors, in AddN calls of at most MAX_ADD_N inputs. */
export function sumOf<T extends tf.Tensor>(terms: T[]): T {
  let level: tf.Tensor[] = terms;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += MAX_ADD_N) {
      const group = level.slice(i, i + MAX_ADD_N);
      next.push(group.length === 1 ? group[0] : tf.addN(group));
    }
    level = next;
  }
  return level[0] as T;
}

/** Spread `g` [N, A, B, C] out to [N, A·s, B, C]: row a lands at a·s, the rows between are 0. */
function interleaveRows(g: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return g;
  const [n, a, b, c] = g.shape;
  const spread = tf.pad(tf.reshape(g, [n, a, 1, b * c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
  return tf.reshape(spread, [n, a * s, b, c]);
}

/** The same along the width: [N, A, B, C] → [N, A, B·s, C]. */
function interleaveCols(g: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return g;
  const [n, a, b, c] = g.shape;
  const spread = tf.pad(tf.reshape(g, [n * a, b, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
  return tf.reshape(spread, [n, a, b * s, c]);
}

/** Place `g` [N, R, S, C] at (top, left) of an [N, H, W, C] canvas of zeros (cropping what overhangs). */
function placeAt(g: tf.Tensor4D, top: number, left: number, h: number, w: number): tf.Tensor4D {
  const [, r, s] = g.shape;
  const padded = tf.pad(g, [[0, 0], [top, Math.max(0, h - top - r)], [left, Math.max(0, w - left - s)], [0, 0]]);
  return padded.shape[1] === h && padded.shape[2] === w ? padded : tf.slice(padded, [0, 0, 0, 0], [-1, h, w, -1]);
}

/**
 * A pooling's windows as tensor views: for each offset (i, j) inside the window, the input
 * element at that offset of every output position is one strided slice [N, Ho, Wo, C] of the
 * padded input, and a gradient for those elements goes back by the inverse placement.
 */
class PoolWindows {
  readonly offsets: [number, number][] = [];
  private readonly info: tf.backend_util.Conv2DInfo;

  constructor(private readonly xShape: [number, number, number, number], attrs: PoolAttrs) {
    this.info = tf.backend_util.computePool2DInfo(xShape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    for (let i = 0; i < this.info.filterHeight; i++) for (let j = 0; j < this.info.filterWidth; j++) this.offsets.push([i, j]);
  }

  /** `t` [N, H, W, C] padded as the pooling pads (with `value`). */
  pad(t: tf.Tensor4D, value = 0): tf.Tensor4D {
    const { top, bottom, left, right } = this.info.padInfo;
    return top + bottom + left + right > 0 ? tf.pad(t, [[0, 0], [top, bottom], [left, right], [0, 0]], value) : t;
  }

  /** The elements at window offset (i, j) of every output position, from a padded tensor. */
  view(padded: tf.Tensor4D, [i, j]: [number, number]): tf.Tensor4D {
    const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = this.info;
    const [n, , , c] = padded.shape;
    return tf.stridedSlice(padded, [0, i, j, 0], [n, i + sh * (ho - 1) + 1, j + sw * (wo - 1) + 1, c], [1, sh, sw, 1]) as tf.Tensor4D;
  }

  /** Σ over offsets of each [N, Ho, Wo, C] gradient put back where its view came from, unpadded to [N, H, W, C]. */
  scatter(perOffset: tf.Tensor4D[]): tf.Tensor4D {
    const { strideHeight: sh, strideWidth: sw, padInfo } = this.info;
    const [, h, w] = this.xShape;
    const hp = h + padInfo.top + padInfo.bottom;
    const wp = w + padInfo.left + padInfo.right;
    const dxp = sumOf(perOffset.map((g, k) => placeAt(interleaveCols(interleaveRows(g, sh), sw), this.offsets[k][0], this.offsets[k][1], hp, wp)));
    return dxp.shape[1] === h && dxp.shape[2] === w ? dxp : tf.slice(dxp, [0, padInfo.top, padInfo.left, 0], [-1, h, w, -1]);
  }
}

/**
 * Input gradient of max pooling with PyTorch's first-maximum tie rule. `x` is the pooled
 * input [N, H, W, C], `dy` the gradient of the pooled output. Exported for its tests.
 */
export function maxPoolInputGradient(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: PoolAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const windows = new PoolWindows(x.shape, attrs);
    // Padded positions never win: pad with −∞ (tfjs and PyTorch both ignore padding in max pooling).
    const xp = windows.pad(x, -Infinity);
    const views = windows.offsets.map((o) => windows.view(xp, o));
    const max = views.reduce((m, v) => tf.maximum(m, v));
    let taken: tf.Tensor = tf.zerosLike(max).cast('bool');
    const zeros = tf.zerosLike(dy);
    return windows.scatter(
      views.map((v) => {
        const first = tf.logicalAnd(tf.equal(v, max), tf.logicalNot(taken));
        taken = tf.logicalOr(taken, first);
        return tf.where(first, dy, zeros) as tf.Tensor4D;
      }),
    );
  });
}

/**
 * Input gradient of average pooling that divides by the pixels each window really covers
 * (tfjs's forward pass, Keras and TensorFlow for 'same' padding; PyTorch's
 * count_include_pad=False). Each output's gradient dy / count is spread over its window's
 * real pixels. Exported for its tests.
 */
export function avgPoolInputGradient(xShape: [number, number, number, number], dy: tf.Tensor4D, attrs: PoolAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const windows = new PoolWindows(xShape, attrs);
    // 1 on real pixels, 0 on padding, seen through each window offset.
    const real = windows.pad(tf.ones([1, xShape[1], xShape[2], 1]) as tf.Tensor4D);
    const covered = windows.offsets.map((o) => windows.view(real, o));
    const share = tf.div(dy, sumOf(covered));
    return windows.scatter(covered.map((mask) => tf.mul(share, mask) as tf.Tensor4D));
  });
}

/** Spread a filter [kh, kw, ci, co] by its dilation: [(kh−1)·dh+1, (kw−1)·dw+1, ci, co], zeros between taps. */
export function dilateFilter(filter: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filter.shape;
    const rows = tf.slice(interleaveRows(tf.reshape(filter, [1, kh, kw, ci * co]), dh), [0, 0, 0, 0], [1, (kh - 1) * dh + 1, kw, ci * co]);
    const both = tf.slice(interleaveCols(rows as tf.Tensor4D, dw), [0, 0, 0, 0], [1, (kh - 1) * dh + 1, (kw - 1) * dw + 1, ci * co]);
    return tf.reshape(both, [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]);
  });
}

const pairOf = (v: number | [number, number]): [number, number] => (Array.isArray(v) ? v : [v, v]);

/** tfjs's own Conv2D gradient, captured before ours replaces it. */
let tfjsConv2dGradient: tf.GradConfig | null = null;

const conv2dGradient: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const own = tfjsConv2dGradient!;
    const [dh, dw] = pairOf(attrs.dilations as number | [number, number]);
    if (dh === 1 && dw === 1) {
      const grads = own.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as tf.Tensor4D[];
      if (!forwardConvInputGradientPays(x.shape[3]) || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return grads;
      return { ...grads, x: () => conv2dInputGradient(x.shape, dy as tf.Tensor4D, filter, attrs as never) };
    }
    const [x, filter] = saved as tf.Tensor4D[];
    // Created inside the tape's tidy scope (engine.gradients), which disposes it afterwards.
    const spread = dilateFilter(filter, dh, dw);
    const grads = own.gradFunc(dy, [x, spread], { ...attrs, dilations: [1, 1] });
    return {
      x: grads.x,
      filter: () => tf.tidy(() => {
        const g = grads.filter() as tf.Tensor4D;
        const [kh, kw, ci, co] = filter.shape;
        return tf.stridedSlice(g, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co], [dh, dw, 1, 1]);
      }),
    };
  },
};

/**
 * Input gradient of a depthwise convolution (dilation 1) from forward ops. Derivation, per
 * spatial axis with stride s, filter size k and leading padding p: y[o] = Σ_k x[o·s + k − p]·W[k],
 * so dx[i] = Σ_k dyd[i + p − k]·W[k] with dyd = dy spread by s (zeros between); that is a
 * valid correlation of dyd, padded by k − 1 − p in front, with the reversed filter.
 */
/**
 * dy of a stride-s convolution spread by s (zeros between) and padded so that a valid
 * stride-1 correlation with the 180°-rotated filter gives the input gradient [N, H, W, ·].
 * Derivation, per spatial axis with stride s, filter size k and leading padding p:
 * y[o] = Σ_k x[o·s + k − p]·W[k], so dx[i] = Σ_k dyd[i + p − k]·W[k] with dyd = dy spread by
 * s; that is a valid correlation of dyd, padded by k − 1 − p in front, with the reversed filter.
 */
function spreadForInputGradient(xShape: [number, number, number, number], dy: tf.Tensor4D, filterShape: [number, number, number, number], attrs: { strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil' }, depthwise: boolean): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, depthwise);
  const [, h, w] = xShape;
  const [kh, kw] = filterShape;
  const { top, left } = info.padInfo;
  const spread = interleaveCols(interleaveRows(dy, info.strideHeight), info.strideWidth);
  // Keep the (Ho−1)·s + 1 rows and columns that carry dy; the interleave added s − 1 after the last.
  const dyd = tf.slice(spread, [0, 0, 0, 0], [-1, (info.outHeight - 1) * info.strideHeight + 1, (info.outWidth - 1) * info.strideWidth + 1, -1]) as tf.Tensor4D;
  const frontH = kh - 1 - top;
  const frontW = kw - 1 - left;
  const padded = tf.pad(dyd, [[0, 0], [Math.max(0, frontH), Math.max(0, h + kh - 1 - frontH - dyd.shape[1])], [Math.max(0, frontW), Math.max(0, w + kw - 1 - frontW - dyd.shape[2])], [0, 0]]);
  return tf.slice(padded, [0, Math.max(0, -frontH), Math.max(0, -frontW), 0], [-1, h + kh - 1, w + kw - 1, -1]) as tf.Tensor4D;
}

/** Input gradient of a depthwise convolution (dilation 1) from forward ops (see spreadForInputGradient). */
export function depthwiseInputGradient(xShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: { strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil' }): tf.Tensor4D {
  return tf.tidy(() => {
    const c = xShape[3];
    const [kh, kw, , m] = filter.shape;
    const cropped = spreadForInputGradient(xShape, dy, filter.shape, attrs, true);
    const rotated = tf.reverse(filter, [0, 1]) as tf.Tensor4D;
    const parts: tf.Tensor4D[] = [];
    for (let j = 0; j < m; j++) {
      // Output channel c·m + j came from input channel c through filter[:, :, c, j].
      const dyj = m === 1 ? cropped : (tf.stridedSlice(cropped, [0, 0, 0, j], [cropped.shape[0], cropped.shape[1], cropped.shape[2], c * m], [1, 1, 1, m]) as tf.Tensor4D);
      const wj = m === 1 ? rotated : (tf.slice(rotated, [0, 0, 0, j], [kh, kw, c, 1]) as tf.Tensor4D);
      parts.push(tf.depthwiseConv2d(dyj, wj, 1, 'valid'));
    }
    return sumOf(parts);
  });
}

/**
 * One phase of a strided convolution's input gradient along one axis (input length `h`,
 * filter size `k`, stride `s`, leading padding `p`, `ho` output rows). Derivation: with
 * y[o] = Σ_k x[o·s + k − p]·W[k], the rows i = s·a + ph of dx only meet the taps
 * k = s·t + c with c = (ph + p) mod s, and dx[s·a + ph] = Σ_t dy[a + q − t]·W[s·t + c] with
 * q = ⌊(ph + p)/s⌋: a valid stride-1 correlation of dy, padded by T − 1 − q in front, with the
 * T taps of phase c reversed.
 */
function phasePlan(h: number, k: number, s: number, p: number, ho: number, ph: number): { c: number; taps: number; rows: number; front: number; back: number } {
  const c = (((ph + p) % s) + s) % s;
  const q = Math.floor((ph + p) / s);
  const taps = c < k ? Math.ceil((k - c) / s) : 0;
  const rows = Math.ceil((h - ph) / s);
  const front = taps - 1 - q;
  return { c, taps, rows, front, back: rows + taps - 1 - front - ho };
}

/** Pad (positive) or crop (negative) rows and columns of `t` [N, H, W, C]. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return t;
  const padded = tf.pad(t, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]]);
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return padded;
  const [, r, c] = padded.shape;
  return tf.slice(padded, [0, Math.max(0, -top), Math.max(0, -left), 0], [-1, r - Math.max(0, -top) - Math.max(0, -bottom), c - Math.max(0, -left) - Math.max(0, -right), -1]) as tf.Tensor4D;
}

/**
 * Input gradient of a plain convolution (dilation 1) from forward convolutions: for stride s,
 * s² stride-1 convolutions of dy (one per output phase, phasePlan) with the phase's taps
 * rotated by 180° and in/out channels swapped, interleaved back into [N, H, W, Ci]. Together
 * they do the forward convolution's multiplications, no more (spreading dy by zeros instead
 * would cost s² times as many). Why: tfjs 4.22's WASM `Conv2DBackpropInput` is a plain loop,
 * 10–16× slower than its XNNPACK forward convolution on the same sizes (measured on the MNIST
 * medium CNN's 4×4 stride-2 conv2, 40 images: 1,075 ms vs 65 ms), and it was 90 % of a
 * collision-search Jacobian there (676 of 734 ms at relu_3); every attack step and Jacobian
 * row is such a backward pass.
 */
export function conv2dInputGradient(xShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: { strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil' }): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
    const [n, h, w, ci] = xShape;
    const [kh, kw] = filter.shape;
    const { strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    const [, ho, wo] = dy.shape;
    const rowsOf = (ph: number) => phasePlan(h, kh, sh, top, ho, ph);
    const colsOf = (pw: number) => phasePlan(w, kw, sw, left, wo, pw);
    // Every phase is padded to the first phase's size (the largest) so they interleave.
    const maxRows = rowsOf(0).rows;
    const maxCols = colsOf(0).rows;
    const bands: tf.Tensor4D[] = [];
    for (let ph = 0; ph < sh; ph++) {
      const r = rowsOf(ph);
      const cells: tf.Tensor4D[] = [];
      for (let pw = 0; pw < sw; pw++) {
        const c = colsOf(pw);
        let cell: tf.Tensor4D;
        if (r.taps === 0 || c.taps === 0 || r.rows <= 0 || c.rows <= 0) {
          cell = tf.zeros([n, maxRows, maxCols, ci]);
        } else {
          const sub = tf.stridedSlice(filter, [r.c, c.c, 0, 0], [kh, kw, filter.shape[2], filter.shape[3]], [sh, sw, 1, 1]) as tf.Tensor4D;
          const flipped = tf.transpose(tf.reverse(sub, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
          const part = tf.conv2d(padOrCrop(dy, r.front, r.back, c.front, c.back), flipped, 1, 'valid');
          cell = padOrCrop(part, 0, maxRows - r.rows, 0, maxCols - c.rows);
        }
        cells.push(cell);
      }
      // Columns a·sw + pw: stack the phases after the column axis and merge the two.
      bands.push(sw === 1 ? cells[0] : (tf.reshape(tf.stack(cells, 3), [n, maxRows, maxCols * sw, ci]) as tf.Tensor4D));
    }
    const all = sh === 1 ? bands[0] : (tf.reshape(tf.stack(bands, 2), [n, maxRows * sh, maxCols * sw, ci]) as tf.Tensor4D);
    return all.shape[1] === h && all.shape[2] === w ? all : (tf.slice(all, [0, 0, 0, 0], [-1, h, w, -1]) as tf.Tensor4D);
  });
}

/** Backends whose Conv2D input gradient goes through conv2dInputGradient (see there why). */
export const FORWARD_CONV_INPUT_GRADIENT = new Set(['wasm']);

/**
 * Whether conv2dInputGradient beats tfjs's Conv2DBackpropInput for an input of `inputChannels`
 * on the current backend: on WASM, except for an image's few channels, where its stride-1
 * convolutions have too few outputs for XNNPACK to pay (the small CNN's 4×4 stride-2 conv1 on
 * 256 MNIST images: 39 ms against tfjs's 14.5 ms; 16 channels and more: 6–7× faster).
 */
export function forwardConvInputGradientPays(inputChannels: number): boolean {
  return FORWARD_CONV_INPUT_GRADIENT.has(tf.getBackend()) && inputChannels > 3;
}

/**
 * ∂L/∂x of a plain convolution, by whichever of the two forms pays on the current backend
 * (the same rule as the lab's Conv2D gradient above); for code with its own gradient (the
 * trainer's convolutions, src/core/train/arch.ts).
 */
export function convInputGradient(xShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, strides: number, pad: 'valid' | 'same'): tf.Tensor4D {
  if (forwardConvInputGradientPays(xShape[3])) return conv2dInputGradient(xShape, dy, filter, { strides, pad });
  return tf.conv2dTranspose(dy, filter, xShape, strides, pad);
}

/** tfjs's own DepthwiseConv2dNative gradient, captured before ours replaces it. */
let tfjsDepthwiseGradient: tf.GradConfig | null = null;

const depthwiseGradient: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const own = tfjsDepthwiseGradient!;
    const [dh, dw] = pairOf(attrs.dilations as number | [number, number]);
    const [x, filter] = saved as tf.Tensor4D[];
    const dilated = dh > 1 || dw > 1;
    const hasKernel = tf.getKernel('DepthwiseConv2dNativeBackpropInput', tf.getBackend()) !== undefined;
    if (!dilated && hasKernel) return own.gradFunc(dy, saved, attrs);
    // Created inside the tape's tidy scope (engine.gradients), which disposes it afterwards.
    const spread = dilated ? dilateFilter(filter, dh, dw) : filter;
    const plain = { ...attrs, dilations: [1, 1] };
    const grads = own.gradFunc(dy, [x, spread], plain);
    return {
      x: () => (hasKernel ? grads.x() : depthwiseInputGradient(x.shape, dy as tf.Tensor4D, spread, plain as never)),
      filter: () => tf.tidy(() => {
        const g = grads.filter() as tf.Tensor4D;
        if (!dilated) return g;
        const [kh, kw, ci, m] = filter.shape;
        return tf.stridedSlice(g, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, m], [dh, dw, 1, 1]);
      }),
    };
  },
};

const avgPoolGradient: tf.GradConfig = {
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as tf.Tensor4D[];
    return { x: () => avgPoolInputGradient(x.shape, dy as tf.Tensor4D, attrs as unknown as PoolAttrs) };
  },
};

const LAB_GRADIENTS: tf.GradConfig[] = [
  avgPoolGradient,
  conv2dGradient,
  depthwiseGradient,
  {
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor4D[];
      return { x: () => maxPoolInputGradient(x, dy as tf.Tensor4D, attrs as unknown as PoolAttrs) };
    },
  },
];

/** Kernel names whose gradient the lab replaces (the README lists them with the reason). */
export const REPLACED_GRADIENTS = LAB_GRADIENTS.map((g) => g.kernelName);

/** tfjs's own gradient configs, kept so a test can show what the replacements fix. */
const tfjsGradients = new Map<string, tf.GradConfig>();

/** Put the lab's gradients into tfjs's registry (idempotent; the registry is global). */
export function installLabGradients(): void {
  tfjsConv2dGradient ??= tf.getGradient('Conv2D');
  tfjsDepthwiseGradient ??= tf.getGradient('DepthwiseConv2dNative');
  for (const config of LAB_GRADIENTS) {
    const current = tf.getGradient(config.kernelName);
    if (current === config) continue;
    if (current && !tfjsGradients.has(config.kernelName)) tfjsGradients.set(config.kernelName, current);
    tf.registerGradient(config);
  }
}

/** Tests only: put tfjs's own gradients back, to show the parity suite catches what they get wrong. */
export function restoreTfjsGradients(): void {
  for (const [, config] of tfjsGradients) tf.registerGradient(config);
}

// Installed on import: every module that differentiates through a model imports this one.
installLabGradients();
