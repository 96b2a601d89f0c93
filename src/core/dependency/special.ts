/**
 * Special functions the mutual-information estimators need.
 */

/**
 * Digamma ψ(x) = d/dx log Γ(x) for x > 0. The recurrence ψ(x) = ψ(x + 1) − 1/x shifts
 * x up to ≥ 10, where the asymptotic series
 *   ψ(x) ≈ log x − 1/(2x) − 1/(12x²) + 1/(120x⁴) − 1/(252x⁶) + 1/(240x⁸) − 1/(132x¹⁰)
 * is accurate to ~1e-14 (the next term is 691/(32760 x¹²) ≈ 2e-14 at x = 10;
 * at x = 6 it would still be ~1e-11, which is why we shift further).
 * The KSG estimators only call it on positive integers, but the test checks ψ(½) too.
 */
export function digamma(x: number): number {
  if (!(x > 0)) return NaN;
  let acc = 0;
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))));
  return acc + Math.log(x) - 0.5 * inv - series;
}
