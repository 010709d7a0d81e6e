// virtables explain [DUMP|-] [--net NET…] [--format table|text|json]

import { inferNetworks, networksFromDefinitions } from '../diff/attribute.js';
import { explainGroups, explainReport, type ExplainReport } from '../diff/report.js';
import { UsageError } from '../model/errors.js';
import { oneOf, parseCommandArgs } from './args.js';
import { readDump, readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import { styleFor, type Style } from './style.js';
import { renderTable, type TableRow } from './table.js';

export const help = `Usage: virtables explain [DUMP…|-] [--net NET…] [--format table|text|json]

Annotates every rule of an iptables-save dump with the network it belongs to, the job it
does (dhcp-in, forward-out, masquerade, …) and a sentence saying why it is there, grouped
by network, then the host's own rules. Rules virtables does not know are described from
their matches and target. Give an iptables-save and an ip6tables-save dump together to
explain both families.

  DUMP              iptables-save / ip6tables-save output; '-' or nothing reads standard input
  --net NET         a network definition (libvirt XML, Xen set-up) or a directory of them;
                    repeatable. Without it, networks are inferred from the dump
  --format table    a table per network (default on a terminal)
  --format text     plain lines (default in a pipe)
  --format json     {file, networks, rules} (docs/json.md)
  -h, --help        this text

Exit status: 0 explained, 2 bad input or usage.
`;

interface Values {
  help?: boolean;
  format?: string;
  net?: string[];
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('explain', argv, {
    format: { type: 'string', short: 'f' },
    net: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const format = oneOf('explain', '--format', values.format, ['table', 'text', 'json'] as const, io.stdoutIsTTY ? 'table' : 'text');
  const files = positionals.length > 0 ? positionals : ['-'];
  if (files.filter((f) => f === '-').length > 1) throw new UsageError("explain: standard input ('-') can be read only once");
  const given = networksFromDefinitions(readNetworkInputs('explain', values.net ?? [], io));
  const dumps = files.map((f) => readDump(f, io));
  const report = explainReport(dumps, inferNetworks(dumps, given));
  const s = styleFor(io);
  io.stdout(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'table' ? explainTables(report, s) : explainText(report, s));
  return 0;
}

function explainText(report: ExplainReport, s: Style): string {
  const out: string[] = [];
  for (const g of explainGroups(report)) {
    out.push(s.bold(`== ${g.title}`));
    if (g.rules.length === 0) out.push('   (no rules in this dump)');
    for (const r of g.rules) {
      out.push(`  ${s.dim(`line ${r.line}`)}  ${r.table === 'filter' ? '' : `${r.table} `}${r.text}`);
      out.push(`      ${r.purpose ? s.cyan(`${r.purpose}: `) : ''}${r.why}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function explainTables(report: ExplainReport, s: Style): string {
  const width = Math.max(100, process.stdout.columns ?? 120);
  const out: string[] = [];
  for (const g of explainGroups(report)) {
    out.push(s.bold(g.title));
    const spec = { head: ['line', 'table', 'rule', 'purpose', 'why'], widths: [6, 8, Math.floor(width * 0.42), 14, Math.floor(width * 0.3)], headStyle: s.cyan, borderStyle: s.dim };
    const rows: TableRow[] = g.rules.map((r) => [String(r.line), r.table, r.text, r.purpose ?? '', r.why]);
    out.push(renderTable(spec, rows.length > 0 ? rows : [{ span: '(no rules in this dump)' }]), '');
  }
  return out.join('\n');
}
