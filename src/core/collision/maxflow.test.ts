import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { FlowNetwork } from './maxflow';

describe('FlowNetwork (Dinic)', () => {
  it('classic 4-node example', () => {
    const net = new FlowNetwork(4);
    net.addEdge(0, 1, 3);
    net.addEdge(0, 2, 2);
    const mid = net.addEdge(1, 2, 5);
    net.addEdge(1, 3, 2);
    net.addEdge(2, 3, 3);
    expect(net.maxFlow(0, 3)).toBe(5);
    expect(net.flowOn(mid)).toBeGreaterThanOrEqual(0);
    const side = net.reachable(0);
    expect(side[3]).toBe(0);
  });
  it('equals the brute-force minimum cut on random float networks', () => {
    const rng = createRng(77);
    for (let trial = 0; trial < 60; trial++) {
      const n = 6;
      const caps: [number, number, number][] = [];
      for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) if (u !== v && rng.next() < 0.4) caps.push([u, v, rng.next() * 3]);
      const net = new FlowNetwork(n);
      for (const [u, v, c] of caps) net.addEdge(u, v, c);
      const F = net.maxFlow(0, n - 1);
      // All cuts with 0 on the source side and n−1 on the sink side.
      let best = Infinity;
      for (let mask = 0; mask < 1 << (n - 2); mask++) {
        const inS = (v: number) => v === 0 || (v !== n - 1 && ((mask >> (v - 1)) & 1) === 1);
        best = Math.min(best, caps.reduce((s, [u, v, c]) => s + (inS(u) && !inS(v) ? c : 0), 0));
      }
      expect(Math.abs(F - best)).toBeLessThanOrEqual(1e-12);
      // The residual source side is a minimum cut.
      const side = net.reachable(0, 1e-12);
      expect(Math.abs(caps.reduce((s, [u, v, c]) => s + (side[u] && !side[v] ? c : 0), 0) - best)).toBeLessThanOrEqual(1e-9);
    }
  });
});
