// rules-not-in-dump: libvirt 10.4+ keeps its rules in nftables.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('rules-not-in-dump', {
  valid: [
    { name: 'natted with its iptables rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    { name: 'no running network, no note', dumps: [join(REAL, 'c-natted/destroyed.txt')] },
  ],
  invalid: [
    {
      name: 'iptables-nft-save notes the libvirt_network table',
      dumps: [join(AUDIT, 'rules-not-in-dump/nft-host.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 1,
          message: ['nft table `libvirt_network`', 'cannot show it'],
          fix: 'audit what nftables holds: `nft list table ip libvirt_network` (or `nft list ruleset`); if the host should use the iptables backend, set `firewall_backend = "iptables"` in /etc/libvirt/network.conf and restart virtnetworkd',
        },
      ],
    },
    {
      name: 'the same without definitions',
      dumps: [join(AUDIT, 'rules-not-in-dump/nft-host.save')],
      findings: [
        {
          network: null,
          severity: 'info',
          line: 11,
          message: ['libvirt_network'],
          fix: 'audit it with `nft list table ip libvirt_network`',
        },
      ],
    },
    {
      name: 'an empty dump (nft host, nothing in iptables) while the default network runs',
      dumps: [join(REAL, 'a-default-nat/before.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'warning',
          message: ['none of its rules'],
          fix: 'audit what nftables holds: `nft list table ip libvirt_network` (or `nft list ruleset`); if the host should use the iptables backend, set `firewall_backend = "iptables"` in /etc/libvirt/network.conf and restart virtnetworkd',
        },
      ],
    },
    {
      name: '--flavor libvirt-nft: expected, so info',
      dumps: [join(AUDIT, 'rules-not-in-dump/nft-host.save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        {
          network: 'natted',
          severity: 'info',
          fix: 'audit what nftables holds: `nft list table ip libvirt_network` (or `nft list ruleset`); if the host should use the iptables backend, set `firewall_backend = "iptables"` in /etc/libvirt/network.conf and restart virtnetworkd',
        },
      ],
    },
  ],
});
