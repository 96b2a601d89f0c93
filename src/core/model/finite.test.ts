import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { firstNonFiniteWeight } from './artifacts';
import { wrapLayersModel } from './model';
import { ACTIVATION_BUDGET_BYTES, batchForMemory, predictAll } from './predict';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** flat [4] → dense "big" (weights `scale`) → relu → dense "fc" (3 classes). */
function mlp(scale: number) {
  const input = tf.input({ shape: [4], name: 'input' });
  const big = tf.layers.dense({ units: 4, name: 'big', kernelInitializer: tf.initializers.constant({ value: scale }) }).apply(input);
  const relu = tf.layers.activation({ activation: 'relu', name: 'relu' }).apply(big);
  const fc = tf.layers.dense({ units: 3, name: 'fc', kernelInitializer: 'ones' }).apply(relu);
  return wrapLayersModel(tf.model({ inputs: input, outputs: fc as tf.SymbolicTensor }));
}

describe('numerical sanity', () => {
  it('refuses metrics on logits that overflow, naming the first non-finite layer', async () => {
    const m = mlp(3e38);
    const images = new Float32Array([1, 1, 1, 1, 0, 0, 0, 0]);
    await expect(predictAll(m, images, new Int32Array([0, 1]), [2, 2, 1])).rejects.toThrow(
      'the model\'s logits are not finite (NaN or ±Inf) on 1 of 2 samples, first on sample 0; the first layer to go non-finite is "big": no metrics are computed from them',
    );
    m.dispose();
  });

  it('passes a finite model', async () => {
    const m = mlp(0.5);
    const p = await predictAll(m, new Float32Array([1, 1, 1, 1]), new Int32Array([0]), [2, 2, 1]);
    expect(p.pred).toHaveLength(1);
    m.dispose();
  });

  it('finds NaN and Inf in float32 and float16 weight data by name', () => {
    const f32 = new Float32Array([1, 2, NaN, 4, Infinity]);
    const specs = [
      { name: 'a/kernel', shape: [2], dtype: 'float32' as const },
      { name: 'b/kernel', shape: [3], dtype: 'float32' as const },
    ];
    expect(firstNonFiniteWeight(specs, new Uint8Array(f32.buffer))).toEqual({ name: 'b/kernel', count: 2 });
    // float16 0x7e00 is NaN, 0x3c00 is 1.
    const f16 = new Uint16Array([0x3c00, 0x7e00]);
    expect(firstNonFiniteWeight([{ name: 'h/w', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } } as never], new Uint8Array(f16.buffer))).toEqual({ name: 'h/w', count: 1 });
    expect(firstNonFiniteWeight(specs.slice(0, 1), new Uint8Array(new Float32Array([1, 2]).buffer))).toBeNull();
  });
});

describe('memory before compute', () => {
  const layers = (floats: number) => ({ layers: [{ size: floats }] as never });
  it('shrinks the batch to the activation budget and refuses a model whose one sample does not fit', () => {
    expect(batchForMemory(layers(1000), 128)).toBe(128);
    expect(batchForMemory(layers(ACTIVATION_BUDGET_BYTES / 4 / 10), 128)).toBe(10);
    expect(() => batchForMemory(layers(ACTIVATION_BUDGET_BYTES), 128)).toThrow(/one sample needs 2048 MB of activations, more than the 512 MB/);
  });
});
