// Which nft rules on the forwarding path can treat guests of one network unlike a stranger, and
// where: networks-can-reach-each-other probes only those sources (a host with 1,000 networks
// would otherwise trace a million pairs). The nft counterpart of the iptables path order there:
// base chains of prerouting then forward, by priority, each rule depth first through jumps.

import { cidrsOverlap, maskOf, parseCidr, type Cidr, type IpFamily } from '../model/cidr.js';
import type { NftChain, NftExpr, NftRule, NftRuleset, NftStatement } from '../model/nft.js';
import { nftTableName } from '../sim/nft.js';
import type { Subject } from './probes.js';

/** What a rule needs of the packet's source: nothing (blind), named subjects, or it cannot tell (all). */
export interface SourceUse {
  readonly sources: ReadonlySet<Subject> | 'all';
  /** The exact output interface the rule requires, when it does (then it only matters toward it). */
  readonly out: string | null;
}

const BLIND_PAYLOAD = new Set([
  'daddr',
  'dport',
  'sport',
  'protocol',
  'nexthdr',
  'type',
  'code',
  'flags',
  'length',
  'ttl',
  'hoplimit',
]);
const BLIND_META = new Set([
  'l4proto',
  'nfproto',
  'protocol',
  'oif',
  'oifname',
  'mark',
  'pkttype',
  'length',
  'oiftype',
]);
const BLIND_CT = new Set(['state', 'status', 'mark', 'direction']);

const value = (e: NftExpr): string | null => (e.kind === 'value' && typeof e.value === 'string' ? e.value : null);

function cidrOf(e: NftExpr): Cidr | null {
  const addr = e.kind === 'prefix' ? value(e.addr) : null;
  const text = e.kind === 'prefix' ? (addr === null ? null : `${addr}/${e.len}`) : value(e);
  return text === null ? null : parseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
}

/** One match's use of the source: subjects, all (unknown), or null (blind). */
type Match = Extract<NftStatement, { kind: 'match' }>;

/**
 * The subjects by bridge and by subnet, so a rule's `iifname` or `saddr` finds the ones it names without a test of
 * every subject (a host of 1,000 networks has thousands of such rules on its path). Found subjects come in the order
 * of `subjects`.
 */
interface SubjectIndex {
  readonly subjects: readonly Subject[];
  readonly place: ReadonlyMap<Subject, number>;
  readonly byBridge: ReadonlyMap<string, readonly Subject[]>;
  /** Subnet prefix → network → subjects. */
  readonly byPrefix: ReadonlyMap<number, ReadonlyMap<bigint, readonly Subject[]>>;
}

function indexSubjects(subjects: readonly Subject[]): SubjectIndex {
  const byBridge = new Map<string, Subject[]>();
  const byPrefix = new Map<number, Map<bigint, Subject[]>>();
  for (const s of subjects) {
    const named = byBridge.get(s.bridge);
    if (named) named.push(s);
    else byBridge.set(s.bridge, [s]);
    let nets = byPrefix.get(s.subnet.prefix);
    if (!nets) byPrefix.set(s.subnet.prefix, (nets = new Map()));
    const same = nets.get(s.subnet.network);
    if (same) same.push(s);
    else nets.set(s.subnet.network, [s]);
  }
  return { subjects, place: new Map(subjects.map((s, i) => [s, i])), byBridge, byPrefix };
}

/** The subjects whose subnet overlaps `cidr`, in the order of `subjects`. */
function overlapping(index: SubjectIndex, cidr: Cidr): Set<Subject> {
  const found: Subject[] = [];
  for (const [prefix, nets] of index.byPrefix) {
    // A subnet as wide as the rule's address or wider overlaps it only if it contains it: one lookup.
    if (prefix <= cidr.prefix) {
      const at = nets.get(cidr.network & maskOf(cidr.family, prefix));
      if (at) for (const s of at) if (cidrsOverlap(s.subnet, cidr)) found.push(s);
    } else for (const list of nets.values()) for (const s of list) if (cidrsOverlap(s.subnet, cidr)) found.push(s);
  }
  return inOrder(index, found);
}

function inOrder(index: SubjectIndex, found: Subject[]): Set<Subject> {
  return new Set(found.sort((a, b) => index.place.get(a)! - index.place.get(b)!));
}

function matchUse(s: Match, index: SubjectIndex): Set<Subject> | 'all' | null {
  const { left, right, op } = s;
  const plain = op === '==' || op === 'in';
  if (left.kind === 'meta' && (left.key === 'iif' || left.key === 'iifname')) {
    const name = value(right);
    if (!plain || name === null) return 'all';
    if (!name.endsWith('*')) return new Set(index.byBridge.get(name) ?? []);
    const stem = name.slice(0, -1);
    return new Set(index.subjects.filter((x) => x.bridge.startsWith(stem)));
  }
  if (left.kind === 'payload' && left.field === 'saddr') {
    const cidr = plain ? cidrOf(right) : null;
    return cidr ? overlapping(index, cidr) : 'all';
  }
  if (left.kind === 'payload' && BLIND_PAYLOAD.has(left.field)) return null;
  if (left.kind === 'meta' && BLIND_META.has(left.key)) return null;
  if (left.kind === 'ct' && BLIND_CT.has(left.key) && left.dir === null) return null;
  return 'all';
}

function ruleUse(rule: NftRule, index: SubjectIndex): SourceUse {
  let sources: Set<Subject> | 'all' | null = null;
  let out: string | null = null;
  for (const st of rule.statements) {
    // A verdict map, an iptables match nft only names, or a statement virtables cannot read may look at anything.
    if (st.kind === 'vmap' || (st.kind === 'xt' && st.type === 'match') || st.kind === 'unknown')
      return { sources: 'all', out: null };
    if (st.kind !== 'match') continue;
    const oif = st.left.kind === 'meta' && (st.left.key === 'oif' || st.left.key === 'oifname');
    if (oif && st.op === '==') out = value(st.right) ?? out;
    const use = matchUse(st, index);
    if (use === null) continue;
    // Several source matches all apply: the rule names only subjects every one names.
    if (use === 'all') sources = sources ?? 'all';
    else if (sources === null || sources === 'all') sources = use;
    else {
      const both: Set<Subject> = sources;
      sources = new Set([...both].filter((x) => use.has(x)));
    }
  }
  return { sources: sources ?? new Set(), out: out && !out.endsWith('*') ? out : null };
}

export interface NftPath {
  /** Each rule's place on the path (first visit). */
  readonly order: ReadonlyMap<NftRule, number>;
  /**
   * Each base chain's policy on the path (`family table\u0000chain`): after every rule its walk reaches, since a
   * packet the policy decides has met all of them first (a `return` applies it sooner: later is the safe side).
   */
  readonly policies: ReadonlyMap<string, number>;
  /** Where each source's own rules start, for `nftSuspects`. */
  readonly own: OwnRules;
}

/** Where the sources' own rules start on the path: the first place each could fare unlike a stranger. */
interface OwnRules {
  /** The first rule that cannot tell sources apart (every source is a suspect from there). */
  readonly everyone: number;
  /** The same for rules that only matter toward one output interface. */
  readonly everyoneToward: ReadonlyMap<string, number>;
  /** Each named source's first rule that matters toward any destination, in the order of those rules. */
  readonly any: ReadonlyMap<Subject, number>;
  /** Output interface → each named source's first rule that matters only toward it (in their order). */
  readonly toward: ReadonlyMap<string, ReadonlyMap<Subject, number>>;
}

const HOOKS = ['prerouting', 'forward'] as const;

export const nftPolicyKey = (table: string, chain: string): string => `${table}\u0000${chain}`;

/**
 * One family's forwarding path of an nft ruleset (tables ip or ip6, and inet): base chains of prerouting then
 * forward, by priority, each rule depth first through jumps, with where each source's own rules start.
 */
export function nftForwardPath(ruleset: NftRuleset, subjects: readonly Subject[], family: IpFamily): NftPath {
  const order = new Map<NftRule, number>();
  const policies = new Map<string, number>();
  const own = { everyone: Infinity, everyoneToward: new Map(), any: new Map(), toward: new Map() } satisfies OwnRules;
  const first = <K>(m: Map<K, number>, k: K, at: number): void => {
    if (!m.has(k)) m.set(k, at);
  };
  const note = (use: SourceUse, at: number): void => {
    if (use.sources === 'all') {
      if (use.out === null) own.everyone = Math.min(own.everyone, at);
      else first(own.everyoneToward, use.out, at);
      return;
    }
    if (use.out === null) for (const x of use.sources) first(own.any, x, at);
    else {
      const toward: Map<Subject, number> = own.toward.get(use.out) ?? new Map();
      own.toward.set(use.out, toward);
      for (const x of use.sources) first(toward, x, at);
    }
  };
  const wanted = family === 4 ? 'ip' : 'ip6';
  const index = indexSubjects(subjects);
  let next = 0;
  for (const hook of HOOKS) {
    const bases = ruleset.tables
      .filter((t) => t.family === wanted || t.family === 'inet')
      .flatMap((t) => t.chains.filter((c) => c.base?.hook === hook).map((c) => ({ t, c })))
      .sort((a, b) => a.c.base!.priority - b.c.base!.priority);
    for (const { t, c } of bases) {
      const chains = new Map(t.chains.map((x) => [x.name, x]));
      const visiting = new Set<string>();
      const walk = (chain: NftChain): void => {
        if (visiting.has(chain.name)) return;
        visiting.add(chain.name);
        for (const rule of chain.rules) {
          if (!order.has(rule)) {
            order.set(rule, next);
            note(ruleUse(rule, index), next++);
          }
          for (const st of rule.statements) {
            const target = st.kind === 'verdict' && (st.verdict === 'jump' || st.verdict === 'goto') ? st.target : null;
            const into = target ? chains.get(target) : undefined;
            if (into) walk(into);
          }
        }
        visiting.delete(chain.name);
      };
      walk(c);
      policies.set(nftPolicyKey(nftTableName(t), c.name), next - 0.5);
    }
  }
  return { order, policies, own };
}

/** The sources whose own rules start at or before `at` on the way to `to`: only they can fare unlike a stranger. */
export function nftSuspects(path: NftPath, subjects: readonly Subject[], to: Subject, at: number): Subject[] {
  const { own } = path;
  if (own.everyone <= at || (own.everyoneToward.get(to.bridge) ?? Infinity) <= at) return [...subjects];
  // The path is numbered as it is walked, so each map is in the order of its positions: read as far as `at`.
  const out = new Set<Subject>();
  for (const [x, pos] of own.any) {
    if (pos > at) break;
    out.add(x);
  }
  for (const [x, pos] of own.toward.get(to.bridge) ?? []) {
    if (pos > at) break;
    out.add(x);
  }
  return [...out];
}
