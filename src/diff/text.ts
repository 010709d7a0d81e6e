// What `virtables diff` prints as text: the summary, each network's change, and the rules added, removed,
// moved and respelled (iptables, then nft), each with the network and purpose it serves.

import type { HostDiffReport } from './host-report.js';
import type { NftRuleReport } from '../explain/host-report.js';
import type { DiffReport } from './report.js';
import type { RuleReport } from '../explain/report.js';
import type { Style } from '../write/style.js';

/** A rule's two lines: where and what, then why, under the network (and purpose) or owner it is for. */
function ruleLines(sign: string, r: RuleReport | NftRuleReport, s: Style, where: string): string[] {
  const owner = r.network ? `${r.network}${r.purpose ? `: ${r.purpose}` : ''}` : r.owner;
  return [`  ${sign} ${s.dim(where)} ${r.text}  ${s.cyan(`[${owner}]`)}`, `      ${s.dim(r.why)}`];
}

const at = (r: NftRuleReport): string => (r.line !== null ? `line ${r.line}` : (r.path ?? ''));

export function diffText(report: DiffReport | HostDiffReport, s: Style): string {
  const out: string[] = [s.bold(`virtables diff ${report.before} → ${report.after}`), ''];
  for (const line of report.summary) out.push(`  ${line}`);
  out.push('');
  if (report.networks.length > 0) {
    out.push(s.bold('Networks'));
    for (const n of report.networks) {
      const where = [n.bridge === n.name ? null : n.bridge, ...n.subnets].filter((x) => x).join(', ');
      out.push(
        `  ${n.name}${where ? ` (${where})` : ''}: ${n.before === n.verdict ? n.verdict : `${n.before} → ${n.verdict}`} — ${n.summary}`,
      );
    }
    out.push('');
  }
  const section = (title: string, count: number): void => {
    out.push(s.bold(`${title} (${count})`));
  };
  const nftOnly = 'nft' in report && report.added.length + report.removed.length + report.moved.length === 0;
  if (!nftOnly) section('Added', report.added.length);
  for (const r of report.added)
    out.push(...ruleLines(s.green('+'), r, s, `${r.table} ${r.chain} #${r.position}, line ${r.line}:`));
  if (!nftOnly) section('Removed', report.removed.length);
  for (const r of report.removed)
    out.push(...ruleLines(s.red('-'), r, s, `${r.table} ${r.chain} #${r.position}, line ${r.line}:`));
  if (report.moved.length > 0) {
    section('Moved', report.moved.length);
    for (const m of report.moved)
      out.push(
        ...ruleLines(
          s.yellow('~'),
          m.rule,
          s,
          `${m.rule.table} ${m.rule.chain} #${m.from.position} → #${m.to.position} (line ${m.from.line} → ${m.to.line}):`,
        ),
      );
  }
  if (report.respelled.length > 0) {
    section('Same meaning, different spelling', report.respelled.length);
    for (const r of report.respelled) out.push(`  = ${r.before.text}`, `    ${r.after.text}`, `      ${s.dim(r.note)}`);
  }
  const nft = 'nft' in report ? report.nft : null;
  if (nft && nft.added.length + nft.removed.length + nft.moved.length > 0) {
    section('nft: added', nft.added.length);
    for (const r of nft.added)
      out.push(...ruleLines(s.green('+'), r, s, `${r.table} ${r.chain} #${r.position}, ${at(r)}:`));
    section('nft: removed', nft.removed.length);
    for (const r of nft.removed)
      out.push(...ruleLines(s.red('-'), r, s, `${r.table} ${r.chain} #${r.position}, ${at(r)}:`));
    if (nft.moved.length > 0) {
      section('nft: moved', nft.moved.length);
      for (const m of nft.moved)
        out.push(
          ...ruleLines(
            s.yellow('~'),
            m.rule,
            s,
            `${m.rule.table} ${m.rule.chain} #${m.from.position} → #${m.to.position}:`,
          ),
        );
    }
  }
  return out.join('\n') + '\n';
}
