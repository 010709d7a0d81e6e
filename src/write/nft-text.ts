// The nft model as `nft list ruleset` prints it (nftables 1.0.6: rule.c, statement.c,
// expression.c, datatype.c): tables, their named objects, sets, chains and rules, values written
// by datatype (marks in hex, interface names quoted, flags comma-separated). For a model as the
// kernel holds it (what nft -j lists, or canonicalNft() of any input) this is nft's text exactly.

import type {
  NftBaseChain,
  NftChain,
  NftExpr,
  NftFamily,
  NftHook,
  NftPos,
  NftRule,
  NftRuleset,
  NftSet,
  NftStatement,
  NftTable,
} from '../model/nft.js';
import { unknownExpr, unknownIn } from '../model/nft.js';
import { exprType, PRINTED_UNQUALIFIED } from '../model/nft-types.js';
import { bytesIn } from '../model/nft-canonical.js';

export interface NftTextOptions {
  /** Print `# handle N` after tables, chains, sets and rules that carry one (`nft -a`). */
  readonly handles?: boolean;
  /**
   * Refuse what `nft -f` could not load back: iptables-nft's xt statements, and elements read from
   * JSON that virtables does not know. Without it they are shown for people (`xt match "conntrack"`).
   */
  readonly strict?: boolean;
}

/** Something the printer cannot write as nft text, and where it was read. */
export class NftPrintError extends Error {
  constructor(
    message: string,
    readonly pos: NftPos,
  ) {
    super(message);
    this.name = 'NftPrintError';
  }
}

export function formatNftText(ruleset: NftRuleset, options: NftTextOptions = {}): string {
  if (options.strict) checkPrintable(ruleset);
  return ruleset.tables.map((t) => formatTable(t, options)).join('');
}

/**
 * Throws for the first element nft text cannot hold as read: an xt statement, or what JSON had
 * and virtables does not know.
 */
function checkPrintable(ruleset: NftRuleset): void {
  for (const t of ruleset.tables) {
    for (const o of t.objects)
      if (o.text === null)
        throw new NftPrintError(`${o.what}: read from JSON, and virtables does not know how nft prints it`, o.pos);
    for (const set of t.sets) {
      for (const e of set.elements) {
        const u = unknownExpr(e);
        if (u && u.text === null)
          throw new NftPrintError(
            `set ${set.name}: element '${u.what}' read from JSON, and virtables does not know how nft prints it`,
            set.pos,
          );
      }
    }
    for (const c of t.chains) {
      for (const r of c.rules) {
        for (const s of r.statements) {
          if (s.kind === 'xt')
            throw new NftPrintError(
              `xt ${s.type} ${s.name}: an iptables-nft extension nft -j does not describe (nft -f refuses it too); ` +
                `its table's rules are in iptables-save`,
              s.pos,
            );
          if (s.kind === 'unknown' && s.text === null)
            throw new NftPrintError(
              `statement '${s.what}': read from JSON, and virtables does not know how nft prints it`,
              s.pos,
            );
          const u = unknownIn(s);
          if (u && u.text === null)
            throw new NftPrintError(
              `expression '${u.what}': read from JSON, and virtables does not know how nft prints it`,
              s.pos,
            );
        }
      }
    }
  }
}

function handle(h: number | null, options: NftTextOptions): string {
  return options.handles && h !== null ? ` # handle ${h}` : '';
}

function formatTable(t: NftTable, options: NftTextOptions): string {
  const out: string[] = [`table ${t.family} ${t.name} {${handle(t.handle, options)}\n`];
  let delim = '';
  if (t.flags.length > 0) {
    out.push(`\tflags ${t.flags.join(',')}\n`);
    delim = '\n';
  }
  if (t.comment !== null) out.push(`\tcomment "${t.comment}"\n`);
  const object = (o: NftTable['objects'][number]): string => {
    if (o.text !== null) return `\t${o.text}\n`;
    return `\t# ${o.what}: ${JSON.stringify(o.json)}\n`;
  };
  const flowtable = (o: NftTable['objects'][number]): boolean => o.what.startsWith('flowtable ');
  for (const o of t.objects.filter((x) => !flowtable(x))) {
    out.push(delim, object(o));
    delim = '\n';
  }
  for (const s of t.sets) {
    out.push(delim, formatSet(s, options));
    delim = '\n';
  }
  for (const o of t.objects.filter(flowtable)) {
    out.push(delim, object(o));
    delim = '\n';
  }
  for (const c of t.chains) {
    out.push(delim, formatChain(c, options));
    delim = '\n';
  }
  out.push('}\n');
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// Sets

/** Elements per line of a named set by key type (expression.c calculate_delim); absent: one per line. */
const ELEMENTS_PER_LINE: Readonly<Record<string, number>> = {
  nf_proto: 5,
  integer: 5,
  arp_op: 5,
  inet_proto: 5,
  inet_service: 5,
  tcp_flag: 5,
  dccp_pkttype: 5,
  mark: 5,
  iface_index: 5,
  classid: 5,
  uid: 5,
  gid: 5,
  ct_dir: 5,
  ipv4_addr: 2,
  ct_state: 2,
  ct_status: 2,
  pkt_type: 2,
};

/** `1h30m` as nft prints durations (seconds here; nft -j keeps no milliseconds). */
export function formatDuration(seconds: number): string {
  let s = seconds;
  const d = Math.floor(s / 86400);
  s %= 86400;
  const h = Math.floor(s / 3600);
  s %= 3600;
  const m = Math.floor(s / 60);
  s %= 60;
  return `${d > 0 ? `${d}d` : ''}${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}` || '0s';
}

function formatSet(s: NftSet, options: NftTextOptions): string {
  const kind = s.unknown.includes('meter') ? 'meter' : s.map ? 'map' : 'set';
  const lines = [`\t${kind} ${s.name} {${handle(s.handle, options)}`];
  const type =
    s.typeof !== null ? `typeof ${s.typeof}` : `type ${s.type.join(' . ')}${s.map ? ` : ${s.map.join(' . ')}` : ''}`;
  lines.push(`\t\t${type}`);
  if (!s.flags.includes('constant')) {
    if (s.policy === 'memory') lines.push('\t\tpolicy memory');
    if (s.size !== null) lines.push(`\t\tsize ${s.size}`);
  }
  const shown = s.flags.filter((f) => !(f === 'timeout' && s.timeout !== null));
  if (shown.some((f) => ['constant', 'dynamic', 'interval', 'timeout'].includes(f)))
    lines.push(`\t\tflags ${s.flags.join(',')}`);
  for (const u of s.unknown) if (u !== 'meter') lines.push(`\t\t${u}`);
  if (s.timeout !== null) lines.push(`\t\ttimeout ${formatDuration(s.timeout)}`);
  if (s.gcInterval !== null) lines.push(`\t\tgc-interval ${formatDuration(s.gcInterval)}`);
  if (s.comment !== null) lines.push(`\t\tcomment "${s.comment}"`);
  if (s.elements.length > 0) {
    const keyType = s.type.length === 1 ? s.type[0]! : null;
    const ctx: ValueContext = {
      family: s.family,
      type: keyType,
      mapType: s.map?.length === 1 ? s.map[0]! : null,
      parts: s.type.length > 1 ? s.type : null,
      mapParts: s.map && s.map.length > 1 ? s.map : null,
    };
    const perLine = keyType ? ELEMENTS_PER_LINE[keyType] : undefined;
    let text = '{ ';
    let count = 0;
    s.elements.forEach((e, i) => {
      if (i > 0) text += perLine !== undefined && count < perLine ? ', ' : ',\n\t\t\t     ';
      if (i > 0 && perLine !== undefined && count >= perLine) count = 0;
      text += formatExpr(e, ctx);
      count++;
    });
    lines.push(`\t\telements = ${text} }`);
  }
  lines.push('\t}');
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Chains and rules

/** nftables' standard priority names (rule.c std_prios / bridge_std_prios) and where they apply. */
const STD_PRIOS: ReadonlyArray<{ value: number; name: string }> = [
  { value: -300, name: 'raw' },
  { value: -150, name: 'mangle' },
  { value: -100, name: 'dstnat' },
  { value: 0, name: 'filter' },
  { value: 50, name: 'security' },
  { value: 100, name: 'srcnat' },
];
const BRIDGE_PRIOS: ReadonlyArray<{ value: number; name: string }> = [
  { value: -300, name: 'dstnat' },
  { value: -200, name: 'filter' },
  { value: 100, name: 'out' },
  { value: 300, name: 'srcnat' },
];

function prioCompatible(value: number, family: NftFamily, hook: NftHook): boolean {
  if (family === 'bridge') {
    if (value === -300) return hook === 'prerouting';
    if (value === -200) return true;
    if (value === 100) return hook === 'output';
    if (value === 300) return hook === 'postrouting';
    return false;
  }
  const inet = family === 'ip' || family === 'ip6' || family === 'inet';
  if (value === 0) return inet || family === 'arp' || family === 'netdev';
  if (value === -300 || value === -150 || value === 50) return inet;
  if (value === -100) return inet && hook === 'prerouting';
  if (value === 100) return inet && hook === 'postrouting';
  return false;
}

/** `filter`, `filter + 10`, `srcnat - 5`, or the number (rule.c prio2str: names within 10 of a standard value). */
export function formatPriority(priority: number, family: NftFamily, hook: NftHook): string {
  for (const p of family === 'bridge' ? BRIDGE_PRIOS : STD_PRIOS) {
    if (Math.abs(priority - p.value) <= 10) {
      if (!prioCompatible(p.value, family, hook)) break;
      const offset = priority - p.value;
      return offset > 0 ? `${p.name} + ${offset}` : offset < 0 ? `${p.name} - ${-offset}` : p.name;
    }
  }
  return String(priority);
}

export function formatBaseChain(b: NftBaseChain, family: NftFamily): string {
  const devices =
    b.devices.length === 1
      ? ` device "${b.devices[0]}"`
      : b.devices.length > 1
        ? ` devices = { ${b.devices.join(', ')} }`
        : '';
  const priority = formatPriority(b.priority, family, b.hook);
  return `type ${b.type} hook ${b.hook}${devices} priority ${priority}; policy ${b.policy};`;
}

function formatChain(c: NftChain, options: NftTextOptions): string {
  const lines = [`\tchain ${c.name} {${handle(c.handle, options)}`];
  if (c.comment !== null) lines.push(`\t\tcomment "${c.comment}"`);
  if (c.base) lines.push(`\t\t${formatBaseChain(c.base, c.family)}`);
  for (const r of c.rules) lines.push(`\t\t${formatNftRule(r)}${handle(r.handle, options)}`);
  lines.push('\t}');
  return lines.join('\n') + '\n';
}

/** One rule as nft prints it inside its chain (without the indent). */
export function formatNftRule(rule: NftRule): string {
  const text = rule.statements.map((s) => formatStatement(s, rule.family)).join(' ');
  return rule.comment === null ? text : `${text} comment "${rule.comment}"`;
}

// ---------------------------------------------------------------------------------------------
// Statements

export function formatStatement(s: NftStatement, family: NftFamily): string {
  switch (s.kind) {
    case 'match':
      return formatMatch(s.op, s.left, s.right, family);
    case 'verdict':
      return s.target === null ? s.verdict : `${s.verdict} ${s.target}`;
    case 'counter':
      return s.name !== null ? `counter name "${s.name}"` : `counter packets ${s.packets} bytes ${s.bytes}`;
    case 'log': {
      let out = 'log';
      if (s.prefix !== null) out += ` prefix "${s.prefix}"`;
      if (s.group !== null) out += ` group ${s.group}`;
      if (s.snaplen !== null) out += ` snaplen ${s.snaplen}`;
      if (s.queueThreshold !== null) out += ` queue-threshold ${s.queueThreshold}`;
      if (s.level !== null && s.level !== 'warn') out += ` level ${s.level}`;
      if (s.flags.includes('all')) return `${out} flags all`;
      const tcp = ['sequence', 'options'].filter((f) => s.flags.includes(`tcp ${f}`));
      if (tcp.length > 0) out += ` flags tcp ${tcp.join(',')}`;
      if (s.flags.includes('ip options')) out += ' flags ip options';
      if (s.flags.includes('skuid')) out += ' flags skuid';
      if (s.flags.includes('ether')) out += ' flags ether';
      return out;
    }
    case 'limit': {
      if (s.name !== null) return `limit name "${s.name}"`;
      const over = s.inv ? 'over ' : '';
      if (s.rateUnit === 'packets') {
        const packets = s.burst !== 0 && s.burst !== 5 ? ` burst ${s.burst} packets` : '';
        return `limit rate ${over}${s.rate}/${s.per}${packets}`;
      }
      const rate = bytesIn(s.rate, s.rateUnit);
      const burst = bytesIn(s.burst, s.burstUnit);
      const burstText = s.burst !== 0 ? ` burst ${burst.value} ${burst.unit}` : '';
      return `limit rate ${over}${rate.value} ${rate.unit}/${s.per}${burstText}`;
    }
    case 'quota': {
      if (s.name !== null) return `quota name "${s.name}"`;
      const val = bytesIn(s.val, s.valUnit);
      const used = bytesIn(s.used, s.usedUnit);
      const usedText = s.used !== 0 ? ` used ${used.value} ${used.unit}` : '';
      return `quota ${s.inv ? 'over ' : ''}${val.value} ${val.unit}${usedText}`;
    }
    case 'reject': {
      if (s.type === 'tcp reset') return 'reject with tcp reset';
      if (s.type === null || s.code === null) return 'reject';
      // The family's own default prints as a bare `reject` (statement.c reject_stmt_print).
      const isDefault =
        s.code === 'port-unreachable' &&
        ((s.type === 'icmpx' && family !== 'ip' && family !== 'ip6') ||
          (s.type === 'icmp' && family === 'ip') ||
          (s.type === 'icmpv6' && family === 'ip6'));
      return isDefault ? 'reject' : `reject with ${s.type} ${s.code}`;
    }
    case 'nat': {
      let out = s.nat;
      if (s.addr || s.port) out += `${s.family ? ` ${s.family}` : ''} to`;
      const ctx: ValueContext = { family, type: null, mapType: null };
      if (s.addr) {
        const v6 = (e: NftExpr): boolean => e.kind === 'value' && typeof e.value === 'string' && e.value.includes(':');
        if (s.port && v6(s.addr)) out += ` [${formatExpr(s.addr, ctx)}]`;
        else if (s.port && s.addr.kind === 'range' && v6(s.addr.low))
          out += ` [${formatExpr(s.addr.low, ctx)}]-[${formatExpr(s.addr.high, ctx)}]`;
        else out += ` ${formatExpr(s.addr, ctx)}`;
      }
      if (s.port) out += `${s.addr ? '' : ' '}:${formatExpr(s.port, ctx)}`;
      return s.flags.length > 0 ? `${out} ${s.flags.join(',')}` : out;
    }
    case 'mangle': {
      const value = formatExpr(s.value, { family, type: exprType(s.key, family), mapType: null });
      return `${formatExpr(s.key, { family, type: null, mapType: null })} set ${value}`;
    }
    case 'vmap': {
      const data = formatExpr(s.data, {
        family,
        type: exprType(s.key, family),
        mapType: 'verdict',
        parts: partsOf(s.key, family),
      });
      return `${formatExpr(s.key, { family, type: null, mapType: null })} vmap ${data}`;
    }
    case 'notrack':
      return 'notrack';
    case 'queue': {
      let out = 'queue';
      if (s.flags.length > 0) out += ` flags ${s.flags.join(',')}`;
      if (s.num) out += ` to ${formatExpr(s.num, { family, type: 'integer', mapType: null })}`;
      return out;
    }
    case 'set':
      return `${s.op} @${s.set} { ${formatExpr(s.elem, { family, type: null, mapType: null })} }`;
    case 'xt':
      return `xt ${s.type} "${s.name}"`;
    case 'unknown':
      return s.text ?? JSON.stringify(s.json);
  }
}

function formatMatch(op: string, left: NftExpr, right: NftExpr, family: NftFamily): string {
  const type = exprType(left, family);
  const ctx: ValueContext = { family, type, mapType: null, parts: partsOf(left, family) };
  // `(tcp flags & (syn | ack)) == syn` prints as `tcp flags syn / syn,ack` (expression.c flagcmp).
  if (
    left.kind === 'binop' &&
    left.op === '&' &&
    left.right.kind === 'list' &&
    (op === '==' || op === '!=') &&
    right.kind !== 'list'
  ) {
    const inner = { family, type: exprType(left.left, family), mapType: null };
    const mask = formatExpr(left.right, inner);
    return `${formatExpr(left.left, ctx)}${op === '!=' ? ' != ' : ' '}${formatExpr(right, inner)} / ${mask}`;
  }
  const l = formatExpr(left, ctx);
  const r = formatExpr(right, ctx);
  if (op === 'in') return `${l} ${r}`;
  if (op === '==') {
    // `==` shows only before a single bitmask value or after a binary operation (expression.c must_print_eq_op).
    const bitmaskValue =
      type !== null && ['ct_state', 'ct_status', 'tcp_flag', 'ct_event'].includes(type) && right.kind === 'value';
    return bitmaskValue || left.kind === 'binop' ? `${l} == ${r}` : `${l} ${r}`;
  }
  return `${l} ${op} ${r}`;
}

// ---------------------------------------------------------------------------------------------
// Expressions and values

interface ValueContext {
  readonly family: NftFamily;
  /** The datatype of the values being printed (of the left side, or the set's key). */
  readonly type: string | null;
  /** For maps: the datatype of the values after `:`. */
  readonly mapType: string | null;
  /** For concatenated keys (and map values): the datatype of each part. */
  readonly parts?: readonly string[] | null;
  readonly mapParts?: readonly string[] | null;
}

/** The datatypes of a left-hand expression's parts (`ip saddr . tcp dport` → ipv4_addr, inet_service). */
function partsOf(e: NftExpr, family: NftFamily): string[] | null {
  if (e.kind !== 'concat') return null;
  return e.items.map((i) => exprType(i, family) ?? 'unknown');
}

const QUOTED_TYPES = new Set(['ifname', 'string', 'iface_index', 'ct_label', 'devgroup_name']);

function formatValue(v: string | number | boolean, type: string | null): string {
  if (typeof v === 'boolean') return v ? 'exists' : 'missing';
  if (typeof v === 'number') {
    if (type === 'mark') return `0x${v.toString(16).padStart(8, '0')}`;
    if (type === 'ether_type') return `0x${v.toString(16).padStart(4, '0')}`;
    if (type === 'dscp' || type === 'ecn') return `0x${v.toString(16).padStart(2, '0')}`;
    return String(v);
  }
  return type !== null && QUOTED_TYPES.has(type) ? `"${v}"` : v;
}

const BINOP_PRECEDENCE: Readonly<Record<string, number>> = { '<<': 1, '>>': 1, '&': 2, '^': 3, '|': 4 };

export function formatExpr(e: NftExpr, ctx: ValueContext): string {
  switch (e.kind) {
    case 'value':
      return formatValue(e.value, ctx.type);
    case 'setref':
      return `@${e.name}`;
    case 'list':
      return e.items.map((i) => formatExpr(i, ctx)).join(',');
    case 'set':
      return `{ ${e.items.map((i) => formatExpr(i, ctx)).join(', ')} }`;
    case 'mapping': {
      const value = formatExpr(e.value, { ...ctx, type: ctx.mapType, parts: ctx.mapParts ?? null });
      return `${formatExpr(e.key, ctx)} : ${value}`;
    }
    case 'elem': {
      let out = formatExpr(e.value, ctx);
      if (e.timeout !== null) out += ` timeout ${formatDuration(e.timeout)}`;
      if (e.expires !== null) out += ` expires ${formatDuration(e.expires)}`;
      if (e.comment !== null) out += ` comment "${e.comment}"`;
      return out;
    }
    case 'map': {
      const keyType = exprType(e.key, ctx.family);
      const data = formatExpr(e.data, { ...ctx, type: keyType, parts: partsOf(e.key, ctx.family), mapType: ctx.type });
      return `${formatExpr(e.key, ctx)} map ${data}`;
    }
    case 'concat':
      // Values of a concatenation take the type of their own part of the key.
      return e.items.map((i, k) => formatExpr(i, { ...ctx, type: ctx.parts?.[k] ?? null })).join(' . ');
    case 'range':
      return `${formatExpr(e.low, ctx)}-${formatExpr(e.high, ctx)}`;
    case 'prefix':
      return `${formatExpr(e.addr, ctx)}/${e.len}`;
    case 'payload':
      return `${e.protocol} ${e.field}`;
    case 'payload-raw':
      return `@${e.base},${e.offset},${e.len}`;
    case 'meta':
      return PRINTED_UNQUALIFIED.has(e.key) ? e.key : `meta ${e.key}`;
    case 'ct': {
      const key =
        (e.key === 'saddr' || e.key === 'daddr') && e.dir !== null && (ctx.family === 'ip' || ctx.family === 'ip6')
          ? `${ctx.family} ${e.key}`
          : e.key;
      return `ct ${e.dir ? `${e.dir} ` : ''}${key}`;
    }
    case 'fib':
      return `fib ${e.flags.join(' . ')} ${e.result}`;
    case 'binop': {
      const side = (x: NftExpr): string => {
        const s = x.kind === 'list' ? x.items.map((i) => formatExpr(i, ctx)).join(' | ') : formatExpr(x, ctx);
        const paren =
          (x.kind === 'binop' && (BINOP_PRECEDENCE[x.op] ?? 0) > (BINOP_PRECEDENCE[e.op] ?? 0)) ||
          (x.kind === 'list' && x.items.length > 1);
        return paren ? `(${s})` : s;
      };
      return `${side(e.left)} ${e.op} ${side(e.right)}`;
    }
    case 'verdict':
      return e.target === null ? e.verdict : `${e.verdict} ${e.target}`;
    case 'unknown':
      return e.text ?? JSON.stringify(e.json);
  }
}
