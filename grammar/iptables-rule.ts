// Meaning for one parsed rule line, read the way iptables 1.8.9 reads its argv: getopt_long
// over the base options and the options of every extension loaded so far (newest first,
// unambiguous abbreviations allowed), the protocol match loaded on demand (`-p tcp --dport
// 22`), each extension's options checked against its data (src/xt), and `-s a,b` expanded
// into one rule per address, as iptables does.

import type { Cidr } from '../src/model/cidr.js';
import type {
  AddressMatch,
  Arg,
  Counters,
  Family,
  InterfaceMatch,
  Match,
  Note,
  Option,
  ProtocolMatch,
  Rule,
  Target,
} from '../src/model/dump.js';
import { addressMatch } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import { memo } from '../src/model/memo.js';
import { protocolName, protocolNumber } from '../src/model/protocols.js';
import { checkExtension, type RawArg, type RawXtOption, type XtReading } from '../src/xt/check.js';
import { familyWidth, maskedAddress, maskPrefix, xtNumber } from '../src/xt/numbers.js';
import { ALL_MATCH_NAMES, findMatch, findTarget, otherFamilyOnly } from '../src/xt/registry.js';
import type { Extension, GivenMap, RuleView, XtOption } from '../src/xt/spec.js';

/** One word of a rule line after quote removal, with its 1-based column. */
export interface RuleItem {
  readonly value: string;
  /** Written with (some) double quotes (printed back quoted for extensions virtables does not know). */
  readonly quoted: boolean;
  readonly col: number;
}

export interface RuleContext {
  readonly file: string;
  readonly line: number;
  readonly table: string;
  readonly chain: string;
  readonly counters: Counters | null;
  readonly items: readonly RuleItem[];
  readonly text: string;
  readonly family: Family;
  /** Refuse what only older iptables accepted (intrapositioned `-d ! x`), instead of noting it. */
  readonly strict?: boolean;
  /** Where notes go (extensions not validated, old syntax). */
  readonly notes?: Note[];
  /** Where the checks the table's COMMIT makes are queued (extensions limited to some chains, shared objects). */
  readonly tableChecks?: TableCheck[];
}

/**
 * An extension use the COMMIT of its table checks again: against the chains reaching the rule, or its shared objects.
 */
export interface TableCheck {
  readonly rule: Rule;
  readonly ext: Extension;
  readonly given: GivenMap;
  readonly col: number;
}

// ---------------------------------------------------------------------------------------------
// The base options (iptables.c original_opts): long names and their short letters.

const BASE_LONG: ReadonlyArray<readonly [string, string]> = [
  ['append', 'A'],
  ['delete', 'D'],
  ['check', 'C'],
  ['insert', 'I'],
  ['replace', 'R'],
  ['list', 'L'],
  ['list-rules', 'S'],
  ['flush', 'F'],
  ['zero', 'Z'],
  ['new-chain', 'N'],
  ['delete-chain', 'X'],
  ['rename-chain', 'E'],
  ['policy', 'P'],
  ['source', 's'],
  ['destination', 'd'],
  ['src', 's'],
  ['dst', 'd'],
  ['protocol', 'p'],
  ['in-interface', 'i'],
  ['jump', 'j'],
  ['table', 't'],
  ['match', 'm'],
  ['numeric', 'n'],
  ['out-interface', 'o'],
  ['verbose', 'v'],
  ['wait', 'w'],
  ['wait-interval', 'W'],
  ['exact', 'x'],
  ['fragments', 'f'],
  ['version', 'V'],
  ['help', 'h'],
  ['line-numbers', '0'],
  ['modprobe', 'M'],
  ['set-counters', 'c'],
  ['goto', 'g'],
  ['ipv4', '4'],
  ['ipv6', '6'],
];
const BASE_BY_NAME: ReadonlyMap<string, string> = new Map(BASE_LONG);
const BASE_SHORT_WITH_ARG = new Set([
  's',
  'd',
  'p',
  'i',
  'o',
  'j',
  'g',
  'm',
  'c',
  't',
  'M',
  'A',
  'C',
  'D',
  'R',
  'I',
  'N',
  'E',
  'P',
]);
const BASE_SHORT = new Set([
  ...BASE_SHORT_WITH_ARG,
  'f',
  'n',
  'v',
  'x',
  'V',
  'h',
  '4',
  '6',
  'L',
  'S',
  'F',
  'Z',
  'X',
  'w',
  'W',
  '0',
]);
/** A base option read without an inline value, one object per letter. */
const BASE_RESOLVED: ReadonlyMap<string, Resolved> = new Map(
  [...BASE_SHORT].map((l) => [l, { kind: 'base', letter: l, inline: null }]),
);
const NO_ARGS: readonly RawArg[] = [];
/** No options (yet): never pushed to, replaced by an array of the first (see addOption). */
const NO_OPTIONS: Option[] = Object.freeze([]) as unknown as Option[];
const NO_RAWS: RawXtOption[] = Object.freeze([]) as unknown as RawXtOption[];
const COMMANDS = new Set(['A', 'C', 'D', 'R', 'I', 'L', 'S', 'F', 'Z', 'N', 'X', 'E', 'P']);
const LETTER_NAME: Readonly<Record<string, string>> = {
  s: 'source',
  d: 'destination',
  p: 'protocol',
  i: 'in-interface',
  o: 'out-interface',
  j: 'jump',
  g: 'goto',
  m: 'match',
  f: 'fragments',
  c: 'set-counters',
};
/** `-s` for the letters named above (how errors spell them), made once. */
const LETTER_SPELLED: ReadonlyMap<string, string> = new Map(Object.keys(LETTER_NAME).map((l) => [l, `-${l}`]));
/** Base options a restore file's rule cannot hold. */
const NOT_IN_RULES = new Set(['t', 'n', 'v', 'x', 'V', 'h', '0', 'M', 'w', 'W']);
/** Base options whose value may be the old `-d ! x`. */
const OLD_NEGATION_LETTERS = new Set(['s', 'd', 'p', 'i', 'o']);
/** Base options `!` cannot negate. */
const NOT_NEGATABLE = new Set(['m', 'j', 'g', 'c']);
/** `--name` of each base option, for the lookup of a word as written. */
const BASE_BY_DASHED: ReadonlyMap<string, string> = new Map(BASE_LONG.map(([n, l]) => [`--${n}`, l]));
/** One bit per base letter a rule may hold, for the "given twice" check (the others are refused before it). */
const BASE_BIT: ReadonlyMap<string, number> = new Map(
  [...BASE_SHORT]
    .filter((l) => !COMMANDS.has(l) && !NOT_IN_RULES.has(l) && l !== '4' && l !== '6')
    .map((l, n) => [l, 1 << n]),
);

interface Loaded {
  readonly kind: 'match' | 'target';
  readonly name: string;
  readonly ext: Extension | null;
  /** NO_RAWS until the first (most extensions take one or two options: no array grown for them). */
  raws: RawXtOption[];
  /** Only for an extension virtables does not know: its options as written (a known one's are made from `raws`). */
  options: Option[];
  readonly col: number;
  readonly implicit: boolean;
  readonly goto: boolean;
  /** What the extension's check read (set once the rule is read whole); null for an unknown extension. */
  given: GivenMap | null;
}

type Resolved =
  | { kind: 'base'; letter: string; inline: string | null }
  | { kind: 'ext'; ext: Extension; option: XtOption; inline: string | null }
  | { kind: 'ambiguous'; names: string[] }
  | { kind: 'none' };

/** One copy of each name the dumps repeat (matches, targets, options of unknown extensions). */
const interned = new Map<string, string>();
function intern(text: string): string {
  if (text.length > 40) return text;
  const known = interned.get(text);
  if (known !== undefined) return known;
  if (interned.size < 100_000) interned.set(text, text);
  return text;
}

const longNames = new Map<XtOption, string>();
/** `--name` of an option, made once. */
function longName(o: XtOption): string {
  let n = longNames.get(o);
  if (n === undefined) {
    n = `--${o.name}`;
    longNames.set(o, n);
  }
  return n;
}

const optionIndex = new WeakMap<Extension, Map<string, XtOption>>();
function namesOf(ext: Extension): Map<string, XtOption> {
  let map = optionIndex.get(ext);
  if (!map) {
    map = new Map();
    for (const o of ext.options) {
      map.set(o.name, o);
      for (const a of o.aliases ?? []) map.set(a, o);
    }
    optionIndex.set(ext, map);
  }
  return map;
}

const dashedIndex = new WeakMap<Extension, Map<string, XtOption>>();
/** namesOf keyed by `--name`: a word as written is looked up without slicing it. */
function dashedNamesOf(ext: Extension): Map<string, XtOption> {
  let map = dashedIndex.get(ext);
  if (!map) {
    map = new Map();
    for (const [n, o] of namesOf(ext)) map.set(`--${n}`, o);
    dashedIndex.set(ext, map);
  }
  return map;
}

/** getopt_long's lookup: an exact name (base first, then the newest extension), else a unique abbreviation. */
function resolveLong(word: string, exts: readonly Extension[]): Resolved {
  const eq = word.indexOf('=');
  const name = eq < 0 ? word : word.slice(0, eq);
  const inline = eq < 0 ? null : word.slice(eq + 1);
  const letter = BASE_BY_NAME.get(name);
  if (letter !== undefined) return { kind: 'base', letter, inline };
  for (let i = exts.length - 1; i >= 0; i--) {
    const o = namesOf(exts[i]!).get(name);
    if (o) return { kind: 'ext', ext: exts[i]!, option: o, inline };
  }
  const found: Resolved[] = [];
  const seen = new Set<string>();
  const names: string[] = [];
  for (const [n, letter] of BASE_LONG) {
    if (!n.startsWith(name) || seen.has(`base:${letter}`)) continue;
    seen.add(`base:${letter}`);
    names.push(n);
    found.push({ kind: 'base', letter, inline });
  }
  for (let i = exts.length - 1; i >= 0; i--) {
    for (const [n, o] of namesOf(exts[i]!)) {
      const id = `${exts[i]!.kind}:${exts[i]!.name}:${o.name}`;
      if (!n.startsWith(name) || seen.has(id)) continue;
      seen.add(id);
      names.push(n);
      found.push({ kind: 'ext', ext: exts[i]!, option: o, inline });
    }
  }
  if (found.length === 1) return found[0]!;
  if (found.length > 1) return { kind: 'ambiguous', names };
  return { kind: 'none' };
}

function fail(ctx: RuleContext, col: number, message: string): never {
  throw new InputError(ctx.file, ctx.line, col, message);
}

function note(ctx: RuleContext, col: number, kind: Note['kind'], message: string): void {
  ctx.notes?.push({ line: ctx.line, col, kind, message });
}

/** The name of the protocol match `-p` loads on demand: the written name, or the name of the number. */
function protocolMatchName(written: string, n: number): string {
  return /^\s*\d/.test(written) ? protocolName(n) : written;
}

/** `-i`/`-o` as read, with the column of the option (errors name it). */
interface InterfaceSpec {
  readonly negated: boolean;
  readonly name: string;
  readonly col: number;
}

/** `-p` as read: the number for the checks, the column for errors. */
interface ProtocolSpec extends ProtocolMatch {
  readonly n: number;
  readonly col: number;
}

interface AddressSpec {
  readonly negated: boolean;
  readonly text: string;
  readonly col: number;
  readonly valueCol: number;
}

/** Reads the rule like do_parse(); returns one rule per source × destination address. */
export function assembleRules(ctx: RuleContext): Rule[] {
  const { items, family } = ctx;
  const loaded: Loaded[] = [];
  /** Distinct known extensions in the order their options entered getopt's table. */
  const merged: Extension[] = [];
  let target: Loaded | null = null;
  let source: AddressSpec | null = null;
  let destination: AddressSpec | null = null;
  let inInterface: InterfaceSpec | null = null;
  let outInterface: InterfaceSpec | null = null;
  let protocol: ProtocolSpec | null = null;
  let protocolUsed = false;
  let fragment: { negated: boolean; col: number } | null = null;
  let counters = ctx.counters;
  let invert = false;
  let invertCol = 0;
  /** Base options given so far (one bit per letter: iptables refuses most of them twice). */
  let seenBase = 0;

  // No function is made per rule here (each was a closure, and the variables they shared lived in
  // a context object): what they did is done by the module's functions below, given what they need.
  let i = 0;

  while (i < items.length) {
    const item = items[i]!;
    i++;
    const text = item.value;
    // Quotes only group words (add_param_to_argv): getopt sees `"--x"` and `"!"` as an option and a '!'.
    if (text === '!') {
      if (invert) fail(ctx, item.col, "multiple consecutive '!' are not allowed");
      invert = true;
      invertCol = item.col;
      continue;
    }
    const isOption = text.length > 1 && text.startsWith('-') && text !== '--';
    if (!isOption) {
      const last = newestOf(loaded, target);
      if (last && !last.ext) {
        // An extension virtables does not know: its option values are carried verbatim.
        const o = last.options[last.options.length - 1];
        if (o) {
          (o.args as Arg[]).push({ value: text, quoted: item.quoted });
          continue;
        }
      }
      fail(ctx, item.col, `unexpected word '${text}' (iptables: "Bad argument"); ${hintForStray(items, i - 1)}`);
    }

    let resolved: Resolved | null = null;
    /** What an exact `--name` (no `=value`) names, found without slicing the word: the common case. */
    let hitExt: Extension | null = null;
    let hitOption: XtOption | null = null;
    let hitLetter: string | undefined;
    const last = newestOf(loaded, target);
    if (text.charCodeAt(1) === 45 && (last === null || last.ext !== null) && text.indexOf('=') < 0) {
      hitLetter = BASE_BY_DASHED.get(text);
      if (hitLetter === undefined) {
        for (let k = merged.length - 1; k >= 0 && hitOption === null; k--) {
          const o = dashedNamesOf(merged[k]!).get(text);
          if (o) {
            hitExt = merged[k]!;
            hitOption = o;
          }
        }
      }
    }
    if (hitLetter !== undefined) {
      resolved = BASE_RESOLVED.get(hitLetter)!;
    } else if (hitOption !== null) {
      // resolved through hitExt / hitOption below
    } else if (text.startsWith('--')) {
      const word = text.slice(2);
      // An unknown extension takes any option that is not a base option (its options are not known).
      if (
        last &&
        !last.ext &&
        !BASE_BY_NAME.has(word.split('=')[0]!) &&
        !protoOwns(word, protocol, protocolUsed, merged, family)
      ) {
        addOption(last, { name: intern(text), negated: invert, args: [], col: item.col });
        invert = false;
        continue;
      }
      resolved = resolveLong(word, merged);
      if (resolved.kind === 'none' && protocol && !protocolUsed) {
        const protoExt = findMatch(protocolMatchName(protocol.written, protocol.n), family);
        if (protoExt && !merged.includes(protoExt)) {
          protocolUsed = true;
          loadExtension(family, loaded, merged, 'match', protoExt.name, item.col, true);
          resolved = resolveLong(word, merged);
        }
      }
      if (resolved.kind === 'none' || resolved.kind === 'ambiguous') {
        const unknown = [...loaded, ...(target ? [target] : [])].filter((l) => !l.ext).sort((a, b) => b.col - a.col)[0];
        if (resolved.kind === 'none' && unknown) {
          addOption(unknown, { name: intern(text), negated: invert, args: [], col: item.col });
          invert = false;
          continue;
        }
        if (resolved.kind === 'ambiguous')
          fail(ctx, item.col, `option '${text}' is ambiguous (${resolved.names.map((n) => `--${n}`).join(', ')})`);
        fail(ctx, item.col, unknownOption(text, merged, protocol, target));
      }
    } else {
      const letter = text[1]!;
      if (!BASE_SHORT.has(letter)) fail(ctx, item.col, `unknown option '${text}'`);
      const rest = text.slice(2);
      if (rest !== '' && !BASE_SHORT_WITH_ARG.has(letter))
        fail(ctx, item.col, `unknown option '${text}' (write '-${letter}' alone)`);
      resolved = rest === '' ? BASE_RESOLVED.get(letter)! : { kind: 'base', letter, inline: rest };
    }

    if (resolved !== null && resolved.kind === 'ext') {
      hitExt = resolved.ext;
      hitOption = resolved.option;
    }
    if (hitOption !== null) {
      const inst = instanceOf(loaded, target, hitExt!);
      const o = hitOption;
      const inline = resolved !== null && resolved.kind === 'ext' ? resolved.inline : null;
      let args: readonly RawArg[] = NO_ARGS;
      if (o.type !== null && o.optionalValue) {
        if (inline !== null) {
          fail(ctx, item.col, `option '${longName(o)}' takes no '=value' (write the value as the next word)`);
        }
        const next = items[i];
        if (next && !next.value.startsWith('-') && !next.value.startsWith('!')) {
          args = [next];
          i++;
        }
      } else if (o.type !== null) {
        let v: RawArg;
        if (inline !== null) v = { value: inline, quoted: false, col: item.col };
        else {
          const next = items[i];
          if (!next) fail(ctx, item.col, `option '${text}' requires a value`);
          i++;
          v = next;
        }
        if (o.invert && v.value === '!' && !v.quoted) {
          const moved = oldNegation(ctx, items[i], v, longName(o), invert);
          if (moved) {
            invert = true;
            invertCol = v.col;
            i++;
            v = moved;
          }
        }
        const next = o.second ? items[i] : undefined;
        if (next && !(next.value.startsWith('-') && !next.quoted) && !next.value.startsWith('!')) {
          args = [v, next];
          i++;
        } else args = [v];
      } else if (inline !== null) {
        fail(ctx, item.col, `option '${longName(o)}' takes no value`);
      }
      const raw: RawXtOption = { option: o, negated: invert, args, col: item.col };
      if (inst.raws === NO_RAWS) inst.raws = [raw];
      else inst.raws.push(raw);
      invert = false;
      continue;
    }

    // A base option.
    const base = resolved as Extract<Resolved, { kind: 'base' }>;
    const letter = base.letter;
    const optCol = item.col;
    const spelled = LETTER_SPELLED.get(letter) ?? text;
    if (COMMANDS.has(letter))
      fail(ctx, optCol, `'${text}': a second command in one rule line (the line already is '-A ${ctx.chain}')`);
    if (NOT_IN_RULES.has(letter)) fail(ctx, optCol, `option '${text}' cannot be used in a rule of a restore file`);
    if (letter === '4' || letter === '6') {
      if ((letter === '4') === (family === 'ipv4')) continue;
      // iptables-restore skips a rule meant for the other family (-6 in an IPv4 file).
      return [];
    }
    const once = BASE_BIT.get(letter === 'g' ? 'j' : letter)!;
    if (letter !== 'm' && (seenBase & once) !== 0) {
      if (letter === 'j' || letter === 'g')
        fail(ctx, optCol, `a second target '${items[i]?.value ?? text}' (the rule already jumps to '${target?.name}')`);
      fail(ctx, optCol, `'${spelled}' given twice (iptables: "multiple -${letter} flags not allowed")`);
    }
    seenBase |= once;
    if (invert && NOT_NEGATABLE.has(letter)) fail(ctx, invertCol, `'!' cannot negate '${spelled}'`);
    if (letter === 'f') {
      if (family === 'ipv6') fail(ctx, optCol, "'-f' does not exist in ip6tables (use -m frag)");
      if (base.inline !== null) fail(ctx, optCol, "'-f' takes no value");
      fragment = { negated: invert, col: optCol };
      invert = false;
      continue;
    }
    let value: RawArg;
    if (base.inline !== null) value = { value: base.inline, quoted: false, col: optCol };
    else {
      const next = items[i];
      if (!next) fail(ctx, optCol, `option '${spelled}' requires a value`);
      i++;
      value = next;
    }
    if (value.value === '!' && !value.quoted && OLD_NEGATION_LETTERS.has(letter)) {
      const moved = oldNegation(ctx, items[i], value, spelled, invert);
      if (moved) {
        invert = true;
        invertCol = value.col;
        i++;
        value = moved;
      }
    }
    const negated = invert;
    invert = false;
    switch (letter) {
      case 's':
      case 'd': {
        const spec: AddressSpec = { negated, text: value.value, col: optCol, valueCol: value.col };
        if (letter === 's') source = spec;
        else destination = spec;
        break;
      }
      case 'i':
      case 'o': {
        if (value.value === '')
          fail(ctx, value.col, 'empty interface name (iptables: "Empty interface is likely to be undesired")');
        if (Buffer.byteLength(value.value) > 15)
          fail(ctx, value.col, `interface name '${value.value}' is longer than 15 characters`);
        const field: InterfaceSpec = { negated, name: value.value, col: optCol };
        if (letter === 'i') inInterface = field;
        else outInterface = field;
        break;
      }
      case 'p': {
        const lower = value.value.toLowerCase();
        const n = xtNumber(lower, 0, 255) ?? protocolNumber(lower);
        if (n === null) fail(ctx, value.col, `unknown protocol '${value.value}'`);
        if (n === 0 && negated)
          fail(ctx, optCol, `'! -p ${value.value}' would never match (iptables: "rule would never match protocol")`);
        protocol = { negated, name: n === 0 ? 'all' : protocolName(n), written: lower, col: optCol, n };
        break;
      }
      case 'm': {
        const name = value.value;
        if (name === '') fail(ctx, value.col, "'-m' needs a match name");
        if (name.length > 28) fail(ctx, value.col, `match name '${name.slice(0, 40)}' is longer than 28 characters`);
        if (otherFamilyOnly('match', name, family))
          fail(
            ctx,
            value.col,
            `match '${name}' exists only in ${family === 'ipv6' ? 'iptables (IPv4)' : 'ip6tables (IPv6)'}`,
          );
        const l = loadExtension(family, loaded, merged, 'match', name, optCol, false);
        if (!l.ext)
          note(
            ctx,
            value.col,
            'not-validated',
            `match '${name}' is not one iptables 1.8.9 ships; carried through verbatim, not validated${didYouMean(name, ALL_MATCH_NAMES)}`,
          );
        break;
      }
      case 'j':
      case 'g': {
        const name = value.value;
        if (name === '') fail(ctx, value.col, `'${spelled}' needs a target or chain name`);
        if (name.length > 28) fail(ctx, value.col, `target name '${name.slice(0, 40)}' is longer than 28 characters`);
        if (/\s/.test(name)) fail(ctx, value.col, `invalid target name '${name}' (no blanks allowed)`);
        if (letter === 'g') {
          target = {
            kind: 'target',
            name,
            ext: null,
            raws: NO_RAWS,
            options: NO_OPTIONS,
            col: optCol,
            implicit: false,
            goto: true,
            given: null,
          };
          break;
        }
        if (otherFamilyOnly('target', name, family))
          fail(
            ctx,
            value.col,
            `target '${name}' exists only in ${family === 'ipv6' ? 'iptables (IPv4)' : 'ip6tables (IPv6)'}`,
          );
        target = loadExtension(family, loaded, merged, 'target', name, optCol, false);
        break;
      }
      case 'c': {
        const p = value.value;
        const comma = p.indexOf(',', 1);
        let b: string | undefined = comma >= 0 ? p.slice(comma + 1) : undefined;
        if (b === undefined) {
          const next = items[i];
          if (next && !(next.value.startsWith('-') && !next.quoted) && next.value !== '!') {
            b = next.value;
            i++;
          }
        }
        if (b === undefined) fail(ctx, optCol, "'-c' needs a packet and a byte counter");
        const pm = /^\s*\+?(\d+)/.exec(p);
        const bm = /^\s*\+?(\d+)/.exec(b!);
        if (!pm) fail(ctx, value.col, `'-c' packet counter '${p}' is not a number`);
        if (!bm) fail(ctx, value.col, `'-c' byte counter '${b}' is not a number`);
        counters = { packets: BigInt(pm![1]!).toString(), bytes: BigInt(bm![1]!).toString() };
        break;
      }
    }
  }
  if (invert) fail(ctx, invertCol, "'!' at the end of the rule negates nothing");

  if (ctx.table === 'nat' && target && !target.goto && target.name === 'DROP')
    fail(ctx, target.col, 'the nat table is not for filtering: iptables refuses DROP there');
  if ((ctx.chain === 'PREROUTING' || ctx.chain === 'INPUT') && outInterface)
    fail(
      ctx,
      (outInterface as InterfaceSpec).col,
      `'-o' cannot be used in ${ctx.chain} (packets there have no output interface yet)`,
    );
  if ((ctx.chain === 'POSTROUTING' || ctx.chain === 'OUTPUT') && inInterface)
    fail(
      ctx,
      (inInterface as InterfaceSpec).col,
      `'-i' cannot be used in ${ctx.chain} (locally generated packets have no input interface)`,
    );

  // Each extension's options, then the checks that need the whole rule.
  const matches: Match[] = new Array(loaded.length);
  /** Where the checked matches so far lead in the tree of shared lists; null past a match no rule had before. */
  let listNode: ListNode | null = listRoot;
  let allChecked = true;
  for (let k = 0; k < loaded.length; k++) {
    const l = loaded[k]!;
    if (l.ext) {
      const r = checkOf(ctx, l);
      l.given = r.given;
      // A reading no rule used before (a comment written once) is in no list: none is kept for it.
      const fresh = r.parts === undefined;
      const shared = sharedMatch(l, r);
      matches[k] = shared.match;
      listNode = fresh || listNode === null ? null : nextList(listNode, shared);
    } else {
      matches[k] = { name: intern(l.name), options: l.options, implicit: l.implicit, validated: false };
      allChecked = false;
    }
  }
  let targetModel: Target | null = null;
  if (target) {
    const t = target as Loaded;
    if (t.ext) {
      const r = checkOf(ctx, t);
      t.given = r.given;
      targetModel = sharedTarget(t, r);
    } else {
      targetModel = { name: intern(t.name), goto: t.goto, options: t.options, col: t.col, validated: false };
    }
  }
  /** The extensions in the order they were checked: the matches, then the target. */
  const checked: readonly Loaded[] = target ? [...loaded, target as Loaded] : loaded;
  const p = protocol as ProtocolSpec | null;
  // What rule-level checks see, made only when an extension has one.
  let view: RuleView | null = null;
  for (const l of checked) {
    const ext = l.ext;
    const given = l.given;
    if (!ext || !given) continue;
    if (ext.protocols) {
      const ok = p && !p.negated && protocolsHold(ext.protocols, p.n);
      if (!ok)
        fail(
          ctx,
          l.col,
          `${what(ext)} needs ${ext.protocols.length === 1 ? `-p ${ext.protocols[0]}` : `-p ${ext.protocols.slice(0, -1).join(', ')} or ${ext.protocols[ext.protocols.length - 1]}`}${p ? (p.negated ? ` (not '! -p ${p.name}')` : ` (not -p ${p.name})`) : ''}`,
        );
      if (ext.name === 'multiport' && p.col > l.col)
        fail(ctx, l.col, 'multiport needs -p before it (iptables reads the options in order)');
    }
    if (ext.tables && !ext.tables.includes(ctx.table))
      fail(
        ctx,
        l.col,
        `${what(ext)} is only valid in the ${ext.tables.join(', ')} table${ext.tables.length > 1 ? 's' : ''}, not ${ctx.table}`,
      );
    const problem = ext.ruleCheck
      ? ext.ruleCheck(
          given,
          (view ??= ruleView(ctx, p, loaded, target as Loaded | null, inInterface !== null, outInterface !== null)),
          l.col,
        )
      : null;
    if (problem) fail(ctx, l.col, `${what(ext)}: ${problem}`);
  }

  const sharedMatches =
    matches.length === 0 ? NO_MATCHES : allChecked && listNode !== null ? (listNode.list ??= matches) : matches;
  const protocolModel = p && sharedProtocol(p);
  const inModel = inInterface && sharedInterface(inInterface as InterfaceSpec);
  const outModel = outInterface && sharedInterface(outInterface as InterfaceSpec);
  const fragmentModel = fragment ? ((fragment as { negated: boolean }).negated ? NEGATED_FRAGMENT : FRAGMENT) : null;
  const parts: RuleParts = {
    counters,
    inInterface: inModel,
    outInterface: outModel,
    protocol: protocolModel,
    fragment: fragmentModel,
    matches: sharedMatches,
    target: targetModel,
  };
  // One address each (nearly every rule): no lists.
  const oneSource = singleAddress(ctx, source);
  const oneDestination = oneSource === undefined ? undefined : singleAddress(ctx, destination);
  if (oneSource !== undefined && oneDestination !== undefined) {
    const rule = makeRule(ctx, parts, oneSource, oneDestination);
    queueTableChecks(ctx, checked, rule);
    return [rule];
  }
  const sources = expandAddresses(ctx, source);
  const destinations = expandAddresses(ctx, destination);
  if (
    (sources.length > 1 || destinations.length > 1) &&
    ((source as AddressSpec | null)?.negated || (destination as AddressSpec | null)?.negated)
  ) {
    fail(
      ctx,
      ((source as AddressSpec | null)?.negated ? source! : destination!).col,
      "'!' is not allowed with several addresses (iptables makes one rule per address)",
    );
  }
  if (sources.length === 1 && destinations.length === 1) {
    const rule = makeRule(ctx, parts, sources[0]!, destinations[0]!);
    queueTableChecks(ctx, checked, rule);
    return [rule];
  }
  const rules: Rule[] = [];
  for (const s of sources) for (const d of destinations) rules.push(makeRule(ctx, parts, s, d));
  for (const rule of rules) queueTableChecks(ctx, checked, rule);
  return rules;
}

/** What a rule's addresses share when `-s a,b` makes several rules of one line. */
interface RuleParts {
  readonly counters: Counters | null;
  readonly inInterface: InterfaceMatch | null;
  readonly outInterface: InterfaceMatch | null;
  readonly protocol: ProtocolMatch | null;
  readonly fragment: Rule['fragment'];
  readonly matches: Match[];
  readonly target: Target | null;
}

function makeRule(
  ctx: RuleContext,
  parts: RuleParts,
  source: AddressMatch | null,
  destination: AddressMatch | null,
): Rule {
  // One literal with the fields always in this order: object spread gave every rule its own hidden class.
  return {
    table: ctx.table,
    chain: ctx.chain,
    line: ctx.line,
    col: 1,
    counters: parts.counters,
    source,
    destination,
    inInterface: parts.inInterface,
    outInterface: parts.outInterface,
    protocol: parts.protocol,
    fragment: parts.fragment,
    matches: parts.matches,
    target: parts.target,
    text: ctx.text,
  };
}

/** Interface names and addresses for a rule head, as `-i`, `-o`, `-s` and `-d` give them (absent: the rule's own). */
export interface HeadValues {
  readonly in?: string;
  readonly out?: string;
  readonly source?: string;
  readonly destination?: string;
}

/**
 * The rule read from the same line with other `-i`/`-o` names and `-s`/`-d` addresses, which nothing else in the
 * rule depends on (no extension check reads their values, only whether they are there): the head as assembleRules
 * reads it, the rest shared. Null where the values would not read as one rule (an address list, an empty or too long
 * name, an address of the other family): the line takes the whole reading then.
 */
export function withHead(rule: Rule, family: Family, head: HeadValues, text: string): Rule | null {
  const iface = (old: InterfaceMatch | null, name: string | undefined): InterfaceMatch | null | undefined => {
    if (name === undefined) return old;
    if (!old || name === '' || Buffer.byteLength(name) > 15) return undefined;
    return sharedInterface({ negated: old.negated, name, col: 0 });
  };
  const address = (old: AddressMatch | null, written: string | undefined): AddressMatch | null | undefined => {
    if (written === undefined) return old;
    if (!old || written.includes(',') || written[0] === ' ') return undefined;
    const m = addressMatchOf(written, family, old.negated);
    return typeof m === 'string' ? undefined : m;
  };
  const inInterface = iface(rule.inInterface, head.in);
  const outInterface = iface(rule.outInterface, head.out);
  const source = address(rule.source, head.source);
  const destination = address(rule.destination, head.destination);
  if (inInterface === undefined || outInterface === undefined || source === undefined || destination === undefined)
    return null;
  return {
    table: rule.table,
    chain: rule.chain,
    line: rule.line,
    col: rule.col,
    counters: rule.counters,
    source,
    destination,
    inInterface,
    outInterface,
    protocol: rule.protocol,
    fragment: rule.fragment,
    matches: rule.matches,
    target: rule.target,
    text,
  };
}

/** A match or target named in the rule: a known extension's options enter getopt's table (`merged`). */
function loadExtension(
  family: Family,
  loaded: Loaded[],
  merged: Extension[],
  kind: 'match' | 'target',
  name: string,
  col: number,
  implicit: boolean,
): Loaded {
  const ext = kind === 'match' ? findMatch(name, family) : findTarget(name, family);
  const shown = kind === 'match' && ext ? ext.name : name;
  const l: Loaded = {
    kind,
    name: shown,
    ext: ext ?? null,
    raws: NO_RAWS,
    options: NO_OPTIONS,
    col,
    implicit,
    goto: false,
    given: null,
  };
  if (ext && !merged.includes(ext)) merged.push(ext);
  if (kind === 'match') loaded.push(l);
  return l;
}

/** An option of an extension virtables does not know, as written. */
function addOption(l: Loaded, option: Option): void {
  if (l.options === NO_OPTIONS) l.options = [option];
  else l.options.push(option);
}

/** The newest instance of a known extension takes its options (xtables marks older clones completed). */
function instanceOf(loaded: readonly Loaded[], target: Loaded | null, ext: Extension): Loaded {
  if (target?.ext === ext) return target;
  for (let i = loaded.length - 1; i >= 0; i--) if (loaded[i]!.ext === ext) return loaded[i]!;
  throw new Error(`internal: no instance of ${ext.name}`);
}

/** The extension named last (the match or the target). */
function newestOf(loaded: readonly Loaded[], target: Loaded | null): Loaded | null {
  const lastMatch = loaded[loaded.length - 1];
  if (!target) return lastMatch ?? null;
  if (!lastMatch) return target;
  return lastMatch.col > target.col ? lastMatch : target;
}

/**
 * `-d ! x` / `--dport ! 22` (`value` is that `!`, `next` the word after it): iptables up to 1.4 put
 * `!` after the option; 1.8 refuses it. The word that is the value, or null when it is not that.
 */
function oldNegation(
  ctx: RuleContext,
  next: RuleItem | undefined,
  value: RawArg,
  what: string,
  inverted: boolean,
): RawArg | null {
  if (!next || next.value.startsWith('-')) return null;
  const message = `'${what} ! …' is the old (iptables ≤ 1.4) place for '!'; iptables 1.8 refuses it: write '! ${what} …'`;
  if (ctx.strict) fail(ctx, value.col, message);
  note(ctx, value.col, 'old-syntax', message);
  if (inverted) fail(ctx, value.col, `'${what}' is negated twice`);
  return next;
}

/** What rule-level checks see. */
function ruleView(
  ctx: RuleContext,
  p: ProtocolSpec | null,
  loaded: readonly Loaded[],
  target: Loaded | null,
  inInterface: boolean,
  outInterface: boolean,
): RuleView {
  return {
    family: ctx.family,
    table: ctx.table,
    protocol: p ? { n: p.n, negated: p.negated, col: p.col } : null,
    matches: loaded.map((l) => ({ name: l.name, given: l.given })),
    target: target ? { name: target.name, given: target.given } : null,
    inInterface,
    outInterface,
  };
}

function protocolsHold(names: readonly string[], n: number): boolean {
  for (const name of names) if (protocolNumber(name) === n) return true;
  return false;
}

/** What the table's COMMIT checks again: chain restrictions (hooks) and objects shared by name. */
function queueTableChecks(ctx: RuleContext, checked: readonly Loaded[], rule: Rule): void {
  if (!ctx.tableChecks) return;
  for (const l of checked) {
    const ext = l.ext;
    if (!ext || !l.given || (!ext.hooks && !ext.hookCheck && !ext.shared)) continue;
    ctx.tableChecks.push({ rule, ext, given: l.given, col: l.col });
  }
}

// ---------------------------------------------------------------------------------------------
// Parts shared between rules: a dump writes the same option groups, interfaces and protocols
// thousands of times, and each is one object (the model is read-only). Checked extensions are
// keyed by what src/xt's check read (extension, family, options, values and their quoting).

const SHARED_LIMIT = 1024;
/** Each known protocol and interface, by how it was written (plain, then negated), while there is room. */
const sharedProtocols = [new Map<string, ProtocolMatch>(), new Map<string, ProtocolMatch>()] as const;
const sharedInterfaces = [new Map<string, InterfaceMatch>(), new Map<string, InterfaceMatch>()] as const;
const NO_MATCHES: Match[] = [];
const FRAGMENT: Rule['fragment'] = { negated: false };
const NEGATED_FRAGMENT: Rule['fragment'] = { negated: true };

/** The model options of a checked extension, from what the rule gave it. */
function optionsOf(l: Loaded): Option[] {
  return l.raws.map((r) => ({
    name: longName(r.option),
    negated: r.negated,
    args: r.args.map((a) => ({ value: a.value, quoted: a.quoted })),
  }));
}

// src/xt's check returns one result object per distinct reading while it keeps it (its own memo):
// the model parts are kept on that object, found with no key to build or hash.
interface Parts {
  explicit?: SharedMatch;
  implicit?: SharedMatch;
  target?: Target;
}

interface SharedMatch {
  readonly match: Match;
}

/**
 * The lists of matches rules share, as a tree: one step per checked match (its SharedMatch), the
 * list of the matches on the way kept at the node. No key string is built per rule.
 */
interface ListNode {
  next: Map<SharedMatch, ListNode> | undefined;
  list: Match[] | undefined;
}
/** Nodes made before the tree starts again from an empty root (as many lists as the memo it replaced kept). */
const LIST_NODES = 2 * SHARED_LIMIT;
let listNodes = 0;
let listRoot: ListNode = { next: undefined, list: undefined };

function nextList(node: ListNode, shared: SharedMatch): ListNode {
  const known = node.next?.get(shared);
  if (known !== undefined) return known;
  if (++listNodes > LIST_NODES) {
    // The walk in progress goes on in the old tree; the next rule starts in the new one.
    listRoot = { next: undefined, list: undefined };
    listNodes = 1;
  }
  const made: ListNode = { next: undefined, list: undefined };
  (node.next ??= new Map()).set(shared, made);
  return made;
}

function partsOf(r: XtReading): Parts {
  return (r.parts ??= {}) as Parts;
}

function sharedMatch(l: Loaded, r: XtReading): SharedMatch {
  const parts = partsOf(r);
  const known = l.implicit ? parts.implicit : parts.explicit;
  if (known !== undefined) return known;
  const options = optionsOf(l);
  const match: Match = { name: intern(l.name), options, implicit: l.implicit, validated: true, canonical: r.text };
  const made = { match };
  if (l.implicit) parts.implicit = made;
  else parts.explicit = made;
  return made;
}

function sharedTarget(l: Loaded, r: XtReading): Target {
  const parts = partsOf(r);
  if (parts.target !== undefined) return parts.target;
  const name = intern(l.ext!.savedAs ?? l.name);
  parts.target = { name, goto: false, options: optionsOf(l), validated: true, canonical: r.text };
  return parts.target;
}

function sharedProtocol(p: ProtocolSpec): ProtocolMatch {
  const map = sharedProtocols[p.negated ? 1 : 0];
  const known = map.get(p.written);
  if (known !== undefined) return known;
  if (map.size >= SHARED_LIMIT) map.clear();
  const made = { negated: p.negated, name: p.name, written: p.written } as ProtocolMatch;
  map.set(p.written, made);
  return made;
}

function sharedInterface(i: InterfaceSpec): InterfaceMatch {
  const map = sharedInterfaces[i.negated ? 1 : 0];
  const known = map.get(i.name);
  if (known !== undefined) return known;
  if (map.size >= SHARED_LIMIT) map.clear();
  const made = { negated: i.negated, name: i.name } as InterfaceMatch;
  map.set(i.name, made);
  return made;
}

function what(ext: Extension): string {
  return ext.kind === 'match' ? `match '${ext.name}'` : `target '${ext.name}'`;
}

/** Does the protocol match `-p` would load own this option (so an unknown extension before it does not take it)? */
function protoOwns(
  word: string,
  protocol: ProtocolSpec | null,
  used: boolean,
  merged: readonly Extension[],
  family: Family,
): boolean {
  if (!protocol || protocol.negated) return false;
  const ext = findMatch(protocolMatchName(protocol.written, protocol.n), family);
  if (!ext) return false;
  if (used && !merged.includes(ext)) return false;
  return namesOf(ext).has(word.split('=')[0]!);
}

/**
 * The readings that passed, found by walking what checkExtension keys them by (family, extension,
 * each option with its `!` and its values and their quoting) one step at a time: no key string is
 * built and hashed per extension use (that was a tenth of reading a dump). A problem is not kept:
 * checkExtension finds it again, with the columns of this rule.
 */
interface CheckNode {
  /** After an option: its values (unquoted); at any node: the next option (not negated). */
  plain?: Map<XtOption | string, CheckNode>;
  negated?: Map<XtOption, CheckNode>;
  quoted?: Map<string, CheckNode>;
  reading?: XtReading;
}
/**
 * Readings kept (about as many as checkExtension's own memo) before the walks start again from
 * empty roots, which stay bounded: what the dump repeats is found again in checkExtension's memo.
 */
const CHECK_READINGS = 1024;
let checkReadings = 0;
let checkRoots: Array<Map<Extension, CheckNode>> = [new Map(), new Map()];

function step<K>(map: Map<K, CheckNode> | undefined, key: K, make: boolean): CheckNode | undefined {
  const known = map?.get(key);
  if (known !== undefined || !make) return known;
  const node: CheckNode = {};
  map!.set(key, node);
  return node;
}

/** The node of an extension use; made on the way (`make`), else undefined where the walk leaves the known. */
function checkNodeOf(family: Family, l: Loaded, make: boolean): CheckNode | undefined {
  const roots = checkRoots[family === 'ipv6' ? 1 : 0]!;
  let node = step(roots, l.ext!, make);
  for (const r of l.raws) {
    if (node === undefined) return undefined;
    if (r.negated) node = step(make ? (node.negated ??= new Map()) : node.negated, r.option, make);
    else node = step(make ? (node.plain ??= new Map()) : node.plain, r.option, make);
    for (const a of r.args) {
      if (node === undefined) return undefined;
      if (a.quoted) node = step(make ? (node.quoted ??= new Map()) : node.quoted, a.value, make);
      else node = step(make ? (node.plain ??= new Map()) : node.plain, a.value, make);
    }
  }
  return node;
}

function checkOf(ctx: RuleContext, l: Loaded): XtReading {
  const known = checkNodeOf(ctx.family, l, false)?.reading;
  if (known !== undefined) return known;
  const r = checkExtension(l.ext!, ctx.family, l.raws, l.col);
  if (!r.ok) fail(ctx, r.problem.col, r.problem.message);
  // Kept here from its second use on (a reading with parts was used before): the comments a dump
  // writes once each do not push out what it repeats, nor stay alive to be copied by the collector.
  if (r.parts === undefined) return r;
  if (++checkReadings > CHECK_READINGS) {
    checkRoots = [new Map(), new Map()];
    checkReadings = 1;
  }
  checkNodeOf(ctx.family, l, true)!.reading = r;
  return r;
}

/**
 * The match of an address as written (or why it reads as none). A plain IPv4 address is read each time; any other is
 * looked up, one match shared by the rules that write it alike (plain, then negated), so what is worked out of it
 * once (its text: formatCidr) serves them all.
 */
const addressMatches = [memo<AddressMatch | string>(SHARED_LIMIT), memo<AddressMatch | string>(SHARED_LIMIT)] as const;
function addressMatchOf(text: string, family: Family, negated: boolean): AddressMatch | string {
  const plain = family === 'ipv4' ? plainIpv4(text) : null;
  if (plain) return addressMatch(plain, negated, text);
  const shared = addressMatches[negated ? 1 : 0];
  const key = family === 'ipv6' ? `6${text}` : text;
  const found = shared.get(key);
  if (found !== undefined) return found;
  const c = readAddress(text, family);
  return shared.set(key, typeof c === 'string' ? c : addressMatch(c, negated, text));
}

function readAddress(text: string, family: Family): Cidr | string {
  const r = maskedAddress(text, family);
  return typeof r === 'string' ? r : toCidr(family, r.address, r.mask);
}

/**
 * `a.b.c.d` or `a.b.c.d/len` in plain decimal (no leading zeros, which iptables would read as
 * octal), as maskedAddress reads it; null for anything else, which takes the full reading.
 */
function plainIpv4(text: string): Cidr | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return null;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else break;
  }
  if (dots !== 3 || digits === 0) return null;
  value = value * 256 + part;
  let prefix = 32;
  if (i < n) {
    if (text.charCodeAt(i) !== 47 || i + 1 === n || n - i > 3) return null;
    prefix = 0;
    for (let j = i + 1; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c < 48 || c > 57 || (j > i + 1 && prefix === 0)) return null;
      prefix = prefix * 10 + (c - 48);
    }
    if (prefix > 32) return null;
  }
  // The host bits cleared, as iptables does (`10.0.0.5/24` is 10.0.0.0/24).
  const network = prefix === 0 ? 0 : prefix === 32 ? value : value - (value % 2 ** (32 - prefix));
  return { family: 4, network: BigInt(network), prefix };
}

const NO_ADDRESS: ReadonlyArray<AddressMatch | null> = [null];

/** The address of a spec that names one address (or none: null); undefined when it takes expandAddresses. */
function singleAddress(ctx: RuleContext, spec: AddressSpec | null): AddressMatch | null | undefined {
  if (!spec) return null;
  if (spec.text.includes(',') || spec.text[0] === ' ') return undefined;
  const m = addressMatchOf(spec.text, ctx.family, spec.negated);
  return typeof m === 'string' ? undefined : m;
}

function expandAddresses(ctx: RuleContext, spec: AddressSpec | null): ReadonlyArray<AddressMatch | null> {
  if (!spec) return NO_ADDRESS;
  if (!spec.text.includes(',') && spec.text[0] !== ' ') {
    const m = addressMatchOf(spec.text, ctx.family, spec.negated);
    if (typeof m !== 'string') return [m];
  }
  const out: AddressMatch[] = [];
  let offset = 0;
  for (const part of spec.text.split(',')) {
    const item = part.replace(/^\s+/, '');
    const col = spec.valueCol + offset + (part.length - item.length);
    offset += part.length + 1;
    const r = addressMatchOf(item, ctx.family, spec.negated);
    if (typeof r === 'string') {
      const why = r.startsWith('invalid mask')
        ? `${r} (a prefix length 0-${familyWidth(ctx.family)} or a netmask)`
        : r.startsWith('bad address')
          ? `${r} (expected ADDRESS, ADDRESS/PREFIX or ADDRESS/NETMASK)`
          : r;
      fail(ctx, col, why);
    }
    out.push(r);
  }
  return out;
}

const cidrs = memo<Cidr>(SHARED_LIMIT);
function toCidr(family: Family, address: bigint, mask: bigint): Cidr {
  const key = `${family}${address}/${mask}`;
  let c = cidrs.get(key);
  if (!c) {
    const prefix = maskPrefix(family, mask);
    const fam = family === 'ipv6' ? 6 : 4;
    c =
      prefix >= 0
        ? { family: fam, network: address, prefix }
        : { family: fam, network: address, prefix: popcount(mask), mask };
    cidrs.set(key, c);
  }
  return c;
}

function popcount(v: bigint): number {
  let n = 0;
  for (let x = v; x > 0n; x >>= 1n) n += Number(x & 1n);
  return n;
}

function hintForStray(items: readonly RuleItem[], at: number): string {
  const prev = items[at - 1];
  if (prev && /^[A-Z][A-Z_]*$/.test(items[at]!.value) && !prev.value.startsWith('-'))
    return `did you forget '-j' before '${items[at]!.value}'?`;
  return 'every value belongs to the option before it, and that option takes no more';
}

function unknownOption(
  text: string,
  merged: readonly Extension[],
  protocol: ProtocolMatch | null,
  target: Loaded | null,
): string {
  const known = merged.flatMap((e) => [...namesOf(e).keys()].map((n) => `--${n}`));
  const close = closest(text, known);
  const where =
    merged.length === 0
      ? protocol
        ? ''
        : " (it belongs to no loaded match: add '-m MODULE' or '-p PROTO' before it)"
      : '';
  void target;
  return `unknown option '${text}'${where}${close ? ` (did you mean '${close}'?)` : ''}`;
}

/** The closest of `candidates` within edit distance 2, for "did you mean". */
export function closest(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase(), bestD);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** Damerau-Levenshtein distance, giving up beyond `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function didYouMean(name: string, names: Iterable<string>): string {
  const c = closest(name, names);
  return c && c !== name ? ` (did you mean '${c}'?)` : '';
}

/** One rule, for callers that read single commands (listings): several addresses are refused there. */
export function assembleRule(ctx: RuleContext): Rule {
  const rules = assembleRules(ctx);
  if (rules.length !== 1)
    throw new InputError(
      ctx.file,
      ctx.line,
      1,
      rules.length === 0
        ? 'the rule is for the other IP family (-4/-6)'
        : 'several addresses in one rule (iptables makes one rule per address)',
    );
  return rules[0]!;
}
