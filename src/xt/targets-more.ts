// More target extensions of iptables 1.8.9, as data (conventions in matches.ts): header
// rewriting (TOS, DSCP, TTL, HL, ECN), conntrack (CT, NOTRACK, CONNSECMARK), marks and
// classes, mirroring and proxying (TEE, TPROXY, SYNPROXY), IPv6 prefix translation, sets,
// timers and estimators, and the two 1.8.9 ships for modules kernels no longer have.

import type { Family } from '../model/dump.js';
import { formatHost } from '../model/cidr.js';
import { strtodPrefix, xtUint } from './numbers.js';
import type { Extension, GivenMap, PrintedOption } from './spec.js';
import { opt, printedFlag, printedOf } from './spec.js';
import { inOrder } from './matches.js';
import { dscpClass } from './matches-more.js';
import { setDirs, setName } from './matches-rest.js';
import {
  choice,
  etherMac,
  familyHost,
  hostMask,
  markMask,
  port,
  str,
  tosMask,
  uint,
  type ValueType,
} from './values.js';

type TargetDef = Omit<Extension, 'kind'>;
const t = (def: TargetDef): Extension => ({ kind: 'target', ...def });
const hex2 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(2, '0')}`;
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

const audit = t({
  name: 'AUDIT',
  lib: 'libxt_AUDIT',
  summary: 'write an audit record for the packet',
  options: [
    opt('type', choice({ accept: 'accept', drop: 'drop', reject: 'reject' }, { caseless: true }), { required: true }),
  ],
});

const classify = t({
  name: 'CLASSIFY',
  lib: 'libxt_CLASSIFY',
  hooks: ['FORWARD', 'OUTPUT', 'POSTROUTING'],
  summary: 'set the traffic-control class of the packet',
  options: [
    opt(
      'set-class',
      {
        describe: 'a class MAJOR:MINOR (hex)',
        parse(text) {
          const m = /^\s*([+-]?(?:0[xX])?[0-9a-fA-F]+)\s*:\s*([+-]?(?:0[xX])?[0-9a-fA-F]+)/.exec(text);
          if (!m) return `bad class '${text}' (MAJOR:MINOR, hexadecimal)`;
          const a = (Number.parseInt(m[1]!, 16) & 0xffff) >>> 0;
          const b = (Number.parseInt(m[2]!, 16) & 0xffff) >>> 0;
          return { text: `${a.toString(16).padStart(4, '0')}:${b.toString(16).padStart(4, '0')}` };
        },
        samples: { valid: ['1:10', 'ffff:ffff', '0:0', '10:0x20'], invalid: ['1', 'x:1', ':1'] },
      },
      { required: true },
    ),
  ],
});

const connsecmark = t({
  name: 'CONNSECMARK',
  lib: 'libxt_CONNSECMARK',
  tables: ['mangle', 'security'],
  summary: 'copy the security mark between packet and connection',
  options: [opt('save', null, { excl: ['restore'] }), opt('restore', null, { excl: ['save'] })],
  check: (given) => (given.size === 0 ? 'give --save or --restore' : null),
});

const dscpTarget = t({
  name: 'DSCP',
  lib: 'libxt_DSCP',
  tables: ['mangle'],
  summary: 'set the DSCP field',
  options: [
    opt('set-dscp', uint(8, { max: 0x3f }), { excl: ['set-dscp-class'] }),
    opt('set-dscp-class', dscpClass, { excl: ['set-dscp'] }),
  ],
  check: (given) => (given.size === 0 ? '--set-dscp is required' : null),
  save: (given) => [
    printedFlag('set-dscp', false, [hex2((given.get('set-dscp') ?? given.get('set-dscp-class'))!.val.n!)]),
  ],
});

const tosTarget = t({
  name: 'TOS',
  lib: 'libxt_TOS',
  revision: 1,
  tables: ['mangle'],
  summary: 'set bits of the TOS field',
  options: [
    opt('set-tos', tosMask(0x3f), { excl: ['and-tos', 'or-tos', 'xor-tos'] }),
    opt('and-tos', uint(8), { excl: ['set-tos', 'or-tos', 'xor-tos'] }),
    opt('or-tos', uint(8), { excl: ['set-tos', 'and-tos', 'xor-tos'] }),
    opt('xor-tos', uint(8), { excl: ['set-tos', 'and-tos', 'or-tos'] }),
  ],
  check: (given) => (given.size === 0 ? 'an action is required' : null),
  save(given) {
    const g = [...given.values()][0]!;
    const v = g.val;
    const [value, mask] =
      g.option.name === 'set-tos'
        ? [v.n!, v.mask!]
        : g.option.name === 'and-tos'
          ? [0, ~v.n! & 0xff]
          : g.option.name === 'or-tos'
            ? [v.n!, v.n!]
            : [v.n!, 0];
    return [printedFlag('set-tos', false, [`${hex2(value)}/${hex2(mask)}`])];
  },
});

/** TTL (IPv4) and HL (IPv6): set, decrement or increment. */
function ttlTarget(name: 'TTL' | 'HL', family: Family): Extension {
  const p = name.toLowerCase();
  const ops = [`${p}-set`, `${p}-dec`, `${p}-inc`];
  return t({
    name,
    lib: family === 'ipv4' ? 'libipt_TTL' : 'libip6t_HL',
    family,
    tables: ['mangle'],
    summary: family === 'ipv4' ? 'set, decrement or increment the TTL' : 'set, decrement or increment the hop limit',
    options: [
      opt(ops[0]!, uint(8), { excl: [ops[1]!, ops[2]!] }),
      opt(ops[1]!, uint(8, { min: 1 }), { excl: [ops[0]!, ops[2]!] }),
      opt(ops[2]!, uint(8, { min: 1 }), { excl: [ops[0]!, ops[1]!] }),
    ],
    check: (given) => (given.size === 0 ? 'an action is required' : null),
  });
}

const ecnTarget = t({
  name: 'ECN',
  lib: 'libipt_ECN',
  family: 'ipv4',
  tables: ['mangle'],
  summary: 'clear or set ECN bits',
  options: [
    opt('ecn-tcp-remove', null, { excl: ['ecn-tcp-cwr', 'ecn-tcp-ece'] }),
    opt('ecn-tcp-cwr', uint(8, { max: 1 }), { excl: ['ecn-tcp-remove'] }),
    opt('ecn-tcp-ece', uint(8, { max: 1 }), { excl: ['ecn-tcp-remove'] }),
    opt('ecn-ip-ect', uint(8, { max: 3 })),
  ],
  check: (given) => (given.size === 0 ? 'an operation is required' : null),
  save(given) {
    const ece = given.get('ecn-tcp-ece');
    const cwr = given.get('ecn-tcp-cwr');
    if (given.has('ecn-tcp-remove') || (ece && cwr && ece.val.n === 0 && cwr.val.n === 0 && !given.has('ecn-ip-ect')))
      return [printedFlag('ecn-tcp-remove')];
    return inOrder(given, ['ecn-tcp-ece', 'ecn-tcp-cwr', 'ecn-ip-ect']);
  },
  ruleCheck(given, rule) {
    if (
      (given.has('ecn-tcp-remove') || given.has('ecn-tcp-cwr') || given.has('ecn-tcp-ece')) &&
      (!rule.protocol || rule.protocol.n !== 6 || rule.protocol.negated)
    )
      return 'the TCP ECN options need -p tcp';
    return null;
  },
});

// --- conntrack -------------------------------------------------------------------------------

const CT_EVENTS: ReadonlyArray<readonly [string, number]> = [
  ['new', 1],
  ['related', 2],
  ['destroy', 4],
  ['reply', 8],
  ['assured', 16],
  ['protoinfo', 32],
  ['helper', 64],
  ['mark', 128],
  ['natseqinfo', 256],
  ['secmark', 512],
];

function eventList(table: ReadonlyArray<readonly [string, number]>): ValueType {
  return {
    describe: `a list of ${table.map(([n]) => n).join(', ')}`,
    parse(text) {
      let bits = 0;
      for (const e of text.split(',')) {
        const hit = table.find(([n]) => n === e);
        if (!hit) return `unknown event type '${e}'`;
        bits |= hit[1];
      }
      return {
        text: table
          .filter(([, b]) => bits & b)
          .map(([n]) => n)
          .join(','),
        bits,
      };
    },
    samples: {
      valid: [
        table[0]![0],
        table
          .slice(0, 2)
          .map(([n]) => n)
          .reverse()
          .join(','),
      ],
      invalid: ['x', 'NEW', `${table[0]![0]},`],
    },
  };
}

const zoneId: ValueType = {
  describe: 'a zone number 0-65535 or mark',
  parse(text) {
    if (text.toLowerCase() === 'mark') return { text: 'mark' };
    const n = xtUint(text, 0n, 65535n);
    return n === null ? `cannot parse '${text}' as a zone ID` : { text: String(n), n: Number(n) };
  },
  samples: { valid: ['0', '1', '65535', 'mark', 'MARK'], invalid: ['65536', 'x'] },
};

const ct = t({
  name: 'CT',
  lib: 'libxt_CT',
  revision: 2,
  tables: ['raw'],
  summary: 'set conntrack parameters for the connection (helper, zone, events) or skip tracking',
  options: [
    opt('notrack', null),
    opt('helper', str({ size: 16, valid: ['ftp'], invalid: ['nosuchhelper'] })),
    opt('timeout', str({ size: 32 }), { untestable: 'needs a cttimeout policy object' }),
    opt('ctevents', eventList(CT_EVENTS)),
    opt('expevents', eventList([['new', 1]])),
    opt('zone-orig', zoneId),
    opt('zone-reply', zoneId),
    opt('zone', zoneId),
  ],
  save(given) {
    const out: PrintedOption[] = inOrder(given, ['notrack', 'helper', 'timeout', 'ctevents', 'expevents']);
    // The zone options share one field: the last given wins, and orig+reply print as --zone.
    let dirOrig = false;
    let dirReply = false;
    let zone: string | null = null;
    for (const g of [...given.values()].filter((x) => x.option.name.startsWith('zone')).sort((a, b) => a.col - b.col)) {
      if (g.option.name === 'zone-orig') dirOrig = true;
      if (g.option.name === 'zone-reply') dirReply = true;
      zone = g.val.text;
    }
    if (zone !== null && (zone === 'mark' || zone !== '0')) {
      const name = dirOrig && !dirReply ? 'zone-orig' : dirReply && !dirOrig ? 'zone-reply' : 'zone';
      out.push(printedFlag(name, false, [zone]));
    }
    return out;
  },
});

const notrack = t({
  name: 'NOTRACK',
  lib: 'libxt_CT',
  tables: ['raw'],
  summary: 'do not track the connection (CT --notrack under its old name)',
  options: [],
});

// --- marks and security ----------------------------------------------------------------------

const secmark = t({
  name: 'SECMARK',
  lib: 'libxt_SECMARK',
  revision: 1,
  tables: ['mangle', 'security'],
  summary: 'set the SELinux security mark of the packet',
  options: [
    opt('selctx', str({ size: 256, valid: ['system_u:object_r:ssh_packet_t:s0'] }), {
      required: true,
      untestable: 'needs SELinux',
    }),
  ],
  save: (given) => [printedFlag('selctx', false, [given.get('selctx')!.val.text])],
});

const HMARK_TUPLES = ['ct', 'src', 'dst', 'sport', 'dport', 'proto', 'spi'];
const hmarkTuple: ValueType = {
  describe: `a list of ${HMARK_TUPLES.join(', ')}`,
  parse(text) {
    const items = text.split(',');
    for (const item of items) {
      if (item === '' || !HMARK_TUPLES.some((n) => n.startsWith(item.toLowerCase())))
        return `bad --hmark-tuple type '${item}' (${HMARK_TUPLES.join(', ')})`;
    }
    return { text, items: items.map((x) => HMARK_TUPLES.find((n) => n.startsWith(x.toLowerCase()))!) };
  },
  samples: { valid: ['src,dst', 'ct', 'sport,dport,proto', 's'], invalid: ['x', 'src,', ''] },
};

const hmark = (family: Family): Extension =>
  t({
    name: 'HMARK',
    lib: 'libxt_HMARK',
    family,
    summary: 'set the packet mark from a hash of its addresses and ports',
    caseContext: { base: '--hmark-tuple src,dst --hmark-mod 10 --hmark-rnd 0xcafe' },
    options: [
      opt('hmark-tuple', hmarkTuple),
      opt('hmark-src-prefix', plenOf()),
      opt('hmark-dst-prefix', plenOf()),
      opt('hmark-sport-mask', uint(16)),
      opt('hmark-dport-mask', uint(16)),
      opt('hmark-spi-mask', uint(32)),
      opt('hmark-sport', uint(16)),
      opt('hmark-dport', uint(16)),
      opt('hmark-spi', uint(32)),
      opt('hmark-proto-mask', uint(16)),
      opt('hmark-rnd', uint(32)),
      opt('hmark-mod', uint(32, { min: 1 }), { required: true }),
      opt('hmark-offset', uint(32)),
    ],
    check(given) {
      if (!given.has('hmark-rnd')) return '--hmark-rnd is mandatory';
      const h = hmarkState(given, family);
      if (h.spiMask !== null && (h.sportMask !== null || h.dportMask !== null))
        return '--hmark-spi-mask cannot be used with --hmark-sport-mask or --hmark-dport-mask';
      if (!h.any) return 'give --hmark-tuple (or one of the mask options)';
      // A --hmark-tuple item counts as its mask option: giving that option after it is giving it twice.
      const tuple = given.get('hmark-tuple');
      const twin: Record<string, string> = {
        src: 'hmark-src-prefix',
        dst: 'hmark-dst-prefix',
        sport: 'hmark-sport-mask',
        dport: 'hmark-dport-mask',
        spi: 'hmark-spi-mask',
        proto: 'hmark-proto-mask',
      };
      for (const item of tuple?.val.items ?? []) {
        const o = twin[item] && given.get(twin[item]);
        if (o && o.col > tuple!.col)
          return `--${twin[item]} can only be used once (--hmark-tuple ${item} already set it)`;
      }
      return null;
    },
    save(given) {
      const h = hmarkState(given, family);
      const w = (n: number, digits: number): string => `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;
      const out: PrintedOption[] = [];
      if (h.srcPrefix !== null) out.push(printedFlag('hmark-src-prefix', false, [String(h.srcPrefix)]));
      if (h.dstPrefix !== null) out.push(printedFlag('hmark-dst-prefix', false, [String(h.dstPrefix)]));
      if (h.sportMask !== null) out.push(printedFlag('hmark-sport-mask', false, [w(h.sportMask, 4)]));
      if (h.dportMask !== null) out.push(printedFlag('hmark-dport-mask', false, [w(h.dportMask, 4)]));
      if (h.spiMask !== null) out.push(printedFlag('hmark-spi-mask', false, [w(h.spiMask, 8)]));
      const v = (n: string): number | undefined => given.get(n)?.val.n;
      if (v('hmark-sport') !== undefined) out.push(printedFlag('hmark-sport', false, [w(v('hmark-sport')!, 4)]));
      if (v('hmark-dport') !== undefined) out.push(printedFlag('hmark-dport', false, [w(v('hmark-dport')!, 4)]));
      if (v('hmark-spi') !== undefined) out.push(printedFlag('hmark-spi', false, [w(v('hmark-spi')!, 8)]));
      if (h.protoMask !== null) out.push(printedFlag('hmark-proto-mask', false, [w(h.protoMask, 2)]));
      out.push(printedFlag('hmark-rnd', false, [w(v('hmark-rnd')!, 8)]));
      out.push(printedFlag('hmark-mod', false, [String(v('hmark-mod'))]));
      if (v('hmark-offset') !== undefined) out.push(printedFlag('hmark-offset', false, [String(v('hmark-offset'))]));
      if (h.ct) out.push(printedFlag('hmark-tuple', false, ['ct']));
      return out;
    },
  });

function plenOf(): ValueType {
  return {
    describe: 'a prefix length',
    parse(text, fam) {
      const n = xtUint(text, 0n, BigInt(fam === 'ipv6' ? 128 : 32));
      return n === null ? `bad prefix length '${text}'` : { text: String(n), n: Number(n) };
    },
    samples: { valid: ['24', '0', '32'], invalid: ['129', 'x'] },
  };
}

/** The masks HMARK_parse leaves: --hmark-tuple sets full masks, the mask options then replace them. */
function hmarkState(given: GivenMap, family: Family) {
  const width = family === 'ipv6' ? 128 : 32;
  const h = {
    srcPrefix: null as number | null,
    dstPrefix: null as number | null,
    sportMask: null as number | null,
    dportMask: null as number | null,
    spiMask: null as number | null,
    protoMask: null as number | null,
    ct: false,
    any: false,
  };
  for (const g of [...given.values()].flatMap((x) => x.all).sort((a, b) => a.col - b.col)) {
    const n = g.val.n!;
    switch (g.option.name) {
      case 'hmark-tuple':
        for (const item of g.val.items ?? []) {
          if (item === 'ct') h.ct = true;
          if (item === 'src') h.srcPrefix = width;
          if (item === 'dst') h.dstPrefix = width;
          if (item === 'sport') h.sportMask = 0xffff;
          if (item === 'dport') h.dportMask = 0xffff;
          if (item === 'proto') h.protoMask = 0xffff;
          if (item === 'spi') h.spiMask = 0xffffffff;
          h.any = true;
        }
        break;
      case 'hmark-src-prefix':
        h.srcPrefix = n;
        h.any = true;
        break;
      case 'hmark-dst-prefix':
        h.dstPrefix = n;
        h.any = true;
        break;
      case 'hmark-sport-mask':
        h.sportMask = n;
        h.any = true;
        break;
      case 'hmark-dport-mask':
        h.dportMask = n;
        h.any = true;
        break;
      case 'hmark-spi-mask':
        h.spiMask = n;
        h.any = true;
        break;
      case 'hmark-proto-mask':
        h.protoMask = n;
        h.any = true;
        break;
    }
  }
  return h;
}

// --- mirroring, proxying ---------------------------------------------------------------------

const tee = t({
  name: 'TEE',
  lib: 'libxt_TEE',
  revision: 1,
  summary: 'send a copy of the packet to another host',
  options: [
    opt('gateway', familyHost, { required: true }),
    opt('oif', str({ size: 16, valid: ['eth0'], invalid: ['0123456789abcdefg'] })),
  ],
});

const tproxy = t({
  name: 'TPROXY',
  lib: 'libxt_TPROXY',
  revision: 1,
  tables: ['mangle'],
  hooks: ['PREROUTING'],
  protocols: ['tcp', 'udp'],
  summary: 'redirect to a local socket without changing the packet (transparent proxy)',
  options: [opt('on-port', port, { required: true }), opt('on-ip', familyHost), opt('tproxy-mark', markMask)],
  save(given, family) {
    const ip = given.get('on-ip')?.val.text ?? (family === 'ipv6' ? '::' : '0.0.0.0');
    const mark = given.get('tproxy-mark');
    const [v, m] = mark ? [mark.val.n!, mark.val.mask!] : [0, 0];
    return [
      printedFlag('on-port', false, [given.get('on-port')!.val.text]),
      printedFlag('on-ip', false, [ip]),
      printedFlag('tproxy-mark', false, [`${hex(v)}/${hex(m)}`]),
    ];
  },
});

const synproxy = t({
  name: 'SYNPROXY',
  lib: 'libxt_SYNPROXY',
  protocols: ['tcp'],
  hooks: ['INPUT', 'FORWARD'],
  summary: 'answer TCP SYNs with SYN cookies before passing the connection on',
  options: [
    opt('sack-perm', null),
    opt('timestamp', null),
    opt('wscale', uint(32)),
    opt('mss', uint(32)),
    opt('ecn', null),
  ],
  // The values land in an 8-bit and a 16-bit field.
  save: (given) =>
    inOrder(given, ['sack-perm', 'timestamp', 'wscale', 'mss', 'ecn']).map((p) =>
      p.name === '--wscale'
        ? { ...p, values: [String(Number(p.values[0]) & 0xff)] }
        : p.name === '--mss'
          ? { ...p, values: [String(Number(p.values[0]) & 0xffff)] }
          : p,
    ),
});

const TCP_OPTIONS: ReadonlyArray<readonly [string, number]> = [
  ['wscale', 3],
  ['mss', 2],
  ['sack-permitted', 4],
  ['sack', 5],
  ['timestamp', 8],
  ['md5', 19],
];
const tcpoptstrip = t({
  name: 'TCPOPTSTRIP',
  lib: 'libxt_TCPOPTSTRIP',
  tables: ['mangle'],
  protocols: ['tcp'],
  summary: 'remove TCP options from the packet',
  options: [
    opt('strip-options', {
      describe: `a list of option numbers or ${TCP_OPTIONS.map(([n]) => n).join(', ')}`,
      parse(text) {
        const set = new Set<number>();
        for (const item of text.split(',')) {
          const named = TCP_OPTIONS.find(([n]) => n === item)?.[1];
          const n = named ?? (xtUint(item, 0n, 255n) === null ? null : Number(xtUint(item, 0n, 255n)));
          if (n === null) return `bad TCP option '${item}'`;
          if (n < 2) return 'option numbers 0 and 1 cannot be stripped';
          if (set.has(n)) return `option '${item}' given twice`;
          set.add(n);
        }
        const sorted = [...set].sort((a, b) => a - b);
        return { text: sorted.join(','), n: set.size };
      },
      samples: { valid: ['mss', 'wscale,sack', '30', 'timestamp,2'], invalid: ['1', 'x', 'mss,mss', '256'] },
    }),
  ],
  save(given) {
    const g = given.get('strip-options');
    return g ? [printedOf(g)] : [];
  },
});

// --- IPv6 prefix translation, NETMAP ---------------------------------------------------------

function npt(name: 'DNPT' | 'SNPT'): Extension {
  return t({
    name,
    lib: `libip6t_${name}`,
    family: 'ipv6',
    tables: ['mangle'],
    hooks: name === 'DNPT' ? ['PREROUTING', 'OUTPUT'] : ['INPUT', 'POSTROUTING'],
    summary:
      name === 'DNPT'
        ? 'IPv6-to-IPv6 destination prefix translation (RFC 6296)'
        : 'IPv6-to-IPv6 source prefix translation (RFC 6296)',
    caseContext: { base: '--src-pfx 2001:db8::/64 --dst-pfx 2001:db9::/64' },
    options: [opt('src-pfx', hostMask, { required: true }), opt('dst-pfx', hostMask, { required: true })],
    save(given) {
      const pfx = (n: string): string => {
        const g = given.get(n)!;
        const p = g.val.text.includes('/') ? g.val.text.split('/')[1]! : '128';
        return `${formatHost(6, g.val.addr!)}/${p}`;
      };
      return [printedFlag('src-pfx', false, [pfx('src-pfx')]), printedFlag('dst-pfx', false, [pfx('dst-pfx')])];
    },
  });
}

const netmap = (family: Family): Extension =>
  t({
    name: 'NETMAP',
    lib: family === 'ipv4' ? 'libipt_NETMAP' : 'libip6t_NETMAP',
    family,
    tables: ['nat'],
    summary: 'map a whole subnet onto another, address by address',
    options: [opt('to', hostMask, { required: true })],
    save(given) {
      const g = given.get('to')!;
      const bits = family === 'ipv6' ? 128 : 32;
      const p = g.val.text.includes('/') ? Number(g.val.text.split('/')[1]) : bits;
      return [
        printedFlag('to', false, [
          `${formatHost(family === 'ipv6' ? 6 : 4, g.val.addr!)}/${Number.isNaN(p) ? bits : p}`,
        ]),
      ];
    },
  });

// --- SET, IDLETIMER, RATEEST, LED --------------------------------------------------------------

/** SET's dimension flags: --match-set's reader, with the samples its recorded kernel answers were made for. */
const setTargetDirs: ValueType = { ...setDirs, samples: { valid: ['src', 'src,dst'], invalid: ['x'] } };

const setTarget = t({
  name: 'SET',
  lib: 'libxt_SET',
  revision: 3,
  summary: 'add the packet to an ipset, or remove it',
  caseContext: { base: '--add-set vt src' },
  options: [
    opt('add-set', setName, { second: setTargetDirs }),
    opt('del-set', setName, { second: setTargetDirs }),
    opt('exist', null, { multi: true, invert: 'ignored' }),
    opt('timeout', uint(32, { max: 0xfffffffe }), { multi: true, invert: 'ignored' }),
    opt('map-set', setName, { second: setTargetDirs }),
    opt('map-mark', null, { multi: true, invert: 'ignored' }),
    opt('map-prio', null, { multi: true, invert: 'ignored' }),
    opt('map-queue', null, { multi: true, invert: 'ignored' }),
  ],
  check(given) {
    if (!given.has('add-set') && !given.has('del-set') && !given.has('map-set'))
      return "give '--add-set', '--del-set' or '--map-set'";
    if (!given.has('add-set') && given.has('exist')) return "'--exist' goes with '--add-set' only";
    if (!given.has('add-set') && given.has('timeout')) return "'--timeout' goes with '--add-set' only";
    if (!given.has('map-set') && (given.has('map-mark') || given.has('map-prio') || given.has('map-queue')))
      return "'--map-mark', '--map-prio' and '--map-queue' go with '--map-set' only";
    if (given.has('map-set') && !given.has('map-mark') && !given.has('map-prio') && !given.has('map-queue'))
      return "give '--map-mark', '--map-prio' or '--map-queue' with '--map-set'";
    return null;
  },
  save(given) {
    const out: PrintedOption[] = [];
    const set = (n: string): void => {
      const g = given.get(n);
      if (g) out.push(printedFlag(n, false, [g.val.text, g.second!.text]));
    };
    set('add-set');
    if (given.has('exist')) out.push(printedFlag('exist'));
    const to = given.get('timeout');
    if (to) out.push(printedFlag('timeout', false, [to.all[to.all.length - 1]!.val.text]));
    set('del-set');
    set('map-set');
    for (const f of ['map-mark', 'map-prio', 'map-queue']) if (given.has(f)) out.push(printedFlag(f));
    return out;
  },
});

const idletimer = t({
  name: 'IDLETIMER',
  lib: 'libxt_IDLETIMER',
  revision: 1,
  summary: 'restart a timer whose expiry user space is told about (sysfs)',
  caseContext: { base: '--timeout 60 --label vt', serial: true },
  options: [
    opt('timeout', uint(32), { required: true }),
    opt('label', str({ size: 28, valid: ['vt', 'wan-idle'] }), { required: true }),
    opt('alarm', null),
  ],
  save: (given) => inOrder(given, ['timeout', 'label', 'alarm']),
});

const TIME_UNITS = 1_000_000;

/** strtod with s/sec/secs, ms/msec/msecs, us/usec/usecs (default: microseconds). */
const rateestTime: ValueType = {
  describe: 'a time N[s|ms|us]',
  parse(text) {
    const r = strtodPrefix(text);
    if (!r) return `bad time '${text}'`;
    let v = r.value;
    const unit = text.slice(r.end).toLowerCase();
    if (unit !== '') {
      if (['s', 'sec', 'secs'].includes(unit)) v *= TIME_UNITS;
      else if (['ms', 'msec', 'msecs'].includes(unit)) v *= TIME_UNITS / 1000;
      else if (!['us', 'usec', 'usecs'].includes(unit)) return `bad time '${text}'`;
    }
    return { text: '', n: Math.trunc(v) >>> 0 };
  },
  samples: { valid: ['1s', '250ms', '500000us', '2sec', '1.5s'], invalid: ['x', '1m', '1h'] },
};

function rateTime(us: number): string {
  if (us >= TIME_UNITS) return `${(us / TIME_UNITS).toFixed(1)}s`;
  if (us >= TIME_UNITS / 1000) return `${(us / (TIME_UNITS / 1000)).toFixed(1)}ms`;
  return `${us}us`;
}

const rateest = t({
  name: 'RATEEST',
  lib: 'libxt_RATEEST',
  summary: 'estimate the rate of the matching traffic (for -m rateest)',
  caseContext: { base: '--rateest-name vt --rateest-interval 1s --rateest-ewmalog 2s' },
  options: [
    opt('rateest-name', str({ size: 16, valid: ['vt', 'wan'] }), { required: true }),
    opt('rateest-interval', rateestTime, { required: true }),
    opt('rateest-ewmalog', rateestTime, { required: true }),
  ],
  check(given) {
    const r = rateestState(given);
    return typeof r === 'string' ? r : null;
  },
  save(given) {
    const r = rateestState(given) as { interval: number; ewma: number };
    const local = Math.floor((TIME_UNITS * 2 ** (r.interval + 2)) / 4);
    return [
      printedFlag('rateest-name', false, [given.get('rateest-name')!.val.text]),
      printedFlag('rateest-interval', false, [rateTime(local)]),
      printedFlag('rateest-ewmalog', false, [rateTime((local * 2 ** r.ewma) >>> 0)]),
    ];
  },
});

/** RATEEST_final_check: the interval as a power of two of 250 ms, the averaging as ewma_log. */
function rateestState(given: GivenMap): { interval: number; ewma: number } | string {
  const interval = given.get('rateest-interval')!.val.n!;
  const ewmaTime = given.get('rateest-ewmalog')!.val.n!;
  let i = 0;
  for (; i <= 5; i++) if (interval <= 2 ** i * (TIME_UNITS / 4)) break;
  if (i > 5) return '--rateest-interval is too large (at most 8s)';
  let e = 1;
  for (; e < 32; e++) {
    const w = 1 - 1 / 2 ** e;
    if (interval / -Math.log(w) > ewmaTime) break;
  }
  e--;
  if (e === 0 || e >= 31) return '--rateest-ewmalog is out of range for the interval';
  return { interval: i - 2, ewma: e };
}

const led = t({
  name: 'LED',
  lib: 'libxt_LED',
  summary: 'blink a LED on matching packets',
  options: [
    opt('led-trigger-id', str({ max: 27, valid: ['vt'] }), { required: true }),
    opt('led-delay', {
      describe: 'milliseconds or inf',
      parse: (text) => (text === 'inf' || /^\d+$/.test(text) ? { text } : `bad --led-delay '${text}'`),
      samples: { valid: ['100', 'inf'], invalid: ['x'] },
    }),
    opt('led-always-blink', null),
  ],
});

// --- targets iptables 1.8.9 ships for modules current kernels have dropped ------------------------

const clusterip = t({
  name: 'CLUSTERIP',
  lib: 'libipt_CLUSTERIP',
  family: 'ipv4',
  summary: 'share one IP address among a cluster of hosts (removed from Linux 6.1)',
  caseContext: { base: '--new --hashmode sourceip --clustermac 01:00:5e:00:00:01 --total-nodes 2 --local-node 1' },
  options: [
    opt('new', null),
    opt(
      'hashmode',
      choice({
        sourceip: 'sourceip',
        'sourceip-sourceport': 'sourceip-sourceport',
        'sourceip-sourceport-destport': 'sourceip-sourceport-destport',
      }),
      { also: ['new'] },
    ),
    opt('clustermac', etherMac, { also: ['new'] }),
    opt('total-nodes', uint(16, { max: 16 }), { also: ['new'] }),
    opt('local-node', uint(16, { max: 16 }), { also: ['new'] }),
    opt('hash-init', uint(32), { also: ['new'] }),
  ],
});

const ulog = t({
  name: 'ULOG',
  lib: 'libipt_ULOG',
  family: 'ipv4',
  summary: 'log to a netlink multicast group (removed from Linux 3.17; use NFLOG)',
  options: [
    opt('ulog-nlgroup', uint(8, { min: 1, max: 32 })),
    opt('ulog-prefix', str({ min: 1, size: 32 }), { quoted: true }),
    opt('ulog-cprange', uint(64)),
    opt('ulog-qthreshold', uint(64, { min: 1, max: 50 })),
  ],
});

export const MORE_TARGETS: readonly Extension[] = [
  audit,
  classify,
  connsecmark,
  dscpTarget,
  tosTarget,
  ttlTarget('TTL', 'ipv4'),
  ttlTarget('HL', 'ipv6'),
  ecnTarget,
  ct,
  notrack,
  secmark,
  hmark('ipv4'),
  hmark('ipv6'),
  tee,
  tproxy,
  synproxy,
  tcpoptstrip,
  npt('DNPT'),
  npt('SNPT'),
  netmap('ipv4'),
  netmap('ipv6'),
  setTarget,
  idletimer,
  rateest,
  led,
  clusterip,
  ulog,
];
