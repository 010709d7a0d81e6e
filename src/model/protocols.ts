// IP protocol names as iptables prints them: it asks getprotobynumber(), i.e. /etc/protocols
// (Debian's netbase, IANA's keywords), before its own short list.

const BY_NUMBER: ReadonlyMap<number, string> = new Map([
  [1, 'icmp'],
  [2, 'igmp'],
  [3, 'ggp'],
  [4, 'ipencap'],
  [5, 'st'],
  [6, 'tcp'],
  [8, 'egp'],
  [9, 'igp'],
  [12, 'pup'],
  [17, 'udp'],
  [20, 'hmp'],
  [22, 'xns-idp'],
  [27, 'rdp'],
  [29, 'iso-tp4'],
  [33, 'dccp'],
  [36, 'xtp'],
  [37, 'ddp'],
  [38, 'idpr-cmtp'],
  [41, 'ipv6'],
  [43, 'ipv6-route'],
  [44, 'ipv6-frag'],
  [45, 'idrp'],
  [46, 'rsvp'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [57, 'skip'],
  [58, 'ipv6-icmp'],
  [59, 'ipv6-nonxt'],
  [60, 'ipv6-opts'],
  [73, 'rspf'],
  [81, 'vmtp'],
  [88, 'eigrp'],
  [89, 'ospf'],
  [93, 'ax.25'],
  [94, 'ipip'],
  [97, 'etherip'],
  [98, 'encap'],
  [103, 'pim'],
  [108, 'ipcomp'],
  [112, 'vrrp'],
  [115, 'l2tp'],
  [124, 'isis'],
  [132, 'sctp'],
  [133, 'fc'],
  [135, 'mobility-header'],
  [136, 'udplite'],
  [137, 'mpls-in-ip'],
  [138, 'manet'],
  [139, 'hip'],
  [140, 'shim6'],
  [141, 'wesp'],
  [142, 'rohc'],
]);

const ALIASES: ReadonlyMap<string, number> = new Map([
  ['all', 0],
  ['ip', 0],
  ['hopopt', 0],
  ['icmpv6', 58],
  ['mh', 135],
  ['ipv6-mh', 135],
]);

const BY_NAME: ReadonlyMap<string, number> = new Map([
  ...[...BY_NUMBER].map(([n, name]) => [name, n] as const),
  ...ALIASES,
]);

/** The protocol number for a name or number as `-p` accepts it, or null when unknown. */
export function protocolNumber(text: string): number | null {
  const lower = text.toLowerCase();
  if (/^\d+$/.test(lower)) {
    const n = Number(lower);
    return n <= 255 ? n : null;
  }
  return BY_NAME.get(lower) ?? null;
}

/** The name iptables-save prints for a protocol number (the number itself when unnamed). */
export function protocolName(n: number): string {
  return BY_NUMBER.get(n) ?? String(n);
}

/** iptables' icmp type names (libxt_icmp.c) and the TYPE[/CODE] iptables-save prints for each. */
export const ICMP_TYPES: Readonly<Record<string, string>> = {
  'echo-reply': '0',
  pong: '0',
  'destination-unreachable': '3',
  'network-unreachable': '3/0',
  'host-unreachable': '3/1',
  'protocol-unreachable': '3/2',
  'port-unreachable': '3/3',
  'fragmentation-needed': '3/4',
  'source-route-failed': '3/5',
  'network-unknown': '3/6',
  'host-unknown': '3/7',
  'network-prohibited': '3/9',
  'host-prohibited': '3/10',
  'TOS-network-unreachable': '3/11',
  'TOS-host-unreachable': '3/12',
  'communication-prohibited': '3/13',
  'host-precedence-violation': '3/14',
  'precedence-cutoff': '3/15',
  'source-quench': '4',
  redirect: '5',
  'network-redirect': '5/0',
  'host-redirect': '5/1',
  'TOS-network-redirect': '5/2',
  'TOS-host-redirect': '5/3',
  'echo-request': '8',
  ping: '8',
  'router-advertisement': '9',
  'router-solicitation': '10',
  'time-exceeded': '11',
  'ttl-exceeded': '11',
  'ttl-zero-during-transit': '11/0',
  'ttl-zero-during-reassembly': '11/1',
  'parameter-problem': '12',
  'ip-header-bad': '12/0',
  'required-option-missing': '12/1',
  'timestamp-request': '13',
  'timestamp-reply': '14',
  'address-mask-request': '17',
  'address-mask-reply': '18',
};

/** ip6tables' icmpv6 type names (libip6t_icmp6.c) and the TYPE[/CODE] ip6tables-save prints. */
export const ICMPV6_TYPES: Readonly<Record<string, string>> = {
  'destination-unreachable': '1',
  'no-route': '1/0',
  'communication-prohibited': '1/1',
  'beyond-scope': '1/2',
  'address-unreachable': '1/3',
  'port-unreachable': '1/4',
  'failed-policy': '1/5',
  'reject-route': '1/6',
  'packet-too-big': '2',
  'time-exceeded': '3',
  'ttl-exceeded': '3',
  'ttl-zero-during-transit': '3/0',
  'ttl-zero-during-reassembly': '3/1',
  'parameter-problem': '4',
  'bad-header': '4/0',
  'unknown-header-type': '4/1',
  'unknown-option': '4/2',
  'echo-request': '128',
  ping: '128',
  'echo-reply': '129',
  pong: '129',
  'router-solicitation': '133',
  'router-advertisement': '134',
  'neighbour-solicitation': '135',
  'neighbor-solicitation': '135',
  'neighbour-advertisement': '136',
  'neighbor-advertisement': '136',
  redirect: '137',
};

/**
 * The service names iptables, ipset and the simulator resolve to ports (getservbyname over /etc/services):
 * those a rule or a set file may name though iptables-save and ipset save print numbers.
 */
export const SERVICE_PORTS: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  http: 80,
  www: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  https: 443,
  submission: 587,
  imaps: 993,
  pop3s: 995,
};

/** The kernel's route types, in their order (RTN_UNSPEC = 0 … RTN_XRESOLVE = 11): -m addrtype's names. */
export const RTN_TYPES: readonly string[] = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];
