// overlapping-subnets: network definitions alone (what a pre-commit hook sees when only XML changed).
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const wide = join(AUDIT, 'overlapping-subnets/lab-wide.xml');
const narrow = join(AUDIT, 'overlapping-subnets/lab-narrow.xml');

checkCases('overlapping-subnets', {
  valid: [
    {
      name: 'the seed lab networks',
      dumps: [],
      net: [join(SEED, 'host-only.xml'), join(SEED, 'natted.xml'), join(SEED, 'natntw.xml')],
    },
    { name: 'one network', dumps: [], net: [wide] },
  ],
  invalid: [
    {
      name: 'a /24 inside a running /16',
      dumps: [],
      net: [wide, narrow],
      findings: [
        {
          network: 'lab-narrow',
          severity: 'error',
          line: 5,
          message: ['10.10.5.0/24', '10.10.0.0/16'],
          fix: 'give one of them a free range: change `<ip address=… prefix=…>` in <repo>/audit/overlapping-subnets/lab-narrow.xml (`virsh net-edit lab-narrow`) and restart it',
        },
      ],
    },
    {
      name: 'one of them stopped',
      dumps: [],
      net: [wide],
      inactive: [narrow],
      findings: [
        {
          network: 'lab-narrow',
          severity: 'warning',
          line: 5,
          message: ['refuse to start'],
          fix: 'give one of them a free range: change `<ip address=… prefix=…>` in <repo>/audit/overlapping-subnets/lab-narrow.xml (`virsh net-edit lab-narrow`) and restart it',
        },
      ],
    },
  ],
});
