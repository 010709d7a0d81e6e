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
  icmp: { type: 'icmp_type', code: 'icmp_code', checksum: 'integer', id: 'integer', sequence: 'integer', gateway: 'integer', mtu: 'integer' },
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
