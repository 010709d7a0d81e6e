// More match extensions of iptables 1.8.9, as data (the conventions are in matches.ts):
// owners, rate and connection limits, counters, QoS fields and IPsec headers.

import type { Family } from '../model/dump.js';
import { formatHost } from '../model/cidr.js';
import { xtUintPrefix } from './numbers.js';
import type { Extension, GivenMap, PrintedOption } from './spec.js';
import { opt, printedFlag, printedOf } from './spec.js';
import { inOrder } from './matches.js';
import { choice, double, host, plen, str, tosMask as tosMaskOf, uint, uintRange, type ValueType } from './values.js';

type MatchDef = Omit<Extension, 'kind'>;
const m = (def: MatchDef): Extension => ({ kind: 'match', ...def });

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

// --- owner -----------------------------------------------------------------------------------

/** Users and groups every Linux host has (the rest depends on the host's /etc/passwd and /etc/group). */
const WELL_KNOWN_IDS: Readonly<Record<string, number>> = { root: 0 };

/** `NAME`, `ID` or `FROM-TO` / `FROM:TO` (numbers in any base, at most 4294967294). */
function ownerId(what: 'user' | 'group'): ValueType {
  return {
    describe: `a ${what} name, id or range FROM-TO`,
    parse(text) {
      const named = WELL_KNOWN_IDS[text];
      if (named !== undefined) return { text: String(named), lo: named, hi: named };
      const a = xtUintPrefix(text, 0n, 0xfffffffen);
      if (a === null)
        return `'${text}' is not a ${what} id or range, nor a ${what} every host has (names depend on the host's /etc/${what === 'user' ? 'passwd' : 'group'}: write the number)`;
      const lo = Number(a.value);
      let hi = lo;
      let end = a.end;
      if (text[end] === '-' || text[end] === ':') {
        const b = xtUintPrefix(text, 0n, 0xfffffffen, end + 1);
        if (b === null) return `bad ${what} range '${text}'`;
        hi = Number(b.value);
        end = b.end;
      }
      if (end !== text.length) return `bad ${what} id '${text}'`;
      void lo;
      return { text: lo === hi ? String(lo) : `${lo}-${hi}`, lo, hi };
    },
    samples: {
      valid: ['0', 'root', '1000-2000', '1000:2000', '0x10', '4294967294'],
      invalid: ['4294967295', '-1', 'x1', '1-', '1-2-3'],
    },
  };
}

const owner = m({
  name: 'owner',
  lib: 'libxt_owner',
  revision: 1,
  hooks: ['OUTPUT', 'POSTROUTING'],
  summary: 'the user or group of the local socket that sent the packet',
  options: [
    opt('uid-owner', ownerId('user'), { invert: true }),
    opt('gid-owner', ownerId('group'), { invert: true }),
    opt('socket-exists', null, { invert: true }),
    opt('suppl-groups', null),
  ],
  check: (given) => (given.size === 0 ? 'give --uid-owner, --gid-owner or --socket-exists' : null),
  save: (given) => inOrder(given, ['socket-exists', 'uid-owner', 'gid-owner', 'suppl-groups']),
  ruleCheck(given) {
    const s = given.get('suppl-groups');
    const g = given.get('gid-owner');
    if (s && (!g || g.col > s.col)) return '--suppl-groups needs --gid-owner before it';
    return null;
  },
});

// --- recent ----------------------------------------------------------------------------------

const RECENT_OPS = ['set', 'rcheck', 'update', 'remove'];

const recent = m({
  name: 'recent',
  lib: 'libxt_recent',
  revision: 1,
  summary: 'remember source (or destination) addresses in a named list and match against it',
  options: [
    ...RECENT_OPS.map((op) => opt(op, null, { invert: true, excl: RECENT_OPS.filter((o) => o !== op) })),
    opt('seconds', uint(32, { min: 1 })),
    opt('reap', null, { also: ['seconds'] }),
    opt('hitcount', uint(32, { extra: { valid: ['20'] } })),
    opt('rttl', null, { excl: ['set', 'remove'] }),
    opt('name', str({ size: 200, valid: ['DEFAULT', 'ssh-seen', 'a.b'], invalid: ['', 'a/b'] })),
    opt('rsource', null),
    opt('rdest', null),
    opt('mask', host, { samples: { valid: ['255.255.255.0', 'ffff:ffff::'], invalid: ['255.255.255.256', 'x'] } }),
  ],
  check(given) {
    const op = RECENT_OPS.find((o) => given.has(o));
    if (!op) return 'give one of --set, --rcheck, --update or --remove';
    if (
      (op === 'set' || op === 'remove') &&
      (given.has('seconds') || given.has('hitcount') || given.has('reap') || given.has('rttl'))
    )
      return `--${op} takes none of --seconds, --hitcount, --reap, --rttl (the kernel refuses them)`;
    // --hitcount above 20 needs xt_recent's ip_pkt_list_tot raised on the host: not checked here.
    const name = given.get('name')?.val.text;
    if (name === '') return '--name must not be empty';
    if (name !== undefined && name.includes('/'))
      return `--name '${name}' may not contain '/' (it names a file in /proc/net/xt_recent)`;
    return null;
  },
  save(given, family) {
    const op = RECENT_OPS.find((o) => given.has(o))!;
    const g = given.get(op)!;
    const out: PrintedOption[] = [printedFlag(op, g.negated)];
    for (const name of ['seconds', 'reap', 'hitcount', 'rttl']) {
      const x = given.get(name);
      if (x && !(name === 'hitcount' && x.val.n === 0)) out.push(printedOf(x));
    }
    out.push(printedFlag('name', false, [given.get('name')?.val.text ?? 'DEFAULT']));
    const fam = family === 'ipv6' ? 6 : 4;
    const full = (1n << BigInt(family === 'ipv6' ? 128 : 32)) - 1n;
    out.push(printedFlag('mask', false, [formatHost(fam, given.get('mask')?.val.addr ?? full)]));
    // The last of --rsource/--rdest wins; the source is the default.
    const side = [...given.values()]
      .filter((x) => x.option.name === 'rsource' || x.option.name === 'rdest')
      .sort((a, b) => a.col - b.col)
      .pop();
    out.push(printedFlag(side?.option.name ?? 'rsource'));
    return out;
  },
});

// --- connlimit, connbytes, quota, statistic ------------------------------------------------

const connlimit = m({
  name: 'connlimit',
  lib: 'libxt_connlimit',
  revision: 1,
  summary: 'the number of connections per address or subnet',
  options: [
    opt('connlimit-upto', uint(32), { invert: true, excl: ['connlimit-above'] }),
    opt('connlimit-above', uint(32), { invert: true, excl: ['connlimit-upto'] }),
    opt('connlimit-mask', plen),
    opt('connlimit-saddr', null, { excl: ['connlimit-daddr'] }),
    opt('connlimit-daddr', null, { excl: ['connlimit-saddr'] }),
  ],
  check: (given) =>
    !given.has('connlimit-upto') && !given.has('connlimit-above') ? 'give --connlimit-above or --connlimit-upto' : null,
  save(given, family) {
    const up = given.get('connlimit-upto');
    const above = given.get('connlimit-above');
    const g = (up ?? above)!;
    const upto = up ? !up.negated : above!.negated;
    const width = family === 'ipv6' ? 128 : 32;
    const mask = given.get('connlimit-mask');
    const bits = mask ? (mask.val.n! > width ? width : mask.val.n!) : width;
    return [
      printedFlag(upto ? 'connlimit-upto' : 'connlimit-above', false, [g.val.text]),
      printedFlag('connlimit-mask', false, [String(bits)]),
      printedFlag(given.has('connlimit-daddr') ? 'connlimit-daddr' : 'connlimit-saddr'),
    ];
  },
});

const connbytes = m({
  name: 'connbytes',
  lib: 'libxt_connbytes',
  summary: 'bytes or packets a connection has carried so far',
  options: [
    opt('connbytes', uintRange(64), { invert: true, required: true }),
    opt(
      'connbytes-dir',
      choice({ original: 'original', reply: 'reply', both: 'both' }, { invalid: ['ORIGINAL', 'x'] }),
      { required: true },
    ),
    opt(
      'connbytes-mode',
      choice({ packets: 'packets', bytes: 'bytes', avgpkt: 'avgpkt' }, { invalid: ['Bytes', 'x'] }),
      { required: true },
    ),
  ],
  check(given) {
    const c = given.get('connbytes')!.val;
    const to = c.nvals === 2 ? c.big! : 0xffffffffffffffffn;
    const from = BigInt(c.text.split(':')[0]!);
    if (to < from) return `--connbytes ${from} should be less than ${to}`;
    return null;
  },
  save(given) {
    const g = given.get('connbytes')!;
    const from = BigInt(g.val.text.split(':')[0]!);
    const to = g.val.nvals === 2 ? g.val.big! : 0xffffffffffffffffn;
    // A negated range is stored reversed; save shows '!' only when from ends up above to.
    const [a, b] = g.negated ? [to, from] : [from, to];
    const neg = a > b;
    const lo = neg ? b : a;
    const hi = neg ? a : b;
    const range = hi !== 0n && hi < 0xffffffffffffffffn ? `${lo}:${hi}` : `${lo}`;
    return [
      { name: '--connbytes', negated: neg, values: [range] },
      printedFlag('connbytes-mode', false, [given.get('connbytes-mode')!.val.text]),
      printedFlag('connbytes-dir', false, [given.get('connbytes-dir')!.val.text]),
    ];
  },
});

const quota = m({
  name: 'quota',
  lib: 'libxt_quota',
  summary: 'a byte quota (matches until it is used up)',
  options: [opt('quota', uint(64), { invert: true, required: true })],
});

const statistic = m({
  name: 'statistic',
  lib: 'libxt_statistic',
  summary: 'every n-th packet, or packets at random',
  options: [
    opt('mode', choice({ random: 'random', nth: 'nth' }, { invalid: ['Random', 'x'] }), { required: true }),
    opt('probability', double(0, 1), { invert: true, excl: ['every', 'packet'] }),
    opt('every', uint(32, { min: 1 }), { invert: true, excl: ['probability'], also: ['packet'] }),
    opt('packet', uint(32), { excl: ['probability'], also: ['every'] }),
  ],
  check(given) {
    const mode = given.get('mode')!.val.text;
    if (mode === 'random' && !given.has('probability')) return '--probability must be given with --mode random';
    if (mode === 'nth' && !given.has('every') && !given.has('packet'))
      return '--every and --packet must be given with --mode nth';
    const every = given.get('every')?.val.n;
    const packet = given.get('packet')?.val.n ?? 0;
    if (every !== undefined && packet > every - 1) return `--packet ${packet} must be below --every ${every}`;
    return null;
  },
  save(given) {
    const negated = [...given.values()].some((g) => g.negated);
    const mode = given.get('mode')!.val.text;
    if (mode === 'random') {
      const p = given.get('probability')?.val.n ?? 0;
      const stored = Math.round(0x80000000 * p);
      return [
        printedFlag('mode', false, ['random']),
        printedFlag('probability', negated, [(stored / 0x80000000).toFixed(11)]),
      ];
    }
    const every = given.get('every')?.val.n ?? 1;
    return [
      printedFlag('mode', false, ['nth']),
      printedFlag('every', negated, [String(every)]),
      printedFlag('packet', false, [String(given.get('packet')?.val.n ?? 0)]),
    ];
  },
});

// --- helper, cpu, devgroup, realm ------------------------------------------------------------

const helper = m({
  name: 'helper',
  lib: 'libxt_helper',
  summary: 'connections set up by a conntrack helper (ftp, sip, …)',
  options: [
    opt('helper', str({ size: 30, valid: ['ftp', 'sip', 'irc-6667', 'a b'] }), {
      invert: true,
      required: true,
      quoted: true,
    }),
  ],
});

const cpu = m({
  name: 'cpu',
  lib: 'libxt_cpu',
  summary: 'the CPU handling the packet',
  options: [opt('cpu', uint(32), { invert: true, required: true })],
});

/** `VALUE[/MASK]` or a name from an iproute2 table (only the names every host has: the rest is the host's). */
function valueMaskNamed(names: Readonly<Record<string, number>>, what: string): ValueType {
  return {
    describe: `a number[/mask] or a ${what} name`,
    parse(text) {
      const a = xtUintPrefix(text, 0n, 0xffffffffn);
      if (a !== null) {
        if (a.end === text.length) return { text: '', n: Number(a.value), mask: 0xffffffff };
        if (text[a.end] === '/') {
          const b = xtUintPrefix(text, 0n, 0xffffffffn, a.end + 1);
          if (b === null) return `bad mask in '${text}'`;
          if (b.end !== text.length) return `trailing garbage after '${text.slice(0, b.end)}'`;
          return { text: '', n: Number(a.value), mask: Number(b.value) };
        }
      }
      const n = names[text];
      if (n === undefined)
        return `'${text}' is not a number[/mask], nor a ${what} name every host has (${Object.keys(names).join(', ')})`;
      return { text: '', n, mask: 0xffffffff };
    },
    samples: { valid: ['0', '5', '0x10/0xf0', ...Object.keys(names)], invalid: ['x', '1/x', '0x100000000', '1/2/3'] },
  };
}

/** xtables_print_val_mask() with the name table: a name for an unmasked value that has one. */
function valMaskText(n: number, mask: number, names: Readonly<Record<string, number>>): string {
  const hex = (x: number): string => `0x${(x >>> 0).toString(16)}`;
  if (mask !== 0xffffffff) return `${hex(n)}/${hex(mask)}`;
  const name = Object.entries(names).find(([, v]) => v === n)?.[0];
  return name ?? hex(n);
}

const DEVGROUPS: Readonly<Record<string, number>> = { default: 0 };
const devgroupValue = valueMaskNamed(DEVGROUPS, 'device group');

const devgroup = m({
  name: 'devgroup',
  lib: 'libxt_devgroup',
  summary: 'the device group of the input or output interface',
  options: [opt('src-group', devgroupValue, { invert: true }), opt('dst-group', devgroupValue, { invert: true })],
  check: (given) => (given.size === 0 ? "give '--src-group' or '--dst-group'" : null),
  hookCheck(given, hooks) {
    if (given.has('src-group') && (hooks.has('OUTPUT') || hooks.has('POSTROUTING')))
      return '--src-group is not available in OUTPUT and POSTROUTING (locally sent packets have no input device)';
    if (given.has('dst-group') && (hooks.has('PREROUTING') || hooks.has('INPUT')))
      return '--dst-group is not available in PREROUTING and INPUT (no output device yet)';
    return null;
  },
  save: (given) =>
    ['src-group', 'dst-group'].flatMap((name) => {
      const g = given.get(name);
      return g ? [printedFlag(name, g.negated, [valMaskText(g.val.n!, g.val.mask!, DEVGROUPS)])] : [];
    }),
});

const REALMS: Readonly<Record<string, number>> = { cosmos: 0 };
const realm = m({
  name: 'realm',
  lib: 'libipt_realm',
  family: 'ipv4',
  summary: 'the routing realm of the route the packet took',
  options: [opt('realm', valueMaskNamed(REALMS, 'realm'), { invert: true, required: true })],
  save(given) {
    const g = given.get('realm')!;
    return [printedFlag('realm', g.negated, [valMaskText(g.val.n!, g.val.mask!, REALMS)])];
  },
});

// --- header fields ---------------------------------------------------------------------------

const tcpmss = m({
  name: 'tcpmss',
  lib: 'libxt_tcpmss',
  protocols: ['tcp'],
  summary: 'the MSS option of TCP SYN packets',
  options: [opt('mss', uintRange(16), { invert: true, required: true })],
  check(given) {
    const v = given.get('mss')!.val;
    return v.nvals === 2 && v.hi! < v.lo! ? `invalid --mss range '${v.text}'` : null;
  },
});

const ecn = m({
  name: 'ecn',
  lib: 'libxt_ecn',
  summary: 'the ECN bits of the IP header and TCP flags',
  options: [
    opt('ecn-tcp-cwr', null, { invert: true }),
    opt('ecn-tcp-ece', null, { invert: true }),
    opt('ecn-ip-ect', uint(8, { max: 3 }), { invert: true }),
  ],
  check: (given) => (given.size === 0 ? 'some option is required' : null),
  save: (given) => inOrder(given, ['ecn-tcp-ece', 'ecn-tcp-cwr', 'ecn-ip-ect']),
  ruleCheck(given, rule) {
    const tcpBits = given.has('ecn-tcp-cwr') || given.has('ecn-tcp-ece');
    if (tcpBits && (!rule.protocol || rule.protocol.n !== 6 || rule.protocol.negated))
      return '--ecn-tcp-cwr and --ecn-tcp-ece need -p tcp';
    return null;
  },
});

/** DSCP class names (dscp_helper.c): the first whose name starts the word, case-insensitively. */
const DSCP_CLASSES: ReadonlyArray<readonly [string, number]> = [
  ['CS0', 0x00],
  ['CS1', 0x08],
  ['CS2', 0x10],
  ['CS3', 0x18],
  ['CS4', 0x20],
  ['CS5', 0x28],
  ['CS6', 0x30],
  ['CS7', 0x38],
  ['BE', 0x00],
  ['AF11', 0x0a],
  ['AF12', 0x0c],
  ['AF13', 0x0e],
  ['AF21', 0x12],
  ['AF22', 0x14],
  ['AF23', 0x16],
  ['AF31', 0x1a],
  ['AF32', 0x1c],
  ['AF33', 0x1e],
  ['AF41', 0x22],
  ['AF42', 0x24],
  ['AF43', 0x26],
  ['EF', 0x2e],
];
export const dscpClass: ValueType = {
  describe: 'a DSCP class (CS0-CS7, BE, AF11-AF43, EF)',
  parse(text) {
    const hit = DSCP_CLASSES.find(([name]) => text.toLowerCase().startsWith(name.toLowerCase()));
    return hit ? { text: hex2(hit[1]), n: hit[1] } : `invalid DSCP class '${text}'`;
  },
  samples: { valid: ['EF', 'af41', 'CS1', 'BE', 'AF11x'], invalid: ['AF14', 'XX', 'C'] },
};

const dscp = m({
  name: 'dscp',
  lib: 'libxt_dscp',
  summary: 'the DSCP field of the IP header',
  options: [
    opt('dscp', uint(8, { max: 0x3f }), { invert: true, excl: ['dscp-class'] }),
    opt('dscp-class', dscpClass, { invert: true, excl: ['dscp'] }),
  ],
  check: (given) => (given.size === 0 ? '--dscp or --dscp-class is required' : null),
  save(given) {
    const g = (given.get('dscp') ?? given.get('dscp-class'))!;
    return [printedFlag('dscp', g.negated, [hex2(g.val.n!)])];
  },
});

const tos = m({
  name: 'tos',
  lib: 'libxt_tos',
  revision: 1,
  summary: 'the TOS field of the IP header (value/mask)',
  options: [opt('tos', tosMaskOf(0x3f), { invert: true, required: true })],
  save(given) {
    const g = given.get('tos')!;
    return [printedFlag('tos', g.negated, [`${hex2(g.val.n!)}/${hex2(g.val.mask!)}`])];
  },
});

/** The TTL (IPv4) and hop limit (IPv6) matches: one of -eq (negatable), -lt, -gt. */
function ttlLike(name: 'ttl' | 'hl', family: Family, field: string): Extension {
  const ops = [`${name}-eq`, `${name}-lt`, `${name}-gt`];
  return m({
    name,
    lib: family === 'ipv4' ? 'libipt_ttl' : 'libip6t_hl',
    family,
    summary: `the ${field}`,
    // `--ttl` shares --ttl-eq's id, so libxtables applies --ttl-eq's flags to it ('!' allowed).
    options: [
      opt(`${name}-lt`, uint(8), { excl: [`${name}-gt`, `${name}-eq`] }),
      opt(`${name}-gt`, uint(8), { excl: [`${name}-lt`, `${name}-eq`] }),
      opt(`${name}-eq`, uint(8), { invert: true, excl: [`${name}-lt`, `${name}-gt`], aliases: [name] }),
    ],
    check: (given) => (!ops.some((o) => given.has(o)) ? `give one of --${ops.join(', --')}` : null),
    save: (given) => inOrder(given, [`${name}-eq`, `${name}-lt`, `${name}-gt`]),
  });
}

/** The IPsec SPI matches: `SPI[:SPI]`; the full range 0:4294967295 is not printed. */
function spiMatch(
  name: string,
  option: string,
  lib: string,
  family: Family | undefined,
  protocol: string | null,
  extra: Extension['options'] = [],
  unset = '0:4294967295',
): Extension {
  return m({
    name,
    lib,
    family,
    protocols: protocol ? [protocol] : undefined,
    summary: `the SPI of the ${(protocol ?? name).toUpperCase()} header`,
    options: [opt(option, uintRange(32), { invert: true }), ...extra],
    save(given) {
      const out: PrintedOption[] = [];
      // Without the option the SPI range is the init function's (none for ipcomp: 0:0, printed as 0).
      const g = given.get(option);
      const range = g ? `${g.val.lo}:${g.val.hi}` : unset;
      if (range !== '0:4294967295') out.push(g ? printedOf(g) : printedFlag(option, false, [unset.split(':')[0]!]));
      for (const o of extra) {
        const x = given.get(o.name);
        if (!x) continue;
        if (o.name === 'ahlen' && x.val.n === 0 && !x.negated) continue;
        out.push(printedOf(x));
      }
      return out;
    },
  });
}

// --- hashlimit (revision 3) -------------------------------------------------------------------

const U32 = 0xffffffffn;
const SCALE = 1_000_000n;
const BYTE_EXPIRE = 15n;

const costToBytes = (cost: bigint): bigint => ((cost ? U32 / cost : U32) - 1n) << 4n;
const bytesToCost = (bytes: bigint): bigint => U32 / (((bytes >> 4n) & U32) + 1n);
const unitFactor = (c: string | undefined): bigint => (c === 'm' ? 1048576n : c === 'k' ? 1024n : 1n);

/** atoll(): leading blanks, a sign, decimal digits. */
function atoll(text: string): bigint {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? BigInt.asIntN(64, BigInt(m[1]!)) : 0n;
}

interface HashRate {
  readonly avg: bigint;
  readonly bytes: boolean;
  /** The unit's seconds (15 for byte rates): the default --hashlimit-htable-expire. */
  readonly mult: bigint;
}

/** --hashlimit-upto/-above: `N[kb|mb]b/s` (bytes) or `N[/second|/minute|/hour|/day]` (packets). */
const hashRate: ValueType = {
  describe: 'a rate N[/second|/minute|/hour|/day], or bytes N[k|m]b/s',
  parse(text) {
    const r = parseHashRate(text);
    return typeof r === 'string' ? r : { text: '', big: r.avg, bits: r.bytes ? 1 : 0, n: Number(r.mult) };
  },
  samples: {
    valid: ['1/sec', '10/minute', '100/h', '3/d', '5', '1kb/s', '512b/s', '2mb/s', '60/min'],
    invalid: ['0', 'x', '1/year', '1/', '5000000/s', 'b/s'],
  },
};

function parseHashRate(text: string): HashRate | string {
  const b = text.indexOf('b/s');
  if (b > 0) {
    const r = atoll(text);
    if (r !== 0n) {
      const tmp = BigInt.asUintN(64, r * unitFactor(text[b - 1]));
      const cost = bytesToCost(tmp);
      if (cost === 0n) return `rate too high '${text}'`;
      return { avg: cost, bytes: true, mult: BYTE_EXPIRE };
    }
  }
  const slash = text.indexOf('/');
  let mult = 1n;
  if (slash >= 0) {
    const unit = text.slice(slash + 1).toLowerCase();
    if (unit === '') return `bad rate '${text}'`;
    if ('second'.startsWith(unit)) mult = 1n;
    else if ('minute'.startsWith(unit)) mult = 60n;
    else if ('hour'.startsWith(unit)) mult = 3600n;
    else if ('day'.startsWith(unit)) mult = 86400n;
    else return `bad rate '${text}' (units: second, minute, hour, day; or bytes: N[k|m]b/s)`;
  }
  const r = BigInt.asUintN(64, atoll(text));
  if (r === 0n) return `bad rate '${text}'`;
  const avg = (SCALE * mult) / r;
  if (avg === 0n) return `rate too fast '${text}'`;
  return { avg, bytes: false, mult };
}

const HASH_RATE_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['day', SCALE * 86400n],
  ['hour', SCALE * 3600n],
  ['min', SCALE * 60n],
  ['sec', SCALE],
];

/** print_rate() of hashlimit: the rate text and its quantum (the printed unit in ms). */
function hashRateText(period: bigint): [string, bigint] {
  if (period === 0n) return ['inf', 0n];
  let i = 1;
  for (; i < HASH_RATE_UNITS.length; i++) {
    const mult = HASH_RATE_UNITS[i]![1];
    if (period > mult || mult / period < mult % period) break;
  }
  const [name, mult] = HASH_RATE_UNITS[i - 1]!;
  return [`${mult / period}/${name}`, (mult / SCALE) * 1000n];
}

const BYTE_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['m', 1048576n],
  ['k', 1024n],
  ['', 1n],
];

/** --hashlimit-burst: a number (1-1000000 for packets), `k`/`m` multiply it. */
const hashBurst: ValueType = {
  describe: 'a burst 1-1000000 (packets), or bytes N[k|m]',
  parse(text) {
    const r = xtUintPrefix(text, 1n, 0xffffffffffffffffn);
    if (r === null || (r.end === text.length && r.value > 1_000_000n))
      return `bad --hashlimit-burst '${text}' (1-1000000)`;
    const v = r.value * unitFactor(text[r.end]);
    if (v > 0xffffffffffffffffn) return `--hashlimit-burst '${text}' is too large`;
    return { text: v.toString(), big: v };
  },
  samples: { valid: ['1', '5', '1000000', '10k', '2m'], invalid: ['0', '1000001', 'x', '-1'] },
};

const HASH_MODES: ReadonlyArray<readonly [string, number]> = [
  ['srcip', 1 << 1],
  ['srcport', 1 << 3],
  ['dstip', 1 << 0],
  ['dstport', 1 << 2],
];
const hashMode: ValueType = {
  describe: 'a list of srcip, srcport, dstip, dstport',
  parse(text) {
    let bits = 0;
    for (const tok of text.split(/[,|]/)) {
      if (tok === '') continue;
      const hit = HASH_MODES.find(([n]) => n === tok);
      if (!hit) return `bad --hashlimit-mode '${text}' (srcip, srcport, dstip, dstport)`;
      bits |= hit[1];
    }
    return {
      text: HASH_MODES.filter(([, b]) => bits & b)
        .map(([n]) => n)
        .join(','),
      bits,
    };
  },
  samples: { valid: ['srcip', 'dstip,dstport', 'srcip|srcport', 'dstport,srcip'], invalid: ['SRCIP', 'srcip,x'] },
};

const hashlimit = m({
  name: 'hashlimit',
  lib: 'libxt_hashlimit',
  revision: 3,
  summary: 'a rate limit per address or port (one bucket per hash entry)',
  caseContext: { base: '--hashlimit-upto 1/sec --hashlimit-name t' },
  shared: {
    key: (given) => `hashlimit ${given.get('hashlimit-name')!.val.text}`,
    value: (given) => (given.has('hashlimit-rate-match') ? 'with' : 'without'),
    why: 'rules sharing a --hashlimit-name must agree on --hashlimit-rate-match',
  },
  options: [
    opt('hashlimit-upto', hashRate, { invert: true, excl: ['hashlimit-above'], aliases: ['hashlimit'] }),
    opt('hashlimit-above', hashRate, { invert: true, excl: ['hashlimit-upto'] }),
    opt('hashlimit-srcmask', plen),
    opt('hashlimit-dstmask', plen),
    opt('hashlimit-burst', hashBurst),
    opt('hashlimit-htable-size', uint(32)),
    opt('hashlimit-htable-max', uint(32)),
    opt('hashlimit-htable-gcinterval', uint(32, { extra: { invalid: ['0'] } })),
    opt('hashlimit-htable-expire', uint(32, { extra: { invalid: ['0'] } })),
    opt('hashlimit-mode', hashMode),
    opt('hashlimit-name', str({ min: 1, size: 16, valid: ['t', 'ssh', 'x'.repeat(20)] }), { required: true }),
    opt('hashlimit-rate-match', null),
    opt('hashlimit-rate-interval', {
      describe: 'a number of seconds above 0',
      parse: (text) =>
        Number(atoll(text)) > 0 && Number(atoll(text)) <= 0x7fffffff
          ? { text: String(Number(BigInt.asIntN(32, atoll(text)))), n: Number(BigInt.asIntN(32, atoll(text))) }
          : `bad --hashlimit-rate-interval '${text}'`,
      samples: { valid: ['1', '10', '5x'], invalid: ['0', '-1', 'x'] },
    }),
  ],
  check(given, family) {
    if (!given.has('hashlimit-upto') && !given.has('hashlimit-above'))
      return 'give --hashlimit-upto or --hashlimit-above';
    const h = hashState(given, family);
    if (typeof h === 'string') return h;
    if (h.gc === 0n) return '--hashlimit-htable-gcinterval 0 (the kernel refuses it)';
    if (h.expire === 0n) return 'an expiry of 0 (the kernel refuses it)';
    const width = family === 'ipv6' ? 128 : 32;
    if (h.srcmask > width || h.dstmask > width) return `a mask wider than ${width} bits`;
    return null;
  },
  save(given, family) {
    const h = hashState(given, family) as HashState;
    const out: PrintedOption[] = [];
    let quantum: bigint;
    if (h.bytes) {
      const r = costToBytes(h.avg);
      const unit =
        BYTE_UNITS.slice(0, 2).find(([, t]) => r >= t && bytesToCost(r & ~(t - 1n)) === h.avg) ?? BYTE_UNITS[2]!;
      out.push(printedFlag(h.invert ? 'hashlimit-above' : 'hashlimit-upto', false, [`${r / unit[1]}${unit[0]}b/s`]));
      quantum = BYTE_EXPIRE * 1000n;
      if (h.burst !== 0n) {
        const rb = r * h.burst;
        const u = BYTE_UNITS.slice(0, 2).find(([, t]) => rb >= t) ?? BYTE_UNITS[2]!;
        out.push(printedFlag('hashlimit-burst', false, [`${rb / u[1]}${u[0]}b`]));
        quantum = 60n * 1000n;
      }
    } else {
      const [text, q] = hashRateText(h.avg);
      quantum = q;
      out.push(printedFlag(h.invert ? 'hashlimit-above' : 'hashlimit-upto', false, [text]));
      out.push(printedFlag('hashlimit-burst', false, [h.burst.toString()]));
    }
    const mode = given.get('hashlimit-mode');
    if (mode && mode.val.bits) out.push(printedOf(mode));
    out.push(printedOf(given.get('hashlimit-name')!));
    // The kernel caps both at HASHLIMIT_MAX_SIZE and keeps the capped value.
    for (const name of ['hashlimit-htable-size', 'hashlimit-htable-max']) {
      const g = given.get(name);
      if (g && g.val.n !== 0) out.push(printedFlag(name, false, [String(Math.min(g.val.n!, 1048576))]));
    }
    if (h.gc !== 1000n) out.push(printedFlag('hashlimit-htable-gcinterval', false, [h.gc.toString()]));
    if (h.expire !== quantum) out.push(printedFlag('hashlimit-htable-expire', false, [h.expire.toString()]));
    const width = BigInt(family === 'ipv6' ? 128 : 32);
    if (h.srcmask !== width) out.push(printedFlag('hashlimit-srcmask', false, [h.srcmask.toString()]));
    if (h.dstmask !== width) out.push(printedFlag('hashlimit-dstmask', false, [h.dstmask.toString()]));
    if (h.rateMatch) {
      out.push(printedFlag('hashlimit-rate-match'));
      if (h.interval !== 1n) out.push(printedFlag('hashlimit-rate-interval', false, [h.interval.toString()]));
    }
    return out;
  },
});

interface HashState {
  readonly invert: boolean;
  readonly bytes: boolean;
  readonly avg: bigint;
  readonly burst: bigint;
  readonly gc: bigint;
  readonly expire: bigint;
  readonly srcmask: bigint;
  readonly dstmask: bigint;
  readonly rateMatch: boolean;
  readonly interval: bigint;
}

/** What hashlimit_mt_parse and hashlimit_mt_check leave in the kernel's config. */
function hashState(given: GivenMap, family: Family): HashState | string {
  const up = given.get('hashlimit-upto');
  const above = given.get('hashlimit-above');
  const rateGiven = (up ?? above)!;
  const invert = up ? up.negated : !above!.negated;
  const bytes = rateGiven.val.bits === 1;
  let avg = rateGiven.val.big!;
  const mult = BigInt(rateGiven.val.n!);
  const burstGiven = given.get('hashlimit-burst');
  let burst = burstGiven ? burstGiven.val.big! : 5n;
  const expireGiven = given.get('hashlimit-htable-expire');
  let expire = expireGiven ? BigInt(expireGiven.val.n!) : mult * 1000n;
  if (bytes) {
    let b = 0n;
    if (burstGiven) {
      const unit = costToBytes(avg);
      if (burst < unit) return `a burst below ${unit} bytes (the rate's bytes per tick)`;
      b = burst / unit + (burst % unit ? 1n : 0n);
      if (!expireGiven) expire = 60n * 1000n;
    }
    burst = b & U32;
  } else if (burst > 1_000_000n) {
    return `--hashlimit-burst ${burst} is above 1000000`;
  }
  const rateMatch = given.has('hashlimit-rate-match');
  let interval = BigInt(given.get('hashlimit-rate-interval')?.val.n ?? 0);
  if (rateMatch) {
    if (!bytes) avg /= mult;
    if (interval === 0n) interval = bytes ? 1n : mult;
  }
  const width = BigInt(family === 'ipv6' ? 128 : 32);
  const mask = (name: string): bigint => {
    const g = given.get(name);
    return g ? BigInt(g.val.n!) : width;
  };
  return {
    invert,
    bytes,
    avg,
    burst,
    gc: BigInt(given.get('hashlimit-htable-gcinterval')?.val.n ?? 1000),
    expire,
    srcmask: mask('hashlimit-srcmask'),
    dstmask: mask('hashlimit-dstmask'),
    rateMatch,
    interval,
  };
}

export const MORE_MATCHES: readonly Extension[] = [
  hashlimit,
  owner,
  recent,
  connlimit,
  connbytes,
  quota,
  statistic,
  helper,
  cpu,
  devgroup,
  realm,
  tcpmss,
  ecn,
  dscp,
  tos,
  ttlLike('ttl', 'ipv4', 'IPv4 time to live'),
  ttlLike('hl', 'ipv6', 'IPv6 hop limit'),
  spiMatch('esp', 'espspi', 'libxt_esp', undefined, 'esp'),
  spiMatch('ah', 'ahspi', 'libipt_ah', 'ipv4', 'ah'),
  spiMatch('ah', 'ahspi', 'libip6t_ah', 'ipv6', null, [opt('ahlen', uint(32), { invert: true }), opt('ahres', null)]),
  spiMatch('ipcomp', 'ipcompspi', 'libxt_ipcomp', undefined, 'ipcomp', [opt('compres', null)], '0:0'),
];
