/**
 * The lab's one rule for the memory of a gradient step: how many bytes one image takes in a
 * forward pass and the backward pass to its input gradient (what every attack step and the
 * load-time check of an ONNX model size by). The attack runner's batch cap
 * (attacks/runner.ts) and the ONNX importer's estimate (onnx/memory.ts) both call
 * `gradientStepBytesPerImage`, each with the activation sizes it knows: a LayersModel's layer
 * outputs, or an ONNX graph's shape propagation.
 *
 * Why this form: tf.grad keeps every tensor the forward pass made until the gradient is done,
 * so the forward part is the sum of all intermediate tensors, not the largest one, and the
 * backward pass adds its own temporaries (transposed filters, padded maps), which
 * GRADIENT_PEAK_FACTOR covers; the largest map twice (its gradient and the gradient flowing
 * into it) and the image with its gradient live through the whole pass too.
 */

/**
 * Peak bytes of a forward and backward pass (tf.grad of the summed cross-entropy w.r.t. the
 * input) ÷ the bytes of the tensors the forward pass's kernels keep, measured with tf.profile
 * on WASM in Node (peakBytes less the weights, vs the sum of bytesAdded, per image):
 * WRN-16-4 2.4, ResNet-18 3.0, WRN-28-10 3.9. Measure each profile in a fresh process: tfjs
 * carries peakBytes over from an earlier tf.profile. 4.5: above the largest measured, for the
 * models deeper than WRN-28-10 that it did not see.
 */
export const GRADIENT_PEAK_FACTOR = 4.5;

/** Float counts per image of one forward pass. */
export interface ActivationSizes {
  /** Sum of the tensors the forward pass keeps for the backward pass. */
  keptFloats: number;
  /** The largest of them. */
  largestFloats: number;
  /** The input image. */
  inputFloats: number;
}

/** Bytes one image needs for a forward and backward pass (float32), by the rule above. */
export function gradientStepBytesPerImage(s: ActivationSizes): number {
  return 4 * (GRADIENT_PEAK_FACTOR * s.keptFloats + 2 * s.largestFloats + 2 * s.inputFloats);
}

/** Most images per gradient step within `budgetBytes` (0: not even one). */
export function imagesWithin(bytesPerImage: number, budgetBytes: number): number {
  return Math.max(0, Math.floor(budgetBytes / Math.max(1, bytesPerImage)));
}
