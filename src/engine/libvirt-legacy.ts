// Flavour `libvirt-legacy`: libvirt before 5.1.0, rules inserted straight into INPUT, OUTPUT,
// FORWARD and nat/mangle POSTROUTING, interleaving with the host's own rules. The rules grew
// release by release; `--libvirt-version` picks the era (docs/commands/compile.md lists each
// boundary and how it was established).

import type { Network } from '../model/network.js';
import type { IptablesEra } from './libvirt-iptables.js';
import { networkCommands } from './libvirt-iptables.js';
import type { Command } from './program.js';
import { compareVersions, type Version } from './version.js';

export const BUILTIN_CHAINS_OF_LIBVIRT = {
  input: 'INPUT',
  output: 'OUTPUT',
  forwardOut: 'FORWARD',
  forwardIn: 'FORWARD',
  forwardCross: 'FORWARD',
  postrouting: 'POSTROUTING',
} as const;

/** A behaviour and the first release that has it. */
export interface Boundary {
  readonly feature: string;
  readonly since: string;
  /** How the boundary is known: `verified` (release notes or the source of that era) or `estimated`. */
  readonly evidence: 'verified' | 'estimated';
  readonly source: string;
}

/** Every era boundary the legacy flavour applies, oldest first. */
export const LEGACY_BOUNDARIES: readonly Boundary[] = [
  {
    feature: "'! --destination N' instead of '--destination ! N'",
    since: '0.7.4',
    evidence: 'verified',
    source:
      'NEWS 0.7.4: \'fix deprecated iptables command syntax\'; src/iptables.c of the 0.6 era passes "--destination", "!"',
  },
  {
    feature: 'INPUT udp 69 for <tftp root>',
    since: '0.8.2',
    evidence: 'verified',
    source: "NEWS 0.8.2: 'network: allow tftp port if tftp is defined'",
  },
  {
    feature: 'MASQUERADE tcp/udp --to-ports 1024-65535',
    since: '0.8.3',
    evidence: 'verified',
    source: "NEWS 0.8.3: 'CVE-2010-2242 Apply a source port mapping to virtual network masquerading'",
  },
  {
    feature: 'mangle CHECKSUM --checksum-fill for DHCP replies',
    since: '0.8.3',
    evidence: 'verified',
    source:
      "NEWS 0.8.3: 'Add iptables rule to fixup DHCP response checksum' (needs iptables ≥ 1.4.10, else libvirt only warns)",
  },
  {
    feature: 'subnet written ADDR/PREFIX instead of ADDR/NETMASK',
    since: '0.8.5',
    evidence: 'estimated',
    source:
      "NEWS 0.8.5: 'Fix formatting of network address in iptables helpers'; prefix form seen in the 2012 src/util/iptables.c",
  },
  {
    feature: 'IPv6 (ip6tables) rules, several <ip> per network, CHECKSUM only for a DHCP <ip>',
    since: '0.8.7',
    evidence: 'estimated',
    source: 'IPv6 virtual networks (Laine Stump, Dec 2010); present in the 2012 source',
  },
  {
    feature: 'INPUT udp 547 (DHCPv6)',
    since: '1.0.1',
    evidence: 'estimated',
    source: 'DHCPv6 support; present in the 2014 test vectors',
  },
  {
    feature: '<nat><port>/<address>: configurable ports, SNAT',
    since: '1.0.3',
    evidence: 'estimated',
    source: 'NAT address/port range support; 2012 source has fixed 1024-65535',
  },
  {
    feature: 'RETURN for 255.255.255.255/32 and 224.0.0.0/24 before MASQUERADE',
    since: '1.2.4',
    evidence: 'estimated',
    source: 'absent from the 2012 source, present in the first firewall test vectors (2014)',
  },
  {
    feature: 'OUTPUT udp 68 (DHCP replies)',
    since: '1.2.4',
    evidence: 'estimated',
    source: 'absent from the 2012 source, present in the first firewall test vectors (2014)',
  },
  {
    feature: "'-m conntrack --ctstate' instead of '-m state --state'",
    since: '1.2.4',
    evidence: 'estimated',
    source: 'the 2012 source uses state; the 2014 test vectors use conntrack',
  },
];

function since(version: Version, feature: string): boolean {
  const boundary = LEGACY_BOUNDARIES.find((b) => b.feature.startsWith(feature));
  if (!boundary) throw new Error(`internal: no era boundary '${feature}'`);
  return compareVersions(version, boundary.since) >= 0;
}

/** The legacy era of one libvirt release (must be before 5.1.0). */
export function legacyEra(version: Version): IptablesEra {
  const ipv6 = since(version, 'IPv6');
  const configurable = since(version, '<nat>');
  return {
    label: `libvirt ${version.text}`,
    chains: BUILTIN_CHAINS_OF_LIBVIRT,
    wait: false,
    hostOutput: since(version, 'OUTPUT udp 68') ? 'dhcp-udp' : 'none',
    tftp: since(version, 'INPUT udp 69'),
    ipv6,
    dhcpv6: since(version, 'INPUT udp 547'),
    checksum: since(version, 'mangle CHECKSUM') ? (ipv6 ? 'dhcp' : 'has-address') : 'none',
    masqueradePorts: since(version, 'MASQUERADE tcp/udp') ? (configurable ? 'configurable' : 'fixed') : 'none',
    natAddress: configurable,
    dontMasquerade: since(version, 'RETURN for'),
    related: since(version, "'-m conntrack") ? 'conntrack' : 'state',
    negation: since(version, "'! --destination") ? 'before' : 'after',
    networkText: since(version, 'subnet written') ? 'prefix' : 'netmask',
  };
}

/** Each network's rules (the legacy eras add no set-up of their own): one batch each, made when it is asked for. */
export function* legacyBatches(
  networks: readonly Network[],
  era: IptablesEra,
  notes: string[],
): Iterable<readonly Command[]> {
  for (const n of networks) yield networkCommands(n, era, notes);
}
