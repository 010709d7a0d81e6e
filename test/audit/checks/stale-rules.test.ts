// stale-rules: rules of networks that are gone or stopped, and duplicates.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';
import { REPO_CORPUS, SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');
/** One finding for the real natted capture's 19 rules of its own (libvirt 9.0.0), listing them all. */
const nattedRules = (network: string, why: string) => [{ network, severity: 'warning' as const, message: [why, ': 19 rules (lines '] }];

checkCases('stale-rules', {
  valid: [
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    { name: 'real capture with its own network', dumps: [join(REAL, 'c-natted/after.txt')], net: [join(REAL, 'c-natted/network.xml')] },
    { name: 'real capture without definitions: nothing to call stale', dumps: [join(REAL, 'c-natted/after.txt')] },
    { name: "libvirt's empty chains after the last network stopped (leftover-chains, not stale)", dumps: [join(REAL, 'a-default-nat/destroyed.txt')], inactive: [join(REAL, 'a-default-nat/network.xml')] },
  ],
  invalid: [
    {
      name: "c-natted's dump audited with only a-default-nat's XML: virbr2's rules belong to no network",
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
      findings: nattedRules('virbr2', 'which no given network owns'),
    },
    {
      name: 'a network given as stopped whose rules are still there',
      dumps: [join(REAL, 'c-natted/after.txt')],
      inactive: [join(REAL, 'c-natted/network.xml')],
      findings: nattedRules('natted', 'defined but not running (--inactive)'),
    },
    {
      name: "libvirt's rules added twice",
      dumps: [join(AUDIT, 'stale-rules/natted-twice.save')],
      net: [natted],
      findings: [
        { network: 'natted', severity: 'warning', line: 32, message: ['2 times', 'lines 30, 32'] },
        { network: 'natted', severity: 'warning', line: 55, message: ['2 times', 'lines 54, 55'] },
      ],
    },
    {
      name: "ugent: libvirt's MASQUERADE triple 58 times",
      dumps: [join(SHARED_CORPUS, 'real-world/configs_ugent__iptables-save')],
      findings: [
        { network: '192.168.122.0/24', severity: 'warning', line: 74, message: ['58 times', '57 copies'] },
        { network: '192.168.122.0/24', severity: 'warning', line: 75, message: ['58 times'] },
        { network: '192.168.122.0/24', severity: 'warning', line: 76, message: ['58 times'] },
      ],
    },
    {
      name: "Xen's repeated physdev-out (real vif-bridge capture)",
      dumps: [join(SHARED_CORPUS, 'xen/captures/head-vif-bridge-ip/online-vif1.0-vif2.0.save')],
      findings: [{ network: 'xen', severity: 'warning', line: 10, message: ['3 times', "Xen's vif-bridge"] }],
    },
    {
      name: 'the same, with the Xen set-up that derives it',
      dumps: [join(SHARED_CORPUS, 'xen/captures/head-vif-bridge-ip/online-vif1.0-vif2.0.save')],
      net: [join(REPO_CORPUS, 'xen/head-vif-bridge-ip/online-vif1.0-vif2.0.xen')],
      findings: [{ network: 'xen-bridge', severity: 'warning', line: 10, message: ['derives it 3 times', 'once per address'] }],
    },
  ],
});
