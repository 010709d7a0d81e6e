// A dump compiled for tracing: every rule becomes one predicate (IptablesRule.test) plus a target, and
// every chain gets a decision tree that, from a packet's devices, protocol, ports and
// addresses, yields only the rules that can match it (in order). A 100,000-rule dump then
// costs a trace a handful of rule tests per chain instead of a scan.

import { cidrMask, maskOf, type IpFamily } from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import type { NftRuleset, NftTable } from '../model/nft.js';
import { protocolNumber } from '../model/protocols.js';
import { NO_ENV, type EvalEnv } from './env.js';
import { maxOf } from '../model/lists.js';
import { memo } from '../model/memo.js';
import { iptablesBaseChains, planHooks, type Placement } from './hooks.js';
import { all, compileMatch, type Test } from './matches.js';
import { compileNft } from './nft.js';
import { deviceId, type Hook, type MatchCtx } from './packet.js';
import {
  chainKey,
  type CidrKey,
  type CompiledChain,
  type CompiledRule,
  type HookStage,
  type IndexNode,
  type RuleKeys,
  type Ruleset,
} from './ruleset.js';
import { compileTarget, type CompiledTarget } from './targets.js';

export { chainKey } from './ruleset.js';
export type { CompiledChain, CompiledRule, IndexNode, Ruleset } from './ruleset.js';

// --- rule keys: what a rule requires of a packet, for indexing ----------------------------

type Dim = 'in' | 'out' | 'proto' | 'dport' | 'src' | 'dst';
const DIMS: readonly Dim[] = ['in', 'out', 'proto', 'dport', 'src', 'dst'];

function exactIface(i: Rule['inInterface']): string | null {
  if (!i || i.negated || i.name.endsWith('+')) return null;
  return i.name;
}

/** The ports of a `--dport`/`--dports` value that names single ports (`53`, `22,80`); null for a range. */
function singlePorts(text: string): readonly number[] | null {
  const known = portLists.get(text);
  return known !== undefined ? known : portLists.set(text, readPorts(text));
}

/** Port lists by their text: a dump writes a few (`53`, `67`) thousands of times. */
const portLists = memo<readonly number[] | null>(1024);

function readPorts(text: string): readonly number[] | null {
  const out: number[] = [];
  for (const p of text.split(',')) {
    if (!/^\d+$/.test(p)) return null;
    out.push(Number(p));
  }
  return out;
}

/** The single ports a rule's `--dport`/`--dports` names (its first such option), for the index; null when none. */
function dportsOf(matches: Rule['matches']): readonly number[] | null {
  for (const m of matches) {
    for (const o of m.options) {
      if (o.negated) continue;
      const v = o.args[0]?.value ?? '';
      let dport: readonly number[] | null = null;
      if ((m.name === 'tcp' || m.name === 'udp') && (o.name === '--dport' || o.name === '--destination-port'))
        dport = singlePorts(v);
      else if (m.name === 'multiport' && (o.name === '--dports' || o.name === '--destination-ports'))
        dport = singlePorts(v);
      if (dport) return dport;
    }
  }
  return null;
}

function ruleKeys(rule: Rule, dport: readonly number[] | null): RuleKeys {
  // A mask with holes is no prefix: such a rule is indexed as taking any address (its test compares the mask).
  const cidr = (a: Rule['source']): CidrKey | null =>
    a && !a.negated && a.prefix > 0 && a.mask === undefined ? a : null;
  const proto =
    rule.protocol && !rule.protocol.negated && rule.protocol.name !== 'all' ? protocolNumber(rule.protocol.name) : null;
  return {
    in: exactIface(rule.inInterface),
    out: exactIface(rule.outInterface),
    proto,
    dport,
    src: cidr(rule.source),
    dst: cidr(rule.destination),
  };
}

// --- rule predicates ------------------------------------------------------------------------

/** An interface condition of the rule head: exact name, or a `+` prefix; negated or not. */
interface IfaceCond {
  readonly name: string;
  readonly prefix: boolean;
  readonly negated: boolean;
}

function ifaceCond(i: NonNullable<Rule['inInterface']>): IfaceCond {
  const prefix = i.name.endsWith('+');
  return { name: prefix ? i.name.slice(0, -1) : i.name, prefix, negated: i.negated };
}

const ifaceMatches = (v: string, i: IfaceCond): boolean =>
  (i.prefix ? v.startsWith(i.name) : v === i.name) !== i.negated;

/** A rule's `-s`/`-d`, with its IPv4 mask and network as 32-bit numbers too. */
interface AddressCond {
  readonly mask: bigint;
  readonly net: bigint;
  readonly neg: boolean;
  readonly host: boolean;
  readonly v4: boolean;
  readonly mask4: number;
  readonly net4: number;
}

const MAX_V4 = 0xffffffffn;

/** An IPv4 address or mask as the int32 with the same 32 bits (what `&` on numbers works in). */
const int32 = (v: bigint): number => Number(v) | 0;

/** Is the address in the rule's network? IPv4 in 32-bit numbers: `a & mask` on BigInts makes a BigInt each test. */
function inNet(a: bigint, n: AddressCond): boolean {
  return n.v4 && a <= MAX_V4 ? (int32(a) & n.mask4) === n.net4 : (a & n.mask) === n.net;
}

const OTHER_FAMILY = Symbol('other family');

/**
 * A rule's `-s`/`-d` as the test compares it; null when it takes any address. `host`: a /32 (/128) is compared
 * whole, with no BigInt made by the mask.
 */
function addressCond(a: Rule['source'], family: IpFamily): AddressCond | null | typeof OTHER_FAMILY {
  if (!a || (a.prefix === 0 && !a.negated)) return null;
  if (a.family !== family) return OTHER_FAMILY;
  // A mask with holes (`/255.0.255.0`, which iptables takes) is compared as it is: the kernel ANDs the address with it.
  const mask = cidrMask(a);
  return {
    mask,
    net: a.network,
    neg: a.negated,
    host: a.mask === undefined && a.prefix === (family === 4 ? 32 : 128),
    v4: family === 4,
    mask4: family === 4 ? int32(mask) : 0,
    net4: family === 4 ? int32(a.network) : 0,
  };
}

/** What a rule's matches compile to: the same for every rule with the same match list. */
interface CompiledMatches {
  /** Every match's test in order; null when the rule has none (or only ones it cannot evaluate). */
  readonly rest: Test | null;
  readonly notes: readonly string[];
  /** Why the first match virtables cannot evaluate is unknown; null when there is none. */
  readonly unknown: string | null;
  readonly dport: readonly number[] | null;
}

const NO_NOTES: readonly string[] = [];

function compileMatches(matches: Rule['matches'], family: IpFamily, env: EvalEnv): CompiledMatches {
  const tests: Test[] = [];
  const notes: string[] = [];
  let unknown: string | null = null;
  for (const m of matches) {
    const cm = compileMatch(m, family, env);
    if (cm.kind === 'unknown') {
      unknown ??= cm.why;
      continue;
    }
    tests.push(cm.test);
    if (cm.note) notes.push(cm.note);
  }
  return {
    rest: tests.length === 0 ? null : all(tests),
    notes: notes.length === 0 ? NO_NOTES : notes,
    unknown,
    dport: dportsOf(matches),
  };
}

/**
 * One table's rules compiled with what they share. The dump's reader gives rules with the same option groups one match
 * list and one target object (libvirt's 19,000 rules for 1,000 networks have 22 lists and 11 targets), and what those
 * compile to depends on nothing else (the family and the ipsets are the ruleset's; whether a target names a user chain,
 * the table's): each is compiled once, and its tests, notes and target are shared. So are a network's address and
 * interface conditions, which its rules repeat: what a traced packet reads stays small.
 */
class TableCompiler {
  private readonly matchLists = new Map<Rule['matches'], CompiledMatches>();
  private readonly targets = new Map<NonNullable<Rule['target']>, CompiledTarget>();
  private readonly ifaces = new Map<NonNullable<Rule['inInterface']>, IfaceCond>();
  /** By the address as written (a network's rules repeat it), plain and negated. */
  private readonly addresses: [Map<string, AddressCond>, Map<string, AddressCond>] = [new Map(), new Map()];

  constructor(
    private readonly family: IpFamily,
    private readonly env: EvalEnv,
    private readonly isUserChain: (name: string) => boolean,
  ) {}

  matches(list: Rule['matches']): CompiledMatches {
    let made = this.matchLists.get(list);
    if (made === undefined) this.matchLists.set(list, (made = compileMatches(list, this.family, this.env)));
    return made;
  }

  iface(i: Rule['inInterface']): IfaceCond | null {
    if (i === null) return null;
    let made = this.ifaces.get(i);
    if (made === undefined) this.ifaces.set(i, (made = ifaceCond(i)));
    return made;
  }

  address(a: Rule['source']): AddressCond | null | typeof OTHER_FAMILY {
    if (a === null) return null;
    const byText = this.addresses[a.negated ? 1 : 0];
    const known = byText.get(a.written);
    if (known !== undefined) return known;
    const made = addressCond(a, this.family);
    if (made !== null && made !== OTHER_FAMILY) byText.set(a.written, made);
    return made;
  }

  target(target: Rule['target']): CompiledTarget {
    if (target === null) return compileTarget(null, this.family, this.isUserChain);
    let made = this.targets.get(target);
    if (made === undefined) this.targets.set(target, (made = compileTarget(target, this.family, this.isUserChain)));
    return made;
  }
}

/**
 * An iptables rule compiled. Its head (devices, protocol, addresses, fragment) is kept in its own fields and tested by
 * one method, in the order -i, -o, -p, -s, -d, -f, then the matches: no closure per rule, and a trace reads the rule
 * it tests (not a closure, its context and the context's objects), which keeps what a packet touches small.
 */
class IptablesRule implements CompiledRule {
  readonly nft = null;
  readonly effects = null;

  constructor(
    readonly rule: Rule,
    readonly index: number,
    readonly unknown: string | null,
    readonly notes: readonly string[],
    readonly keys: RuleKeys,
    readonly target: CompiledTarget,
    /** An exact `-i`/`-o` name's number (deviceId); -1 when the condition is inIf/outIf (or there is none). */
    private readonly inId: number,
    private readonly outId: number,
    private readonly inIf: IfaceCond | null,
    private readonly outIf: IfaceCond | null,
    /** Matches no packet: `! -p all`, or `-f` (traced packets are never fragments). */
    private readonly never: boolean,
    /** The protocol number `-p` names; -1 for none. */
    private readonly proto: number,
    private readonly protoNeg: boolean,
    private readonly src: AddressCond | null,
    private readonly dst: AddressCond | null,
    /** The matches' tests; null when there are none. */
    private readonly rest: Test | null,
  ) {}

  test(c: MatchCtx): boolean {
    const { inIf, outIf, src, dst } = this;
    if (this.inId >= 0 ? c.inId !== this.inId : inIf !== null && !ifaceMatches(c.inIface, inIf)) return false;
    if (this.outId >= 0 ? c.outId !== this.outId : outIf !== null && !ifaceMatches(c.outIface, outIf)) return false;
    if (this.never) return false;
    if (this.proto >= 0 && (c.proto === this.proto) === this.protoNeg) return false;
    if (src !== null && (src.host ? c.src === src.net : inNet(c.src, src)) === src.neg) return false;
    if (dst !== null && (dst.host ? c.dst === dst.net : inNet(c.dst, dst)) === dst.neg) return false;
    return this.rest === null || this.rest(c);
  }
}

function compileRule(rule: Rule, index: number, family: IpFamily, shared: TableCompiler): CompiledRule {
  let unknown: string | null = null;
  let never = false;
  let proto = -1;
  let protoNeg = false;
  if (rule.protocol && rule.protocol.name !== 'all') {
    const n = protocolNumber(rule.protocol.name);
    if (n === null) unknown = `-p ${rule.protocol.name}`;
    else {
      proto = n;
      protoNeg = rule.protocol.negated;
    }
  } else if (rule.protocol?.negated) {
    never = true; // `! -p all` matches nothing
  }
  // An address of the other family makes the rule unknown (the last one named says why) and is not tested.
  const srcCond = shared.address(rule.source);
  const dstCond = shared.address(rule.destination);
  if (srcCond === OTHER_FAMILY) unknown = `-s ${rule.source!.written} (not an IPv${family} address)`;
  if (dstCond === OTHER_FAMILY) unknown = `-d ${rule.destination!.written} (not an IPv${family} address)`;
  // Traced packets are never fragments: `-f` never matches, `! -f` always does.
  if (rule.fragment && !rule.fragment.negated) never = true;
  // The head's unknown, else the first match's.
  const matches = shared.matches(rule.matches);
  unknown ??= matches.unknown;
  const keys = ruleKeys(rule, matches.dport);
  const inExact = keys.in !== null ? deviceId(keys.in) : -1;
  const outExact = keys.out !== null ? deviceId(keys.out) : -1;
  return new IptablesRule(
    rule,
    index,
    unknown,
    matches.notes,
    keys,
    shared.target(rule.target),
    inExact,
    outExact,
    inExact >= 0 ? null : shared.iface(rule.inInterface),
    outExact >= 0 ? null : shared.iface(rule.outInterface),
    never,
    proto,
    protoNeg,
    srcCond === OTHER_FAMILY ? null : srcCond,
    dstCond === OTHER_FAMILY ? null : dstCond,
    matches.rest,
  );
}

// --- the index: a small decision tree over the rule keys -----------------------------------

const LEAF_SIZE = 8;
const MAX_DEPTH = 3;

function exactValues(r: CompiledRule, dim: 'in' | 'out' | 'proto' | 'dport'): ReadonlyArray<string | number> | null {
  const k = r.keys[dim];
  if (k === null) return null;
  return Array.isArray(k) ? k : [k as string | number];
}

function buildExact(
  rules: readonly CompiledRule[],
  dim: 'in' | 'out' | 'proto' | 'dport',
): { buckets: Map<string | number, CompiledRule[]>; rest: CompiledRule[] } {
  const buckets = new Map<string | number, CompiledRule[]>();
  const rest: CompiledRule[] = [];
  for (const r of rules) {
    const vs = exactValues(r, dim);
    if (vs === null) {
      rest.push(r);
      for (const b of buckets.values()) b.push(r);
      continue;
    }
    for (const value of vs) {
      // Devices by their numbers, as a packet carries them (MatchCtx.inId, outId).
      const v = dim === 'in' || dim === 'out' ? deviceId(value as string) : value;
      let b = buckets.get(v);
      if (!b) {
        // A new bucket starts with every earlier wildcard rule, so each bucket stays in rule order.
        b = rest.slice();
        buckets.set(v, b);
      }
      if (b[b.length - 1] !== r) b.push(r);
    }
  }
  return { buckets, rest };
}

function buildCidr(
  rules: readonly CompiledRule[],
  family: IpFamily,
  dim: 'src' | 'dst',
): { buckets: Array<{ key: CidrKey; rules: CompiledRule[] }>; rest: CompiledRule[] } {
  // One bucket per prefix and network, in the order of their first rules.
  const buckets: Array<{ key: CidrKey; rules: CompiledRule[] }> = [];
  const byPrefix = new Map<number, Map<bigint, { key: CidrKey; rules: CompiledRule[] }>>();
  for (const r of rules) {
    const k = r.keys[dim];
    if (!k) continue;
    let m = byPrefix.get(k.prefix);
    if (!m) byPrefix.set(k.prefix, (m = new Map()));
    if (m.has(k.network)) continue;
    const b = { key: k, rules: [] as CompiledRule[] };
    m.set(k.network, b);
    buckets.push(b);
  }
  // A packet in bucket K also meets every rule keyed by a prefix that contains K.
  const prefixes = [...byPrefix.keys()];
  const rest: CompiledRule[] = [];
  for (const r of rules) {
    const k = r.keys[dim];
    if (!k) {
      rest.push(r);
      for (const b of buckets) b.rules.push(r);
      continue;
    }
    for (const q of prefixes) {
      if (q < k.prefix) continue;
      const m = byPrefix.get(q)!;
      if (q === k.prefix) {
        m.get(k.network)?.rules.push(r);
        continue;
      }
      const mask = maskOf(family, k.prefix);
      for (const b of m.values()) if ((b.key.network & mask) === k.network) b.rules.push(r);
    }
  }
  return { buckets, rest };
}

/** How rules spread over one dimension's values: rules that take any value, how many values, the most on one. */
interface Spread {
  readonly wild: number;
  readonly buckets: number;
  readonly biggest: number;
}

function countExact(rules: readonly CompiledRule[], dim: 'in' | 'out' | 'proto' | 'dport'): Spread {
  let wild = 0;
  // One dimension's values are all names or all numbers: they are the keys as they are.
  const counts = new Map<string | number, number>();
  for (const r of rules) {
    const k = r.keys[dim];
    if (k === null) wild++;
    else if (typeof k === 'object') for (const v of k) counts.set(v, (counts.get(v) ?? 0) + 1);
    else counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return { wild, buckets: counts.size, biggest: counts.size === 0 ? 0 : maxOf(counts.values()) };
}

function countCidrs(rules: readonly CompiledRule[], dim: 'src' | 'dst'): Spread {
  let wild = 0;
  let buckets = 0;
  let biggest = 0;
  const byPrefix = new Map<number, Map<bigint, number>>();
  for (const r of rules) {
    const k = r.keys[dim];
    if (k === null) {
      wild++;
      continue;
    }
    let m = byPrefix.get(k.prefix);
    if (!m) byPrefix.set(k.prefix, (m = new Map()));
    const n = (m.get(k.network) ?? 0) + 1;
    if (n === 1) buckets++;
    if (n > biggest) biggest = n;
    m.set(k.network, n);
  }
  return { wild, buckets, biggest };
}

function buildIndex(rules: readonly CompiledRule[], family: IpFamily, dims: readonly Dim[], depth: number): IndexNode {
  if (rules.length <= LEAF_SIZE || depth >= MAX_DEPTH || dims.length === 0) return { kind: 'leaf', rules };
  let best: { dim: Dim; cost: number } | null = null;
  for (const dim of dims) {
    const { wild, buckets, biggest } = dim === 'src' || dim === 'dst' ? countCidrs(rules, dim) : countExact(rules, dim);
    if (buckets === 0) continue;
    // Cost: what a packet in the biggest bucket still has to test; copies of wildcards bound memory.
    const cost = wild + biggest;
    if (wild * buckets > 8 * rules.length + 1024) continue;
    if (!best || cost < best.cost) best = { dim, cost };
  }
  if (!best || best.cost > rules.length * 0.75) return { kind: 'leaf', rules };
  const rest = dims.filter((d) => d !== best.dim);
  if (best.dim === 'src' || best.dim === 'dst') {
    const { buckets, rest: wild } = buildCidr(rules, family, best.dim);
    const byPrefix = new Map<number, Map<bigint, IndexNode>>();
    for (const { key, rules: rs } of buckets) {
      let m = byPrefix.get(key.prefix);
      if (!m) byPrefix.set(key.prefix, (m = new Map()));
      m.set(key.network, buildIndex(rs, family, rest, depth + 1));
    }
    const levels = [...byPrefix.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([prefix, map]) => ({ mask: maskOf(family, prefix), map }));
    const levels4 =
      family === 4
        ? levels.map(({ mask, map }) => ({
            mask: int32(mask),
            map: new Map([...map].map(([network, node]) => [int32(network), node] as const)),
          }))
        : null;
    return { kind: 'cidr', dim: best.dim, levels, levels4, rest: buildIndex(wild, family, rest, depth + 1) };
  }
  const { buckets, rest: wild } = buildExact(rules, best.dim);
  const map = new Map<string | number, IndexNode>();
  for (const [k, rs] of buckets) map.set(k, buildIndex(rs, family, rest, depth + 1));
  return { kind: 'exact', dim: best.dim, map, rest: buildIndex(wild, family, rest, depth + 1) };
}

/** The rules of a chain that can match this packet, in chain order. */
export function candidates(node: IndexNode, c: MatchCtx): readonly CompiledRule[] {
  for (;;) {
    switch (node.kind) {
      case 'leaf':
        return node.rules;
      case 'exact': {
        const key =
          node.dim === 'in' ? c.inId : node.dim === 'out' ? c.outId : node.dim === 'proto' ? c.proto : c.dport;
        node = node.map.get(key) ?? node.rest;
        break;
      }
      case 'cidr': {
        const a = node.dim === 'src' ? c.src : c.dst;
        let next: IndexNode | undefined;
        const levels4 = node.levels4;
        if (levels4 !== null && a <= MAX_V4) {
          const n = int32(a);
          for (const level of levels4) {
            next = level.map.get(n & level.mask);
            if (next) break;
          }
        } else
          for (const level of node.levels) {
            next = level.map.get(a & level.mask);
            if (next) break;
          }
        node = next ?? node.rest;
        break;
      }
    }
  }
}

// --- the ruleset ----------------------------------------------------------------------------

export interface CompileOptions {
  /** Build the per-chain decision trees (default); false scans every rule, for checking the trees. */
  readonly index?: boolean;
  /** ipset contents and what else rules are evaluated against (default: nothing beyond the dump). */
  readonly env?: EvalEnv;
}

export function compileDump(dump: Dump, familyHint?: IpFamily, options: CompileOptions = {}): Ruleset {
  const family: IpFamily = familyHint ?? (dump.family === 'ipv6' ? 6 : 4);
  const env = options.env ?? NO_ENV;
  const { chains, usesPhysdev } = compileIptables(dump, family, options.index !== false, env);
  const hooks = planHooks(iptablesBaseChains(dump, (key) => chains.get(key), 'iptables', family === 6 ? 'ip6' : 'ip'));
  return { family, dump, nft: null, chains, tables: new Set(dump.tables.map((t) => t.name)), usesPhysdev, hooks, env };
}

/** What one host's firewall holds for one IP family: its iptables-save (or ip6tables-save) and its nft listing. */
export interface HostRules {
  /** Null when none was given (an nft-only host). */
  readonly iptables: Dump | null;
  readonly nft: NftRuleset | null;
}

/**
 * A host's rules for one family as one ruleset: iptables' tables and nft's base chains on the same
 * hooks. A table in both (iptables-nft manages it: legacy tables never appear in nft's listing)
 * takes its rules from iptables-save and its place from nft's listing; an iptables table nft does
 * not list is legacy, so its order against nft's chains at the same priority is not known.
 */
export function compileHost(host: HostRules, family: IpFamily, options: CompileOptions = {}): Ruleset {
  const indexed = options.index !== false;
  const dump = host.iptables ?? {
    file: host.nft?.file ?? '-',
    family: family === 6 ? 'ipv6' : 'ipv4',
    tables: [],
    comments: [],
  };
  const env = options.env ?? NO_ENV;
  const { chains, usesPhysdev } = compileIptables(dump, family, indexed, env);
  const ipFamily = family === 6 ? 'ip6' : 'ip';
  if (!host.nft) {
    const hooks = planHooks(iptablesBaseChains(dump, (key) => chains.get(key), 'iptables', ipFamily));
    return {
      family,
      dump,
      nft: null,
      chains,
      tables: new Set(dump.tables.map((t) => t.name)),
      usesPhysdev,
      hooks,
      env,
    };
  }
  const nft = host.nft;
  const shared = (t: NftTable): boolean => t.family === ipFamily && dump.tables.some((d) => d.name === t.name);
  const compiled = compileNft(
    nft,
    family,
    (rules) => (indexed ? buildIndex(rules, family, DIMS, 0) : { kind: 'leaf', rules }),
    shared,
    env,
  );
  for (const [k, c] of compiled.chains) chains.set(k, c);
  // Where nft lists the chains of a table iptables-nft manages.
  const places = new Map<string, Placement>();
  let seq = 0;
  nft.tables.forEach((t, tableSeq) => {
    for (const c of t.chains) {
      seq++;
      const hook = c.base ? HOOK_NAMES[c.base.hook] : undefined;
      if (shared(t) && hook) places.set(`${t.name}/${hook}`, { registrar: 'nftables', seq, tableSeq });
    }
  });
  const legacy: Placement = { registrar: 'iptables-legacy', seq: 0, tableSeq: -1 };
  const iptBases = iptablesBaseChains(
    dump,
    (key) => chains.get(key),
    'iptables-legacy',
    ipFamily,
    0,
    (table, hook) => {
      const p = places.get(`${table}/${hook}`);
      if (p) return p;
      // iptables-nft creates a built-in chain when a rule first needs it: a table nft lists is never legacy.
      return nft.tables.some((t) => shared(t) && t.name === table)
        ? { registrar: 'nftables', seq: 0, tableSeq: -1 }
        : legacy;
    },
  );
  let hooks = planHooks([...iptBases, ...compiled.bases]);
  if (compiled.unmodelled.length > 0)
    hooks = { ...hooks, PREROUTING: [opaque(compiled.unmodelled), ...hooks.PREROUTING] };
  return { family, dump, nft, chains, tables: new Set(dump.tables.map((t) => t.name)), usesPhysdev, hooks, env };
}

const HOOK_NAMES: Readonly<Record<string, Hook>> = {
  prerouting: 'PREROUTING',
  input: 'INPUT',
  forward: 'FORWARD',
  output: 'OUTPUT',
  postrouting: 'POSTROUTING',
};

/**
 * Tables on hooks before the IP walk (netdev ingress, bridge): they may decide first, and virtables does not run them.
 */
function opaque(tables: readonly string[]): HookStage {
  return {
    kind: 'opaque',
    priority: -Infinity,
    why: `${tables.join(', ')} may decide before the IP hooks (virtables does not evaluate it)`,
    tie: null,
  };
}

function compileIptables(
  dump: Dump,
  family: IpFamily,
  indexed: boolean,
  env: EvalEnv,
): { chains: Map<string, CompiledChain>; usesPhysdev: boolean } {
  const chains = new Map<string, CompiledChain>();
  let usesPhysdev = false;
  for (const table of dump.tables) {
    const userChains = new Set(table.chains.filter((c) => !c.builtin).map((c) => c.name));
    const shared = new TableCompiler(family, env, (n) => userChains.has(n));
    for (const chain of table.chains) {
      const rules = chain.rules.map((r, i) => {
        if (r.matches.some((m) => m.name === 'physdev')) usesPhysdev = true;
        return compileRule(r, i, family, shared);
      });
      chains.set(chainKey(table.name, chain.name), {
        table: table.name,
        name: chain.name,
        builtin: chain.builtin,
        policy: chain.builtin ? (chain.policy ?? 'ACCEPT') : null,
        rules,
        index: indexed ? buildIndex(rules, family, DIMS, 0) : { kind: 'leaf', rules },
        jumps: [],
        byName: null,
      });
    }
  }
  for (const chain of chains.values()) {
    for (const r of chain.rules)
      if (r.target.kind === 'chain') chain.jumps[r.index] = chains.get(chainKey(chain.table, r.target.chain));
  }
  return { chains, usesPhysdev };
}
