// dns-on-isolated-network: the seed lab's query 4.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const hostOnly = join(SEED, 'host-only.xml');

checkCases('dns-on-isolated-network', {
  valid: [
    { name: "host-only with <dns enable='no'/>", dumps: [join(AUDIT, 'host-only.save')], net: [join(AUDIT, 'dns-on-isolated-network/host-only-dns-off.xml')] },
    { name: 'port 53 dropped before libvirt accepts it', dumps: [join(AUDIT, 'dns-on-isolated-network/input-drop-dns.save')], net: [hostOnly] },
    { name: 'a NAT network (DNS is part of what it offers)', dumps: [join(AUDIT, 'natted.save')], net: [join(SEED, 'natted.xml')] },
    { name: 'real capture: the default NAT network', dumps: [join(REAL, 'a-default-nat/after.txt')], net: [join(REAL, 'a-default-nat/network.xml')] },
  ],
  invalid: [
    {
      name: 'host-only on libvirt 11.3.0',
      dumps: [join(AUDIT, 'host-only.save')],
      net: [hostOnly],
      findings: [{ network: 'host-only', severity: 'warning', line: 30, message: ['isolated', 'udp 53', 'query 4'] }],
    },
    {
      name: 'seed lab: host-only on CentOS 5 (libvirt 0.6.3)',
      dumps: [join(SEED, 'expected-0.6.3/host-only.save')],
      net: [hostOnly],
      findings: [{ network: 'host-only', severity: 'warning', line: 12, message: ['dnsmasq listens there'] }],
    },
    {
      name: 'real capture: b-host-only',
      dumps: [join(REAL, 'b-host-only/after.txt')],
      net: [join(REAL, 'b-host-only/network.xml')],
      findings: [{ network: 'host-only', severity: 'warning', line: 31 }],
    },
  ],
});
