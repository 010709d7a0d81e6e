// Order-aware questions answered by the packet simulator (src/sim): can a guest leave, can
// outside start a connection to it, does port 53 on the host answer it, can one network's
// guests reach another's. One simulated host per audit: a bridge and a guest per virtual
// network (IPv4), an uplink with the outside world behind it, and the dump's own rules.

import { formatHost, maskOf, type Cidr, type HostAddress } from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import type { NetworkInfo } from '../explain/attribute.js';
import { chainKey, compileDump, type CompiledChain, type Ruleset } from '../sim/compile.js';
import { freshMemory, ST_NEW, PROTO_TCP, type MatchCtx } from '../sim/packet.js';
import { buildTopology, emptySpec, type BridgeSpec, type GuestSpec } from '../sim/topology.js';
import { prepare, trace, traceDhcp, type Probe, type Simulator, type TraceResult } from '../sim/trace.js';
import { runHook, type HookOutcome, type Step, type Walker } from '../sim/traverse.js';
import { iptablesBaseChains, planHooks } from '../sim/hooks.js';
import { portForwards as forwardsIn } from '../sim/dnat.js';
import { isVirtualMode } from '../model/network.js';
import { NO_ENV, type EvalEnv } from '../sim/env.js';

/** A virtual network as the simulator sees it. */
export interface Subject {
  readonly network: NetworkInfo;
  readonly bridge: string;
  readonly subnet: Cidr;
  /** The host's address on the bridge. */
  readonly hostAddress: HostAddress;
  /** The simulated guest's address. */
  readonly guest: HostAddress;
  /** Endpoint name of the guest in the topology. */
  readonly endpoint: string;
}

/** A DNAT rule that sends outside traffic to a guest, and the probe through it. */
export interface PortForward {
  readonly rule: Rule;
  readonly subject: Subject;
  /** The endpoint standing for the guest the DNAT sends to. */
  readonly endpoint: string;
  readonly address: string;
  readonly proto: 'tcp' | 'udp';
  readonly dport: number;
  readonly result: TraceResult;
}

export interface Probes {
  readonly sim: Simulator;
  readonly subjects: readonly Subject[];
  readonly uplink: string;
  /** A guest starts a TCP connection to the outside world (port 80). */
  out(s: Subject): TraceResult;
  /** The outside world starts a TCP connection to a guest (port 22). */
  in(s: Subject): TraceResult;
  /** A guest asks the host's DNS (udp 53 on the bridge address). */
  dns(s: Subject): TraceResult;
  /** A guest asks for an address: its DHCPDISCOVER broadcast (udp 67) and the server's answer. */
  dhcp(s: Subject): TraceResult;
  /** A guest of `from` starts a TCP connection to a guest of `to` (port 22). */
  pair(from: Subject, to: Subject): TraceResult;
  /** A guest of a network that has no rules anywhere starts a connection to `to`: what any unrelated source meets. */
  stranger(to: Subject): TraceResult;
  readonly portForwards: readonly PortForward[];
  /** The same trace with every rule step recorded (probes are traced quietly: verdicts and deciders only). */
  detail(r: TraceResult): TraceResult;
  /** The first packet of a connection through one hook, without routing: for questions about a single chain. */
  hook(packet: HookPacket): { outcome: HookOutcome; steps: Step[] };
  /** Any probe on the simulated host, every rule step recorded. */
  trace(probe: Probe): TraceResult;
  /** A port forward's probe on the same host with some rules taken out: what would decide without them. */
  without(pf: PortForward, removed: readonly Rule[]): TraceResult;
}

export interface HookPacket {
  readonly hook: 'FORWARD' | 'POSTROUTING';
  readonly inIface: string;
  readonly outIface: string;
  readonly src: bigint;
  readonly dst: bigint;
  readonly dport: number;
}

const STRANGER_BRIDGE = 'vt-stranger0';

/** Ranges for the simulated uplink, outside world and stranger, taken from those no network uses. */
const UPLINKS = ['10.0.2.15/24,gw=10.0.2.2', '172.31.254.15/24,gw=172.31.254.1', '198.18.0.15/24,gw=198.18.0.1', '100.127.254.15/24,gw=100.127.254.1'];
const OUTSIDE = ['203.0.113.10', '198.51.100.99', '192.0.2.99'];
const STRANGERS = ['100.64.250.0/24', '198.19.250.0/24', '172.30.250.0/24'];

const v4 = (text: string): HostAddress => {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return { family: 4, value: (BigInt(a) << 24n) | (BigInt(b) << 16n) | (BigInt(c) << 8n) | BigInt(d) };
};

function inSubnet(c: Cidr, a: HostAddress): boolean {
  return c.family === a.family && (a.value & maskOf(4, c.prefix)) === c.network;
}

function subnetOf(text: string): Cidr {
  const [addr, prefix] = text.split('/') as [string, string];
  return { family: 4, network: v4(addr).value, prefix: Number(prefix) };
}

/** The subjects: every running or inferred libvirt network with a bridge and an IPv4 subnet. */
function subjectsOf(networks: readonly NetworkInfo[]): Subject[] {
  const out: Subject[] = [];
  const bridges = new Set<string>();
  for (const network of networks) {
    if (network.owner !== 'libvirt' || !network.bridge || bridges.has(network.bridge)) continue;
    const def = network.definition?.kind === 'libvirt' ? network.definition : null;
    if (def && !isVirtualMode(def.forward.mode)) continue;
    const ip = def?.ips.find((i) => i.family === 4);
    const subnet = ip?.subnet ?? network.subnets.find((s) => s.family === 4);
    if (!subnet || subnet.prefix > 30) continue;
    const hostAddress = ip?.address ?? { family: 4 as const, value: subnet.network + 1n };
    const range = ip?.dhcpRanges[0]?.start;
    const guestValue = range && range.value !== hostAddress.value ? range.value : hostAddress.value === subnet.network + 1n ? subnet.network + 2n : subnet.network + 1n;
    bridges.add(network.bridge);
    out.push({ network, bridge: network.bridge, subnet, hostAddress, guest: { family: 4, value: guestValue }, endpoint: `guest of ${network.name}` });
  }
  return out;
}

function mostCommon(names: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  let best: string | null = null;
  for (const [n, c] of counts) if (best === null || c > counts.get(best)!) best = n;
  return best;
}

/** Builds the simulated host for an IPv4 dump; null when the dump gives the simulator nothing to do. */
export function buildProbes(dump: Dump, networks: readonly NetworkInfo[], ruleset?: Ruleset): Probes {
  const subjects = subjectsOf(networks);
  const dnats = forwardsIn(dump, 4);
  const used = subjects.map((s) => s.subnet);
  const free = (c: Cidr): boolean => !used.some((u) => inSubnet(u, { family: 4, value: c.network }) || inSubnet(c, { family: 4, value: u.network }));
  const uplinkText = UPLINKS.find((u) => free(subnetOf(u.split(',')[0]!.replace(/\.\d+\//, '.0/')))) ?? UPLINKS[0]!;
  const outside = OUTSIDE.find((o) => !used.some((u) => inSubnet(u, v4(o)))) ?? OUTSIDE[0]!;
  const strangerNet = STRANGERS.find((s) => free(subnetOf(s))) ?? STRANGERS[0]!;
  // The uplink's name: where port forwards come in, else where NAT networks leave, else eth0.
  const devs = networks.flatMap((n) => (n.definition?.kind === 'libvirt' && n.definition.forward.dev ? [n.definition.forward.dev] : []));
  const uplink = mostCommon(dnats.flatMap((d) => (d.rule.inInterface && !d.rule.inInterface.negated && !d.rule.inInterface.name.endsWith('+') ? [d.rule.inInterface.name] : []))) ?? devs[0] ?? 'eth0';
  const [upAddr, gw] = uplinkText.split(',gw=') as [string, string];
  const spec = emptySpec();
  const strangerHost = v4(formatHost(4, subnetOf(strangerNet).network + 1n));
  const bridges: BridgeSpec[] = [
    ...subjects.map((s) => ({ name: s.bridge, addresses: [{ address: s.hostAddress, prefix: s.subnet.prefix }], network: s.network.name })),
    { name: STRANGER_BRIDGE, addresses: [{ address: strangerHost, prefix: 24 }], network: null },
  ];
  // Port forwards name public addresses of the host: give them to the uplink.
  const dnatAddresses = [...new Set(dnats.flatMap((d) => (d.rule.destination && !d.rule.destination.negated && d.rule.destination.cidr.prefix === 32 ? [d.rule.destination.cidr.network] : [])))];
  if (dnatAddresses.length > 0) bridges.push({ name: uplink, addresses: dnatAddresses.map((value) => ({ address: { family: 4, value }, prefix: 32 })), network: null });
  let port = 0;
  const guests: GuestSpec[] = [
    ...subjects.map((s) => ({ name: s.endpoint, attach: s.bridge, addresses: [{ address: s.guest, prefix: s.subnet.prefix }], gateways: [s.hostAddress], port: `vnet${port++}`, mac: null })),
    // The guests port forwards send to, each an endpoint of its own on its network's bridge.
    ...[...new Map(dnats.flatMap((d) => {
      const s = subjects.find((x) => inSubnet(x.subnet, d.to));
      return s && d.to.value !== s.guest.value && d.to.value !== s.hostAddress.value ? [[d.to.value, { s, to: d.to }] as const] : [];
    })).values()].map(({ s, to }) => ({ name: `forwarded-to ${formatHost(4, to.value)}`, attach: s.bridge, addresses: [{ address: to, prefix: s.subnet.prefix }], gateways: [s.hostAddress], port: `vnet${port++}`, mac: null })),
    { name: 'stranger', attach: STRANGER_BRIDGE, addresses: [{ address: { family: 4, value: strangerHost.value + 1n }, prefix: 24 }], gateways: [strangerHost], port: `vnet${port++}`, mac: null },
  ];
  const addr = v4(upAddr.split('/')[0]!);
  const topology = buildTopology({
    ...spec,
    uplink: { name: uplink, addresses: [{ address: addr, prefix: Number(upAddr.split('/')[1]) }], gateways: [v4(gw)], port: null },
    bridges,
    guests,
    outside: [v4(outside)],
    autoGuests: false,
  });
  const sim = prepare(ruleset ?? lazyRuleset(dump), topology);
  const memo = new Map<string, TraceResult>();
  const probeOf = new WeakMap<TraceResult, Probe>();
  const detailed = new WeakMap<TraceResult, TraceResult>();
  const dhcpOf = new WeakMap<TraceResult, string>();
  const run = (key: string, probe: Probe): TraceResult => {
    let r = memo.get(key);
    if (!r) {
      memo.set(key, (r = trace(sim, { ...probe, quiet: true })));
      probeOf.set(r, probe);
    }
    return r;
  };
  const portForwards: PortForward[] = [];
  for (const d of dnats) {
    const subject = subjects.find((s) => inSubnet(s.subnet, d.to));
    if (!subject) continue;
    const { proto } = d;
    const address = d.address ?? upAddr.split('/')[0]!;
    const dport = d.dport ?? d.toPort ?? 80;
    const result = trace(sim, { from: 'outside', to: address, proto, dport });
    const endpoint = d.to.value === subject.guest.value ? subject.endpoint : `forwarded-to ${formatHost(4, d.to.value)}`;
    portForwards.push({ rule: d.rule, subject, endpoint, address, proto, dport, result });
  }
  return {
    sim,
    subjects,
    uplink,
    out: (s) => run(`out ${s.endpoint}`, { from: s.endpoint, to: 'outside', proto: 'tcp', dport: 80 }),
    in: (s) => run(`in ${s.endpoint}`, { from: 'outside', to: s.endpoint, proto: 'tcp', dport: 22 }),
    dns: (s) => run(`dns ${s.endpoint}`, { from: s.endpoint, to: 'host', proto: 'udp', dport: 53 }),
    dhcp(s) {
      const key = `dhcp ${s.endpoint}`;
      let r = memo.get(key);
      if (!r) {
        memo.set(key, (r = traceDhcp(sim, s.endpoint, true)));
        dhcpOf.set(r, s.endpoint);
      }
      return r;
    },
    pair: (a, b) => run(`pair ${a.endpoint} ${b.endpoint}`, { from: a.endpoint, to: b.endpoint, proto: 'tcp', dport: 22 }),
    stranger: (b) => run(`stranger ${b.endpoint}`, { from: 'stranger', to: b.endpoint, proto: 'tcp', dport: 22 }),
    portForwards,
    hook: (p) => runOneHook(sim, p),
    trace: (probe) => trace(sim, probe),
    without(pf, removed) {
      const gone = new Set(removed);
      const dump = sim.ruleset.dump;
      const pruned: Dump = { ...dump, tables: dump.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.filter((r) => !gone.has(r)) })) })) };
      return trace(prepare(compileDump(pruned, 4), topology), { from: 'outside', to: pf.address, proto: pf.proto, dport: pf.dport });
    },
    detail(r) {
      const probe = probeOf.get(r);
      const guest = dhcpOf.get(r);
      if (!probe && guest === undefined) return r;
      let d = detailed.get(r);
      if (!d) detailed.set(r, (d = probe ? trace(sim, probe) : traceDhcp(sim, guest!)));
      return d;
    },
  };
}

/**
 * The dump compiled for the simulator chain by chain, on first use: probes meet a few chains,
 * and a 100,000-rule dump keeps most of its rules in chains they never enter. A compiled
 * chain's jump targets are looked up (and compiled) when a packet first takes the jump.
 */
export function lazyRuleset(dump: Dump, env: EvalEnv = NO_ENV): Ruleset {
  const compiled = new Map<string, CompiledChain | undefined>();
  const lookup = (key: string): CompiledChain | undefined => {
    if (compiled.has(key)) return compiled.get(key);
    let found: CompiledChain | undefined;
    for (const table of dump.tables) {
      const chain = table.chains.find((c) => chainKey(table.name, c.name) === key);
      if (!chain) continue;
      // The table with every other chain emptied: the same user-chain names, one chain's rules to compile.
      const alone: Dump = { ...dump, tables: [{ ...table, chains: table.chains.map((c) => (c === chain ? c : { ...c, rules: [] })) }] };
      found = compileDump(alone, 4, { env }).chains.get(key);
      for (const r of found?.rules ?? []) {
        const target = r.target;
        if (target.kind !== 'chain') continue;
        const next = chainKey(table.name, target.chain);
        Object.defineProperty(found!.jumps, r.index, { get: () => lookup(next), enumerable: true, configurable: true });
      }
    }
    compiled.set(key, found);
    return found;
  };
  const chains = new Map<string, CompiledChain>();
  chains.get = lookup;
  chains.has = (key) => lookup(key) !== undefined;
  const hooks = planHooks(iptablesBaseChains(dump, lookup, 'iptables', 'ip'));
  const usesPhysdev = dump.tables.some((t) => t.chains.some((c) => c.rules.some((r) => r.matches.some((m) => m.name === 'physdev'))));
  return { family: 4, dump, nft: null, chains, tables: new Set(dump.tables.map((t) => t.name)), usesPhysdev, hooks, env };
}

function runOneHook(sim: Simulator, p: HookPacket): { outcome: HookOutcome; steps: Step[] } {
  const ctx: MatchCtx = {
    family: 4, hook: p.hook, table: 'filter', src: p.src, dst: p.dst, proto: PROTO_TCP, sport: 40000, dport: p.dport, icmpType: -1, icmpCode: -1,
    tcpFlags: 0x02, mark: 0, inIface: p.inIface, outIface: p.outIface, bridged: false, physIn: null, physOut: null, ctState: ST_NEW, ctDir: 0,
    flow: null, pktType: 'unicast', srcMac: null, addrType: () => 'UNICAST', memory: freshMemory(),
  };
  const steps: Step[] = [];
  const w: Walker = {
    ruleset: sim.ruleset, ctx,
    flow: { family: 4, proto: PROTO_TCP, orig: { src: p.src, dst: p.dst, sport: 40000, dport: p.dport }, reply: { src: p.dst, dst: p.src, sport: p.dport, dport: 40000 }, snat: false, dnat: false, srcBound: false, dstBound: false, untracked: false, mark: 0 },
    isNew: true, stateBit: ST_NEW, ctAttached: true, steps, notes: [], host: sim.nat, stack: sim.stack,
  };
  return { outcome: runHook(w, p.hook), steps };
}

