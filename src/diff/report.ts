// The diff report as plain data (the stable JSON of `virtables diff`), and the paragraph that
// says what a change amounts to. Rules and networks are reported as explain reports them.

import type { Dump } from '../model/dump.js';
import { explainDumps, explainRule, type NetworkInfo } from '../explain/attribute.js';
import { label, networkReport, ruleReport, type NetworkReport, type RuleReport } from '../explain/report.js';
import { modeDifference, verdictOf, type Verdict } from '../explain/verdict.js';
import { groupBy } from '../model/lists.js';
import { diffDumps, type RuleAt } from './diff.js';
import { plural } from '../model/text.js';

export interface DiffReport {
  readonly before: string;
  readonly after: string;
  readonly added: RuleReport[];
  readonly removed: RuleReport[];
  readonly moved: Array<{
    readonly rule: RuleReport;
    readonly from: { position: number; line: number };
    readonly to: { position: number; line: number };
  }>;
  readonly respelled: Array<{ readonly before: RuleReport; readonly after: RuleReport; readonly note: string }>;
  readonly chains: ReturnType<typeof diffDumps>['chains'];
  readonly unchanged: number;
  readonly networks: Array<
    NetworkReport & { readonly before: Verdict; readonly added: number; readonly removed: number }
  >;
  readonly summary: string[];
}

function fromRuleAt(r: RuleAt, file: string, networks: readonly NetworkInfo[]): RuleReport {
  return { ...ruleReport(explainRule(r.rule, r.family, networks), file, r.position), text: r.canonical };
}

export function diffReport(before: Dump, after: Dump, networks: readonly NetworkInfo[]): DiffReport {
  const d = diffDumps(before, after);
  const explainedBefore = explainDumps([before], networks);
  const explainedAfter = explainDumps([after], networks);
  const added = d.added.map((r) => fromRuleAt(r, after.file, networks));
  const removed = d.removed.map((r) => fromRuleAt(r, before.file, networks));
  const moved = d.moved.map((m) => ({
    rule: fromRuleAt(m.after, after.file, networks),
    from: { position: m.before.position, line: m.before.rule.line },
    to: { position: m.after.position, line: m.after.rule.line },
  }));
  const respelled = d.respelled.map((r) => ({
    before: fromRuleAt(r.before, before.file, networks),
    after: fromRuleAt(r.after, after.file, networks),
    note: r.note,
  }));

  const addedOf = groupBy(added, (r) => r.network);
  const removedOf = groupBy(removed, (r) => r.network);
  const wasOf = groupBy(explainedBefore, (e) => e.network);
  const nowOf = groupBy(explainedAfter, (e) => e.network);
  const nets = networks.map((n) => {
    const was = verdictOf(n, wasOf.get(n.name) ?? [], undefined, new Set([before.family ?? 'ipv4']));
    const now = verdictOf(n, nowOf.get(n.name) ?? [], undefined, new Set([after.family ?? 'ipv4']));
    return {
      info: n,
      was,
      now,
      report: {
        ...networkReport(n, now),
        before: was.verdict,
        added: addedOf.get(n.name)?.length ?? 0,
        removed: removedOf.get(n.name)?.length ?? 0,
      },
    };
  });

  const summary: string[] = [];
  const appeared = nets.filter((n) => n.was.verdict === 'none' && n.now.verdict !== 'none');
  const vanished = nets.filter((n) => n.was.verdict !== 'none' && n.now.verdict === 'none');
  for (const n of nets) {
    const { added: a, removed: r } = n.report;
    if (a === 0 && r === 0) continue;
    if (appeared.includes(n))
      summary.push(
        `starting ${label(n.info)} added ${plural(a, 'rule')}${r ? ` and removed ${r}` : ''}: ${n.now.summary}.`,
      );
    else if (vanished.includes(n))
      summary.push(`stopping ${label(n.info)} removed ${plural(r, 'rule')}${a ? ` and added ${a}` : ''}.`);
    else if (n.was.verdict !== n.now.verdict)
      summary.push(
        `${label(n.info)} went from ${n.was.verdict} to ${n.now.verdict} (${plural(a, 'rule')} added, ${r} removed): ${modeDifference({ name: 'before', verdict: n.was }, { name: 'after', verdict: n.now })}`,
      );
    else summary.push(`${label(n.info)} stays ${n.now.verdict}: ${plural(a, 'rule')} added, ${r} removed.`);
  }
  // One network replaced by another (the lab's host-only → natted): how the modes differ.
  for (const gone of vanished) {
    for (const come of appeared) {
      if (gone.info.owner === 'libvirt' && come.info.owner === 'libvirt')
        summary.push(
          modeDifference({ name: gone.info.name, verdict: gone.was }, { name: come.info.name, verdict: come.now }),
        );
    }
  }
  const hostAdded = added.filter((r) => r.network === null && r.owner === 'host').length;
  const hostRemoved = removed.filter((r) => r.network === null && r.owner === 'host').length;
  if (hostAdded + hostRemoved > 0) summary.push(`host rules: ${hostAdded} added, ${hostRemoved} removed.`);
  const setupAdded = added.filter((r) => r.purpose === 'chain-setup').length;
  if (setupAdded > 0)
    summary.push(`libvirt's one-time set-up added ${plural(setupAdded, 'jump')} into its private LIBVIRT_* chains.`);
  const leftover = explainedAfter.filter((e) => e.purpose === 'chain-setup').length;
  if (vanished.length > 0 && leftover > 0)
    summary.push(
      `libvirt leaves its LIBVIRT_* chains and ${plural(leftover, 'jump')} behind after the last network stops (empty, harmless).`,
    );
  if (d.chains.added.length > 0)
    summary.push(`new chains: ${d.chains.added.map((c) => `${c.table}/${c.chain}`).join(', ')}.`);
  if (d.chains.removed.length > 0)
    summary.push(`removed chains: ${d.chains.removed.map((c) => `${c.table}/${c.chain}`).join(', ')}.`);
  for (const p of d.chains.policy) summary.push(`policy of ${p.table}/${p.chain} changed from ${p.from} to ${p.to}.`);
  if (moved.length > 0)
    summary.push(`${plural(moved.length, 'rule')} moved (same rule, new position: order decides which rule wins).`);
  if (respelled.length > 0)
    summary.push(
      `${plural(respelled.length, 'rule')} spelled differently but meaning the same (${respelled[0]!.note}).`,
    );
  if (summary.length === 0)
    summary.push('no change: the two dumps hold the same rules in the same order (counters and comments aside).');

  const touched = nets.filter((n) => n.was.verdict !== 'none' || n.now.verdict !== 'none' || n.info.origin === 'given');
  return {
    before: before.file,
    after: after.file,
    added,
    removed,
    moved,
    respelled,
    chains: d.chains,
    unchanged: d.unchanged,
    networks: touched.map((n) => n.report),
    summary,
  };
}
