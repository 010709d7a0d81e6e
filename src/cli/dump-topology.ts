// The host a trace or a diagram runs on, completed from what the dump shows: the uplink named
// as the rules name it (a DNAT's -i, a MASQUERADE's -o), a bridge with its subnet for every
// network the dump holds that no --net describes (as audit infers them), and a guest at every
// port forward's target inside a known subnet. Each assumption is said in the notes.

import { inferNetworks, networksFromDefinitions, type NetworkInfo } from '../explain/attribute.js';
import { auditTopology, forwardGuests } from '../diagram/build.js';
import { formatHost, type IpFamily } from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import { portForwards } from '../sim/dnat.js';
import { buildTopology, DEFAULT_UPLINK, guestSpecsOf, type Topology, type TopologySpec } from '../sim/topology.js';
import { mostCommon } from '../model/lists.js';

export interface DumpTopology {
  readonly spec: TopologySpec;
  readonly topology: Topology;
  /** What was taken from the dump rather than given, for the output. */
  readonly notes: string[];
  /** Every network the topology stands for: given and inferred (for explaining rules). */
  readonly networks: NetworkInfo[];
}

const plainName = (i: Rule['inInterface']): string | null => (i && !i.negated && !i.name.endsWith('+') ? i.name : null);

/** The outside interface the dump's rules name: where port forwards come in, else where NAT leaves. */
function uplinkName(dump: Dump, bridges: ReadonlySet<string>, family: IpFamily): { name: string; why: string } | null {
  const keep = (n: string | null): n is string => n !== null && n !== 'lo' && !bridges.has(n);
  const dnat = portForwards(dump, family)
    .map((f) => plainName(f.rule.inInterface))
    .filter(keep);
  const inbound = mostCommon(dnat);
  if (inbound) return { name: inbound, why: `the interface the dump's port forwards come in on (DNAT -i ${inbound})` };
  const nat =
    dump.tables
      .find((t) => t.name === 'nat')
      ?.chains.flatMap((c) =>
        c.rules
          .filter((r) => ['MASQUERADE', 'SNAT'].includes(r.target?.name ?? ''))
          .map((r) => plainName(r.outInterface)),
      ) ?? [];
  const outbound = mostCommon(nat.filter(keep));
  if (outbound)
    return { name: outbound, why: `the interface the dump's NAT leaves by (${outbound} in a MASQUERADE/SNAT -o)` };
  return null;
}

/** The topology of `spec`, completed from `dump`. */
export function dumpTopology(spec: TopologySpec, dump: Dump, uplinkGiven: boolean): DumpTopology {
  const family: IpFamily = dump.family === 'ipv6' ? 6 : 4;
  const notes: string[] = [];
  const networks = inferNetworks([dump], networksFromDefinitions(spec.networks));
  const known = new Set([
    ...spec.bridges.map((b) => b.name),
    ...spec.networks.flatMap((n) => (n.kind === 'libvirt' && n.bridge ? [n.bridge.name] : [])),
  ]);
  // Networks only the dump shows: a bridge with its subnet and a guest, as audit infers them.
  const inferred = networks.filter(
    (n) => n.origin === 'inferred' && n.owner === 'libvirt' && n.bridge && !known.has(n.bridge),
  );
  const fromDump = auditTopology(inferred, [dump]);
  if (fromDump.bridges.length > 0) {
    const described = fromDump.bridges.map((b) => {
      const guest = fromDump.guests.find((g) => g.attach === b.name)?.name;
      return `${b.name} (host ${b.addresses.map((a) => `${formatHost(a.address.family, a.address.value)}/${a.prefix}`).join(', ')}${guest ? `, guest ${guest}` : ''})`;
    });
    notes.push(
      `${spec.networks.length > 0 ? 'networks the --net files do not describe' : 'no --net: networks'} inferred from the dump, as audit infers them: ${described.join(', ')}`,
    );
  }
  let s: TopologySpec = {
    ...spec,
    bridges: [...spec.bridges, ...fromDump.bridges],
    guests: [...fromDump.guests, ...spec.guests],
  };
  if (!uplinkGiven && spec.uplink === null) {
    const bridges = new Set([...known, ...fromDump.bridges.map((b) => b.name)]);
    const up = uplinkName(dump, bridges, family);
    if (up && up.name !== 'eth0') {
      const assumed = DEFAULT_UPLINK.addresses[0]!;
      s = { ...s, uplink: { ...DEFAULT_UPLINK, name: up.name } };
      notes.push(
        `uplink ${up.name}: ${up.why}; its address is assumed (${formatHost(assumed.address.family, assumed.address.value)}/${assumed.prefix}; --uplink gives the real one)`,
      );
    }
  }
  let topology = buildTopology(s);
  // A guest at every port forward's target inside a known subnet that no guest has.
  const extra = forwardGuests(dump, family, topology);
  if (extra.length > 0) {
    const kept = guestSpecsOf(topology);
    s = { ...s, autoGuests: false, guests: [...kept, ...extra] };
    topology = buildTopology(s);
    for (const g of extra) {
      const line = portForwards(dump, family).find((f) => formatHost(f.to.family, f.to.value) === g.name)?.rule.line;
      notes.push(`guest ${g.name} placed on ${g.attach}: the port forward at line ${line ?? '?'} sends there`);
    }
  }
  return { spec: s, topology, notes, networks };
}
