// From a dump and a topology to the diagram: build the host, add a guest wherever a port
// forward sends to an address no guest has, trace the reachability matrix and the forwards.

import type { NetworkInfo } from '../explain/attribute.js';
import { cidrContains, cidrsOverlap, parseHost, type IpFamily } from '../model/cidr.js';
import type { Dump } from '../model/dump.js';
import type { NftRuleset } from '../model/nft.js';
import { compileHost } from '../sim/compile.js';
import type { EvalEnv } from '../sim/env.js';
import { DEFAULT_SERVICES, reachabilityMatrix, type Service } from '../sim/matrix.js';
import {
  buildTopology,
  DEFAULT_UPLINK,
  emptySpec,
  guestSpecsOf,
  linkSubnet,
  parseAddress,
  parseLinkAddress,
  type BridgeSpec,
  type GuestSpec,
  type Topology,
  type TopologySpec,
  type UplinkSpec,
} from '../sim/topology.js';
import { prepare } from '../sim/trace.js';
import { buildDiagram, dnatRules, forwardTargets, portForwards, type Diagram } from './graph.js';

export interface DiagramOptions {
  readonly title: string;
  readonly services?: readonly Service[];
  /** ipset contents and assumptions the rules are evaluated against. */
  readonly env?: EvalEnv;
  /** A last change to the built topology (guests' MAC addresses). */
  readonly finish?: (t: Topology) => Topology;
  /** The host's nft ruleset, traced with the dump (src/sim/compile.ts compileHost). */
  readonly nft?: NftRuleset | null;
}

/** Guests (named by their address) for the port forwards' targets on a bridge subnet. */
export function forwardGuests(dump: Dump, family: IpFamily, topology: Topology): GuestSpec[] {
  const out: GuestSpec[] = [];
  const used = new Set(topology.endpoints.map((e) => e.port));
  let next = 0;
  const port = (): string => {
    while (used.has(`vnet${next}`)) next++;
    used.add(`vnet${next}`);
    return `vnet${next}`;
  };
  for (const text of forwardTargets(dump, family, topology)) {
    const address = parseHost(text);
    if (!address) continue;
    const bridge = topology.interfaces.find(
      (i) => i.role === 'bridge' && i.addresses.some((a) => cidrContains(linkSubnet(a), address)),
    );
    if (bridge)
      out.push({
        name: text,
        attach: bridge.name,
        addresses: [{ address, prefix: -1 }],
        gateways: undefined,
        port: port(),
        mac: null,
      });
  }
  return out;
}

export function diagramOf(dump: Dump, spec: TopologySpec, options: DiagramOptions): Diagram {
  const family: IpFamily = dump.family === 'ipv6' ? 6 : 4;
  const first = buildTopology(spec);
  const extra = forwardGuests(dump, family, first);
  // The guests as built (auto-placed ones included), then the new ones: adding a guest to a
  // bridge must not take the place of the guest the network already had there.
  const kept = guestSpecsOf(first);
  const topology =
    extra.length > 0 ? buildTopology({ ...spec, autoGuests: false, guests: [...kept, ...extra] }) : first;
  const sim = prepare(
    compileHost({ iptables: dump, nft: options.nft ?? null }, family, { env: options.env }),
    options.finish ? options.finish(topology) : topology,
  );
  const matrix = reachabilityMatrix(sim, options.services ?? DEFAULT_SERVICES);
  return buildDiagram({
    title: options.title,
    sim,
    matrix,
    networks: spec.networks,
    forwards: portForwards(sim, dump),
  });
}

/** Uplinks to pick from: the first whose subnet no network uses. */
const UPLINKS: readonly UplinkSpec[] = [
  DEFAULT_UPLINK,
  ...[
    ['172.31.254.15/24', '172.31.254.1'],
    ['198.18.0.15/24', '198.18.0.1'],
  ].map(([v4, gw]) => ({
    ...DEFAULT_UPLINK,
    addresses: [parseLinkAddress(v4!, 'uplink'), ...DEFAULT_UPLINK.addresses.filter((a) => a.address.family === 6)],
    gateways: [parseAddress(gw!, 'uplink'), ...DEFAULT_UPLINK.gateways.filter((g) => g.family === 6)],
  })),
];

/**
 * The host an audit describes, for its diagram: the networks' definitions where given, a
 * bridge with a guest for each network only seen in the dump, and a default uplink (named
 * after the interface port forwards come in on, when the dump has any).
 */
export function auditTopology(networks: readonly NetworkInfo[], dumps: readonly Dump[]): TopologySpec {
  const spec = emptySpec();
  const definitions = networks.flatMap((n) => (n.definition ? [n.definition] : []));
  const bridges: BridgeSpec[] = [];
  const guests: GuestSpec[] = [];
  for (const n of networks) {
    if (n.definition || n.owner !== 'libvirt' || !n.bridge || bridges.some((b) => b.name === n.bridge)) continue;
    const addresses = n.subnets
      .filter((s) => s.prefix <= (s.family === 4 ? 30 : 126))
      .map((s) => ({ address: { family: s.family, value: s.network + 1n }, prefix: s.prefix }));
    if (addresses.length === 0) continue;
    bridges.push({ name: n.bridge, addresses, network: n.name });
    guests.push({
      name: `${n.name}-vm`,
      attach: n.bridge,
      addresses: addresses.map((a) => ({
        address: { family: a.address.family, value: a.address.value + 1n },
        prefix: a.prefix,
      })),
      gateways: undefined,
      port: null,
      mac: null,
    });
  }
  const used = networks.flatMap((n) => n.subnets);
  const free = UPLINKS.find((u) => !used.some((s) => cidrsOverlap(s, linkSubnet(u.addresses[0]!)))) ?? UPLINKS[0]!;
  const inbound = dumps
    .flatMap((d) => dnatRules(d, d.family === 'ipv6' ? 6 : 4))
    .map((d) => d.rule.inInterface)
    .find((i) => i && !i.negated && !i.name.endsWith('+'));
  const uplink = inbound ? { ...free, name: inbound.name } : free;
  return { ...spec, networks: definitions, bridges, guests, uplink };
}
