// virtables explain [DUMP|-] [--net NET…] [--format table|text|json]

import { neverMatchingRules } from '../audit/never-matches.js';
import { simulatedContext } from '../audit/run.js';
import { networksFromDefinitions } from '../explain/attribute.js';
import { explainHost, hostExplainGroups, hostNetworks, type HostExplainReport, type ReportRow } from '../explain/host-report.js';
import type { RuleReport } from '../explain/report.js';
import { listingNote } from '../input/listing.js';
import { hostDumps, type Host } from '../model/host.js';
import type { AnyNetwork } from '../model/network.js';
import type { Args } from './spec.js';
import { stateDependence } from '../sim/state.js';
import { readHost, readNetworkInputs } from './inputs.js';
import { noteStdin, type Io } from './io.js';
import { styleFor, type Style } from './style.js';
import { renderTable, type TableRow } from './table.js';

export async function run({ values, positionals }: Args<'explain'>, io: Io): Promise<number> {
  const format = values.format ?? (io.stdoutIsTTY ? 'table' : 'text');
  const files = positionals.length > 0 ? positionals : ['-'];
  if (positionals.length === 0) noteStdin(io, 'explain', 'an iptables-save dump');
  const definitions = readNetworkInputs('explain', values.net ?? [], io);
  const given = networksFromDefinitions(definitions);
  const host = readHost('explain', files, io);
  const report = withState(await withNeverMatching(explainHost(host, hostNetworks([host], given)), host, definitions), host);
  const s = styleFor(io);
  io.stdout(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'table' ? explainTables(report, s, host) : explainText(report, s, host));
  return 0;
}

function emptyInputs(report: HostExplainReport, host?: Host): string[] {
  const listed = host ? hostDumps(host).flatMap((d) => listingNote(d) ?? []) : [];
  return [...listed, ...report.inputs.filter((i) => i.kind === 'empty').map((i) => `${i.file === '-' ? 'standard input' : i.file}: empty (no tables): no rules, as ip6tables-save and iptables-save print nothing while no table is in use`)];
}

/** Marks the host's rules the simulator finds can never match (an earlier rule decides their packets). */
async function withNeverMatching(report: HostExplainReport, host: Host, running: readonly AnyNetwork[]): Promise<HostExplainReport> {
  const marks = new Map<string, NonNullable<RuleReport['neverMatches']>>();
  for (const d of hostDumps(host)) {
    if ((d.family ?? 'ipv4') !== 'ipv4') continue;
    const ctx = await simulatedContext({ dumps: [d], running, inactive: [] });
    for (const n of neverMatchingRules(ctx)) {
      marks.set(`${d.file}:${n.rule.pos.line}`, { line: n.decider?.pos.line ?? 0, text: n.decider?.text.trim() ?? 'the policy', verdict: n.verdict });
    }
  }
  if (marks.size === 0) return report;
  return { ...report, rules: report.rules.map((r) => ({ ...r, neverMatches: marks.get(`${r.file}:${r.line}`) ?? null })) };
}

/** Marks the rules whose verdict depends on more than the packet (recent, limit, set contents, …). */
function withState(report: HostExplainReport, host: Host): HostExplainReport {
  const deps = new Map<string, string[]>();
  for (const d of hostDumps(host)) {
    const family = d.family === 'ipv6' ? 6 : 4;
    for (const t of d.tables) for (const c of t.chains) for (const r of c.rules) {
      const on = stateDependence(r, family);
      if (on.length > 0) deps.set(`${d.file}:${r.pos.line}`, on);
    }
  }
  if (deps.size === 0) return report;
  return { ...report, rules: report.rules.map((r) => ({ ...r, dependsOn: deps.get(`${r.file}:${r.line}`) ?? null })) };
}

/** The marks after a rule's sentence, found by its place in the report's rules. */
function neverText(report: HostExplainReport, row: ReportRow): string {
  const r = report.rules.find((x) => `line ${x.line}` === row.where && x.text === row.text && (x.neverMatches || x.dependsOn));
  const n = r?.neverMatches;
  const state = r?.dependsOn ? ` — depends on state: ${r.dependsOn.join('; ')}` : '';
  if (!n) return state;
  return ` — never matches: line ${n.line} \`${n.text}\` ${n.verdict === 'accepted' ? 'accepts' : n.verdict === 'rejected' ? 'rejects' : 'drops'} its packets first${state}`;
}

function explainText(report: HostExplainReport, s: Style, host?: Host): string {
  const out: string[] = emptyInputs(report, host).map((l) => s.dim(l));
  if (out.length > 0) out.push('');
  for (const g of hostExplainGroups(report)) {
    out.push(s.bold(`== ${g.title}`));
    if (g.rows.length === 0) out.push('   (no rules in this dump)');
    for (const r of g.rows) {
      out.push(`  ${s.dim(r.where)}  ${r.table === 'filter' ? '' : `${r.table} `}${r.text}`);
      out.push(`      ${r.purpose ? s.cyan(`${r.purpose}: `) : ''}${r.why}${neverText(report, r)}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function explainTables(report: HostExplainReport, s: Style, host?: Host): string {
  const width = Math.max(100, process.stdout.columns ?? 120);
  const out: string[] = emptyInputs(report, host);
  for (const g of hostExplainGroups(report)) {
    out.push(s.bold(g.title));
    const spec = { head: ['line', 'table', 'rule', 'purpose', 'why'], widths: [10, 12, Math.floor(width * 0.4), 14, Math.floor(width * 0.28)], headStyle: s.cyan, borderStyle: s.dim };
    const rows: TableRow[] = g.rows.map((r) => [r.where.replace(/^line /, ''), r.table, r.text, r.purpose ?? '', `${r.why}${neverText(report, r)}`]);
    out.push(renderTable(spec, rows.length > 0 ? rows : [{ span: '(no rules in this dump)' }]), '');
  }
  return out.join('\n');
}
