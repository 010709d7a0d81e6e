// virtables explain [DUMP|-] [--net NET…] [--format table|text|json]

import { networksFromDefinitions } from '../diff/attribute.js';
import { explainHost, hostExplainGroups, hostNetworks, type HostExplainReport } from '../diff/host-report.js';
import type { Args } from './spec.js';
import { readHost, readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import { styleFor, type Style } from './style.js';
import { renderTable, type TableRow } from './table.js';

export async function run({ values, positionals }: Args<'explain'>, io: Io): Promise<number> {
  const format = values.format ?? (io.stdoutIsTTY ? 'table' : 'text');
  const files = positionals.length > 0 ? positionals : ['-'];
  const given = networksFromDefinitions(readNetworkInputs('explain', values.net ?? [], io));
  const host = readHost('explain', files, io);
  const report = explainHost(host, hostNetworks([host], given));
  const s = styleFor(io);
  io.stdout(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'table' ? explainTables(report, s) : explainText(report, s));
  return 0;
}

function emptyInputs(report: HostExplainReport): string[] {
  return report.inputs.filter((i) => i.kind === 'empty').map((i) => `${i.file === '-' ? 'standard input' : i.file}: empty (no tables)`);
}

function explainText(report: HostExplainReport, s: Style): string {
  const out: string[] = emptyInputs(report).map((l) => s.dim(l));
  if (out.length > 0) out.push('');
  for (const g of hostExplainGroups(report)) {
    out.push(s.bold(`== ${g.title}`));
    if (g.rows.length === 0) out.push('   (no rules in this dump)');
    for (const r of g.rows) {
      out.push(`  ${s.dim(r.where)}  ${r.table === 'filter' ? '' : `${r.table} `}${r.text}`);
      out.push(`      ${r.purpose ? s.cyan(`${r.purpose}: `) : ''}${r.why}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function explainTables(report: HostExplainReport, s: Style): string {
  const width = Math.max(100, process.stdout.columns ?? 120);
  const out: string[] = emptyInputs(report);
  for (const g of hostExplainGroups(report)) {
    out.push(s.bold(g.title));
    const spec = { head: ['line', 'table', 'rule', 'purpose', 'why'], widths: [10, 12, Math.floor(width * 0.4), 14, Math.floor(width * 0.28)], headStyle: s.cyan, borderStyle: s.dim };
    const rows: TableRow[] = g.rows.map((r) => [r.where.replace(/^line /, ''), r.table, r.text, r.purpose ?? '', r.why]);
    out.push(renderTable(spec, rows.length > 0 ? rows : [{ span: '(no rules in this dump)' }]), '');
  }
  return out.join('\n');
}
