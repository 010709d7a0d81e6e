// Xen's host and guest configuration as Xen tools read them: xend-config.sxp (s-expressions:
// `(network-script 'network-bridge netdev=eth1')`, `#` comments) and domU configuration files
// (`name = "vm1"`, `vif = [ 'ip=10.0.0.1, bridge=xenbr0', … ]`, the Python-like syntax that
// xm and xl both accept). Two small chevrotain grammars producing positioned values.

import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js';
import type { SourcePos } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import { loneCrAsLf } from '../src/model/text.js';

// ---------------------------------------------------------------------------------------------
// Shared tokens

const Blank = createToken({ name: 'Blank', pattern: /[ \t\r\n\f]+/, group: Lexer.SKIPPED, line_breaks: true });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
// Python and sxp strings: single or double quotes, backslash escapes.
const QuotedString = createToken({ name: 'QuotedString', pattern: /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/ });
const LParen = createToken({ name: 'LParen', pattern: /\(/ });
const RParen = createToken({ name: 'RParen', pattern: /\)/ });
const Atom = createToken({ name: 'Atom', pattern: /[^\s()'"#]+/ });

const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
const Comma = createToken({ name: 'Comma', pattern: /,/ });
const Equals = createToken({ name: 'Equals', pattern: /=/ });
const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
const Continuation = createToken({ name: 'Continuation', pattern: /\\\r?\n/, group: Lexer.SKIPPED, line_breaks: true });
const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /-?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?)/ });

const sxpTokens: TokenType[] = [Blank, Comment, QuotedString, LParen, RParen, Atom];
const cfgTokens: TokenType[] = [
  Blank,
  Continuation,
  Comment,
  QuotedString,
  LBracket,
  RBracket,
  LParen,
  RParen,
  Comma,
  Equals,
  Semicolon,
  NumberLiteral,
  Identifier,
];

// Built on first use: commands that read only libvirt XML (a pre-commit audit) do not pay for them.
let sxpLexerInstance: InstanceType<typeof Lexer> | null = null;
let cfgLexerInstance: InstanceType<typeof Lexer> | null = null;
const sxpLexer = (): InstanceType<typeof Lexer> =>
  (sxpLexerInstance ??= new Lexer(sxpTokens, { positionTracking: 'full', recoveryEnabled: false }));
const cfgLexer = (): InstanceType<typeof Lexer> =>
  (cfgLexerInstance ??= new Lexer(cfgTokens, { positionTracking: 'full', recoveryEnabled: false }));

function posOf(token: IToken): SourcePos {
  return { line: token.startLine ?? 1, col: token.startColumn ?? 1 };
}

/** The text of a quoted string, with Python's common backslash escapes undone. */
function unquote(image: string): string {
  return image.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

/** Deepest nesting read: Xen's own files nest three or four levels; the parsers recurse per level. */
export const MAX_NESTING = 100;

/** Refuses, at the opening that goes too deep, nesting the recursive parsers would overflow on. */
function checkNesting(
  lexed: { tokens: IToken[]; errors: Array<{ offset: number }> },
  file: string,
  opens: readonly TokenType[],
  closes: readonly TokenType[],
  what: string,
): void {
  let depth = 0;
  const stop = lexed.errors[0]?.offset ?? Infinity; // an earlier lexing error is the one to report
  for (const t of lexed.tokens) {
    if (t.startOffset > stop) return;
    if (opens.includes(t.tokenType)) {
      if (++depth > MAX_NESTING)
        throw new InputError(
          file,
          t.startLine ?? 1,
          t.startColumn ?? 1,
          `${what} nested more than ${MAX_NESTING} deep`,
        );
    } else if (closes.includes(t.tokenType)) depth = Math.max(0, depth - 1);
  }
}

function endOf(text: string): SourcePos {
  const lines = text.split(/\r\n|\r|\n/);
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1 };
}

// ---------------------------------------------------------------------------------------------
// xend-config.sxp
//
//   file  := sexp*
//   sexp  := '(' item* ')'
//   item  := Atom | QuotedString | sexp

export type Sexp =
  { readonly kind: 'atom'; readonly text: string; readonly quoted: boolean; readonly pos: SourcePos } | SexpList;

export interface SexpList {
  readonly kind: 'list';
  readonly items: Sexp[];
  readonly pos: SourcePos;
}

class SxpParser extends EmbeddedActionsParser {
  constructor() {
    super(sxpTokens, { recoveryEnabled: false });
    this.performSelfAnalysis();
  }

  public file = this.RULE('file', (): SexpList[] => {
    const lists: SexpList[] = [];
    this.MANY(() => {
      const list = this.SUBRULE(this.sexp);
      this.ACTION(() => lists.push(list));
    });
    return lists;
  });

  private sexp = this.RULE('sexp', (): SexpList => {
    const open = this.CONSUME(LParen);
    const items: Sexp[] = [];
    this.MANY(() => {
      const item = this.OR([
        { ALT: () => this.SUBRULE(this.sexp) },
        {
          ALT: (): Sexp => {
            const t = this.CONSUME(Atom);
            return { kind: 'atom', text: t.image, quoted: false, pos: posOf(t) };
          },
        },
        {
          ALT: (): Sexp => {
            const t = this.CONSUME(QuotedString);
            return { kind: 'atom', text: this.ACTION(() => unquote(t.image)), quoted: true, pos: posOf(t) };
          },
        },
      ]);
      this.ACTION(() => items.push(item));
    });
    this.CONSUME(RParen);
    return { kind: 'list', items, pos: posOf(open) };
  });
}

let sxpParserInstance: SxpParser | null = null;

/** Reads xend-config.sxp into its top-level lists, e.g. `(network-script network-nat)`. */
export function parseSxp(source: string, file: string): SexpList[] {
  const text = loneCrAsLf(source);
  const lexed = sxpLexer().tokenize(text);
  checkNesting(lexed, file, [LParen], [RParen], "lists '(…)'");
  const parser = (sxpParserInstance ??= new SxpParser());
  parser.input = lexed.tokens;
  const lists = parser.file();
  const parseError = parser.errors[0];
  const lexError = lexed.errors[0];
  if (lexError && (!parseError || parseError.token.tokenType.name === 'EOF')) {
    const ch = text[lexError.offset]!;
    const message =
      ch === "'" || ch === '"' ? `string is not closed (no matching ${ch} on this line)` : `unexpected '${ch}'`;
    throw new InputError(file, lexError.line ?? 1, lexError.column ?? 1, message);
  }
  if (parseError) {
    const token = parseError.token;
    if (token.tokenType.name === 'EOF' || Number.isNaN(token.startOffset)) {
      // The innermost list still open is the last '(' whose ')' never came.
      let depth = 0;
      let unclosed: IToken | undefined;
      for (let i = lexed.tokens.length - 1; i >= 0; i--) {
        const t = lexed.tokens[i]!;
        if (t.tokenType === RParen) depth++;
        else if (t.tokenType === LParen && depth-- === 0) {
          unclosed = t;
          break;
        }
      }
      const end = endOf(text);
      const at = unclosed ? posOf(unclosed) : end;
      throw new InputError(
        file,
        end.line,
        end.col,
        `unexpected end of input: '(' at line ${at.line}, column ${at.col} is not closed with ')'`,
      );
    }
    const message =
      token.tokenType === RParen
        ? "')' without a matching '('"
        : `expected '(' to start an entry, found '${token.image}' (xend-config.sxp holds (name value …) entries)`;
    throw new InputError(file, token.startLine ?? 1, token.startColumn ?? 1, message);
  }
  return lists;
}

// ---------------------------------------------------------------------------------------------
// domU configuration (xm / xl)
//
//   file       := (assignment ';'?)*
//   assignment := Identifier '=' value
//   value      := QuotedString | NumberLiteral | Identifier | list
//   list       := ('[' | '(') (value (',' value)* ','?)? (']' | ')')

export type CfgValue =
  | { readonly kind: 'string'; readonly text: string; readonly pos: SourcePos }
  | { readonly kind: 'number' | 'name'; readonly text: string; readonly pos: SourcePos }
  | { readonly kind: 'list'; readonly items: CfgValue[]; readonly pos: SourcePos };

export interface CfgAssignment {
  readonly key: string;
  readonly value: CfgValue;
  readonly pos: SourcePos;
}

class CfgParser extends EmbeddedActionsParser {
  constructor() {
    super(cfgTokens, { recoveryEnabled: false });
    this.performSelfAnalysis();
  }

  public file = this.RULE('file', (): CfgAssignment[] => {
    const out: CfgAssignment[] = [];
    this.MANY(() => {
      const a = this.SUBRULE(this.assignment);
      this.OPTION(() => this.CONSUME(Semicolon));
      this.ACTION(() => out.push(a));
    });
    return out;
  });

  private assignment = this.RULE('assignment', (): CfgAssignment => {
    const key = this.CONSUME(Identifier);
    this.CONSUME(Equals);
    const value = this.SUBRULE(this.value);
    return { key: key.image, value, pos: posOf(key) };
  });

  private value = this.RULE('value', (): CfgValue => {
    return this.OR([
      {
        ALT: (): CfgValue => {
          const t = this.CONSUME(QuotedString);
          return { kind: 'string', text: this.ACTION(() => unquote(t.image)), pos: posOf(t) };
        },
      },
      {
        ALT: (): CfgValue => {
          const t = this.CONSUME(NumberLiteral);
          return { kind: 'number', text: t.image, pos: posOf(t) };
        },
      },
      {
        ALT: (): CfgValue => {
          const t = this.CONSUME(Identifier);
          return { kind: 'name', text: t.image, pos: posOf(t) };
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  private list = this.RULE('list', (): CfgValue => {
    const open = this.OR([{ ALT: () => this.CONSUME(LBracket) }, { ALT: () => this.CONSUME(LParen) }]);
    const items: CfgValue[] = [];
    this.OPTION(() => {
      const first = this.SUBRULE(this.value);
      this.ACTION(() => items.push(first));
      this.MANY({
        GATE: () => this.LA(2).tokenType !== RBracket && this.LA(2).tokenType !== RParen,
        DEF: () => {
          this.CONSUME(Comma);
          const next = this.SUBRULE2(this.value);
          this.ACTION(() => items.push(next));
        },
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.OR2([{ ALT: () => this.CONSUME(RBracket) }, { ALT: () => this.CONSUME(RParen) }]);
    return { kind: 'list', items, pos: posOf(open) };
  });
}

let cfgParserInstance: CfgParser | null = null;

/** Reads a domU configuration file into its assignments, in order. */
export function parseDomainConfig(source: string, file: string): CfgAssignment[] {
  const text = loneCrAsLf(source);
  const lexed = cfgLexer().tokenize(text);
  checkNesting(lexed, file, [LBracket, LParen], [RBracket, RParen], "lists '[…]'");
  const parser = (cfgParserInstance ??= new CfgParser());
  parser.input = lexed.tokens;
  const assignments = parser.file();
  const parseError = parser.errors[0];
  const lexError = lexed.errors[0];
  if (lexError && (!parseError || parseError.token.tokenType.name === 'EOF')) {
    const ch = text[lexError.offset]!;
    const message =
      ch === "'" || ch === '"'
        ? `string is not closed (no matching ${ch} on this line)`
        : `unexpected '${ch}' (a domain configuration holds NAME = VALUE lines)`;
    throw new InputError(file, lexError.line ?? 1, lexError.column ?? 1, message);
  }
  if (parseError) {
    const token = parseError.token;
    const atEnd = token.tokenType.name === 'EOF' || Number.isNaN(token.startOffset);
    const pos = atEnd ? endOf(text) : posOf(token);
    const found = atEnd ? 'end of input' : token.tokenType === QuotedString ? token.image : `'${token.image}'`;
    const rule = parseError.context.ruleStack[parseError.context.ruleStack.length - 1];
    const expected =
      rule === 'list'
        ? "',' or the closing ']'"
        : rule === 'value' || rule === 'assignment'
          ? parseError.name === 'NoViableAltException'
            ? 'a value (a quoted string, a number or a [list])'
            : "'='"
          : 'NAME = VALUE';
    throw new InputError(file, pos.line, pos.col, `expected ${expected}, found ${found}`);
  }
  return assignments;
}
