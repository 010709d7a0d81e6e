// The compiled rules the simulator runs, as plain data: rules as predicate closures with their
// targets, chains with their decision trees, and per hook the list of what the kernel runs
// there — base chains of every table (iptables' fixed tables and nft's own), conntrack and the
// NAT core — in the kernel's order.

import type { EvalEnv } from './env.js';
import type { IpFamily } from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import { isTextPos, type NftRule, type NftRuleset } from '../model/nft.js';
import { nftRuleText } from '../write/nft-rule.js';
import { formatRule } from '../write/save.js';
import type { Test } from './matches.js';
import type { Hook, RuleRef } from './packet.js';
import type { CompiledTarget } from './targets.js';

export interface CompiledRule {
  /** The iptables rule; null for an nft rule (`nft`). */
  readonly rule: Rule | null;
  /** The nft rule and the file it was read from; null for an iptables rule. */
  readonly nft: NftRuleRef | null;
  /** Position in its chain (0-based). */
  readonly index: number;
  readonly test: Test;
  /** Why this rule cannot be decided, when one of its matches is unknown to virtables. */
  readonly unknown: string | null;
  readonly target: CompiledTarget;
  /** What was assumed to evaluate it (e.g. rate limits treated as matching). */
  readonly notes: readonly string[];
  readonly keys: RuleKeys;
  /** Statements that change the packet and go on (nft `meta mark set …`), applied in order before the target. */
  readonly effects: readonly CompiledTarget[] | null;
}

export interface NftRuleRef {
  readonly rule: NftRule;
  readonly file: string;
}

/** A compiled rule as people read it: the iptables rule line, or the nft rule's statements. */
export function ruleText(r: CompiledRule, family: IpFamily): string {
  return r.rule ? formatRule(r.rule, family === 6 ? 'ipv6' : 'ipv4') : nftRuleText(r.nft!.rule);
}

/** The line a compiled rule was read from; null for nft JSON (one line: see ruleWhere for its path). */
export function ruleLine(r: RuleRef): number | null {
  if (r.rule) return r.rule.line;
  const pos = r.nft!.rule.pos;
  return isTextPos(pos) ? pos.line : null;
}

/** Where a compiled rule was read, for sentences: `line 12`, or nft JSON's `nftables[7]`. */
export function ruleWhere(r: RuleRef): string {
  if (r.rule) return `line ${r.rule.line}`;
  const pos = r.nft!.rule.pos;
  return isTextPos(pos) ? `line ${pos.line}` : pos.path;
}

/**
 * A rule a verdict depends on, for sentences: `rule 12` (its line), and for nft its handle when the
 * listing gives one (`rule 12 (handle 5)`; nft JSON, one line: `rule nftables[7] (handle 5)`).
 */
export function ruleName(r: RuleRef): string {
  if (r.rule) return `rule ${r.rule.line}`;
  const n = r.nft!.rule;
  const at = isTextPos(n.pos) ? String(n.pos.line) : n.pos.path;
  return `rule ${at}${n.handle !== null ? ` (handle ${n.handle})` : ''}`;
}

/** The rule itself as people read it (iptables' rule line, nft's statements). */
export function refText(r: RuleRef, family: IpFamily): string {
  return r.rule ? formatRule(r.rule, family === 6 ? 'ipv6' : 'ipv4') : nftRuleText(r.nft!.rule);
}

/** What identifies the rule whichever compile it came from. */
export function refKey(r: RuleRef): object {
  return r.rule ?? r.nft!.rule;
}

export interface CompiledChain {
  /** iptables' table name (`filter`), or an nft table with its family (`inet filter`). */
  readonly table: string;
  /** Jump targets resolved once: rule index → chain (for `chain` targets). */
  readonly jumps: Array<CompiledChain | undefined>;
  readonly name: string;
  readonly builtin: boolean;
  /** ACCEPT / DROP for built-in chains; null for user chains. */
  readonly policy: string | null;
  readonly rules: readonly CompiledRule[];
  readonly index: IndexNode;
  /** The chains a verdict map may jump to, by name (nft); null when no rule has one. */
  readonly byName: ReadonlyMap<string, CompiledChain> | null;
}

export interface Ruleset {
  readonly family: IpFamily;
  /** The iptables dump (empty for an nft-only host). */
  readonly dump: Dump;
  readonly nft: NftRuleset | null;
  /** `table/chain` → chain (nft tables with their family: `inet filter/input`). */
  readonly chains: ReadonlyMap<string, CompiledChain>;
  readonly tables: ReadonlySet<string>;
  /** The dump uses `-m physdev` (which makes the kernel load br_netfilter). */
  readonly usesPhysdev: boolean;
  /** Per hook, what runs there in the kernel's order (src/sim/hooks.ts builds it). */
  readonly hooks: HookPlan;
  /** What the rules were compiled against (ipset contents). */
  readonly env: EvalEnv;
}

export function chainKey(table: string, chain: string): string {
  return `${table}/${chain}`;
}

// --- rule keys and the per-chain index ------------------------------------------------------

export interface CidrKey {
  readonly prefix: number;
  readonly network: bigint;
}

/** Per dimension: the exact values the rule requires (any one of them), or null when it accepts any. */
export interface RuleKeys {
  readonly in: string | null;
  readonly out: string | null;
  readonly proto: number | null;
  readonly dport: readonly number[] | null;
  readonly src: CidrKey | null;
  readonly dst: CidrKey | null;
}

export type IndexNode =
  | { readonly kind: 'leaf'; readonly rules: readonly CompiledRule[] }
  | {
      readonly kind: 'exact';
      readonly dim: 'in' | 'out' | 'proto' | 'dport';
      readonly map: ReadonlyMap<string | number, IndexNode>;
      readonly rest: IndexNode;
    }
  | {
      readonly kind: 'cidr';
      readonly dim: 'src' | 'dst';
      readonly levels: ReadonlyArray<{ readonly mask: bigint; readonly map: ReadonlyMap<bigint, IndexNode> }>;
      /** IPv4: the same levels keyed by numbers (an address fits in one), looked up without BigInt arithmetic. */
      readonly levels4: ReadonlyArray<{ readonly mask: number; readonly map: ReadonlyMap<number, IndexNode> }> | null;
      readonly rest: IndexNode;
    };

// --- hooks ------------------------------------------------------------------------------------

/** nft's table families; an iptables table is `ip` (iptables) or `ip6` (ip6tables). */
export type TableFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export type ChainType = 'filter' | 'nat' | 'route';

/**
 * Who registered a hook. The kernel runs hooks of equal priority latest-registered first; which
 * of two registrars registered first is in no dump (legacy iptables tables appear when first
 * used, conntrack when a rule or NAT first needs it). `iptables` is a lone iptables dump's
 * backend, legacy or nft, when nothing else registers.
 */
export type Registrar = 'iptables' | 'iptables-legacy' | 'nftables' | 'conntrack';

/** A chain registered at a hook, and what orders it against the others there. */
export interface BaseChain {
  readonly chain: CompiledChain;
  readonly family: TableFamily;
  readonly type: ChainType;
  readonly hook: Hook;
  readonly priority: number;
  readonly registrar: Registrar;
  /** Registration order among the registrar's chains (higher: registered later). */
  readonly seq: number;
  /** The table's place among the registrar's tables (nft lists tables in creation order). */
  readonly tableSeq: number;
}

/**
 * The orders in which the kernel may run a run of equal-priority stages (or the NAT core's
 * chains) whose registration order no input fixes for certain. `orders[0]` is the order the
 * input suggests; `listed`: that suggestion is the listing's table order (nft prints tables in
 * creation order), false: nothing suggests one (legacy iptables next to nft, conntrack).
 */
export interface TieGroup {
  /** How many stages (or NAT chains) from here it spans. */
  readonly size: number;
  /** Each a permutation of 0..size-1, consistent with what is known. */
  readonly orders: ReadonlyArray<readonly number[]>;
  readonly listed: boolean;
}

export type HookStage =
  /** A filter or route base chain. */
  | { readonly kind: 'chain'; readonly priority: number; readonly base: BaseChain; readonly tie: TieGroup | null }
  /** The NAT core: for a connection's first packet, each nat chain in order until one binds. */
  | {
      readonly kind: 'nat';
      readonly priority: number;
      readonly chains: readonly BaseChain[];
      readonly chainTie: TieGroup | null;
      readonly tie: TieGroup | null;
    }
  /** Conntrack attaches its entry (PREROUTING and OUTPUT, priority -200). */
  | { readonly kind: 'conntrack'; readonly priority: number; readonly tie: TieGroup | null }
  /** Something runs here that virtables does not evaluate: every packet's verdict is unknown. */
  | { readonly kind: 'opaque'; readonly priority: number; readonly why: string; readonly tie: TieGroup | null };

export type HookPlan = Readonly<Record<Hook, readonly HookStage[]>>;
