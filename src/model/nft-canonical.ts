// A ruleset as the kernel holds it once `nft -f` has loaded it: what `nft list ruleset` then
// prints. nft rewrites what it is given: it drops protocol matches a later header match implies
// (`meta l4proto tcp tcp dport 22` lists as `tcp dport 22`), sorts and merges set elements,
// turns `/32` prefixes into addresses, protocol numbers into names, service names into ports.
// Each rewrite here follows nftables 1.0.6 (netlink_delinearize.c, payload.c, segtree.c) and is
// checked against the kernel in test/kernel/nft-roundtrip.test.ts. A model read from nft's own
// output (text or JSON) comes back unchanged.

import { formatHost, parseHost, type IpFamily } from './cidr.js';
import type { NftExpr, NftFamily, NftRule, NftRuleset, NftSet, NftStatement, NftTable } from './nft.js';
import { BITMASK_TYPES, exprType, INET_PROTO_ALIASES, INET_PROTO_NAMES, SERVICES, valueNumber } from './nft-types.js';

export function canonicalNft(ruleset: NftRuleset): NftRuleset {
  return { ...ruleset, tables: ruleset.tables.map(canonicalTable) };
}

function canonicalTable(t: NftTable): NftTable {
  return {
    ...t,
    sets: t.sets.map((s) => canonicalSet(s)),
    chains: t.chains.map((c) => ({ ...c, rules: c.rules.map((r) => canonicalRule(r)) })),
  };
}

function canonicalSet(s: NftSet): NftSet {
  const type = s.type.length === 1 ? s.type[0]! : null;
  if (s.type.length > 1) {
    // Concatenated keys: values canonical per part, elements in the kernel's order.
    const elements = s.elements.map((e) => canonicalValue(e, null, s.family));
    return { ...s, elements: sortByValue(dedupe(elements), s.type) };
  }
  const mapType = s.map?.length === 1 ? s.map[0]! : null;
  const elements = s.elements.map((e) => canonicalElement(e, type, mapType, s.family));
  // The kernel merges adjacent intervals of anonymous sets; a named set's only with auto-merge.
  const merge = s.unknown.includes('auto-merge');
  return { ...s, elements: normaliseElements(elements, s.type, s.flags.includes('interval'), merge) };
}

// ---------------------------------------------------------------------------------------------
// Rules

export function canonicalRule(rule: NftRule): NftRule {
  const statements = rule.statements.map((s) => canonicalStatement(s, rule.family));
  return { ...rule, statements: dropImpliedMatches(statements, rule.family) };
}

function canonicalStatement(s: NftStatement, family: NftFamily): NftStatement {
  switch (s.kind) {
    case 'match': {
      const type = exprType(s.left, family);
      let right = canonicalValue(s.right, type, family);
      if (s.left.kind === 'concat' && right.kind === 'set')
        right = { kind: 'set', items: sortByValue(right.items, partTypes(s.left, family)) };
      // `ct state { established }` is `ct state established`; one flag of a list is that flag.
      if (right.kind === 'set' && right.items.length === 1 && plainValue(right.items[0]!)) right = right.items[0]!;
      if (right.kind === 'list' && right.items.length === 1) right = right.items[0]!;
      let op = s.op;
      const flags = s.left.kind !== 'binop' && type !== null && BITMASK_TYPES.has(type);
      if (flags && op === '==' && (right.kind === 'list' || right.kind === 'value')) op = 'in';
      return { ...s, op, left: canonicalLeft(s.left, family), right };
    }
    case 'vmap':
      return { ...s, data: canonicalValue(s.data, exprType(s.key, family), family, 'verdict') };
    case 'log':
      return s.level === 'warn' ? { ...s, level: null } : s;
    case 'limit': {
      if (s.rateUnit === 'packets') return s;
      const rate = bytesIn(s.rate, s.rateUnit);
      const burst = bytesIn(s.burst, s.burstUnit);
      return { ...s, rate: rate.value, rateUnit: rate.unit, burst: burst.value, burstUnit: burst.unit };
    }
    case 'quota': {
      const val = bytesIn(s.val, s.valUnit);
      const used = bytesIn(s.used, s.usedUnit);
      return {
        ...s,
        val: val.value,
        valUnit: val.unit,
        used: used.value,
        usedUnit: s.used === 0 ? 'bytes' : used.unit,
      };
    }
    case 'nat':
      return {
        ...s,
        addr: s.addr
          ? canonicalValue(s.addr, s.family === 'ip6' || family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr', family)
          : null,
        port: s.port ? canonicalValue(s.port, 'inet_service', family) : null,
      };
    default:
      return s;
  }
}

function partTypes(e: NftExpr, family: NftFamily): string[] {
  return e.kind === 'concat' ? e.items.map((i) => exprType(i, family) ?? 'unknown') : [];
}

function canonicalLeft(e: NftExpr, family: NftFamily): NftExpr {
  if (e.kind === 'binop') return { ...e, right: canonicalValue(e.right, exprType(e.left, family), family) };
  return e;
}

/** Byte amounts as nft reports them: in the largest unit that divides evenly (datatype.c get_rate). */
export function bytesIn(value: number, unit: string): { value: number; unit: string } {
  const factor: Readonly<Record<string, number>> = { bytes: 1, kbytes: 1024, mbytes: 1024 ** 2, gbytes: 1024 ** 3 };
  let bytes = value * (factor[unit] ?? 1);
  const units = ['bytes', 'kbytes', 'mbytes'];
  let i = 0;
  while (i < units.length - 1 && bytes !== 0 && bytes % 1024 === 0) {
    bytes /= 1024;
    i++;
  }
  return { value: bytes, unit: units[i]! };
}

function plainValue(e: NftExpr): boolean {
  return e.kind === 'value' || e.kind === 'concat';
}

// ---------------------------------------------------------------------------------------------
// Values

function canonicalValue(e: NftExpr, type: string | null, family: NftFamily, mapType: string | null = null): NftExpr {
  switch (e.kind) {
    case 'value':
      return { kind: 'value', value: canonicalScalar(e.value, type) };
    case 'prefix': {
      const addr = e.addr.kind === 'value' && typeof e.addr.value === 'string' ? parseHost(e.addr.value) : null;
      if (addr && e.len === (addr.family === 4 ? 32 : 128))
        return { kind: 'value', value: formatHost(addr.family, addr.value) };
      return e;
    }
    case 'range':
      return { kind: 'range', low: canonicalValue(e.low, type, family), high: canonicalValue(e.high, type, family) };
    case 'list': {
      const items = e.items.map((i) => canonicalValue(i, type, family));
      return { kind: 'list', items: sortByValue(dedupe(items), type) };
    }
    case 'concat':
      return { kind: 'concat', items: e.items.map((i) => canonicalValue(i, null, family)) };
    case 'set': {
      const items = e.items.map((i) => canonicalElement(i, type, mapType, family));
      return {
        kind: 'set',
        items: normaliseElements(items, type === null ? [] : [type], items.some(isInterval), true),
      };
    }
    case 'map':
      return { ...e, data: canonicalValue(e.data, exprType(e.key, family), family, type) };
    case 'mapping':
      return { ...e, key: canonicalValue(e.key, type, family), value: canonicalValue(e.value, mapType, family) };
    case 'elem':
      return { ...e, value: canonicalValue(e.value, type, family) };
    default:
      return e;
  }
}

function canonicalElement(e: NftExpr, type: string | null, mapType: string | null, family: NftFamily): NftExpr {
  if (e.kind === 'mapping')
    return { ...e, key: canonicalValue(e.key, type, family), value: canonicalValue(e.value, mapType, family) };
  return canonicalValue(e, type, family);
}

function canonicalScalar(v: string | number | boolean, type: string | null): string | number | boolean {
  if (type === 'inet_proto') {
    if (typeof v === 'number') return INET_PROTO_NAMES[v] ?? v;
    const n = INET_PROTO_ALIASES[v as string];
    return n !== undefined ? (INET_PROTO_NAMES[n] ?? v) : v;
  }
  if (type === 'inet_service' && typeof v === 'string') return SERVICES[v] ?? v;
  return v;
}

function dedupe(items: NftExpr[]): NftExpr[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Elements in the order nft lists them (mergesort.c): by the key as one big number, where a value
 * is its number (addresses, ports, symbols) and a string or a concatenation is its bytes read
 * little-endian (so `"lo"` comes before `"virbr0"`). Elements whose key virtables cannot compute
 * keep their place.
 */
function sortByValue(items: readonly NftExpr[], types: readonly string[] | string | null): NftExpr[] {
  const list = types === null ? [] : typeof types === 'string' ? [types] : types;
  const keyed = items.map((e, i) => ({ e, i, k: sortKey(e, list) }));
  if (keyed.some((x) => x.k === null)) return [...items];
  return keyed.sort((a, b) => (a.k! < b.k! ? -1 : a.k! > b.k! ? 1 : a.i - b.i)).map((x) => x.e);
}

/** Bytes of a value of a concatenation part, as the kernel stores it; null when unknown. */
const PART_BYTES: Readonly<Record<string, { bytes: number; bigEndian: boolean }>> = {
  ipv4_addr: { bytes: 4, bigEndian: true },
  ipv6_addr: { bytes: 16, bigEndian: true },
  inet_service: { bytes: 2, bigEndian: true },
  inet_proto: { bytes: 1, bigEndian: true },
  ether_addr: { bytes: 6, bigEndian: true },
  ether_type: { bytes: 2, bigEndian: true },
  ifname: { bytes: 16, bigEndian: false },
  mark: { bytes: 4, bigEndian: false },
  iface_index: { bytes: 4, bigEndian: false },
};

function littleEndian(bytes: readonly number[]): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

function partBytes(e: NftExpr, type: string): number[] | null {
  const spec = PART_BYTES[type];
  if (!spec || e.kind !== 'value') return null;
  if (type === 'ifname') return typeof e.value === 'string' ? [...new TextEncoder().encode(e.value)] : null;
  const n = scalarNumber(e, type);
  if (n === null) return null;
  const out: number[] = [];
  let v = n;
  for (let i = 0; i < spec.bytes; i++) {
    out.push(Number(v & 255n));
    v >>= 8n;
  }
  return spec.bigEndian ? out.reverse() : out;
}

function scalarNumber(e: NftExpr, type: string | null): bigint | null {
  if (e.kind !== 'value') return null;
  if (typeof e.value === 'string') {
    const host = parseHost(e.value);
    if (host) return host.value;
    if (type === 'ifname' || type === 'string') return littleEndian([...new TextEncoder().encode(e.value)]);
  }
  const n = valueNumber(e.value, type);
  return n === null ? null : BigInt(n);
}

function sortKey(e: NftExpr, types: readonly string[]): bigint | null {
  switch (e.kind) {
    case 'value':
      return scalarNumber(e, types.length === 1 ? types[0]! : null);
    case 'prefix':
    case 'range': {
      const iv = interval(e);
      return iv ? iv.low : null;
    }
    case 'mapping':
      return sortKey(e.key, types);
    case 'elem':
      return sortKey(e.value, types);
    case 'concat': {
      if (types.length !== e.items.length) return null;
      const bytes: number[] = [];
      for (let i = 0; i < e.items.length; i++) {
        const b = partBytes(e.items[i]!, types[i]!);
        if (b === null) return null;
        bytes.push(...b);
      }
      return littleEndian(bytes);
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Interval sets: the kernel keeps ranges; nft lists them merged (segtree.c interval_map_decompose).

function isInterval(e: NftExpr): boolean {
  const inner = e.kind === 'elem' ? e.value : e.kind === 'mapping' ? e.key : e;
  return inner.kind === 'range' || inner.kind === 'prefix';
}

interface Interval {
  readonly low: bigint;
  readonly high: bigint;
  /** Set for addresses: ranges print as prefixes when they are one. */
  readonly family: IpFamily | null;
}

function scalar(e: NftExpr): { value: bigint; family: IpFamily | null } | null {
  if (e.kind !== 'value') return null;
  if (typeof e.value === 'number') return { value: BigInt(e.value), family: null };
  if (typeof e.value === 'string') {
    const h = parseHost(e.value);
    return h ? { value: h.value, family: h.family } : null;
  }
  return null;
}

function interval(e: NftExpr): Interval | null {
  if (e.kind === 'value') {
    const s = scalar(e);
    return s ? { low: s.value, high: s.value, family: s.family } : null;
  }
  if (e.kind === 'range') {
    const low = scalar(e.low);
    const high = scalar(e.high);
    return low && high && low.family === high.family ? { low: low.value, high: high.value, family: low.family } : null;
  }
  if (e.kind === 'prefix') {
    const a = scalar(e.addr);
    if (!a || a.family === null) return null;
    const bits = BigInt(a.family === 4 ? 32 : 128);
    const hostBits = bits - BigInt(e.len);
    const size = 1n << hostBits;
    const low = (a.value >> hostBits) << hostBits;
    return { low, high: low + size - 1n, family: a.family };
  }
  return null;
}

function intervalExpr(iv: Interval): NftExpr {
  const value = (v: bigint): NftExpr => ({ kind: 'value', value: iv.family ? formatHost(iv.family, v) : Number(v) });
  if (iv.low === iv.high) return value(iv.low);
  if (iv.family) {
    const size = iv.high - iv.low + 1n;
    const bits = iv.family === 4 ? 32 : 128;
    if ((size & (size - 1n)) === 0n && iv.low % size === 0n) {
      const len = bits - (size.toString(2).length - 1);
      return { kind: 'prefix', addr: value(iv.low), len };
    }
  }
  return { kind: 'range', low: value(iv.low), high: value(iv.high) };
}

function normaliseElements(items: NftExpr[], types: readonly string[], intervals: boolean, merge: boolean): NftExpr[] {
  if (!intervals || !merge || items.some((i) => i.kind === 'mapping' || i.kind === 'elem' || i.kind === 'concat')) {
    return sortByValue(dedupe(items), types);
  }
  const ivs = items.map(interval);
  if (ivs.some((x) => x === null)) return sortByValue(dedupe(items), types);
  const sorted = (ivs as Interval[]).slice().sort((a, b) => (a.low < b.low ? -1 : a.low > b.low ? 1 : 0));
  const merged: Interval[] = [];
  for (const iv of sorted) {
    const last = merged[merged.length - 1];
    if (last && iv.low <= last.high + 1n)
      merged[merged.length - 1] = { ...last, high: iv.high > last.high ? iv.high : last.high };
    else merged.push(iv);
  }
  return merged.map(intervalExpr);
}

// ---------------------------------------------------------------------------------------------
// Implied protocol matches (payload.c payload_dependency_kill, netlink_delinearize.c)

type Base = 'll' | 'network' | 'transport';

const PAYLOAD_BASE: Readonly<Record<string, Base>> = {
  ether: 'll',
  vlan: 'll',
  arp: 'network',
  ip: 'network',
  ip6: 'network',
  tcp: 'transport',
  udp: 'transport',
  udplite: 'transport',
  sctp: 'transport',
  dccp: 'transport',
  icmp: 'transport',
  icmpv6: 'transport',
  igmp: 'transport',
  ah: 'transport',
  esp: 'transport',
  comp: 'transport',
  th: 'transport',
};

/** Matches that select the next header's protocol, and the base of the header they select. */
function selects(s: NftStatement): Base | null {
  if (s.kind !== 'match' || s.op !== '==' || s.right.kind !== 'value') return null;
  const l = s.left;
  if (l.kind === 'meta')
    return l.key === 'nfproto' || l.key === 'protocol' ? 'network' : l.key === 'l4proto' ? 'transport' : null;
  if (l.kind !== 'payload') return null;
  if ((l.protocol === 'ether' || l.protocol === 'vlan') && l.field === 'type') return 'network';
  if ((l.protocol === 'ip' && l.field === 'protocol') || (l.protocol === 'ip6' && l.field === 'nexthdr'))
    return 'transport';
  return null;
}

type Field = { protocol: string; field: string };

/** The header fields an expression reads (map keys of a NAT address, concatenations, a masked value). */
function payloadsOf(e: NftExpr | null, out: Field[] = []): Field[] {
  if (e === null) return out;
  if (e.kind === 'payload') out.push(e);
  else if (e.kind === 'concat') for (const i of e.items) payloadsOf(i, out);
  else if (e.kind === 'binop') payloadsOf(e.left, out);
  else if (e.kind === 'map') payloadsOf(e.key, out);
  else if (e.kind === 'elem') payloadsOf(e.value, out);
  return out;
}

function fieldsRead(s: NftStatement): Field[] {
  switch (s.kind) {
    case 'match':
      return payloadsOf(s.left);
    case 'nat':
      return [...payloadsOf(s.addr), ...payloadsOf(s.port)];
    case 'vmap':
    case 'mangle':
      return [...payloadsOf(s.key), ...(s.kind === 'mangle' ? payloadsOf(s.value) : [])];
    case 'set':
      return payloadsOf(s.elem);
    default:
      return [];
  }
}

/** Drops the protocol matches nft itself would drop when listing (what it adds back when loading). */
function dropImpliedMatches(statements: NftStatement[], family: NftFamily): NftStatement[] {
  const dropped = new Set<number>();
  const replaced = new Map<number, NftStatement>();
  const deps = new Map<Base, number>();
  const multi = family === 'inet' || family === 'bridge' || family === 'netdev';
  const kill = (base: Base): void => {
    const at = deps.get(base);
    if (at !== undefined) dropped.add(at);
    deps.delete(base);
  };
  statements.forEach((s, i) => {
    for (const p of fieldsRead(s)) {
      const base = PAYLOAD_BASE[p.protocol];
      if (!base) continue;
      const at = deps.get(base);
      if (at !== undefined && payloadMayKill(statements[at]!, p, base, multi)) kill(base);
    }
    if (s.kind === 'match') {
      if (s.left.kind === 'meta' && s.op === '==' && s.right.kind === 'value') {
        const base: Base | null =
          s.left.key === 'l4proto' ? 'network' : s.left.key === 'nfproto' || s.left.key === 'protocol' ? 'll' : null;
        const at = base === 'network' ? deps.get('network') : undefined;
        if (base === 'network' && at !== undefined && metaMayKill(statements[at]!, s.right.value, family))
          kill('network');
      }
      const sel = selects(s);
      if (sel) deps.set(sel, i);
    } else if (s.kind === 'reject') {
      if (!multi && s.type === 'tcp reset') kill('transport');
      const at = deps.get('network');
      const dep = at === undefined ? null : statements[at]!;
      const l3 = dep?.kind === 'match' && dep.right.kind === 'value' ? dep.right.value : null;
      // A bare reject after `meta nfproto ipv4` answers in that family's ICMP (evaluate.c stmt_evaluate_reject).
      if (
        multi &&
        s.type === 'icmpx' &&
        s.code === 'port-unreachable' &&
        (l3 === 'ipv4' || l3 === 'ip' || l3 === 'ipv6' || l3 === 'ip6')
      ) {
        replaced.set(i, { ...s, type: l3 === 'ipv4' || l3 === 'ip' ? 'icmp' : 'icmpv6' });
        kill('network');
      } else if (multi && s.type !== 'icmpx' && s.type !== 'tcp reset') kill('network');
    }
  });
  return statements.flatMap((s, i) => (dropped.has(i) ? [] : [replaced.get(i) ?? s]));
}

function payloadMayKill(dep: NftStatement, p: Field, base: Base, multi: boolean): boolean {
  if (dep.kind !== 'match') return false;
  const d = dep.left;
  if (multi && d.kind === 'payload' && (d.protocol === 'ip' || d.protocol === 'ip6') && base === 'transport')
    return false;
  if (multi && d.kind === 'payload' && PAYLOAD_BASE[d.protocol] === base) return false;
  if (base !== 'transport') return true;
  // The dependency must name this protocol: `meta l4proto udp` does not come from `tcp dport`.
  const want = dep.right.kind === 'value' ? dep.right.value : null;
  if (p.protocol === 'th') return false;
  const names = [p.protocol, p.protocol === 'icmpv6' ? 'ipv6-icmp' : p.protocol];
  if (typeof want !== 'string' || !names.includes(want)) return false;
  // icmp dependencies stay unless the field needs a type (nft keeps `icmp type` matches).
  return p.protocol !== 'icmp' && p.protocol !== 'icmpv6'
    ? true
    : p.field === 'type' || p.field === 'code' || p.field === 'checksum';
}

function metaMayKill(dep: NftStatement, l4proto: string | number | boolean, family: NftFamily): boolean {
  if (dep.kind !== 'match' || dep.right.kind !== 'value') return true;
  const d = dep.left;
  const nfproto =
    d.kind === 'meta' && d.key === 'nfproto'
      ? dep.right.value
      : d.kind === 'payload' && d.protocol === 'ether' && d.field === 'type'
        ? dep.right.value === 'ip'
          ? 'ipv4'
          : dep.right.value === 'ip6'
            ? 'ipv6'
            : null
        : undefined;
  if (nfproto === undefined) return true;
  if (family === 'ip' || family === 'ip6') return (family === 'ip' ? 'ipv4' : 'ipv6') === nfproto;
  if (family !== 'inet' && family !== 'netdev' && family !== 'bridge') return true;
  if (l4proto !== 'icmp' && l4proto !== 'ipv6-icmp') return false;
  return !((nfproto === 'ipv4' && l4proto === 'ipv6-icmp') || (nfproto === 'ipv6' && l4proto === 'icmp'));
}
