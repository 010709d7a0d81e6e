// The reader of `nft -j list ruleset` (libnftables-json(5), json_schema_version 1) into the nft
// model. The model mirrors the JSON objects, so this is a direct walk: every element keeps its
// path (`nftables[7].rule.expr[2]`) as its position; an error names the path and its line:col.
// Statements and expressions virtables does not know are carried verbatim (`unknown`, `xt`).

import type {
  NftBaseChain,
  NftChain,
  NftExpr,
  NftFamily,
  NftJsonPos,
  NftOp,
  NftRuleset,
  NftSet,
  NftStatement,
  NftTable,
  NftUnknownObject,
  NftVerdictName,
} from '../src/model/nft.js';
import { NFT_CHAIN_TYPES, NFT_FAMILIES, NFT_HOOKS } from '../src/model/nft.js';
import { InputError } from '../src/model/errors.js';
import { decodeText } from '../src/model/text.js';
import { formatJsonPath, lineColOf, offsetOfJsonPath, type JsonPathSegment } from './json-path.js';
import {
  defaultReject,
  didYouMean,
  limitDefaults,
  MAX_EXPR_DEPTH,
  NAT_TYPES,
  VERDICTS,
  type RejectInput,
} from './nft-build.js';

/** The highest json_schema_version this reader understands (nftables 0.9.x … 1.1.x all write 1). */
export const JSON_SCHEMA_VERSION = 1;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface NftJsonOptions {
  readonly file: string;
}

export function parseNftJsonBytes(bytes: Uint8Array, options: NftJsonOptions): NftRuleset {
  return parseNftJson(decodeText(options.file, bytes), options);
}

/** Where JSON.parse stopped, from its message (`… at position 123`); the end of the text when it does not say. */
function syntaxErrorOffset(message: string, text: string): number {
  const m = /position (\d+)/.exec(message);
  return m ? Number(m[1]) : text.length;
}

export function parseNftJson(text: string, options: NftJsonOptions): NftRuleset {
  const { file } = options;
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    const message = (e as Error).message;
    const offset = syntaxErrorOffset(message, text);
    const { line, col } = lineColOf(text, offset);
    const truncated = offset >= text.trimEnd().length;
    throw new InputError(
      file,
      line,
      col,
      truncated
        ? 'unexpected end of JSON input (truncated nft -j output?)'
        : `not valid JSON: ${withoutPosition(message)}`,
    );
  }
  return new JsonReader(file, text).ruleset(doc);
}

class JsonReader {
  private nftVersion: string | null = null;
  private readonly tables: NftTable[] = [];

  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  private fail(path: readonly JsonPathSegment[], message: string): never {
    const { line, col } = lineColOf(this.text, offsetOfJsonPath(this.text, path));
    throw new InputError(this.file, line, col, `${formatJsonPath(path)}: ${message}`);
  }

  private pos(path: readonly JsonPathSegment[]): NftJsonPos {
    return { path: formatJsonPath(path) };
  }

  private object(value: Json | undefined, path: readonly JsonPathSegment[], what: string): JsonObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(path, `expected ${what} (a JSON object), found ${describe(value)}`);
    return value as JsonObject;
  }

  private string(o: JsonObject, key: string, path: readonly JsonPathSegment[]): string {
    const v = o[key];
    if (typeof v !== 'string')
      this.fail(
        [...path, key],
        v === undefined ? `missing "${key}"` : `"${key}" must be a string, found ${describe(v)}`,
      );
    return v as string;
  }

  private optString(o: JsonObject, key: string, path: readonly JsonPathSegment[]): string | null {
    return o[key] === undefined ? null : this.string(o, key, path);
  }

  private number(o: JsonObject, key: string, path: readonly JsonPathSegment[]): number {
    const v = o[key];
    if (typeof v !== 'number')
      this.fail(
        [...path, key],
        v === undefined ? `missing "${key}"` : `"${key}" must be a number, found ${describe(v)}`,
      );
    return v as number;
  }

  private optNumber(o: JsonObject, key: string, path: readonly JsonPathSegment[]): number | null {
    return o[key] === undefined ? null : this.number(o, key, path);
  }

  /** A flag or a list of flags (libnftables writes one flag as a bare string). */
  private flags(v: Json | undefined, path: readonly JsonPathSegment[]): string[] {
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((f) => typeof f === 'string')) return v as string[];
    return this.fail(path, `expected a flag or a list of flags, found ${describe(v)}`);
  }

  private family(o: JsonObject, path: readonly JsonPathSegment[]): NftFamily {
    const f = this.string(o, 'family', path);
    if (!NFT_FAMILIES.includes(f as NftFamily))
      this.fail(
        [...path, 'family'],
        `unknown family '${f}'${didYouMean(f, NFT_FAMILIES)} (nft knows ${NFT_FAMILIES.join(', ')})`,
      );
    return f as NftFamily;
  }

  ruleset(doc: Json): NftRuleset {
    const root = this.object(doc, [], 'the nft -j document {"nftables": [...]}');
    const list = root['nftables'];
    if (!Array.isArray(list))
      this.fail(
        ['nftables'],
        list === undefined
          ? 'missing "nftables" (not nft -j output)'
          : `"nftables" must be an array, found ${describe(list)}`,
      );
    (list as Json[]).forEach((item, i) => this.item(item, ['nftables', i]));
    return { file: this.file, syntax: 'json', nftVersion: this.nftVersion, tables: this.tables };
  }

  private item(item: Json, path: JsonPathSegment[]): void {
    const o = this.object(item, path, 'a ruleset element');
    const keys = Object.keys(o);
    if (keys.length !== 1)
      this.fail(
        path,
        `a ruleset element has exactly one key (table, chain, rule, set, …), found ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      );
    const key = keys[0]!;
    const body = o[key];
    const at = [...path, key];
    switch (key) {
      case 'metainfo': {
        const m = this.object(body, at, 'the metainfo object');
        const schema = m['json_schema_version'];
        if (typeof schema === 'number' && schema > JSON_SCHEMA_VERSION)
          this.fail(
            [...at, 'json_schema_version'],
            `json_schema_version ${schema} is newer than this reader understands (${JSON_SCHEMA_VERSION})`,
          );
        this.nftVersion = typeof m['version'] === 'string' ? m['version'] : null;
        return;
      }
      case 'add':
      case 'create':
        // nft -j -f input: `{"add": {"table": …}}` builds the same ruleset as the listing.
        return this.item(body as Json, at);
      case 'flush': {
        const f = this.object(body, at, 'a flush command');
        if (Object.keys(f).length === 1 && 'ruleset' in f && this.tables.length === 0) return;
        return this.fail(at, 'only a leading {"flush": {"ruleset": null}} is read; give `nft -j list ruleset` output');
      }
      case 'table':
        return this.table(this.object(body, at, 'a table'), at);
      case 'chain':
        return this.chain(this.object(body, at, 'a chain'), at);
      case 'rule':
        return this.rule(this.object(body, at, 'a rule'), at);
      case 'set':
      case 'map':
      case 'meter':
        return this.set(this.object(body, at, `a ${key}`), at, key);
      case 'element':
        return this.element(this.object(body, at, 'an element'), at);
      case 'insert':
      case 'replace':
      case 'delete':
      case 'list':
      case 'reset':
      case 'rename':
        return this.fail(
          at,
          `the command '${key}' changes or lists a ruleset; virtables reads the listing (nft -j list ruleset)`,
        );
      default: {
        // Named objects (counter, quota, limit, ct helper, ct timeout, ct expectation, secmark,
        // synproxy, flowtable, …).
        const b = this.object(body, at, `a ${key} object`);
        const table = this.tableOf(b, at);
        const name = typeof b['name'] === 'string' ? ` ${b['name']}` : '';
        const object: NftUnknownObject = {
          kind: 'unknown',
          pos: this.pos(at),
          text: null,
          json: o,
          what: `${key}${name}`,
        };
        table.objects.push(object);
      }
    }
  }

  private tableOf(o: JsonObject, path: readonly JsonPathSegment[]): NftTable {
    const family = this.family(o, path);
    const name = this.string(o, 'table', path);
    const table = this.tables.find((t) => t.family === family && t.name === name);
    if (!table) this.fail([...path, 'table'], `table ${family} ${name} is not defined before this element`);
    return table!;
  }

  private table(o: JsonObject, path: JsonPathSegment[]): void {
    const family = this.family(o, path);
    const name = this.string(o, 'name', path);
    if (this.tables.some((t) => t.family === family && t.name === name))
      this.fail(path, `table ${family} ${name} is listed twice`);
    this.tables.push({
      family,
      name,
      handle: this.optNumber(o, 'handle', path),
      pos: this.pos(path),
      flags: this.flags(o['flags'], [...path, 'flags']),
      comment: this.optString(o, 'comment', path),
      sets: [],
      chains: [],
      objects: [],
      owner: null,
    });
  }

  private chain(o: JsonObject, path: JsonPathSegment[]): void {
    const table = this.tableOf(o, path);
    const name = this.string(o, 'name', path);
    if (table.chains.some((c) => c.name === name))
      this.fail(path, `chain ${name} is listed twice in table ${table.family} ${table.name}`);
    let base: NftBaseChain | null = null;
    if (o['hook'] !== undefined || o['type'] !== undefined) {
      const type = this.string(o, 'type', path);
      const hook = this.string(o, 'hook', path);
      if (!NFT_CHAIN_TYPES.includes(type as NftBaseChain['type']))
        this.fail(
          [...path, 'type'],
          `unknown chain type '${type}'${didYouMean(type, NFT_CHAIN_TYPES)} (nft knows ${NFT_CHAIN_TYPES.join(', ')})`,
        );
      if (!NFT_HOOKS.includes(hook as NftBaseChain['hook']))
        this.fail(
          [...path, 'hook'],
          `unknown hook '${hook}'${didYouMean(hook, NFT_HOOKS)} (nft knows ${NFT_HOOKS.join(', ')})`,
        );
      const policy = this.optString(o, 'policy', path) ?? 'accept';
      if (policy !== 'accept' && policy !== 'drop')
        this.fail([...path, 'policy'], `chain policy must be accept or drop, found '${policy}'`);
      const dev = o['dev'];
      const devices = dev === undefined ? [] : typeof dev === 'string' ? [dev] : this.flags(dev, [...path, 'dev']);
      base = {
        type: type as NftBaseChain['type'],
        hook: hook as NftBaseChain['hook'],
        priority: this.number(o, 'prio', path),
        policy,
        devices,
      };
    }
    const chain: NftChain = {
      family: table.family,
      table: table.name,
      name,
      handle: this.optNumber(o, 'handle', path),
      pos: this.pos(path),
      base,
      comment: this.optString(o, 'comment', path),
      rules: [],
    };
    table.chains.push(chain);
  }

  private rule(o: JsonObject, path: JsonPathSegment[]): void {
    const table = this.tableOf(o, path);
    const chainName = this.string(o, 'chain', path);
    const chain = table.chains.find((c) => c.name === chainName);
    if (!chain)
      this.fail(
        [...path, 'chain'],
        `chain ${chainName} is not defined in table ${table.family} ${table.name} before this rule`,
      );
    const expr = o['expr'];
    if (!Array.isArray(expr))
      this.fail(
        [...path, 'expr'],
        expr === undefined
          ? 'missing "expr" (the rule\'s statements)'
          : `"expr" must be an array of statements, found ${describe(expr)}`,
      );
    const statements = (expr as Json[]).map((s, i) => this.statement(s, [...path, 'expr', i], table.family));
    chain!.rules.push({
      family: table.family,
      table: table.name,
      chain: chainName,
      handle: this.optNumber(o, 'handle', path),
      pos: this.pos(path),
      statements,
      comment: this.optString(o, 'comment', path),
    });
  }

  private set(o: JsonObject, path: JsonPathSegment[], kind: 'set' | 'map' | 'meter'): void {
    const table = this.tableOf(o, path);
    const name = this.string(o, 'name', path);
    const typeNames = (key: string): string[] => {
      const v = o[key];
      // nft 1.0.6 writes a concatenated map value type as one string: "ipv4_addr . inet_service".
      if (typeof v === 'string') return v.split(' . ');
      if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return v as string[];
      return this.fail(
        [...path, key],
        v === undefined ? `missing "${key}"` : `"${key}" must be a type name or a list of them, found ${describe(v)}`,
      );
    };
    const isMap = kind === 'map';
    const elemPath = [...path, 'elem'];
    const elem = o['elem'];
    const elements =
      elem === undefined
        ? []
        : Array.isArray(elem)
          ? elem.map((e, i) => this.element1(e, [...elemPath, i], isMap, 0))
          : [this.element1(elem, elemPath, isMap, 0)];
    const policy = this.optString(o, 'policy', path);
    const set: NftSet = {
      family: table.family,
      table: table.name,
      name,
      handle: this.optNumber(o, 'handle', path),
      pos: this.pos(path),
      type: typeNames('type'),
      typeof: null,
      map: isMap ? typeNames('map') : null,
      flags: this.flags(o['flags'], [...path, 'flags']),
      elements,
      timeout: this.optNumber(o, 'timeout', path),
      gcInterval: this.optNumber(o, 'gc-interval', path),
      size: this.optNumber(o, 'size', path),
      policy: policy === 'performance' || policy === 'memory' ? policy : null,
      comment: this.optString(o, 'comment', path),
      unknown: kind === 'meter' ? ['meter'] : [],
    };
    if (table.sets.some((s) => s.name === name))
      this.fail(path, `set ${name} is listed twice in table ${table.family} ${table.name}`);
    table.sets.push(set);
  }

  /** `{"element": {…, "name": SET, "elem": …}}`: elements added to a set listed before. */
  private element(o: JsonObject, path: JsonPathSegment[]): void {
    const table = this.tableOf(o, path);
    const name = this.string(o, 'name', path);
    const set = table.sets.find((s) => s.name === name);
    if (!set) this.fail([...path, 'name'], `set ${name} is not defined in table ${table.family} ${table.name}`);
    const elem = o['elem'];
    const list = Array.isArray(elem) ? elem : [elem ?? null];
    set!.elements.push(...list.map((e, i) => this.element1(e, [...path, 'elem', i], set!.map !== null, 0)));
  }

  /** One element of a set (a map's is a [key, value] pair). */
  private element1(e: Json, path: JsonPathSegment[], isMap: boolean, depth: number): NftExpr {
    if (isMap && Array.isArray(e)) {
      if (e.length !== 2) this.fail(path, `a map element is a [key, value] pair, found ${e.length} items`);
      return {
        kind: 'mapping',
        key: this.expr(e[0]!, [...path, 0], depth + 1),
        value: this.expr(e[1]!, [...path, 1], depth + 1),
      };
    }
    return this.expr(e, path, depth);
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  private statement(s: Json, path: JsonPathSegment[], family: NftFamily): NftStatement {
    const pos = this.pos(path);
    const o = this.object(s, path, 'a statement');
    const keys = Object.keys(o);
    if (keys.length !== 1)
      this.fail(
        path,
        `a statement has exactly one key (match, counter, accept, …), found ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      );
    const key = keys[0]!;
    const body = o[key]!;
    const at = [...path, key];
    if (VERDICTS.includes(key as NftVerdictName)) {
      const v = this.verdict(key as NftVerdictName, body, at);
      return { kind: 'verdict', ...v, pos };
    }
    if (NAT_TYPES.includes(key as (typeof NAT_TYPES)[number])) {
      const b = body === null ? {} : this.object(body, at, `a ${key} statement`);
      const fam = this.optString(b, 'family', at);
      if (fam !== null && fam !== 'ip' && fam !== 'ip6')
        this.fail([...at, 'family'], `NAT family must be ip or ip6, found '${fam}'`);
      return {
        kind: 'nat',
        nat: key as (typeof NAT_TYPES)[number],
        family: fam as 'ip' | 'ip6' | null,
        addr: b['addr'] === undefined ? null : this.expr(b['addr'], [...at, 'addr'], 0),
        port: b['port'] === undefined ? null : this.expr(b['port'], [...at, 'port'], 0),
        flags: this.flags(b['flags'], [...at, 'flags']),
        pos,
      };
    }
    switch (key) {
      case 'match': {
        const b = this.object(body, at, 'a match');
        const op = this.string(b, 'op', at);
        if (!MATCH_OPS.includes(op))
          this.fail([...at, 'op'], `unknown match operator '${op}' (nft knows ${MATCH_OPS.join(' ')})`);
        if (b['left'] === undefined || b['right'] === undefined) this.fail(at, 'a match needs "left" and "right"');
        return {
          kind: 'match',
          op: op as NftMatchOp,
          left: this.expr(b['left']!, [...at, 'left'], 0),
          right: this.rhs(b['right']!, [...at, 'right']),
          pos,
        };
      }
      case 'counter': {
        if (typeof body === 'string') return { kind: 'counter', packets: 0, bytes: 0, name: body, pos };
        const b = body === null ? {} : this.object(body, at, 'a counter');
        return {
          kind: 'counter',
          packets: this.optNumber(b, 'packets', at) ?? 0,
          bytes: this.optNumber(b, 'bytes', at) ?? 0,
          name: null,
          pos,
        };
      }
      case 'log': {
        const b = body === null ? {} : this.object(body, at, 'a log statement');
        return {
          kind: 'log',
          prefix: this.optString(b, 'prefix', at),
          group: this.optNumber(b, 'group', at),
          snaplen: this.optNumber(b, 'snaplen', at),
          queueThreshold: this.optNumber(b, 'queue-threshold', at),
          level: this.optString(b, 'level', at),
          flags: this.flags(b['flags'], [...at, 'flags']),
          pos,
        };
      }
      case 'limit': {
        if (typeof body === 'string')
          return { kind: 'limit', ...limitDefaults('packets'), rate: 0, per: 'second', inv: false, name: body, pos };
        const b = this.object(body, at, 'a limit');
        const rateUnit = this.optString(b, 'rate_unit', at) ?? 'packets';
        const d = limitDefaults(rateUnit);
        return {
          kind: 'limit',
          rate: this.number(b, 'rate', at),
          rateUnit,
          per: this.optString(b, 'per', at) ?? 'second',
          burst: this.optNumber(b, 'burst', at) ?? d.burst,
          burstUnit: rateUnit === 'packets' ? 'packets' : (this.optString(b, 'burst_unit', at) ?? d.burstUnit),
          inv: b['inv'] === true,
          name: null,
          pos,
        };
      }
      case 'quota': {
        if (typeof body === 'string')
          return { kind: 'quota', val: 0, valUnit: 'bytes', used: 0, usedUnit: 'bytes', inv: false, name: body, pos };
        const b = this.object(body, at, 'a quota');
        return {
          kind: 'quota',
          val: this.number(b, 'val', at),
          valUnit: this.optString(b, 'val_unit', at) ?? 'bytes',
          used: this.optNumber(b, 'used', at) ?? 0,
          usedUnit: this.optString(b, 'used_unit', at) ?? 'bytes',
          inv: b['inv'] === true,
          name: null,
          pos,
        };
      }
      case 'reject': {
        const b = body === null ? {} : this.object(body, at, 'a reject statement');
        const type = this.optString(b, 'type', at);
        if (type !== null && !REJECT_TYPES.includes(type))
          this.fail([...at, 'type'], `unknown reject type '${type}' (nft knows ${REJECT_TYPES.join(', ')})`);
        const code = b['expr'];
        if (code !== undefined && typeof code !== 'string' && typeof code !== 'number')
          this.fail([...at, 'expr'], `the reject code must be a name or number, found ${describe(code)}`);
        return {
          kind: 'reject',
          ...defaultReject(family, {
            type: type as RejectInput['type'],
            code: (code ?? null) as string | number | null,
          }),
          pos,
        };
      }
      case 'mangle': {
        const b = this.object(body, at, 'a mangle statement');
        return {
          kind: 'mangle',
          key: this.expr(b['key'] ?? null, [...at, 'key'], 0),
          value: this.expr(b['value'] ?? null, [...at, 'value'], 0),
          pos,
        };
      }
      case 'vmap': {
        const b = this.object(body, at, 'a vmap statement');
        return {
          kind: 'vmap',
          key: this.expr(b['key'] ?? null, [...at, 'key'], 0),
          data: this.expr(b['data'] ?? null, [...at, 'data'], 0),
          pos,
        };
      }
      case 'notrack':
        return { kind: 'notrack', pos };
      case 'queue': {
        const b = body === null ? {} : this.object(body, at, 'a queue statement');
        return {
          kind: 'queue',
          num: b['num'] === undefined ? null : this.expr(b['num'], [...at, 'num'], 0),
          flags: this.flags(b['flags'], [...at, 'flags']),
          pos,
        };
      }
      case 'set': {
        const b = this.object(body, at, 'a set statement');
        const op = this.string(b, 'op', at);
        if (op !== 'add' && op !== 'update' && op !== 'delete')
          this.fail([...at, 'op'], `set statement op must be add, update or delete, found '${op}'`);
        const set = this.string(b, 'set', at);
        return {
          kind: 'set',
          op,
          elem: this.expr(b['elem'] ?? null, [...at, 'elem'], 0),
          set: set.startsWith('@') ? set.slice(1) : set,
          pos,
        };
      }
      case 'xt': {
        const b = this.object(body, at, 'an xt statement');
        const type = this.string(b, 'type', at);
        if (type !== 'match' && type !== 'target' && type !== 'watcher')
          this.fail([...at, 'type'], `xt type must be match, target or watcher, found '${type}'`);
        return { kind: 'xt', type, name: this.string(b, 'name', at), pos };
      }
      default:
        return { kind: 'unknown', pos, text: null, json: s, what: key };
    }
  }

  private verdict(
    key: NftVerdictName,
    body: Json,
    path: JsonPathSegment[],
  ): { verdict: NftVerdictName; target: string | null } {
    if (key === 'jump' || key === 'goto') {
      const b = this.object(body, path, `a ${key} verdict`);
      return { verdict: key, target: this.string(b, 'target', path) };
    }
    return { verdict: key, target: null };
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  /** The right side of a match: an array there is a list of flags. */
  private rhs(e: Json, path: JsonPathSegment[]): NftExpr {
    if (Array.isArray(e)) return { kind: 'list', items: e.map((x, i) => this.expr(x, [...path, i], 1)) };
    return this.expr(e, path, 0);
  }

  private expr(e: Json, path: JsonPathSegment[], depth: number): NftExpr {
    if (depth > MAX_EXPR_DEPTH) this.fail(path, `expressions nested deeper than ${MAX_EXPR_DEPTH}`);
    if (e === null) this.fail(path, 'expected an expression, found null');
    if (typeof e === 'string')
      return e.startsWith('@') ? { kind: 'setref', name: e.slice(1) } : { kind: 'value', value: e };
    if (typeof e === 'number' || typeof e === 'boolean') return { kind: 'value', value: e };
    if (Array.isArray(e)) return { kind: 'list', items: e.map((x, i) => this.expr(x, [...path, i], depth + 1)) };
    const keys = Object.keys(e);
    if (keys.length !== 1)
      this.fail(
        path,
        `an expression has exactly one key (payload, meta, set, …), found ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      );
    const key = keys[0]!;
    const body = e[key]!;
    const at = [...path, key];
    const sub = (x: Json | undefined, p: JsonPathSegment[]): NftExpr => this.expr(x ?? null, p, depth + 1);
    if (VERDICTS.includes(key as NftVerdictName))
      return { kind: 'verdict', ...this.verdict(key as NftVerdictName, body, at) };
    switch (key) {
      case 'payload': {
        const b = this.object(body, at, 'a payload expression');
        if (b['base'] !== undefined) {
          const base = this.string(b, 'base', at);
          if (base !== 'll' && base !== 'nh' && base !== 'th' && base !== 'ih')
            this.fail([...at, 'base'], `payload base must be ll, nh, th or ih, found '${base}'`);
          return { kind: 'payload-raw', base, offset: this.number(b, 'offset', at), len: this.number(b, 'len', at) };
        }
        return { kind: 'payload', protocol: this.string(b, 'protocol', at), field: this.string(b, 'field', at) };
      }
      case 'meta':
        return { kind: 'meta', key: this.string(this.object(body, at, 'a meta expression'), 'key', at) };
      case 'ct': {
        const b = this.object(body, at, 'a ct expression');
        const family = this.optString(b, 'family', at);
        const dir = this.optString(b, 'dir', at);
        if (family !== null && family !== 'ip' && family !== 'ip6')
          this.fail([...at, 'family'], `ct family must be ip or ip6, found '${family}'`);
        if (dir !== null && dir !== 'original' && dir !== 'reply')
          this.fail([...at, 'dir'], `ct dir must be original or reply, found '${dir}'`);
        return {
          kind: 'ct',
          key: this.string(b, 'key', at),
          family: family as 'ip' | 'ip6' | null,
          dir: dir as 'original' | 'reply' | null,
        };
      }
      case 'fib': {
        const b = this.object(body, at, 'a fib expression');
        return { kind: 'fib', result: this.string(b, 'result', at), flags: this.flags(b['flags'], [...at, 'flags']) };
      }
      case 'concat': {
        if (!Array.isArray(body)) this.fail(at, `"concat" must be an array, found ${describe(body)}`);
        return { kind: 'concat', items: (body as Json[]).map((x, i) => sub(x, [...at, i])) };
      }
      case 'set': {
        const items = Array.isArray(body) ? body : [body];
        return {
          kind: 'set',
          items: items.map((x, i) =>
            Array.isArray(x) ? this.element1(x, [...at, i], true, depth + 1) : sub(x, [...at, i]),
          ),
        };
      }
      case 'map': {
        const b = this.object(body, at, 'a map expression');
        return { kind: 'map', key: sub(b['key'], [...at, 'key']), data: sub(b['data'], [...at, 'data']) };
      }
      case 'prefix': {
        const b = this.object(body, at, 'a prefix');
        return { kind: 'prefix', addr: sub(b['addr'], [...at, 'addr']), len: this.number(b, 'len', at) };
      }
      case 'range': {
        if (!Array.isArray(body) || body.length !== 2) this.fail(at, 'a range is a [low, high] pair');
        const [low, high] = body as Json[];
        return { kind: 'range', low: sub(low, [...at, 0]), high: sub(high, [...at, 1]) };
      }
      case 'elem': {
        const b = this.object(body, at, 'a set element');
        return {
          kind: 'elem',
          value: sub(b['val'], [...at, 'val']),
          timeout: this.optNumber(b, 'timeout', at),
          expires: this.optNumber(b, 'expires', at),
          comment: this.optString(b, 'comment', at),
        };
      }
      case '&':
      case '|':
      case '^':
      case '<<':
      case '>>': {
        if (!Array.isArray(body) || body.length !== 2) this.fail(at, `"${key}" takes [left, right]`);
        const [left, right] = body as Json[];
        return {
          kind: 'binop',
          op: key,
          left: sub(left, [...at, 0]),
          right: Array.isArray(right) ? this.rhs(right, [...at, 1]) : sub(right, [...at, 1]),
        };
      }
      default:
        return { kind: 'unknown', text: null, json: e, what: key };
    }
  }
}

type NftMatchOp = NftOp;
const MATCH_OPS: readonly string[] = ['==', '!=', '<', '>', '<=', '>=', 'in', '!'];
const REJECT_TYPES: readonly string[] = ['tcp reset', 'icmp', 'icmpv6', 'icmpx'];

function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return `${typeof v} ${String(v)}`;
}

/** V8's JSON.parse message without its ` in JSON at position N…` tail (cut at indexOf: a pattern was quadratic). */
function withoutPosition(message: string): string {
  const at = message.indexOf(' in JSON at position ');
  return at < 0 ? message : message.slice(0, at);
}
