// The nftables model: what `nft list ruleset` (text) and `nft -j list ruleset` (libnftables-json(5),
// json_schema_version 1) hold, as plain data. Statements and expressions mirror libnftables-json's
// objects (match {op, left, right}, payload, meta, ct, fib, set, map, vmap, concat, range, prefix,
// counter, verdicts, nat …), so the JSON reader is direct and the text grammar builds the same objects:
// a ruleset read from text and the same ruleset read from JSON are equal but for positions and the
// few things nft's JSON output leaves out (`handle`s in text without -a, netdev `device`s in 1.0.6).
// Values are as the kernel holds them: numbers for integers, strings for symbols, addresses, names.
// What virtables does not understand is carried verbatim (`unknown`) so a verdict can say why it is
// unknown; nothing is dropped or guessed.

/** nftables address families. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export const NFT_FAMILIES: readonly NftFamily[] = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];

/** Netfilter hooks a base chain can attach to (ingress/egress: netdev, and inet ingress). */
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
export const NFT_HOOKS: readonly NftHook[] = [
  'prerouting',
  'input',
  'forward',
  'output',
  'postrouting',
  'ingress',
  'egress',
];

export type NftChainType = 'filter' | 'nat' | 'route';
export const NFT_CHAIN_TYPES: readonly NftChainType[] = ['filter', 'nat', 'route'];

export type NftPolicy = 'accept' | 'drop';

/**
 * Where an element was read: line and column (1-based) in nft text, or the element's path in the
 * JSON document (`nftables[7].rule.expr[2]`). `formatNftPos` prints either.
 */
export type NftPos = NftTextPos | NftJsonPos;
export interface NftTextPos {
  readonly line: number;
  readonly col: number;
}
export interface NftJsonPos {
  readonly path: string;
}

/** Which reader produced a ruleset. */
export type NftSyntax = 'text' | 'json';

/** A whole ruleset: every table, in the order nft lists them (their creation order). */
export interface NftRuleset {
  /** File name as given by the user (`-` for standard input). */
  readonly file: string;
  readonly syntax: NftSyntax;
  /** From the JSON metainfo object (`1.0.6`); null for text, which does not say. */
  readonly nftVersion: string | null;
  readonly tables: NftTable[];
}

/** Who manages a table, when the reader can tell (iptables-nft's tables also appear in iptables-save). */
export type NftTableOwner = 'iptables-nft' | null;

export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  /** Kernel handle: from JSON or `nft -a` text (`# handle N`); null when the input did not say. */
  readonly handle: number | null;
  readonly pos: NftPos;
  /** Table flags (`dormant`, `owner`, …) as listed. */
  readonly flags: readonly string[];
  readonly comment: string | null;
  /** Named sets and maps, in listing order. */
  readonly sets: NftSet[];
  /** Regular and base chains, in listing order (= creation order). */
  readonly chains: NftChain[];
  /** Named stateful objects and flowtables (`counter NAME { … }`, `flowtable …`), carried verbatim. */
  readonly objects: NftUnknownObject[];
  /** Set by the input reader when iptables-nft manages the table: its rules then come from iptables-save. */
  owner: NftTableOwner;
}

/** Base-chain attachment: `type filter hook forward priority filter; policy accept;`. */
export interface NftBaseChain {
  readonly type: NftChainType;
  readonly hook: NftHook;
  /** Numeric priority (symbolic names resolved per family and hook: `filter` = 0, bridge `filter` = -200). */
  readonly priority: number;
  /** `accept` when the input gives none (the kernel's default). */
  readonly policy: NftPolicy;
  /** `device "eth0"` / `devices = { … }` (netdev, inet ingress); nft 1.0.6's JSON omits them. */
  readonly devices: readonly string[];
}

export interface NftChain {
  readonly family: NftFamily;
  readonly table: string;
  readonly name: string;
  readonly handle: number | null;
  readonly pos: NftPos;
  /** Null for a regular chain (reached only by jump/goto). */
  readonly base: NftBaseChain | null;
  readonly comment: string | null;
  /** Top to bottom. */
  readonly rules: NftRule[];
}

export interface NftRule {
  readonly family: NftFamily;
  readonly table: string;
  readonly chain: string;
  readonly handle: number | null;
  readonly pos: NftPos;
  /** Statements in evaluation order (JSON `expr`). */
  readonly statements: NftStatement[];
  readonly comment: string | null;
}

/** A named set (`set NAME { … }`) or map (`map NAME { … }`; `map` is the value type). */
export interface NftSet {
  readonly family: NftFamily;
  readonly table: string;
  readonly name: string;
  readonly handle: number | null;
  readonly pos: NftPos;
  /** Key type: one name (`ipv4_addr`) or several for a concatenation (`ipv4_addr . inet_service`). */
  readonly type: readonly string[];
  /** `typeof` declaration as written, when the set was declared by expression instead of type. */
  readonly typeof: string | null;
  /** Null for a set; the value type for a map (`verdict` for a verdict map, `ipv4_addr`, …). */
  readonly map: readonly string[] | null;
  readonly flags: readonly string[];
  /** Elements: values, prefixes, ranges, concatenations; `mapping`s for maps; `elem` when they carry options. */
  readonly elements: NftExpr[];
  /** Seconds; null when not set. */
  readonly timeout: number | null;
  readonly gcInterval: number | null;
  readonly size: number | null;
  readonly policy: 'performance' | 'memory' | null;
  readonly comment: string | null;
  /** Declaration lines virtables does not read (`auto-merge`, per-element `counter`, …), verbatim. */
  readonly unknown: readonly string[];
}

/** Something not understood, kept as written: the text words, or the JSON object. */
export interface NftUnknownObject {
  readonly kind: 'unknown';
  readonly pos: NftPos;
  /** As written in text input (the whole block for a table object); null from JSON. */
  readonly text: string | null;
  /** The JSON object as read; null from text. */
  readonly json: unknown;
  /** What it is, for the "unknown because of …" sentence (`xt match conntrack`, `flowtable f`). */
  readonly what: string;
}

// ---------------------------------------------------------------------------------------------
// Statements (libnftables-json "STATEMENTS"). Every statement carries where it was read.

export type NftStatement =
  | NftMatch
  | NftVerdictStatement
  | NftCounter
  | NftLog
  | NftLimit
  | NftQuota
  | NftReject
  | NftNat
  | NftMangle
  | NftVmap
  | NftNotrack
  | NftQueue
  | NftSetUpdate
  | NftXt
  | NftUnknownStatement;

/**
 * Relational operators of `match`. `in`: one of the right side's bits is set (a bare `ct state
 * established,related`, `tcp flags syn`); `!`: none of them is (`ct state ! established`).
 */
export type NftOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | '!';

/** `left OP right`: the rule goes on only when it holds. */
export interface NftMatch {
  readonly kind: 'match';
  readonly op: NftOp;
  readonly left: NftExpr;
  readonly right: NftExpr;
  readonly pos: NftPos;
}

export type NftVerdictName = 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto';

/** accept, drop, continue, return, jump CHAIN, goto CHAIN. */
export interface NftVerdictStatement {
  readonly kind: 'verdict';
  readonly verdict: NftVerdictName;
  /** The chain of jump/goto; null otherwise. */
  readonly target: string | null;
  readonly pos: NftPos;
}

/** `counter packets N bytes M`, or a reference to a named counter (`counter name "c"`). */
export interface NftCounter {
  readonly kind: 'counter';
  readonly packets: number;
  readonly bytes: number;
  /** Named counter object; null for an anonymous counter. */
  readonly name: string | null;
  readonly pos: NftPos;
}

export interface NftLog {
  readonly kind: 'log';
  readonly prefix: string | null;
  readonly group: number | null;
  readonly snaplen: number | null;
  readonly queueThreshold: number | null;
  readonly level: string | null;
  readonly flags: readonly string[];
  readonly pos: NftPos;
}

/** `limit rate [over] N[/unit] [burst M]`; a named limit (`limit name "l"`) has only `name`. */
export interface NftLimit {
  readonly kind: 'limit';
  readonly rate: number;
  /** `packets`, or a byte unit (`bytes`, `kbytes`, `mbytes`). */
  readonly rateUnit: string;
  /** `second`, `minute`, `hour`, `day`, `week`. */
  readonly per: string;
  readonly burst: number;
  readonly burstUnit: string;
  /** `over`: matches once the rate is exceeded. */
  readonly inv: boolean;
  readonly name: string | null;
  readonly pos: NftPos;
}

/** `quota [over|until] N UNIT [used M UNIT]`, or a named quota. */
export interface NftQuota {
  readonly kind: 'quota';
  readonly val: number;
  readonly valUnit: string;
  readonly used: number;
  readonly usedUnit: string;
  /** `over`: matches once the quota is used up. */
  readonly inv: boolean;
  readonly name: string | null;
  readonly pos: NftPos;
}

export type NftRejectType = 'tcp reset' | 'icmp' | 'icmpv6' | 'icmpx';

/**
 * `reject [with tcp reset | with icmp CODE | with icmpv6 CODE | with icmpx CODE]`. A bare `reject`
 * reads as the kernel holds it: icmp port-unreachable (ip), icmpv6 (ip6), icmpx (inet, bridge,
 * netdev). In inet/bridge/netdev tables `icmp` applies to IPv4 packets only and `icmpv6` to IPv6
 * (nft hides the `meta nfproto` match it adds); `tcp reset` needs TCP (nft shows `meta l4proto tcp`).
 */
export interface NftReject {
  readonly kind: 'reject';
  /** Null only in arp tables (no ICMP there). */
  readonly type: NftRejectType | null;
  /** ICMP code name (`host-prohibited`, `admin-prohibited`) or number; null for the default or tcp reset. */
  readonly code: string | number | null;
  readonly pos: NftPos;
}

export type NftNatType = 'snat' | 'dnat' | 'masquerade' | 'redirect';

/** snat/dnat `[ip|ip6] to ADDR[:PORT]`, masquerade/redirect `[to :PORT]`, with flags. */
export interface NftNat {
  readonly kind: 'nat';
  readonly nat: NftNatType;
  /** Address family of `addr` (`snat ip to …`); required in inet tables, null when not given. */
  readonly family: 'ip' | 'ip6' | null;
  /** An address, a range, a prefix, or a map lookup; null for masquerade/redirect and port-only forms. */
  readonly addr: NftExpr | null;
  /** A port or range; null when not given. */
  readonly port: NftExpr | null;
  /** `random`, `fully-random`, `persistent`, `netmap`. */
  readonly flags: readonly string[];
  readonly pos: NftPos;
}

/** `KEY set VALUE`: meta mark set 0x1, ct mark set meta mark, meta nftrace set 1. */
export interface NftMangle {
  readonly kind: 'mangle';
  readonly key: NftExpr;
  readonly value: NftExpr;
  readonly pos: NftPos;
}

/** `KEY vmap { VALUE : VERDICT, … }` or `KEY vmap @map`: the verdict of the matching element. */
export interface NftVmap {
  readonly kind: 'vmap';
  readonly key: NftExpr;
  /** An anonymous set of `mapping`s whose values are verdicts, or a `setref` to a verdict map. */
  readonly data: NftExpr;
  readonly pos: NftPos;
}

export interface NftNotrack {
  readonly kind: 'notrack';
  readonly pos: NftPos;
}

/** `queue [num N] [bypass] [fanout]`: hands the packet to user space (a verdict). */
export interface NftQueue {
  readonly kind: 'queue';
  readonly num: NftExpr | null;
  readonly flags: readonly string[];
  readonly pos: NftPos;
}

/** `add @set { elem }` / `update @set { elem }`: adds an element to a named set as packets pass. */
export interface NftSetUpdate {
  readonly kind: 'set';
  readonly op: 'add' | 'update' | 'delete';
  readonly elem: NftExpr;
  readonly set: string;
  readonly pos: NftPos;
}

/**
 * An xtables match or target iptables-nft put into the rule (JSON `xt`; nft's text translates
 * some of them). Its options are not listed, so what it does is unknown to the nft reader.
 */
export interface NftXt {
  readonly kind: 'xt';
  readonly type: 'match' | 'target' | 'watcher';
  readonly name: string;
  readonly pos: NftPos;
}

/** A statement virtables does not understand, kept verbatim (text: the rest of the rule's words). */
export interface NftUnknownStatement {
  readonly kind: 'unknown';
  readonly pos: NftPos;
  readonly text: string | null;
  readonly json: unknown;
  /** Short name for sentences: the statement's first word or JSON key (`dup`, `tproxy`, `synproxy`). */
  readonly what: string;
}

// ---------------------------------------------------------------------------------------------
// Expressions (libnftables-json "EXPRESSIONS").

export type NftExpr =
  | NftValue
  | NftSetRef
  | NftList
  | NftAnonSet
  | NftMapping
  | NftElem
  | NftMapLookup
  | NftConcat
  | NftRange
  | NftPrefix
  | NftPayload
  | NftRawPayload
  | NftMeta
  | NftCt
  | NftFib
  | NftBinop
  | NftVerdictExpr
  | NftUnknownExpr;

/**
 * An immediate: a number (ports, marks, lengths), a string (addresses, names, symbols such as `tcp`,
 * `established`), a boolean (fib `exists`/`missing`).
 */
export interface NftValue {
  readonly kind: 'value';
  readonly value: string | number | boolean;
}

/** `@name`: a named set or map. */
export interface NftSetRef {
  readonly kind: 'setref';
  readonly name: string;
}

/** A comma list without braces: the flags of a bitmask (`established,related`, `syn,ack`). */
export interface NftList {
  readonly kind: 'list';
  readonly items: readonly NftExpr[];
}

/** An anonymous set `{ a, b-c, … }` (for maps and verdict maps: of `mapping`s). */
export interface NftAnonSet {
  readonly kind: 'set';
  readonly items: readonly NftExpr[];
}

/** `key : value` inside a map (JSON: a two-element array). */
export interface NftMapping {
  readonly kind: 'mapping';
  readonly key: NftExpr;
  readonly value: NftExpr;
}

/** A set element with options (`10.0.0.1 timeout 1h comment "x"`). Times in seconds. */
export interface NftElem {
  readonly kind: 'elem';
  readonly value: NftExpr;
  readonly timeout: number | null;
  readonly expires: number | null;
  readonly comment: string | null;
}

/** `key map { … }` / `key map @m`: the value the map gives the key (in snat/dnat addresses, mangle values). */
export interface NftMapLookup {
  readonly kind: 'map';
  readonly key: NftExpr;
  readonly data: NftExpr;
}

/** `a . b . c`. */
export interface NftConcat {
  readonly kind: 'concat';
  readonly items: readonly NftExpr[];
}

/** `low-high`, inclusive. */
export interface NftRange {
  readonly kind: 'range';
  readonly low: NftExpr;
  readonly high: NftExpr;
}

/** `addr/len`. */
export interface NftPrefix {
  readonly kind: 'prefix';
  readonly addr: NftExpr;
  readonly len: number;
}

/** A header field by name: `ip saddr`, `tcp dport`, `ether type`, `icmpv6 type`, `th dport`. */
export interface NftPayload {
  readonly kind: 'payload';
  readonly protocol: string;
  readonly field: string;
}

/** `@nh,16,16`: `len` bits at bit `offset` from a base (`ll` link, `nh` network, `th` transport, `ih` inner). */
export interface NftRawPayload {
  readonly kind: 'payload-raw';
  readonly base: 'll' | 'nh' | 'th' | 'ih';
  readonly offset: number;
  readonly len: number;
}

/** Packet meta data: `iif`, `oif`, `iifname`, `oifname`, `l4proto`, `nfproto`, `mark`, `pkttype`, … */
export interface NftMeta {
  readonly kind: 'meta';
  readonly key: string;
}

/** Conntrack data: `ct state`, `ct status`, `ct mark`, `ct original saddr`, … */
export interface NftCt {
  readonly kind: 'ct';
  readonly key: string;
  readonly family: 'ip' | 'ip6' | null;
  readonly dir: 'original' | 'reply' | null;
}

/** A routing lookup: `fib daddr type`, `fib saddr . iif oif`. */
export interface NftFib {
  readonly kind: 'fib';
  /** `oif`, `oifname` or `type`. */
  readonly result: string;
  /** `saddr`, `daddr`, `mark`, `iif`, `oif`, in nft's order. */
  readonly flags: readonly string[];
}

/** `left & right` and the other bit operations (`tcp flags & (syn | ack)`). */
export interface NftBinop {
  readonly kind: 'binop';
  readonly op: '&' | '|' | '^' | '<<' | '>>';
  readonly left: NftExpr;
  readonly right: NftExpr;
}

/** A verdict as a map value (`tcp : accept`, `"eth0" : jump other`). */
export interface NftVerdictExpr {
  readonly kind: 'verdict';
  readonly verdict: NftVerdictName;
  readonly target: string | null;
}

/** An expression virtables does not understand (`rt`, `socket`, `osf`, `exthdr`, …), kept verbatim. */
export interface NftUnknownExpr {
  readonly kind: 'unknown';
  readonly text: string | null;
  readonly json: unknown;
  readonly what: string;
}

// ---------------------------------------------------------------------------------------------
// Priorities: the names nft prints for the standard values (nft(8) "PRIORITY"), per family.

export interface NftPriorityName {
  readonly name: string;
  readonly value: number;
  readonly families: readonly NftFamily[];
  /** Hooks the name is defined for; empty = every hook of those families. */
  readonly hooks: readonly NftHook[];
}

/** nftables 1.0.6 `std_prio_table` and `bridge_std_prio_table`. */
export const NFT_PRIORITY_NAMES: readonly NftPriorityName[] = [
  { name: 'raw', value: -300, families: ['ip', 'ip6', 'inet'], hooks: [] },
  { name: 'mangle', value: -150, families: ['ip', 'ip6', 'inet'], hooks: [] },
  { name: 'dstnat', value: -100, families: ['ip', 'ip6', 'inet'], hooks: ['prerouting'] },
  { name: 'filter', value: 0, families: ['ip', 'ip6', 'inet', 'arp', 'netdev'], hooks: [] },
  { name: 'security', value: 50, families: ['ip', 'ip6', 'inet'], hooks: [] },
  { name: 'srcnat', value: 100, families: ['ip', 'ip6', 'inet'], hooks: ['postrouting'] },
  { name: 'dstnat', value: -300, families: ['bridge'], hooks: ['prerouting'] },
  { name: 'filter', value: -200, families: ['bridge'], hooks: [] },
  { name: 'out', value: 100, families: ['bridge'], hooks: ['output'] },
  { name: 'srcnat', value: 300, families: ['bridge'], hooks: ['postrouting'] },
];

/** The value of a symbolic priority for a chain of `family` on `hook`; undefined when nft has no such name there. */
export function priorityValue(name: string, family: NftFamily, hook: NftHook): number | undefined {
  return NFT_PRIORITY_NAMES.find(
    (p) => p.name === name && p.families.includes(family) && (p.hooks.length === 0 || p.hooks.includes(hook)),
  )?.value;
}

// ---------------------------------------------------------------------------------------------
// Helpers every layer uses.

/** An nft rule rather than an iptables one (both appear where either tool may have written a rule). */
export function isNftRule(r: object): r is NftRule {
  return 'statements' in r;
}

export function isTextPos(pos: NftPos): pos is NftTextPos {
  return (pos as NftTextPos).line !== undefined;
}

/** Every rule of the ruleset, table by table, chain by chain, in order. */
export function* allNftRules(ruleset: NftRuleset): Generator<NftRule> {
  for (const table of ruleset.tables) for (const chain of table.chains) yield* chain.rules;
}

/** The first statement (or expression inside one) virtables does not understand; null when it understands them all. */
export function firstUnknown(rule: NftRule): NftUnknownStatement | NftXt | NftUnknownExpr | null {
  for (const s of rule.statements) {
    if (s.kind === 'unknown' || s.kind === 'xt') return s;
    const inner = unknownIn(s);
    if (inner) return inner;
  }
  return null;
}

/** The first unknown expression inside a statement (its matches, NAT targets, keys, values), or null. */
export function unknownIn(s: NftStatement): NftUnknownExpr | null {
  const exprs: Array<NftExpr | null> = (() => {
    switch (s.kind) {
      case 'match':
        return [s.left, s.right];
      case 'nat':
        return [s.addr, s.port];
      case 'mangle':
        return [s.key, s.value];
      case 'vmap':
        return [s.key, s.data];
      case 'queue':
        return [s.num];
      case 'set':
        return [s.elem];
      default:
        return [];
    }
  })();
  for (const e of exprs) {
    const found = e ? unknownExpr(e) : null;
    if (found) return found;
  }
  return null;
}

/** The first unknown expression inside `e` (depth-first), or null. */
export function unknownExpr(e: NftExpr): NftUnknownExpr | null {
  switch (e.kind) {
    case 'unknown':
      return e;
    case 'list':
    case 'set':
    case 'concat':
      for (const i of e.items) {
        const f = unknownExpr(i);
        if (f) return f;
      }
      return null;
    case 'mapping':
      return unknownExpr(e.key) ?? unknownExpr(e.value);
    case 'elem':
      return unknownExpr(e.value);
    case 'map':
      return unknownExpr(e.key) ?? unknownExpr(e.data);
    case 'range':
      return unknownExpr(e.low) ?? unknownExpr(e.high);
    case 'prefix':
      return unknownExpr(e.addr);
    case 'binop':
      return unknownExpr(e.left) ?? unknownExpr(e.right);
    default:
      return null;
  }
}
