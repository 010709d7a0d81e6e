// `ipset save` output (ipset 7.x), the file `ipset restore` reads back:
//
//   create NAME TYPE [family inet|inet6] [hashsize N] [maxelem N] [netmask N] [timeout N] [counters] …
//   add NAME MEMBER [timeout N] [packets N bytes N] [comment "…"] [skbmark V/M] … [nomatch]
//
// Tokens first, then the line grammar (chevrotain, embedded actions), then meaning: every set type
// ipset 7.x prints, its options, and every member parsed by the set's dimensions (addresses of the
// set's family, CIDRs, proto:port, MACs, interfaces, marks, member sets), with FILE:LINE:COL errors.

import { createToken, EmbeddedActionsParser, Lexer, type IToken } from './chevrotain.js';
import { familyBits, parseCidr, parseHost, type IpFamily } from '../src/model/cidr.js';
import type { SourcePos } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import {
  IPSET_TYPES,
  type IpSet,
  type IpsetDim,
  type IpsetMember,
  type IpsetOption,
  type IpsetPart,
  type IpsetSave,
} from '../src/model/ipset.js';
import { protocolNumber, SERVICE_PORTS } from '../src/model/protocols.js';

const Spaces = createToken({ name: 'Spaces', pattern: /[ \t\f]+/, group: Lexer.SKIPPED });
// `#` starts a comment only where a line starts (ipset restore skips such lines).
const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: Lexer.SKIPPED });
const Newline = createToken({ name: 'Newline', pattern: /\r\n|\r|\n/, line_breaks: true });
const Quoted = createToken({ name: 'Quoted', pattern: /"[^"\n\r]*"/ });
const Word = createToken({ name: 'Word', pattern: /[^\s"#][^\s"]*/ });
const Create = createToken({ name: 'Kw_create', pattern: /create/, longer_alt: Word });
const Add = createToken({ name: 'Kw_add', pattern: /add/, longer_alt: Word });

const allTokens = [Spaces, Newline, Comment, Quoted, Create, Add, Word];
// Start positions only: errors name where a word starts, and smaller tokens are less for the collector to copy
// on a big blocklist.
const lexer = new Lexer(allTokens, { positionTracking: 'onlyStart' });

interface LineAst {
  readonly verb: IToken;
  readonly name: IToken;
  readonly what: IToken;
  readonly items: readonly IToken[];
}

class IpsetParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  public file_ = this.RULE('file', (): LineAst[] => {
    const out: LineAst[] = [];
    this.OPTION(() => {
      const l = this.SUBRULE(this.line);
      this.ACTION(() => out.push(l));
    });
    this.MANY(() => {
      this.CONSUME(Newline);
      this.OPTION2(() => {
        const l = this.SUBRULE2(this.line);
        this.ACTION(() => out.push(l));
      });
    });
    return out;
  });

  private line = this.RULE('line', (): LineAst => {
    const verb = this.OR([{ ALT: () => this.CONSUME(Create) }, { ALT: () => this.CONSUME(Add) }]);
    const name = this.SUBRULE(this.word);
    const what = this.SUBRULE2(this.word);
    const items: IToken[] = [];
    this.MANY(() =>
      this.OR2([{ ALT: () => items.push(this.SUBRULE3(this.word)) }, { ALT: () => items.push(this.CONSUME(Quoted)) }]),
    );
    return { verb, name, what, items };
  });

  // A set may be named like a keyword (`ipset create add hash:ip`).
  private word = this.RULE('word', (): IToken =>
    this.OR([{ ALT: () => this.CONSUME(Word) }, { ALT: () => this.CONSUME(Create) }, { ALT: () => this.CONSUME(Add) }]),
  );
}

const parser = new IpsetParser();

// --- meaning ----------------------------------------------------------------------------------

/** The kernel's IPSET_MAXNAMELEN is 32 with the terminating NUL. */
const MAX_NAME = 31;

/** Create options with a value, and flags, as ipset 7.x prints and takes them. */
const CREATE_VALUES = new Set([
  'family',
  'hashsize',
  'maxelem',
  'netmask',
  'bitmask',
  'markmask',
  'range',
  'timeout',
  'size',
  'bucketsize',
  'initval',
]);
const CREATE_FLAGS = new Set(['counters', 'comment', 'skbinfo', 'forceadd']);
const ADD_VALUES = new Set([
  'timeout',
  'packets',
  'bytes',
  'comment',
  'skbmark',
  'skbprio',
  'skbqueue',
  'before',
  'after',
]);
const ADD_FLAGS = new Set(['nomatch']);

/** The ICMP and ICMPv6 names ipset prints (libipset's own tables, read off ipset 7.17). */
const ICMP_NAMES: Readonly<Record<string, readonly [number, number]>> = {
  'echo-reply': [0, 0],
  'network-unreachable': [3, 0],
  'host-unreachable': [3, 1],
  'protocol-unreachable': [3, 2],
  'port-unreachable': [3, 3],
  'fragmentation-needed': [3, 4],
  'source-route-failed': [3, 5],
  'network-unknown': [3, 6],
  'host-unknown': [3, 7],
  'network-prohibited': [3, 9],
  'host-prohibited': [3, 10],
  'TOS-network-unreachable': [3, 11],
  'TOS-host-unreachable': [3, 12],
  'communication-prohibited': [3, 13],
  'host-precedence-violation': [3, 14],
  'precedence-cutoff': [3, 15],
  'source-quench': [4, 0],
  'network-redirect': [5, 0],
  'host-redirect': [5, 1],
  'TOS-network-redirect': [5, 2],
  'TOS-host-redirect': [5, 3],
  'echo-request': [8, 0],
  'router-advertisement': [9, 0],
  'router-solicitation': [10, 0],
  'ttl-zero-during-transit': [11, 0],
  'ttl-zero-during-reassembly': [11, 1],
  'ip-header-bad': [12, 0],
  'required-option-missing': [12, 1],
  'timestamp-request': [13, 0],
  'timestamp-reply': [14, 0],
  'address-mask-request': [17, 0],
  'address-mask-reply': [18, 0],
};
const ICMPV6_NAMES: Readonly<Record<string, readonly [number, number]>> = {
  'no-route': [1, 0],
  'communication-prohibited': [1, 1],
  'address-unreachable': [1, 3],
  'port-unreachable': [1, 4],
  'packet-too-big': [2, 0],
  'ttl-zero-during-transit': [3, 0],
  'ttl-zero-during-reassembly': [3, 1],
  'bad-header': [4, 0],
  'unknown-header-type': [4, 1],
  'unknown-option': [4, 2],
  'echo-request': [128, 0],
  'echo-reply': [129, 0],
  'router-solicitation': [133, 0],
  'router-advertisement': [134, 0],
  'neighbour-solicitation': [135, 0],
  'neighbour-advertisement': [136, 0],
  redirect: [137, 0],
};

const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;

interface Place {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

function fail(at: Place, message: string): never {
  throw new InputError(at.file, at.line, at.col, message);
}

function placeOf(file: string, t: IToken, offset = 0): Place {
  return { file, line: t.startLine ?? 1, col: (t.startColumn ?? 1) + offset };
}

const posOf = (t: IToken): SourcePos => ({ line: t.startLine ?? 1, col: t.startColumn ?? 1 });

function unquote(t: IToken): string {
  return t.tokenType === Quoted ? t.image.slice(1, -1) : t.image;
}

/** `create`/`add` options: NAME [VALUE] pairs, each name known for the verb. */
function readOptions(
  file: string,
  items: readonly IToken[],
  values: ReadonlySet<string>,
  flags: ReadonlySet<string>,
  verb: string,
): IpsetOption[] {
  const out: IpsetOption[] = [];
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!;
    const name = t.image;
    if (t.tokenType === Quoted) fail(placeOf(file, t), `unexpected quoted text ${t.image}: ${verb} options are words`);
    if (flags.has(name)) {
      out.push({ name, value: null, pos: posOf(t) });
      continue;
    }
    if (!values.has(name)) {
      const known = [...values, ...flags].sort().join(', ');
      fail(placeOf(file, t), `unknown ${verb} option '${name}' (ipset 7.x knows ${known})`);
    }
    const v = items[i + 1];
    // `comment` is a value on add and a flag on create; both print.
    if (!v) fail(placeOf(file, t, name.length), `'${name}' needs a value`);
    out.push({ name, value: unquote(v), pos: posOf(t) });
    i++;
  }
  return out;
}

function numberIn(text: string, max: number): number | null {
  if (!/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

/** Checks the value of each create option the kernel would refuse, where it is. */
function checkCreateOptions(
  file: string,
  type: string,
  family: IpFamily | null,
  options: readonly IpsetOption[],
): void {
  for (const o of options) {
    const at = { file, line: o.pos.line, col: o.pos.col };
    const v = o.value ?? '';
    switch (o.name) {
      case 'hashsize':
      case 'maxelem':
      case 'timeout':
      case 'size':
      case 'bucketsize':
        if (numberIn(v, 0xffffffff) === null) fail(at, `${o.name} takes a number, not '${v}'`);
        break;
      case 'netmask': {
        const n = numberIn(v, family === 6 ? 128 : 32);
        if (n === null || n === 0) fail(at, `netmask takes a prefix length (1-${family === 6 ? 128 : 32}), not '${v}'`);
        break;
      }
      case 'bitmask': {
        const h = parseHost(v);
        if (!h || (family !== null && h.family !== family))
          fail(at, `bitmask takes an IPv${family ?? 4} address mask, not '${v}'`);
        break;
      }
      case 'markmask':
        if (numberIn(v, 0xffffffff) === null) fail(at, `markmask takes a 32-bit mark, not '${v}'`);
        break;
      case 'initval':
        if (!/^0x[0-9a-f]{1,8}$/i.test(v)) fail(at, `initval takes a 32-bit hexadecimal value, not '${v}'`);
        break;
      case 'range':
        if (!type.startsWith('bitmap:')) fail(at, `range is an option of bitmap sets, not of ${type}`);
        if (type === 'bitmap:port' ? !/^\d{1,5}-\d{1,5}$/.test(v) : !ipRange(v, 4)) fail(at, `bad range '${v}'`);
        break;
      default:
        break;
    }
  }
}

/** `A`, `A-B` or `A/LEN` → inclusive range, in `family`. */
function ipRange(text: string, family: IpFamily): { lo: bigint; hi: bigint } | null {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const a = parseHost(text.slice(0, dash));
    const b = parseHost(text.slice(dash + 1));
    if (!a || !b || a.family !== family || b.family !== family || a.value > b.value) return null;
    return { lo: a.value, hi: b.value };
  }
  const c = parseCidr(text);
  if (!c || c.family !== family) return null;
  const host = (1n << BigInt(familyBits(family) - c.prefix)) - 1n;
  return { lo: c.network, hi: c.network | host };
}

/** The CIDRs that cover lo..hi exactly (ipset save prints a hash:net range so). */
function cidrsOf(family: IpFamily, lo: bigint, hi: bigint): Array<{ network: bigint; prefix: number }> {
  const bits = familyBits(family);
  const out: Array<{ network: bigint; prefix: number }> = [];
  let a = lo;
  while (a <= hi) {
    let prefix = bits;
    while (prefix > 0) {
      const p = prefix - 1;
      const size = 1n << BigInt(bits - p);
      if ((a & (size - 1n)) !== 0n || a + size - 1n > hi) break;
      prefix = p;
    }
    out.push({ network: a, prefix });
    a += 1n << BigInt(bits - prefix);
  }
  return out;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** `tcp:80`, `80`, `tcp:80-82`, `icmp:echo-request`, `icmp:3/1`, `gre:0`, `253:0`. */
function portPart(text: string, family: IpFamily | null, bitmap: boolean, at: Place): IpsetPart {
  const colon = text.indexOf(':');
  const protoText = colon < 0 ? 'tcp' : text.slice(0, colon);
  const rest = colon < 0 ? text : text.slice(colon + 1);
  const proto = protoText === 'icmpv6' ? PROTO_ICMPV6 : protocolNumber(protoText);
  if (proto === null) fail(at, `unknown protocol '${protoText}' in '${text}'`);
  if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    if (bitmap) fail(at, `bitmap:port holds TCP and UDP ports, not '${text}'`);
    if ((proto === PROTO_ICMP) !== (family !== 6))
      fail(at, `'${text}': ${proto === PROTO_ICMP ? 'ICMP' : 'ICMPv6'} in an IPv${family ?? 4} set`);
    const named = (proto === PROTO_ICMP ? ICMP_NAMES : ICMPV6_NAMES)[rest];
    const m = /^(\d{1,3})\/(\d{1,3})$/.exec(rest);
    const tc =
      named ?? (m && Number(m[1]) <= 255 && Number(m[2]) <= 255 ? ([Number(m[1]), Number(m[2])] as const) : null);
    if (!tc) fail(at, `bad ICMP type '${rest}' (a name ipset prints, or TYPE/CODE)`);
    const port = (tc[0] << 8) | tc[1];
    return { kind: 'port', proto, lo: port, hi: port };
  }
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(rest);
  const service = m ? null : SERVICE_PORTS[rest];
  if (!m && service === undefined) fail(at, `bad port '${rest}' in '${text}'`);
  const lo = m ? Number(m[1]) : service!;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (lo > 65535 || hi > 65535 || lo > hi) fail(at, `bad port range '${rest}'`);
  if (bitmap) {
    if (colon >= 0 && proto !== 6 && proto !== 17) fail(at, `bitmap:port holds TCP and UDP ports, not '${text}'`);
    return { kind: 'port', proto: null, lo, hi };
  }
  return { kind: 'port', proto, lo, hi };
}

/** One member as the set's dimensions read it; a net range becomes several members, as ipset stores it. */
function parseMember(file: string, set: IpSet, t: IToken): Array<readonly IpsetPart[]> {
  const info = IPSET_TYPES[set.type]!;
  const text = t.image;
  const pieces: Array<{ text: string; offset: number }> = [];
  // list:set members are set names, which may hold commas.
  if (info.dims[0] === 'set') pieces.push({ text, offset: 0 });
  else {
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      if (i === text.length || text[i] === ',') {
        pieces.push({ text: text.slice(start, i), offset: start });
        start = i + 1;
      }
    }
  }
  const optionalMac = set.type === 'bitmap:ip,mac' && pieces.length === 1;
  if (pieces.length !== info.dims.length && !optionalMac) {
    fail(
      placeOf(file, t),
      `'${text}' has ${pieces.length} part(s); a ${set.type} member has ${info.dims.length} (${info.dims.join(',')})`,
    );
  }
  const family: IpFamily = set.family ?? 4;
  let variants: IpsetPart[][] = [[]];
  info.dims.forEach((dim: IpsetDim, k) => {
    const piece = pieces[k];
    if (!piece) {
      variants = variants.map((v) => [...v, { kind: 'mac', mac: null }]);
      return;
    }
    const at = placeOf(file, t, piece.offset);
    const p = piece.text;
    if (p === '') fail(at, `empty part in '${text}'`);
    const parts: IpsetPart[] = ((): IpsetPart[] => {
      switch (dim) {
        case 'ip': {
          const r = ipRange(p, family);
          if (!r) fail(at, `'${p}' is not an IPv${family} address (or range) for ${set.type} set ${set.name}`);
          return [{ kind: 'ip', family, lo: r.lo, hi: r.hi }];
        }
        case 'net': {
          const r = ipRange(p, family);
          if (!r) fail(at, `'${p}' is not an IPv${family} network for ${set.type} set ${set.name}`);
          if (p.includes('-')) return cidrsOf(family, r.lo, r.hi).map((c) => ({ kind: 'net', cidr: { family, ...c } }));
          const c = parseCidr(p)!;
          if (c.prefix === 0) fail(at, `'${p}': ipset refuses a /0 network`);
          return [{ kind: 'net', cidr: c }];
        }
        case 'port':
          return [portPart(p, set.family, set.type === 'bitmap:port', at)];
        case 'mac':
          if (!MAC.test(p)) fail(at, `'${p}' is not a MAC address`);
          return [{ kind: 'mac', mac: p.toLowerCase() }];
        case 'iface': {
          const physdev = p.startsWith('physdev:');
          const name = physdev ? p.slice('physdev:'.length) : p;
          if (name === '' || name.length > 15) fail(at, `'${name}' is not an interface name (1-15 characters)`);
          return [{ kind: 'iface', name, physdev }];
        }
        case 'mark': {
          const n = numberIn(p, 0xffffffff);
          if (n === null) fail(at, `'${p}' is not a 32-bit mark`);
          return [{ kind: 'mark', mark: n }];
        }
        case 'set':
          return [{ kind: 'set', name: p }];
      }
    })();
    const next: IpsetPart[][] = [];
    for (const v of variants) for (const part of parts) next.push([...v, part]);
    variants = next;
  });
  return variants;
}

/**
 * Reads `ipset save` output. Sets are created before members are added to them (ipset save
 * prints each `create` before its `add` lines); a member of a list:set names a set created before.
 */
export function parseIpsetSave(text: string, file: string): IpsetSave {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const lexed = lexer.tokenize(body);
  const lexErr = lexed.errors[0];
  if (lexErr) {
    const ch = body.charAt(lexErr.offset);
    const what = ch === '"' ? 'unclosed quote' : `unexpected character '${ch}'`;
    throw new InputError(file, lexErr.line ?? 1, lexErr.column ?? 1, what);
  }
  parser.input = lexed.tokens;
  const lines = parser.file_();
  const err = parser.errors[0];
  if (err) {
    const t = err.token;
    const at = t.image === '' ? 'end of input' : `'${t.image.replace(/[\r\n]/g, '')}'`;
    throw new InputError(
      file,
      Number.isFinite(t.startLine) ? t.startLine! : 1,
      Number.isFinite(t.startColumn) ? t.startColumn! : 1,
      `unexpected ${at}: expected 'create NAME TYPE …' or 'add NAME MEMBER …' (ipset save output)`,
    );
  }
  const sets = new Map<string, { set: IpSet; members: IpsetMember[] }>();
  for (const l of lines) {
    const name = l.name.image;
    if (l.verb.tokenType === Create) {
      if (name.length > MAX_NAME)
        fail(placeOf(file, l.name), `set name '${name}' is longer than ${MAX_NAME} characters`);
      if (sets.has(name))
        fail(placeOf(file, l.name), `set ${name} is created twice (line ${sets.get(name)!.set.pos.line} first)`);
      const type = l.what.image;
      const info = IPSET_TYPES[type];
      if (!info)
        fail(placeOf(file, l.what), `unknown set type '${type}' (ipset 7.x: ${Object.keys(IPSET_TYPES).join(', ')})`);
      const options = readOptions(file, l.items, CREATE_VALUES, CREATE_FLAGS, 'create');
      const fam = options.find((o) => o.name === 'family');
      let family: IpFamily | null = info.family ? 4 : type.startsWith('bitmap:ip') ? 4 : null;
      if (fam) {
        if (!info.family)
          fail(placeOf(file, l.items[l.items.findIndex((i) => i.image === 'family') + 1]!), `${type} takes no family`);
        if (fam.value !== 'inet' && fam.value !== 'inet6')
          fail({ file, line: fam.pos.line, col: fam.pos.col }, `family is inet or inet6, not '${fam.value}'`);
        family = fam.value === 'inet6' ? 6 : 4;
      }
      checkCreateOptions(file, type, family, options);
      const set: IpSet = { name, type, family, options, members: [], pos: posOf(l.verb) };
      sets.set(name, { set, members: set.members as IpsetMember[] });
      continue;
    }
    const entry = sets.get(name);
    if (!entry) fail(placeOf(file, l.name), `add to set ${name}, which no earlier 'create' line makes`);
    const parts = parseMember(file, entry.set, l.what);
    const options = readOptions(file, l.items, ADD_VALUES, ADD_FLAGS, 'add');
    const nomatch = options.some((o) => o.name === 'nomatch');
    if (nomatch && !IPSET_TYPES[entry.set.type]!.nomatch)
      fail(
        placeOf(
          file,
          l.items.find((i) => i.image === 'nomatch')!,
        ),
        `${entry.set.type} members cannot be nomatch`,
      );
    if (entry.set.type === 'list:set') {
      const member = (parts[0]![0] as { name: string }).name;
      if (!sets.has(member) || member === name)
        fail(placeOf(file, l.what), `list:set ${name}: no set ${member} was created before it`);
    }
    const kept = options.filter((o) => o.name !== 'nomatch');
    for (const p of parts)
      entry.members.push({ parts: p, text: l.what.image, nomatch, options: kept, pos: posOf(l.verb) });
  }
  return { file, sets: [...sets.values()].map((e) => e.set) };
}
