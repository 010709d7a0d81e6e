// What the items of an nft rule line mean: statements and expressions of the nft model, built the
// way `nft -j` reports the same rule (values as the kernel holds them, bare `reject` with its
// default code, a bare bitmask value as op `in`). A statement this reader does not know starts an
// `unknown` statement holding the rest of the rule verbatim: nothing is dropped, nothing guessed.

import type {
  NftExpr,
  NftFamily,
  NftLimit,
  NftNat,
  NftNatType,
  NftOp,
  NftPos,
  NftQuota,
  NftRejectType,
  NftStatement,
  NftVerdictName,
} from '../src/model/nft.js';
import type { ItemAst } from './nft-ast.js';
import {
  BITMASK_TYPES,
  CT_KEYS,
  defaultReject,
  exprType,
  FIB_FLAGS,
  FIB_RESULTS,
  limitDefaults,
  MAX_EXPR_DEPTH,
  META_KEYS,
  PAYLOAD_FIELDS,
  UNQUALIFIED_META,
  VERDICTS,
} from './nft-build.js';

export interface RuleContext {
  readonly family: NftFamily;
  /** The whole input, for carrying unknown parts verbatim. */
  readonly text: string;
}

export interface RuleAst {
  readonly statements: NftStatement[];
  readonly comment: string | null;
}

/** Thrown inside the reader when the items from here on are not understood; caught per statement. */
class NotUnderstood extends Error {}

const RELATIONAL: Readonly<Record<string, NftOp>> = {
  '==': '==',
  '!=': '!=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
  '!': '!',
  eq: '==',
  ne: '!=',
  lt: '<',
  gt: '>',
  le: '<=',
  ge: '>=',
};
const BINOPS = new Set(['&', '|', '^', '<<', '>>']);
const NAT_FLAGS = new Set(['random', 'fully-random', 'persistent', 'netmap']);
/** The order nft lists NAT flags in (statement.c print_nf_nat_flags). */
const NAT_FLAG_ORDER: readonly string[] = ['random', 'fully-random', 'persistent', 'netmap'];
const LIMIT_PERIODS = new Set(['second', 'minute', 'hour', 'day', 'week']);
const BYTE_UNITS = new Set(['bytes', 'kbytes', 'mbytes', 'gbytes']);
const LOG_LEVELS = new Set(['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'audit']);
const MANGLE_CT_KEYS = new Set(['mark', 'label', 'zone']);
const RAW_BASES = new Set(['@ll', '@nh', '@th', '@ih']);

/** Reads one rule line. */
export function readRule(items: readonly ItemAst[], ctx: RuleContext): RuleAst {
  let end = items.length;
  let comment: string | null = null;
  const last = items[end - 1];
  if (end >= 2 && last?.kind === 'quoted' && isWord(items[end - 2], 'comment')) {
    comment = last.image;
    end -= 2;
  }
  const statements: NftStatement[] = [];
  const cursor = new Cursor(items, 0, end, ctx);
  while (!cursor.done()) {
    const start = cursor.index;
    try {
      statements.push(cursor.statement());
    } catch (e) {
      if (!(e instanceof NotUnderstood)) throw e;
      statements.push(cursor.unknownFrom(start));
      break;
    }
  }
  return { statements, comment };
}

/** Reads the elements of a set or map (`{ a, b : c, d timeout 1h }`, or a named set's `elements = { … }`). */
export function readElements(
  items: readonly ItemAst[],
  ctx: RuleContext,
  options: { readonly verdicts: boolean },
): NftExpr[] {
  const out: NftExpr[] = [];
  for (const part of splitOnCommas(items)) {
    if (part.length === 0) continue;
    const cursor = new Cursor(part, 0, part.length, ctx);
    try {
      out.push(cursor.element(options.verdicts));
      if (!cursor.done()) throw new NotUnderstood();
    } catch (e) {
      if (!(e instanceof NotUnderstood)) throw e;
      out.push({
        kind: 'unknown',
        text: ctx.text.slice(part[0]!.start, part[part.length - 1]!.end),
        json: null,
        what: part[0]!.image,
      });
    }
  }
  return out;
}

/** A left-hand expression alone (a set's `typeof ip saddr . tcp dport`); null when not understood. */
export function readExpression(items: readonly ItemAst[], ctx: RuleContext): NftExpr | null {
  const cursor = new Cursor(items, 0, items.length, ctx);
  try {
    const e = cursor.leftExpr(0);
    return cursor.done() ? e : null;
  } catch (e) {
    if (e instanceof NotUnderstood) return null;
    throw e;
  }
}

function isWord(item: ItemAst | undefined, word?: string): boolean {
  return item !== undefined && item.kind === 'word' && (word === undefined || item.image === word);
}

function splitOnCommas(items: readonly ItemAst[]): ItemAst[][] {
  const parts: ItemAst[][] = [[]];
  for (const item of items) {
    if (item.kind === 'comma') parts.push([]);
    else parts[parts.length - 1]!.push(item);
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Words to values

const DECIMAL = /^\d+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV6 = /^[0-9a-fA-F.]*:[0-9a-fA-F:.]*$/; // the first ':' fixed: `[…:]*:[…:]*` backtracked on colons

function isNumberWord(w: string): boolean {
  return DECIMAL.test(w) || HEX.test(w);
}

function numberOf(w: string): number {
  return HEX.test(w) ? Number.parseInt(w.slice(2), 16) : Number(w);
}

/** Words that can be the ends of a `low-high` range: numbers and addresses. */
function rangeAtom(w: string): boolean {
  return isNumberWord(w) || IPV4.test(w) || IPV6.test(w);
}

/** One word as a value: a number, an address prefix, a range, or a symbol/name/address string. */
export function wordValue(w: string): NftExpr {
  if (isNumberWord(w)) return { kind: 'value', value: numberOf(w) };
  const slash = w.indexOf('/');
  if (slash > 0 && DECIMAL.test(w.slice(slash + 1))) {
    const addr = w.slice(0, slash);
    if (IPV4.test(addr) || IPV6.test(addr))
      return { kind: 'prefix', addr: { kind: 'value', value: addr }, len: Number(w.slice(slash + 1)) };
  }
  for (let i = w.indexOf('-'); i > 0; i = w.indexOf('-', i + 1)) {
    const low = w.slice(0, i);
    const high = w.slice(i + 1);
    if (rangeAtom(low) && rangeAtom(high)) return { kind: 'range', low: wordValue(low), high: wordValue(high) };
  }
  return { kind: 'value', value: w };
}

/** `1h`, `10m`, `59m59s932ms`, `3600` → whole seconds (nft -j reports seconds, dropping milliseconds). */
export function durationSeconds(w: string): number | null {
  if (DECIMAL.test(w)) return Number(w);
  let ms = 0;
  let i = 0;
  const units: Readonly<Record<string, number>> = { d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
  while (i < w.length) {
    let j = i;
    while (j < w.length && w[j]! >= '0' && w[j]! <= '9') j++;
    if (j === i) return null;
    const n = Number(w.slice(i, j));
    const unit = w.startsWith('ms', j) ? 'ms' : (w[j] ?? '');
    const factor = units[unit];
    if (factor === undefined) return null;
    ms += n * factor;
    i = j + unit.length;
  }
  return Math.floor(ms / 1000);
}

// ---------------------------------------------------------------------------------------------
// The reader

class Cursor {
  index: number;

  constructor(
    private readonly items: readonly ItemAst[],
    start: number,
    private readonly end: number,
    private readonly ctx: RuleContext,
  ) {
    this.index = start;
  }

  done(): boolean {
    return this.index >= this.end;
  }

  private peek(k = 0): ItemAst | undefined {
    return this.index + k < this.end ? this.items[this.index + k] : undefined;
  }

  private word(k = 0): string | null {
    const it = this.peek(k);
    return it && it.kind === 'word' ? it.image : null;
  }

  private isOp(image: string, k = 0): boolean {
    const it = this.peek(k);
    return it !== undefined && it.kind === 'op' && it.image === image;
  }

  private next(): ItemAst {
    const it = this.peek();
    if (!it) throw new NotUnderstood();
    this.index++;
    return it;
  }

  private expectWord(word?: string): string {
    const it = this.next();
    if (it.kind !== 'word' || (word !== undefined && it.image !== word)) throw new NotUnderstood();
    return it.image;
  }

  /** A word or a quoted string (names: chains, sets, prefixes). */
  private name(): string {
    const it = this.next();
    if (it.kind !== 'word' && it.kind !== 'quoted') throw new NotUnderstood();
    return it.image;
  }

  private number(): number {
    const w = this.expectWord();
    if (!isNumberWord(w)) throw new NotUnderstood();
    return numberOf(w);
  }

  private pos(): NftPos {
    const it = this.peek() ?? this.items[this.end - 1]!;
    return { line: it.line, col: it.col };
  }

  unknownFrom(start: number): NftStatement {
    const first = this.items[start]!;
    const last = this.items[this.end - 1]!;
    this.index = this.end;
    return {
      kind: 'unknown',
      pos: { line: first.line, col: first.col },
      text: this.ctx.text.slice(first.start, last.end),
      json: null,
      what: first.image,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  statement(): NftStatement {
    const pos = this.pos();
    const w = this.word();
    if (w !== null && VERDICTS.includes(w as NftVerdictName)) {
      this.index++;
      const target = w === 'jump' || w === 'goto' ? this.name() : null;
      return { kind: 'verdict', verdict: w as NftVerdictName, target, pos };
    }
    switch (w) {
      case 'counter':
        return this.counter(pos);
      case 'log':
        return this.log(pos);
      case 'limit':
        return this.limit(pos);
      case 'quota':
        return this.quota(pos);
      case 'reject':
        return this.reject(pos);
      case 'masquerade':
      case 'redirect':
      case 'snat':
      case 'dnat':
        return this.nat(w, pos);
      case 'notrack':
        this.index++;
        return { kind: 'notrack', pos };
      case 'queue':
        return this.queue(pos);
      case 'add':
      case 'update':
      case 'delete':
        return this.setUpdate(w, pos);
    }
    return this.expressionStatement(pos);
  }

  private counter(pos: NftPos): NftStatement {
    this.index++;
    if (this.word() === 'name') {
      this.index++;
      return { kind: 'counter', packets: 0, bytes: 0, name: this.name(), pos };
    }
    let packets = 0;
    let bytes = 0;
    if (this.word() === 'packets') {
      this.index++;
      packets = this.number();
      this.expectWord('bytes');
      bytes = this.number();
    }
    return { kind: 'counter', packets, bytes, name: null, pos };
  }

  private log(pos: NftPos): NftStatement {
    this.index++;
    let prefix: string | null = null;
    let group: number | null = null;
    let snaplen: number | null = null;
    let queueThreshold: number | null = null;
    let level: string | null = null;
    const flags: string[] = [];
    for (;;) {
      const w = this.word();
      if (w === 'prefix') {
        this.index++;
        prefix = this.name();
      } else if (w === 'level') {
        this.index++;
        level = this.expectWord();
        if (!LOG_LEVELS.has(level)) throw new NotUnderstood();
      } else if (w === 'group') {
        this.index++;
        group = this.number();
      } else if (w === 'snaplen') {
        this.index++;
        snaplen = this.number();
      } else if (w === 'queue-threshold') {
        this.index++;
        queueThreshold = this.number();
      } else if (w === 'flags') {
        this.index++;
        flags.push(...this.logFlags());
      } else break;
    }
    return { kind: 'log', prefix, group, snaplen, queueThreshold, level, flags, pos };
  }

  /** `tcp sequence,options`, `ip options`, `skuid`, `ether`, `all`, comma-separated. */
  private logFlags(): string[] {
    const out: string[] = [];
    let proto: string | null = null;
    for (;;) {
      const w = this.expectWord();
      if (w === 'tcp' || w === 'ip') {
        proto = w;
        const f = this.expectWord();
        if (!(w === 'tcp' ? ['sequence', 'options'] : ['options']).includes(f)) throw new NotUnderstood();
        out.push(`${w} ${f}`);
      } else if (proto === 'tcp' && (w === 'sequence' || w === 'options')) {
        out.push(`tcp ${w}`);
      } else if (w === 'skuid' || w === 'ether' || w === 'all') {
        out.push(w);
        proto = null;
      } else throw new NotUnderstood();
      if (this.peek()?.kind !== 'comma') return out;
      this.index++;
    }
  }

  private limit(pos: NftPos): NftStatement {
    this.index++;
    if (this.word() === 'name') {
      this.index++;
      return {
        kind: 'limit',
        rate: 0,
        rateUnit: 'packets',
        per: 'second',
        burst: 5,
        burstUnit: 'packets',
        inv: false,
        name: this.name(),
        pos,
      };
    }
    this.expectWord('rate');
    let inv = false;
    if (this.word() === 'over' || this.word() === 'until') inv = this.expectWord() === 'over';
    const first = this.expectWord();
    let rate: number;
    let rateUnit = 'packets';
    let per: string;
    const slash = first.indexOf('/');
    if (slash > 0) {
      // `10/second`
      if (!isNumberWord(first.slice(0, slash))) throw new NotUnderstood();
      rate = numberOf(first.slice(0, slash));
      per = first.slice(slash + 1);
    } else {
      // `1 mbytes/second`
      if (!isNumberWord(first)) throw new NotUnderstood();
      rate = numberOf(first);
      const unit = this.expectWord();
      const s = unit.indexOf('/');
      if (s < 0 || !BYTE_UNITS.has(unit.slice(0, s))) throw new NotUnderstood();
      rateUnit = unit.slice(0, s);
      per = unit.slice(s + 1);
    }
    if (!LIMIT_PERIODS.has(per)) throw new NotUnderstood();
    const d = limitDefaults(rateUnit);
    let burst = d.burst;
    let burstUnit = d.burstUnit;
    if (this.word() === 'burst') {
      this.index++;
      burst = this.number();
      const u = this.word();
      if (u === 'packets' || (u !== null && BYTE_UNITS.has(u))) {
        this.index++;
        if (rateUnit !== 'packets') burstUnit = u;
      }
    }
    const limit: NftLimit = { kind: 'limit', rate, rateUnit, per, burst, burstUnit, inv, name: null, pos };
    return limit;
  }

  private quota(pos: NftPos): NftStatement {
    this.index++;
    if (this.word() === 'name') {
      this.index++;
      return {
        kind: 'quota',
        val: 0,
        valUnit: 'bytes',
        used: 0,
        usedUnit: 'bytes',
        inv: false,
        name: this.name(),
        pos,
      };
    }
    let inv = false;
    if (this.word() === 'over' || this.word() === 'until') inv = this.expectWord() === 'over';
    const val = this.number();
    const valUnit = this.expectWord();
    if (!BYTE_UNITS.has(valUnit)) throw new NotUnderstood();
    let used = 0;
    let usedUnit = 'bytes';
    if (this.word() === 'used') {
      this.index++;
      used = this.number();
      usedUnit = this.expectWord();
      if (!BYTE_UNITS.has(usedUnit)) throw new NotUnderstood();
    }
    const quota: NftQuota = { kind: 'quota', val, valUnit, used, usedUnit, inv, name: null, pos };
    return quota;
  }

  private reject(pos: NftPos): NftStatement {
    this.index++;
    let type: NftRejectType | null = null;
    let code: string | number | null = null;
    if (this.word() === 'with') {
      this.index++;
      const t = this.expectWord();
      if (t === 'tcp') {
        this.expectWord('reset');
        type = 'tcp reset';
      } else if (t === 'icmp' || t === 'icmpv6' || t === 'icmpx') {
        type = t;
        if (this.word() === 'type') this.index++;
        const c = this.expectWord();
        code = isNumberWord(c) ? numberOf(c) : c;
      } else throw new NotUnderstood();
    }
    return { kind: 'reject', ...defaultReject(this.ctx.family, { type, code }), pos };
  }

  private nat(w: NftNatType, pos: NftPos): NftStatement {
    this.index++;
    let family: 'ip' | 'ip6' | null = null;
    if ((w === 'snat' || w === 'dnat') && (this.word() === 'ip' || this.word() === 'ip6') && this.word(1) === 'to') {
      family = this.expectWord() as 'ip' | 'ip6';
    }
    let addr: NftExpr | null = null;
    let port: NftExpr | null = null;
    if (this.word() === 'to') {
      this.index++;
      if (w === 'masquerade' || w === 'redirect') {
        const t = this.expectWord();
        port = wordValue(t.startsWith(':') ? t.slice(1) : t);
      } else {
        ({ addr, port } = this.natTarget());
      }
    } else if (w === 'snat' || w === 'dnat') {
      throw new NotUnderstood();
    }
    const flags: string[] = [];
    while (this.word() !== null && NAT_FLAGS.has(this.word()!)) {
      flags.push(this.expectWord());
      if (this.peek()?.kind === 'comma') this.index++;
    }
    // The kernel keeps a NAT family only in tables that hold both (inet): `snat ip to` in an ip
    // table lists as `snat to`.
    if (this.ctx.family === 'ip' || this.ctx.family === 'ip6') family = null;
    const nat: NftNat = {
      kind: 'nat',
      nat: w,
      family,
      addr,
      port,
      flags: NAT_FLAG_ORDER.filter((f) => flags.includes(f)),
      pos,
    };
    return nat;
  }

  /** `ADDR`, `ADDR:PORT`, `[V6]:PORT`, `:PORT`, ranges and prefixes of them, or `KEY map { … }`. */
  private natTarget(): { addr: NftExpr | null; port: NftExpr | null } {
    const w = this.word();
    if (w !== null && this.startsExpression()) {
      const key = this.leftExpr(0);
      this.expectWord('map');
      return { addr: { kind: 'map', key, data: this.setOrRef(false) }, port: null };
    }
    const t = this.expectWord();
    if (t.startsWith('[')) {
      const close = t.indexOf(']');
      if (close < 0) throw new NotUnderstood();
      const rest = t.slice(close + 1);
      if (rest !== '' && !rest.startsWith(':')) throw new NotUnderstood();
      return { addr: wordValue(t.slice(1, close)), port: rest === '' ? null : wordValue(rest.slice(1)) };
    }
    if (t.startsWith(':')) return { addr: null, port: wordValue(t.slice(1)) };
    const colons = t.split(':').length - 1;
    if (colons === 1) {
      const at = t.indexOf(':');
      return { addr: wordValue(t.slice(0, at)), port: wordValue(t.slice(at + 1)) };
    }
    return { addr: wordValue(t), port: null };
  }

  private queue(pos: NftPos): NftStatement {
    this.index++;
    let num: NftExpr | null = null;
    const flags: string[] = [];
    for (;;) {
      const w = this.word();
      if (w === 'num') {
        this.index++;
        num = wordValue(this.expectWord());
      } else if (w === 'bypass' || w === 'fanout') {
        flags.push(this.expectWord());
        if (this.peek()?.kind === 'comma') this.index++;
      } else break;
    }
    return { kind: 'queue', num, flags, pos };
  }

  /** `add @set { ip saddr timeout 1m }`. */
  private setUpdate(op: 'add' | 'update' | 'delete', pos: NftPos): NftStatement {
    this.index++;
    const ref = this.expectWord();
    if (!ref.startsWith('@')) throw new NotUnderstood();
    const group = this.next();
    if (group.kind !== 'group' || group.image !== '{') throw new NotUnderstood();
    const inner = new Cursor(group.items, 0, group.items.length, this.ctx);
    let elem: NftExpr = inner.leftExpr(0);
    const opts = inner.elementOptions();
    if (opts) elem = { kind: 'elem', value: elem, ...opts };
    if (!inner.done()) throw new NotUnderstood();
    return { kind: 'set', op, elem, set: ref.slice(1), pos };
  }

  /** `LEFT [OP] RIGHT`, `LEFT set VALUE`, `LEFT vmap { … }`. */
  private expressionStatement(pos: NftPos): NftStatement {
    if (!this.startsExpression()) throw new NotUnderstood();
    const left = this.leftExpr(0);
    const w = this.word();
    if (w === 'set') {
      this.index++;
      if (!this.mangleable(left)) throw new NotUnderstood();
      const value = this.startsExpression() ? this.leftExpr(0) : this.valueWithBinops(0);
      return { kind: 'mangle', key: left, value, pos };
    }
    if (w === 'vmap') {
      this.index++;
      return { kind: 'vmap', key: left, data: this.setOrRef(true), pos };
    }
    let op: NftOp | null = null;
    const it = this.peek();
    if (
      it &&
      (it.kind === 'op' || it.kind === 'word') &&
      RELATIONAL[it.image] !== undefined &&
      (it.kind === 'op' || this.peek(1) !== undefined)
    ) {
      op = RELATIONAL[it.image]!;
      this.index++;
    }
    if (this.done()) throw new NotUnderstood();
    let right = this.rhs();
    if (right.kind === 'value' && (right.value === 'exists' || right.value === 'missing') && this.isExistence(left))
      right = { kind: 'value', value: right.value === 'exists' };
    let leftExpr = left;
    if (this.isOp('/')) {
      // `tcp flags syn / syn,ack`: (flags & mask) == value.
      this.index++;
      const mask = this.rhs();
      leftExpr = { kind: 'binop', op: '&', left, right: mask };
    }
    if (op === null) {
      const type = exprType(left, this.ctx.family);
      const bitmask =
        type !== null &&
        BITMASK_TYPES.has(type) &&
        leftExpr === left &&
        (right.kind === 'value' || right.kind === 'list');
      op = bitmask ? 'in' : '==';
    }
    if (right.kind === 'list' && op !== 'in' && op !== '!' && leftExpr === left) {
      // A comma list is a set of flags only for bitmask types.
      const type = exprType(left, this.ctx.family);
      if (type === null || !BITMASK_TYPES.has(type)) throw new NotUnderstood();
    }
    if (right.kind === 'list' && leftExpr !== left) right = right.items.length === 1 ? right.items[0]! : right;
    return { kind: 'match', op, left: leftExpr, right, pos };
  }

  /** `fib … oif missing`, `meta ipsec exists`: a boolean, as nft -j reports it. */
  private isExistence(e: NftExpr): boolean {
    return (e.kind === 'fib' && e.result !== 'type') || exprType(e, this.ctx.family) === 'boolean';
  }

  private mangleable(e: NftExpr): boolean {
    if (e.kind === 'meta') return true;
    if (e.kind === 'ct') return MANGLE_CT_KEYS.has(e.key);
    return e.kind === 'payload';
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  /** Does a known left-hand expression (payload, meta, ct, fib, raw payload) start here? */
  private startsExpression(): boolean {
    const w = this.word();
    if (w === null) return false;
    if (PAYLOAD_FIELDS[w] !== undefined) return this.payloadField() !== null;
    if (w === 'meta') return this.word(1) !== null && META_KEYS[this.word(1)!] !== undefined;
    if (UNQUALIFIED_META[w] !== undefined) return true;
    if (w === 'ct') return this.ctKey() !== null;
    if (w === 'fib') return true;
    return RAW_BASES.has(w) && this.peek(1)?.kind === 'comma';
  }

  /** The field after a protocol word (arp's two-word `saddr ip`), with how many items it takes; null when unknown. */
  private payloadField(): { field: string; width: number } | null {
    const proto = this.word()!;
    const fields = PAYLOAD_FIELDS[proto]!;
    const f1 = this.word(1);
    if (f1 === null) return null;
    const f2 = this.word(2);
    if (f2 !== null && fields[`${f1} ${f2}`] !== undefined) return { field: `${f1} ${f2}`, width: 3 };
    return fields[f1] !== undefined ? { field: f1, width: 2 } : null;
  }

  /** `ct [original|reply] [ip|ip6] KEY` as JSON names it (`key`, `dir`); null when the key is unknown. */
  private ctKey(): { key: string; dir: 'original' | 'reply' | null; width: number } | null {
    let k = 1;
    let dir: 'original' | 'reply' | null = null;
    const d = this.word(k);
    if (d === 'original' || d === 'reply') {
      dir = d;
      k++;
    }
    const a = this.word(k);
    const b = this.word(k + 1);
    if ((a === 'ip' || a === 'ip6') && b !== null && CT_KEYS[`${a} ${b}`] !== undefined)
      return { key: `${a} ${b}`, dir, width: k + 2 };
    if (a !== null && CT_KEYS[a] !== undefined && a !== 'ip saddr') return { key: a, dir, width: k + 1 };
    return null;
  }

  leftExpr(depth: number): NftExpr {
    if (depth > MAX_EXPR_DEPTH) throw new NotUnderstood();
    let e = this.leftPrimary();
    if (this.isOp('.')) {
      const items = [e];
      while (this.isOp('.')) {
        this.index++;
        if (!this.startsExpression()) throw new NotUnderstood();
        items.push(this.leftPrimary());
      }
      e = { kind: 'concat', items };
    }
    while (this.peek()?.kind === 'op' && BINOPS.has(this.peek()!.image)) {
      const op = this.next().image as '&' | '|' | '^' | '<<' | '>>';
      e = { kind: 'binop', op, left: e, right: this.binopOperand(depth + 1) };
    }
    return e;
  }

  private leftPrimary(): NftExpr {
    const w = this.word();
    if (w === null) throw new NotUnderstood();
    if (PAYLOAD_FIELDS[w] !== undefined) {
      const f = this.payloadField();
      if (!f) throw new NotUnderstood();
      this.index += f.width;
      return { kind: 'payload', protocol: w, field: f.field };
    }
    if (w === 'meta') {
      const key = this.word(1);
      if (key === null || META_KEYS[key] === undefined) throw new NotUnderstood();
      this.index += 2;
      return { kind: 'meta', key };
    }
    if (UNQUALIFIED_META[w] !== undefined) {
      this.index++;
      return { kind: 'meta', key: UNQUALIFIED_META[w]! };
    }
    if (w === 'ct') {
      const ct = this.ctKey();
      if (!ct) throw new NotUnderstood();
      this.index += ct.width;
      return { kind: 'ct', key: ct.key, family: null, dir: ct.dir };
    }
    if (w === 'fib') {
      this.index++;
      const flags = [this.expectWord()];
      while (this.isOp('.')) {
        this.index++;
        flags.push(this.expectWord());
      }
      const result = this.expectWord();
      if (!FIB_RESULTS.has(result) || !flags.every((f) => FIB_FLAGS.includes(f))) throw new NotUnderstood();
      return { kind: 'fib', result, flags: FIB_FLAGS.filter((f) => flags.includes(f)) };
    }
    if (RAW_BASES.has(w) && this.peek(1)?.kind === 'comma') {
      this.index += 2;
      const offset = this.number();
      if (this.next().kind !== 'comma') throw new NotUnderstood();
      const len = this.number();
      return { kind: 'payload-raw', base: w.slice(1) as 'll' | 'nh' | 'th' | 'ih', offset, len };
    }
    throw new NotUnderstood();
  }

  /** The right side of `&`/`|`: a value, `(a | b)` flags, or an expression. */
  private binopOperand(depth: number): NftExpr {
    if (this.startsExpression()) return this.leftPrimary();
    const it = this.peek();
    if (it?.kind === 'group' && it.image === '(') {
      this.index++;
      return this.flagGroup(it, depth);
    }
    return this.primaryValue(depth);
  }

  /** `(syn | ack)` → the list of flags nft -j reports. */
  private flagGroup(group: ItemAst, depth: number): NftExpr {
    const inner = new Cursor(group.items, 0, group.items.length, this.ctx);
    const items: NftExpr[] = [inner.primaryValue(depth + 1)];
    while (inner.isOp('|')) {
      inner.index++;
      items.push(inner.primaryValue(depth + 1));
    }
    if (!inner.done()) throw new NotUnderstood();
    return items.length === 1 ? items[0]! : { kind: 'list', items };
  }

  private valueWithBinops(depth: number): NftExpr {
    let e = this.primaryValue(depth);
    while (this.peek()?.kind === 'op' && BINOPS.has(this.peek()!.image)) {
      const op = this.next().image as '&' | '|' | '^' | '<<' | '>>';
      e = { kind: 'binop', op, left: e, right: this.binopOperand(depth + 1) };
    }
    return e;
  }

  /** The right side of a match: a value, a comma list of flags, a set, `@set`, or a concatenation of values. */
  private rhs(): NftExpr {
    const first = this.concatValue(0);
    if (this.peek()?.kind !== 'comma') return first;
    const items = [first];
    while (this.peek()?.kind === 'comma') {
      this.index++;
      items.push(this.concatValue(0));
    }
    return { kind: 'list', items };
  }

  private concatValue(depth: number): NftExpr {
    const first = this.primaryValue(depth);
    if (!this.isOp('.')) return first;
    const items = [first];
    while (this.isOp('.')) {
      this.index++;
      items.push(this.primaryValue(depth));
    }
    return { kind: 'concat', items };
  }

  primaryValue(depth: number): NftExpr {
    if (depth > MAX_EXPR_DEPTH) throw new NotUnderstood();
    const it = this.next();
    if (it.kind === 'quoted') return { kind: 'value', value: it.image };
    if (it.kind === 'group' && it.image === '{')
      return { kind: 'set', items: readElements(it.items, this.ctx, { verdicts: false }) };
    if (it.kind === 'group' && it.image === '(') return this.flagGroup(it, depth);
    if (it.kind !== 'word') throw new NotUnderstood();
    if (it.image.startsWith('@')) return { kind: 'setref', name: it.image.slice(1) };
    if (it.image.startsWith('$')) throw new NotUnderstood();
    return wordValue(it.image);
  }

  /** `{ a : accept, … }` or `@map`. */
  private setOrRef(verdicts: boolean): NftExpr {
    const it = this.next();
    if (it.kind === 'word' && it.image.startsWith('@')) return { kind: 'setref', name: it.image.slice(1) };
    if (it.kind === 'group' && it.image === '{')
      return { kind: 'set', items: readElements(it.items, this.ctx, { verdicts }) };
    throw new NotUnderstood();
  }

  /** One set element: a value or concatenation, `: value` in a map, then `timeout`/`expires`/`comment`. */
  element(verdicts: boolean): NftExpr {
    let value: NftExpr = this.startsExpression() ? this.leftExpr(0) : this.concatValue(0);
    if (this.isOp(':')) {
      this.index++;
      const data = verdicts || this.verdictAhead() ? this.verdictValue() : this.concatValue(0);
      value = { kind: 'mapping', key: this.withOptions(value), value: data };
      return value;
    }
    return this.withOptions(value);
  }

  private withOptions(value: NftExpr): NftExpr {
    const opts = this.elementOptions();
    return opts ? { kind: 'elem', value, ...opts } : value;
  }

  /** `timeout 1h expires 59m comment "x"` after an element. */
  elementOptions(): { timeout: number | null; expires: number | null; comment: string | null } | null {
    let timeout: number | null = null;
    let expires: number | null = null;
    let comment: string | null = null;
    let any = false;
    for (;;) {
      const w = this.word();
      if (w === 'timeout' || w === 'expires') {
        this.index++;
        const s = durationSeconds(this.expectWord());
        if (s === null) throw new NotUnderstood();
        if (w === 'timeout') timeout = s;
        else expires = s;
      } else if (w === 'comment') {
        this.index++;
        const c = this.next();
        if (c.kind !== 'quoted') throw new NotUnderstood();
        comment = c.image;
      } else break;
      any = true;
    }
    return any ? { timeout, expires, comment } : null;
  }

  private verdictAhead(): boolean {
    const w = this.word();
    return (
      w !== null &&
      VERDICTS.includes(w as NftVerdictName) &&
      (w === 'jump' || w === 'goto'
        ? this.peek(1) !== undefined
        : this.peek(1) === undefined || this.peek(1)?.kind !== 'op')
    );
  }

  private verdictValue(): NftExpr {
    const w = this.expectWord();
    if (!VERDICTS.includes(w as NftVerdictName)) throw new NotUnderstood();
    const target = w === 'jump' || w === 'goto' ? this.name() : null;
    return { kind: 'verdict', verdict: w as NftVerdictName, target };
  }
}
