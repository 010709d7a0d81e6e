// What a rule sees of a packet at one hook: the header fields, the devices, the bridge port
// information br_netfilter attaches, and the conntrack entry. One mutable object per trace,
// updated as the packet moves, so compiled rules read plain fields.

import type { IpFamily } from '../model/cidr.js';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

/** Bits of the state / conntrack --ctstate match (SNAT and DNAT are conntrack's virtual states). */
export const ST_INVALID = 1;
export const ST_NEW = 2;
export const ST_ESTABLISHED = 4;
export const ST_RELATED = 8;
export const ST_UNTRACKED = 16;
export const ST_SNAT = 32;
export const ST_DNAT = 64;

export const STATE_BITS: Readonly<Record<string, number>> = {
  INVALID: ST_INVALID, NEW: ST_NEW, ESTABLISHED: ST_ESTABLISHED, RELATED: ST_RELATED, UNTRACKED: ST_UNTRACKED, SNAT: ST_SNAT, DNAT: ST_DNAT,
};

export interface Tuple {
  src: bigint;
  dst: bigint;
  /** -1 for protocols without ports. */
  sport: number;
  dport: number;
}

/** A conntrack entry: the tuple each direction is expected to carry, and what NAT did. */
export interface Flow {
  readonly family: IpFamily;
  readonly proto: number;
  readonly orig: Tuple;
  readonly reply: Tuple;
  snat: boolean;
  dnat: boolean;
  /** The nat table has decided this manipulation (a binding, possibly "no change"). */
  srcBound: boolean;
  dstBound: boolean;
  untracked: boolean;
  mark: number;
}

export type PacketType = 'unicast' | 'broadcast' | 'multicast';

export interface MatchCtx {
  family: IpFamily;
  hook: Hook;
  table: string;
  src: bigint;
  dst: bigint;
  proto: number;
  sport: number;
  dport: number;
  icmpType: number;
  icmpCode: number;
  tcpFlags: number;
  mark: number;
  /** '' when the hook has no such device (no input device in OUTPUT). */
  inIface: string;
  outIface: string;
  /** br_netfilter bridge information exists (the packet came in through a bridge port with bridge-nf-call-iptables on). */
  bridged: boolean;
  physIn: string | null;
  physOut: string | null;
  /** One ST_* bit for the state match, plus ST_SNAT/ST_DNAT for conntrack. */
  ctState: number;
  /** 0 original, 1 reply. */
  ctDir: 0 | 1;
  flow: Flow | null;
  pktType: PacketType;
  /** Source MAC of the frame, when the topology knows it. */
  srcMac: string | null;
  /** Address type of an address as the host's local routing table classifies it (for addrtype). */
  addrType: (addr: bigint, iface: string | null) => string;
  /** What the trace changed so far (ipset members added or deleted); shared by request and reply. */
  memory: TraceMemory;
}

/** Outcome of a compiled rule test. */
export const NO = 0;
export const YES = 1;
export const UNKNOWN = 2;

/** Members a trace added to or deleted from a set (its packets' tuples), or that it changed the set unknowably. */
export interface SetOverlay {
  readonly added: Set<string>;
  readonly deleted: Set<string>;
  /** An addition or deletion virtables cannot key exactly (net sets, unknown MACs): later tests are `maybe`. */
  tainted: boolean;
}

/** State a trace changes as it goes (ipset members -j SET adds or deletes), shared by its request and reply. */
export interface TraceMemory {
  readonly sets: Map<string, SetOverlay>;
}

export function freshMemory(): TraceMemory {
  return { sets: new Map() };
}
