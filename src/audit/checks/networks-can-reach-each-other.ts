// networks-can-reach-each-other: guests of one virtual network can open connections to guests
// of another, and which rules decide it. Order matters: libvirt's legacy rules sit in FORWARD
// in start order, so with two NAT networks the one started last reaches the other (the seed
// lab's query 8); the 5.1+ private chains reject either way.

import type { Dump, Rule } from '../../model/dump.js';
import { cidrsOverlap, maskOf } from '../../model/cidr.js';
import { defineCheck, type AuditContext } from '../context.js';
import { connects } from '../../sim/trace.js';
import type { NftRuleset } from '../../model/nft.js';
import { acceptedAt, type Accepted } from '../accepted.js';
import { acceptedBy, stepRule } from '../legs.js';
import { nftForwardPath, nftPolicyKey, nftSuspects, type NftPath } from '../nft-sources.js';
import type { Probes, Subject } from '../probes.js';
import type { Step } from '../../sim/traverse.js';
import { report, type Finding } from '../types.js';
import { atLine, networkLabel, deleteCommand, familyOfProbes, overFamily } from '../words.js';

/** Chains a forwarded packet meets before the filter verdict, in the kernel's order. */
const PATH: ReadonlyArray<[string, string]> = [
  ['raw', 'PREROUTING'],
  ['mangle', 'PREROUTING'],
  ['nat', 'PREROUTING'],
  ['mangle', 'FORWARD'],
  ['filter', 'FORWARD'],
];

/** Matches that cannot tell two sources apart (same destination, protocol, port, state). */
const SOURCE_BLIND = new Set([
  'tcp',
  'udp',
  'icmp',
  'conntrack',
  'state',
  'comment',
  'multiport',
  'limit',
  'pkttype',
  'length',
  'tcpmss',
  'mark',
  'connmark',
  'addrtype',
]);

/** Where each rule and each built-in chain's policy sit on the forwarding path. */
interface PathOrder {
  /** Each rule's place (first visit, depth first through jumps). */
  readonly rules: Map<Rule, number>;
  /**
   * Each path chain's policy (`table\u0000chain`): after every rule its walk reaches, since a packet the policy
   * decides has met all of them first (a RETURN in the built-in chain applies it sooner: later is the safe side).
   */
  readonly policies: Map<string, number>;
}

const policyKey = (table: string, chain: string): string => `${table}\u0000${chain}`;

function pathOrder(dump: Dump): PathOrder {
  const order = new Map<Rule, number>();
  const policies = new Map<string, number>();
  let next = 0;
  for (const [tableName, chainName] of PATH) {
    const table = dump.tables.find((t) => t.name === tableName);
    if (!table) continue;
    const chains = new Map(table.chains.map((c) => [c.name, c]));
    const visiting = new Set<string>();
    const walk = (name: string): void => {
      const chain = chains.get(name);
      if (!chain || visiting.has(name)) return;
      visiting.add(name);
      for (const rule of chain.rules) {
        if (!order.has(rule)) order.set(rule, next++);
        const target = rule.target?.name;
        if (target && chains.has(target) && !chains.get(target)!.builtin) walk(target);
      }
      visiting.delete(name);
    };
    walk(chainName);
    policies.set(policyKey(tableName, chainName), next - 0.5);
  }
  return { rules: order, policies };
}

/**
 * Where the stranger's request was stopped on the path: its rule's place, or a path chain's policy's; Infinity when
 * it was stopped anywhere else (every source is a suspect then).
 */
function stoppedAt(order: PathOrder, step: Step | null): number {
  if (!step) return Infinity;
  const rule = stepRule(step);
  if (rule) return order.rules.get(rule) ?? Infinity;
  if (step.rule !== null || step.action !== 'policy' || step.hook !== step.chain) return Infinity;
  return order.policies.get(policyKey(step.table, step.chain)) ?? Infinity;
}

/**
 * Where each source's own rules start on the path: the first rule that could treat a guest of
 * it differently from a source no rule names (its bridge as `-i`, its subnet as `-s`, or a
 * match that looks at more than destination, protocol, ports and state). A rule with an exact
 * `-o` only counts for destinations behind that interface.
 */
interface OwnRules {
  /** Source → first position, in the order of those positions (the path is walked in order). */
  readonly any: Map<Subject, number>;
  /** `${source bridge}\u0000${out interface}` → first position. */
  readonly toward: Map<string, number>;
  /** The same by destination bridge, in the order of the positions. */
  readonly towardByTarget: Map<string, Array<{ from: Subject; first: number }>>;
  readonly everyone: number;
}

function ownRules(order: Map<Rule, number>, subjects: readonly Subject[]): OwnRules {
  const any = new Map<Subject, number>();
  const toward = new Map<string, number>();
  const towardByTarget = new Map<string, Array<{ from: Subject; first: number }>>();
  const byBridge = new Map(subjects.map((s) => [s.bridge, s]));
  const byPrefix = new Map<number, Map<bigint, Subject[]>>();
  for (const s of subjects) {
    const m = byPrefix.get(s.subnet.prefix) ?? new Map<bigint, Subject[]>();
    m.set(s.subnet.network, [...(m.get(s.subnet.network) ?? []), s]);
    byPrefix.set(s.subnet.prefix, m);
  }
  let everyone = Infinity;
  for (const [rule, at] of [...order.entries()].sort((x, y) => x[1] - y[1])) {
    const i = rule.inInterface;
    const o = rule.outInterface;
    const src = rule.source;
    if (
      (i && (i.negated || i.name.endsWith('+'))) ||
      (src && src.negated) ||
      rule.matches.some((m) => !SOURCE_BLIND.has(m.name))
    ) {
      everyone = at;
      break;
    }
    const exactOut = o && !o.negated && !o.name.endsWith('+') ? o.name : null;
    const mark = (s: Subject | undefined): void => {
      if (!s) return;
      if (exactOut === null) {
        if (!any.has(s)) any.set(s, at);
      } else {
        const key = `${s.bridge}\u0000${exactOut}`;
        if (toward.has(key)) return;
        toward.set(key, at);
        towardByTarget.set(exactOut, [...(towardByTarget.get(exactOut) ?? []), { from: s, first: at }]);
      }
    };
    if (i) mark(byBridge.get(i.name));
    if (src && src.family === subjects[0]?.family) {
      for (const [prefix, nets] of byPrefix) {
        if (prefix <= src.prefix) for (const s of nets.get(src.network & maskOf(src.family, prefix)) ?? []) mark(s);
        else for (const s of subjects) if (s.subnet.prefix === prefix && cidrsOverlap(src, s.subnet)) mark(s);
      }
    }
  }
  return { any, toward, towardByTarget, everyone };
}

/** The sources whose own rules start before `at` on the way to `to`: only they can fare unlike a stranger. */
function suspects(own: OwnRules, subjects: readonly Subject[], to: Subject, at: number): Subject[] {
  if (own.everyone <= at) return [...subjects];
  // Both lists are in the order of the positions: each is read only as far as `at` (a host of 1,000 networks read
  // every source for every destination, a million entries).
  const out = new Set<Subject>();
  for (const [s, first] of own.any) {
    if (first > at) break;
    out.add(s);
  }
  for (const { from, first } of own.towardByTarget.get(to.bridge) ?? []) {
    if (first > at) break;
    out.add(from);
  }
  return [...out];
}

const TALK = 'To let them talk on purpose, accept exactly that pair instead';

export const networksCanReachEachOther = defineCheck({
  id: 'networks-can-reach-each-other',
  severity: 'warning',
  summary: "guests of one virtual network can open connections to another's",
  docs: 'docs/checks/networks-can-reach-each-other.md',
  messages: {
    reaches:
      'guests of {{from}} can open connections to guests of {{to}}{{over}}: {{why}}{{legacy}}{{routed}}{{natRouted}}',
    nftReaches: 'guests of {{from}} can open connections to guests of {{to}}{{over}}: tcp 22 is {{by}}{{routed}}',
    rejectPair:
      "if the networks must stay apart, reject the pair before libvirt's rules: `{{tool}} -I FORWARD -i {{fromBridge}} -o {{toBridge}} -j REJECT`",
    keepApart: `keep them apart whatever the start order: \`{{tool}} -I FORWARD -i {{fromBridge}} -o {{toBridge}} -j REJECT\` (or libvirt 5.1+, whose private chains reject it){{removeAccept}}. ${TALK}`,
    nftRejectPair: `{{how}} the pair in a chain of your own on the forward hook (a \`type filter hook forward\` chain such as inet filter forward): \`nft add rule inet filter forward iifname "{{fromBridge}}" oifname "{{toBridge}}" reject\`; a reject there is final whatever libvirt's table accepts. ${TALK}`,
  },
  run(ctx): Finding[] {
    const all = ctx.reachability();
    return all.flatMap((probes) => judge(ctx, probes, all.length > 1));
  },
});

/** One family's host: every pair of networks with rules in it. */
function judge(ctx: AuditContext, probes: Probes, dualStack: boolean): Finding[] {
  // A vif-bridge guest on the uplink's LAN is the outside world to the others (guest-reachable-from-outside's
  // business).
  const subjects = probes.subjects.filter(
    (s) => ctx.hasRules(s.network, probes.family) && !(s.vif !== null && s.bridge === probes.uplink),
  );
  if (subjects.length < 2) return [];
  const nft = probes.sim.ruleset.nft;
  const dump = probes.family === 6 ? ctx.ipv6 : ctx.ipv4;
  if (!dump) return nft ? nftHost(ctx, probes, subjects, nft, dualStack) : [];
  const order = pathOrder(dump);
  // Where each source's own rules start on the path: before that point it is treated like any stranger.
  const own = ownRules(order.rules, subjects);
  const out: Finding[] = [];
  for (const to of subjects) {
    const stranger = probes.stranger(to);
    const stopped = stranger.request.verdict === 'dropped' || stranger.request.verdict === 'rejected';
    const decidedAt = stopped ? stoppedAt(order, stranger.request.decidedBy) : Infinity;
    // A stranger is stopped before any rule that could tell the others apart: so are they.
    for (const from of stopped ? suspects(own, subjects, to, decidedAt) : subjects) {
      if (from === to) continue;
      const r = probes.pair(from, to);
      if (!connects(r)) continue;
      out.push(
        reachFinding(
          ctx,
          probes,
          dualStack,
          from,
          to,
          stepRule(acceptedBy(probes.detail(r).request, 'filter', 'FORWARD')),
        ),
      );
    }
  }
  return out;
}

function reachFinding(
  ctx: AuditContext,
  probes: Probes,
  dualStack: boolean,
  from: Subject,
  to: Subject,
  accept: Rule | null,
): Finding {
  const family = familyOfProbes(probes);
  const tool = family === 'ipv6' ? 'ip6tables' : 'iptables';
  const acceptor = accept ? ctx.explainedRule(accept) : undefined;
  const routed =
    ctx.modeOf(to.network) === 'route' && acceptor?.purpose === 'forward-in' && acceptor.network === to.network.name;
  const reject =
    ctx.rulesOf(to.network.name).find((e) => e.purpose === 'reject-in' && e.family === family)?.rule ?? null;
  // A nat network's IPv6 is routed by libvirt: its forward-in accept takes connections from anywhere, the user chose
  // nat.
  const natRoutedV6 =
    family === 'ipv6' &&
    ctx.modeOf(to.network) === 'nat' &&
    acceptor?.purpose === 'forward-in' &&
    acceptor.network === to.network.name;
  const legacyOrder =
    acceptor?.purpose === 'forward-out' && accept?.chain === 'FORWARD' && reject !== null && reject.chain === 'FORWARD';
  const why = accept
    ? `${atLine(accept)}${acceptor?.network ? ` (${acceptor.network}'s ${acceptor.purpose ?? 'rule'})` : ''} accepts the connection${reject ? ` before ${to.network.name}'s ${atLine(reject)} is reached` : ''}`
    : 'the FORWARD policy accepts the connection';
  return report(networksCanReachEachOther, {
    severity: routed ? 'info' : 'warning',
    network: from.network.name,
    family,
    message: 'reaches',
    fix: routed || natRoutedV6 ? 'rejectPair' : 'keepApart',
    data: {
      from: networkLabel(from.network),
      to: networkLabel(to.network),
      over: overFamily(probes, dualStack),
      why,
      legacy: legacyOrder
        ? `. libvirt's legacy rules are order-dependent: ${from.network.name} was started after ${to.network.name}, so its rules sit above and win (the other way round is rejected) — seed lab query 8`
        : '',
      routed: routed ? `; ${to.network.name} is routed, which accepts connections from anywhere by design` : '',
      natRouted: natRoutedV6
        ? `; libvirt routes ${to.network.name}'s IPv6 rather than NAT it (no <nat ipv6='yes'/>), so its rule accepts new connections from anywhere`
        : '',
      tool,
      fromBridge: from.bridge,
      toBridge: to.bridge,
      removeAccept:
        accept && !acceptor?.purpose ? `; or remove the accepting rule: \`${deleteCommand(accept, family)}\`` : '',
    },
    location: accept ? ctx.location(accept) : ctx.definitionLocation(from.network),
    related: reject ? [{ ...ctx.location(reject), message: `${to.network.name}'s REJECT, reached too late` }] : [],
  });
}

/** An nft host: the same probes, suspects found on the nft forwarding path. */
function nftHost(
  ctx: AuditContext,
  probes: Probes,
  subjects: readonly Subject[],
  nft: NftRuleset,
  dualStack: boolean,
): Finding[] {
  const path = nftForwardPath(nft, subjects, probes.family);
  const out: Finding[] = [];
  for (const to of subjects) {
    const stranger = probes.stranger(to);
    const stopped = stranger.request.verdict === 'dropped' || stranger.request.verdict === 'rejected';
    const at = stopped ? nftStoppedAt(path, stranger.request.decidedBy) : Infinity;
    for (const from of stopped ? nftSuspects(path, subjects, to, at) : subjects) {
      if (from === to) continue;
      const r = probes.pair(from, to);
      if (!connects(r)) continue;
      out.push(nftReachFinding(ctx, probes, dualStack, from, to, acceptedAt(ctx, probes.detail(r).request, 'FORWARD')));
    }
  }
  return out;
}

/** Where an nft host's stranger was stopped: its rule's place on the path or its chain policy's, else Infinity. */
function nftStoppedAt(path: NftPath, step: Step | null): number {
  const rule = step?.rule?.nft?.rule;
  if (rule) return path.order.get(rule) ?? Infinity;
  if (!step || step.rule !== null || step.action !== 'policy') return Infinity;
  return path.policies.get(nftPolicyKey(step.table, step.chain)) ?? Infinity;
}

function nftReachFinding(
  ctx: AuditContext,
  probes: Probes,
  dualStack: boolean,
  from: Subject,
  to: Subject,
  by: Accepted,
): Finding {
  // libvirt's own guest_input accept for a routed network takes connections from anywhere.
  const table = probes.family === 6 ? 'ip6 libvirt_network' : 'ip libvirt_network';
  const routed = ctx.modeOf(to.network) === 'route' && by.nft?.table === table && by.nft.chain === 'guest_input';
  return report(networksCanReachEachOther, {
    severity: routed ? 'info' : 'warning',
    network: from.network.name,
    family: familyOfProbes(probes),
    message: 'nftReaches',
    fix: 'nftRejectPair',
    data: {
      from: networkLabel(from.network),
      to: networkLabel(to.network),
      over: overFamily(probes, dualStack),
      by: by.words,
      routed: routed ? `; ${to.network.name} is routed, which accepts connections from anywhere by design` : '',
      how: routed ? 'if the networks must stay apart, reject' : 'to keep them apart, reject',
      fromBridge: from.bridge,
      toBridge: to.bridge,
    },
    location: by.location ?? ctx.definitionLocation(from.network),
  });
}
