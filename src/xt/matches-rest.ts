// The rest of iptables 1.8.9's match extensions, as data (conventions in matches.ts): payload
// and time matches, IPsec policy, sockets and cgroups, sets and counters, SCTP/DCCP, and the
// IPv6 extension headers.

import type { Family } from '../model/dump.js';
import { formatHost } from '../model/cidr.js';
import { ipv6Address, strtodPrefix, xtUint, xtUintPrefix } from './numbers.js';
import type { Extension, Given, GivenMap, PrintedOption } from './spec.js';
import { opt, printedFlag, printedOf } from './spec.js';
import { saveString } from './values.js';
import { inOrder } from './matches.js';
import {
  choice,
  hostMask,
  portRange,
  protocol,
  servicePortRange,
  str,
  uint,
  uintRange,
  type ValueType,
} from './values.js';
import { protocolName } from '../model/protocols.js';

type MatchDef = Omit<Extension, 'kind'>;
const m = (def: MatchDef): Extension => ({ kind: 'match', ...def });
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** Options in the order they were given (their columns), for parsers whose result depends on it. */
function inputOrder(given: GivenMap): Given[] {
  return [...given.values()].flatMap((g) => g.all).sort((a, b) => a.col - b.col);
}

// --- string ----------------------------------------------------------------------------------

const MAX_PATTERN = 128;

/** --hex-string: text with `|hex hex|` blocks and `\x` escapes, as parse_hex_string reads it. */
function hexPattern(s: string): Buffer | string {
  if (s.length === 0) return 'the pattern must contain at least one character';
  const out: number[] = [];
  const bytes = Buffer.from(s, 'latin1');
  let i = 0;
  let hexMode = false;
  while (i < bytes.length) {
    if (out.length >= MAX_PATTERN) return `pattern too long (more than ${MAX_PATTERN} bytes)`;
    let literal = false;
    const c = bytes[i]!;
    if (c === 0x5c && !hexMode) literal = true;
    else if (c === 0x5c) return 'literals (\\) are not allowed inside hex data';
    else if (c === 0x7c) {
      if (hexMode) hexMode = false;
      else {
        hexMode = true;
        while (bytes[i + 1] === 0x20) i++;
      }
      if (i + 1 >= bytes.length) break;
      i++;
    }
    if (literal) {
      if (i + 1 >= bytes.length) return 'a literal (\\) at the end of the string';
      out.push(bytes[i + 1]!);
      i += 2;
    } else if (hexMode) {
      if (i + 1 >= bytes.length) return 'odd number of hex digits';
      if (i + 2 >= bytes.length) return 'invalid hex block (not closed with |)';
      const pair = String.fromCharCode(bytes[i]!, bytes[i + 1]!);
      if (!/^[0-9a-fA-F]{2}$/.test(pair)) return `invalid hex characters '${pair}'`;
      out.push(parseInt(pair, 16));
      i += bytes[i + 2] === 0x20 ? 3 : 2;
    } else {
      out.push(bytes[i]!);
      i++;
    }
  }
  return Buffer.from(out);
}

const stringPattern: ValueType = {
  describe: `text of at most ${MAX_PATTERN} bytes`,
  parse(text) {
    const b = Buffer.from(text);
    if (b.length > MAX_PATTERN) return `pattern too long (more than ${MAX_PATTERN} bytes)`;
    return { text: b.toString('latin1') };
  },
  samples: { valid: ['GET /', 'a"b\\c', 'x', 'x'.repeat(128)], invalid: ['x'.repeat(129)] },
};

const hexString: ValueType = {
  describe: 'text with |hex| blocks',
  parse(text) {
    const b = hexPattern(text);
    return typeof b === 'string' ? b : { text: b.toString('latin1') };
  },
  samples: {
    valid: ['|0d0a|', 'GET|20|/', '|00 01 ff|', 'a\\|b'],
    invalid: ['', '|0|', '|zz|', '|00', 'a\\', '|0\\0|'],
  },
};

/** print_string/print_hex_string: printable ASCII in quotes (`"` and `\` escaped), else all hex. */
function patternText(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  const printable = bytes.length > 0 && bytes.every((c) => c >= 0x20 && c <= 0x7e) && bytes[bytes.length - 1] !== 0x5c;
  if (!printable) return `"|${[...bytes].map((c) => c.toString(16).padStart(2, '0')).join('')}|"`;
  return `"${latin1.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const string = m({
  name: 'string',
  lib: 'libxt_string',
  revision: 1,
  summary: 'a byte pattern in the packet (Boyer-Moore or Knuth-Pratt-Morris)',
  caseContext: { base: '--algo bm --string x' },
  options: [
    opt('from', uint(16)),
    opt('to', uint(16)),
    opt('algo', str({ size: 16, valid: ['bm', 'kmp'], invalid: ['x', 'BM'] }), { required: true }),
    opt('string', stringPattern, { invert: true, excl: ['hex-string'] }),
    opt('hex-string', hexString, { invert: true, excl: ['string'] }),
    opt('icase', null),
  ],
  check(given) {
    if (!given.has('string') && !given.has('hex-string')) return "give '--string' or '--hex-string'";
    const algo = given.get('algo')!.val.text;
    if (algo !== 'bm' && algo !== 'kmp') return `no text search algorithm '${algo}' in the kernel (bm, kmp)`;
    const from = given.get('from')?.val.n ?? 0;
    const to = given.get('to')?.val.n ?? 65535;
    if (from > to) return `--from ${from} is after --to ${to}`;
    return null;
  },
  save(given) {
    const p = (given.get('string') ?? given.get('hex-string'))!;
    const text = patternText(p.val.text);
    const out: PrintedOption[] = [
      printedFlag(
        (text.startsWith('"|') && p.option.name === 'string') || text.startsWith('"|') ? 'hex-string' : 'string',
        p.negated,
        [text],
      ),
    ];
    out.push(printedFlag('algo', false, [given.get('algo')!.val.text]));
    const from = given.get('from');
    if (from && from.val.n !== 0) out.push(printedOf(from));
    const to = given.get('to');
    if (to && to.val.n !== 65535) out.push(printedOf(to));
    if (given.has('icase')) out.push(printedFlag('icase'));
    return out;
  },
});

// --- time ------------------------------------------------------------------------------------

/** strtoul(s, &e, 10) from `at`: the value and the end. */
function decimal(s: string, at: number): { v: number; end: number } {
  let end = at;
  while (end < s.length && s[end] === ' ') end++;
  const start = end;
  while (end < s.length && s[end]! >= '0' && s[end]! <= '9') end++;
  return { v: end === start ? 0 : Number(s.slice(start, end)), end: end === start ? at : end };
}

/** YYYY[-MM[-DD[Thh[:mm[:ss]]]]] in UTC, years 1970-2038. */
const date: ValueType = {
  describe: 'a date YYYY[-MM[-DD[Thh[:mm[:ss]]]]] (UTC)',
  parse(text) {
    const parts = [1970, 1, 1, 0, 0, 0];
    const seps = ['-', '-', 'T', ':', ':', ''];
    const limits = [
      [1970, 2038],
      [0, 12],
      [0, 31],
      [0, 23],
      [0, 59],
      [0, 59],
    ];
    let at = 0;
    for (let i = 0; i < 6; i++) {
      const { v, end } = decimal(text, at);
      const next = text[end] ?? '';
      if ((next !== seps[i] && next !== '') || v < limits[i]![0]! || v > limits[i]![1]!)
        return `invalid date '${text}' (YYYY[-MM[-DD[Thh[:mm[:ss]]]]])`;
      parts[i] = v;
      if (next === '') break;
      at = end + 1;
    }
    const [y, mo, d, h, mi, s] = parts as [number, number, number, number, number, number];
    const t = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
    if (t < 0) return `invalid date '${text}'`;
    return { text: String(t), n: t };
  },
  samples: {
    valid: ['2024', '2024-02-29', '2024-03-01T12:30', '2030-12-31T23:59:59', '1970-01-01', '2038-12-31'],
    invalid: ['1969', '2039', '2024-13-01', '2024/01/01', '2024-01-01T24:00'],
  },
};

const daytime: ValueType = {
  describe: 'a time hh:mm[:ss]',
  parse(text) {
    const h = decimal(text, 0);
    if (text[h.end] !== ':' || h.v > 23) return `invalid time '${text}' (hh:mm[:ss])`;
    const mi = decimal(text, h.end + 1);
    const after = text[mi.end] ?? '';
    if ((after !== ':' && after !== '') || mi.v > 59) return `invalid time '${text}' (hh:mm[:ss])`;
    let s = 0;
    if (after === ':') {
      const x = decimal(text, mi.end + 1);
      if (x.end !== text.length || x.v > 59) return `invalid time '${text}' (hh:mm[:ss])`;
      s = x.v;
    }
    return { text: '', n: h.v * 3600 + mi.v * 60 + s };
  },
  samples: { valid: ['08:00', '23:59:59', '0:0', '12:30:15'], invalid: ['24:00', '12', '12:60', 'x'] },
};

const WEEK_DAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Items of a comma list cut to `width` characters each, as my_strseg() with a small buffer does. */
function segments(text: string, width: number): string[] {
  if (text === '') return [];
  return text.split(',').map((s) => s.slice(0, width));
}

const weekdays: ValueType = {
  describe: 'a list of Mon … Sun or 1-7',
  parse(text) {
    let bits = 0;
    for (const day of segments(text, 3)) {
      const r = xtUintPrefix(day, 0n, 0xffffffffn);
      if (r !== null && r.end === day.length) {
        if (r.value === 0n) return 'the week does not begin with Sunday (0): days are 1 (Mon) to 7 (Sun)';
        bits |= Number(1n << (r.value & 31n)) | 0;
        continue;
      }
      let ok = false;
      for (let i = 1; i <= 7; i++) {
        if (day.slice(0, 2) === WEEK_DAYS[i]!.slice(0, 2) && day.length >= 2) {
          bits |= 1 << i;
          ok = true;
        }
      }
      if (!ok) return `'${day}' is not a day (Mon … Sun, 1-7)`;
    }
    return { text: '', n: bits & 0xff };
  },
  samples: { valid: ['Mon', 'Sat,Sun', '1,2,3', 'Monday', 'Fr', '7'], invalid: ['0', 'mon', 'x', 'Mo1x'] },
};

const monthdays: ValueType = {
  describe: 'a list of days 1-31',
  parse(text) {
    let bits = 0;
    for (const day of segments(text, 2)) {
      const r = xtUintPrefix(day, 0n, 0xffffffffn);
      if (r === null || r.end !== day.length || r.value > 31n) return `'${day}' is not a day of the month (1-31)`;
      bits |= 1 << Number(r.value);
    }
    return { text: '', n: bits >>> 0 };
  },
  samples: { valid: ['1', '1,15,31', '31', '28,29'], invalid: ['32', 'x', '0x5'] },
};

const ALL_MONTHDAYS = 0xfffffffe;
const ALL_WEEKDAYS = 0xfe;

function clock(seconds: number): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(seconds / 3600))}:${p(Math.floor(seconds / 60) % 60)}:${p(seconds % 60)}`;
}

function isoDate(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 19);
}

const time = m({
  name: 'time',
  lib: 'libxt_time',
  summary: 'the time of day, weekday, day of the month or date range',
  options: [
    opt('datestart', date),
    opt('datestop', date),
    opt('timestart', daytime),
    opt('timestop', daytime),
    opt('contiguous', null),
    opt('weekdays', weekdays, { invert: true }),
    opt('monthdays', monthdays, { invert: true }),
    opt('localtz', null, { excl: ['utc'] }),
    opt('utc', null, { excl: ['localtz', 'kerneltz'] }),
    opt('kerneltz', null, { excl: ['utc'] }),
  ],
  check(given) {
    const start = given.get('timestart')?.val.n ?? 0;
    const stop = given.get('timestop')?.val.n ?? 86399;
    if (given.has('contiguous') && start < stop)
      return '--contiguous only makes sense when --timestop is before --timestart';
    return null;
  },
  save(given) {
    const out: PrintedOption[] = [];
    const start = given.get('timestart')?.val.n ?? 0;
    const stop = given.get('timestop')?.val.n ?? 86399;
    if (start !== 0 || stop !== 86399)
      out.push(printedFlag('timestart', false, [clock(start)]), printedFlag('timestop', false, [clock(stop)]));
    const md = given.get('monthdays');
    const mdBits = md ? (md.negated ? (md.val.n! ^ ALL_MONTHDAYS) >>> 0 : md.val.n!) : ALL_MONTHDAYS;
    if (mdBits !== ALL_MONTHDAYS) {
      const days: number[] = [];
      for (let i = 1; i <= 31; i++) if (mdBits & (1 << i)) days.push(i);
      out.push(printedFlag('monthdays', false, [days.join(',')]));
    }
    const wd = given.get('weekdays');
    const wdBits = wd ? (wd.negated ? (wd.val.n! ^ ALL_WEEKDAYS) & 0xff : wd.val.n!) : ALL_WEEKDAYS;
    if (wdBits !== ALL_WEEKDAYS) {
      const days: string[] = [];
      for (let i = 1; i <= 7; i++) if (wdBits & (1 << i)) days.push(WEEK_DAYS[i]!);
      out.push(printedFlag('weekdays', false, [days.join(',')]));
    }
    const ds = given.get('datestart')?.val.n ?? 0;
    if (ds !== 0) out.push(printedFlag('datestart', false, [isoDate(ds)]));
    // The kernel's "no end" is INT_MAX, which save (comparing with LONG_MAX) prints; 0 it leaves out.
    const de = given.get('datestop')?.val.n ?? 0x7fffffff;
    if (de !== 0) out.push(printedFlag('datestop', false, [isoDate(de)]));
    if (given.has('kerneltz') || given.has('localtz')) out.push(printedFlag('kerneltz'));
    if (given.has('contiguous')) out.push(printedFlag('contiguous'));
    return out;
  },
});

// --- u32 -------------------------------------------------------------------------------------

/** The u32 test language (location operators & << >> @, values and ranges, tests joined by &&). */
const u32Expr: ValueType = {
  describe: 'u32 tests LOCATION=VALUE[:VALUE][,…][&&…]',
  parse(text) {
    let i = 0;
    const at = (): string => text[i] ?? '';
    const skip = (): void => {
      while (/\s/.test(at())) i++;
    };
    const number = (): number | string => {
      const r = xtUintPrefix(text, 0n, 0xffffffffn, i);
      if (r === null || r.end === i) return `u32: at char ${i}: not a number or out of range`;
      i = r.end;
      return Number(r.value);
    };
    const tests: string[] = [];
    let loc: string[] = [];
    let vals: string[] = [];
    let state = 0;
    for (;;) {
      skip();
      if (at() === '') {
        if (state === 0) return 'u32: abrupt end of input after location specifier';
        if (vals.length === 0) return 'u32: test ended with no value specified';
        tests.push(`${loc.join('')}=${vals.join(',')}`);
        if (tests.length > 11) return 'u32: too many "&&"s';
        break;
      }
      if (state === 0) {
        if (at() === '=') {
          if (loc.length === 0) return `u32: at char ${i}: location spec missing`;
          i++;
          state = 1;
          continue;
        }
        let op = '';
        if (loc.length > 0) {
          const c = at();
          if (c === '&') op = '&';
          else if (c === '<' || c === '>') {
            i++;
            if (at() !== c) return `u32: at char ${i}: a second '${c}' was expected`;
            op = c + c;
          } else if (c === '@') op = '@';
          else return `u32: at char ${i}: operator expected`;
          i++;
        }
        const n = number();
        if (typeof n === 'string') return n;
        loc.push(`${op}${hex(n)}`);
        if (loc.length > 11) return `u32: at char ${i}: too many operators`;
      } else if (at() === '&') {
        i++;
        if (at() !== '&') return `u32: at char ${i}: a second '&' was expected`;
        if (vals.length === 0) return `u32: at char ${i}: value spec missing`;
        tests.push(`${loc.join('')}=${vals.join(',')}`);
        if (tests.length > 10) return `u32: at char ${i}: too many "&&"s`;
        i++;
        state = 0;
        loc = [];
        vals = [];
      } else {
        if (vals.length > 0) {
          if (at() !== ',') return `u32: at char ${i}: expected "," or "&&"`;
          i++;
        }
        const lo = number();
        if (typeof lo === 'string') return lo;
        skip();
        let hi = lo;
        if (at() === ':') {
          i++;
          const h = number();
          if (typeof h === 'string') return h;
          hi = h;
        }
        vals.push(lo === hi ? hex(lo) : `${hex(lo)}:${hex(hi)}`);
        if (vals.length > 11) return `u32: at char ${i}: too many ","s`;
      }
    }
    return { text: `"${tests.join('&&')}"` };
  },
  samples: {
    valid: ['0>>22&0x3C@12>>16=1:0xFFFF', '6&0xFF=17', '0=0x45000000:0x4500FFFF&&6&0xFF=6', '4 = 5 , 6'],
    invalid: ['', '=1', '6&0xFF', '6 x 1=1', '6&=1', '0=1&1=2'],
  },
};

const u32 = m({
  name: 'u32',
  lib: 'libxt_u32',
  summary: 'tests on 32-bit words at computed offsets in the packet',
  options: [opt('u32', u32Expr, { invert: true, required: true })],
});

// --- IPsec policy ----------------------------------------------------------------------------

const policyProto: ValueType = {
  describe: 'ah, esp or ipcomp',
  parse(text, family) {
    const r = protocol.parse(text, family);
    if (typeof r === 'string') return r;
    if (![50, 51, 108].includes(r.n!)) return 'the protocol must be ah, esp or ipcomp';
    return { text: protocolName(r.n!), n: r.n };
  },
  samples: { valid: ['esp', 'ah', 'ipcomp', '50'], invalid: ['tcp', 'x'] },
};

const policy = m({
  name: 'policy',
  lib: 'libxt_policy',
  summary: 'the IPsec policy that applied (or will) to the packet',
  caseContext: { base: '--dir in --pol ipsec' },
  options: [
    opt('dir', choice({ in: 'in', out: 'out' }, { invalid: ['IN', 'x'] }), { required: false }),
    opt('pol', choice({ none: 'none', ipsec: 'ipsec' }, { invalid: ['IPSEC', 'x'] })),
    opt('strict', null),
    opt('reqid', uint(32), { multi: true, invert: true }),
    opt('spi', uint(32), { multi: true, invert: true }),
    opt('tunnel-src', hostMask, { multi: true, invert: true }),
    opt('tunnel-dst', hostMask, { multi: true, invert: true }),
    opt('proto', policyProto, { multi: true, invert: true }),
    opt('mode', choice({ transport: 'transport', tunnel: 'tunnel' }, { invalid: ['Tunnel', 'x'] }), {
      multi: true,
      invert: true,
    }),
    opt('next', null, { multi: true, also: ['strict'] }),
  ],
  check(given) {
    const r = policyElements(given);
    return typeof r === 'string' ? r : null;
  },
  save(given, family) {
    const r = policyElements(given) as PolicyState;
    const out: PrintedOption[] = [
      printedFlag('dir', false, [r.dir]),
      printedFlag('pol', false, [r.none ? 'none' : 'ipsec']),
    ];
    if (r.strict) out.push(printedFlag('strict'));
    r.elements.forEach((e, i) => {
      for (const name of ['reqid', 'spi', 'proto', 'mode', 'tunnel-dst', 'tunnel-src']) {
        const g = e.get(name);
        if (!g) continue;
        const text = name === 'spi' ? hex(g.val.n!) : name.startsWith('tunnel') ? addrText(g, family) : g.val.text;
        out.push(printedFlag(name, g.negated, [text]));
      }
      if (i + 1 < r.elements.length) out.push(printedFlag('next'));
    });
    return out;
  },
  hookCheck(given, hooks) {
    const dir = given.get('dir')?.val.text;
    if (dir === 'in' && (hooks.has('OUTPUT') || hooks.has('POSTROUTING')))
      return '--dir in is not valid in OUTPUT and POSTROUTING';
    if (dir === 'out' && (hooks.has('PREROUTING') || hooks.has('INPUT')))
      return '--dir out is not valid in PREROUTING and INPUT';
    return null;
  },
});

function addrText(g: Given, family: Family): string {
  return g.val.text.includes('/') ? g.val.text : `${formatHost(family === 'ipv6' ? 6 : 4, g.val.addr!)}`;
}

interface PolicyState {
  readonly dir: string;
  readonly none: boolean;
  readonly strict: boolean;
  readonly elements: ReadonlyArray<Map<string, Given>>;
}

/** What policy_parse and policy_check build: one element per --next. */
function policyElements(given: GivenMap): PolicyState | string {
  const elements: Array<Map<string, Given>> = [new Map()];
  for (const g of inputOrder(given)) {
    const name = g.option.name;
    if (name === 'next') {
      if (elements.length === 4) return 'maximum policy depth (4 elements) reached';
      elements.push(new Map());
      continue;
    }
    if (['dir', 'pol', 'strict'].includes(name)) continue;
    const e = elements[elements.length - 1]!;
    if (e.has(name)) return `double --${name} in one policy element`;
    e.set(name, g);
  }
  const dir = given.get('dir')?.val.text;
  if (!dir) return 'neither --dir in nor --dir out given';
  const none = given.get('pol')?.val.text === 'none';
  const strict = given.has('strict');
  if (none) {
    if (strict) return '--pol none with --strict';
    if (elements.length > 1 || elements[0]!.size > 0) return '--pol none with policy elements';
    return { dir, none, strict, elements: [] };
  }
  for (const [i, e] of elements.entries()) {
    if (strict && e.size === 0)
      return `empty policy element ${i} with --strict (give reqid, spi, tunnel-src, tunnel-dst, proto or mode)`;
    const mode = e.get('mode');
    const tunnel = mode !== undefined && (mode.val.text === 'tunnel') !== mode.negated;
    if ((e.has('tunnel-src') || e.has('tunnel-dst')) && !tunnel) return '--tunnel-src/--tunnel-dst need --mode tunnel';
  }
  return { dir, none, strict, elements };
}

// --- sockets, cgroups, routing ---------------------------------------------------------------

const socket = m({
  name: 'socket',
  lib: 'libxt_socket',
  revision: 3,
  hooks: ['PREROUTING', 'INPUT'],
  summary: 'packets that belong to a local socket (transparent proxying)',
  options: [opt('transparent', null), opt('nowildcard', null), opt('restore-skmark', null)],
});

const rpfilter = m({
  name: 'rpfilter',
  lib: 'libxt_rpfilter',
  tables: ['raw', 'mangle'],
  hooks: ['PREROUTING'],
  summary: 'reverse-path filtering: would the reply be routed back out the interface it came in on',
  options: [opt('loose', null), opt('validmark', null), opt('accept-local', null), opt('invert', null)],
});

const cgroup = m({
  name: 'cgroup',
  lib: 'libxt_cgroup',
  revision: 2,
  hooks: ['INPUT', 'OUTPUT', 'POSTROUTING'],
  summary: 'the cgroup (v2 path or net_cls class id) of the local socket',
  options: [
    opt('path', str({ size: 4096, valid: ['/'], invalid: [] }), { invert: true, quoted: true, excl: ['cgroup'] }),
    opt('cgroup', uint(32), { invert: true, excl: ['path'] }),
  ],
  check: (given) => (given.size === 0 ? 'give --path or --cgroup' : null),
  save: (given) => inOrder(given, ['path', 'cgroup']),
});

const cluster = m({
  name: 'cluster',
  lib: 'libxt_cluster',
  summary: 'a share of the traffic in a cluster of hosts (by hashed source)',
  caseContext: { base: '--cluster-total-nodes 2 --cluster-local-node 1 --cluster-hash-seed 0xdeadbeef' },
  options: [
    opt('cluster-total-nodes', uint(32, { min: 1, max: 32 }), { required: true }),
    opt('cluster-local-node', uint(32, { min: 1, max: 32 }), { invert: true, excl: ['cluster-local-nodemask'] }),
    opt('cluster-local-nodemask', uint(32, { min: 1, max: 32 }), { invert: true, excl: ['cluster-local-node'] }),
    opt('cluster-hash-seed', uint(32), { required: true }),
  ],
  check(given) {
    const total = given.get('cluster-total-nodes')!.val.n!;
    const node = given.get('cluster-local-node');
    const mask = given.get('cluster-local-nodemask');
    if (!node && !mask) return "'--cluster-local-node' or '--cluster-local-nodemask' is missing";
    const bits = node ? 2 ** (node.val.n! - 1) : mask!.val.n!;
    if (bits >= 2 ** total)
      return node
        ? "'--cluster-local-node' must be <= '--cluster-total-nodes'"
        : "'--cluster-local-nodemask' too big for '--cluster-total-nodes'";
    return null;
  },
  save(given) {
    const node = given.get('cluster-local-node');
    const mask = given.get('cluster-local-nodemask');
    const bits = node ? 2 ** (node.val.n! - 1) : mask!.val.n!;
    const h8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
    return [
      printedFlag('cluster-local-nodemask', (node ?? mask)!.negated, [h8(bits)]),
      printedFlag('cluster-total-nodes', false, [given.get('cluster-total-nodes')!.val.text]),
      printedFlag('cluster-hash-seed', false, [h8(given.get('cluster-hash-seed')!.val.n!)]),
    ];
  },
});

const connlabel = m({
  name: 'connlabel',
  lib: 'libxt_connlabel',
  summary: 'a connection tracking label',
  options: [
    opt(
      'label',
      {
        describe: 'a label number 0-127 (names need /etc/xtables/connlabel.conf)',
        parse(text) {
          const n = xtUint(text, 0n, 127n);
          return n === null
            ? `label '${text}' not found or invalid (a number 0-127; names come from the host's connlabel.conf)`
            : { text: `"${n}"`, n: Number(n) };
        },
        samples: { valid: ['0', '1', '127'], invalid: ['128', 'x', ''] },
      },
      { invert: true, required: true },
    ),
    opt('set', null),
  ],
});

const osf = m({
  name: 'osf',
  lib: 'libxt_osf',
  family: 'ipv4',
  protocols: ['tcp'],
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  summary: 'the operating system of a TCP SYN (passive fingerprinting)',
  options: [
    opt('genre', str({ size: 32, valid: ['Linux', 'Windows'] }), { invert: true, required: true }),
    opt('ttl', uint(32, { max: 2 })),
    opt('log', uint(32, { max: 2 })),
  ],
});

const nfacct = m({
  name: 'nfacct',
  lib: 'libxt_nfacct',
  revision: 1,
  summary: 'count into an extended accounting object (nfacct)',
  caseContext: { base: '--nfacct-name vt' },
  options: [
    opt(
      'nfacct-name',
      {
        describe: 'an accounting object name',
        parse: (text) =>
          text === ''
            ? 'the name must be at least 1 character'
            : text.includes('\n')
              ? 'newlines are not allowed in --nfacct-name'
              : { text: Buffer.from(text).subarray(0, 31).toString() },
        samples: { valid: ['vt'], invalid: [''] },
      },
      { required: true },
    ),
  ],
  // nfacct_print_name() prints a blank of its own before xtables_save_string's.
  save: (given) => [printedFlag('nfacct-name', false, [` ${saveString(given.get('nfacct-name')!.val.text)}`])],
});

// --- sets ------------------------------------------------------------------------------------

/** `src,dst,…` (up to 6): the dimension flags of --match-set and SET's options. */
export const setDirs: ValueType = {
  describe: 'a list of src and dst',
  parse(text) {
    const dirs: string[] = [];
    for (const d of text.split(',')) {
      if (dirs.length === 6) break;
      if (d.startsWith('src')) dirs.push('src');
      else if (d.startsWith('dst')) dirs.push('dst');
      else return "give (a comma-separated list of) 'src' or 'dst'";
    }
    return { text: dirs.join(','), n: dirs.length };
  },
  samples: { valid: ['src', 'dst', 'src,dst'], invalid: ['x', 'src,x'] },
};

/** An ipset name: its existence and family are the host's (virtables cannot see its sets). */
export const setName: ValueType = {
  describe: 'an ipset name (at most 31 characters)',
  parse: (text) => (Buffer.byteLength(text) > 31 ? `set name '${text}' is longer than 31 characters` : { text }),
  samples: { valid: ['vt'], invalid: ['x'.repeat(32)] },
};

const counter = uint(64);

const set = m({
  name: 'set',
  lib: 'libxt_set',
  revision: 4,
  summary: 'membership of the source or destination in an ipset',
  caseContext: { base: '--match-set vt src' },
  options: [
    opt('match-set', setName, { second: setDirs, invert: true, aliases: ['set'] }),
    opt('return-nomatch', null, { multi: true }),
    opt('update-counters', null, { invert: true, multi: true }),
    opt('update-subcounters', null, { invert: true, multi: true }),
    opt('packets-eq', counter, { invert: true, excl: ['packets-lt', 'packets-gt'] }),
    opt('packets-lt', counter, { excl: ['packets-eq', 'packets-gt'] }),
    opt('packets-gt', counter, { excl: ['packets-eq', 'packets-lt'] }),
    opt('bytes-eq', counter, { invert: true, excl: ['bytes-lt', 'bytes-gt'] }),
    opt('bytes-lt', counter, { excl: ['bytes-eq', 'bytes-gt'] }),
    opt('bytes-gt', counter, { excl: ['bytes-eq', 'bytes-lt'] }),
  ],
  check: (given) => (!given.has('match-set') ? "give '--match-set NAME src|dst'" : null),
  save(given) {
    const g = given.get('match-set')!;
    const out: PrintedOption[] = [printedFlag('match-set', g.negated, [g.val.text, g.second!.text])];
    if (given.has('return-nomatch')) out.push(printedFlag('return-nomatch'));
    if (given.get('update-counters')?.all.some((g) => g.negated)) out.push(printedFlag('update-counters', true));
    if (given.get('update-subcounters')?.all.some((g) => g.negated)) out.push(printedFlag('update-subcounters', true));
    out.push(...inOrder(given, ['packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt']));
    return out;
  },
});

const RATE_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['bit', 1],
  ['Kibit', 1024],
  ['kbit', 1000],
  ['Mibit', 1024 ** 2],
  ['mbit', 1e6],
  ['Gibit', 1024 ** 3],
  ['gbit', 1e9],
  ['Tibit', 1024 ** 4],
  ['tbit', 1e12],
  ['Bps', 8],
  ['KiBps', 8 * 1024],
  ['KBps', 8000],
  ['MiBps', 8 * 1024 ** 2],
  ['MBps', 8e6],
  ['GiBps', 8 * 1024 ** 3],
  ['GBps', 8e9],
  ['TiBps', 8 * 1024 ** 4],
  ['TBps', 8e12],
];

/** A tc-style rate (`100kbit`, `1MBps`; a bare number is bits per second), kept as bytes per second. */
const estRate: ValueType = {
  describe: 'a rate N[bit|kbit|mbit|gbit|Bps|KBps|MBps…]',
  parse(text) {
    const r = strtodPrefix(text);
    if (!r) return `could not parse rate '${text}'`;
    const v = r.value;
    const unit = text.slice(r.end);
    const scale = unit === '' ? 1 : RATE_SUFFIXES.find(([n]) => n.toLowerCase() === unit.toLowerCase())?.[1];
    if (scale === undefined) return `could not parse rate '${text}'`;
    return { text: '', n: Math.trunc((v * scale) / 8) >>> 0 };
  },
  samples: { valid: ['0', '1mbit', '64kbit', '1000', '1MBps'], invalid: ['x', '1foo'] },
};

function estRateText(rate: number): string {
  const bits = rate * 8;
  if (bits >= 1e9) return `${(bits / 1e6).toFixed(0)}Mbit`;
  if (bits >= 1e6) return `${(bits / 1e3).toFixed(0)}Kbit`;
  return `${bits.toFixed(0)}bit`;
}

const estName = str({ size: 16, valid: ['vt'], invalid: [] });

const rateest = m({
  name: 'rateest',
  lib: 'libxt_rateest',
  summary: 'compare rates measured by RATEEST estimators',
  caseContext: {
    base: '--rateest vt --rateest-bps1 0 --rateest-gt',
    before: ['-j RATEEST --rateest-name vt --rateest-interval 1s --rateest-ewmalog 2s'],
  },
  options: [
    opt('rateest1', estName, { aliases: ['rateest'] }),
    opt('rateest2', estName),
    opt('rateest-bps1', estRate, { optionalValue: true }),
    opt('rateest-pps1', uint(32), { optionalValue: true }),
    opt('rateest-bps2', estRate, { optionalValue: true, aliases: ['rateest-bps'] }),
    opt('rateest-pps2', uint(32), { optionalValue: true, aliases: ['rateest-pps'] }),
    opt('rateest-delta', null),
    opt('rateest-lt', null, { invert: true }),
    opt('rateest-gt', null, { invert: true }),
    opt('rateest-eq', null, { invert: true }),
  ],
  check(given) {
    if (!given.has('rateest1')) return 'no estimator named (--rateest NAME)';
    if (!['rateest-bps1', 'rateest-bps2', 'rateest-pps1', 'rateest-pps2'].some((n) => given.has(n)))
      return 'give a rate to compare (--rateest-bps or --rateest-pps)';
    if (!['rateest-lt', 'rateest-gt', 'rateest-eq'].some((n) => given.has(n)))
      return 'give the comparison (--rateest-lt, --rateest-gt or --rateest-eq)';
    return null;
  },
  save(given) {
    const delta = given.has('rateest-delta');
    const rel = given.has('rateest2');
    const modeGiven = [...given.values()]
      .filter((g) => ['rateest-lt', 'rateest-gt', 'rateest-eq'].includes(g.option.name))
      .sort((a, b) => a.col - b.col);
    const invert = modeGiven.some((g) => g.negated);
    const mode = printedFlag(modeGiven[modeGiven.length - 1]!.option.name, invert);
    const out: PrintedOption[] = [];
    if (delta) out.push(printedFlag('rateest-delta'));
    out.push(printedFlag(rel ? 'rateest1' : 'rateest', false, [given.get('rateest1')!.val.text]));
    for (const [kind, text] of [
      ['bps', (n: number) => estRateText(n)],
      ['pps', (n: number) => String(n)],
    ] as const) {
      if (!given.has(`rateest-${kind}1`) && !given.has(`rateest-${kind}2`)) continue;
      const r1 = given.get(`rateest-${kind}1`)?.val.n ?? 0;
      const r2 = given.get(`rateest-${kind}2`)?.val.n ?? 0;
      if (delta)
        out.push(
          printedFlag(`rateest-${kind}1`, false, [text(r1)]),
          mode,
          printedFlag(`rateest-${kind}2`, false, [text(r2)]),
        );
      else out.push(mode, printedFlag(`rateest-${kind}`, false, rel ? [] : [text(r2)]));
    }
    if (rel) out.push(printedFlag('rateest2', false, [given.get('rateest2')!.val.text]));
    return out;
  },
});

// --- SCTP, DCCP ------------------------------------------------------------------------------

const DCCP_TYPES = [
  'REQUEST',
  'RESPONSE',
  'DATA',
  'ACK',
  'DATAACK',
  'CLOSEREQ',
  'CLOSE',
  'RESET',
  'SYNC',
  'SYNCACK',
  'INVALID',
];
const dccpTypes: ValueType = {
  describe: `a list of ${DCCP_TYPES.join(', ')}`,
  parse(text) {
    let mask = 0;
    for (const t of text.split(',').filter((x) => x !== '')) {
      const i = DCCP_TYPES.findIndex((n) => n.toLowerCase() === t.toLowerCase());
      if (i < 0) return `unknown DCCP type '${t}'`;
      mask |= 1 << i;
    }
    if (mask & (1 << 10)) mask |= 0xfc00;
    const names: string[] = [];
    for (let i = 0; i < 16; i++) {
      if (!(mask & (1 << i))) continue;
      names.push(DCCP_TYPES[i] ?? String(i));
      if (i === 10) break;
    }
    return { text: names.join(','), bits: mask };
  },
  samples: { valid: ['REQUEST', 'data,ack', 'INVALID', 'SYNC,REQUEST'], invalid: ['x', 'REQUEST,x'] },
};

function portsOrDccp(given: GivenMap): PrintedOption[] {
  const out: PrintedOption[] = [];
  for (const name of ['sport', 'dport']) {
    const g = given.get(name);
    if (g) out.push(printedOf(g));
  }
  const t = given.get('dccp-types');
  if (t) out.push(printedOf(t));
  const o = given.get('dccp-option');
  if (o) out.push(printedOf(o));
  return out;
}

const dccp = m({
  name: 'dccp',
  lib: 'libxt_dccp',
  protocols: ['dccp'],
  summary: 'DCCP ports, packet types and options',
  options: [
    opt('sport', portRange, { aliases: ['source-port'], invert: true }),
    opt('dport', portRange, { aliases: ['destination-port'], invert: true }),
    opt('dccp-types', dccpTypes, { invert: true }),
    opt('dccp-option', uint(8, { min: 1 }), { invert: true }),
  ],
  save: portsOrDccp,
});

const SCTP_CHUNKS: ReadonlyArray<readonly [string, number]> = [
  ['DATA', 0],
  ['INIT', 1],
  ['INIT_ACK', 2],
  ['SACK', 3],
  ['HEARTBEAT', 4],
  ['HEARTBEAT_ACK', 5],
  ['ABORT', 6],
  ['SHUTDOWN', 7],
  ['SHUTDOWN_ACK', 8],
  ['ERROR', 9],
  ['COOKIE_ECHO', 10],
  ['COOKIE_ACK', 11],
  ['ECN_ECNE', 12],
  ['ECN_CWR', 13],
  ['SHUTDOWN_COMPLETE', 14],
  ['I_DATA', 64],
  ['RE_CONFIG', 130],
  ['PAD', 132],
  ['ASCONF', 193],
  ['ASCONF_ACK', 128],
  ['FORWARD_TSN', 192],
  ['I_FORWARD_TSN', 194],
];

/** --chunk-types all|any|only CHUNK[:FLAGS],… */
const chunkTypes: ValueType = {
  describe: 'all, any or only, then a list of chunk types',
  parse(text) {
    if (!['all', 'any', 'only'].includes(text)) return `--chunk-types '${text}': give all, any or only first`;
    return { text };
  },
  samples: { valid: ['all', 'any', 'only'], invalid: ['x', 'ALL'] },
};
const chunkList: ValueType = {
  describe: 'a list of SCTP chunk types',
  parse(text) {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const item of text.split(',')) {
      const [name, flags] = item.split(':', 2) as [string, string | undefined];
      const hit = SCTP_CHUNKS.find(([n]) => n.toLowerCase() === name.toLowerCase());
      if (!hit && name.toUpperCase() !== 'NONE') return `unknown chunk type '${name}'`;
      if (flags !== undefined && !/^[a-zA-Z]*$/.test(flags)) return `bad chunk flags '${flags}'`;
      const n = hit ? hit[0] : 'NONE';
      if (seen.has(n)) continue;
      seen.add(n);
      out.push(flags ? `${n}:${flags}` : n);
    }
    return { text: out.join(',') };
  },
  samples: { valid: ['INIT', 'DATA,SACK', 'NONE', 'init'], invalid: ['x', 'INIT,x'] },
};

const sctp = m({
  name: 'sctp',
  lib: 'libxt_sctp',
  protocols: ['sctp'],
  summary: 'SCTP ports and chunk types',
  options: [
    opt('sport', servicePortRange('sctp'), { aliases: ['source-port'], invert: true }),
    opt('dport', servicePortRange('sctp'), { aliases: ['destination-port'], invert: true }),
    opt('chunk-types', chunkTypes, { second: chunkList, invert: true }),
  ],
  save: (given) => inOrder(given, ['sport', 'dport', 'chunk-types']),
});

// --- IPv6 extension headers ------------------------------------------------------------------

/** `TYPE[:LEN],…` of --dst-opts/--hbh-opts (at most 16). */
const optsList: ValueType = {
  describe: 'a list of option TYPE[:LENGTH] (at most 16)',
  parse(text) {
    const out: string[] = [];
    const items = text.split(',');
    if (items.length > 16) return 'too many options (16 at most)';
    for (const item of items) {
      const [t, l] = item.split(':', 2) as [string, string | undefined];
      const type = xtUint(t, 0n, 0xffffffffn);
      if (type === null) return `bad option type '${t}'`;
      if (l === undefined) {
        out.push(String(Number(type & 0xffn)));
        continue;
      }
      if ((type & 0xffn) === 0n) return 'PAD0 has no length';
      const len = xtUint(l, 0n, 0xffffffffn);
      if (len === null) return `bad option length '${l}'`;
      out.push(`${Number(type & 0xffn)}:${Number(len & 0xffn)}`);
    }
    return { text: out.join(',') };
  },
  samples: { valid: ['1', '1:2,5', '194:4'], invalid: ['x', '0:1', '1:x'] },
};

function optsHeader(name: 'dst' | 'hbh'): Extension {
  const lenOpt = `${name}-len`;
  const optsOpt = `${name}-opts`;
  return m({
    name,
    lib: `libip6t_${name}`,
    family: 'ipv6',
    summary: name === 'dst' ? 'the destination options header' : 'the hop-by-hop options header',
    options: [opt(lenOpt, uint(32), { invert: true }), opt(optsOpt, optsList)],
    save: (given) => inOrder(given, [lenOpt, optsOpt]),
  });
}

const frag = m({
  name: 'frag',
  lib: 'libip6t_frag',
  family: 'ipv6',
  summary: 'the fragment header',
  options: [
    opt('fragid', uintRange(32), { invert: true }),
    opt('fraglen', uint(32), { invert: true }),
    opt('fragres', null),
    opt('fragfirst', null),
    opt('fragmore', null, { excl: ['fraglast'] }),
    opt('fraglast', null, { excl: ['fragmore'] }),
  ],
  save(given) {
    const out: PrintedOption[] = [];
    const id = given.get('fragid');
    if (id && !(id.val.lo === 0 && id.val.hi === 0xffffffff)) out.push(printedOf(id));
    out.push(...inOrder(given, ['fraglen', 'fragres', 'fragfirst', 'fragmore', 'fraglast']));
    return out;
  },
});

const v6List: ValueType = {
  describe: 'a list of IPv6 addresses (at most 16)',
  parse(text) {
    const items = text.split(',');
    if (items.length > 16) return 'too many addresses (16 at most)';
    const out: string[] = [];
    for (const a of items) {
      const v = ipv6Address(a);
      if (v === null) return `bad address '${a}'`;
      out.push(formatHost(6, v));
    }
    return { text: out.join(',') };
  },
  samples: { valid: ['2001:db8::1', '::1,::2'], invalid: ['x', '10.0.0.1'] },
};

const rt = m({
  name: 'rt',
  lib: 'libip6t_rt',
  family: 'ipv6',
  summary: 'the routing header',
  options: [
    opt('rt-type', uint(32), { invert: true }),
    opt('rt-segsleft', uintRange(32), { invert: true }),
    opt('rt-len', uint(32), { invert: true }),
    opt('rt-0-res', null),
    opt('rt-0-addrs', v6List),
    opt('rt-0-not-strict', null),
  ],
  ruleCheck(given) {
    const type = given.get('rt-type');
    const type0 = type && !type.negated && type.val.n === 0;
    for (const name of ['rt-0-res', 'rt-0-addrs']) {
      const g = given.get(name);
      if (g && (!type0 || type!.col > g.col)) return `'--rt-type 0' is required before '--${name}'`;
    }
    const ns = given.get('rt-0-not-strict');
    const addrs = given.get('rt-0-addrs');
    if (ns && (!addrs || addrs.col > ns.col)) return "'--rt-0-addrs …' is required before '--rt-0-not-strict'";
    return null;
  },
  save(given) {
    const out: PrintedOption[] = inOrder(given, ['rt-type']);
    const s = given.get('rt-segsleft');
    if (s && !(s.val.lo === 0 && s.val.hi === 0xffffffff)) out.push(printedOf(s));
    out.push(...inOrder(given, ['rt-len', 'rt-0-res', 'rt-0-addrs', 'rt-0-not-strict']));
    return out;
  },
});

const MH_TYPES: ReadonlyArray<readonly [string, number]> = [
  ['binding-refresh-request', 0],
  ['brr', 0],
  ['home-test-init', 1],
  ['hoti', 1],
  ['careof-test-init', 2],
  ['coti', 2],
  ['home-test', 3],
  ['hot', 3],
  ['careof-test', 4],
  ['cot', 4],
  ['binding-update', 5],
  ['bu', 5],
  ['binding-acknowledgement', 6],
  ['ba', 6],
  ['binding-error', 7],
  ['be', 7],
];

function mhType(name: string): number | null {
  let hit: readonly [string, number] | undefined;
  for (const e of MH_TYPES) {
    if (!e[0].toLowerCase().startsWith(name.toLowerCase())) continue;
    if (!hit || e[0].length === name.length) hit = e;
  }
  if (hit) return hit[1];
  const n = xtUint(name, 0n, 255n);
  return n === null ? null : Number(n);
}

const mhTypes: ValueType = {
  describe: 'a mobility header type (name or number) or range A:B',
  parse(text) {
    const colon = text.indexOf(':');
    const one = (t: string, dflt: number): number | string =>
      t === '' ? dflt : (mhType(t) ?? `invalid MH type '${t}'`);
    const lo = one(colon < 0 ? text : text.slice(0, colon), 0);
    if (typeof lo === 'string') return lo;
    const hi = colon < 0 ? lo : one(text.slice(colon + 1), 255);
    if (typeof hi === 'string') return hi;
    if (lo > hi) return 'invalid MH type range (min > max)';
    return { text: lo === hi ? String(lo) : `${lo}:${hi}`, lo, hi };
  },
  samples: { valid: ['bu', 'binding-update', '5', '1:4', 'b'], invalid: ['x', '256', '4:1'] },
};

const mh = m({
  name: 'mh',
  lib: 'libip6t_mh',
  family: 'ipv6',
  protocols: ['ipv6-mh'],
  summary: 'the mobility header type',
  options: [opt('mh-type', mhTypes, { invert: true })],
  save(given) {
    const g = given.get('mh-type');
    if (!g || (g.val.lo === 0 && g.val.hi === 255 && !g.negated)) return [];
    return [printedOf(g)];
  },
});

const IPV6_HEADERS: ReadonlyArray<readonly [string, number, string]> = [
  ['hop', 0x80, 'hop-by-hop'],
  ['dst', 0x40, 'ipv6-opts'],
  ['route', 0x20, 'ipv6-route'],
  ['frag', 0x10, 'ipv6-frag'],
  ['auth', 0x08, 'ah'],
  ['esp', 0x04, 'esp'],
  ['none', 0x02, 'ipv6-nonxt'],
  ['prot', 0x01, 'protocol'],
];

const ipv6Headers: ValueType = {
  describe: 'a list of hop, dst, route, frag, auth, esp, none, prot (or protocol names)',
  parse(text) {
    let bits = 0;
    for (const item of text.split(',')) {
      const hit = IPV6_HEADERS.find(([a, , b]) => a === item || b === item);
      if (!hit) return `unknown header '${item}'`;
      bits |= hit[1];
    }
    return {
      text: IPV6_HEADERS.filter(([, b]) => bits & b)
        .map(([, , long]) => long)
        .join(','),
      bits,
    };
  },
  samples: { valid: ['hop', 'frag,auth', 'ipv6-frag', 'none', 'prot'], invalid: ['x', 'hop,x'] },
};

const ipv6header = m({
  name: 'ipv6header',
  lib: 'libip6t_ipv6header',
  family: 'ipv6',
  summary: 'which IPv6 extension headers the packet has',
  options: [opt('header', ipv6Headers, { invert: true, required: true }), opt('soft', null)],
});

const eui64 = m({
  name: 'eui64',
  lib: 'libip6t_eui64',
  family: 'ipv6',
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  summary: 'the source address is the EUI-64 of the source MAC address',
  options: [],
});

const srhNumber = uint(8);
const srh = m({
  name: 'srh',
  lib: 'libip6t_srh',
  family: 'ipv6',
  revision: 1,
  summary: 'the segment routing header',
  options: [
    opt('srh-next-hdr', srhNumber, { invert: true }),
    ...['hdr-len', 'segs-left', 'last-entry'].flatMap((f) =>
      ['eq', 'gt', 'lt'].map((op) => opt(`srh-${f}-${op}`, srhNumber, { invert: true })),
    ),
    opt('srh-tag', uint(16), { invert: true }),
    opt('srh-psid', hostMask, { invert: true }),
    opt('srh-nsid', hostMask, { invert: true }),
    opt('srh-lsid', hostMask, { invert: true }),
  ],
});

// --- bpf, ipvs --------------------------------------------------------------------------------

/** sscanf("%hu%c") and "%hu %hhu %hhu %u": C's lenient unsigned reading, wrapping to the field's width. */
function scanUnsigned(text: string, at: number, bits: number): { v: number; end: number } | null {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|\d+)/.exec(text.slice(at));
  if (!m) return null;
  let v = BigInt(m[2]!.startsWith('0x') || m[2]!.startsWith('0X') ? m[2]! : m[2]!.replace(/^0+(?=\d)/, ''));
  if (m[1] === '-') v = -v;
  return { v: Number(BigInt.asUintN(bits, v)), end: at + m[0].length };
}

/** --bytecode `N,code jt jf k,…` (what nfbpf_compile prints): at most 64 instructions. */
const bytecode: ValueType = {
  describe: "a BPF program 'N,code jt jf k,…'",
  parse(text) {
    const head = scanUnsigned(text, 0, 16);
    if (!head || text[head.end] !== ',') return 'bpf: error parsing program length';
    if (head.v === 0) return 'bpf: illegal zero length program';
    if (head.v > 64) return 'bpf: number of instructions exceeds maximum (64)';
    const code: string[] = [];
    let i = head.end;
    while (i < text.length && text[i] === ',' && i + 1 < text.length) {
      if (code.length >= head.v) return 'bpf: real program length exceeds the encoded length parameter';
      const parts: number[] = [];
      let at = i + 1;
      for (const bits of [16, 8, 8, 32]) {
        const r = scanUnsigned(text, at, bits);
        if (!r) return `bpf: error at instruction ${code.length}`;
        parts.push(r.v);
        at = r.end;
      }
      code.push(parts.join(' '));
      const next = text.indexOf(',', at);
      i = next < 0 ? text.length : next;
    }
    if (code.length !== head.v) return 'bpf: parsed program length is less than the encoded length parameter';
    return { text: `"${head.v},${code.join(',')}"` };
  },
  samples: {
    valid: ['1,6 0 0 65535', '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0'],
    invalid: ['0,', 'x', '2,6 0 0 1', '1,6 0 0', '1,6 0 0 1,6 0 0 1'],
  },
};

const bpf = m({
  name: 'bpf',
  lib: 'libxt_bpf',
  revision: 1,
  summary: 'a classic BPF program run on the packet',
  options: [
    opt('bytecode', bytecode, { excl: ['object-pinned'] }),
    opt('object-pinned', str({ size: 512 }), { excl: ['bytecode'], untestable: 'needs a pinned eBPF object in bpffs' }),
  ],
  check: (given) => (given.size === 0 ? 'one of --bytecode or --object-pinned is required' : null),
});

const ipvs = m({
  name: 'ipvs',
  lib: 'libxt_ipvs',
  summary: 'properties of IPVS (load-balancer) connections',
  options: [
    opt('ipvs', null, { invert: true }),
    opt('vproto', protocol, { invert: true }),
    opt('vaddr', hostMask, { invert: true }),
    opt('vport', portRange, { invert: true }),
    opt('vdir', choice({ ORIGINAL: 'ORIGINAL', REPLY: 'REPLY' }, { caseless: true })),
    opt('vmethod', choice({ GATE: 'GATE', IPIP: 'IPIP', MASQ: 'MASQ' }, { caseless: true }), { invert: true }),
    opt('vportctl', portRange, { invert: true }),
  ],
  check: (given) => (given.size === 0 ? 'at least one option is required' : null),
});

export const REST_MATCHES: readonly Extension[] = [
  bpf,
  ipvs,
  string,
  time,
  u32,
  policy,
  socket,
  rpfilter,
  cgroup,
  cluster,
  connlabel,
  osf,
  nfacct,
  set,
  rateest,
  dccp,
  sctp,
  optsHeader('dst'),
  optsHeader('hbh'),
  frag,
  rt,
  mh,
  ipv6header,
  eui64,
  srh,
];
