// What `virtables explain` prints as text and as tables: each group of rules with its purpose and reason,
// the rules that never match and those whose verdict depends on state marked after the sentence.

import { listingNote } from '../input/listing.js';
import { hostDumps, type Host } from '../model/host.js';
import { Chunks } from '../write/chunks.js';
import type { Style } from '../write/style.js';
import { renderTable, type TableRow } from '../write/table.js';
import { hostExplainGroups, type HostExplainReport, type ReportRow } from './host-report.js';
import type { RuleReport } from './report.js';

function emptyInputs(report: HostExplainReport, host?: Host): string[] {
  const listed = host ? hostDumps(host).flatMap((d) => listingNote(d) ?? []) : [];
  return [
    ...listed,
    ...report.inputs
      .filter((i) => i.kind === 'empty')
      .map(
        (i) =>
          `${i.file === '-' ? 'standard input' : i.file}: empty (no tables): no rules, as ip6tables-save and iptables-save print nothing while no table is in use`,
      ),
  ];
}

/** The report's marked rules (never matching, or depending on state) by place and text, the first of each. */
const markedRules = new WeakMap<HostExplainReport, Map<string, RuleReport>>();

function marked(report: HostExplainReport): Map<string, RuleReport> {
  let index = markedRules.get(report);
  if (index === undefined) {
    index = new Map();
    for (const x of report.rules) {
      const key = `line ${x.line}\0${x.text}`;
      if ((x.neverMatches || x.dependsOn) && !index.has(key)) index.set(key, x);
    }
    markedRules.set(report, index);
  }
  return index;
}

/**
 * The marks after a rule's sentence, found by its place in the report's rules (looked up: a search
 * of every rule for every row made explain of a 110,000-rule dump quadratic, minutes of CPU).
 */
function neverText(report: HostExplainReport, row: ReportRow): string {
  const r = marked(report).get(`${row.where}\0${row.text}`);
  const n = r?.neverMatches;
  const state = r?.dependsOn ? ` — depends on state: ${r.dependsOn.join('; ')}` : '';
  if (!n) return state;
  return ` — never matches: line ${n.line} \`${n.text}\` ${n.verdict === 'accepted' ? 'accepts' : n.verdict === 'rejected' ? 'rejects' : 'drops'} its packets first${state}`;
}

/** The report as text, its lines handed to `write` in chunks as they are made (lines apart, the last unended). */
export function writeExplainText(
  report: HostExplainReport,
  s: Style,
  write: (chunk: string) => void,
  host?: Host,
): void {
  const out = new Chunks(write);
  let first = true;
  const line = (text: string): void => {
    out.put(first ? text : `\n${text}`);
    first = false;
  };
  const empty = emptyInputs(report, host);
  for (const l of empty) line(s.dim(l));
  if (empty.length > 0) line('');
  for (const g of hostExplainGroups(report)) {
    line(s.bold(`== ${g.title}`));
    if (g.rows.length === 0) line('   (no rules in this dump)');
    for (const r of g.rows) {
      line(`  ${s.dim(r.where)}  ${r.table === 'filter' ? '' : `${r.table} `}${r.text}`);
      line(`      ${r.purpose ? s.cyan(`${r.purpose}: `) : ''}${r.why}${neverText(report, r)}`);
    }
    line('');
  }
  out.end();
}

/** The report as tables, `columns` wide (the terminal's width; 120 when it does not say, and never under 100). */
export function explainTables(report: HostExplainReport, s: Style, host?: Host, columns?: number): string {
  const width = Math.max(100, columns ?? 120);
  const out: string[] = emptyInputs(report, host);
  for (const g of hostExplainGroups(report)) {
    out.push(s.bold(g.title));
    const spec = {
      head: ['line', 'table', 'rule', 'purpose', 'why'],
      widths: [10, 12, Math.floor(width * 0.4), 14, Math.floor(width * 0.28)],
      headStyle: s.cyan,
      borderStyle: s.dim,
    };
    const rows: TableRow[] = g.rows.map((r) => [
      r.where.replace(/^line /, ''),
      r.table,
      r.text,
      r.purpose ?? '',
      `${r.why}${neverText(report, r)}`,
    ]);
    out.push(renderTable(spec, rows.length > 0 ? rows : [{ span: '(no rules in this dump)' }]), '');
  }
  return out.join('\n');
}
