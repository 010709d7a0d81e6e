// Flavour `xen-nat`: network-nat at xend start MASQUERADEs everything leaving by netdev (no
// source restriction), then vif-nat routes each guest interface and adds the same FORWARD
// physdev accepts as vif-bridge, for the guest's address (default 10.D.D.N+1/16).

import type { XenNetwork } from '../model/network.js';
import type { Command } from './program.js';
import { scriptRule, vifCommands, vifNatDefaultIp, type XenEra } from './xen-common.js';

export function compileXenNat(era: XenEra, network: XenNetwork, notes: string[]): Command[] {
  const commands: Command[] = [];
  if (era.networkScripts) {
    // network-nat runs plain iptables (no -w) and appends
    commands.push(
      scriptRule(
        { ...era, wait: false },
        network.name,
        '-A',
        'nat',
        'POSTROUTING',
        ['-o', network.netdev, '-j', 'MASQUERADE'],
        'xen-masquerade',
        { network: network.name, netdev: network.netdev },
      ),
    );
  } else {
    notes.push(
      `${network.name}: ${era.label} has no network-nat script; the MASQUERADE on ${network.netdev} must be added by the administrator`,
    );
  }
  for (const vif of network.vifs)
    commands.push(...vifCommands(era, network, vif, vif.ips.length > 0 ? vif.ips : [vifNatDefaultIp(vif)]));
  return commands;
}
