// The topology file `virtables trace --topology FILE` reads: one statement per line.
//
//   uplink eth0 10.3.3.50/24 [2001:db8::50/64] gateway 10.3.3.1 [gateway 2001:db8::1] [port peth0]
//   bridge virbr3 [192.168.200.1/24 …]
//   network natted.xml                         (a libvirt network XML, relative to this file)
//   guest vm1 on virbr2 192.168.124.10[/24] [ADDRESS…] [gateway ADDRESS|none]… [port vnet0] [mac 52:54:00:…]
//   outside 203.0.113.10 [ADDRESS …]
//   route 10.8.0.0/16 via 192.168.124.5 [dev virbr2]
//   ip_forward on|off
//   br_netfilter on|off|auto
//
// Tokens first, then the line grammar (chevrotain, embedded actions), then meaning: every
// value is checked here so errors carry FILE:LINE:COL.

import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js';
import { parseCidr, parseHost, type HostAddress } from '../src/model/cidr.js';
import type { SourcePos } from '../src/model/dump.js';
import { InputError } from '../src/model/errors.js';

const Spaces = createToken({ name: 'Spaces', pattern: /[ \t\r]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true });
const Word = createToken({ name: 'Word', pattern: /[^\s#]+/ });
const kw = (name: string): TokenType =>
  createToken({ name: `Kw_${name}`, pattern: new RegExp(name), longer_alt: Word });
const Uplink = kw('uplink');
const Bridge = kw('bridge');
const NetworkKw = kw('network');
const Guest = kw('guest');
const On = kw('on');
const Gateway = kw('gateway');
const Port = kw('port');
const Mac = kw('mac');
const Outside = kw('outside');
const RouteKw = kw('route');
const Via = kw('via');
const Dev = kw('dev');
const IpForward = kw('ip_forward');
const BrNetfilter = kw('br_netfilter');

const allTokens = [
  Spaces,
  Comment,
  Newline,
  Uplink,
  Bridge,
  NetworkKw,
  Guest,
  On,
  Gateway,
  Port,
  Mac,
  Outside,
  RouteKw,
  Via,
  Dev,
  IpForward,
  BrNetfilter,
  Word,
];
const lexer = new Lexer(allTokens, { positionTracking: 'full' });

export interface LinkAddressAst {
  readonly address: HostAddress;
  /** -1 when the file gave no prefix. */
  readonly prefix: number;
}

export type TopologyStatement =
  | {
      readonly kind: 'uplink';
      readonly name: string;
      readonly addresses: LinkAddressAst[];
      readonly gateways: HostAddress[];
      readonly port: string | null;
      readonly pos: SourcePos;
    }
  | { readonly kind: 'bridge'; readonly name: string; readonly addresses: LinkAddressAst[]; readonly pos: SourcePos }
  | { readonly kind: 'network'; readonly file: string; readonly pos: SourcePos }
  | {
      readonly kind: 'guest';
      readonly name: string;
      readonly attach: string;
      readonly addresses: LinkAddressAst[];
      readonly gateways: HostAddress[] | undefined;
      readonly port: string | null;
      readonly mac: string | null;
      readonly pos: SourcePos;
    }
  | { readonly kind: 'outside'; readonly addresses: HostAddress[]; readonly pos: SourcePos }
  | {
      readonly kind: 'route';
      readonly dest: NonNullable<ReturnType<typeof parseCidr>>;
      readonly via: HostAddress;
      readonly dev: string | null;
      readonly pos: SourcePos;
    }
  | { readonly kind: 'ip_forward'; readonly on: boolean; readonly pos: SourcePos }
  | { readonly kind: 'br_netfilter'; readonly value: 'on' | 'off' | 'auto'; readonly pos: SourcePos };

class TopologyParser extends EmbeddedActionsParser {
  file = '-';

  constructor() {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  private pos(t: IToken): SourcePos {
    return { line: t.startLine ?? 1, col: t.startColumn ?? 1 };
  }

  private fail(t: IToken, message: string): never {
    throw new InputError(this.file, t.startLine ?? 1, t.startColumn ?? 1, message);
  }

  private host(t: IToken): HostAddress {
    const h = parseHost(t.image);
    if (!h) this.fail(t, `bad address '${t.image}'`);
    return h!;
  }

  private link(t: IToken, needPrefix: boolean): LinkAddressAst {
    const slash = t.image.indexOf('/');
    if (slash < 0) {
      if (needPrefix) this.fail(t, `'${t.image}' needs a prefix (ADDRESS/LEN)`);
      return { address: this.host(t), prefix: -1 };
    }
    const h = parseHost(t.image.slice(0, slash));
    const c = parseCidr(t.image);
    if (!h || !c) this.fail(t, `bad address '${t.image}' (expected ADDRESS/LEN)`);
    return { address: h!, prefix: c!.prefix };
  }

  public file_ = this.RULE('file', (): TopologyStatement[] => {
    const out: TopologyStatement[] = [];
    this.MANY(() => {
      this.OPTION(() => {
        const s = this.SUBRULE(this.statement);
        this.ACTION(() => out.push(s));
      });
      this.CONSUME(Newline);
    });
    this.OPTION2(() => {
      const s = this.SUBRULE2(this.statement);
      this.ACTION(() => out.push(s));
    });
    return out;
  });

  private statement = this.RULE('statement', (): TopologyStatement =>
    this.OR([
      { ALT: () => this.SUBRULE(this.uplink) },
      { ALT: () => this.SUBRULE(this.bridge) },
      { ALT: () => this.SUBRULE(this.network) },
      { ALT: () => this.SUBRULE(this.guest) },
      { ALT: () => this.SUBRULE(this.outside) },
      { ALT: () => this.SUBRULE(this.route) },
      { ALT: () => this.SUBRULE(this.switch_) },
    ]),
  );

  private uplink = this.RULE('uplink', (): TopologyStatement => {
    const k = this.CONSUME(Uplink);
    const name = this.CONSUME(Word);
    const addrs: IToken[] = [this.CONSUME2(Word)];
    this.MANY(() => addrs.push(this.CONSUME3(Word)));
    const gws: IToken[] = [];
    let port: IToken | null = null;
    this.MANY2(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Gateway);
            gws.push(this.CONSUME4(Word));
          },
        },
        {
          ALT: () => {
            this.CONSUME(Port);
            port = this.CONSUME5(Word);
          },
        },
      ]),
    );
    return this.ACTION(() => ({
      kind: 'uplink' as const,
      name: name.image,
      addresses: addrs.map((a) => this.link(a, true)),
      gateways: gws.map((g) => this.host(g)),
      port: port ? (port as IToken).image : null,
      pos: this.pos(k),
    }));
  });

  private bridge = this.RULE('bridge', (): TopologyStatement => {
    const k = this.CONSUME(Bridge);
    const name = this.CONSUME(Word);
    const addrs: IToken[] = [];
    this.MANY(() => addrs.push(this.CONSUME2(Word)));
    return this.ACTION(() => ({
      kind: 'bridge' as const,
      name: name.image,
      addresses: addrs.map((a) => this.link(a, true)),
      pos: this.pos(k),
    }));
  });

  private network = this.RULE('network', (): TopologyStatement => {
    const k = this.CONSUME(NetworkKw);
    const f = this.CONSUME(Word);
    return { kind: 'network', file: f.image, pos: this.pos(k) };
  });

  private guest = this.RULE('guest', (): TopologyStatement => {
    const k = this.CONSUME(Guest);
    const name = this.CONSUME(Word);
    this.CONSUME(On);
    const attach = this.CONSUME2(Word);
    const addrs: IToken[] = [this.CONSUME3(Word)];
    this.MANY(() => addrs.push(this.CONSUME4(Word)));
    const gws: IToken[] = [];
    let port: IToken | null = null;
    let mac: IToken | null = null;
    this.MANY2(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Gateway);
            gws.push(this.CONSUME5(Word));
          },
        },
        {
          ALT: () => {
            this.CONSUME(Port);
            port = this.CONSUME6(Word);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Mac);
            mac = this.CONSUME7(Word);
          },
        },
      ]),
    );
    return this.ACTION(() => {
      const m = mac as IToken | null;
      if (m && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(m.image)) this.fail(m, `bad MAC address '${m.image}'`);
      const none = gws.find((g) => g.image === 'none');
      if (none && gws.length > 1) this.fail(none, "'gateway none' cannot be combined with other gateways");
      return {
        kind: 'guest' as const,
        name: name.image,
        attach: attach.image,
        addresses: addrs.map((a) => this.link(a, false)),
        gateways: gws.length === 0 ? undefined : none ? [] : gws.map((g) => this.host(g)),
        port: port ? (port as IToken).image : null,
        mac: m ? m.image.toLowerCase() : null,
        pos: this.pos(k),
      };
    });
  });

  private outside = this.RULE('outside', (): TopologyStatement => {
    const k = this.CONSUME(Outside);
    const addrs: IToken[] = [this.CONSUME(Word)];
    this.MANY(() => addrs.push(this.CONSUME2(Word)));
    return this.ACTION(() => ({
      kind: 'outside' as const,
      addresses: addrs.map((a) => this.host(a)),
      pos: this.pos(k),
    }));
  });

  private route = this.RULE('route', (): TopologyStatement => {
    const k = this.CONSUME(RouteKw);
    const dest = this.CONSUME(Word);
    this.CONSUME(Via);
    const via = this.CONSUME2(Word);
    let dev: IToken | null = null;
    this.OPTION(() => {
      this.CONSUME(Dev);
      dev = this.CONSUME3(Word);
    });
    return this.ACTION(() => {
      const c = parseCidr(dest.image);
      if (!c) this.fail(dest, `bad destination '${dest.image}' (expected ADDRESS/LEN)`);
      return {
        kind: 'route' as const,
        dest: c!,
        via: this.host(via),
        dev: dev ? (dev as IToken).image : null,
        pos: this.pos(k),
      };
    });
  });

  private switch_ = this.RULE('switch', (): TopologyStatement => {
    const k = this.OR([{ ALT: () => this.CONSUME(IpForward) }, { ALT: () => this.CONSUME(BrNetfilter) }]);
    const value = this.OR2([{ ALT: () => this.CONSUME(On) }, { ALT: () => this.CONSUME(Word) }]);
    return this.ACTION(() => {
      const v = value.image;
      if (k.tokenType === IpForward) {
        if (v !== 'on' && v !== 'off') this.fail(value, `ip_forward takes on or off, not '${v}'`);
        return { kind: 'ip_forward' as const, on: v === 'on', pos: this.pos(k) };
      }
      if (v !== 'on' && v !== 'off' && v !== 'auto') this.fail(value, `br_netfilter takes on, off or auto, not '${v}'`);
      return { kind: 'br_netfilter' as const, value: v as 'on' | 'off' | 'auto', pos: this.pos(k) };
    });
  });
}

const parser = new TopologyParser();

/** Parses a topology file into its statements (positions kept for messages). */
export function parseTopologyFile(source: string, file: string): TopologyStatement[] {
  // LF only: the blank token takes a CR, and chevrotain counts a CR it takes as a line end (CRLF twice).
  const text = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
  const lexed = lexer.tokenize(text);
  const lexErr = lexed.errors[0];
  if (lexErr)
    throw new InputError(
      file,
      lexErr.line ?? 1,
      lexErr.column ?? 1,
      `unexpected character '${text.charAt(lexErr.offset)}'`,
    );
  parser.file = file;
  parser.input = lexed.tokens;
  const out = parser.file_();
  const err = parser.errors[0];
  if (err) {
    const t = err.token;
    const at = t.image === '' ? 'end of line' : `'${t.image.replace('\n', '\\n')}'`;
    throw new InputError(
      file,
      Number.isFinite(t.startLine) ? t.startLine! : 1,
      Number.isFinite(t.startColumn) ? t.startColumn! : 1,
      `unexpected ${at}: expected a statement (uplink, bridge, network, guest, outside, route, ip_forward, br_netfilter) and its values`,
    );
  }
  return out;
}
