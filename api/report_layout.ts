/**
 * The DAG's layout for the HTML report, layered as Sugiyama's method does:
 * the plan's levels are the ranks (columns), an edge that spans several
 * ranks passes through a virtual node in each rank between, and the order
 * inside each rank is improved by barycenter sweeps, keeping the order with
 * the fewest crossings. Pure data, no HTML.
 *
 * @module
 */

/** A node of the layout: a step (`step` is its index) or a virtual node on a long edge. */
export interface LayoutNode {
  step?: number;
  rank: number;
  /** Top-left corner and height (the width is the rank's). */
  x: number;
  y: number;
  height: number;
}

/** An edge, as the layout nodes it passes through, source first, target last. */
export interface LayoutEdge {
  from: number;
  to: number;
  chain: number[];
}

/** The layout of a DAG. */
export interface Layout {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  /** Node ids in each rank, top to bottom. */
  ranks: number[][];
  width: number;
  height: number;
  /** Edge crossings in the chosen order. */
  crossings: number;
}

/** Sizes of the drawing, in pixels. */
export const GEOMETRY = {
  nodeWidth: 164,
  nodeHeight: 44,
  virtualHeight: 10,
  rankGap: 52,
  nodeGap: 14,
  margin: 16,
  top: 34,
};

/** Virtual nodes made at most; past it, long edges are drawn straight across. */
export const MAX_VIRTUAL_NODES = 20_000;
const SWEEPS = 8;

/**
 * Lays out steps `0..ranks.flat().length-1`: `ranks[r]` lists the steps
 * of level `r + 1`, and `edges` go from a dependency to its dependent (a
 * lower rank to a higher one).
 */
export function layoutDag(ranks: number[][], edges: [number, number][]): Layout {
  const rankOf: number[] = [];
  for (const [r, steps] of ranks.entries()) for (const step of steps) rankOf[step] = r;
  const nodes: LayoutNode[] = rankOf.map((rank, step) => ({ step, rank, x: 0, y: 0, height: 0 }));
  const order = ranks.map((steps) => [...steps]);
  const span = edges.reduce((sum, [from, to]) => sum + rankOf[to] - rankOf[from] - 1, 0);
  const layoutEdges = edges.map(([from, to]) => {
    const chain = [from];
    for (let r = rankOf[from] + 1; r < rankOf[to] && span <= MAX_VIRTUAL_NODES; r++) {
      chain.push(nodes.push({ rank: r, x: 0, y: 0, height: 0 }) - 1);
      order[r].push(chain.at(-1)!);
    }
    chain.push(to);
    return { from, to, chain };
  });
  const up: number[][] = nodes.map(() => []);
  const down: number[][] = nodes.map(() => []);
  for (const { chain } of layoutEdges) {
    for (let i = 1; i < chain.length; i++) {
      down[chain[i - 1]].push(chain[i]);
      up[chain[i]].push(chain[i - 1]);
    }
  }
  const { ranks: best, crossings } = orderRanks(order, up, down);
  const size = place(nodes, best);
  return { nodes, edges: layoutEdges, ranks: best, ...size, crossings };
}

/** Barycenter sweeps, down then up, keeping the order with the fewest crossings. */
function orderRanks(
  start: number[][],
  up: number[][],
  down: number[][],
): { ranks: number[][]; crossings: number } {
  const order = start.map((rank) => [...rank]);
  const pos: number[] = [];
  const index = (rank: number[]) => rank.forEach((node, i) => pos[node] = i);
  order.forEach(index);
  let best = { ranks: order.map((rank) => [...rank]), crossings: countCrossings(order, down, pos) };
  const sortBy = (r: number, neighbours: number[][]) => {
    const key = new Map(order[r].map((node) => {
      const near = neighbours[node];
      const mean = near.length ? near.reduce((sum, n) => sum + pos[n], 0) / near.length : pos[node];
      return [node, mean];
    }));
    order[r].sort((a, b) => key.get(a)! - key.get(b)!);
    index(order[r]);
  };
  for (let sweep = 0; sweep < SWEEPS && best.crossings > 0; sweep++) {
    if (sweep % 2 === 0) { for (let r = 1; r < order.length; r++) sortBy(r, up); }
    else for (let r = order.length - 2; r >= 0; r--) sortBy(r, down);
    const crossings = countCrossings(order, down, pos);
    if (crossings < best.crossings) best = { ranks: order.map((rank) => [...rank]), crossings };
  }
  return best;
}

/**
 * Crossings between each pair of adjacent ranks: the inversions among the
 * edges' lower ends once sorted by their upper ends (a Fenwick tree).
 */
export function countCrossings(order: number[][], down: number[][], pos: number[]): number {
  let crossings = 0;
  for (let r = 0; r + 1 < order.length; r++) {
    const ends: [number, number][] = [];
    for (const node of order[r]) for (const next of down[node]) ends.push([pos[node], pos[next]]);
    ends.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const tree = new Array(order[r + 1].length + 1).fill(0);
    for (const [inserted, [, lower]] of ends.entries()) {
      let atMost = 0;
      for (let i = lower + 1; i > 0; i -= i & -i) atMost += tree[i];
      crossings += inserted - atMost;
      for (let i = lower + 1; i < tree.length; i += i & -i) tree[i]++;
    }
  }
  return crossings;
}

/** Coordinates: each rank a column, its nodes stacked and centred on the tallest column. */
function place(nodes: LayoutNode[], ranks: number[][]): { width: number; height: number } {
  const g = GEOMETRY;
  const heightOf = (node: LayoutNode) => node.step === undefined ? g.virtualHeight : g.nodeHeight;
  const columnHeight = (rank: number[]) =>
    rank.reduce((sum, id) => sum + heightOf(nodes[id]), 0) +
    g.nodeGap * Math.max(0, rank.length - 1);
  const tallest = Math.max(0, ...ranks.map(columnHeight));
  for (const [r, rank] of ranks.entries()) {
    let y = g.top + (tallest - columnHeight(rank)) / 2;
    for (const id of rank) {
      const node = nodes[id];
      Object.assign(node, {
        x: g.margin + r * (g.nodeWidth + g.rankGap),
        y,
        height: heightOf(node),
      });
      y += node.height + g.nodeGap;
    }
  }
  return {
    width: 2 * g.margin + ranks.length * g.nodeWidth + Math.max(0, ranks.length - 1) * g.rankGap,
    height: g.top + tallest + g.margin,
  };
}
