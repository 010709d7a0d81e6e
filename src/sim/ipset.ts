// ipset membership as the kernel tests it for `-m set --match-set NAME FLAGS` and changes it for
// `-j SET --add-set/--del-set`: each flag picks the packet's source or destination for one
// dimension; fewer flags than dimensions, or another family, never match; the most specific
// net member decides, and a `nomatch` member refuses (or, with --return-nomatch, is the match).
// A set whose members are not known is never guessed: the caller gets `maybe`.

import { maskOf } from '../model/cidr.js';
import {
  IPSET_TYPES,
  ipsetAddressMask,
  ipsetOption,
  type IpSet,
  type IpsetDim,
  type IpsetMember,
  type IpsetPart,
  type IpsetSave,
} from '../model/ipset.js';
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, type MatchCtx, type SetOverlay } from './packet.js';

/** A lookup's answer: no member, a member, a `nomatch` member, or cannot tell for this packet. */
export const NONE = 0;
export const FOUND = 1;
export const NOMATCH = 2;
export const MAYBE = 3;
export type Lookup = typeof NONE | typeof FOUND | typeof NOMATCH | typeof MAYBE;

/** `src,dst,…`: true where the dimension takes the packet's source. */
export type SetFlags = readonly boolean[];

export function parseSetFlags(text: string): SetFlags | null {
  const parts = text.split(',');
  if (parts.length === 0 || parts.length > 6 || parts.some((p) => p !== 'src' && p !== 'dst')) return null;
  return parts.map((p) => p === 'src');
}

const PROTO_SCTP = 132;
const PROTO_UDPLITE = 136;

/** The packet's port for a port dimension, as ip_set_get_ip_port reads it (ICMP: type << 8 | code). */
function packetPort(c: MatchCtx, src: boolean): number {
  switch (c.proto) {
    case PROTO_TCP:
    case PROTO_UDP:
    case PROTO_SCTP:
    case PROTO_UDPLITE:
      return src ? c.sport : c.dport;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      return c.icmpType < 0 ? 0 : (c.icmpType << 8) | c.icmpCode;
    default:
      return 0;
  }
}

/** Does one member part hold the packet's value for its dimension? MAYBE when the packet does not tell. */
function partHolds(p: IpsetPart, c: MatchCtx, src: boolean, addrMask: bigint | null, markmask: number): Lookup {
  switch (p.kind) {
    case 'ip': {
      const a = src ? c.src : c.dst;
      const v = addrMask === null ? a : a & addrMask;
      return v >= p.lo && v <= p.hi ? FOUND : NONE;
    }
    case 'net': {
      const a = src ? c.src : c.dst;
      return (a & maskOf(p.cidr.family, p.cidr.prefix)) === p.cidr.network ? FOUND : NONE;
    }
    case 'port': {
      if (p.proto === null) {
        // bitmap:port: only TCP and UDP carry a port it can test.
        if (c.proto !== PROTO_TCP && c.proto !== PROTO_UDP) return NONE;
      } else if (p.proto !== c.proto) return NONE;
      const port = packetPort(c, src);
      return port >= p.lo && port <= p.hi ? FOUND : NONE;
    }
    case 'mac': {
      // The destination MAC, and a source MAC the topology does not give, are not known.
      if (!src || c.srcMac === null) return MAYBE;
      return p.mac === null || p.mac === c.srcMac ? FOUND : NONE;
    }
    case 'iface': {
      // A packet carries no physdev flag for the lookup: physdev: members are never found from a rule.
      if (p.physdev) return NONE;
      const dev = src ? c.inIface : c.outIface;
      return dev !== '' && dev === p.name ? FOUND : NONE;
    }
    case 'mark':
      return (c.mark & markmask) >>> 0 === p.mark ? FOUND : NONE;
    case 'set':
      return NONE;
  }
}

/** Specificity of a member for "the most specific net member decides": its net prefixes, in order. */
function prefixes(m: IpsetMember): number[] {
  return m.parts.flatMap((p) => (p.kind === 'net' ? [p.cidr.prefix] : []));
}

function moreSpecific(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/** A set prepared for lookups: members indexed by their first part. */
export interface CompiledSet {
  readonly set: IpSet;
  readonly dims: readonly IpsetDim[];
  /** Members whose parts can only be compared exactly (no net dimension): the overlay can hold additions. */
  readonly exact: boolean;
  lookup(c: MatchCtx, flags: SetFlags): Lookup;
}

function compileSet(set: IpSet): CompiledSet {
  const info = IPSET_TYPES[set.type]!;
  const addrMask = ipsetAddressMask(set);
  const markmask = Number(ipsetOption(set.options, 'markmask')?.value ?? 0xffffffff) >>> 0;
  const first = info.dims[0]!;
  // Single addresses by value (blocklists hold 10^5 of them); everything else scanned.
  const byAddress = new Map<bigint, IpsetMember[]>();
  const netLevels = new Map<number, Map<bigint, IpsetMember[]>>();
  const rest: IpsetMember[] = [];
  for (const m of set.members) {
    const p = m.parts[0]!;
    if (first === 'ip' && p.kind === 'ip' && p.lo === p.hi) {
      const list = byAddress.get(p.lo);
      if (list) list.push(m);
      else byAddress.set(p.lo, [m]);
    } else if (p.kind === 'net') {
      let level = netLevels.get(p.cidr.prefix);
      if (!level) netLevels.set(p.cidr.prefix, (level = new Map()));
      const list = level.get(p.cidr.network);
      if (list) list.push(m);
      else level.set(p.cidr.network, [m]);
    } else rest.push(m);
  }
  const levels = [...netLevels.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([prefix, map]) => ({ mask: maskOf(set.family ?? 4, prefix), map }));
  const candidates = (c: MatchCtx, src: boolean): IpsetMember[] => {
    if (first === 'net') {
      const a = src ? c.src : c.dst;
      const out: IpsetMember[] = [];
      for (const l of levels) {
        const hit = l.map.get(a & l.mask);
        if (hit) for (const m of hit) out.push(m);
      }
      return out;
    }
    if (byAddress.size > 0) {
      const a = src ? c.src : c.dst;
      const hit = byAddress.get(addrMask === null ? a : a & addrMask);
      return hit ? (rest.length > 0 ? [...hit, ...rest] : hit) : rest;
    }
    return rest;
  };
  return {
    set,
    dims: info.dims,
    exact: !info.dims.includes('net'),
    lookup(c, flags) {
      let best: IpsetMember | null = null;
      let bestSpec: number[] = [];
      let unsure = false;
      for (const m of candidates(c, flags[0]!)) {
        let r: Lookup = FOUND;
        for (let k = 0; k < m.parts.length && r !== NONE; k++) {
          const h = partHolds(m.parts[k]!, c, flags[k]!, addrMask, markmask);
          if (h === NONE) r = NONE;
          else if (h === MAYBE) r = MAYBE;
        }
        if (r === NONE) continue;
        if (r === MAYBE) {
          unsure = true;
          continue;
        }
        const spec = prefixes(m);
        if (best === null || moreSpecific(spec, bestSpec)) {
          best = m;
          bestSpec = spec;
        }
      }
      if (unsure) return MAYBE;
      if (best === null) return NONE;
      return best.nomatch ? NOMATCH : FOUND;
    },
  };
}

/** Sets by name, compiled on first use. */
export interface IpsetIndex {
  readonly save: IpsetSave;
  get(name: string): CompiledSet | undefined;
}

export function indexIpsets(save: IpsetSave): IpsetIndex {
  const byName = new Map(save.sets.map((s) => [s.name, s]));
  const compiled = new Map<string, CompiledSet>();
  return {
    save,
    get(name) {
      let c = compiled.get(name);
      if (!c) {
        const s = byName.get(name);
        if (!s) return undefined;
        compiled.set(name, (c = compileSet(s)));
      }
      return c;
    },
  };
}

// --- what a trace changes: -j SET --add-set / --del-set ---------------------------------------

/** The packet's tuple for a set, as a key comparable with a member's; null when it has no exact one. */
export function packetKey(s: CompiledSet, c: MatchCtx, flags: SetFlags): string | null {
  if (!s.exact) return null;
  const addrMask = ipsetAddressMask(s.set);
  const parts: string[] = [];
  for (let k = 0; k < s.dims.length; k++) {
    const src = flags[k]!;
    switch (s.dims[k]!) {
      case 'ip': {
        const a = src ? c.src : c.dst;
        parts.push(`ip ${addrMask === null ? a : a & addrMask}`);
        break;
      }
      case 'port':
        parts.push(`port ${s.set.type === 'bitmap:port' ? '*' : c.proto} ${packetPort(c, src)}`);
        break;
      case 'mac':
        if (!src || c.srcMac === null) return null;
        parts.push(`mac ${c.srcMac}`);
        break;
      case 'iface': {
        const dev = src ? c.inIface : c.outIface;
        if (dev === '') return null;
        parts.push(`iface ${dev}`);
        break;
      }
      case 'mark':
        parts.push(`mark ${c.mark}`);
        break;
      default:
        return null;
    }
  }
  return parts.join(',');
}

/** A member's key in packetKey's form; null for members that are ranges (a packet never equals one exactly). */
function memberKey(m: IpsetMember, bitmapPort: boolean): string | null {
  const parts: string[] = [];
  for (const p of m.parts) {
    switch (p.kind) {
      case 'ip':
        if (p.lo !== p.hi) return null;
        parts.push(`ip ${p.lo}`);
        break;
      case 'port':
        if (p.lo !== p.hi) return null;
        parts.push(`port ${bitmapPort ? '*' : p.proto} ${p.lo}`);
        break;
      case 'mac':
        if (p.mac === null) return null;
        parts.push(`mac ${p.mac}`);
        break;
      case 'iface':
        if (p.physdev) return null;
        parts.push(`iface ${p.name}`);
        break;
      case 'mark':
        parts.push(`mark ${p.mark}`);
        break;
      default:
        return null;
    }
  }
  return parts.join(',');
}

/** Family and dimension checks ip_set_test makes before looking: fewer flags than dimensions never match. */
function applies(s: CompiledSet, c: MatchCtx, flags: SetFlags): boolean {
  return flags.length >= s.dims.length && (s.set.family === null || s.set.family === c.family);
}

export interface SetMatchOptions {
  readonly returnNomatch: boolean;
}

/** `-m set --match-set NAME FLAGS` before its `!`: FOUND (matches), NONE (does not), MAYBE. */
export function testSet(
  index: IpsetIndex,
  name: string,
  flags: SetFlags,
  c: MatchCtx,
  options: SetMatchOptions,
  overlay: ReadonlyMap<string, SetOverlay> | null,
  depth = 0,
): Lookup {
  const s = index.get(name);
  if (!s) return MAYBE;
  if (s.set.type === 'list:set') {
    // Each member set in order with the same flags; the first that matches decides.
    if (flags.length < 1 || depth > 8) return NONE;
    let unsure = false;
    for (const m of s.set.members) {
      const r = testSet(index, (m.parts[0] as { name: string }).name, flags, c, options, overlay, depth + 1);
      if (r === FOUND) return unsure ? MAYBE : FOUND;
      if (r === MAYBE) unsure = true;
    }
    return unsure ? MAYBE : NONE;
  }
  if (!applies(s, c, flags)) return NONE;
  const o = overlay?.get(name);
  let r: Lookup;
  if (o?.tainted) return MAYBE;
  const key = o && (o.added.size > 0 || o.deleted.size > 0) ? packetKey(s, c, flags) : null;
  if (key !== null && o!.added.has(key)) r = FOUND;
  else if (key !== null && o!.deleted.has(key)) r = NONE;
  else r = s.lookup(c, flags);
  if (r === MAYBE) return MAYBE;
  const nomatchType = IPSET_TYPES[s.set.type]!.nomatch;
  if (options.returnNomatch && nomatchType) return r === NOMATCH ? FOUND : NONE;
  return r === FOUND ? FOUND : NONE;
}

/** `-j SET --add-set/--del-set NAME FLAGS` on the trace's overlay. */
export function changeSet(
  index: IpsetIndex | null,
  op: 'add' | 'del',
  name: string,
  flags: SetFlags,
  c: MatchCtx,
  overlay: Map<string, SetOverlay>,
): void {
  let o = overlay.get(name);
  if (!o) overlay.set(name, (o = { added: new Set(), deleted: new Set(), tainted: false }));
  const s = index?.get(name);
  if (!s || s.set.type === 'list:set' || !applies(s, c, flags)) {
    // list:set adds to its first member that takes it; an unknown set stays unknown anyway.
    if (!s || s.set.type === 'list:set') o.tainted = true;
    return;
  }
  const key = packetKey(s, c, flags);
  if (key === null) {
    o.tainted = true;
    return;
  }
  if (op === 'add') {
    o.deleted.delete(key);
    o.added.add(key);
  } else {
    o.added.delete(key);
    // Deleting a member the save holds as a range or CIDR is not exact.
    if (s.set.members.some((m) => memberKey(m, s.set.type === 'bitmap:port') === null)) o.tainted = true;
    o.deleted.add(key);
  }
}
