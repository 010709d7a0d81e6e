// The diagram as a Mermaid flowchart (for Markdown that renders Mermaid: GitHub, GitLab).
// Node ids are n0, n1, …; every label is quoted with Mermaid's entity codes for " < > & #.

import type { Diagram, DiagramNode } from './graph.js';
import { edgeStyle } from './dot.js';
import { NODE_FILL } from './dot.js';
import { pushAll } from '../model/lists.js';

/** Mermaid text: quotes and markup characters as `#quot;`-style codes, lines joined by `<br/>`. */
export function mermaidText(lines: readonly string[]): string {
  const esc = (s: string): string =>
    s
      .replace(/#/g, '#35;')
      .replace(/&/g, '#amp;')
      .replace(/"/g, '#quot;')
      .replace(/</g, '#lt;')
      .replace(/>/g, '#gt;')
      .replace(/\|/g, '#124;');
  return `"${lines.map(esc).join('<br/>')}"`;
}

function shape(n: DiagramNode, id: string): string {
  const text = mermaidText(n.lines);
  return n.kind === 'outside' ? `${id}([${text}])` : n.kind === 'host' ? `${id}[[${text}]]` : `${id}[${text}]`;
}

export function toMermaid(d: Diagram): string {
  const ids = new Map(d.nodes.map((n, i) => [n.id, `n${i}`]));
  const out: string[] = ['---', `title: ${JSON.stringify(d.title)}`, '---', 'flowchart TB'];
  for (const n of d.nodes.filter((x) => x.kind === 'outside')) out.push(`  ${shape(n, ids.get(n.id)!)}`);
  out.push(`  subgraph hostbox[${mermaidText(['host'])}]`);
  for (const n of d.nodes.filter((x) => x.inHost)) out.push(`    ${shape(n, ids.get(n.id)!)}`);
  out.push('  end');
  for (const n of d.nodes.filter((x) => !x.inHost && x.kind !== 'outside')) out.push(`  ${shape(n, ids.get(n.id)!)}`);
  const links: string[] = [];
  const styles: string[] = [];
  for (const w of d.wires) {
    const arrow = w.addressless ? '-.-' : '---';
    links.push(`  ${ids.get(w.from)} ${arrow}${w.label ? `|${mermaidText([w.label])}|` : ''} ${ids.get(w.to)}`);
    styles.push(`stroke:#455a64,stroke-width:2px${w.addressless ? ',stroke-dasharray:4 3' : ''}`);
  }
  for (const e of d.edges) {
    const s = edgeStyle(e);
    // Mermaid has no arrowhead at the tail alone: a one-way-back edge is written the other way round.
    const [from, to] = s.dir === 'back' ? [e.to, e.from] : [e.from, e.to];
    const kind = s.dashed
      ? (['-.-', '-.->', '<-.->'] as const)
      : s.cls === 'forward' || s.cls === 'nat'
        ? (['===', '==>', '<==>'] as const)
        : (['---', '-->', '<-->'] as const);
    const arrow = s.dir === 'none' ? kind[0] : s.dir === 'both' ? kind[2] : kind[1];
    links.push(`  ${ids.get(from)} ${arrow}|${mermaidText(e.lines)}| ${ids.get(to)}`);
    styles.push(`stroke:${s.color}${s.dashed ? ',stroke-dasharray:3 3' : ''}`);
  }
  pushAll(out, links);
  styles.forEach((s, i) => out.push(`  linkStyle ${i} ${s}`));
  for (const n of d.nodes) out.push(`  style ${ids.get(n.id)} fill:${NODE_FILL[n.kind]}`);
  return out.join('\n') + '\n';
}
