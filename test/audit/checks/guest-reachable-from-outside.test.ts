// guest-reachable-from-outside: port forwards (the seed lab's query 5), routed networks.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('guest-reachable-from-outside', {
  valid: [
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    {
      name: "a DNAT that libvirt's REJECT stops (no FORWARD accept)",
      dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward-rejected.save')],
      net: [natted],
    },
    {
      name: 'real capture: c-natted',
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'c-natted/network.xml')],
    },
  ],
  invalid: [
    {
      name: 'a port forward with its FORWARD accept above the REJECT',
      dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 50,
          message: ['port forward', 'tcp 8080', 'line 25', 'query 5'],
          fix: 'if intended, restrict it to the sources that need it (`-s` on the DNAT and FORWARD rules); otherwise delete the DNAT: `iptables -t nat -D PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80`',
        },
      ],
    },
    {
      name: 'a routed network: intended, so info',
      dumps: [join(AUDIT, 'natted+routed.save')],
      net: [natted, join(AUDIT, 'routed.xml')],
      findings: [
        {
          network: 'routed',
          severity: 'info',
          line: 28,
          message: ['route mode'],
          fix: "nothing, if intended; to limit it, insert rules before libvirt's FORWARD accept that drop what guests must not receive",
        },
      ],
    },
  ],
});
