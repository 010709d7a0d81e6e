// What `virtables net` prints for a network definition: a two-column table for people, and the JSON
// documented in docs/commands/net.md. libvirt networks and Xen set-ups each have their rows and fields.

import { formatCidr, formatHost, type HostAddress } from '../model/cidr.js';
import { isVirtualMode, type Network, type XenNetwork } from '../model/network.js';
import { renderTable } from '../write/table.js';
import { dnsLabel, dnsServed, modeMeaning, xenModeMeaning } from './meaning.js';

// ---------------------------------------------------------------------------------------------
// Tables

const host = (a: HostAddress): string => formatHost(a.family, a.value);

export function networkTable(network: Network | XenNetwork): string {
  const rows = network.kind === 'libvirt' ? libvirtRows(network) : xenRows(network);
  return renderTable({ widths: [10, 68] }, rows) + '\n';
}

function libvirtRows(n: Network): Array<[string, string]> {
  const bridge = n.bridge
    ? `${n.bridge.name}${isVirtualMode(n.forward.mode) ? ` (stp ${n.bridge.stp ? 'on' : 'off'}, delay ${n.bridge.delay})` : ''}`
    : n.forward.interfaces.length > 0
      ? `- (interfaces ${n.forward.interfaces.join(', ')})`
      : '-';
  const mode =
    n.forward.mode === 'none'
      ? 'isolated (no <forward>)'
      : n.forward.mode + (n.forward.dev ? ` via ${n.forward.dev}` : '');
  const subnets = n.ips.map((ip) => `${formatCidr(ip.subnet)} (host ${host(ip.address)})`);
  const dhcp = n.ips.flatMap((ip) => ip.dhcpRanges.map((r) => `${host(r.start)} - ${host(r.end)}`));
  return [
    ['network', `${n.name}  (${n.origin.file}:${n.origin.pos.line})`],
    ['mode', mode],
    ['bridge', bridge],
    ['subnets', subnets.join('\n') || '-'],
    ['DHCP', dhcp.join('\n') || '-'],
    ['DNS', dnsLabel(n)],
    ['meaning', modeMeaning(n)],
  ];
}

function xenRows(n: XenNetwork): Array<[string, string]> {
  const guests = n.vifs.map(
    (v) => `${v.name}${v.ips.length > 0 ? ` ${v.ips.join(' ')}` : ''}${v.bridge ? ` on ${v.bridge}` : ''}`,
  );
  return [
    ['network', `${n.name}  (${n.origin.file}:${n.origin.pos.line})`],
    ['mode', `Xen ${n.mode} (network-${n.mode}, vif-${n.mode}; uplink ${n.netdev})`],
    ['bridge', n.bridge ?? '-'],
    ['guests', guests.join('\n') || '-'],
    ['DHCP', '-'],
    ['DNS', '-'],
    ['meaning', xenModeMeaning(n)],
  ];
}

// ---------------------------------------------------------------------------------------------
// JSON (documented in docs/commands/net.md)

export function networkJson(network: Network | XenNetwork) {
  return network.kind === 'libvirt' ? libvirtJson(network) : xenJson(network);
}

function libvirtJson(n: Network) {
  const addr = (a: HostAddress | null) => a && host(a);
  return {
    kind: 'libvirt' as const,
    file: n.origin.file,
    line: n.origin.pos.line,
    name: n.name,
    uuid: n.uuid,
    mode: n.forward.mode,
    meaning: modeMeaning(n),
    forward: {
      dev: n.forward.dev,
      interfaces: n.forward.interfaces,
      pf: n.forward.pf,
      nat: n.forward.nat && {
        addressStart: addr(n.forward.nat.addressStart),
        addressEnd: addr(n.forward.nat.addressEnd),
        portStart: n.forward.nat.portStart,
        portEnd: n.forward.nat.portEnd,
        ipv6: n.forward.nat.ipv6,
      },
    },
    bridge: n.bridge,
    mac: n.mac,
    domain: n.domain,
    mtu: n.mtu,
    ipv6: n.ipv6,
    connections: n.connections,
    dns: {
      enabled: n.dns.enable,
      served: dnsServed(n),
      forwardPlainNames: n.dns.forwardPlainNames,
      forwarders: n.dns.forwarders,
      hosts: n.dns.hosts,
      srv: n.dns.srv,
      txt: n.dns.txt,
    },
    ips: n.ips.map((ip) => ({
      family: ip.family,
      address: host(ip.address),
      prefix: ip.subnet.prefix,
      subnet: formatCidr(ip.subnet),
      line: ip.origin.pos.line,
      dhcpRanges: ip.dhcpRanges.map((r) => ({ start: host(r.start), end: host(r.end) })),
      dhcpHosts: ip.dhcpHosts.map((h) => ({ mac: h.mac, name: h.name, ip: addr(h.ip) })),
      tftpRoot: ip.tftpRoot,
      bootp: ip.bootp,
    })),
  };
}

function xenJson(n: XenNetwork) {
  return {
    kind: 'xen' as const,
    file: n.origin.file,
    line: n.origin.pos.line,
    name: n.name,
    mode: n.mode,
    meaning: xenModeMeaning(n),
    netdev: n.netdev,
    bridge: n.bridge,
    antispoof: n.antispoof,
    vifs: n.vifs.map((v) => ({
      name: v.name,
      domid: v.domid,
      devid: v.devid,
      ips: v.ips,
      bridge: v.bridge,
      mac: v.mac,
      file: v.origin.file,
      line: v.origin.pos.line,
    })),
  };
}
