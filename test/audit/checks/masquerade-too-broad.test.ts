// masquerade-too-broad: NAT between a network's own guests.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('masquerade-too-broad', {
  valid: [
    { name: "libvirt's own rules (! -d SUBNET)", dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    { name: 'seed lab: 0.6.3 spelling (-d ! SUBNET/NETMASK)', dumps: [join(SEED, 'expected-0.6.3/natted.save')], net: [natted] },
    { name: 'real capture: c-natted', dumps: [join(REAL, 'c-natted/after.txt')], net: [join(REAL, 'c-natted/network.xml')] },
  ],
  invalid: [
    {
      name: '-s SUBNET -j MASQUERADE without ! -d SUBNET',
      dumps: [join(AUDIT, 'masquerade-too-broad/masquerade-whole-subnet.save')],
      net: [natted],
      findings: [
        {
          network: 'natted', severity: 'warning', line: 48, message: ['192.168.124.2 → 192.168.124.3', 'br_netfilter'],
          // the rule put back keeps its `-s` and gains `! -d` with the network's own subnet
          fix: 'exclude the subnet: replace it with the same rule plus `! -d 192.168.124.0/24` (or add `-o UPLINK`), e.g. `iptables -t nat -D POSTROUTING -s 192.168.124.0/24 -j MASQUERADE` then `iptables -t nat -A POSTROUTING -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE`',
        },
      ],
    },
  ],
});
