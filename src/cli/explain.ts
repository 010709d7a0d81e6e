// virtables explain [DUMP|-] [--net NET…] [--format table|text|json]

import { neverMatchingRules } from '../audit/never-matches.js';
import { simulatedContext } from '../audit/run.js';
import { networksFromDefinitions } from '../explain/attribute.js';
import { explainHost, hostNetworks, type HostExplainReport } from '../explain/host-report.js';
import { explainTables, writeExplainText } from '../explain/text.js';
import { Items, writeJsonText } from '../write/chunks.js';
import type { RuleReport } from '../explain/report.js';
import { hostDumps, type Host } from '../model/host.js';
import type { AnyNetwork } from '../model/network.js';
import type { Args } from './spec.js';
import { stateDependence } from '../sim/state.js';
import { readHost, readNetworkInputs } from './inputs.js';
import { noteStdin, stdoutColumns, type Io } from './io.js';
import { styleFor } from './style.js';

export async function run({ values, positionals }: Args<'explain'>, io: Io): Promise<number> {
  const format = values.format ?? (io.stdoutIsTTY ? 'table' : 'text');
  const files = positionals.length > 0 ? positionals : ['-'];
  if (positionals.length === 0) noteStdin(io, 'explain', 'an iptables-save dump');
  const definitions = readNetworkInputs('explain', values.net ?? [], io);
  const given = networksFromDefinitions(definitions);
  const host = readHost('explain', files, io);
  const report = withMarks(
    explainHost(host, hostNetworks([host], given)),
    await neverMatching(host, definitions),
    stateDependences(host),
  );
  const s = styleFor(io);
  // JSON and text are written as they are made, rule by rule: a big dump's explanation is never one string.
  if (format === 'json') writeJsonText({ ...report, rules: new Items(report.rules, (r) => r) }, io.stdout);
  else if (format === 'table') io.stdout(explainTables(report, s, host, stdoutColumns()));
  else writeExplainText(report, s, io.stdout, host);
  return 0;
}

/** The host's rules the simulator finds can never match (an earlier rule decides their packets), by file and line. */
async function neverMatching(
  host: Host,
  running: readonly AnyNetwork[],
): Promise<Map<string, NonNullable<RuleReport['neverMatches']>>> {
  const marks = new Map<string, NonNullable<RuleReport['neverMatches']>>();
  for (const d of hostDumps(host)) {
    const ctx = await simulatedContext({ dumps: [d], running, inactive: [] });
    for (const n of neverMatchingRules(ctx)) {
      marks.set(`${d.file}:${n.rule.line}`, {
        line: n.decider?.line ?? 0,
        text: n.decider?.text.trim() ?? 'the policy',
        verdict: n.verdict,
      });
    }
  }
  return marks;
}

/** The rules whose verdict depends on more than the packet (recent, limit, set contents, …), by file and line. */
function stateDependences(host: Host): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const d of hostDumps(host)) {
    const family = d.family === 'ipv6' ? 6 : 4;
    for (const t of d.tables)
      for (const c of t.chains)
        for (const r of c.rules) {
          const on = stateDependence(r, family);
          if (on.length > 0) deps.set(`${d.file}:${r.line}`, on);
        }
  }
  return deps;
}

/**
 * The report with each rule marked, in one copy of its rules: `neverMatches` on every rule when any never matches,
 * then `dependsOn` on every rule when any depends on state (null where a rule has no such mark).
 */
function withMarks(
  report: HostExplainReport,
  marks: ReadonlyMap<string, NonNullable<RuleReport['neverMatches']>>,
  deps: ReadonlyMap<string, string[]>,
): HostExplainReport {
  if (marks.size === 0 && deps.size === 0) return report;
  const rules = report.rules.map((r) => {
    const at = `${r.file}:${r.line}`;
    if (deps.size === 0) return { ...r, neverMatches: marks.get(at) ?? null };
    if (marks.size === 0) return { ...r, dependsOn: deps.get(at) ?? null };
    return { ...r, neverMatches: marks.get(at) ?? null, dependsOn: deps.get(at) ?? null };
  });
  return { ...report, rules };
}
