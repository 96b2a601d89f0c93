import { describe, expect, it } from 'vitest';
import { lab, rgb } from 'd3';
import { CLASS_PALETTE, EPS_SLOTS, EpsColors, COLOR, epsColor, heatColor, sharedDomain } from './colors';

// Machado, Oliveira & Fernandes 2009, severity 1.0, on linear RGB.
const CVD = {
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.1476], [0.004733, 0.691367, 0.3039]],
};
const toLinear = (c: number) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const toSrgb = (c: number) => 255 * (c <= 0.0031308 ? 12.92 * Math.max(0, c) : 1.055 * Math.min(1, c) ** (1 / 2.4) - 0.055);
function simulate(hex: string, m: number[][]): string {
  const c = rgb(hex);
  const v = [toLinear(c.r), toLinear(c.g), toLinear(c.b)];
  const [r, g, b] = m.map((row) => toSrgb(row[0] * v[0] + row[1] * v[1] + row[2] * v[2]));
  return rgb(r, g, b).formatHex();
}
const deltaE = (a: string, b: string) => {
  const x = lab(a);
  const y = lab(b);
  return Math.hypot(x.l - y.l, x.a - y.a, x.b - y.b);
};
function minPairwise(colors: readonly string[]): number {
  let best = Infinity;
  for (let i = 0; i < colors.length; i++) for (let j = i + 1; j < colors.length; j++) best = Math.min(best, deltaE(colors[i], colors[j]));
  return best;
}

describe('class palette', () => {
  it('gives ten classes ten colours that stay apart with normal vision and the three dichromacies', () => {
    expect(new Set(CLASS_PALETTE).size).toBe(10);
    expect(minPairwise(CLASS_PALETTE)).toBeGreaterThan(20);
    for (const m of Object.values(CVD)) expect(minPairwise(CLASS_PALETTE.map((c) => simulate(c, m)))).toBeGreaterThan(12);
  });

  it('the misclassified marker is no class colour and is darker than every class', () => {
    expect(CLASS_PALETTE).not.toContain(COLOR.misclassified);
    for (const c of CLASS_PALETTE) expect(lab(COLOR.misclassified).l).toBeLessThan(lab(c).l - 15);
  });
});

describe('ε colours', () => {
  it('an ε keeps its colour as the ladder grows around it', () => {
    const p = new EpsColors(0.5);
    const first = p.color(0.1);
    for (const eps of [0, 0.3, 0.05, 0.12, 0.11, 0.09, 0.5, 0.2]) p.color(eps);
    expect(p.color(0.1)).toBe(first);
    // The same ε computed another way (8/255 twice) is the same ε.
    expect(p.color(8 / 255)).toBe(p.color(Number((8 / 255).toPrecision(6))));
  });

  it('does not depend on the other ε of the ladder: a fresh palette places 0.1 where a used one did', () => {
    const a = new EpsColors(0.5);
    a.color(0.3);
    const b = new EpsColors(0.5);
    expect(a.color(0.1)).toBe(b.color(0.1));
  });

  it('neighbouring ε that ask for the same slot get different, still distinguishable colours', () => {
    const p = new EpsColors(0.5);
    // 0.1 and 0.11 are both slot round(0.2·11) = 2 on an empty palette.
    expect(p.idealSlot(0.1)).toBe(p.idealSlot(0.11));
    const c1 = p.color(0.1);
    const c2 = p.color(0.11);
    expect(c2).not.toBe(c1);
    expect(deltaE(c1, c2)).toBeGreaterThan(8);
    // The larger ε moved up, keeping the order.
    expect(p.slot(0.11)).toBe(p.slot(0.1) + 1);
  });

  it('a six-rung ladder gets six distinct colours at least 8 ΔE apart', () => {
    const p = new EpsColors(0.5);
    const colors = [0, 0.05, 0.1, 0.15, 0.2, 0.3].map((e) => p.color(e));
    expect(new Set(colors).size).toBe(6);
    expect(minPairwise(colors)).toBeGreaterThan(8);
  });

  it('only shares colours once every slot is taken', () => {
    const p = new EpsColors(1);
    const colors = Array.from({ length: EPS_SLOTS }, (_, i) => p.color(0.3 + i * 0.001));
    expect(new Set(colors).size).toBe(EPS_SLOTS);
  });

  it('epsColor keeps one palette per threat-model range for the page', () => {
    const c = epsColor(0.2, 0.5);
    epsColor(0.21, 0.5);
    epsColor(0.19, 0.5);
    expect(epsColor(0.2, 0.5)).toBe(c);
  });
});

describe('shared heat-map domain', () => {
  it('spans every map, so one value is one colour in all of them', () => {
    const a = [1.2, 1.935, 2.4];
    const b = [0.4, 1.935];
    const domain = sharedDomain([a, b]);
    expect(domain).toEqual([0.4, 2.4]);
    // The finding: 1.935 was lime in A and dark purple in B. On one domain it is one colour.
    expect(heatColor(1.935, domain)).toBe(heatColor(1.935, sharedDomain([b, a])));
  });

  it('ignores non-finite values, prefers a fixed domain, and falls back to [0, 1]', () => {
    expect(sharedDomain([[NaN, 2, Infinity], [3]])).toEqual([2, 3]);
    expect(sharedDomain([[0.2, 0.9]], [0, 1])).toEqual([0, 1]);
    expect(sharedDomain([[], [NaN]])).toEqual([0, 1]);
  });
});
