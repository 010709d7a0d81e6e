// duplicate-bridge: the seed lab's own hostntw.xml and natted.xml both name virbr2.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

checkCases('duplicate-bridge', {
  valid: [{ name: 'host-only and natted', dumps: [], net: [join(SEED, 'host-only.xml'), join(SEED, 'natted.xml')] }],
  invalid: [
    {
      name: 'hostntw and natted',
      dumps: [],
      net: [join(SEED, 'hostntw.xml'), join(SEED, 'natted.xml')],
      findings: [
        {
          network: 'natted',
          severity: 'error',
          line: 1,
          message: ['virbr2', 'hostntw'],
          fix: "rename one bridge: `<bridge name='virbrN'/>` with an unused N in <repo>/seed-lab/natted.xml (or remove the <bridge> name and let libvirt pick one at define time)",
        },
      ],
    },
    {
      name: 'with a dump of natted',
      dumps: [join(AUDIT, 'natted.save')],
      net: [join(SEED, 'natted.xml')],
      inactive: [join(SEED, 'hostntw.xml')],
      findings: [
        {
          network: 'hostntw',
          severity: 'error',
          line: 1,
          message: ['like natted'],
          fix: "rename one bridge: `<bridge name='virbrN'/>` with an unused N in <repo>/seed-lab/hostntw.xml (or remove the <bridge> name and let libvirt pick one at define time)",
        },
      ],
    },
  ],
});
