// virtables diagram DUMP [topology options] [--format dot|mermaid|svg|json] [--layout auto|graphviz|bundled]

import { basename } from 'node:path';
import { renderSvg } from '../diagram/render.js';
import { UsageError } from '../model/errors.js';
import { DEFAULT_SERVICES, parseServices } from '../sim/matrix.js';
import type { Args } from './spec.js';
import { iptablesDumpOf, readHost } from './inputs.js';
import { dumpTopology } from './dump-topology.js';
import type { Io } from './io.js';
import { evalEnvOf, topologySpec, withMacs } from './topology-options.js';

export async function run({ values, positionals }: Args<'diagram'>, io: Io): Promise<number> {
  const format = values.format ?? 'dot';
  const layout = values.layout ?? 'auto';
  if (values.layout !== undefined && format !== 'svg') throw new UsageError('diagram: --layout is for --format svg');
  if (positionals.length === 0) throw new UsageError("diagram: give the host's dump(s) (or - for standard input)");
  const services = values.services ? parseServices(values.services) : DEFAULT_SERVICES;
  const file = positionals[0]!;
  const host = readHost('diagram', positionals, io);
  // IPv4 unless only ip6tables-save was given; an nft listing is drawn with the dump of its family.
  const dump =
    host.ipv4 ??
    host.ipv6 ??
    (host.nft
      ? { file: host.nft.file, family: 'ipv4' as const, tables: [], comments: [] }
      : iptablesDumpOf('diagram', host));
  // The uplink, bridges and port-forward targets the dump shows, as trace completes them.
  const { spec } = dumpTopology(topologySpec('diagram', values, io), dump, values.uplink !== undefined);
  const { diagramOf } = await import('../diagram/build.js');
  const family = dump.family === 'ipv6' ? 'IPv6' : 'IPv4';
  const title = `${file === '-' ? 'standard input' : basename(file)} (${family}): what the rules let through`;
  const d = diagramOf(dump, spec, {
    title,
    services,
    env: evalEnvOf('diagram', values, io),
    finish: (t) => withMacs('diagram', t, values),
    nft: host.nft,
  });
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
