// ipset contents as `ipset save` (ipset 7.x) prints them: each set's type, family and create
// options, and its members, every part typed by the set's dimensions. Plain data with positions;
// grammar/ipset.ts builds it, src/sim/ipset.ts tests packets against it.

import { maskOf, parseHost, type Cidr, type IpFamily } from './cidr.js';
import type { SourcePos } from './dump.js';

/** What one dimension of a set's members holds. */
export type IpsetDim = 'ip' | 'net' | 'port' | 'mac' | 'iface' | 'mark' | 'set';

export interface IpsetTypeInfo {
  readonly dims: readonly IpsetDim[];
  /** Members may be flagged `nomatch` (the kernel's IPSET_TYPE_NOMATCH feature: the net types). */
  readonly nomatch: boolean;
  /** bitmap types and list:set take no `family`; hash:mac has none either. */
  readonly family: boolean;
}

/** Every set type ipset 7.x knows (ipset --help lists them with their revisions). */
export const IPSET_TYPES: Readonly<Record<string, IpsetTypeInfo>> = {
  'hash:ip': { dims: ['ip'], nomatch: false, family: true },
  'hash:mac': { dims: ['mac'], nomatch: false, family: false },
  'hash:ip,mac': { dims: ['ip', 'mac'], nomatch: false, family: true },
  'hash:net': { dims: ['net'], nomatch: true, family: true },
  'hash:net,net': { dims: ['net', 'net'], nomatch: true, family: true },
  'hash:ip,port': { dims: ['ip', 'port'], nomatch: false, family: true },
  'hash:net,port': { dims: ['net', 'port'], nomatch: true, family: true },
  'hash:ip,port,ip': { dims: ['ip', 'port', 'ip'], nomatch: false, family: true },
  'hash:ip,port,net': { dims: ['ip', 'port', 'net'], nomatch: true, family: true },
  'hash:ip,mark': { dims: ['ip', 'mark'], nomatch: false, family: true },
  'hash:net,port,net': { dims: ['net', 'port', 'net'], nomatch: true, family: true },
  'hash:net,iface': { dims: ['net', 'iface'], nomatch: true, family: true },
  'bitmap:ip': { dims: ['ip'], nomatch: false, family: false },
  'bitmap:ip,mac': { dims: ['ip', 'mac'], nomatch: false, family: false },
  'bitmap:port': { dims: ['port'], nomatch: false, family: false },
  'list:set': { dims: ['set'], nomatch: false, family: false },
};

/** One part of a member, in the order of the set's dimensions. */
export type IpsetPart =
  /** Addresses lo..hi (ipset save prints one; restore files may give a range or CIDR). */
  | { readonly kind: 'ip'; readonly family: IpFamily; readonly lo: bigint; readonly hi: bigint }
  | { readonly kind: 'net'; readonly cidr: Cidr }
  /** Ports lo..hi; `proto` null for bitmap:port (TCP or UDP); ICMP stores type << 8 | code as the port. */
  | { readonly kind: 'port'; readonly proto: number | null; readonly lo: number; readonly hi: number }
  /** Lower case; null for a bitmap:ip,mac member added without one (the first packet fills it). */
  | { readonly kind: 'mac'; readonly mac: string | null }
  /** `physdev:NAME` names a bridge port. */
  | { readonly kind: 'iface'; readonly name: string; readonly physdev: boolean }
  | { readonly kind: 'mark'; readonly mark: number }
  | { readonly kind: 'set'; readonly name: string };

/** A `create` or `add` option as printed: `timeout 60`, `counters`, `comment "…"`. */
export interface IpsetOption {
  readonly name: string;
  /** Null for flags (`counters`, `nomatch`). */
  readonly value: string | null;
  readonly pos: SourcePos;
}

export interface IpsetMember {
  readonly parts: readonly IpsetPart[];
  /** The member as written (`10.0.0.1,tcp:80`). */
  readonly text: string;
  readonly nomatch: boolean;
  readonly options: readonly IpsetOption[];
  readonly pos: SourcePos;
}

export interface IpSet {
  readonly name: string;
  /** `hash:ip`, `bitmap:port`, `list:set`, … (a key of IPSET_TYPES). */
  readonly type: string;
  /** The family of its addresses; null for sets without one (bitmap:port, hash:mac, list:set). */
  readonly family: IpFamily | null;
  readonly options: readonly IpsetOption[];
  readonly members: readonly IpsetMember[];
  readonly pos: SourcePos;
}

/** One `ipset save` output. */
export interface IpsetSave {
  readonly file: string;
  readonly sets: readonly IpSet[];
}

export function ipsetOption(options: readonly IpsetOption[], name: string): IpsetOption | undefined {
  return options.find((o) => o.name === name);
}

export function findIpset(save: IpsetSave | null, name: string): IpSet | undefined {
  return save?.sets.find((s) => s.name === name);
}

/** Several `ipset save` outputs as one (a set given twice keeps its first definition). */
export function mergeIpsets(saves: readonly IpsetSave[]): IpsetSave | null {
  if (saves.length === 0) return null;
  if (saves.length === 1) return saves[0]!;
  const seen = new Set<string>();
  const sets: IpSet[] = [];
  for (const s of saves) {
    for (const set of s.sets) {
      if (seen.has(set.name)) continue;
      seen.add(set.name);
      sets.push(set);
    }
  }
  return { file: saves.map((s) => s.file).join(' + '), sets };
}

/** The mask a hash:ip or bitmap:ip set applies to addresses before storing or looking them up (netmask, bitmask). */
export function ipsetAddressMask(set: IpSet): bigint | null {
  if (set.family === null) return null;
  const netmask = ipsetOption(set.options, 'netmask');
  if (netmask?.value) return maskOf(set.family, Number(netmask.value));
  const bitmask = ipsetOption(set.options, 'bitmask');
  if (bitmask?.value) return parseHost(bitmask.value)?.value ?? null;
  return null;
}
