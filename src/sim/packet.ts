// What a rule sees of a packet at one hook: the header fields, the devices, the bridge port
// information br_netfilter attaches, and the conntrack entry. One mutable object per trace,
// updated as the packet moves, so compiled rules read plain fields.

import type { IpFamily } from '../model/cidr.js';
import type { Rule } from '../model/dump.js';
import type { NftRule } from '../model/nft.js';

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
  INVALID: ST_INVALID,
  NEW: ST_NEW,
  ESTABLISHED: ST_ESTABLISHED,
  RELATED: ST_RELATED,
  UNTRACKED: ST_UNTRACKED,
  SNAT: ST_SNAT,
  DNAT: ST_DNAT,
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
  /** The connection existed before the trace (`--state ESTABLISHED`): its mark is not known until a rule sets it. */
  markUnknown?: boolean;
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
  /** The devices' numbers (deviceId), kept by setting inIface and outIface. */
  readonly inId: number;
  readonly outId: number;
  /**
   * br_netfilter bridge information exists (the packet came in through a bridge port with bridge-nf-call-iptables on).
   */
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

/**
 * Device names as small numbers: a rule's exact `-i`/`-o` name and a packet's device compare, and index a chain's
 * rules, without reading either string (a trace of a 100,000-rule dump waits on memory more than it computes). Every
 * name a rule or a packet carries is numbered the first time it is seen, so equal names have equal numbers whichever
 * came first (a chain is compiled when a packet first reaches it).
 */
const deviceIds = new Map<string, number>();

export function deviceId(name: string): number {
  let id = deviceIds.get(name);
  if (id === undefined) deviceIds.set(name, (id = deviceIds.size));
  return id;
}

/** A packet's context with a fresh state: its devices' numbers follow their names. */
export class PacketCtx implements MatchCtx {
  hook: Hook = 'PREROUTING';
  table = 'raw';
  src = 0n;
  dst = 0n;
  proto = 0;
  sport = -1;
  dport = -1;
  icmpType = -1;
  icmpCode = -1;
  tcpFlags = 0;
  mark = 0;
  private inName = '';
  private outName = '';
  inId = deviceId('');
  outId = deviceId('');
  bridged = false;
  physIn: string | null = null;
  physOut: string | null = null;
  ctState = ST_INVALID;
  ctDir: 0 | 1 = 0;
  flow: Flow | null = null;
  pktType: PacketType = 'unicast';
  srcMac: string | null = null;

  constructor(
    readonly family: IpFamily,
    readonly addrType: MatchCtx['addrType'],
    public memory: TraceMemory,
  ) {}

  get inIface(): string {
    return this.inName;
  }
  set inIface(name: string) {
    if (name === this.inName) return;
    this.inName = name;
    this.inId = deviceId(name);
  }
  get outIface(): string {
    return this.outName;
  }
  set outIface(name: string) {
    if (name === this.outName) return;
    this.outName = name;
    this.outId = deviceId(name);
  }
}

/** Members a trace added to or deleted from a set (its packets' tuples), or that it changed the set unknowably. */
export interface SetOverlay {
  readonly added: Set<string>;
  readonly deleted: Set<string>;
  /** An addition or deletion virtables cannot key exactly (net sets, unknown MACs): later tests are `maybe`. */
  tainted: boolean;
}

/** A `-m recent` list as far as a trace changed it: hits it added per address, addresses it removed. */
export interface RecentOverlay {
  readonly hits: Map<bigint, number>;
  readonly removed: Set<bigint>;
}

/** State a trace changes as it goes (ipset members, recent lists), shared by its request and reply. */
export interface TraceMemory {
  readonly sets: Map<string, SetOverlay>;
  /** By `--name` and family (`DEFAULT/4`). */
  readonly recent: Map<string, RecentOverlay>;
  /** Set when the simulator explores both outcomes of conditions it cannot decide; null: they are "unknown". */
  explorer: Explorer | null;
}

export function freshMemory(explorer: Explorer | null = null): TraceMemory {
  return { sets: new Map(), recent: new Map(), explorer };
}

/** Thrown by a test that finds, for this packet, it cannot decide (caught by the chain walker). */
export class UnknownAtRuntime extends Error {}

/**
 * The rule a condition belongs to: an iptables rule, or an nft rule and the file it was read from (a CompiledRule is
 * one).
 */
export interface RuleRef {
  readonly rule: Rule | null;
  readonly nft: { readonly rule: NftRule; readonly file: string } | null;
}

/** A condition a trace could not decide, and the side this run of the trace took. */
export interface Choice {
  readonly why: string;
  readonly rule: RuleRef;
  readonly table: string;
  readonly chain: string;
  readonly hook: Hook;
  /** Taken by the reply rather than the first packet. */
  readonly reply: boolean;
  /** The condition held (the match matched). */
  readonly matched: boolean;
}

/**
 * One run of a trace down one path of undecided conditions: the first `forced.length` take the
 * given sides, later ones "does not match"; every side taken is in `taken`.
 */
export interface Explorer {
  readonly forced: readonly boolean[];
  readonly taken: Choice[];
  /** The rule being tested and its chain (the chain walker sets them before each test). */
  rule: RuleRef | null;
  chain: { readonly table: string; readonly name: string } | null;
  reply: boolean;
}

export function explorer(forced: readonly boolean[]): Explorer {
  return { forced, taken: [], rule: null, chain: null, reply: false };
}

/**
 * A condition the packet alone does not decide: the side the explorer takes, or (not exploring)
 * UnknownAtRuntime with `why`.
 */
export function undecided(c: MatchCtx, why: string): boolean {
  const x = c.memory.explorer;
  if (x === null || x.rule === null || x.chain === null) throw new UnknownAtRuntime(why);
  const i = x.taken.length;
  const matched = i < x.forced.length ? x.forced[i]! : false;
  x.taken.push({ why, rule: x.rule, table: x.chain.table, chain: x.chain.name, hook: c.hook, reply: x.reply, matched });
  return matched;
}
