// shadowed-rule: libvirt's rule for a running network is in the dump, but an earlier rule
// decides first (an admin's `-I FORWARD … -j DROP` above libvirt's jumps, an ACCEPT above an
// isolated network's REJECT). Found by tracing the packets the rule is for, in order. On nft
// hosts the same for libvirt's `libvirt_network` table: a rule in it that libvirt does not derive
// (an admin's `nft insert rule ip libvirt_network guest_output … drop`) deciding before libvirt's
// own; what the simulator cannot decide there is said to be unknown, and why.

import { acceptedAt, deleteHint, ruleLocation, stoppedAt } from '../accepted.js';
import { acceptedBy, stepRule } from '../legs.js';
import { neverMatchingRules } from '../never-matches.js';
import { nftExpectedOf } from '../nft-expected.js';
import { nftRuleLocation } from '../nft-location.js';
import { blockedTraffic, undecidedTraffic, type Blocked } from '../outcomes.js';
import type { AuditContext, Check } from '../context.js';
import type { NftRule } from '../../model/nft.js';
import { nftRuleText } from '../../write/nft-rule.js';
import { finding, type Finding } from '../types.js';
import type { Rule } from '../../model/dump.js';
import { atLine, networkLabel, OWNER_NAMES, deleteCommand } from '../words.js';

export const shadowedRule: Check = {
  id: 'shadowed-rule',
  severity: 'error',
  summary: "a network's rule is present but an earlier rule decides first",
  docs: 'docs/checks/shadowed-rule.md',
  run(ctx) {
    const out: Finding[] = [];
    for (const b of blockedTraffic(ctx)) {
      const nft = nftShadowed(ctx, b);
      if (nft) out.push(nft);
      // Another firewall manager's rules are its conflict check's business.
      if (!b.expected || b.owner === 'docker' || b.owner === 'ufw' || b.owner === 'firewalld') continue;
      const decider = b.rule ? `${atLine(b.rule)} (${OWNER_NAMES[b.owner]}) ${b.verdict === 'rejected' ? 'rejects' : 'drops'} them first` : `they end at the ${b.step.table} ${b.step.chain} policy (${b.step.detail ?? 'DROP'}): nothing leads them to it`;
      const xen = b.expectedPurpose.startsWith('xen-');
      out.push(
        finding(shadowedRule, {
          // A Xen guest's bridged traffic meets iptables only with bridge-nf-call-iptables on: it depends on that.
          ...(xen ? { severity: 'warning' as const } : {}),
          network: b.subject.network.name,
          message: `${networkLabel(b.subject.network)}: ${atLine(b.expected)} (${b.expectedPurpose}) should let ${b.what} through, but ${decider}${xen ? xenWhy(b.expected, b.rule) : ''}`,
          fix: xen
            ? `accept bridged traffic above the host's rules: \`iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT\` (Xen guests on ${b.subject.network.bridge ?? b.subject.bridge} then get what the LAN gives them), or keep iptables off bridged frames: \`sysctl -w net.bridge.bridge-nf-call-iptables=0\``
            : b.rule
              ? `narrow the earlier rule so it does not match ${b.subject.bridge}, or move it below libvirt's: \`${deleteCommand(b.rule)}\` then add it back with -A (libvirt inserts its own rules at the top)`
              : `restore the jump into libvirt's chain (restart virtnetworkd or libvirtd) or accept the traffic before the policy`,
          location: ctx.location(b.expected),
          related: b.rule ? [{ ...ctx.location(b.rule), message: 'decides first' }] : [],
        }),
      );
    }
    // An isolated network's REJECT that an earlier ACCEPT bypasses: its guests get out.
    const probes = ctx.probes();
    for (const s of probes?.subjects ?? []) {
      if (!ctx.hasRules(s.network)) continue;
      if (ctx.modeOf(s.network) !== 'none') continue;
      const r = probes!.out(s);
      if (r.request.verdict !== 'delivered') continue;
      const reject = ctx.rulesOf(s.network.name).find((e) => e.purpose === 'reject-out')?.rule;
      const nftReject = reject ? null : ctx.nftRulesOf(s.network.name).find((e) => e.purpose === 'reject-out' && e.owner === 'libvirt')?.rule;
      if (nftReject) {
        out.push(nftBypassed(ctx, s, nftReject, acceptedAt(ctx, probes!.detail(r).request, 'FORWARD')));
        continue;
      }
      const accept = stepRule(acceptedBy(probes!.detail(r).request, 'filter', 'FORWARD'));
      if (!reject) continue;
      out.push(
        finding(shadowedRule, {
          network: s.network.name,
          message: `${networkLabel(s.network)} is isolated, but its guests reach the outside: ${atLine(reject)} (reject-out) never decides, because ${accept ? `${atLine(accept)} accepts them first` : 'the FORWARD policy accepts them before it'}`,
          fix: accept ? `remove or narrow the accepting rule: \`${deleteCommand(accept)}\`` : 'restore libvirt\'s jumps (restart virtnetworkd/libvirtd)',
          location: ctx.location(reject),
          related: accept ? [{ ...ctx.location(accept), message: 'accepts first' }] : [],
        }),
      );
    }
    // What the simulator could not decide in libvirt's nft table: unknown, and why (never "no findings").
    for (const u of undecidedTraffic(ctx)) {
      if (!u.expectedNft || u.owner !== 'libvirt') continue;
      out.push(
        finding(shadowedRule, {
          severity: 'info',
          network: u.subject.network.name,
          message: `${networkLabel(u.subject.network)}: whether libvirt's rule ${nftWords(u.expectedNft)} (${u.expectedPurpose}) lets ${u.what} through is unknown because ${u.reason.replace(/^unknown because /, '')}`,
          fix: 'give the state virtables cannot read (`--assume`, `--ipset`) or trace it on the host with a real packet; a rule in libvirt\'s table that libvirt does not write can also be deleted so libvirt\'s own rules decide',
          location: nftLocation(ctx, u.expectedNft),
        }),
      );
    }
    // The host's own accept that can never match: an earlier rule decides every packet it is for.
    for (const n of neverMatchingRules(ctx)) {
      const decider = n.decider
        ? `${atLine(n.decider)} (${OWNER_NAMES[ctx.explainedRule(n.decider)?.owner ?? 'host']}) ${n.verdict === 'accepted' ? 'accepts' : n.verdict === 'rejected' ? 'rejects' : 'drops'} it first`
        : `the policy decides first`;
      out.push(
        finding(shadowedRule, {
          severity: n.verdict === 'accepted' ? 'info' : 'warning',
          network: n.subject.network.name,
          message: `the host's rule ${atLine(n.rule)} can never match: ${n.packet} is what it is for, and ${decider}; so is the packet from ${n.sources.slice(1).join(', ') || 'every other source'} (traced in order)`,
          fix: n.verdict === 'accepted'
            ? `nothing breaks: the earlier rule already accepts it; delete the unused rule: \`${deleteCommand(n.rule)}\``
            : `move it above the rule that decides: \`${deleteCommand(n.rule)}\`, then add it back with \`-I ${n.rule.chain} 1\` instead of -A (libvirt inserts its own rules at the top)`,
          location: ctx.location(n.rule),
          related: n.decider ? [{ ...ctx.location(n.decider), message: 'decides first' }] : [],
        }),
      );
    }
    return out;
  },
};

/**
 * Why a vif-bridge accept comes too late: Xen before 3.4 appends (-A) its vif rules, below a
 * host firewall's final REJECT. It only matters while br_netfilter hands bridged frames to
 * iptables (bridge-nf-call-iptables=1, which no dump shows).
 */
function xenWhy(accept: Rule, decider: Rule | null): string {
  const below = decider !== null && decider.chain === accept.chain && decider.pos.line < accept.pos.line;
  return `${below ? ': vif-bridge appended it (Xen before 3.4 runs `iptables -A FORWARD`), below the host\'s rule' : ''}; this holds while bridged frames pass through iptables (br_netfilter with net.bridge.bridge-nf-call-iptables=1, its default once loaded: the dump cannot show it, and its -m physdev rules need the module) — with it off, iptables never sees the guests' bridged traffic`;
}

function nftWords(rule: NftRule): string {
  return `\`${nftRuleText(rule)}\` (table ${rule.family} ${rule.table}, chain ${rule.chain})`;
}

function nftLocation(ctx: AuditContext, rule: NftRule) {
  const ruleset = ctx.probes()?.sim.ruleset.nft ?? ctx.nft;
  return ruleset ? nftRuleLocation(ruleset, rule) : null;
}

/** Is this nft rule one libvirt derives for the running networks (null: no comparison to make)? */
function derived(ctx: AuditContext, rule: NftRule): boolean | null {
  const expected = nftExpectedOf(ctx);
  return expected ? !expected.extra.some((e) => e.rule === rule) : null;
}

/** libvirt's nft rule for the traffic is there, but an earlier rule in libvirt's own table decides first. */
function nftShadowed(ctx: AuditContext, b: Blocked): Finding | null {
  const decider = b.compiled?.nft?.rule ?? null;
  const expected = b.expectedNft;
  if (!expected || !decider || decider === expected || b.step.table !== `${expected.family} ${expected.table}`) return null;
  const stop = stoppedAt(ctx, b.step);
  const mine = derived(ctx, decider);
  const whose = mine === false ? 'a rule libvirt does not derive for any running network' : mine === true ? "one of libvirt's own rules" : 'an earlier rule';
  const where = decider.chain === expected.chain ? 'earlier in the same chain' : `in chain ${decider.chain}, which the forward chain runs first`;
  return finding(shadowedRule, {
    network: b.subject.network.name,
    message: `${networkLabel(b.subject.network)}: libvirt's rule ${nftWords(expected)} (${b.expectedPurpose}) should let ${b.what} through, but ${stop.words.replace(/^table \S+ \S+, /, '')}, ${whose}, ${where}, ${b.verdict === 'rejected' ? 'rejects' : 'drops'} them first`,
    fix: mine === false
      ? `delete it from libvirt's table: ${deleteHint(decider)}; to limit the network's traffic, do it in a table of your own (a drop there still wins), not in libvirt's chains, which libvirt rewrites`
      : `narrow the earlier rule so it does not match ${b.subject.bridge} (${deleteHint(decider)} and add it back narrowed), or restart the network so libvirt rebuilds its rules`,
    location: nftLocation(ctx, expected),
    related: [{ ...ruleLocation(ctx, decider), message: 'decides first' }],
  });
}

/** An isolated network's nft reject that an earlier accept in libvirt's table bypasses: its guests get out. */
function nftBypassed(ctx: AuditContext, s: Blocked['subject'], reject: NftRule, by: ReturnType<typeof acceptedAt>): Finding {
  const accept = by.nft?.rule?.nft?.rule ?? null;
  return finding(shadowedRule, {
    network: s.network.name,
    message: `${networkLabel(s.network)} is isolated, but its guests reach the outside: libvirt's rule ${nftWords(reject)} (reject-out) never decides, because ${by.words.replace(/^accepted by /, '')} accepts them first${accept && derived(ctx, accept) === false ? ' (a rule libvirt does not derive for any running network)' : ''}`,
    fix: accept ? `remove or narrow the accepting rule: ${deleteHint(accept)}` : 'restart the network so libvirt rebuilds its table',
    location: nftLocation(ctx, reject),
    related: by.location ? [{ ...by.location, message: 'accepts first' }] : [],
  });
}
