// What libvirt's nftables backend should have put in `table ip|ip6 libvirt_network` for the
// running networks — `compile --flavor libvirt-nft` of each, read back through the nft reader —
// against what the host's listing holds there, rule by rule (as a multiset: a rule doubled by a
// restart is one extra). Rules are compared by what they say, never by handle or counters.

import { applyProgram, emptyHostState } from '../engine/apply.js';
import { compile } from '../engine/compile.js';
import { NFT_TABLE } from '../engine/libvirt-nft.js';
import type { AnyNetwork, Network } from '../model/network.js';
import type { NftRule, NftRuleset } from '../model/nft.js';
import { nftModelOf } from './nft-compiled.js';
import { nftRuleKey } from '../diff/nft-diff.js';

export interface NftExpectedRule {
  /** The network whose start adds it; null for the table's shared set-up (the jumps). */
  readonly network: string | null;
  readonly family: 'ip' | 'ip6';
  readonly chain: string;
  readonly text: string;
}

export interface NftPresentRule {
  readonly family: 'ip' | 'ip6';
  readonly chain: string;
  readonly text: string;
  readonly rule: NftRule;
}

export interface NftExpected {
  readonly era: string;
  readonly rules: readonly NftExpectedRule[];
  readonly missing: readonly NftExpectedRule[];
  /** Rules of libvirt's tables no running network accounts for. */
  readonly extra: readonly NftPresentRule[];
  /** Does the listing hold libvirt's table at all? */
  readonly tablePresent: boolean;
}

/** A rule as compared: what it says, canonically, whatever its counters or handle. */
function textOf(rule: NftRule): string {
  return nftRuleKey(rule);
}

function tableRules(ruleset: NftRuleset): NftPresentRule[] {
  const out: NftPresentRule[] = [];
  for (const t of ruleset.tables) {
    if (t.name !== NFT_TABLE || (t.family !== 'ip' && t.family !== 'ip6')) continue;
    for (const c of t.chains)
      for (const r of c.rules) out.push({ family: t.family, chain: c.name, text: textOf(r), rule: r });
  }
  return out;
}

/** What starting `networks` one at a time on an empty host puts in libvirt's tables, network by network. */
export function expectedNftRules(
  networks: readonly AnyNetwork[],
  libvirtVersion?: string,
): { era: string; rules: NftExpectedRule[] } {
  const libvirt = networks.filter((n): n is Network => n.kind === 'libvirt');
  const options = { flavor: 'libvirt-nft' as const, ...(libvirtVersion ? { libvirtVersion } : {}) };
  const rules: NftExpectedRule[] = [];
  let era = compile([], options).era;
  let setupDone = false;
  for (const n of libvirt) {
    const program = compile([n], options);
    era = program.era;
    const state = applyProgram(program, emptyHostState()).nft;
    const parsed = nftModelOf(state, `compile ${n.name}`);
    for (const r of tableRules(parsed)) {
      const setup = r.rule.statements.some((s) => s.kind === 'verdict' && s.verdict === 'jump');
      if (setup && setupDone) continue;
      rules.push({ network: setup ? null : n.name, family: r.family, chain: r.chain, text: r.text });
    }
    if (!setupDone && rules.some((r) => r.network === null)) setupDone = true;
  }
  return { era, rules };
}

export function compareNft(running: readonly AnyNetwork[], ruleset: NftRuleset, libvirtVersion?: string): NftExpected {
  const { era, rules } = expectedNftRules(running, libvirtVersion);
  const present = tableRules(ruleset);
  const pool = new Map<string, NftPresentRule[]>();
  // Keys joined, not concatenated: V8 hashes a flat string several times faster (see expected.ts's keyOf).
  for (const p of present) {
    const key = [p.family, p.chain, p.text].join(' ');
    const list = pool.get(key);
    if (list) list.push(p);
    else pool.set(key, [p]);
  }
  const missing: NftExpectedRule[] = [];
  for (const r of rules) {
    const list = pool.get([r.family, r.chain, r.text].join(' '));
    if (list && list.length > 0) list.shift();
    else missing.push(r);
  }
  // What no expected rule took, in the ruleset's order.
  const left = new Set([...pool.values()].flat());
  const extra = present.filter((p) => left.has(p));
  const tablePresent = ruleset.tables.some((t) => t.name === NFT_TABLE && (t.family === 'ip' || t.family === 'ip6'));
  return { era, rules, missing, extra, tablePresent };
}

const cache = new WeakMap<object, NftExpected | null>();

/** The comparison for an audit: null unless the host's nft ruleset was given and libvirt's nft backend is in force. */
export function nftExpectedOf(ctx: {
  readonly nft: NftRuleset | null;
  readonly running: readonly AnyNetwork[];
  readonly libvirtVersion: string | undefined;
  readonly flavor: { readonly flavor: string | null };
}): NftExpected | null {
  if (cache.has(ctx)) return cache.get(ctx)!;
  const result =
    ctx.nft && ctx.flavor.flavor === 'libvirt-nft' ? compareNft(ctx.running, ctx.nft, ctx.libvirtVersion) : null;
  cache.set(ctx, result);
  return result;
}

/** `nft insert rule ip libvirt_network guest_output …`: what libvirt runs for the rule (it inserts at the top). */
export function nftInsertCommand(r: NftExpectedRule): string {
  return `nft insert rule ${r.family} ${NFT_TABLE} ${r.chain} ${r.text}`;
}
