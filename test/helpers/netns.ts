// The kernel oracle: the same topology the simulator traces, built for real with network namespaces (host, one per
// guest, one for outside; bridges and veth pairs), the rules loaded in the host namespace (an iptables dump with
// iptables-legacy-restore, nft rulesets with `nft -f`, iptables-nft tables with iptables-nft-restore, in the order
// given), real probes sent (TCP connect, UDP to an echoing listener, ping), and what arrived read back from each
// receiver's conntrack table. One family per run: IPv4 (IPv6 off everywhere), or IPv6 (addresses without DAD,
// ip6tables-legacy-restore). Everything runs inside `unshare --net --mount`: nothing touches the machine's namespaces.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cidrContains,
  formatCidr,
  formatHost,
  parseHost,
  type HostAddress,
  type IpFamily,
} from '../../src/model/cidr.js';
import { linkSubnet, type Topology } from '../../src/sim/topology.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface KernelProbe {
  readonly id: number;
  /** `host` or an endpoint name. */
  readonly from: string;
  readonly proto: 'tcp' | 'udp' | 'icmp';
  readonly dst: string;
  readonly dport: number;
  readonly sport: number;
  readonly icmpId: number;
  /** Source address to bind (outside sends from its far address); null lets the kernel choose. */
  readonly bind: string | null;
}

export interface Arrival {
  /** `host` or the endpoint name. */
  readonly at: string;
  readonly src: string;
  readonly dst: string;
  readonly sport: number | null;
  readonly dport: number | null;
}

export interface Observation {
  /** `ok` (answer came back), `timeout`, or the errno the sender got. */
  readonly client: string;
  readonly detail: string | null;
  readonly arrival: Arrival | null;
}

export interface KernelRun {
  readonly observations: Map<number, Observation>;
  readonly error: string | null;
  /** What the `listings` commands printed in the host namespace after the rules were loaded. */
  readonly listings: Readonly<Record<string, string>>;
}

/** Can br_netfilter be switched on in a namespace here (the module is loaded)? Loading it is not ours to do. */
export function brNetfilterAvailable(): boolean {
  return existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
}

function addr(a: HostAddress): string {
  return formatHost(a.family, a.value);
}

function nsNames(t: Topology): Map<string, string> {
  const names = new Map<string, string>([['host', 'host']]);
  t.endpoints.forEach((e, i) => names.set(e.name, `e${i}`));
  return names;
}

/** One family per run: the other family's addresses of the topology are left out. */
function ofFamily(family: IpFamily) {
  return <T extends { address: HostAddress }>(xs: readonly T[]): T[] => xs.filter((x) => x.address.family === family);
}

/** Shell commands that build the topology (run in the outer private namespace). */
export function setupCommands(t: Topology, brNetfilter: boolean, family: IpFamily = 4): string[] {
  const ns = nsNames(t);
  const cmds: string[] = [];
  const v4 = ofFamily(family);
  const inNs = (n: string, c: string): string => `ip netns exec ${n} sh -c '${c}'`;
  // IPv6 on, without duplicate address detection (an address would stay tentative for a second), or off.
  const v6 =
    family === 6
      ? 'echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad'
      : 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6';
  const nodad = family === 6 ? ' nodad' : '';
  for (const n of ns.values()) {
    cmds.push(`ip netns add ${n}`);
    cmds.push(
      inNs(
        n,
        `echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter; ${v6}`,
      ),
    );
    cmds.push(`ip -n ${n} link set lo up`);
  }
  const linked = new Set<string>();
  for (const i of t.interfaces) {
    if (i.role === 'loopback') continue;
    if (i.bridge) {
      cmds.push(`ip -n host link add ${i.name} type bridge forward_delay 0 stp_state 0`);
      linked.add(i.name);
    }
  }
  for (const e of t.endpoints) {
    const n = ns.get(e.name)!;
    if (e.port) {
      cmds.push(
        `ip link add ${e.port} netns host type veth peer name eth0 netns ${n}`,
        `ip -n host link set ${e.port} master ${e.iface}`,
        `ip -n host link set ${e.port} up`,
      );
    } else {
      if (linked.has(e.iface)) throw new Error(`two endpoints on the routed link ${e.iface}`);
      cmds.push(`ip link add ${e.iface} netns host type veth peer name eth0 netns ${n}`);
      linked.add(e.iface);
    }
    for (const a of v4(e.addresses)) cmds.push(`ip -n ${n} addr add ${addr(a.address)}/${a.prefix} dev eth0${nodad}`);
    // The sender's MAC, when the topology gives one (-m mac, ipset MAC members).
    if (e.mac) cmds.push(`ip -n ${n} link set eth0 address ${e.mac}`);
    cmds.push(`ip -n ${n} link set eth0 up`);
    for (const a of e.extra.filter((x) => x.family === family))
      cmds.push(`ip -n ${n} addr add ${addr(a)}/${family === 4 ? 32 : 128} dev lo${nodad}`);
  }
  for (const i of t.interfaces) {
    if (i.role === 'loopback') continue;
    if (!linked.has(i.name)) cmds.push(`ip -n host link add ${i.name} type dummy`);
    for (const a of v4(i.addresses))
      cmds.push(`ip -n host addr add ${addr(a.address)}/${a.prefix} dev ${i.name}${nodad}`);
    cmds.push(`ip -n host link set ${i.name} up`);
  }
  for (const r of t.routes) {
    if (r.dest.family !== family) continue;
    // A device route no address of the interface makes (Xen's vif-nat/vif-route `ip route add IP dev vifD.N`).
    const connected = t.interfaces
      .find((i) => i.name === r.iface)
      ?.addresses.some((a) => formatCidr(linkSubnet(a)) === formatCidr(r.dest));
    if (!r.via && !connected) cmds.push(`ip -${family} -n host route add ${formatCidr(r.dest)} dev ${r.iface}`);
    if (!r.via) continue;
    cmds.push(
      `ip -${family} -n host route add ${r.dest.prefix === 0 ? 'default' : formatCidr(r.dest)} via ${addr(r.via)} dev ${r.iface}`,
    );
  }
  for (const e of t.endpoints) {
    const n = ns.get(e.name)!;
    // Outside speaks from its far address (as the simulator has it): every route says so.
    const far = e.extra.find((x) => x.family === family);
    const src = far ? ` src ${addr(far)}` : '';
    if (src)
      for (const a of v4(e.addresses))
        cmds.push(`ip -n ${n} route replace ${formatCidr(linkSubnet(a))} dev eth0${src}`);
    for (const r of e.routes.filter((x) => x.dest.family === family))
      cmds.push(`ip -n ${n} route add ${formatCidr(r.dest)}${r.via ? ` via ${addr(r.via)}` : ''} dev eth0${src}`);
    // A gateway outside the endpoint's own subnets (a vif-route guest's /32 behind the host's address) is on-link by
    // fiat.
    const onlink = (g: HostAddress): string =>
      v4(e.addresses).some((a) => cidrContains(linkSubnet(a), g)) ? '' : ' onlink';
    for (const g of e.gateways)
      if (g.family === family)
        cmds.push(`ip -${family} -n ${n} route add default via ${addr(g)} dev eth0${onlink(g)}${src}`);
  }
  cmds.push(
    inNs(
      'host',
      family === 4
        ? `echo ${t.ipForward ? 1 : 0} > /proc/sys/net/ipv4/ip_forward`
        : `echo ${t.ipForward ? 1 : 0} > /proc/sys/net/ipv6/conf/all/forwarding`,
    ),
  );
  // The kernel rate-limits ICMP errors per destination (6 at once, then 1/s): many probes rejected
  // at once would look dropped. Observation needs every one; the simulator models no rate limits.
  const v6limit = family === 6 ? '; echo 0 > /proc/sys/net/ipv6/icmp/ratelimit' : '';
  for (const n of ns.values())
    cmds.push(
      inNs(
        n,
        `echo 0 > /proc/sys/net/ipv4/icmp_ratelimit; echo 100000 > /proc/sys/net/ipv4/icmp_msgs_per_sec; echo 100000 > /proc/sys/net/ipv4/icmp_msgs_burst${v6limit}`,
      ),
    );
  const bridgeCall = family === 4 ? 'bridge-nf-call-iptables' : 'bridge-nf-call-ip6tables';
  if (brNetfilterAvailable())
    cmds.push(inNs('host', `echo ${brNetfilter ? 1 : 0} > /proc/sys/net/bridge/${bridgeCall}`));
  else if (brNetfilter) throw new Error('br_netfilter is not loaded on this machine');
  // Conntrack in the receivers, so their tables show what arrived (a counting rule without a target).
  for (const e of t.endpoints)
    cmds.push(`ip netns exec ${ns.get(e.name)} ${xtables(family)} -A INPUT -m conntrack --ctstate INVALID`);
  return cmds;
}

const xtables = (family: IpFamily): string => (family === 4 ? 'iptables-legacy' : 'ip6tables-legacy');

/** /proc/net/nf_conntrack prints IPv6 addresses in full (`2001:0db8:0000:…`): as formatHost writes them. */
function canonicalAddress(text: string): string {
  if (!text.includes(':')) return text;
  const h = parseHost(text);
  return h ? formatHost(h.family, h.value) : text;
}

interface CtEntry {
  readonly proto: string;
  readonly orig: Record<string, string>;
  readonly reply: Record<string, string>;
}

export function parseConntrack(text: string): CtEntry[] {
  const out: CtEntry[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 4) continue;
    const proto = tokens[2]!;
    const orig: Record<string, string> = {};
    const reply: Record<string, string> = {};
    let cur = orig;
    for (const tok of tokens) {
      const eq = tok.indexOf('=');
      if (eq < 0) continue;
      const k = tok.slice(0, eq);
      if (k === 'src' && 'src' in orig) cur = reply;
      if (k === 'mark' || k === 'zone' || k === 'use') break;
      cur[k] = k === 'src' || k === 'dst' ? canonicalAddress(tok.slice(eq + 1)) : tok.slice(eq + 1);
    }
    out.push({ proto, orig, reply });
  }
  return out;
}

function localAddresses(t: Topology, name: string, family: IpFamily): Set<string> {
  if (name === 'host') {
    const s = new Set<string>();
    for (const i of t.interfaces) for (const a of ofFamily(family)(i.addresses)) s.add(addr(a.address));
    s.add(family === 4 ? '127.0.0.1' : '::1');
    return s;
  }
  const e = t.endpoints.find((x) => x.name === name)!;
  return new Set([
    ...ofFamily(family)(e.addresses).map((a) => addr(a.address)),
    ...e.extra.filter((a) => a.family === family).map(addr),
  ]);
}

/** Ports every namespace listens on: the probed ones. */
export function listenPorts(probes: readonly KernelProbe[]): { tcp: number[]; udp: number[] } {
  const tcp = new Set<number>();
  const udp = new Set<number>();
  for (const p of probes) {
    if (p.proto === 'tcp') tcp.add(p.dport);
    if (p.proto === 'udp') udp.add(p.dport);
  }
  return { tcp: [...tcp], udp: [...udp] };
}

/** Rules loaded into the host namespace, one after the other. */
export interface RulesLoad {
  readonly tool: 'iptables-legacy-restore' | 'iptables-nft-restore' | 'nft';
  readonly text: string;
}

export interface KernelOptions {
  readonly brNetfilter: boolean;
  readonly timeoutMs?: number;
  readonly extraPorts?: { tcp: number[]; udp: number[] };
  /** Loaded in this order after `dump` (which may be ''). */
  readonly loads?: readonly RulesLoad[];
  /** Commands run in the host namespace once the rules are in (`nft list ruleset`), by name. */
  readonly listings?: Readonly<Record<string, string>>;
  /** An `ipset save`, restored before the rules that name its sets. */
  readonly ipsets?: string;
  /** Commands run after the rules are in (as `ipset add …` a test needs). */
  readonly afterDump?: readonly string[];
  /** The runner's own deadline for all probes (ms); the spawn waits 30 s longer. */
  readonly deadlineMs?: number;
  /** The family of the run (default IPv4): an IPv6 run loads `dump` with ip6tables-legacy-restore. */
  readonly family?: IpFamily;
}

/** Builds the topology, loads the dump, sends the probes; `extraPorts` lets receivers listen on DNAT targets. */
export function runKernel(t: Topology, dump: string, probes: readonly KernelProbe[], opts: KernelOptions): KernelRun {
  const ns = nsNames(t);
  const family = opts.family ?? 4;
  const ports = listenPorts(probes);
  const tcp = [...new Set([...ports.tcp, ...(opts.extraPorts?.tcp ?? [])])];
  const udp = [...new Set([...ports.udp, ...(opts.extraPorts?.udp ?? [])])];
  const plan = {
    setup: setupCommands(t, opts.brNetfilter, family),
    dumpTool: `${xtables(family)}-restore`,
    hostNs: 'host',
    // `ipset restore` of an `ipset save`, before the rules that name its sets.
    preloads: opts.ipsets ? [{ command: 'ipset restore', text: opts.ipsets }] : [],
    dump,
    loads: (opts.loads ?? []).map((l) => ({ command: l.tool === 'nft' ? 'nft -f -' : l.tool, text: l.text })),
    listings: opts.listings ?? {},
    // Conntrack on in the host too (a counting rule without a target changes no verdict).
    afterDump: [
      `ip netns exec host ${xtables(family)} -A INPUT -m conntrack --ctstate INVALID`,
      ...(opts.afterDump ?? []),
    ],
    // UDP answers from each address separately, so a reply leaves from the address the query went to.
    agents: [...ns].map(([name, n]) => ({
      ns: n,
      tcp,
      udp,
      any: family === 4 ? '0.0.0.0' : '::',
      addresses: [...localAddresses(t, name, family)],
    })),
    probes: probes.map((p) => ({ ...p, ns: ns.get(p.from)!, timeoutMs: opts.timeoutMs ?? 700 })),
    conntrackNs: [...ns.values()],
    deadlineMs: opts.deadlineMs,
  };
  const r = spawnSync('unshare', ['--net', '--mount', process.execPath, join(HERE, 'netns-runner.mjs')], {
    input: JSON.stringify(plan),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: Math.max(120_000, (opts.deadlineMs ?? 0) + 30_000),
  });
  if (r.status !== 0 || !r.stdout)
    return { observations: new Map(), error: `runner failed (${r.status ?? r.signal}): ${r.stderr}`, listings: {} };
  const out = JSON.parse(r.stdout) as {
    results: Record<string, { outcome: string; code: string | null; detail: string | null }>;
    conntrack: Record<string, string>;
    listings?: Record<string, string>;
    error?: string;
  };
  if (out.error) return { observations: new Map(), error: out.error, listings: out.listings ?? {} };

  const tables = new Map<string, CtEntry[]>();
  for (const [name, n] of ns) tables.set(name, parseConntrack(out.conntrack[n] ?? ''));
  const observations = new Map<number, Observation>();
  for (const p of probes) {
    const res = out.results[String(p.id)];
    const client = !res ? 'missing' : res.outcome === 'error' ? (res.code ?? 'error') : res.outcome;
    let arrival: Arrival | null = null;
    for (const [name, entries] of tables) {
      const local = localAddresses(t, name, family);
      for (const e of entries) {
        if (e.proto !== p.proto) continue;
        const mine =
          p.proto === 'icmp' ? e.orig.id === String(p.icmpId) && e.orig.type === '8' : e.orig.sport === String(p.sport);
        if (!mine || !e.reply.src || !local.has(e.reply.src)) continue;
        arrival = {
          at: name,
          src: e.reply.dst!,
          dst: e.reply.src,
          sport: p.proto === 'icmp' ? null : Number(e.reply.dport),
          dport: p.proto === 'icmp' ? null : Number(e.reply.sport),
        };
      }
    }
    observations.set(p.id, { client, detail: res?.detail ?? null, arrival });
  }
  return { observations, error: null, listings: out.listings ?? {} };
}
