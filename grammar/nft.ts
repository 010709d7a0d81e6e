// The grammar of `nft list ruleset` text (nftables 0.9 … 1.1; what `nft -f` loads back): tables
// holding chains, sets, maps and named objects, each a block of lines. The parser reads the
// structure and hands every line over as items (words, quoted strings, operators, braced and
// parenthesised groups); what the items mean (base-chain specs, statements, set elements) is
// built in nft-text-build.ts and nft-rule.ts, so an unknown statement is carried, not a syntax error.
//
//   ruleset   := (NL | ';' | table | 'flush' 'ruleset')*
//   table     := 'table' FAMILY? NAME '{' (NL | ';' | block | line)* '}'
//   block     := NAME+ NAME '{' (NL | ';' | line)* '}'     (chain, set, map, counter, ct helper, …)
//   line      := item+                     (ends at NL, ';' or the block's '}')
//   item      := NAME | QUOTED | OP | ',' | '{' (item | NL)* '}' | '(' (item | NL)* ')'

import { EmbeddedActionsParser, type IToken } from './chevrotain.js';
import type { NftRuleset } from '../src/model/nft.js';
import { InputError } from '../src/model/errors.js';
import { posWithin } from './token-pos.js';
import {
  allTokens,
  Comma,
  Flush,
  LCurly,
  LParen,
  Name,
  Newline,
  nftLexer,
  Op,
  RCurly,
  RParen,
  Ruleset,
  Semicolon,
  Table,
} from './nft-lexer.js';
import type { BlockAst, ItemAst, LineAst, TableAst } from './nft-ast.js';
import { buildRuleset } from './nft-text-build.js';

/** Braces and parentheses nested deeper than this are refused (nft prints two or three levels). */
export const MAX_GROUP_DEPTH = 16;
/** nft text larger than this is refused before lexing: a ruleset of a million rules is ~100 MB. */
export const MAX_NFT_TEXT = 256 * 1024 * 1024;

const tokenLine = (t: IToken): number => t.startLine ?? 1;
const tokenCol = (t: IToken): number => t.startColumn ?? 1;
/** The offset just past a token (the lexer tracks start positions only: its end is its start plus its image). */
const tokenEnd = (t: IToken): number => t.startOffset + t.image.length;

class NftParser extends EmbeddedActionsParser {
  private depth = 0;
  file = '-';

  constructor() {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  public ruleset = this.RULE('ruleset', (): TableAst[] => {
    const tables: TableAst[] = [];
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Semicolon) },
        { ALT: () => tables.push(this.SUBRULE(this.table)) },
        {
          ALT: () => {
            this.CONSUME(Flush);
            this.CONSUME(Ruleset);
          },
        },
      ]);
    });
    return tables;
  });

  private table = this.RULE('table', (): TableAst => {
    const token = this.CONSUME(Table);
    const first = this.CONSUME(Name);
    const second = this.OPTION(() => this.CONSUME2(Name));
    this.CONSUME(LCurly);
    const blocks: BlockAst[] = [];
    const lines: LineAst[] = [];
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME1(Newline) },
        { ALT: () => this.CONSUME1(Semicolon) },
        { GATE: () => this.blockAhead(), ALT: () => blocks.push(this.SUBRULE(this.block)), IGNORE_AMBIGUITIES: true },
        { ALT: () => lines.push(this.SUBRULE(this.line)), IGNORE_AMBIGUITIES: true },
      ]);
    });
    const close = this.CONSUME(RCurly);
    return { token, family: second ? first : null, name: second ?? first, blocks, lines, close };
  });

  /** A chain, set, map or named object: keyword words (`chain`, `ct helper`), its name, then `{ lines }`. */
  private block = this.RULE('block', (): BlockAst => {
    const keyword: IToken[] = [];
    this.AT_LEAST_ONE({ GATE: () => this.LA(2).tokenType !== LCurly, DEF: () => keyword.push(this.CONSUME1(Name)) });
    const name = this.CONSUME2(Name);
    const open = this.CONSUME(LCurly);
    const lines: LineAst[] = [];
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Semicolon) },
        { ALT: () => lines.push(this.SUBRULE(this.line)) },
      ]);
    });
    const close = this.CONSUME(RCurly);
    return {
      keyword,
      name,
      lines,
      start: keyword[0]?.startOffset ?? open.startOffset,
      end: tokenEnd(close) - 1,
    };
  });

  /** Do the next words, before any line end, run into a `{`? (a block head rather than a line). */
  private blockAhead(): boolean {
    for (let k = 1; k <= 5; k++) {
      const t = this.LA(k).tokenType;
      if (t === LCurly) return k >= 3;
      if (!this.isNameType(t)) return false;
    }
    return false;
  }

  private isNameType(t: unknown): boolean {
    return (
      t !== Newline &&
      t !== Semicolon &&
      t !== LCurly &&
      t !== RCurly &&
      t !== LParen &&
      t !== RParen &&
      t !== Comma &&
      (t as { CATEGORIES?: unknown[] }).CATEGORIES?.includes(Name) === true
    );
  }

  private line = this.RULE('line', (): LineAst => {
    const items: ItemAst[] = [];
    this.AT_LEAST_ONE(() => items.push(this.SUBRULE(this.item)));
    const first = items[0];
    return { items, line: first?.line ?? 0, col: first?.col ?? 0 };
  });

  private item = this.RULE('item', (): ItemAst => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(Name);
          const quoted = t.image.startsWith('"');
          return {
            kind: quoted ? 'quoted' : 'word',
            image: quoted ? t.image.slice(1, -1) : t.image,
            line: tokenLine(t),
            col: tokenCol(t),
            start: t.startOffset,
            end: tokenEnd(t),
            items: [],
          };
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(Op);
          return {
            kind: 'op',
            image: t.image,
            line: tokenLine(t),
            col: tokenCol(t),
            start: t.startOffset,
            end: tokenEnd(t),
            items: [],
          };
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(Comma);
          return {
            kind: 'comma',
            image: ',',
            line: tokenLine(t),
            col: tokenCol(t),
            start: t.startOffset,
            end: t.startOffset + 1,
            items: [],
          };
        },
      },
      { ALT: () => this.SUBRULE(this.group) },
    ]);
  });

  private group = this.RULE('group', (): ItemAst => {
    const open = this.OR([{ ALT: () => this.CONSUME(LCurly) }, { ALT: () => this.CONSUME(LParen) }]);
    this.ACTION(() => {
      this.depth++;
      if (this.depth > MAX_GROUP_DEPTH)
        throw new InputError(
          this.file,
          tokenLine(open),
          tokenCol(open),
          `braces nested deeper than ${MAX_GROUP_DEPTH}`,
        );
    });
    const items: ItemAst[] = [];
    this.MANY(() => {
      this.OR1([{ ALT: () => this.CONSUME(Newline) }, { ALT: () => items.push(this.SUBRULE(this.item)) }]);
    });
    const close = open.image === '{' ? this.CONSUME(RCurly) : this.CONSUME(RParen);
    this.ACTION(() => this.depth--);
    return {
      kind: 'group',
      image: open.image,
      line: tokenLine(open),
      col: tokenCol(open),
      start: open.startOffset,
      end: tokenEnd(close),
      items,
    };
  });

  begin(file: string): void {
    this.file = file;
    this.depth = 0;
  }
}

let parserInstance: NftParser | null = null;
function parser(): NftParser {
  parserInstance ??= new NftParser();
  return parserInstance;
}

export interface NftTextOptions {
  readonly file: string;
}

/** Reads `nft list ruleset` text (`nft -a` handles included) into the nft model. */
export function parseNftText(text: string, options: NftTextOptions): NftRuleset {
  const { file } = options;
  if (text.length > MAX_NFT_TEXT)
    throw new InputError(
      file,
      1,
      1,
      `nft text of ${text.length} characters (more than ${MAX_NFT_TEXT}); not a ruleset virtables reads`,
    );
  const lexed = nftLexer().tokenize(text);
  if (lexed.errors.length > 0) {
    const e = lexed.errors[0]!;
    const ch = text[e.offset];
    throw new InputError(
      file,
      e.line ?? 1,
      e.column ?? 1,
      ch === '"' ? 'unterminated quoted string' : `unexpected character '${ch}'`,
    );
  }
  const p = parser();
  p.begin(file);
  p.input = lexed.tokens;
  const tables = p.ruleset();
  if (p.errors.length > 0) throw syntaxError(file, p.errors[0]!.token, lexed.tokens);
  const comments = (lexed.groups['comments'] ?? []).map((t) => ({ line: tokenLine(t), text: t.image }));
  return buildRuleset(tables, { file, text, comments });
}

/** A syntax error in words a user can act on: what was expected where, and why it may be so. */
function syntaxError(file: string, token: IToken, tokens: IToken[]): InputError {
  const atEnd = token.tokenType.name === 'EOF';
  const last = tokens[tokens.length - 1];
  // At the end: just past the last token's last character.
  const end = atEnd && last ? posWithin(last, last.image.length - 1) : null;
  const line = atEnd ? (end?.line ?? 1) : tokenLine(token);
  const col = atEnd ? (end ? end.col + 1 : 1) : tokenCol(token);
  if (atEnd) {
    let open = 0;
    for (const t of tokens) open += t.tokenType === LCurly ? 1 : t.tokenType === RCurly ? -1 : 0;
    return new InputError(
      file,
      line,
      col,
      open > 0 ? `unexpected end of input: ${open} '{' not closed (truncated nft output?)` : 'unexpected end of input',
    );
  }
  const found = token.image === '\n' ? 'end of line' : `'${token.image}'`;
  const first = tokens[0];
  if (first && /^\*[a-z]+$/.test(first.image) && tokenLine(first) === 1)
    return new InputError(file, tokenLine(first), 1, "this is iptables-save output ('*table' … COMMIT), not nft text");
  if (token.tokenType === RCurly) return new InputError(file, line, col, "unexpected '}' (no block is open here)");
  const top = tokens.indexOf(token) >= 0 && depthBefore(tokens, token) === 0;
  if (top)
    return new InputError(
      file,
      line,
      col,
      `expected 'table FAMILY NAME {' at the top level of an nft ruleset, found ${found}${topLevelHint(token.image)}`,
    );
  return new InputError(file, line, col, `unexpected ${found}`);
}

function depthBefore(tokens: IToken[], token: IToken): number {
  let depth = 0;
  for (const t of tokens) {
    if (t === token) break;
    depth += t.tokenType === LCurly ? 1 : t.tokenType === RCurly ? -1 : 0;
  }
  return depth;
}

function topLevelHint(word: string): string {
  if (
    [
      'add',
      'insert',
      'delete',
      'create',
      'replace',
      'list',
      'reset',
      'rename',
      'define',
      'include',
      'destroy',
    ].includes(word)
  )
    return ` ('${word}' commands are nft -f scripts; virtables reads what 'nft list ruleset' prints)`;
  if (word === 'chain' || word === 'set' || word === 'map') return ` (a ${word} belongs inside a 'table … { }' block)`;
  return '';
}

/**
 * One rule's statements as nft would hold them in a chain of a `family` table (for rules that come
 * as text on their own: the statement words libvirt passes to `nft insert rule`).
 */
export function parseNftRule(
  statement: string,
  family: NftRuleset['tables'][number]['family'],
  file: string,
): NftRuleset['tables'][number]['chains'][number]['rules'][number] {
  const r = parseNftText(`table ${family} t {\n\tchain c {\n\t\t${statement}\n\t}\n}\n`, { file });
  const rule = r.tables[0]?.chains[0]?.rules[0];
  if (!rule || r.tables[0]!.chains[0]!.rules.length !== 1)
    throw new InputError(file, 1, 1, `not one nft rule: '${statement}'`);
  return rule;
}
