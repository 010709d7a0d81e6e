// What changed between two nft rulesets, chain by chain: rules are the same when their content is
// (the canonical rule, counters zeroed; never handles, positions or counters); a rule whose place in
// its chain changed is "moved". Tables and chains that came or went, and changed policies, too.

import type { NftChain, NftRule, NftTable } from '../model/nft.js';
import { canonicalRule } from '../model/nft-canonical.js';
import { formatBaseChain, formatNftRule } from '../write/nft-text.js';
import { alignSequences, pairMoves } from './sequence.js';
import { pushAll } from '../model/lists.js';

/** A rule in its place: `family table`, chain and 1-based position. */
export interface NftRuleAt {
  readonly table: string;
  readonly chain: string;
  readonly position: number;
  readonly rule: NftRule;
  /** The rule as nft lists it, counters as read. */
  readonly text: string;
  /** The identity rules are compared by: the canonical rule with counters zeroed. */
  readonly key: string;
}

export interface NftDiff {
  readonly added: NftRuleAt[];
  readonly removed: NftRuleAt[];
  readonly moved: Array<{ readonly before: NftRuleAt; readonly after: NftRuleAt }>;
  /**
   * Tables that came or went; `reordered`: those on both sides are listed in another order
   * (registration order decides ties in priority).
   */
  readonly tables: { readonly added: string[]; readonly removed: string[]; readonly reordered: boolean };
  readonly chains: {
    readonly added: Array<{ table: string; chain: string }>;
    readonly removed: Array<{ table: string; chain: string }>;
    /** Base-chain spec (type, hook, priority, policy) changed. */
    readonly changed: Array<{ table: string; chain: string; from: string | null; to: string | null }>;
  };
  readonly unchanged: number;
}

/** The content of a rule, whatever its counters, handle or position. */
export function nftRuleKey(rule: NftRule): string {
  const c = canonicalRule(rule);
  return formatNftRule({
    ...c,
    statements: c.statements.map((s) => (s.kind === 'counter' && s.name === null ? { ...s, packets: 0, bytes: 0 } : s)),
  });
}

const tableId = (t: NftTable): string => `${t.family} ${t.name}`;

function rulesOf(tables: readonly NftTable[]): Map<string, { table: string; chain: NftChain; rules: NftRuleAt[] }> {
  const out = new Map<string, { table: string; chain: NftChain; rules: NftRuleAt[] }>();
  for (const t of tables) {
    for (const c of t.chains) {
      const rules = c.rules.map((rule, i) => ({
        table: tableId(t),
        chain: c.name,
        position: i + 1,
        rule,
        text: formatNftRule(rule),
        key: nftRuleKey(rule),
      }));
      out.set(`${tableId(t)}\u0000${c.name}`, { table: tableId(t), chain: c, rules });
    }
  }
  return out;
}

export function diffNftTables(before: readonly NftTable[], after: readonly NftTable[]): NftDiff {
  const a = rulesOf(before);
  const b = rulesOf(after);
  const beforeTables = new Set(before.map(tableId));
  const afterTables = new Set(after.map(tableId));
  const result = {
    added: [] as NftRuleAt[],
    removed: [] as NftRuleAt[],
    moved: [] as Array<{ before: NftRuleAt; after: NftRuleAt }>,
    tables: {
      added: [...afterTables].filter((t) => !beforeTables.has(t)),
      removed: [...beforeTables].filter((t) => !afterTables.has(t)),
      reordered:
        before
          .map(tableId)
          .filter((t) => afterTables.has(t))
          .join('\n') !==
        after
          .map(tableId)
          .filter((t) => beforeTables.has(t))
          .join('\n'),
    },
    chains: {
      added: [] as Array<{ table: string; chain: string }>,
      removed: [] as Array<{ table: string; chain: string }>,
      changed: [] as Array<{ table: string; chain: string; from: string | null; to: string | null }>,
    },
    unchanged: 0,
  };
  const spec = (c: NftChain): string | null => (c.base ? formatBaseChain(c.base, c.family) : null);
  for (const [id, x] of b) {
    const old = a.get(id);
    if (!old) result.chains.added.push({ table: x.table, chain: x.chain.name });
    else if (spec(old.chain) !== spec(x.chain))
      result.chains.changed.push({ table: x.table, chain: x.chain.name, from: spec(old.chain), to: spec(x.chain) });
  }
  for (const [id, x] of a) if (!b.has(id)) result.chains.removed.push({ table: x.table, chain: x.chain.name });

  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const xs = a.get(id)?.rules ?? [];
    const ys = b.get(id)?.rules ?? [];
    const deleted: NftRuleAt[] = [];
    const inserted: NftRuleAt[] = [];
    for (const e of alignSequences(
      xs.map((r) => r.key),
      ys.map((r) => r.key),
    )) {
      if (e.kind === 'equal') result.unchanged++;
      else if (e.kind === 'delete') deleted.push(xs[e.a]!);
      else inserted.push(ys[e.b]!);
    }
    const paired = pairMoves(deleted, inserted);
    pushAll(result.moved, paired.moved);
    pushAll(result.added, paired.added);
    pushAll(result.removed, paired.removed);
  }
  return result;
}
