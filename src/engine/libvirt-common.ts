// What libvirt's firewall code reads from a network definition, shared by the iptables
// (legacy and private-chain) and nftables flavours: which modes get rules, which <ip> gets
// which block, the forward device, NAT ports and addresses.

import { match } from 'ts-pattern';
import { formatCidr, formatHost, maskOf } from '../model/cidr.js';
import { InputError } from '../model/errors.js';
import type { IpConfig, Network } from '../model/network.js';
import type { WhyContext } from './why.js';

/** The per-<ip> block libvirt adds (iptablesAddIPSpecificFirewallRules). */
export type IpBlock = 'masquerade' | 'route' | 'none';

export function ipBlock(network: Network, ip: IpConfig): IpBlock {
  return (
    match(network.forward.mode)
      // IPv6 has no NAT unless <nat ipv6='yes'>: it is routed instead
      .with('nat', () => (ip.family === 4 || network.forward.nat?.ipv6 === true ? 'masquerade' : 'route') as IpBlock)
      .with('route', () => 'route' as IpBlock)
      .with('none', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev', () => 'none' as IpBlock)
      .exhaustive()
  );
}

/** The bridge every rule names; libvirt always has one for the modes that get rules. */
export function bridgeOf(network: Network): string {
  if (network.bridge?.name) return network.bridge.name;
  throw new InputError(
    network.origin.file,
    network.origin.pos.line,
    network.origin.pos.col,
    `network '${network.name}' has no <bridge name=…>; libvirt picks a free virbrN when the network is defined, so give the name it chose (virsh net-dumpxml ${network.name})`,
  );
}

/** virNetworkDefForwardIf(def, 0): `<forward dev=…>`, else the first `<interface dev=…>`. */
export function forwardDevice(network: Network): string | null {
  return network.forward.dev ?? network.forward.interfaces[0] ?? null;
}

export function ipv4s(network: Network): IpConfig[] {
  return network.ips.filter((ip) => ip.family === 4);
}

export function hasIpv6(network: Network): boolean {
  return network.ips.some((ip) => ip.family === 6);
}

/**
 * The first IPv4 <ip> with DHCP ranges or hosts (or, when asked, a <tftp> root): "we support dhcp config on 1 IPv4
 * interface only".
 */
export function dhcpIpv4(network: Network, countTftp: boolean): IpConfig | undefined {
  return ipv4s(network).find(
    (ip) => ip.dhcpRanges.length > 0 || ip.dhcpHosts.length > 0 || (countTftp && ip.tftpRoot !== null),
  );
}

/** `192.168.122.0/24`, as virSocketAddrFormatWithPrefix(…, masked) writes it. */
export function subnetText(ip: IpConfig): string {
  return formatCidr(ip.subnet);
}

/** `192.168.122.0/255.255.255.0`: the network string of libvirt before 0.8.5 (network_conf.c `%s/%s`). */
export function subnetWithNetmask(ip: IpConfig): string {
  return `${formatHost(ip.family, ip.subnet.network)}/${formatHost(ip.family, maskOf(ip.family, ip.subnet.prefix))}`;
}

/** `<nat><port start end>` with libvirt's default and its check (start < end < 65536). */
export function natPorts(network: Network): string {
  const nat = network.forward.nat;
  let start = nat?.portStart ?? 0;
  let end = nat?.portEnd ?? 0;
  if (start === 0 && end === 0) {
    start = 1024;
    end = 65535;
  }
  if (!(start < end && end < 65536)) {
    throw new InputError(
      network.origin.file,
      network.origin.pos.line,
      network.origin.pos.col,
      `network '${network.name}': invalid NAT port range '${start}-${end}' (libvirt needs start < end ≤ 65535)`,
    );
  }
  return `${start}-${end}`;
}

/** `<nat><address start end>` of the same family as the subnet: SNAT to it instead of MASQUERADE. */
export function snatAddress(network: Network, ip: IpConfig): string | null {
  const nat = network.forward.nat;
  if (!nat?.addressStart || nat.addressStart.family !== ip.family) return null;
  const start = formatHost(nat.addressStart.family, nat.addressStart.value);
  const end =
    nat.addressEnd && nat.addressEnd.family === ip.family
      ? formatHost(nat.addressEnd.family, nat.addressEnd.value)
      : null;
  return end ? `${start}-${end}` : start;
}

/** The why-context of a network, optionally narrowed to one <ip>. */
export function contextOf(network: Network, ip?: IpConfig): WhyContext {
  return {
    network: network.name,
    bridge: network.bridge?.name ?? undefined,
    dev: forwardDevice(network),
    ...(ip ? { subnet: subnetText(ip) } : {}),
  };
}
