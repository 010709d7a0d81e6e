// The value types of iptables extension options (libxtables' XTTYPE_*), as data: how each
// is read, what it is called in an error, and sample values — valid and each kind of
// invalid — from which the kernel-oracle cases are generated.

import type { Family } from '../model/dump.js';
import { formatHost } from '../model/cidr.js';
import { protocolNumber } from '../model/protocols.js';
import {
  addrinfoPort,
  familyAddress,
  familyWidth,
  hostProblem,
  ipv4AddrInfo,
  ipv6Address,
  maskPrefix,
  prefixMask,
  servicePortOf,
  xtNumber,
  xtUint,
  xtUintPrefix,
} from './numbers.js';

/** A parsed option value: its canonical text and, for the few save functions that need them, numbers. */
export interface Val {
  readonly text: string;
  /** The number (uints, levels, protocol). */
  readonly n?: number;
  /** 64-bit numbers. */
  readonly big?: bigint;
  /** Ranges: both ends, and how many components were written (`5` is 1, `5:` is 2). */
  readonly lo?: number;
  readonly hi?: number;
  readonly nvals?: number;
  /** value/mask pairs (marks, TOS) and address masks. */
  readonly mask?: number;
  readonly addr?: bigint;
  readonly amask?: bigint;
  /** Bit sets (states, flags) and list items. */
  readonly bits?: number;
  readonly items?: readonly string[];
}

/** Sample arguments for generated kernel cases. */
export interface Samples {
  readonly valid: readonly string[];
  readonly invalid: readonly string[];
}

export interface ValueType {
  /** What the value is, in words for errors and docs ("a number 0-255"). */
  readonly describe: string;
  /** The parsed value, or why the text is refused. */
  parse(text: string, family: Family): Val | string;
  readonly samples: Samples;
}

/** xtables_save_string(): bare when only `[A-Za-z0-9_-]`, else double-quoted with `"`, `\` and `'` escaped. */
export function saveString(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function range(min: number | bigint, max: number | bigint): string {
  return `${min}-${max}`;
}

const U_MAX: Readonly<Record<number, bigint>> = { 8: 0xffn, 16: 0xffffn, 32: 0xffffffffn, 64: 0xffffffffffffffffn };

export interface UintOptions {
  readonly min?: number;
  readonly max?: number | bigint;
  /** How save prints it: decimal (most) or 0x hex (marks, masks). */
  readonly print?: 'dec' | 'hex';
  /** Extra valid/invalid samples (named values an extension accepts on top of numbers). */
  readonly extra?: Partial<Samples>;
}

/** XTTYPE_UINT8/16/32/64: one number in any base, within [min, max]. */
export function uint(bits: 8 | 16 | 32 | 64, o: UintOptions = {}): ValueType {
  const min = BigInt(o.min ?? 0);
  const max = o.max === undefined ? U_MAX[bits]! : BigInt(o.max);
  const print = o.print ?? 'dec';
  return {
    describe: `a number ${range(min, max)}`,
    parse(text) {
      const v = xtUint(text, min, max);
      if (v === null) return `'${text}' is not a number ${range(min, max)}`;
      const n = Number(v);
      return { text: print === 'hex' ? `0x${v.toString(16)}` : v.toString(), n, big: v };
    },
    samples: {
      valid: [String(min), max.toString(), ...(max > 16n ? ['0x10', '010'] : []), ...(o.extra?.valid ?? [])],
      invalid: [(max + 1n).toString(), ...(min > 0n ? [String(min - 1n)] : ['-1']), 'x1', ...(o.extra?.invalid ?? [])],
    },
  };
}

/** XTTYPE_UINT*RC: `A`, `A:B`, `A:` or `:B`, each part in any base up to the type's maximum. */
export function uintRange(
  bits: 8 | 16 | 32 | 64,
  o: { min?: number; max?: number; maxParts?: number } = {},
): ValueType {
  const lmax = U_MAX[bits]!;
  const maxParts = o.maxParts ?? 2;
  return {
    describe: `a number or range A:B (0-${lmax})`,
    parse(text) {
      const parts: bigint[] = [];
      let i = 0;
      for (;;) {
        if (parts.length === maxParts) return `too many parts in '${text}' (at most ${maxParts})`;
        if (i >= text.length || text[i] === ':') {
          parts.push(parts.length === 1 ? lmax : 0n);
        } else {
          const r = xtUintPrefix(text, 0n, lmax, i);
          if (r === null) return `'${text.slice(i)}' is not a number 0-${lmax}`;
          if (r.end < text.length && text[r.end] !== ':')
            return `unexpected characters '${text.slice(r.end)}' in '${text}'`;
          parts.push(r.value);
          i = r.end;
        }
        if (i >= text.length) break;
        i++;
      }
      const lo = parts[0]!;
      const hi = parts.length > 1 ? parts[1]! : lo;
      if (o.min !== undefined && lo < BigInt(o.min)) return `'${text}': ${lo} is below ${o.min}`;
      if (o.max !== undefined && hi > BigInt(o.max)) return `'${text}': ${hi} is above ${o.max}`;
      return {
        text: lo === hi ? `${lo}` : `${lo}:${hi}`,
        lo: Number(lo),
        hi: Number(hi),
        big: hi,
        nvals: parts.length,
      };
    },
    samples: {
      valid: ['0', '5', '5:10', ':10', '10:', `${lmax}`, '0x10:020'],
      invalid: [`${lmax + 1n}`, 'x', '1:2:3', '-1'],
    },
  };
}

/** XTTYPE_PORT: one port, as getaddrinfo reads it (decimal modulo 65536, or a service name). */
export const port: ValueType = {
  describe: 'a port number or service name',
  parse(text) {
    const p = addrinfoPort(text);
    return p === null ? `port '${text}' does not resolve to anything` : { text: String(p), n: p };
  },
  samples: { valid: ['0', '22', '65535', 'ssh', 'domain', '007'], invalid: ['-1', 'nosuchservice', '0x10', '1:2'] },
};

/** XTTYPE_PORTRC: `P`, `P:Q`, `P:` or `:Q`, each as getaddrinfo reads it. */
export const portRange: ValueType = {
  describe: 'a port or port range P:Q',
  parse(text) {
    const parts = text.split(':');
    if (parts.length > 2) return `too many parts in '${text}' (a port or a range P:Q)`;
    const nums: number[] = [];
    for (const [i, p] of parts.entries()) {
      if (p === '') {
        nums.push(i === 0 ? 0 : 65535);
        continue;
      }
      const n = addrinfoPort(p);
      if (n === null) return `port '${p}' does not resolve to anything`;
      nums.push(n);
    }
    const lo = nums[0]!;
    const hi = nums.length > 1 ? nums[1]! : lo;
    return { text: lo === hi ? `${lo}` : `${lo}:${hi}`, lo, hi, nvals: nums.length };
  },
  samples: {
    valid: ['22', '1024:', ':1023', '22:22', '0:65535', 'ssh:http', '65536'],
    invalid: ['-1', 'nosuchservice', '1:2:3', '0x10'],
  },
};

/** tcp/udp-style port ranges of the old parsers (xtables_parse_port: any base, services of `proto`); min ≤ max. */
export function servicePortRange(proto: 'tcp' | 'udp' | 'sctp' | 'any'): ValueType {
  return {
    describe: `a port or port range P:Q (numbers or ${proto} service names)`,
    parse(text) {
      const colon = text.indexOf(':');
      const one = (p: string): number | string => servicePortOf(p, proto) ?? `invalid port/service '${p}'`;
      if (colon < 0) {
        const n = one(text);
        return typeof n === 'string' ? n : { text: String(n), lo: n, hi: n, nvals: 1 };
      }
      const a = text.slice(0, colon);
      const b = text.slice(colon + 1);
      const lo = a === '' ? 0 : one(a);
      if (typeof lo === 'string') return lo;
      const hi = b === '' ? 65535 : one(b);
      if (typeof hi === 'string') return hi;
      if (lo > hi) return `invalid port range '${text}' (${lo} > ${hi})`;
      return { text: lo === hi ? `${lo}` : `${lo}:${hi}`, lo, hi, nvals: 2 };
    },
    samples: {
      valid: [
        '22',
        '1024:',
        ':4',
        '4:4',
        '0:65535',
        '007',
        '0x16',
        proto === 'udp' ? 'bootps' : proto === 'sctp' ? 'amqp' : 'ssh',
        ...(proto === 'sctp' ? [] : ['http:https']),
      ],
      invalid: ['65536', '-1', '99999', '5:4', '08', 'nosuchservice', '1:2:3', proto === 'tcp' ? 'bootps' : 'x'],
    },
  };
}

export interface StringOptions {
  readonly min?: number;
  readonly max?: number;
  /** The kernel field's size: longer text is cut to size-1 bytes (strncpy), not refused. */
  readonly size?: number;
  readonly valid?: readonly string[];
  readonly invalid?: readonly string[];
}

/** XTTYPE_STRING: free text, its length (in bytes) within limits. */
export function str(o: StringOptions = {}): ValueType {
  return {
    describe: o.max ? `text of ${o.min ?? 0}-${o.max} bytes` : 'text',
    parse(text) {
      const len = Buffer.byteLength(text);
      if (o.min !== undefined && o.min > 0 && len < o.min)
        return `'${text}' is shorter than ${o.min} character${o.min > 1 ? 's' : ''}`;
      if (o.max !== undefined && len > o.max) return `'${text.slice(0, 40)}…' is longer than ${o.max} bytes`;
      if (o.size !== undefined && len >= o.size)
        return {
          text: Buffer.from(text)
            .subarray(0, o.size - 1)
            .toString(),
        };
      return { text };
    },
    samples: {
      valid: o.valid ?? ['x', 'a b', 'ab-c_d'],
      invalid: o.invalid ?? [
        ...(o.min ? [''] : []),
        ...(o.max ? ['x'.repeat(o.max + 1)] : []),
        ...(o.size ? ['x'.repeat(o.size + 4)] : []),
      ],
    },
  };
}

/** One of a fixed set of words (exact or case-insensitive), printed as the canonical word. */
export function choice(
  words: Readonly<Record<string, string>>,
  o: { caseless?: boolean; invalid?: readonly string[] } = {},
): ValueType {
  const table = new Map(Object.entries(words).map(([k, v]) => [o.caseless ? k.toLowerCase() : k, v]));
  const names = [...new Set(Object.keys(words))];
  return {
    describe: `one of ${names.join(', ')}`,
    parse(text) {
      const v = table.get(o.caseless ? text.toLowerCase() : text);
      return v === undefined ? `'${text}' is not one of ${names.join(', ')}` : { text: v };
    },
    samples: { valid: names, invalid: o.invalid ?? ['wrong'] },
  };
}

export interface FlagListOptions {
  /** Separator (`,`). */
  readonly sep?: string;
  readonly caseless?: boolean;
  /** A word may be any leading part of a name (strncasecmp with the word's length): the first name it starts. */
  readonly prefix?: boolean;
  /** Empty items (`a,,b`, a trailing comma): refused (conntrack, addrtype) or skipped (strtok-based parsers). */
  readonly empty?: 'error' | 'skip';
  /** Names in the order save prints them (default: the table's order). */
  readonly printOrder?: readonly string[];
  /** Printed when no bit is set. */
  readonly none?: string;
  readonly invalid?: readonly string[];
  /** Extra valid samples. */
  readonly valid?: readonly string[];
}

/**
 * A comma-separated set of named flags: `names` lists [name, bits] in the order the parser
 * tries them (aliases with the same bits as their name); printed in `printOrder`.
 */
export function flagList(names: ReadonlyArray<readonly [string, number]>, o: FlagListOptions = {}): ValueType {
  const sep = o.sep ?? ',';
  const fold = (t: string): string => (o.caseless || o.prefix ? t.toLowerCase() : t);
  const exact = new Map(names.map(([n, b]) => [fold(n), b]));
  const printable: Array<readonly [string, number]> = [];
  const seen = new Set<number>();
  const order = o.printOrder ? o.printOrder.map((n) => names.find(([m]) => m === n)!) : names;
  for (const [n, b] of order) {
    if (b !== 0 && !seen.has(b)) {
      printable.push([n, b]);
      seen.add(b);
    }
  }
  const lookup = (item: string): number | undefined => {
    if (!o.prefix) return exact.get(fold(item));
    const f = fold(item);
    return names.find(([n]) => fold(n).startsWith(f))?.[1];
  };
  const listed = names.map(([n]) => n).join(', ');
  return {
    describe: `a list of ${listed} (separated by '${sep}')`,
    parse(text) {
      let bits = 0;
      const items = text.split(sep);
      for (const item of items) {
        if (item === '') {
          if (o.empty === 'skip') continue;
          return `empty item in '${text}'`;
        }
        const b = lookup(item);
        if (b === undefined) return `unknown value '${item}' (expected ${listed})`;
        bits |= b;
      }
      return { text: printFlags(printable, bits, sep, o.none), bits };
    },
    samples: {
      valid: [
        ...printable.slice(0, 3).map(([n]) => n),
        printable
          .slice(0, 2)
          .map(([n]) => n)
          .reverse()
          .join(sep),
        ...(o.valid ?? []),
      ],
      invalid: o.invalid ?? [
        'wrong',
        `${printable[0]?.[0] ?? 'x'}${sep}wrong`,
        ...(o.empty === 'skip' ? [] : [`${printable[0]?.[0] ?? 'x'}${sep}`]),
      ],
    },
  };
}

export function printFlags(
  printable: ReadonlyArray<readonly [string, number]>,
  bits: number,
  sep = ',',
  none = '',
): string {
  const out: string[] = [];
  for (const [n, b] of printable) if ((bits & b) === b && b !== 0) out.push(n);
  return out.length === 0 ? none : out.join(sep);
}

/** XTTYPE_MARKMASK32: `VALUE[/MASK]`, 32-bit numbers in any base; the mask defaults to 0xffffffff. */
export const markMask: ValueType = {
  describe: 'a value[/mask] (32-bit numbers)',
  parse(text) {
    const slash = text.indexOf('/');
    const valueText = slash < 0 ? text : text.slice(0, slash);
    const v = xtUint(valueText, 0n, 0xffffffffn);
    if (v === null) return `'${valueText}' is not a 32-bit number`;
    let mask = 0xffffffff;
    if (slash >= 0) {
      const m = xtUint(text.slice(slash + 1), 0n, 0xffffffffn);
      if (m === null) return `'${text.slice(slash + 1)}' is not a 32-bit mask`;
      mask = Number(m);
    }
    const n = Number(v);
    return { text: mask === 0xffffffff ? hex(n) : `${hex(n)}/${hex(mask)}`, n, mask };
  },
  samples: {
    valid: ['1', '0x10/0xff', '0xffffffff', '0xffffffff/0xffffffff', '0/0', '010'],
    invalid: ['0x100000000', 'x', '1/x', '-1', '1/2/3'],
  },
};

const TOS_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['Minimize-Delay', 0x10],
  ['Maximize-Throughput', 0x08],
  ['Maximize-Reliability', 0x04],
  ['Minimize-Cost', 0x02],
  ['Normal-Service', 0x00],
];

/** XTTYPE_TOSMASK: `VALUE[/MASK]` (8-bit) or a TOS name, whose mask is the revision's default. */
export function tosMask(namedMask: number): ValueType {
  return {
    describe:
      'a TOS value[/mask] or name (Minimize-Delay, Maximize-Throughput, Maximize-Reliability, Minimize-Cost, Normal-Service)',
    parse(text) {
      const head = xtUintPrefix(text, 0n, 255n);
      if (head !== null) {
        let mask = 0xff;
        let end = head.end;
        if (text[end] === '/') {
          const m = xtUintPrefix(text, 0n, 255n, end + 1);
          if (m === null) return `illegal TOS value '${text}'`;
          mask = Number(m.value);
          end = m.end;
        }
        if (end !== text.length) return `illegal TOS value '${text}'`;
        return { text: '', n: Number(head.value), mask };
      }
      const named = TOS_NAMES.find(([n]) => n.toLowerCase() === text.toLowerCase());
      if (!named) return `unknown TOS name '${text}'`;
      return { text: '', n: named[1], mask: namedMask };
    },
    samples: {
      valid: ['0x10', '0x10/0x3f', 'Minimize-Delay', 'normal-service', '8/0xff'],
      invalid: ['0x100', 'Fast', '1/0x100', '1/x'],
    },
  };
}

const SYSLOG_LEVELS: Readonly<Record<string, number>> = {
  alert: 1,
  crit: 2,
  debug: 7,
  emerg: 0,
  error: 3,
  info: 6,
  notice: 5,
  panic: 0,
  warning: 4,
};

/** XTTYPE_SYSLOGLEVEL: 0-7 or a syslog level name (case-sensitive; `err` and `warn` are not among them). */
export const syslogLevel: ValueType = {
  describe: 'a log level 0-7 or emerg, alert, crit, error, warning, notice, info, debug',
  parse(text) {
    const n = xtNumber(text, 0, 7) ?? SYSLOG_LEVELS[text];
    return n === undefined
      ? `log level '${text}' unknown (0-7, emerg, alert, crit, error, warning, notice, info, debug)`
      : { text: String(n), n };
  },
  samples: {
    valid: ['0', '7', 'info', 'debug', 'warning', 'panic', 'error'],
    invalid: ['8', 'err', 'warn', 'INFO', '-1'],
  },
};

/** XTTYPE_HOST: one address of the rule's family (getaddrinfo: IPv4 in inet_aton's reading). */
export const host: ValueType = {
  describe: 'an address',
  parse(text, family) {
    const a = family === 'ipv6' ? ipv6Address(text) : ipv4AddrInfo(text);
    if (a === null) return hostProblem(text, family);
    return { text: formatHost(family === 'ipv6' ? 6 : 4, a), addr: a, amask: prefixMask(family, familyWidth(family)) };
  },
  samples: { valid: ['10.0.0.1', '2001:db8::1'], invalid: ['10.0.0.256', 'x/y'] },
};

/** How the extensions print an address and mask: `ADDR` for a host, else `ADDR/LEN` or `ADDR/MASK`. */
export function maskedText(family: Family, addr: bigint, amask: bigint): string {
  const fam = family === 'ipv6' ? 6 : 4;
  const p = maskPrefix(family, amask);
  const tail = p === familyWidth(family) ? '' : p < 0 ? `/${formatHost(fam, amask)}` : `/${p}`;
  return `${formatHost(fam, addr)}${tail}`;
}

/** XTTYPE_HOSTMASK: `ADDR[/LEN|/MASK]`; the address is not masked (extensions mask it themselves, or not). */
export const hostMask: ValueType = {
  describe: 'an address[/prefix]',
  parse(text, family) {
    const slash = text.indexOf('/');
    const head = slash < 0 ? text : text.slice(0, slash);
    const a = family === 'ipv6' ? ipv6Address(head) : ipv4AddrInfo(head);
    if (a === null) return hostProblem(head, family);
    let amask = prefixMask(family, familyWidth(family));
    if (slash >= 0) {
      const m = plenMask.parse(text.slice(slash + 1), family);
      if (typeof m === 'string') return m;
      amask = m.amask!;
    }
    return { text: maskedText(family, a, amask), addr: a, amask };
  },
  samples: {
    valid: ['10.0.0.1', '10.0.0.0/8', '10.0.0.0/255.255.0.0', '2001:db8::/32'],
    invalid: ['10.0.0.0/33', '10.0.0.300', '10.0.0.0/x'],
  },
};

/**
 * XTTYPE_PLEN: a prefix length of the family (in any base), else a mask in address form
 * (inet_aton's reading for IPv4, so `33` is 0.0.0.33); a mask with holes counts as no length.
 */
export const plen: ValueType = {
  describe: 'a prefix length or netmask',
  parse(text, family) {
    const bits = familyWidth(family);
    const n = xtNumber(text, 0, bits);
    if (n !== null) return { text: String(n), n, amask: prefixMask(family, n) };
    const m = family === 'ipv6' ? (text.includes(':') ? ipv6Address(text) : null) : ipv4AddrInfo(text);
    if (m === null) return `'${text}' is neither a netmask nor a prefix length 0-${bits}`;
    const p = maskPrefix(family, m);
    return { text: String(p < 0 ? 0xffffffff : p), n: p < 0 ? 0xffffffff : p, amask: m };
  },
  samples: { valid: ['0', '24', '32', '255.255.255.0', '64', '128'], invalid: ['129', 'x', '-1'] },
};

/** XTTYPE_PLENMASK: as PLEN, as a mask; a mask with holes becomes all ones (xtopt_parse_plenmask's fall-through). */
export const plenMask: ValueType = {
  describe: 'a prefix length or netmask',
  parse(text, family) {
    const r = plen.parse(text, family);
    if (typeof r === 'string') return r;
    const full = prefixMask(family, familyWidth(family));
    return { ...r, amask: r.n! > familyWidth(family) ? full : prefixMask(family, r.n!) };
  },
  samples: plen.samples,
};

/** XTTYPE_PROTOCOL: a protocol number 0-255 or name; printed as the number. */
export const protocol: ValueType = {
  describe: 'a protocol name or number',
  parse(text) {
    const n = xtNumber(text, 0, 255) ?? protocolNumber(text);
    return n === null ? `unknown protocol '${text}'` : { text: String(n), n };
  },
  samples: { valid: ['tcp', '6', 'udp', '0x11', 'all', '255'], invalid: ['256', 'nosuchproto', '-1'] },
};

/** XTTYPE_ETHERMAC: six hex octets `xx:xx:xx:xx:xx:xx` (one or two digits each); printed in lower case, two digits. */
export const etherMac: ValueType = {
  describe: 'a MAC address xx:xx:xx:xx:xx:xx',
  parse(text) {
    const parts = text.split(':');
    if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return `invalid MAC address '${text}'`;
    return { text: parts.map((p) => p.toLowerCase().padStart(2, '0')).join(':') };
  },
  samples: {
    valid: ['02:00:00:00:00:01', 'AA:bb:CC:dd:EE:ff', '2:0:0:0:0:1'],
    invalid: ['42:01:02:03:04', '00:11:22:33:44:55:66', 'xx:00:00:00:00:00', '002:00:00:00:00:01'],
  },
};

/** XTTYPE_DOUBLE: a floating-point number within [min, max]. */
export function double(min: number, max: number): ValueType {
  return {
    describe: `a number ${min}-${max}`,
    parse(text) {
      const t = text.trimStart();
      const m = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|0[xX][0-9a-fA-F]+|inf(inity)?|nan)/i.exec(t);
      if (!m || m[0].length !== t.length) return `'${text}' is not a number ${min}-${max}`;
      const v = /^[+-]?0[xX]/.test(t) ? Number.parseInt(t, 16) : Number(t);
      if (Number.isNaN(v) || v < min || v > max) return `'${text}' is not a number ${min}-${max}`;
      return { text: String(v), n: v };
    },
    samples: { valid: ['0', '0.5', '1', '0.25'], invalid: ['1.5', '-0.1', 'x', '0.5x'] },
  };
}

/** An address of the rule's family without mask (libxt_iprange, TEE …), in inet_pton's reading. */
export const familyHost: ValueType = {
  describe: 'an address',
  parse(text, family) {
    const a = familyAddress(text, family);
    return a === null ? hostProblem(text, family) : { text: formatHost(family === 'ipv6' ? 6 : 4, a), addr: a };
  },
  samples: host.samples,
};

export { prefixMask, familyWidth, maskPrefix };
