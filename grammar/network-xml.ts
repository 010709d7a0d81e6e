// The XML that libvirt reads and writes, as a small generic element tree with positions:
// elements, attributes ('…' or "…"), text, comments, CDATA, character references and the
// five predefined entities, processing instructions (the `<?xml …?>` prolog), namespaced
// names carried verbatim (`<dnsmasq:options>`), and several root documents one after the
// other (what `for n in …; do virsh net-dumpxml $n; done` prints).
//
// A DOCTYPE or any other `<!…>` declaration is refused: no DTD means no external entities
// and no entity-expansion bombs. Tokens first (two lexer modes: outside and inside a tag),
// then the grammar, then the tree builder the grammar's actions call.

import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js';
import type { SourcePos } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';
import { posWithin } from './token-pos.js';
import { decodeText } from '../src/model/text.js';

// ---------------------------------------------------------------------------------------------
// The tree

export interface XmlAttribute {
  /** As written, prefix included (`xmlns:dnsmasq`). */
  readonly name: string;
  /** With references replaced and whitespace normalised, as an XML parser hands it over. */
  readonly value: string;
  /** Where the attribute name starts. */
  readonly pos: SourcePos;
  /** Where the value starts (just inside the quote). */
  readonly valuePos: SourcePos;
}

export interface XmlElement {
  readonly kind: 'element';
  /** As written, prefix included (`dnsmasq:option`); namespaces are carried, not interpreted. */
  readonly name: string;
  readonly attributes: XmlAttribute[];
  readonly children: XmlNode[];
  /** Where the `<` of the start tag is. */
  readonly pos: SourcePos;
}

export interface XmlText {
  readonly kind: 'text';
  /** Character data with references replaced; CDATA sections and adjacent text are merged. */
  text: string;
  readonly pos: SourcePos;
}

export interface XmlComment {
  readonly kind: 'comment';
  readonly text: string;
  readonly pos: SourcePos;
}

export type XmlNode = XmlElement | XmlText | XmlComment;

export interface XmlDocument {
  readonly file: string;
  /** Every root element, in order (one per concatenated document). */
  readonly roots: XmlElement[];
}

/** Longest attribute value read; libvirt's values are names, addresses and numbers. */
export const MAX_ATTRIBUTE_LENGTH = 64 * 1024;
/** Longest run of character data read (descriptions and metadata included). */
export const MAX_TEXT_LENGTH = 1024 * 1024;
/** Deepest element nesting read (libvirt's deepest is 5). */
export const MAX_DEPTH = 256;
/**
 * Most '<', '&' and '=' characters read: a thousand networks need a few tens of thousands;
 * the cap keeps the token stream (built whole before parsing) small on hostile input.
 */
export const MAX_MARKUP = 100_000;

// ---------------------------------------------------------------------------------------------
// Tokens

// Outside a tag: markup openers, references and character data. Anything else that starts
// with '<!', '<?' or '&' (a DTD, an unclosed comment, an undefined entity) stops the lexer
// where it stands, so hostile input costs no more than the text before it.
const Comment = createToken({ name: 'Comment', pattern: /<!--[\s\S]*?-->/, line_breaks: true });
const CData = createToken({ name: 'CData', pattern: /<!\[CDATA\[[\s\S]*?]]>/, line_breaks: true });
const Instruction = createToken({ name: 'Instruction', pattern: /<\?[\s\S]*?\?>/, line_breaks: true });
const EndTagOpen = createToken({ name: 'EndTagOpen', pattern: /<\//, push_mode: 'inside' });
const StartTagOpen = createToken({ name: 'StartTagOpen', pattern: /<(?![!?])/, push_mode: 'inside' });
const CharRef = createToken({ name: 'CharRef', pattern: /&#(?:[0-9]+|x[0-9a-fA-F]+);/ });
const EntityRef = createToken({ name: 'EntityRef', pattern: /&(?:lt|gt|amp|apos|quot);/ });
// Control characters other than tab, LF and CR are not XML: they end the text (binary junk).
const Text = createToken({ name: 'Text', pattern: /[^<&\x00-\x08\x0b\x0c\x0e-\x1f]+/, line_breaks: true });

// Inside a tag: names, `=`, quoted values and the closers.
const Spaces = createToken({ name: 'Spaces', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED, line_breaks: true });
const Name = createToken({ name: 'Name', pattern: /[A-Za-z_:\u00c0-\uffff][\w.:\u00b7\u00c0-\uffff-]*/ });
const Equals = createToken({ name: 'Equals', pattern: /=/ });
const AttValue = createToken({ name: 'AttValue', pattern: /"[^"<]*"|'[^'<]*'/, line_breaks: true });
const EmptyTagClose = createToken({ name: 'EmptyTagClose', pattern: /\/>/, pop_mode: true });
const TagClose = createToken({ name: 'TagClose', pattern: />/, pop_mode: true });

const outsideTokens: TokenType[] = [Comment, CData, Instruction, EndTagOpen, StartTagOpen, CharRef, EntityRef, Text];
const insideTokens: TokenType[] = [Spaces, Name, Equals, AttValue, EmptyTagClose, TagClose];
const allTokens: TokenType[] = [...outsideTokens, ...insideTokens];

// Validated once by test/unit/lexers.test.ts, not at every start-up (chevrotain's checks cost tens of ms);
// built for the first XML read (a command given no network never needs it).
let xmlLexerInstance: InstanceType<typeof Lexer> | null = null;
export function xmlLexer(): InstanceType<typeof Lexer> {
  xmlLexerInstance ??= new Lexer(
    { modes: { outside: outsideTokens, inside: insideTokens }, defaultMode: 'outside' },
    // Start positions only: what errors and the tree name. A token's end is its start plus its image (endOf), and
    // tokens of half the size are half the copying for the collector on a thousand networks in one file.
    { positionTracking: 'onlyStart', recoveryEnabled: false, skipValidations: true },
  );
  return xmlLexerInstance;
}

// ---------------------------------------------------------------------------------------------
// The grammar
//
//   document  := (element | misc | text)*          (several roots: concatenated documents)
//   element   := '<' Name attribute* ('/>' | '>' content* '</' Name '>')
//   attribute := Name '=' AttValue
//   content   := element | misc | text
//   misc      := Comment | Instruction
//   text      := Text | CharRef | EntityRef | CData
//
// What the grammar refuses (DTDs, unclosed comments, undefined entities) never becomes a token:
// the lexer stops there and the stop is reported in words (lexerFailure).

class XmlParser extends EmbeddedActionsParser {
  builder: TreeBuilder = new TreeBuilder('', '');

  constructor() {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 1, skipValidations: true });
    this.performSelfAnalysis();
  }

  public document = this.RULE('document', (): void => {
    this.MANY(() => this.SUBRULE(this.content));
  });

  private content = this.RULE('content', (): void => {
    this.OR([
      { ALT: () => this.SUBRULE(this.element) },
      { ALT: () => this.SUBRULE(this.misc) },
      { ALT: () => this.SUBRULE(this.text) },
    ]);
  });

  private element = this.RULE('element', (): void => {
    const open = this.CONSUME(StartTagOpen);
    const name = this.CONSUME(Name);
    this.ACTION(() => this.builder.openElement(open, name));
    this.MANY(() => this.SUBRULE(this.attribute));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(EmptyTagClose);
          this.ACTION(() => this.builder.closeElement(null));
        },
      },
      {
        ALT: () => {
          this.CONSUME(TagClose);
          this.ACTION(() => this.builder.endStartTag());
          this.MANY2(() => this.SUBRULE2(this.content));
          this.CONSUME(EndTagOpen);
          const closing = this.CONSUME2(Name);
          this.CONSUME2(TagClose);
          this.ACTION(() => this.builder.closeElement(closing));
        },
      },
    ]);
  });

  private attribute = this.RULE('attribute', (): void => {
    const name = this.CONSUME(Name);
    this.CONSUME(Equals);
    const value = this.CONSUME(AttValue);
    this.ACTION(() => this.builder.attribute(name, value));
  });

  private misc = this.RULE('misc', (): void => {
    this.OR([
      {
        ALT: () => {
          const token = this.CONSUME(Comment);
          this.ACTION(() => this.builder.comment(token));
        },
      },
      {
        ALT: () => {
          const token = this.CONSUME(Instruction);
          this.ACTION(() => this.builder.instruction(token));
        },
      },
    ]);
  });

  private text = this.RULE('text', (): void => {
    const token = this.OR([
      { ALT: () => this.CONSUME(Text) },
      { ALT: () => this.CONSUME(CharRef) },
      { ALT: () => this.CONSUME(EntityRef) },
      { ALT: () => this.CONSUME(CData) },
    ]);
    this.ACTION(() => this.builder.text(token));
  });
}

let parserInstance: XmlParser | null = null;
function xmlParser(): XmlParser {
  parserInstance ??= new XmlParser();
  return parserInstance;
}

// ---------------------------------------------------------------------------------------------
// Meaning: the tree builder the grammar's actions call

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** The offset of a token's last character (the lexer tracks start positions only). */
function endOf(token: IToken): number {
  return token.startOffset + token.image.length - 1;
}

function posOf(token: IToken): SourcePos {
  return { line: token.startLine ?? 1, col: token.startColumn ?? 1 };
}

/** Is this code point a character XML allows (the `Char` production)? */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

function shorten(text: string, max = 40): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

/**
 * The text a reference stands for: a character reference or one of the five predefined
 * entities. Anything else is an error, in words.
 */
function resolveReference(ref: string): { text: string } | { error: string } {
  const char = /^&#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}));$/.exec(ref);
  if (char) {
    const code = char[1] !== undefined ? Number(char[1]) : parseInt(char[2]!, 16);
    return isXmlChar(code)
      ? { text: String.fromCodePoint(code) }
      : { error: `character reference '${ref}' is not a character XML allows` };
  }
  if (/^&#(?:[0-9]+|x[0-9a-fA-F]+);$/.test(ref))
    return { error: `character reference '${shorten(ref)}' is not a character XML allows` };
  if (ref.startsWith('&#'))
    return { error: `bad character reference '${shorten(ref, 12)}' (expected &#DIGITS; or &#xHEX;)` };
  const named = /^&([A-Za-z_:][\w.:-]*);$/.exec(ref);
  if (named) {
    const text = PREDEFINED[named[1]!];
    if (text !== undefined) return { text };
    return {
      error: `undefined entity '${ref}' (only &lt; &gt; &amp; &apos; &quot; and character references are allowed; virtables reads no DTD)`,
    };
  }
  if (ref.endsWith(';') && ref.length > 2)
    return { error: `bad reference '${shorten(ref, 12)}' (expected &name; or &#NUMBER;)` };
  return { error: "'&' must start a reference such as &amp; (write &amp; for a literal '&')" };
}

/** The reference starting at `offset` (up to its ';', or just the '&' when none follows). */
function referenceAt(text: string, offset: number): string {
  const m = /&[^\s<&;'"]{0,40};?/y;
  m.lastIndex = offset;
  const found = m.exec(text)![0];
  return found.endsWith(';') ? found : '&';
}

interface OpenElement {
  readonly element: XmlElement;
  /** Where the last attribute value ended, to insist on whitespace between attributes. */
  lastValueEnd: number;
  inStartTag: boolean;
}

class TreeBuilder {
  readonly roots: XmlElement[] = [];
  readonly stack: OpenElement[] = [];

  constructor(
    readonly file: string,
    readonly source: string,
  ) {}

  fail(pos: SourcePos, message: string): never {
    throw new InputError(this.file, pos.line, pos.col, message);
  }

  private get current(): OpenElement | undefined {
    return this.stack[this.stack.length - 1];
  }

  openElement(open: IToken, name: IToken): void {
    const pos = posOf(open);
    if (name.startOffset !== endOf(open) + 1)
      this.fail(
        posOf(name),
        `'<' must be followed directly by the element name (found a space before '${name.image}')`,
      );
    if (this.stack.length >= MAX_DEPTH)
      this.fail(pos, `elements nested more than ${MAX_DEPTH} deep; not a libvirt network definition`);
    const element: XmlElement = { kind: 'element', name: name.image, attributes: [], children: [], pos };
    const parent = this.current;
    if (parent) parent.element.children.push(element);
    else this.roots.push(element);
    this.stack.push({ element, lastValueEnd: -2, inStartTag: true });
  }

  attribute(name: IToken, value: IToken): void {
    const open = this.current!;
    const element = open.element;
    if (name.startOffset === open.lastValueEnd + 1)
      this.fail(posOf(name), `missing space before attribute '${name.image}' in <${element.name}>`);
    const raw = value.image.slice(1, -1);
    const valuePos = posWithin(value, 1);
    if (raw.length > MAX_ATTRIBUTE_LENGTH) {
      this.fail(
        valuePos,
        `value of attribute '${name.image}' in <${element.name}> is ${raw.length} characters long (more than ${MAX_ATTRIBUTE_LENGTH}); not a libvirt network definition`,
      );
    }
    const first = element.attributes.find((a) => a.name === name.image);
    if (first)
      this.fail(
        posOf(name),
        `attribute '${name.image}' given twice in <${element.name}> (first at line ${first.pos.line}, column ${first.pos.col})`,
      );
    element.attributes.push({ name: name.image, value: this.attributeValue(value, raw), pos: posOf(name), valuePos });
    open.lastValueEnd = endOf(value);
  }

  /** Replaces references and turns tab/CR/LF into spaces, as XML attribute normalisation does. */
  private attributeValue(token: IToken, raw: string): string {
    if (!/[&\t\r\n\x00-\x08\x0b\x0c\x0e-\x1f]/.test(raw)) return raw;
    let out = '';
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 0x26) {
        const ref = referenceAt(raw, i);
        out += this.reference(ref, () => posWithin(token, 1 + i));
        i += ref.length - 1;
      } else if (c === 0x0d && raw.charCodeAt(i + 1) === 0x0a) {
        out += ' ';
        i++;
      } else if (c === 0x09 || c === 0x0a || c === 0x0d) {
        out += ' ';
      } else if (c < 0x20) {
        this.fail(posWithin(token, 1 + i), `binary data (byte 0x${c.toString(16).padStart(2, '0')}); expected text`);
      } else {
        out += raw[i];
      }
    }
    return out;
  }

  private reference(ref: string, where: () => SourcePos): string {
    const resolved = resolveReference(ref);
    if ('error' in resolved) this.fail(where(), resolved.error);
    return resolved.text;
  }

  endStartTag(): void {
    this.current!.inStartTag = false;
  }

  closeElement(closing: IToken | null): void {
    const open = this.stack.pop()!;
    if (closing && closing.image !== open.element.name) {
      const p = open.element.pos;
      this.fail(
        posOf(closing),
        `closing tag </${closing.image}> does not match <${open.element.name}> (line ${p.line}, column ${p.col})`,
      );
    }
    for (const child of open.element.children) {
      if (child.kind === 'text' && child.text.length > MAX_TEXT_LENGTH) {
        this.fail(
          child.pos,
          `text in <${open.element.name}> is ${child.text.length} characters long (more than ${MAX_TEXT_LENGTH}); not a libvirt network definition`,
        );
      }
    }
  }

  text(token: IToken): void {
    const pos = posOf(token);
    let text: string;
    switch (token.tokenType) {
      case Text:
        text = token.image;
        break;
      case CData:
        text = token.image.slice('<![CDATA['.length, -3);
        break;
      default:
        text = this.reference(token.image, () => pos);
    }
    const open = this.current;
    if (!open) {
      if (token.tokenType === Text && text.trim() === '') return;
      const at = token.tokenType === Text ? posWithin(token, token.image.search(/\S/)) : pos;
      this.fail(at, `text outside the root element: '${shorten(text)}'`);
    }
    const children = open.element.children;
    const last = children[children.length - 1];
    if (last && last.kind === 'text') last.text += text;
    else children.push({ kind: 'text', text, pos });
  }

  comment(token: IToken): void {
    const text = token.image.slice(4, -3);
    if (text.includes('--') || text.endsWith('-')) this.fail(posOf(token), "'--' is not allowed inside a comment");
    this.current?.element.children.push({ kind: 'comment', text, pos: posOf(token) });
  }

  instruction(token: IToken): void {
    const target = /^<\?([^\s?]*)/.exec(token.image)![1]!;
    if (target === '')
      this.fail(
        posOf(token),
        "processing instruction without a target ('<?' must be followed by a name such as 'xml')",
      );
    // The prolog may open each concatenated document, never the inside of one.
    if (target.toLowerCase() === 'xml' && this.current) {
      this.fail(
        posOf(token),
        `XML declaration '<?${target} …?>' inside <${this.current.element.name}>; it may only open a document`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors the lexer and parser stop at, in words

function binaryMessage(code: number): string {
  return `binary data (byte 0x${code.toString(16).padStart(2, '0')}); expected text`;
}

/** The tag being read when the lexer or parser stopped: the last `<name` or `</name` before it. */
function tagBefore(tokens: IToken[], end: number): { closing: boolean; name: string | null; open: IToken } | null {
  for (let i = Math.min(end, tokens.length) - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.tokenType === TagClose || t.tokenType === EmptyTagClose) return null;
    if (t.tokenType === StartTagOpen || t.tokenType === EndTagOpen) {
      const next = tokens[i + 1];
      return {
        closing: t.tokenType === EndTagOpen,
        name: next && next.tokenType === Name && i + 1 < end ? next.image : null,
        open: t,
      };
    }
    if (t.tokenType !== Name && t.tokenType !== Equals && t.tokenType !== AttValue) return null;
  }
  return null;
}

function lexerFailure(
  file: string,
  text: string,
  tokens: IToken[],
  offset: number,
  line: number,
  col: number,
): InputError {
  const code = text.charCodeAt(offset);
  const ch = text[offset]!;
  const at = (message: string, l = line, c = col) => new InputError(file, l, c, message);
  if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return at(binaryMessage(code));
  const tag = tagBefore(tokens, tokens.length);
  if (!tag) {
    // Outside a tag: a reference or markup the lexer has no token for.
    if (ch === '&') {
      const resolved = resolveReference(referenceAt(text, offset));
      return at('error' in resolved ? resolved.error : `unexpected '&'`);
    }
    const rest = text.slice(offset, offset + 12);
    if (rest.startsWith('<!--')) return at("comment is not closed with '-->'");
    if (rest.startsWith('<![CDATA[')) return at("CDATA section is not closed with ']]>'");
    if (rest.startsWith('<?')) return at("processing instruction is not closed with '?>'");
    const declaration = /^<!([A-Za-z]*)/.exec(rest);
    if (declaration) {
      const what = declaration[1]!.toUpperCase();
      if (what === 'DOCTYPE')
        return at(
          'DOCTYPE declarations are refused (virtables reads no DTD: no external entities, no entity expansion)',
        );
      if (what === 'ENTITY')
        return at(
          'entity declarations are refused (virtables reads no DTD: no external entities, no entity expansion)',
        );
      return at(`markup declaration '<!${declaration[1]}' is refused (virtables reads no DTD)`);
    }
  }
  const tagText = tag ? `${tag.closing ? '</' : '<'}${tag.name ?? ''}>` : 'tag';
  if (ch === '"' || ch === "'") {
    const close = text.indexOf(ch, offset + 1);
    const lt = text.indexOf('<', offset + 1);
    if (lt >= 0 && (close < 0 || lt < close)) {
      const before = text.slice(offset, lt);
      const lines = before.split(/\r\n|\r|\n/);
      const l = line + lines.length - 1;
      const c = lines.length > 1 ? lines[lines.length - 1]!.length + 1 : col + before.length;
      return close < 0
        ? at(`attribute value in ${tagText} is not closed (no matching ${ch} before '<')`)
        : at(`'<' is not allowed in an attribute value (write &lt;)`, l, c);
    }
    return at(`attribute value in ${tagText} is not closed (no matching ${ch})`);
  }
  if (ch === '<') return at(`${tagText} is not closed with '>' before the next '<'`);
  return at(`unexpected '${ch}' in ${tagText} (expected an attribute name, '>' or '/>')`);
}

function parserFailure(
  file: string,
  tokens: IToken[],
  builder: TreeBuilder,
  error: { name: string; token: IToken },
): InputError {
  const token = error.token;
  const atEnd = token.tokenType.name === 'EOF' || Number.isNaN(token.startOffset);
  const index = atEnd ? tokens.length : tokens.findIndex((t) => t.startOffset === token.startOffset);
  const previous = tokens[index - 1];
  const last = tokens[tokens.length - 1];
  const endPos = last ? posWithin(last, last.image.length) : { line: 1, col: 1 };
  const pos = atEnd ? endPos : posOf(token);
  const found = atEnd ? 'end of input' : `'${shorten(token.image, 20)}'`;
  const at = (message: string) => new InputError(file, pos.line, pos.col, message);
  const tag = tagBefore(tokens, index);
  if (tag) {
    const p = posOf(tag.open);
    const where = `(line ${p.line}, column ${p.col})`;
    if (tag.name === null) return at(`expected an element name after '${tag.closing ? '</' : '<'}', found ${found}`);
    if (tag.closing) return at(`expected '>' to end the closing tag </${tag.name}> ${where}, found ${found}`);
    if (previous?.tokenType === Name && previous !== tokens[tokens.indexOf(tag.open) + 1]) {
      return at(
        `attribute '${previous.image}' in <${tag.name}> has no value (expected ${previous.image}='…'), found ${found}`,
      );
    }
    if (previous?.tokenType === Equals)
      return at(`attribute value in <${tag.name}> must be quoted ('…' or "…"), found ${found}`);
    if (atEnd) return at(`unexpected end of input in the start tag of <${tag.name}> ${where}`);
    return at(`expected an attribute name, '>' or '/>' in <${tag.name}> ${where}, found ${found}`);
  }
  const open = builder.stack[builder.stack.length - 1];
  if (atEnd && open) {
    const p = open.element.pos;
    return at(
      `unexpected end of input: <${open.element.name}> (line ${p.line}, column ${p.col}) is not closed (expected </${open.element.name}>)`,
    );
  }
  if (token.tokenType === EndTagOpen) {
    const next = tokens[index + 1];
    return at(`closing tag </${next?.tokenType === Name ? next.image : ''}> without a matching start tag`);
  }
  return at(`unexpected ${found}`);
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Reads XML text into a tree of elements with positions; throws InputError `FILE:LINE:COL: …`. */
export function parseXml(text: string, file: string): XmlDocument {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  checkMarkupCount(text, file);
  const lexed = xmlLexer().tokenize(text);
  const builder = new TreeBuilder(file, text);
  const parser = xmlParser();
  parser.builder = builder;
  parser.input = lexed.tokens;
  parser.document();
  const lexError = lexed.errors[0];
  const parseError = parser.errors[0];
  // A parse error at a real token lies before the lexer's stop; at the end of the (cut)
  // token stream, the lexer's reason is the real one.
  if (
    parseError &&
    !(lexError && (parseError.token.tokenType.name === 'EOF' || Number.isNaN(parseError.token.startOffset)))
  ) {
    throw parserFailure(file, lexed.tokens, builder, parseError);
  }
  if (lexError) throw lexerFailure(file, text, lexed.tokens, lexError.offset, lexError.line ?? 1, lexError.column ?? 1);
  return { file, roots: builder.roots };
}

function checkMarkupCount(text: string, file: string): void {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x3c || c === 0x26 || c === 0x3d) && ++count > MAX_MARKUP) {
      const before = text.slice(0, i);
      const line = before.split(/\r\n|\r|\n/).length;
      const col = i - Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
      throw new InputError(
        file,
        line,
        col,
        `more than ${MAX_MARKUP} tags, attributes and references; not a libvirt network definition`,
      );
    }
  }
}

export function parseXmlBytes(bytes: Uint8Array, file: string): XmlDocument {
  return parseXml(decodeText(file, bytes), file);
}

// ---------------------------------------------------------------------------------------------
// Reading the tree

export function attributeOf(element: XmlElement, name: string): XmlAttribute | undefined {
  return element.attributes.find((a) => a.name === name);
}

export function childElements(element: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of element.children) {
    if (child.kind === 'element' && (name === undefined || child.name === name)) out.push(child);
  }
  return out;
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  for (const child of element.children) {
    if (child.kind === 'element' && child.name === name) return child;
  }
  return undefined;
}

/** All character data inside an element, descendants included (XPath `string(.)`). */
export function textContent(element: XmlElement): string {
  let out = '';
  for (const child of element.children) {
    if (child.kind === 'text') out += child.text;
    else if (child.kind === 'element') out += textContent(child);
  }
  return out;
}
