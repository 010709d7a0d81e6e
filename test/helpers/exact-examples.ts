// The examples of issue #14, each pinned: what the kernel does with the file (checked by
// test/kernel/exact-examples.test.ts in a namespace) is what virtables does with it
// (test/unit/exact-examples.test.ts). `prints` lists the rule lines iptables-save prints for
// the file's last table; `refuses` is a piece of virtables' message.

import type { Family } from '../../src/model/dump.js';

export interface Example {
  readonly about: string;
  readonly family: Family;
  readonly text: string;
  readonly prints?: readonly string[];
  readonly refuses?: RegExp;
}

/** A one-table file: `*table`, chain declarations, the rules, COMMIT. */
function file(table: string, lines: readonly string[], chains: readonly string[] = []): string {
  return [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...lines, 'COMMIT', ''].join('\n');
}

const v4 = (
  about: string,
  rule: string,
  prints: string | null,
  refuses?: RegExp,
  table = 'filter',
  chain = 'INPUT',
): Example => ({
  about,
  family: 'ipv4',
  text: file(table, [`-A ${chain} ${rule}`]),
  ...(prints !== null ? { prints: [`-A ${chain}${prints === '' ? '' : ` ${prints}`}`] } : { refuses: refuses! }),
});
const v6 = (
  about: string,
  rule: string,
  prints: string | null,
  refuses?: RegExp,
  table = 'filter',
  chain = 'INPUT',
): Example => ({ ...v4(about, rule, prints, refuses, table, chain), family: 'ipv6' });

export const EXAMPLES: readonly Example[] = [
  // --- prints as the kernel prints: ranges
  v4('an open-ended port range', '-p tcp --sport 1024:', '-p tcp -m tcp --sport 1024:65535'),
  v4('a range from 0', '-p tcp --dport :4', '-p tcp -m tcp --dport 0:4'),
  v4('a range of one port', '-p tcp --dport 4:4', '-p tcp -m tcp --dport 4'),
  v4(
    'conntrack ports',
    '-m conntrack --ctproto tcp --ctorigdstport 1024:',
    '-m conntrack --ctproto 6 --ctorigdstport 1024:65535',
  ),
  v4('dccp ports', '-p dccp --dport 1024:', '-p dccp -m dccp --dport 1024:65535'),
  v4('ah SPI range', '-p ah -m ah --ahspi 5:', '-p ah -m ah --ahspi 5:4294967295'),
  v4('esp SPI range', '-p esp -m esp --espspi :9', '-p esp -m esp --espspi 0:9'),
  v4('length range', '-m length --length 100:', '-m length --length 100:65535'),
  v4('tcpmss range', '-p tcp -m tcpmss --mss 1000:', '-p tcp -m tcpmss --mss 1000:65535'),
  v4(
    'connbytes from N',
    '-m connbytes --connbytes 10: --connbytes-dir both --connbytes-mode bytes',
    '-m connbytes --connbytes 10 --connbytes-mode bytes --connbytes-dir both',
  ),
  v4('NFQUEUE balance', '-j NFQUEUE --queue-balance 0:3', '-j NFQUEUE --queue-balance 0:3'),
  // names to numbers
  v4(
    'a service name in DNAT',
    '-p tcp -j DNAT --to-destination 1.1.1.1:ssh',
    '-p tcp -j DNAT --to-destination 1.1.1.1:22',
    undefined,
    'nat',
    'PREROUTING',
  ),
  v4('a protocol name in conntrack', '-m conntrack --ctproto tcp', '-m conntrack --ctproto 6'),
  v4('a user name', '-m owner --uid-owner root', '-m owner --uid-owner 0', undefined, 'filter', 'OUTPUT'),
  v4('a DSCP class', '-m dscp --dscp-class EF', '-m dscp --dscp 0x2e'),
  v4('a TOS name', '-m tos --tos Minimize-Delay', '-m tos --tos 0x10/0x3f'),
  // defaults save prints
  v4('recent --set', '-m recent --set', '-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource'),
  v6(
    'recent --set (IPv6)',
    '-m recent --set',
    '-m recent --set --name DEFAULT --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource',
  ),
  v4(
    'connlimit',
    '-p tcp -m connlimit --connlimit-above 2',
    '-p tcp -m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr',
  ),
  v4(
    'CONNMARK --save-mark',
    '-j CONNMARK --save-mark',
    '-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff',
  ),
  v4('CONNMARK --set-mark', '-j CONNMARK --set-mark 1', '-j CONNMARK --set-xmark 0x1/0xffffffff'),
  v4(
    'hashlimit',
    '-m hashlimit --hashlimit 10/min --hashlimit-name x',
    '-m hashlimit --hashlimit-upto 10/min --hashlimit-burst 5 --hashlimit-name x',
  ),
  // no-ops
  v4('-i +', '-i + -j ACCEPT', '-j ACCEPT'),
  // virtables' own additions, gone
  v4('-p tcp -m tcp alone', '-p tcp -m tcp', '-p tcp -m tcp'),
  v4('a full port range', '-p tcp --dport 0:65535', '-p tcp -m tcp'),
  v4('a port with a leading zero', '-p tcp --dport 007', '-p tcp -m tcp --dport 7'),
  v4('icmp type any', '-p icmp --icmp-type any', '-p icmp -m icmp --icmp-type any'),
  v4('a full mark mask', '-m mark --mark 0xffffffff/0xffffffff', '-m mark --mark 0xffffffff'),
  v4('-s 0.0.0.0/0', '-s 0.0.0.0/0 -j ACCEPT', '-j ACCEPT'),
  v6('ip6 -d ::/0', '-d ::/0 -j ACCEPT', '-j ACCEPT'),
  // --- accepted, the kernel refuses
  v4('a bad ctstate', '-m conntrack --ctstate wrong', null, /unknown value 'wrong'/),
  v4('state without --state', '-m state', null, /--state is required/),
  v4('comment without --comment', '-m comment', null, /--comment is required/),
  v4('port 65536', '-p tcp --dport 65536', null, /invalid port\/service '65536'/),
  v4('port 99999', '-p tcp --dport 99999', null, /invalid port\/service '99999'/),
  v4('port -1', '-p tcp --dport -1', null, /invalid port\/service '-1'/),
  v4('a MAC address of five octets', '-m mac --mac-source 42:01:02:03:04', null, /invalid MAC address/),
  v4('CHECKSUM without --checksum-fill', '-j CHECKSUM', null, /--checksum-fill is required/, 'mangle', 'POSTROUTING'),
  v4('DNAT without --to-destination', '-j DNAT', null, /--to-destination is required/, 'nat', 'PREROUTING'),
  v4('SNAT without --to-source', '-j SNAT', null, /--to-source is required/, 'nat', 'POSTROUTING'),
  v6('ip6 REJECT tcp-reset without -p tcp', '-j REJECT --reject-with tcp-reset', null, /tcp-reset needs -p tcp/),
  v4('owner in INPUT', '-m owner --uid-owner 0', null, /only valid in OUTPUT, POSTROUTING, not INPUT/),
  v4('the -j forgotten', '-m state --state NEW ACCEPT', null, /did you forget '-j' before 'ACCEPT'/),
  v4('a target that is no chain', '-j ACCPET', null, /no chain 'ACCPET'.*did you mean 'ACCEPT'/),
  v4('a stray word', '-p tcp --dport 22 stray -j ACCEPT', null, /unexpected word 'stray'/),
  v4('a stray word after the target', '-j ACCEPT bogus', null, /unexpected word 'bogus'/),
  v4('a stray option after the target', '-j ACCEPT --bogus', null, /unknown option '--bogus'/),
  v4('a stray option after a target with options', '-j LOG --log-prefix x --bogus', null, /unknown option '--bogus'/),
  {
    about: 'a chain named ACCEPT',
    family: 'ipv4',
    text: file('filter', [], ['ACCEPT']),
    refuses: /'ACCEPT' is a verdict, not a chain name/,
  },
  {
    about: 'a chain name of 29 characters',
    family: 'ipv4',
    text: file('filter', [], ['a'.repeat(29)]),
    refuses: /29 characters long \(28 at most\)/,
  },
  {
    about: 'a chain name of 28 characters',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -j ' + 'a'.repeat(28)], ['a'.repeat(28)]),
    prints: [`-A INPUT -j ${'a'.repeat(28)}`],
  },
  {
    about: 'a -g loop',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -j A', '-A A -g B', '-A B -g A'], ['A', 'B']),
    refuses: /loop: A -> B -> A/,
  },
  {
    about: 'a -j loop reached from INPUT',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -j A', '-A A -j B', '-A B -j C', '-A C -j A'], ['A', 'B', 'C']),
    refuses: /loop: A -> B -> C -> A/,
  },
  {
    about: 'a loop no built-in chain reaches is loaded',
    family: 'ipv4',
    text: file('filter', ['-A A -j B', '-A B -j A'], ['A', 'B']),
    prints: ['-A A -j B', '-A B -j A'],
  },
  v4('-m with no name', '-m "" -j ACCEPT', null, /'-m' needs a match name/),
  v4('-j "a b"', '-j "a b"', null, /invalid target name 'a b'/),
  // --- refused, the kernel accepts
  v4('a mask with holes', '-s 10.0.0.0/255.0.255.0 -j ACCEPT', '-s 10.0.0.0/255.0.255.0 -j ACCEPT'),
  v4('-c 2,3', '-c 2,3 -j ACCEPT', '-j ACCEPT'),
  {
    about: 'junk counters on a chain line',
    family: 'ipv4',
    text: '*filter\n:INPUT ACCEPT [junk]\n-A INPUT -j ACCEPT\nCOMMIT\n',
    prints: ['-A INPUT -j ACCEPT'],
  },
  {
    about: 'a table given twice: the last is kept',
    family: 'ipv4',
    text: '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*filter\n-A INPUT -j DROP\nCOMMIT\n',
    prints: ['-A INPUT -j DROP'],
  },
  // --- the table's structure
  {
    about: 'a built-in chain declared twice',
    family: 'ipv4',
    text: '*filter\n:INPUT ACCEPT [0:0]\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n',
    prints: ['-A INPUT -j ACCEPT'],
  },
  {
    about: 'a user chain declared twice',
    family: 'ipv4',
    text: file('filter', [], ['X', 'X']),
    refuses: /chain 'X' declared twice/,
  },
  {
    about: 'a chain another table has',
    family: 'ipv4',
    text: '*nat\n:FORWARD ACCEPT [0:0]\nCOMMIT\n',
    refuses: /table 'nat' has no built-in chain FORWARD/,
  },
  {
    about: 'a table the kernel does not have',
    family: 'ipv4',
    text: '*filters\nCOMMIT\n',
    refuses: /no table 'filters' in the kernel.*did you mean 'filter'/,
  },
  {
    about: 'a jump to a built-in chain',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -j OUTPUT']),
    refuses: /cannot jump to the built-in chain OUTPUT/,
  },
  {
    about: 'a user chain reached from INPUT may not hold owner',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -j MINE', '-A MINE -m owner --uid-owner 0'], ['MINE']),
    refuses: /only valid in OUTPUT, POSTROUTING, not INPUT \(chain MINE is reached from INPUT\)/,
  },
  {
    about: 'a user chain reached from OUTPUT may',
    family: 'ipv4',
    text: file('filter', ['-A OUTPUT -j MINE', '-A MINE -m owner --uid-owner 0'], ['MINE']),
    prints: ['-A OUTPUT -j MINE', '-A MINE -m owner --uid-owner 0'],
  },
  {
    about: 'COMMIT with a blank after it',
    family: 'ipv4',
    text: '*filter\nCOMMIT \n',
    refuses: /blanks around 'COMMIT'/,
  },
  {
    about: 'DROP in the nat table',
    family: 'ipv4',
    text: file('nat', ['-A PREROUTING -j DROP']),
    refuses: /refuses DROP there/,
  },
  {
    about: '-o in INPUT',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -o eth0 -j ACCEPT']),
    refuses: /'-o' cannot be used in INPUT/,
  },
  {
    about: 'two sources: two rules',
    family: 'ipv4',
    text: file('filter', ['-A INPUT -s 10.0.0.1,10.0.0.2 -j ACCEPT']),
    prints: ['-A INPUT -s 10.0.0.1/32 -j ACCEPT', '-A INPUT -s 10.0.0.2/32 -j ACCEPT'],
  },
];
