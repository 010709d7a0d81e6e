// Meaning for one parsed rule line: which options are the common fields (-s -d -i -o -p -f),
// which belong to which match module, which to the target — the way iptables itself
// assigns them, including the protocol matches it loads implicitly (`-p tcp --dport 22`).

import type { IToken } from './chevrotain.js';
import { parseCidr } from '../src/model/cidr.js';
import type { AddressMatch, Arg, Counters, InterfaceMatch, Match, Option, ProtocolMatch, Rule, Target } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import { protocolName, protocolNumber } from '../src/model/protocols.js';

export interface RawOption {
  readonly nameToken: IToken;
  /** `! --dport 22` */
  readonly negatedBefore: boolean;
  /** `-d ! 10.0.0.0/8` (iptables 1.3.x) */
  readonly negatedAfter: boolean;
  readonly args: ReadonlyArray<{ token: IToken; quoted: boolean }>;
}

export interface RuleContext {
  readonly file: string;
  readonly line: number;
  readonly table: string;
  readonly chain: string;
  readonly counters: Counters | null;
  readonly options: readonly RawOption[];
  readonly text: string;
}

/** Options each protocol's implicit match understands (iptables loads it on first use). */
const PROTOCOL_MATCH_OPTIONS: Readonly<Record<string, { module: string; options: ReadonlySet<string> }>> = {
  tcp: { module: 'tcp', options: new Set(['--sport', '--source-port', '--dport', '--destination-port', '--tcp-flags', '--syn', '--tcp-option']) },
  udp: { module: 'udp', options: new Set(['--sport', '--source-port', '--dport', '--destination-port']) },
  udplite: { module: 'udplite', options: new Set(['--sport', '--source-port', '--dport', '--destination-port']) },
  icmp: { module: 'icmp', options: new Set(['--icmp-type']) },
  'ipv6-icmp': { module: 'icmp6', options: new Set(['--icmpv6-type']) },
  sctp: { module: 'sctp', options: new Set(['--sport', '--source-port', '--dport', '--destination-port', '--chunk-types']) },
  dccp: { module: 'dccp', options: new Set(['--sport', '--source-port', '--dport', '--destination-port', '--dccp-types', '--dccp-option']) },
  esp: { module: 'esp', options: new Set(['--espspi']) },
  ah: { module: 'ah', options: new Set(['--ahspi']) },
};

/** Options of the match modules virtables knows, used to send each option to its module. */
export const KNOWN_MATCH_OPTIONS: Readonly<Record<string, ReadonlySet<string>>> = {
  ...Object.fromEntries(Object.values(PROTOCOL_MATCH_OPTIONS).map((p) => [p.module, p.options])),
  state: new Set(['--state']),
  conntrack: new Set(['--ctstate', '--ctproto', '--ctorigsrc', '--ctorigdst', '--ctreplsrc', '--ctrepldst', '--ctorigsrcport', '--ctorigdstport', '--ctreplsrcport', '--ctrepldstport', '--ctstatus', '--ctexpire', '--ctdir']),
  multiport: new Set(['--sports', '--dports', '--ports', '--source-ports', '--destination-ports']),
  physdev: new Set(['--physdev-in', '--physdev-out', '--physdev-is-in', '--physdev-is-out', '--physdev-is-bridged']),
  comment: new Set(['--comment']),
  limit: new Set(['--limit', '--limit-burst']),
  iprange: new Set(['--src-range', '--dst-range']),
  mac: new Set(['--mac-source']),
  mark: new Set(['--mark']),
  connmark: new Set(['--mark']),
  addrtype: new Set(['--src-type', '--dst-type', '--limit-iface-in', '--limit-iface-out']),
  pkttype: new Set(['--pkt-type']),
  owner: new Set(['--uid-owner', '--gid-owner', '--socket-exists', '--suppl-groups']),
  length: new Set(['--length']),
};

type CommonOption = 'source' | 'destination' | 'inInterface' | 'outInterface' | 'protocol' | 'fragment' | 'match' | 'jump' | 'goto' | 'counters' | 'family';

/** The options iptables itself handles (not a module's), long and short spellings. */
const COMMON: ReadonlyMap<string, CommonOption> = new Map([
  ['-s', 'source'], ['--source', 'source'], ['--src', 'source'],
  ['-d', 'destination'], ['--destination', 'destination'], ['--dst', 'destination'],
  ['-i', 'inInterface'], ['--in-interface', 'inInterface'],
  ['-o', 'outInterface'], ['--out-interface', 'outInterface'],
  ['-p', 'protocol'], ['--protocol', 'protocol'],
  ['-f', 'fragment'], ['--fragment', 'fragment'],
  ['-m', 'match'], ['--match', 'match'],
  ['-j', 'jump'], ['--jump', 'jump'],
  ['-g', 'goto'], ['--goto', 'goto'],
  ['-c', 'counters'], ['--set-counters', 'counters'],
  ['-4', 'family'], ['-6', 'family'], ['--ipv4', 'family'], ['--ipv6', 'family'],
]);

/** Removes the quotes and backslash escapes iptables-restore understands (`\"`, `\\`, `\'`). */
function unquote(image: string): string {
  const inner = image.slice(1, -1);
  return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
}

interface MutableMatch {
  name: string;
  options: Option[];
  col: number;
  implicit: boolean;
}

/**
 * One copy of each short string the dumps repeat (option and module names, interfaces,
 * ports, targets): the lexer's fresh copies then die young instead of filling the old
 * generation of a 100,000-rule model.
 */
const interned = new Map<string, string>();
function intern(text: string): string {
  if (text.length > 40) return text;
  const known = interned.get(text);
  if (known !== undefined) return known;
  if (interned.size < 100_000) interned.set(text, text);
  return text;
}

function fail(ctx: RuleContext, token: IToken, message: string): never {
  throw new InputError(ctx.file, ctx.line, token.startOffset + 1, message);
}

function onlyArg(ctx: RuleContext, raw: RawOption): Arg {
  if (raw.args.length !== 1) fail(ctx, raw.nameToken, `'${raw.nameToken.image}' takes one value, found ${raw.args.length}`);
  const a = raw.args[0]!;
  return { value: intern(a.quoted ? unquote(a.token.image) : a.token.image), quoted: a.quoted, col: a.token.startOffset + 1 };
}

export function assembleRule(ctx: RuleContext): Rule {
  let source: AddressMatch | null = null;
  let destination: AddressMatch | null = null;
  let inInterface: InterfaceMatch | null = null;
  let outInterface: InterfaceMatch | null = null;
  let protocol: ProtocolMatch | null = null;
  let fragment: Rule['fragment'] = null;
  let counters = ctx.counters;
  const matches: MutableMatch[] = [];
  let target: { name: string; goto: boolean; options: Option[]; col: number } | null = null;

  for (const raw of ctx.options) {
    const token = raw.nameToken;
    const name = token.image;
    if (raw.negatedBefore && raw.negatedAfter) fail(ctx, token, `'${name}' is negated twice`);
    const negated = raw.negatedBefore || raw.negatedAfter;
    const col = token.startOffset + 1;
    const common = COMMON.get(name);
    if (common !== undefined && negated && (common === 'match' || common === 'jump' || common === 'goto' || common === 'counters')) fail(ctx, token, `'${name}' cannot be negated`);

    switch (common) {
      case 'source':
      case 'destination': {
        const arg = onlyArg(ctx, raw);
        if (arg.value.includes(',')) fail(ctx, token, `'${name} ${arg.value}': several addresses in one rule (iptables expands them into one rule each; iptables-save never prints this)`);
        const cidr = parseCidr(arg.value);
        if (!cidr) fail(ctx, raw.args[0]!.token, `bad address '${arg.value}' (expected ADDRESS, ADDRESS/PREFIX or ADDRESS/NETMASK)`);
        const field: AddressMatch = { negated, cidr: cidr!, written: arg.value, col };
        if (common === 'source') {
          if (source) fail(ctx, token, 'source given twice');
          source = field;
        } else {
          if (destination) fail(ctx, token, 'destination given twice');
          destination = field;
        }
        break;
      }
      case 'inInterface':
      case 'outInterface': {
        const arg = onlyArg(ctx, raw);
        if (arg.value.length > 15) fail(ctx, raw.args[0]!.token, `interface name '${arg.value}' is longer than 15 characters`);
        const field: InterfaceMatch = { negated, name: arg.value, col };
        if (common === 'inInterface') inInterface = field;
        else outInterface = field;
        break;
      }
      case 'protocol': {
        const arg = onlyArg(ctx, raw);
        const n = protocolNumber(arg.value);
        if (n === null) fail(ctx, raw.args[0]!.token, `unknown protocol '${arg.value}'`);
        protocol = { negated, name: n === 0 ? 'all' : protocolName(n), written: arg.value, col };
        break;
      }
      case 'fragment':
        if (raw.args.length > 0) fail(ctx, raw.args[0]!.token, `'${name}' takes no value`);
        fragment = { negated, col };
        break;
      case 'match':
        matches.push({ name: onlyArg(ctx, raw).value, options: [], col, implicit: false });
        break;
      case 'jump':
      case 'goto': {
        const arg = onlyArg(ctx, raw);
        if (target) fail(ctx, token, `a second target '${arg.value}' (the rule already jumps to '${target.name}')`);
        target = { name: arg.value, goto: common === 'goto', options: [], col };
        break;
      }
      case 'counters': {
        const [p, b] = raw.args;
        if (raw.args.length !== 2 || !/^\d+$/.test(p!.token.image) || !/^\d+$/.test(b!.token.image)) fail(ctx, token, `'${name}' takes two numbers: packets and bytes`);
        counters = { packets: p!.token.image, bytes: b!.token.image };
        break;
      }
      case 'family':
        fail(ctx, token, `'${name}' (restrict a rule to one family) is not supported in dumps`);
        break;
      case undefined: {
        const args: Arg[] = [];
        for (const a of raw.args) args.push({ value: intern(a.quoted ? unquote(a.token.image) : a.token.image), quoted: a.quoted, col: a.token.startOffset + 1 });
        const option: Option = { name: intern(name), negated, args, col };
        if (target) {
          target.options.push(option);
          break;
        }
        const home = matchFor(name, matches, protocol);
        if (home) {
          home.options.push(option);
          break;
        }
        const proto = protocol && !protocol.negated ? PROTOCOL_MATCH_OPTIONS[protocol.name] : undefined;
        if (proto?.options.has(name)) {
          matches.push({ name: proto.module, options: [option], col, implicit: true });
          break;
        }
        const last = matches[matches.length - 1];
        if (!last) fail(ctx, token, `unknown option '${name}': it belongs to no match module (add '-m MODULE' before it) and is not a common option`);
        last.options.push(option);
        break;
      }
    }
  }

  return {
    table: ctx.table,
    chain: ctx.chain,
    pos: { line: ctx.line, col: 1 },
    counters,
    source,
    destination,
    inInterface,
    outInterface,
    protocol,
    fragment,
    matches: matches as Match[],
    target: target as Target | null,
    text: ctx.text,
  };
}

/** The match an option goes to: the last module if it knows the option (or is unknown to us), else an earlier one that knows it. */
function matchFor(option: string, matches: MutableMatch[], protocol: ProtocolMatch | null): MutableMatch | undefined {
  const last = matches[matches.length - 1];
  if (last) {
    const known = KNOWN_MATCH_OPTIONS[last.name];
    if (!known || known.has(option)) {
      // An unknown module takes unknown options, but not its protocol's (`-p tcp -m foo --dport 1`).
      const proto = protocol ? PROTOCOL_MATCH_OPTIONS[protocol.name] : undefined;
      if (known || !proto?.options.has(option) || proto.module === last.name) return last;
    }
  }
  for (let i = matches.length - 1; i >= 0; i--) {
    const m = matches[i]!;
    if (KNOWN_MATCH_OPTIONS[m.name]?.has(option)) return m;
  }
  return undefined;
}
