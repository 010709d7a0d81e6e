// diff of a whole host: iptables per family (report.ts), nft by content; networks judged from
// both. Plain data: the JSON of `virtables diff` (docs/json.md).

import { explainDumps, type NetworkInfo, type Owner } from '../explain/attribute.js';
import { label, networkReport } from '../explain/report.js';
import { backendOf, nftRuleReport, type NftRuleReport } from '../explain/host-report.js';
import { verdictOf, type Verdict } from '../explain/verdict.js';
import { groupBy } from '../model/lists.js';
import { explainNftTables, type NftExplained } from '../explain/nft-explain.js';
import { diffReport, type DiffReport } from './report.js';
import { diffNftTables, type NftRuleAt } from './nft-diff.js';
import type { Dump } from '../model/dump.js';
import { hostDumps, nftOnlyTables, type Host } from '../model/host.js';
import { isTextPos } from '../model/nft.js';
import { plural } from '../model/text.js';

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
  // Each list by network once (filtering every list once per network was quadratic in networks).
  const byNetwork = <T extends { readonly network: string | null }>(list: readonly T[]) =>
    groupBy(list, (r) => r.network);
  const wasIpt = byNetwork(iptBefore);
  const wasNft = byNetwork(explainedBefore);
  const nowIpt = byNetwork(iptAfter);
  const nowNft = byNetwork(explainedAfter);
  const addedIpt = byNetwork(ipt.added);
  const addedNft = byNetwork(nft.added);
  const removedIpt = byNetwork(ipt.removed);
  const removedNft = byNetwork(nft.removed);
  const count = (groups: ReadonlyMap<string | null, readonly unknown[]>, name: string): number =>
    groups.get(name)?.length ?? 0;
  const nets = networks.map((n) => {
    const wi = wasIpt.get(n.name) ?? [];
    const wn = wasNft.get(n.name) ?? [];
    const ni = nowIpt.get(n.name) ?? [];
    const nn = nowNft.get(n.name) ?? [];
    const was = verdictOf(
      n,
      [...wi, ...wn],
      backendOf(n, wi, wn),
      new Set(hostDumps(before).map((d) => d.family ?? 'ipv4')),
    );
    const now = verdictOf(
      n,
      [...ni, ...nn],
      backendOf(n, ni, nn),
      new Set(hostDumps(after).map((d) => d.family ?? 'ipv4')),
    );
    const added = count(addedIpt, n.name) + count(addedNft, n.name);
    const removed = count(removedIpt, n.name) + count(removedNft, n.name);
    return { info: n, was, now, report: { ...networkReport(n, now), before: was.verdict as Verdict, added, removed } };
  });
  const summary = [...ipt.summary.filter((l) => !l.startsWith('no change'))];
  for (const n of nets) {
    const nftAdded = count(addedNft, n.info.name);
    const nftRemoved = count(removedNft, n.info.name);
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
