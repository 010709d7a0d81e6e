// What the kernel runs at each hook, in its order: every base chain of every table of the
// packet's family (and inet) by priority, conntrack at -200, and the NAT core, which consults
// the nat chains — iptables' nat table and nft `type nat` chains alike — at its own fixed
// priority, in their priority order, until one binds (measured: a `type nat` chain at
// postrouting priority -150, 50 or 120 translates between filter chains at 75 and 150).
// iptables tables are base chains at their fixed priorities: one engine for both.
// At equal priority the later-registered hook runs first (nf_hook_entries_grow; measured in
// ../shared/corpus/nft-real/p-priority-order); where no input says which registered later, the
// stages form a tie group and the walk tries every order (src/sim/traverse.ts).

import { BUILTIN_CHAINS, type Dump } from '../model/dump.js';
import type { Hook } from './packet.js';
import {
  chainKey,
  type BaseChain,
  type ChainType,
  type CompiledChain,
  type HookPlan,
  type HookStage,
  type Registrar,
  type TableFamily,
  type TieGroup,
} from './ruleset.js';

export const HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** iptables' tables as base chains: their fixed priorities (NF_IP_PRI_*). */
export const IPTABLES_PRIORITY: Readonly<Record<string, number>> = { raw: -300, mangle: -150, filter: 0, security: 50 };

/** Where the NAT core sits: destination NAT before routing (-100), source NAT after (100). */
export const NAT_PRIORITY: Readonly<Record<Hook, number | null>> = {
  PREROUTING: -100,
  OUTPUT: -100,
  INPUT: 100,
  POSTROUTING: 100,
  FORWARD: null,
};

export const CONNTRACK_PRIORITY = -200;

/** The chains an empty ACCEPT policy leaves without effect are left out: they decide nothing. */
function decides(chain: CompiledChain): boolean {
  return chain.rules.length > 0 || chain.policy !== 'ACCEPT';
}

/** Who registered an iptables table's chain, and where in that registrar's order. */
export interface Placement {
  readonly registrar: Registrar;
  readonly seq: number;
  readonly tableSeq: number;
}

/**
 * An iptables dump's built-in chains as base chains. `seqBase` places them in their registrar's
 * order; `place`, when given, says for each chain who registered it and when (an iptables-nft
 * table listed by nft has its place in nft's order; a legacy table has none).
 */
export function iptablesBaseChains(
  dump: Dump,
  lookup: (key: string) => CompiledChain | undefined,
  registrar: Registrar,
  family: TableFamily,
  seqBase = 0,
  place?: (table: string, hook: Hook) => Placement,
): BaseChain[] {
  const out: BaseChain[] = [];
  dump.tables.forEach((table, t) => {
    const hooks = BUILTIN_CHAINS[table.name];
    if (!hooks) return;
    for (const hook of hooks as readonly Hook[]) {
      const chain = lookup(chainKey(table.name, hook));
      if (!chain || !decides(chain)) continue;
      const nat = table.name === 'nat';
      const type: ChainType = nat ? 'nat' : table.name === 'mangle' && hook === 'OUTPUT' ? 'route' : 'filter';
      const priority = nat ? NAT_PRIORITY[hook]! : IPTABLES_PRIORITY[table.name]!;
      const at = place?.(table.name, hook) ?? { registrar, seq: seqBase + out.length, tableSeq: seqBase + t };
      out.push({ chain, family, type, hook, priority, ...at });
    }
  });
  return out;
}

// --- ordering ---------------------------------------------------------------------------------

interface Key {
  readonly registrar: Registrar;
  readonly seq: number;
  readonly tableSeq: number;
}

type Relation = 'known' | 'listed' | 'unknown';

const RANK: Readonly<Record<Registrar, number>> = { conntrack: 0, nftables: 1, iptables: 2, 'iptables-legacy': 3 };

/** How the order of two equal-priority registrations is known. */
function relation(a: Key | null, b: Key | null): Relation {
  if (a === null || b === null) return 'known';
  if (a.registrar !== b.registrar || a.registrar === 'conntrack') return 'unknown';
  if (a.registrar !== 'nftables' || a.tableSeq === b.tableSeq) return 'known';
  return 'listed';
}

/** Priority first; at equal priority the later registration runs first; registrars in a fixed (arbitrary) order. */
function compare(pa: number, a: Key | null, pb: number, b: Key | null): number {
  if (pa !== pb) return pa - pb;
  if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
  if (a.registrar !== b.registrar) return RANK[a.registrar] - RANK[b.registrar];
  return b.seq - a.seq;
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  }
  return out;
}

/** Groups of equal-priority items whose order is not fully known, as (start, group). */
function tieGroups(items: ReadonlyArray<{ priority: number; key: Key | null }>): Map<number, TieGroup> {
  const groups = new Map<number, TieGroup>();
  for (let i = 0; i < items.length;) {
    let j = i + 1;
    while (j < items.length && items[j]!.priority === items[i]!.priority) j++;
    const run = items.slice(i, j);
    const rel = (x: number, y: number): Relation => relation(run[x]!.key, run[y]!.key);
    let loose = false;
    let listed = true;
    for (let x = 0; x < run.length; x++) {
      for (let y = x + 1; y < run.length; y++) {
        const r = rel(x, y);
        if (r !== 'known') loose = true;
        if (r === 'unknown') listed = false;
      }
    }
    if (loose && run.length <= 6) {
      // Every order that keeps each known pair as sorted; the sorted order first.
      const orders = permutations(run.length).filter((p) => {
        for (let x = 0; x < p.length; x++) {
          for (let y = x + 1; y < p.length; y++) if (p[x]! > p[y]! && rel(p[y]!, p[x]!) === 'known') return false;
        }
        return true;
      });
      orders.sort((p, q) => p.join(',').localeCompare(q.join(',')));
      groups.set(i, { size: run.length, orders, listed });
    }
    i = j;
  }
  return groups;
}

function keyOf(b: BaseChain): Key {
  return { registrar: b.registrar, seq: b.seq, tableSeq: b.tableSeq };
}

/** The NAT core registers when the family's first nat chain does (all its hooks at once). */
function natKey(nat: readonly BaseChain[]): Key | null {
  if (nat.length === 0) return null;
  const registrars = new Set(nat.map((b) => b.registrar));
  const first = nat.reduce((a, b) => (b.seq < a.seq ? b : a));
  return registrars.size === 1 ? keyOf(first) : { registrar: 'conntrack', seq: 0, tableSeq: 0 };
}

/** Per hook, the stages in the kernel's order, with tie groups where the order is not known for certain. */
export function planHooks(bases: readonly BaseChain[]): HookPlan {
  const natAll = bases.filter((b) => b.type === 'nat');
  const coreKey = natKey(natAll);
  const plan = {} as Record<Hook, HookStage[]>;
  for (const hook of HOOKS) {
    type Draft = { priority: number; key: Key | null; make: (tie: TieGroup | null) => HookStage };
    const drafts: Draft[] = [];
    for (const base of bases) {
      if (base.hook !== hook || base.type === 'nat') continue;
      const make = (tie: TieGroup | null): HookStage => ({ kind: 'chain', priority: base.priority, base, tie });
      drafts.push({ priority: base.priority, key: keyOf(base), make });
    }
    if (hook === 'PREROUTING' || hook === 'OUTPUT') {
      const make = (tie: TieGroup | null): HookStage => ({ kind: 'conntrack', priority: CONNTRACK_PRIORITY, tie });
      drafts.push({ priority: CONNTRACK_PRIORITY, key: { registrar: 'conntrack', seq: 0, tableSeq: 0 }, make });
    }
    const natPriority = NAT_PRIORITY[hook];
    if (natPriority !== null) {
      const chains = natAll.filter((b) => b.hook === hook);
      chains.sort((a, b) => compare(a.priority, keyOf(a), b.priority, keyOf(b)));
      const chainTie = tieGroups(chains.map((b) => ({ priority: b.priority, key: keyOf(b) })));
      // One group over every chain of the core at most: the walk tries each order of the whole list.
      const whole: TieGroup | null =
        chainTie.size === 0
          ? null
          : {
              size: chains.length,
              orders: wholeOrders(chains.length, chainTie),
              listed: [...chainTie.values()].every((g) => g.listed),
            };
      const make = (tie: TieGroup | null): HookStage => ({
        kind: 'nat',
        priority: natPriority,
        chains,
        chainTie: whole,
        tie,
      });
      drafts.push({ priority: natPriority, key: chains.length > 0 ? coreKey : null, make });
    }
    drafts.sort((a, b) => compare(a.priority, a.key, b.priority, b.key));
    const ties = tieGroups(drafts);
    plan[hook] = drafts.map((d, i) => d.make(ties.get(i) ?? null));
  }
  return plan;
}

/** The orders of a whole list from the orders of its tie groups (the product, each group in place). */
function wholeOrders(n: number, groups: ReadonlyMap<number, TieGroup>): number[][] {
  let out: number[][] = [Array.from({ length: n }, (_, i) => i)];
  for (const [start, g] of groups) {
    const next: number[][] = [];
    for (const base of out) {
      for (const o of g.orders) {
        const p = base.slice();
        for (let k = 0; k < g.size; k++) p[start + k] = start + o[k]!;
        next.push(p);
      }
    }
    out = next;
  }
  return out;
}
