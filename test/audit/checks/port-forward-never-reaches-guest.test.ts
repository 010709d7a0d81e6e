// port-forward-never-reaches-guest: a DNAT to a guest whose forwarded packet is stopped first
// (the seed lab's query-5 mistake), found by the simulator with the accept that comes too late.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');
const LAB5 = join(AUDIT, '..', 'labs', 'xen-networking', 'answers', '5');

checkCases('port-forward-never-reaches-guest', {
  valid: [
    {
      name: 'a DNAT with its FORWARD accept above libvirt’s (libvirt 11.3.0)',
      dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward.save')],
      net: [natted],
    },
    {
      name: "the lab's reference answer to query 5 (libvirt 0.6.3, accept inserted)",
      dumps: [join(LAB5, 'reference-dump/host.save')],
      net: [natted],
    },
    { name: 'no port forward at all', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
  ],
  invalid: [
    {
      name: "seed lab query 5: the accept appended below libvirt's REJECT (libvirt 0.6.3)",
      dumps: [join(AUDIT, 'port-forward-never-reaches-guest/accept-after-reject.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 13,
          message: [
            'the port forward line 13 `-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80` sends tcp 8080',
            'line 31 `-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable` (libvirt) rejects the forwarded packet in FORWARD',
            'line 34 `-A FORWARD -d 192.168.124.10/32 -p tcp -m tcp --dport 80 -j ACCEPT` would accept it but comes after it in FORWARD, too late',
          ],
          fix: "move the accept above libvirt's rules: `iptables -t filter -D FORWARD -d 192.168.124.10/32 -p tcp -m tcp --dport 80 -j ACCEPT`, then `iptables -t filter -I FORWARD 1 -d 192.168.124.10/32 -p tcp -m tcp --dport 80 -j ACCEPT`",
        },
      ],
    },
    {
      name: 'a DNAT and no accept at all (libvirt 11.3.0)',
      dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward-rejected.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          message: [
            'LIBVIRT_FWI',
            'rejects the forwarded packet',
            'nothing accepts the forwarded connection before it',
          ],
          fix: "accept the forwarded connection above libvirt's rules, e.g. `iptables -I FORWARD 1 -d 192.168.124.10 -p tcp --dport 80 -j ACCEPT`; or delete the DNAT if the forward is not wanted: `iptables -t nat -D PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80`",
        },
      ],
    },
  ],
});
