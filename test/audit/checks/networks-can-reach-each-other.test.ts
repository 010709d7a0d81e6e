// networks-can-reach-each-other: order-dependent in the legacy era (the seed lab's query 8).
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');
const natntw = join(SEED, 'natntw.xml');

checkCases('networks-can-reach-each-other', {
  valid: [
    {
      name: 'two NAT networks on libvirt 11.3.0 (private chains reject both ways)',
      dumps: [join(AUDIT, 'networks-can-reach-each-other/two-nat.save')],
      net: [natntw, natted],
    },
    { name: 'one network', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
  ],
  invalid: [
    {
      name: 'seed lab query 8: natntw, then natted on libvirt 0.6.3 (the one started last wins)',
      dumps: [join(AUDIT, 'networks-can-reach-each-other/two-nat-legacy.save')],
      net: [natntw, natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 30,
          message: ['natntw', 'order-dependent', 'query 8'],
          fix: 'keep them apart whatever the start order: `iptables -I FORWARD -i virbr2 -o virbr1 -j REJECT` (or libvirt 5.1+, whose private chains reject it). To let them talk on purpose, accept exactly that pair instead',
        },
      ],
    },
    {
      name: 'the same dump without definitions (networks inferred from the rules)',
      dumps: [join(AUDIT, 'networks-can-reach-each-other/two-nat-legacy.save')],
      findings: [
        {
          network: 'virbr2',
          severity: 'warning',
          line: 30,
          message: ['virbr1'],
          fix: 'keep them apart whatever the start order: `iptables -I FORWARD -i virbr2 -o virbr1 -j REJECT` (or libvirt 5.1+, whose private chains reject it). To let them talk on purpose, accept exactly that pair instead',
        },
      ],
    },
    {
      name: 'seed lab: host-only, then natted on CentOS 5',
      dumps: [join(SEED, 'expected-0.6.3/host-only+natted.save')],
      net: [join(SEED, 'host-only.xml'), natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 27,
          message: ['host-only'],
          fix: 'keep them apart whatever the start order: `iptables -I FORWARD -i virbr2 -o virbr1 -j REJECT` (or libvirt 5.1+, whose private chains reject it). To let them talk on purpose, accept exactly that pair instead',
        },
      ],
    },
    {
      name: 'a routed network accepts connections from anywhere: info',
      dumps: [join(AUDIT, 'natted+routed.save')],
      net: [natted, join(AUDIT, 'routed.xml')],
      findings: [
        {
          network: 'natted',
          severity: 'info',
          line: 28,
          message: ['routed'],
          fix: "if the networks must stay apart, reject the pair before libvirt's rules: `iptables -I FORWARD -i virbr2 -o virbr5 -j REJECT`",
        },
      ],
    },
  ],
});
