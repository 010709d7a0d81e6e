// Tokens of `nft list ruleset` text (and of the `nft -f` files it loads back): the block keywords,
// braces, separators and operators, quoted strings and words. Operators that also occur inside
// words (`.` in addresses, `:` in IPv6, `-` in ranges, `/` in prefixes) are tokens only when
// they stand alone, as nft prints them (`ip saddr . tcp dport`, `80 : 10.0.0.1`, `filter - 5`).

import { createToken, Lexer, type TokenType } from './chevrotain.js';

/** Anything a value, name or keyword can be: every word-like token belongs to this category. */
export const Name = createToken({ name: 'Name', pattern: Lexer.NA });

/** An operator item of a rule (`==`, `.`, `:`, `&`, …): the rule reader tells them apart by image. */
export const Op = createToken({ name: 'Op', pattern: Lexer.NA });

// A CR is a blank, and a CR LF ends its line at the LF. nft 1.0.6 refuses a CRLF file outright (`syntax error,
// unexpected junk` at the first CR, run here); virtables reads it, and names its lines as the LF file's. Said
// outright: chevrotain would otherwise count the CR as a line break of its own, every later line of such a file as two.
export const Spaces = createToken({ name: 'Spaces', pattern: /[ \t\r\f]+/, group: Lexer.SKIPPED, line_breaks: false });
export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true });
/** `# …` to the end of the line; `nft -a` puts `# handle N` there. Kept aside, not parsed. */
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'comments' });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/ });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
export const Quoted = createToken({ name: 'Quoted', pattern: /"[^"\n]*"/, categories: [Name] });

/** Characters that end a word. */
const STOP = '\\s{}(),;"#|&^!<>=';
/** An operator made of word characters counts only when no word character follows it. */
const alone = (chars: string): RegExp => new RegExp(`[${chars}](?![^${STOP}])`);

export const SymbolOp = createToken({ name: 'SymbolOp', pattern: /==|!=|<=|>=|<<|>>|[<>&|^!]/, categories: [Op] });
export const Assign = createToken({ name: 'Assign', pattern: /=/, categories: [Op] });
export const Plus = createToken({ name: 'Plus', pattern: alone('+'), categories: [Op] });
export const Minus = createToken({ name: 'Minus', pattern: alone('\\-'), categories: [Op] });
export const WordOp = createToken({ name: 'WordOp', pattern: alone('.:/'), categories: [Op] });

export const Word = createToken({ name: 'Word', pattern: new RegExp(`[^${STOP}]+`), categories: [Name] });

const keyword = (word: string): TokenType =>
  createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Word, categories: [Name] });
export const Table = keyword('table');
export const Flush = keyword('flush');
export const Ruleset = keyword('ruleset');

export const allTokens: TokenType[] = [
  Spaces,
  Newline,
  Comment,
  LCurly,
  RCurly,
  LParen,
  RParen,
  Comma,
  Semicolon,
  Quoted,
  SymbolOp,
  Assign,
  Plus,
  Minus,
  WordOp,
  Table,
  Flush,
  Ruleset,
  Word,
  Name,
  Op,
];

let lexer: InstanceType<typeof Lexer> | null = null;
/** Built on first use: commands that read only iptables dumps never pay for it at start-up. */
export const nftLexer = (): InstanceType<typeof Lexer> =>
  // Start positions only (grammar/nft.ts works out ends from the images): smaller tokens, which all live until the
  // ruleset is built, are less for the collector to copy.
  (lexer ??= new Lexer(allTokens, { positionTracking: 'onlyStart', ensureOptimizations: false }));
