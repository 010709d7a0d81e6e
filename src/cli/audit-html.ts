// What `audit --format html` adds to the audit: per host, every rule explained and the
// diagram (the host's networks as the audit saw them, traced through its IPv4 dump, or its
// IPv6 one when that is all there is), then the page.

import { auditHtml, type HtmlDiagram, type HtmlHost } from '../audit/html.js';
import type { AuditReport } from '../audit/run.js';
import { auditTopology, diagramOf } from '../diagram/build.js';
import { inferNetworks, networksFromDefinitions } from '../explain/attribute.js';
import { explainReport } from '../explain/report.js';
import type { Dump } from '../model/dump.js';
import type { AnyNetwork } from '../model/network.js';
import { renderSvg } from '../diagram/render.js';
import type { Io } from './io.js';

async function hostDiagram(
  dumps: readonly Dump[],
  running: readonly AnyNetwork[],
  inactive: ReadonlySet<string>,
  io: Io,
): Promise<HtmlDiagram> {
  const dump = dumps.find((d) => d.family !== 'ipv6') ?? dumps[0];
  if (!dump) return { svg: null, note: 'No diagram: no dump was given, so there is nothing to trace.' };
  const networks = inferNetworks(dumps, networksFromDefinitions(running)).filter((n) => !inactive.has(n.name));
  const d = diagramOf(dump, auditTopology(networks, dumps), {
    title: `${dump.file === '-' ? 'standard input' : dump.file} (${dump.family === 'ipv6' ? 'IPv6' : 'IPv4'}): what the rules let through`,
  });
  const r = await renderSvg(d, 'auto', 'audit');
  if (!io.quiet) io.stderr(`virtables audit: diagram ${r.note}\n`);
  return {
    svg: r.svg,
    note: `Diagram ${r.note}; the uplink, the outside world and guests without a definition are assumed (virtables diagram draws the real ones with --uplink, --guest, --topology)`,
  };
}

export async function auditHtmlPage(
  hosts: ReadonlyArray<{ readonly dumps: readonly Dump[] }>,
  reports: readonly AuditReport[],
  running: readonly AnyNetwork[],
  inactive: readonly AnyNetwork[],
  version: string,
  io: Io,
): Promise<string> {
  const stopped = new Set(inactive.map((n) => n.name));
  const pages: HtmlHost[] = [];
  for (const [i, host] of hosts.entries()) {
    const explained =
      host.dumps.length > 0
        ? explainReport(host.dumps, inferNetworks(host.dumps, networksFromDefinitions([...running, ...inactive])))
        : null;
    pages.push({ report: reports[i]!, explained, diagram: await hostDiagram(host.dumps, running, stopped, io) });
  }
  return auditHtml(pages, version);
}
