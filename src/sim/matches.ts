// Match modules, compiled once per rule into closures over plain fields. Each evaluates
// exactly what the kernel module does for the packets virtables traces; a module or option
// it cannot decide exactly compiles to "unknown" with the reason, never to a guess.

import { parseCidr, parseHost, maskOf, type IpFamily } from '../model/cidr.js';
import type { Match, Option } from '../model/dump.js';
import { ICMP_TYPES, ICMPV6_TYPES, protocolNumber, RTN_TYPES, SERVICE_PORTS } from '../model/protocols.js';
import { NO_ENV, type EvalEnv } from './env.js';
import { FOUND, MAYBE, parseSetFlags, testSet } from './ipset.js';
import { parseRecent, recentTest } from './recent.js';
import {
  ST_INVALID,
  ST_UNTRACKED,
  STATE_BITS,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  undecided,
  type MatchCtx,
} from './packet.js';

export type Test = (c: MatchCtx) => boolean;

/** A compiled match: a test, or the reason it cannot be decided; `note` says what was assumed. */
export type CompiledMatch =
  | { readonly kind: 'test'; readonly test: Test; readonly note?: string }
  | { readonly kind: 'unknown'; readonly why: string };

const test = (t: Test, note?: string): CompiledMatch =>
  note ? { kind: 'test', test: t, note } : { kind: 'test', test: t };
const unknown = (why: string): CompiledMatch => ({ kind: 'unknown', why });
const ALWAYS: Test = () => true;

const first = (o: Option): string => o.args[0]?.value ?? '';

// --- shared value parsers ---------------------------------------------------------------

function port(text: string): number | null {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n <= 65535 ? n : null;
  }
  return SERVICE_PORTS[text.toLowerCase()] ?? null;
}

/** `22`, `1024:65535`, `:1023`, `1024:` → inclusive range. */
export function portRange(text: string): [number, number] | null {
  const colon = text.indexOf(':');
  if (colon < 0) {
    const p = port(text);
    return p === null ? null : [p, p];
  }
  const lo = colon === 0 ? 0 : port(text.slice(0, colon));
  const hi = colon === text.length - 1 ? 65535 : port(text.slice(colon + 1));
  if (lo === null || hi === null) return null;
  return lo <= hi ? [lo, hi] : [hi, lo];
}

function portTest(o: Option, field: 'sport' | 'dport'): Test | null {
  const r = portRange(first(o));
  if (!r) return null;
  const [lo, hi] = r;
  const neg = o.negated;
  return field === 'sport'
    ? (c) => (c.sport >= lo && c.sport <= hi) !== neg
    : (c) => (c.dport >= lo && c.dport <= hi) !== neg;
}

/** `ADDR[/MASK]` as conntrack and iprange write them, in the rule's family. */
function addrTest(text: string, family: IpFamily): { net: bigint; mask: bigint } | null {
  const cidr = parseCidr(text);
  if (!cidr || cidr.family !== family) return null;
  return { net: cidr.network, mask: maskOf(family, cidr.prefix) };
}

function parseMarkValue(text: string): { value: number; mask: number } | null {
  const m = /^(0x[0-9a-f]+|\d+)(?:\/(0x[0-9a-f]+|\d+))?$/i.exec(text);
  if (!m) return null;
  const value = Number(m[1]);
  const mask = m[2] === undefined ? 0xffffffff : Number(m[2]);
  if (value > 0xffffffff || mask > 0xffffffff) return null;
  return { value: value >>> 0, mask: mask >>> 0 };
}

export function parseMark(text: string): { value: number; mask: number } | null {
  return parseMarkValue(text);
}

/** Interface names as the kernel compares them: a trailing `+` makes a prefix match. */
export function ifaceTest(
  name: string,
  field: 'inIface' | 'outIface' | 'physIn' | 'physOut',
): (c: MatchCtx) => boolean {
  if (name.endsWith('+')) {
    const prefix = name.slice(0, -1);
    return (c) => {
      const v = c[field];
      return v !== null && v.startsWith(prefix);
    };
  }
  return (c) => c[field] === name;
}

// --- modules ------------------------------------------------------------------------------

type Compiler = (m: Match, family: IpFamily, env: EvalEnv) => CompiledMatch;

function each(m: Match, handle: (o: Option) => Test | CompiledMatch | null): CompiledMatch {
  const tests: Test[] = [];
  const notes: string[] = [];
  for (const o of m.options) {
    const r = handle(o);
    if (r === null)
      return unknown(`-m ${m.name} ${o.negated ? '! ' : ''}${o.name} ${o.args.map((a) => a.value).join(' ')}`.trim());
    if (typeof r === 'function') tests.push(r);
    else if (r.kind === 'unknown') return r;
    else {
      tests.push(r.test);
      if (r.note) notes.push(r.note);
    }
  }
  return test(all(tests), notes.length > 0 ? notes.join('; ') : undefined);
}

export function all(tests: readonly Test[]): Test {
  if (tests.length === 0) return ALWAYS;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (c) => a(c) && b(c);
  }
  return (c) => {
    for (const t of tests) if (!t(c)) return false;
    return true;
  };
}

const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  FIN: TCP_FIN,
  SYN: TCP_SYN,
  RST: TCP_RST,
  PSH: TCP_PSH,
  ACK: TCP_ACK,
  URG: TCP_URG,
  ECE: 0x40,
  CWR: 0x80,
  ALL: 0x3f,
  NONE: 0,
};

function flagMask(text: string): number | null {
  let bits = 0;
  for (const f of text.toUpperCase().split(',')) {
    const b = TCP_FLAG_BITS[f];
    if (b === undefined) return null;
    bits |= b;
  }
  return bits;
}

const tcpLike: Compiler = (m) =>
  each(m, (o) => {
    switch (o.name) {
      case '--sport':
      case '--source-port':
        return portTest(o, 'sport');
      case '--dport':
      case '--destination-port':
        return portTest(o, 'dport');
      case '--syn': {
        const neg = o.negated;
        return (c) => ((c.tcpFlags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK)) === TCP_SYN) !== neg;
      }
      case '--tcp-flags': {
        if (m.name !== 'tcp' || o.args.length !== 2) return null;
        const mask = flagMask(o.args[0]!.value);
        const comp = flagMask(o.args[1]!.value);
        if (mask === null || comp === null) return null;
        const neg = o.negated;
        return (c) => ((c.tcpFlags & mask) === comp) !== neg;
      }
      default:
        return null;
    }
  });

/** `--icmp-type` value → [type, codeLo, codeHi]; `any` is every type. */
function icmpType(text: string, family: IpFamily): [number, number, number] | null {
  const table = family === 4 ? ICMP_TYPES : ICMPV6_TYPES;
  if (text === 'any') return [255, 0, 255];
  const spelled = table[text] ?? text;
  const m = /^(\d+)(?:\/(\d+))?$/.exec(spelled);
  if (!m) return null;
  const type = Number(m[1]);
  if (m[2] === undefined) return [type, 0, 255];
  const code = Number(m[2]);
  return [type, code, code];
}

const icmpLike: Compiler = (m, family) =>
  each(m, (o) => {
    if (o.name !== '--icmp-type' && o.name !== '--icmpv6-type') return null;
    const t = icmpType(first(o), m.name === 'icmp6' ? 6 : family);
    if (!t) return null;
    const [type, lo, hi] = t;
    const neg = o.negated;
    // ICMP type 0xFF means "any" in the kernel's icmp match (not for ICMPv6).
    if (type === 255 && m.name === 'icmp') return (c) => c.icmpType >= 0 !== neg;
    return (c) => (c.icmpType === type && c.icmpCode >= lo && c.icmpCode <= hi) !== neg;
  });

function stateBits(list: string): number | null {
  let bits = 0;
  for (const s of list.split(',')) {
    const b = STATE_BITS[s.toUpperCase()];
    if (b === undefined) return null;
    bits |= b;
  }
  return bits;
}

const state: Compiler = (m) =>
  each(m, (o) => {
    if (o.name !== '--state') return null;
    const bits = stateBits(first(o));
    if (bits === null) return null;
    const neg = o.negated;
    // The state match knows no SNAT/DNAT: only the packet's single state bit counts.
    return (c) => ((c.ctState & 0x1f & bits) !== 0) !== neg;
  });

function ctAddr(o: Option, family: IpFamily, pick: (c: MatchCtx) => bigint | null): Test | null {
  const a = addrTest(first(o), family);
  if (!a) return null;
  const { net, mask } = a;
  const neg = o.negated;
  return (c) => {
    const v = pick(c);
    if (v === null) return false;
    return ((v & mask) === net) !== neg;
  };
}

function ctPort(o: Option, pick: (c: MatchCtx) => number | null): Test | null {
  const r = portRange(first(o));
  if (!r) return null;
  const [lo, hi] = r;
  const neg = o.negated;
  return (c) => {
    const v = pick(c);
    if (v === null) return false;
    return (v >= lo && v <= hi) !== neg;
  };
}

/** xt_conntrack: the state test first; without a conntrack entry only a rule with --ctstate can match. */
const conntrack: Compiler = (m, family) => {
  let stateTest: Test | null = null;
  const entryTests: Test[] = [];
  const tracked = (c: MatchCtx): boolean =>
    c.flow !== null && !c.flow.untracked && (c.ctState & (ST_INVALID | ST_UNTRACKED)) === 0;
  for (const o of m.options) {
    let t: Test | null = null;
    switch (o.name) {
      case '--ctstate': {
        const bits = stateBits(first(o));
        if (bits === null) break;
        const neg = o.negated;
        stateTest = (c) => ((c.ctState & bits) !== 0) !== neg;
        continue;
      }
      case '--ctproto': {
        const n = protocolNumber(first(o));
        if (n === null) break;
        const neg = o.negated;
        t = (c) => (c.flow!.proto === n) !== neg;
        break;
      }
      case '--ctdir': {
        const original = first(o).toUpperCase() === 'ORIGINAL';
        const neg = o.negated;
        t = (c) => ((c.ctDir === 0) === original) !== neg;
        break;
      }
      case '--ctorigsrc':
        t = ctAddr(o, family, (c) => c.flow!.orig.src);
        break;
      case '--ctorigdst':
        t = ctAddr(o, family, (c) => c.flow!.orig.dst);
        break;
      case '--ctreplsrc':
        t = ctAddr(o, family, (c) => c.flow!.reply.src);
        break;
      case '--ctrepldst':
        t = ctAddr(o, family, (c) => c.flow!.reply.dst);
        break;
      case '--ctorigsrcport':
        t = ctPort(o, (c) => c.flow!.orig.sport);
        break;
      case '--ctorigdstport':
        t = ctPort(o, (c) => c.flow!.orig.dport);
        break;
      case '--ctreplsrcport':
        t = ctPort(o, (c) => c.flow!.reply.sport);
        break;
      case '--ctrepldstport':
        t = ctPort(o, (c) => c.flow!.reply.dport);
        break;
      default:
        break; // --ctstatus, --ctexpire depend on the entry's history and timers
    }
    if (!t) return unknown(`-m conntrack ${o.negated ? '! ' : ''}${o.name} ${first(o)}`.trim());
    entryTests.push(t);
  }
  const rest = all(entryTests);
  const hasState = stateTest !== null;
  const st = stateTest ?? ALWAYS;
  return test((c) => {
    if (!st(c)) return false;
    if (!tracked(c)) return hasState;
    return rest(c);
  });
};

/** `22,80,1000:2000` → ranges. */
function portList(text: string): Array<[number, number]> | null {
  const out: Array<[number, number]> = [];
  for (const part of text.split(',')) {
    const r = portRange(part);
    if (!r) return null;
    out.push(r);
  }
  return out;
}

const multiport: Compiler = (m) =>
  each(m, (o) => {
    const list = portList(first(o));
    if (!list) return null;
    const neg = o.negated;
    const inList = (p: number): boolean => {
      for (const [lo, hi] of list) if (p >= lo && p <= hi) return true;
      return false;
    };
    switch (o.name) {
      case '--dports':
      case '--destination-ports':
        return (c) => c.dport >= 0 && inList(c.dport) !== neg;
      case '--sports':
      case '--source-ports':
        return (c) => c.sport >= 0 && inList(c.sport) !== neg;
      case '--ports':
        return (c) => c.dport >= 0 && (inList(c.sport) || inList(c.dport)) !== neg;
      default:
        return null;
    }
  });

/** xt_physdev, as the kernel evaluates it (including its treatment of packets without bridge information). */
const physdev: Compiler = (m) => {
  let inName: string | null = null;
  let inNeg = false;
  let outName: string | null = null;
  let outNeg = false;
  let isIn: boolean | null = null;
  let isOut: boolean | null = null;
  let isBridged: boolean | null = null;
  for (const o of m.options) {
    switch (o.name) {
      case '--physdev-in':
        inName = first(o);
        inNeg = o.negated;
        break;
      case '--physdev-out':
        outName = first(o);
        outNeg = o.negated;
        break;
      case '--physdev-is-in':
        isIn = !o.negated;
        break;
      case '--physdev-is-out':
        isOut = !o.negated;
        break;
      case '--physdev-is-bridged':
        isBridged = !o.negated;
        break;
      default:
        return unknown(`-m physdev ${o.name}`);
    }
  }
  const inTest = inName === null ? null : ifaceTest(inName, 'physIn');
  const outTest = outName === null ? null : ifaceTest(outName, 'physOut');
  return test((c) => {
    if (!c.bridged) {
      // No bridge information: only negated options can match.
      if (isBridged === true || isIn === true || isOut === true) return false;
      if (inName !== null && !inNeg) return false;
      if (outName !== null && !outNeg) return false;
      return true;
    }
    const out = c.physOut;
    if (isBridged !== null && (out !== null) !== isBridged) return false;
    const inDev = c.physIn;
    if (isIn !== null && (inDev !== null) !== isIn) return false;
    if (isOut !== null && (out !== null) !== isOut) return false;
    if (inTest && inDev !== null && inTest(c) === inNeg) return false;
    if (outTest) {
      if (out === null) return false;
      return outTest(c) !== outNeg;
    }
    return true;
  });
};

function rangeOf(text: string, family: IpFamily): [bigint, bigint] | null {
  const dash = text.indexOf('-');
  const a = parseHost(dash < 0 ? text : text.slice(0, dash));
  const b = parseHost(dash < 0 ? text : text.slice(dash + 1));
  if (!a || !b || a.family !== family || b.family !== family) return null;
  return [a.value, b.value];
}

const iprange: Compiler = (m, family) =>
  each(m, (o) => {
    const r = rangeOf(first(o), family);
    if (!r) return null;
    const [lo, hi] = r;
    const neg = o.negated;
    if (o.name === '--src-range') return (c) => (c.src >= lo && c.src <= hi) !== neg;
    if (o.name === '--dst-range') return (c) => (c.dst >= lo && c.dst <= hi) !== neg;
    return null;
  });

/** `--mark VALUE[/MASK]`: -m mark tests the packet's mark, -m connmark its connection's (none: no match). */
function markMatch(markOf: (c: MatchCtx) => number | null): Compiler {
  return (m) =>
    each(m, (o) => {
      if (o.name !== '--mark') return null;
      const v = parseMarkValue(first(o));
      if (!v) return null;
      const { value, mask } = v;
      const neg = o.negated;
      return (c) => {
        const mk = markOf(c);
        return mk !== null && ((mk & mask) >>> 0 === value) !== neg;
      };
    });
}

const mark = markMatch((c) => c.mark);
const connmark: Compiler = (m, family, env) => {
  const known = markMatch((c) => (c.flow !== null && !c.flow.untracked ? c.flow.mark : null))(m, family, env);
  if (!known || known.kind !== 'test') return known;
  // A connection from before the trace carries a mark no input shows: followed both ways.
  const why = `${written(m)}: the connection existed before the trace, and its mark is not known`;
  const t = known.test;
  return { ...known, test: (c) => (c.flow?.markUnknown === true ? undecided(c, why) : t(c)) };
};

const ADDR_TYPES: ReadonlySet<string> = new Set(RTN_TYPES);

const addrtype: Compiler = (m) => {
  let limitIn = false;
  let limitOut = false;
  const checks: Array<{ field: 'src' | 'dst'; types: Set<string>; neg: boolean }> = [];
  for (const o of m.options) {
    if (o.name === '--limit-iface-in') limitIn = true;
    else if (o.name === '--limit-iface-out') limitOut = true;
    else if (o.name === '--src-type' || o.name === '--dst-type') {
      const types = new Set(first(o).toUpperCase().split(','));
      if (![...types].every((t) => ADDR_TYPES.has(t))) return unknown(`-m addrtype ${o.name} ${first(o)}`);
      checks.push({ field: o.name === '--src-type' ? 'src' : 'dst', types, neg: o.negated });
    } else return unknown(`-m addrtype ${o.name}`);
  }
  return test((c) => {
    const dev = limitIn ? c.inIface : limitOut ? c.outIface : null;
    for (const ch of checks) {
      const t = c.addrType(ch.field === 'src' ? c.src : c.dst, dev);
      if (ch.types.has(t) === ch.neg) return false;
    }
    return true;
  });
};

const pkttype: Compiler = (m) =>
  each(m, (o) => {
    if (o.name !== '--pkt-type') return null;
    const want = first(o).toLowerCase();
    if (want !== 'unicast' && want !== 'broadcast' && want !== 'multicast' && want !== 'host') return null;
    const kind = want === 'host' ? 'unicast' : want;
    const neg = o.negated;
    return (c) => (c.pktType === kind) !== neg;
  });

const mac: Compiler = (m) =>
  each(m, (o) => {
    if (o.name !== '--mac-source') return null;
    const want = first(o).toLowerCase();
    const neg = o.negated;
    return test((c) => {
      if (c.srcMac === null)
        return undecided(
          c,
          `-m mac ${neg ? '! ' : ''}--mac-source ${want}: the topology gives no MAC address for the sender (--mac GUEST=MAC)`,
        );
      return (c.srcMac === want) !== neg;
    });
  });

export { UnknownAtRuntime } from './packet.js';

const policy: Compiler = (m) => {
  // Traced packets never went through IPsec, so only --pol decides.
  const pol = m.options.find((o) => o.name === '--pol');
  const polValue = pol ? first(pol) : null;
  if (pol?.negated) return unknown('-m policy ! --pol');
  if (polValue === 'none') return test(ALWAYS, 'no IPsec policy applies to traced packets');
  if (polValue === 'ipsec') return test(() => false, 'traced packets carry no IPsec');
  return unknown('-m policy without --pol');
};

const written = (m: Match): string =>
  `-m ${m.name} ${m.options.map((o) => `${o.negated ? '! ' : ''}${o.name}${o.args.map((a) => ` ${a.value}`).join('')}`).join(' ')}`;

/** A rate: under it or over it depends on the traffic before the packet, unless the user assumes one. */
function rate(m: Match, env: EvalEnv, matchesUnder: boolean): CompiledMatch {
  const text = written(m);
  const assumed = env.assume.limit;
  if (assumed !== null) {
    const under = assumed === 'under';
    return test(
      under === matchesUnder ? ALWAYS : () => false,
      `${text} assumed ${assumed} its rate (--assume 'limit ${assumed}')`,
    );
  }
  const why = `${text}: whether the traffic is under this rate depends on the packets before (--assume 'limit under' or 'limit over')`;
  return test((c) => undecided(c, why));
}

const limit: Compiler = (m, _family, env) => rate(m, env, true);

const hashlimit: Compiler = (m, _family, env) => rate(m, env, !m.options.some((o) => o.name === '--hashlimit-above'));

const recent: Compiler = (m, family, env) => {
  const spec = parseRecent(m, family);
  if ('why' in spec) return unknown(spec.why);
  return test(
    recentTest(spec, env.assume.recentEmpty),
    env.assume.recentEmpty ? "recent lists assumed empty before the trace (--assume 'recent empty')" : undefined,
  );
};

const comment: Compiler = () => test(ALWAYS);

const COUNTER_TESTS = /^--(packets|bytes)-(eq|lt|gt)$/;

/** xt_set: membership of the packet's tuple (FLAGS pick source or destination per dimension). */
const set: Compiler = (m, _family, env) => {
  const ms = m.options.find((o) => o.name === '--match-set' || o.name === '--set');
  const name = ms?.args[0]?.value;
  const flagsText = ms?.args[1]?.value ?? '';
  const flags = parseSetFlags(flagsText);
  if (!ms || name === undefined || !flags) return unknown(`-m set ${m.options.map((o) => o.name).join(' ')}`);
  const written = `-m set ${ms.negated ? '! ' : ''}--match-set ${name} ${flagsText}`;
  const index = env.ipsets;
  if (!index)
    return unknown(`${written}: the members of set ${name} are not known (give ipset save output with --ipset)`);
  if (!index.get(name)) return unknown(`${written}: set ${name} is not in ${index.save.file}`);
  for (const o of m.options) {
    if (
      o === ms ||
      o.name === '--return-nomatch' ||
      o.name === '--update-counters' ||
      o.name === '--update-subcounters' ||
      COUNTER_TESTS.test(o.name)
    )
      continue;
    return unknown(`${written} ${o.name}`);
  }
  const counters = m.options
    .filter((o) => COUNTER_TESTS.test(o.name))
    .map((o) => `${o.negated ? '! ' : ''}${o.name} ${first(o)}`);
  const options = { returnNomatch: m.options.some((o) => o.name === '--return-nomatch') };
  const neg = ms.negated;
  return test((c) => {
    const r = testSet(index, name, flags, c, options, c.memory.sets);
    if (r === MAYBE)
      return undecided(
        c,
        `${written}: whether this packet is in set ${name} is not known (a MAC address the topology does not give, or members this trace changed inexactly)`,
      );
    // Counters change with every packet: a found member's counters are state virtables does not know.
    if (r === FOUND && counters.length > 0)
      return undecided(c, `${written} ${counters.join(' ')}: the member's counters are state virtables does not know`);
    return (r === FOUND) !== neg;
  });
};

const MATCHES: Readonly<Record<string, Compiler>> = {
  tcp: tcpLike,
  udp: tcpLike,
  udplite: tcpLike,
  icmp: icmpLike,
  icmp6: icmpLike,
  state,
  conntrack,
  multiport,
  physdev,
  iprange,
  mark,
  connmark,
  addrtype,
  pkttype,
  mac,
  policy,
  limit,
  hashlimit,
  recent,
  comment,
  set,
};

export function compileMatch(m: Match, family: IpFamily, env: EvalEnv = NO_ENV): CompiledMatch {
  const c = MATCHES[m.name];
  if (!c) return unknown(`-m ${m.name} (virtables does not evaluate this match module)`);
  if ((m.name === 'tcp' || m.name === 'udp' || m.name === 'udplite') && m.options.length === 0) return test(ALWAYS);
  return c(m, family, env);
}
