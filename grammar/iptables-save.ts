// The iptables-save / ip6tables-save / iptables-restore grammar (iptables 1.3.x … 1.8.x,
// legacy and nft). Tokens first, then the line grammar, then the file structure as
// iptables-restore 1.8.9 reads it (tables, chains, COMMIT, the checks the kernel makes when a
// table is committed); turning a rule's words into fields, matches and a target lives in
// iptables-rule.ts.
//
// The format is line-oriented (iptables-restore reads it a line at a time), so each line is
// parsed on its own: memory stays flat on 100,000-rule dumps and every error names its line.
// Lines are lexed 128 a call (one call a line cost as much as the lexing), each line's tokens
// the same as lexed alone. A dump read only to be printed gives its rules to a RuleSink.

import {
  createToken,
  EmbeddedActionsParser,
  Lexer,
  type ILexingResult,
  type IToken,
  type TokenType,
} from './chevrotain.js';
import type { Chain, Comment, Counters, Dump, Family, Note, Rule, SourcePos, Table } from '../src/model/dump.js';
import { BUILTIN_CHAINS } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import { decodeText } from '../src/model/text.js';
import { assembleRules, closest, type RuleItem, type TableCheck } from './iptables-rule.js';
import { ALL_TARGET_NAMES, FOREIGN_TARGETS, STANDARD_TARGETS } from '../src/xt/registry.js';
import type { Hook } from '../src/xt/spec.js';
import { checkHeap } from '../src/model/limits.js';
import { pushAll } from '../src/model/lists.js';

// ---------------------------------------------------------------------------------------------
// Tokens

/** A pattern that only matches at the start of the line (each line is lexed on its own). */
function atLineStart(re: RegExp): { exec: (text: string, offset: number) => RegExpExecArray | null } {
  const sticky = new RegExp(re.source, 'y');
  return {
    exec(text, offset) {
      if (offset !== 0 && text.charCodeAt(offset - 1) !== 0x0a) return null;
      sticky.lastIndex = offset;
      return sticky.exec(text);
    },
  };
}

/** One space (nearly every gap between words): a single character, which the lexer compares without a regex. */
const Space = createToken({ name: 'Space', pattern: ' ', group: Lexer.SKIPPED });
const Spaces = createToken({
  name: 'Spaces',
  pattern: /[ \t\f\r]+/,
  group: Lexer.SKIPPED,
  start_chars_hint: [' ', '\t', '\f', '\r'],
});
const CommentLine = createToken({
  name: 'CommentLine',
  pattern: atLineStart(/#.*/),
  start_chars_hint: ['#'],
  line_breaks: false,
});
const TableHeader = createToken({
  name: 'TableHeader',
  pattern: atLineStart(/\*\S*/),
  start_chars_hint: ['*'],
  line_breaks: false,
});
const ChainHeader = createToken({
  name: 'ChainHeader',
  pattern: atLineStart(/:\S*/),
  start_chars_hint: [':'],
  line_breaks: false,
});
const Bang = createToken({ name: 'Bang', pattern: /!(?=[ \t\n]|(?![\s\S]))/ });
/** Every character that can start a Word: printable Latin-1, and one per 256-char block beyond. */
const WORD_START: number[] = [];
for (let c = 0x21; c < 0x10000; c += c < 0x100 ? 1 : 0x100) if (c !== 0x85 && c !== 0xa0) WORD_START.push(c);
/** A word as add_param_to_argv() cuts them: quoted parts (with `\` escapes) may sit anywhere in it. */
const Word = createToken({
  name: 'Word',
  pattern: /[^\s"]+(?:"(?:[^"\\\n]|\\[^\n])*"[^\s"]*)*|(?:"(?:[^"\\\n]|\\[^\n])*"[^\s"]*)+/,
  start_chars_hint: WORD_START,
});
/** A quote that never closes, taken to the end of the line: left to the lexer, it was retried at every later quote. */
const UnclosedQuote = createToken({ name: 'UnclosedQuote', pattern: /"(?:[^"\\\n]|\\.)*\\?/ });
// No longer_alt: each of these ends where a blank (or the end) follows, where a Word would end too,
// so a longer alternative never matched and trying one cost a second match and substring a token.
const Counter = createToken({ name: 'Counter', pattern: /\[[^\]\s:]*:[^\]\s]*\](?=\s|(?![\s\S]))/ });
const OptionName = createToken({ name: 'OptionName', pattern: /--?[A-Za-z][\w-]*(?=\s|(?![\s\S]))/ });
/** What `\s` matches (a word ends before one). */
function isBlank(c: number): boolean {
  return c <= 0x20
    ? c === 0x20 || (c >= 0x09 && c <= 0x0d)
    : c >= 0xa0 &&
        (c === 0xa0 ||
          c === 0x1680 ||
          (c >= 0x2000 && c <= 0x200a) ||
          c === 0x2028 ||
          c === 0x2029 ||
          c === 0x202f ||
          c === 0x205f ||
          c === 0x3000 ||
          c === 0xfeff);
}
/**
 * `-X` or `--long` standing alone (a blank or the end after it), compared by character codes: tried
 * before OptionName on every word starting with `-`, a regex's failed match cost as much as a token.
 */
function commandWord(letter: string, long: string): { exec: (text: string, offset: number) => [string] | null } {
  const short: [string] = [`-${letter}`];
  const dashed: [string] = [`--${long}`];
  const code = letter.charCodeAt(0);
  const ends = (text: string, at: number): boolean => at === text.length || isBlank(text.charCodeAt(at));
  return {
    exec(text, offset) {
      if (text.charCodeAt(offset) !== 0x2d) return null;
      const c = text.charCodeAt(offset + 1);
      if (c === code) return ends(text, offset + 2) ? short : null;
      if (c === 0x2d && text.startsWith(long, offset + 2)) return ends(text, offset + 2 + long.length) ? dashed : null;
      return null;
    },
  };
}
const Append = createToken({
  name: 'Append',
  pattern: commandWord('A', 'append'),
  start_chars_hint: ['-'],
  line_breaks: false,
});
const Insert = createToken({
  name: 'Insert',
  pattern: commandWord('I', 'insert'),
  start_chars_hint: ['-'],
  line_breaks: false,
});
const Commit = createToken({ name: 'Commit', pattern: /COMMIT(?=\s|(?![\s\S]))/ });

const allTokens: TokenType[] = [
  Space,
  Spaces,
  CommentLine,
  TableHeader,
  ChainHeader,
  Counter,
  Bang,
  Append,
  Insert,
  OptionName,
  Commit,
  Word,
  UnclosedQuote,
];

// Validated once by test/unit/lexers.test.ts, not at every start-up (chevrotain's checks cost tens of ms).
// Each is built when first used (tens of ms each): a big dump without CRs needs only the second.
const LEXER_OPTIONS = { positionTracking: 'onlyOffset', ensureOptimizations: true, skipValidations: true } as const;
let lineLexerInstance: InstanceType<typeof Lexer> | null = null;
/** Lexes one line. */
export function lineLexer(): InstanceType<typeof Lexer> {
  lineLexerInstance ??= new Lexer(allTokens, LEXER_OPTIONS);
  return lineLexerInstance;
}

/** The end of a line, for lexing many lines a call (no pattern above crosses one: a line lexes as it does alone). */
const LineEnd = createToken({ name: 'LineEnd', pattern: /\n/, line_breaks: true });
let batchLexerInstance: InstanceType<typeof Lexer> | null = null;
/** Lexes many lines, a LineEnd token after each. */
export function batchLexer(): InstanceType<typeof Lexer> {
  batchLexerInstance ??= new Lexer([LineEnd, ...allTokens], LEXER_OPTIONS);
  return batchLexerInstance;
}
/** Lines and characters lexed in one call: one call a line cost as much as the lexing itself. */
const BATCH_LINES = 128;
const BATCH_CHARS = 64 * 1024;

/** The first thing on a lexed line no token reads (an unclosed quote, a stray character), or null. */
export function lexProblem(lexed: ILexingResult, lineText: string): { offset: number; message: string } | null {
  const unclosed = lexed.tokens.find((t) => t.tokenType === UnclosedQuote);
  const error = lexed.errors[0];
  const offset = Math.min(unclosed ? unclosed.startOffset : Infinity, error ? error.offset : Infinity);
  if (offset === Infinity) return null;
  const ch = lineText[offset];
  return { offset, message: ch === '"' ? 'unterminated quoted string' : `unexpected character '${ch}'` };
}

// ---------------------------------------------------------------------------------------------
// The line grammar
//
//   line      := CommentLine | TableHeader | chainDecl | Commit | ruleLine
//   chainDecl := ChainHeader policy word*              (words after the policy: counters, ignored)
//   ruleLine  := Counter? (Append chain | Insert chain position?) word*
//   word      := any token (the rule's argv; iptables-rule.ts reads it as getopt would)

export type LineAst =
  | { kind: 'comment'; text: string }
  | { kind: 'table'; name: string; token: IToken; rest: IToken[] }
  | { kind: 'chain'; name: string; policy: string; counters: Counters | null; nameToken: IToken; policyToken: IToken }
  | { kind: 'commit'; rest: IToken[] }
  | {
      kind: 'rule';
      command: 'append' | 'insert';
      chain: string;
      chainToken: IToken;
      position: number | null;
      positionToken: IToken | null;
      counters: Counters | null;
      words: IToken[];
      wordsFrom: number;
      wordsTo: number;
    };

/** `[p:b]` as decimal text; null when either is not a number (iptables-restore ignores them without -c). */
function parseCounter(image: string): Counters | null {
  const colon = image.indexOf(':');
  const packets = image.slice(1, colon);
  const bytes = image.slice(colon + 1, -1);
  return /^\d+$/.test(packets) && /^\d+$/.test(bytes) ? { packets, bytes } : null;
}

/** A word without its quotes, the way add_param_to_argv() reads it (`\` escapes only inside quotes). */
export function unquoteWord(image: string): { text: string; quoted: boolean } {
  if (!image.includes('"')) return { text: image, quoted: false };
  let out = '';
  let open = false;
  for (let i = 0; i < image.length; i++) {
    const c = image[i]!;
    if (open && c === '\\' && i + 1 < image.length) {
      out += image[++i];
    } else if (c === '"') {
      open = !open;
    } else {
      out += c;
    }
  }
  return { text: out, quoted: true };
}

function itemOf(token: IToken): RuleItem {
  const image = token.image;
  if (!image.includes('"')) return { value: image, quoted: false, col: token.startOffset + 1 };
  const { text, quoted } = unquoteWord(image);
  return { value: text, quoted, col: token.startOffset + 1 };
}

/** A rule line's words as iptables' argv (quotes removed), with their columns. */
export function ruleItems(words: readonly IToken[], from = 0, to = words.length): RuleItem[] {
  const items: RuleItem[] = new Array(to - from);
  for (let i = from; i < to; i++) items[i - from] = itemOf(words[i]!);
  return items;
}

/** The objects of the words of the rule being read, reused line after line (see reusedItems). */
const itemPool: Array<{ value: string; quoted: boolean; col: number }> = [];
const pooledItems: RuleItem[] = [];

/**
 * ruleItems for a rule read at once, in objects the rule before had: assembleRules keeps no word
 * (its model copies what it takes), so 100,000 rules' words are a dozen objects, not a million.
 */
function reusedItems(words: readonly IToken[], from: number, to: number): RuleItem[] {
  const n = to - from;
  while (itemPool.length < n) itemPool.push({ value: '', quoted: false, col: 0 });
  pooledItems.length = n;
  for (let i = 0; i < n; i++) {
    const token = words[from + i]!;
    const item = itemPool[i]!;
    const image = token.image;
    if (!image.includes('"')) {
      item.value = image;
      item.quoted = false;
    } else {
      const { text, quoted } = unquoteWord(image);
      item.value = text;
      item.quoted = quoted;
    }
    item.col = token.startOffset + 1;
    pooledItems[i] = item;
  }
  return pooledItems;
}

class SaveLineParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 3, skipValidations: true });
    this.performSelfAnalysis();
  }

  public line = this.RULE('line', (): LineAst => {
    return this.OR([
      { ALT: () => ({ kind: 'comment', text: this.CONSUME(CommentLine).image }) },
      {
        ALT: () => {
          const token = this.CONSUME(TableHeader);
          const rest: IToken[] = [];
          this.MANY(() => rest.push(this.SUBRULE(this.anyToken)));
          return { kind: 'table', name: this.ACTION(() => token.image.slice(1)), token, rest };
        },
      },
      { ALT: () => this.SUBRULE(this.chainDecl) },
      {
        ALT: () => {
          this.CONSUME(Commit);
          const rest: IToken[] = [];
          this.MANY1(() => rest.push(this.SUBRULE1(this.anyToken)));
          return { kind: 'commit', rest };
        },
      },
      { ALT: () => this.SUBRULE(this.ruleLine) },
    ]);
  });

  private anyToken = this.RULE('anyToken', (): IToken =>
    this.OR([
      { ALT: () => this.CONSUME(Word) },
      { ALT: () => this.CONSUME(OptionName) },
      { ALT: () => this.CONSUME(Bang) },
      { ALT: () => this.CONSUME(Counter) },
      { ALT: () => this.CONSUME(Append) },
      { ALT: () => this.CONSUME(Insert) },
      { ALT: () => this.CONSUME(Commit) },
    ]),
  );

  private chainDecl = this.RULE('chainDecl', (): LineAst => {
    const nameToken = this.CONSUME(ChainHeader);
    const policyToken = this.SUBRULE(this.anyToken);
    const rest: IToken[] = [];
    this.MANY(() => rest.push(this.SUBRULE1(this.anyToken)));
    return {
      kind: 'chain',
      name: this.ACTION(() => nameToken.image.slice(1)),
      policy: policyToken.image,
      counters: this.ACTION(() => (rest[0] && rest[0].tokenType === Counter ? parseCounter(rest[0].image) : null)),
      nameToken,
      policyToken,
    };
  });

  private ruleLine = this.RULE('ruleLine', (): LineAst => {
    const counter = this.OPTION(() => this.CONSUME(Counter));
    let command: 'append' | 'insert' = 'append';
    let position: number | null = null;
    let positionToken: IToken | null = null;
    const chainToken = this.OR([
      {
        ALT: () => {
          this.CONSUME(Append);
          return this.SUBRULE(this.anyToken);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Insert);
          command = 'insert';
          const chain = this.SUBRULE1(this.anyToken);
          this.OPTION1({
            GATE: () => /^\d+$/.test(this.LA(1).image),
            DEF: () => {
              const token = this.CONSUME3(Word);
              this.ACTION(() => {
                position = Number(token.image);
                positionToken = token;
              });
            },
          });
          return chain;
        },
      },
    ]);
    const words: IToken[] = [];
    this.MANY(() => words.push(this.SUBRULE2(this.anyToken)));
    return {
      kind: 'rule',
      command,
      chain: chainToken.image,
      chainToken,
      position,
      positionToken,
      counters: this.ACTION(() => (counter ? parseCounter(counter.image) : null)),
      words,
      wordsFrom: 0,
      wordsTo: words.length,
    };
  });
}

let parserInstance: SaveLineParser | null = null;
export function lineParser(): SaveLineParser {
  parserInstance ??= new SaveLineParser();
  return parserInstance;
}

// ---------------------------------------------------------------------------------------------
// The file structure: `*table`, `:CHAIN POLICY [p:b]`, rules, `COMMIT`.

/** iptables-restore refuses longer lines; a longer one is almost certainly not a dump. */
export const MAX_LINE_LENGTH = 64 * 1024;

export interface ParseOptions {
  /** The name used in error messages and positions. */
  readonly file: string;
  /** Told every PROGRESS_LINES lines how far the parse is (the CLI's progress line). */
  readonly onProgress?: (lines: number, rules: number) => void;
  /** The family when the dump does not say (no `# Generated by ip6tables-save` line). */
  readonly family?: Family;
  /** Refuse what only older iptables accepted (`-d ! x`), as iptables-restore 1.8.9 does; else note it. */
  readonly strict?: boolean;
  /** A rule taken out of a larger table (the engine's derived rules): jumps to chains it does not declare are fine. */
  readonly fragment?: boolean;
  /** Takes the rules instead of the chains (a dump read only to be printed): see RuleSink. */
  readonly sink?: RuleSink;
}

/**
 * Where the rules of a dump read only to be printed go, in the order of their chains: the chains
 * then hold none (only the few COMMIT checks need are kept aside), so 100,000 rules are never held.
 */
export interface RuleSink {
  /** Called once, with the text read, before any rule. */
  begin(text: string): void;
  /**
   * One rule of a chain (`rules` is that chain's array, which stays the same object when the chain
   * is declared after its first rules); `lineStart` is where its line starts in the text, or -1.
   */
  add(rules: readonly Rule[], rule: Rule, lineStart: number): void;
  /** The dump is read again with its rules kept (it inserts rules with -I): forget every rule added. */
  reset(): void;
}

/** A dump with -I rules is read with its rules kept (the place of an inserted rule counts them). */
class ReadWhole extends Error {}

export const PROGRESS_LINES = 4096;

/** Tables the kernel has (iptable_* / ip6table_*), each with its built-in chains in hook order. */
const TABLES: ReadonlySet<string> = new Set(Object.keys(BUILTIN_CHAINS));

/** libiptc refuses user chains with these names (they are verdicts). */
const RESERVED_CHAINS = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN']);

/** The longest chain name (XT_EXTENSION_MAXNAMELEN - 1). */
export const MAX_CHAIN_NAME = 28;

function familyFromHeader(text: string): Family | null {
  if (/ip6tables(-nft|-legacy)?-save/.test(text)) return 'ipv6';
  if (/iptables(-nft|-legacy)?-save/.test(text)) return 'ipv4';
  return null;
}

/** What a rule's words say about the family, when the dump does not: addresses, ICMPv6, IPv6-only modules. */
function familyEvidence(items: readonly RuleItem[]): Family | null {
  for (let i = 0; i < items.length - 1; i++) {
    const w = items[i]!.value;
    const v = items[i + 1]!.value;
    if (w === '-s' || w === '-d' || w === '--source' || w === '--destination' || w === '--src' || w === '--dst') {
      if (v.includes(':')) return 'ipv6';
      if (/^\d/.test(v)) return 'ipv4';
    }
    if (w === '-p' || w === '--protocol') {
      const p = v.toLowerCase();
      if (p === 'icmpv6' || p === 'ipv6-icmp' || p === '58') return 'ipv6';
      if (p === 'icmp' && items.some((x) => x.value === '--icmp-type')) return 'ipv4';
    }
    if (w === '-m' && ['icmp6', 'ipv6header', 'frag', 'hbh', 'dst', 'rt', 'mh', 'eui64', 'hl', 'srh'].includes(v))
      return 'ipv6';
    if (w === '-j' && ['HL', 'DNPT', 'SNPT'].includes(v)) return 'ipv6';
    if (w === '-j' && ['TTL', 'ECN', 'CLUSTERIP', 'ULOG'].includes(v)) return 'ipv4';
    if (w === '--reject-with' && v.startsWith('icmp6-')) return 'ipv6';
    if (w === '--reject-with' && v.startsWith('icmp-')) return 'ipv4';
  }
  return null;
}

interface OpenTable {
  readonly table: Table;
  readonly chains: Map<string, Chain>;
  readonly pos: SourcePos;
  /** Rules waiting for the family to be known. */
  readonly pending: Array<() => void>;
  /** What COMMIT checks again (src/xt extensions limited to some chains, shared objects). */
  readonly checks: TableCheck[];
}

/** With a sink, what the chains keep for COMMIT's checks and the family (by the chains' rule arrays). */
interface Aside {
  /** Rules whose target COMMIT checks (jumps to chains, -g, targets src/xt does not know). */
  readonly jumps: Map<readonly Rule[], Rule[]>;
  /** The family of each chain's first rule with an address. */
  readonly families: Map<readonly Rule[], Family>;
}

export function parseSaveBytes(bytes: Uint8Array, options: ParseOptions): Dump {
  return parseSave(decodeText(options.file, bytes), options);
}

/** The first CR in [start, end) outside a quoted string and not the CR of a CRLF, or -1. */
function loneCrOutsideQuotes(text: string, start: number, end: number): number {
  let quoted = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x0d && !(i === end - 1 && end < text.length)) return i;
  }
  return -1;
}

export function parseSave(text: string, options: ParseOptions): Dump {
  const sink = options.sink;
  if (!sink) return readSave(text, options, null);
  try {
    sink.begin(text);
    return readSave(text, options, sink);
  } catch (e) {
    if (!(e instanceof ReadWhole)) throw e;
    sink.reset();
    return readSave(text, options, null);
  }
}

function readSave(text: string, options: ParseOptions, sink: RuleSink | null): Dump {
  const { file } = options;
  const tables: Table[] = [];
  const comments: Comment[] = [];
  const notes: Note[] = [];
  const dump: Dump = { file, family: null, tables, comments, notes };
  let family: Family | null = options.family ?? null;
  let current: OpenTable | null = null;
  /** Kernel objects shared by name across the dump's rules (hashlimit tables), with the first user. */
  const shared = new Map<string, { value: string; line: number }>();
  // Built for the first line the quick readers leave to it: most dumps have none.
  let parser: SaveLineParser | null = null;
  const fail = (line: number, col: number, message: string): never => {
    throw new InputError(file, line, col, message);
  };
  const aside: Aside | null = sink ? { jumps: new Map(), families: new Map() } : null;

  let lineNo = 0;
  let rules = 0;
  let start = 0;
  const length = text.length;
  const onProgress = options.onProgress;
  const flush = (open: OpenTable): void => {
    for (const run of open.pending.splice(0)) run();
  };
  /** Reads a rule line's words into rules and files them (made once, not a function per line). */
  const assemble = (
    open: OpenTable,
    chain: Chain,
    ast: Extract<LineAst, { kind: 'rule' }>,
    items: RuleItem[],
    line: number,
    lineText: string,
    lineStart: number,
  ): void => {
    const made: Rule[] = assembleRules({
      file,
      line,
      table: open.table.name,
      chain: chain.name,
      counters: ast.counters,
      items,
      text: lineText.trim(),
      family: family ?? 'ipv4',
      strict: options.strict,
      notes,
      tableChecks: open.checks,
    });
    rules += made.length;
    if (sink) {
      if (ast.command === 'insert') throw new ReadWhole();
      for (const r of made) keepAside(aside!, chain.rules, r, sink, lineStart);
      return;
    }
    if (ast.command === 'insert') {
      const at = ast.position === null ? 0 : ast.position - 1;
      if (at < 0 || at > chain.rules.length)
        fail(
          line,
          (ast.positionToken?.startOffset ?? ast.chainToken.startOffset) + 1,
          `cannot insert at position ${ast.position}: chain '${ast.chain}' has ${chain.rules.length} rules (iptables: "Index of insertion too big")`,
        );
      chain.rules.splice(at, 0, ...made);
    } else {
      for (const r of made) chain.rules.push(r);
    }
  };
  /** One line that is not blank, lexed: its tokens are tokens[from, to), their offsets from the line's start. */
  const readLine = (lineText: string, lineStart: number, tokens: IToken[], from: number, to: number): void => {
    let quick = quickRule(tokens, from, to) ?? quickHeader(tokens, from, to);
    if (quick === null) {
      const lineTokens = from === 0 && to === tokens.length ? tokens : tokens.slice(from, to);
      parser ??= lineParser();
      quick = parseLine(parser, lineTokens);
      if (quick === null) {
        const e = parser.errors[0]!;
        const token = e.token;
        const col =
          Number.isNaN(token.startOffset) || token.tokenType.name === 'EOF'
            ? lineText.length + 1
            : token.startOffset + 1;
        const found = token.tokenType.name === 'EOF' ? 'end of line' : `'${token.image}'`;
        fail(lineNo, col, describeSyntaxError(lineTokens, found));
      }
    }
    const ast: LineAst = quick!;
    switch (ast.kind) {
      case 'comment': {
        comments.push({ text: ast.text, pos: { line: lineNo, col: 1 } });
        if (family === null && dump.family === null) family = familyFromHeader(ast.text);
        break;
      }
      case 'table': {
        if (current)
          fail(
            lineNo,
            1,
            `table '${current.table.name}' (line ${current.pos.line}) is not closed with COMMIT before '*${ast.name}'`,
          );
        if (ast.name === '') fail(lineNo, 1, "table name missing after '*'");
        if (!TABLES.has(ast.name))
          fail(
            lineNo,
            2,
            `no table '${ast.name}' in the kernel (tables: ${[...TABLES].join(', ')})${hint(ast.name, TABLES)}`,
          );
        const pos = { line: lineNo, col: 1 };
        const table: Table = { name: ast.name, pos, chains: [] };
        const chains = new Map<string, Chain>();
        for (const name of BUILTIN_CHAINS[ast.name] ?? []) {
          const chain: Chain = { name, builtin: true, policy: 'ACCEPT', counters: null, pos: null, rules: [] };
          chains.set(name, chain);
        }
        current = { table, chains, pos, pending: [], checks: [] };
        break;
      }
      case 'chain': {
        if (!current) fail(lineNo, 1, `chain declaration ':${ast.name}' before any '*table' line`);
        const open = current!;
        if (ast.name === '') fail(lineNo, 1, "chain name missing after ':'");
        if (ast.name.length > MAX_CHAIN_NAME)
          fail(lineNo, 2, `chain name '${ast.name}' is ${ast.name.length} characters long (${MAX_CHAIN_NAME} at most)`);
        const existing = open.chains.get(ast.name);
        const pos = { line: lineNo, col: 2 };
        const builtin = existing?.builtin ?? false;
        if (!builtin && RESERVED_CHAINS.has(ast.name))
          fail(
            lineNo,
            2,
            `'${ast.name}' is a verdict, not a chain name (iptables-restore: "error creating chain … File exists")`,
          );
        if (!builtin && existing)
          fail(lineNo, 2, `chain '${ast.name}' declared twice (first at line ${existing.pos!.line})`);
        if (!builtin && ast.policy !== '-') {
          const other = Object.entries(BUILTIN_CHAINS)
            .filter(([, cs]) => cs.includes(ast.name))
            .map(([t]) => t);
          const why =
            other.length > 0
              ? `: table '${open.table.name}' has no built-in chain ${ast.name} (${other.join(', ')} do${other.length === 1 ? 'es' : ''})`
              : ` (only built-in chains of table '${open.table.name}' have policies; expected '-')`;
          fail(
            lineNo,
            ast.policyToken.startOffset + 1,
            `user chain '${ast.name}' cannot have policy '${ast.policy}'${why}`,
          );
        }
        if (builtin && !['ACCEPT', 'DROP', '-'].includes(ast.policy))
          fail(
            lineNo,
            ast.policyToken.startOffset + 1,
            `bad policy '${ast.policy}' for built-in chain '${ast.name}' (expected ACCEPT or DROP)`,
          );
        const policy = builtin ? (ast.policy === '-' ? existing!.policy : ast.policy) : null;
        const chain: Chain = {
          name: ast.name,
          builtin,
          policy,
          counters: ast.counters ?? (builtin ? existing!.counters : null),
          pos: existing?.pos ?? pos,
          rules: existing?.rules ?? [],
        };
        open.chains.set(ast.name, chain);
        break;
      }
      case 'commit': {
        if (!current) fail(lineNo, 1, "COMMIT without a '*table' line before it");
        // iptables-restore compares the whole line with "COMMIT\n": anything else there is read as a rule.
        if (ast.rest.length > 0)
          fail(
            lineNo,
            ast.rest[0]!.startOffset + 1,
            `unexpected '${ast.rest[0]!.image}' after COMMIT (iptables-restore reads that line as a rule and refuses it)`,
          );
        if (lineText !== 'COMMIT')
          fail(
            lineNo,
            lineText.indexOf('COMMIT') + 7,
            "blanks around 'COMMIT': iptables-restore 1.8.9 reads that line as a rule and refuses it (remove them)",
          );
        const open = current!;
        flush(open);
        finishTable(open, file, shared, options.fragment === true, notes, aside);
        // A table given twice: the kernel ends up with the last one (each COMMIT replaces the table).
        const again = tables.findIndex((t) => t.name === open.table.name);
        if (again >= 0) tables.splice(again, 1);
        tables.push(open.table);
        current = null;
        break;
      }
      case 'rule': {
        if (!current) fail(lineNo, 1, `rule before any '*table' line (expected '*filter', '*nat', … first)`);
        const open = current!;
        const chain = open.chains.get(ast.chain);
        if (!chain)
          fail(
            lineNo,
            ast.chainToken.startOffset + 1,
            `rule appended to chain '${ast.chain}', which table '${open.table.name}' does not declare (add ':${ast.chain} - [0:0]')`,
          );
        const line = lineNo;
        // Read now (the family known): the words of the line before are no longer used, and their objects take these.
        const items =
          family !== null
            ? reusedItems(ast.words, ast.wordsFrom, ast.wordsTo)
            : ruleItems(ast.words, ast.wordsFrom, ast.wordsTo);
        if (family === null) family = familyEvidence(items);
        if (family === null) {
          open.pending.push(() => assemble(open, chain!, ast, items, line, lineText, lineStart));
        } else {
          if (open.pending.length > 0) flush(open);
          assemble(open, chain!, ast, items, line, lineText, lineStart);
        }
        break;
      }
    }
  };
  /** Reads the line at `start` on its own (lexed alone); returns where the next line starts. */
  let nextLf = -1;
  let nextCr = -1;
  const readOneLine = (start: number): number => {
    // Found once and reused: searching again from every line start was quadratic in a file without them.
    if (nextLf < start) {
      nextLf = text.indexOf('\n', start);
      if (nextLf < 0) nextLf = length;
    }
    if (nextCr < start) {
      nextCr = text.indexOf('\r', start);
      if (nextCr < 0) nextCr = length;
    }
    let end = nextLf;
    let next = end + 1;
    // A lone CR ends a line too (a file with old Mac line endings), but not inside a quoted
    // string, where iptables-save prints it as it is and iptables-restore reads it back.
    if (nextCr < end - 1 || (nextCr < end && end === length)) {
      const cr = loneCrOutsideQuotes(text, start, end);
      if (cr >= 0) {
        end = cr;
        next = cr + 1;
      }
    }
    countLine();
    if (end - start > MAX_LINE_LENGTH)
      fail(
        lineNo,
        1,
        `line is ${end - start} characters long (more than ${MAX_LINE_LENGTH}); not an iptables-save dump`,
      );
    let lineText = text.slice(start, end);
    if (lineText.endsWith('\r')) lineText = lineText.slice(0, -1);
    if (lineText.trim() === '') return next;
    const lexed = lineLexer().tokenize(lineText);
    const problem = lexProblem(lexed, lineText);
    if (problem) fail(lineNo, problem.offset + 1, problem.message);
    readLine(lineText, -1, lexed.tokens, 0, lexed.tokens.length);
    return next;
  };
  const countLine = (): void => {
    lineNo++;
    if (lineNo % PROGRESS_LINES === 0) {
      onProgress?.(lineNo, rules);
      checkHeap(file, lineNo, `the dump (${rules} rules so far)`);
    }
  };
  /** Line ends of the batch being read (reused). */
  const ends: number[] = [];
  // Without CRs (nearly every dump), lines are lexed BATCH_LINES at a time, each line read from its
  // tokens as if lexed alone; a batch the lexer finds a problem in is read again a line at a time.
  const batched = text.indexOf('\r') < 0;
  while (start < length) {
    if (!batched) {
      start = readOneLine(start);
      continue;
    }
    ends.length = 0;
    let end = start;
    while (ends.length < BATCH_LINES && end < length && end - start < BATCH_CHARS) {
      let lf = text.indexOf('\n', end);
      if (lf < 0) lf = length;
      if (lf - end > MAX_LINE_LENGTH) break;
      ends.push(lf);
      end = lf + 1;
    }
    if (ends.length === 0) {
      start = readOneLine(start);
      continue;
    }
    const chunkEnd = Math.min(end, length);
    const lexed = batchLexer().tokenize(text.slice(start, chunkEnd));
    const tokens = lexed.tokens;
    if (lexed.errors.length > 0 || tokens.some((t) => t.tokenType === UnclosedQuote)) {
      while (start < chunkEnd) start = readOneLine(start);
      continue;
    }
    let t = 0;
    let lineStart = start;
    for (const lineEnd of ends) {
      countLine();
      const from = t;
      const offset = lineStart - start;
      while (t < tokens.length && tokens[t]!.tokenType !== LineEnd) tokens[t++]!.startOffset -= offset;
      const to = t;
      t++;
      if (to > from) readLine(text.slice(lineStart, lineEnd), lineStart, tokens, from, to);
      lineStart = lineEnd + 1;
    }
    start = end;
  }
  const open = current as OpenTable | null;
  if (open)
    fail(
      lineNo + 1,
      1,
      `unexpected end of input: table '${open.table.name}' (line ${open.pos.line}) is not closed with COMMIT (truncated dump?)`,
    );
  dump.family = family ?? inferFamily(dump, aside);
  return dump;
}

/** A rule line read without the parser (most lines of a dump): `[p:b] -A CHAIN word…`; null for anything else. */
function quickRule(tokens: readonly IToken[], from: number, to: number): LineAst | null {
  let i = from;
  let counters: Counters | null = null;
  if (tokens[i]?.tokenType === Counter) {
    counters = parseCounter(tokens[i]!.image);
    i++;
  }
  if (i >= to || tokens[i]!.tokenType !== Append) return null;
  const chainToken = i + 1 < to ? tokens[i + 1] : undefined;
  if (!chainToken || (chainToken.tokenType !== Word && chainToken.tokenType !== OptionName)) return null;
  // The words are the batch's tokens [i + 2, to): no copy of them.
  return {
    kind: 'rule',
    command: 'append',
    chain: chainToken.image,
    chainToken,
    position: null,
    positionToken: null,
    counters,
    words: tokens as IToken[],
    wordsFrom: i + 2,
    wordsTo: to,
  };
}

/** The tokens the grammar's `anyToken` takes: after a header, every token of the line must be one. */
const ANY_TOKEN: ReadonlySet<TokenType> = new Set([Word, OptionName, Bang, Counter, Append, Insert, Commit]);

function allAny(tokens: readonly IToken[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!ANY_TOKEN.has(tokens[i]!.tokenType)) return false;
  return true;
}

/**
 * A comment, `*table`, `:CHAIN POLICY [p:b]` or `COMMIT` line read without the parser, exactly as its
 * `line` rule reads it (test/unit/quick-lines.test.ts compares the two on every corpus line); null for
 * anything else, which the parser reads, and refuses in its own words.
 */
export function quickHeader(tokens: readonly IToken[], from: number, to: number): LineAst | null {
  const first = tokens[from];
  if (first === undefined || from >= to) return null;
  switch (first.tokenType) {
    case CommentLine:
      return to - from === 1 ? { kind: 'comment', text: first.image } : null;
    case TableHeader:
      return allAny(tokens, from + 1, to)
        ? { kind: 'table', name: first.image.slice(1), token: first, rest: tokens.slice(from + 1, to) }
        : null;
    case ChainHeader: {
      const policyToken = tokens[from + 1];
      if (policyToken === undefined || from + 1 >= to || !allAny(tokens, from + 1, to)) return null;
      const counter = from + 2 < to ? tokens[from + 2]! : null;
      return {
        kind: 'chain',
        name: first.image.slice(1),
        policy: policyToken.image,
        counters: counter?.tokenType === Counter ? parseCounter(counter.image) : null,
        nameToken: first,
        policyToken,
      };
    }
    case Commit:
      return allAny(tokens, from + 1, to) ? { kind: 'commit', rest: tokens.slice(from + 1, to) } : null;
    default:
      return null;
  }
}

/** The parser's reading of a line; null (with parser.errors set) when it does not parse. */
export function parseLine(parser: SaveLineParser, tokens: IToken[]): LineAst | null {
  parser.input = tokens;
  const ast = parser.line();
  return parser.errors.length > 0 ? null : ast;
}

function hint(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c ? ` — did you mean '${c}'?` : '';
}

function describeSyntaxError(tokens: IToken[], found: string): string {
  const first = tokens[0];
  if (!first) return 'empty line';
  switch (first.tokenType) {
    case ChainHeader:
      return `expected a policy after the chain name (':CHAIN POLICY [packets:bytes]'), found ${found}`;
    case Counter:
    case Append:
    case Insert:
      return `expected a chain name and options ('-A CHAIN [options]'), found ${found}`;
    case Commit:
      return `unexpected ${found} after COMMIT`;
    case TableHeader:
      return `unexpected ${found} after the table name`;
    default:
      if (first.tokenType === OptionName)
        return `unsupported command '${first.image}' (a dump holds '*table', ':CHAIN', '-A' rules and COMMIT)`;
      return `expected '*table', ':CHAIN POLICY', '-A CHAIN …', 'COMMIT' or '# comment', found '${first.image}'`;
  }
}

/**
 * What the kernel checks when a table is committed: every jump goes to a chain of the table
 * (or is a target), no chain reaches itself through -j/-g (ELOOP), and extensions with chain
 * restrictions sit only in chains reached from the built-in chains they allow. Then the
 * chains in their order: built-in first, in hook order, then user chains as declared.
 */
function finishTable(
  open: OpenTable,
  file: string,
  shared: Map<string, { value: string; line: number }>,
  fragment: boolean,
  notes: Note[],
  aside: Aside | null,
): void {
  const { table, chains } = open;
  /** The rules of a chain COMMIT checks the targets of (with a sink, those kept aside: the others pass). */
  const rulesOf = (chain: Chain): readonly Rule[] => (aside ? (aside.jumps.get(chain.rules) ?? []) : chain.rules);
  const fail = (line: number, col: number, message: string): never => {
    throw new InputError(file, line, col, message);
  };
  const userChains = [...chains.values()].filter((c) => !c.builtin);
  // Targets: verdicts, extensions, declared chains.
  for (const chain of chains.values()) {
    for (const rule of rulesOf(chain)) {
      const t = rule.target;
      if (!t) continue;
      if (t.goto) {
        if (!fragment && (!chains.has(t.name) || chains.get(t.name)!.builtin)) {
          if (STANDARD_TARGETS.has(t.name))
            fail(rule.line, t.col!, `'-g ${t.name}': -g goes to a user chain; use '-j ${t.name}'`);
          fail(
            rule.line,
            t.col!,
            `'-g ${t.name}': table '${table.name}' has no user chain '${t.name}'${hint(
              t.name,
              userChains.map((c) => c.name),
            )}`,
          );
        }
        continue;
      }
      if (t.validated || STANDARD_TARGETS.has(t.name)) continue;
      const target = chains.get(t.name);
      if (target) {
        if (target.builtin)
          fail(rule.line, t.col!, `'-j ${t.name}': a rule cannot jump to the built-in chain ${t.name}`);
        if (t.options.length > 0)
          fail(
            rule.line,
            t.options[0]!.col ?? t.col!,
            `unknown option '${t.options[0]!.name}' ('${t.name}' is a chain; a jump to a chain takes no options)`,
          );
        (t as { validated?: boolean }).validated = true;
        continue;
      }
      if (fragment) continue;
      if (t.options.length > 0 || FOREIGN_TARGETS.has(t.name)) {
        notes.push({
          line: rule.line,
          col: t.col!,
          kind: 'not-validated',
          message: `target '${t.name}' is not one iptables 1.8.9 ships and no chain of table '${table.name}'; carried through verbatim, not validated${hint(t.name, ALL_TARGET_NAMES)}`,
        });
        continue;
      }
      const names = [
        ...STANDARD_TARGETS,
        ...userChains.map((c) => c.name),
        'REJECT',
        'LOG',
        'MASQUERADE',
        'DNAT',
        'SNAT',
      ];
      fail(
        rule.line,
        t.col!,
        `'-j ${t.name}': no chain '${t.name}' in table '${table.name}' and no iptables 1.8.9 target of that name${hint(t.name, names)}`,
      );
    }
  }
  // Reachability: which built-in chains (hooks) reach each chain, and loops.
  const reached = new Map<string, Set<Hook>>();
  const edges = new Map<string, Array<{ to: string; line: number; col: number }>>();
  for (const chain of chains.values()) {
    const out: Array<{ to: string; line: number; col: number }> = [];
    for (const rule of rulesOf(chain)) {
      const t = rule.target;
      if (
        t &&
        (t.goto || (t.canonical === undefined && !STANDARD_TARGETS.has(t.name))) &&
        chains.has(t.name) &&
        !chains.get(t.name)!.builtin
      )
        out.push({ to: t.name, line: rule.line, col: t.col! });
    }
    edges.set(chain.name, out);
  }
  const state = new Map<string, 'active' | 'done'>();
  // Depth first without recursion (10,000 chains deep load in the kernel): the path is one shared stack.
  const visit = (root: string): void => {
    const path: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    state.set(root, 'active');
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const out = edges.get(top.name) ?? [];
      if (top.next >= out.length) {
        state.set(top.name, 'done');
        path.pop();
        continue;
      }
      const e = out[top.next++]!;
      const s = state.get(e.to);
      if (s === 'active') {
        const names = path.map((p) => p.name);
        const cycle = [...names.slice(names.indexOf(e.to)), e.to];
        fail(
          e.line,
          e.col,
          `loop: ${cycle.join(' -> ')} (the kernel refuses the table: "Too many levels of symbolic links")`,
        );
      }
      if (s === undefined) {
        state.set(e.to, 'active');
        path.push({ name: e.to, next: 0 });
      }
    }
  };
  // The kernel walks the chains from the built-in ones (mark_source_chains): a loop nothing reaches is loaded.
  for (const builtin of BUILTIN_CHAINS[table.name] ?? []) if (!state.has(builtin)) visit(builtin);
  for (const builtin of BUILTIN_CHAINS[table.name] ?? []) {
    const hook = builtin as Hook;
    const stack = [builtin];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const set = reached.get(name) ?? new Set<Hook>();
      set.add(hook);
      reached.set(name, set);
      for (const e of edges.get(name) ?? []) stack.push(e.to);
    }
  }
  // Extensions allowed only from some hooks (the kernel checks them against every hook reaching
  // the rule), and objects the rules share by name (a later rule must agree with the first).
  for (const { rule, ext, given, col } of open.checks) {
    const what = ext.kind === 'match' ? `match '${ext.name}'` : `target '${ext.name}'`;
    const hooks = reached.get(rule.chain);
    const via =
      rule.chain === '' || (BUILTIN_CHAINS[table.name] ?? []).includes(rule.chain)
        ? ''
        : ` (chain ${rule.chain} is reached from ${[...(hooks ?? [])].join(', ')})`;
    if (hooks && ext.hooks) {
      const bad = [...hooks].filter((h) => !ext.hooks!.includes(h));
      if (bad.length > 0)
        fail(rule.line, col, `${what} is only valid in ${ext.hooks.join(', ')}, not ${bad.join(', ')}${via}`);
    }
    const problem = hooks ? ext.hookCheck?.(given, hooks) : null;
    if (problem) fail(rule.line, col, `${what}: ${problem}${via}`);
    if (ext.shared) {
      const key = ext.shared.key(given);
      const value = ext.shared.value(given);
      const first = shared.get(key);
      if (!first) shared.set(key, { value, line: rule.line });
      else if (first.value !== value)
        fail(rule.line, col, `${ext.shared.why} (line ${first.line} is ${first.value}, this rule is ${value})`);
    }
  }
  const builtins = (BUILTIN_CHAINS[table.name] ?? []).flatMap((n) => chains.get(n) ?? []);
  pushAll(pushAll(table.chains, builtins), userChains);
}

/** A rule handed to the sink; what COMMIT and the family need of it is kept aside. */
function keepAside(aside: Aside, rules: readonly Rule[], rule: Rule, sink: RuleSink, lineStart: number): void {
  const t = rule.target;
  if (t && (t.goto || (t.canonical === undefined && !STANDARD_TARGETS.has(t.name)))) {
    const jumps = aside.jumps.get(rules);
    if (jumps) jumps.push(rule);
    else aside.jumps.set(rules, [rule]);
  }
  const cidr = rule.source ?? rule.destination;
  if (cidr && !aside.families.has(rules)) aside.families.set(rules, cidr.family === 6 ? 'ipv6' : 'ipv4');
  sink.add(rules, rule, lineStart);
}

function inferFamily(dump: Dump, aside: Aside | null): Family | null {
  for (const table of dump.tables) {
    for (const chain of table.chains) {
      if (aside) {
        const family = aside.families.get(chain.rules);
        if (family) return family;
        continue;
      }
      for (const rule of chain.rules) {
        const cidr = rule.source ?? rule.destination;
        if (cidr) return cidr.family === 6 ? 'ipv6' : 'ipv4';
      }
    }
  }
  return null;
}
