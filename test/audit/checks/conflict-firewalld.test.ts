// conflict-firewalld: the bridge in firewalld's default zone.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';
import { REPO_CORPUS, SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

const NFT_CHECKS = join(REPO_CORPUS, 'nft-checks');
const NFT_REAL = join(SHARED_CORPUS, 'nft-real');

checkCases('conflict-firewalld', {
  valid: [
    {
      name: "libvirt's iptables jumps above firewalld's",
      dumps: [join(AUDIT, 'conflict-firewalld/firewalld-then-libvirt.save')],
      net: [natted],
    },
    {
      name: "libvirt 11.3 nft without firewalld: nothing; its rules in libvirt's own table are not 'removed by a reload'",
      dumps: [],
      nft: join(NFT_REAL, 'a-default-nat/after.nft.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
    },
  ],
  invalid: [
    {
      name: "nft: firewalld's inet firewalld table rejects DNS and DHCP from a bridge in no zone (kernel: test/kernel/nft-checks)",
      dumps: [],
      nft: join(NFT_CHECKS, 'firewalld.listed.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'error',
          line: 108,
          message: [
            'firewalld stops DNS queries',
            'table inet firewalld, chain filter_INPUT, rule `reject with icmpx admin-prohibited`',
            'adds no rules for DHCP and DNS',
          ],
          fix: "put the bridge in libvirt's zone: `firewall-cmd --permanent --zone=libvirt --change-interface=virbr0 && firewall-cmd --reload`",
        },
        {
          network: 'default',
          severity: 'error',
          line: 108,
          message: ['firewalld stops DHCP requests', 'table inet firewalld, chain filter_INPUT'],
          fix: "put the bridge in libvirt's zone: `firewall-cmd --permanent --zone=libvirt --change-interface=virbr0 && firewall-cmd --reload`",
        },
      ],
    },
    {
      name: 'libvirt 10.4+ (nftables), virbr2 in the public zone',
      dumps: [join(AUDIT, 'conflict-firewalld/firewalld-only.save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        {
          network: 'natted',
          severity: 'error',
          line: 22,
          message: ['DNS queries', 'line 22'],
          fix: "put the bridge in libvirt's zone: `firewall-cmd --permanent --zone=libvirt --change-interface=virbr2 && firewall-cmd --reload`",
        },
        {
          network: 'natted',
          severity: 'error',
          line: 22,
          message: ['DHCP requests (udp 67)', 'line 22'],
          fix: "put the bridge in libvirt's zone: `firewall-cmd --permanent --zone=libvirt --change-interface=virbr2 && firewall-cmd --reload`",
        },
        {
          network: 'natted',
          severity: 'error',
          line: 29,
          message: ['starting connections to the outside', 'line 29'],
          fix: "put the bridge in libvirt's zone: `firewall-cmd --permanent --zone=libvirt --change-interface=virbr2 && firewall-cmd --reload`",
        },
      ],
    },
  ],
});
