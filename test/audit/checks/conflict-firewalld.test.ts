// conflict-firewalld: the bridge in firewalld's default zone.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('conflict-firewalld', {
  valid: [{ name: "libvirt's iptables jumps above firewalld's", dumps: [join(AUDIT, 'conflict-firewalld/firewalld-then-libvirt.save')], net: [natted] }],
  invalid: [
    {
      name: 'libvirt 10.4+ (nftables), virbr2 in the public zone',
      dumps: [join(AUDIT, 'conflict-firewalld/firewalld-only.save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        { network: 'natted', severity: 'error', line: 22, message: ['DNS queries', 'line 22'] },
        { network: 'natted', severity: 'error', line: 22, message: ['DHCP requests (udp 67)', 'line 22'] },
        { network: 'natted', severity: 'error', line: 29, message: ['starting connections to the outside', 'line 29'] },
      ],
    },
  ],
});
