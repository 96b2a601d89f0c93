/**
 * Deterministic log, exp, sin/cos built only from IEEE-754 +, −, ×, ÷ (each correctly rounded,
 * so the same bits on every JavaScript engine).
 *
 * Why: Math.log/sin/cos/pow are not specified to the last bit, and Chromium's V8 and Node's V8
 * disagree in the last bit on 3–8 % of arguments (measured on 200,000 arguments). Our Gaussian
 * draws feed those functions, and MFTMA's center search magnifies a last-bit difference to
 * ~1e-10, so a seed gave different numbers in the browser worker and in Node. With these, a
 * master seed reproduces the same numbers everywhere. Accuracy: within a few ulp of Math.*.
 */

// ln 2 split so that k·LN2_HI is exact for |k| < 2^11 (fdlibm's constants).
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;
// π/2 split the same way (33 + 53 bits) for the sin/cos argument reduction.
const PIO2_HI = 1.57079632673412561417;
const PIO2_LO = 6.07710050650619224932e-11;
const SQRT2 = 1.4142135623730951;

const view = new DataView(new ArrayBuffer(8));

/** Coefficients 1/n!, n = 0..22, by exact-rounded divisions. */
const INV_FACT: number[] = [1];
for (let n = 1; n <= 22; n++) INV_FACT.push(INV_FACT[n - 1] / n);

/** 2^k for integer k in [−1022, 1023] (exact, from the exponent bits). */
function pow2(k: number): number {
  view.setUint32(0, (k + 1023) << 20);
  view.setUint32(4, 0);
  return view.getFloat64(0);
}

/** Natural logarithm. */
export function detLog(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  let e = (hi >>> 20) - 1023;
  if (e === -1023) return detLog(x * 18014398509481984) - 54 * LN2_HI - 54 * LN2_LO; // subnormal: × 2^54
  // Mantissa m ∈ [1, 2), then [√½, √2) so |s| ≤ 0.172 below.
  view.setUint32(0, (hi & 0x000fffff) | 0x3ff00000);
  let m = view.getFloat64(0);
  if (m > SQRT2) {
    m /= 2;
    e += 1;
  }
  // log m = 2 atanh(s), s = (m − 1)/(m + 1): s + s³/3 + s⁵/5 + …; s² ≤ 0.0295, 13 terms < 1e-19.
  const f = m - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  let term = s;
  let sum = s;
  for (let k = 3; k <= 27; k += 2) {
    term *= s2;
    sum += term / k;
  }
  return e * LN2_HI + (2 * sum + e * LN2_LO);
}

/** Exponential. */
export function detExp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  // x = k ln 2 + r, |r| ≤ ½ ln 2; e^r by its Taylor series (22 terms, remainder < 1e-25).
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let sum = INV_FACT[22];
  for (let n = 21; n >= 0; n--) sum = sum * r + INV_FACT[n];
  if (k > 1023) return sum * pow2(1023) * pow2(k - 1023);
  if (k < -1022) return sum * pow2(-1022) * pow2(k + 1022);
  return sum * pow2(k);
}

/** u^p for u > 0 (as exp(p · log u)). */
export function detPow(u: number, p: number): number {
  if (u === 0) return p > 0 ? 0 : p === 0 ? 1 : Infinity;
  return detExp(p * detLog(u));
}

/** [sin θ, cos θ] for moderate |θ| (the reduction is accurate for |θ| < 2^20). */
export function detSinCos(theta: number): [number, number] {
  if (!Number.isFinite(theta)) return [NaN, NaN];
  // θ = q·π/2 + r, |r| ≤ π/4.
  const q = Math.round(theta / PIO2_HI);
  const r = theta - q * PIO2_HI - q * PIO2_LO;
  const r2 = r * r;
  // sin r = r Σ (−1)^n r^{2n}/(2n+1)!, cos r = Σ (−1)^n r^{2n}/(2n)!, 11 terms each (|r| ≤ 0.79).
  let sn = 0;
  let cs = 0;
  for (let n = 10; n >= 0; n--) {
    const sign = n % 2 === 0 ? 1 : -1;
    sn = sn * r2 + sign * INV_FACT[2 * n + 1];
    cs = cs * r2 + sign * INV_FACT[2 * n];
  }
  const sinR = r * sn;
  const cosR = cs;
  switch (((q % 4) + 4) % 4) {
    case 0:
      return [sinR, cosR];
    case 1:
      return [cosR, -sinR];
    case 2:
      return [-sinR, -cosR];
    default:
      return [-cosR, sinR];
  }
}
