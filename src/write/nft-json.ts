// The nft model as libnftables JSON (libnftables-json(5), json_schema_version 1): what
// `nft -j list ruleset` prints for it (json.c of nftables 1.0.6), and what `nft -j -f` loads back.
// Handles are written only when the model has them; a netdev chain's device is written (nft 1.0.6's
// own listing leaves it out, but its reader needs it).

import type { NftExpr, NftRuleset, NftSet, NftStatement, NftTable } from '../model/nft.js';
import { unknownExpr, unknownIn } from '../model/nft.js';
import { NftPrintError } from './nft-text.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The version line nft -j writes first (this reader and printer follow nftables 1.0.6). */
const METAINFO = { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 };

export function nftJson(ruleset: NftRuleset): { nftables: Json[] } {
  const out: Json[] = [{ metainfo: METAINFO }];
  for (const t of ruleset.tables) out.push(...tableJson(t));
  return { nftables: out };
}

export function formatNftJson(ruleset: NftRuleset): string {
  return JSON.stringify(nftJson(ruleset)) + '\n';
}

function withHandle(o: { [key: string]: Json }, handle: number | null): { [key: string]: Json } {
  if (handle !== null) o['handle'] = handle;
  return o;
}

/** A list of one is written as the one item (json.c nat_stmt_add_array and friends). */
function oneOrMany(items: readonly string[]): Json {
  return items.length === 1 ? items[0]! : [...items];
}

function tableJson(t: NftTable): Json[] {
  const table = withHandle({ family: t.family, name: t.name }, t.handle);
  if (t.flags.length > 0) table['flags'] = oneOrMany(t.flags);
  if (t.comment !== null) table['comment'] = t.comment;
  const out: Json[] = [{ table }];
  for (const o of t.objects) {
    if (o.json === null)
      throw new NftPrintError(`${o.what}: read from text, and virtables does not know its JSON form`, o.pos);
    out.push(o.json as Json);
  }
  for (const s of t.sets) out.push(setJson(s));
  for (const c of t.chains) {
    const chain = withHandle({ family: c.family, table: c.table, name: c.name }, c.handle);
    if (c.base) {
      Object.assign(chain, { type: c.base.type, hook: c.base.hook, prio: c.base.priority, policy: c.base.policy });
      if (c.base.devices.length === 1) chain['dev'] = c.base.devices[0]!;
      else if (c.base.devices.length > 1) chain['dev'] = [...c.base.devices];
    }
    if (c.comment !== null) chain['comment'] = c.comment;
    out.push({ chain });
  }
  for (const c of t.chains) {
    for (const r of c.rules) {
      const rule = withHandle({ family: r.family, table: r.table, chain: r.chain }, r.handle);
      rule['expr'] = r.statements.map(statementJson);
      if (r.comment !== null) rule['comment'] = r.comment;
      out.push({ rule });
    }
  }
  return out;
}

function setJson(s: NftSet): Json {
  const kind = s.unknown.includes('meter') ? 'meter' : s.map ? 'map' : 'set';
  const o = withHandle({ family: s.family, name: s.name, table: s.table, type: oneOrMany(s.type) }, s.handle);
  if (s.comment !== null) o['comment'] = s.comment;
  if (s.map) o['map'] = s.map.join(' . ');
  if (!s.flags.includes('constant')) {
    if (s.policy === 'memory') o['policy'] = 'memory';
    if (s.size !== null) o['size'] = s.size;
  }
  const flags = ['constant', 'interval', 'timeout'].filter((f) => s.flags.includes(f));
  if (flags.length > 0) o['flags'] = flags;
  if (s.timeout !== null) o['timeout'] = s.timeout;
  if (s.gcInterval !== null) o['gc-interval'] = s.gcInterval;
  for (const e of s.elements) {
    const u = unknownExpr(e);
    if (u && u.json === null)
      throw new NftPrintError(
        `set ${s.name}: element '${u.text}' not understood by virtables, so it has no JSON form here`,
        s.pos,
      );
  }
  if (s.elements.length > 0) o['elem'] = s.elements.map(exprJson);
  return { [kind]: o };
}

// ---------------------------------------------------------------------------------------------
// Statements (json.c *_stmt_json)

export function statementJson(s: NftStatement): Json {
  const u = s.kind === 'unknown' ? null : unknownIn(s);
  if (u && u.json === null)
    throw new NftPrintError(`'${u.text}': not understood by virtables, so it has no JSON form here`, s.pos);
  switch (s.kind) {
    case 'match':
      return { match: { op: s.op, left: exprJson(s.left), right: exprJson(s.right) } };
    case 'verdict':
      return s.target === null ? { [s.verdict]: null } : { [s.verdict]: { target: s.target } };
    case 'counter':
      return s.name !== null ? { counter: s.name } : { counter: { packets: s.packets, bytes: s.bytes } };
    case 'log': {
      const o: { [key: string]: Json } = {};
      if (s.prefix !== null) o['prefix'] = s.prefix;
      if (s.group !== null) o['group'] = s.group;
      if (s.snaplen !== null) o['snaplen'] = s.snaplen;
      if (s.queueThreshold !== null) o['queue-threshold'] = s.queueThreshold;
      if (s.level !== null && s.level !== 'warn') o['level'] = s.level;
      if (s.flags.length > 0) o['flags'] = s.flags.includes('all') ? 'all' : oneOrMany(s.flags);
      return { log: Object.keys(o).length === 0 ? null : o };
    }
    case 'limit': {
      if (s.name !== null) return { limit: s.name };
      const o: { [key: string]: Json } = { rate: s.rate, burst: s.burst, per: s.per };
      if (s.inv) o['inv'] = true;
      if (s.rateUnit !== 'packets') Object.assign(o, { rate_unit: s.rateUnit, burst_unit: s.burstUnit });
      return { limit: o };
    }
    case 'quota': {
      if (s.name !== null) return { quota: s.name };
      const o: { [key: string]: Json } = { val: s.val, val_unit: s.valUnit };
      if (s.inv) o['inv'] = true;
      if (s.used !== 0) Object.assign(o, { used: s.used, used_unit: s.usedUnit });
      return { quota: o };
    }
    case 'reject': {
      if (s.type === null) return { reject: null };
      return { reject: s.type === 'tcp reset' || s.code === null ? { type: s.type } : { type: s.type, expr: s.code } };
    }
    case 'nat': {
      const o: { [key: string]: Json } = {};
      if (s.family !== null) o['family'] = s.family;
      if (s.addr) o['addr'] = exprJson(s.addr);
      if (s.port) o['port'] = exprJson(s.port);
      if (s.flags.length > 0) o['flags'] = oneOrMany(s.flags);
      return { [s.nat]: Object.keys(o).length === 0 ? null : o };
    }
    case 'mangle':
      return { mangle: { key: exprJson(s.key), value: exprJson(s.value) } };
    case 'vmap':
      return { vmap: { key: exprJson(s.key), data: exprJson(s.data) } };
    case 'notrack':
      return { notrack: null };
    case 'queue': {
      const o: { [key: string]: Json } = {};
      if (s.num) o['num'] = exprJson(s.num);
      if (s.flags.length > 0) o['flags'] = oneOrMany(s.flags);
      return { queue: Object.keys(o).length === 0 ? null : o };
    }
    case 'set':
      return { set: { op: s.op, elem: exprJson(s.elem), set: `@${s.set}` } };
    case 'xt':
      return { xt: { type: s.type, name: s.name } };
    case 'unknown':
      if (s.json !== null) return s.json as Json;
      throw new NftPrintError(`'${s.text}': not understood by virtables, so it has no JSON form here`, s.pos);
  }
}

// ---------------------------------------------------------------------------------------------
// Expressions (json.c *_expr_json)

export function exprJson(e: NftExpr): Json {
  switch (e.kind) {
    case 'value':
      return e.value;
    case 'setref':
      return `@${e.name}`;
    case 'list':
      return e.items.map(exprJson);
    case 'set':
      return { set: e.items.map(exprJson) };
    case 'mapping':
      return [exprJson(e.key), exprJson(e.value)];
    case 'elem': {
      const o: { [key: string]: Json } = { val: exprJson(e.value) };
      if (e.timeout !== null) o['timeout'] = e.timeout;
      if (e.expires !== null) o['expires'] = e.expires;
      if (e.comment !== null) o['comment'] = e.comment;
      return { elem: o };
    }
    case 'map':
      return { map: { key: exprJson(e.key), data: exprJson(e.data) } };
    case 'concat':
      return { concat: e.items.map(exprJson) };
    case 'range':
      return { range: [exprJson(e.low), exprJson(e.high)] };
    case 'prefix':
      return { prefix: { addr: exprJson(e.addr), len: e.len } };
    case 'payload':
      return { payload: { protocol: e.protocol, field: e.field } };
    case 'payload-raw':
      return { payload: { base: e.base, offset: e.offset, len: e.len } };
    case 'meta':
      return { meta: { key: e.key } };
    case 'ct': {
      const o: { [key: string]: Json } = { key: e.key };
      if (e.family !== null) o['family'] = e.family;
      if (e.dir !== null) o['dir'] = e.dir;
      return { ct: o };
    }
    case 'fib':
      return { fib: { result: e.result, flags: [...e.flags] } };
    case 'binop':
      return { [e.op]: [exprJson(e.left), exprJson(e.right)] };
    case 'verdict':
      return e.target === null ? { [e.verdict]: null } : { [e.verdict]: { target: e.target } };
    case 'unknown':
      // Only JSON-read unknowns reach here: statementJson refuses text-read ones first.
      return e.json as Json;
  }
}
