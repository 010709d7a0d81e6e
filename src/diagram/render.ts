// A diagram as SVG: laid out by Graphviz's dot when it is installed (or asked for), else by
// virtables' own layered layout; the note says which, for stderr.

import { UsageError } from '../model/errors.js';
import type { Diagram } from './graph.js';

export type Layout = 'auto' | 'graphviz' | 'bundled';

export interface RenderedSvg {
  readonly svg: string;
  /** Which layout drew it, for the note on stderr. */
  readonly note: string;
}

/** The diagram as SVG: Graphviz when asked or available, the bundled layout otherwise. */
export async function renderSvg(d: Diagram, layout: Layout, command: string): Promise<RenderedSvg> {
  if (layout !== 'bundled') {
    const { toDot } = await import('./dot.js');
    const { graphvizSvg, GraphvizError } = await import('./graphviz.js');
    let g;
    try {
      g = graphvizSvg(toDot(d));
    } catch (e) {
      if (e instanceof GraphvizError) throw new UsageError(`${command}: ${e.message}`);
      throw e;
    }
    if (g) return { svg: g.svg, note: `laid out by Graphviz (${g.version.replace(/^dot - /, '')})` };
    if (layout === 'graphviz')
      throw new UsageError(
        `${command}: --layout graphviz: Graphviz's 'dot' is not installed (apt-get install graphviz)`,
      );
  }
  const { bundledSvg } = await import('./svg.js');
  return {
    svg: bundledSvg(d),
    note:
      layout === 'bundled'
        ? "laid out by virtables' bundled layout (--layout bundled)"
        : "laid out by virtables' bundled layout (Graphviz's 'dot' is not installed: apt-get install graphviz for its layout)",
  };
}
