import { describe, expect, it } from 'vitest';
import { CURVE_LADDER_POINTS, dataFamilyOf, evenLadder, formatEps, rescaleEps, threatModel, THREAT_NORMS } from './threat';
import { attackSchema } from '../schema';

const MNIST = { height: 28, width: 28, channels: 1 };
const CIFAR = { height: 32, width: 32, channels: 3 };

describe('threat models', () => {
  it('finds the family from the image shape, with a fallback by channels', () => {
    expect(dataFamilyOf(MNIST)).toBe('mnist');
    expect(dataFamilyOf(CIFAR)).toBe('cifar10');
    expect(dataFamilyOf({ height: 64, width: 64, channels: 1 })).toBe('gray');
    expect(dataFamilyOf({ height: 224, width: 224, channels: 3 })).toBe('color');
    expect(dataFamilyOf({ height: 28, width: 28, channels: 3 })).toBe('color');
  });

  it('gives the standard radii of the literature', () => {
    expect(threatModel(MNIST, 'linf').standard).toBe(0.3);
    expect(threatModel(MNIST, 'l2').standard).toBe(2);
    expect(threatModel(CIFAR, 'linf').standard).toBe(8 / 255);
    expect(threatModel(CIFAR, 'l2').standard).toBe(0.5);
  });

  it('starts MNIST L∞ at the attack schema’s default ε, so a fresh lab and a switch back agree', () => {
    expect(threatModel(MNIST, 'linf').start).toBe(attackSchema.eps.default);
    expect(threatModel(CIFAR, 'linf').start).toBe(8 / 255);
  });

  it('spans each threat model with an evenly spaced ladder from 0 (issue #21 ranges)', () => {
    const top = (s: typeof MNIST, n: 'linf' | 'l2') => threatModel(s, n).ladder.at(-1);
    expect(top(MNIST, 'linf')).toBe(0.4);
    expect(top(MNIST, 'l2')).toBe(4);
    expect(top(CIFAR, 'linf')).toBeCloseTo(16 / 255, 12);
    expect(top(CIFAR, 'l2')).toBe(2);
    for (const shape of [MNIST, CIFAR]) {
      for (const norm of THREAT_NORMS) {
        const tm = threatModel(shape, norm);
        expect(tm.ladder).toHaveLength(CURVE_LADDER_POINTS);
        expect(tm.ladder[0]).toBe(0);
        // The standard radius is a rung, so the curve reports the number people quote.
        expect(tm.ladder.some((e) => Math.abs(e - tm.standard) < 1e-12)).toBe(true);
        // The slider reaches the whole ladder and its start.
        expect(tm.max).toBeGreaterThanOrEqual(tm.ladder.at(-1)!);
        expect(tm.start).toBeLessThanOrEqual(tm.max);
      }
    }
    expect(threatModel(MNIST, 'linf').ladder).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]);
    expect(threatModel(CIFAR, 'linf').ladder.map((e) => Math.round(e * 255))).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
  });

  it('keeps L∞ radii per pixel and scales L2 radii by √(pixels) for other folders', () => {
    const big = threatModel({ height: 224, width: 224, channels: 3 }, 'l2');
    // √(224·224·3 / 3072) = 7: 0.5 → 3.5 (RobustBench's ImageNet L2 radius is 3.0).
    expect(big.standard).toBe(3.5);
    expect(big.dataLabel).toBe('colour 224×224');
    expect(threatModel({ height: 224, width: 224, channels: 3 }, 'linf').standard).toBe(8 / 255);
    // A 56×56 grayscale folder: twice MNIST's side, L2 radii double.
    expect(threatModel({ height: 56, width: 56, channels: 1 }, 'l2').standard).toBe(4);
    expect(threatModel({ height: 56, width: 56, channels: 1 }, 'linf').standard).toBe(0.3);
  });

  it('writes L∞ on natural images as k/255 as well as the decimal', () => {
    expect(formatEps(8 / 255, threatModel(CIFAR, 'linf'))).toBe('8/255 = 0.0314');
    expect(formatEps(0.3, threatModel(MNIST, 'linf'))).toBe('0.3');
    expect(formatEps(0.5, threatModel(CIFAR, 'l2'))).toBe('0.5');
  });

  it('rescales ε when the data family or the norm changes, unless the change states ε', () => {
    expect(rescaleEps({ shape: MNIST, norm: 'linf' }, { shape: CIFAR, norm: 'linf' }, 0.3, false)).toEqual({ eps: 8 / 255, notice: 'ε set to 8/255 = 0.0314 for CIFAR-10 L∞ (was 0.3)' });
    expect(rescaleEps({ shape: MNIST, norm: 'linf' }, { shape: MNIST, norm: 'l2' }, 0.3, false)).toEqual({ eps: 1, notice: 'ε set to 1 for MNIST L2 (was 0.3)' });
    expect(rescaleEps({ shape: CIFAR, norm: 'linf' }, { shape: MNIST, norm: 'linf' }, 8 / 255, false)).toEqual({ eps: 0.1, notice: 'ε set to 0.1 for MNIST L∞ (was 8/255 = 0.0314)' });
    expect(rescaleEps({ shape: CIFAR, norm: 'linf' }, { shape: CIFAR, norm: 'l2' }, 8 / 255, false)?.notice).toBe('ε set to 0.5 for CIFAR-10 L2 (was 8/255 = 0.0314)');
    // Same threat model (another MNIST model, same norm): ε stays.
    expect(rescaleEps({ shape: MNIST, norm: 'linf' }, { shape: MNIST, norm: 'linf' }, 0.24, false)).toBeNull();
    // A change that states ε (a preset, a shared URL) keeps it.
    expect(rescaleEps({ shape: MNIST, norm: 'linf' }, { shape: CIFAR, norm: 'linf' }, 0.3, true)).toBeNull();
    // Already at the new start: nothing to say.
    expect(rescaleEps({ shape: MNIST, norm: 'l2' }, { shape: MNIST, norm: 'linf' }, 0.1, false)).toBeNull();
    // The new data's shape not known yet: nothing to rescale to.
    expect(rescaleEps({ shape: MNIST, norm: 'linf' }, { shape: null, norm: 'l2' }, 0.3, false)).toBeNull();
  });

  it('builds even ladders without float noise', () => {
    expect(evenLadder(0.4, 5)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(evenLadder(2, 9)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
  });
});
