// The iptables-save / ip6tables-save / iptables-restore grammar (iptables 1.3.x … 1.8.x,
// legacy and nft). Tokens first, then the line grammar, then the file structure; turning a
// rule's options into common fields, matches and a target lives in iptables-rule.ts.
//
// The format is line-oriented (iptables-restore reads it a line at a time), so each line is
// lexed and parsed on its own: memory stays flat on 100,000-rule dumps and every error
// names its line.

import { createToken, EmbeddedActionsParser, Lexer, type ILexingResult, type IToken, type TokenType } from './chevrotain.js';
import type { Chain, Comment, Counters, Dump, Family, Rule, SourcePos, Table } from '../src/model/dump.js';
import { BUILTIN_CHAINS } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import { decodeText } from '../src/model/text.js';
import { assembleRule, type RawOption } from './iptables-rule.js';
import { checkHeap } from '../src/model/limits.js';
import { pushAll } from '../src/model/lists.js';

// ---------------------------------------------------------------------------------------------
// Tokens

/** A pattern that only matches at the start of the line (each line is lexed on its own). */
function atLineStart(re: RegExp): { exec: (text: string, offset: number) => RegExpExecArray | null } {
  const sticky = new RegExp(re.source, 'y');
  return {
    exec(text, offset) {
      if (offset !== 0) return null;
      sticky.lastIndex = 0;
      return sticky.exec(text);
    },
  };
}

const Spaces = createToken({ name: 'Spaces', pattern: /[ \t\f\r]+/, group: Lexer.SKIPPED, start_chars_hint: [' ', '\t', '\f', '\r'] });
const CommentLine = createToken({ name: 'CommentLine', pattern: atLineStart(/#.*/), start_chars_hint: ['#'], line_breaks: false });
const TableHeader = createToken({ name: 'TableHeader', pattern: atLineStart(/\*\S*/), start_chars_hint: ['*'], line_breaks: false });
const ChainHeader = createToken({ name: 'ChainHeader', pattern: atLineStart(/:\S*/), start_chars_hint: [':'], line_breaks: false });
const Counter = createToken({ name: 'Counter', pattern: /\[\d+:\d+\]/ });
const Bang = createToken({ name: 'Bang', pattern: /!(?=[ \t]|(?![\s\S]))/ });
const Quoted = createToken({ name: 'Quoted', pattern: /"(?:[^"\\]|\\.)*"/ });
/** A quote that never closes, taken to the end of the line: left to the lexer, it was retried at every later quote. */
const UnclosedQuote = createToken({ name: 'UnclosedQuote', pattern: /"(?:[^"\\]|\\.)*\\?/ });
/** Every character that can start a Word: printable Latin-1 but `"`, and one per 256-char block beyond. */
const WORD_START: number[] = [];
for (let c = 0x21; c < 0x10000; c += c < 0x100 ? 1 : 0x100) if (c !== 0x22 && c !== 0x85 && c !== 0xa0) WORD_START.push(c);
const Word = createToken({ name: 'Word', pattern: /[^\s"]+/, start_chars_hint: WORD_START });
const OptionName = createToken({ name: 'OptionName', pattern: /--?[A-Za-z][\w-]*(?=[\s"]|(?![\s\S]))/, longer_alt: Word });
const Append = createToken({ name: 'Append', pattern: /-A(?=\s|(?![\s\S]))|--append(?=\s|(?![\s\S]))/, longer_alt: OptionName });
const Insert = createToken({ name: 'Insert', pattern: /-I(?=\s|(?![\s\S]))|--insert(?=\s|(?![\s\S]))/, longer_alt: OptionName });
const Commit = createToken({ name: 'Commit', pattern: /COMMIT(?=\s|(?![\s\S]))/, longer_alt: Word });

const allTokens: TokenType[] = [Spaces, CommentLine, TableHeader, ChainHeader, Counter, Bang, Quoted, UnclosedQuote, Append, Insert, OptionName, Commit, Word];

export const lineLexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: true });

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
//   chainDecl := ChainHeader policy Counter?
//   ruleLine  := Counter? (Append chain | Insert chain position?) option*
//   option    := Bang? OptionName argument*
//   argument  := Word | Quoted | Bang Word          (a Bang before a value: 1.3.x `-d ! x`)

export type LineAst =
  | { kind: 'comment'; text: string }
  | { kind: 'table'; name: string; token: IToken }
  | { kind: 'chain'; name: string; policy: string; counters: Counters | null; nameToken: IToken; policyToken: IToken }
  | { kind: 'commit' }
  | { kind: 'rule'; command: 'append' | 'insert'; chain: string; chainToken: IToken; position: number | null; counters: Counters | null; options: RawOption[] }
  | { kind: 'blank' };

/** Options whose single value is free text and may itself begin with `-` (`--comment -x`). */
const FREE_TEXT_OPTIONS = new Set(['--comment', '--log-prefix', '--nflog-prefix', '--string', '--name', '--hashlimit-name', '--set-name']);

function parseCounter(image: string): Counters {
  const colon = image.indexOf(':');
  return { packets: image.slice(1, colon), bytes: image.slice(colon + 1, -1) };
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
          return { kind: 'table', name: this.ACTION(() => token.image.slice(1)), token };
        },
      },
      { ALT: () => this.SUBRULE(this.chainDecl) },
      {
        ALT: () => {
          this.CONSUME(Commit);
          return { kind: 'commit' };
        },
      },
      { ALT: () => this.SUBRULE(this.ruleLine) },
    ]);
  });

  private chainDecl = this.RULE('chainDecl', (): LineAst => {
    const nameToken = this.CONSUME(ChainHeader);
    const policyToken = this.OR([{ ALT: () => this.CONSUME(Word) }, { ALT: () => this.CONSUME(OptionName) }]);
    const counter = this.OPTION(() => this.CONSUME(Counter));
    return {
      kind: 'chain',
      name: this.ACTION(() => nameToken.image.slice(1)),
      policy: policyToken.image,
      counters: this.ACTION(() => (counter ? parseCounter(counter.image) : null)),
      nameToken,
      policyToken,
    };
  });

  private ruleLine = this.RULE('ruleLine', (): LineAst => {
    const counter = this.OPTION(() => this.CONSUME(Counter));
    let command: 'append' | 'insert' = 'append';
    let position: number | null = null;
    const chainToken = this.OR([
      {
        ALT: () => {
          this.CONSUME(Append);
          return this.CONSUME1(Word);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Insert);
          command = 'insert';
          const chain = this.CONSUME2(Word);
          this.OPTION1({
            GATE: () => /^\d+$/.test(this.LA(1).image),
            DEF: () => {
              const token = this.CONSUME3(Word);
              this.ACTION(() => (position = Number(token.image)));
            },
          });
          return chain;
        },
      },
    ]);
    const options: RawOption[] = [];
    this.MANY(() => options.push(this.SUBRULE(this.ruleOption)));
    return { kind: 'rule', command, chain: chainToken.image, chainToken, position, counters: this.ACTION(() => (counter ? parseCounter(counter.image) : null)), options };
  });

  private ruleOption = this.RULE('ruleOption', (): RawOption => {
    const bang = this.OPTION(() => this.CONSUME(Bang));
    const nameToken = this.CONSUME(OptionName);
    const args: Array<{ token: IToken; quoted: boolean }> = [];
    let negatedAfter = false;
    // A free-text option takes its one value whatever it looks like.
    this.OPTION2({
      GATE: () => FREE_TEXT_OPTIONS.has(nameToken.image) && this.LA(1).tokenType === OptionName,
      DEF: () => {
        const t = this.CONSUME1(OptionName);
        args.push({ token: t, quoted: false });
      },
    });
    this.MANY({
      // A Bang belongs to this option only when a value follows it (`-d ! 10.0.0.0/8`);
      // before another option it negates that one (`-p tcp ! --dport 22`).
      GATE: () => this.LA(1).tokenType !== Bang || this.LA(2).tokenType === Word || this.LA(2).tokenType === Quoted,
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              this.CONSUME1(Bang);
              negatedAfter = true;
            },
          },
          { ALT: () => args.push({ token: this.CONSUME2(Word), quoted: false }) },
          { ALT: () => args.push({ token: this.CONSUME(Quoted), quoted: true }) },
        ]);
      },
    });
    return { nameToken, negatedBefore: bang !== undefined, negatedAfter, args };
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
}

export const PROGRESS_LINES = 4096;

function familyFromHeader(text: string): Family | null {
  if (/ip6tables(-nft|-legacy)?-save/.test(text)) return 'ipv6';
  if (/iptables(-nft|-legacy)?-save/.test(text)) return 'ipv4';
  return null;
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
  const { file } = options;
  const tables: Table[] = [];
  const comments: Comment[] = [];
  const dump: Dump = { file, family: null, tables, comments };
  let current: { table: Table; chains: Map<string, Chain>; pos: SourcePos } | null = null;
  const parser = lineParser();
  const fail = (line: number, col: number, message: string): never => {
    throw new InputError(file, line, col, message);
  };

  let lineNo = 0;
  let rules = 0;
  let start = 0;
  const length = text.length;
  const onProgress = options.onProgress;
  let nextLf = -1;
  let nextCr = -1;
  while (start < length) {
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
    lineNo++;
    if (lineNo % PROGRESS_LINES === 0) {
      onProgress?.(lineNo, rules);
      checkHeap(file, lineNo, `the dump (${rules} rules so far)`);
    }
    if (end - start > MAX_LINE_LENGTH) fail(lineNo, 1, `line is ${end - start} characters long (more than ${MAX_LINE_LENGTH}); not an iptables-save dump`);
    let lineText = text.slice(start, end);
    start = next;
    if (lineText.endsWith('\r')) lineText = lineText.slice(0, -1);
    if (lineText.trim() === '') continue;

    const lexed = lineLexer.tokenize(lineText);
    const problem = lexProblem(lexed, lineText);
    if (problem) fail(lineNo, problem.offset + 1, problem.message);
    parser.input = lexed.tokens;
    const ast = parser.line();
    if (parser.errors.length > 0) {
      const e = parser.errors[0]!;
      const token = e.token;
      const col = Number.isNaN(token.startOffset) || token.tokenType.name === 'EOF' ? lineText.length + 1 : token.startOffset + 1;
      const found = token.tokenType.name === 'EOF' ? 'end of line' : `'${token.image}'`;
      fail(lineNo, col, describeSyntaxError(lexed.tokens, found));
    }
    switch (ast.kind) {
      case 'blank':
        break;
      case 'comment': {
        comments.push({ text: ast.text, pos: { line: lineNo, col: 1 } });
        dump.family ??= familyFromHeader(ast.text);
        break;
      }
      case 'table': {
        if (current) fail(lineNo, 1, `table '${current.table.name}' (line ${current.pos.line}) is not closed with COMMIT before '*${ast.name}'`);
        if (ast.name === '') fail(lineNo, 1, "table name missing after '*'");
        const pos = { line: lineNo, col: 1 };
        const table: Table = { name: ast.name, pos, chains: [] };
        const chains = new Map<string, Chain>();
        for (const name of BUILTIN_CHAINS[ast.name] ?? []) {
          const chain: Chain = { name, builtin: true, policy: 'ACCEPT', counters: null, pos: null, rules: [] };
          chains.set(name, chain);
        }
        current = { table, chains, pos };
        tables.push(table);
        break;
      }
      case 'chain': {
        if (!current) fail(lineNo, 1, `chain declaration ':${ast.name}' before any '*table' line`);
        const open = current!;
        if (ast.name === '') fail(lineNo, 1, "chain name missing after ':'");
        const existing = open.chains.get(ast.name);
        const pos = { line: lineNo, col: 2 };
        if (existing && existing.pos) fail(lineNo, 2, `chain '${ast.name}' declared twice (first at line ${existing.pos.line})`);
        const builtin = existing?.builtin ?? false;
        if (!builtin && ast.policy !== '-') fail(lineNo, ast.policyToken.startOffset + 1, `user chain '${ast.name}' cannot have policy '${ast.policy}' (only built-in chains of table '${open.table.name}' have policies; expected '-')`);
        if (builtin && !['ACCEPT', 'DROP', '-'].includes(ast.policy)) fail(lineNo, ast.policyToken.startOffset + 1, `bad policy '${ast.policy}' for built-in chain '${ast.name}' (expected ACCEPT or DROP)`);
        const chain: Chain = { name: ast.name, builtin, policy: builtin ? (ast.policy === '-' ? null : ast.policy) : null, counters: ast.counters, pos, rules: existing?.rules ?? [] };
        open.chains.set(ast.name, chain);
        break;
      }
      case 'commit': {
        if (!current) fail(lineNo, 1, "COMMIT without a '*table' line before it");
        finishTable(current!.table, current!.chains);
        current = null;
        break;
      }
      case 'rule': {
        if (!current) fail(lineNo, 1, `rule before any '*table' line (expected '*filter', '*nat', … first)`);
        const open = current!;
        const chain = open.chains.get(ast.chain);
        if (!chain) fail(lineNo, ast.chainToken.startOffset + 1, `rule appended to chain '${ast.chain}', which table '${open.table.name}' does not declare (add ':${ast.chain} - [0:0]')`);
        const rule: Rule = assembleRule({
          file,
          line: lineNo,
          table: open.table.name,
          chain: ast.chain,
          counters: ast.counters,
          options: ast.options,
          text: lineText.trim(),
        });
        rules++;
        if (ast.command === 'insert') {
          const at = ast.position === null ? 0 : ast.position - 1;
          if (at < 0 || at > chain!.rules.length) fail(lineNo, ast.chainToken.startOffset + 1, `cannot insert at position ${ast.position}: chain '${ast.chain}' has ${chain!.rules.length} rules`);
          chain!.rules.splice(at, 0, rule);
        } else {
          chain!.rules.push(rule);
        }
        break;
      }
    }
  }
  if (current) fail(lineNo + 1, 1, `unexpected end of input: table '${current.table.name}' (line ${current.pos.line}) is not closed with COMMIT (truncated dump?)`);
  if (dump.family === null) dump.family = inferFamily(dump);
  return dump;
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
      if (first.tokenType === OptionName) return `unsupported command '${first.image}' (a dump holds '*table', ':CHAIN', '-A' rules and COMMIT)`;
      return `expected '*table', ':CHAIN POLICY', '-A CHAIN …', 'COMMIT' or '# comment', found '${first.image}'`;
  }
}

/** Built-in chains first, in hook order (declared or not), then user chains as declared. */
function finishTable(table: Table, chains: Map<string, Chain>): void {
  const builtins = (BUILTIN_CHAINS[table.name] ?? []).flatMap((n) => chains.get(n) ?? []);
  const users = [...chains.values()].filter((c) => !c.builtin);
  pushAll(pushAll(table.chains, builtins), users);
}

function inferFamily(dump: Dump): Family | null {
  for (const table of dump.tables) {
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        const cidr = rule.source?.cidr ?? rule.destination?.cidr;
        if (cidr) return cidr.family === 6 ? 'ipv6' : 'ipv4';
      }
    }
  }
  return null;
}
