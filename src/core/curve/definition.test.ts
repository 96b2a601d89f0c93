// The robustness curve's automatic ladder spans the threat model of the data and norm
// (core/attacks/threat.ts), not the current ε. (A run on the zoo: src/cli/curve-definition.test.ts.)
import { describe, expect, it } from 'vitest';
import { CURVE_LADDER_POINTS } from '../attacks/threat';
import { curveLadder } from './definition';

const MNIST = { height: 28, width: 28, channels: 1 };
const CIFAR = { height: 32, width: 32, channels: 3 };

describe('curve ladder', () => {
  it('is the threat model’s ladder when none is given', () => {
    expect(curveLadder([], 'linf', MNIST)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]);
    expect(curveLadder([], 'l2', MNIST)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(curveLadder([], 'l2', CIFAR)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
    const cifar = curveLadder([], 'linf', CIFAR);
    expect(cifar).toHaveLength(CURVE_LADDER_POINTS);
    expect(cifar.map((e) => +(e * 255).toFixed(9))).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
  });

  it('never exceeds the threat model, whatever ε the slider is at (it does not read ε)', () => {
    // At ε = 0.5 the old ladder ran 0.75 and 1.0 L∞; this one stops at 0.4 for MNIST and 16/255 for CIFAR-10.
    expect(Math.max(...curveLadder([], 'linf', MNIST))).toBe(0.4);
    expect(Math.max(...curveLadder([], 'linf', CIFAR))).toBeLessThanOrEqual(16 / 255 + 1e-12);
  });

  it('keeps an explicit ladder as given', () => {
    expect(curveLadder([0, 0.1, 0.2], 'linf', CIFAR)).toEqual([0, 0.1, 0.2]);
  });
});
