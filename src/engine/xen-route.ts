// Flavour `xen-route`: network-route only enables ip_forward and proxy_arp on netdev (no
// iptables command); vif-route adds a host route per guest address and the same FORWARD
// physdev accepts as vif-bridge.

import type { XenNetwork } from '../model/network.js';
import type { Command } from './program.js';
import { vifCommands, type XenEra } from './xen-common.js';

export function compileXenRoute(era: XenEra, network: XenNetwork, notes: string[]): Command[] {
  if (network.vifs.length === 0)
    notes.push(`${network.name}: network-route adds no firewall rules; only guest interfaces (vif-route) do`);
  return network.vifs.flatMap((vif) => vifCommands(era, network, vif, vif.ips));
}
