// shadowed-rule: libvirt's rule for a running network is in the dump, but an earlier rule
// decides first (an admin's `-I FORWARD … -j DROP` above libvirt's jumps, an ACCEPT above an
// isolated network's REJECT). Found by tracing the packets the rule is for, in order. On nft
// hosts the same for libvirt's `libvirt_network` table: a rule in it that libvirt does not derive
// (an admin's `nft insert rule ip libvirt_network guest_output … drop`) deciding before libvirt's
// own; what the simulator cannot decide there is said to be unknown, and why.

import { someOf } from '../../model/text.js';
import { acceptedAt, deleteHint, ruleLocation, stoppedAt } from '../accepted.js';
import { acceptedBy, stepRule } from '../legs.js';
import { neverMatchingRules } from '../never-matches.js';
import { nftExpectedOf } from '../nft-expected.js';
import { nftRuleLocation } from '../nft-location.js';
import { blockedTraffic, undecidedTraffic, type Blocked } from '../outcomes.js';
import { defineCheck, type AuditContext } from '../context.js';
import type { NftRule } from '../../model/nft.js';
import { nftRuleText } from '../../write/nft-rule.js';
import { report, type Finding } from '../types.js';
import type { Rule } from '../../model/dump.js';
import { atLine, networkLabel, OWNER_NAMES, deleteCommand } from '../words.js';

const LIBVIRT_TOP = '(libvirt inserts its own rules at the top)';

export const shadowedRule = defineCheck({
  id: 'shadowed-rule',
  severity: 'error',
  summary: "a network's rule is present but an earlier rule decides first",
  docs: 'docs/checks/shadowed-rule.md',
  messages: {
    shadowed: '{{network}}: {{expected}} ({{purpose}}) should let {{what}} through, but {{decider}}{{xenWhy}}',
    bypassed:
      '{{network}} is isolated, but its guests reach the outside{{over}}: {{reject}} (reject-out) never decides, because {{by}}',
    undecided:
      "{{network}}: whether libvirt's rule {{expected}} ({{purpose}}) lets {{what}} through is unknown because {{reason}}",
    neverMatches:
      "the host's rule {{rule}} can never match: {{packet}} is what it is for, and {{decider}}; so is the packet from {{others}} (traced in order)",
    nftShadowed:
      "{{network}}: libvirt's rule {{expected}} ({{purpose}}) should let {{what}} through, but {{decider}}, {{whose}}, {{where}}, {{action}} them first",
    nftBypassed:
      "{{network}} is isolated, but its guests reach the outside: libvirt's rule {{reject}} (reject-out) never decides, because {{by}} accepts them first{{foreign}}",
    acceptBridged:
      "accept bridged traffic above the host's rules: `iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT` (Xen guests on {{bridge}} then get what the LAN gives them), or keep iptables off bridged frames: `sysctl -w net.bridge.bridge-nf-call-iptables=0`",
    narrowOrMoveBelow: `narrow the earlier rule so it does not match {{bridge}}, or move it below libvirt's: \`{{delete}}\` then add it back with -A ${LIBVIRT_TOP}`,
    restoreJump:
      "restore the jump into libvirt's chain (restart virtnetworkd or libvirtd) or accept the traffic before the policy",
    removeAccept: 'remove or narrow the accepting rule: `{{delete}}`',
    restoreJumps: "restore libvirt's jumps (restart virtnetworkd/libvirtd)",
    giveState:
      "give the state virtables cannot read (`--assume`, `--ipset`) or trace it on the host with a real packet; a rule in libvirt's table that libvirt does not write can also be deleted so libvirt's own rules decide",
    deleteUnused: 'nothing breaks: the earlier rule already accepts it; delete the unused rule: `{{delete}}`',
    moveAbove: `move it above the rule that decides: \`{{delete}}\`, then add it back with \`-I {{chain}} 1\` instead of -A ${LIBVIRT_TOP}`,
    deleteFromLibvirt:
      "delete it from libvirt's table: {{delete}}; to limit the network's traffic, do it in a table of your own (a drop there still wins), not in libvirt's chains, which libvirt rewrites",
    narrowNft:
      'narrow the earlier rule so it does not match {{bridge}} ({{delete}} and add it back narrowed), or restart the network so libvirt rebuilds its rules',
    removeNftAccept: 'remove or narrow the accepting rule: {{delete}}',
    rebuildTable: 'restart the network so libvirt rebuilds its table',
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    for (const b of blockedTraffic(ctx)) {
      const nft = nftShadowed(ctx, b);
      if (nft) out.push(nft);
      // Another firewall manager's rules are its conflict check's business.
      if (!b.expected || b.owner === 'docker' || b.owner === 'ufw' || b.owner === 'firewalld') continue;
      const decider = b.rule
        ? `${atLine(b.rule)} (${OWNER_NAMES[b.owner]}) ${b.verdict === 'rejected' ? 'rejects' : 'drops'} them first`
        : `they end at the ${b.step.table} ${b.step.chain} policy (${b.step.detail ?? 'DROP'}): nothing leads them to it`;
      const xen = b.expectedPurpose.startsWith('xen-');
      out.push(
        report(shadowedRule, {
          // A Xen guest's bridged traffic meets iptables only with bridge-nf-call-iptables on: it depends on that.
          ...(xen ? { severity: 'warning' as const } : {}),
          network: b.subject.network.name,
          message: 'shadowed',
          fix: xen ? 'acceptBridged' : b.rule ? 'narrowOrMoveBelow' : 'restoreJump',
          data: {
            network: networkLabel(b.subject.network),
            expected: atLine(b.expected),
            purpose: b.expectedPurpose,
            what: b.what,
            decider,
            xenWhy: xen ? xenWhy(b.expected, b.rule) : '',
            bridge: xen ? (b.subject.network.bridge ?? b.subject.bridge) : b.subject.bridge,
            delete: b.rule ? deleteCommand(b.rule, b.subject.family === 6 ? 'ipv6' : 'ipv4') : '',
          },
          location: ctx.location(b.expected),
          related: b.rule ? [{ ...ctx.location(b.rule), message: 'decides first' }] : [],
        }),
      );
    }
    // An isolated network's REJECT that an earlier ACCEPT bypasses: its guests get out.
    for (const probes of ctx.reachability())
      for (const s of probes.subjects) {
        if (!ctx.hasRules(s.network, s.family)) continue;
        if (ctx.modeOf(s.network) !== 'none') continue;
        const r = probes.out(s);
        if (r.request.verdict !== 'delivered') continue;
        const family = s.family === 6 ? 'ipv6' : 'ipv4';
        const reject = ctx.rulesOf(s.network.name).find((e) => e.purpose === 'reject-out' && e.family === family)?.rule;
        const nftFamily = s.family === 6 ? 'ip6' : 'ip';
        const nftReject = reject
          ? null
          : ctx
              .nftRulesOf(s.network.name)
              .find((e) => e.purpose === 'reject-out' && e.owner === 'libvirt' && e.rule.family === nftFamily)?.rule;
        if (nftReject) {
          out.push(nftBypassed(ctx, s, nftReject, acceptedAt(ctx, probes.detail(r).request, 'FORWARD')));
          continue;
        }
        const accept = stepRule(acceptedBy(probes.detail(r).request, 'filter', 'FORWARD'));
        if (!reject) continue;
        out.push(
          report(shadowedRule, {
            network: s.network.name,
            message: 'bypassed',
            fix: accept ? 'removeAccept' : 'restoreJumps',
            data: {
              network: networkLabel(s.network),
              reject: atLine(reject),
              over: s.family === 6 ? ' over IPv6' : '',
              by: accept ? `${atLine(accept)} accepts them first` : 'the FORWARD policy accepts them before it',
              delete: accept ? deleteCommand(accept, family) : '',
            },
            location: ctx.location(reject),
            related: accept ? [{ ...ctx.location(accept), message: 'accepts first' }] : [],
          }),
        );
      }
    // What the simulator could not decide in libvirt's nft table: unknown, and why (never "no findings").
    for (const u of undecidedTraffic(ctx)) {
      if (!u.expectedNft || u.owner !== 'libvirt') continue;
      out.push(
        report(shadowedRule, {
          severity: 'info',
          network: u.subject.network.name,
          message: 'undecided',
          fix: 'giveState',
          data: {
            network: networkLabel(u.subject.network),
            expected: nftWords(u.expectedNft),
            purpose: u.expectedPurpose,
            what: u.what,
            reason: u.reason.replace(/^unknown because /, ''),
          },
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
        report(shadowedRule, {
          severity: n.verdict === 'accepted' ? 'info' : 'warning',
          network: n.subject.network.name,
          message: 'neverMatches',
          fix: n.verdict === 'accepted' ? 'deleteUnused' : 'moveAbove',
          data: {
            rule: atLine(n.rule),
            packet: n.packet,
            decider,
            others: someOf(n.sources.slice(1)) || 'every other source',
            delete: deleteCommand(n.rule, n.family === 6 ? 'ipv6' : 'ipv4'),
            chain: n.rule.chain,
          },
          location: ctx.location(n.rule),
          related: n.decider ? [{ ...ctx.location(n.decider), message: 'decides first' }] : [],
        }),
      );
    }
    return out;
  },
});

/**
 * Why a vif-bridge accept comes too late: Xen before 3.4 appends (-A) its vif rules, below a
 * host firewall's final REJECT. It only matters while br_netfilter hands bridged frames to
 * iptables (bridge-nf-call-iptables=1, which no dump shows).
 */
function xenWhy(accept: Rule, decider: Rule | null): string {
  const below = decider !== null && decider.chain === accept.chain && decider.line < accept.line;
  return `${below ? ": vif-bridge appended it (Xen before 3.4 runs `iptables -A FORWARD`), below the host's rule" : ''}; this holds while bridged frames pass through iptables (br_netfilter with net.bridge.bridge-nf-call-iptables=1, its default once loaded: the dump cannot show it, and its -m physdev rules need the module) — with it off, iptables never sees the guests' bridged traffic`;
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
  if (!expected || !decider || decider === expected || b.step.table !== `${expected.family} ${expected.table}`)
    return null;
  const stop = stoppedAt(ctx, b.step);
  const mine = derived(ctx, decider);
  const whose =
    mine === false
      ? 'a rule libvirt does not derive for any running network'
      : mine === true
        ? "one of libvirt's own rules"
        : 'an earlier rule';
  const where =
    decider.chain === expected.chain
      ? 'earlier in the same chain'
      : `in chain ${decider.chain}, which the forward chain runs first`;
  return report(shadowedRule, {
    network: b.subject.network.name,
    message: 'nftShadowed',
    fix: mine === false ? 'deleteFromLibvirt' : 'narrowNft',
    data: {
      network: networkLabel(b.subject.network),
      expected: nftWords(expected),
      purpose: b.expectedPurpose,
      what: b.what,
      decider: stop.words.replace(/^table \S+ \S+, /, ''),
      whose,
      where,
      action: b.verdict === 'rejected' ? 'rejects' : 'drops',
      delete: deleteHint(decider),
      bridge: b.subject.bridge,
    },
    location: nftLocation(ctx, expected),
    related: [{ ...ruleLocation(ctx, decider), message: 'decides first' }],
  });
}

/** An isolated network's nft reject that an earlier accept in libvirt's table bypasses: its guests get out. */
function nftBypassed(
  ctx: AuditContext,
  s: Blocked['subject'],
  reject: NftRule,
  by: ReturnType<typeof acceptedAt>,
): Finding {
  const accept = by.nft?.rule?.nft?.rule ?? null;
  return report(shadowedRule, {
    network: s.network.name,
    message: 'nftBypassed',
    fix: accept ? 'removeNftAccept' : 'rebuildTable',
    data: {
      network: networkLabel(s.network),
      reject: nftWords(reject),
      by: by.words.replace(/^accepted by /, ''),
      foreign:
        accept && derived(ctx, accept) === false ? ' (a rule libvirt does not derive for any running network)' : '',
      delete: accept ? deleteHint(accept) : '',
    },
    location: nftLocation(ctx, reject),
    related: by.location ? [{ ...by.location, message: 'accepts first' }] : [],
  });
}
