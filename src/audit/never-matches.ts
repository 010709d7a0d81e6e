// An admin's FORWARD accept that can never match: the packets it is for (to a guest, its
// protocol and port) are decided by an earlier rule from every source the simulated host has —
// typically libvirt's REJECT above an accept appended with -A (the seed lab's query 5). Found
// by the simulator: each source's packet is traced, and the rule must never take part.

import { cidrContains, formatHost, type HostAddress, type IpFamily } from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import { traceWay, type Probe, type Proto, type Simulator, type TraceResult } from '../sim/trace.js';
import type { AuditContext } from './context.js';
import type { Probes, Subject } from './probes.js';

export interface NeverMatching {
  readonly rule: Rule;
  /** The rule that decides first (null: a policy), for the first source tried. */
  readonly decider: Rule | null;
  /** What the decider does with the packet. */
  readonly verdict: 'rejected' | 'dropped' | 'accepted';
  readonly subject: Subject;
  /** The family it was traced in (the rule is in that family's dump). */
  readonly family: IpFamily;
  /** The packet, for people: `tcp 80 from outside to 192.168.124.10`. */
  readonly packet: string;
  /** Every source tried, in words. */
  readonly sources: string[];
}

/** Matches a probe can stand for: a protocol with a destination port, a comment. */
const PLAIN_MODULES = new Set(['tcp', 'udp', 'comment']);

function port(rule: Rule): number | null {
  for (const m of rule.matches) {
    for (const o of m.options) {
      if (o.name !== '--dport' && o.name !== '--destination-port') continue;
      if (o.negated) return null;
      const n = Number(/^\d+/.exec(o.args[0]?.value ?? '')?.[0]);
      return Number.isInteger(n) ? n : null;
    }
  }
  return null;
}

/** The guest and packet a FORWARD accept is for, when a probe can stand for it. */
function target(
  rule: Rule,
  subjects: readonly Subject[],
  uplink: string,
  family: IpFamily,
): { subject: Subject; to: HostAddress; proto: Proto; dport: number | undefined; fromOutsideOnly: boolean } | null {
  if (
    rule.table !== 'filter' ||
    rule.target?.name !== 'ACCEPT' ||
    rule.source ||
    rule.matches.some((m) => !PLAIN_MODULES.has(m.name))
  )
    return null;
  if (rule.inInterface && (rule.inInterface.negated || rule.inInterface.name !== uplink)) return null;
  const proto = rule.protocol?.negated ? null : (rule.protocol?.name ?? null);
  if (proto !== null && proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') return null;
  const d = rule.destination;
  const out = rule.outInterface && !rule.outInterface.negated ? rule.outInterface.name : null;
  if (d?.negated || rule.outInterface?.negated) return null;
  const subject = subjects.find(
    (s) => (d ? cidrContains(s.subnet, { family, value: d.network }) : false) || (out !== null && s.bridge === out),
  );
  if (!subject || (out !== null && subject.bridge !== out)) return null;
  const to = d && d.prefix === (family === 6 ? 128 : 32) ? { family, value: d.network } : subject.guest;
  const dport = port(rule);
  if ((proto === 'tcp' || proto === 'udp') && dport === null && rule.matches.some((m) => m.options.length > 0))
    return null;
  return {
    subject,
    to,
    proto: proto ?? 'tcp',
    dport: proto === 'icmp' ? undefined : (dport ?? 80),
    fromOutsideOnly: rule.inInterface !== null,
  };
}

function actedIn(r: TraceResult, rule: Rule): boolean {
  return r.request.events.some((e) => e.kind === 'rule' && e.rule?.rule === rule);
}

/** The rule acts in some way the probe's undecided conditions can go (a trace shows its first way only). */
function actsInSomeWay(sim: Simulator, probe: Probe, r: TraceResult, rule: Rule): boolean {
  if (!r.branches) return actedIn(r, rule);
  return r.branches.paths.some((p) =>
    actedIn(
      traceWay(
        sim,
        probe,
        p.choices.map((c) => c.matched),
      ),
      rule,
    ),
  );
}

/**
 * The filter rules of one family's dump a forwarded packet can meet: FORWARD's and those of every chain it reaches by
 * -j or -g.
 */
function forwardRules(dump: Dump | null): Set<Rule> {
  const rules = new Set<Rule>();
  const filter = dump?.tables.find((t) => t.name === 'filter');
  if (!filter) return rules;
  const chains = new Map(filter.chains.map((c) => [c.name, c]));
  const seen = new Set<string>(['FORWARD']);
  const todo = ['FORWARD'];
  while (todo.length > 0) {
    for (const rule of chains.get(todo.pop()!)?.rules ?? []) {
      rules.add(rule);
      const next = rule.target?.name;
      if (next !== undefined && chains.has(next) && !seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return rules;
}

/** The host's own FORWARD accepts to a guest that no simulated source's packet ever reaches. */
export function neverMatchingRules(ctx: AuditContext): NeverMatching[] {
  // IPv4's simulated host, then IPv6's (ip6tables-save's rules) where a network has an IPv6 address.
  const v6 = ctx.reachability().find((p) => p.family === 6);
  return [ctx.probes(), v6 ?? null].flatMap((probes) => (probes ? neverMatchingIn(ctx, probes) : []));
}

function neverMatchingIn(ctx: AuditContext, probes: Probes): NeverMatching[] {
  const family = probes.family;
  const out: NeverMatching[] = [];
  // One set, not a search of the dump per rule (that was quadratic on a 100,000-rule host).
  const forwarded = forwardRules(family === 6 ? ctx.ipv6 : ctx.ipv4);
  if (forwarded.size === 0) return out;
  const explained = ctx.explained;
  for (let i = 0; i < explained.length; i++) {
    const e = explained[i]!;
    if (e.owner !== 'host' || e.purpose !== null || e.rule.table !== 'filter' || !forwarded.has(e.rule)) continue;
    const t = target(e.rule, probes.subjects, probes.uplink, family);
    if (!t) continue;
    const sources = t.fromOutsideOnly
      ? ['outside']
      : ['outside', 'stranger', ...probes.subjects.filter((s) => s !== t.subject).map((s) => s.endpoint)];
    const dst = formatHost(family, t.to.value);
    const asked = sources.map((from): Probe => ({
      from,
      to: dst,
      proto: t.proto,
      ...(t.dport !== undefined ? { dport: t.dport } : {}),
    }));
    // Never in any state: in no way the undecided conditions before it can go. The first source
    // whose packet reaches the rule (or cannot be decided) ends the search.
    const results: TraceResult[] = [];
    let reached = false;
    for (const p of asked) {
      const r = probes.trace(p);
      results.push(r);
      if (
        r.request.verdict === 'unknown' ||
        r.reply?.verdict === 'unknown' ||
        actsInSomeWay(probes.sim, p, r, e.rule)
      ) {
        reached = true;
        break;
      }
    }
    if (reached) continue;
    const first = results[0]!;
    const decided = first.request.decidedBy;
    // Only what the filter table decided before the rule: not a routing failure.
    if (!decided || decided.table !== 'filter') continue;
    const verdict =
      first.request.verdict === 'rejected' ? 'rejected' : first.request.verdict === 'dropped' ? 'dropped' : 'accepted';
    out.push({
      rule: e.rule,
      decider: decided.rule?.rule ?? null,
      verdict,
      subject: t.subject,
      family,
      packet: `${t.proto}${t.dport !== undefined ? ` ${t.dport}` : ''} from outside to ${dst}`,
      sources: sources.map((s) =>
        s === 'stranger' ? 'a host on another link' : s.startsWith('guest of ') ? `a ${s}` : s,
      ),
    });
  }
  return out;
}
