// conflict-ufw: ufw's DROP policies against libvirt's nftables rules.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';
import { SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

checkCases('conflict-ufw', {
  valid: [
    {
      name: "libvirt's iptables jumps above ufw's",
      dumps: [join(AUDIT, 'conflict-ufw/ufw-then-libvirt.save')],
      net: [natted],
    },
  ],
  invalid: [
    {
      name: 'libvirt 10.4+ (nftables) under ufw',
      dumps: [join(AUDIT, 'conflict-ufw/ufw-only.save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        {
          network: 'natted',
          severity: 'error',
          message: ['starting connections to the outside', 'FORWARD policy'],
          fix: 'let ufw route the network\'s traffic: `ufw route allow in on virbr2` and `ufw route allow out on virbr2` (or DEFAULT_FORWARD_POLICY="ACCEPT" in /etc/default/ufw)',
        },
        {
          network: 'natted',
          severity: 'error',
          message: ['DNS queries', 'INPUT policy'],
          fix: 'let the guests reach dnsmasq: `ufw allow in on virbr2 to any port 53` and `ufw allow in on virbr2 to any port 67 proto udp`',
        },
        {
          network: 'natted',
          severity: 'error',
          message: ['DHCP requests (udp 67)', 'INPUT policy'],
          fix: 'let ufw route the network\'s traffic: `ufw route allow in on virbr2` and `ufw route allow out on virbr2` (or DEFAULT_FORWARD_POLICY="ACCEPT" in /etc/default/ufw)',
        },
      ],
    },
    {
      name: 'a real ufw host (srvs server1) running natted on libvirt 10.4+',
      dumps: [join(SHARED_CORPUS, 'real-world/configs_srvs_ufw__server1-iptables-save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        {
          network: 'natted',
          severity: 'error',
          message: ['outside'],
          fix: 'let ufw route the network\'s traffic: `ufw route allow in on virbr2` and `ufw route allow out on virbr2` (or DEFAULT_FORWARD_POLICY="ACCEPT" in /etc/default/ufw)',
        },
        {
          network: 'natted',
          severity: 'error',
          message: ['DNS'],
          fix: 'let the guests reach dnsmasq: `ufw allow in on virbr2 to any port 53` and `ufw allow in on virbr2 to any port 67 proto udp`',
        },
        {
          network: 'natted',
          severity: 'error',
          line: 90,
          message: ['DHCP requests (udp 67)'],
          fix: 'let ufw route the network\'s traffic: `ufw route allow in on virbr2` and `ufw route allow out on virbr2` (or DEFAULT_FORWARD_POLICY="ACCEPT" in /etc/default/ufw)',
        },
      ],
    },
  ],
});
