/**
 * Dinic max-flow on a small directed network with float64 capacities (spec collision.md §4,
 * "Complexity"): BFS levels plus a blocking flow found by an *iterative* DFS, so a deep
 * level graph cannot overflow the JS call stack. Model "infinite" edges with a finite cap
 * above the total possible flow: `flowOn` needs original − residual, and ∞ − ∞ is NaN.
 *
 * Built for the conflict-graph solvers of this folder: ≤ a few hundred nodes and ≤ ~10⁴
 * edges, where one flow is ~10⁵ edge visits.
 */

export class FlowNetwork {
  readonly numNodes: number;
  private head: Int32Array;
  private next: number[] = [];
  /** Edge e goes from `from[e]` to `to[e]`; edge e ^ 1 is its residual twin. */
  readonly from: number[] = [];
  readonly to: number[] = [];
  readonly cap: number[] = [];
  /** Capacity at insertion; flow on a forward edge is `original[e] − cap[e]`. */
  readonly original: number[] = [];

  constructor(numNodes: number) {
    this.numNodes = numNodes;
    this.head = new Int32Array(numNodes).fill(-1);
  }

  /** Adds u → v with capacity c and returns the id of the forward edge. */
  addEdge(u: number, v: number, c: number): number {
    const e = this.to.length;
    this.from.push(u, v);
    this.to.push(v, u);
    this.cap.push(c, 0);
    this.original.push(c, 0);
    this.next.push(this.head[u], this.head[v]);
    this.head[u] = e;
    this.head[v] = e + 1;
    return e;
  }

  flowOn(e: number): number {
    return this.original[e] - this.cap[e];
  }

  /**
   * Max s–t flow. `eps` is the residual capacity treated as zero: with float capacities an
   * edge "saturated" by rounding may keep 1e-17, which must not count as an augmenting path
   * (spec pitfall 8: relative tolerance).
   */
  maxFlow(s: number, t: number, eps = 0): number {
    const n = this.numNodes;
    const level = new Int32Array(n);
    const it = new Int32Array(n);
    const queue = new Int32Array(n);
    const path: number[] = [];
    let total = 0;
    for (;;) {
      // BFS levels over edges with residual capacity.
      level.fill(-1);
      level[s] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = s;
      while (qh < qt) {
        const u = queue[qh++];
        for (let e = this.head[u]; e !== -1; e = this.next[e]) {
          const v = this.to[e];
          if (level[v] < 0 && this.cap[e] > eps) {
            level[v] = level[u] + 1;
            queue[qt++] = v;
          }
        }
      }
      if (level[t] < 0) return total;
      for (let i = 0; i < n; i++) it[i] = this.head[i];
      // Blocking flow: walk forward along level edges; retreat and mark dead ends.
      path.length = 0;
      let u = s;
      for (;;) {
        if (u === t) {
          let b = Infinity;
          for (const e of path) if (this.cap[e] < b) b = this.cap[e];
          for (const e of path) {
            this.cap[e] -= b;
            this.cap[e ^ 1] += b;
          }
          total += b;
          path.length = 0;
          u = s;
          continue;
        }
        let e = it[u];
        while (e !== -1 && !(this.cap[e] > eps && level[this.to[e]] === level[u] + 1)) e = this.next[e];
        it[u] = e;
        if (e !== -1) {
          path.push(e);
          u = this.to[e];
          continue;
        }
        level[u] = -1; // dead end for this phase
        if (u === s) break;
        const back = path.pop() as number;
        u = this.from[back];
        it[u] = this.next[it[u]];
      }
    }
  }

  /** Nodes reachable from s through edges with residual capacity > eps (the min-cut side). */
  reachable(s: number, eps = 0): Uint8Array {
    const seen = new Uint8Array(this.numNodes);
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const u = stack.pop() as number;
      for (let e = this.head[u]; e !== -1; e = this.next[e]) {
        const v = this.to[e];
        if (!seen[v] && this.cap[e] > eps) {
          seen[v] = 1;
          stack.push(v);
        }
      }
    }
    return seen;
  }
}
