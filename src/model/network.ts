// What a virtual network says it is: libvirt's <network> definition, and the Xen script
// set-ups (network-bridge / network-nat / network-route with their vifs), as plain data.

import { match } from 'ts-pattern';
import type { Cidr, HostAddress } from './cidr.js';
import type { SourcePos } from './dump.js';

/** libvirt's `<forward mode=…>`; no `<forward>` at all is `none` (isolated / host-only). */
export type ForwardMode = 'none' | 'nat' | 'route' | 'open' | 'bridge' | 'private' | 'vepa' | 'passthrough' | 'hostdev';

export const FORWARD_MODES: readonly ForwardMode[] = [
  'none',
  'nat',
  'route',
  'open',
  'bridge',
  'private',
  'vepa',
  'passthrough',
  'hostdev',
];

/** Where a piece of the model came from, for messages and SARIF locations. */
export interface Origin {
  readonly file: string;
  readonly pos: SourcePos;
}

export interface Network {
  readonly kind: 'libvirt';
  readonly name: string;
  readonly uuid: string | null;
  readonly forward: Forward;
  readonly bridge: Bridge | null;
  readonly mac: string | null;
  readonly domain: { readonly name: string; readonly localOnly: boolean } | null;
  readonly dns: Dns;
  /** Every `<ip>`, in document order (libvirt generates per-ip rules in this order). */
  readonly ips: IpConfig[];
  /** `<network ipv6='yes'>`: IPv6 between guests even without an IPv6 address. */
  readonly ipv6: boolean;
  readonly mtu: number | null;
  /** The `connections` attribute of the live status XML, when present. */
  readonly connections: number | null;
  readonly origin: Origin;
}

export interface Forward {
  readonly mode: ForwardMode;
  /** `<forward dev=…>`: the only interface traffic may leave by. */
  readonly dev: string | null;
  readonly nat: Nat | null;
  /** `<interface dev=…>` children (macvtap / hostdev pools). */
  readonly interfaces: string[];
  /** `<pf dev=…>` (SR-IOV physical function). */
  readonly pf: string | null;
}

export interface Nat {
  /** `<address start end>`: SNAT to these instead of MASQUERADE. */
  readonly addressStart: HostAddress | null;
  readonly addressEnd: HostAddress | null;
  /** `<port start end>`; libvirt's default is 1024-65535. */
  readonly portStart: number;
  readonly portEnd: number;
  /** `<nat ipv6='yes'>`: masquerade IPv6 too (libvirt 6.5+). */
  readonly ipv6: boolean;
}

export interface Bridge {
  readonly name: string;
  readonly stp: boolean;
  readonly delay: number;
  readonly zone: string | null;
  readonly macTableManager: string | null;
}

export interface Dns {
  /** `<dns enable='no'>` turns the DNS server off (the port-53 iptables ACCEPT stays). */
  readonly enable: boolean;
  readonly forwardPlainNames: boolean | null;
  readonly forwarders: Array<{ readonly addr: string | null; readonly domain: string | null }>;
  readonly hosts: Array<{ readonly ip: string; readonly hostnames: string[] }>;
  readonly srv: Array<{
    readonly service: string;
    readonly protocol: string;
    readonly target: string | null;
    readonly port: number | null;
  }>;
  readonly txt: Array<{ readonly name: string; readonly value: string }>;
}

export interface IpConfig {
  readonly family: 4 | 6;
  /** The host's own address on the bridge, e.g. 192.168.122.1. */
  readonly address: HostAddress;
  /** The subnet (address with host bits cleared), e.g. 192.168.122.0/24. */
  readonly subnet: Cidr;
  readonly dhcpRanges: Array<{ readonly start: HostAddress; readonly end: HostAddress }>;
  readonly dhcpHosts: Array<{
    readonly mac: string | null;
    readonly name: string | null;
    readonly ip: HostAddress | null;
  }>;
  /** `<tftp root=…>` */
  readonly tftpRoot: string | null;
  /** `<dhcp><bootp file=…>` */
  readonly bootp: string | null;
  readonly origin: Origin;
}

// --- Xen ---------------------------------------------------------------------------------

/** The Xen network script set-up a host runs (xend-config.sxp `network-script`/`vif-script`). */
export type XenMode = 'bridge' | 'nat' | 'route';

export interface XenVif {
  /** `vifD.N`: domain id D, device index N. */
  readonly name: string;
  readonly domid: number;
  readonly devid: number;
  /** Addresses from `ip=` (space separated in the vif spec), each possibly with a prefix. */
  readonly ips: string[];
  readonly bridge: string | null;
  readonly mac: string | null;
  readonly origin: Origin;
}

export interface XenNetwork {
  readonly kind: 'xen';
  /** A name for reports, e.g. `xen-nat` or the bridge name. */
  readonly name: string;
  readonly mode: XenMode;
  /** `netdev` (default eth0): the uplink network-nat masquerades on. */
  readonly netdev: string;
  /** network-bridge's bridge (default = netdev in Xen 3.2+, xenbr0 before). */
  readonly bridge: string | null;
  /** network-bridge `antispoof=yes`. */
  readonly antispoof: boolean;
  readonly vifs: XenVif[];
  readonly origin: Origin;
}

export type AnyNetwork = Network | XenNetwork;

/** Does libvirt add firewall rules for this mode? (networkAddFirewallRules, bridge_driver_linux.c) */
export function installsRules(mode: ForwardMode): boolean {
  return (
    match(mode)
      .with('none', 'nat', 'route', () => true)
      // open: "No firewall rules to add for mode='open' network"; the rest are host bridges or macvtap/hostdev pools
      .with('open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev', () => false)
      .exhaustive()
  );
}

/**
 * Does libvirt make this network itself — its own bridge, addresses and dnsmasq — rather than use
 * a host bridge or a pool of devices? (networkStartNetworkVirtual vs networkStartNetworkExternal)
 */
export function isVirtualMode(mode: ForwardMode): boolean {
  return match(mode)
    .with('none', 'nat', 'route', 'open', () => true)
    .with('bridge', 'private', 'vepa', 'passthrough', 'hostdev', () => false)
    .exhaustive();
}
