// The match extensions iptables 1.8.9 ships (libxt_*, libipt_*, libip6t_*), as data: option
// tables after each extension's x6_options (or getopt table), the checks its parse and
// final_check functions and the kernel's checkentry make, and what its save function prints.
// Revisions are the ones 1.8.9 picks on a current kernel. Checked against the kernel by
// test/kernel/xt-oracle.test.ts.

import { ICMP_CODES, ICMPV6_CODES, icmpType } from './icmp.js';
import type { Extension, GivenMap, PrintedOption } from './spec.js';
import { opt, printedOf } from './spec.js';
import {
  choice,
  etherMac,
  familyHost,
  flagList,
  hostMask,
  markMask,
  portRange,
  protocol,
  servicePortRange,
  str,
  uint,
  uintRange,
  type ValueType,
} from './values.js';
import { RTN_TYPES } from '../model/protocols.js';

type MatchDef = Omit<Extension, 'kind'>;
const m = (def: MatchDef): Extension => ({ kind: 'match', ...def });

/** The given options in a fixed print order (save functions that print out of table order). */
export function inOrder(given: GivenMap, names: readonly string[]): PrintedOption[] {
  const out: PrintedOption[] = [];
  for (const name of names) {
    const g = given.get(name);
    if (g) out.push(printedOf(g));
  }
  return out;
}

/** tcp/udp/dccp/sctp ports: save skips a full 0:65535 range, negated or not. */
function portsSave(names: readonly string[]) {
  return (given: GivenMap): PrintedOption[] => {
    const out: PrintedOption[] = [];
    for (const name of names) {
      const g = given.get(name);
      if (!g) continue;
      if (g.val.lo === 0 && g.val.hi === 65535) continue;
      out.push(printedOf(g));
    }
    return out;
  };
}

// --- tcp -------------------------------------------------------------------------------------

const TCP_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ALL', 0x3f],
  ['NONE', 0],
];
const tcpFlags = flagList(TCP_FLAGS, {
  caseless: true,
  empty: 'skip',
  printOrder: ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'],
  none: 'NONE',
  valid: ['ALL', 'NONE', 'syn,ack', 'SYN,,ACK'],
  invalid: ['ECE', 'CWR', 'SYN,XMAS'],
});

const tcp = m({
  name: 'tcp',
  lib: 'libxt_tcp',
  protocols: ['tcp'],
  summary: 'TCP ports, flags and options',
  options: [
    opt('sport', servicePortRange('tcp'), { aliases: ['source-port'], invert: true }),
    opt('dport', servicePortRange('tcp'), { aliases: ['destination-port'], invert: true }),
    opt('syn', null, { invert: true, excl: ['tcp-flags'] }),
    opt('tcp-flags', tcpFlags, { second: tcpFlags, invert: true, excl: ['syn'] }),
    opt('tcp-option', uint(8, { min: 1 }), { invert: true }),
  ],
  save(given) {
    const out = portsSave(['sport', 'dport'])(given);
    const option = given.get('tcp-option');
    if (option) out.push(printedOf(option));
    const syn = given.get('syn');
    if (syn) out.push({ name: '--tcp-flags', negated: syn.negated, values: ['FIN,SYN,RST,ACK', 'SYN'] });
    const flags = given.get('tcp-flags');
    if (flags && (flags.val.bits !== 0 || flags.negated)) out.push(printedOf(flags));
    return out;
  },
});

const udp = m({
  name: 'udp',
  lib: 'libxt_udp',
  protocols: ['udp'],
  summary: 'UDP ports',
  options: [
    opt('sport', portRange, { aliases: ['source-port'], invert: true }),
    opt('dport', portRange, { aliases: ['destination-port'], invert: true }),
  ],
  save: portsSave(['sport', 'dport']),
});

const icmp = m({
  name: 'icmp',
  lib: 'libipt_icmp',
  family: 'ipv4',
  protocols: ['icmp'],
  summary: 'ICMP type and code',
  options: [opt('icmp-type', icmpType(ICMP_CODES, 'ICMP'), { invert: true, required: true })],
});

const icmp6 = m({
  name: 'icmp6',
  lib: 'libip6t_icmp6',
  family: 'ipv6',
  protocols: ['ipv6-icmp'],
  summary: 'ICMPv6 type and code',
  options: [opt('icmpv6-type', icmpType(ICMPV6_CODES, 'ICMPv6'), { invert: true, required: true })],
});

// --- multiport -------------------------------------------------------------------------------

/** `P[,P|P:Q]…`, at most 15 slots (a range takes two); a range must rise (`22:22` is refused). */
const portList: ValueType = {
  describe: 'a list of ports and ranges P:Q (at most 15 ports, a range counting as two)',
  parse(text) {
    const out: string[] = [];
    let slots = 0;
    for (const item of text.split(',')) {
      if (slots >= 15) return `too many ports in '${text}' (15 at most)`;
      const colon = item.indexOf(':');
      if (colon >= 0 && slots === 14) return `too many ports in '${text}' (15 at most, a range takes two)`;
      const a = colon < 0 ? item : item.slice(0, colon);
      const lo = servicePortRange('any').parse(a, 'ipv4');
      if (typeof lo === 'string' || a.includes(':')) return typeof lo === 'string' ? lo : `invalid port '${a}'`;
      if (colon < 0) {
        out.push(String(lo.lo));
        slots++;
        continue;
      }
      const b = item.slice(colon + 1);
      const hi = servicePortRange('any').parse(b, 'ipv4');
      if (typeof hi === 'string' || b === '' || b.includes(':'))
        return typeof hi === 'string' ? hi : `invalid port '${b}'`;
      if (lo.lo! >= hi.lo!) return `invalid port range '${item}' (the first port must be lower)`;
      out.push(`${lo.lo}:${hi.lo}`);
      slots += 2;
    }
    return { text: out.join(','), items: text.split(',') };
  },
  samples: {
    valid: ['22', '22,80,443', '1024:2048', 'ssh,http', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15', '1:2,3'],
    invalid: [
      '22:22',
      '80:22',
      '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16',
      '1,2,3,4,5,6,7,8,9,10,11,12,13,14:15',
      'x',
      '65536',
      '22,',
    ],
  },
};

const MULTIPORT_PROTOCOLS = ['tcp', 'udp', 'udplite', 'sctp', 'dccp'];

const multiport = m({
  name: 'multiport',
  lib: 'libxt_multiport',
  revision: 1,
  summary: 'up to 15 ports or ranges',
  protocols: MULTIPORT_PROTOCOLS,
  options: [
    opt('sports', portList, { aliases: ['source-ports'], invert: true, excl: ['dports', 'ports'] }),
    opt('dports', portList, { aliases: ['destination-ports'], invert: true, excl: ['sports', 'ports'] }),
    opt('ports', portList, { invert: true, excl: ['sports', 'dports'] }),
  ],
  check: (given) => (given.size === 0 ? 'an option is required (--sports, --dports or --ports)' : null),
});

// --- conntrack, state --------------------------------------------------------------------------

const CT_STATES: ReadonlyArray<readonly [string, number]> = [
  ['INVALID', 1],
  ['NEW', 8],
  ['ESTABLISHED', 2],
  ['RELATED', 4],
  ['UNTRACKED', 0x100],
  ['SNAT', 0x200],
  ['DNAT', 0x400],
];
const CT_STATE_PRINT = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];
const ctStates = flagList(CT_STATES, {
  prefix: true,
  printOrder: CT_STATE_PRINT,
  valid: ['est,rel', 'related,established', 'NEW,INVALID,DNAT'],
  invalid: ['wrong', 'NEW,wrong', 'NEW,', ',NEW'],
});
const states = flagList(CT_STATES.slice(0, 5), {
  prefix: true,
  printOrder: CT_STATE_PRINT.slice(0, 5),
  valid: ['est,rel', 'RELATED,ESTABLISHED'],
  invalid: ['wrong', 'SNAT', 'NEW,', ''],
});

const CT_STATUSES: ReadonlyArray<readonly [string, number]> = [
  ['NONE', 0],
  ['EXPECTED', 1],
  ['SEEN_REPLY', 2],
  ['ASSURED', 4],
  ['CONFIRMED', 8],
];
const ctStatus = flagList(CT_STATUSES, {
  prefix: true,
  printOrder: ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'],
  none: 'NONE',
  valid: ['NONE', 'ASSURED,EXPECTED'],
  invalid: ['wrong', 'ASSURED,'],
});

const ctDir = choice({ ORIGINAL: 'ORIGINAL', REPLY: 'REPLY' }, { caseless: true });

const conntrackPort = portRange;

const conntrack = m({
  name: 'conntrack',
  lib: 'libxt_conntrack',
  revision: 3,
  summary: 'connection tracking state, status, tuple and expiry',
  options: [
    opt('ctstate', ctStates, { invert: true }),
    opt('ctproto', protocol, { invert: true }),
    opt('ctorigsrc', hostMask, { invert: true }),
    opt('ctorigdst', hostMask, { invert: true }),
    opt('ctreplsrc', hostMask, { invert: true }),
    opt('ctrepldst', hostMask, { invert: true }),
    opt('ctorigsrcport', conntrackPort, { invert: true }),
    opt('ctorigdstport', conntrackPort, { invert: true }),
    opt('ctreplsrcport', conntrackPort, { invert: true }),
    opt('ctrepldstport', conntrackPort, { invert: true }),
    opt('ctstatus', ctStatus, { invert: true }),
    opt('ctexpire', uintRange(32), { invert: true }),
    opt('ctdir', ctDir),
  ],
  check: (given) => {
    if (given.size === 0) return 'at least one option is required';
    const proto = given.get('ctproto');
    if (proto && proto.negated && proto.val.n === 0) return 'rule would never match protocol (! --ctproto all)';
    return null;
  },
  save(given) {
    const out = inOrder(given, [
      'ctstate',
      'ctproto',
      'ctorigsrc',
      'ctorigdst',
      'ctreplsrc',
      'ctrepldst',
      'ctorigsrcport',
      'ctorigdstport',
      'ctreplsrcport',
      'ctrepldstport',
      'ctstatus',
      'ctexpire',
    ]);
    const dir = given.get('ctdir');
    if (dir) out.push({ name: '--ctdir', negated: false, values: [dir.val.text] });
    return out;
  },
});

const state = m({
  name: 'state',
  lib: 'libxt_conntrack',
  summary: 'connection tracking state (conntrack under its old name)',
  options: [opt('state', states, { invert: true, required: true })],
});

// --- simple matches ----------------------------------------------------------------------------

const comment = m({
  name: 'comment',
  lib: 'libxt_comment',
  summary: 'a comment (up to 255 bytes)',
  options: [
    opt('comment', str({ size: 256, valid: ['x', 'a b', 'quote " and \\\\', "it's", '-x', ''] }), {
      required: true,
      quoted: true,
    }),
  ],
});

/** `N[/second|/minute|/hour|/day]` (any leading part of the unit), as the kernel's period in 1/10000 s. */
const XT_LIMIT_SCALE = 10000;
const rate: ValueType = {
  describe: 'a rate N[/second|/minute|/hour|/day]',
  parse(text) {
    const slash = text.indexOf('/');
    let mult = 1;
    if (slash >= 0) {
      const unit = text.slice(slash + 1).toLowerCase();
      if (unit === '') return `bad rate '${text}'`;
      if ('second'.startsWith(unit)) mult = 1;
      else if ('minute'.startsWith(unit)) mult = 60;
      else if ('hour'.startsWith(unit)) mult = 3600;
      else if ('day'.startsWith(unit)) mult = 86400;
      else return `bad rate '${text}' (units: second, minute, hour, day)`;
    }
    const r = atoi(text);
    if (r === 0) return `bad rate '${text}'`;
    const avg = Math.floor((XT_LIMIT_SCALE * mult) / (r >>> 0)) >>> 0;
    if (avg === 0) return `rate too fast '${text}'`;
    return { text: printRate(avg), n: avg };
  },
  samples: {
    valid: ['3/hour', '1/s', '10/min', '5', '100/d', '2/minute', '7/sec'],
    invalid: ['0', 'x', '1/year', '1/', '20000/s'],
  },
};

/** C's atoi(): optional blanks and sign, then decimal digits; 32-bit wrap-around. */
function atoi(text: string): number {
  const m = /^\s*([+-]?)(\d+)/.exec(text);
  if (!m) return 0;
  const n = Number(BigInt.asIntN(32, BigInt(m[2]!)));
  return m[1] === '-' ? -n | 0 : n;
}

const RATE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['day', XT_LIMIT_SCALE * 86400],
  ['hour', XT_LIMIT_SCALE * 3600],
  ['min', XT_LIMIT_SCALE * 60],
  ['sec', XT_LIMIT_SCALE],
];

/**
 * xt_limit's user2credits() in 32-bit arithmetic, for the kernel's overflow check; HZ × credits
 * per jiffy is 32000 for HZ=250 and HZ=1000 (Debian's and most distributions' kernels).
 */
function userToCredits(user: number): number {
  const HZ_CPJ = 32000;
  if (user > Math.floor(0xffffffff / HZ_CPJ)) return Math.imul(Math.floor(user / XT_LIMIT_SCALE), HZ_CPJ) >>> 0;
  return Math.floor((user * HZ_CPJ) / XT_LIMIT_SCALE) >>> 0;
}

/** print_rate(): the largest unit that divides exactly, else per second. */
export function printRate(period: number): string {
  let i = 1;
  for (; i < RATE_UNITS.length; i++) {
    const mult = RATE_UNITS[i]![1];
    if (period > mult || Math.floor(mult / period) < mult % period) break;
  }
  const [name, mult] = RATE_UNITS[i - 1]!;
  return `${Math.floor(mult / period)}/${name}`;
}

const limit = m({
  name: 'limit',
  lib: 'libxt_limit',
  summary: 'a token-bucket rate limit',
  options: [opt('limit', rate), opt('limit-burst', uint(32, { max: 10000 }))],
  save(given) {
    const l = given.get('limit');
    const out: PrintedOption[] = [
      { name: '--limit', negated: false, values: [l ? l.val.text : printRate((XT_LIMIT_SCALE * 3600) / 3)] },
    ];
    const b = given.get('limit-burst');
    if (b && b.val.n !== 5) out.push(printedOf(b));
    return out;
  },
  check(given) {
    const avg = given.get('limit')?.val.n ?? (XT_LIMIT_SCALE * 3600) / 3;
    const burst = given.get('limit-burst')?.val.n ?? 5;
    if (burst === 0 || userToCredits(Math.imul(avg, burst) >>> 0) < userToCredits(avg))
      return `rate ${printRate(avg)} with burst ${burst} overflows the kernel's token counter (try a lower burst)`;
    return null;
  },
});

const mark = m({
  name: 'mark',
  lib: 'libxt_mark',
  revision: 1,
  summary: 'the packet mark (value/mask)',
  options: [opt('mark', markMask, { invert: true, required: true })],
});

const connmark = m({
  name: 'connmark',
  lib: 'libxt_connmark',
  revision: 1,
  summary: 'the connection mark (value/mask)',
  options: [opt('mark', markMask, { invert: true, required: true })],
});

const mac = m({
  name: 'mac',
  lib: 'libxt_mac',
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  summary: 'the source MAC address',
  options: [opt('mac-source', etherMac, { invert: true, required: true })],
});

/** `A[-B]` of the rule's family, each in iptables' own numeric reading. */
const addressRange: ValueType = {
  describe: 'an address or range A-B',
  parse(text, family) {
    const dash = text.indexOf('-');
    const a = familyHost.parse(dash < 0 ? text : text.slice(0, dash), family);
    if (typeof a === 'string') return a;
    const b = dash < 0 ? a : familyHost.parse(text.slice(dash + 1), family);
    if (typeof b === 'string') return b;
    return { text: `${a.text}-${b.text}` };
  },
  samples: {
    valid: ['10.0.0.1-10.0.0.9', '10.0.0.1', '10.1-10.2', 'fe80::1-fe80::9'],
    invalid: ['10.0.0.1-', 'x-y', '10.0.0.1-10.0.0.300'],
  },
};

const iprange = m({
  name: 'iprange',
  lib: 'libxt_iprange',
  revision: 1,
  summary: 'source or destination address ranges',
  options: [opt('src-range', addressRange, { invert: true }), opt('dst-range', addressRange, { invert: true })],
  check: (given) => (given.size === 0 ? 'give --src-range or --dst-range' : null),
});

const addrTypes = flagList(
  RTN_TYPES.map((n, i) => [n, 1 << i] as const),
  {
    prefix: true,
    valid: ['LOCAL', 'local,broadcast', 'MULTICAST,UNICAST'],
    invalid: ['wrong', 'LOCAL,', 'LOCAL,wrong'],
  },
);

const addrtype = m({
  name: 'addrtype',
  lib: 'libxt_addrtype',
  revision: 1,
  summary: 'the address type (LOCAL, BROADCAST, …) of the source or destination',
  options: [
    opt('src-type', addrTypes, { invert: true }),
    opt('dst-type', addrTypes, { invert: true }),
    opt('limit-iface-in', null, { excl: ['limit-iface-out'] }),
    opt('limit-iface-out', null, { excl: ['limit-iface-in'] }),
  ],
  check(given, family) {
    if (!given.has('src-type') && !given.has('dst-type')) return 'give --src-type or --dst-type';
    if (family === 'ipv6') {
      const bits = (given.get('src-type')?.val.bits ?? 0) | (given.get('dst-type')?.val.bits ?? 0);
      if (bits & (1 << 6)) return 'IPv6 has no BLACKHOLE address type';
      if (bits & ~((1 << 8) - 1)) return 'IPv6 has no PROHIBIT, THROW, NAT or XRESOLVE address types';
      if (bits & (1 << 3)) return 'IPv6 has no broadcast addresses';
    }
    return null;
  },
  hookCheck(given, hooks) {
    if (given.has('limit-iface-in') && (hooks.has('OUTPUT') || hooks.has('POSTROUTING')))
      return '--limit-iface-in is only valid in PREROUTING, INPUT and FORWARD';
    if (given.has('limit-iface-out') && (hooks.has('PREROUTING') || hooks.has('INPUT')))
      return '--limit-iface-out is only valid in OUTPUT, POSTROUTING and FORWARD';
    return null;
  },
});

const pkttype = m({
  name: 'pkttype',
  lib: 'libxt_pkttype',
  summary: 'the link-layer packet type',
  options: [
    opt(
      'pkt-type',
      choice(
        {
          unicast: 'unicast',
          broadcast: 'broadcast',
          multicast: 'multicast',
          otherhost: 'otherhost',
          bcast: 'broadcast',
          mcast: 'multicast',
          host: 'unicast',
        },
        { caseless: true },
      ),
      { invert: true, required: true },
    ),
  ],
});

const length = m({
  name: 'length',
  lib: 'libxt_length',
  summary: 'the packet length (layer 3)',
  options: [opt('length', uintRange(16), { invert: true, required: true })],
});

/** An interface name as xtables_parse_interface takes it: at most 15 characters, `+` a wildcard. */
const ifaceName = str({ max: 15, valid: ['eth0', 'vif1.0', 'eth+', '+'], invalid: ['0123456789abcdef'] });

const physdev = m({
  name: 'physdev',
  lib: 'libxt_physdev',
  summary: 'the bridge port a bridged packet came in or goes out on',
  options: [
    opt('physdev-in', ifaceName, { invert: true }),
    opt('physdev-out', ifaceName, { invert: true }),
    opt('physdev-is-in', null, { invert: true }),
    opt('physdev-is-out', null, { invert: true }),
    opt('physdev-is-bridged', null, { invert: true }),
  ],
  check: (given) => (given.size === 0 ? 'give at least one --physdev-… option' : null),
  save: (given) =>
    inOrder(given, ['physdev-is-in', 'physdev-in', 'physdev-is-out', 'physdev-out', 'physdev-is-bridged']),
  hookCheck(given, hooks) {
    const out = given.has('physdev-out') || given.has('physdev-is-out');
    const bridged = given.get('physdev-is-bridged');
    if (out && (!bridged || bridged.negated) && hooks.has('OUTPUT')) {
      return '--physdev-out and --physdev-is-out need --physdev-is-bridged in OUTPUT (locally sent packets have no bridge port yet)';
    }
    return null;
  },
});

export const MATCHES: readonly Extension[] = [
  tcp,
  udp,
  icmp,
  icmp6,
  multiport,
  conntrack,
  state,
  comment,
  limit,
  mark,
  connmark,
  mac,
  iprange,
  addrtype,
  pkttype,
  length,
  physdev,
];

export { uint };
