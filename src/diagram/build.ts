// From a dump and a topology to the diagram: build the host, add a guest wherever a port
// forward sends to an address no guest has, trace the reachability matrix and the forwards.

import { cidrContains, parseHost, type IpFamily } from '../model/cidr.js';
import type { Dump } from '../model/dump.js';
import { compileDump } from '../sim/compile.js';
import { DEFAULT_SERVICES, reachabilityMatrix, type Service } from '../sim/matrix.js';
import { buildTopology, linkSubnet, type GuestSpec, type Topology, type TopologySpec } from '../sim/topology.js';
import { prepare } from '../sim/trace.js';
import { buildDiagram, forwardTargets, portForwards, type Diagram } from './graph.js';

export interface DiagramOptions {
  readonly title: string;
  readonly services?: readonly Service[];
}

/** Guests (named by their address) for the port forwards' targets on a bridge subnet. */
function forwardGuests(dump: Dump, family: IpFamily, topology: Topology): GuestSpec[] {
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
    const bridge = topology.interfaces.find((i) => i.role === 'bridge' && i.addresses.some((a) => cidrContains(linkSubnet(a), address)));
    if (bridge) out.push({ name: text, attach: bridge.name, addresses: [{ address, prefix: -1 }], gateways: undefined, port: port(), mac: null });
  }
  return out;
}

export function diagramOf(dump: Dump, spec: TopologySpec, options: DiagramOptions): Diagram {
  const family: IpFamily = dump.family === 'ipv6' ? 6 : 4;
  const first = buildTopology(spec);
  const extra = forwardGuests(dump, family, first);
  // The guests as built (auto-placed ones included), then the new ones: adding a guest to a
  // bridge must not take the place of the guest the network already had there.
  const kept: GuestSpec[] = first.endpoints.filter((e) => e.kind === 'guest').map((e) => ({ name: e.name, attach: e.iface, addresses: e.addresses, gateways: e.gateways, port: e.port, mac: e.mac }));
  const topology = extra.length > 0 ? buildTopology({ ...spec, autoGuests: false, guests: [...kept, ...extra] }) : first;
  const sim = prepare(compileDump(dump, family), topology);
  const matrix = reachabilityMatrix(sim, options.services ?? DEFAULT_SERVICES);
  return buildDiagram({ title: options.title, sim, matrix, networks: spec.networks, forwards: portForwards(sim, dump) });
}
