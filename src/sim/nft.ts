// nft rules for the simulator: each rule of an `nft list ruleset` becomes the same compiled
// form iptables rules take (one predicate closure, a target, and the statements that change
// the packet on the way), each base chain a BaseChain at its hook and priority. Expressions are
// evaluated as the kernel does for the packets virtables traces: a header field the packet does
// not have fails the rule (nft's implicit protocol dependency), `iif` compares the device (its
// index, named by the listing), `iifname` the name with `*` wildcards. Anything else — an
// expression, a statement or a set virtables cannot evaluate exactly — makes the rule "unknown
// because of …", never a guess.

import { maskOf, parseHost, type IpFamily } from '../model/cidr.js';
import type {
  NftChain,
  NftExpr,
  NftFamily,
  NftMatch,
  NftNat,
  NftReject,
  NftRule,
  NftRuleset,
  NftSet,
  NftStatement,
  NftTable,
} from '../model/nft.js';
import { protocolNumber, SERVICE_PORTS } from '../model/protocols.js';
import { SYMBOL_VALUES } from '../model/nft-types.js';
import { ICMP_TYPES, ICMPV6_TYPES } from '../model/protocols.js';
import { nftExprText, nftStatementText } from '../write/nft-rule.js';
import { NO_ENV, type EvalEnv } from './env.js';
import { all, UnknownAtRuntime, type Test } from './matches.js';
import {
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  ST_ESTABLISHED,
  ST_INVALID,
  ST_NEW,
  ST_RELATED,
  ST_UNTRACKED,
  undecided,
  type Hook,
  type MatchCtx,
} from './packet.js';
import type { BaseChain, CidrKey, CompiledChain, CompiledRule, RuleKeys } from './ruleset.js';
import type { CompiledTarget, NatRange } from './targets.js';

type Val = number | bigint | string;

/** A field read from the packet: null when the packet has no such header (the rule does not match). */
interface Key {
  readonly what: string;
  readonly type: ValueType;
  /** The address family of an address field (`ip saddr` is IPv4 in any table). */
  readonly af?: IpFamily;
  readonly get: (c: MatchCtx) => Val | null;
}

type ValueType =
  | 'addr'
  | 'port'
  | 'proto'
  | 'iface'
  | 'ifindex'
  | 'mark'
  | 'ctstate'
  | 'ctstatus'
  | 'ctdir'
  | 'nfproto'
  | 'pkttype'
  | 'icmptype'
  | 'icmpv6type'
  | 'code'
  | 'tcpflags'
  | 'fibtype'
  | 'ethertype'
  | 'iftype'
  | 'number';

class Unknown extends Error {}

const unknown = (why: string): never => {
  throw new Unknown(why);
};

const HOOKS: Readonly<Record<string, Hook>> = {
  prerouting: 'PREROUTING',
  input: 'INPUT',
  forward: 'FORWARD',
  output: 'OUTPUT',
  postrouting: 'POSTROUTING',
};

// --- symbols -------------------------------------------------------------------------------

const CT_STATE: Readonly<Record<string, number>> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const CT_STATUS: Readonly<Record<string, number>> = {
  expected: 1,
  'seen-reply': 2,
  assured: 4,
  confirmed: 8,
  snat: 16,
  dnat: 32,
  dying: 512,
};
/** The status bits a traced packet's connection has for certain: the NAT ones. */
const CT_STATUS_KNOWN = 16 | 32;
const TCP_FLAGS: Readonly<Record<string, number>> = {
  fin: 1,
  syn: 2,
  rst: 4,
  psh: 8,
  ack: 16,
  urg: 32,
  ecn: 64,
  cwr: 128,
};
const NFPROTO: Readonly<Record<string, number>> = { ipv4: 2, ipv6: 10 };
const PKTTYPE: Readonly<Record<string, number>> = { host: 0, unicast: 0, broadcast: 1, multicast: 2, other: 3 };
const CTDIR: Readonly<Record<string, number>> = { original: 0, reply: 1 };
const ETHERTYPE: Readonly<Record<string, number>> = { ip: 0x0800, ip6: 0x86dd, arp: 0x0806, vlan: 0x8100 };
const IFTYPE: Readonly<Record<string, number>> = { ether: 1, loopback: 772 };
const FIBTYPE = new Set([
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
]);

function icmpTypeNumber(name: string, v6: boolean): number | null {
  // nft's own names first (`nd-router-advert`), then iptables' spellings.
  const own = SYMBOL_VALUES[v6 ? 'icmpv6_type' : 'icmp_type']?.[name];
  if (own !== undefined) return own;
  const spelled = (v6 ? ICMPV6_TYPES : ICMP_TYPES)[name];
  if (spelled === undefined || spelled.includes('/')) return null;
  return Number(spelled);
}

/** A constant of the key's type, as the kernel holds it. */
function constant(v: string | number | boolean, key: Key, family: IpFamily): Val {
  const bad = (): never => unknown(`${key.what} ${String(v)}`);
  if (typeof v === 'boolean') return bad();
  if (typeof v === 'number') {
    if (key.type === 'addr' || key.type === 'iface') return bad();
    // An interface index the listing could not name: no device has it now.
    if (key.type === 'ifindex') return `#${v}`;
    return v;
  }
  const table = ((): Readonly<Record<string, number>> | null => {
    switch (key.type) {
      case 'ctstate':
        return CT_STATE;
      case 'ctstatus':
        return CT_STATUS;
      case 'tcpflags':
        return TCP_FLAGS;
      case 'nfproto':
        return NFPROTO;
      case 'pkttype':
        return PKTTYPE;
      case 'ctdir':
        return CTDIR;
      case 'ethertype':
        return ETHERTYPE;
      case 'iftype':
        return IFTYPE;
      case 'port':
        return SERVICE_PORTS;
      default:
        return null;
    }
  })();
  switch (key.type) {
    case 'addr': {
      const a = parseHost(v);
      if (!a || a.family !== (key.af ?? family)) return bad();
      return a.value;
    }
    case 'iface':
    case 'ifindex':
      return v;
    case 'proto':
      return protocolNumber(v) ?? bad();
    case 'icmptype':
    case 'icmpv6type':
      return icmpTypeNumber(v, key.type === 'icmpv6type') ?? bad();
    case 'fibtype':
      return FIBTYPE.has(v) ? v : bad();
    case 'mark':
    case 'number':
    case 'code':
      return /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : bad();
    default: {
      if (/^(0x[0-9a-f]+|\d+)$/i.test(v)) return Number(v);
      const n = table?.[v];
      return n === undefined ? bad() : n;
    }
  }
}

// --- keys ------------------------------------------------------------------------------------

const PORTS = (c: MatchCtx): boolean => c.proto === PROTO_TCP || c.proto === PROTO_UDP;

function portKey(what: string, proto: number | null, field: 'sport' | 'dport'): Key {
  if (proto === null) {
    // `th dport`: the transport header's ports, whatever the protocol; an ICMP header has none.
    return {
      what,
      type: 'port',
      get: (c) => {
        if (PORTS(c)) return c[field];
        if (c.proto === PROTO_ICMP || c.proto === PROTO_ICMPV6)
          throw new UnknownAtRuntime(`${what} on an ICMP packet reads its checksum or id`);
        return null;
      },
    };
  }
  return { what, type: 'port', get: (c) => (c.proto === proto ? c[field] : null) };
}

function payloadKey(protocol: string, field: string, family: IpFamily): Key {
  const what = `${protocol} ${field}`;
  switch (`${protocol} ${field}`) {
    case 'ip saddr':
      return { what, type: 'addr', af: 4, get: (c) => (c.family === 4 ? c.src : null) };
    case 'ip daddr':
      return { what, type: 'addr', af: 4, get: (c) => (c.family === 4 ? c.dst : null) };
    case 'ip protocol':
      return { what, type: 'proto', get: (c) => (c.family === 4 ? c.proto : null) };
    case 'ip version':
      return { what, type: 'number', get: (c) => (c.family === 4 ? 4 : null) };
    case 'ip6 saddr':
      return { what, type: 'addr', af: 6, get: (c) => (c.family === 6 ? c.src : null) };
    case 'ip6 daddr':
      return { what, type: 'addr', af: 6, get: (c) => (c.family === 6 ? c.dst : null) };
    // Traced packets carry no extension headers: the next header is the transport.
    case 'ip6 nexthdr':
      return { what, type: 'proto', get: (c) => (c.family === 6 ? c.proto : null) };
    case 'ip6 version':
      return { what, type: 'number', get: (c) => (c.family === 6 ? 6 : null) };
    case 'tcp sport':
      return portKey(what, PROTO_TCP, 'sport');
    case 'tcp dport':
      return portKey(what, PROTO_TCP, 'dport');
    case 'udp sport':
      return portKey(what, PROTO_UDP, 'sport');
    case 'udp dport':
      return portKey(what, PROTO_UDP, 'dport');
    case 'th sport':
      return portKey(what, null, 'sport');
    case 'th dport':
      return portKey(what, null, 'dport');
    case 'tcp flags':
      return { what, type: 'tcpflags', get: (c) => (c.proto === PROTO_TCP ? c.tcpFlags : null) };
    case 'icmp type':
      return { what, type: 'icmptype', get: (c) => (c.family === 4 && c.proto === PROTO_ICMP ? c.icmpType : null) };
    case 'icmp code':
      return { what, type: 'code', get: (c) => (c.family === 4 && c.proto === PROTO_ICMP ? c.icmpCode : null) };
    case 'icmpv6 type':
      return { what, type: 'icmpv6type', get: (c) => (c.family === 6 && c.proto === PROTO_ICMPV6 ? c.icmpType : null) };
    case 'icmpv6 code':
      return { what, type: 'code', get: (c) => (c.family === 6 && c.proto === PROTO_ICMPV6 ? c.icmpCode : null) };
    case 'ether type':
      return { what, type: 'ethertype', get: (c) => (c.family === 4 ? 0x0800 : 0x86dd) };
    default: {
      // Other protocols' headers are absent from TCP, UDP and ICMP packets; their fields are not evaluated.
      const proto = protocolNumber(protocol);
      if (
        proto !== null &&
        proto !== PROTO_TCP &&
        proto !== PROTO_UDP &&
        proto !== PROTO_ICMP &&
        proto !== PROTO_ICMPV6 &&
        proto > 0
      ) {
        return { what, type: 'number', get: (c) => (c.proto === proto ? unknownAt(what) : null) };
      }
      void family;
      return unknown(what);
    }
  }
}

function unknownAt(what: string): never {
  throw new UnknownAtRuntime(what);
}

/** nft's ct state bits from the simulator's state bit. */
function ctState(c: MatchCtx): number {
  const s = c.ctState;
  return (
    (s & ST_INVALID ? 1 : 0) |
    (s & ST_ESTABLISHED ? 2 : 0) |
    (s & ST_RELATED ? 4 : 0) |
    (s & ST_NEW ? 8 : 0) |
    (s & ST_UNTRACKED ? 64 : 0)
  );
}

function metaKey(key: string): Key {
  const what = ['iif', 'oif', 'iifname', 'oifname', 'mark'].includes(key) ? key : `meta ${key}`;
  switch (key) {
    // Without a device the kernel compares index 0 and the empty name: they equal no device.
    case 'iif':
      return { what, type: 'ifindex', get: (c) => c.inIface };
    case 'oif':
      return { what, type: 'ifindex', get: (c) => c.outIface };
    case 'iifname':
      return { what, type: 'iface', get: (c) => c.inIface };
    case 'oifname':
      return { what, type: 'iface', get: (c) => c.outIface };
    case 'l4proto':
      return { what, type: 'proto', get: (c) => c.proto };
    case 'protocol':
      return { what, type: 'ethertype', get: (c) => (c.family === 4 ? 0x0800 : 0x86dd) };
    case 'nfproto':
      return { what, type: 'nfproto', get: (c) => (c.family === 4 ? 2 : 10) };
    case 'mark':
      return { what, type: 'mark', get: (c) => c.mark };
    case 'pkttype':
      return { what, type: 'pkttype', get: (c) => PKTTYPE[c.pktType === 'unicast' ? 'host' : c.pktType]! };
    case 'iiftype':
      return { what, type: 'iftype', get: (c) => (c.inIface === '' ? unknownAt(what) : c.inIface === 'lo' ? 772 : 1) };
    case 'oiftype':
      return {
        what,
        type: 'iftype',
        get: (c) => (c.outIface === '' ? unknownAt(what) : c.outIface === 'lo' ? 772 : 1),
      };
    default:
      return unknown(what);
  }
}

function ctKey(e: Extract<NftExpr, { kind: 'ct' }>): Key {
  const what = nftExprText(e);
  if (e.dir !== null) {
    const af: IpFamily | undefined = e.family === 'ip' ? 4 : e.family === 'ip6' ? 6 : undefined;
    const tuple = (c: MatchCtx) =>
      c.flow === null || (af !== undefined && c.flow.family !== af)
        ? null
        : e.dir === 'original'
          ? c.flow.orig
          : c.flow.reply;
    switch (e.key) {
      case 'saddr':
      case 'ip saddr':
      case 'ip6 saddr':
        return { what, type: 'addr', af, get: (c) => tuple(c)?.src ?? null };
      case 'daddr':
      case 'ip daddr':
      case 'ip6 daddr':
        return { what, type: 'addr', af, get: (c) => tuple(c)?.dst ?? null };
      case 'proto-src':
        return {
          what,
          type: 'port',
          get: (c) => {
            const t = tuple(c);
            return t && t.sport >= 0 ? t.sport : null;
          },
        };
      case 'proto-dst':
        return {
          what,
          type: 'port',
          get: (c) => {
            const t = tuple(c);
            return t && t.dport >= 0 ? t.dport : null;
          },
        };
      default:
        return unknown(what);
    }
  }
  switch (e.key) {
    // Without a conntrack entry `ct state` still answers (invalid or untracked); other keys fail the rule.
    case 'state':
      return { what, type: 'ctstate', get: ctState };
    case 'status':
      return {
        what,
        type: 'ctstatus',
        get: (c) => (c.flow === null ? null : (c.flow.snat ? 16 : 0) | (c.flow.dnat ? 32 : 0)),
      };
    case 'mark':
      return { what, type: 'mark', get: (c) => (c.flow === null ? null : c.flow.mark) };
    case 'direction':
      return { what, type: 'ctdir', get: (c) => (c.flow === null ? null : c.ctDir) };
    case 'protocol':
      return { what, type: 'proto', get: (c) => (c.flow === null ? null : c.flow.proto) };
    default:
      return unknown(what);
  }
}

function fibKey(e: Extract<NftExpr, { kind: 'fib' }>): Key {
  const what = nftExprText(e);
  if (e.result !== 'type') return unknown(`${what} (a routing lookup)`);
  const flags = new Set(e.flags);
  if (flags.has('mark') || flags.has('saddr') === flags.has('daddr')) return unknown(what);
  const addr: 'src' | 'dst' = flags.has('saddr') ? 'src' : 'dst';
  const dev: 'inIface' | 'outIface' | null = flags.has('iif') ? 'inIface' : flags.has('oif') ? 'outIface' : null;
  return { what, type: 'fibtype', get: (c) => c.addrType(c[addr], dev === null ? null : c[dev]).toLowerCase() };
}

function keyOf(e: NftExpr, family: IpFamily): Key {
  switch (e.kind) {
    case 'payload':
      return payloadKey(e.protocol, e.field, family);
    case 'meta':
      return metaKey(e.key);
    case 'ct':
      return ctKey(e);
    case 'fib':
      return fibKey(e);
    case 'binop': {
      const inner = keyOf(e.left, family);
      if (e.op !== '&' || inner.type === 'addr' || inner.type === 'iface' || inner.type === 'ifindex')
        return unknown(nftExprText(e));
      const mask = bitsOf(inner, e.right, family);
      return {
        what: nftExprText(e),
        type: inner.type,
        get: (c) => {
          const v = inner.get(c);
          return v === null ? null : (Number(v) & mask) >>> 0;
        },
      };
    }
    default:
      return unknown(nftExprText(e));
  }
}

// --- right-hand sides ---------------------------------------------------------------------

type Pred = (v: Val) => boolean;

interface Sets {
  readonly table: NftTable;
  readonly family: IpFamily;
  readonly notes: string[];
  /** `--assume 'limit under|over'`; null: a rate limit is undecided (followed both ways). */
  readonly limit: 'under' | 'over' | null;
}

/** `*` at the end of an interface name makes a prefix match (nft's wildcard); `\*` is a literal star. */
function ifacePred(name: string): Pred {
  if (name.endsWith('*') && !name.endsWith('\\*')) {
    const prefix = name.slice(0, -1);
    return (v) => typeof v === 'string' && v.startsWith(prefix);
  }
  const exact = name.replace(/\\\*$/, '*');
  return (v) => v === exact;
}

function predOf(key: Key, right: NftExpr, sets: Sets): Pred {
  switch (right.kind) {
    case 'value': {
      if (key.type === 'iface' && typeof right.value === 'string') return ifacePred(right.value);
      const want = constant(right.value, key, sets.family);
      if (key.type === 'ifindex' && typeof want === 'string' && want.startsWith('#')) {
        sets.notes.push(
          `${key.what} ${right.value}: no device had that index when the ruleset was listed, so it matches none`,
        );
      }
      return (v) => v === want;
    }
    case 'prefix': {
      if (key.type !== 'addr' || right.addr.kind !== 'value' || typeof right.addr.value !== 'string')
        return unknown(`${key.what} ${nftExprText(right)}`);
      const af = key.af ?? sets.family;
      const a = parseHost(right.addr.value);
      if (!a || a.family !== af) return unknown(`${key.what} ${nftExprText(right)}`);
      const mask = maskOf(af, right.len);
      const net = a.value & mask;
      return (v) => typeof v === 'bigint' && (v & mask) === net;
    }
    case 'range': {
      if (right.low.kind !== 'value' || right.high.kind !== 'value')
        return unknown(`${key.what} ${nftExprText(right)}`);
      const lo = constant(right.low.value, key, sets.family);
      const hi = constant(right.high.value, key, sets.family);
      if (typeof lo === 'string' || typeof hi === 'string') return unknown(`${key.what} ${nftExprText(right)}`);
      return (v) => typeof v !== 'string' && v >= lo && v <= hi;
    }
    case 'set':
      return anyOf(key, right.items, sets);
    case 'elem':
      return predOf(key, right.value, sets);
    case 'setref':
      return anyOf(key, namedSet(right.name, sets, false).elements, sets);
    case 'list': {
      const bits = bitsOf(key, right, sets.family);
      return (v) => v === bits;
    }
    default:
      return unknown(`${key.what} ${nftExprText(right)}`);
  }
}

function anyOf(key: Key, items: readonly NftExpr[], sets: Sets): Pred {
  // Plain values: one hash lookup.
  if (items.every((i) => i.kind === 'value') && key.type !== 'iface') {
    const values = new Set(
      items.map((i) => constant((i as Extract<NftExpr, { kind: 'value' }>).value, key, sets.family)),
    );
    return (v) => values.has(v);
  }
  const preds = items.map((i) => predOf(key, i, sets));
  return (v) => preds.some((p) => p(v));
}

function namedSet(name: string, sets: Sets, map: boolean): NftSet {
  const set = sets.table.sets.find((s) => s.name === name);
  if (!set) return unknown(`@${name} (no such set in table ${sets.table.family} ${sets.table.name})`);
  if ((set.map !== null) !== map)
    return unknown(`@${name} (${map ? 'a set where a map is needed' : 'a map where a set is needed'})`);
  if (set.flags.includes('dynamic'))
    return unknown(`@${name} (packets add its elements: what it holds now is not in the listing)`);
  if (set.flags.includes('timeout'))
    sets.notes.push(`@${name}: elements expire; virtables uses those the listing shows`);
  return set;
}

function bitsOf(key: Key, list: NftExpr, family: IpFamily): number {
  const items = list.kind === 'list' ? list.items : [list];
  let bits = 0;
  for (const i of items) {
    if (i.kind !== 'value') return unknown(`${key.what} ${nftExprText(list)}`);
    const b = constant(i.value, key, family);
    if (typeof b !== 'number') return unknown(`${key.what} ${nftExprText(list)}`);
    bits |= b;
  }
  return bits;
}

function concatKey(
  e: Extract<NftExpr, { kind: 'concat' }>,
  family: IpFamily,
): { keys: Key[]; get: (c: MatchCtx) => Val[] | null } {
  const keys = e.items.map((i) => keyOf(i, family));
  return {
    keys,
    get: (c) => {
      const out: Val[] = [];
      for (const k of keys) {
        const v = k.get(c);
        if (v === null) return null;
        out.push(v);
      }
      return out;
    },
  };
}

/** Elements of a set of concatenations: each element a tuple of per-part predicates. */
function concatPreds(keys: readonly Key[], items: readonly NftExpr[], sets: Sets): Array<readonly Pred[]> {
  return items.map((item) => {
    const inner = item.kind === 'elem' ? item.value : item;
    if (inner.kind !== 'concat' || inner.items.length !== keys.length)
      return unknown(`${keys.map((k) => k.what).join(' . ')} ${nftExprText(item)}`);
    return inner.items.map((part, i) => predOf(keys[i]!, part, sets));
  });
}

function matchTest(m: NftMatch, sets: Sets): Test {
  if (m.left.kind === 'concat') {
    const { keys, get } = concatKey(m.left, sets.family);
    const items =
      m.right.kind === 'set'
        ? m.right.items
        : m.right.kind === 'setref'
          ? namedSet(m.right.name, sets, false).elements
          : [m.right];
    const elems = concatPreds(keys, items, sets);
    const hit = (c: MatchCtx): boolean | null => {
      const v = get(c);
      if (v === null) return null;
      return elems.some((ps) => ps.every((p, i) => p(v[i]!)));
    };
    if (m.op === '==') return (c) => hit(c) === true;
    if (m.op === '!=') return (c) => hit(c) === false;
    return unknown(nftStatementText(m));
  }
  const key = keyOf(m.left, sets.family);
  const get = key.get;
  switch (m.op) {
    case 'in': {
      if (!['ctstate', 'ctstatus', 'tcpflags'].includes(key.type)) {
        const p = predOf(key, m.right, sets);
        return (c) => {
          const v = get(c);
          return v !== null && p(v);
        };
      }
      const bits = bitsOf(key, m.right, sets.family);
      if (key.type === 'ctstatus' && (bits & ~CT_STATUS_KNOWN) !== 0) return unknown(nftStatementText(m));
      return (c) => {
        const v = get(c);
        return v !== null && ((v as number) & bits) !== 0;
      };
    }
    case '!': {
      // `ct state ! established`: none of the bits set.
      const bits = bitsOf(key, m.right, sets.family);
      if (key.type === 'ctstatus' && (bits & ~CT_STATUS_KNOWN) !== 0) return unknown(nftStatementText(m));
      return (c) => {
        const v = get(c);
        return v !== null && ((v as number) & bits) === 0;
      };
    }
    case '==':
    case '!=': {
      if (key.type === 'ctstatus') {
        const bits = m.right.kind === 'list' || m.right.kind === 'value' ? bitsOf(key, m.right, sets.family) : -1;
        if (bits < 0 || (bits & ~CT_STATUS_KNOWN) !== 0) return unknown(nftStatementText(m));
      }
      const p = predOf(key, m.right, sets);
      const neg = m.op === '!=';
      return (c) => {
        const v = get(c);
        return v !== null && p(v) !== neg;
      };
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (m.right.kind !== 'value') return unknown(nftStatementText(m));
      const want = constant(m.right.value, key, sets.family);
      if (typeof want === 'string') return unknown(nftStatementText(m));
      const op = m.op;
      return (c) => {
        const v = get(c);
        if (v === null || typeof v === 'string') return false;
        return op === '<' ? v < want : op === '>' ? v > want : op === '<=' ? v <= want : v >= want;
      };
    }
    default:
      return unknown(nftStatementText(m));
  }
}

// --- rule keys (for the chain index) ------------------------------------------------------

function keysOf(statements: readonly NftStatement[], family: IpFamily): RuleKeys {
  let inIf: string | null = null;
  let outIf: string | null = null;
  let proto: number | null = null;
  let dport: number[] | null = null;
  let src: CidrKey | null = null;
  let dst: CidrKey | null = null;
  for (const s of statements) {
    if (s.kind !== 'match') {
      // Only matches before anything that changes the packet narrow it down.
      if (s.kind === 'counter' || s.kind === 'log') continue;
      break;
    }
    if (s.op !== '==' || s.right.kind === 'setref') continue;
    const l = s.left;
    const r = s.right;
    const str = r.kind === 'value' && typeof r.value === 'string' ? r.value : null;
    if (l.kind === 'meta' && (l.key === 'iif' || l.key === 'iifname') && str !== null && !str.endsWith('*')) inIf = str;
    else if (l.kind === 'meta' && (l.key === 'oif' || l.key === 'oifname') && str !== null && !str.endsWith('*'))
      outIf = str;
    else if (
      (l.kind === 'meta' && l.key === 'l4proto') ||
      (l.kind === 'payload' && (l.field === 'protocol' || l.field === 'nexthdr'))
    ) {
      const n =
        r.kind === 'value'
          ? typeof r.value === 'number'
            ? r.value
            : typeof r.value === 'string'
              ? protocolNumber(r.value)
              : null
          : null;
      if (n !== null && n > 0) proto = n;
    } else if (l.kind === 'payload' && (l.protocol === 'tcp' || l.protocol === 'udp') && l.field === 'dport') {
      proto = l.protocol === 'tcp' ? PROTO_TCP : PROTO_UDP;
      const vals = r.kind === 'value' ? [r] : r.kind === 'set' ? r.items : null;
      if (vals && vals.every((v) => v.kind === 'value' && typeof v.value === 'number'))
        dport = vals.map((v) => (v as { value: number }).value);
    } else if (
      l.kind === 'payload' &&
      (l.protocol === 'ip' || l.protocol === 'ip6') &&
      (l.field === 'saddr' || l.field === 'daddr')
    ) {
      if ((l.protocol === 'ip') !== (family === 4)) continue;
      let k: CidrKey | null = null;
      if (r.kind === 'prefix' && r.addr.kind === 'value' && typeof r.addr.value === 'string' && r.len > 0) {
        const a = parseHost(r.addr.value);
        if (a && a.family === family) k = { prefix: r.len, network: a.value & maskOf(family, r.len) };
      } else if (str !== null) {
        const a = parseHost(str);
        if (a && a.family === family) k = { prefix: family === 4 ? 32 : 128, network: a.value };
      }
      if (l.field === 'saddr') src = k ?? src;
      else dst = k ?? dst;
    }
  }
  return { in: inIf, out: outIf, proto, dport, src, dst };
}

// --- statements -----------------------------------------------------------------------------

const REJECT_ICMP: Readonly<Record<string, string>> = {
  'net-unreachable': 'icmp-net-unreachable',
  'host-unreachable': 'icmp-host-unreachable',
  'prot-unreachable': 'icmp-proto-unreachable',
  'port-unreachable': 'icmp-port-unreachable',
  'net-prohibited': 'icmp-net-prohibited',
  'host-prohibited': 'icmp-host-prohibited',
  'admin-prohibited': 'icmp-admin-prohibited',
  0: 'icmp-net-unreachable',
  1: 'icmp-host-unreachable',
  2: 'icmp-proto-unreachable',
  3: 'icmp-port-unreachable',
  9: 'icmp-net-prohibited',
  10: 'icmp-host-prohibited',
  13: 'icmp-admin-prohibited',
};
const REJECT_ICMPV6: Readonly<Record<string, string>> = {
  'no-route': 'icmp6-no-route',
  'admin-prohibited': 'icmp6-adm-prohibited',
  'addr-unreachable': 'icmp6-addr-unreachable',
  'port-unreachable': 'icmp6-port-unreachable',
  'policy-fail': 'icmp6-policy-fail',
  'reject-route': 'icmp6-reject-route',
  0: 'icmp6-no-route',
  1: 'icmp6-adm-prohibited',
  3: 'icmp6-addr-unreachable',
  4: 'icmp6-port-unreachable',
  5: 'icmp6-policy-fail',
  6: 'icmp6-reject-route',
};
/** icmpx: one code for both families (nft_reject_icmpx_code). */
const REJECT_ICMPX: Readonly<Record<string, readonly [string, string]>> = {
  'port-unreachable': ['icmp-port-unreachable', 'icmp6-port-unreachable'],
  'admin-prohibited': ['icmp-admin-prohibited', 'icmp6-adm-prohibited'],
  'no-route': ['icmp-net-unreachable', 'icmp6-no-route'],
  'host-unreachable': ['icmp-host-unreachable', 'icmp6-addr-unreachable'],
};

/** What `reject` sends (measured: a bare `reject` answers a TCP SYN with ICMP port-unreachable, not a reset). */
function rejectTarget(s: NftReject, family: IpFamily, tcpOnly: boolean): { target: CompiledTarget; test: Test | null } {
  const v4 = family === 4;
  const code = s.code === null ? 'port-unreachable' : String(s.code);
  switch (s.type) {
    case null:
      return { target: { kind: 'reject', with: v4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable' }, test: null };
    case 'tcp reset':
      if (!tcpOnly)
        return unknown('reject with tcp reset on a rule that also matches other protocols (those are dropped)');
      return { target: { kind: 'reject', with: 'tcp-reset' }, test: null };
    case 'icmpx': {
      const both = REJECT_ICMPX[code];
      return both ? { target: { kind: 'reject', with: both[v4 ? 0 : 1] }, test: null } : unknown(nftStatementText(s));
    }
    case 'icmp':
    case 'icmpv6': {
      // `reject with icmp …` in an inet table applies to IPv4 packets only (and icmpv6 to IPv6).
      if ((s.type === 'icmp') !== v4) return { target: { kind: 'drop' }, test: () => false };
      const w = (v4 ? REJECT_ICMP : REJECT_ICMPV6)[code];
      return w ? { target: { kind: 'reject', with: w }, test: null } : unknown(nftStatementText(s));
    }
  }
}

function natValue(e: NftExpr, family: IpFamily, what: string): [bigint, bigint] {
  const host = (x: NftExpr): bigint => {
    if (x.kind !== 'value' || typeof x.value !== 'string') return unknown(what);
    const a = parseHost(x.value);
    return a && a.family === family ? a.value : unknown(what);
  };
  if (e.kind === 'range') return [host(e.low), host(e.high)];
  const a = host(e);
  return [a, a];
}

function natPorts(e: NftExpr | null, what: string): [number, number] | [null, null] {
  if (e === null) return [null, null];
  const port = (x: NftExpr): number =>
    x.kind === 'value' && typeof x.value === 'number'
      ? x.value
      : x.kind === 'value' && typeof x.value === 'string' && SERVICE_PORTS[x.value] !== undefined
        ? SERVICE_PORTS[x.value]!
        : unknown(what);
  if (e.kind === 'range') return [port(e.low), port(e.high)];
  const p = port(e);
  return [p, p];
}

function natTarget(s: NftNat, family: IpFamily, notes: string[]): { target: CompiledTarget; test: Test | null } {
  const what = nftStatementText(s);
  // `snat ip to …` in an inet table: for IPv4 packets only.
  const test: Test | null = s.family !== null && (s.family === 'ip') !== (family === 4) ? () => false : null;
  if (s.flags.includes('netmap')) {
    if (s.addr?.kind !== 'prefix') return unknown(what);
    const [net] = natValue(s.addr.addr, family, what);
    return { target: { kind: 'netmap', prefix: s.addr.len, network: net & maskOf(family, s.addr.len) }, test };
  }
  for (const f of s.flags)
    if (f === 'random' || f === 'fully-random' || f === 'persistent')
      notes.push(`${s.nat} ${f}: the port the kernel picks is not predictable; virtables shows the first of the range`);
  const [portLo, portHi] = natPorts(s.port, what);
  switch (s.nat) {
    case 'masquerade':
    case 'redirect': {
      if (s.addr !== null) return unknown(what);
      const range: NatRange = { addrLo: null, addrHi: null, portLo, portHi };
      return { target: s.nat === 'masquerade' ? { kind: 'masquerade', range } : { kind: 'redirect', range }, test };
    }
    case 'snat':
    case 'dnat': {
      if (s.addr === null) return unknown(what);
      if (s.addr.kind === 'map') return unknown(`${what} (the address comes from a map)`);
      const [addrLo, addrHi] = natValue(s.addr, family, what);
      const range: NatRange = { addrLo, addrHi, portLo, portHi };
      return { target: s.nat === 'snat' ? { kind: 'snat', range } : { kind: 'dnat', range }, test };
    }
  }
}

function mangleEffect(s: Extract<NftStatement, { kind: 'mangle' }>): CompiledTarget | null {
  const k = s.key;
  const v = s.value;
  const num = v.kind === 'value' && typeof v.value === 'number' ? v.value >>> 0 : null;
  if (k.kind === 'meta' && k.key === 'nftrace') return null;
  if (k.kind === 'meta' && k.key === 'mark') {
    if (num !== null) return { kind: 'mark', value: num, mask: 0xffffffff };
    if (v.kind === 'ct' && v.key === 'mark' && v.dir === null)
      return { kind: 'connmark', op: 'restore', nfmask: 0xffffffff, ctmask: 0xffffffff };
  }
  if (k.kind === 'ct' && k.key === 'mark' && k.dir === null) {
    if (num !== null) return { kind: 'connmark', op: 'set', value: num, mask: 0xffffffff };
    if (v.kind === 'meta' && v.key === 'mark')
      return { kind: 'connmark', op: 'save', nfmask: 0xffffffff, ctmask: 0xffffffff };
  }
  return unknown(nftStatementText(s));
}

interface Compiled {
  tests: Test[];
  effects: CompiledTarget[];
  target: CompiledTarget;
  notes: string[];
  /** A match virtables cannot evaluate: the rule's condition is undecided (explored both ways), its action kept. */
  undecided: string | null;
}

function verdictTarget(v: { verdict: string; target: string | null }, isChain: (n: string) => boolean): CompiledTarget {
  switch (v.verdict) {
    case 'accept':
      return { kind: 'accept' };
    case 'drop':
      return { kind: 'drop' };
    case 'return':
      return { kind: 'return' };
    case 'continue':
      return { kind: 'continue', name: null };
    case 'jump':
    case 'goto':
      if (v.target === null || !isChain(v.target))
        return { kind: 'unknown', why: `${v.verdict} to missing chain ${v.target ?? '?'}` };
      return { kind: 'chain', chain: v.target, goto: v.verdict === 'goto' };
    default:
      return unknown(v.verdict);
  }
}

function vmapTarget(
  s: Extract<NftStatement, { kind: 'vmap' }>,
  sets: Sets,
  isChain: (n: string) => boolean,
): CompiledTarget {
  const entries =
    s.data.kind === 'set'
      ? s.data.items
      : s.data.kind === 'setref'
        ? namedSet(s.data.name, sets, true).elements
        : unknown(nftStatementText(s));
  const mappings = entries.map((e) => (e.kind === 'elem' ? e.value : e));
  if (mappings.some((m) => m.kind !== 'mapping' || m.value.kind !== 'verdict')) return unknown(nftStatementText(s));
  const list = mappings as Array<Extract<NftExpr, { kind: 'mapping' }>>;
  const targets = list.map((m) => verdictTarget(m.value as { verdict: string; target: string | null }, isChain));
  if (s.key.kind === 'concat') {
    const { keys, get } = concatKey(s.key, sets.family);
    const elems = concatPreds(
      keys,
      list.map((m) => m.key),
      sets,
    );
    return {
      kind: 'vmap',
      pick: (c) => {
        const v = get(c);
        if (v === null) return null;
        const i = elems.findIndex((ps) => ps.every((p, j) => p(v[j]!)));
        return i < 0 ? null : targets[i]!;
      },
    };
  }
  const key = keyOf(s.key, sets.family);
  const preds = list.map((m) => predOf(key, m.key, sets));
  return {
    kind: 'vmap',
    pick: (c) => {
      const v = key.get(c);
      if (v === null) return null;
      const i = preds.findIndex((p) => p(v));
      return i < 0 ? null : targets[i]!;
    },
  };
}

function compileStatements(rule: NftRule, sets: Sets, isChain: (n: string) => boolean): Compiled {
  const out: Compiled = {
    tests: [],
    effects: [],
    target: { kind: 'continue', name: null },
    notes: [],
    undecided: null,
  };
  const family = sets.family;
  const tcpOnly = keysOf(rule.statements, family).proto === PROTO_TCP;
  let changed = false;
  for (const s of rule.statements) {
    switch (s.kind) {
      case 'match':
        // A match after a statement that changed the packet would see the change: not modelled.
        if (changed) return unknown(`${nftStatementText(s)} after a statement that changes the packet`);
        try {
          const t = matchTest(s, sets);
          if (s.left.kind === 'ct' && s.left.key === 'mark' && s.left.dir === null) {
            // A connection from before the trace carries a mark no input shows: followed both ways.
            const why = `${nftStatementText(s)}: the connection existed before the trace, and its mark is not known`;
            out.tests.push((c) => (c.flow?.markUnknown === true ? undecided(c, why) : t(c)));
          } else out.tests.push(t);
        } catch (e) {
          // Matches only narrow the packets the rule is for: one it cannot evaluate leaves that undecided.
          if (!(e instanceof Unknown)) throw e;
          out.undecided = out.undecided === null ? e.message : `${out.undecided}; ${e.message}`;
        }
        break;
      case 'counter':
        break;
      case 'log':
        out.target = { kind: 'continue', name: 'log' };
        break;
      case 'limit': {
        // Under or over the rate depends on the packets before, as for iptables' -m limit (unless assumed).
        const text = nftStatementText(s);
        if (sets.limit !== null) {
          const holds = (sets.limit === 'under') !== s.inv;
          if (!holds) out.tests.push(() => false);
          out.notes.push(`${text} assumed ${sets.limit} its rate (--assume 'limit ${sets.limit}')`);
        } else {
          const why = `${text}: whether the traffic is under this rate depends on the packets before (--assume 'limit under' or 'limit over')`;
          out.tests.push((c) => undecided(c, why));
        }
        break;
      }
      case 'quota': {
        if (s.name !== null) return unknown(`quota name ${s.name}`);
        const left = s.used < s.val;
        out.notes.push(`quota ${s.val} ${s.valUnit}: ${s.used} used when listed; a traced packet is taken to fit`);
        if (left === s.inv) out.tests.push(() => false);
        break;
      }
      case 'verdict':
        out.target = verdictTarget(s, isChain);
        break;
      case 'reject': {
        const r = rejectTarget(s, family, tcpOnly);
        if (r.test) out.tests.push(r.test);
        out.target = r.target;
        break;
      }
      case 'nat': {
        const r = natTarget(s, family, out.notes);
        if (r.test) out.tests.push(r.test);
        out.target = r.target;
        break;
      }
      case 'mangle': {
        const e = mangleEffect(s);
        if (e) {
          out.effects.push(e);
          changed = true;
        }
        break;
      }
      case 'notrack':
        out.effects.push({ kind: 'notrack' });
        changed = true;
        break;
      case 'vmap':
        out.target = vmapTarget(s, sets, isChain);
        break;
      case 'queue':
        return unknown(`${nftStatementText(s)} (user space decides)`);
      case 'set':
        // Filling a set decides nothing for this packet; a rule reading a dynamic set is unknown itself.
        out.notes.push(`${nftStatementText(s)}: adds to a set as packets pass`);
        break;
      case 'xt': {
        const what = `xt ${s.type} ${s.name} (an iptables extension nft cannot list; the iptables-save of the same table shows it)`;
        if (s.type !== 'match') return unknown(what);
        // A match: a condition virtables cannot decide, followed both ways.
        out.undecided = out.undecided === null ? what : `${out.undecided}; ${what}`;
        break;
      }
      case 'unknown': {
        // `meter NAME { KEY limit rate … } VERDICT`: a per-key rate, undecided as a limit is; its verdict still
        // applies.
        const meter = s.what === 'meter' && s.text ? METER_VERDICT.exec(s.text) : null;
        if (meter) {
          const [verdict, target] = meter[1]!.split(' ') as [string, string | undefined];
          const text = s.text!.slice(0, meter.index + 1);
          out.target = verdictTarget({ verdict, target: target ?? null }, isChain);
          if (sets.limit !== null) {
            if ((sets.limit === 'under') === text.includes('limit rate over')) out.tests.push(() => false);
            out.notes.push(`${text} assumed ${sets.limit} its rate (--assume 'limit ${sets.limit}')`);
            break;
          }
          const why = `${text}: whether this key's traffic is under the meter's rate depends on the packets before (--assume 'limit under' or 'limit over')`;
          out.undecided = out.undecided === null ? why : `${out.undecided}; ${why}`;
          break;
        }
        if (s.what === 'xt')
          return unknown(
            `${s.text ?? 'xt'} (an iptables extension nft cannot list; the iptables-save of the same table shows it)`,
          );
        return unknown(`${s.text ?? s.what} (virtables does not evaluate this statement)`);
      }
    }
  }
  return out;
}

/** The verdict after a meter's braces, as nft lists it (`… } accept`). */
const METER_VERDICT = /\}\s*(accept|drop|return|continue|jump \S+|goto \S+)$/;

// --- chains and tables ------------------------------------------------------------------------

export function nftTableName(t: { family: NftFamily; name: string }): string {
  return `${t.family} ${t.name}`;
}

function compileRule(
  rule: NftRule,
  index: number,
  file: string,
  sets: Sets,
  isChain: (n: string) => boolean,
): CompiledRule {
  const notesAt = sets.notes.length;
  let compiled: Compiled;
  let why: string | null;
  try {
    compiled = compileStatements(rule, sets, isChain);
    why = compiled.undecided;
  } catch (e) {
    if (!(e instanceof Unknown)) throw e;
    why = e.message;
    // What is known of the rule still narrows it: only matches before the unknown part.
    compiled = { tests: [], effects: [], target: { kind: 'continue', name: null }, notes: [], undecided: null };
    const known: NftStatement[] = [];
    for (const s of rule.statements) {
      if (s.kind !== 'match') break;
      try {
        compiled.tests.push(matchTest(s, sets));
        known.push(s);
      } catch (inner) {
        if (!(inner instanceof Unknown)) throw inner;
        break;
      }
    }
    compiled.target = { kind: 'unknown', why };
    // A rule whose unknown part is only an expression, and that only counts or logs, decides nothing.
    const decider = (s: NftStatement): boolean =>
      s.kind === 'verdict' ||
      s.kind === 'reject' ||
      s.kind === 'nat' ||
      s.kind === 'vmap' ||
      s.kind === 'queue' ||
      s.kind === 'unknown' ||
      (s.kind === 'xt' && s.type === 'target');
    if (!rule.statements.some(decider)) {
      compiled.target = { kind: 'continue', name: null };
    }
  }
  const notes = [...compiled.notes, ...sets.notes.slice(notesAt)];
  sets.notes.length = notesAt;
  return {
    rule: null,
    nft: { rule, file },
    index,
    test: all(compiled.tests),
    unknown: why,
    notes,
    keys: keysOf(rule.statements, sets.family),
    target: compiled.target,
    effects: compiled.effects.length > 0 ? compiled.effects : null,
  };
}

export interface NftCompiled {
  readonly chains: Map<string, CompiledChain>;
  readonly bases: BaseChain[];
  /** Base chains at hooks the IP walk does not pass (ingress, egress): they may decide before it. */
  readonly unmodelled: string[];
}

/**
 * Compiles the tables of `family` (and inet). `buildIndex` makes each chain's decision tree;
 * `seqBase` places the chains in the nftables registrar's order (listing order: creation order).
 */
export function compileNft(
  ruleset: NftRuleset,
  family: IpFamily,
  buildIndex: (rules: readonly CompiledRule[]) => CompiledChain['index'],
  skip: (t: NftTable) => boolean,
  env: EvalEnv = NO_ENV,
): NftCompiled {
  const chains = new Map<string, CompiledChain>();
  const bases: BaseChain[] = [];
  const unmodelled: string[] = [];
  let seq = 0;
  ruleset.tables.forEach((table, tableSeq) => {
    const relevant = table.family === 'inet' || table.family === (family === 4 ? 'ip' : 'ip6');
    const dormant = table.flags.includes('dormant');
    if (!relevant) {
      // netdev ingress runs before PREROUTING; bridge hooks see the guests' frames on their bridge ports.
      const early = table.family === 'netdev' || table.family === 'bridge';
      if (early && !dormant && table.chains.some((c) => c.base && decides(c))) unmodelled.push(nftTableName(table));
      seq += table.chains.length;
      return;
    }
    const name = nftTableName(table);
    const names = new Set(table.chains.map((c) => c.name));
    const isChain = (n: string): boolean => names.has(n);
    const sets: Sets = { table, family, notes: [], limit: env.assume.limit };
    const compiledChains: CompiledChain[] = [];
    const byName = new Map<string, CompiledChain>();
    for (const chain of table.chains) {
      const rules = chain.rules.map((r, i) => compileRule(r, i, ruleset.file, sets, isChain));
      const c: CompiledChain = {
        table: name,
        name: chain.name,
        builtin: chain.base !== null,
        policy: chain.base ? chain.base.policy.toUpperCase() : null,
        rules,
        index: buildIndex(rules),
        jumps: [],
        byName,
      };
      compiledChains.push(c);
      byName.set(chain.name, c);
      chains.set(`${name}/${chain.name}`, c);
    }
    for (const c of compiledChains)
      for (const r of c.rules) if (r.target.kind === 'chain') c.jumps[r.index] = byName.get(r.target.chain);
    table.chains.forEach((chain, i) => {
      const b = chain.base;
      seq++;
      if (!b) return;
      const hook = HOOKS[b.hook];
      if (!hook) {
        if (decides(chain) && !dormant) unmodelled.push(`${name} ${chain.name} (hook ${b.hook})`);
        return;
      }
      // A dormant table's hooks are not registered.
      if (skip(table) || dormant) return;
      const c = compiledChains[i]!;
      if (c.rules.length === 0 && c.policy === 'ACCEPT') return;
      bases.push({
        chain: c,
        family: table.family,
        type: b.type,
        hook,
        priority: b.priority,
        registrar: 'nftables',
        seq,
        tableSeq,
      });
    });
  });
  return { chains, bases, unmodelled };
}

function decides(c: NftChain): boolean {
  return c.rules.length > 0 || (c.base !== null && c.base.policy !== 'accept');
}
