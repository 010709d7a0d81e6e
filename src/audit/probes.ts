// Order-aware questions answered by the packet simulator (src/sim): can a guest leave, can
// outside start a connection to it, does port 53 on the host answer it, can one network's
// guests reach another's. One simulated host per audit and IP family: a bridge and a guest per
// libvirt network with an address of that family, a guest per Xen set-up (IPv4: Xen's scripts
// write iptables rules only), an uplink with the outside world behind it, and the family's rules.

import {
  cidrContains,
  formatHost,
  maskOf,
  parseCidr,
  parseHost,
  type Cidr,
  type HostAddress,
  type IpFamily,
} from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import type { NftRule } from '../model/nft.js';
import type { NetworkInfo } from '../explain/attribute.js';
import { chainKey, compileDump, compileHost, type CompiledChain, type Ruleset } from '../sim/compile.js';
import { freshMemory, PacketCtx, ST_NEW, PROTO_TCP } from '../sim/packet.js';
import { buildTopology, emptySpec, type BridgeSpec, type GuestSpec, type UplinkSpec } from '../sim/topology.js';
import { prepare, trace, traceDhcp, type Probe, type Simulator, type TraceResult } from '../sim/trace.js';
import { runHook, type HookOutcome, type Step, type Walker } from '../sim/traverse.js';
import { iptablesBaseChains, planHooks } from '../sim/hooks.js';
import { portForwards as forwardsIn } from '../sim/dnat.js';
import { nftPortForwards } from '../sim/nft-dnat.js';
import { isVirtualMode, type XenNetwork, type XenVif } from '../model/network.js';
import { NO_ENV, type EvalEnv } from '../sim/env.js';
import { mostCommon } from '../model/lists.js';

/** A virtual network as the simulator sees it. */
export interface Subject {
  readonly network: NetworkInfo;
  /** The family this subject is probed in (a dual-stack network is two subjects, one per family). */
  readonly family: IpFamily;
  /** The host interface the guest hangs off: the network's bridge, or a Xen vif-nat/vif-route link (`vif3.0`). */
  readonly bridge: string;
  readonly subnet: Cidr;
  /** The host's address on the bridge. */
  readonly hostAddress: HostAddress;
  /** The simulated guest's address. */
  readonly guest: HostAddress;
  /** Endpoint name of the guest in the topology. */
  readonly endpoint: string;
  /** A Xen guest's interface (`vif1.0`); null for libvirt's simulated guests. */
  readonly vif: string | null;
}

/** A DNAT rule (iptables, or an nft `dnat to`) that sends outside traffic to a guest, and the probe through it. */
export interface PortForward {
  readonly rule: Rule | NftRule;
  readonly subject: Subject;
  /** The endpoint standing for the guest the DNAT sends to. */
  readonly endpoint: string;
  readonly address: string;
  readonly proto: 'tcp' | 'udp';
  readonly dport: number;
  /** The guest's address and port the DNAT sends to. */
  readonly to: string;
  readonly toPort: number;
  readonly result: TraceResult;
}

export interface Probes {
  /** The family the host is simulated in. */
  readonly family: IpFamily;
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
  without(pf: PortForward, removed: ReadonlyArray<Rule | NftRule>): TraceResult;
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

/** Per family, ranges for the simulated uplink, outside world and stranger, taken from those no network uses. */
const POOLS: Readonly<
  Record<IpFamily, { uplinks: readonly string[]; outside: readonly string[]; strangers: readonly string[] }>
> = {
  4: {
    uplinks: [
      '10.0.2.15/24,gw=10.0.2.2',
      '172.31.254.15/24,gw=172.31.254.1',
      '198.18.0.15/24,gw=198.18.0.1',
      '100.127.254.15/24,gw=100.127.254.1',
    ],
    outside: ['203.0.113.10', '198.51.100.99', '192.0.2.99'],
    strangers: ['100.64.250.0/24', '198.19.250.0/24', '172.30.250.0/24'],
  },
  6: {
    uplinks: [
      '2001:db8:2::15/64,gw=2001:db8:2::2',
      'fd00:2::15/64,gw=fd00:2::2',
      '2001:db8:fffe::15/64,gw=2001:db8:fffe::2',
    ],
    outside: ['2001:db8:ffff::10', 'fd00:ffff::10', '2001:db8:fffd::10'],
    strangers: ['fd00:fa::/64', '2001:db8:fa::/64', 'fd00:fb::/64'],
  },
};

const hostOf = (text: string): HostAddress => parseHost(text)!;

function cidrOf(text: string): Cidr {
  const c = parseCidr(text)!;
  return { family: c.family, network: c.network & maskOf(c.family, c.prefix), prefix: c.prefix };
}

const fullPrefix = (family: IpFamily): number => (family === 4 ? 32 : 128);

/** A Xen set-up as the simulated host runs it, and the guest that stands for it. */
interface XenPlan {
  /** The set-up with an address on every vif the probes use (vif-bridge guests without `ip=` get one on the LAN). */
  readonly network: XenNetwork;
  readonly subject: Subject;
}

/** The subjects of one family: every running or inferred libvirt network with a bridge and a subnet of it. */
function libvirtSubjects(networks: readonly NetworkInfo[], family: IpFamily): Subject[] {
  const out: Subject[] = [];
  const bridges = new Set<string>();
  for (const network of networks) {
    if (network.owner !== 'libvirt' || !network.bridge || bridges.has(network.bridge)) continue;
    const def = network.definition?.kind === 'libvirt' ? network.definition : null;
    if (def && !isVirtualMode(def.forward.mode)) continue;
    const ip = def?.ips.find((i) => i.family === family);
    const subnet = ip?.subnet ?? network.subnets.find((s) => s.family === family);
    if (!subnet || subnet.prefix > fullPrefix(family) - 2) continue;
    const hostAddress = ip?.address ?? { family, value: subnet.network + 1n };
    const range = ip?.dhcpRanges[0]?.start;
    const guestValue =
      range && range.value !== hostAddress.value
        ? range.value
        : hostAddress.value === subnet.network + 1n
          ? subnet.network + 2n
          : subnet.network + 1n;
    bridges.add(network.bridge);
    out.push({
      network,
      family,
      bridge: network.bridge,
      subnet,
      hostAddress,
      guest: { family, value: guestValue },
      endpoint: `guest of ${network.name}`,
      vif: null,
    });
  }
  return out;
}

/** The endpoint name the topology gives a vif's guest (src/sim/topology.ts addXen). */
const vifEndpoint = (vif: XenVif): string => (vif.devid === 0 ? `dom${vif.domid}` : `dom${vif.domid}.${vif.devid}`);

/** The IPv4 address of a vif's `ip=` words, with its prefix when written. */
function vifAddress(vif: XenVif): { address: HostAddress; prefix: number | null } | null {
  for (const ip of vif.ips) {
    const [text, len] = ip.split('/') as [string, string | undefined];
    const address = parseHost(text);
    if (address?.family === 4) return { address, prefix: len === undefined ? null : Number(len) };
  }
  return null;
}

/** vif-nat's router_ip: the guest's address with 127 added to its last octet (as src/sim/topology.ts has it). */
function natRouter(guest: HostAddress): HostAddress {
  return { family: 4, value: (guest.value & ~0xffn) | ((guest.value + 127n) & 0xffn) };
}

/**
 * The LAN a vif-bridge set-up puts its guests on, as the simulated uplink: the bridge (the NIC's
 * name from Xen 3.2 on, xenbr0 before) with the physical card as its port, in a /24 around the
 * first guest address (so guest and outside share it), the host and the gateway on free addresses.
 */
function xenLan(net: XenNetwork, name: string): UplinkSpec {
  const first = net.vifs.map(vifAddress).find((a) => a !== null) ?? null;
  const prefix = first?.prefix !== null && first?.prefix !== undefined && first.prefix <= 24 ? first.prefix : 24;
  const base = first ? first.address.value & maskOf(4, prefix) : 0x0a000200n;
  const taken = new Set(net.vifs.flatMap((v) => v.ips).map((ip) => parseHost(ip.split('/')[0]!)?.value));
  const free = (candidates: bigint[]): bigint =>
    candidates.map((c) => base + c).find((v) => !taken.has(v)) ?? base + 253n;
  const host = free([1n, 15n, 250n]);
  const gw = [254n, 2n, 251n].map((c) => base + c).find((v) => v !== host && !taken.has(v)) ?? base + 252n;
  return {
    name,
    addresses: [{ address: { family: 4, value: host }, prefix }],
    gateways: [{ family: 4, value: gw }],
    port: `p${net.netdev}`,
  };
}

/**
 * A Xen set-up's guest for the IPv4 probes: its first vif with an address (vif-bridge guests
 * without `ip=` take one on the LAN, as DHCP there would give them). vif-nat and vif-route
 * guests are routed links of their own (`vifD.N`), the host their router.
 */
function xenPlan(
  network: NetworkInfo,
  def: XenNetwork,
  lan: UplinkSpec | null,
  uplinkAddress: HostAddress,
): XenPlan | null {
  if (def.vifs.length === 0) return null;
  if (def.mode === 'bridge') {
    if (!lan) return null;
    const on = lan.addresses[0]!;
    const subnet: Cidr = { family: 4, network: on.address.value & maskOf(4, on.prefix), prefix: on.prefix };
    let next = 100n;
    // Only the vifs on the LAN's bridge (a vif may name another bridge of its own), attached to the uplink that stands
    // for it.
    const bridge = def.bridge ?? def.netdev;
    const onLan = def.vifs.filter((v) => v.bridge === null || v.bridge === bridge);
    const vifs = onLan.map((v) => ({
      ...v,
      bridge: lan.name,
      ips: vifAddress(v) ? v.ips : [formatHost(4, subnet.network + next++)],
    }));
    const vif = vifs[0];
    if (!vif) return null;
    const guest = vifAddress(vif)!.address;
    const subject: Subject = {
      network,
      family: 4,
      bridge: lan.name,
      subnet,
      hostAddress: on.address,
      guest,
      endpoint: vifEndpoint(vif),
      vif: vif.name,
    };
    return { network: { ...def, bridge: lan.name, vifs }, subject };
  }
  const vif = def.vifs.find((v) => vifAddress(v) !== null);
  if (!vif) return null;
  const { address, prefix } = vifAddress(vif)!;
  const len = prefix ?? 32;
  const subnet: Cidr = { family: 4, network: address.value & maskOf(4, len), prefix: len };
  const hostAddress = def.mode === 'nat' ? natRouter(address) : uplinkAddress;
  return {
    network: { ...def, vifs: def.vifs.filter((v) => vifAddress(v) !== null) },
    subject: {
      network,
      family: 4,
      bridge: vif.name,
      subnet,
      hostAddress,
      guest: address,
      endpoint: vifEndpoint(vif),
      vif: vif.name,
    },
  };
}

/** Builds the simulated host of one family (IPv4 by default) for a dump and the networks. */
export function buildProbes(
  dump: Dump,
  networks: readonly NetworkInfo[],
  ruleset?: Ruleset,
  family: IpFamily = 4,
): Probes {
  const pool = POOLS[family];
  const libvirt = libvirtSubjects(networks, family);
  // nft's own tables too (not those iptables-nft manages: their rules are the dump's).
  const nftFamily = family === 6 ? 'ip6' : 'ip';
  const nftTables = ruleset?.nft
    ? nftPortForwards(ruleset.nft, family, (t) => t.family === nftFamily && dump.tables.some((d) => d.name === t.name))
    : [];
  const dnats = [...forwardsIn(dump, family), ...nftTables];
  // Xen's scripts write IPv4 rules only: its set-ups are IPv4 subjects.
  const xenDefs =
    family === 4
      ? networks.flatMap((n) =>
          n.owner === 'xen' && n.definition?.kind === 'xen' ? [{ info: n, def: n.definition }] : [],
        )
      : [];
  const xenBridge = xenDefs.find((x) => x.def.mode === 'bridge' && x.def.vifs.length > 0) ?? null;
  const used = [
    ...libvirt.map((s) => s.subnet),
    ...xenDefs.flatMap((x) => x.def.vifs.flatMap((v) => v.ips.map(cidrOf).filter((c) => c.family === 4))),
  ];
  const overlaps = (c: Cidr): boolean =>
    used.some((u) => cidrContains(u, { family, value: c.network }) || cidrContains(c, { family, value: u.network }));
  const uplinkText = pool.uplinks.find((u) => !overlaps(cidrOf(u.split(',')[0]!))) ?? pool.uplinks[0]!;
  const outside = pool.outside.find((o) => !used.some((u) => cidrContains(u, hostOf(o)))) ?? pool.outside[0]!;
  const strangerNet = pool.strangers.find((s) => !overlaps(cidrOf(s))) ?? pool.strangers[0]!;
  // The uplink's name: where port forwards come in, else a Xen bridge (the LAN), else where NAT networks leave, else
  // eth0.
  const devs = networks.flatMap((n) =>
    n.definition?.kind === 'libvirt' && n.definition.forward.dev ? [n.definition.forward.dev] : [],
  );
  const dnatIn = mostCommon(dnats.flatMap((d) => (d.inIface ? [d.inIface] : [])));
  // Before Xen 3.2 the host's own address sits on the NIC's name (a veth into xenbr0): port forwards name it, so the
  // LAN does.
  const lanName = xenBridge
    ? dnatIn === xenBridge.def.netdev
      ? dnatIn
      : (xenBridge.def.bridge ?? xenBridge.def.netdev)
    : null;
  const lan = xenBridge && lanName ? xenLan(xenBridge.def, lanName) : null;
  const [upAddr, gw] = uplinkText.split(',gw=') as [string, string];
  const synthetic: UplinkSpec = {
    name: dnatIn ?? xenDefs.find((x) => x.def.mode !== 'bridge')?.def.netdev ?? devs[0] ?? 'eth0',
    addresses: [{ address: hostOf(upAddr.split('/')[0]!), prefix: Number(upAddr.split('/')[1]) }],
    gateways: [hostOf(gw)],
    port: null,
  };
  // A vif-bridge LAN is the uplink unless port forwards name another interface.
  const uplinkSpec = lan && (dnatIn === null || dnatIn === lan.name) ? lan : synthetic;
  const uplink = uplinkSpec.name;
  const upAddress = uplinkSpec.addresses[0]!.address;
  const xen = xenDefs.flatMap((x) => {
    const plan = xenPlan(x.info, x.def, uplinkSpec === lan ? lan : null, upAddress);
    return plan ? [plan] : [];
  });
  const subjects = [...libvirt, ...xen.map((x) => x.subject)];
  const spec = emptySpec();
  const strangerSubnet = cidrOf(strangerNet);
  const strangerHost: HostAddress = { family, value: strangerSubnet.network + 1n };
  const bridges: BridgeSpec[] = [
    ...libvirt.map((s) => ({
      name: s.bridge,
      addresses: [{ address: s.hostAddress, prefix: s.subnet.prefix }],
      network: s.network.name,
    })),
    { name: STRANGER_BRIDGE, addresses: [{ address: strangerHost, prefix: strangerSubnet.prefix }], network: null },
  ];
  // Port forwards name public addresses of the host: give them to the uplink.
  const dnatAddresses = [...new Set(dnats.flatMap((d) => (d.address ? [hostOf(d.address).value] : [])))];
  if (dnatAddresses.length > 0)
    bridges.push({
      name: uplink,
      addresses: dnatAddresses.map((value) => ({ address: { family, value }, prefix: fullPrefix(family) })),
      network: null,
    });
  let port = 0;
  const forwardedTo = (to: HostAddress): string => `forwarded-to ${formatHost(family, to.value)}`;
  const guests: GuestSpec[] = [
    ...libvirt.map((s) => ({
      name: s.endpoint,
      attach: s.bridge,
      addresses: [{ address: s.guest, prefix: s.subnet.prefix }],
      gateways: [s.hostAddress],
      port: `vnet${port++}`,
      mac: null,
    })),
    // The guests port forwards send to, each an endpoint of its own on its network's bridge.
    ...[
      ...new Map(
        dnats.flatMap((d) => {
          const s = libvirt.find((x) => cidrContains(x.subnet, d.to));
          return s && d.to.value !== s.guest.value && d.to.value !== s.hostAddress.value
            ? [[d.to.value, { s, to: d.to }] as const]
            : [];
        }),
      ).values(),
    ].map(({ s, to }) => ({
      name: forwardedTo(to),
      attach: s.bridge,
      addresses: [{ address: to, prefix: s.subnet.prefix }],
      gateways: [s.hostAddress],
      port: `vnet${port++}`,
      mac: null,
    })),
    {
      name: 'stranger',
      attach: STRANGER_BRIDGE,
      addresses: [{ address: { family, value: strangerHost.value + 1n }, prefix: strangerSubnet.prefix }],
      gateways: [strangerHost],
      port: `vnet${port++}`,
      mac: null,
    },
  ];
  const topology = buildTopology({
    ...spec,
    networks: xen.map((x) => x.network),
    uplink: uplinkSpec,
    bridges,
    guests,
    outside: [hostOf(outside)],
    autoGuests: false,
  });
  const sim = prepare(ruleset ?? lazyRuleset(dump, NO_ENV, family), topology);
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
    const subject = subjects.find((s) => cidrContains(s.subnet, d.to));
    if (!subject) continue;
    const { proto } = d;
    const address = d.address ?? formatHost(family, upAddress.value);
    const dport = d.dport ?? d.toPort ?? 80;
    const result = trace(sim, { from: 'outside', to: address, proto, dport });
    const endpoint =
      d.to.value === subject.guest.value || !libvirt.includes(subject) ? subject.endpoint : forwardedTo(d.to);
    portForwards.push({
      rule: d.rule,
      subject,
      endpoint,
      address,
      proto,
      dport,
      to: formatHost(family, d.to.value),
      toPort: d.toPort ?? dport,
      result,
    });
  }
  return {
    family,
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
    pair: (a, b) =>
      run(`pair ${a.endpoint} ${b.endpoint}`, { from: a.endpoint, to: b.endpoint, proto: 'tcp', dport: 22 }),
    stranger: (b) => run(`stranger ${b.endpoint}`, { from: 'stranger', to: b.endpoint, proto: 'tcp', dport: 22 }),
    portForwards,
    hook: (p) => runOneHook(sim, p),
    trace: (probe) => trace(sim, probe),
    without(pf, removed) {
      const gone = new Set<object>(removed);
      const { dump, nft } = sim.ruleset;
      const pruned: Dump = {
        ...dump,
        tables: dump.tables.map((t) => ({
          ...t,
          chains: t.chains.map((c) => ({ ...c, rules: c.rules.filter((r) => !gone.has(r)) })),
        })),
      };
      const rules = nft
        ? compileHost(
            {
              iptables: pruned,
              nft: {
                ...nft,
                tables: nft.tables.map((t) => ({
                  ...t,
                  chains: t.chains.map((c) => ({ ...c, rules: c.rules.filter((r) => !gone.has(r)) })),
                })),
              },
            },
            family,
          )
        : compileDump(pruned, family);
      return trace(prepare(rules, topology), { from: 'outside', to: pf.address, proto: pf.proto, dport: pf.dport });
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
export function lazyRuleset(dump: Dump, env: EvalEnv = NO_ENV, family: IpFamily = 4): Ruleset {
  const compiled = new Map<string, CompiledChain | undefined>();
  const lookup = (key: string): CompiledChain | undefined => {
    if (compiled.has(key)) return compiled.get(key);
    let found: CompiledChain | undefined;
    for (const table of dump.tables) {
      const chain = table.chains.find((c) => chainKey(table.name, c.name) === key);
      if (!chain) continue;
      // The table with every other chain emptied: the same user-chain names, one chain's rules to compile.
      const alone: Dump = {
        ...dump,
        tables: [{ ...table, chains: table.chains.map((c) => (c === chain ? c : { ...c, rules: [] })) }],
      };
      found = compileDump(alone, family, { env }).chains.get(key);
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
  const hooks = planHooks(iptablesBaseChains(dump, lookup, 'iptables', family === 6 ? 'ip6' : 'ip'));
  const usesPhysdev = dump.tables.some((t) =>
    t.chains.some((c) => c.rules.some((r) => r.matches.some((m) => m.name === 'physdev'))),
  );
  return { family, dump, nft: null, chains, tables: new Set(dump.tables.map((t) => t.name)), usesPhysdev, hooks, env };
}

function runOneHook(sim: Simulator, p: HookPacket): { outcome: HookOutcome; steps: Step[] } {
  const family = sim.ruleset.family;
  const ctx = new PacketCtx(family, () => 'UNICAST', freshMemory());
  ctx.hook = p.hook;
  ctx.table = 'filter';
  ctx.src = p.src;
  ctx.dst = p.dst;
  ctx.proto = PROTO_TCP;
  ctx.sport = 40000;
  ctx.dport = p.dport;
  ctx.tcpFlags = 0x02;
  ctx.inIface = p.inIface;
  ctx.outIface = p.outIface;
  ctx.ctState = ST_NEW;
  const steps: Step[] = [];
  const w: Walker = {
    ruleset: sim.ruleset,
    ctx,
    flow: {
      family,
      proto: PROTO_TCP,
      orig: { src: p.src, dst: p.dst, sport: 40000, dport: p.dport },
      reply: { src: p.dst, dst: p.src, sport: p.dport, dport: 40000 },
      snat: false,
      dnat: false,
      srcBound: false,
      dstBound: false,
      untracked: false,
      mark: 0,
    },
    isNew: true,
    stateBit: ST_NEW,
    ctAttached: true,
    steps,
    notes: [],
    host: sim.nat,
    stack: sim.stack,
  };
  return { outcome: runHook(w, p.hook), steps };
}
