// The expectations language: lab sheets and pre-commit policies that say which networks and
// guests exist and what must (not) be reachable, or which rules starting a network adds.
//
//   network natted from "natted.xml"
//   guest vm1 on natted at 192.168.124.10
//   vm1 -> outside tcp/80 : allowed
//   outside -> host:8080 -> vm1:80 : allowed
//   vm1 <-> vm2 : blocked
//   after starting natted, the added rules are exactly libvirt's
//
// Tokens first (with a lexer mode for inline rule blocks), then the statements, then the
// lab file that lists a lab's sheets. Meaning (which network, which address) is resolved in
// src/lab/sheet.ts; this file only builds the positioned syntax tree. Documented in docs/expect.md.

import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js';
import { InputError } from '../src/model/errors.js';
import { minOf } from '../src/model/lists.js';
import { loneCrAsLf } from '../src/model/text.js';

// ---------------------------------------------------------------------------------------------
// The syntax tree

export interface At {
  readonly line: number;
  readonly col: number;
}

export interface Named {
  readonly name: string;
  readonly at: At;
}

/** Where a network definition comes from: the sheet's own file, or what the checker was given. */
export type NetworkSource =
  | { readonly kind: 'given' }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'given-or-file'; readonly file: string };

/** One way to obtain a firewall (dump); the first that is available is used. */
export type FirewallSource =
  | { readonly kind: 'file'; readonly file: string; readonly at: At }
  /** The answer's dump; `commands`: with the answer's commands run on it (null file: the default listing). */
  | {
      readonly kind: 'answer-dump';
      readonly file: string | null;
      readonly commands: { readonly file: string | null } | null;
      readonly at: At;
    }
  | {
      readonly kind: 'answer-commands';
      readonly networks: Named[];
      readonly anyOrder: boolean;
      readonly file: string | null;
      readonly at: At;
    }
  | { readonly kind: 'started'; readonly networks: Named[]; readonly anyOrder: boolean; readonly at: At };

export interface Attachment {
  readonly network: Named;
  /** `192.168.124.10` or `192.168.200.2/24`; null: the network's first DHCP address. */
  readonly address: string | null;
  readonly addressAt: At | null;
  /** The guest's own interface name (`as eth1`), for a guest that runs its own firewall. */
  readonly device: string | null;
  /** `gateway ADDRESS`, `gateway none`, or not said (null). */
  readonly gateway: string | 'none' | null;
  readonly gatewayAt: At | null;
}

export type Service =
  | { readonly proto: 'tcp' | 'udp'; readonly port: number }
  | { readonly proto: 'icmp' }
  /** A name lookup: directly, or relayed by the host's dnsmasq. */
  | { readonly proto: 'dns' };

export interface Hop {
  /** A guest name, `host`, `outside` or an IPv4 address. */
  readonly node: string;
  readonly port: number | null;
  readonly service: Service | null;
  readonly at: At;
}

export type Expectation = 'allowed' | 'blocked' | 'rejected' | 'dropped';

export type RuleSource =
  | { readonly kind: 'engine'; readonly word: 'libvirt' | 'xen' }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'inline'; readonly lines: ReadonlyArray<{ readonly text: string; readonly line: number }> };

export type Statement =
  | { readonly kind: 'title'; readonly text: string; readonly at: At }
  | { readonly kind: 'about'; readonly text: string; readonly at: At }
  | { readonly kind: 'network'; readonly name: Named; readonly source: NetworkSource; readonly at: At }
  | { readonly kind: 'era'; readonly flavor: Named; readonly version: string | null; readonly at: At }
  | { readonly kind: 'before'; readonly file: string; readonly at: At }
  | { readonly kind: 'firewall'; readonly of: Named | null; readonly sources: FirewallSource[]; readonly at: At }
  | {
      readonly kind: 'uplink';
      readonly device: string;
      readonly address: string;
      readonly gateway: string | null;
      readonly port: string | null;
      readonly at: At;
    }
  | { readonly kind: 'outside'; readonly addresses: string[]; readonly at: At }
  | { readonly kind: 'guest'; readonly name: Named; readonly attachments: Attachment[]; readonly at: At }
  | { readonly kind: 'setup'; readonly file: string; readonly at: At }
  | {
      readonly kind: 'reach';
      readonly hops: Hop[];
      readonly bothWays: boolean;
      readonly expect: Expectation;
      readonly via: Named | null;
      readonly hint: string | null;
      /** The assertion as written, on one line. */
      readonly text: string;
      readonly at: At;
    }
  | {
      readonly kind: 'rules';
      readonly networks: Named[];
      readonly anyOrder: boolean;
      readonly mode: 'exactly' | 'include';
      readonly source: RuleSource;
      readonly inOrder: boolean;
      readonly hint: string | null;
      readonly text: string;
      readonly at: At;
    };

export interface Sheet {
  readonly file: string;
  readonly statements: Statement[];
}

export interface LabEntry {
  readonly kind: 'task' | 'query';
  readonly id: string;
  readonly title: string | null;
  readonly sheets: ReadonlyArray<{ readonly file: string; readonly at: At }>;
  readonly about: string | null;
  readonly at: At;
}

export interface LabFile {
  readonly file: string;
  readonly title: string | null;
  readonly about: string | null;
  readonly entries: LabEntry[];
}

// ---------------------------------------------------------------------------------------------
// Tokens

const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n\f]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
/** `:` at the end of a line opens a block of rule lines, closed by a line `end`. */
const BlockStart = createToken({
  name: 'BlockStart',
  label: "':' and a block of rules",
  pattern: /:[ \t]*(?:#[^\n]*)?\r?\n/,
  line_breaks: true,
  push_mode: 'block',
});
const BlockEnd = createToken({
  name: 'BlockEnd',
  label: "'end'",
  pattern: /[ \t]*end[ \t]*(?:#[^\n]*)?(?:\r?\n|(?![\s\S]))/,
  line_breaks: true,
  pop_mode: true,
});
const BlockLine = createToken({
  name: 'BlockLine',
  label: 'a rule line',
  pattern: /[^\n]*\n|[^\n]+/,
  line_breaks: true,
});
const LongString = createToken({
  name: 'LongString',
  label: 'a """text"""',
  pattern: /"""[\s\S]*?"""/,
  line_breaks: true,
});
const StringLit = createToken({ name: 'StringLit', label: 'a "quoted" string', pattern: /"(?:[^"\\\n]|\\.)*"/ });
const BothWays = createToken({ name: 'BothWays', label: "'<->'", pattern: /<->|↔/ });
const Arrow = createToken({ name: 'Arrow', label: "'->'", pattern: /->|→/ });
const Colon = createToken({ name: 'Colon', label: "':'", pattern: /:/ });
const Comma = createToken({ name: 'Comma', label: "','", pattern: /,/ });
const ProtoPort = createToken({ name: 'ProtoPort', label: 'tcp/PORT or udp/PORT', pattern: /(?:tcp|udp)\/\d+/ });
const Address = createToken({
  name: 'Address',
  label: 'an IPv4 address',
  pattern: /\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?/,
});
const Version = createToken({ name: 'Version', label: 'a version', pattern: /\d+(?:\.\d+)+/ });
const NumberLit = createToken({ name: 'NumberLit', label: 'a number', pattern: /\d+/ });

// Phrases of several words are single tokens: they read as English and cannot be split wrongly.
const TheAnswers = createToken({ name: 'TheAnswers', label: '"the answer\'s"', pattern: /the[ \t]+answer['’]s\b/ });
const TheAnswer = createToken({ name: 'TheAnswer', label: "'the answer'", pattern: /the[ \t]+answer\b/ });
const TheAddedRules = createToken({
  name: 'TheAddedRules',
  label: "'the added rules'",
  pattern: /the[ \t]+added[ \t]+rules\b/,
});
const AreExactly = createToken({ name: 'AreExactly', label: "'are exactly'", pattern: /are[ \t]+exactly\b/ });
const InAnyOrder = createToken({ name: 'InAnyOrder', label: "'in any order'", pattern: /in[ \t]+any[ \t]+order\b/ });
const InOrder = createToken({ name: 'InOrder', label: "'in order'", pattern: /in[ \t]+order\b/ });
const LibvirtRules = createToken({ name: 'LibvirtRules', label: '"libvirt\'s"', pattern: /libvirt['’]s\b/ });
const XenRules = createToken({ name: 'XenRules', label: '"xen\'s"', pattern: /xen['’]s\b/ });

const Name = createToken({ name: 'Name', label: 'a name', pattern: /[A-Za-z_][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*/ });

function keyword(word: string): TokenType {
  return createToken({ name: `K_${word}`, label: `'${word}'`, pattern: new RegExp(word), longer_alt: Name });
}

const K = {
  title: keyword('title'),
  about: keyword('about'),
  network: keyword('network'),
  from: keyword('from'),
  era: keyword('era'),
  before: keyword('before'),
  firewall: keyword('firewall'),
  of: keyword('of'),
  is: keyword('is'),
  or: keyword('or'),
  dump: keyword('dump'),
  commands: keyword('commands'),
  after: keyword('after'),
  starting: keyword('starting'),
  uplink: keyword('uplink'),
  at: keyword('at'),
  gateway: keyword('gateway'),
  port: keyword('port'),
  outside: keyword('outside'),
  host: keyword('host'),
  guest: keyword('guest'),
  on: keyword('on'),
  as: keyword('as'),
  and: keyword('and'),
  none: keyword('none'),
  setup: keyword('setup'),
  hint: keyword('hint'),
  via: keyword('via'),
  include: keyword('include'),
  allowed: keyword('allowed'),
  blocked: keyword('blocked'),
  rejected: keyword('rejected'),
  dropped: keyword('dropped'),
  icmp: keyword('icmp'),
  ping: keyword('ping'),
  dns: keyword('dns'),
  lab: keyword('lab'),
  task: keyword('task'),
  query: keyword('query'),
  check: keyword('check'),
  with: keyword('with'),
};

const mainTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  BlockStart,
  LongString,
  StringLit,
  BothWays,
  Arrow,
  Colon,
  Comma,
  ProtoPort,
  Address,
  Version,
  NumberLit,
  TheAnswers,
  TheAnswer,
  TheAddedRules,
  AreExactly,
  InAnyOrder,
  InOrder,
  LibvirtRules,
  XenRules,
  ...Object.values(K),
  Name,
];

const lexer = new Lexer(
  { modes: { main: mainTokens, block: [BlockEnd, BlockLine] }, defaultMode: 'main' },
  { positionTracking: 'full', recoveryEnabled: false, ensureOptimizations: false, skipValidations: true },
);

// ---------------------------------------------------------------------------------------------
// Messages a sheet's author can act on

function describeToken(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'the end of the file';
  if (t.tokenType === BlockLine) return `the rule line '${t.image.trim()}'`;
  return `'${t.image.replace(/\s+/g, ' ').trim()}'`;
}

function labelOf(t: TokenType): string {
  return t.LABEL ?? t.name;
}

function oneOf(labels: string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length <= 1) return unique[0] ?? 'something else';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

const VERDICTS = ['allowed', 'blocked', 'rejected', 'dropped'];

/** A near miss of a keyword (`alowed`), for 'did you mean'. */
function nearMiss(word: string, candidates: readonly string[]): string | null {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return d[a.length]![b.length]!;
  };
  const best = candidates.map((c) => ({ c, d: distance(word.toLowerCase(), c) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d > 0 && best.d <= 2 ? best.c : null;
}

const messages = {
  buildMismatchTokenMessage({ expected, actual }: { expected: TokenType; actual: IToken }): string {
    return `expected ${labelOf(expected)}, found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }: { firstRedundant: IToken }): string {
    return `unexpected ${describeToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({
    expectedPathsPerAlt,
    actual,
    customUserDescription,
  }: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    customUserDescription?: string;
  }): string {
    const found = actual[0] ? describeToken(actual[0]) : 'the end of the file';
    const expected =
      customUserDescription ??
      oneOf(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => (path[0] ? labelOf(path[0]) : 'something else'))));
    const seen = actual[0]?.image ?? '';
    const verdictMiss = customUserDescription?.startsWith('a verdict') ? nearMiss(seen, VERDICTS) : null;
    return `expected ${expected}, found ${found}${verdictMiss ? ` (did you mean '${verdictMiss}'?)` : ''}`;
  },
  buildEarlyExitMessage({
    expectedIterationPaths,
    actual,
    customUserDescription,
  }: {
    expectedIterationPaths: TokenType[][];
    actual: IToken[];
    customUserDescription?: string;
  }): string {
    const expected =
      customUserDescription ?? oneOf(expectedIterationPaths.map((p) => (p[0] ? labelOf(p[0]) : 'something else')));
    return `expected ${expected}, found ${actual[0] ? describeToken(actual[0]) : 'the end of the file'}`;
  },
};

// ---------------------------------------------------------------------------------------------
// The statements
//
//   sheet      := statement*
//   statement  := 'title' text | 'about' text | network | era | before | firewall | uplink
//               | outside | guest | setup | reach | rules
//   network    := 'network' Name ('from' (String | 'the answer' ('or' String)?))?
//   era        := 'era' Name Version?
//   before     := 'before' String
//   firewall   := 'firewall' ('of' Name)? 'is' fwSource (','? 'or' fwSource)*
//   fwSource   := String | "the answer's" ('dump' String? ('with' "the answer's" 'commands' String?)?
//                                        | 'commands' String? 'after' 'starting' names)
//               | 'after' 'starting' names
//   names      := Name ((',' | 'and') Name)* 'in any order'?
//   uplink     := 'uplink' Name 'at' Address ('gateway' Address)? ('port' Name)?
//   outside    := 'outside' 'at' Address (',' Address)*
//   guest      := 'guest' Name attachment ('and' attachment)*
//   attachment := 'on' Name ('at' Address | 'as' Name | 'gateway' (Address | 'none'))*
//   setup      := 'setup' 'from' "the answer's" String
//   reach      := hop ((Arrow | BothWays) hop)+ ':' verdict (',' 'via' Name)? ('hint' text)?
//   hop        := (Name | 'host' | 'outside' | Address) (':' Number)? service?
//   service    := tcp/N | udp/N | 'icmp' | 'ping' | 'dns'
//   rules      := 'after' 'starting' names ','? 'the added rules' ('are exactly' | 'include')
//                 ("libvirt's" | "xen's" | String | BlockStart BlockLine* BlockEnd) (','? 'in order')? ('hint' text)?

interface Collected {
  statements: Statement[];
}

class ExpectParser extends EmbeddedActionsParser {
  private text = '';

  /** Grammar validations cost a third of start-up; tests run them (checkExpectGrammar). */
  constructor(validate = false) {
    super([...mainTokens, BlockEnd, BlockLine], {
      recoveryEnabled: false,
      maxLookahead: 3,
      errorMessageProvider: messages,
      skipValidations: !validate,
    });
    this.performSelfAnalysis();
  }

  setSource(text: string): void {
    this.text = text;
  }

  private at(t: IToken): At {
    return { line: t.startLine ?? 1, col: t.startColumn ?? 1 };
  }

  private span(first: IToken, last: IToken): string {
    if (Number.isNaN(first.startOffset) || last.endOffset === undefined) return '';
    return this.text
      .slice(first.startOffset, last.endOffset + 1)
      .replace(/\s+/g, ' ')
      .trim();
  }

  public sheet = this.RULE('sheet', (): Collected => {
    const statements: Statement[] = [];
    this.MANY(() => statements.push(this.SUBRULE(this.statement)));
    return { statements };
  });

  public labFile = this.RULE('labFile', (): { title: string | null; about: string | null; entries: LabEntry[] } => {
    let title: string | null = null;
    let about: string | null = null;
    const entries: LabEntry[] = [];
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(K.lab);
            title = this.SUBRULE(this.text_);
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.about);
            about = this.SUBRULE1(this.text_);
          },
        },
        { ALT: () => entries.push(this.SUBRULE(this.labEntry)) },
      ]);
    });
    return { title, about, entries };
  });

  private labEntry = this.RULE('labEntry', (): LabEntry => {
    const kindToken = this.OR([{ ALT: () => this.CONSUME(K.task) }, { ALT: () => this.CONSUME(K.query) }]);
    const id = this.OR1([
      { ALT: () => this.CONSUME(Version) },
      { ALT: () => this.CONSUME(NumberLit) },
      { ALT: () => this.CONSUME(Name) },
    ]);
    const title = this.OPTION(() => this.SUBRULE(this.text_)) ?? null;
    this.CONSUME(K.check);
    const sheets: Array<{ file: string; at: At }> = [];
    const first = this.CONSUME(StringLit);
    sheets.push({ file: this.ACTION(() => unquote(first.image)), at: this.at(first) });
    this.MANY(() => {
      this.CONSUME(Comma);
      const more = this.CONSUME1(StringLit);
      sheets.push({ file: this.ACTION(() => unquote(more.image)), at: this.at(more) });
    });
    const about =
      this.OPTION1(() => {
        this.CONSUME(K.about);
        return this.SUBRULE1(this.text_);
      }) ?? null;
    return {
      kind: kindToken.tokenType === K.task ? 'task' : 'query',
      id: id.image,
      title,
      sheets,
      about,
      at: this.at(kindToken),
    };
  });

  private text_ = this.RULE('text', (): string => {
    const t = this.OR([{ ALT: () => this.CONSUME(StringLit) }, { ALT: () => this.CONSUME(LongString) }]);
    return this.ACTION(() => (t.tokenType === LongString ? dedent(t.image.slice(3, -3)) : unquote(t.image)));
  });

  private statement = this.RULE('statement', (): Statement => {
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const t = this.CONSUME(K.title);
            return { kind: 'title', text: this.SUBRULE(this.text_), at: this.at(t) } as Statement;
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(K.about);
            return { kind: 'about', text: this.SUBRULE1(this.text_), at: this.at(t) } as Statement;
          },
        },
        { ALT: () => this.SUBRULE(this.network) },
        { ALT: () => this.SUBRULE(this.era) },
        {
          ALT: () => {
            const t = this.CONSUME(K.before);
            const file = this.CONSUME(StringLit);
            return { kind: 'before', file: this.ACTION(() => unquote(file.image)), at: this.at(t) } as Statement;
          },
        },
        { ALT: () => this.SUBRULE(this.firewall) },
        { ALT: () => this.SUBRULE(this.uplink) },
        { ALT: () => this.SUBRULE(this.outsideDecl) },
        { ALT: () => this.SUBRULE(this.guest) },
        {
          ALT: () => {
            const t = this.CONSUME(K.setup);
            this.CONSUME(K.from);
            this.CONSUME(TheAnswers);
            const file = this.CONSUME1(StringLit);
            return { kind: 'setup', file: this.ACTION(() => unquote(file.image)), at: this.at(t) } as Statement;
          },
        },
        { ALT: () => this.SUBRULE(this.rules) },
        { ALT: () => this.SUBRULE(this.reach) },
      ],
      ERR_MSG:
        'a statement (network, guest, uplink, era, before, firewall, an assertion such as vm1 -> outside : allowed, or after starting …)',
    });
  });

  private network = this.RULE('network', (): Statement => {
    const t = this.CONSUME(K.network);
    const name = this.SUBRULE(this.named);
    let source: NetworkSource = { kind: 'given' };
    this.OPTION(() => {
      this.CONSUME(K.from);
      this.OR([
        {
          ALT: () => {
            const file = this.CONSUME(StringLit);
            source = { kind: 'file', file: this.ACTION(() => unquote(file.image)) };
          },
        },
        {
          ALT: () => {
            this.CONSUME(TheAnswer);
            this.OPTION1(() => {
              this.CONSUME(K.or);
              const file = this.CONSUME1(StringLit);
              source = { kind: 'given-or-file', file: this.ACTION(() => unquote(file.image)) };
            });
          },
        },
      ]);
    });
    return { kind: 'network', name, source, at: this.at(t) };
  });

  private era = this.RULE('era', (): Statement => {
    const t = this.CONSUME(K.era);
    const flavor = this.SUBRULE(this.named);
    const version = this.OPTION(() =>
      this.OR([{ ALT: () => this.CONSUME(Version) }, { ALT: () => this.CONSUME(NumberLit) }]),
    );
    return { kind: 'era', flavor, version: version?.image ?? null, at: this.at(t) };
  });

  private firewall = this.RULE('firewall', (): Statement => {
    const t = this.CONSUME(K.firewall);
    const of =
      this.OPTION(() => {
        this.CONSUME(K.of);
        return this.SUBRULE(this.named);
      }) ?? null;
    this.CONSUME(K.is);
    const sources: FirewallSource[] = [this.SUBRULE(this.firewallSource)];
    this.MANY(() => {
      this.OPTION1(() => this.CONSUME(Comma));
      this.CONSUME(K.or);
      sources.push(this.SUBRULE1(this.firewallSource));
    });
    return { kind: 'firewall', of, sources, at: this.at(t) };
  });

  private firewallSource = this.RULE('firewallSource', (): FirewallSource => {
    return this.OR([
      {
        ALT: () => {
          const file = this.CONSUME(StringLit);
          return { kind: 'file', file: this.ACTION(() => unquote(file.image)), at: this.at(file) } as FirewallSource;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(TheAnswers);
          return this.OR1([
            {
              ALT: () => {
                this.CONSUME(K.dump);
                const file = this.OPTION(() => this.CONSUME1(StringLit));
                const commands =
                  this.OPTION2(() => {
                    this.CONSUME(K.with);
                    this.CONSUME1(TheAnswers);
                    this.CONSUME1(K.commands);
                    const c = this.OPTION3(() => this.CONSUME3(StringLit));
                    return { file: this.ACTION(() => (c ? unquote(c.image) : null)) };
                  }) ?? null;
                return {
                  kind: 'answer-dump',
                  file: this.ACTION(() => (file ? unquote(file.image) : null)),
                  commands,
                  at: this.at(t),
                } as FirewallSource;
              },
            },
            {
              ALT: () => {
                this.CONSUME(K.commands);
                const file = this.OPTION1(() => this.CONSUME2(StringLit));
                this.CONSUME(K.after);
                this.CONSUME(K.starting);
                const { names, anyOrder } = this.SUBRULE(this.names);
                return {
                  kind: 'answer-commands',
                  networks: names,
                  anyOrder,
                  file: this.ACTION(() => (file ? unquote(file.image) : null)),
                  at: this.at(t),
                } as FirewallSource;
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME1(K.after);
          this.CONSUME1(K.starting);
          const { names, anyOrder } = this.SUBRULE1(this.names);
          return { kind: 'started', networks: names, anyOrder, at: this.at(t) } as FirewallSource;
        },
      },
    ]);
  });

  private names = this.RULE('names', (): { names: Named[]; anyOrder: boolean } => {
    const names: Named[] = [this.SUBRULE(this.named)];
    this.MANY({
      // A comma before "the added rules" ends the list.
      GATE: () => this.LA(2).tokenType === Name,
      DEF: () => {
        this.OR([{ ALT: () => this.CONSUME(Comma) }, { ALT: () => this.CONSUME(K.and) }]);
        names.push(this.SUBRULE1(this.named));
      },
    });
    const anyOrder = this.OPTION(() => this.CONSUME(InAnyOrder)) !== undefined;
    return { names, anyOrder };
  });

  private named = this.RULE('named', (): Named => {
    const t = this.CONSUME(Name);
    return { name: t.image, at: this.at(t) };
  });

  private uplink = this.RULE('uplink', (): Statement => {
    const t = this.CONSUME(K.uplink);
    const device = this.CONSUME(Name);
    this.CONSUME(K.at);
    const address = this.CONSUME(Address);
    const gateway = this.OPTION(() => {
      this.CONSUME(K.gateway);
      return this.CONSUME1(Address);
    });
    const port = this.OPTION1(() => {
      this.CONSUME(K.port);
      return this.CONSUME1(Name);
    });
    return {
      kind: 'uplink',
      device: device.image,
      address: address.image,
      gateway: gateway?.image ?? null,
      port: port?.image ?? null,
      at: this.at(t),
    };
  });

  private outsideDecl = this.RULE('outsideDecl', (): Statement => {
    const t = this.CONSUME(K.outside);
    this.CONSUME(K.at);
    const addresses = [this.CONSUME(Address).image];
    this.MANY(() => {
      this.CONSUME(Comma);
      addresses.push(this.CONSUME1(Address).image);
    });
    return { kind: 'outside', addresses, at: this.at(t) };
  });

  private guest = this.RULE('guest', (): Statement => {
    const t = this.CONSUME(K.guest);
    const name = this.SUBRULE(this.named);
    const attachments = [this.SUBRULE(this.attachment)];
    this.MANY(() => {
      this.CONSUME(K.and);
      attachments.push(this.SUBRULE1(this.attachment));
    });
    return { kind: 'guest', name, attachments, at: this.at(t) };
  });

  private attachment = this.RULE('attachment', (): Attachment => {
    this.CONSUME(K.on);
    const network = this.SUBRULE(this.named);
    let address: IToken | null = null;
    let device: IToken | null = null;
    let gateway: string | 'none' | null = null;
    let gatewayAt: At | null = null;
    // `at`, `as` and `gateway` in any order.
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(K.at);
            address = this.CONSUME(Address);
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.as);
            device = this.CONSUME(Name);
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.gateway);
            const g = this.OR1([{ ALT: () => this.CONSUME1(Address) }, { ALT: () => this.CONSUME(K.none) }]);
            gateway = g.tokenType === K.none ? 'none' : g.image;
            gatewayAt = this.at(g);
          },
        },
      ]);
    });
    const a = address as IToken | null;
    const d = device as IToken | null;
    return {
      network,
      address: a?.image ?? null,
      addressAt: a ? this.at(a) : null,
      device: d?.image ?? null,
      gateway,
      gatewayAt,
    };
  });

  private reach = this.RULE('reach', (): Statement => {
    const first = this.ACTION(() => this.LA(1));
    const hops: Hop[] = [this.SUBRULE(this.hop)];
    let bothWays = false;
    this.AT_LEAST_ONE({
      DEF: () => {
        const arrow = this.OR([{ ALT: () => this.CONSUME(Arrow) }, { ALT: () => this.CONSUME(BothWays) }]);
        if (arrow.tokenType === BothWays) bothWays = true;
        hops.push(this.SUBRULE1(this.hop));
      },
      ERR_MSG: "an arrow ('->', '→', '<->' or '↔') and where the traffic goes",
    });
    this.CONSUME(Colon);
    const verdict = this.OR1({
      DEF: [
        { ALT: () => this.CONSUME(K.allowed) },
        { ALT: () => this.CONSUME(K.blocked) },
        { ALT: () => this.CONSUME(K.rejected) },
        { ALT: () => this.CONSUME(K.dropped) },
      ],
      ERR_MSG: "a verdict after ':' (allowed, blocked, rejected or dropped)",
    });
    let last = verdict;
    const via =
      this.OPTION(() => {
        this.CONSUME(Comma);
        this.CONSUME(K.via);
        const n = this.SUBRULE(this.named);
        last = this.ACTION(() => this.LA(0));
        return n;
      }) ?? null;
    const hint =
      this.OPTION1(() => {
        this.CONSUME(K.hint);
        return this.SUBRULE(this.text_);
      }) ?? null;
    return {
      kind: 'reach',
      hops,
      bothWays,
      expect: verdict.image as Expectation,
      via,
      hint,
      text: this.ACTION(() => this.span(first, last)),
      at: hops[0]!.at,
    };
  });

  private hop = this.RULE('hop', (): Hop => {
    const node = this.OR({
      DEF: [
        { ALT: () => this.CONSUME(Name) },
        { ALT: () => this.CONSUME(K.host) },
        { ALT: () => this.CONSUME(K.outside) },
        { ALT: () => this.CONSUME(Address) },
      ],
      ERR_MSG: "a guest name, 'host', 'outside' or an address",
    });
    // `vm1:80` is a port; `vm1 : allowed` is the verdict (chevrotain's OPTION looks one token ahead).
    const port =
      this.OPTION({
        GATE: () => this.LA(2).tokenType === NumberLit,
        DEF: () => {
          this.CONSUME(Colon);
          return Number(this.CONSUME(NumberLit).image);
        },
      }) ?? null;
    const service =
      this.OPTION1(() =>
        this.OR1([
          {
            ALT: (): Service => {
              const t = this.CONSUME(ProtoPort);
              return this.ACTION(() => {
                const [proto, p] = t.image.split('/');
                return { proto: proto as 'tcp' | 'udp', port: Number(p) };
              });
            },
          },
          {
            ALT: (): Service => {
              this.OR2([{ ALT: () => this.CONSUME(K.icmp) }, { ALT: () => this.CONSUME(K.ping) }]);
              return { proto: 'icmp' };
            },
          },
          {
            ALT: (): Service => {
              this.CONSUME(K.dns);
              return { proto: 'dns' };
            },
          },
        ]),
      ) ?? null;
    return { node: node.image, port, service, at: this.at(node) };
  });

  private rules = this.RULE('rules', (): Statement => {
    const t = this.CONSUME(K.after);
    this.CONSUME(K.starting);
    const { names, anyOrder } = this.SUBRULE(this.names);
    this.OPTION(() => this.CONSUME(Comma));
    this.CONSUME(TheAddedRules);
    const mode = this.OR([
      { ALT: () => (this.CONSUME(AreExactly), 'exactly' as const) },
      { ALT: () => (this.CONSUME(K.include), 'include' as const) },
    ]);
    let last: IToken = t;
    const source = this.OR1({
      DEF: [
        { ALT: (): RuleSource => ((last = this.CONSUME(LibvirtRules)), { kind: 'engine', word: 'libvirt' }) },
        { ALT: (): RuleSource => ((last = this.CONSUME(XenRules)), { kind: 'engine', word: 'xen' }) },
        {
          ALT: (): RuleSource => {
            const file = this.CONSUME(StringLit);
            last = file;
            return { kind: 'file', file: this.ACTION(() => unquote(file.image)) };
          },
        },
        {
          ALT: (): RuleSource => {
            const open = this.CONSUME(BlockStart);
            last = open;
            const lines: Array<{ text: string; line: number }> = [];
            this.MANY(() => {
              const l = this.CONSUME(BlockLine);
              lines.push({ text: l.image.replace(/\r?\n$/, ''), line: l.startLine ?? 0 });
            });
            this.CONSUME(BlockEnd);
            return {
              kind: 'inline',
              lines: lines.filter((l) => l.text.trim() !== '' && !l.text.trim().startsWith('#')),
            };
          },
        },
      ],
      ERR_MSG:
        '"libvirt\'s", "xen\'s", a "file" of rules, or \':\' and the rules on the lines below (closed by \'end\')',
    });
    const inOrder =
      this.OPTION1(() => {
        this.OPTION2(() => this.CONSUME1(Comma));
        last = this.CONSUME(InOrder);
        return true;
      }) ?? false;
    const hint =
      this.OPTION3(() => {
        this.CONSUME(K.hint);
        return this.SUBRULE(this.text_);
      }) ?? null;
    return {
      kind: 'rules',
      networks: names,
      anyOrder,
      mode,
      source,
      inOrder,
      hint,
      text: this.ACTION(() => this.span(t, last).replace(/:$/, ': …')),
      at: this.at(t),
    };
  });
}

function unquote(image: string): string {
  return image.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
}

/** Triple-quoted prose: the common indentation removed, the first and last blank lines dropped. */
function dedent(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const indent = minOf(lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

let parser: ExpectParser | null = null;

function run<T>(text: string, file: string, entry: (p: ExpectParser) => T): T {
  const lexed = lexer.tokenize(text);
  if (lexed.errors.length > 0) {
    const e = lexed.errors[0]!;
    const ch = text[e.offset] ?? '';
    const what =
      ch === '"'
        ? 'unterminated string (a "quoted" string ends on the same line; use """…""" for several lines)'
        : `unexpected character '${ch}'`;
    throw new InputError(file, e.line ?? 1, e.column ?? 1, what);
  }
  parser ??= new ExpectParser();
  parser.setSource(text);
  parser.input = lexed.tokens;
  const result = entry(parser);
  if (parser.errors.length > 0) {
    const e = parser.errors[0]!;
    const t = e.token;
    const atEnd = t.tokenType.name === 'EOF' || Number.isNaN(t.startOffset);
    const last = lexed.tokens[lexed.tokens.length - 1];
    const line = atEnd ? (last?.endLine ?? 1) : (t.startLine ?? 1);
    const col = atEnd ? (last?.endColumn ?? 0) + 1 : (t.startColumn ?? 1);
    let message = e.message;
    if (
      atEnd &&
      lexed.tokens.some((x) => x.tokenType === BlockStart) &&
      !lexed.tokens.some((x) => x.tokenType === BlockEnd)
    ) {
      message = "a block of rules opened with ':' at the end of a line is not closed with a line 'end'";
    }
    throw new InputError(file, line, col, message);
  }
  return result;
}

/** Parses an expectations sheet (a lab query's checks, or a policy). */
export function parseSheet(text: string, file: string): Sheet {
  return { file, statements: run(loneCrAsLf(text), file, (p) => p.sheet()).statements };
}

/** Parses a lab file: the lab's title, prose, and its tasks and queries with their sheets. */
export function parseLabFile(text: string, file: string): LabFile {
  const r = run(loneCrAsLf(text), file, (p) => p.labFile());
  return { file, ...r };
}

/** Builds the parser and lexer with chevrotain's grammar validations on: throws on an ambiguity (for tests). */
export function checkExpectGrammar(): void {
  new Lexer(
    { modes: { main: mainTokens, block: [BlockEnd, BlockLine] }, defaultMode: 'main' },
    { positionTracking: 'full', skipValidations: false },
  );
  new ExpectParser(true);
}
