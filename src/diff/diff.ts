// What changed between two dumps, rule by rule, position-aware: rules are the same when they
// mean the same whatever the era's spelling; a rule whose position changed is "moved" (from
// where to where), not removed and added; counters and comments never count.

import type { Dump, Family, Rule } from '../model/dump.js';
import { canonicalRuleText } from '../write/save.js';
import { alignSequences, pairMoves } from './sequence.js';
import { pushAll } from '../model/lists.js';

/** A rule in its place: table, chain and 1-based position. */
export interface RuleAt {
  readonly table: string;
  readonly chain: string;
  readonly position: number;
  readonly rule: Rule;
  readonly family: Family;
  /** The rule as iptables 1.8 prints it. */
  readonly canonical: string;
  /** The identity rules are compared by. */
  readonly key: string;
}

export interface ChainRef {
  readonly table: string;
  readonly chain: string;
}

export interface DumpDiff {
  readonly added: RuleAt[];
  readonly removed: RuleAt[];
  readonly moved: Array<{ readonly before: RuleAt; readonly after: RuleAt }>;
  /** Same rule, same place, different spelling (e.g. `-m state` vs `-m conntrack`). */
  readonly respelled: Array<{ readonly before: RuleAt; readonly after: RuleAt; readonly note: string }>;
  readonly chains: {
    readonly added: ChainRef[];
    readonly removed: ChainRef[];
    readonly policy: Array<ChainRef & { readonly from: string | null; readonly to: string | null }>;
  };
  readonly unchanged: number;
}

/**
 * The identity of a rule: its canonical text, with spellings that mean the same made equal:
 * `-m state --state X` is `-m conntrack --ctstate X` (the kernel implements state with conntrack).
 */
export function ruleKey(canonical: string): string {
  // Most rules have no state match: a search is cheaper than the replace (an audit asks for 40,000 keys).
  return canonical.includes('-m state --state ')
    ? canonical.replace(/-m state --state (\S+)/g, '-m conntrack --ctstate $1')
    : canonical;
}

function spellingNote(before: string, after: string): string {
  if (/-m state --state/.test(before) !== /-m state --state/.test(after))
    return "'-m state --state' and '-m conntrack --ctstate' match the same packets";
  return 'the same rule, spelled differently';
}

function rulesOf(dump: Dump): Map<string, RuleAt[]> {
  const family = dump.family ?? 'ipv4';
  const out = new Map<string, RuleAt[]>();
  for (const table of dump.tables) {
    for (const chain of table.chains) {
      out.set(
        `${table.name}\u0000${chain.name}`,
        chain.rules.map((rule, i) => {
          const canonical = canonicalRuleText(rule, family);
          return {
            table: table.name,
            chain: chain.name,
            position: i + 1,
            rule,
            family,
            canonical,
            key: ruleKey(canonical),
          };
        }),
      );
    }
  }
  return out;
}

function chainsOf(dump: Dump): Map<string, { ref: ChainRef; policy: string | null; builtin: boolean }> {
  const out = new Map<string, { ref: ChainRef; policy: string | null; builtin: boolean }>();
  for (const table of dump.tables)
    for (const chain of table.chains)
      out.set(`${table.name}\u0000${chain.name}`, {
        ref: { table: table.name, chain: chain.name },
        policy: chain.builtin ? (chain.policy ?? 'ACCEPT') : null,
        builtin: chain.builtin,
      });
  return out;
}

export function diffDumps(before: Dump, after: Dump): DumpDiff {
  const a = rulesOf(before);
  const b = rulesOf(after);
  const result: DumpDiff = {
    added: [],
    removed: [],
    moved: [],
    respelled: [],
    chains: { added: [], removed: [], policy: [] },
    unchanged: 0,
  };
  let unchanged = 0;

  const chainsA = chainsOf(before);
  const chainsB = chainsOf(after);
  for (const [id, c] of chainsB) {
    const old = chainsA.get(id);
    // A built-in chain exists whether or not the dump had its table; only user chains come and go.
    if (!old && !c.builtin) result.chains.added.push(c.ref);
    if (old && old.policy !== c.policy) result.chains.policy.push({ ...c.ref, from: old.policy, to: c.policy });
  }
  for (const [id, c] of chainsA) if (!chainsB.has(id) && !c.builtin) result.chains.removed.push(c.ref);

  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const xs = a.get(id) ?? [];
    const ys = b.get(id) ?? [];
    const deleted: RuleAt[] = [];
    const inserted: RuleAt[] = [];
    for (const e of alignSequences(
      xs.map((r) => r.key),
      ys.map((r) => r.key),
    )) {
      if (e.kind === 'equal') {
        const x = xs[e.a]!;
        const y = ys[e.b]!;
        if (x.canonical !== y.canonical)
          result.respelled.push({ before: x, after: y, note: spellingNote(x.canonical, y.canonical) });
        else unchanged++;
      } else if (e.kind === 'delete') deleted.push(xs[e.a]!);
      else inserted.push(ys[e.b]!);
    }
    const paired = pairMoves(deleted, inserted);
    pushAll(result.moved, paired.moved);
    pushAll(result.added, paired.added);
    pushAll(result.removed, paired.removed);
  }
  return { ...result, unchanged };
}
