// Addresses and subnets, IPv4 and IPv6, as iptables and libvirt write them.
// Addresses are kept as bigint so one type serves both families.

export type IpFamily = 4 | 6;

export interface Cidr {
  readonly family: IpFamily;
  /** The network address (host bits cleared). */
  readonly network: bigint;
  /** The prefix length; for a mask with holes (`255.0.255.0`, which iptables accepts) the number of one bits. */
  readonly prefix: number;
  /** Only for a mask with holes: the mask itself. */
  readonly mask?: bigint;
}

export interface HostAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

const V4_BITS = 32;
const V6_BITS = 128;

export function familyBits(family: IpFamily): number {
  return family === 4 ? V4_BITS : V6_BITS;
}

/** Dotted quad → number, or -1 (hand-rolled: this runs for every address of every rule). */
function ipv4Number(text: string, from: number, to: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

export function parseIpv4(text: string): bigint | null {
  const n = ipv4Number(text, 0, text.length);
  return n < 0 ? null : BigInt(n);
}

/** An IPv6 address; `readV4` reads an embedded IPv4 tail (`::ffff:10.0.0.1`), as strictly as the caller needs. */
export function parseIpv6(text: string, readV4: (text: string) => bigint | null = parseIpv4): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return null;
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    tailV4 = readV4(last);
    if (tailV4 === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groupsOf(halves[0] ?? '');
  const right = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

export function parseHost(text: string): HostAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== null) return { family: 6, value: v6 };
  return null;
}

export function maskOf(family: IpFamily, prefix: number): bigint {
  const bits = familyBits(family);
  if (prefix === 0) return 0n;
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** The prefix length of a contiguous dotted mask, or null when the mask has holes. */
export function prefixOfMask(family: IpFamily, mask: bigint): number | null {
  const bits = familyBits(family);
  for (let prefix = 0; prefix <= bits; prefix++) {
    if (maskOf(family, prefix) === mask) return prefix;
  }
  return null;
}

/**
 * Parses `ADDR`, `ADDR/LEN` or `ADDR/DOTTED.MASK` (the iptables 1.3 form).
 * A bare address is a host route (/32 or /128). Host bits are cleared, as the kernel does.
 */
export function parseCidr(text: string): Cidr | null {
  const cached = cidrCache.get(text);
  if (cached !== undefined) return cached;
  const cidr = parseCidrUncached(text);
  if (cidrCache.size >= 50_000) cidrCache.clear();
  cidrCache.set(text, cidr);
  return cidr;
}

/** Dumps repeat the same subnets thousands of times; Cidr values are immutable, so share them. */
const cidrCache = new Map<string, Cidr | null>();

function parseCidrUncached(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const host = parseHost(addrText);
  if (!host) return null;
  const bits = familyBits(host.family);
  let prefix = bits;
  if (slash >= 0) {
    const maskText = text.slice(slash + 1);
    if (/^\d{1,3}$/.test(maskText)) {
      prefix = Number(maskText);
      if (prefix > bits) return null;
    } else {
      const mask = host.family === 4 ? parseIpv4(maskText) : parseIpv6(maskText);
      if (mask === null) return null;
      const p = prefixOfMask(host.family, mask);
      if (p === null) return null;
      prefix = p;
    }
  }
  return { family: host.family, network: host.value & maskOf(host.family, prefix), prefix };
}

export function formatIpv4(value: bigint): string {
  const n = Number(value);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text form, as glibc's inet_ntop (and so iptables) prints it. */
export function formatIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // ::ffff:a.b.c.d and ::a.b.c.d keep their dotted tail, as inet_ntop does.
  if (
    groups.slice(0, 5).every((g) => g === 0) &&
    (groups[5] === 0xffff || (groups[5] === 0 && (groups[6] ?? 0) !== 0))
  ) {
    const v4 = formatIpv4(value & 0xffffffffn);
    return groups[5] === 0xffff ? `::ffff:${v4}` : `::${v4}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number): string => g.toString(16);
  if (bestStart < 0) return groups.map(hex).join(':');
  const left = groups.slice(0, bestStart).map(hex).join(':');
  const right = groups
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${left}::${right}`;
}

export function formatHost(family: IpFamily, value: bigint): string {
  return family === 4 ? formatIpv4(value) : formatIpv6(value);
}

/** An address with a port: `192.168.122.10:80`, `[2001:db8::10]:80` (an IPv6 address is bracketed, as in URLs). */
export function formatHostPort(family: IpFamily, value: bigint, port: number): string {
  return family === 4 ? `${formatIpv4(value)}:${port}` : `[${formatIpv6(value)}]:${port}`;
}

/** The same for an address already written out. */
export function hostPortText(address: string, port: number | string): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `192.168.122.0/24`, always with the prefix, as iptables-save 1.4+ prints it. */
export function formatCidr(cidr: Cidr): string {
  // Most are IPv4 with a prefix: printed directly (a cache entry per rule's address cost more).
  if (cidr.family === 4 && cidr.mask === undefined) return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
  let text = formattedCidrs.get(cidr);
  if (text === undefined) {
    text = `${formatHost(cidr.family, cidr.network)}/${cidr.mask !== undefined ? formatHost(cidr.family, cidr.mask) : cidr.prefix}`;
    formattedCidrs.set(cidr, text);
  }
  return text;
}

const formattedCidrs = new WeakMap<Cidr, string>();

export function cidrContains(outer: Cidr, address: HostAddress): boolean {
  if (outer.family !== address.family) return false;
  return (address.value & (outer.mask ?? maskOf(outer.family, outer.prefix))) === outer.network;
}

/** The mask of a subnet (its prefix's, or the mask with holes). */
export function cidrMask(c: Cidr): bigint {
  return c.mask ?? maskOf(c.family, c.prefix);
}

export function cidrCoversCidr(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family) return false;
  // IPv4 prefixes in plain arithmetic (an audit of 1,000 networks compares every pair).
  if (outer.family === 4 && outer.mask === undefined && inner.mask === undefined) {
    if (outer.prefix > inner.prefix) return false;
    const n = Number(inner.network);
    return n - (n % 2 ** (32 - outer.prefix)) === Number(outer.network);
  }
  const om = cidrMask(outer);
  return (om & cidrMask(inner)) === om && (inner.network & om) === outer.network;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrCoversCidr(a, b) || cidrCoversCidr(b, a);
}

export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.prefix === b.prefix && a.network === b.network && a.mask === b.mask;
}

/** The classful default prefix libvirt applies to an IPv4 address given without prefix or netmask. */
export function classfulPrefix(address: bigint): number {
  const first = Number(address >> 24n);
  if (first < 128) return 8;
  if (first < 192) return 16;
  return 24;
}
