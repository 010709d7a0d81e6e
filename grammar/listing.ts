// Rule listings as people paste them into answers: iptables-save fragments, `iptables -S`
// output, iptables commands (`iptables -t nat -I PREROUTING …`, `-D`, `-R`, `-P`, `-N`), the
// `iptables -L -n [-v] [--line-numbers]` tables, `diff before.save after.save` output (normal
// or unified: `>`/`+` lines added, `<`/`-` removed) and shell scripts such as libvirt hooks
// (their iptables commands taken, `if`/`fi` and the like skipped and said) — one list of
// operations, each with a rule assembled by the iptables-save grammar (iptables-rule.ts), so
// every era's spelling reads. A command iptables would refuse (a typo) is kept as refused, with
// its position, and the rest is read.
//
// `-L` lines are lexed and parsed by a small chevrotain grammar of their own (chain headings,
// column headings, rows); their match columns ("state RELATED,ESTABLISHED", "udp dpt:53",
// "masq ports: 1024-65535") are turned back into the options that print them.

import { createToken, EmbeddedActionsParser, Lexer, type IToken } from './chevrotain.js';
import { lexProblem, lineLexer, lineParser, ruleItems } from './iptables-save.js';
import { assembleRule } from './iptables-rule.js';
import { parseCidr } from '../src/model/cidr.js';
import { BUILTIN_CHAINS, type Counters, type Rule } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';

export type ListingFormat = 'save' | 'list-rules' | 'commands' | 'list' | 'diff';

export type Operation =
  | {
      readonly kind: 'append' | 'insert' | 'delete' | 'replace';
      readonly table: string;
      readonly chain: string;
      readonly rule: Rule;
      readonly position: number | null;
      readonly line: number;
      readonly format: ListingFormat;
      readonly interfacesShown: boolean;
    }
  | {
      readonly kind: 'delete-at';
      readonly table: string;
      readonly chain: string;
      readonly position: number;
      readonly line: number;
      readonly format: ListingFormat;
    }
  | {
      readonly kind: 'policy';
      readonly table: string;
      readonly chain: string;
      readonly policy: string;
      readonly line: number;
      readonly format: ListingFormat;
    }
  | {
      readonly kind: 'new-chain' | 'delete-chain';
      readonly table: string;
      readonly chain: string;
      readonly line: number;
      readonly format: ListingFormat;
    }
  | {
      readonly kind: 'flush';
      readonly table: string;
      readonly chain: string | null;
      readonly line: number;
      readonly format: ListingFormat;
    };

export interface Listing {
  readonly file: string;
  readonly operations: Operation[];
  readonly formats: ReadonlySet<ListingFormat>;
  /** Commands iptables would refuse, read no further: `FILE:LINE:COL: why`. */
  readonly refused: string[];
  /** Lines of a shell script that are not iptables commands (`if`, `fi`, `echo`, …), said, not applied. */
  readonly skipped: Array<{ readonly line: number; readonly text: string }>;
}

// ---------------------------------------------------------------------------------------------
// `iptables -L` lines: tokens and grammar
//
//   listLine := chainHeading | columnHeading | row
//   chainHeading := 'Chain' Word '(' ('policy' Word (Word Word ',' Word Word)? | Word 'references') ')'
//   columnHeading := Column+
//   row := Cell+

const Spaces = createToken({ name: 'Spaces', pattern: /[ \t]+/, group: Lexer.SKIPPED });
const ChainKw = createToken({ name: 'ChainKw', pattern: /Chain(?=[ \t])/ });
const Column = createToken({
  name: 'Column',
  pattern: /(?:num|pkts|bytes|target|prot|opt|in|out|source|destination)(?=[ \t]|(?![\s\S]))/,
});
const Cell = createToken({ name: 'Cell', pattern: /\S+/ });
// Validated once by test/unit/lexers.test.ts, not at every start-up; built for the first listing read.
let listLexerInstance: InstanceType<typeof Lexer> | null = null;
export function listLexer(): InstanceType<typeof Lexer> {
  listLexerInstance ??= new Lexer([Spaces, ChainKw, Column, Cell], {
    positionTracking: 'onlyOffset',
    recoveryEnabled: false,
    skipValidations: true,
  });
  return listLexerInstance;
}

type ListLine =
  | { kind: 'chain'; name: string; policy: string | null }
  | { kind: 'columns'; columns: string[] }
  | { kind: 'row'; cells: IToken[] };

class ListLineParser extends EmbeddedActionsParser {
  constructor() {
    super([Spaces, ChainKw, Column, Cell], { recoveryEnabled: false, maxLookahead: 2, skipValidations: true });
    this.performSelfAnalysis();
  }

  public listLine = this.RULE('listLine', (): ListLine =>
    this.OR([
      { ALT: () => this.SUBRULE(this.chainHeading) },
      {
        ALT: () => {
          const cells: IToken[] = [];
          this.AT_LEAST_ONE(() =>
            cells.push(this.OR1([{ ALT: () => this.CONSUME(Cell) }, { ALT: () => this.CONSUME(Column) }])),
          );
          this.MANY(() => cells.push(this.CONSUME1(ChainKw)));
          // A line of column names only is the heading (`target prot opt source destination`).
          return this.ACTION(() =>
            cells.every((c) => c.tokenType === Column)
              ? { kind: 'columns', columns: cells.map((c) => c.image) }
              : { kind: 'row', cells },
          ) as ListLine;
        },
      },
    ]),
  );

  private chainHeading = this.RULE('chainHeading', (): ListLine => {
    this.CONSUME(ChainKw);
    const name = this.OR([{ ALT: () => this.CONSUME(Cell) }, { ALT: () => this.CONSUME(Column) }]);
    const words: string[] = [];
    this.MANY(() =>
      words.push(this.OR1([{ ALT: () => this.CONSUME1(Cell) }, { ALT: () => this.CONSUME1(Column) }]).image),
    );
    return this.ACTION(() => {
      const text = words.join(' ');
      const m = /^\(policy ([A-Z]+)/.exec(text);
      return { kind: 'chain', name: name.image, policy: m ? m[1]! : null } as ListLine;
    });
  });
}

let listParser: ListLineParser | null = null;

// ---------------------------------------------------------------------------------------------
// Lines in the other formats

const PROMPT = /^(?:\[[^\]]*\]\s*[#$]|[\w.-]+@[\w.-]+:[^#$\s]*\s*[#$]|[#$]|>)\s*/;
// The program's name ends at a blank (taken with it: a lookahead left recheck to fuzz, and the fuzzer,
// under load, sometimes called the pattern polynomial; without one its automaton proves it linear).
const PROGRAM = /^(?:sudo\s+)?(?:\S*\/)?ip(?:6)?tables(?:-legacy|-nft)?(?:\s|$)/;
const PROGRAM_AFTER_BLANKS = /^\s*(?:sudo\s+)?(?:\S*\/)?ip(?:6)?tables(?:-legacy|-nft)?(?:\s|$)/;

/** Do the arguments list rules (`-L`, `-nvL`, `-S`, `--list`, `--list-rules`)? Word by word: a pattern backtracked. */
function listsRules(args: string): boolean {
  return args
    .split(/\s+/)
    .some((w) => w === '--list' || w === '--list-rules' || (/^-[a-zA-Z]+$/.test(w) && /[LS]/.test(w)));
}

function tableFromCommand(text: string): string {
  const m = /(?:^|\s)(?:-t|--table)[ =]?(\S+)/.exec(text);
  return m ? m[1]! : 'filter';
}

interface State {
  table: string;
  /** Was the table said (by `*table`, `-t`, a prompt line), or only assumed? */
  explicit: boolean;
  listChain: string | null;
  columns: string[] | null;
}

function fail(file: string, line: number, col: number, message: string): never {
  throw new InputError(file, line, col, message);
}

/** Parses `-A CHAIN options…` (columns kept: `text` is the line as written). */
function ruleFrom(
  synthetic: string,
  original: string,
  file: string,
  line: number,
  table: string,
): { chain: string; chainCol: number; rule: Rule; counters: Counters | null } {
  const lexed = lineLexer().tokenize(synthetic);
  const problem = lexProblem(lexed, synthetic);
  if (problem) fail(file, line, problem.offset + 1, problem.message);
  const parser = lineParser();
  parser.input = lexed.tokens;
  const ast = parser.line();
  if (parser.errors.length > 0 || ast.kind !== 'rule') {
    const t = parser.errors[0]?.token;
    const col =
      t && !Number.isNaN(t.startOffset) && t.tokenType.name !== 'EOF' ? t.startOffset + 1 : synthetic.length + 1;
    fail(
      file,
      line,
      col,
      `expected a chain name and rule options ('-A CHAIN [options]')${t && t.tokenType.name !== 'EOF' ? `, found '${t.image}'` : ''}`,
    );
  }
  const rule = assembleRule({
    file,
    line,
    table,
    chain: ast.chain,
    counters: ast.counters,
    items: ruleItems(ast.words),
    text: original.trim(),
    family: 'ipv4',
  });
  return { chain: ast.chain, chainCol: ast.chainToken.startOffset + 1, rule, counters: ast.counters };
}

/** An iptables command: which operation, on which chain, with the rest as rule options. */
function command(text: string, file: string, line: number): Operation | { kind: 'listing'; table: string } {
  const prog = PROGRAM_AFTER_BLANKS.exec(text)!;
  const words: Array<{ image: string; start: number; end: number }> = [];
  // An unclosed quote runs to the end of the line: a failed match would be retried at every later quote.
  const re = /"(?:[^"\\]|\\.)*(?:"|$)|'[^']*(?:'|$)|\S+/g;
  re.lastIndex = prog[0].length;
  for (let m = re.exec(text); m; m = re.exec(text))
    words.push({ image: m[0], start: m.index, end: m.index + m[0].length });
  if (listsRules(text.slice(prog[0].length))) return { kind: 'listing', table: tableFromCommand(text) };
  let table = 'filter';
  let op: {
    kind: 'append' | 'insert' | 'delete' | 'replace' | 'policy' | 'new-chain' | 'flush' | 'delete-chain';
    at: number;
  } | null = null;
  const blank: Array<[number, number]> = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.image;
    if ((w === '-t' || w === '--table') && words[i + 1]) {
      table = words[i + 1]!.image;
      blank.push([words[i]!.start, words[i + 1]!.end]);
      i++;
      continue;
    }
    if (/^--table=/.test(w)) {
      table = w.slice(8);
      blank.push([words[i]!.start, words[i]!.end]);
      continue;
    }
    if (/^(-w|--wait|-v|--verbose|-n|--numeric)$/.test(w)) {
      blank.push([words[i]!.start, words[i]!.end]);
      continue;
    }
    const kind = (
      {
        '-A': 'append',
        '--append': 'append',
        '-I': 'insert',
        '--insert': 'insert',
        '-D': 'delete',
        '--delete': 'delete',
        '-R': 'replace',
        '--replace': 'replace',
        '-P': 'policy',
        '--policy': 'policy',
        '-N': 'new-chain',
        '--new-chain': 'new-chain',
        '-F': 'flush',
        '--flush': 'flush',
        '-X': 'delete-chain',
        '--delete-chain': 'delete-chain',
      } as const
    )[w as '-A'];
    if (kind && !op) op = { kind, at: i };
  }
  if (!op)
    fail(
      file,
      line,
      (words[0]?.start ?? prog[0].length) + 1,
      'an iptables command virtables applies needs -A, -I, -D, -R, -P, -N, -F or -X (or -L/-S to say which table a listing below is from)',
    );
  const chainWord = words[op.at + 1];
  if (op.kind === 'flush')
    return {
      kind: 'flush',
      table,
      chain: chainWord && !chainWord.image.startsWith('-') ? chainWord.image : null,
      line,
      format: 'commands',
    };
  if (!chainWord) fail(file, line, words[op.at]!.end + 1, `'${words[op.at]!.image}' needs a chain name`);
  if (op.kind === 'policy') {
    const policy = words[op.at + 2];
    if (!policy || !['ACCEPT', 'DROP'].includes(policy.image))
      fail(file, line, (policy?.start ?? chainWord.end) + 1, 'a policy is ACCEPT or DROP');
    return { kind: 'policy', table, chain: chainWord.image, policy: policy.image, line, format: 'commands' };
  }
  if (op.kind === 'new-chain' || op.kind === 'delete-chain')
    return { kind: op.kind, table, chain: chainWord.image, line, format: 'commands' };
  // The rest of the line is the rule; it keeps its columns: the head becomes `-A CHAIN` padded with spaces.
  let restStart = chainWord.end;
  let position: number | null = null;
  const number = words[op.at + 2];
  if ((op.kind === 'insert' || op.kind === 'delete' || op.kind === 'replace') && number && /^\d+$/.test(number.image)) {
    position = Number(number.image);
    restStart = number.end;
  }
  if (op.kind === 'replace' && position === null)
    fail(file, line, chainWord.end + 2, "'-R CHAIN NUMBER rule' needs the number of the rule it replaces");
  if (op.kind === 'delete' && position !== null) {
    if (text.slice(restStart).trim() !== '')
      fail(file, line, restStart + 2, "'-D CHAIN NUMBER' takes nothing after the rule number");
    return { kind: 'delete-at', table, chain: chainWord.image, position, line, format: 'commands' };
  }
  const chars = text.split('');
  for (const [s, e] of blank) for (let k = s; k < e; k++) chars[k] = ' ';
  const head = `-A ${chainWord.image}`;
  const synthetic = head.padEnd(restStart, ' ') + chars.join('').slice(restStart);
  const { rule } = ruleFrom(synthetic, text, file, line, table);
  return {
    kind: op.kind,
    table,
    chain: chainWord.image,
    rule,
    position,
    line,
    format: 'commands',
    interfacesShown: true,
  };
}

// ---------------------------------------------------------------------------------------------
// `-L` rows back into rules

const ANY = new Set(['0.0.0.0/0', '::/0', 'anywhere']);

function negatable(cell: string): { negated: boolean; value: string } {
  return cell.startsWith('!') ? { negated: true, value: cell.slice(1) } : { negated: false, value: cell };
}

/** The options that print a `-L` row's match column (the part after the destination). */
function extrasToOptions(
  extras: string,
  target: string,
  file: string,
  line: number,
  col: number,
): { match: string; target: string } {
  const match: string[] = [];
  const targetOpts: string[] = [];
  let rest = extras.trim();
  const take = (re: RegExp): RegExpExecArray | null => {
    const m = re.exec(rest);
    if (m) rest = rest.slice(m[0].length).trimStart();
    return m;
  };
  while (rest !== '') {
    let m: RegExpExecArray | null;
    if ((m = take(/^\/\*\s?(.*?)\s?\*\//)))
      match.push(`-m comment --comment "${m[1]!.replace(/["\\]/g, (c) => `\\${c}`)}"`);
    else if ((m = take(/^state\s+(\S+)/))) match.push(`-m state --state ${m[1]}`);
    else if ((m = take(/^ctstate\s+(\S+)/))) match.push(`-m conntrack --ctstate ${m[1]}`);
    else if ((m = take(/^(tcp|udp)((?:\s+(?:!\s?)?(?:spts?|dpts?):\S+|\s+flags:\S+)+)/))) {
      // Words, with a `!` joined to the word after it (`! dpt:22`, `!dpt:22`).
      const words = m[2]!.trim().split(/\s+/);
      const items = words.flatMap((w, k) => (w === '!' ? [] : [words[k - 1] === '!' ? `!${w}` : w]));
      const parts = items.map((p) => {
        const neg = p.startsWith('!') ? '! ' : '';
        const body = neg ? p.slice(1) : p;
        const [key, ...value] = body.split(':');
        if (key === 'flags') {
          const [mask, comp] = value.join(':').split('/');
          return `${neg}--tcp-flags ${mask} ${comp}`;
        }
        return `${neg}--${key!.startsWith('s') ? 'sport' : 'dport'} ${value.join(':')}`;
      });
      match.push(`-m ${m[1]} ${parts.join(' ')}`);
    } else if (take(/^icmp\s+any\b/)) match.push('-m icmp --icmp-type any');
    else if ((m = take(/^(?:icmptype|icmp\s+type)\s+(\d+)(?:\s+code\s+(\d+))?/)))
      match.push(`-m icmp --icmp-type ${m[2] ? `${m[1]}/${m[2]}` : m[1] === '255' ? 'any' : m[1]}`); // type 255 is how -L prints 'any'
    else if ((m = take(/^icmp\s+([a-z-]+)/))) match.push(`-m icmp --icmp-type ${m[1]}`);
    else if ((m = take(/^multiport\s+(sports|dports|ports)\s+(\S+)/))) match.push(`-m multiport --${m[1]} ${m[2]}`);
    else if ((m = take(/^PHYSDEV\s+match((?:\s+!?\s?--physdev-[a-z-]+(?:\s+[^\s-]\S*)?)+)/)))
      match.push(`-m physdev${m[1]}`);
    else if ((m = take(/^MAC\s+(\S+)/))) match.push(`-m mac --mac-source ${m[1]}`);
    else if ((m = take(/^limit:\s+avg\s+(\S+)\s+burst\s+(\d+)/)))
      match.push(`-m limit --limit ${m[1]} --limit-burst ${m[2]}`);
    else if ((m = take(/^reject-with\s+(\S+)/))) targetOpts.push(`--reject-with ${m[1]}`);
    else if ((m = take(/^masq\s+ports:\s*(\S+)/))) targetOpts.push(`--to-ports ${m[1]}`);
    else if ((m = take(/^redir\s+ports\s+(\S+)/))) targetOpts.push(`--to-ports ${m[1]}`);
    else if ((m = take(/^to:(\S+)/)))
      targetOpts.push(`${target === 'SNAT' ? '--to-source' : '--to-destination'} ${m[1]}`);
    else if (take(/^CHECKSUM\s+fill/)) targetOpts.push('--checksum-fill');
    else {
      const word = rest.split(/\s+/)[0]!;
      fail(
        file,
        line,
        col + extras.indexOf(word),
        `cannot read '${word}' in this 'iptables -L' line; paste 'iptables -S' or iptables-save output for rules like this one`,
      );
    }
  }
  return { match: match.join(' '), target: targetOpts.join(' ') };
}

function listRow(state: State, cells: IToken[], lineText: string, file: string, line: number): Operation {
  const columns = state.columns!;
  const chain = state.listChain!;
  const values = cells.map((c) => c.image);
  const col = (name: string): number => columns.indexOf(name);
  // A rule without a target leaves its column empty: the protocol is where the target would be.
  const t = col('target');
  if (
    t >= 0 &&
    values.length > t + 1 &&
    /^(--|-f|!f)$/.test(values[t + 1]!) &&
    !/^(--|-f|!f)$/.test(values[t + 2] ?? '')
  )
    values.splice(t, 0, '');
  if (values.length < columns.length)
    fail(
      file,
      line,
      lineText.length + 1,
      `this 'iptables -L' row has ${values.length} columns; the heading names ${columns.length} (${columns.join(' ')})`,
    );
  const cell = (name: string): string => values[col(name)] ?? '';
  const cellStart = (name: string): number => {
    const i = col(name);
    const shift = values.length - cells.length;
    const token = cells[Math.max(0, i - (i > t ? shift : 0))];
    return (token?.startOffset ?? 0) + 1;
  };
  const parts: string[] = [`-A ${chain}`];
  const address = (name: 'source' | 'destination', flag: string): void => {
    const { negated, value } = negatable(cell(name));
    if (ANY.has(value)) return;
    if (!parseCidr(value))
      fail(
        file,
        line,
        cellStart(name),
        `'${value}' is not an address; list with -n (iptables -L -n) so addresses are not resolved to names`,
      );
    parts.push(`${negated ? '! ' : ''}${flag} ${value}`);
  };
  address('source', '-s');
  address('destination', '-d');
  if (col('in') >= 0) {
    for (const [name, flag] of [
      ['in', '-i'],
      ['out', '-o'],
    ] as const) {
      const { negated, value } = negatable(cell(name));
      if (value !== '*' && value !== 'any') parts.push(`${negated ? '! ' : ''}${flag} ${value}`);
    }
  }
  const prot = negatable(cell('prot'));
  if (prot.value !== 'all' && prot.value !== '0') parts.push(`${prot.negated ? '! ' : ''}-p ${prot.value}`);
  const opt = cell('opt');
  if (opt === '-f') parts.push('-f');
  if (opt === '!f') parts.push('! -f');
  const target = cell('target');
  // The match column: everything after the destination cell, as printed.
  const destIndex = col('destination');
  const destToken = cells[destIndex - (values.length - cells.length)];
  const extrasStart = destToken ? destToken.startOffset + destToken.image.length : lineText.length;
  const extras = extrasToOptions(lineText.slice(extrasStart), target, file, line, extrasStart + 1);
  if (extras.match) parts.push(extras.match);
  if (target) parts.push(`-j ${target}`);
  if (extras.target) parts.push(extras.target);
  const { rule } = ruleFrom(parts.join(' '), lineText, file, line, state.table);
  return {
    kind: 'append',
    table: state.table,
    chain,
    rule,
    position: null,
    line,
    format: 'list',
    interfacesShown: col('in') >= 0,
  };
}

/** `iptables -L` without a `-t` names no table: PREROUTING and POSTROUTING are nat's. */
function listTable(state: State, chain: string): string {
  if (state.explicit) return state.table;
  return chain === 'PREROUTING' || chain === 'POSTROUTING' ? 'nat' : 'filter';
}

// ---------------------------------------------------------------------------------------------

/** A shell script's lines that are not rules: control flow, assignments, output. */
const SHELL_WORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'do',
  'done',
  'while',
  'until',
  'case',
  'esac',
  'echo',
  'printf',
  'exit',
  'return',
  'set',
  'export',
  'local',
  'logger',
  'true',
  'false',
  'sleep',
  'shift',
  'test',
  '[',
  '[[',
  '{',
  '}',
  ';;',
  'exec',
  '.',
  'source',
  'trap',
  'wait',
]);
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const KEYWORD_PREFIX = /^(?:then|do|else)\s+/;
const VARIABLE = /\$\{?([A-Za-z_][A-Za-z0-9_]*|[0-9])\}?/g;

/** Is the text a shell script (a shebang, or an if/fi block) rather than a listing? */
function isScript(lines: readonly string[]): boolean {
  if (lines[0]?.startsWith('#!')) return true;
  return lines.some((l) => {
    const w = l.trim().split(/\s/, 1)[0] ?? '';
    return w === 'if' || w === 'fi' || w === 'esac';
  });
}

/** The first word of a shell line, when it is a shell word (not a command virtables reads). */
function shellWord(trimmed: string): boolean {
  const first = trimmed.split(/[\s;(]/, 1)[0] ?? '';
  return SHELL_WORDS.has(first) || first.endsWith(')') || /^[A-Za-z_][A-Za-z0-9_]*\(\)/.test(trimmed);
}

/** A normal diff's hunk header (`12a13,14`, `5c5`, `7d6`). */
const HUNK = /^\d+(?:,\d+)?[acd]\d+(?:,\d+)?$/;

/** The table a rule outside any `*table` line belongs to, from its target and chain. */
function tableOfRule(rule: Rule, chain: string): string {
  return tableOfTarget(rule.target?.name ?? '', chain);
}

/** The same guess from the words of `-A CHAIN …` before it is read (a nat target read as filter is refused). */
function tableOfWords(body: string): string {
  const words = body.split(/[ \t]+/);
  const a = words.findIndex((w) => w === '-A' || w === '--append');
  const j = words.findIndex((w) => w === '-j' || w === '--jump');
  return tableOfTarget(j >= 0 ? (words[j + 1] ?? '') : '', words[a + 1] ?? '');
}

function tableOfTarget(target: string, chain: string): string {
  if (['CHECKSUM', 'MARK', 'TOS', 'TTL', 'TPROXY', 'CONNMARK', 'DSCP', 'TCPMSS'].includes(target)) return 'mangle';
  if (['MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT', 'NETMAP'].includes(target)) return 'nat';
  return chain === 'PREROUTING' || chain === 'POSTROUTING' ? 'nat' : 'filter';
}

/** Reads a rule listing in any of the formats, line by line. */
export function parseListing(text: string, file: string): Listing {
  const operations: Operation[] = [];
  const formats = new Set<ListingFormat>();
  const state: State = { table: 'filter', explicit: false, listChain: null, columns: null };
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  // A shell line ending in a backslash goes on in the next one (after its `> ` prompt); the
  // joined line keeps the first line's number, the next one is left empty.
  // Each piece is looked at once: testing the joined line again after every piece was quadratic.
  const continues = (piece: string) => piece.trimEnd().endsWith('\\');
  for (let i = 0; i < lines.length; i++) {
    let next = i + 1;
    let piece = lines[i]!;
    if (!continues(piece) || next >= lines.length) continue;
    const joined: string[] = [];
    while (continues(piece) && next < lines.length) {
      joined.push(piece.trimEnd().slice(0, -1), ' ');
      piece = lines[next]!.replace(/^\s*>\s?/, '');
      lines[next++] = '';
    }
    joined.push(piece);
    lines[i] = joined.join('');
    i = next - 1;
  }
  listParser ??= new ListLineParser();
  const refused: string[] = [];
  const skipped: Array<{ line: number; text: string }> = [];
  const script = isScript(lines);
  const vars = new Map<string, string>();
  let diff: 'none' | 'normal' | 'unified' = 'none';
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i]!;
    if (raw.trim() === '') continue;
    if (script) {
      const t = raw.trim();
      const assigned = ASSIGNMENT.exec(t);
      if (assigned && !t.includes(' ')) {
        vars.set(assigned[1]!, assigned[2]!.replace(/^["']|["']$/g, ''));
        skipped.push({ line: lineNo, text: t });
        continue;
      }
      const prefix = KEYWORD_PREFIX.exec(t);
      const rest = prefix ? t.slice(prefix[0].length) : t;
      if (t.startsWith('#!') || (shellWord(t) && !(prefix && PROGRAM.test(rest)))) {
        skipped.push({ line: lineNo, text: t });
        continue;
      }
      // Keep the command's columns: the keyword before it becomes blanks; known variables are filled in.
      if (prefix) raw = raw.replace(prefix[0], ' '.repeat(prefix[0].length));
      let unknown: string | null = null;
      raw = raw.replace(VARIABLE, (whole: string, name: string) => vars.get(name) ?? ((unknown ??= whole), whole));
      if (unknown !== null) {
        skipped.push({ line: lineNo, text: `${t} (uses ${unknown}, which the script sets only when it runs)` });
        continue;
      }
    }
    const lineText = raw.trimEnd();
    const trimmed = lineText.trimStart();
    const indent = lineText.length - trimmed.length;

    // `diff before.save after.save` output: what was added (> or +) and removed (< or -).
    const promptDiff = PROMPT.exec(trimmed);
    if (/^diff(?:\s|$)/.test(promptDiff ? trimmed.slice(promptDiff[0].length) : trimmed)) {
      diff = 'normal';
      continue;
    }
    if (diff === 'none' && HUNK.test(trimmed)) diff = 'normal';
    if (diff === 'none' && trimmed.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) diff = 'unified';
    if (diff !== 'none') {
      if (
        HUNK.test(trimmed) ||
        trimmed === '---' ||
        trimmed.startsWith('@@') ||
        trimmed.startsWith('\\') ||
        (diff !== 'normal' && (trimmed.startsWith('--- ') || trimmed.startsWith('+++ ')))
      ) {
        if (trimmed.startsWith('--- ') || trimmed.startsWith('+++ ')) diff = 'unified';
        continue;
      }
      const mark = lineText[0]!;
      const added = diff === 'normal' ? mark === '>' : mark === '+';
      const removed = diff === 'normal' ? mark === '<' : mark === '-';
      const body = (diff === 'normal' ? lineText.slice(2) : lineText.slice(1)).trim();
      if (body.startsWith('*')) {
        state.table = body.slice(1).trim();
        state.explicit = true;
        continue;
      }
      if (!added && !removed) continue;
      if (!/^(\[\d+:\d+\]\s+)?(-A|--append)\s/.test(body)) continue;
      const at = lineText.indexOf(body);
      const padded = ' '.repeat(at) + body;
      let parsed = ruleFrom(padded, body, file, lineNo, state.explicit ? state.table : tableOfWords(body));
      const table = state.explicit ? state.table : tableOfRule(parsed.rule, parsed.chain);
      if (table !== parsed.rule.table) parsed = ruleFrom(padded, body, file, lineNo, table);
      formats.add('diff');
      operations.push({
        kind: added ? 'append' : 'delete',
        table,
        chain: parsed.chain,
        rule: parsed.rule,
        position: null,
        line: lineNo,
        format: 'diff',
        interfacesShown: true,
      });
      continue;
    }

    // A prompt or a comment naming a listing command says which table the lines below are from.
    const prompt = PROMPT.exec(trimmed);
    const afterPrompt = prompt ? trimmed.slice(prompt[0].length) : trimmed;
    if (PROGRAM.test(afterPrompt)) {
      const padded = ' '.repeat(indent + (prompt ? prompt[0].length : 0)) + afterPrompt;
      let op: ReturnType<typeof command>;
      try {
        op = command(padded, file, lineNo);
      } catch (e) {
        // iptables refuses this command and the shell goes on with the next: so does the reader.
        if (!(e instanceof InputError)) throw e;
        formats.add('commands');
        refused.push(e.message);
        continue;
      }
      if (op.kind === 'listing') {
        state.table = op.table;
        state.explicit = true;
        state.listChain = null;
        state.columns = null;
        continue;
      }
      formats.add('commands');
      operations.push(op);
      continue;
    }
    if (trimmed.startsWith('#')) continue;
    if (trimmed.startsWith('*')) {
      state.table = trimmed.slice(1).trim();
      state.explicit = true;
      formats.add('save');
      continue;
    }
    if (trimmed === 'COMMIT') continue;
    if (trimmed.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)/.exec(trimmed);
      if (!m) fail(file, lineNo, indent + 1, "a chain line is ':CHAIN POLICY [packets:bytes]'");
      const builtin = (BUILTIN_CHAINS[state.table] ?? []).includes(m[1]!);
      operations.push(
        builtin
          ? { kind: 'policy', table: state.table, chain: m[1]!, policy: m[2]!, line: lineNo, format: 'save' }
          : { kind: 'new-chain', table: state.table, chain: m[1]!, line: lineNo, format: 'save' },
      );
      formats.add('save');
      continue;
    }
    const sm = /^-(P|N)\s+(\S+)(?:\s+(\S+))?\s*$/.exec(trimmed);
    if (sm) {
      formats.add('list-rules');
      if (sm[1] === 'P')
        operations.push({
          kind: 'policy',
          table: state.table,
          chain: sm[2]!,
          policy: sm[3] ?? 'ACCEPT',
          line: lineNo,
          format: 'list-rules',
        });
      else
        operations.push({ kind: 'new-chain', table: state.table, chain: sm[2]!, line: lineNo, format: 'list-rules' });
      continue;
    }
    if (/^(\[\d+:\d+\]\s+)?(-A|--append|-I|--insert)\s/.test(trimmed)) {
      const insert = /^(\[\d+:\d+\]\s+)?(-I|--insert)\s/.test(trimmed);
      const { chain, rule } = ruleFrom(lineText, lineText, file, lineNo, state.table);
      formats.add(formats.has('save') ? 'save' : 'list-rules');
      operations.push({
        kind: insert ? 'insert' : 'append',
        table: state.table,
        chain,
        rule,
        position: null,
        line: lineNo,
        format: formats.has('save') ? 'save' : 'list-rules',
        interfacesShown: true,
      });
      continue;
    }

    // `iptables -L` output.
    const lexed = listLexer().tokenize(lineText);
    listParser.input = lexed.tokens;
    const ast = listParser.listLine();
    if (lexed.errors.length > 0 || listParser.errors.length > 0)
      fail(file, lineNo, indent + 1, 'not a rule listing line');
    if (ast.kind === 'chain') {
      state.listChain = ast.name;
      state.columns = null;
      if (!state.explicit) state.table = listTable(state, ast.name);
      formats.add('list');
      if (ast.policy)
        operations.push({
          kind: 'policy',
          table: state.table,
          chain: ast.name,
          policy: ast.policy,
          line: lineNo,
          format: 'list',
        });
      else if (!(BUILTIN_CHAINS[state.table] ?? []).includes(ast.name))
        operations.push({ kind: 'new-chain', table: state.table, chain: ast.name, line: lineNo, format: 'list' });
      continue;
    }
    if (ast.kind === 'columns' && ast.columns.includes('target')) {
      if (!state.listChain) fail(file, lineNo, indent + 1, "a column heading before any 'Chain NAME (policy …)' line");
      state.columns = ast.columns;
      continue;
    }
    if (state.listChain && state.columns) {
      operations.push(listRow(state, ast.kind === 'row' ? ast.cells : [], lineText, file, lineNo));
      continue;
    }
    fail(
      file,
      lineNo,
      indent + 1,
      `expected a rule: an iptables-save or 'iptables -S' line (-A CHAIN …), an iptables command, or 'iptables -L -n' output; found '${trimmed.split(/\s+/)[0]}'`,
    );
  }
  return { file, operations, formats, refused, skipped };
}

/** The rules a listing adds, with the table each belongs to. */
export function listedRules(listing: Listing): Array<Extract<Operation, { rule: Rule }>> {
  return listing.operations.filter(
    (o): o is Extract<Operation, { rule: Rule }> => o.kind === 'append' || o.kind === 'insert',
  );
}

/** Do all listed rules show their interfaces (`iptables -L` without -v does not)? */
export function showsInterfaces(listing: Listing): boolean {
  return listedRules(listing).every((o) => o.interfacesShown);
}
