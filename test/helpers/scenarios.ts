// Scenarios for the kernel oracle: dumps (real captures, the seed lab's legacy-era rules
// generated from its network XML, and randomly mutated ones), the topology they run on, and
// the probes sent through both the simulator and the kernel — plus what the simulator's
// answer means for the sender (which errno, or silence) so the two can be compared.

import { parseSave } from '../../grammar/iptables-save.js';
import { formatCidr, formatHost } from '../../src/model/cidr.js';
import type { Network } from '../../src/model/network.js';
import { compileDump } from '../../src/sim/compile.js';
import { buildTopology, emptySpec, type Topology, type TopologySpec } from '../../src/sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { addressOf, prepare, resolveNode, trace, type Simulator, type TraceResult } from '../../src/sim/trace.js';
import { formatRule, formatDump } from '../../src/write/save.js';
import type { Arrival, KernelProbe, Observation } from './netns.js';

// --- editable dumps ---------------------------------------------------------------------------

export interface EditChain {
  readonly name: string;
  policy: string | null;
  rules: string[];
}
export interface EditTable {
  readonly name: string;
  readonly chains: EditChain[];
}
export interface EditDump {
  readonly tables: EditTable[];
}

const BUILTIN: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

/** A dump as tables of rule lines (canonical text), for inserting and shuffling. */
export function editable(text: string): EditDump {
  const dump = parseSave(text, { file: 'scenario' });
  return {
    tables: dump.tables.map((t) => ({
      name: t.name,
      chains: t.chains.map((c) => ({
        name: c.name,
        policy: c.builtin ? (c.policy ?? 'ACCEPT') : null,
        rules: c.rules.map((r) => formatRule(r)),
      })),
    })),
  };
}

export function emptyDump(): EditDump {
  return { tables: [] };
}

export function chainOf(d: EditDump, table: string, chain: string): EditChain {
  let t = d.tables.find((x) => x.name === table);
  if (!t) {
    t = { name: table, chains: (BUILTIN[table] ?? []).map((n) => ({ name: n, policy: 'ACCEPT', rules: [] })) };
    d.tables.push(t);
  }
  let c = t.chains.find((x) => x.name === chain);
  if (!c) {
    c = { name: chain, policy: (BUILTIN[table] ?? []).includes(chain) ? 'ACCEPT' : null, rules: [] };
    t.chains.push(c);
  }
  return c;
}

/** `-I CHAIN` (top) when `at` is 0, `-A` when it is 'end', else at that index. */
export function insertRule(d: EditDump, table: string, chain: string, spec: string, at: number | 'end' = 0): void {
  const c = chainOf(d, table, chain);
  const line = `-A ${chain} ${spec}`;
  if (at === 'end') c.rules.push(line);
  else c.rules.splice(Math.min(at, c.rules.length), 0, line);
}

export function render(d: EditDump): string {
  const out: string[] = [];
  for (const t of d.tables) {
    out.push(`*${t.name}`);
    for (const c of t.chains) out.push(`:${c.name} ${c.policy ?? '-'} [0:0]`);
    for (const c of t.chains) out.push(...c.rules);
    out.push('COMMIT');
  }
  // Through the parser and the canonical printer: what the kernel gets is what the simulator reads.
  return formatDump(parseSave(out.join('\n') + '\n', { file: 'scenario' }));
}

// --- libvirt's rules, generated ---------------------------------------------------------------

function v4(net: Network): { subnet: string } | null {
  const ip = net.ips.find((i) => i.family === 4);
  return ip ? { subnet: formatCidr(ip.subnet) } : null;
}

/** libvirt 0.6-era `virsh net-start` (the seed lab's CentOS 5): every rule inserted at the top of a built-in chain. */
export function startLegacy(d: EditDump, net: Network): void {
  const br = net.bridge!.name;
  for (const spec of [
    `-i ${br} -p tcp -m tcp --dport 67 -j ACCEPT`,
    `-i ${br} -p udp -m udp --dport 67 -j ACCEPT`,
    `-i ${br} -p tcp -m tcp --dport 53 -j ACCEPT`,
    `-i ${br} -p udp -m udp --dport 53 -j ACCEPT`,
  ])
    insertRule(d, 'filter', 'INPUT', spec);
  insertRule(d, 'filter', 'FORWARD', `-i ${br} -j REJECT --reject-with icmp-port-unreachable`);
  insertRule(d, 'filter', 'FORWARD', `-o ${br} -j REJECT --reject-with icmp-port-unreachable`);
  insertRule(d, 'filter', 'FORWARD', `-i ${br} -o ${br} -j ACCEPT`);
  const ip = v4(net);
  if (net.forward.mode === 'nat' && ip) {
    insertRule(d, 'filter', 'FORWARD', `-s ${ip.subnet} -i ${br} -j ACCEPT`);
    insertRule(d, 'filter', 'FORWARD', `-d ${ip.subnet} -o ${br} -m state --state RELATED,ESTABLISHED -j ACCEPT`);
    insertRule(d, 'nat', 'POSTROUTING', `-s ${ip.subnet} ! -d ${ip.subnet} -j MASQUERADE`);
  }
}

/** libvirt 5.1+ (private chains, iptables backend): research/libvirt.md §2–§3. */
export function startModern(d: EditDump, net: Network): void {
  const setup: Array<[string, string, string]> = [
    ['filter', 'INPUT', 'LIBVIRT_INP'],
    ['filter', 'OUTPUT', 'LIBVIRT_OUT'],
    ['filter', 'FORWARD', 'LIBVIRT_FWO'],
    ['filter', 'FORWARD', 'LIBVIRT_FWI'],
    ['filter', 'FORWARD', 'LIBVIRT_FWX'],
    ['nat', 'POSTROUTING', 'LIBVIRT_PRT'],
    ['mangle', 'POSTROUTING', 'LIBVIRT_PRT'],
  ];
  for (const [table, parent, child] of setup) {
    const t = d.tables.find((x) => x.name === table);
    if (t?.chains.some((c) => c.name === child)) continue;
    chainOf(d, table, child);
    insertRule(d, table, parent, `-j ${child}`);
  }
  const br = net.bridge!.name;
  const ins = (table: string, chain: string, spec: string): void => insertRule(d, table, chain, spec);
  ins('filter', 'LIBVIRT_INP', `-i ${br} -p tcp -m tcp --dport 67 -j ACCEPT`);
  ins('filter', 'LIBVIRT_INP', `-i ${br} -p udp -m udp --dport 67 -j ACCEPT`);
  ins('filter', 'LIBVIRT_OUT', `-o ${br} -p tcp -m tcp --dport 68 -j ACCEPT`);
  ins('filter', 'LIBVIRT_OUT', `-o ${br} -p udp -m udp --dport 68 -j ACCEPT`);
  ins('filter', 'LIBVIRT_INP', `-i ${br} -p tcp -m tcp --dport 53 -j ACCEPT`);
  ins('filter', 'LIBVIRT_INP', `-i ${br} -p udp -m udp --dport 53 -j ACCEPT`);
  ins('filter', 'LIBVIRT_OUT', `-o ${br} -p tcp -m tcp --dport 53 -j ACCEPT`);
  ins('filter', 'LIBVIRT_OUT', `-o ${br} -p udp -m udp --dport 53 -j ACCEPT`);
  ins('filter', 'LIBVIRT_FWO', `-i ${br} -j REJECT --reject-with icmp-port-unreachable`);
  ins('filter', 'LIBVIRT_FWI', `-o ${br} -j REJECT --reject-with icmp-port-unreachable`);
  ins('filter', 'LIBVIRT_FWX', `-i ${br} -o ${br} -j ACCEPT`);
  const ip = v4(net);
  if (!ip) return;
  const n = ip.subnet;
  if (net.forward.mode === 'nat') {
    ins('filter', 'LIBVIRT_FWO', `-s ${n} -i ${br} -j ACCEPT`);
    ins('filter', 'LIBVIRT_FWI', `-d ${n} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    ins('nat', 'LIBVIRT_PRT', `-s ${n} ! -d ${n} -j MASQUERADE`);
    ins('nat', 'LIBVIRT_PRT', `-s ${n} ! -d ${n} -p udp -j MASQUERADE --to-ports 1024-65535`);
    ins('nat', 'LIBVIRT_PRT', `-s ${n} ! -d ${n} -p tcp -j MASQUERADE --to-ports 1024-65535`);
    ins('nat', 'LIBVIRT_PRT', `-s ${n} -d 255.255.255.255/32 -j RETURN`);
    ins('nat', 'LIBVIRT_PRT', `-s ${n} -d 224.0.0.0/24 -j RETURN`);
  } else if (net.forward.mode === 'route') {
    ins('filter', 'LIBVIRT_FWO', `-s ${n} -i ${br} -j ACCEPT`);
    ins('filter', 'LIBVIRT_FWI', `-d ${n} -o ${br} -j ACCEPT`);
  }
  if (net.ips.some((i) => i.family === 4 && (i.dhcpRanges.length > 0 || i.dhcpHosts.length > 0))) {
    ins('mangle', 'LIBVIRT_PRT', `-o ${br} -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill`);
  }
}

// --- random mutations -------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so a failing scenario can be rebuilt from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MutationContext {
  readonly bridges: readonly string[];
  readonly subnets: readonly string[];
  readonly guests: readonly string[];
  readonly uplink: string;
  readonly uplinkAddress: string;
}

/** Rules a mutation may insert: (table, chain, spec) built from the topology's names. */
function mutationRules(m: MutationContext, pick: <T>(xs: readonly T[]) => T): Array<[string, string, string]> {
  const br = pick(m.bridges);
  const sub = pick(m.subnets);
  const guest = pick(m.guests);
  const port = pick(['22', '80', '53']);
  const proto = pick(['tcp', 'udp']);
  const verdict = pick([
    'ACCEPT',
    'DROP',
    'REJECT --reject-with icmp-host-prohibited',
    'REJECT --reject-with icmp-port-unreachable',
    'REJECT --reject-with icmp-admin-prohibited',
  ]);
  const fchain = pick(['FORWARD', 'INPUT', 'OUTPUT']);
  return [
    ['filter', fchain, `-p ${proto} -m ${proto} --dport ${port} -j ${verdict}`],
    ['filter', 'FORWARD', `-s ${sub} -i ${br} -j ${verdict}`],
    [
      'filter',
      'FORWARD',
      `-d ${guest}/32 -p tcp -m tcp --dport ${port} -j ${pick(['ACCEPT', 'DROP', 'REJECT --reject-with tcp-reset'])}`,
    ],
    ['filter', 'INPUT', `-i ${br} -p icmp -m icmp --icmp-type 8 -j ${verdict}`],
    ['filter', 'FORWARD', `-o ${m.uplink} -p udp -m udp --dport 53 -j ${verdict}`],
    ['filter', 'FORWARD', `-p tcp -m conntrack --ctstate NEW -m tcp --dport ${port} -j ${verdict}`],
    ['filter', 'FORWARD', `-m state --state RELATED,ESTABLISHED -j ACCEPT`],
    ['filter', 'INPUT', `-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`],
    ['filter', 'OUTPUT', `-o ${br} -p icmp -j ${verdict}`],
    ['filter', 'FORWARD', `-p tcp -m multiport --dports 22,80 -j ${verdict}`],
    ['filter', 'FORWARD', `-m iprange --src-range ${guest}-${guest} -j ${verdict}`],
    ['filter', 'INPUT', `-p tcp -m addrtype --dst-type LOCAL -m tcp --dport ${port} -j ${verdict}`],
    ['filter', 'INPUT', `! -i ${br} -p ${proto} -m ${proto} --dport ${port} -j ${verdict}`],
    ['filter', 'FORWARD', `-i virbr+ -o ${m.uplink} -m comment --comment "guests out" -j ${verdict}`],
    ['filter', 'FORWARD', `-p icmp -m limit --limit 10/sec -j ${verdict}`],
    ['mangle', 'PREROUTING', `-i ${br} -p ${proto} -m ${proto} --dport ${port} -j MARK --set-xmark 0x7/0xffffffff`],
    ['filter', 'FORWARD', `-m mark --mark 0x7 -j ${verdict}`],
    ['nat', 'PREROUTING', `-i ${m.uplink} -p tcp -m tcp --dport 8080 -j DNAT --to-destination ${guest}:80`],
    ['nat', 'PREROUTING', `-d ${m.uplinkAddress}/32 -p tcp -m tcp --dport 8022 -j REDIRECT --to-ports 22`],
    ['nat', 'POSTROUTING', `-s ${sub} -o ${m.uplink} -j SNAT --to-source ${m.uplinkAddress}`],
    ['nat', 'POSTROUTING', `-s ${sub} -o ${m.uplink} -j ACCEPT`],
    ['nat', 'OUTPUT', `-p tcp -m tcp --dport 8080 -j DNAT --to-destination ${guest}:80`],
  ];
}

/** Inserts `count` random rules at random places and shuffles one chain: a reproducible variant of `base`. */
export function mutate(base: EditDump, m: MutationContext, seed: number, count: number): EditDump {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const d: EditDump = {
    tables: base.tables.map((t) => ({ name: t.name, chains: t.chains.map((c) => ({ ...c, rules: [...c.rules] })) })),
  };
  // A user chain reached by a jump, that returns early for one bridge.
  if (rnd() < 0.5) {
    const br = pick(m.bridges);
    chainOf(d, 'filter', 'SCENARIO');
    insertRule(d, 'filter', 'SCENARIO', `-i ${br} -j RETURN`, 'end');
    insertRule(
      d,
      'filter',
      'SCENARIO',
      `-p tcp -m tcp --dport ${pick(['22', '80'])} -j ${pick(['DROP', 'REJECT --reject-with icmp-port-unreachable'])}`,
      'end',
    );
    insertRule(d, 'filter', pick(['FORWARD', 'INPUT']), `-j SCENARIO`, 0);
  }
  for (let i = 0; i < count; i++) {
    const [table, chain, spec] = pick(mutationRules(m, pick));
    const c = chainOf(d, table, chain);
    insertRule(d, table, chain, spec, Math.floor(rnd() * (c.rules.length + 1)));
  }
  // Random rule order in one filter chain.
  const filter = d.tables.find((t) => t.name === 'filter');
  const shuffled = filter ? pick(filter.chains.filter((c) => c.rules.length > 1)) : undefined;
  if (shuffled) {
    for (let i = shuffled.rules.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [shuffled.rules[i], shuffled.rules[j]] = [shuffled.rules[j]!, shuffled.rules[i]!];
    }
  }
  return d;
}

// --- probes and their meaning -----------------------------------------------------------------

export interface ProbeSpec {
  readonly from: string;
  /** A node name (`host`, an endpoint) or an address. */
  readonly to: string;
  readonly proto: 'tcp' | 'udp' | 'icmp';
  readonly dport: number;
}

export const SERVICES: ReadonlyArray<{ proto: 'tcp' | 'udp' | 'icmp'; dport: number }> = [
  { proto: 'icmp', dport: 0 },
  { proto: 'tcp', dport: 22 },
  { proto: 'tcp', dport: 80 },
  { proto: 'udp', dport: 53 },
];

/** Every ordered pair of distinct nodes (host, each endpoint) for every service. */
export function matrixProbes(t: Topology, nodes?: readonly string[]): ProbeSpec[] {
  const names = nodes ?? ['host', ...t.endpoints.map((e) => e.name)];
  const out: ProbeSpec[] = [];
  for (const from of names)
    for (const to of names) if (from !== to) for (const s of SERVICES) out.push({ from, to, ...s });
  return out;
}

export interface Expectation {
  readonly client: string;
  readonly arrival: Arrival | null;
}

const REJECT_ERRNO: Readonly<Record<string, string>> = {
  'icmp-net-unreachable': 'ENETUNREACH',
  'icmp-host-unreachable': 'EHOSTUNREACH',
  'icmp-port-unreachable': 'ECONNREFUSED',
  'icmp-proto-unreachable': 'ENOPROTOOPT',
  'icmp-net-prohibited': 'ENETUNREACH',
  'icmp-host-prohibited': 'EHOSTUNREACH',
  'icmp-admin-prohibited': 'EHOSTUNREACH',
  'tcp-reset': 'ECONNREFUSED',
  // ICMPv6 destination unreachable, as icmpv6_err_convert maps its codes.
  'icmp6-no-route': 'ENETUNREACH',
  'icmp6-adm-prohibited': 'EACCES',
  'icmp6-addr-unreachable': 'EHOSTUNREACH',
  'icmp6-port-unreachable': 'ECONNREFUSED',
};
/** UDP sockets only hear the "hard" ICMP errors (icmp_err_convert[].fatal); these two are soft. */
const UDP_SOFT = new Set(['icmp-net-unreachable', 'icmp-host-unreachable', 'icmp6-no-route', 'icmp6-addr-unreachable']);

/** What the sender and the receiver should see if the simulator is right; null when it answered "unknown". */
export function expectation(sim: Simulator, r: TraceResult): Expectation | null {
  const req = r.request;
  if (req.verdict === 'unknown' || r.reply?.verdict === 'unknown') return null;
  const fmt = (a: bigint): string => formatHost(sim.family, a);
  const arrival: Arrival | null =
    req.verdict === 'delivered' && req.seen
      ? {
          at: req.at!,
          src: fmt(req.seen.src),
          dst: fmt(req.seen.dst),
          sport: r.proto === 'icmp' ? null : req.seen.sport,
          dport: r.proto === 'icmp' ? null : req.seen.dport,
        }
      : null;
  let client: string;
  switch (req.verdict) {
    case 'delivered':
      client = r.reply?.verdict === 'delivered' ? 'ok' : 'timeout';
      break;
    case 'dropped':
      client = 'timeout';
      break;
    case 'rejected':
      client =
        r.proto === 'udp' && UDP_SOFT.has(req.rejectWith!)
          ? 'timeout'
          : (REJECT_ERRNO[req.rejectWith!] ?? `? ${req.rejectWith}`);
      break;
    case 'unreachable':
      client =
        req.signal === 'local-error'
          ? 'ENETUNREACH'
          : req.signal === 'icmp-net-unreachable' && r.proto !== 'udp'
            ? 'ENETUNREACH'
            : 'timeout';
      break;
  }
  return { client, arrival };
}

export interface Comparison {
  readonly total: number;
  readonly agree: number;
  readonly unknown: number;
  readonly disagreements: string[];
}

export interface Scenario {
  readonly name: string;
  /** Canonical iptables-save text: loaded into the kernel and parsed for the simulator. */
  readonly dump: string;
  readonly topology: Topology;
  readonly brNetfilter: boolean;
  readonly probes: readonly ProbeSpec[];
}

/** Kernel probes for a scenario: ids, source ports and ICMP ids unique within it. */
export function kernelProbes(
  sim: Simulator,
  s: Scenario,
): Array<{ spec: ProbeSpec; probe: KernelProbe; result: TraceResult }> {
  return s.probes.map((spec, i) => {
    const from = resolveNode(sim, spec.from);
    const to = resolveNode(sim, spec.to);
    const dst = to.address ?? addressOf(sim, to.node, from.node)!;
    const sport = 20000 + i;
    const result = trace(sim, {
      from: spec.from,
      to: formatHost(sim.family, dst),
      proto: spec.proto,
      dport: spec.dport,
      sport,
    });
    return {
      spec,
      result,
      probe: {
        id: i,
        from: from.node.kind === 'host' ? 'host' : from.node.endpoint.name,
        proto: spec.proto,
        dst: formatHost(sim.family, dst),
        dport: spec.dport,
        sport,
        icmpId: 3000 + i,
        bind: null,
      },
    };
  });
}

export function simulatorFor(s: Scenario): Simulator {
  const dump = parseSave(s.dump, { file: s.name });
  return prepare(compileDump(dump), { ...s.topology, brNetfilter: s.brNetfilter ? 'on' : 'off' });
}

/** The kernel did what the simulator said (false too when the simulator said unknown). */
export function agrees(
  sim: Simulator,
  p: ReturnType<typeof kernelProbes>[number],
  got: Observation | undefined,
): boolean {
  const want = expectation(sim, p.result);
  return (
    want !== null &&
    got !== undefined &&
    got.client === want.client &&
    JSON.stringify(got.arrival) === JSON.stringify(want.arrival)
  );
}

export function compare(
  sim: Simulator,
  probes: ReturnType<typeof kernelProbes>,
  observed: Map<number, Observation>,
): Comparison {
  let agree = 0;
  let unknown = 0;
  const disagreements: string[] = [];
  for (const { spec, probe, result } of probes) {
    const want = expectation(sim, result);
    if (!want) {
      unknown++;
      disagreements.push(
        `${spec.from} → ${spec.to} ${spec.proto}/${spec.dport}: simulator says unknown (${result.request.reason})`,
      );
      continue;
    }
    const got = observed.get(probe.id);
    const same =
      got !== undefined && got.client === want.client && JSON.stringify(got.arrival) === JSON.stringify(want.arrival);
    if (same) agree++;
    else {
      disagreements.push(
        `${spec.from} → ${probe.dst} ${spec.proto}/${spec.dport}: simulator ${result.request.verdict} (${result.request.reason}; reply ${result.reply?.verdict ?? '-'}) → expects ${JSON.stringify(want)}, kernel ${JSON.stringify(got)}`,
      );
    }
  }
  return { total: probes.length, agree, unknown, disagreements };
}

/**
 * The host the state oracles (ipset, recent) run on: uplink eth0 10.3.3.50/24, bridges virbr0
 * (192.168.122.1/24) and virbr1 (192.168.123.1/24), and the guests given as --guest flags.
 */
export function twoBridgeTopology(guests: readonly string[], more: Partial<TopologySpec> = {}): Topology {
  return buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag('eth0=10.3.3.50/24,gw=10.3.3.1'),
    bridges: [parseBridgeFlag('virbr0=192.168.122.1/24'), parseBridgeFlag('virbr1=192.168.123.1/24')],
    guests: guests.map(parseGuestFlag),
    ...more,
  });
}
