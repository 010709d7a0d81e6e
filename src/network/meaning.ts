// What a network's mode means for its guests, in one phrase, and whether its DNS server
// answers: the words `virtables net` prints next to each network (DESIGN.md, "What the seed
// lab teaches").

import { match } from 'ts-pattern';
import { formatCidr } from '../model/cidr.js';
import { isVirtualMode, type Network, type XenNetwork } from '../model/network.js';

/** libvirt runs dnsmasq only for networks it routes itself, and only when they have an address. */
export function dnsServed(network: Network): boolean {
  return isVirtualMode(network.forward.mode) && network.ips.length > 0 && network.dns.enable;
}

/** `on`, `off`, or `-` where libvirt runs no DNS server at all (host bridges, macvtap, SR-IOV). */
export function dnsLabel(network: Network): 'on' | 'off' | '-' {
  if (!isVirtualMode(network.forward.mode)) return '-';
  return dnsServed(network) ? 'on' : 'off';
}

export function modeMeaning(network: Network): string {
  const subnets = network.ips.map((ip) => formatCidr(ip.subnet)).join(', ');
  const via = network.forward.dev ? ` via ${network.forward.dev}` : '';
  const uplink =
    network.bridge?.name ??
    network.forward.dev ??
    network.forward.interfaces[0] ??
    network.forward.pf ??
    'the host interface';
  return match(network.forward.mode)
    .with('nat', () => `NAT: guests reach outside${via}, outside cannot reach guests`)
    .with('none', () =>
      network.ips.length === 0
        ? 'no host address: guests see each other only, not the host (isolation by addressing)'
        : `isolated: guests reach each other and the host only${dnsServed(network) ? ' (DNS on: local names; outside names too on libvirt before 0.9.4)' : ' (DNS off)'}`,
    )
    .with(
      'route',
      () =>
        `routed: guests reach outside${via} and outside reaches guests, no NAT (the LAN router needs a route to ${subnets})`,
    )
    .with('open', () => 'open: libvirt adds no firewall rules at all; the host firewall alone decides')
    .with('bridge', () => `bridged: guests sit on the LAN of ${uplink}, no NAT and no libvirt rules`)
    .with('private', () => `macvtap private on ${uplink}: guests reach the LAN but not each other`)
    .with('vepa', () => `macvtap VEPA on ${uplink}: guest-to-guest traffic goes through the external switch`)
    .with('passthrough', () => `passthrough: ${uplink} is handed to one guest, no libvirt rules`)
    .with(
      'hostdev',
      () =>
        `SR-IOV: virtual functions${network.forward.pf ? ` of ${network.forward.pf}` : ''} handed to guests, no libvirt rules`,
    )
    .exhaustive();
}

export function xenModeMeaning(network: XenNetwork): string {
  return match(network.mode)
    .with(
      'bridge',
      () =>
        `bridged: guests sit on the LAN of ${network.bridge ?? network.netdev}${network.antispoof ? ' (FORWARD policy DROP, anti-spoofing rules per vif)' : ''}`,
    )
    .with('nat', () => `NAT: guests reach outside through ${network.netdev} (MASQUERADE), outside cannot reach guests`)
    .with(
      'route',
      () =>
        `routed: guests reach outside through ${network.netdev} by proxy ARP, outside reaches guests (the LAN router needs routes)`,
    )
    .exhaustive();
}
