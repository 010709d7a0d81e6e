// conflict-ufw: ufw's default DROP policies and its chains stop traffic a virtual network's
// mode promises (forwarding for nat/route, DHCP and DNS to the host), which matters whenever
// libvirt's own ACCEPTs are not first: the nftables backend, a ufw started after libvirt.

import { blockedBy, bridgedNetworks, networkLabel, policyLine } from '../conflict.js';
import { present } from '../outcomes.js';
import { defineCheck } from '../context.js';
import { fill, report, type Finding } from '../types.js';

export const conflictUfw = defineCheck({
  id: 'conflict-ufw',
  severity: 'warning',
  summary: "ufw's rules or DROP policies stop traffic the virtual networks need",
  docs: 'docs/checks/conflict-ufw.md',
  messages: {
    bridged:
      "{{network}} puts guests on a host bridge; with br_netfilter loaded their bridged traffic passes FORWARD, where ufw's DROP policy stops it",
    allowDns:
      'let the guests reach dnsmasq: `ufw allow in on {{bridge}} to any port 53` and `ufw allow in on {{bridge}} to any port 67 proto udp`',
    allowRoute:
      'let ufw route the network\'s traffic: `ufw route allow in on {{bridge}}` and `ufw route allow out on {{bridge}}` (or DEFAULT_FORWARD_POLICY="ACCEPT" in /etc/default/ufw)',
    allowBridged:
      '`ufw route allow in on {{bridge}} out on {{bridge}}`, or `sysctl net.bridge.bridge-nf-call-iptables=0`',
  },
  run(ctx): Finding[] {
    if (!present(ctx, 'ufw')) return [];
    const out: Finding[] = blockedBy(conflictUfw, ctx, 'ufw', (bridge, probe) =>
      fill(probe === 'dns' ? conflictUfw.messages.allowDns : conflictUfw.messages.allowRoute, { bridge }),
    );
    const forward = policyLine(ctx, 'filter', 'FORWARD');
    if (forward?.chain.policy !== 'DROP') return out;
    for (const n of bridgedNetworks(ctx)) {
      out.push(
        report(conflictUfw, {
          network: n.name,
          message: 'bridged',
          fix: 'allowBridged',
          data: { network: networkLabel(n), bridge: n.bridge ?? 'br0' },
          location: forward.location ?? ctx.definitionLocation(n),
        }),
      );
    }
    return out;
  },
});
