// Meaning for one parsed rule line: which options are the common fields (-s -d -i -o -p -f),
// which belong to which match module, which to the target — the way iptables itself
// assigns them, including the protocol matches it loads implicitly (`-p tcp --dport 22`).

import type { IToken } from 'chevrotain';
import { parseCidr } from '../src/model/cidr.js';
import type { AddressMatch, Arg, Counters, InterfaceMatch, Match, Option, ProtocolMatch, Rule, SourcePos, Target } from '../src/model/dump.js';
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

const COMMON = {
  source: new Set(['-s', '--source', '--src']),
  destination: new Set(['-d', '--destination', '--dst']),
  inInterface: new Set(['-i', '--in-interface']),
  outInterface: new Set(['-o', '--out-interface']),
  protocol: new Set(['-p', '--protocol']),
  fragment: new Set(['-f', '--fragment']),
  match: new Set(['-m', '--match']),
  jump: new Set(['-j', '--jump']),
  goto: new Set(['-g', '--goto']),
  counters: new Set(['-c', '--set-counters']),
};

function posOf(ctx: RuleContext, token: IToken): SourcePos {
  return { line: ctx.line, col: token.startOffset + 1 };
}

/** Removes the quotes and backslash escapes iptables-restore understands (`\"`, `\\`, `\'`). */
function unquote(image: string): string {
  return image.slice(1, -1).replace(/\\(.)/g, '$1');
}

interface MutableMatch {
  name: string;
  options: Option[];
  pos: SourcePos;
  implicit: boolean;
}

export function assembleRule(ctx: RuleContext): Rule {
  const fail = (token: IToken, message: string): never => {
    throw new InputError(ctx.file, ctx.line, token.startOffset + 1, message);
  };
  let source: AddressMatch | null = null;
  let destination: AddressMatch | null = null;
  let inInterface: InterfaceMatch | null = null;
  let outInterface: InterfaceMatch | null = null;
  let protocol: ProtocolMatch | null = null;
  let fragment: Rule['fragment'] = null;
  let counters = ctx.counters;
  const matches: MutableMatch[] = [];
  let target: { name: string; goto: boolean; options: Option[]; pos: SourcePos } | null = null;

  for (const raw of ctx.options) {
    const name = raw.nameToken.image;
    if (raw.negatedBefore && raw.negatedAfter) fail(raw.nameToken, `'${name}' is negated twice`);
    const negated = raw.negatedBefore || raw.negatedAfter;
    const args: Arg[] = raw.args.map((a) => ({
      value: a.quoted ? unquote(a.token.image) : a.token.image,
      quoted: a.quoted,
      pos: posOf(ctx, a.token),
    }));
    const exactlyOne = (): Arg => {
      if (args.length !== 1) fail(raw.nameToken, `'${name}' takes one value, found ${args.length}`);
      return args[0]!;
    };
    const notNegatable = (): void => {
      if (negated) fail(raw.nameToken, `'${name}' cannot be negated`);
    };
    const pos = posOf(ctx, raw.nameToken);

    if (COMMON.source.has(name) || COMMON.destination.has(name)) {
      const arg = exactlyOne();
      if (arg.value.includes(',')) fail(raw.nameToken, `'${name} ${arg.value}': several addresses in one rule (iptables expands them into one rule each; iptables-save never prints this)`);
      const cidr = parseCidr(arg.value);
      if (!cidr) fail(raw.args[0]!.token, `bad address '${arg.value}' (expected ADDRESS, ADDRESS/PREFIX or ADDRESS/NETMASK)`);
      const field: AddressMatch = { negated, cidr: cidr!, written: arg.value, pos };
      if (COMMON.source.has(name)) {
        if (source) fail(raw.nameToken, `source given twice`);
        source = field;
      } else {
        if (destination) fail(raw.nameToken, `destination given twice`);
        destination = field;
      }
    } else if (COMMON.inInterface.has(name) || COMMON.outInterface.has(name)) {
      const arg = exactlyOne();
      if (arg.value.length > 15) fail(raw.args[0]!.token, `interface name '${arg.value}' is longer than 15 characters`);
      const field: InterfaceMatch = { negated, name: arg.value, pos };
      if (COMMON.inInterface.has(name)) inInterface = field;
      else outInterface = field;
    } else if (COMMON.protocol.has(name)) {
      const arg = exactlyOne();
      const n = protocolNumber(arg.value);
      if (n === null) fail(raw.args[0]!.token, `unknown protocol '${arg.value}'`);
      protocol = { negated, name: n === 0 ? 'all' : protocolName(n!), written: arg.value, pos };
    } else if (COMMON.fragment.has(name)) {
      if (args.length > 0) fail(raw.args[0]!.token, `'${name}' takes no value`);
      fragment = { negated, pos };
    } else if (COMMON.match.has(name)) {
      notNegatable();
      const arg = exactlyOne();
      matches.push({ name: arg.value, options: [], pos, implicit: false });
    } else if (COMMON.jump.has(name) || COMMON.goto.has(name)) {
      notNegatable();
      const arg = exactlyOne();
      if (target) fail(raw.nameToken, `a second target '${arg.value}' (the rule already jumps to '${target.name}')`);
      target = { name: arg.value, goto: COMMON.goto.has(name), options: [], pos };
    } else if (COMMON.counters.has(name)) {
      notNegatable();
      if (args.length !== 2 || !args.every((a) => /^\d+$/.test(a.value))) fail(raw.nameToken, `'${name}' takes two numbers: packets and bytes`);
      counters = { packets: args[0]!.value, bytes: args[1]!.value };
    } else if (name === '-4' || name === '-6' || name === '--ipv4' || name === '--ipv6') {
      fail(raw.nameToken, `'${name}' (restrict a rule to one family) is not supported in dumps`);
    } else {
      const option: Option = { name, negated, args, pos };
      if (target) {
        target.options.push(option);
        continue;
      }
      const home = matchFor(name, matches, protocol);
      if (home) {
        home.options.push(option);
        continue;
      }
      const proto = protocol && !protocol.negated ? PROTOCOL_MATCH_OPTIONS[protocol.name] : undefined;
      if (proto?.options.has(name)) {
        matches.push({ name: proto.module, options: [option], pos, implicit: true });
        continue;
      }
      const last = matches[matches.length - 1];
      if (last) {
        last.options.push(option);
        continue;
      }
      fail(raw.nameToken, `unknown option '${name}': it belongs to no match module (add '-m MODULE' before it) and is not a common option`);
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
