// What nft knows about its expressions: the header fields of each protocol, the meta and ct keys,
// and the datatype of each (nftables 1.0.6 proto.c, meta.c, ct.c). Readers use it to tell known
// expressions from unknown ones; the printer to write values as nft does (marks in hex, names quoted).

import type { NftExpr, NftFamily } from './nft.js';

/** Header fields by protocol, with their nft datatype (proto.c templates). */
export const PAYLOAD_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ether: { daddr: 'ether_addr', saddr: 'ether_addr', type: 'ether_type' },
  vlan: { id: 'integer', cfi: 'integer', dei: 'integer', pcp: 'integer', type: 'ether_type' },
  arp: {
    htype: 'integer',
    ptype: 'ether_type',
    hlen: 'integer',
    plen: 'integer',
    operation: 'arp_op',
    'saddr ether': 'ether_addr',
    'saddr ip': 'ipv4_addr',
    'daddr ether': 'ether_addr',
    'daddr ip': 'ipv4_addr',
  },
  ip: {
    version: 'integer',
    hdrlength: 'integer',
    dscp: 'dscp',
    ecn: 'ecn',
    length: 'integer',
    id: 'integer',
    'frag-off': 'integer',
    ttl: 'integer',
    protocol: 'inet_proto',
    checksum: 'integer',
    saddr: 'ipv4_addr',
    daddr: 'ipv4_addr',
  },
  ip6: {
    version: 'integer',
    dscp: 'dscp',
    ecn: 'ecn',
    flowlabel: 'integer',
    length: 'integer',
    nexthdr: 'inet_proto',
    hoplimit: 'integer',
    saddr: 'ipv6_addr',
    daddr: 'ipv6_addr',
  },
  icmp: {
    type: 'icmp_type',
    code: 'icmp_code',
    checksum: 'integer',
    id: 'integer',
    sequence: 'integer',
    gateway: 'integer',
    mtu: 'integer',
  },
  icmpv6: {
    type: 'icmpv6_type',
    code: 'icmpv6_code',
    checksum: 'integer',
    'parameter-problem': 'integer',
    mtu: 'integer',
    id: 'integer',
    sequence: 'integer',
    'max-delay': 'integer',
  },
  igmp: { type: 'igmp_type', mrt: 'integer', checksum: 'integer', group: 'integer' },
  tcp: {
    sport: 'inet_service',
    dport: 'inet_service',
    sequence: 'integer',
    ackseq: 'integer',
    doff: 'integer',
    reserved: 'integer',
    flags: 'tcp_flag',
    window: 'integer',
    checksum: 'integer',
    urgptr: 'integer',
  },
  udp: { sport: 'inet_service', dport: 'inet_service', length: 'integer', checksum: 'integer' },
  udplite: { sport: 'inet_service', dport: 'inet_service', csumcov: 'integer', checksum: 'integer' },
  sctp: { sport: 'inet_service', dport: 'inet_service', vtag: 'integer', checksum: 'integer' },
  dccp: { sport: 'inet_service', dport: 'inet_service', type: 'dccp_pkttype' },
  th: { sport: 'inet_service', dport: 'inet_service' },
  ah: { nexthdr: 'inet_proto', hdrlength: 'integer', reserved: 'integer', spi: 'integer', sequence: 'integer' },
  esp: { spi: 'integer', sequence: 'integer' },
  comp: { nexthdr: 'inet_proto', flags: 'integer', cpi: 'integer' },
};

/** Meta keys and their datatypes (meta.c meta_templates). */
export const META_KEYS: Readonly<Record<string, string>> = {
  length: 'integer',
  protocol: 'ether_type',
  nfproto: 'nf_proto',
  l4proto: 'inet_proto',
  priority: 'classid',
  mark: 'mark',
  iif: 'iface_index',
  iifname: 'ifname',
  iiftype: 'iface_type',
  oif: 'iface_index',
  oifname: 'ifname',
  oiftype: 'iface_type',
  skuid: 'uid',
  skgid: 'gid',
  nftrace: 'integer',
  rtclassid: 'realm',
  ibrname: 'ifname',
  obrname: 'ifname',
  pkttype: 'pkt_type',
  cpu: 'integer',
  iifgroup: 'devgroup',
  oifgroup: 'devgroup',
  cgroup: 'integer',
  random: 'integer',
  ipsec: 'boolean',
  iifkind: 'ifname',
  oifkind: 'ifname',
  ibrpvid: 'integer',
  ibrvproto: 'ether_type',
  time: 'time',
  day: 'day',
  hour: 'hour',
  secmark: 'integer',
  sdif: 'iface_index',
  sdifname: 'ifname',
};

/** Meta keys nft reads without `meta` in front (parser_bison.y meta_key_unqualified), with the key they mean. */
export const UNQUALIFIED_META: Readonly<Record<string, string>> = {
  mark: 'mark',
  iif: 'iif',
  iifname: 'iifname',
  iiftype: 'iiftype',
  oif: 'oif',
  oifname: 'oifname',
  oiftype: 'oiftype',
  skuid: 'skuid',
  skgid: 'skgid',
  nftrace: 'nftrace',
  rtclassid: 'rtclassid',
  ibriport: 'ibrname',
  obriport: 'obrname',
  ibrname: 'ibrname',
  obrname: 'obrname',
  pkttype: 'pkttype',
  cpu: 'cpu',
  iifgroup: 'iifgroup',
  oifgroup: 'oifgroup',
  cgroup: 'cgroup',
};

/** Meta keys nft prints without `meta` (meta.c meta_key_is_unqualified). */
export const PRINTED_UNQUALIFIED = new Set(['iif', 'oif', 'iifname', 'oifname', 'iifgroup', 'oifgroup']);

/** Conntrack keys and their datatypes (ct.c ct_templates); `saddr`/`daddr`/`proto-*` take the family of the table. */
export const CT_KEYS: Readonly<Record<string, string>> = {
  state: 'ct_state',
  direction: 'ct_dir',
  status: 'ct_status',
  mark: 'mark',
  expiration: 'time',
  helper: 'string',
  l3proto: 'nf_proto',
  saddr: 'addr',
  daddr: 'addr',
  protocol: 'inet_proto',
  'proto-src': 'inet_service',
  'proto-dst': 'inet_service',
  label: 'ct_label',
  bytes: 'integer',
  packets: 'integer',
  avgpkt: 'integer',
  zone: 'integer',
  event: 'ct_event',
  'ip saddr': 'ipv4_addr',
  'ip daddr': 'ipv4_addr',
  'ip6 saddr': 'ipv6_addr',
  'ip6 daddr': 'ipv6_addr',
  secmark: 'integer',
  id: 'integer',
};

/** Datatypes whose values are bit sets: a bare value or list matches when those bits are set (op `in`). */
export const BITMASK_TYPES = new Set(['ct_state', 'ct_status', 'tcp_flag', 'ct_event']);

export const FIB_RESULTS = new Set(['oif', 'oifname', 'type']);
export const FIB_FLAGS: readonly string[] = ['saddr', 'daddr', 'mark', 'iif', 'oif'];

/** The nft datatype of an expression's values; null when virtables does not know it. */
export function exprType(e: NftExpr, family: NftFamily): string | null {
  switch (e.kind) {
    case 'payload':
      return PAYLOAD_FIELDS[e.protocol]?.[e.field] ?? null;
    case 'meta':
      return META_KEYS[e.key] ?? null;
    case 'ct': {
      const t = CT_KEYS[e.key] ?? null;
      if (t !== 'addr') return t;
      return e.family === 'ip6' || family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
    }
    case 'fib':
      return e.result === 'type' ? 'fib_addrtype' : e.result === 'oif' ? 'iface_index' : 'ifname';
    case 'binop':
      return exprType(e.left, family);
    default:
      return null;
  }
}

/** Symbolic values and the numbers the kernel holds for them, by datatype (proto.c, ct.c, datatype.c). */
export const SYMBOL_VALUES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  ct_state: { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 },
  ct_status: { expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512 },
  tcp_flag: { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 },
  nf_proto: { ipv4: 2, ipv6: 10 },
  icmp_type: {
    'echo-reply': 0,
    'destination-unreachable': 3,
    'source-quench': 4,
    redirect: 5,
    'echo-request': 8,
    'router-advertisement': 9,
    'router-solicitation': 10,
    'time-exceeded': 11,
    'parameter-problem': 12,
    'timestamp-request': 13,
    'timestamp-reply': 14,
    'info-request': 15,
    'info-reply': 16,
    'address-mask-request': 17,
    'address-mask-reply': 18,
  },
  icmpv6_type: {
    'destination-unreachable': 1,
    'packet-too-big': 2,
    'time-exceeded': 3,
    'parameter-problem': 4,
    'echo-request': 128,
    'echo-reply': 129,
    'mld-listener-query': 130,
    'mld-listener-report': 131,
    'mld-listener-done': 132,
    'mld-listener-reduction': 132,
    'nd-router-solicit': 133,
    'nd-router-advert': 134,
    'nd-neighbor-solicit': 135,
    'nd-neighbor-advert': 136,
    'nd-redirect': 137,
    'router-renumbering': 138,
    'ind-neighbor-solicit': 141,
    'ind-neighbor-advert': 142,
    'mld2-listener-report': 143,
  },
  ether_type: { ip: 0x0800, arp: 0x0806, ip6: 0x86dd, '8021q': 0x8100, '8021ad': 0x88a8, vlan: 0x8100 },
};

/** IP protocol numbers and the names nft prints for them (getprotobynumber: Debian netbase's /etc/protocols). */
export const INET_PROTO_NAMES: Readonly<Record<number, string>> = {
  0: 'ip',
  1: 'icmp',
  2: 'igmp',
  3: 'ggp',
  4: 'ipencap',
  5: 'st',
  6: 'tcp',
  8: 'egp',
  9: 'igp',
  12: 'pup',
  17: 'udp',
  20: 'hmp',
  22: 'xns-idp',
  27: 'rdp',
  29: 'iso-tp4',
  33: 'dccp',
  36: 'xtp',
  37: 'ddp',
  38: 'idpr-cmtp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  45: 'idrp',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  57: 'skip',
  58: 'ipv6-icmp',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  73: 'rspf',
  81: 'vmtp',
  88: 'eigrp',
  89: 'ospf',
  93: 'ax.25',
  94: 'ipip',
  97: 'etherip',
  98: 'encap',
  103: 'pim',
  108: 'ipcomp',
  112: 'vrrp',
  115: 'l2tp',
  124: 'isis',
  132: 'sctp',
  133: 'fc',
  135: 'mobility-header',
  136: 'udplite',
  137: 'mpls-in-ip',
  138: 'manet',
  139: 'hip',
  140: 'shim6',
  141: 'wesp',
  142: 'rohc',
  143: 'ethernet',
};

/** Names nft reads for IP protocols besides those it prints (aliases). */
export const INET_PROTO_ALIASES: Readonly<Record<string, number>> = { icmpv6: 58, hopopt: 0, comp: 108 };

/** Service names nft reads for ports (/etc/services); nft 1.0.6 prints ports as numbers. */
export const SERVICES: Readonly<Record<string, number>> = {
  ftp: 21,
  'ftp-data': 20,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  http: 80,
  kerberos: 88,
  pop3: 110,
  ntp: 123,
  'netbios-ns': 137,
  'netbios-ssn': 139,
  imap: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  'microsoft-ds': 445,
  isakmp: 500,
  syslog: 514,
  'dhcpv6-client': 546,
  'dhcpv6-server': 547,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  openvpn: 1194,
  mysql: 3306,
  'ipsec-nat-t': 4500,
  mdns: 5353,
  postgresql: 5432,
};

/** The number the kernel holds for a value of `type`, when virtables knows it (for ordering set elements). */
export function valueNumber(v: string | number | boolean, type: string | null): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean' || type === null) return null;
  if (type === 'inet_proto') {
    const n = Object.entries(INET_PROTO_NAMES).find(([, name]) => name === v)?.[0];
    return n !== undefined ? Number(n) : (INET_PROTO_ALIASES[v] ?? null);
  }
  if (type === 'inet_service') return SERVICES[v] ?? null;
  return SYMBOL_VALUES[type]?.[v] ?? null;
}
