// The target extensions iptables 1.8.9 ships, as data (see matches.ts for the conventions).
// The standard verdicts ACCEPT, DROP, RETURN and QUEUE are libxt_standard: no options.

import type { Family } from '../model/dump.js';
import { formatHost } from '../model/cidr.js';
import { ipv6Address, xtUintPrefix } from './numbers.js';
import { servicePort } from '../model/services.js';
import type { Extension, GivenMap, PrintedOption, RuleView } from './spec.js';
import { opt, printedFlag, printedOf } from './spec.js';
import { markMask, syslogLevel, uint, uintRange, type Val, type ValueType } from './values.js';
import { inOrder } from './matches.js';

type TargetDef = Omit<Extension, 'kind'>;
const t = (def: TargetDef): Extension => ({ kind: 'target', ...def });

const standard = (name: string, summary: string): Extension => t({ name, lib: 'libxt_standard', summary, options: [] });

// --- REJECT ----------------------------------------------------------------------------------

/** [name, alias] in table order: a word matches the first entry it is a leading part of (strncasecmp). */
const REJECT4: ReadonlyArray<readonly [string, string]> = [
  ['icmp-net-unreachable', 'net-unreach'],
  ['icmp-host-unreachable', 'host-unreach'],
  ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'],
  ['icmp-net-prohibited', 'net-prohib'],
  ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'],
  ['icmp-admin-prohibited', 'admin-prohib'],
];
const REJECT6: ReadonlyArray<readonly [string, string]> = [
  ['icmp6-no-route', 'no-route'],
  ['icmp6-adm-prohibited', 'adm-prohibited'],
  ['icmp6-addr-unreachable', 'addr-unreach'],
  ['icmp6-port-unreachable', 'port-unreach'],
  ['tcp-reset', 'tcp-reset'],
  ['icmp6-policy-fail', 'policy-fail'],
  ['icmp6-reject-route', 'reject-route'],
];

function rejectType(table: ReadonlyArray<readonly [string, string]>, v4: boolean): ValueType {
  return {
    describe: `one of ${table.map(([n]) => n).join(', ')}`,
    parse(text) {
      const w = text.toLowerCase();
      const hit = table.find(([n, a]) => n.startsWith(w) || a.startsWith(w));
      if (hit) return { text: hit[0] };
      if (v4 && ('echo-reply'.startsWith(w) || 'echoreply'.startsWith(w)))
        return '--reject-with echo-reply is no longer supported';
      return `unknown reject type '${text}'`;
    },
    samples: v4
      ? {
          valid: [
            'icmp-net-unreachable',
            'icmp-host-prohibited',
            'tcp-reset',
            'admin-prohib',
            'ICMP-PORT',
            'icmp-admin-prohibited',
            'net-prohib',
          ],
          invalid: ['echo-reply', 'icmp6-no-route', 'wrong'],
        }
      : {
          valid: [
            'icmp6-no-route',
            'icmp6-adm-prohibited',
            'tcp-reset',
            'addr-unreach',
            'icmp6-policy-fail',
            'reject-route',
          ],
          invalid: ['icmp-net-unreachable', 'wrong', 'echo-reply'],
        },
  };
}

const tcpOnly = (rule: RuleView): boolean => rule.protocol !== null && rule.protocol.n === 6 && !rule.protocol.negated;

function reject(family: Family): Extension {
  const v4 = family === 'ipv4';
  return t({
    name: 'REJECT',
    lib: v4 ? 'libipt_REJECT' : 'libip6t_REJECT',
    family,
    tables: ['filter'],
    hooks: ['INPUT', 'FORWARD', 'OUTPUT'],
    summary: 'drop and answer with an ICMP error or a TCP reset',
    options: [opt('reject-with', rejectType(v4 ? REJECT4 : REJECT6, v4))],
    save: (given) => [
      {
        name: '--reject-with',
        negated: false,
        values: [given.get('reject-with')?.val.text ?? (v4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable')],
      },
    ],
    ruleCheck: (given, rule) =>
      given.get('reject-with')?.val.text === 'tcp-reset' && !tcpOnly(rule)
        ? '--reject-with tcp-reset needs -p tcp'
        : null,
  });
}

// --- LOG, NFLOG ------------------------------------------------------------------------------

/** The prefix options: no newline; longer prefixes are cut to the kernel's field (29 or 127 bytes). */
function prefix(size: number): ValueType {
  return {
    describe: `text (at most ${size - 1} bytes are kept)`,
    parse(text) {
      if (text === '') return 'the prefix must be at least 1 character';
      if (text.includes('\n')) return 'newlines are not allowed in a prefix';
      return { text: truncateBytes(text, size - 1) };
    },
    samples: { valid: ['x', 'drop: ', 'a"b', 'x'.repeat(size + 5), 'é'.repeat(20)], invalid: [''] },
  };
}

/** A string cut to `max` bytes, as strncpy into a fixed kernel field does. */
export function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text);
  return bytes.length <= max ? text : bytes.subarray(0, max).toString();
}

const log = t({
  name: 'LOG',
  lib: 'libxt_LOG',
  summary: 'log the packet to the kernel log',
  options: [
    opt('log-level', syslogLevel),
    opt('log-prefix', prefix(30), { quoted: true }),
    opt('log-tcp-sequence', null),
    opt('log-tcp-options', null),
    opt('log-ip-options', null),
    opt('log-uid', null),
    opt('log-macdecode', null),
  ],
  save(given) {
    const out: PrintedOption[] = [];
    const p = given.get('log-prefix');
    if (p) out.push(printedOf(p));
    const level = given.get('log-level');
    if (level && level.val.n !== 4) out.push(printedOf(level));
    out.push(...inOrder(given, ['log-tcp-sequence', 'log-tcp-options', 'log-ip-options', 'log-uid', 'log-macdecode']));
    return out;
  },
});

const nflog = t({
  name: 'NFLOG',
  lib: 'libxt_NFLOG',
  summary: 'pass the packet to a netlink logging group (ulogd)',
  options: [
    opt('nflog-group', uint(16)),
    opt('nflog-prefix', prefix(64), { quoted: true }),
    opt('nflog-range', uint(32), { excl: ['nflog-size'] }),
    opt('nflog-size', uint(32), { excl: ['nflog-range'] }),
    opt('nflog-threshold', uint(16)),
  ],
  save(given) {
    const out: PrintedOption[] = [];
    const p = given.get('nflog-prefix');
    if (p) out.push(printedOf(p));
    const g = given.get('nflog-group');
    if (g && g.val.n !== 0) out.push(printedOf(g));
    const size = given.get('nflog-size');
    const range = given.get('nflog-range');
    if (size) out.push(printedOf(size));
    else if (range && range.val.n !== 0) out.push(printedOf(range));
    const th = given.get('nflog-threshold');
    if (th && th.val.n !== 0) out.push(printedOf(th));
    return out;
  },
});

// --- NAT -------------------------------------------------------------------------------------

const PORT_PROTOCOLS = [6, 17, 132, 33, 1];

interface NatRange {
  readonly addr?: string;
  readonly ports?: string;
}

/** `PORT[-PORT[/BASE]]` of --to-destination and --to-ports: numbers in any base or service names. */
function natPorts(text: string, allowBase: boolean): string | { text: string } {
  const first = xtUintPrefix(text, 0n, 65535n);
  let end: number;
  if (first === null) {
    const p = servicePort(text, 'any');
    if (p === undefined) return `port '${text}' not valid`;
    return { text: String(p) };
  }
  const lo = Number(first.value);
  end = first.end;
  if (end === text.length) return { text: String(lo) };
  if (text[end] === ':') return 'invalid port:port syntax (use a dash: PORT-PORT)';
  if (text[end] !== '-') return `garbage after port value: '${text.slice(end)}'`;
  const second = xtUintPrefix(text, 0n, 65535n, end + 1);
  if (second === null) return `port '${text.slice(end + 1)}' not valid`;
  const hi = Number(second.value);
  if (hi < lo) return `port range '${text}' runs backwards`;
  end = second.end;
  const range = hi === lo ? String(lo) : `${lo}-${hi}`;
  if (end === text.length) return { text: range };
  if (text[end] !== '/') return `garbage after port range: '${text.slice(end)}'`;
  if (!allowBase) return 'shifted port ranges (/BASE) are not supported here';
  const baseText = text.slice(end + 1);
  const base = xtUintPrefix(baseText, 1n, 65535n);
  const b = base !== null && base.end === baseText.length ? Number(base.value) : servicePort(baseText, 'any');
  if (b === undefined) return `port '${baseText}' not valid`;
  return { text: `${range}/${b}` };
}

/** --to-destination / --to-source: `[ADDR[-ADDR]][:PORT[-PORT[/BASE]]]`, IPv6 in brackets when ports follow. */
function natTo(allowBase: boolean): ValueType {
  return {
    describe: 'ADDRESS[-ADDRESS][:PORT[-PORT]] (IPv6 as [ADDRESS]:PORT)',
    parse(text, family) {
      const r = parseNatTo(text, family, allowBase);
      if (typeof r === 'string') return r;
      return { text: printNat(r, family), items: r.ports ? ['ports'] : [] };
    },
    samples: {
      valid: [
        '10.0.0.1',
        '10.0.0.1-10.0.0.9',
        '10.0.0.1:80',
        '10.0.0.1:80-90',
        ':80',
        '10.0.0.1:ssh',
        '10.0.0.1:0x50',
        '[2001:db8::1]:80',
        '2001:db8::1',
        '2001:db8::1-2001:db8::9',
      ],
      invalid: [
        '10.1',
        '10.0.0.1:80:90',
        '10.0.0.1:90-80',
        '10.0.0.1:x',
        '[10.0.0.1]:80',
        '10.0.0.300',
        '10.0.0.1:80/x',
        '10.0.0.1:80-90x',
      ],
    },
  };
}

function parseNatTo(text: string, family: Family, allowBase: boolean): NatRange | string {
  let start = text;
  let portText: string | null = null;
  const bracket = text.indexOf('[');
  if (bracket < 0) {
    const colon = text.indexOf(':');
    if (colon >= 0 && !text.includes(':', colon + 1)) {
      portText = text.slice(colon + 1);
      start = text.slice(0, colon);
    }
  } else {
    const close = text.indexOf(']', bracket);
    if (close < 0 || family === 'ipv4') return 'invalid address format';
    start = text.slice(bracket + 1, close);
    const colon = text.indexOf(':', close + 1);
    if (colon >= 0) portText = text.slice(colon + 1);
  }
  let ports: string | undefined;
  if (portText !== null) {
    const p = natPorts(portText, allowBase);
    if (typeof p === 'string') return p;
    ports = p.text;
    if (start === '' || (bracket >= 0 && start === '')) return { ports };
  }
  const dash = start.indexOf('-');
  const a = natAddress(dash < 0 ? start : start.slice(0, dash), family);
  if (a === null) return `bad IP address '${dash < 0 ? start : start.slice(0, dash)}'`;
  let addr = a;
  if (dash >= 0) {
    const b = natAddress(start.slice(dash + 1), family);
    if (b === null) return `bad IP address '${start.slice(dash + 1)}'`;
    if (b !== a) addr = `${a}-${b}`;
  }
  return { addr, ports };
}

/** inet_pton: strict dotted quads for IPv4. */
function natAddress(text: string, family: Family): string | null {
  if (family === 'ipv6') {
    const v = ipv6Address(text);
    return v === null ? null : formatHost(6, v);
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text) || text.split('.').some((p) => Number(p) > 255)) return null;
  return text.split('.').map(Number).join('.');
}

function printNat(r: NatRange, family: Family): string {
  const brackets = family === 'ipv6' && r.ports !== undefined;
  const addr = r.addr === undefined ? '' : brackets ? `[${r.addr}]` : r.addr;
  return `${addr}${r.ports !== undefined ? `:${r.ports}` : ''}`;
}

/** --to-ports of MASQUERADE and REDIRECT: `PORT[-PORT]`. */
const toPorts: ValueType = {
  describe: 'PORT[-PORT]',
  parse(text) {
    const p = natPorts(text, false);
    return typeof p === 'string' ? p : { text: p.text, items: ['ports'] };
  },
  samples: { valid: ['1024-65535', '8080', 'http', '0x50-0x60'], invalid: ['1024:65535', '90-80', 'x', '80/90'] },
};

/** Ports in a NAT target need -p tcp, udp, sctp, dccp or icmp, given before the target's option. */
function natPortCheck(names: readonly string[]) {
  return (given: GivenMap, rule: RuleView, at: number): string | null => {
    for (const name of names) {
      const g = given.get(name);
      if (!g || !g.val.items?.includes('ports')) continue;
      // NAT_parse looks at the protocol number only: '! -p tcp' passes as tcp.
      if (!rule.protocol || !PORT_PROTOCOLS.includes(rule.protocol.n))
        return `ports in --${name} need -p tcp, udp, sctp or dccp`;
      if (rule.protocol.col > at)
        return `ports in --${name} need -p before the target (iptables reads the options in order)`;
    }
    return null;
  };
}

function natFlags(given: GivenMap): PrintedOption[] {
  return inOrder(given, ['random', 'random-fully', 'persistent']).map((p) => ({ ...p, values: [] }));
}

const dnat = t({
  name: 'DNAT',
  lib: 'libxt_NAT',
  revision: 2,
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  summary: 'rewrite the destination address (and port)',
  options: [opt('to-destination', natTo(true), { required: true }), opt('random', null), opt('persistent', null)],
  save: (given) => [printedOf(given.get('to-destination')!), ...natFlags(given)],
  ruleCheck: natPortCheck(['to-destination']),
});

const snat = t({
  name: 'SNAT',
  lib: 'libxt_NAT',
  tables: ['nat'],
  hooks: ['POSTROUTING', 'INPUT'],
  summary: 'rewrite the source address (and port)',
  options: [
    opt('to-source', natTo(false), { required: true }),
    opt('random', null),
    opt('random-fully', null),
    opt('persistent', null),
  ],
  save: (given) => [printedOf(given.get('to-source')!), ...natFlags(given)],
  ruleCheck: natPortCheck(['to-source']),
});

const masquerade = t({
  name: 'MASQUERADE',
  lib: 'libxt_NAT',
  tables: ['nat'],
  hooks: ['POSTROUTING'],
  summary: "rewrite the source to the outgoing interface's address",
  options: [opt('to-ports', toPorts), opt('random', null), opt('random-fully', null)],
  save: (given) => [...inOrder(given, ['to-ports']), ...natFlags(given)],
  ruleCheck: natPortCheck(['to-ports']),
});

const redirect = t({
  name: 'REDIRECT',
  lib: 'libxt_NAT',
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  summary: 'redirect to the host itself (a local port)',
  options: [opt('to-ports', toPorts), opt('random', null)],
  save: (given) => [...inOrder(given, ['to-ports']), ...natFlags(given)],
  ruleCheck: natPortCheck(['to-ports']),
});

// --- marks -----------------------------------------------------------------------------------

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

const markTarget = t({
  name: 'MARK',
  lib: 'libxt_MARK',
  revision: 2,
  summary: 'set the packet mark',
  options: [
    opt('set-xmark', markMask, { excl: ['set-mark', 'and-mark', 'or-mark', 'xor-mark'] }),
    opt('set-mark', markMask, { excl: ['set-xmark', 'and-mark', 'or-mark', 'xor-mark'] }),
    opt('and-mark', uint(32), { excl: ['set-xmark', 'set-mark', 'or-mark', 'xor-mark'] }),
    opt('or-mark', uint(32), { excl: ['set-xmark', 'set-mark', 'and-mark', 'xor-mark'] }),
    opt('xor-mark', uint(32), { excl: ['set-xmark', 'set-mark', 'and-mark', 'or-mark'] }),
  ],
  check: (given) =>
    given.size === 0 ? 'one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark is required' : null,
  save(given) {
    const [mark, mask] = xmark(given);
    return [{ name: '--set-xmark', negated: false, values: [`${hex(mark)}/${hex(mask)}`] }];
  },
});

/** The (mark, mask) pair the MARK and CONNMARK --…-mark options come to. */
function xmark(given: GivenMap): [number, number] {
  const g =
    given.get('set-xmark') ??
    given.get('set-mark') ??
    given.get('and-mark') ??
    given.get('or-mark') ??
    given.get('xor-mark');
  if (!g) return [0, 0];
  const v: Val = g.val;
  switch (g.option.name) {
    case 'set-xmark':
      return [v.n!, v.mask!];
    case 'set-mark':
      return [v.n!, (v.n! | v.mask!) >>> 0];
    case 'and-mark':
      return [0, ~v.n! >>> 0];
    case 'or-mark':
      return [v.n!, v.n!];
    default:
      return [v.n!, 0];
  }
}

const CONNMARK_OPS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark', 'save-mark', 'restore-mark'];
const connmarkTarget = t({
  name: 'CONNMARK',
  lib: 'libxt_CONNMARK',
  revision: 2,
  summary: 'set, save or restore the connection mark',
  options: [
    opt('set-xmark', markMask, { excl: CONNMARK_OPS.filter((o) => o !== 'set-xmark') }),
    opt('set-mark', markMask, { excl: CONNMARK_OPS.filter((o) => o !== 'set-mark') }),
    opt('and-mark', uint(32), { excl: CONNMARK_OPS.filter((o) => o !== 'and-mark') }),
    opt('or-mark', uint(32), { excl: CONNMARK_OPS.filter((o) => o !== 'or-mark') }),
    opt('xor-mark', uint(32), { excl: CONNMARK_OPS.filter((o) => o !== 'xor-mark') }),
    opt('save-mark', null, { excl: CONNMARK_OPS.filter((o) => o !== 'save-mark') }),
    opt('restore-mark', null, { excl: CONNMARK_OPS.filter((o) => o !== 'restore-mark') }),
    opt('left-shift-mark', uint(8, { max: 32 })),
    opt('right-shift-mark', uint(8, { max: 32 })),
    opt('ctmask', uint(32), { excl: ['mask'] }),
    opt('nfmask', uint(32), { excl: ['mask'] }),
    opt('mask', uint(32), { excl: ['ctmask', 'nfmask'] }),
  ],
  check: (given) =>
    !CONNMARK_OPS.some((o) => given.has(o))
      ? 'no operation given (--set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark, --save-mark or --restore-mark)'
      : null,
  save(given) {
    // The options act in the order given: --mask after --set-mark overrides its mask, before it does not.
    let mode: 'set' | 'save' | 'restore' = 'set';
    let ctmark = 0;
    let ctmask = 0xffffffff;
    let nfmask = 0xffffffff;
    let shift: [string, number] = ['left-shift-mark', 0];
    for (const g of given.values()) {
      for (const one of g.all) {
        const v = one.val;
        switch (one.option.name) {
          case 'set-xmark':
          case 'set-mark':
          case 'and-mark':
          case 'or-mark':
          case 'xor-mark':
            [ctmark, ctmask] = xmark(new Map([[one.option.name, one]]));
            mode = 'set';
            break;
          case 'save-mark':
            mode = 'save';
            break;
          case 'restore-mark':
            mode = 'restore';
            break;
          case 'mask':
            nfmask = ctmask = v.n!;
            break;
          case 'ctmask':
            ctmask = v.n!;
            break;
          case 'nfmask':
            nfmask = v.n!;
            break;
          case 'left-shift-mark':
            shift = ['left-shift-mark', v.n!];
            break;
          case 'right-shift-mark':
            shift = ['right-shift-mark', v.n!];
            break;
        }
      }
    }
    const out: PrintedOption[] =
      mode === 'set'
        ? [{ name: '--set-xmark', negated: false, values: [`${hex(ctmark)}/${hex(ctmask)}`] }]
        : [
            printedFlag(`${mode}-mark`),
            printedFlag('nfmask', false, [hex(nfmask)]),
            printedFlag('ctmask', false, [hex(ctmask)]),
          ];
    if (shift[1] !== 0) out.push(printedFlag(shift[0], false, [String(shift[1])]));
    return out;
  },
});

// --- mangle helpers --------------------------------------------------------------------------

const checksum = t({
  name: 'CHECKSUM',
  lib: 'libxt_CHECKSUM',
  tables: ['mangle'],
  summary: 'fill in the checksum of a packet (DHCP replies to old clients)',
  options: [opt('checksum-fill', null, { required: true })],
});

const tcpmss = (family: Family): Extension =>
  t({
    name: 'TCPMSS',
    lib: 'libxt_TCPMSS',
    family,
    protocols: ['tcp'],
    summary: 'set the MSS option of TCP SYN packets',
    options: [
      opt('set-mss', uint(16, { max: family === 'ipv4' ? 65535 - 20 : 65535 - 40 }), { excl: ['clamp-mss-to-pmtu'] }),
      opt('clamp-mss-to-pmtu', null, { excl: ['set-mss'] }),
    ],
    check: (given) => (given.size === 0 ? 'give --set-mss or --clamp-mss-to-pmtu' : null),
    ruleCheck(_given, rule) {
      const tcp = rule.matches.find((x) => x.name === 'tcp');
      const flags = tcp?.given?.get('tcp-flags');
      const syn = tcp?.given?.get('syn');
      const onlySyn =
        (syn && !syn.negated) ||
        (flags && !flags.negated && ((flags.val.bits ?? 0) & 0x02) !== 0 && ((flags.second?.bits ?? 0) & 0x02) !== 0);
      return onlySyn ? null : 'TCPMSS only works on TCP SYN packets: add --syn (or --tcp-flags SYN,RST SYN)';
    },
    hookCheck: (given, hooks) =>
      given.has('clamp-mss-to-pmtu') && [...hooks].some((h) => h === 'PREROUTING' || h === 'INPUT')
        ? '--clamp-mss-to-pmtu only works in FORWARD, OUTPUT and POSTROUTING'
        : null,
  });

const nfqueue = t({
  name: 'NFQUEUE',
  lib: 'libxt_NFQUEUE',
  revision: 3,
  summary: 'pass the packet to a userspace queue',
  options: [
    opt('queue-num', uint(16), { excl: ['queue-balance'] }),
    opt('queue-balance', uintRange(16), { excl: ['queue-num'] }),
    opt('queue-bypass', null),
    opt('queue-cpu-fanout', null, { also: ['queue-balance'] }),
  ],
  check(given) {
    const b = given.get('queue-balance');
    if (b && b.val.nvals !== 2) return `bad range '${b.val.text}' for --queue-balance (FIRST:LAST)`;
    if (b && b.val.lo! >= b.val.hi!) return `--queue-balance ${b.val.lo} should be less than ${b.val.hi}`;
    return null;
  },
  save(given) {
    const b = given.get('queue-balance');
    const out: PrintedOption[] = [
      b
        ? printedFlag('queue-balance', false, [`${b.val.lo}:${b.val.hi}`])
        : printedFlag('queue-num', false, [given.get('queue-num')?.val.text ?? '0']),
    ];
    return [...out, ...inOrder(given, ['queue-bypass', 'queue-cpu-fanout'])];
  },
});

export const TARGETS: readonly Extension[] = [
  standard('ACCEPT', 'let the packet through'),
  standard('DROP', 'drop the packet'),
  standard('RETURN', 'return to the calling chain'),
  standard('QUEUE', 'pass the packet to userspace (queue 0)'),
  reject('ipv4'),
  reject('ipv6'),
  log,
  nflog,
  dnat,
  snat,
  masquerade,
  redirect,
  markTarget,
  connmarkTarget,
  checksum,
  tcpmss('ipv4'),
  tcpmss('ipv6'),
  nfqueue,
  t({
    name: 'TRACE',
    lib: 'libxt_TRACE',
    tables: ['raw'],
    summary: 'trace the packet through the rules (nft monitor trace / kernel log)',
    options: [],
  }),
];
