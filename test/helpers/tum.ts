// The host around a TUM chair firewall dump (../shared/corpus/real-world/configs_chair_…): its
// FORWARD chain sends each VLAN's traffic to a filter chain with `-d SUBNET -o eth1.N -j filter_N`,
// so every such unicast subnet is a network on its VLAN interface (the host at .1, one machine at
// .10); eth1.110 is the uplink (traffic to the chair's /23s comes in there).

import { formatHost, parseCidr, type Cidr, type IpFamily } from '../../src/model/cidr.js';
import { buildTopology, emptySpec, type Topology } from '../../src/sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';

const FILTER_JUMP = /^-A FORWARD -d (\S+) -o (\S+) -j filter_\S+$/;

function multicast(c: Cidr): boolean {
  return c.family === 4 ? c.network >> 28n === 0xen : c.network >> 120n === 0xffn;
}

/** One network per VLAN subnet the FORWARD chain names, in the order it names them; `macs`: each machine has a MAC. */
export function tumTopology(dumpText: string, family: IpFamily, macs = false): Topology {
  const byIface = new Map<string, Cidr>();
  for (const line of dumpText.split('\n')) {
    const m = FILTER_JUMP.exec(line.trim());
    if (!m) continue;
    const c = parseCidr(m[1]!);
    if (!c || c.family !== family || multicast(c) || byIface.has(m[2]!)) continue;
    byIface.set(m[2]!, c);
  }
  const at = (c: Cidr, n: bigint): string => formatHost(family, c.network + n);
  const uplink =
    family === 4
      ? 'eth1.110=131.159.252.150/24,gw=131.159.252.1'
      : 'eth1.110=2001:4ca0:2001:ffff::2/64,gw=2001:4ca0:2001:ffff::1';
  return buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag(uplink),
    bridges: [...byIface].map(([iface, c]) => parseBridgeFlag(`${iface}=${at(c, 1n)}/${c.prefix}`)),
    guests: [...byIface].map(([iface, c], i) => {
      const mac = macs ? `,mac=52:54:00:00:00:${(i + 16).toString(16)}` : '';
      return parseGuestFlag(
        `vlan${iface.replace(/^eth1\./, '')}@${iface}=${at(c, 10n)}/${c.prefix},gw=${at(c, 1n)}${mac}`,
      );
    }),
    outside: family === 4 ? emptySpec().outside : [{ family: 6, value: 0x20010db8000000000000000000000010n }],
    brNetfilter: 'off',
  });
}
