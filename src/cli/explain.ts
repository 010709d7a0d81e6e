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
  const report = withState(
    await withNeverMatching(explainHost(host, hostNetworks([host], given)), host, definitions),
    host,
  );
  const s = styleFor(io);
  // JSON and text are written as they are made, rule by rule: a big dump's explanation is never one string.
  if (format === 'json') writeJsonText({ ...report, rules: new Items(report.rules, (r) => r) }, io.stdout);
  else if (format === 'table') io.stdout(explainTables(report, s, host, stdoutColumns()));
  else writeExplainText(report, s, io.stdout, host);
  return 0;
}

/** Marks the host's rules the simulator finds can never match (an earlier rule decides their packets). */
async function withNeverMatching(
  report: HostExplainReport,
  host: Host,
  running: readonly AnyNetwork[],
): Promise<HostExplainReport> {
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
  if (marks.size === 0) return report;
  return {
    ...report,
    rules: report.rules.map((r) => ({ ...r, neverMatches: marks.get(`${r.file}:${r.line}`) ?? null })),
  };
}

/** Marks the rules whose verdict depends on more than the packet (recent, limit, set contents, …). */
function withState(report: HostExplainReport, host: Host): HostExplainReport {
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
  if (deps.size === 0) return report;
  return { ...report, rules: report.rules.map((r) => ({ ...r, dependsOn: deps.get(`${r.file}:${r.line}`) ?? null })) };
}
