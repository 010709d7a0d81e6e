// The diff and explain reports as plain data (the stable JSON of `virtables diff` and
// `virtables explain`), and the paragraph that says what a change amounts to.

import type { Dump } from '../model/dump.js';
import type { Purpose } from '../engine/why.js';
import { formatRule } from '../write/save.js';
import { explainDumps, explainRule, subnetsText, type Explained, type NetworkInfo, type Owner } from './attribute.js';
import { diffDumps, type RuleAt } from './diff.js';
import { modeDifference, verdictOf, type NetworkVerdict, type Verdict } from './verdict.js';

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
  readonly neverMatches?: { readonly line: number; readonly text: string; readonly verdict: 'rejected' | 'dropped' | 'accepted' } | null;
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

export interface DiffReport {
  readonly before: string;
  readonly after: string;
  readonly added: RuleReport[];
  readonly removed: RuleReport[];
  readonly moved: Array<{ readonly rule: RuleReport; readonly from: { position: number; line: number }; readonly to: { position: number; line: number } }>;
  readonly respelled: Array<{ readonly before: RuleReport; readonly after: RuleReport; readonly note: string }>;
  readonly chains: ReturnType<typeof diffDumps>['chains'];
  readonly unchanged: number;
  readonly networks: Array<NetworkReport & { readonly before: Verdict; readonly added: number; readonly removed: number }>;
  readonly summary: string[];
}

export interface ExplainReport {
  readonly file: string;
  readonly networks: NetworkReport[];
  readonly rules: RuleReport[];
}

function ruleReport(e: Explained, file: string, position: number): RuleReport {
  return { table: e.rule.table, chain: e.rule.chain, position, family: e.family, text: '', line: e.rule.pos.line, file, network: e.network, owner: e.owner, purpose: e.purpose, why: e.why };
}

function fromRuleAt(r: RuleAt, file: string, networks: readonly NetworkInfo[]): RuleReport {
  return { ...ruleReport(explainRule(r.rule, r.family, networks), file, r.position), text: r.canonical };
}

export function networkReport(n: NetworkInfo, v: NetworkVerdict): NetworkReport {
  return { name: n.name, origin: n.origin, bridge: n.bridge, subnets: n.subnets.map((s) => subnetsText({ ...n, subnets: [s] })), verdict: v.verdict, summary: v.summary, purposes: v.purposes, missing: v.missing };
}

export function label(n: NetworkInfo): string {
  const where = [n.bridge === n.name ? null : n.bridge, subnetsText(n)].filter((x) => x).join(', ');
  return where ? `${n.name} (${where})` : n.name;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function explainReport(dumps: readonly Dump[], networks: readonly NetworkInfo[]): ExplainReport {
  const explained = explainDumps(dumps, networks);
  const positions = new Map<Explained['rule'], number>();
  for (const d of dumps) for (const t of d.tables) for (const c of t.chains) c.rules.forEach((r, i) => positions.set(r, i + 1));
  const fileOf = new Map<Explained['rule'], string>();
  for (const d of dumps) for (const t of d.tables) for (const c of t.chains) for (const r of c.rules) fileOf.set(r, d.file);
  return {
    file: dumps.map((d) => d.file).join(', '),
    networks: networks.map((n) => networkReport(n, verdictOf(n, explained, undefined, new Set(dumps.map((d) => d.family ?? 'ipv4'))))),
    rules: explained.map((e) => ({ ...ruleReport(e, fileOf.get(e.rule) ?? '', positions.get(e.rule) ?? 0), text: formatRule(e.rule, e.family) })),
  };
}

export interface ExplainGroup {
  readonly title: string;
  readonly rules: RuleReport[];
}

/** Rules grouped by network (in the order networks are known), then libvirt's shared set-up, then other owners and the host. */
export function explainGroups(report: ExplainReport): ExplainGroup[] {
  const out: ExplainGroup[] = [];
  for (const n of report.networks) {
    const rules = report.rules.filter((r) => r.network === n.name);
    const where = [n.bridge === n.name ? null : n.bridge, ...n.subnets].filter((x) => x).join(', ');
    out.push({ title: `${n.name}${where ? ` (${where})` : ''}: ${n.verdict} — ${n.summary}`, rules });
  }
  const rest = report.rules.filter((r) => r.network === null);
  const titles: Record<string, string> = {
    libvirt: "libvirt's shared set-up (all networks)",
    xen: 'Xen scripts',
    docker: 'Docker',
    ufw: 'ufw',
    firewalld: 'firewalld',
    host: "the host's own rules",
  };
  for (const owner of ['libvirt', 'xen', 'docker', 'ufw', 'firewalld', 'host'] as const) {
    const rules = rest.filter((r) => r.owner === owner);
    if (rules.length > 0) out.push({ title: titles[owner]!, rules });
  }
  return out;
}

export function diffReport(before: Dump, after: Dump, networks: readonly NetworkInfo[]): DiffReport {
  const d = diffDumps(before, after);
  const explainedBefore = explainDumps([before], networks);
  const explainedAfter = explainDumps([after], networks);
  const added = d.added.map((r) => fromRuleAt(r, after.file, networks));
  const removed = d.removed.map((r) => fromRuleAt(r, before.file, networks));
  const moved = d.moved.map((m) => ({ rule: fromRuleAt(m.after, after.file, networks), from: { position: m.before.position, line: m.before.rule.pos.line }, to: { position: m.after.position, line: m.after.rule.pos.line } }));
  const respelled = d.respelled.map((r) => ({ before: fromRuleAt(r.before, before.file, networks), after: fromRuleAt(r.after, after.file, networks), note: r.note }));

  const count = (list: readonly RuleReport[], name: string): number => list.filter((r) => r.network === name).length;
  const nets = networks.map((n) => {
    const was = verdictOf(n, explainedBefore, undefined, new Set([before.family ?? 'ipv4']));
    const now = verdictOf(n, explainedAfter, undefined, new Set([after.family ?? 'ipv4']));
    return { info: n, was, now, report: { ...networkReport(n, now), before: was.verdict, added: count(added, n.name), removed: count(removed, n.name) } };
  });

  const summary: string[] = [];
  const appeared = nets.filter((n) => n.was.verdict === 'none' && n.now.verdict !== 'none');
  const vanished = nets.filter((n) => n.was.verdict !== 'none' && n.now.verdict === 'none');
  for (const n of nets) {
    const { added: a, removed: r } = n.report;
    if (a === 0 && r === 0) continue;
    if (appeared.includes(n)) summary.push(`starting ${label(n.info)} added ${plural(a, 'rule')}${r ? ` and removed ${r}` : ''}: ${n.now.summary}.`);
    else if (vanished.includes(n)) summary.push(`stopping ${label(n.info)} removed ${plural(r, 'rule')}${a ? ` and added ${a}` : ''}.`);
    else if (n.was.verdict !== n.now.verdict) summary.push(`${label(n.info)} went from ${n.was.verdict} to ${n.now.verdict} (${plural(a, 'rule')} added, ${r} removed): ${modeDifference({ name: 'before', verdict: n.was }, { name: 'after', verdict: n.now })}`);
    else summary.push(`${label(n.info)} stays ${n.now.verdict}: ${plural(a, 'rule')} added, ${r} removed.`);
  }
  // One network replaced by another (the lab's host-only → natted): how the modes differ.
  for (const gone of vanished) {
    for (const come of appeared) {
      if (gone.info.owner === 'libvirt' && come.info.owner === 'libvirt') summary.push(modeDifference({ name: gone.info.name, verdict: gone.was }, { name: come.info.name, verdict: come.now }));
    }
  }
  const hostAdded = added.filter((r) => r.network === null && r.owner === 'host').length;
  const hostRemoved = removed.filter((r) => r.network === null && r.owner === 'host').length;
  if (hostAdded + hostRemoved > 0) summary.push(`host rules: ${hostAdded} added, ${hostRemoved} removed.`);
  const setupAdded = added.filter((r) => r.purpose === 'chain-setup').length;
  if (setupAdded > 0) summary.push(`libvirt's one-time set-up added ${plural(setupAdded, 'jump')} into its private LIBVIRT_* chains.`);
  const leftover = explainedAfter.filter((e) => e.purpose === 'chain-setup').length;
  if (vanished.length > 0 && leftover > 0) summary.push(`libvirt leaves its LIBVIRT_* chains and ${plural(leftover, 'jump')} behind after the last network stops (empty, harmless).`);
  if (d.chains.added.length > 0) summary.push(`new chains: ${d.chains.added.map((c) => `${c.table}/${c.chain}`).join(', ')}.`);
  if (d.chains.removed.length > 0) summary.push(`removed chains: ${d.chains.removed.map((c) => `${c.table}/${c.chain}`).join(', ')}.`);
  for (const p of d.chains.policy) summary.push(`policy of ${p.table}/${p.chain} changed from ${p.from} to ${p.to}.`);
  if (moved.length > 0) summary.push(`${plural(moved.length, 'rule')} moved (same rule, new position: order decides which rule wins).`);
  if (respelled.length > 0) summary.push(`${plural(respelled.length, 'rule')} spelled differently but meaning the same (${respelled[0]!.note}).`);
  if (summary.length === 0) summary.push('no change: the two dumps hold the same rules in the same order (counters and comments aside).');

  const touched = nets.filter((n) => n.was.verdict !== 'none' || n.now.verdict !== 'none' || n.info.origin === 'given');
  return { before: before.file, after: after.file, added, removed, moved, respelled, chains: d.chains, unchanged: d.unchanged, networks: touched.map((n) => n.report), summary };
}
