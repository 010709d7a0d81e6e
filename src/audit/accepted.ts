// What let a traced packet through at one hook, in words true for the host's backend: an
// iptables rule (`line 12 -A FORWARD …`) or policy, or an nft chain's rule or policy named by
// table and chain. On an nft host a hook may hold no base chain at all: then nothing filters it.

import type { Owner } from '../explain/attribute.js';
import type { Family, Rule } from '../model/dump.js';
import { isNftRule, type NftRule } from '../model/nft.js';
import type { Hook } from '../sim/packet.js';
import type { Leg } from '../sim/trace.js';
import type { Step } from '../sim/traverse.js';
import { nftRuleText } from '../write/nft-rule.js';
import type { AuditContext } from './context.js';
import { ruleSteps } from './legs.js';
import { nftChainLocation, nftRuleLocation } from './nft-location.js';
import type { Location } from './types.js';
import { nftTableOwner } from './outcomes.js';
import { atLine, deleteCommand, shellQuote } from './words.js';

export interface Accepted {
  /** "accepted by line 12 …", "accepted by table inet filter, chain input (policy accept)". */
  readonly words: string;
  /** The iptables rule that accepted, for delete commands; null for a policy or an nft rule. */
  readonly rule: Rule | null;
  /** The nft step that accepted (its table is `FAMILY NAME`); null on iptables. */
  readonly nft: Step | null;
  readonly location: Location | null;
}

const isNftStep = (s: Step): boolean => s.table.includes(' ');

/** The last accept at `hook` in the filter table or any nft chain: the one that let the packet on. */
export function acceptedAt(ctx: AuditContext, leg: Leg, hook: Hook): Accepted {
  const steps = ruleSteps(leg).filter((s) => s.hook === hook && (s.table === 'filter' || isNftStep(s)));
  const accepting = (s: Step): boolean =>
    s.action === 'accept' || (s.action === 'policy' && /accept/i.test(s.detail ?? ''));
  const accepts = steps.filter(accepting);
  const last = accepts[accepts.length - 1] ?? null;
  const name = hook.toLowerCase();
  if (!last) {
    const nftBackend = ctx.flavor.flavor === 'libvirt-nft' ? " (libvirt's nftables table has none there)" : '';
    const words =
      steps.length === 0 ? `no chain on the ${name} hook filters it${nftBackend}` : `accepted by the ${hook} policy`;
    return { words, rule: null, nft: null, location: null };
  }
  if (!isNftStep(last)) {
    const rule = last.rule?.rule ?? null;
    const words = rule ? `accepted by ${atLine(rule)}` : `accepted by the ${hook} policy`;
    return { words, rule, nft: null, location: rule ? ctx.location(rule) : null };
  }
  const where = `table ${last.table}, chain ${last.chain}`;
  const ruleset = ctx.probes()?.sim.ruleset.nft ?? ctx.nft;
  const nftRule = last.rule?.nft?.rule ?? null;
  if (nftRule) {
    const location = ruleset ? nftRuleLocation(ruleset, nftRule) : null;
    return { words: `accepted by ${where}, rule \`${nftRuleText(nftRule)}\``, rule: null, nft: last, location };
  }
  const table = ruleset?.tables.find((t) => `${t.family} ${t.name}` === last.table);
  const chain = table?.chains.find((c) => c.name === last.chain);
  const location = ruleset && chain ? nftChainLocation(ruleset, chain) : null;
  return { words: `accepted by ${where} (policy accept)`, rule: null, nft: last, location };
}

/** How to delete the nft rule a step took: `nft list ruleset` shows no handles, `nft -a` does. */
export function nftDeleteHint(step: Step): string {
  const chain = `${step.table} ${step.chain}`;
  return `\`nft -a list chain ${chain}\` shows its handle N; then \`nft delete rule ${chain} handle N\``;
}

/** A rule either tool wrote, for sentences: "line 12 `-A …`", or "table ip nat, chain prerouting, rule `…`". */
export function ruleWords(rule: Rule | NftRule): string {
  return isNftRule(rule)
    ? `table ${rule.family} ${rule.table}, chain ${rule.chain}, rule \`${nftRuleText(rule)}\``
    : atLine(rule);
}

/** Where a rule either tool wrote is: its dump's line, or its place in the nft listing. */
export function ruleLocation(ctx: AuditContext, rule: Rule | NftRule): Location {
  if (!isNftRule(rule)) return ctx.location(rule);
  const ruleset = ctx.probes()?.sim.ruleset.nft ?? ctx.nft;
  return ruleset ? nftRuleLocation(ruleset, rule) : { file: '-', line: 1, text: nftRuleText(rule) };
}

/** How to delete a rule either tool wrote (nft needs its handle: `nft -a` shows it unless the listing did). */
export function deleteHint(rule: Rule | NftRule, family: Family = 'ipv4'): string {
  if (!isNftRule(rule)) return `\`${deleteCommand(rule, family)}\``;
  const chain = `${rule.family} ${rule.table} ${shellQuote(rule.chain)}`;
  return rule.handle !== null
    ? `\`nft delete rule ${chain} handle ${rule.handle}\``
    : `\`nft -a list chain ${chain}\` shows its handle N; then \`nft delete rule ${chain} handle N\``;
}

export interface Stopped {
  /** "line 12 `-A FORWARD -j REJECT`", "table inet filter, chain forward, by its policy drop". */
  readonly words: string;
  /** The rule that stopped it (iptables or nft); null for a policy. */
  readonly rule: Rule | NftRule | null;
  readonly owner: Owner;
  readonly location: Location | null;
}

/** What stopped a traced packet at one step: a rule or a chain's policy, named for the host's backend. */
export function stoppedAt(ctx: AuditContext, step: Step): Stopped {
  const iptables = step.rule?.rule ?? null;
  if (iptables)
    return {
      words: atLine(iptables),
      rule: iptables,
      owner: ctx.explainedRule(iptables)?.owner ?? 'host',
      location: ctx.location(iptables),
    };
  const nftRule = step.rule?.nft?.rule ?? null;
  if (nftRule)
    return {
      words: ruleWords(nftRule),
      rule: nftRule,
      owner: nftTableOwner(step.table) ?? 'host',
      location: ruleLocation(ctx, nftRule),
    };
  const policy = (step.detail ?? 'policy DROP').replace(/^.*policy /i, 'policy ');
  if (!isNftStep(step))
    return { words: `the ${step.table} ${step.chain} ${policy}`, rule: null, owner: 'host', location: null };
  const ruleset = ctx.probes()?.sim.ruleset.nft ?? ctx.nft;
  const chain = ruleset?.tables
    .find((t) => `${t.family} ${t.name}` === step.table)
    ?.chains.find((c) => c.name === step.chain);
  return {
    words: `table ${step.table}, chain ${step.chain}, by its ${policy.toLowerCase()}`,
    rule: null,
    owner: nftTableOwner(step.table) ?? 'host',
    location: ruleset && chain ? nftChainLocation(ruleset, chain) : null,
  };
}
