// masquerade-missing: a NAT network's guests leave with their own addresses.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('masquerade-missing', {
  valid: [
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    { name: 'a too-broad MASQUERADE still masquerades', dumps: [join(AUDIT, 'masquerade-too-broad/masquerade-whole-subnet.save')], net: [natted] },
    { name: 'seed lab: natted on libvirt 0.6.3 (one MASQUERADE, no port range)', dumps: [join(SEED, 'expected-0.6.3/natted.save')], net: [natted] },
  ],
  invalid: [
    {
      name: 'natted without its MASQUERADE rules',
      dumps: [join(AUDIT, 'masquerade-missing/natted-no-masquerade.save')],
      net: [natted],
      findings: [{ network: 'natted', severity: 'error', line: 30, message: ['192.168.124.2', "guest's own address"], fix: 'restart the network so libvirt re-adds its NAT rules (`virsh net-destroy natted && virsh net-start natted`), or by hand: `iptables -t nat -A LIBVIRT_PRT -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE`' }],
    },
  ],
});
