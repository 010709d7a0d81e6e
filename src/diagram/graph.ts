// The seed lab's connectivity figure as plain data: the host box with its uplink and bridges,
// the guests on their ports, the outside world — wired as the topology says — and, between
// host, guests and outside, what the reachability matrix lets through (NAT marked), plus the
// port forwards the dump's DNAT rules make. Renderers (dot, mermaid, svg) only draw this.

import { formatHost, formatHostPort, hostPortText, type IpFamily } from '../model/cidr.js';
import type { Dump } from '../model/dump.js';
import type { AnyNetwork } from '../model/network.js';
import type { Cell, Matrix } from '../sim/matrix.js';
import type { Endpoint, HostInterface, LinkAddress, Topology } from '../sim/topology.js';
import { trace, type Simulator, type TraceResult } from '../sim/trace.js';
import { portForwards as forwardsIn, type PortForward as ForwardRule } from '../sim/dnat.js';

export type NodeKind = 'outside' | 'uplink' | 'host' | 'bridge' | 'link' | 'guest';

export interface DiagramNode {
  /** Unique and stable: `host`, `outside`, `uplink/eth0`, `bridge/virbr1`, `link/vif1.0`, `guest/vm1`. */
  readonly id: string;
  readonly kind: NodeKind;
  /** The topology's name for it (a matrix node name for host, guests and outside). */
  readonly name: string;
  /** Label lines, the first one the title. */
  readonly lines: readonly string[];
  /** Inside the host box (uplink, host, bridges, routed links). */
  readonly inHost: boolean;
}

/** A cable: outside to the uplink, the host to its bridges, a guest to its bridge (through its port). */
export interface Wire {
  readonly from: string;
  readonly to: string;
  readonly label: string | null;
  /** A bridge the host has no address on: linked, but not reachable over IP (the lab's not_even_host). */
  readonly addressless: boolean;
}

/** What the rules let through one way: the services whose connection works, and what NAT does. */
export interface Flow {
  /** Node ids. */
  readonly from: string;
  readonly to: string;
  readonly services: readonly string[];
  /** Services whose first packet arrives but whose reply is lost, or that a rule virtables cannot evaluate decides. */
  readonly oneWay: readonly string[];
  readonly unknown: readonly string[];
  /** Services a DNAT delivers to another node: `tcp/80 → web1`. */
  readonly elsewhere: readonly string[];
  /** Addresses rewritten on the way (`src 192.168.124.10 → 10.3.3.50`); empty: none. */
  readonly nat: readonly string[];
}

/**
 * Between two of host, guests and outside (`reach`: both ways, drawn from the upper node to
 * the lower), or a port forward from outside to a guest (`forward`: one way).
 */
export interface DiagramEdge {
  readonly kind: 'reach' | 'forward';
  readonly from: string;
  readonly to: string;
  /** reach: [from → to, to → from]; forward: [outside → guest]. */
  readonly flows: readonly Flow[];
  /**
   * Label lines: `vm1 → host: icmp, tcp/22, udp/53` (or `: —`), each followed by its `(one-way …)`, `(unknown …)` and
   * `(NAT …)` lines.
   */
  readonly lines: readonly string[];
}

export interface Diagram {
  readonly title: string;
  readonly family: IpFamily;
  readonly nodes: readonly DiagramNode[];
  readonly wires: readonly Wire[];
  readonly edges: readonly DiagramEdge[];
}

export const NOTHING = '—';

export function nodeId(kind: NodeKind, name: string): string {
  return kind === 'host' || kind === 'outside' ? kind : `${kind}/${name}`;
}

function addressText(a: LinkAddress): string {
  return `${formatHost(a.address.family, a.address.value)}/${a.prefix}`;
}

/** "natted · nat" — the network an interface belongs to, with its mode in libvirt's or Xen's words. */
function modeText(iface: HostInterface, networks: readonly AnyNetwork[]): string | null {
  if (!iface.network) return null;
  const net = networks.find((n) => n.name === iface.network);
  if (!net) return iface.network;
  if (net.kind === 'xen') return net.name === `xen-${net.mode}` ? `xen ${net.mode}` : `${net.name} · xen ${net.mode}`;
  const mode = net.forward.mode === 'none' ? 'isolated' : net.forward.mode;
  return net.name === iface.name ? mode : `${net.name} · ${mode}`;
}

function interfaceNode(iface: HostInterface, networks: readonly AnyNetwork[]): DiagramNode {
  const kind: NodeKind = iface.role === 'uplink' ? 'uplink' : iface.role === 'link' ? 'link' : 'bridge';
  const mode = modeText(iface, networks);
  const lines = [
    iface.name,
    ...(kind === 'uplink'
      ? [iface.bridge ? 'uplink bridge' : 'uplink']
      : mode
        ? [mode]
        : [kind === 'link' ? 'routed link' : 'bridge']),
    ...iface.addresses.map(addressText),
    ...(kind === 'bridge' && iface.addresses.length === 0 ? ['no host address'] : []),
  ];
  return { id: nodeId(kind, iface.name), kind, name: iface.name, lines, inHost: true };
}

function endpointNode(e: Endpoint, family: IpFamily): DiagramNode {
  if (e.kind === 'outside') {
    const gateways = e.addresses
      .filter((a) => a.address.family === family)
      .map((a) => `gateway ${formatHost(family, a.address.value)}`);
    const far = e.extra.filter((a) => a.family === family).map((a) => formatHost(family, a.value));
    return { id: 'outside', kind: 'outside', name: 'outside', lines: ['outside', ...gateways, ...far], inHost: false };
  }
  const addresses = e.addresses.map((a) => formatHost(a.address.family, a.address.value)).filter((a) => a !== e.name);
  return { id: nodeId('guest', e.name), kind: 'guest', name: e.name, lines: [e.name, ...addresses], inHost: false };
}

function matrixId(name: string, t: Topology): string {
  if (name === 'host' || name === 'outside') return name;
  return t.endpoints.some((e) => e.name === name && e.kind === 'guest') ? nodeId('guest', name) : name;
}

/**
 * `src 192.168.124.10 → 10.3.3.50`, `dst 10.3.3.50:8080 → 192.168.124.10:80`: what NAT did to one cell's first packet.
 */
function translation(family: IpFamily, c: Cell): string[] {
  const p = c.result.packet;
  const s = c.seen;
  if (!s || !c.translated) return [];
  const port = c.result.proto !== 'icmp';
  const at = (a: bigint, n: number, showPort: boolean): string =>
    showPort ? formatHostPort(family, a, n) : formatHost(family, a);
  const out: string[] = [];
  const srcPort = port && s.sport !== p.sport;
  const dstPort = port && s.dport !== p.dport;
  if (s.src !== p.src || srcPort) out.push(`src ${at(p.src, p.sport, srcPort)} → ${at(s.src, s.sport, srcPort)}`);
  if (s.dst !== p.dst || dstPort) out.push(`dst ${at(p.dst, p.dport, dstPort)} → ${at(s.dst, s.dport, dstPort)}`);
  return out;
}

/** Top to bottom in the figure: outside, the host, the guests (in topology order). */
function level(id: string): number {
  return id === 'outside' ? 0 : id === 'host' ? 1 : 2;
}

function flowOf(matrix: Matrix, from: string, to: string, topology: Topology, family: IpFamily): Flow {
  const cells = matrix.services.map((s) =>
    matrix.cells.find((c) => c.service === s.label && c.from === from && c.to === to)!,
  );
  const ok = cells.filter((c) => c.state === 'ok');
  return {
    from: matrixId(from, topology),
    to: matrixId(to, topology),
    services: ok.map((c) => c.service),
    oneWay: cells.filter((c) => c.state === 'one-way').map((c) => c.service),
    unknown: cells.filter((c) => c.state === 'unknown').map((c) => c.service),
    elsewhere: cells.filter((c) => c.state === 'elsewhere').map((c) => `${c.service} → ${c.deliveredTo}`),
    nat: [...new Set(ok.flatMap((c) => translation(family, c)))],
  };
}

/** `vm1 → host: icmp, tcp/22, udp/53`, then its one-way, unknown and NAT lines. */
export function flowLines(f: Flow, fromName: string, toName: string): string[] {
  return [
    `${fromName} → ${toName}: ${f.services.length > 0 ? f.services.join(', ') : NOTHING}`,
    ...(f.oneWay.length > 0 ? [`(one-way, the reply is lost: ${f.oneWay.join(', ')})`] : []),
    ...(f.unknown.length > 0 ? [`(unknown: ${f.unknown.join(', ')})`] : []),
    ...(f.elsewhere.length > 0 ? [`(a DNAT delivers to another node: ${f.elsewhere.join(', ')})`] : []),
    ...f.nat.map((n) => `(NAT ${n})`),
  ];
}

/** One edge per pair of matrix nodes, labelled with what gets through each way. */
export function reachEdges(matrix: Matrix, topology: Topology, family: IpFamily): DiagramEdge[] {
  const edges: DiagramEdge[] = [];
  const nodes = matrix.nodes;
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] =
        level(matrixId(nodes[j]!, topology)) < level(matrixId(nodes[i]!, topology))
          ? [nodes[j]!, nodes[i]!]
          : [nodes[i]!, nodes[j]!];
      const down = flowOf(matrix, a, b, topology, family);
      const up = flowOf(matrix, b, a, topology, family);
      edges.push({
        kind: 'reach',
        from: down.from,
        to: down.to,
        flows: [down, up],
        lines: [...flowLines(down, a, b), ...flowLines(up, b, a)],
      });
    }
  }
  return edges;
}

// --- port forwards ---------------------------------------------------------------------------

/** A port forward, with its target as text for drawing. */
export type Dnat = Omit<ForwardRule, 'to'> & { readonly to: string };

/** DNAT rules reachable from nat PREROUTING (through user chains), in order. */
export function dnatRules(dump: Dump, family: IpFamily): Dnat[] {
  return forwardsIn(dump, family).map((f) => ({ ...f, to: formatHost(f.to.family, f.to.value) }));
}

/** Addresses port forwards send to that no guest of the topology has: guests to add, named by address. */
export function forwardTargets(dump: Dump, family: IpFamily, topology: Topology): string[] {
  const has = (text: string): boolean =>
    topology.endpoints.some((e) => e.addresses.some((a) => formatHost(a.address.family, a.address.value) === text));
  const hostHas = (text: string): boolean =>
    topology.interfaces.some((i) => i.addresses.some((a) => formatHost(a.address.family, a.address.value) === text));
  return [...new Set(dnatRules(dump, family).map((d) => d.to))].filter((to) => !has(to) && !hostHas(to));
}

export interface PortForward {
  readonly dnat: Dnat;
  /** Where outside sent the probe: the rule's address or the uplink's. */
  readonly address: string;
  readonly dport: number;
  /** The guest the rule sends to. */
  readonly guest: string;
  readonly result: TraceResult;
}

/**
 * Each DNAT rule traced from outside to the host's public address: those that fire on the
 * outside's packet and send it to a guest, whether the connection then works or not.
 */
export function portForwards(sim: Simulator, dump: Dump): PortForward[] {
  const uplink = sim.topology.interfaces.find((i) => i.role === 'uplink');
  const upAddr = uplink?.addresses.find((a) => a.address.family === sim.family);
  const out: PortForward[] = [];
  for (const dnat of dnatRules(dump, sim.family)) {
    const address = dnat.address ?? (upAddr ? formatHost(sim.family, upAddr.address.value) : null);
    const guest = sim.topology.endpoints.find(
      (e) => e.kind === 'guest' && e.addresses.some((a) => formatHost(a.address.family, a.address.value) === dnat.to),
    );
    if (!address || !guest || !sim.outside) continue;
    const dport = dnat.dport ?? dnat.toPort ?? 80;
    const result = trace(sim, { from: 'outside', to: address, proto: dnat.proto, dport });
    // Only rules that really act on what outside sends (an earlier rule may win, or -i may not fit).
    const fired = result.request.events.some(
      (e) => e.kind === 'rule' && e.action === 'nat' && e.rule?.rule === dnat.rule,
    );
    if (fired) out.push({ dnat, address, dport, guest: guest.name, result });
  }
  return out;
}

function forwardEdge(f: PortForward): DiagramEdge {
  const r = f.result;
  const works = r.request.verdict === 'delivered' && r.request.at === f.guest && r.reply?.verdict === 'delivered';
  const state = works
    ? null
    : r.request.verdict !== 'delivered'
      ? r.request.verdict
      : r.request.at !== f.guest
        ? `arrives at ${r.request.at}`
        : `reply ${r.reply?.verdict ?? 'not traced'}`;
  const service = `${f.dnat.proto}/${f.dport}`;
  const target = hostPortText(f.dnat.to, f.dnat.toPort ?? f.dport);
  const nat = `dst ${hostPortText(f.address, f.dport)} → ${target}`;
  const flow: Flow = {
    from: 'outside',
    to: nodeId('guest', f.guest),
    services: works ? [service] : [],
    oneWay: [],
    unknown: [],
    elsewhere: [],
    nat: [nat],
  };
  const lines = [
    `outside → ${f.guest}: port forward ${service} → ${target}${state ? ` (${state})` : ''}`,
    `(NAT ${nat})`,
    `(DNAT rule at line ${f.dnat.rule.line})`,
  ];
  return { kind: 'forward', from: flow.from, to: flow.to, flows: [flow], lines };
}

// --- the whole figure ------------------------------------------------------------------------

export interface DiagramInput {
  readonly title: string;
  readonly sim: Simulator;
  readonly matrix: Matrix;
  readonly networks: readonly AnyNetwork[];
  readonly forwards: readonly PortForward[];
}

export function buildDiagram(input: DiagramInput): Diagram {
  const { sim, matrix, networks } = input;
  const t = sim.topology;
  const family = sim.family;
  const nodes: DiagramNode[] = [];
  const wires: Wire[] = [];
  const uplink = t.interfaces.find((i) => i.role === 'uplink');
  const outside = t.endpoints.find((e) => e.kind === 'outside');

  if (outside) nodes.push(endpointNode(outside, family));
  if (uplink) {
    nodes.push(interfaceNode(uplink, networks));
    if (outside)
      wires.push({
        from: 'outside',
        to: nodeId('uplink', uplink.name),
        label: uplink.bridge ? (outside.port ?? null) : null,
        addressless: false,
      });
  }
  nodes.push({
    id: 'host',
    kind: 'host',
    name: 'host',
    lines: ['host', `ip_forward ${t.ipForward ? 'on' : 'off'}`],
    inHost: true,
  });
  if (uplink) wires.push({ from: nodeId('uplink', uplink.name), to: 'host', label: null, addressless: false });
  for (const iface of t.interfaces) {
    if (iface.role !== 'bridge' && iface.role !== 'link') continue;
    const node = interfaceNode(iface, networks);
    nodes.push(node);
    wires.push({
      from: 'host',
      to: node.id,
      label: null,
      addressless: iface.role === 'bridge' && iface.addresses.length === 0,
    });
  }
  for (const e of t.endpoints) {
    if (e.kind !== 'guest') continue;
    const node = endpointNode(e, family);
    nodes.push(node);
    const on = t.interfaces.find((i) => i.name === e.iface);
    const parent = on
      ? nodeId(on.role === 'uplink' ? 'uplink' : on.role === 'link' ? 'link' : 'bridge', on.name)
      : 'host';
    wires.push({ from: parent, to: node.id, label: e.port, addressless: false });
  }
  const edges = [...reachEdges(matrix, t, family), ...input.forwards.map(forwardEdge)];
  return { title: input.title, family, nodes, wires, edges };
}
