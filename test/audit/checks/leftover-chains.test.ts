// leftover-chains: libvirt's empty private chains after the last network stopped.
import { checkCases, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const cases = ['a-default-nat', 'b-host-only', 'c-natted'];
const fix =
  'nothing to do; to remove them anyway, delete the jumps (`iptables -D FORWARD -j LIBVIRT_FWX`, …) then the chains (`iptables -X LIBVIRT_FWX`, …) while no libvirt network runs';

checkCases('leftover-chains', {
  valid: [
    ...cases.map((c) => ({
      name: `real capture ${c}, running`,
      dumps: [join(REAL, c, 'after.txt')],
      net: [join(REAL, c, 'network.xml')],
    })),
    {
      name: 'legacy era: no private chains',
      dumps: [join(SEED, 'expected-0.6.3/natted.save')],
      net: [join(SEED, 'natted.xml')],
    },
    {
      name: 'a running network whose rules are gone is missing-rule, not leftover',
      dumps: [join(REAL, 'c-natted/destroyed.txt')],
      net: [join(REAL, 'c-natted/network.xml')],
    },
  ],
  invalid: [
    ...cases.map((c) => ({
      name: `real capture ${c}, destroyed, no definition`,
      dumps: [join(REAL, c, 'destroyed.txt')],
      findings: [{ network: null, severity: 'info' as const, line: 9, message: ['empty', 'LIBVIRT_FWO'], fix }],
    })),
    ...cases.map((c) => ({
      name: `real capture ${c}, destroyed, given as stopped`,
      dumps: [join(REAL, c, 'destroyed.txt')],
      inactive: [join(REAL, c, 'network.xml')],
      findings: [{ network: null, severity: 'info' as const, line: 9, fix }],
    })),
  ],
});
