// virtables' own layout, for when Graphviz is not installed: deterministic and layered like
// the lab's figures. The wiring is a tree (outside → uplink → host → bridges → guests) laid out
// tidily, one layer per kind; arrows between host, guests and outside run in vertical lanes
// beside the tree, each lane with its label next to it, so that labels never overlap; arrows
// between two guests run along tracks under the guest row.

import { edgeStyle, type EdgeStyle } from './dot.js';
import type { Diagram, DiagramEdge, DiagramNode, NodeKind, Wire } from './graph.js';
import { maxOf, minOf } from '../model/lists.js';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface TextBlock {
  /** Left edge of the lines (they are left-aligned), and the baseline of the first. */
  readonly x: number;
  readonly y: number;
  readonly lines: readonly string[];
  /** The white background behind the block. */
  readonly box: Box;
}

export interface PlacedNode {
  readonly node: DiagramNode;
  readonly box: Box;
}

export interface PlacedWire {
  readonly wire: Wire;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly label: TextBlock | null;
}

export interface PlacedEdge {
  readonly edge: DiagramEdge;
  readonly style: EdgeStyle;
  /** From `edge.from` to `edge.to`. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly label: TextBlock;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly title: { readonly x: number; readonly y: number; readonly text: string };
  readonly hostBox: Box | null;
  readonly nodes: readonly PlacedNode[];
  readonly wires: readonly PlacedWire[];
  readonly edges: readonly PlacedEdge[];
}

// Metrics of the monospace font the SVG uses (DejaVu Sans Mono and its like: 0.602 em per character).
export const NODE_FONT = 12;
export const EDGE_FONT = 10.5;
const EM = 0.61;
const NODE_LINE = 15;
const EDGE_LINE = 13;
const PAD_X = 12;
const PAD_Y = 8;
const SIBLING_GAP = 34;
const LAYER_GAP = 56;
const LANE_GAP = 26;
const TRACK_GAP = 12;
const MARGIN = 24;

const LAYER: Readonly<Record<NodeKind, number>> = { outside: 0, uplink: 1, host: 2, bridge: 3, link: 3, guest: 4 };

export function textWidth(text: string, font: number): number {
  return [...text].length * font * EM;
}

function blockSize(lines: readonly string[], font: number, line: number): { w: number; h: number } {
  return { w: maxOf(lines.map((l) => textWidth(l, font))), h: lines.length * line };
}

function nodeSize(n: DiagramNode): { w: number; h: number } {
  const b = blockSize(n.lines, NODE_FONT, NODE_LINE);
  return { w: Math.max(70, b.w + 2 * PAD_X + (n.kind === 'outside' ? 24 : 0)), h: b.h + 2 * PAD_Y };
}

/** A text block whose lines start at x, first baseline placed so the block's top is `top`. */
function block(lines: readonly string[], x: number, top: number): TextBlock {
  const s = blockSize(lines, EDGE_FONT, EDGE_LINE);
  return { x, y: top + EDGE_FONT, lines, box: { x: x - 3, y: top - 2, w: s.w + 6, h: s.h + 4 } };
}

export function layout(d: Diagram): Layout {
  const sizes = new Map(d.nodes.map((n) => [n.id, nodeSize(n)]));
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  const children = new Map<string, string[]>();
  const parent = new Map<string, string>();
  for (const w of d.wires) {
    if (!byId.has(w.from) || !byId.has(w.to) || parent.has(w.to)) continue;
    parent.set(w.to, w.from);
    children.set(w.from, [...(children.get(w.from) ?? []), w.to]);
  }
  const roots = d.nodes.filter((n) => !parent.has(n.id)).map((n) => n.id);

  // Tidy tree: each subtree as wide as its children side by side (or its own node), parents centred.
  const widthOf = new Map<string, number>();
  const subtreeWidth = (id: string): number => {
    const kids = children.get(id) ?? [];
    const own = sizes.get(id)!.w;
    const w =
      kids.length === 0
        ? own
        : Math.max(own, kids.reduce((sum, k) => sum + subtreeWidth(k), 0) + SIBLING_GAP * (kids.length - 1));
    widthOf.set(id, w);
    return w;
  };
  const cx = new Map<string, number>();
  const place = (id: string, left: number): void => {
    const kids = children.get(id) ?? [];
    const w = widthOf.get(id)!;
    if (kids.length === 0) {
      cx.set(id, left + w / 2);
      return;
    }
    const span = kids.reduce((sum, k) => sum + widthOf.get(k)!, 0) + SIBLING_GAP * (kids.length - 1);
    let x = left + (w - span) / 2;
    for (const k of kids) {
      place(k, x);
      x += widthOf.get(k)! + SIBLING_GAP;
    }
    cx.set(id, (cx.get(kids[0]!)! + cx.get(kids.at(-1)!)!) / 2);
  };
  let left = 0;
  for (const r of roots) {
    subtreeWidth(r);
    place(r, left);
    left += widthOf.get(r)! + SIBLING_GAP;
  }

  // The edges: two guests → tracks under the guest row; the rest → lanes at the sides.
  const guestIds = new Set(d.nodes.filter((n) => n.kind === 'guest').map((n) => n.id));
  const bottomEdges = d.edges.filter((e) => guestIds.has(e.from) && guestIds.has(e.to));
  const sideEdges = d.edges.filter((e) => !bottomEdges.includes(e));
  const centre = cx.get('host') ?? cx.get(roots[0] ?? '') ?? 0;
  const sideOf = new Map<DiagramEdge, 'left' | 'right'>();
  let leftCount = 0;
  let rightCount = 0;
  for (const e of sideEdges) {
    const lower = guestIds.has(e.to) ? e.to : null;
    const side =
      lower !== null ? (cx.get(lower)! < centre ? 'left' : 'right') : leftCount <= rightCount ? 'left' : 'right';
    sideOf.set(e, side);
    if (side === 'left') leftCount++;
    else rightCount++;
  }
  // Inner lanes for short arrows (from the host), outer ones for long (from outside); then by the guest's distance from
  // the centre.
  const laneOrder = (a: DiagramEdge, b: DiagramEdge): number =>
    LAYER[byId.get(b.from)!.kind] - LAYER[byId.get(a.from)!.kind] ||
    Math.abs(cx.get(a.to)! - centre) - Math.abs(cx.get(b.to)! - centre) ||
    d.edges.indexOf(a) - d.edges.indexOf(b);
  const lanes = {
    left: sideEdges.filter((e) => sideOf.get(e) === 'left').sort(laneOrder),
    right: sideEdges.filter((e) => sideOf.get(e) === 'right').sort(laneOrder),
  };
  const entering = sideEdges.filter((e) => guestIds.has(e.to)).length;

  // Layers top to bottom; room above the guests for the arrows coming in from the lanes.
  const layerNodes = new Map<number, DiagramNode[]>();
  for (const n of d.nodes) layerNodes.set(LAYER[n.kind], [...(layerNodes.get(LAYER[n.kind]) ?? []), n]);
  const titleHeight = 30;
  const layerTop = new Map<number, number>();
  let y = MARGIN + titleHeight;
  for (let l = 0; l <= 4; l++) {
    const list = layerNodes.get(l);
    if (!list) continue;
    if (l === 4) y += entering * TRACK_GAP;
    layerTop.set(l, y);
    y += maxOf(list.map((n) => sizes.get(n.id)!.h)) + LAYER_GAP + (l === 0 ? 20 : 0);
  }
  const boxes = new Map<string, Box>();
  for (const n of d.nodes) {
    const s = sizes.get(n.id)!;
    boxes.set(n.id, { x: cx.get(n.id)! - s.w / 2, y: layerTop.get(LAYER[n.kind])!, w: s.w, h: s.h });
  }
  const inHost = d.nodes.filter((n) => n.inHost).map((n) => boxes.get(n.id)!);
  const hostBox = inHost.length === 0 ? null : enclose(inHost, 16, 26);
  const all = [...boxes.values(), ...(hostBox ? [hostBox] : [])];
  const minX = minOf(all.map((b) => b.x));
  const maxX = maxOf(all.map((b) => b.x + b.w));
  const guestRow = [...boxes.entries()].filter(([id]) => guestIds.has(id)).map(([, b]) => b);
  const guestTop = guestRow.length > 0 ? minOf(guestRow.map((b) => b.y)) : y;
  const guestBottom = guestRow.length > 0 ? maxOf(guestRow.map((b) => b.y + b.h)) : y;

  // Side lanes: a vertical run at the lane's x, the label just outside it, the next lane beyond the label.
  const placed: PlacedEdge[] = [];
  const incomingAt = new Map<string, number>();
  const exits = new Map<string, number>();
  const exitY = (id: string, total: number): number => {
    const b = boxes.get(id)!;
    const i = exits.get(id) ?? 0;
    exits.set(id, i + 1);
    return b.y + b.h / 2 + (total <= 1 ? 0 : (i - (total - 1) / 2) * Math.min(8, (b.h - 12) / Math.max(1, total - 1)));
  };
  const exitsTotal = new Map<string, number>();
  for (const e of sideEdges) {
    exitsTotal.set(e.from, (exitsTotal.get(e.from) ?? 0) + 1);
    if (!guestIds.has(e.to)) exitsTotal.set(e.to, (exitsTotal.get(e.to) ?? 0) + 1);
  }
  // Tracks above the guest row: the outermost lane comes in lowest, so arrows nest.
  const ordered = [
    ...lanes.left.map((e, i) => ({ e, i, side: 'left' as const })),
    ...lanes.right.map((e, i) => ({ e, i, side: 'right' as const })),
  ];
  const trackOf = new Map<DiagramEdge, number>();
  const incoming = ordered
    .filter((o) => guestIds.has(o.e.to))
    .sort((a, b) => a.i - b.i || (a.side === 'left' ? -1 : 1));
  incoming.forEach((o, k) => trackOf.set(o.e, guestTop - 10 - (incoming.length - 1 - k) * TRACK_GAP));
  for (const side of ['left', 'right'] as const) {
    const sign = side === 'left' ? -1 : 1;
    const base = side === 'left' ? minX - LANE_GAP : maxX + LANE_GAP;
    const labels: Array<{
      e: DiagramEdge;
      style: EdgeStyle;
      points: Array<[number, number]>;
      x: number;
      top: number;
      lo: number;
      hi: number;
      h: number;
    }> = [];
    lanes[side].forEach((e, i) => {
      const laneX = base + sign * i * LANE_GAP;
      const from = boxes.get(e.from)!;
      const to = boxes.get(e.to)!;
      const sx = side === 'left' ? from.x : from.x + from.w;
      const sy = exitY(e.from, exitsTotal.get(e.from)!);
      const points: Array<[number, number]> = [
        [sx, sy],
        [laneX, sy],
      ];
      let endY: number;
      if (guestIds.has(e.to)) {
        // Into the guest's top beside the wire (which comes in at the centre).
        const track = trackOf.get(e)!;
        const k = incomingAt.get(e.to) ?? 0;
        incomingAt.set(e.to, k + 1);
        const tx = to.x + to.w / 2 + sign * Math.min(to.w / 2 - 6, 14 + 12 * k);
        points.push([laneX, track], [tx, track], [tx, to.y]);
        endY = track;
      } else {
        const ey = exitY(e.to, exitsTotal.get(e.to)!);
        points.push([laneX, ey], [side === 'left' ? to.x : to.x + to.w, ey]);
        endY = ey;
      }
      const sz = blockSize(e.lines, EDGE_FONT, EDGE_LINE);
      // The label beside its own lane, over the outer lanes (they pass behind it).
      labels.push({
        e,
        style: edgeStyle(e),
        points,
        x: side === 'left' ? laneX - 8 - sz.w : laneX + 8,
        top: (sy + endY) / 2 - sz.h / 2,
        lo: sy + 8,
        hi: endY - 8,
        h: sz.h + 6,
      });
    });
    // Labels of one side stacked without overlap, each kept within its own lane's run where it can be.
    labels.sort((a, b) => a.top - b.top || lanes[side].indexOf(a.e) - lanes[side].indexOf(b.e));
    let floor = -Infinity;
    for (const lb of labels) {
      lb.top = Math.max(lb.top, lb.lo, floor);
      floor = lb.top + lb.h;
    }
    let ceiling = Infinity;
    for (const lb of [...labels].reverse()) {
      lb.top = Math.min(lb.top, Math.max(lb.lo, lb.hi - lb.h), ceiling - lb.h);
      ceiling = lb.top;
    }
    for (const lb of labels)
      placed.push({ edge: lb.e, style: lb.style, points: lb.points, label: block(lb.e.lines, lb.x, lb.top) });
  }

  // Tracks under the guests: greedy rows, an arrow per row where its span (and label) is free.
  const rows: Array<Array<[number, number]>> = [];
  const rowOf = new Map<DiagramEdge, number>();
  for (const e of [...bottomEdges].sort(
    (a, b) =>
      Math.abs(cx.get(a.from)! - cx.get(a.to)!) - Math.abs(cx.get(b.from)! - cx.get(b.to)!) ||
      d.edges.indexOf(a) - d.edges.indexOf(b),
  )) {
    const a = cx.get(e.from)!;
    const b = cx.get(e.to)!;
    const s = blockSize(e.lines, EDGE_FONT, EDGE_LINE);
    const lo = Math.min(a, b, (a + b) / 2 - s.w / 2) - 6;
    const hi = Math.max(a, b, (a + b) / 2 + s.w / 2) + 6;
    let r = rows.findIndex((row) => row.every(([x0, x1]) => hi < x0 || lo > x1));
    if (r < 0) r = rows.push([]) - 1;
    rows[r]!.push([lo, hi]);
    rowOf.set(e, r);
  }
  const rowHeight = Math.max(0, ...bottomEdges.map((e) => blockSize(e.lines, EDGE_FONT, EDGE_LINE).h)) + 22;
  const offsets = new Map<string, number>();
  for (const e of bottomEdges) {
    const r = rowOf.get(e)!;
    const trackY = guestBottom + 16 + r * rowHeight;
    const off = (id: string): number => {
      const i = offsets.get(id) ?? 0;
      offsets.set(id, i + 1);
      const b = boxes.get(id)!;
      return b.x + b.w / 2 + ((i % 5) - 2) * Math.min(10, b.w / 6);
    };
    const ax = off(e.from);
    const bx = off(e.to);
    const fromBox = boxes.get(e.from)!;
    const toBox = boxes.get(e.to)!;
    const points: Array<[number, number]> = [
      [ax, fromBox.y + fromBox.h],
      [ax, trackY],
      [bx, trackY],
      [bx, toBox.y + toBox.h],
    ];
    const s = blockSize(e.lines, EDGE_FONT, EDGE_LINE);
    placed.push({ edge: e, style: edgeStyle(e), points, label: block(e.lines, (ax + bx) / 2 - s.w / 2, trackY + 5) });
  }

  // Wires: parent's bottom to child's top; the port name near the child.
  const wires: PlacedWire[] = d.wires
    .filter((w) => boxes.has(w.from) && boxes.has(w.to))
    .map((w) => {
      const a = boxes.get(w.from)!;
      const b = boxes.get(w.to)!;
      const p0: [number, number] = [a.x + a.w / 2, a.y + a.h];
      const p1: [number, number] = [b.x + b.w / 2, b.y];
      const at: [number, number] = [p0[0] + (p1[0] - p0[0]) * 0.72, p0[1] + (p1[1] - p0[1]) * 0.72];
      return { wire: w, points: [p0, p1], label: w.label ? block([w.label], at[0] + 4, at[1] - EDGE_LINE / 2) : null };
    });

  // Everything into view, with the margin.
  const extents = [
    ...all,
    ...placed.map((p) => p.label.box),
    ...placed.flatMap((p) => p.points.map(([x, yy]) => ({ x, y: yy, w: 0, h: 0 }))),
    ...wires.flatMap((w) => (w.label ? [w.label.box] : [])),
  ];
  const x0 = minOf(extents.map((b) => b.x)) - MARGIN;
  const x1 = maxOf(extents.map((b) => b.x + b.w)) + MARGIN;
  const y1 = maxOf(extents.map((b) => b.y + b.h)) + MARGIN;
  const shift = (b: Box): Box => ({ ...b, x: b.x - x0 });
  const shiftBlock = (t: TextBlock): TextBlock => ({ ...t, x: t.x - x0, box: shift(t.box) });
  const width = Math.max(x1 - x0, textWidth(d.title, 14) + 2 * MARGIN);
  return {
    width,
    height: y1,
    title: { x: width / 2, y: MARGIN + 12, text: d.title },
    hostBox: hostBox ? shift(hostBox) : null,
    nodes: d.nodes.map((n) => ({ node: n, box: shift(boxes.get(n.id)!) })),
    wires: wires.map((w) => ({
      ...w,
      points: w.points.map(([x, yy]) => [x - x0, yy] as const),
      label: w.label ? shiftBlock(w.label) : null,
    })),
    edges: placed.map((p) => ({
      ...p,
      points: p.points.map(([x, yy]) => [x - x0, yy] as const),
      label: shiftBlock(p.label),
    })),
  };
}

function enclose(boxes: readonly Box[], pad: number, top: number): Box {
  const x = minOf(boxes.map((b) => b.x)) - pad;
  const y = minOf(boxes.map((b) => b.y)) - top;
  const r = maxOf(boxes.map((b) => b.x + b.w)) + pad;
  const bottom = maxOf(boxes.map((b) => b.y + b.h)) + pad;
  return { x, y, w: r - x, h: bottom - y };
}
