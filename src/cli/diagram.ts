// virtables diagram DUMP [topology options] [--format dot|mermaid|svg|json] [--layout auto|graphviz|bundled]

import { basename } from 'node:path';
import type { Diagram } from '../diagram/graph.js';
import { UsageError } from '../model/errors.js';
import { DEFAULT_SERVICES, parseServices } from '../sim/matrix.js';
import { oneOf, parseCommandArgs } from './args.js';
import { iptablesDumpOf, readHost } from './inputs.js';
import { dumpTopology } from './dump-topology.js';
import type { Io } from './io.js';
import { TOPOLOGY_HELP, TOPOLOGY_OPTIONS, topologySpec, type TopologyValues } from './topology-options.js';

export const help = `Usage: virtables diagram DUMP... [--net NET.xml]... [--topology FILE] [--uplink …] [--guest …]...
                         [--format dot|mermaid|svg|json] [--layout auto|graphviz|bundled]
                         [--services icmp,tcp/22,tcp/80,udp/53]

Draws the host the way the seed lab's connectivity figures do — the outside world, the
uplink, the host with its bridges (subnet and mode), the guests on their ports — from the
data, and labels an arrow between every two of host, guests and outside with what the
dump's rules let through (the services whose connection works, as trace --matrix finds
them, or '—'). Arrows whose addresses NAT rewrites say so, with the addresses; port
forwards (DNAT from outside to a guest) get an arrow of their own.

  DUMP...               the host's firewall: iptables-save, ip6tables-save, nft list ruleset
                        (text or -j JSON), together or a directory of them; '-' reads
                        standard input
  --format dot          Graphviz DOT (default)
  --format mermaid      a Mermaid flowchart, for Markdown
  --format svg          a picture: laid out by Graphviz's dot when installed, else by
                        virtables' own layered layout (stderr says which)
  --format json         {title, family, nodes, wires, edges}
  --layout L            for svg: auto (default), graphviz (fail without dot), bundled
  --services LIST       the services to try (default icmp,tcp/22,tcp/80,udp/53)

${TOPOLOGY_HELP}

  -h, --help            this text

Exit status: 0 drawn, 2 bad input or usage.
`;

interface Values extends TopologyValues {
  help?: boolean;
  format?: string;
  layout?: string;
  services?: string;
}

export type Layout = 'auto' | 'graphviz' | 'bundled';

export interface RenderedSvg {
  readonly svg: string;
  /** Which layout drew it, for the note on stderr. */
  readonly note: string;
}

/** The diagram as SVG: Graphviz when asked or available, the bundled layout otherwise. */
export async function renderSvg(d: Diagram, layout: Layout, command: string): Promise<RenderedSvg> {
  if (layout !== 'bundled') {
    const { toDot } = await import('../diagram/dot.js');
    const { graphvizSvg, GraphvizError } = await import('../diagram/graphviz.js');
    let g;
    try {
      g = graphvizSvg(toDot(d));
    } catch (e) {
      if (e instanceof GraphvizError) throw new UsageError(`${command}: ${e.message}`);
      throw e;
    }
    if (g) return { svg: g.svg, note: `laid out by Graphviz (${g.version.replace(/^dot - /, '')})` };
    if (layout === 'graphviz') throw new UsageError(`${command}: --layout graphviz: Graphviz's 'dot' is not installed (apt-get install graphviz)`);
  }
  const { bundledSvg } = await import('../diagram/svg.js');
  return {
    svg: bundledSvg(d),
    note: layout === 'bundled' ? "laid out by virtables' bundled layout (--layout bundled)" : "laid out by virtables' bundled layout (Graphviz's 'dot' is not installed: apt-get install graphviz for its layout)",
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('diagram', argv, {
    format: { type: 'string', short: 'f' },
    layout: { type: 'string' },
    services: { type: 'string' },
    ...TOPOLOGY_OPTIONS,
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const format = oneOf('diagram', '--format', values.format, ['dot', 'mermaid', 'svg', 'json'] as const, 'dot');
  const layout = oneOf<Layout>('diagram', '--layout', values.layout, ['auto', 'graphviz', 'bundled'], 'auto');
  if (values.layout !== undefined && format !== 'svg') throw new UsageError('diagram: --layout is for --format svg');
  if (positionals.length === 0) throw new UsageError('diagram: give the host\'s dump(s) (or - for standard input)');
  const services = values.services ? parseServices(values.services) : DEFAULT_SERVICES;
  const file = positionals[0]!;
  const host = readHost('diagram', positionals, io);
  // IPv4 unless only ip6tables-save was given; an nft listing is drawn with the dump of its family.
  const dump = host.ipv4 ?? host.ipv6 ?? (host.nft ? { file: host.nft.file, family: 'ipv4' as const, tables: [], comments: [] } : iptablesDumpOf('diagram', host));
  // The uplink, bridges and port-forward targets the dump shows, as trace completes them.
  const { spec } = dumpTopology(topologySpec('diagram', values, io), dump, values.uplink !== undefined);
  const { diagramOf } = await import('../diagram/build.js');
  const family = dump.family === 'ipv6' ? 'IPv6' : 'IPv4';
  const d = diagramOf(dump, spec, { title: `${file === '-' ? 'standard input' : basename(file)} (${family}): what the rules let through`, services, nft: host.nft });
  if (format === 'dot') io.stdout((await import('../diagram/dot.js')).toDot(d));
  else if (format === 'mermaid') io.stdout((await import('../diagram/mermaid.js')).toMermaid(d));
  else if (format === 'json') io.stdout(JSON.stringify(d, null, 2) + '\n');
  else {
    const r = await renderSvg(d, layout, 'diagram');
    if (!io.quiet) io.stderr(`virtables diagram: ${r.note}\n`);
    io.stdout(r.svg);
  }
  return 0;
}
