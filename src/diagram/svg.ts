// The bundled layout drawn as SVG, structured as Graphviz draws it (a <g class="node"> or
// <g class="edge …"> per element, its <title> the node id or `tail->head`), so readers of one
// read the other. Self-contained: no fonts, scripts or images from anywhere.

import { NODE_FILL } from './dot.js';
import type { Diagram } from './graph.js';
import { EDGE_FONT, layout, NODE_FONT, type Box, type TextBlock } from './layout.js';
import { xmlEscape } from '../model/text.js';

const FONT = 'font-family="\'DejaVu Sans Mono\', Menlo, Consolas, monospace"';

const n = (v: number): string => (Math.round(v * 10) / 10).toString();

function rect(b: Box, attrs: string): string {
  return `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" ${attrs}/>`;
}

function textBlock(t: TextBlock, size: number, fill: string, background: boolean): string[] {
  const out = background ? [rect(t.box, 'fill="white" fill-opacity="0.9" stroke="none"')] : [];
  t.lines.forEach((line, i) =>
    out.push(
      `<text x="${n(t.x)}" y="${n(t.y + i * (size + 2.5))}" ${FONT} font-size="${size}" fill="${fill}" xml:space="preserve">${xmlEscape(line)}</text>`,
    ),
  );
  return out;
}

/** A polyline with its corners rounded (radius r), as a path. */
function rounded(points: ReadonlyArray<readonly [number, number]>, r = 10): string {
  if (points.length < 3) return `M${points.map(([x, y]) => `${n(x)},${n(y)}`).join(' L')}`;
  let d = `M${n(points[0]![0])},${n(points[0]![1])}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [px, py] = points[i - 1]!;
    const [x, y] = points[i]!;
    const [nx, ny] = points[i + 1]!;
    const inLen = Math.hypot(x - px, y - py);
    const outLen = Math.hypot(nx - x, ny - y);
    const k = Math.min(r, inLen / 2, outLen / 2);
    const ax = x - ((x - px) / (inLen || 1)) * k;
    const ay = y - ((y - py) / (inLen || 1)) * k;
    const bx = x + ((nx - x) / (outLen || 1)) * k;
    const by = y + ((ny - y) / (outLen || 1)) * k;
    d += ` L${n(ax)},${n(ay)} Q${n(x)},${n(y)} ${n(bx)},${n(by)}`;
  }
  const [lx, ly] = points.at(-1)!;
  return `${d} L${n(lx)},${n(ly)}`;
}

export function bundledSvg(d: Diagram): string {
  const l = layout(d);
  const colors = [...new Set(l.edges.map((e) => e.style.color))];
  const marker = (c: string): string => `vt-arrow-${c.slice(1)}`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(l.width)}pt" height="${n(l.height)}pt" viewBox="0 0 ${n(l.width)} ${n(l.height)}">`,
    `<title>${xmlEscape(d.title)}</title>`,
    '<defs>',
    ...colors.map(
      (c) =>
        `<marker id="${marker(c)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`,
    ),
    '</defs>',
    '<g id="graph0" class="graph">',
    rect({ x: 0, y: 0, w: l.width, h: l.height }, 'fill="white" stroke="none"'),
    `<text x="${n(l.title.x)}" y="${n(l.title.y)}" text-anchor="middle" ${FONT} font-size="14">${xmlEscape(l.title.text)}</text>`,
  ];
  if (l.hostBox) {
    out.push(
      '<g id="clust1" class="cluster">',
      '<title>cluster_host</title>',
      rect(l.hostBox, 'rx="10" fill="none" stroke="#78909c" stroke-dasharray="6 4"'),
    );
    out.push(
      `<text x="${n(l.hostBox.x + 12)}" y="${n(l.hostBox.y + 17)}" ${FONT} font-size="13" fill="#455a64">host</text>`,
      '</g>',
    );
  }
  l.wires.forEach((w, i) => {
    out.push(`<g id="wire${i + 1}" class="edge wire">`, `<title>${xmlEscape(`${w.wire.from}->${w.wire.to}`)}</title>`);
    out.push(
      `<path d="${rounded(w.points)}" fill="none" stroke="#455a64" stroke-width="2"${w.wire.addressless ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (w.label) out.push(...textBlock(w.label, EDGE_FONT, '#263238', true));
    out.push('</g>');
  });
  l.nodes.forEach((p, i) => {
    const k = p.node.kind;
    out.push(`<g id="node${i + 1}" class="node ${k}">`, `<title>${xmlEscape(p.node.id)}</title>`);
    const fill = `fill="${NODE_FILL[k]}" stroke="#37474f" stroke-width="1.2"`;
    if (k === 'outside')
      out.push(
        `<ellipse cx="${n(p.box.x + p.box.w / 2)}" cy="${n(p.box.y + p.box.h / 2)}" rx="${n(p.box.w / 2)}" ry="${n(p.box.h / 2)}" ${fill}/>`,
      );
    else out.push(rect(p.box, `rx="${k === 'host' ? 2 : 8}" ${fill}`));
    const lineH = NODE_FONT + 3;
    const top = p.box.y + p.box.h / 2 - (p.node.lines.length * lineH) / 2 + NODE_FONT;
    p.node.lines.forEach((line, j) => {
      out.push(
        `<text x="${n(p.box.x + p.box.w / 2)}" y="${n(top + j * lineH)}" text-anchor="middle" ${FONT} font-size="${NODE_FONT}"${j === 0 ? ' font-weight="bold"' : ''} fill="#212121">${xmlEscape(line)}</text>`,
      );
    });
    out.push('</g>');
  });
  l.edges.forEach((e, i) => {
    const s = e.style;
    const cls = e.edge.kind === 'forward' ? 'forward' : `reach ${s.cls}`;
    const start = s.dir === 'back' || s.dir === 'both' ? ` marker-start="url(#${marker(s.color)})"` : '';
    const end = s.dir === 'forward' || s.dir === 'both' ? ` marker-end="url(#${marker(s.color)})"` : '';
    out.push(
      `<g id="edge${i + 1}" class="edge ${cls}">`,
      `<title>${xmlEscape(`${e.edge.from}->${e.edge.to}`)}</title>`,
    );
    out.push(
      `<path d="${rounded(e.points)}" fill="none" stroke="${s.color}" stroke-width="${s.width}"${s.dashed ? ' stroke-dasharray="5 4"' : ''}${start}${end}/>`,
    );
    out.push(...textBlock(e.label, EDGE_FONT, s.color === '#9e9e9e' ? '#757575' : s.color, true), '</g>');
  });
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}
