// explain of a whole host: its iptables dumps (report.ts) and its nft ruleset together, networks
// judged from both (libvirt's nft backend leaves its rules only in nft). Plain data: the JSON of
// `virtables explain` (docs/json.md).

import { explainDumps, inferNetworks, type NetworkInfo, type Owner } from './attribute.js';
import {
  explainReport,
  networkReport,
  networkTitle,
  OWNER_TITLES,
  OWNERS,
  type ExplainReport,
  type RuleReport,
} from './report.js';
import { verdictOf } from './verdict.js';
import { groupBy } from '../model/lists.js';
import { explainNftTables, inferNftNetworks, type NftExplained } from './nft-explain.js';
import type { Purpose } from '../engine/why.js';
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

export function nftRuleReport(e: NftExplained, file: string): NftRuleReport {
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
  const ipt = explainDumps(dumps, networks);
  const base = explainReport(dumps, networks, ipt);
  const nft = explainNftTables(nftOnlyTables(host), networks);
  const iptOf = groupBy(ipt, (e) => e.network);
  const nftOf = groupBy(nft, (e) => e.network);
  return {
    ...base,
    file: host.name,
    inputs: host.inputs,
    networks: networks.map((n) => {
      const mine = iptOf.get(n.name) ?? [];
      const mineNft = nftOf.get(n.name) ?? [];
      const backend = backendOf(n, mine, mineNft);
      return networkReport(
        n,
        verdictOf(n, [...mine, ...mineNft], backend, new Set(dumps.map((d) => d.family ?? 'ipv4'))),
      );
    }),
    nftRules: nft.map((e) => nftRuleReport(e, host.nft?.file ?? host.name)),
  };
}

/** Which backend a network's rules are in: nft when only nft rules are its own (libvirt 10.4+). */
export function backendOf(
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
  const rules = groupBy(report.rules, (r) => r.network);
  const nftRules = groupBy(report.nftRules, (r) => r.network);
  for (const n of report.networks) {
    const rows = [...(rules.get(n.name) ?? []).map(iptRow), ...(nftRules.get(n.name) ?? []).map(nftRow)];
    out.push({ title: networkTitle(n), rows });
  }
  const iptRest = rules.get(null) ?? [];
  const nftRest = nftRules.get(null) ?? [];
  for (const owner of OWNERS) {
    const rows = [
      ...iptRest.filter((r) => r.owner === owner).map(iptRow),
      ...nftRest.filter((r) => r.owner === owner).map(nftRow),
    ];
    if (rows.length > 0) out.push({ title: OWNER_TITLES[owner], rows });
  }
  return out;
}
