// Reachability assertions, decided by the packet simulator on the host's firewall: a
// connection from one node to another (the first packet and its reply), a port forward
// through the host, a name lookup (straight out, or relayed by the host's dnsmasq — the DNS
// leak of an isolated network), and a guest that routes for another (its own firewall first,
// then the host's with the packet as it leaves that guest).

import { explainRule, networksFromDefinitions, type NetworkInfo } from '../explain/attribute.js';
import type { Expectation, Hop, Service } from '../../grammar/expect.js';
import { DNS_ENABLE_SINCE, isolatedOutsideNames, understandsDnsEnable, type OutsideNames } from '../engine/dnsmasq.js';
import { formatHost, formatHostPort, type HostAddress } from '../model/cidr.js';
import type { Rule } from '../model/dump.js';
import type { Network } from '../model/network.js';
import { formatRule } from '../write/save.js';
import { dnsServed } from '../network/meaning.js';
import { compileDump } from '../sim/compile.js';
import { ruleText, type CompiledRule } from '../sim/ruleset.js';
import { buildTopology, emptySpec, type GuestSpec, type TopologySpec } from '../sim/topology.js';
import {
  connects,
  prepare,
  trace,
  type Leg,
  type Proto,
  type Simulator,
  type TraceResult,
  type Verdict,
} from '../sim/trace.js';
import type { Step } from '../sim/traverse.js';
import type { Firewall } from './firewall.js';
import {
  eraRangeOf,
  gatewaysOf,
  hostTopologySpec,
  type Guest,
  type GuestAttachment,
  type Reach,
  type World,
} from './sheet.js';

/** One traced connection that took part in the decision. */
export interface TracedLeg {
  /** `vm1 → outside tcp/80 on the host`. */
  readonly title: string;
  /** The firewall it was traced on. */
  readonly firewall: string;
  readonly result: TraceResult;
  /** The simulator that traced it (its topology and ruleset), to replay the probe elsewhere (the kernel oracle). */
  readonly sim: Simulator;
  /** The probe as sent: sender (a node name or, for a guest forwarding another's packet, that address) and service. */
  readonly probe: {
    readonly from: string;
    readonly to: string;
    readonly service: Service;
    readonly sport: number | null;
  };
}

export interface DirectionOutcome {
  /** The connection opens, to the node the assertion names. */
  readonly works: boolean;
  /** What happened to the first packet where it stopped (delivered when it works). */
  readonly first: Verdict;
  readonly story: string;
  readonly legs: TracedLeg[];
  readonly undecided: boolean;
  readonly notes: string[];
}

export interface ReachOutcome {
  readonly pass: boolean;
  readonly undecided: boolean;
  /** allowed, rejected, dropped, unreachable, blocked or undecided. */
  readonly observed: string;
  readonly message: string;
  readonly legs: TracedLeg[];
  readonly notes: string[];
}

/** The prepared host (and guest routers) for one firewall. */
export interface ReachContext {
  readonly world: World;
  readonly firewall: Firewall;
  readonly sim: Simulator;
  readonly spec: TopologySpec;
  readonly networks: NetworkInfo[];
  /** Firewalls of guests that route, or why there is none. */
  readonly routers: ReadonlyMap<
    string,
    { readonly ok: true; readonly firewall: Firewall } | { readonly ok: false; readonly why: string }
  >;
}

export function reachContext(world: World, firewall: Firewall, routers: ReachContext['routers']): ReachContext {
  const spec = hostTopologySpec(world);
  return {
    world,
    firewall,
    spec,
    routers,
    sim: prepare(compileDump({ ...firewall.dump, family: 'ipv4' }), buildTopology(spec)),
    networks: networksFromDefinitions(world.networks.map((n) => n.network)),
  };
}

// --- words -------------------------------------------------------------------------------------

function serviceText(s: Service): string {
  return s.proto === 'tcp' || s.proto === 'udp' ? `${s.proto}/${s.port}` : s.proto === 'dns' ? 'dns' : 'ping';
}

/** A traced rule as people should read it (see ruleShown). */
export function stepRuleShown(r: CompiledRule): string {
  return r.rule ? ruleShown(r.rule) : ruleText(r, 4);
}

/** A rule as people should read it: a student's command as they wrote it, anything else canonically. */
export function ruleShown(rule: Rule): string {
  return /^\s*(sudo\s+)?(\S*\/)?ip6?tables/.test(rule.text) ? rule.text.trim() : formatRule(rule, 'ipv4');
}

function ruleWords(ctx: ReachContext, step: Step): string {
  if (!step.rule) return `the ${step.table} ${step.chain} policy (${step.detail?.replace(/^policy /, '') ?? 'ACCEPT'})`;
  const rule = step.rule.rule;
  if (!rule) return `${step.table} ${step.chain} rule '${ruleText(step.rule, 4)}'`;
  const e = explainRule(rule, 'ipv4', ctx.networks);
  const owner = e.network ? `${e.network}: ${e.why}` : e.owner === 'host' ? null : e.why;
  const line =
    ctx.firewall.describe === ctx.firewall.dump.file && rule.line > 0 ? `, ${ctx.firewall.dump.file}:${rule.line}` : '';
  return `${step.table} ${step.chain} rule '${ruleShown(rule)}'${line}${owner ? ` (${owner})` : ''}`;
}

/** A rule of the answer's own further down the chain that decided, with the opposite verdict: it comes too late. */
function tooLate(ctx: ReachContext, step: Step): string {
  if (!step.rule) return '';
  const accepted = step.action === 'accept';
  const wanted = accepted ? ['REJECT', 'DROP'] : ['ACCEPT'];
  const chain = ctx.sim.ruleset.chains.get(`${step.table}/${step.chain}`);
  const later = chain?.rules.find((r) => {
    if (!r.rule || r.index <= step.rule!.index || !wanted.includes(r.rule.target?.name ?? '')) return false;
    // Not about this packet when it names other devices than the deciding rule does.
    const k = step.rule!.keys;
    if ((k.in && r.keys.in && k.in !== r.keys.in) || (k.out && r.keys.out && k.out !== r.keys.out)) return false;
    const e = explainRule(r.rule, 'ipv4', ctx.networks);
    return (
      /^\s*(sudo\s+)?(\S*\/)?ip6?tables/.test(r.rule.text) ||
      (e.owner === 'host' && e.purpose === null && e.network !== null)
    );
  });
  if (!later) return '';
  return `; '${ruleShown(later.rule!)}' comes after it in ${step.chain}, too late: rules below ${accepted ? 'an ACCEPT never see what it accepts' : 'a REJECT never see what it rejects'}`;
}

function legWords(ctx: ReachContext, leg: Leg): string {
  switch (leg.verdict) {
    case 'rejected':
      return leg.decidedBy ? `rejected by ${ruleWords(ctx, leg.decidedBy)}${tooLate(ctx, leg.decidedBy)}` : leg.reason;
    case 'dropped':
      return leg.decidedBy ? `dropped by ${ruleWords(ctx, leg.decidedBy)}${tooLate(ctx, leg.decidedBy)}` : leg.reason;
    case 'unknown':
      return `undecided: ${leg.reason}`;
    case 'unreachable':
      return `undeliverable: ${leg.reason}`;
    case 'delivered':
      return leg.reason;
  }
}

/** The rule that let a delivered packet in (the last ACCEPT on its way), for "accepted by …". */
function acceptStep(leg: Leg, chain: string): Step | null {
  const steps = leg.events.flatMap((e) =>
    e.kind === 'rule' && e.action === 'accept' && e.rule && e.chain === chain ? [e] : [],
  );
  return steps[steps.length - 1] ?? null;
}

function seenText(r: TraceResult, leg: Leg): string {
  const s = leg.seen;
  if (!s) return '';
  const f = (a: bigint): string => formatHost(r.family, a);
  return r.proto === 'icmp'
    ? `${f(s.src)} → ${f(s.dst)}`
    : `${formatHostPort(r.family, s.src, s.sport)} → ${formatHostPort(r.family, s.dst, s.dport)}`;
}

// --- one direction -----------------------------------------------------------------------------

function serviceOf(from: Hop, to: Hop): Service {
  return to.service ?? from.service ?? (to.port !== null ? { proto: 'tcp', port: to.port } : { proto: 'icmp' });
}

function probe(sim: Simulator, from: string, to: string, s: Service, sport?: number): TraceResult {
  const proto: Proto = s.proto === 'tcp' || s.proto === 'udp' ? s.proto : 'icmp';
  return trace(sim, {
    from,
    to,
    proto,
    ...(s.proto === 'tcp' || s.proto === 'udp' ? { dport: s.port } : {}),
    ...(sport !== undefined ? { sport } : {}),
  });
}

/** Traces a probe and keeps what is needed to show it and to replay it. */
function traced(
  sim: Simulator,
  firewall: string,
  title: string,
  from: string,
  to: string,
  s: Service,
  sport?: number,
): TracedLeg {
  return {
    title,
    firewall,
    result: probe(sim, from, to, s, sport),
    sim,
    probe: { from, to, service: s, sport: sport ?? null },
  };
}

function targetMatches(at: string | null, to: string): boolean {
  if (at === null) return false;
  if (/^\d/.test(to)) return true;
  return at === to;
}

function outcomeOf(ctx: ReachContext, leg: TracedLeg, to: string): DirectionOutcome {
  const r = leg.result;
  const legs = [leg];
  const undecided = r.request.verdict === 'unknown' || r.reply?.verdict === 'unknown';
  const notes = [...r.request.notes, ...(r.reply?.notes ?? [])];
  if (r.request.verdict !== 'delivered')
    return { works: false, first: r.request.verdict, story: legWords(ctx, r.request), legs, undecided, notes };
  if (!targetMatches(r.request.at, to)) {
    return {
      works: false,
      first: 'delivered',
      story: `it arrives at ${r.request.at} (${seenText(r, r.request)}), not at ${to}`,
      legs,
      undecided,
      notes,
    };
  }
  if (!r.reply || r.reply.verdict !== 'delivered') {
    return {
      works: false,
      first: 'delivered',
      story: `the first packet arrives (${seenText(r, r.request)}), but the reply is ${r.reply ? legWords(ctx, r.reply) : 'not sent'}`,
      legs,
      undecided,
      notes,
    };
  }
  const step = acceptStep(r.request, r.request.at === 'host' ? 'INPUT' : 'FORWARD');
  const via = step ? `, accepted by ${ruleWords(ctx, step)}` : '';
  return {
    works: true,
    first: 'delivered',
    story: `it connects (arrives as ${seenText(r, r.request)}${via})${step ? tooLate(ctx, step) : ''}`,
    legs,
    undecided,
    notes,
  };
}

function direct(ctx: ReachContext, from: Hop, to: Hop): DirectionOutcome {
  const s = serviceOf(from, to);
  return outcomeOf(
    ctx,
    traced(ctx.sim, ctx.firewall.describe, `${from.node} → ${to.node} ${serviceText(s)}`, from.node, to.node, s),
    to.node,
  );
}

/** The answer's own rules (written as iptables commands) that name this port forward's ports or guest. */
function answerRules(ctx: ReachContext): Array<{ table: string; chain: string; rule: Rule }> {
  const out: Array<{ table: string; chain: string; rule: Rule }> = [];
  for (const t of ctx.firewall.dump.tables)
    for (const c of t.chains)
      for (const r of c.rules)
        if (/^\s*(sudo\s+)?(\S*\/)?ip6?tables/.test(r.text)) out.push({ table: t.name, chain: c.name, rule: r });
  return out;
}

function portOf(rule: Rule): number | null {
  for (const m of rule.matches)
    for (const o of m.options)
      if (!o.negated && (o.name === '--dport' || o.name === '--destination-port')) return Number(o.args[0]?.value);
  return null;
}

/**
 * Why the student's own rules do not make the port forward work, in their words: a DNAT that
 * keeps the port (no `:PORT` in --to-destination), one on an interface outside packets do not
 * arrive on, an accept in INPUT (which forwarded packets never pass).
 */
function answerRulesAbout(ctx: ReachContext, port: number, wanted: number, guest: string): string {
  const said: string[] = [];
  const uplink = ctx.world.uplink.name;
  const guestAddr = ctx.world.guests.flatMap((g) => g.attachments).find((a) => a.endpoint === guest)?.address
    .address.value;
  for (const { table, chain, rule } of answerRules(ctx)) {
    const target = rule.target?.name;
    if (table === 'nat' && target === 'DNAT' && portOf(rule) === port) {
      const to =
        rule.target!.options.find((o) => o.name === '--to-destination' || o.name === '--to')?.args[0]?.value ?? '';
      if (!/:\d/.test(to) && port !== wanted)
        said.push(
          `the answer's '${ruleShown(rule)}' keeps port ${port}: --to-destination ${to} names no port, so the guest is asked on ${port}, not ${wanted} (write ${to}:${wanted})`,
        );
      const iface = rule.inInterface;
      if (iface && !iface.negated && iface.name !== uplink)
        said.push(
          `the answer's '${ruleShown(rule)}' matches only packets arriving on ${iface.name}; outside's arrive on ${uplink}`,
        );
    }
    if (
      table === 'filter' &&
      target === 'ACCEPT' &&
      (chain === 'INPUT' || chain === 'OUTPUT') &&
      guestAddr !== undefined &&
      rule.destination &&
      !rule.destination.negated &&
      rule.destination.network === guestAddr
    ) {
      said.push(
        `the answer's '${ruleShown(rule)}' is in ${chain}, which sees only packets for the host itself: a forwarded connection to ${guest} passes FORWARD`,
      );
    }
  }
  return said.length > 0 ? `. ${said.join('; ')}` : '';
}

function portForward(ctx: ReachContext, from: Hop, mid: Hop, to: Hop): DirectionOutcome {
  const s = mid.service ?? { proto: 'tcp' as const, port: mid.port! };
  const port = s.proto === 'tcp' || s.proto === 'udp' ? s.port : 0;
  const wanted =
    to.service && (to.service.proto === 'tcp' || to.service.proto === 'udp') ? to.service.port : (to.port ?? port);
  const title = `${from.node} → host ${serviceText(s)} → ${to.node}:${wanted}`;
  const leg = traced(ctx.sim, ctx.firewall.describe, title, from.node, 'host', s);
  const r = leg.result;
  const legs = [leg];
  const base0 = outcomeOf(ctx, leg, to.node);
  const own = answerRulesAbout(ctx, port, wanted, to.node);
  const base = base0.works ? base0 : { ...base0, story: `${base0.story}${own}` };
  const forHost = r.request.decidedBy?.hook === 'INPUT';
  if (forHost && !base.works) {
    return {
      ...base,
      story: `nothing forwards it to ${to.node} (a DNAT in nat PREROUTING does): it stays for the host itself on port ${port} and is ${legWords(ctx, r.request)}${own}`,
      legs,
    };
  }
  if (r.request.verdict === 'delivered' && r.request.at === 'host') {
    return {
      ...base,
      works: false,
      story: `it arrives at the host itself on port ${port} (${seenText(r, r.request)}): nothing forwards it to ${to.node} (a DNAT in nat PREROUTING does)${own}`,
      legs,
    };
  }
  if (base.works && r.request.seen && r.request.seen.dport !== wanted) {
    return {
      ...base,
      works: false,
      story: `it reaches ${to.node} on port ${r.request.seen.dport}, not ${wanted}${own}`,
      legs,
    };
  }
  return base;
}

// --- name lookups ------------------------------------------------------------------------------

/** Does this era's dnsmasq answer DNS on the network? (`<dns enable='no'>` arrived in libvirt 2.2.0.) */
function dnsAnswers(world: World, n: Network): { answers: boolean; note: string | null } {
  if (world.era.flavor.startsWith('xen')) return { answers: false, note: null };
  const range = eraRangeOf(world);
  if (!n.dns.enable && understandsDnsEnable(range) === 'no' && dnsServed({ ...n, dns: { ...n.dns, enable: true } })) {
    return {
      answers: true,
      note: `${range.label} does not know <dns enable='no'/> (it arrived in libvirt ${DNS_ENABLE_SINCE}): dnsmasq still answers DNS on ${n.bridge?.name ?? n.name}`,
    };
  }
  return { answers: dnsServed(n), note: null };
}

/** Does the host's dnsmasq forward outside names for guests of the network (isolated ones: by era)? */
function forwardsOutside(world: World, n: Network): OutsideNames {
  if (n.forward.mode !== 'none')
    return {
      answer: 'forwards',
      because: `dnsmasq forwards what it cannot answer to the host's resolvers (${n.forward.mode} network)`,
    };
  return isolatedOutsideNames(n, eraRangeOf(world));
}

function attachmentOf(world: World, endpoint: string): { guest: Guest; attachment: GuestAttachment } | null {
  for (const g of world.guests)
    for (const a of g.attachments) if (a.endpoint === endpoint) return { guest: g, attachment: a };
  return null;
}

function dns(ctx: ReachContext, from: Hop, to: Hop): DirectionOutcome {
  const legs: TracedLeg[] = [];
  const notes: string[] = [];
  const tried: string[] = [];
  let undecided = false;
  const run = (a: string, b: string, s: Service): TraceResult => {
    const leg = traced(ctx.sim, ctx.firewall.describe, `${a} → ${b} ${serviceText(s)}`, a, b, s);
    const r = leg.result;
    legs.push(leg);
    if (r.request.verdict === 'unknown' || r.reply?.verdict === 'unknown') undecided = true;
    return r;
  };
  // Straight to a resolver out there.
  if (to.node !== 'host') {
    for (const proto of ['udp', 'tcp'] as const) {
      const r = run(from.node, to.node, { proto, port: 53 });
      if (connects(r))
        return {
          works: true,
          first: 'delivered',
          story: `names resolve: ${from.node} reaches a resolver at ${to.node} directly (${proto}/53)`,
          legs,
          undecided,
          notes,
        };
      tried.push(
        `${proto}/53 to ${to.node} directly: ${legWords(ctx, r.request.verdict === 'delivered' && r.reply ? r.reply : r.request)}`,
      );
    }
  }
  // Through the host's dnsmasq on the guest's network.
  const place = attachmentOf(ctx.world, from.node);
  const declared = place ? ctx.world.networks.find((n) => n.name === place.attachment.on) : undefined;
  if (declared && declared.network.kind === 'libvirt') {
    const n = declared.network;
    const { answers, note } = dnsAnswers(ctx.world, n);
    if (note) notes.push(note);
    if (!answers)
      tried.push(
        `the host's dnsmasq does not answer DNS on ${n.bridge?.name ?? n.name}${n.dns.enable ? '' : " (<dns enable='no'/>)"}`,
      );
    else {
      for (const proto of ['udp', 'tcp'] as const) {
        const r = run(from.node, 'host', { proto, port: 53 });
        if (!connects(r)) {
          tried.push(
            `the host's dnsmasq over ${proto}/53: ${legWords(ctx, r.request.verdict === 'delivered' && r.reply ? r.reply : r.request)}`,
          );
          continue;
        }
        const step = acceptStep(r.request, 'INPUT');
        const late = step ? tooLate(ctx, step) : '';
        const asked = `${from.node}'s query to the host's dnsmasq (${seenText(r, r.request)}, ${proto}) is accepted${step ? ` by ${ruleWords(ctx, step)}` : ''}`;
        if (to.node === 'host')
          return { works: true, first: 'delivered', story: `names resolve: ${asked}${late}`, legs, undecided, notes };
        const names = forwardsOutside(ctx.world, n);
        if (names.answer === 'refuses') {
          tried.push(`${asked}, but ${names.because}`);
          break;
        }
        if (names.answer === 'depends') {
          undecided = true;
          tried.push(`${asked}; ${names.because}`);
          break;
        }
        const up = run('host', to.node, { proto: 'udp', port: 53 });
        const era = n.forward.mode === 'none' ? ` (${names.because})` : '';
        if (connects(up))
          return {
            works: true,
            first: 'delivered',
            story: `names resolve: ${asked}, and dnsmasq forwards it to ${to.node}${era}${late}`,
            legs,
            undecided,
            notes,
          };
        tried.push(`the host's dnsmasq cannot forward to ${to.node}: ${legWords(ctx, up.request)}`);
        break;
      }
    }
  }
  const last = legs[legs.length - 1]?.result.request.verdict ?? 'unreachable';
  return { works: false, first: last, story: `names do not resolve: ${tried.join('; ')}`, legs, undecided, notes };
}

// --- a guest that routes -------------------------------------------------------------------------

/** The guest that routes for `from` towards `to`: its gateway, when that guest has its own firewall. */
function routerFor(
  world: World,
  from: string,
  to: string,
): { router: Guest; inside: GuestAttachment; origin: GuestAttachment } | null {
  const place = attachmentOf(world, from);
  if (!place || !place.attachment.gateway) return null;
  const gw = place.attachment.gateway;
  for (const g of world.guests) {
    if (!world.guestFirewalls.has(g.name) || g.name === place.guest.name) continue;
    const inside = g.attachments.find((a) => a.on === place.attachment.on && a.address.address.value === gw.value);
    if (!inside) continue;
    // A destination on the sender's own network is reached directly.
    const target = attachmentOf(world, to);
    if (target && target.attachment.on === place.attachment.on) return null;
    return { router: g, inside, origin: place.attachment };
  }
  return null;
}

function hostAddressOn(world: World, on: string): HostAddress | null {
  if (on === world.uplink.name) return world.uplink.gateways.find((g) => g.family === 4) ?? null;
  const n = world.networks.find((x) => x.name === on)?.network;
  return n && n.kind === 'libvirt' ? (n.ips.find((ip) => ip.family === 4)?.address ?? null) : null;
}

/** The router guest as a host of its own: its first network is its uplink, the others are its LANs. */
function routerSpec(world: World, router: Guest): TopologySpec {
  const [primary, ...lans] = router.attachments;
  const guests: GuestSpec[] = [];
  for (const lan of lans) {
    for (const g of world.guests) {
      if (g === router) continue;
      for (const a of g.attachments)
        if (a.on === lan.on)
          guests.push({
            name: a.endpoint,
            attach: lan.device,
            addresses: [a.address],
            gateways: gatewaysOf(a),
            port: null,
            mac: null,
          });
    }
  }
  return {
    ...emptySpec(),
    uplink: {
      name: primary!.device,
      addresses: [primary!.address],
      gateways: [primary!.gateway ?? hostAddressOn(world, primary!.on)].filter((g): g is HostAddress => g !== null),
      port: null,
    },
    bridges: lans.map((l) => ({ name: l.device, addresses: [l.address], network: l.on })),
    guests,
    outside: world.outside,
    autoGuests: false,
  };
}

function viaRouter(
  ctx: ReachContext,
  from: Hop,
  to: Hop,
  path: NonNullable<ReturnType<typeof routerFor>>,
): DirectionOutcome {
  const s = serviceOf(from, to);
  const { router, inside } = path;
  const name = router.name;
  const legs: TracedLeg[] = [];
  const fail = (first: Verdict, story: string, undecided = false): DirectionOutcome => ({
    works: false,
    first,
    story,
    legs,
    undecided,
    notes: [],
  });

  // 1. On the host: the sender reaches its gateway, the router guest.
  const first = traced(
    ctx.sim,
    ctx.firewall.describe,
    `${from.node} → ${name} (its gateway, ${formatHost(4, inside.address.address.value)}) ${serviceText(s)}`,
    from.node,
    inside.endpoint,
    s,
  );
  const hop1 = first.result;
  legs.push(first);
  if (!connects(hop1))
    return fail(
      hop1.request.verdict,
      `${from.node} cannot reach its gateway ${name}: ${legWords(ctx, hop1.request.verdict === 'delivered' && hop1.reply ? hop1.reply : hop1.request)}`,
      hop1.request.verdict === 'unknown',
    );

  // 2. Through the router's own firewall.
  const fw = ctx.routers.get(name);
  if (!fw || !fw.ok)
    return fail(
      'unknown',
      `${name} routes for ${from.node}, but ${fw && !fw.ok ? fw.why : `its firewall is not known`}`,
    );
  const spec = routerSpec(ctx.world, router);
  const target =
    to.node === 'host'
      ? hostAddressOn(ctx.world, router.attachments[0]!.on)
        ? formatHost(4, hostAddressOn(ctx.world, router.attachments[0]!.on)!.value)
        : 'outside'
      : to.node;
  const routerSim = prepare(compileDump({ ...fw.firewall.dump, family: 'ipv4' }), buildTopology(spec));
  const through = traced(
    routerSim,
    fw.firewall.describe,
    `${from.node} → ${to.node} ${serviceText(s)} through ${name}`,
    from.node,
    target,
    s,
  );
  const rr = through.result;
  const routerCtx: ReachContext = { ...ctx, firewall: fw.firewall, sim: routerSim, spec };
  legs.push(through);
  if (rr.request.verdict !== 'delivered' || !rr.request.seen)
    return fail(
      rr.request.verdict,
      `${name}'s own firewall does not pass it on: ${legWords(routerCtx, rr.request)}`,
      rr.request.verdict === 'unknown',
    );

  // 3. On the host again, as the packet leaves the router.
  const seen = rr.request.seen;
  const own = router.attachments[0]!.address.address.value;
  const masqueraded = seen.src === own;
  let hostSim = ctx.sim;
  let sender = router.attachments[0]!.endpoint;
  if (!masqueraded) {
    // The router forwards with the sender's address: the host sees that address come from the router.
    // (It is listed first so that it, not the guest behind it, owns that address as a sender.)
    const topo = buildTopology(ctx.spec);
    const routerEnd = topo.endpoints.find((e) => e.name === sender)!;
    const endpoints = [
      { ...routerEnd, extra: [...routerEnd.extra, { family: 4 as const, value: seen.src }] },
      ...topo.endpoints.filter((e) => e !== routerEnd),
    ];
    hostSim = prepare(ctx.sim.ruleset, { ...topo, endpoints });
    sender = formatHost(4, seen.src);
  }
  const onward = traced(
    hostSim,
    ctx.firewall.describe,
    `${name} → ${to.node} ${serviceText(s)} on the host, from ${formatHost(4, seen.src)}`,
    sender,
    to.node,
    s,
    seen.sport,
  );
  const hr = onward.result;
  const leaves = `it leaves ${name} as ${formatHost(4, seen.src)}${masqueraded ? ` (${name} masquerades it)` : ` (${name} does not masquerade it)`}`;
  legs.push(onward);
  if (hr.request.verdict !== 'delivered')
    return fail(
      hr.request.verdict,
      `${leaves}, then the host: ${legWords(ctx, hr.request)}`,
      hr.request.verdict === 'unknown',
    );
  if (!hr.reply || hr.reply.verdict !== 'delivered')
    return fail(
      'delivered',
      `${leaves} and arrives, but the reply never gets back to ${name}: ${hr.reply ? legWords(ctx, hr.reply) : 'none'}`,
    );
  if (!rr.reply || rr.reply.verdict !== 'delivered')
    return fail(
      'delivered',
      `the reply comes back to ${name}, which does not pass it on to ${from.node}: ${rr.reply ? legWords(routerCtx, rr.reply) : 'none'}`,
    );
  return {
    works: true,
    first: 'delivered',
    story: `it connects through ${name}: ${leaves}`,
    legs,
    undecided: false,
    notes: [],
  };
}

// --- the assertion --------------------------------------------------------------------------------

export function direction(ctx: ReachContext, hops: readonly Hop[]): DirectionOutcome & { via: string | null } {
  const [from, second, third] = hops as [Hop, Hop, Hop | undefined];
  if (third) return { ...portForward(ctx, from, second, third), via: null };
  if (serviceOf(from, second).proto === 'dns') return { ...dns(ctx, from, second), via: null };
  const path = routerFor(ctx.world, from.node, second.node);
  if (path) return { ...viaRouter(ctx, from, second, path), via: path.router.name };
  return { ...direct(ctx, from, second), via: null };
}

function satisfies(expect: Expectation, o: DirectionOutcome): boolean {
  switch (expect) {
    case 'allowed':
      return o.works;
    case 'blocked':
      return !o.works;
    case 'rejected':
      return !o.works && o.first === 'rejected';
    case 'dropped':
      return !o.works && o.first === 'dropped';
  }
}

function observedWord(o: DirectionOutcome): string {
  if (o.undecided) return 'undecided';
  if (o.works) return 'allowed';
  return o.first === 'rejected' || o.first === 'dropped' || o.first === 'unreachable' ? o.first : 'blocked';
}

/** Evaluates one reachability assertion on one firewall. */
export function evaluateReach(ctx: ReachContext, a: Reach): ReachOutcome {
  const directions = a.bothWays ? [a.hops, [...a.hops].reverse()] : [a.hops];
  const outcomes = directions.map((hops) => ({ hops, o: direction(ctx, hops) }));
  const legs = outcomes.flatMap((x) => x.o.legs);
  const notes = [...new Set(outcomes.flatMap((x) => x.o.notes))];
  const failing = outcomes.find((x) => !satisfies(a.expect, x.o));
  const viaMissing = a.via ? outcomes.find((x) => x.o.works && x.o.via !== a.via!.name) : undefined;
  const undecided = outcomes.some((x) => x.o.undecided && !satisfies(a.expect, x.o));
  const words = (x: { hops: readonly Hop[]; o: DirectionOutcome }): string =>
    `${x.hops.map((h) => h.node + (h.port !== null ? `:${h.port}` : '')).join(' → ')}${x.hops.length === 2 ? ` ${serviceText(serviceOf(x.hops[0]!, x.hops[1]!))}` : ''}: ${x.o.story}`;
  if (failing) {
    const sender = failing.hops[0]!.node;
    const noRoute =
      a.via && failing.o.story.includes(`${sender} has no route`)
        ? ` (${sender} needs a default route through ${a.via.name})`
        : '';
    return {
      pass: false,
      undecided,
      observed: observedWord(failing.o),
      message: `expected ${a.expect}, but ${words(failing)}${noRoute}`,
      legs,
      notes,
    };
  }
  if (viaMissing) {
    return {
      pass: false,
      undecided: false,
      observed: 'allowed',
      message: `expected the traffic to go through ${a.via!.name}, but ${words(viaMissing)} without it`,
      legs,
      notes,
    };
  }
  return {
    pass: true,
    undecided: false,
    observed: observedWord(outcomes[0]!.o),
    message: outcomes.map(words).join('; '),
    legs,
    notes,
  };
}
