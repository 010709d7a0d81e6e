// missing-rule: valid and invalid dumps (corpus/audit, the seed lab, the real libvirt captures).
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';
import { SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

checkCases('missing-rule', {
  valid: [
    { name: 'natted with all its rules (libvirt 11.3.0)', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    {
      name: 'seed lab: natted on libvirt 0.6.3 (era detected)',
      dumps: [join(SEED, 'expected-0.6.3/natted.save')],
      net: [natted],
    },
    {
      name: 'seed lab: host-only, then natted (0.6.3)',
      dumps: [join(SEED, 'expected-0.6.3/host-only+natted.save')],
      net: [join(SEED, 'host-only.xml'), natted],
    },
    {
      name: 'real capture: default network',
      dumps: [join(REAL, 'a-default-nat/after.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
    },
    {
      name: 'real capture: host-only network',
      dumps: [join(REAL, 'b-host-only/after.txt')],
      net: [join(REAL, 'b-host-only/network.xml')],
    },
    {
      name: 'a stopped network whose rules are gone',
      dumps: [join(REAL, 'c-natted/destroyed.txt')],
      inactive: [join(REAL, 'c-natted/network.xml')],
    },
  ],
  invalid: [
    {
      name: "natted without libvirt's forward-out",
      dumps: [join(AUDIT, 'missing-rule/natted-no-forward-out.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'error',
          line: 1,
          message: ['-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT', 'forward-out'],
          fix: 'restart the network so libvirt re-creates its rules in order: `virsh net-destroy natted && virsh net-start natted` (by hand: `iptables -w --table filter --insert LIBVIRT_FWO --source 192.168.124.0/24 --in-interface virbr2 --jump ACCEPT`)',
        },
      ],
    },
    {
      name: "natted's dump with the default network's XML: none of default's rules",
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'error',
          line: 1,
          message: ['none of its 19 rules', '(libvirt 5.1+)'],
          fix: 'if it runs, restart it so libvirt re-creates its rules: `virsh net-destroy default && virsh net-start default`; if it is stopped, give it with --inactive instead of --net',
        },
      ],
    },
    {
      name: 'a network said to run after it was destroyed',
      dumps: [join(REAL, 'b-host-only/destroyed.txt')],
      net: [join(REAL, 'b-host-only/network.xml')],
      findings: [
        {
          network: 'host-only',
          severity: 'error',
          message: ['none of its'],
          fix: 'if it runs, restart it so libvirt re-creates its rules: `virsh net-destroy host-only && virsh net-start host-only`; if it is stopped, give it with --inactive instead of --net',
        },
      ],
    },
    {
      name: "ugent: libvirt's MASQUERADE without its filter rules (no definition given)",
      dumps: [join(SHARED_CORPUS, 'real-world/configs_ugent__iptables-save')],
      findings: [
        {
          network: '192.168.122.0/24',
          severity: 'warning',
          line: 71,
          message: ['lacks', 'forward-out'],
          fix: "give the network's XML with --net to see exactly which rules are missing; restarting the network (`virsh net-destroy NAME && virsh net-start NAME`) re-creates them, undefining it and deleting the rest removes them",
        },
      ],
    },
  ],
});
