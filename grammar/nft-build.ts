// What both nft readers (text and JSON) share: the names nft knows (src/model/nft-types.ts), the
// defaults the kernel fills in (reject codes, limit bursts), and the named limits. Facts are from
// nftables 1.0.6's sources (proto.c, meta.c, ct.c, datatype.c, statement.c) and checked against
// `nft -f` + `nft list ruleset` on this machine.

import type { NftFamily, NftRejectType, NftVerdictName } from '../src/model/nft.js';
export {
  BITMASK_TYPES,
  CT_KEYS,
  exprType,
  FIB_FLAGS,
  FIB_RESULTS,
  META_KEYS,
  PAYLOAD_FIELDS,
  PRINTED_UNQUALIFIED,
  UNQUALIFIED_META,
} from '../src/model/nft-types.js';

/** Expressions nested deeper than this are refused (nft's own output nests a handful deep). */
export const MAX_EXPR_DEPTH = 32;

export const VERDICTS: readonly NftVerdictName[] = ['accept', 'drop', 'continue', 'return', 'jump', 'goto'];
export const NAT_TYPES = ['snat', 'dnat', 'masquerade', 'redirect'] as const;

/** ICMP codes a reject names (datatype.c icmp_code_tbl, icmpv6_code_tbl, icmpx_code_tbl). */
export const REJECT_CODES: Readonly<Record<'icmp' | 'icmpv6' | 'icmpx', ReadonlyArray<readonly [string, number]>>> = {
  icmp: [
    ['net-unreachable', 0],
    ['host-unreachable', 1],
    ['prot-unreachable', 2],
    ['port-unreachable', 3],
    ['net-prohibited', 9],
    ['host-prohibited', 10],
    ['admin-prohibited', 13],
    ['frag-needed', 4],
  ],
  icmpv6: [
    ['no-route', 0],
    ['admin-prohibited', 1],
    ['addr-unreachable', 3],
    ['port-unreachable', 4],
    ['policy-fail', 5],
    ['reject-route', 6],
  ],
  icmpx: [
    ['port-unreachable', 1],
    ['admin-prohibited', 3],
    ['no-route', 0],
    ['host-unreachable', 2],
  ],
};

export interface RejectInput {
  readonly type: NftRejectType | null;
  readonly code: string | number | null;
}

/**
 * The reject the kernel holds for what was written: a bare `reject` is port-unreachable in the
 * family's ICMP (icmpx in inet, bridge and netdev tables); numeric codes become their names.
 */
export function defaultReject(
  family: NftFamily,
  r: RejectInput,
): { type: NftRejectType | null; code: string | number | null } {
  if (r.type === 'tcp reset') return { type: 'tcp reset', code: null };
  const type = r.type ?? (family === 'ip' ? 'icmp' : family === 'ip6' ? 'icmpv6' : family === 'arp' ? null : 'icmpx');
  if (type === null) return { type: null, code: r.code };
  const code = r.code ?? 'port-unreachable';
  const named = typeof code === 'number' ? REJECT_CODES[type].find(([, n]) => n === code)?.[0] : undefined;
  return { type, code: named ?? code };
}

/** Limit defaults the kernel reports when the input gives none: 5 packets of burst, 0 bytes. */
export function limitDefaults(rateUnit: string): { rateUnit: string; burst: number; burstUnit: string } {
  return rateUnit === 'packets'
    ? { rateUnit, burst: 5, burstUnit: 'packets' }
    : { rateUnit, burst: 0, burstUnit: 'bytes' };
}

/** ` (did you mean 'x'?)` when `word` is a near miss of a known name; '' otherwise. */
export function didYouMean(word: string, known: readonly string[]): string {
  if (word.length > 64) return '';
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++)
        row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length]!;
  };
  let best: { k: string; d: number } | null = null;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k);
    if (best === null || d < best.d) best = { k, d };
  }
  return best && best.d > 0 && best.d <= Math.max(1, Math.floor(best.k.length / 3))
    ? ` (did you mean '${best.k}'?)`
    : '';
}
