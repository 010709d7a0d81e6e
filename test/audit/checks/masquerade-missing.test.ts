// masquerade-missing: a NAT network's guests leave with their own addresses.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('masquerade-missing', {
  valid: [
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    {
      name: 'a too-broad MASQUERADE still masquerades',
      dumps: [join(AUDIT, 'masquerade-too-broad/masquerade-whole-subnet.save')],
      net: [natted],
    },
    {
      name: 'seed lab: natted on libvirt 0.6.3 (one MASQUERADE, no port range)',
      dumps: [join(SEED, 'expected-0.6.3/natted.save')],
      net: [natted],
    },
    // IPv6 of a nat network is routed unless <nat ipv6='yes'/>: no MASQUERADE is expected there.
    {
      name: "IPv6 of a nat network without <nat ipv6='yes'/>: routed, nothing to masquerade",
      dumps: [join(AUDIT, 'ipv6/natted6.ip6.save')],
      net: [join(AUDIT, 'ipv6/natted6.xml')],
    },
    {
      name: "IPv6 with <nat ipv6='yes'/> and libvirt's IPv6 MASQUERADE rules",
      dumps: [join(AUDIT, 'ipv6/port-forward6.ip6.save')],
      net: [join(AUDIT, 'ipv6/natted6-nat.xml')],
    },
  ],
  invalid: [
    {
      name: 'natted without its MASQUERADE rules',
      dumps: [join(AUDIT, 'masquerade-missing/natted-no-masquerade.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'error',
          line: 30,
          message: ['192.168.124.2', "guest's own address"],
          fix: 'restart the network so libvirt re-adds its NAT rules (`virsh net-destroy natted && virsh net-start natted`), or by hand: `iptables -t nat -A LIBVIRT_PRT -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE`',
        },
      ],
    },
    {
      name: "IPv6 with <nat ipv6='yes'/> but its MASQUERADE rules gone (kernel: test/kernel/ipv6-replay)",
      dumps: [join(AUDIT, 'ipv6/masquerade-missing6.ip6.save')],
      net: [join(AUDIT, 'ipv6/natted6-nat.xml')],
      findings: [
        {
          network: 'natted6nat',
          severity: 'error',
          line: 28,
          message: [
            "arrives there from 2001:db8:126::2, the guest's own address",
            "which <nat ipv6='yes'/> is there to hide",
          ],
          fix: 'restart the network so libvirt re-adds its NAT rules (`virsh net-destroy natted6nat && virsh net-start natted6nat`), or by hand: `ip6tables -t nat -A LIBVIRT_PRT -s 2001:db8:126::/64 ! -d 2001:db8:126::/64 -j MASQUERADE`',
        },
      ],
    },
  ],
});
