// libvirt's iptables rule generator (network_iptables.c; src/util/iptables.c and
// viriptables.c before it), written once and parameterised by era: the private-chain flavour
// (5.1+) and the built-in-chain legacy flavour differ in chain names, `-w`, a handful of rules
// and option spellings, not in shape. Every command is an --insert, so the dump order within
// a chain is the reverse of the order here.

import { InputError } from '../model/errors.js';
import type { Family } from '../model/dump.js';
import { installsRules, type IpConfig, type Network } from '../model/network.js';
import {
  bridgeOf,
  contextOf,
  dhcpIpv4,
  forwardDevice,
  hasIpv6,
  ipBlock,
  natPorts,
  snatAddress,
  subnetText,
  subnetWithNetmask,
} from './libvirt-common.js';
import { command, ruleFromOptions, toolOf, type Meta } from './iptables.js';
import type { Command } from './program.js';
import type { Purpose, WhyContext } from './why.js';

/** The chains libvirt writes into: private LIBVIRT_* (5.1+) or the built-in ones before. */
export interface LibvirtChains {
  readonly input: string;
  readonly output: string;
  readonly forwardOut: string;
  readonly forwardIn: string;
  readonly forwardCross: string;
  /** nat and mangle POSTROUTING (the same name in both tables). */
  readonly postrouting: string;
}

/** Everything that changed in libvirt's iptables rules between releases. */
export interface IptablesEra {
  /** `libvirt 5.0.0`, for messages and the program's era. */
  readonly label: string;
  readonly chains: LibvirtChains;
  /** `-w` (wait for the xtables lock) on every command. */
  readonly wait: boolean;
  /** Host→guest OUTPUT rules: 5.1+ adds tcp+udp 68, tcp+udp 53 (and udp 69, udp 546); 1.2.4–5.0 only udp 68. */
  readonly hostOutput: 'full' | 'dhcp-udp' | 'none';
  /** INPUT udp 69 when the DHCP <ip> has <tftp root> (0.8.2+). */
  readonly tftp: boolean;
  /** ip6tables rules and several <ip> per network (0.8.7+); before, only the first <ip>, IPv4 only. */
  readonly ipv6: boolean;
  /** INPUT udp 547 for DHCPv6 when the network has an IPv6 <ip>. */
  readonly dhcpv6: boolean;
  /**
   * mangle CHECKSUM --checksum-fill for DHCP replies: when there is any address (0.8.3–0.8.6) or a DHCP <ip> (later).
   */
  readonly checksum: 'none' | 'has-address' | 'dhcp';
  /**
   * The tcp/udp MASQUERADE rules with a source port range (CVE-2010-2242, 0.8.3+), fixed 1024-65535 until <nat><port>
   * existed.
   */
  readonly masqueradePorts: 'none' | 'fixed' | 'configurable';
  /** <nat><address> turns MASQUERADE into SNAT. */
  readonly natAddress: boolean;
  /** RETURN for broadcast and local multicast before the MASQUERADE rules. */
  readonly dontMasquerade: boolean;
  /** How replies are recognised in the related-in rule. */
  readonly related: 'state' | 'conntrack';
  /** `--destination ! N` (iptables 1.3 syntax, before 0.7.4) or `! --destination N`. */
  readonly negation: 'after' | 'before';
  /** The subnet as `ADDR/NETMASK` (before 0.8.5) or `ADDR/PREFIX`. */
  readonly networkText: 'netmask' | 'prefix';
}

interface Emit {
  (
    family: Family,
    table: string,
    chain: string,
    options: readonly string[],
    purpose: Purpose,
    context: WhyContext,
    extra?: Partial<Meta>,
  ): void;
}

/** The commands libvirt runs to start `network` (iptablesAddFirewallRules), for one era. */
export function networkCommands(network: Network, era: IptablesEra, notes: string[]): Command[] {
  if (!installsRules(network.forward.mode)) return [];
  const commands: Command[] = [];
  // An audit of 1,000 networks keeps the argv of ~20,000 commands: concat makes it at its size, where spreading the
  // parts into one literal grew it as it went.
  const emit: Emit = (family, table, chain, options, purpose, context, extra) => {
    const argv = (
      era.wait
        ? [toolOf(family), '-w', '--table', table, '--insert', chain]
        : [toolOf(family), '--table', table, '--insert', chain]
    ).concat(options);
    const rule = ruleFromOptions(table, chain, options, family);
    commands.push(
      command(
        argv,
        { kind: 'insert', family, table, chain, position: 1, rule },
        extra ? { network: network.name, purpose, context, ...extra } : { network: network.name, purpose, context },
      ),
    );
  };
  const bridge = bridgeOf(network);
  const base = contextOf(network);
  const { chains } = era;

  const ips = ipsOfEra(network, era, notes);
  const input = (family: Family, proto: 'tcp' | 'udp', port: number, purpose: Purpose): void =>
    emit(
      family,
      'filter',
      chains.input,
      ['--in-interface', bridge, '--protocol', proto, '--destination-port', String(port), '--jump', 'ACCEPT'],
      purpose,
      base,
    );
  const output = (family: Family, proto: 'tcp' | 'udp', port: number, purpose: Purpose): void =>
    emit(
      family,
      'filter',
      chains.output,
      ['--out-interface', bridge, '--protocol', proto, '--destination-port', String(port), '--jump', 'ACCEPT'],
      purpose,
      base,
    );
  const catchAll = (family: Family): void => {
    emit(family, 'filter', chains.forwardOut, ['--in-interface', bridge, '--jump', 'REJECT'], 'reject-out', base);
    emit(family, 'filter', chains.forwardIn, ['--out-interface', bridge, '--jump', 'REJECT'], 'reject-in', base);
    emit(
      family,
      'filter',
      chains.forwardCross,
      ['--in-interface', bridge, '--out-interface', bridge, '--jump', 'ACCEPT'],
      'cross-bridge',
      base,
    );
  };

  // General IPv4 rules: always, even without any IPv4 address.
  input('ipv4', 'tcp', 67, 'dhcp-in');
  input('ipv4', 'udp', 67, 'dhcp-in');
  if (era.hostOutput === 'full') output('ipv4', 'tcp', 68, 'dhcp-out');
  if (era.hostOutput !== 'none') output('ipv4', 'udp', 68, 'dhcp-out');
  input('ipv4', 'tcp', 53, 'dns-in');
  input('ipv4', 'udp', 53, 'dns-in');
  if (era.hostOutput === 'full') {
    output('ipv4', 'tcp', 53, 'dns-out');
    output('ipv4', 'udp', 53, 'dns-out');
  }
  if (era.tftp && tftpRoot(network, ips, era)) {
    input('ipv4', 'udp', 69, 'tftp-in');
    if (era.hostOutput === 'full') output('ipv4', 'udp', 69, 'tftp-out');
  }
  catchAll('ipv4');

  // General IPv6 rules: with an IPv6 address, or <network ipv6='yes'> for guest-to-guest IPv6.
  if (era.ipv6 && (hasIpv6(network) || network.ipv6)) {
    catchAll('ipv6');
    if (hasIpv6(network)) {
      input('ipv6', 'tcp', 53, 'dns-in');
      input('ipv6', 'udp', 53, 'dns-in');
      if (era.hostOutput === 'full') {
        output('ipv6', 'tcp', 53, 'dns-out');
        output('ipv6', 'udp', 53, 'dns-out');
      }
      if (era.dhcpv6) {
        input('ipv6', 'udp', 547, 'dhcpv6-in');
        if (era.hostOutput === 'full') output('ipv6', 'udp', 546, 'dhcpv6-out');
      }
    }
  }

  // Per-<ip> rules, in document order.
  const dev = forwardDevice(network);
  for (const ip of ips) {
    const block = ipBlock(network, ip);
    if (block === 'none') continue;
    const family: Family = ip.family === 6 ? 'ipv6' : 'ipv4';
    const subnet = era.networkText === 'netmask' && ip.family === 4 ? subnetWithNetmask(ip) : subnetText(ip);
    const ctx = contextOf(network, ip);
    const fwd = chains.forwardOut;
    emit(
      family,
      'filter',
      fwd,
      ['--source', subnet, '--in-interface', bridge, ...(dev ? ['--out-interface', dev] : []), '--jump', 'ACCEPT'],
      'forward-out',
      ctx,
    );
    // Into the guests: routed networks accept everything to the subnet (networkAddRoutingFirewallRules),
    // NAT networks only the replies (networkAddMasqueradingFirewallRules).
    const routed = block === 'route';
    const replies = routed
      ? []
      : era.related === 'conntrack'
        ? ['--match', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED']
        : ['--match', 'state', '--state', 'ESTABLISHED,RELATED'];
    emit(
      family,
      'filter',
      chains.forwardIn,
      [
        '--destination',
        subnet,
        ...(dev ? ['--in-interface', dev] : []),
        '--out-interface',
        bridge,
        ...replies,
        '--jump',
        'ACCEPT',
      ],
      routed ? 'forward-in' : 'related-in',
      ctx,
    );
    if (routed) continue;
    masquerade(network, ip, subnet, dev, era, emit, ctx, family);
  }

  // The checksum fix-up runs in its own transaction whose errors are ignored: iptables
  // without the CHECKSUM target (before 1.4.10) simply leaves it out.
  if (era.checksum !== 'none' && checksumWanted(network, ips, era)) {
    emit(
      'ipv4',
      'mangle',
      chains.postrouting,
      [
        '--out-interface',
        bridge,
        '--protocol',
        'udp',
        '--destination-port',
        '68',
        '--jump',
        'CHECKSUM',
        '--checksum-fill',
      ],
      'checksum',
      base,
      { ignoreErrors: true },
    );
  }
  return commands;
}

/** The <ip> elements an era reads: all of them, or (before IPv6 networks) only the first, which must be IPv4. */
function ipsOfEra(network: Network, era: IptablesEra, notes: string[]): IpConfig[] {
  if (era.ipv6) return network.ips;
  const first = network.ips[0];
  if (!first) return [];
  if (first.family === 6) {
    throw new InputError(
      first.origin.file,
      first.origin.pos.line,
      first.origin.pos.col,
      `${era.label} reads only an IPv4 <ip> (IPv6 on virtual networks came with libvirt 0.8.7); choose a later --libvirt-version`,
    );
  }
  if (network.ips.length > 1)
    notes.push(
      `${network.name}: ${era.label} reads only the first <ip> (${subnetText(first)}); ${network.ips.length - 1} more ignored`,
    );
  return [first];
}

function tftpRoot(network: Network, ips: IpConfig[], era: IptablesEra): boolean {
  if (!era.ipv6) return ips[0]?.tftpRoot != null;
  return dhcpIpv4(network, true)?.tftpRoot != null;
}

function checksumWanted(network: Network, ips: IpConfig[], era: IptablesEra): boolean {
  if (era.checksum === 'has-address') return ips.length > 0;
  return dhcpIpv4(network, false) !== undefined;
}

/** The MASQUERADE (or SNAT) rules of one subnet, generic first: inserted, they end up last. */
function masquerade(
  network: Network,
  ip: IpConfig,
  subnet: string,
  dev: string | null,
  era: IptablesEra,
  emit: Emit,
  ctx: WhyContext,
  family: Family,
): void {
  const prt = era.chains.postrouting;
  const out = dev ? ['--out-interface', dev] : [];
  const notLocal = era.negation === 'before' ? ['!', '--destination', subnet] : ['--destination', '!', subnet];
  const snat = era.natAddress ? snatAddress(network, ip) : null;
  const ports = era.masqueradePorts === 'configurable' ? natPorts(network) : '1024-65535';
  const target = (proto: string | null): string[] => {
    if (snat) return ['--jump', 'SNAT', '--to-source', proto ? `${snat}:${ports}` : snat];
    return ['--jump', 'MASQUERADE', ...(proto ? ['--to-ports', ports] : [])];
  };
  const generic = snat ? 'snat' : 'masquerade';
  const restricted = snat ? 'snat-ports' : 'masquerade-ports';
  const snatCtx = snat ? { to: snat } : {};
  emit(family, 'nat', prt, ['--source', subnet, ...notLocal, ...out, ...target(null)], generic, { ...ctx, ...snatCtx });
  if (era.masqueradePorts !== 'none') {
    for (const proto of ['udp', 'tcp']) {
      emit(family, 'nat', prt, ['--source', subnet, '-p', proto, ...notLocal, ...out, ...target(proto)], restricted, {
        ...ctx,
        ...snatCtx,
        protocol: proto,
        ports,
      });
    }
  }
  if (era.dontMasquerade) {
    if (family === 'ipv4')
      emit(
        family,
        'nat',
        prt,
        [...out, '--source', subnet, '--destination', '255.255.255.255/32', '--jump', 'RETURN'],
        'no-masquerade-broadcast',
        { ...ctx, destination: '255.255.255.255/32' },
      );
    const multicast = family === 'ipv4' ? '224.0.0.0/24' : 'ff02::/16';
    emit(
      family,
      'nat',
      prt,
      [...out, '--source', subnet, '--destination', multicast, '--jump', 'RETURN'],
      'no-masquerade-multicast',
      { ...ctx, destination: multicast },
    );
  }
}
