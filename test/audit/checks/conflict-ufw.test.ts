// conflict-ufw: ufw's DROP policies against libvirt's nftables rules.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';
import { SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

checkCases('conflict-ufw', {
  valid: [{ name: "libvirt's iptables jumps above ufw's", dumps: [join(AUDIT, 'conflict-ufw/ufw-then-libvirt.save')], net: [natted] }],
  invalid: [
    {
      name: 'libvirt 10.4+ (nftables) under ufw',
      dumps: [join(AUDIT, 'conflict-ufw/ufw-only.save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        { network: 'natted', severity: 'error', message: ['starting connections to the outside', 'FORWARD policy'] },
        { network: 'natted', severity: 'error', message: ['DNS queries', 'INPUT policy'] },
        { network: 'natted', severity: 'error', message: ['DHCP requests (udp 67)', 'INPUT policy'] },
      ],
    },
    {
      name: 'a real ufw host (srvs server1) running natted on libvirt 10.4+',
      dumps: [join(SHARED_CORPUS, 'real-world/configs_srvs_ufw__server1-iptables-save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        { network: 'natted', severity: 'error', message: ['outside'] },
        { network: 'natted', severity: 'error', message: ['DNS'] },
        { network: 'natted', severity: 'error', line: 90, message: ['DHCP requests (udp 67)'] },
      ],
    },
  ],
});
