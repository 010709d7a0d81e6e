// One packet's journey, the way Linux moves it: from its sender over a bridge or a routed
// link into the host, PREROUTING, the routing decision (local delivery or forwarding, and by
// which device), INPUT or FORWARD, POSTROUTING, out to the neighbour that owns the next hop
// — then the reply, back through conntrack with the NAT undone.

import { formatHost, formatHostPort, maskOf, parseHost, type IpFamily } from '../model/cidr.js';
import { UsageError } from '../model/errors.js';
import { refKey, ruleLine, ruleName, ruleWhere, type Ruleset } from './ruleset.js';
import {
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  ST_ESTABLISHED,
  ST_INVALID,
  ST_NEW,
  ST_RELATED,
  TCP_ACK,
  TCP_SYN,
  explorer,
  freshMemory,
  PacketCtx,
  type Choice,
  type Explorer,
  type RuleRef,
  type Flow,
  type Hook,
  type MatchCtx,
  type TraceMemory,
} from './packet.js';
import type { Endpoint, HostInterface, Route, Topology } from './topology.js';
import {
  jumpStack,
  runHook,
  type Hop,
  type HookOutcome,
  type JumpStack,
  type NatHost,
  type Step,
  type Walker,
} from './traverse.js';

export type Verdict = 'delivered' | 'dropped' | 'rejected' | 'unknown' | 'unreachable';

/** What the sender of an undeliverable packet notices. */
export type Signal = 'local-error' | 'icmp-net-unreachable' | 'icmp-host-unreachable' | 'arp-timeout' | 'silent';

export interface Seen {
  readonly src: bigint;
  readonly dst: bigint;
  readonly sport: number;
  readonly dport: number;
}

/** What happened, in order: rule steps (`kind: 'rule'`) and routing/link hops (`kind: 'hop'`). */
export type TraceEvent = Step | Hop;

/** One direction of the connection. */
export interface Leg {
  readonly verdict: Verdict;
  readonly reason: string;
  readonly events: readonly TraceEvent[];
  /** The rule step that dropped/rejected/stopped it, when a rule did. */
  readonly decidedBy: Step | null;
  readonly rejectWith: string | null;
  readonly signal: Signal | null;
  /** `host` or the endpoint where it arrived. */
  readonly at: string | null;
  /** The packet as it arrived (after NAT). */
  readonly seen: Seen | null;
  readonly notes: readonly string[];
}

export type Proto = 'tcp' | 'udp' | 'icmp';

export interface Probe {
  readonly from: string;
  readonly to: string;
  readonly proto: Proto;
  readonly dport?: number;
  readonly sport?: number;
  /** The sender's source address, when it has several (outside speaks from its far address by default). */
  readonly fromAddress?: string;
  /** Conntrack state of the first packet (default NEW). */
  readonly state?: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID';
  /** Give up on recording events (benchmarks). */
  readonly quiet?: boolean;
  /** How many ways undecided conditions are followed (default BRANCH_BUDGET). */
  readonly branches?: number;
}

export interface TraceResult {
  readonly family: IpFamily;
  readonly from: string;
  readonly to: string;
  readonly proto: Proto;
  readonly packet: Seen;
  readonly request: Leg;
  readonly reply: Leg | null;
  /** Conditions the packet alone did not decide, and what each way they went gives. */
  readonly branches?: Branches;
}

// --- the prepared simulator ---------------------------------------------------------------

interface PrefixTable<T> {
  levels: Array<{ prefix: number; mask: bigint; map: Map<bigint, T> }>;
}

function prefixTable<T>(
  family: IpFamily,
  entries: Array<{ prefix: number; network: bigint; value: T }>,
): PrefixTable<T> {
  const byPrefix = new Map<number, Map<bigint, T>>();
  for (const e of entries) {
    let m = byPrefix.get(e.prefix);
    if (!m) byPrefix.set(e.prefix, (m = new Map()));
    if (!m.has(e.network)) m.set(e.network, e.value);
  }
  return {
    levels: [...byPrefix.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([prefix, map]) => ({ prefix, mask: maskOf(family, prefix), map })),
  };
}

function lookup<T>(t: PrefixTable<T>, a: bigint): T | undefined {
  for (const l of t.levels) {
    const v = l.map.get(a & l.mask);
    if (v !== undefined) return v;
  }
  return undefined;
}

export interface Simulator {
  readonly ruleset: Ruleset;
  readonly interfaces: ReadonlyMap<string, HostInterface>;
  readonly endpoints: ReadonlyMap<string, Endpoint>;
  /** Per endpoint: its own routes as a prefix table (outside has one per host-side subnet). */
  readonly endpointRoutes: WeakMap<Endpoint, PrefixTable<Route>>;
  readonly uplink: HostInterface | null;
  readonly topology: Topology;
  readonly family: IpFamily;
  readonly brNetfilter: boolean;
  /** Host address → the interface holding it. */
  readonly hostAddrs: Map<bigint, string>;
  readonly routes: PrefixTable<Route>;
  /** Subnet broadcast addresses → interface. */
  readonly broadcasts: Map<bigint, string>;
  readonly owners: Map<bigint, Endpoint>;
  readonly endpointsOn: Map<string, Endpoint[]>;
  readonly outside: Endpoint | null;
  readonly nat: NatHost;
  readonly addrType: (a: bigint, dev: string | null) => string;
  readonly resolved: Map<string, Resolved>;
  readonly stack: JumpStack;
  readonly contexts: [MatchCtx, MatchCtx];
}

export function prepare(ruleset: Ruleset, topology: Topology): Simulator {
  const family = ruleset.family;
  const hostAddrs = new Map<bigint, string>();
  const broadcasts = new Map<bigint, string>();
  for (const i of topology.interfaces) {
    for (const a of i.addresses) {
      if (a.address.family !== family) continue;
      if (!hostAddrs.has(a.address.value)) hostAddrs.set(a.address.value, i.name);
      if (family === 4 && a.prefix < 31 && i.role !== 'loopback') {
        const bits = 32 - a.prefix;
        broadcasts.set(((a.address.value >> BigInt(bits)) << BigInt(bits)) | ((1n << BigInt(bits)) - 1n), i.name);
      }
    }
  }
  const routes = prefixTable(
    family,
    topology.routes
      .filter((r) => r.dest.family === family)
      .map((r) => ({ prefix: r.dest.prefix, network: r.dest.network, value: r })),
  );
  const owners = new Map<bigint, Endpoint>();
  const endpointsOn = new Map<string, Endpoint[]>();
  for (const e of topology.endpoints) {
    for (const a of e.addresses)
      if (a.address.family === family && !owners.has(a.address.value)) owners.set(a.address.value, e);
    for (const a of e.extra) if (a.family === family && !owners.has(a.value)) owners.set(a.value, e);
    const list = endpointsOn.get(e.iface) ?? [];
    list.push(e);
    endpointsOn.set(e.iface, list);
  }
  const interfaces = new Map(topology.interfaces.map((i) => [i.name, i]));
  const nat: NatHost = {
    masqueradeAddress(iface, dst) {
      const i = interfaces.get(iface);
      if (!i) return null;
      const route = lookup(routes, dst);
      const nh = route?.via?.value ?? dst;
      let first: bigint | null = null;
      for (const a of i.addresses) {
        if (a.address.family !== family) continue;
        if (first === null) first = a.address.value;
        const m = mask(family, a.prefix);
        if ((nh & m) === (a.address.value & m)) return a.address.value;
      }
      return first;
    },
    redirectAddress(iface) {
      return interfaces.get(iface)?.addresses.find((a) => a.address.family === family)?.address.value ?? null;
    },
    loopback: family === 4 ? 0x7f000001n : 1n,
  };
  const brNetfilter = topology.brNetfilter === 'on' || (topology.brNetfilter === 'auto' && ruleset.usesPhysdev);
  const endpoints = new Map(topology.endpoints.map((e) => [e.name, e]));
  const sim: Simulator = {
    ruleset,
    topology,
    family,
    brNetfilter,
    hostAddrs,
    routes,
    broadcasts,
    owners,
    endpointsOn,
    nat,
    interfaces,
    endpoints,
    endpointRoutes: new WeakMap(),
    uplink: topology.interfaces.find((i) => i.role === 'uplink') ?? null,
    outside: topology.endpoints.find((e) => e.kind === 'outside') ?? null,
    addrType: (a, dev) => addrType(sim, a, dev),
    resolved: new Map(),
    stack: jumpStack(),
    contexts: [
      freshCtx(family, (a, dev) => addrType(sim, a, dev)),
      freshCtx(family, (a, dev) => addrType(sim, a, dev)),
    ],
  };
  return sim;
}

// Range tests instead of shifts: comparisons allocate no BigInt.
const LOOPBACK_LO = 0x7f000000n;
const LOOPBACK_HI = 0x7fffffffn;
const MULTICAST_LO = 0xe0000000n;
const MULTICAST_HI = 0xefffffffn;
const MULTICAST6_LO = 0xffn << 120n;

function isLocal(sim: Simulator, a: bigint): boolean {
  if (sim.family === 4 && a >= LOOPBACK_LO && a <= LOOPBACK_HI) return true;
  return sim.hostAddrs.has(a);
}

/** addrtype's view: the host's local routing table (xt_addrtype looks there only). */
function addrType(sim: Simulator, a: bigint, dev: string | null): string {
  if (sim.family === 4) {
    if (a <= 0xffffffn || a === 0xffffffffn) return 'BROADCAST';
    if (a >= MULTICAST_LO && a <= MULTICAST_HI) return 'MULTICAST';
    if (a >= LOOPBACK_LO && a <= LOOPBACK_HI) return dev === null || dev === 'lo' ? 'LOCAL' : 'UNICAST';
    const holder = sim.hostAddrs.get(a);
    if (holder !== undefined) return dev === null || dev === holder ? 'LOCAL' : 'UNICAST';
    const b = sim.broadcasts.get(a);
    if (b !== undefined) return dev === null || dev === b ? 'BROADCAST' : 'UNICAST';
    return 'UNICAST';
  }
  if (a === 0n) return 'UNSPEC';
  if (a >= MULTICAST6_LO) return 'MULTICAST';
  if (sim.hostAddrs.has(a)) return 'LOCAL';
  return lookup(sim.routes, a) ? 'UNICAST' : 'UNREACHABLE';
}

// --- resolving --from / --to ----------------------------------------------------------------

type Node = { readonly kind: 'host' } | { readonly kind: 'endpoint'; readonly endpoint: Endpoint };

function fmt(sim: Simulator, a: bigint): string {
  return formatHost(sim.family, a);
}

/**
 * `host`, an endpoint name, or an address (a host address, an endpoint's, a new guest on a bridge subnet, or outside).
 */
export function resolveNode(sim: Simulator, text: string): Resolved {
  let r = sim.resolved.get(text);
  if (!r) {
    r = resolveUncached(sim, text);
    // Names and addresses repeat (matrices, benchmarks): remember a bounded number of them.
    if (sim.resolved.size < 65536) sim.resolved.set(text, r);
  }
  return r;
}

type Resolved = { readonly node: Node; readonly address: bigint | null };

function resolveUncached(sim: Simulator, text: string): Resolved {
  if (text === 'host') return { node: { kind: 'host' }, address: null };
  const named = sim.endpoints.get(text);
  if (named) return { node: { kind: 'endpoint', endpoint: named }, address: null };
  const host = parseHost(text);
  if (!host)
    throw new UsageError(
      `'${text}' is neither host, an endpoint (${sim.topology.endpoints.map((e) => e.name).join(', ')}) nor an address`,
    );
  if (host.family !== sim.family) throw new UsageError(`${text} is IPv${host.family} but the dump is IPv${sim.family}`);
  if (isLocal(sim, host.value)) return { node: { kind: 'host' }, address: host.value };
  const owner = sim.owners.get(host.value);
  if (owner) return { node: { kind: 'endpoint', endpoint: owner }, address: host.value };
  // An address in a bridge subnet: a guest there nobody named; else part of the outside world.
  for (const i of sim.topology.interfaces) {
    if (i.role === 'loopback') continue;
    for (const a of i.addresses) {
      if (a.address.family !== sim.family || !inSubnet(sim, host.value, a.address.value, a.prefix)) continue;
      if (i.role === 'uplink' && !i.bridge) break;
      const guest: Endpoint = {
        name: text,
        kind: 'guest',
        addresses: [{ address: host, prefix: a.prefix }],
        extra: [],
        iface: i.name,
        port: i.bridge ? `${i.name}-p` : null,
        gateways: i.role === 'uplink' ? (sim.outside?.addresses.map((x) => x.address) ?? []) : [a.address],
        routes: [],
        mac: null,
        network: i.network,
      };
      return { node: { kind: 'endpoint', endpoint: guest }, address: host.value };
    }
  }
  if (!sim.outside) throw new UsageError(`${text}: no outside in this topology`);
  return { node: { kind: 'endpoint', endpoint: sim.outside }, address: host.value };
}

const MASKS: Readonly<Record<IpFamily, bigint[]>> = {
  4: Array.from({ length: 33 }, (_, p) => maskOf(4, p)),
  6: Array.from({ length: 129 }, (_, p) => maskOf(6, p)),
};

function mask(family: IpFamily, prefix: number): bigint {
  return MASKS[family][prefix]!;
}

function inSubnet(sim: Simulator, a: bigint, net: bigint, prefix: number): boolean {
  const m = mask(sim.family, prefix);
  return (a & m) === (net & m);
}

/** The address a node is reached at, from the point of view of `from`. */
export function addressOf(sim: Simulator, node: Node, from: Node): bigint | null {
  if (node.kind === 'endpoint') {
    const e = node.endpoint;
    if (e.kind === 'outside' && e.extra.length > 0) return e.extra.find((a) => a.family === sim.family)?.value ?? null;
    return (
      e.addresses.find((a) => a.address.family === sim.family)?.address.value ??
      e.extra.find((a) => a.family === sim.family)?.value ??
      null
    );
  }
  // The host as the sender would address it: its address on the sender's link, else the uplink's.
  if (from.kind === 'endpoint') {
    const onLink = sim.interfaces.get(from.endpoint.iface)?.addresses.find((a) => a.address.family === sim.family);
    if (onLink) return onLink.address.value;
  }
  const up = sim.uplink?.addresses.find((a) => a.address.family === sim.family);
  return up?.address.value ?? (sim.family === 4 ? 0x7f000001n : 1n);
}

// --- the walk -------------------------------------------------------------------------------

interface Journey {
  readonly sim: Simulator;
  readonly w: Walker;
  readonly events: TraceEvent[] | null;
  /** Where the sender is, to tell a reply that came home. */
  readonly origin: Node;
}

type Outcome = Omit<Leg, 'events' | 'notes'>;

/** Every outcome with the same fields in the same order (one hidden class: cheap to build and read). */
function outcome(
  verdict: Verdict,
  reason: string,
  more: { decidedBy?: Step; rejectWith?: string; signal?: Signal; at?: string; seen?: Seen },
): Outcome {
  return {
    verdict,
    reason,
    decidedBy: more.decidedBy ?? null,
    rejectWith: more.rejectWith ?? null,
    signal: more.signal ?? null,
    at: more.at ?? null,
    seen: more.seen ?? null,
  };
}

function hop(j: Journey, text: string): void {
  j.events?.push({ kind: 'hop', text });
}

function run(j: Journey, hook: Hook): HookOutcome {
  return runHook(j.w, hook);
}

function stopped(_journey: Journey, r: Exclude<HookOutcome, { kind: 'accept' }>): Outcome {
  const where = `${r.step.table} ${r.step.chain}`;
  const line = r.step.rule ? ` (rule at ${ruleWhere(r.step.rule)})` : '';
  switch (r.kind) {
    case 'drop':
      return outcome('dropped', r.step.rule ? `dropped in ${where}${line}` : `dropped by the ${where} policy`, {
        decidedBy: r.step,
      });
    case 'reject':
      return outcome('rejected', `rejected in ${where}${line} with ${r.with}`, {
        decidedBy: r.step,
        rejectWith: r.with,
      });
    case 'unknown':
      return outcome(
        'unknown',
        r.step.rule
          ? `unknown because of rule ${ruleWhere(r.step.rule).replace(/^line /, '')} (${where}): ${r.why}`
          : `unknown: ${r.why}`,
        { decidedBy: r.step },
      );
  }
}

function setDevices(
  c: MatchCtx,
  inIface: string,
  outIface: string,
  bridged: boolean,
  physIn: string | null,
  physOut: string | null,
): void {
  c.inIface = inIface;
  c.outIface = outIface;
  c.bridged = bridged;
  c.physIn = physIn;
  c.physOut = physOut;
}

/** The packet reached `e`: delivered if it owns the destination. */
function arrive(j: Journey, e: Endpoint): Outcome {
  const { sim, w } = j;
  const c = w.ctx;
  const owns = sim.owners.get(c.dst) === e || (e.kind === 'outside' && ownedByOutside(sim, c.dst));
  if (!owns) {
    return outcome('unreachable', `${e.name} received it but does not have ${fmt(sim, c.dst)} (and does not forward)`, {
      signal: 'silent',
    });
  }
  if (j.events) hop(j, `arrives at ${e.name} as ${describePacket(sim, c)}`);
  return outcome('delivered', `delivered to ${e.name}`, {
    at: e.name,
    seen: { src: c.src, dst: c.dst, sport: c.sport, dport: c.dport },
  });
}

/** Outside stands for everything the host reaches through its default route. */
function ownedByOutside(sim: Simulator, a: bigint): boolean {
  if (isLocal(sim, a) || (sim.owners.get(a) && sim.owners.get(a)?.kind !== 'outside')) return false;
  const r = lookup(sim.routes, a);
  return r !== undefined && r.via !== null && sim.outside !== null && r.iface === sim.outside.iface;
}

function deliverHost(j: Journey): Outcome {
  const c = j.w.ctx;
  if (j.events) hop(j, `delivered to the host as ${describePacket(j.sim, c)}`);
  return outcome('delivered', 'delivered to the host', {
    at: 'host',
    seen: { src: c.src, dst: c.dst, sport: c.sport, dport: c.dport },
  });
}

/** An endpoint sends the packet: to an on-link neighbour or its gateway. */
function fromEndpoint(j: Journey, e: Endpoint): Outcome {
  const { sim } = j;
  const dst = j.w.ctx.dst;
  const nh = endpointNextHop(sim, e, dst);
  if (nh === null)
    return outcome('unreachable', `${e.name} has no route to ${fmt(sim, dst)}`, { signal: 'local-error' });
  return overLink(j, e, e.iface, e.port, nh);
}

function endpointNextHop(sim: Simulator, e: Endpoint, dst: bigint): bigint | null {
  for (const a of e.addresses)
    if (a.address.family === sim.family && inSubnet(sim, dst, a.address.value, a.prefix)) return dst;
  let table = sim.endpointRoutes.get(e);
  if (!table) {
    table = prefixTable(
      sim.family,
      e.routes
        .filter((r) => r.dest.family === sim.family)
        .map((r) => ({ prefix: r.dest.prefix, network: r.dest.network, value: r })),
    );
    sim.endpointRoutes.set(e, table);
  }
  const best = lookup(table, dst);
  if (best) return best.via?.value ?? dst;
  for (const g of e.gateways) if (g.family === sim.family) return g.value;
  return null;
}

/** A frame from `sender` enters host interface `iface` (through bridge port `port`), addressed to the owner of `nh`. */
function overLink(j: Journey, sender: Endpoint, iface: string, port: string | null, nh: bigint): Outcome {
  const { sim } = j;
  // The host answers ARP for any of its addresses on any interface (arp_ignore=0).
  if (sim.hostAddrs.has(nh)) {
    if (j.events) hop(j, `${sender.name} → host via ${port ? `${port} on ` : ''}${iface}`);
    return hostReceive(j, iface, port);
  }
  const target = neighbour(sim, iface, nh, sender);
  if (!target) return outcome('unreachable', `nobody on ${iface} has ${fmt(sim, nh)}`, { signal: 'arp-timeout' });
  if (port === null || target.port === null)
    return outcome('unreachable', `${iface} is not a bridge: ${sender.name} cannot reach ${target.name} directly`, {
      signal: 'arp-timeout',
    });
  return bridged(j, iface, port, target);
}

function neighbour(sim: Simulator, iface: string, nh: bigint, not: Endpoint | null): Endpoint | null {
  const list = sim.endpointsOn.get(iface);
  if (!list) return null;
  for (const e of list) {
    if (e === not) continue;
    for (const a of e.addresses) if (a.address.value === nh && a.address.family === sim.family) return e;
  }
  return null;
}

/** Bridged within one bridge: with br_netfilter the IP hooks run with -i/-o the bridge and physdev the ports. */
function bridged(j: Journey, bridge: string, inPort: string, target: Endpoint): Outcome {
  const { sim, w } = j;
  const c = w.ctx;
  if (!sim.brNetfilter) {
    if (j.events)
      hop(j, `bridged on ${bridge} from ${inPort} to ${target.port} (br_netfilter off: iptables does not see it)`);
    return arrive(j, target);
  }
  if (j.events) hop(j, `bridged on ${bridge} from ${inPort} to ${target.port} (br_netfilter on: iptables sees it)`);
  setDevices(c, bridge, '', true, inPort, null);
  const dstBefore = c.dst;
  const pre = run(j, 'PREROUTING');
  if (pre.kind !== 'accept') return stopped(j, pre);
  let out = target;
  if (c.dst !== dstBefore) {
    // DNAT on a bridged packet: br_netfilter routes it again.
    if (isLocal(sim, c.dst)) return hostInput(j, bridge);
    const route = lookup(sim.routes, c.dst);
    if (!route || route.iface !== bridge) return hostRouted(j, bridge);
    const nt = neighbour(sim, bridge, route.via?.value ?? c.dst, null);
    if (!nt || nt.port === null)
      return outcome('unreachable', `nobody on ${bridge} has ${fmt(sim, c.dst)}`, { signal: 'arp-timeout' });
    out = nt;
  }
  setDevices(c, bridge, bridge, true, inPort, out.port);
  const fwd = run(j, 'FORWARD');
  if (fwd.kind !== 'accept') return stopped(j, fwd);
  setDevices(c, '', bridge, true, inPort, out.port);
  const post = run(j, 'POSTROUTING');
  if (post.kind !== 'accept') return stopped(j, post);
  return arrive(j, out);
}

/** A frame addressed to the host arrived on `iface`: PREROUTING, then the routing decision. */
function hostReceive(j: Journey, iface: string, port: string | null): Outcome {
  const { sim, w } = j;
  const viaBridge = port !== null && sim.brNetfilter;
  setDevices(w.ctx, iface, '', viaBridge, viaBridge ? port : null, null);
  const pre = run(j, 'PREROUTING');
  if (pre.kind !== 'accept') return stopped(j, pre);
  // A limited or subnet broadcast is delivered locally (RTN_BROADCAST), never forwarded.
  if (isLocal(sim, w.ctx.dst) || w.ctx.dst === BROADCAST || sim.broadcasts.has(w.ctx.dst)) return hostInput(j, iface);
  return hostRouted(j, iface);
}

function hostInput(j: Journey, iface: string): Outcome {
  const c = j.w.ctx;
  if (j.events) hop(j, `routing: ${fmt(j.sim, c.dst)} is the host's own → INPUT`);
  c.inIface = iface;
  c.outIface = '';
  c.physOut = null;
  const input = run(j, 'INPUT');
  if (input.kind !== 'accept') return stopped(j, input);
  return deliverHost(j);
}

function hostRouted(j: Journey, inIface: string): Outcome {
  const { sim, w } = j;
  const c = w.ctx;
  if (!sim.topology.ipForward)
    return outcome('dropped', 'the host does not forward (ip_forward is off)', { signal: 'silent' });
  const route = lookup(sim.routes, c.dst);
  if (!route)
    return outcome('unreachable', `the host has no route to ${fmt(sim, c.dst)}`, { signal: 'icmp-net-unreachable' });
  const nh = route.via?.value ?? c.dst;
  if (j.events)
    hop(
      j,
      `routing: forward ${fmt(sim, c.dst)} out of ${route.iface}${route.via ? ` via ${fmt(sim, nh)}` : ''} → FORWARD`,
    );
  c.inIface = inIface;
  c.outIface = route.iface;
  c.physOut = null;
  const fwd = run(j, 'FORWARD');
  if (fwd.kind !== 'accept') return stopped(j, fwd);
  const post = run(j, 'POSTROUTING');
  if (post.kind !== 'accept') return stopped(j, post);
  return transmit(j, route.iface, nh);
}

/** The host puts the packet on `iface` for the neighbour that owns `nh`. */
function transmit(j: Journey, iface: string, nh: bigint): Outcome {
  const { sim } = j;
  if (iface === 'lo') {
    if (j.events) hop(j, 'looped back through lo');
    return hostReceive(j, 'lo', null);
  }
  const target = neighbour(sim, iface, nh, null);
  if (!target) return outcome('unreachable', `nobody on ${iface} has ${fmt(sim, nh)}`, { signal: 'arp-timeout' });
  if (j.events) hop(j, `host → ${target.name} via ${iface}${target.port ? ` (port ${target.port})` : ''}`);
  return arrive(j, target);
}

/** A packet the host itself sends: route, OUTPUT, re-route after DNAT, POSTROUTING. */
function hostSend(j: Journey, srcFixed: boolean): Outcome {
  const { sim, w } = j;
  const c = w.ctx;
  const pick = (): { iface: string; nh: bigint } | null => {
    if (isLocal(sim, c.dst)) return { iface: 'lo', nh: c.dst };
    const r = lookup(sim.routes, c.dst);
    return r ? { iface: r.iface, nh: r.via?.value ?? c.dst } : null;
  };
  const first = pick();
  if (!first) return outcome('unreachable', `the host has no route to ${fmt(sim, c.dst)}`, { signal: 'local-error' });
  if (!srcFixed) {
    const src = first.iface === 'lo' ? c.dst : sim.nat.masqueradeAddress(first.iface, c.dst);
    if (src === null)
      return outcome('unreachable', `${first.iface} has no address to send from`, { signal: 'local-error' });
    c.src = src;
    w.flow.orig.src = src;
    w.flow.reply.dst = src;
  }
  if (j.events) hop(j, `routing: the host sends ${describePacket(sim, c)} out of ${first.iface} → OUTPUT`);
  setDevices(c, '', first.iface, false, null, null);
  const dstBefore = c.dst;
  const out = run(j, 'OUTPUT');
  if (out.kind !== 'accept') return stopped(j, out);
  let route = first;
  if (c.dst !== dstBefore) {
    const again = pick();
    if (!again) return outcome('unreachable', `the host has no route to ${fmt(sim, c.dst)}`, { signal: 'local-error' });
    route = again;
    if (j.events) hop(j, `routing again after DNAT: out of ${route.iface}`);
  }
  c.outIface = route.iface;
  const post = run(j, 'POSTROUTING');
  if (post.kind !== 'accept') return stopped(j, post);
  return transmit(j, route.iface, route.nh);
}

function describePacket(sim: Simulator, c: MatchCtx): string {
  const proto = c.proto === PROTO_TCP ? 'tcp' : c.proto === PROTO_UDP ? 'udp' : 'icmp';
  const ports =
    c.sport >= 0
      ? ` ${formatHostPort(sim.family, c.src, c.sport)} → ${formatHostPort(sim.family, c.dst, c.dport)}`
      : ` ${fmt(sim, c.src)} → ${fmt(sim, c.dst)}`;
  return `${proto}${ports}`;
}

// --- trace ----------------------------------------------------------------------------------

const DEFAULT_SPORT = 40000;

function freshCtx(family: IpFamily, addrType: MatchCtx['addrType']): MatchCtx {
  return new PacketCtx(family, addrType, freshMemory());
}

/** One of the simulator's two packet contexts (request, reply), reset: a trace allocates none. */
function newCtx(sim: Simulator, which: 0 | 1, memory: TraceMemory): MatchCtx {
  const c = sim.contexts[which];
  c.hook = 'PREROUTING';
  c.table = 'raw';
  c.src = 0n;
  c.dst = 0n;
  c.proto = 0;
  c.sport = -1;
  c.dport = -1;
  c.icmpType = -1;
  c.icmpCode = -1;
  c.tcpFlags = 0;
  c.mark = 0;
  c.inIface = '';
  c.outIface = '';
  c.bridged = false;
  c.physIn = null;
  c.physOut = null;
  c.ctState = ST_INVALID;
  c.ctDir = 0;
  c.flow = null;
  c.pktType = 'unicast';
  c.srcMac = null;
  c.memory = memory;
  return c;
}

const NOTHING: readonly never[] = [];

function legOf(o: Outcome, events: TraceEvent[] | null, notes: string[]): Leg {
  return {
    verdict: o.verdict,
    reason: o.reason,
    events: events ?? NOTHING,
    decidedBy: o.decidedBy,
    rejectWith: o.rejectWith,
    signal: o.signal,
    at: o.at,
    seen: o.seen,
    notes: notes.length === 0 ? NOTHING : notes,
  };
}

const STATE_OF: Readonly<Record<string, number>> = {
  NEW: ST_NEW,
  ESTABLISHED: ST_ESTABLISHED,
  RELATED: ST_RELATED,
  INVALID: ST_INVALID,
};

/** One run of a probe, the undecided conditions going the way `x` says (null: each one is "unknown"). */
function traceOnce(sim: Simulator, probe: Probe, x: Explorer | null): TraceResult {
  const from = resolveNode(sim, probe.from);
  const to = resolveNode(sim, probe.to);
  const dst = to.address ?? addressOf(sim, to.node, from.node);
  if (dst === null) throw new UsageError(`${probe.to} has no IPv${sim.family} address`);
  const fromAddr =
    probe.fromAddress !== undefined
      ? sourceAddress(sim, from.node, probe.fromAddress)
      : from.node.kind === 'endpoint'
        ? (from.address ?? addressOf(sim, from.node, to.node))
        : from.address;
  if (from.node.kind === 'endpoint' && fromAddr === null)
    throw new UsageError(`${probe.from} has no IPv${sim.family} address`);
  const proto =
    probe.proto === 'tcp'
      ? PROTO_TCP
      : probe.proto === 'udp'
        ? PROTO_UDP
        : sim.family === 4
          ? PROTO_ICMP
          : PROTO_ICMPV6;
  const ported = proto === PROTO_TCP || proto === PROTO_UDP;
  const sport = ported ? (probe.sport ?? DEFAULT_SPORT) : -1;
  const dport = ported ? (probe.dport ?? (probe.proto === 'udp' ? 53 : 80)) : -1;
  const state = probe.state ?? 'NEW';

  const flow: Flow = {
    family: sim.family,
    proto,
    orig: { src: fromAddr ?? 0n, dst, sport, dport },
    reply: { src: dst, dst: fromAddr ?? 0n, sport: dport, dport: sport },
    snat: false,
    dnat: false,
    srcBound: false,
    dstBound: false,
    untracked: false,
    mark: 0,
    markUnknown: state !== 'NEW',
  };
  const memory = freshMemory(x);
  const c = newCtx(sim, 0, memory);
  c.src = fromAddr ?? 0n;
  c.dst = dst;
  c.proto = proto;
  c.sport = sport;
  c.dport = dport;
  c.icmpType = ported ? -1 : sim.family === 4 ? 8 : 128;
  c.icmpCode = ported ? -1 : 0;
  c.tcpFlags = proto === PROTO_TCP ? TCP_SYN : 0;
  c.pktType = pktTypeOf(sim, dst);
  const quiet = probe.quiet === true;
  const reqEvents: TraceEvent[] | null = quiet ? null : [];
  const w: Walker = {
    ruleset: sim.ruleset,
    ctx: c,
    flow,
    isNew: state === 'NEW',
    stateBit: STATE_OF[state]!,
    ctAttached: false,
    steps: reqEvents,
    notes: [],
    host: sim.nat,
    stack: sim.stack,
  };
  const j: Journey = { sim, w, events: reqEvents, origin: from.node };
  c.srcMac = from.node.kind === 'endpoint' ? from.node.endpoint.mac : null;
  const reqOutcome = from.node.kind === 'host' ? hostSend(j, fromAddr !== null) : fromEndpoint(j, from.node.endpoint);
  const packet: Seen = { src: flow.orig.src, dst, sport, dport };
  const request = legOf(reqOutcome, reqEvents, w.notes);
  if (request.verdict !== 'delivered' || !request.seen || state !== 'NEW')
    return { family: sim.family, from: probe.from, to: probe.to, proto: probe.proto, packet, request, reply: null };

  // The reply: from the receiver back to the sender's address as the receiver saw it.
  if (x) x.reply = true;
  const seen = request.seen;
  const rc = newCtx(sim, 1, memory);
  rc.src = seen.dst;
  rc.dst = seen.src;
  rc.proto = proto;
  rc.sport = seen.dport;
  rc.dport = seen.sport;
  rc.icmpType = ported ? -1 : sim.family === 4 ? 0 : 129;
  rc.icmpCode = ported ? -1 : 0;
  rc.tcpFlags = proto === PROTO_TCP ? TCP_SYN | TCP_ACK : 0;
  rc.ctDir = flow.untracked ? 0 : 1;
  rc.pktType = pktTypeOf(sim, rc.dst);
  const repEvents: TraceEvent[] | null = quiet ? null : [];
  // An untracked connection's reply is a new packet as far as the host knows.
  const replyFlow: Flow = flow.untracked
    ? {
        ...flow,
        orig: { ...flow.reply },
        reply: { ...flow.orig },
        untracked: false,
        snat: false,
        dnat: false,
        srcBound: false,
        dstBound: false,
      }
    : flow;
  const rw: Walker = {
    ruleset: sim.ruleset,
    ctx: rc,
    flow: replyFlow,
    isNew: flow.untracked,
    stateBit: flow.untracked ? ST_NEW : ST_ESTABLISHED,
    ctAttached: false,
    steps: repEvents,
    notes: [],
    host: sim.nat,
    stack: sim.stack,
  };
  const rj: Journey = { sim, w: rw, events: repEvents, origin: to.node };
  const receiver =
    request.at === 'host'
      ? null
      : ((to.node.kind === 'endpoint' && to.node.endpoint.name === request.at
          ? to.node.endpoint
          : sim.endpoints.get(request.at!)) ?? null);
  rc.srcMac = receiver?.mac ?? null;
  let replyOutcome = receiver === null ? hostSend(rj, true) : fromEndpoint(rj, receiver);
  if (replyOutcome.verdict === 'delivered') {
    const home = from.node.kind === 'host' ? replyOutcome.at === 'host' : replyOutcome.at === from.node.endpoint.name;
    const back = replyOutcome.seen;
    if (!home || !back || back.src !== dst || back.dst !== flow.orig.src) {
      replyOutcome = outcome(
        'unreachable',
        `the reply reached ${replyOutcome.at ?? '?'} as ${back ? `${fmt(sim, back.src)} → ${fmt(sim, back.dst)}` : '?'}, not the sender's connection`,
        { signal: 'silent' },
      );
    }
  }
  return {
    family: sim.family,
    from: probe.from,
    to: probe.to,
    proto: probe.proto,
    packet,
    request,
    reply: legOf(replyOutcome, repEvents, rw.notes),
  };
}

// --- conditions the packet alone does not decide, explored both ways --------------------------

/** How many ways the undecided conditions of one probe are followed before giving up. */
export const BRANCH_BUDGET = 64;

/** One way the undecided conditions went, and what the probe did then. */
export interface TracePath {
  readonly choices: readonly Choice[];
  readonly request: Verdict;
  readonly reply: Verdict | null;
  /** The verdict in words (`dropped by line 12`, `delivered`, `ok`). */
  readonly outcome: string;
  /** The first packet's part of `outcome`, and the reply's (null: no reply traced). */
  readonly first: string;
  readonly answer: string | null;
}

/** What the undecided conditions of a probe were, and every way they went. */
export interface Branches {
  /** Every way gives the same verdict (the result says it), or the verdict depends on them. */
  readonly decided: boolean;
  /** The rules whose conditions were undecided, once each, in the order first met. */
  readonly rules: ReadonlyArray<{
    readonly rule: RuleRef;
    readonly table: string;
    readonly chain: string;
    readonly why: string;
  }>;
  readonly paths: readonly TracePath[];
  /** More ways than the budget: not every way was followed (the verdict is unknown). */
  readonly exceeded: boolean;
}

function outcomeWords(l: Leg): string {
  const by = l.decidedBy?.rule
    ? ` by rule ${ruleLine(l.decidedBy.rule) ?? ruleWhere(l.decidedBy.rule)}`
    : l.decidedBy
      ? ` by the ${l.decidedBy.chain} policy`
      : '';
  switch (l.verdict) {
    case 'delivered':
      return `delivered${l.at && l.at !== 'host' ? ` to ${l.at}` : ''}`;
    case 'rejected':
      return `rejected${by}${l.rejectWith ? ` (${l.rejectWith})` : ''}`;
    case 'dropped':
      return `dropped${by}`;
    case 'unreachable':
      return 'unreachable';
    case 'unknown':
      return `unknown (${l.reason})`;
  }
}

function pathOf(r: TraceResult, choices: readonly Choice[]): TracePath {
  const req = r.request;
  const reply = r.reply;
  const first = outcomeWords(req);
  const answer =
    req.verdict === 'delivered' && reply ? (reply.verdict === 'delivered' ? 'delivered' : outcomeWords(reply)) : null;
  const outcome = answer === null ? first : `${first}, reply ${answer}`;
  return { choices, request: req.verdict, reply: reply?.verdict ?? null, outcome, first, answer };
}

const legKey = (l: Leg | null): string => (l === null ? '-' : `${l.verdict} ${l.rejectWith ?? ''} ${l.at ?? ''}`);

function conditionText(c: Choice): string {
  return `${ruleName(c.rule)}${c.reply ? ' (on the reply)' : ''} ${c.matched ? 'matches' : 'does not'}`;
}

/** "depends on line 102 (…): dropped by line 102 if line 102 matches; delivered if line 102 does not". */
function dependsText(b: Branches, pick: (p: TracePath) => string, what: string): string {
  const rules = b.rules.map((r) => `${ruleName(r.rule)} (${r.table} ${r.chain}: ${r.why})`).join(', ');
  const shown = b.paths.slice(0, 6).map((p) => `${pick(p)} if ${p.choices.map(conditionText).join(' and ')}`);
  const more = b.paths.length > 6 ? `; and ${b.paths.length - 6} more ways` : '';
  return `${what} depends on ${rules}: ${shown.join('; ')}${more}`;
}

/** The rules met undecided, each once. */
function rulesOf(paths: ReadonlyArray<{ readonly choices: readonly Choice[] }>): Branches['rules'] {
  const seen = new Map<object, Branches['rules'][number]>();
  for (const p of paths) {
    for (const c of p.choices)
      if (!seen.has(refKey(c.rule)))
        seen.set(refKey(c.rule), { rule: c.rule, table: c.table, chain: c.chain, why: c.why });
  }
  return [...seen.values()];
}

/** The next way to go: the last "does not" turned into "matches", everything after it left open. */
function nextWay(taken: readonly Choice[]): boolean[] | null {
  for (let j = taken.length - 1; j >= 0; j--)
    if (!taken[j]!.matched) return [...taken.slice(0, j).map((c) => c.matched), true];
  return null;
}

/** The probe with its undecided conditions going the given ways (later ones: "does not match"). */
export function traceWay(sim: Simulator, probe: Probe, ways: readonly boolean[]): TraceResult {
  return traceOnce(sim, probe, explorer(ways));
}

function withNote(l: Leg, text: string): Leg {
  return { ...l, notes: [...l.notes, text] };
}

function undecidedLeg(l: Leg, reason: string): Leg {
  return { ...l, verdict: 'unknown', reason, decidedBy: null, rejectWith: null, signal: null, at: null, seen: null };
}

/**
 * Traces a probe's first packet and, when it arrives, the reply. A condition the packet alone does
 * not decide (recent, limit, an unknown module, a MAC the topology does not give) is followed both
 * ways: when every way gives the same verdict that is the answer, else the answer is unknown and
 * says which rules it depends on and what each way gives (`branches`).
 */
export function trace(sim: Simulator, probe: Probe): TraceResult {
  const x = explorer([]);
  const first = traceOnce(sim, probe, x);
  if (x.taken.length === 0) return first;
  const budget = probe.branches ?? BRANCH_BUDGET;
  const runs: Array<{ readonly choices: readonly Choice[]; readonly result: TraceResult }> = [
    { choices: x.taken, result: first },
  ];
  let exceeded = false;
  for (let forced = nextWay(x.taken); forced !== null;) {
    if (runs.length >= budget) {
      exceeded = true;
      break;
    }
    const xi = explorer(forced);
    const result = traceOnce(sim, probe, xi);
    runs.push({ choices: xi.taken, result });
    forced = nextWay(xi.taken);
  }
  const paths = runs.map((r) => pathOf(r.result, r.choices));
  const rules = rulesOf(runs);
  const lines = rules.map((r) => ruleName(r.rule)).join(', ');
  if (exceeded) {
    const reason =
      `more than ${budget} ways the undecided conditions of ${lines} can go (${rules[0]!.why}; …): ` +
      'give --assume or --mac to decide some';
    const branches: Branches = { decided: false, rules, paths, exceeded };
    return { ...first, request: undecidedLeg(first.request, reason), reply: null, branches };
  }
  const reqAgree = runs.every((r) => legKey(r.result.request) === legKey(first.request));
  const replyAgree = reqAgree && runs.every((r) => legKey(r.result.reply) === legKey(first.reply));
  const allUnknown = runs.every((r) => r.result.request.verdict === 'unknown');
  const branches: Branches = { decided: replyAgree && first.request.verdict !== 'unknown', rules, paths, exceeded };
  const same = `the same whichever way ${lines} go${rules.length > 1 ? '' : 'es'} (${runs.length} ways followed: ${rules.map((r) => r.why).join('; ')})`;
  if (replyAgree || allUnknown) {
    const request = first.request.verdict === 'unknown' ? first.request : withNote(first.request, same);
    return { ...first, request, branches };
  }
  if (!reqAgree) {
    const reason = dependsText(branches, (p) => p.first, 'the first packet');
    return { ...first, request: undecidedLeg(first.request, reason), reply: null, branches };
  }
  const reason = dependsText(branches, (p) => p.answer ?? p.first, 'the reply');
  return { ...first, request: withNote(first.request, same), reply: undecidedLeg(first.reply!, reason), branches };
}

/** `--from X` with an explicit source: it must be one of X's own addresses. */
function sourceAddress(sim: Simulator, node: Node, text: string): bigint {
  const a = parseHost(text);
  if (!a || a.family !== sim.family) throw new UsageError(`source address ${text} is not an IPv${sim.family} address`);
  const owns =
    node.kind === 'host'
      ? isLocal(sim, a.value)
      : node.endpoint.addresses.some((x) => x.address.value === a.value) ||
        node.endpoint.extra.some((x) => x.value === a.value);
  if (!owns)
    throw new UsageError(`${text} is not an address of ${node.kind === 'host' ? 'the host' : node.endpoint.name}`);
  return a.value;
}

// --- DHCP -----------------------------------------------------------------------------------

const BROADCAST = 0xffffffffn;

/**
 * A guest's DHCPDISCOVER (0.0.0.0:68 → 255.255.255.255:67, broadcast on its bridge, delivered to
 * the host's INPUT) and the server's answer (the bridge address :67 → 255.255.255.255:68, out of the
 * same bridge: a new connection, since it matches no reply tuple of the discover's).
 */
export function traceDhcp(sim: Simulator, guest: string, quiet = false): TraceResult {
  if (sim.family !== 4) throw new UsageError('DHCP (udp 67) is IPv4; DHCPv6 is not traced');
  const node = resolveNode(sim, guest).node;
  if (node.kind !== 'endpoint' || node.endpoint.kind !== 'guest') throw new UsageError(`${guest} is not a guest`);
  const e = node.endpoint;
  const server = sim.interfaces.get(e.iface)?.addresses.find((a) => a.address.family === 4)?.address.value ?? null;
  const packet: Seen = { src: 0n, dst: BROADCAST, sport: 68, dport: 67 };
  // One memory for the exchange, as for a traced connection (sets changed by the request stay for the reply).
  const memory = freshMemory();
  const leg = (which: 0 | 1, src: bigint, sport: number, dport: number, send: (j: Journey) => Outcome): Leg => {
    const flow: Flow = {
      family: 4,
      proto: PROTO_UDP,
      orig: { src, dst: BROADCAST, sport, dport },
      reply: { src: BROADCAST, dst: src, sport: dport, dport: sport },
      snat: false,
      dnat: false,
      srcBound: false,
      dstBound: false,
      untracked: false,
      mark: 0,
    };
    const c = newCtx(sim, which, memory);
    c.src = src;
    c.dst = BROADCAST;
    c.proto = PROTO_UDP;
    c.sport = sport;
    c.dport = dport;
    c.pktType = 'broadcast';
    c.srcMac = which === 0 ? e.mac : null;
    const events: TraceEvent[] | null = quiet ? null : [];
    const w: Walker = {
      ruleset: sim.ruleset,
      ctx: c,
      flow,
      isNew: true,
      stateBit: ST_NEW,
      ctAttached: false,
      steps: events,
      notes: [],
      host: sim.nat,
      stack: sim.stack,
    };
    return legOf(send({ sim, w, events, origin: which === 0 ? node : { kind: 'host' } }), events, w.notes);
  };
  const request = leg(0, 0n, 68, 67, (j) => {
    if (j.events) hop(j, `${e.name} broadcasts on ${e.iface}${e.port ? ` (port ${e.port})` : ''}`);
    return hostReceive(j, e.iface, e.port);
  });
  if (request.verdict !== 'delivered' || server === null)
    return { family: 4, from: guest, to: 'host', proto: 'udp', packet, request, reply: null };
  const reply = leg(1, server, 67, 68, (j) => {
    const c = j.w.ctx;
    if (j.events) hop(j, `the host answers ${describePacket(sim, c)} out of ${e.iface} → OUTPUT`);
    setDevices(c, '', e.iface, false, null, null);
    const out = run(j, 'OUTPUT');
    if (out.kind !== 'accept') return stopped(j, out);
    const post = run(j, 'POSTROUTING');
    if (post.kind !== 'accept') return stopped(j, post);
    if (j.events) hop(j, `broadcast on ${e.iface}: ${e.name} receives it`);
    return outcome('delivered', `delivered to ${e.name}`, {
      at: e.name,
      seen: { src: c.src, dst: c.dst, sport: c.sport, dport: c.dport },
    });
  });
  return { family: 4, from: guest, to: 'host', proto: 'udp', packet, request, reply };
}

function pktTypeOf(sim: Simulator, dst: bigint): MatchCtx['pktType'] {
  if (sim.family === 4) {
    if (dst === 0xffffffffn || sim.broadcasts.has(dst)) return 'broadcast';
    if (dst >= MULTICAST_LO && dst <= MULTICAST_HI) return 'multicast';
    return 'unicast';
  }
  return dst >= MULTICAST6_LO ? 'multicast' : 'unicast';
}

/** The connection works when the first packet arrives and so does the reply. */
export function connects(r: TraceResult): boolean {
  return r.request.verdict === 'delivered' && r.reply?.verdict === 'delivered';
}
