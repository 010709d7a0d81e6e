// masquerade-too-broad: NAT between a network's own guests.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';
import { REPO_CORPUS, SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

const NFT_CHECKS = join(REPO_CORPUS, 'nft-checks');
const NFT_REAL = join(SHARED_CORPUS, 'nft-real');

checkCases('masquerade-too-broad', {
  valid: [
    {
      name: "libvirt 11.3 nft: guest_nat excludes the network's own subnet",
      dumps: [],
      nft: join(NFT_REAL, 'a-default-nat/after.nft.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
    },
    { name: "libvirt's own rules (! -d SUBNET)", dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    {
      name: 'seed lab: 0.6.3 spelling (-d ! SUBNET/NETMASK)',
      dumps: [join(SEED, 'expected-0.6.3/natted.save')],
      net: [natted],
    },
    {
      name: 'real capture: c-natted',
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'c-natted/network.xml')],
    },
    {
      name: "IPv6 with <nat ipv6='yes'/>: libvirt's own IPv6 MASQUERADE rules (! -d PREFIX)",
      dumps: [join(AUDIT, 'ipv6/port-forward6.ip6.save')],
      net: [join(AUDIT, 'ipv6/natted6-nat.xml')],
    },
  ],
  invalid: [
    {
      name: "nft: a host table's bare masquerade next to libvirt's table (kernel: guests see 192.168.122.1, test/kernel/nft-checks)",
      dumps: [],
      nft: join(NFT_CHECKS, 'masquerade-broad.listed.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'warning',
          line: 56,
          message: [
            'table ip nat, chain postrouting, rule `masquerade` also masquerades traffic between guests of the same network',
            'br_netfilter',
          ],
          fix: 'exclude the subnet (or name the uplink with `oifname`): `nft -a list chain ip nat postrouting` shows its handle N; then `nft replace rule ip nat postrouting handle N ip daddr != 192.168.122.0/24 masquerade`',
        },
      ],
    },
    {
      name: '-s SUBNET -j MASQUERADE without ! -d SUBNET',
      dumps: [join(AUDIT, 'masquerade-too-broad/masquerade-whole-subnet.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 48,
          message: ['192.168.124.2 → 192.168.124.3', 'br_netfilter'],
          // replaced in its place (rule 2 of POSTROUTING, after libvirt's jump): it keeps its `-s` and gains `! -d`
          // with the network's own subnet (iptables-legacy -R in a namespace leaves exactly that rule there)
          fix: 'exclude the subnet: replace it, in its place, with the same rule plus `! -d 192.168.124.0/24` (or add `-o UPLINK`), e.g. `iptables -t nat -R POSTROUTING 2 -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE`',
        },
      ],
    },
    {
      name: "IPv6: an ip6tables MASQUERADE without ! -d PREFIX (<nat ipv6='yes'/>)",
      dumps: [join(AUDIT, 'ipv6/masquerade-too-broad6.ip6.save')],
      net: [join(AUDIT, 'ipv6/natted6-nat.xml')],
      findings: [
        {
          network: 'natted6nat',
          severity: 'warning',
          line: 46,
          message: ['2001:db8:126::2 → 2001:db8:126::3', 'br_netfilter'],
          // rule 2 of LIBVIRT_PRT, after libvirt's multicast RETURN (ip6tables-legacy -R in a namespace leaves exactly
          // that)
          fix: 'exclude the subnet: replace it, in its place, with the same rule plus `! -d 2001:db8:126::/64` (or add `-o UPLINK`), e.g. `ip6tables -t nat -R LIBVIRT_PRT 2 -s 2001:db8:126::/64 ! -d 2001:db8:126::/64 -j MASQUERADE`',
        },
      ],
    },
  ],
});
