// Reading a diagram back from SVG, as Graphviz writes it and as virtables' bundled layout
// does: <g class="node …"> with a <title> of the node id, <g class="edge …"> with a <title>
// `tail->head`, and the label as one <text> per line. Parsed as XML (the project's reader,
// after the DOCTYPE Graphviz writes, which that reader refuses by design).

import { parseXml, type XmlElement } from '../../grammar/network-xml.js';

export interface SvgShape {
  readonly id: string;
  readonly classes: string[];
  readonly texts: string[];
  /** The shape's box in SVG user units, where the element gives one (rect, ellipse, polygon, path). */
  readonly element: XmlElement;
}

export interface SvgEdge {
  readonly from: string;
  readonly to: string;
  readonly classes: string[];
  readonly texts: string[];
  readonly element: XmlElement;
}

export interface SvgDiagram {
  readonly root: XmlElement;
  readonly nodes: Map<string, SvgShape>;
  readonly edges: SvgEdge[];
  readonly clusters: SvgShape[];
}

function attr(e: XmlElement, name: string): string | undefined {
  return e.attributes.find((a) => a.name === name)?.value;
}

function textOf(e: XmlElement): string {
  return e.children.map((c) => (c.kind === 'text' ? c.text : c.kind === 'element' ? textOf(c) : '')).join('');
}

export function descendants(e: XmlElement): XmlElement[] {
  return e.children.flatMap((c) => (c.kind === 'element' ? [c, ...descendants(c)] : []));
}

export function readSvg(svg: string): SvgDiagram {
  const doc = parseXml(svg.replace(/<!DOCTYPE[^>]*>/, ''), 'diagram.svg');
  const root = doc.roots[0]!;
  if (root.name !== 'svg') throw new Error(`root is <${root.name}>, not <svg>`);
  const nodes = new Map<string, SvgShape>();
  const edges: SvgEdge[] = [];
  const clusters: SvgShape[] = [];
  for (const g of descendants(root).filter((e) => e.name === 'g')) {
    const classes = (attr(g, 'class') ?? '').split(/\s+/).filter(Boolean);
    const title = g.children.find((c): c is XmlElement => c.kind === 'element' && c.name === 'title');
    if (!title) continue;
    const id = textOf(title);
    const texts = g.children.filter((c): c is XmlElement => c.kind === 'element' && c.name === 'text').map(textOf);
    if (classes.includes('node')) nodes.set(id, { id, classes, texts, element: g });
    else if (classes.includes('cluster')) clusters.push({ id, classes, texts, element: g });
    else if (classes.includes('edge')) {
      const arrow = id.indexOf('->');
      edges.push({ from: id.slice(0, arrow), to: id.slice(arrow + 2), classes, texts, element: g });
    }
  }
  return { root, nodes, edges, clusters };
}
