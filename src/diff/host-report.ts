// explain and diff of a whole host: its iptables dumps (report.ts) and its nft ruleset together,
// networks judged from both (libvirt's nft backend leaves its rules only in nft). Plain data:
// the JSON of `virtables explain` and `virtables diff` (docs/json.md).

import { explainDumps, inferNetworks, subnetsText, type NetworkInfo, type Owner } from './attribute.js';
import {
  diffReport,
  explainReport,
  label,
  networkReport,
  type DiffReport,
  type ExplainReport,
  type NetworkReport,
  type RuleReport,
} from './report.js';
import { verdictOf, type Verdict } from './verdict.js';
import { explainNftTables, inferNftNetworks, type NftExplained } from './nft-explain.js';
import { diffNftTables, type NftRuleAt } from './nft-diff.js';
import type { Purpose } from '../engine/why.js';
import type { Dump } from '../model/dump.js';
import { hostDumps, nftOnlyTables, type Host, type HostInput } from '../model/host.js';
import { isTextPos, type NftFamily } from '../model/nft.js';
import { formatNftRule } from '../write/nft-text.js';

/** An nft rule in reports: where it is, what it says, whose it is and why it is there. */
export interface NftRuleReport {
  readonly family: NftFamily;
  /** `ip libvirt_network`. */
  readonly table: string;
  readonly chain: string;
  readonly position: number;
  /** The rule as nft lists it. */
  readonly text: string;
  readonly file: string;
  /** The line in nft text; null when read from JSON (then `path` says where). */
  readonly line: number | null;
  readonly path: string | null;
  readonly network: string | null;
  readonly owner: Owner;
  readonly purpose: Purpose | null;
  readonly why: string;
}

export interface HostExplainReport extends ExplainReport {
  /** Every input read, with what it was (an empty file holds no tables). */
  readonly inputs: readonly HostInput[];
  /** The nft rules (but those of tables iptables-save already holds). */
  readonly nftRules: NftRuleReport[];
}

function nftRuleReport(e: NftExplained, file: string): NftRuleReport {
  const pos = e.rule.pos;
  return {
    family: e.rule.family,
    table: `${e.rule.family} ${e.rule.table}`,
    chain: e.rule.chain,
    position: e.position,
    text: formatNftRule(e.rule),
    file,
    line: isTextPos(pos) ? pos.line : null,
    path: isTextPos(pos) ? null : pos.path,
    network: e.network,
    owner: e.owner,
    purpose: e.purpose,
    why: e.why,
  };
}

/** The networks of a host: given, then those its iptables dumps and its nft tables show. */
export function hostNetworks(hosts: readonly Host[], given: readonly NetworkInfo[]): NetworkInfo[] {
  const fromDumps = inferNetworks(hosts.flatMap(hostDumps), given);
  return [...fromDumps, ...inferNftNetworks(hosts.flatMap(nftOnlyTables), fromDumps)];
}

export function explainHost(host: Host, networks: readonly NetworkInfo[]): HostExplainReport {
  const dumps = hostDumps(host);
  const base = explainReport(dumps, networks);
  const nft = explainNftTables(nftOnlyTables(host), networks);
  const ipt = explainDumps(dumps, networks);
  const all = [...ipt, ...nft];
  return {
    ...base,
    file: host.name,
    inputs: host.inputs,
    networks: networks.map((n) => networkReport(n, verdictOf(n, all, backendOf(n, ipt, nft), new Set(dumps.map((d) => d.family ?? 'ipv4'))))),
    nftRules: nft.map((e) => nftRuleReport(e, host.nft?.file ?? host.name)),
  };
}

/** Which backend a network's rules are in: nft when only nft rules are its own (libvirt 10.4+). */
function backendOf(
  n: NetworkInfo,
  ipt: ReadonlyArray<{ network: string | null; purpose: Purpose | null }>,
  nft: ReadonlyArray<{ network: string | null; purpose: Purpose | null }>,
): 'iptables' | 'nft' {
  const mine = (list: ReadonlyArray<{ network: string | null; purpose: Purpose | null }>): boolean =>
    list.some((e) => e.network === n.name && e.purpose !== null);
  return mine(nft) && !mine(ipt) ? 'nft' : 'iptables';
}

/** One line of a report, iptables or nft alike (for the text and table forms). */
export interface ReportRow {
  /** `line 12`, or the JSON path. */
  readonly where: string;
  readonly table: string;
  readonly text: string;
  readonly purpose: Purpose | null;
  readonly why: string;
}

export interface HostGroup {
  readonly title: string;
  readonly rows: ReportRow[];
}

const iptRow = (r: RuleReport): ReportRow => ({
  where: `line ${r.line}`,
  table: r.table,
  text: r.text,
  purpose: r.purpose,
  why: r.why,
});
const nftRow = (r: NftRuleReport): ReportRow => ({
  where: r.line !== null ? `line ${r.line}` : (r.path ?? ''),
  table: `${r.table} ${r.chain}`,
  text: r.text,
  purpose: r.purpose,
  why: r.why,
});

/** Rules grouped by network, then libvirt's shared set-up, other owners and the host's own. */
export function hostExplainGroups(report: HostExplainReport): HostGroup[] {
  const out: HostGroup[] = [];
  for (const n of report.networks) {
    const where = [n.bridge === n.name ? null : n.bridge, ...n.subnets].filter((x) => x).join(', ');
    const rows = [
      ...report.rules.filter((r) => r.network === n.name).map(iptRow),
      ...report.nftRules.filter((r) => r.network === n.name).map(nftRow),
    ];
    out.push({ title: `${n.name}${where ? ` (${where})` : ''}: ${n.verdict} — ${n.summary}`, rows });
  }
  const titles: Record<Owner, string> = {
    libvirt: "libvirt's shared set-up (all networks)",
    xen: 'Xen scripts',
    docker: 'Docker',
    ufw: 'ufw',
    firewalld: 'firewalld',
    host: "the host's own rules",
  };
  for (const owner of ['libvirt', 'xen', 'docker', 'ufw', 'firewalld', 'host'] as const) {
    const rows = [
      ...report.rules.filter((r) => r.network === null && r.owner === owner).map(iptRow),
      ...report.nftRules.filter((r) => r.network === null && r.owner === owner).map(nftRow),
    ];
    if (rows.length > 0) out.push({ title: titles[owner], rows });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// diff

export interface NftDiffReport {
  readonly added: NftRuleReport[];
  readonly removed: NftRuleReport[];
  readonly moved: Array<{
    readonly rule: NftRuleReport;
    readonly from: { position: number; line: number | null };
    readonly to: { position: number; line: number | null };
  }>;
  readonly tables: ReturnType<typeof diffNftTables>['tables'];
  readonly chains: ReturnType<typeof diffNftTables>['chains'];
  readonly unchanged: number;
}

export interface HostDiffReport extends DiffReport {
  readonly nft: NftDiffReport;
}

const emptyDump = (file: string, family: 'ipv4' | 'ipv6'): Dump => ({ file, family, tables: [], comments: [] });

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Two hosts (before, after) compared: iptables per family, nft by content; networks judged from both. */
export function diffHosts(before: Host, after: Host, networks: readonly NetworkInfo[]): HostDiffReport {
  const families = (['ipv4', 'ipv6'] as const).filter((f) =>
    f === 'ipv4' ? before.ipv4 || after.ipv4 : before.ipv6 || after.ipv6,
  );
  const parts = families.map((f) =>
    diffReport(
      (f === 'ipv4' ? before.ipv4 : before.ipv6) ?? emptyDump(before.name, f),
      (f === 'ipv4' ? after.ipv4 : after.ipv6) ?? emptyDump(after.name, f),
      networks,
    ),
  );
  const ipt: DiffReport =
    parts.length > 0
      ? merge(parts)
      : diffReport(emptyDump(before.name, 'ipv4'), emptyDump(after.name, 'ipv4'), networks);

  const nftBefore = nftOnlyTables(before);
  const nftAfter = nftOnlyTables(after);
  const d = diffNftTables(nftBefore, nftAfter);
  const explainedBefore = explainNftTables(nftBefore, networks);
  const explainedAfter = explainNftTables(nftAfter, networks);
  const byRule = new Map<NftExplained['rule'], NftExplained>(
    [...explainedBefore, ...explainedAfter].map((e) => [e.rule, e]),
  );
  const report = (r: NftRuleAt, host: Host): NftRuleReport =>
    nftRuleReport(byRule.get(r.rule)!, host.nft?.file ?? host.name);
  const lineOf = (r: NftRuleAt): number | null => (isTextPos(r.rule.pos) ? r.rule.pos.line : null);
  const nft: NftDiffReport = {
    added: d.added.map((r) => report(r, after)),
    removed: d.removed.map((r) => report(r, before)),
    moved: d.moved.map((m) => ({
      rule: report(m.after, after),
      from: { position: m.before.position, line: lineOf(m.before) },
      to: { position: m.after.position, line: lineOf(m.after) },
    })),
    tables: d.tables,
    chains: d.chains,
    unchanged: d.unchanged,
  };

  // Networks: verdicts from the iptables and nft rules of each side.
  const iptBefore = explainDumps(hostDumps(before), networks);
  const iptAfter = explainDumps(hostDumps(after), networks);
  const wasAll = [...iptBefore, ...explainedBefore];
  const nowAll = [...iptAfter, ...explainedAfter];
  const count = (list: ReadonlyArray<{ network: string | null }>, name: string): number =>
    list.filter((r) => r.network === name).length;
  const nets = networks.map((n) => {
    const was = verdictOf(n, wasAll, backendOf(n, iptBefore, explainedBefore), new Set(hostDumps(before).map((d) => d.family ?? 'ipv4')));
    const now = verdictOf(n, nowAll, backendOf(n, iptAfter, explainedAfter), new Set(hostDumps(after).map((d) => d.family ?? 'ipv4')));
    const added = count(ipt.added, n.name) + count(nft.added, n.name);
    const removed = count(ipt.removed, n.name) + count(nft.removed, n.name);
    return { info: n, was, now, report: { ...networkReport(n, now), before: was.verdict as Verdict, added, removed } };
  });
  const summary = [...ipt.summary.filter((l) => !l.startsWith('no change'))];
  for (const n of nets) {
    const nftAdded = count(nft.added, n.info.name);
    const nftRemoved = count(nft.removed, n.info.name);
    if (nftAdded + nftRemoved === 0) continue;
    const where = label(n.info);
    if (n.was.verdict === 'none' && n.now.verdict !== 'none')
      summary.push(
        `starting ${where} added ${plural(nftAdded, 'nft rule')}${nftRemoved ? ` and removed ${nftRemoved}` : ''}: ${n.now.summary}.`,
      );
    else if (n.was.verdict !== 'none' && n.now.verdict === 'none')
      summary.push(
        `stopping ${where} removed ${plural(nftRemoved, 'nft rule')}${nftAdded ? ` and added ${nftAdded}` : ''}.`,
      );
    else if (n.was.verdict !== n.now.verdict)
      summary.push(
        `${where} went from ${n.was.verdict} to ${n.now.verdict} (${plural(nftAdded, 'nft rule')} added, ${nftRemoved} removed).`,
      );
    else summary.push(`${where} stays ${n.now.verdict}: ${plural(nftAdded, 'nft rule')} added, ${nftRemoved} removed.`);
  }
  const foreign = (list: readonly NftRuleReport[], owner: Owner): number =>
    list.filter((r) => r.network === null && r.owner === owner).length;
  for (const owner of ['host', 'firewalld', 'docker'] as const) {
    const a = foreign(nft.added, owner);
    const r = foreign(nft.removed, owner);
    if (a + r > 0) summary.push(`${owner === 'host' ? 'host' : owner} nft rules: ${a} added, ${r} removed.`);
  }
  if (nft.tables.added.length > 0) summary.push(`new nft tables: ${nft.tables.added.join(', ')}.`);
  if (nft.tables.removed.length > 0) summary.push(`removed nft tables: ${nft.tables.removed.join(', ')}.`);
  if (nft.tables.reordered)
    summary.push(
      'the nft tables were created in another order: on a hook where two base chains have the same priority, the one registered later runs first.',
    );
  for (const c of nft.chains.changed)
    summary.push(
      `base chain ${c.table} ${c.chain} changed: ${c.from ?? 'regular chain'} → ${c.to ?? 'regular chain'}.`,
    );
  if (nft.moved.length > 0)
    summary.push(
      `${plural(nft.moved.length, 'nft rule')} moved (same rule, new position: order decides which rule wins).`,
    );
  if (summary.length === 0)
    summary.push(
      'no change: the two hosts hold the same rules in the same order (counters, handles and comments aside).',
    );
  const touched = nets.filter((n) => n.was.verdict !== 'none' || n.now.verdict !== 'none' || n.info.origin === 'given');
  return { ...ipt, before: before.name, after: after.name, networks: touched.map((n) => n.report), summary, nft };
}

/** IPv4 and IPv6 diffs as one report. */
function merge(parts: readonly DiffReport[]): DiffReport {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  return {
    ...first,
    added: parts.flatMap((p) => p.added),
    removed: parts.flatMap((p) => p.removed),
    moved: parts.flatMap((p) => p.moved),
    respelled: parts.flatMap((p) => p.respelled),
    chains: {
      added: parts.flatMap((p) => p.chains.added),
      removed: parts.flatMap((p) => p.chains.removed),
      policy: parts.flatMap((p) => p.chains.policy),
    },
    unchanged: parts.reduce((n, p) => n + p.unchanged, 0),
    summary: parts.flatMap((p) => p.summary),
  };
}

export type { NetworkReport };
export { subnetsText };
