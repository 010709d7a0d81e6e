// How iptables 1.8.9 reads numbers, addresses and ports (libxtables' xtables_strtoul,
// numeric_to_ipaddr, getaddrinfo and getservbyname), so virtables accepts and refuses the
// same spellings: `010` is octal, `0x10` hex, `10.1` is 10.1.0.0, a udp port 65536 is 0.

import type { Family } from '../model/dump.js';
import { servicePort } from '../model/services.js';
import { parseIpv6 } from '../model/cidr.js';

/** strtoumax(text, &end, base) from `from`: the value and where it stopped, or null when no digit. */
export function strtoumax(text: string, from = 0, base = 0): { value: bigint; end: number; overflow: boolean } | null {
  let i = from;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i]!)) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') negative = text[i++] === '-';
  let radix = base;
  if (
    (radix === 0 || radix === 16) &&
    text[i] === '0' &&
    (text[i + 1] === 'x' || text[i + 1] === 'X') &&
    hexDigit(text[i + 2]) >= 0
  ) {
    radix = 16;
    i += 2;
  } else if (radix === 0) {
    radix = text[i] === '0' ? 8 : 10;
  }
  const start = i;
  let value = 0n;
  const r = BigInt(radix);
  for (; i < text.length; i++) {
    const d = hexDigit(text[i]);
    if (d < 0 || d >= radix) break;
    value = value * r + BigInt(d);
  }
  if (i === start) return null;
  const overflow = value > 0xffffffffffffffffn;
  if (overflow) value = 0xffffffffffffffffn;
  if (negative) value = (0x10000000000000000n - value) & 0xffffffffffffffffn;
  return { value, end: i, overflow };
}

function hexDigit(c: string | undefined): number {
  if (c === undefined) return -1;
  const n = c.charCodeAt(0);
  if (n >= 48 && n <= 57) return n - 48;
  if (n >= 97 && n <= 102) return n - 87;
  if (n >= 65 && n <= 70) return n - 55;
  return -1;
}

/** xtables_strtoul(): base 0 (decimal, 0x hex, 0 octal), no minus sign, in [min, max], all of `text`. */
export function xtUint(text: string, min: bigint, max: bigint): bigint | null {
  const r = xtUintPrefix(text, min, max);
  return r !== null && r.end === text.length ? r.value : null;
}

/** xtables_strtoul() with an end pointer: the number at the start of `text` and where it ends. */
export function xtUintPrefix(text: string, min: bigint, max: bigint, from = 0): { value: bigint; end: number } | null {
  let i = from;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i]!)) i++;
  if (text[i] === '-') return null;
  const r = strtoumax(text, from, 0);
  if (!r || r.overflow || r.value < min || r.value > max) return null;
  return { value: r.value, end: r.end };
}

/** A small xtUint as a number. */
export function xtNumber(text: string, min: number, max: number): number | null {
  const v = xtUint(text, BigInt(min), BigInt(max));
  return v === null ? null : Number(v);
}

// ---------------------------------------------------------------------------------------------
// Ports

/**
 * A port as getaddrinfo(NULL, NAME) resolves it (the XTTYPE_PORT and PORTRC options, udp's
 * --dport): a decimal number taken modulo 65536, or a service name of any protocol.
 */
export function addrinfoPort(text: string): number | null {
  if (text === '') return null;
  const r = strtoumax(text, 0, 10);
  if (r && r.end === text.length) {
    if (/^\s*-/.test(text)) return null;
    return Number(r.value & 0xffffn);
  }
  return servicePort(text, 'any') ?? null;
}

/** xtables_parse_port(NAME, PROTO) (tcp's --dport, multiport): a number 0-65535 in any base, or a service of PROTO. */
export function servicePortOf(text: string, proto: 'tcp' | 'udp' | 'sctp' | 'any'): number | null {
  const n = xtNumber(text, 0, 65535);
  if (n !== null) return n;
  return servicePort(text, proto) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** iptables' own dotted reading (xtables_numeric_to_ipaddr): each part in any base, `10.1` = 10.1.0.0. */
function numericIpv4(text: string, isMask: boolean): bigint | null {
  const parts = text.split('.');
  if (parts.length > 4) {
    // the fourth part takes the rest, dots and all, and then fails as a number
    return null;
  }
  if (parts.length < 4 && isMask) return null;
  let value = 0n;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p === undefined) {
      value <<= 8n;
      continue;
    }
    const n = xtUint(p, 0n, 255n);
    if (n === null) return null;
    value = (value << 8n) | n;
  }
  return value;
}

/** inet_aton(), which getaddrinfo falls back on: `a`, `a.b`, `a.b.c`, `a.b.c.d`, each part in any base. */
function inetAton(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(0[xX][0-9a-fA-F]*|[0-9]+)$/.test(p))) return null;
  const nums: bigint[] = [];
  for (const p of parts) {
    const r = strtoumax(p, 0, 0);
    if (!r || r.end !== p.length) {
      if (!/^0[xX]$/.test(p)) return null;
      nums.push(0n);
      continue;
    }
    nums.push(r.value);
  }
  const last = nums[nums.length - 1]!;
  const lastBits = BigInt(8 * (5 - nums.length));
  if (last >= 1n << lastBits) return null;
  let value = 0n;
  for (let i = 0; i < nums.length - 1; i++) {
    if (nums[i]! > 255n) return null;
    value |= nums[i]! << BigInt(24 - 8 * i);
  }
  return value | last;
}

/** An IPv4 address as `-s`/`-d` read it: iptables' dotted form, else inet_aton's; null for a host name or junk. */
export function ipv4Address(text: string): bigint | null {
  return numericIpv4(text, false) ?? inetAton(text);
}

/** An IPv4 address as getaddrinfo reads it (the HOST options of extensions: no `10.1` completion). */
export function ipv4AddrInfo(text: string): bigint | null {
  return inetAton(text);
}

/** inet_pton's dotted quad: four decimal parts, none above 255 and none with a leading zero. */
function inetPtonV4(text: string): bigint | null {
  if (
    !/^\d{1,3}(\.\d{1,3}){3}$/.test(text) ||
    text.split('.').some((p) => Number(p) > 255 || (p.length > 1 && p[0] === '0'))
  )
    return null;
  return text.split('.').reduce((v, p) => (v << 8n) | BigInt(p), 0n);
}

/** An IPv6 address as inet_pton reads it (the model's reader, with inet_pton's strict IPv4 tail). */
export function ipv6Address(text: string): bigint | null {
  return parseIpv6(text, inetPtonV4);
}

export function familyWidth(family: Family): number {
  return family === 'ipv6' ? 128 : 32;
}

export function prefixMask(family: Family, prefix: number): bigint {
  const bits = familyWidth(family);
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** The prefix length of a contiguous mask, or -1. */
export function maskPrefix(family: Family, mask: bigint): number {
  const bits = familyWidth(family);
  let n = 0;
  for (let i = bits - 1; i >= 0 && ((mask >> BigInt(i)) & 1n) === 1n; i--) n++;
  return prefixMask(family, n) === mask ? n : -1;
}

/** A mask after the `/` of `-s`: a dotted (or IPv6) mask, else a prefix length in any base. */
export function addressMask(text: string, family: Family): bigint | null {
  if (family === 'ipv4') {
    const dotted = numericIpv4(text, true);
    if (dotted !== null) return dotted;
  } else if (text.includes(':')) {
    return ipv6Address(text);
  }
  const n = xtNumber(text, 0, familyWidth(family));
  return n === null ? null : prefixMask(family, n);
}

/** An address of the family (IPv4 in iptables' dotted reading), or null. */
export function familyAddress(text: string, family: Family): bigint | null {
  return family === 'ipv6' ? ipv6Address(text) : ipv4Address(text);
}

export interface MaskedAddress {
  readonly address: bigint;
  readonly mask: bigint;
}

/**
 * `ADDR[/MASK]` as xtables_ipparse_multiple reads one item: a zero mask makes any name
 * 0.0.0.0; host names are refused here (iptables would look them up in DNS at load time).
 */
export function maskedAddress(text: string, family: Family): MaskedAddress | string {
  const slash = text.lastIndexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let mask = prefixMask(family, familyWidth(family));
  if (slash >= 0) {
    const m = addressMask(text.slice(slash + 1), family);
    if (m === null) return `invalid mask '${text.slice(slash + 1)}'`;
    mask = m;
  }
  if (mask === 0n) return { address: 0n, mask };
  const address = familyAddress(addrText, family);
  if (address === null) return hostProblem(addrText, family);
  return { address: address & mask, mask };
}

/** Why an address is refused: not an address of this family, or a name that only DNS could answer. */
export function hostProblem(text: string, family: Family): string {
  const other = family === 'ipv6' ? ipv4Address(text) : ipv6Address(text);
  if (other !== null)
    return `'${text}' is an ${family === 'ipv6' ? 'IPv4' : 'IPv6'} address, not ${family === 'ipv6' ? 'IPv6' : 'IPv4'}`;
  if (/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text) && /[A-Za-z]/.test(text)) {
    return `'${text}' is a host name: iptables would resolve it in DNS when loading the rule (write the address)`;
  }
  return `bad address '${text}'`;
}

/**
 * strtod()'s decimal reading at the start of `text` (blanks, sign, digits, point, exponent): the value and where it
 * ends, or null.
 */
export function strtodPrefix(text: string): { value: number; end: number } | null {
  let i = 0;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i]!)) i++;
  const start = i;
  if (text[i] === '+' || text[i] === '-') i++;
  const digitsFrom = i;
  while (i < text.length && text[i]! >= '0' && text[i]! <= '9') i++;
  let digits = i - digitsFrom;
  if (text[i] === '.') {
    i++;
    const f = i;
    while (i < text.length && text[i]! >= '0' && text[i]! <= '9') i++;
    digits += i - f;
  }
  if (digits === 0) return null;
  if (text[i] === 'e' || text[i] === 'E') {
    let j = i + 1;
    if (text[j] === '+' || text[j] === '-') j++;
    const e = j;
    while (j < text.length && text[j]! >= '0' && text[j]! <= '9') j++;
    if (j > e) i = j;
  }
  return { value: Number(text.slice(start, i)), end: i };
}
