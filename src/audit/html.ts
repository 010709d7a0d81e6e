// `virtables audit --format html`: one self-contained page — inline CSS, the diagram as inline
// SVG, no script, nothing fetched — with the findings per network, the diagram, and every
// rule explained. Everything that comes from input is escaped here, once, by `esc`.

import { explainGroups, type ExplainReport } from '../explain/report.js';
import type { AuditReport, NetworkSummary } from './run.js';
import type { Finding } from './types.js';
import { plural, xmlEscape } from '../model/text.js';
import { counts } from './json.js';

export interface HtmlDiagram {
  /** The SVG (Graphviz's or the bundled layout's); null when there is nothing to draw. */
  readonly svg: string | null;
  /** Which layout drew it, or why there is none. */
  readonly note: string;
}

export interface HtmlHost {
  readonly report: AuditReport;
  readonly explained: ExplainReport | null;
  readonly diagram: HtmlDiagram;
}

/** Text for HTML content and attribute values. */
const esc = xmlEscape;

/** A message's `quoted rule text` as code; escaped first, so only the backquotes become markup. */
function prose(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const CSS = `
:root { --error: #c62828; --warning: #e65100; --info: #1565c0; --ok: #2e7d32; --line: #dde3ea; --muted: #5f6b76; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2933; background: #f6f8fa; }
header, main, footer { max-width: 1500px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 32px 0 6px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
h4 { font-size: 15px; margin: 18px 0 6px; }
code, pre, .rule { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.muted { color: var(--muted); }
.files { color: var(--muted); margin: 0; word-break: break-all; }
.summary { display: flex; gap: 10px; flex-wrap: wrap; margin: 14px 0 0; padding: 0; list-style: none; }
.summary li { padding: 6px 14px; border-radius: 6px; background: white; border: 1px solid var(--line); font-weight: 600; }
.summary .error { color: var(--error); } .summary .warning { color: var(--warning); } .summary .info { color: var(--info); } .summary .ok { color: var(--ok); }
nav { margin-top: 10px; } nav a { margin-right: 14px; }
section.host { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 4px 20px 20px; margin: 24px 0; }
table { border-collapse: collapse; width: 100%; background: white; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: #eef2f6; font-size: 13px; text-transform: uppercase; letter-spacing: .03em; color: #3e4c59; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.where { width: 30%; } td.fix { width: 28%; } td.fix code, td code { background: #f1f4f7; border-radius: 3px; padding: 0 3px; overflow-wrap: anywhere; }
.rule { display: block; overflow-wrap: anywhere; background: #f1f4f7; border-radius: 4px; padding: 2px 6px; margin-top: 3px; }
.badge { display: inline-block; min-width: 64px; text-align: center; padding: 1px 8px; border-radius: 10px; color: white; font-size: 12px; font-weight: 700; }
.badge.error { background: var(--error); } .badge.warning { background: var(--warning); } .badge.info { background: var(--info); }
.check { font-weight: 600; }
ul.related { margin: 6px 0 0; padding-left: 18px; color: var(--muted); font-size: 13px; }
.network-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px; }
.state { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #eef2f6; color: #3e4c59; }
.clean { color: var(--ok); margin: 4px 0 0; }
figure { margin: 0; overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: white; padding: 8px; }
figure svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
table.rules td.line { width: 4em; color: var(--muted); } table.rules td.table { width: 5em; } table.rules td.purpose { width: 9em; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 32px; }
@media print { body { background: white; } section.host { border: none; padding: 0; } nav { display: none; } }
`;

function networkHead(n: NetworkSummary): string {
  const where = [n.bridge && n.bridge !== n.name ? n.bridge : null, ...n.subnets.filter((x) => x !== n.name)]
    .filter((x) => x)
    .join(', ');
  return `<div class="network-head"><h4>${esc(n.name)}</h4>${where ? `<span class="muted">${esc(where)}</span>` : ''}<span class="state">${esc(n.state)}${n.mode ? `, ${esc(n.mode === 'none' ? 'isolated (no <forward>)' : n.mode)}` : ''}</span><span class="muted">${esc(n.summary)}</span></div>`;
}

function findingRow(f: Finding): string {
  const at = f.location
    ? `<code>${esc(`${f.location.file}:${f.location.line}`)}</code>${f.location.text ? `<span class="rule">${esc(f.location.text.trim())}</span>` : ''}`
    : '<span class="muted">(no single line)</span>';
  const related =
    f.related.length === 0
      ? ''
      : `<ul class="related">${f.related
          .map((r) => {
            const place = r.file === f.location?.file ? `line ${r.line}` : `${r.file}:${r.line}`;
            const text =
              r.text && r.text.trim() !== f.location?.text?.trim()
                ? `<span class="rule">${esc(r.text.trim())}</span>`
                : '';
            return `<li>${esc(place)}: ${prose(r.message)}${text}</li>`;
          })
          .join('')}</ul>`;
  return `<tr class="finding ${f.severity}"><td><span class="badge ${f.severity}">${f.severity}</span></td><td class="check">${esc(f.id)}</td><td class="where">${at}</td><td>${prose(f.message)}${related}</td><td class="fix">${prose(f.fix)}</td></tr>`;
}

function findingsTable(findings: readonly Finding[]): string {
  return `<table class="findings"><thead><tr><th>Severity</th><th>Check</th><th>Where</th><th>Finding</th><th>Fix</th></tr></thead><tbody>${findings.map(findingRow).join('\n')}</tbody></table>`;
}

function findingsSection(r: AuditReport): string {
  const out: string[] = ['<h3>Findings</h3>'];
  const groups = [
    ...r.networks.map((n) => ({ key: n.name as string | null, n: n as NetworkSummary | null })),
    { key: null, n: null },
  ];
  for (const { key, n } of groups) {
    const mine = r.findings.filter((f) => f.network === key);
    if (!n && mine.length === 0) continue;
    if (n && mine.length === 0 && n.state === 'inferred' && n.owner !== 'libvirt') continue;
    out.push(
      `<div class="network">${n ? networkHead(n) : '<div class="network-head"><h4>host</h4><span class="muted">the host as a whole</span></div>'}`,
    );
    out.push(mine.length === 0 ? '<p class="clean">no findings</p>' : findingsTable(mine), '</div>');
  }
  if (r.findings.length === 0 && r.networks.length === 0) out.push('<p class="clean">no findings</p>');
  return out.join('\n');
}

/** Graphviz's SVG made fit to inline: no prolog, DOCTYPE or comments; ids made unique on the page. */
export function inlineSvg(svg: string, prefix: string): string {
  const start = svg.indexOf('<svg');
  let body = withoutComments(start < 0 ? svg : svg.slice(start));
  body = body
    .replace(/\b(id)="([^"]*)"/g, (_m, a: string, v: string) => `${a}="${prefix}-${v}"`)
    .replace(/url\(#([^()]*)\)/g, (_m, v: string) => `url(#${prefix}-${v})`);
  // Graphviz gives sizes in points: as pixels they are the natural size, which CSS may shrink.
  const tagEnd = body.startsWith('<svg') ? body.indexOf('>') : -1;
  if (tagEnd < 0) return body;
  const tag = body
    .slice(0, tagEnd)
    .replace(
      /\swidth="([\d.]+)pt"\sheight="([\d.]+)pt"/,
      (_m, w: string, h: string) =>
        ` width="${Math.round((Number(w) * 4) / 3)}" height="${Math.round((Number(h) * 4) / 3)}"`,
    );
  return tag + body.slice(tagEnd);
}

/** The text without its `<!-- … -->` comments (an unclosed one runs to the end), in one pass. */
function withoutComments(text: string): string {
  const out: string[] = [];
  let at = 0;
  for (let open = text.indexOf('<!--'); open >= 0; open = text.indexOf('<!--', at)) {
    out.push(text.slice(at, open));
    const close = text.indexOf('-->', open + 4);
    at = close < 0 ? text.length : close + 3;
  }
  out.push(text.slice(at));
  return out.join('');
}

function diagramSection(d: HtmlDiagram, prefix: string): string {
  if (d.svg === null) return `<h3>Diagram</h3><p class="muted">${esc(d.note)}</p>`;
  return `<h3>Diagram</h3><figure class="diagram">${inlineSvg(d.svg, prefix)}<figcaption>${esc(d.note)}. Arrows: what the rules let through between host, guests and outside (the services whose connection works, “—” for none); orange: addresses translated (NAT); purple: a port forward; dashed grey: nothing either way.</figcaption></figure>`;
}

function explainedSection(e: ExplainReport): string {
  const out: string[] = ['<h3>The rules, explained</h3>'];
  for (const g of explainGroups(e)) {
    out.push(`<h4>${esc(g.title)}</h4>`);
    if (g.rules.length === 0) {
      out.push('<p class="muted">(no rules in this dump)</p>');
      continue;
    }
    out.push(
      '<table class="rules"><thead><tr><th>Line</th><th>Table</th><th>Rule</th><th>Purpose</th><th>Why</th></tr></thead><tbody>',
    );
    for (const r of g.rules)
      out.push(
        `<tr><td class="line">${r.line}</td><td class="table">${esc(r.table)}</td><td><span class="rule">${esc(r.text)}</span></td><td class="purpose">${esc(r.purpose ?? '')}</td><td>${esc(r.why)}</td></tr>`,
      );
    out.push('</tbody></table>');
  }
  return out.join('\n');
}

export function auditHtml(hosts: readonly HtmlHost[], version: string): string {
  const all = hosts.flatMap((h) => h.report.findings);
  const c = counts(all);
  const files = hosts.flatMap((h) => h.report.files);
  const title = `virtables audit — ${files.join(', ') || 'network definitions'}`;
  const summary =
    all.length === 0
      ? '<li class="ok">no findings</li>'
      : `<li>${plural(all.length, 'finding')}</li><li class="error">${plural(c.error, 'error')}</li><li class="warning">${plural(c.warning, 'warning')}</li><li class="info">${c.info} info</li>`;
  const sections = hosts.map((h, i) => {
    const r = h.report;
    const era = r.eras.length > 0 ? r.eras.join(', ') : (r.flavor.flavor ?? 'no libvirt rules');
    return [
      `<section class="host" id="host-${i + 1}">`,
      `<h2>${esc(r.files.join(', ') || '(network definitions only)')}</h2>`,
      `<p class="muted">${esc(era)} — ${esc(r.flavor.reason)}</p>`,
      findingsSection(r),
      diagramSection(h.diagram, `h${i + 1}`),
      h.explained ? explainedSection(h.explained) : '',
      '</section>',
    ].join('\n');
  });
  const nav =
    hosts.length > 1
      ? `<nav>${hosts.map((h, i) => `<a href="#host-${i + 1}">${esc(h.report.files.join(', ') || `host ${i + 1}`)}</a>`).join('')}</nav>`
      : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="virtables ${esc(version)}">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>virtables audit</h1>
<p class="files">${esc(files.join(', ') || '(network definitions only)')}</p>
<ul class="summary">${summary}</ul>
${nav}
</header>
<main>
${sections.join('\n')}
</main>
<footer>virtables ${esc(version)} · a self-contained page: no scripts, nothing loaded from the network.</footer>
</body>
</html>
`;
}
