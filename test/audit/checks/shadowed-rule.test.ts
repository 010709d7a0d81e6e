// shadowed-rule: libvirt's rule is there, an earlier one decides (traced in order).
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';
import { REPO_CORPUS, SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');
const hostOnly = join(SEED, 'host-only.xml');

const NFT_CHECKS = join(REPO_CORPUS, 'nft-checks');
const NFT_REAL = join(SHARED_CORPUS, 'nft-real');

checkCases('shadowed-rule', {
  valid: [
    {
      name: 'libvirt 11.3 nft, default NAT network (nft-real a)',
      dumps: [],
      nft: join(NFT_REAL, 'a-default-nat/after.nft.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
    },
    {
      name: 'libvirt 11.3 nft, host-only network (nft-real b)',
      dumps: [],
      nft: join(NFT_REAL, 'b-host-only/after.nft.json'),
      net: [join(NFT_REAL, 'b-host-only/network.xml')],
    },
    { name: 'natted with all its rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    {
      name: "an admin's DROP appended below libvirt's jumps",
      dumps: [join(AUDIT, 'shadowed-rule/admin-drop-last.save')],
      net: [natted],
    },
    {
      name: 'seed lab: host-only and natted on CentOS 5 (rules before the host REJECT)',
      dumps: [join(SEED, 'expected-0.6.3/host-only+natted.save')],
      net: [hostOnly, natted],
    },
    {
      name: "an admin's port-forward accept above libvirt's rules",
      dumps: [join(AUDIT, 'guest-reachable-from-outside/port-forward.save')],
      net: [natted],
    },
  ],
  invalid: [
    {
      name: "nft: a drop inserted at the top of libvirt's guest_output, above its accept (kernel: test/kernel/nft-checks)",
      dumps: [],
      nft: join(NFT_CHECKS, 'shadowed-out.listed.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'error',
          line: 11,
          message: [
            'libvirt\'s rule `ip saddr 192.168.122.0/24 iif "virbr0" counter packets 0 bytes 0 accept` (table ip libvirt_network, chain guest_output) (forward-out)',
            'chain guest_output, rule `iif "virbr0" tcp dport 80 drop`, a rule libvirt does not derive for any running network, earlier in the same chain, drops them first',
          ],
          fix: "delete it from libvirt's table: `nft -a list chain ip libvirt_network guest_output` shows its handle N; then `nft delete rule ip libvirt_network guest_output handle N`; to limit the network's traffic, do it in a table of your own (a drop there still wins), not in libvirt's chains, which libvirt rewrites",
        },
      ],
    },
    {
      name: 'nft JSON of the same: the handle is known, the delete command exact',
      dumps: [],
      nft: join(NFT_CHECKS, 'shadowed-out.listed.json'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'error',
          message: ['forward-out', 'drops them first'],
          fix: "delete it from libvirt's table: `nft delete rule ip libvirt_network guest_output handle 19`; to limit the network's traffic, do it in a table of your own (a drop there still wins), not in libvirt's chains, which libvirt rewrites",
        },
      ],
    },
    {
      name: "nft: an accept inserted above an isolated network's reject in guest_output",
      dumps: [],
      nft: join(NFT_CHECKS, 'isolated-bypassed.listed.txt'),
      net: [join(NFT_REAL, 'b-host-only/network.xml')],
      findings: [
        {
          network: 'host-only',
          severity: 'error',
          line: 11,
          message: [
            'is isolated, but its guests reach the outside',
            '(reject-out) never decides',
            'rule `iif "virbr1" accept` accepts them first (a rule libvirt does not derive for any running network)',
          ],
          fix: 'remove or narrow the accepting rule: `nft -a list chain ip libvirt_network guest_output` shows its handle N; then `nft delete rule ip libvirt_network guest_output handle N`',
        },
      ],
    },
    {
      name: "nft: a rule in libvirt's table the simulator cannot evaluate (meta cpu) is unknown, said so",
      dumps: [],
      nft: join(NFT_CHECKS, 'undecided-out.listed.txt'),
      net: [join(NFT_REAL, 'a-default-nat/network.xml')],
      findings: [
        {
          network: 'default',
          severity: 'info',
          line: 11,
          message: [
            '(forward-out) lets guests of default starting connections to the outside through is unknown because',
            'meta cpu',
          ],
          fix: "give the state virtables cannot read (`--assume`, `--ipset`) or trace it on the host with a real packet; a rule in libvirt's table that libvirt does not write can also be deleted so libvirt's own rules decide",
        },
      ],
    },
    {
      name: "an admin's -I FORWARD -i virbr2 -j DROP above libvirt's jumps",
      dumps: [join(AUDIT, 'shadowed-rule/admin-drop-first.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'error',
          line: 31,
          message: ['forward-out', 'line 24', 'drops them first'],
          // the admin's DROP is what moves, never libvirt's rule
          fix: "narrow the earlier rule so it does not match virbr2, or move it below libvirt's: `iptables -t filter -D FORWARD -i virbr2 -j DROP` then add it back with -A (libvirt inserts its own rules at the top)",
        },
      ],
    },
    {
      name: "an ACCEPT above an isolated network's REJECT",
      dumps: [join(AUDIT, 'shadowed-rule/isolated-accept-first.save')],
      net: [hostOnly],
      findings: [
        {
          network: 'host-only',
          severity: 'error',
          line: 29,
          message: ['isolated', 'reach the outside', 'line 23'],
          fix: 'remove or narrow the accepting rule: `iptables -t filter -D FORWARD -s 192.168.123.0/24 -j ACCEPT`',
        },
      ],
    },
    {
      name: "a DROP for DNS above libvirt's INPUT jump",
      dumps: [join(AUDIT, 'dns-on-isolated-network/input-drop-dns.save')],
      net: [hostOnly],
      findings: [
        {
          network: 'host-only',
          severity: 'error',
          line: 33,
          message: ['dns-in', 'line 23'],
          fix: "narrow the earlier rule so it does not match virbr1, or move it below libvirt's: `iptables -t filter -D INPUT -i virbr1 -p udp -m udp --dport 53 -j DROP` then add it back with -A (libvirt inserts its own rules at the top)",
        },
      ],
    },
    {
      name: "IPv6: an admin's DROP first in ip6tables' LIBVIRT_FWO, above nat6's forward-out accept (real libvirt 9.0 capture; kernel: test/kernel/ipv6-replay)",
      dumps: [join(AUDIT, 'ipv6/shadowed-drop6.ip6.save')],
      net: [1, 2, 3].map((i) => join(REPO_CORPUS, `libvirt-ipv6/f-three-dual-stack-legacy/network${i}.xml`)),
      findings: [
        {
          network: 'nat6',
          severity: 'error',
          line: 48,
          message: [
            'line 48 `-A LIBVIRT_FWO -s 2001:db8:126::/64 -i virbr6 -j ACCEPT` (forward-out)',
            'guests of nat6 starting connections to the outside over IPv6',
            'line 44 `-A LIBVIRT_FWO -i virbr6 -j DROP`',
            'drops them first',
          ],
          fix: "narrow the earlier rule so it does not match virbr6, or move it below libvirt's: `ip6tables -t filter -D LIBVIRT_FWO -i virbr6 -j DROP` then add it back with -A (libvirt inserts its own rules at the top)",
        },
      ],
    },
    {
      name: "IPv6: an admin's ACCEPT above isolated6's reject-out in ip6tables' LIBVIRT_FWO (real libvirt 9.0 capture; kernel: test/kernel/ipv6-replay)",
      dumps: [join(AUDIT, 'ipv6/isolated-bypassed6.ip6.save')],
      net: [1, 2, 3].map((i) => join(REPO_CORPUS, `libvirt-ipv6/f-three-dual-stack-legacy/network${i}.xml`)),
      findings: [
        {
          network: 'isolated6',
          severity: 'error',
          line: 45,
          message: [
            'is isolated, but its guests reach the outside over IPv6',
            'line 45 `-A LIBVIRT_FWO -i virbr8 -j REJECT --reject-with icmp6-port-unreachable` (reject-out) never decides',
            'line 44 `-A LIBVIRT_FWO -i virbr8 -j ACCEPT` accepts them first',
          ],
          fix: 'remove or narrow the accepting rule: `ip6tables -t filter -D LIBVIRT_FWO -i virbr8 -j ACCEPT`',
        },
      ],
    },
    {
      name: "seed lab query 5: the admin's accept appended below libvirt's REJECT can never match",
      dumps: [join(AUDIT, 'port-forward-never-reaches-guest/accept-after-reject.save')],
      net: [natted],
      findings: [
        {
          network: 'natted',
          severity: 'warning',
          line: 34,
          message: [
            "the host's rule line 34",
            'can never match: tcp 80 from outside to 192.168.124.10',
            'line 31 `-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable` (libvirt) rejects it first',
          ],
          // the admin's accept moves above libvirt's REJECT; libvirt's REJECT is never the one deleted
          fix: 'move it above the rule that decides: `iptables -t filter -D FORWARD -d 192.168.124.10/32 -p tcp -m tcp --dport 80 -j ACCEPT`, then add it back with `-I FORWARD 1` instead of -A (libvirt inserts its own rules at the top)',
        },
      ],
    },
  ],
});
