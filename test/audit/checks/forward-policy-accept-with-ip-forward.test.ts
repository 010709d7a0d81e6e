// forward-policy-accept-with-ip-forward: the host routes for anyone.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';
import { REPO_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

checkCases('forward-policy-accept-with-ip-forward', {
  valid: [
    {
      name: 'FORWARD policy DROP',
      dumps: [join(AUDIT, 'forward-policy-accept-with-ip-forward/two-uplinks-drop.save')],
      net: [natted],
    },
    {
      name: 'only an isolated network (libvirt leaves ip_forward alone)',
      dumps: [join(AUDIT, 'host-only.save')],
      net: [join(SEED, 'host-only.xml')],
    },
    {
      name: 'seed lab: the CentOS 5 host ends FORWARD with a REJECT',
      dumps: [join(SEED, 'expected-0.6.3/natted.save')],
      net: [natted],
    },
    { name: 'real capture: no network left running', dumps: [join(REAL, 'c-natted/destroyed.txt')] },
    // An isolated dual-stack network: libvirt turns forwarding on for neither family.
    {
      name: 'IPv6: an isolated dual-stack network (libvirt leaves forwarding alone)',
      dumps: [join(AUDIT, 'ipv6/isolated6-0.9.0.ip6.save')],
      net: [join(REPO_CORPUS, 'libvirt-ipv6/e-three-dual-stack/network3.xml')],
    },
  ],
  invalid: [
    {
      name: 'two uplinks named in the rules: warning',
      dumps: [join(AUDIT, 'forward-policy-accept-with-ip-forward/two-uplinks.save')],
      net: [natted],
      findings: [
        {
          network: null,
          severity: 'warning',
          line: 16,
          message: ['eth0', 'eth1', 'FORWARD policy'],
          fix: "`iptables -P FORWARD DROP` (libvirt's own ACCEPTs come first and keep the networks working); accept what the host should really route explicitly",
        },
      ],
    },
    {
      name: 'one uplink: info',
      dumps: [join(AUDIT, 'natted.save')],
      net: [natted],
      findings: [
        {
          network: null,
          severity: 'info',
          line: 16,
          message: [
            'natted forwards',
            "the rules name none of the host's own links, so eth0 stands for its uplink here",
          ],
          fix: "`iptables -P FORWARD DROP` (libvirt's own ACCEPTs come first and keep the networks working); accept what the host should really route explicitly",
        },
      ],
    },
    {
      name: 'one uplink the rules name (the port forward comes in on eth0): said so',
      dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward.save')],
      net: [natted],
      findings: [
        {
          network: null,
          severity: 'info',
          message: ['the rules name no link but eth0'],
          fix: "`iptables -P FORWARD DROP` (libvirt's own ACCEPTs come first and keep the networks working); accept what the host should really route explicitly",
        },
      ],
    },
    {
      name: 'IPv6: a nat network with an IPv6 prefix turns on IPv6 forwarding; ip6tables FORWARD policy ACCEPT',
      dumps: [join(AUDIT, 'ipv6/natted6.ip6.save')],
      net: [join(AUDIT, 'ipv6/natted6.xml')],
      findings: [
        {
          network: null,
          severity: 'info',
          line: 14,
          message: [
            'natted6 forwards, so IPv6 forwarding (net.ipv6.conf.all.forwarding) is on',
            'for another link over IPv6 is accepted by the FORWARD policy',
          ],
          fix: "`ip6tables -P FORWARD DROP` (libvirt's own ACCEPTs come first and keep the networks working); accept what the host should really route explicitly",
        },
      ],
    },
  ],
});
