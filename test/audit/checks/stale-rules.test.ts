// stale-rules: rules of networks that are gone or stopped, and duplicates.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';
import { REPO_CORPUS, SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');
/** One finding for the real natted capture's 19 rules of its own (libvirt 9.0.0), listing them all. */
/** The first three of c-natted's 19 rules, as stale-rules tells the user to delete them. */
const NATTED_REMOVES =
  '`iptables -t mangle -D LIBVIRT_PRT -o virbr2 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill`, `iptables -t filter -D LIBVIRT_FWI -d 192.168.124.0/24 -o virbr2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `iptables -t filter -D LIBVIRT_FWI -o virbr2 -j REJECT --reject-with icmp-port-unreachable` and 16 more like them';
const nattedRules = (network: string, why: string, fix: string) => [
  { network, severity: 'warning' as const, message: [why, ': 19 rules (lines '], fix },
];

checkCases('stale-rules', {
  valid: [
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    {
      name: 'real capture with its own network',
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'c-natted/network.xml')],
    },
    { name: 'real capture without definitions: nothing to call stale', dumps: [join(REAL, 'c-natted/after.txt')] },
    {
      name: "libvirt's empty chains after the last network stopped (leftover-chains, not stale)",
      dumps: [join(REAL, 'a-default-nat/destroyed.txt')],
      inactive: [join(REAL, 'a-default-nat/network.xml')],
    },
  ],
  invalid: [
    {
      name: "c-natted's dump audited with only a-default-nat's XML: virbr2's rules belong to no network",
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
      findings: nattedRules(
        'virbr2',
        'which no given network owns',
        `if the network is gone, remove them: ${NATTED_REMOVES}; if it should run, give its definition with --net`,
      ),
    },
    {
      name: 'a network given as stopped whose rules are still there',
      dumps: [join(REAL, 'c-natted/after.txt')],
      inactive: [join(REAL, 'c-natted/network.xml')],
      findings: nattedRules(
        'natted',
        'defined but not running (--inactive)',
        `start and stop the network once so libvirt removes its own rules, or remove them: ${NATTED_REMOVES}`,
      ),
    },
    {
      name: "libvirt's rules added twice",
      dumps: [join(AUDIT, 'stale-rules/natted-twice.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 32,
          message: ['2 times', 'lines 30, 32'],
          fix: 'delete the extra copies (each `iptables -t filter -D LIBVIRT_FWO …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
        {
          network: 'natted',
          severity: 'warning',
          line: 55,
          message: ['2 times', 'lines 54, 55'],
          fix: 'delete the extra copies (each `iptables -t nat -D LIBVIRT_PRT …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
      ],
    },
    {
      name: "ugent: libvirt's MASQUERADE triple 58 times",
      dumps: [join(SHARED_CORPUS, 'real-world/configs_ugent__iptables-save')],
      findings: [
        {
          network: '192.168.122.0/24',
          severity: 'warning',
          line: 74,
          message: ['58 times', '57 copies'],
          fix: 'delete the extra copies (each `iptables -t nat -D POSTROUTING …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
        {
          network: '192.168.122.0/24',
          severity: 'warning',
          line: 75,
          message: ['58 times'],
          fix: 'delete the extra copies (each `iptables -t nat -D POSTROUTING …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
        {
          network: '192.168.122.0/24',
          severity: 'warning',
          line: 76,
          message: ['58 times'],
          fix: 'delete the extra copies (each `iptables -t nat -D POSTROUTING …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
      ],
    },
    {
      name: "Xen's repeated physdev-out (real vif-bridge capture)",
      dumps: [join(SHARED_CORPUS, 'xen/captures/head-vif-bridge-ip/online-vif1.0-vif2.0.save')],
      findings: [
        {
          network: 'xen',
          severity: 'warning',
          line: 10,
          message: ['3 times', "Xen's vif-bridge"],
          fix: 'delete the extra copies (each `iptables -t filter -D FORWARD …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
      ],
    },
    {
      name: 'the same, with the Xen set-up that derives it',
      dumps: [join(SHARED_CORPUS, 'xen/captures/head-vif-bridge-ip/online-vif1.0-vif2.0.save')],
      net: [join(REPO_CORPUS, 'xen/head-vif-bridge-ip/online-vif1.0-vif2.0.xen')],
      findings: [
        {
          network: 'xen-bridge',
          severity: 'warning',
          line: 10,
          message: ['derives it 3 times', 'once per address'],
          fix: 'delete the extra copies (each `iptables -t filter -D FORWARD …` removes one) or reload the host firewall and restart the networks so each rule is added once',
        },
      ],
    },
  ],
});
