// IP protocol names as iptables prints them: it asks getprotobynumber(), i.e. /etc/protocols
// (Debian's netbase, IANA's keywords), before its own short list.

const BY_NUMBER: ReadonlyMap<number, string> = new Map([
  [1, 'icmp'], [2, 'igmp'], [3, 'ggp'], [4, 'ipencap'], [5, 'st'], [6, 'tcp'], [8, 'egp'],
  [9, 'igp'], [12, 'pup'], [17, 'udp'], [20, 'hmp'], [22, 'xns-idp'], [27, 'rdp'],
  [29, 'iso-tp4'], [33, 'dccp'], [36, 'xtp'], [37, 'ddp'], [38, 'idpr-cmtp'], [41, 'ipv6'],
  [43, 'ipv6-route'], [44, 'ipv6-frag'], [45, 'idrp'], [46, 'rsvp'], [47, 'gre'], [50, 'esp'],
  [51, 'ah'], [57, 'skip'], [58, 'ipv6-icmp'], [59, 'ipv6-nonxt'], [60, 'ipv6-opts'],
  [73, 'rspf'], [81, 'vmtp'], [88, 'eigrp'], [89, 'ospf'], [93, 'ax.25'], [94, 'ipip'],
  [97, 'etherip'], [98, 'encap'], [103, 'pim'], [108, 'ipcomp'], [112, 'vrrp'], [115, 'l2tp'],
  [124, 'isis'], [132, 'sctp'], [133, 'fc'], [135, 'mobility-header'], [136, 'udplite'],
  [137, 'mpls-in-ip'], [138, 'manet'], [139, 'hip'], [140, 'shim6'], [141, 'wesp'], [142, 'rohc'],
]);

const ALIASES: ReadonlyMap<string, number> = new Map([
  ['all', 0], ['ip', 0], ['hopopt', 0], ['icmpv6', 58], ['mh', 135], ['ipv6-mh', 135],
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
