// What each derived rule is for, and the sentence people read about it. The engine attaches
// these to every rule it derives; diff, explain and audit call `why` on rules found in dumps,
// so the explanation and the rule come from one place and cannot drift apart.

/** The job a rule (or command) does for a network, named after its effect. */
export type Purpose =
  // read-only commands and one-time set-up
  | 'probe'
  | 'chain-setup'
  // guest ↔ host services (libvirt INPUT/OUTPUT or LIBVIRT_INP/LIBVIRT_OUT)
  | 'dhcp-in'
  | 'dhcp-out'
  | 'dns-in'
  | 'dns-out'
  | 'tftp-in'
  | 'tftp-out'
  | 'dhcpv6-in'
  | 'dhcpv6-out'
  // forwarding (FORWARD or LIBVIRT_FWO/FWI/FWX)
  | 'reject-in'
  | 'reject-out'
  | 'cross-bridge'
  | 'forward-out'
  | 'related-in'
  | 'forward-in'
  // address translation (nat POSTROUTING or LIBVIRT_PRT)
  | 'masquerade'
  | 'masquerade-ports'
  | 'snat'
  | 'snat-ports'
  | 'no-masquerade-broadcast'
  | 'no-masquerade-multicast'
  // DHCP checksum fix-up (mangle CHECKSUM, or a tc filter under nftables)
  | 'checksum'
  // Xen hotplug and network scripts
  | 'xen-vif-in'
  | 'xen-vif-out'
  | 'xen-vif-dhcp'
  | 'xen-masquerade'
  | 'xen-antispoof-policy'
  | 'xen-antispoof-flush'
  | 'xen-antispoof'
  | 'xen-antispoof-dom0';

export const PURPOSES: readonly Purpose[] = [
  'probe',
  'chain-setup',
  'dhcp-in',
  'dhcp-out',
  'dns-in',
  'dns-out',
  'tftp-in',
  'tftp-out',
  'dhcpv6-in',
  'dhcpv6-out',
  'reject-in',
  'reject-out',
  'cross-bridge',
  'forward-out',
  'related-in',
  'forward-in',
  'masquerade',
  'masquerade-ports',
  'snat',
  'snat-ports',
  'no-masquerade-broadcast',
  'no-masquerade-multicast',
  'checksum',
  'xen-vif-in',
  'xen-vif-out',
  'xen-vif-dhcp',
  'xen-masquerade',
  'xen-antispoof-policy',
  'xen-antispoof-flush',
  'xen-antispoof',
  'xen-antispoof-dom0',
];

/** What a sentence may mention; each purpose uses the fields it needs and falls back gracefully. */
export interface WhyContext {
  /** The virtual network's name. */
  readonly network?: string;
  readonly bridge?: string;
  /** The guests' subnet, e.g. `192.168.124.0/24`. */
  readonly subnet?: string;
  /** `<forward dev=…>`: the only interface traffic may leave (or come back) by. */
  readonly dev?: string | null;
  /** Protocol of a port-restricted rule (`tcp`, `udp`). */
  readonly protocol?: string;
  /** Source port range, e.g. `1024-65535`. */
  readonly ports?: string;
  /** SNAT address or range, e.g. `10.20.30.40-10.20.30.44`. */
  readonly to?: string;
  /** Destination exempted from masquerading (broadcast / multicast range). */
  readonly destination?: string;
  /** Xen: the guest interface `vifD.N`. */
  readonly vif?: string;
  /** Xen: the guest address a vif rule is restricted to. */
  readonly address?: string;
  /** Xen: the uplink (`eth0`) or the physical port behind the bridge (`peth0`). */
  readonly netdev?: string;
  /** chain-setup / probe: the chain, its parent and table. */
  readonly chain?: string;
  readonly parent?: string;
  readonly table?: string;
  /** Xen 3.4–4.0 add `-m state --state RELATED,ESTABLISHED` to the physdev-out rule. */
  readonly stateful?: boolean;
}

const on = (bridge: string | undefined): string => (bridge ? ` on ${bridge}` : '');
const via = (dev: string | null | undefined, word = 'via'): string => (dev ? ` ${word} ${dev}` : '');

/** The sentence for people: what the rule lets happen (or stops), in the network's own terms. */
export function why(purpose: Purpose, ctx: WhyContext = {}): string {
  const bridge = ctx.bridge ?? 'the bridge';
  const guests = ctx.subnet ? `guests of ${ctx.subnet}` : 'guests';
  switch (purpose) {
    case 'probe':
      return ctx.table
        ? `libvirt lists the ${ctx.table} table to see which of its chains already exist`
        : 'the script checks that the firewall can be read before changing it';
    case 'chain-setup':
      return ctx.parent
        ? `every packet in ${ctx.table ?? 'filter'} ${ctx.parent} passes through libvirt's ${ctx.chain ?? 'private'} chain first`
        : `libvirt's private chain ${ctx.chain ?? '(unnamed)'} (${ctx.table ?? 'filter'} table) is created once, for all networks`;
    case 'dhcp-in':
      return `guests${on(ctx.bridge)} may ask the host's dnsmasq for an address (DHCP, port 67)`;
    case 'dhcp-out':
      return `the host may send DHCP replies to guests${on(ctx.bridge)} (port 68)`;
    case 'dns-in':
      return `guests${on(ctx.bridge)} may send DNS queries to the host's dnsmasq (port 53)`;
    case 'dns-out':
      return `the host may send DNS traffic to guests${on(ctx.bridge)} (port 53)`;
    case 'tftp-in':
      return `guests${on(ctx.bridge)} may fetch boot files from the host's TFTP server (port 69)`;
    case 'tftp-out':
      return `the host may send TFTP traffic to guests${on(ctx.bridge)} (port 69)`;
    case 'dhcpv6-in':
      return `guests${on(ctx.bridge)} may ask the host's dnsmasq for an IPv6 address (DHCPv6, port 547)`;
    case 'dhcpv6-out':
      return `the host may send DHCPv6 replies to guests${on(ctx.bridge)} (port 546)`;
    case 'reject-in':
      return `everything else entering ${bridge} is rejected`;
    case 'reject-out':
      return `everything else leaving ${bridge} is rejected`;
    case 'cross-bridge':
      return `guests${on(ctx.bridge)} may talk to each other`;
    case 'forward-out':
      return `${guests}${on(ctx.bridge)} may start connections to anywhere${via(ctx.dev)}`;
    case 'related-in':
      return `replies may come back in to ${guests}${on(ctx.bridge)}${via(ctx.dev, 'from')}`;
    case 'forward-in':
      return `anyone${via(ctx.dev, 'behind')} may start connections to ${guests}${on(ctx.bridge)} (routed, no NAT)`;
    case 'masquerade':
      return `guests' addresses${ctx.subnet ? ` (${ctx.subnet})` : ''} are replaced by the host's on the way out${via(ctx.dev)}`;
    case 'masquerade-ports':
      return `${ctx.protocol ?? 'tcp/udp'} from ${guests} gets the host's address and a source port in ${ctx.ports ?? '1024-65535'}${via(ctx.dev)}, never a privileged one`;
    case 'snat':
      return `guests' addresses${ctx.subnet ? ` (${ctx.subnet})` : ''} are replaced by ${ctx.to ?? 'a fixed address'} on the way out${via(ctx.dev)}`;
    case 'snat-ports':
      return `${ctx.protocol ?? 'tcp/udp'} from ${guests} gets ${ctx.to ?? 'a fixed address'} and a source port in ${ctx.ports ?? '1024-65535'}${via(ctx.dev)}`;
    case 'no-masquerade-broadcast':
      return `broadcasts from ${guests} (${ctx.destination ?? '255.255.255.255/32'}) keep their address, so DHCP replies stay valid`;
    case 'no-masquerade-multicast':
      return `local multicast from ${guests} (${ctx.destination ?? '224.0.0.0/24'}) keeps its address`;
    case 'checksum':
      return `DHCP replies to guests${on(ctx.bridge)} get their UDP checksum filled in (some guests drop them otherwise)`;
    case 'xen-vif-in':
      return `traffic from guest interface ${ctx.vif ?? 'vif'}${ctx.address ? ` with source ${ctx.address}` : ''} may be forwarded`;
    case 'xen-vif-out':
      return ctx.stateful
        ? `replies to guest interface ${ctx.vif ?? 'vif'} may be forwarded to it`
        : `traffic to guest interface ${ctx.vif ?? 'vif'} may be forwarded to it`;
    case 'xen-vif-dhcp':
      return `guest interface ${ctx.vif ?? 'vif'} may ask for an address by DHCP (udp 68 → 67)`;
    case 'xen-masquerade':
      return `everything leaving by ${ctx.netdev ?? 'the uplink'} gets the host's address (network-nat), whatever its source`;
    case 'xen-antispoof-policy':
      return `forwarded traffic not explicitly accepted is dropped (network-bridge antispoof=yes)`;
    case 'xen-antispoof-flush':
      return `every earlier FORWARD rule is removed (network-bridge antispoof=yes flushes the chain)`;
    case 'xen-antispoof':
      return `traffic arriving from the physical port ${ctx.netdev ?? 'peth0'} may be bridged`;
    case 'xen-antispoof-dom0':
      return `traffic from dom0's own interface ${ctx.vif ?? 'vif0.0'} may be bridged`;
  }
}
