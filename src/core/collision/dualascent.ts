/**
 * Fallback for conflict graphs that are not bipartite (more than two classes, pairwise
 * conflicts only): dual coordinate ascent, spec collision.md §4 "Fallback for non-bipartite
 * graphs". APPROXIMATE: it stops when the duality gap against a feasible primal is below
 * `gapTol` (default 1e-8 nats), so the returned loss is within `gap` of the optimum and q is
 * only accurate to roughly √gap. Two-class graphs should use the exact `optimalLogLoss`.
 *
 * Dual variables λ_e ≥ 0 (q_u + q_v ≤ 1) and μ_v ≥ 0 (q_v ≤ 1); the primal minimiser of the
 * Lagrangian is q_v = p_v / s_v with s_v = μ_v + Σ_{e∋v} λ_e. Maximising the dual over one λ_e
 * is the scalar equation p_u/(a_u+λ) + p_v/(a_v+λ) = 1, a quadratic solved in closed form;
 * over one μ_v it is s_v = p_v.
 */
import { LabError, throwIfAborted, type JobControl } from '../types';
import { dualValue } from './optloss';

export interface GeneralGraph {
  numVertices: number;
  /** Vertex probabilities, > 0, summing to 1. */
  p: Float64Array;
  /** Flat pairs [u0, v0, …] of conflicting vertices (any classes, u ≠ v). */
  edges: Int32Array;
}

export interface DualAscentOptions {
  /** Stop when primal − dual ≤ gapTol (nats). */
  gapTol?: number;
  maxSweeps?: number;
}

export interface DualAscentResult {
  /** Loss of the feasible primal `q` (an upper bound on the optimum). */
  loss: number;
  /** Dual value (a lower bound on the optimum). */
  dual: number;
  gap: number;
  q: Float64Array;
  sweeps: number;
  converged: boolean;
}

/** Largest root λ ≥ 0 of p_u/(a_u+λ) + p_v/(a_v+λ) = 1, or 0 if the derivative at 0 is ≤ 0. */
function edgeStep(pu: number, pv: number, au: number, av: number): number {
  // Derivative of the dual in λ at λ = 0 is q_u + q_v − 1.
  if (pu / au + pv / av <= 1) return 0;
  // λ² + bλ + c = 0 with b = a_u + a_v − p_u − p_v, c = a_u a_v − p_u a_v − p_v a_u (< 0 here).
  const b = au + av - pu - pv;
  const c = au * av - pu * av - pv * au;
  const disc = Math.sqrt(b * b - 4 * c);
  // Stable form of the positive root (avoids cancellation when b > 0).
  return b > 0 ? (-2 * c) / (b + disc) : (-b + disc) / 2;
}

export function dualAscentLogLoss(graph: GeneralGraph, opts: DualAscentOptions = {}, control: JobControl = {}): DualAscentResult {
  const { gapTol = 1e-8, maxSweeps = 100_000 } = opts;
  const { numVertices, p, edges } = graph;
  const numEdges = edges.length / 2;
  for (let e = 0; e < numEdges; e++) {
    const u = edges[2 * e];
    const v = edges[2 * e + 1];
    if (u === v || u < 0 || v < 0 || u >= numVertices || v >= numVertices) throw new LabError(`graph: bad edge [${u}, ${v}]`);
  }
  const lambda = new Float64Array(numEdges);
  const mu = Float64Array.from(p); // λ = 0, μ = p: s = p > 0, q = 1.
  const sv = Float64Array.from(p);
  const q = new Float64Array(numVertices);
  const factor = new Float64Array(numVertices);
  let best = { loss: Infinity, dual: -Infinity, q: new Float64Array(numVertices) };
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    throwIfAborted(control.signal);
    for (let e = 0; e < numEdges; e++) {
      const u = edges[2 * e];
      const v = edges[2 * e + 1];
      const au = sv[u] - lambda[e];
      const av = sv[v] - lambda[e];
      // Zero λ_e can leave a = 0 only if μ was driven to 0 by other edges; then q = ∞ and
      // the step is positive, which the quadratic handles as long as a > 0.
      const l = edgeStep(p[u], p[v], Math.max(au, 1e-300), Math.max(av, 1e-300));
      sv[u] = au + l;
      sv[v] = av + l;
      lambda[e] = l;
    }
    for (let v = 0; v < numVertices; v++) {
      const a = sv[v] - mu[v];
      const m = Math.max(0, p[v] - a);
      sv[v] = a + m;
      mu[v] = m;
    }
    // Feasible primal: q = p/s clipped to 1, then scaled down on violated edges.
    for (let v = 0; v < numVertices; v++) {
      q[v] = Math.min(1, p[v] / sv[v]);
      factor[v] = 1;
    }
    for (let e = 0; e < numEdges; e++) {
      const u = edges[2 * e];
      const v = edges[2 * e + 1];
      const sum = q[u] + q[v];
      if (sum > factor[u]) factor[u] = sum;
      if (sum > factor[v]) factor[v] = sum;
    }
    let loss = 0;
    for (let v = 0; v < numVertices; v++) loss -= p[v] * Math.log(q[v] / factor[v]);
    const dual = dualValue({ numVertices, p, edges }, lambda, mu);
    if (loss < best.loss) best = { loss, dual: Math.max(dual, best.dual), q: q.map((x, v) => x / factor[v]) };
    else best.dual = Math.max(dual, best.dual);
    if (sweeps % 50 === 0) control.onProgress?.({ fraction: 0, message: `gap ${(best.loss - best.dual).toExponential(2)}` });
    if (best.loss - best.dual <= gapTol) {
      sweeps++;
      break;
    }
  }
  const gap = best.loss - best.dual;
  return { loss: best.loss, dual: best.dual, gap, q: best.q, sweeps, converged: gap <= gapTol };
}
