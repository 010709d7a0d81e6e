// The explain report as plain data (the stable JSON of `virtables explain`): each rule with its
// owner, network, purpose and why-sentence, each network with its verdict.

import type { Dump } from '../model/dump.js';
import type { Purpose } from '../engine/why.js';
import { canonicalRuleText } from '../write/save.js';
import { explainDumps, subnetsText, type Explained, type NetworkInfo, type Owner } from './attribute.js';
import { verdictOf, type NetworkVerdict, type Verdict } from './verdict.js';
import { groupBy } from '../model/lists.js';

/** A rule in reports: where it is, what it says, whose it is and why it is there. */
export interface RuleReport {
  readonly table: string;
  readonly chain: string;
  readonly position: number;
  readonly family: 'ipv4' | 'ipv6';
  readonly text: string;
  readonly line: number;
  readonly file: string;
  readonly network: string | null;
  readonly owner: Owner;
  readonly purpose: Purpose | null;
  readonly why: string;
  /** explain: the rule can never match — which earlier rule decides its packets first (the simulator's finding). */
  readonly neverMatches?: {
    readonly line: number;
    readonly text: string;
    readonly verdict: 'rejected' | 'dropped' | 'accepted';
  } | null;
  /**
   * explain: what the rule's verdict depends on beyond the packet (state the kernel keeps, a match virtables cannot
   * evaluate).
   */
  readonly dependsOn?: readonly string[] | null;
}

export interface NetworkReport {
  readonly name: string;
  readonly origin: 'given' | 'inferred';
  readonly bridge: string | null;
  readonly subnets: string[];
  readonly verdict: Verdict;
  readonly summary: string;
  readonly purposes: Purpose[];
  readonly missing: Purpose[];
}

export interface ExplainReport {
  readonly file: string;
  readonly networks: NetworkReport[];
  readonly rules: RuleReport[];
}

export function ruleReport(e: Explained, file: string, position: number): RuleReport {
  return {
    table: e.rule.table,
    chain: e.rule.chain,
    position,
    family: e.family,
    text: '',
    line: e.rule.line,
    file,
    network: e.network,
    owner: e.owner,
    purpose: e.purpose,
    why: e.why,
  };
}

export function networkReport(n: NetworkInfo, v: NetworkVerdict): NetworkReport {
  return {
    name: n.name,
    origin: n.origin,
    bridge: n.bridge,
    subnets: n.subnets.map((s) => subnetsText({ ...n, subnets: [s] })),
    verdict: v.verdict,
    summary: v.summary,
    purposes: v.purposes,
    missing: v.missing,
  };
}

export function label(n: NetworkInfo): string {
  const where = [n.bridge === n.name ? null : n.bridge, subnetsText(n)].filter((x) => x).join(', ');
  return where ? `${n.name} (${where})` : n.name;
}

/** The dumps' rules explained (`explained`, when the caller has them already: explainDumps of the same). */
export function explainReport(
  dumps: readonly Dump[],
  networks: readonly NetworkInfo[],
  explained: readonly Explained[] = explainDumps(dumps, networks),
): ExplainReport {
  const positions = new Map<Explained['rule'], number>();
  for (const d of dumps)
    for (const t of d.tables) for (const c of t.chains) c.rules.forEach((r, i) => positions.set(r, i + 1));
  const fileOf = new Map<Explained['rule'], string>();
  for (const d of dumps)
    for (const t of d.tables) for (const c of t.chains) for (const r of c.rules) fileOf.set(r, d.file);
  const byNetwork = groupBy(explained, (e) => e.network);
  return {
    file: dumps.map((d) => d.file).join(', '),
    networks: networks.map((n) =>
      networkReport(
        n,
        verdictOf(n, byNetwork.get(n.name) ?? [], undefined, new Set(dumps.map((d) => d.family ?? 'ipv4'))),
      ),
    ),
    rules: explained.map((e) => ({
      ...ruleReport(e, fileOf.get(e.rule) ?? '', positions.get(e.rule) ?? 0),
      text: canonicalRuleText(e.rule, e.family),
    })),
  };
}

export interface ExplainGroup {
  readonly title: string;
  readonly rules: RuleReport[];
}

/** The groups of rules that belong to no network, in the order reports show them, and their titles. */
export const OWNERS = ['libvirt', 'xen', 'docker', 'ufw', 'firewalld', 'host'] as const;
export const OWNER_TITLES: Readonly<Record<Owner, string>> = {
  libvirt: "libvirt's shared set-up (all networks)",
  xen: 'Xen scripts',
  docker: 'Docker',
  ufw: 'ufw',
  firewalld: 'firewalld',
  host: "the host's own rules",
};

/** `natted (virbr2, 192.168.124.0/24): nat — …`: a network's group in the reports. */
export function networkTitle(n: NetworkReport): string {
  const where = [n.bridge === n.name ? null : n.bridge, ...n.subnets].filter((x) => x).join(', ');
  return `${n.name}${where ? ` (${where})` : ''}: ${n.verdict} — ${n.summary}`;
}

/**
 * Rules grouped by network (in the order networks are known), then libvirt's shared set-up, then other owners and the
 * host.
 */
export function explainGroups(report: ExplainReport): ExplainGroup[] {
  const out: ExplainGroup[] = [];
  const byNetwork = groupBy(report.rules, (r) => r.network);
  for (const n of report.networks) out.push({ title: networkTitle(n), rules: byNetwork.get(n.name) ?? [] });
  const rest = byNetwork.get(null) ?? [];
  for (const owner of OWNERS) {
    const rules = rest.filter((r) => r.owner === owner);
    if (rules.length > 0) out.push({ title: OWNER_TITLES[owner], rules });
  }
  return out;
}
