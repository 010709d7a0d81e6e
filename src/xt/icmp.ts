// ICMP and ICMPv6 type names as libxt_icmp.h lists them: a name may be shortened to any
// unambiguous leading part (case-insensitive); otherwise TYPE[/CODE] in any base.

import type { ValueType } from './values.js';
import { xtUintPrefix } from './numbers.js';

/** [name, type, code min, code max]. */
export type IcmpName = readonly [string, number, number, number];

export const ICMP_CODES: readonly IcmpName[] = [
  ['any', 0xff, 0, 0xff],
  ['echo-reply', 0, 0, 0xff],
  ['pong', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff],
  ['network-unreachable', 3, 0, 0],
  ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3],
  ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6],
  ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10],
  ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13],
  ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 0xff],
  ['redirect', 5, 0, 0xff],
  ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2],
  ['TOS-host-redirect', 5, 3, 3],
  ['echo-request', 8, 0, 0xff],
  ['ping', 8, 0, 0xff],
  ['router-advertisement', 9, 0, 0xff],
  ['router-solicitation', 10, 0, 0xff],
  ['time-exceeded', 11, 0, 0xff],
  ['ttl-exceeded', 11, 0, 0xff],
  ['ttl-zero-during-transit', 11, 0, 0],
  ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff],
  ['ip-header-bad', 12, 0, 0],
  ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff],
  ['timestamp-reply', 14, 0, 0xff],
  ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
];

export const ICMPV6_CODES: readonly IcmpName[] = [
  ['destination-unreachable', 1, 0, 0xff],
  ['no-route', 1, 0, 0],
  ['communication-prohibited', 1, 1, 1],
  ['beyond-scope', 1, 2, 2],
  ['address-unreachable', 1, 3, 3],
  ['port-unreachable', 1, 4, 4],
  ['failed-policy', 1, 5, 5],
  ['reject-route', 1, 6, 6],
  ['packet-too-big', 2, 0, 0xff],
  ['time-exceeded', 3, 0, 0xff],
  ['ttl-exceeded', 3, 0, 0xff],
  ['ttl-zero-during-transit', 3, 0, 0],
  ['ttl-zero-during-reassembly', 3, 1, 1],
  ['parameter-problem', 4, 0, 0xff],
  ['bad-header', 4, 0, 0],
  ['unknown-header-type', 4, 1, 1],
  ['unknown-option', 4, 2, 2],
  ['echo-request', 128, 0, 0xff],
  ['ping', 128, 0, 0xff],
  ['echo-reply', 129, 0, 0xff],
  ['pong', 129, 0, 0xff],
  ['router-solicitation', 133, 0, 0xff],
  ['router-advertisement', 134, 0, 0xff],
  ['neighbour-solicitation', 135, 0, 0xff],
  ['neighbor-solicitation', 135, 0, 0xff],
  ['neighbour-advertisement', 136, 0, 0xff],
  ['neighbor-advertisement', 136, 0, 0xff],
  ['redirect', 137, 0, 0xff],
];

/** A number 0-255, optionally `:N` after it (a range, which only the type may not be). */
function numberRange(text: string, from: number): { lo: number; hi: number; end: number } | null {
  const a = xtUintPrefix(text, 0n, 255n, from);
  if (a === null) return null;
  if (text[a.end] !== ':') return { lo: Number(a.value), hi: Number(a.value), end: a.end };
  const b = xtUintPrefix(text, 0n, 255n, a.end + 1);
  if (b === null) return null;
  return { lo: Number(a.value), hi: Number(b.value), end: b.end };
}

/** What --icmp-type/--icmpv6-type means: the type and code range. */
export function parseIcmp(
  codes: readonly IcmpName[],
  text: string,
): { type: number; codeMin: number; codeMax: number } | string {
  const lower = text.toLowerCase();
  let found: IcmpName | undefined;
  for (const c of codes) {
    if (!c[0].toLowerCase().startsWith(lower)) continue;
    if (found) return `ambiguous type '${text}': '${found[0]}' or '${c[0]}'?`;
    found = c;
  }
  if (found) return { type: found[1], codeMin: found[2], codeMax: found[3] };
  const t = numberRange(text, 0);
  if (!t) return `unknown type '${text}'`;
  if (t.lo !== t.hi) return 'type ranges are not supported';
  if (t.end === text.length) return { type: t.lo, codeMin: 0, codeMax: 0xff };
  if (text[t.end] !== '/') return `unknown character '${text[t.end]}' in '${text}'`;
  const c = numberRange(text, t.end + 1);
  if (!c) return `unknown code in '${text}'`;
  if (c.end !== text.length) return `unknown character '${text[c.end]}' in '${text}'`;
  return { type: t.lo, codeMin: c.lo, codeMax: c.hi };
}

/** The ICMP type option: printed `TYPE[/CODE]` (`any` for type 255 in ICMP). */
export function icmpType(codes: readonly IcmpName[], what: string): ValueType {
  const v4 = what === 'ICMP';
  return {
    describe: `an ${what} type name or TYPE[/CODE]`,
    parse(text) {
      const r = parseIcmp(codes, text);
      if (typeof r === 'string') return `${what} ${r}`;
      if (v4 && r.type === 0xff) return { text: 'any', n: r.type };
      const code = r.codeMin !== 0 || r.codeMax !== 0xff ? `/${r.codeMin}` : '';
      return { text: `${r.type}${code}`, n: r.type, lo: r.codeMin, hi: r.codeMax };
    },
    samples: v4
      ? {
          valid: ['echo-request', 'any', '8', '3/3', 'port-unr', 'PING', '3/1:3', '0x3/0x1', 'TOS-host-redirect'],
          invalid: ['echo', 'nosuch', '256', '3/256', '3:4', '3x', '3/1x'],
        }
      : {
          valid: ['echo-request', 'neighbour-solicitation', '128', '1/4', 'packet-too-big', 'Neighbor-Adv'],
          invalid: ['echo', 'nosuch', '256', '1/4/5', 'any'],
        },
  };
}
