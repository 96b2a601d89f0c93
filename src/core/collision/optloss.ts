/**
 * Optimal adversarial losses on a two-class conflict graph (spec collision.md §4–5).
 *
 * Cross-entropy (Bhagoji, Cullina, Sehwag & Mittal, ICML 2021, "Lower bounds on cross-entropy
 * loss in the presence of test-time adversaries"): minimise Σ_v p_v ln(1/q_v) over
 * 0 ≤ q ≤ 1 with q_u + q_v ≤ 1 on every conflict edge. With two classes the graph is
 * bipartite and the problem is isotonic regression on a bipartite order, so the optimum is
 * piecewise constant on "blocks": a block with class weights A (class 0) and B (class 1)
 * takes q = A/(A+B) on class 0 and B/(A+B) on class 1. Blocks are found exactly by divide
 * and conquer with max-flow (weighted Hall condition), not by an iterative convex solver,
 * which would reach only ~1e-6 (fixtures README).
 *
 * 0-1 loss: the LP is integral on bipartite graphs (König), so the optimum is the
 * minimum-weight vertex cover = the max-flow value with caps p on source/sink edges.
 *
 * Natural logs throughout: ln 2 is the balanced-class maximum (spec pitfall 9).
 */
import { LabError } from '../types';
import { FlowNetwork } from './maxflow';

/** A two-class conflict graph. Vertices 0..nClass0−1 are class 0, the rest class 1. */
export interface ConflictGraph {
  nClass0: number;
  numVertices: number;
  /** Vertex probabilities, all > 0, summing to 1 (uniform: 1/(2S), spec pitfall 9). */
  p: Float64Array;
  /** Flat pairs [u0, v0, u1, v1, …] with u in class 0 and v in class 1. */
  edges: Int32Array;
}

export interface LogLossBlock {
  /** Vertex ids of the tight block. */
  vertices: Int32Array;
  /** q on its class-0 vertices, A/(A+B). */
  value: number;
}

export interface LogLossResult {
  /** Σ p_v ln(1/q_v), nats. */
  loss: number;
  /** Probability of each vertex's own class at the (unique) optimum. */
  q: Float64Array;
  /** Tight blocks (those with at least one internal edge), in discovery order. */
  blocks: LogLossBlock[];
  /**
   * Lagrange-dual certificate built from the block flows: λ_e per edge and μ_v per vertex
   * (μ_v = p_v where q_v = 1). Any λ, μ ≥ 0 give a lower bound `dual` on the optimum, so
   * `loss − dual` bounds the suboptimality of `q`.
   */
  certificate: { lambda: Float64Array; mu: Float64Array; dual: number };
  maxFlowCalls: number;
}

export interface ZeroOneResult {
  /** Weight of the minimum vertex cover = optimal adversarial 0-1 loss. */
  loss: number;
  /** One optimal 0/1 assignment: 0 on the cover, 1 elsewhere. */
  q: Float64Array;
  cover: Uint8Array;
  /**
   * Certificate: a flow (fractional matching) with Σ_{e∋v} flow_e ≤ p_v whose total equals
   * the cover weight, so by LP duality no cover is lighter.
   */
  edgeFlow: Float64Array;
  flowValue: number;
}

/** Saturation test tolerance on float capacities (spec: "F ≥ A·B·(1 − 1e-12)"). */
const SATURATION_RTOL = 1e-12;
/** Residual capacity treated as zero, relative to A·B (spec: 1e-15·A·B). */
const RESIDUAL_RTOL = 1e-15;

export function validateGraph(g: ConflictGraph): void {
  const { nClass0, numVertices, p, edges } = g;
  if (!Number.isInteger(nClass0) || nClass0 < 0 || nClass0 > numVertices) throw new LabError(`graph: n_class0 must be an integer in [0, ${numVertices}]`);
  if (p.length !== numVertices) throw new LabError(`graph: p has ${p.length} entries, expected ${numVertices}`);
  for (let v = 0; v < numVertices; v++) if (!(p[v] > 0) || !Number.isFinite(p[v])) throw new LabError(`graph: p[${v}] must be a positive number`);
  if (edges.length % 2 !== 0) throw new LabError('graph: edges must be pairs');
  for (let e = 0; e < edges.length; e += 2) {
    const u = edges[e];
    const v = edges[e + 1];
    if (!(u >= 0 && u < nClass0 && v >= nClass0 && v < numVertices)) throw new LabError(`graph: edge [${u}, ${v}] must join a class-0 vertex to a class-1 vertex`);
  }
}

/**
 * Uniform weights get integer capacities (n_R per class-0 vertex, n_L per class-1 vertex,
 * as in the authors' code), which makes the saturation test exact (spec pitfall 8).
 */
function flowWeights(p: Float64Array): { w: Float64Array; uniform: boolean; scale: number } {
  const uniform = p.every((x) => x === p[0]);
  if (uniform) return { w: new Float64Array(p.length).fill(1), uniform, scale: p[0] };
  return { w: p, uniform, scale: 1 };
}

/** Exact optimal cross-entropy by the weighted flow decomposition (spec §4). */
export function optimalLogLoss(graph: ConflictGraph): LogLossResult {
  validateGraph(graph);
  const { nClass0, numVertices, p, edges } = graph;
  const numEdges = edges.length / 2;
  const { w, uniform, scale } = flowWeights(p);
  const q = new Float64Array(numVertices).fill(1);
  const lambda = new Float64Array(numEdges);
  const mu = new Float64Array(numVertices);
  const blocks: LogLossBlock[] = [];
  // Which set each vertex currently belongs to; sets are processed from an explicit stack
  // (≤ 2|V| − 1 of them) instead of recursion.
  const setId = new Int32Array(numVertices);
  const local = new Int32Array(numVertices);
  let nextSet = 1;
  setId.fill(0);
  const stack: Int32Array[] = [Int32Array.from({ length: numVertices }, (_, i) => i)];
  const stackIds = [0];
  let maxFlowCalls = 0;

  while (stack.length) {
    const C = stack.pop() as Int32Array;
    const id = stackIds.pop() as number;
    const inner: number[] = [];
    for (let e = 0; e < numEdges; e++) {
      if (setId[edges[2 * e]] === id && setId[edges[2 * e + 1]] === id) inner.push(e);
    }
    if (inner.length === 0) {
      for (const v of C) {
        q[v] = 1;
        mu[v] = p[v];
      }
      continue;
    }
    let Aw = 0;
    let Bw = 0;
    let Ap = 0;
    let Bp = 0;
    for (const v of C) {
      if (v < nClass0) {
        Aw += w[v];
        Ap += p[v];
      } else {
        Bw += w[v];
        Bp += p[v];
      }
    }
    const k = C.length;
    const s = k;
    const t = k + 1;
    const net = new FlowNetwork(k + 2);
    C.forEach((v, i) => {
      local[v] = i;
      if (v < nClass0) net.addEdge(s, i, w[v] * Bw);
      else net.addEdge(i, t, w[v] * Aw);
    });
    // "Infinite" conflict edges: any cap above the total flow A·B acts as ∞, and a finite one
    // keeps flow = original − residual well defined (∞ − ∞ is NaN).
    const big = 2 * Aw * Bw + 1;
    const edgeIds = inner.map((e) => net.addEdge(local[edges[2 * e]], local[edges[2 * e + 1]], big));
    const eps = uniform ? 0.5 : RESIDUAL_RTOL * Aw * Bw;
    const F = net.maxFlow(s, t, eps);
    maxFlowCalls++;
    const saturated = uniform ? F >= Aw * Bw : F >= Aw * Bw * (1 - SATURATION_RTOL);
    let U: number[] = [];
    let rest: number[] = [];
    if (!saturated) {
      const seen = net.reachable(s, eps);
      for (const v of C) (seen[local[v]] ? U : rest).push(v);
    }
    if (saturated || U.length === 0 || rest.length === 0) {
      // One tight block. (The guard on an empty side only triggers on float ties at the
      // tolerance; then the block is tight up to SATURATION_RTOL anyway.)
      const qa = Ap / (Ap + Bp);
      const qb = Bp / (Ap + Bp);
      for (const v of C) q[v] = v < nClass0 ? qa : qb;
      // λ_e = flow_e (A+B)/(A·B) in probability units (spec §4 "Dual certificate").
      const toLambda = ((Aw + Bw) / (Aw * Bw)) * scale;
      inner.forEach((e, i) => (lambda[e] = net.flowOn(edgeIds[i]) * toLambda));
      blocks.push({ vertices: C, value: qa });
      continue;
    }
    U = U.sort((a, b) => a - b);
    rest = rest.sort((a, b) => a - b);
    const idU = nextSet++;
    const idR = nextSet++;
    for (const v of U) setId[v] = idU;
    for (const v of rest) setId[v] = idR;
    stack.push(Int32Array.from(U), Int32Array.from(rest));
    stackIds.push(idU, idR);
  }

  let loss = 0;
  for (let v = 0; v < numVertices; v++) loss -= p[v] * Math.log(q[v]);
  return { loss, q, blocks, certificate: { lambda, mu, dual: dualValue(graph, lambda, mu) }, maxFlowCalls };
}

/**
 * Lagrange dual of the log-loss problem at multipliers λ (edges) and μ (q ≤ 1):
 * D = Σ p_v ln(s_v/p_v) + Σ p_v − Σ λ − Σ μ with s_v = μ_v + Σ_{e∋v} λ_e. Weak duality
 * makes it a lower bound on the optimal loss for any λ, μ ≥ 0 (−∞ if some s_v = 0).
 */
export function dualValue(graph: { numVertices: number; p: Float64Array; edges: Int32Array }, lambda: Float64Array, mu: Float64Array): number {
  const { numVertices, p, edges } = graph;
  const sv = Float64Array.from(mu);
  let sumLambda = 0;
  for (let e = 0; e < lambda.length; e++) {
    sv[edges[2 * e]] += lambda[e];
    sv[edges[2 * e + 1]] += lambda[e];
    sumLambda += lambda[e];
  }
  let d = -sumLambda;
  for (let v = 0; v < numVertices; v++) {
    if (!(sv[v] > 0)) return -Infinity;
    d += p[v] * Math.log(sv[v] / p[v]) + p[v] - mu[v];
  }
  return d;
}

/** Optimal adversarial 0-1 loss = minimum-weight vertex cover via max-flow (spec §5). */
export function optimalZeroOneLoss(graph: ConflictGraph): ZeroOneResult {
  validateGraph(graph);
  const { nClass0, numVertices, p, edges } = graph;
  const numEdges = edges.length / 2;
  const { w, uniform, scale } = flowWeights(p);
  const s = numVertices;
  const t = numVertices + 1;
  const net = new FlowNetwork(numVertices + 2);
  for (let v = 0; v < numVertices; v++) {
    if (v < nClass0) net.addEdge(s, v, w[v]);
    else net.addEdge(v, t, w[v]);
  }
  const edgeIds: number[] = [];
  const big = 2 * w.reduce((a, b) => a + b, 0) + 1; // > any flow, so effectively ∞
  for (let e = 0; e < numEdges; e++) edgeIds.push(net.addEdge(edges[2 * e], edges[2 * e + 1], big));
  // Unit capacities in the uniform case: Dinic is then Hopcroft–Karp (maximum matching).
  const eps = uniform ? 0.5 : RESIDUAL_RTOL;
  const F = net.maxFlow(s, t, eps);
  const seen = net.reachable(s, eps);
  const cover = new Uint8Array(numVertices);
  const q = new Float64Array(numVertices).fill(1);
  let loss = 0;
  for (let v = 0; v < numVertices; v++) {
    // Min cut: class-0 vertices cut off from s, class-1 vertices reachable from s.
    const inCover = v < nClass0 ? !seen[v] : !!seen[v];
    if (inCover) {
      cover[v] = 1;
      q[v] = 0;
      loss += p[v];
    }
  }
  const edgeFlow = new Float64Array(numEdges);
  edgeIds.forEach((id, e) => (edgeFlow[e] = net.flowOn(id) * scale));
  return { loss, q, cover, edgeFlow, flowValue: F * scale };
}
