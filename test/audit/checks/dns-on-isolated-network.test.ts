// dns-on-isolated-network: the seed lab's query 4, and the era it depends on — libvirt 0.9.4 and
// later write no-resolv into an isolated network's dnsmasq config (the real 9.0 capture's
// dnsmasq-host-only.conf), so only older releases, or a network with a forwarder, leak names.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const hostOnly = join(SEED, 'host-only.xml');
const dir = join(AUDIT, 'dns-on-isolated-network');

checkCases('dns-on-isolated-network', {
  valid: [
    { name: "host-only with <dns enable='no'/>", dumps: [join(AUDIT, 'host-only.save')], net: [join(dir, 'host-only-dns-off.xml')] },
    { name: 'port 53 dropped before libvirt accepts it', dumps: [join(dir, 'input-drop-dns.save')], net: [hostOnly] },
    { name: 'a NAT network (DNS is part of what it offers)', dumps: [join(AUDIT, 'natted.save')], net: [join(SEED, 'natted.xml')] },
    { name: 'real capture: the default NAT network', dumps: [join(REAL, 'a-default-nat/after.txt')], net: [join(REAL, 'a-default-nat/network.xml')] },
    // libvirt 5.1+: dnsmasq has no-resolv on an isolated network, outside names are refused.
    { name: 'host-only on libvirt 11.3.0', dumps: [join(AUDIT, 'host-only.save')], net: [hostOnly] },
    { name: 'real capture: b-host-only (libvirt 9.0, its dnsmasq config has no-resolv)', dumps: [join(REAL, 'b-host-only/after.txt')], net: [join(REAL, 'b-host-only/network.xml')] },
    { name: 'libvirt 0.9.4 given: the first release with no-resolv', dumps: [join(dir, 'host-only-0.9.4.save')], net: [hostOnly], libvirtVersion: '0.9.4' },
  ],
  invalid: [
    {
      name: 'seed lab: host-only on CentOS 5 (libvirt 0.6.3)',
      dumps: [join(SEED, 'expected-0.6.3/host-only.save')],
      net: [hostOnly],
      findings: [{ network: 'host-only', severity: 'warning', line: 12, message: ['dnsmasq listens there', "libvirt 0.6.3–0.8.2's dnsmasq forwards", 'no-resolv only from libvirt 0.9.4 on', 'outside names resolve'] }],
    },
    {
      name: 'libvirt 0.9.3 given: the last release that forwards',
      dumps: [join(dir, 'host-only-0.9.4.save')],
      net: [hostOnly],
      libvirtVersion: '0.9.3',
      findings: [{ network: 'host-only', severity: 'warning', line: 22, message: ["libvirt 0.9.3's dnsmasq forwards"] }],
    },
    {
      name: 'the rules fit 0.8.3 to 1.2.3: it depends on the release',
      dumps: [join(dir, 'host-only-0.9.4.save')],
      net: [hostOnly],
      findings: [{ network: 'host-only', severity: 'warning', line: 22, message: ['depends on the libvirt release (libvirt 0.8.3–1.0.3 fits the rules)', 'before 0.9.4', 'from 0.9.4 on it has no-resolv'] }],
    },
    {
      name: 'host-only on libvirt 11.3.0 with <forwarder addr=…/>',
      dumps: [join(AUDIT, 'host-only.save')],
      net: [join(dir, 'host-only-forwarder.xml')],
      findings: [{ network: 'host-only', severity: 'warning', line: 30, message: ["<forwarder addr='192.0.2.53'/>", 'outside names resolve'] }],
    },
  ],
});
