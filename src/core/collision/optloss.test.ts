import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { dualAscentLogLoss } from './dualascent';
import { optimalLogLoss, optimalZeroOneLoss, type ConflictGraph } from './optloss';

interface FixtureCase {
  name: string;
  n_class0: number;
  num_vertices: number;
  p: number[];
  edges: [number, number][];
  optimal_logloss: number;
  q_opt: number[];
  optimal_01_loss: number;
  num_blocks: number;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/optloss-public.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

function toGraph(c: FixtureCase): ConflictGraph {
  return { nClass0: c.n_class0, numVertices: c.num_vertices, p: Float64Array.from(c.p), edges: Int32Array.from(c.edges.flat()) };
}

function expectFeasible(g: ConflictGraph, q: Float64Array): void {
  for (const x of q) expect(x > 0 && x <= 1).toBe(true);
  for (let e = 0; e < g.edges.length; e += 2) expect(q[g.edges[e]] + q[g.edges[e + 1]]).toBeLessThanOrEqual(1 + 1e-12);
}

/** Random bipartite graph with random (or uniform) weights. */
function randomGraph(seed: number, n0: number, n1: number, density: number, uniform: boolean): ConflictGraph {
  const rng = createRng(seed);
  const n = n0 + n1;
  const p = new Float64Array(n).map(() => (uniform ? 1 : 0.1 + rng.next()));
  const sum = p.reduce((a, b) => a + b, 0);
  for (let v = 0; v < n; v++) p[v] /= sum;
  const edges: number[] = [];
  for (let u = 0; u < n0; u++) for (let v = n0; v < n; v++) if (rng.next() < density) edges.push(u, v);
  return { nClass0: n0, numVertices: n, p, edges: Int32Array.from(edges) };
}

/** Exhaustive minimum-weight vertex cover over all 2^n subsets. */
function bruteCover(g: ConflictGraph): number {
  let best = Infinity;
  for (let mask = 0; mask < 1 << g.numVertices; mask++) {
    let ok = true;
    for (let e = 0; e < g.edges.length && ok; e += 2) ok = ((mask >> g.edges[e]) & 1) === 1 || ((mask >> g.edges[e + 1]) & 1) === 1;
    if (!ok) continue;
    let w = 0;
    for (let v = 0; v < g.numVertices; v++) if ((mask >> v) & 1) w += g.p[v];
    best = Math.min(best, w);
  }
  return best;
}

describe('optimalLogLoss / optimalZeroOneLoss on the public fixtures', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const g = toGraph(c);
      const r = optimalLogLoss(g);
      expect(Math.abs(r.loss - c.optimal_logloss)).toBeLessThanOrEqual(1e-9);
      let maxQ = 0;
      for (let v = 0; v < g.numVertices; v++) maxQ = Math.max(maxQ, Math.abs(r.q[v] - c.q_opt[v]));
      expect(maxQ).toBeLessThanOrEqual(1e-6);
      expectFeasible(g, r.q);
      expect(r.blocks.length).toBe(c.num_blocks);
      // Dual certificate: a lower bound that closes the gap (spec: ≤ 1e-12 on all fixtures).
      expect(r.certificate.dual).toBeLessThanOrEqual(r.loss + 1e-12);
      expect(r.loss - r.certificate.dual).toBeLessThanOrEqual(1e-10);
      for (const l of r.certificate.lambda) expect(l).toBeGreaterThanOrEqual(0);

      const z = optimalZeroOneLoss(g);
      expect(Math.abs(z.loss - c.optimal_01_loss)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(z.flowValue - z.loss)).toBeLessThanOrEqual(1e-12);
      // Certificate: the cover covers every edge, the flow respects vertex weights.
      const load = new Float64Array(g.numVertices);
      for (let e = 0; e < g.edges.length / 2; e++) {
        const u = g.edges[2 * e];
        const v = g.edges[2 * e + 1];
        expect(z.cover[u] || z.cover[v]).toBe(1);
        expect(z.q[u] + z.q[v]).toBeLessThanOrEqual(1);
        load[u] += z.edgeFlow[e];
        load[v] += z.edgeFlow[e];
      }
      for (let v = 0; v < g.numVertices; v++) expect(load[v]).toBeLessThanOrEqual(g.p[v] * (1 + 1e-12));
      // 0-1 optimum ≤ cross-entropy optimum converted to error (spec §5): expected error of
      // the optimal soft classifier Σ p (1 − q) is ≥ the 0-1 optimum.
      const softError = g.p.reduce((a, pv, v) => a + pv * (1 - r.q[v]), 0);
      expect(z.loss).toBeLessThanOrEqual(softError + 1e-12);
    });
  }
});

describe('hand-checkable graphs', () => {
  it('no edges: loss 0, q = 1', () => {
    const g: ConflictGraph = { nClass0: 2, numVertices: 4, p: new Float64Array(4).fill(0.25), edges: new Int32Array(0) };
    expect(optimalLogLoss(g).loss).toBe(0);
    expect(optimalZeroOneLoss(g).loss).toBe(0);
  });
  it('perfect matching on balanced classes: ln 2 and 1/2', () => {
    const g: ConflictGraph = { nClass0: 2, numVertices: 4, p: new Float64Array(4).fill(0.25), edges: Int32Array.from([0, 2, 1, 3]) };
    expect(optimalLogLoss(g).loss).toBeCloseTo(Math.LN2, 14);
    expect(optimalZeroOneLoss(g).loss).toBeCloseTo(0.5, 14);
  });
  it('star with one isolated vertex: block of 3 plus q = 1', () => {
    // 0 — {2, 3}, vertex 1 isolated: block A = 1/4, B = 2/4 → q0 = 1/3, q2 = q3 = 2/3.
    const g: ConflictGraph = { nClass0: 2, numVertices: 4, p: new Float64Array(4).fill(0.25), edges: Int32Array.from([0, 2, 0, 3]) };
    const r = optimalLogLoss(g);
    expect(Array.from(r.q)).toEqual([1 / 3, 1, 2 / 3, 2 / 3].map((x) => expect.closeTo(x, 15)));
    expect(optimalZeroOneLoss(g).loss).toBeCloseTo(0.25, 15);
  });
});

describe('property: flow solver vs independent solvers on random small graphs', () => {
  it('equals dual coordinate ascent (generic convex) and exhaustive vertex cover', () => {
    for (let trial = 0; trial < 40; trial++) {
      const g = randomGraph(1000 + trial, 2 + (trial % 4), 2 + ((trial >> 2) % 4), 0.2 + 0.15 * (trial % 5), trial % 3 === 0);
      const r = optimalLogLoss(g);
      expectFeasible(g, r.q);
      const generic = dualAscentLogLoss({ numVertices: g.numVertices, p: g.p, edges: g.edges }, { gapTol: 1e-11 });
      expect(generic.converged).toBe(true);
      // The generic solver brackets the optimum: dual ≤ opt ≤ its feasible primal.
      expect(r.loss).toBeGreaterThanOrEqual(generic.dual - 1e-12);
      expect(r.loss).toBeLessThanOrEqual(generic.loss + 1e-12);
      // q of the generic solver is only accurate to ~√gap (spec §4).
      for (let v = 0; v < g.numVertices; v++) expect(Math.abs(r.q[v] - generic.q[v])).toBeLessThanOrEqual(1e-4);
      expect(r.loss - r.certificate.dual).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(optimalZeroOneLoss(g).loss - bruteCover(g))).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe('dualAscentLogLoss (multi-class fallback, approximate)', () => {
  it('triangle (odd cycle, 3 classes): q = 1/2 each, loss ln 2', () => {
    const r = dualAscentLogLoss({ numVertices: 3, p: new Float64Array(3).fill(1 / 3), edges: Int32Array.from([0, 1, 1, 2, 0, 2]) });
    expect(r.converged).toBe(true);
    expect(r.loss).toBeCloseTo(Math.LN2, 7);
    expect(r.gap).toBeLessThanOrEqual(1e-8);
    for (const x of r.q) expect(x).toBeCloseTo(0.5, 3);
  });
  it('matches the exact solver on a fixture to its gap', () => {
    const c = fixture.cases[2];
    const r = dualAscentLogLoss({ numVertices: c.num_vertices, p: Float64Array.from(c.p), edges: Int32Array.from(c.edges.flat()) });
    expect(r.converged).toBe(true);
    expect(Math.abs(r.loss - c.optimal_logloss)).toBeLessThanOrEqual(r.gap + 1e-12);
  });
});
