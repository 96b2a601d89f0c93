/**
 * Closed-form collision distance of an affine feature map (spec collision.md §1, "Linear
 * sanity check"). For f(x) = Hx + k and g = A∘f, with V an orthonormal basis of the row space
 * of AH (of H when A = I), the optimal collision is symmetric: δ = −½P(x − x′), δ′ = +½P(x − x′)
 * with P = VVᵀ, so d_rms = d_max = ½‖Vᵀ(x − x′)‖ and J = ½‖Vᵀ(x − x′)‖². The offset k cancels.
 * Input space (H = I) gives d = ‖x − x′‖/2, the ICML-2021 rule "edge iff ‖x − x′‖ ≤ 2ε".
 */
import { LabError } from '../types';
import { matmul, rowSpaceBasis } from './linalg';

export interface LinearCollisionOptions {
  /** Optional projection A (m × rows of H, row-major). Omitted: A = I. */
  A?: ArrayLike<number>;
  m?: number;
  /** Relative rank tolerance of the row-space basis. */
  rankTol?: number;
}

export interface LinearCollisionResult {
  dRms: number;
  dMax: number;
  /** J = ‖δ‖² + ‖δ′‖². */
  objective: number;
  rank: number;
  xTilde: Float64Array;
  xPrimeTilde: Float64Array;
}

/** H is rows×n0 row-major; x and x′ have n0 entries. */
export function linearCollision(H: ArrayLike<number>, rows: number, n0: number, x: ArrayLike<number>, xPrime: ArrayLike<number>, opts: LinearCollisionOptions = {}): LinearCollisionResult {
  if (H.length !== rows * n0) throw new LabError(`linear map: H has ${H.length} entries, expected ${rows}×${n0}`);
  if (x.length !== n0 || xPrime.length !== n0) throw new LabError(`linear map: points need ${n0} entries`);
  let G: ArrayLike<number> = H;
  let r = rows;
  if (opts.A) {
    const m = opts.m ?? opts.A.length / rows;
    if (!Number.isInteger(m) || opts.A.length !== m * rows) throw new LabError(`linear map: A must be m×${rows}`);
    G = matmul(opts.A, H, m, rows, n0);
    r = m;
  }
  const { basis, rank } = rowSpaceBasis(G, r, n0, opts.rankTol ?? 1e-10);
  // Pd = V Vᵀ (x − x′); the halves of it move each point towards the other.
  const diff = new Float64Array(n0);
  for (let j = 0; j < n0; j++) diff[j] = x[j] - xPrime[j];
  const Pd = new Float64Array(n0);
  let sq = 0;
  for (let i = 0; i < rank; i++) {
    let c = 0;
    for (let j = 0; j < n0; j++) c += basis[i * n0 + j] * diff[j];
    sq += c * c;
    for (let j = 0; j < n0; j++) Pd[j] += c * basis[i * n0 + j];
  }
  const xTilde = new Float64Array(n0);
  const xPrimeTilde = new Float64Array(n0);
  for (let j = 0; j < n0; j++) {
    xTilde[j] = x[j] - 0.5 * Pd[j];
    xPrimeTilde[j] = xPrime[j] + 0.5 * Pd[j];
  }
  const d = 0.5 * Math.sqrt(sq);
  return { dRms: d, dMax: d, objective: 0.5 * sq, rank, xTilde, xPrimeTilde };
}
