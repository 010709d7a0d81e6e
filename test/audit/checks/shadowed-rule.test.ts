// shadowed-rule: libvirt's rule is there, an earlier one decides (traced in order).
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');
const hostOnly = join(SEED, 'host-only.xml');

checkCases('shadowed-rule', {
  valid: [
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    { name: "an admin's DROP appended below libvirt's jumps", dumps: [join(AUDIT, 'shadowed-rule/admin-drop-last.save')], net: [natted] },
    { name: 'seed lab: host-only and natted on CentOS 5 (rules before the host REJECT)', dumps: [join(SEED, 'expected-0.6.3/host-only+natted.save')], net: [hostOnly, natted] },
    { name: "an admin's port-forward accept above libvirt's rules", dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward.save')], net: [natted] },
  ],
  invalid: [
    {
      name: "an admin's -I FORWARD -i virbr2 -j DROP above libvirt's jumps",
      dumps: [join(AUDIT, 'shadowed-rule/admin-drop-first.save')],
      net: [natted],
      findings: [{ network: 'natted', severity: 'error', line: 31, message: ['forward-out', 'line 24', 'drops them first'] }],
    },
    {
      name: "an ACCEPT above an isolated network's REJECT",
      dumps: [join(AUDIT, 'shadowed-rule/isolated-accept-first.save')],
      net: [hostOnly],
      findings: [{ network: 'host-only', severity: 'error', line: 29, message: ['isolated', 'reach the outside', 'line 23'] }],
    },
    {
      name: "a DROP for DNS above libvirt's INPUT jump",
      dumps: [join(AUDIT, 'dns-on-isolated-network/input-drop-dns.save')],
      net: [hostOnly],
      findings: [{ network: 'host-only', severity: 'error', line: 33, message: ['dns-in', 'line 23'] }],
    },
    {
      name: "seed lab query 5: the admin's accept appended below libvirt's REJECT can never match",
      dumps: [join(AUDIT, 'port-forward-never-reaches-guest/accept-after-reject.save')],
      net: [natted],
      findings: [{ network: 'natted', severity: 'warning', line: 34, message: ["the host's rule line 34", 'can never match: tcp 80 from outside to 192.168.124.10', 'line 31 `-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable` (libvirt) rejects it first'] }],
    },
  ],
});
