// A small reader for the DOT language, enough for what tests need to check in a diagram:
// graphs and subgraphs, node, edge (chained `a -> b -> c`) and attribute statements, `k=v`
// statements, quoted strings with their escapes, HTML-free. Labels come back as lines
// (graphviz's `\n`, `\l` and `\r` end a line).

export interface DotNode {
  readonly id: string;
  readonly attrs: Record<string, string>;
  /** The innermost `cluster_*` subgraph the node was declared in, if any. */
  readonly cluster: string | null;
}

export interface DotEdge {
  readonly from: string;
  readonly to: string;
  readonly attrs: Record<string, string>;
}

export interface DotGraph {
  readonly directed: boolean;
  readonly attrs: Record<string, string>;
  readonly nodes: Map<string, DotNode>;
  readonly edges: DotEdge[];
  /** Groups of node ids declared `rank=same` together. */
  readonly sameRank: string[][];
}

type Token = { kind: 'id'; value: string; quoted: boolean } | { kind: 'punct'; value: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (text.startsWith('//', i) || (c === '#' && (i === 0 || text[i - 1] === '\n')))
      i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i) + 2;
    else if (text.startsWith('->', i) || text.startsWith('--', i)) {
      out.push({ kind: 'punct', value: text.slice(i, i + 2) });
      i += 2;
    } else if ('{}[];,=:'.includes(c)) {
      out.push({ kind: 'punct', value: c });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      while (text[i] !== '"') {
        if (i >= text.length) throw new Error('unterminated string');
        if (text[i] === '\\' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (text[i] === '\\' && text[i + 1] === '\n') i += 2;
        else value += text[i++];
      }
      i++;
      out.push({ kind: 'id', value, quoted: true });
    } else {
      const m = /^[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*|^-?(?:\.\d+|\d+(?:\.\d*)?)/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected '${c}' at ${i}`);
      out.push({ kind: 'id', value: m[0], quoted: false });
      i += m[0].length;
    }
  }
  return out;
}

/** A label's lines: graphviz's escapes `\n`, `\l`, `\r` end lines, `\\` is a backslash. */
export function labelLines(label: string): string[] {
  const lines: string[] = [];
  let cur = '';
  for (let i = 0; i < label.length; i++) {
    if (label[i] === '\\' && i + 1 < label.length) {
      const n = label[++i]!;
      if (n === 'n' || n === 'l' || n === 'r') {
        lines.push(cur);
        cur = '';
      } else cur += n;
    } else cur += label[i];
  }
  if (cur !== '' || lines.length === 0) lines.push(cur);
  return lines;
}

export function readDot(text: string): DotGraph {
  const t = tokenize(text);
  let p = 0;
  const peek = (): Token | undefined => t[p];
  const isP = (v: string): boolean => t[p]?.kind === 'punct' && t[p]!.value === v;
  const expectP = (v: string): void => {
    if (!isP(v)) throw new Error(`expected '${v}' at token ${p}, got ${JSON.stringify(t[p])}`);
    p++;
  };
  const id = (): string => {
    const tok = t[p++];
    if (tok?.kind !== 'id') throw new Error(`expected an id at token ${p - 1}, got ${JSON.stringify(tok)}`);
    return tok.value;
  };
  const nodes = new Map<string, DotNode>();
  const edges: DotEdge[] = [];
  const sameRank: string[][] = [];
  const graphAttrs: Record<string, string> = {};

  const attrList = (): Record<string, string> => {
    const a: Record<string, string> = {};
    while (isP('[')) {
      p++;
      while (!isP(']')) {
        const k = id();
        expectP('=');
        a[k] = id();
        if (isP(',') || isP(';')) p++;
      }
      p++;
    }
    return a;
  };
  const touch = (nid: string, cluster: string | null, attrs: Record<string, string> = {}): void => {
    const old = nodes.get(nid);
    nodes.set(nid, { id: nid, attrs: { ...(old?.attrs ?? {}), ...attrs }, cluster: old?.cluster ?? cluster });
  };

  /** Statements up to the closing brace; returns the node ids they mention. */
  const stmts = (
    cluster: string | null,
    defaults: { node: Record<string, string>; edge: Record<string, string> },
    attrs: Record<string, string>,
  ): string[] => {
    const mentioned: string[] = [];
    const nodeDefaults = { ...defaults.node };
    const edgeDefaults = { ...defaults.edge };
    while (!isP('}')) {
      if (p >= t.length) throw new Error('unclosed graph');
      if (isP(';')) {
        p++;
        continue;
      }
      const tok = peek()!;
      if (
        tok.kind === 'id' &&
        !tok.quoted &&
        ['graph', 'node', 'edge'].includes(tok.value) &&
        t[p + 1]?.kind === 'punct' &&
        t[p + 1]!.value === '['
      ) {
        p++;
        const a = attrList();
        if (tok.value === 'node') Object.assign(nodeDefaults, a);
        else if (tok.value === 'edge') Object.assign(edgeDefaults, a);
        else Object.assign(attrs, a);
        continue;
      }
      // A chain of endpoints (ids or subgraphs) joined by edge operators.
      const ends: string[][] = [];
      for (;;) {
        if (
          isP('{') ||
          (peek()?.kind === 'id' && !(peek() as { quoted: boolean }).quoted && peek()!.value === 'subgraph')
        ) {
          let name: string | null = null;
          if (!isP('{')) {
            p++;
            if (!isP('{')) name = id();
          }
          expectP('{');
          const subAttrs: Record<string, string> = {};
          const inner = stmts(
            name?.startsWith('cluster') ? name : cluster,
            { node: nodeDefaults, edge: edgeDefaults },
            subAttrs,
          );
          expectP('}');
          if (subAttrs.rank === 'same') sameRank.push(inner);
          ends.push(inner);
          mentioned.push(...inner);
        } else {
          const first = id();
          if (isP('=')) {
            p++;
            attrs[first] = id();
            break;
          }
          if (isP(':')) {
            p++;
            id(); // port
            if (isP(':')) {
              p++;
              id();
            }
          }
          ends.push([first]);
          mentioned.push(first);
        }
        if (isP('->') || isP('--')) {
          p++;
          continue;
        }
        break;
      }
      if (ends.length === 0) continue;
      const a = attrList();
      if (ends.length === 1) {
        for (const n of ends[0]!) touch(n, cluster, ends[0]!.length === 1 ? { ...nodeDefaults, ...a } : {});
      } else {
        for (const group of ends) for (const n of group) touch(n, cluster, nodes.has(n) ? {} : nodeDefaults);
        for (let i = 0; i + 1 < ends.length; i++)
          for (const from of ends[i]!)
            for (const to of ends[i + 1]!) edges.push({ from, to, attrs: { ...edgeDefaults, ...a } });
      }
    }
    return mentioned;
  };

  if (peek()?.kind === 'id' && peek()!.value === 'strict') p++;
  const kind = id();
  if (kind !== 'digraph' && kind !== 'graph') throw new Error(`not a graph: ${kind}`);
  if (!isP('{')) id();
  expectP('{');
  stmts(null, { node: {}, edge: {} }, graphAttrs);
  expectP('}');
  return { directed: kind === 'digraph', attrs: graphAttrs, nodes, edges, sameRank };
}
