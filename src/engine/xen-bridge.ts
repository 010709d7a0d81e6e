// Flavour `xen-bridge`: network-bridge at xend start (rules only with antispoof=yes), then
// vif-bridge for each guest interface: FORWARD physdev accepts per vif, nothing in nat.

import type { XenNetwork } from '../model/network.js';
import { command } from './iptables.js';
import type { Command } from './program.js';
import { scriptRule, vifCommands, type XenEra } from './xen-common.js';

/**
 * network-bridge's antispoofing(): FORWARD policy DROP, flushed, then only the physical port (and, in 3.0, dom0)
 * accepted.
 */
function antispoof(era: XenEra, network: XenNetwork): Command[] {
  const pdev = `p${network.netdev}`;
  const argv = (args: string[]): string[] => ['iptables', ...args];
  const context = { network: network.name, netdev: pdev };
  const commands = [
    command(
      argv(['-P', 'FORWARD', 'DROP']),
      { kind: 'policy', family: 'ipv4', table: 'filter', chain: 'FORWARD', policy: 'DROP' },
      { network: network.name, purpose: 'xen-antispoof-policy', context },
    ),
    command(
      argv(['-F', 'FORWARD']),
      { kind: 'flush', family: 'ipv4', table: 'filter', chain: 'FORWARD' },
      { network: network.name, purpose: 'xen-antispoof-flush', context },
    ),
    // network-bridge calls plain iptables, never -w
    scriptRule(
      { ...era, wait: false },
      network.name,
      '-A',
      'filter',
      'FORWARD',
      ['-m', 'physdev', '--physdev-in', pdev, '-j', 'ACCEPT'],
      'xen-antispoof',
      context,
    ),
  ];
  if (era.antispoofDom0) {
    const vif0 = 'vif0.0';
    commands.push(
      scriptRule(
        { ...era, wait: false },
        network.name,
        '-A',
        'filter',
        'FORWARD',
        ['-m', 'physdev', '--physdev-in', vif0, '-j', 'ACCEPT'],
        'xen-antispoof-dom0',
        { network: network.name, vif: vif0 },
      ),
    );
  }
  return commands;
}

export function compileXenBridge(era: XenEra, network: XenNetwork, notes: string[]): Command[] {
  const commands: Command[] = [];
  if (network.antispoof) {
    if (era.networkScripts) commands.push(...antispoof(era, network));
    else
      notes.push(
        `${network.name}: antispoof=yes is a network-bridge option; ${era.label} has no network-bridge, so no antispoofing rules`,
      );
  }
  for (const vif of network.vifs) commands.push(...vifCommands(era, network, vif, vif.ips));
  return commands;
}
