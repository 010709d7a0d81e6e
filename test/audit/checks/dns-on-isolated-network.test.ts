// dns-on-isolated-network: the seed lab's query 4, and the era it depends on — libvirt 0.9.4 and
// later write no-resolv into an isolated network's dnsmasq config (the real 9.0 capture's
// dnsmasq-host-only.conf), so only older releases, or a network with a forwarder, leak names.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const hostOnly = join(SEED, 'host-only.xml');
const dir = join(AUDIT, 'dns-on-isolated-network');

checkCases('dns-on-isolated-network', {
  valid: [
    {
      name: "host-only with <dns enable='no'/>",
      dumps: [join(AUDIT, 'host-only.save')],
      net: [join(dir, 'host-only-dns-off.xml')],
    },
    { name: 'port 53 dropped before libvirt accepts it', dumps: [join(dir, 'input-drop-dns.save')], net: [hostOnly] },
    {
      name: 'a NAT network (DNS is part of what it offers)',
      dumps: [join(AUDIT, 'natted.save')],
      net: [join(SEED, 'natted.xml')],
    },
    {
      name: 'real capture: the default NAT network',
      dumps: [join(REAL, 'a-default-nat/after.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
    },
    // libvirt 5.1+: dnsmasq has no-resolv on an isolated network, outside names are refused.
    { name: 'host-only on libvirt 11.3.0', dumps: [join(AUDIT, 'host-only.save')], net: [hostOnly] },
    {
      name: 'real capture: b-host-only (libvirt 9.0, its dnsmasq config has no-resolv)',
      dumps: [join(REAL, 'b-host-only/after.txt')],
      net: [join(REAL, 'b-host-only/network.xml')],
    },
    {
      name: 'libvirt 0.9.4 given: the first release with no-resolv',
      dumps: [join(dir, 'host-only-0.9.4.save')],
      net: [hostOnly],
      libvirtVersion: '0.9.4',
    },
  ],
  invalid: [
    {
      name: 'seed lab: host-only on CentOS 5 (libvirt 0.6.3)',
      dumps: [join(SEED, 'expected-0.6.3/host-only.save')],
      net: [hostOnly],
      findings: [
        {
          network: 'host-only',
          severity: 'warning',
          line: 12,
          message: [
            'dnsmasq listens there',
            "libvirt 0.6.3–0.8.2's dnsmasq forwards",
            'no-resolv only from libvirt 0.9.4 on',
            'outside names resolve',
          ],
          fix: "refuse port 53 on virbr1 above libvirt's ACCEPTs: `iptables -I INPUT -i virbr1 -p udp --dport 53 -j REJECT` and `iptables -I INPUT -i virbr1 -p tcp --dport 53 -j REJECT` (DHCP, udp 67, keeps working); or upgrade libvirt to 0.9.4 or later, whose dnsmasq refuses outside names on isolated networks. <dns enable='no'/> needs libvirt 2.2.0: libvirt 0.6.3\u20130.8.2 ignores it",
        },
      ],
    },
    {
      name: 'libvirt 0.9.3 given: the last release that forwards',
      dumps: [join(dir, 'host-only-0.9.4.save')],
      net: [hostOnly],
      libvirtVersion: '0.9.3',
      findings: [
        {
          network: 'host-only',
          severity: 'warning',
          line: 22,
          message: ["libvirt 0.9.3's dnsmasq forwards"],
          fix: "refuse port 53 on virbr1 above libvirt's ACCEPTs: `iptables -I INPUT -i virbr1 -p udp --dport 53 -j REJECT` and `iptables -I INPUT -i virbr1 -p tcp --dport 53 -j REJECT` (DHCP, udp 67, keeps working); or upgrade libvirt to 0.9.4 or later, whose dnsmasq refuses outside names on isolated networks. <dns enable='no'/> needs libvirt 2.2.0: libvirt 0.9.3 ignores it",
        },
      ],
    },
    {
      name: 'the rules fit 0.8.3 to 1.2.3: it depends on the release',
      dumps: [join(dir, 'host-only-0.9.4.save')],
      net: [hostOnly],
      findings: [
        {
          network: 'host-only',
          severity: 'warning',
          line: 22,
          message: [
            'depends on the libvirt release (libvirt 0.8.3–1.0.3 fits the rules)',
            'before 0.9.4',
            'from 0.9.4 on it has no-resolv',
          ],
          fix: "find the release (`libvirtd --version`) and audit again with --libvirt-version; if it is older than 0.9.4, refuse port 53 on virbr1 above libvirt's ACCEPTs: `iptables -I INPUT -i virbr1 -p udp --dport 53 -j REJECT` and `iptables -I INPUT -i virbr1 -p tcp --dport 53 -j REJECT` (DHCP, udp 67, keeps working) (<dns enable='no'/> needs libvirt 2.2.0)",
        },
      ],
    },
    {
      name: 'host-only on libvirt 11.3.0 with <forwarder addr=…/>',
      dumps: [join(AUDIT, 'host-only.save')],
      net: [join(dir, 'host-only-forwarder.xml')],
      findings: [
        {
          network: 'host-only',
          severity: 'warning',
          line: 30,
          message: ["<forwarder addr='192.0.2.53'/>", 'outside names resolve'],
          fix: "remove the <forwarder addr=\u2026> from the network's <dns> in <repo>/audit/dns-on-isolated-network/host-only-forwarder.xml (`virsh net-edit host-only`, then restart the network), or turn its DNS off with `<dns enable='no'/>` (DHCP keeps working)",
        },
      ],
    },
  ],
});
