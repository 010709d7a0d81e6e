// stale-rules: rules for a bridge no running network owns (a network undefined or stopped
// while its rules stayed, rules copied from another host), rules a network's definition does
// not derive, and duplicates (libvirt rules doubled by restarts, Xen's repeated physdev-out).

import type { Explained } from '../../explain/attribute.js';
import { TERMINAL_VERDICTS, type Dump, type Rule } from '../../model/dump.js';
import type { AuditContext } from '../context.js';
import { expectedKey, expectedRuleKey } from '../expected.js';
import { nftExpectedOf } from '../nft-expected.js';
import { nftRuleLocation } from '../nft-location.js';
import { defineCheck } from '../context.js';
import { report, type Finding, type RelatedLocation } from '../types.js';
import { networkLabel, deleteCommand } from '../words.js';
import { plural } from '../../model/text.js';

/** Matches whose second copy sees different packets than the first (counters, rates, lists). */
const STATEFUL = new Set([
  'limit',
  'hashlimit',
  'recent',
  'statistic',
  'quota',
  'connlimit',
  'nth',
  'random',
  'time',
  'set',
]);
const NAT_TARGETS = new Set(['MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT', 'NETMAP', 'CHECKSUM']);

/** Would a second identical copy of this rule never change what happens to a packet? */
function deadWhenRepeated(rule: Rule, userChains: ReadonlySet<string>): boolean {
  if (rule.matches.some((m) => STATEFUL.has(m.name))) return false;
  const target = rule.target?.name;
  if (!target) return false;
  return TERMINAL_VERDICTS.has(target) || NAT_TARGETS.has(target) || userChains.has(target);
}

function ownerHint(e: Explained | undefined): string {
  if (e?.owner === 'libvirt')
    return ' libvirt adds its rules again when the network (or the daemon, or a firewall reload) restarts without removing the old ones first';
  if (e?.owner === 'xen')
    return " Xen's vif-bridge adds a vif's rules on every 'online' event, and an 'offline' that never ran leaves the old ones";
  return '';
}

/** Groups of rules with the same text in the same chain (iptables-save prints one rule one way). */
function copies(dumps: readonly Dump[]): Rule[][] {
  const out: Rule[][] = [];
  for (const dump of dumps) {
    for (const table of dump.tables) {
      for (const chain of table.chains) {
        // Most rules are unique: a rule is kept as its place alone, and a list is made only for its second copy.
        // The lists come out in the order of their first copies.
        const byText = new Map<string, number | { first: number; rules: Rule[] }>();
        const lists: Array<{ first: number; rules: Rule[] }> = [];
        const rules = chain.rules;
        for (let i = 0; i < rules.length; i++) {
          const rule = rules[i]!;
          const seen = byText.get(rule.text);
          if (seen === undefined) byText.set(rule.text, i);
          else if (typeof seen === 'number') {
            const list = { first: seen, rules: [rules[seen]!, rule] };
            byText.set(rule.text, list);
            lists.push(list);
          } else seen.rules.push(rule);
        }
        lists.sort((a, b) => a.first - b.first);
        for (const l of lists) out.push(l.rules);
      }
    }
  }
  return out;
}

export const staleRules = defineCheck({
  id: 'stale-rules',
  severity: 'warning',
  summary: 'rules no running network accounts for: leftovers of removed networks, and duplicates',
  docs: 'docs/checks/stale-rules.md',
  messages: {
    duplicate:
      '{{table}} {{chain}}: the same rule appears {{times}} times (lines {{lines}}); {{copies}} after the first can never decide anything{{derived}}.{{hint}}',
    leftover: '{{Why}}: {{count}} (line{{s}} {{lines}}; {{what}})',
    nftLeftover: 'table {{family}} libvirt_network, chain {{chain}}: `{{rule}}` is a rule {{whose}}',
    deleteCopies:
      'delete the extra copies (each `iptables -t {{table}} -D {{chain}} …` removes one) or reload the host firewall and restart the networks so each rule is added once',
    startStopOrRemove:
      'start and stop the network once so {{owner}} removes its own rules, or remove them: {{removes}}{{more}}',
    removeOrDefine:
      'if the network is gone, remove them: {{removes}}{{more}}; if it should run, give its definition with --net',
    nftRemove:
      'remove it: `nft delete rule {{family}} libvirt_network {{chain}} handle {{handle}}`, or start and stop its network once so libvirt removes its own rules',
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    const expected = ctx.expected();
    // How often the running set-up derives each rule: counted when a duplicate is first found (most dumps have none).
    let counted: Map<string, number> | null = null;
    const expectedCount = (key: string): number => {
      if (!counted) {
        counted = new Map();
        for (const r of expected?.rules ?? []) {
          const key = expectedRuleKey(r);
          counted.set(key, (counted.get(key) ?? 0) + 1);
        }
      }
      return counted.get(key) ?? 0;
    };
    // Copies beyond the first never decide anything, whoever added them (even when the set-up derives them twice).
    const userChains = new Map<string, Set<string>>();
    for (const d of ctx.dumps)
      for (const t of d.tables)
        for (const c of t.chains)
          if (!c.builtin) userChains.set(t.name, (userChains.get(t.name) ?? new Set()).add(c.name));
    const extraCopies = new Set<Rule>();

    // Duplicates: copies beyond the first (or beyond what the running networks derive).
    for (const rules of copies(ctx.dumps)) {
      const keep = 1;
      if (rules.length <= keep) continue;
      const first = rules[0]!;
      const key = expectedKey(ctx.explainedRule(first)?.family ?? 'ipv4', first);
      if (!deadWhenRepeated(first, userChains.get(first.table) ?? new Set())) continue;
      const extras = rules.slice(keep);
      for (const r of extras) extraCopies.add(r);
      const e = ctx.explainedRule(first);
      const related: RelatedLocation[] = [
        ...rules.slice(0, keep).map((r) => ({ ...ctx.location(r), message: 'the copy that decides' })),
        ...extras.slice(1).map((r) => ({ ...ctx.location(r), message: 'another copy' })),
      ];
      const lines = rules.map((r) => r.line);
      const derived =
        expectedCount(key) > 1
          ? ` (the running set-up derives it ${expectedCount(key)} times: ${e?.owner === 'xen' ? 'vif-bridge adds it once per address of the vif' : 'once per network that needs it'})`
          : '';
      out.push(
        report(staleRules, {
          network: e?.network ?? null,
          message: 'duplicate',
          fix: 'deleteCopies',
          data: {
            table: first.table,
            chain: first.chain,
            times: rules.length,
            lines: lines.length > 8 ? `${lines.slice(0, 8).join(', ')}, …` : lines.join(', '),
            copies: plural(extras.length, 'copy'),
            derived,
            hint: derived ? '' : ownerHint(e),
          },
          location: ctx.location(extras[0]!),
          related,
        }),
      );
    }

    // Rules of networks that are not running, or that no definition derives: one finding per network and reason.
    if (!ctx.given) return out;
    out.push(...nftStale(ctx));
    const byName = new Map(ctx.networks.map((n) => [n.name, n]));
    const groups = new Map<
      string,
      { why: string; network: string | null; inactive: boolean; owner: string; rules: Explained[] }
    >();
    const explained = ctx.explained;
    for (let i = 0; i < explained.length; i++) {
      const e = explained[i]!;
      if (
        e.purpose === null ||
        e.purpose === 'chain-setup' ||
        (e.owner !== 'libvirt' && e.owner !== 'xen') ||
        extraCopies.has(e.rule)
      )
        continue;
      const n = e.network === null ? null : byName.get(e.network);
      let why: string | null = null;
      if (!n) why = `${e.owner} rules that belong to no network`;
      else if (n.origin === 'inferred')
        why = `rules for ${networkLabel(n)}, which no given network owns: left behind when a network was undefined or its rules were not removed, or copied from another host`;
      else if (ctx.isInactive(n))
        why = `rules of ${networkLabel(n)}, which is defined but not running (--inactive): stopping it should have removed them`;
      else if (
        expected &&
        !expected.matched.has(e.rule) &&
        (n.definition?.kind === 'xen' || ctx.flavor.flavor !== null)
      )
        why = `rules for ${networkLabel(n)} that its definition does not derive (${expected.eras.join(', ')}): left from an earlier definition, mode or libvirt release`;
      if (!why) continue;
      const key = `${e.network ?? ''}\u0000${why}`;
      const g = groups.get(key) ?? {
        why,
        network: e.network,
        inactive: n !== null && n !== undefined && ctx.isInactive(n),
        owner: e.owner === 'libvirt' ? 'libvirt' : 'Xen',
        rules: [],
      };
      g.rules.push(e);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      const first = g.rules[0]!;
      const lines = g.rules.map((e) => e.rule.line);
      const purposes = [...new Set(g.rules.map((e) => e.purpose!))];
      const what = g.rules.length === 1 ? `${first.purpose}: ${first.why}` : `${purposes.join(', ')}`;
      const removes = g.rules
        .slice(0, 3)
        .map((e) => `\`${deleteCommand(e.rule, e.family)}\``)
        .join(', ');
      const more = g.rules.length > 3 ? ` and ${g.rules.length - 3} more like them` : '';
      const count = g.rules.length === 1 ? 'a rule' : `${g.rules.length} rules`;
      const why =
        g.rules.length === 1
          ? g.why.replace(/^rules /, 'a rule ').replace(/^(libvirt|xen) rules that belong/, 'a $1 rule that belongs')
          : g.why;
      out.push(
        report(staleRules, {
          network: g.network,
          message: 'leftover',
          fix: g.inactive ? 'startStopOrRemove' : 'removeOrDefine',
          data: {
            Why: `${why[0]!.toUpperCase()}${why.slice(1)}`,
            count,
            s: lines.length === 1 ? '' : 's',
            lines: lines.length > 12 ? `${lines.slice(0, 12).join(', ')}, …` : lines.join(', '),
            what,
            owner: g.owner,
            removes,
            more,
          },
          location: ctx.location(first.rule),
          related: g.rules.slice(1).map((e) => ({ ...ctx.location(e.rule), message: `also ${e.purpose}` })),
        }),
      );
    }
    return out;
  },
});

/**
 * Rules in libvirt's nft tables that the running networks do not derive: a stopped network's, an older release's, a
 * copy.
 */
function nftStale(ctx: AuditContext): Finding[] {
  const expected = nftExpectedOf(ctx);
  const nft = ctx.nft;
  if (!expected || !nft) return [];
  const bridges = new Map(ctx.networks.filter((n) => n.bridge).map((n) => [n.bridge!, n]));
  return expected.extra.map((x) => {
    // A rule names its network by the bridge (`iif "virbr3"`).
    const bridge = /\b(?:iif|oif|iifname|oifname) "([^"]+)"/.exec(x.text)?.[1];
    const n = bridge ? bridges.get(bridge) : undefined;
    const whose =
      n && ctx.isInactive(n)
        ? `of ${networkLabel(n)}, which is defined but not running (--inactive): stopping it should have removed it`
        : n
          ? `for ${networkLabel(n)} that its definition does not derive (${expected.era}): left from an earlier definition, mode or libvirt release, or a copy`
          : bridge
            ? `for bridge ${bridge}, which no given network owns: left behind when a network was undefined, or copied from another host`
            : `that no running network derives (${expected.era})`;
    const handle =
      x.rule.handle === null
        ? '<handle> (list it with `nft -a list table ' + `${x.family} libvirt_network` + '`)'
        : String(x.rule.handle);
    return report(staleRules, {
      network: n?.name ?? null,
      message: 'nftLeftover',
      fix: 'nftRemove',
      data: { family: x.family, chain: x.chain, rule: x.text, whose, handle },
      location: nftRuleLocation(nft, x.rule),
    });
  });
}
