// The diagram in Graphviz's DOT language, left to right (outside, uplink, host, bridges,
// guests: labels of long arrows then stack rather than widen the picture): the host a cluster,
// wires as undirected edges, reachability and port forwards as labelled arrows.

import type { Diagram, DiagramEdge, DiagramNode, NodeKind, Wire } from './graph.js';

/** A DOT string literal; backslashes doubled so graphviz's `\N`, `\G`, `\l` escapes never fire on input text. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

export const NODE_FILL: Readonly<Record<NodeKind, string>> = {
  outside: '#e3f2fd',
  uplink: '#fff3e0',
  host: '#eceff1',
  bridge: '#e8f5e9',
  link: '#f3e5f5',
  guest: '#fffde7',
};

export interface EdgeStyle {
  /** allowed, nat, blocked (nothing either way) or forward. */
  readonly cls: 'allowed' | 'nat' | 'blocked' | 'forward';
  readonly color: string;
  readonly dashed: boolean;
  readonly width: number;
  /** Arrowheads where a connection can go: at the head (`forward`), the tail (`back`), both or none. */
  readonly dir: 'forward' | 'back' | 'both' | 'none';
}

/** How an edge is drawn, by what it says. */
export function edgeStyle(e: DiagramEdge): EdgeStyle {
  const down = e.flows[0]!.services.length > 0;
  const up = (e.flows[1]?.services.length ?? 0) > 0;
  const dir = down && up ? 'both' : down ? 'forward' : up ? 'back' : 'none';
  if (e.kind === 'forward') return { cls: 'forward', color: '#6a1b9a', dashed: !down, width: 2, dir: 'forward' };
  if (!down && !up) return { cls: 'blocked', color: '#9e9e9e', dashed: true, width: 1, dir };
  if (e.flows.some((f) => f.nat.length > 0)) return { cls: 'nat', color: '#e65100', dashed: false, width: 1.5, dir };
  return { cls: 'allowed', color: '#2e7d32', dashed: false, width: 1.2, dir };
}

/** Lines each left-justified (`\\l` ends a line in graphviz), for the lists edge labels are. */
export function leftJustified(lines: readonly string[]): string {
  return `"${lines.map((l) => dotString(l).slice(1, -1) + '\\l').join('')}"`;
}

type Value = string | number | { readonly raw: string };

function attrs(list: Array<[string, Value]>): string {
  const text = (k: string, v: Value): string =>
    typeof v === 'number'
      ? String(v)
      : typeof v === 'object'
        ? v.raw
        : /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && k !== 'label'
          ? v
          : dotString(v);
  return `[${list.map(([k, v]) => `${k}=${text(k, v)}`).join(', ')}]`;
}

function nodeLine(n: DiagramNode): string {
  const shape = n.kind === 'outside' ? 'ellipse' : n.kind === 'host' ? 'box3d' : 'box';
  return `${dotString(n.id)} ${attrs([
    ['label', n.lines.join('\n')],
    ['class', n.kind],
    ['shape', shape],
    ['style', n.kind === 'outside' || n.kind === 'host' ? 'filled' : 'rounded,filled'],
    ['fillcolor', NODE_FILL[n.kind]],
  ])};`;
}

function wireLine(w: Wire): string {
  const list: Array<[string, Value]> = [
    ['class', 'wire'],
    ['dir', 'none'],
    ['penwidth', 2],
    ['color', '#455a64'],
  ];
  if (w.label) list.unshift(['label', w.label]);
  if (w.addressless) list.push(['style', 'dashed'], ['tooltip', 'the host has no address on this bridge']);
  return `${dotString(w.from)} -> ${dotString(w.to)} ${attrs(list)};`;
}

function edgeLine(e: DiagramEdge, sameLevel: boolean): string {
  const s = edgeStyle(e);
  const list: Array<[string, Value]> = [
    ['label', { raw: leftJustified(e.lines) }],
    ['class', e.kind === 'forward' ? 'forward' : `reach ${s.cls}`],
    ['dir', s.dir],
    ['color', s.color],
    ['fontcolor', s.color],
    ['penwidth', s.width],
  ];
  if (s.dashed) list.push(['style', 'dashed']);
  // Between two guests: no say in the layers (they share the last one); an xlabel, which
  // graphviz places clear of the rest, where a label of an edge within one rank would overflow.
  if (sameLevel) list.push(['constraint', 'false'], ['xlabel', list.shift()![1]]);
  return `${dotString(e.from)} -> ${dotString(e.to)} ${attrs(list)};`;
}

export function toDot(d: Diagram): string {
  const out: string[] = [
    'digraph virtables {',
    `  graph ${attrs([
      ['label', d.title],
      ['labelloc', 't'],
      ['fontname', 'Helvetica'],
      ['fontsize', 14],
      ['rankdir', 'LR'],
      ['nodesep', 0.35],
      ['ranksep', 0.9],
      ['newrank', 'true'],
      ['forcelabels', 'true'],
      ['pad', 0.25],
    ])};`,
    `  node ${attrs([
      ['fontname', 'Helvetica'],
      ['fontsize', 11],
      ['margin', '0.15,0.06'],
    ])};`,
    `  edge ${attrs([
      ['fontname', 'Helvetica'],
      ['fontsize', 9],
      ['arrowsize', 0.7],
    ])};`,
  ];
  const outsideHost = d.nodes.filter((n) => !n.inHost);
  const inHost = d.nodes.filter((n) => n.inHost);
  for (const n of outsideHost.filter((x) => x.kind === 'outside')) out.push(`  ${nodeLine(n)}`);
  out.push(
    '  subgraph cluster_host {',
    '    label="host"; style="rounded,dashed"; color="#78909c"; fontname="Helvetica";',
  );
  for (const n of inHost) out.push(`    ${nodeLine(n)}`);
  out.push('  }');
  const guestNodes = outsideHost.filter((x) => x.kind !== 'outside');
  for (const n of guestNodes) out.push(`  ${nodeLine(n)}`);
  // Guests in one column, bridges in the one before, each in topology order (invisible edges keep it).
  const bridges = inHost.filter((n) => n.kind === 'bridge' || n.kind === 'link');
  for (const row of [guestNodes, bridges]) {
    if (row.length < 2) continue;
    const ids = row.map((n) => dotString(n.id));
    out.push(`  { rank=same; ${ids.join('; ')}; ${ids.join(' -> ')} [style=invis]; }`);
  }
  out.push('  // wiring');
  for (const w of d.wires) out.push(`  ${wireLine(w)}`);
  out.push(`  // what the rules let through (family IPv${d.family}); port forwards`);
  const guests = new Set(d.nodes.filter((n) => n.kind === 'guest').map((n) => n.id));
  for (const e of d.edges) out.push(`  ${edgeLine(e, guests.has(e.from) && guests.has(e.to))}`);
  out.push('}');
  return out.join('\n') + '\n';
}
