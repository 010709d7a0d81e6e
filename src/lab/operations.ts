// Running a listing's operations on a dump the way iptables would (an -I goes to the top, a -D
// of a rule that is not there is refused), and reading a listing that is a host's whole state.

import type { Listing, Operation } from '../../grammar/listing.js';
import { ruleKey } from '../diff/diff.js';
import { emptyDump } from '../engine/apply.js';
import { BUILTIN_CHAINS, type Chain, type Dump, type Rule, type Table } from '../model/dump.js';
import { formatRule } from '../write/save.js';

/**
 * Is a listing the host's whole state (an iptables-save with its tables and policies, an
 * `iptables -S` with its -P lines, an `iptables -L` with its chain headings) rather than
 * commands to run? Then it is the firewall, not something to add on top of started networks.
 */
export function listingIsState(listing: Listing): boolean {
  if (listing.formats.has('commands') || listing.formats.has('diff')) return false;
  return listing.operations.some((o) => o.kind === 'policy');
}

/** The firewall a state listing describes. */
export function dumpOfListing(listing: Listing): { dump: Dump; refused: string[] } {
  const applied = applyOperations({ ...emptyDump('ipv4'), file: listing.file }, listing);
  return { dump: { ...applied.dump, file: listing.file, family: 'ipv4' }, refused: applied.refused };
}

/** What a script's reader left out, for the grade. */
export function skippedNotes(listing: Listing): string[] {
  if (listing.skipped.length === 0) return [];
  const shown = listing.skipped
    .slice(0, 8)
    .map((k) => `${k.line} \`${k.text}\``)
    .join(', ');
  return [
    `${listing.file}: ${listing.skipped.length} line${listing.skipped.length === 1 ? '' : 's'} of the script are not iptables commands and were skipped (lines ${shown}${listing.skipped.length > 8 ? ', …' : ''}); its iptables commands were all taken, whatever their conditions`,
  ];
}

/** Targets the kernel allows only in some tables and hooks (x_tables checks them when the rule is added). */
const HOOKED: Readonly<Record<string, { table: string; hooks: readonly string[] }>> = {
  DNAT: { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  REDIRECT: { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  SNAT: { table: 'nat', hooks: ['POSTROUTING', 'INPUT'] },
  MASQUERADE: { table: 'nat', hooks: ['POSTROUTING'] },
};

/** Why the kernel refuses the rule in this table and chain, in its words (dmesg), or null. */
export function kernelRefusal(table: string, chain: string, rule: Rule): string | null {
  const target = rule.target?.name ?? '';
  const h = HOOKED[target];
  if (!h) return null;
  const why =
    table !== h.table
      ? `${target} target: only valid in ${h.table} table, not ${table}`
      : (BUILTIN_CHAINS[table] ?? []).includes(chain) && !h.hooks.includes(chain)
        ? `${target} target: used from hooks ${chain}, but only usable from ${h.hooks.join('/')}`
        : null;
  return why ? `"Invalid argument" (dmesg: x_tables: ip_tables: ${why})` : null;
}

function cloneDump(dump: Dump): Dump {
  return {
    ...dump,
    tables: dump.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: [...c.rules] })) })),
  };
}

function tableOf(dump: Dump, name: string): Table {
  let t = dump.tables.find((x) => x.name === name);
  if (!t) {
    t = {
      name,
      pos: { line: 0, col: 0 },
      chains: (BUILTIN_CHAINS[name] ?? []).map((c) => ({
        name: c,
        builtin: true,
        policy: 'ACCEPT',
        counters: null,
        pos: null,
        rules: [],
      })),
    };
    dump.tables.push(t);
  }
  return t;
}

function keyOf(rule: Rule): string {
  return ruleKey(formatRule(rule, 'ipv4'));
}

/** Runs listed operations on a copy of `dump`; what iptables would refuse is skipped and said. */
export function applyOperations(dump: Dump, listing: Listing): { dump: Dump; refused: string[] } {
  const out = cloneDump(dump);
  const refused: string[] = listing.refused.map(
    (r) => `${r.replace(/^([^:]+:\d+):\d+: /, '$1: iptables refuses it: ')}`,
  );
  const where = (o: Operation): string => `${listing.file}:${o.line}`;
  for (const o of listing.operations) {
    const table = tableOf(out, o.table);
    const chain = o.chain === null ? null : (table.chains.find((c) => c.name === o.chain) ?? null);
    const missing = (): void => {
      refused.push(
        `${where(o)}: iptables refuses it: table ${o.table} has no chain ${o.chain} ("No chain/target/match by that name")`,
      );
    };
    switch (o.kind) {
      case 'append':
        if (!chain) missing();
        else if (kernelRefusal(o.table, o.chain, o.rule))
          refused.push(`${where(o)}: iptables refuses it: ${kernelRefusal(o.table, o.chain, o.rule)}`);
        else chain.rules.push(o.rule);
        break;
      case 'insert': {
        if (!chain) {
          missing();
          break;
        }
        const at = (o.position ?? 1) - 1;
        if (kernelRefusal(o.table, o.chain, o.rule))
          refused.push(`${where(o)}: iptables refuses it: ${kernelRefusal(o.table, o.chain, o.rule)}`);
        else if (at > chain.rules.length)
          refused.push(
            `${where(o)}: iptables refuses it: ${o.chain} has ${chain.rules.length} rules, so it cannot insert at ${o.position} ("Index of insertion too big")`,
          );
        else chain.rules.splice(at, 0, o.rule);
        break;
      }
      case 'delete': {
        if (!chain) {
          missing();
          break;
        }
        const key = keyOf(o.rule);
        const i = chain.rules.findIndex((r) => keyOf(r) === key);
        if (i < 0)
          refused.push(
            `${where(o)}: iptables refuses it: ${o.table} ${o.chain} holds no rule '${formatRule(o.rule)}' ("Bad rule (does a matching rule exist in that chain?)")`,
          );
        else chain.rules.splice(i, 1);
        break;
      }
      case 'replace': {
        if (!chain) {
          missing();
          break;
        }
        const at = (o.position ?? 0) - 1;
        if (at < 0 || at >= chain.rules.length)
          refused.push(
            `${where(o)}: iptables refuses it: ${o.chain} has ${chain.rules.length} rules, none numbered ${o.position} ("Index of replacement too big")`,
          );
        else chain.rules.splice(at, 1, o.rule);
        break;
      }
      case 'delete-at':
        if (!chain) missing();
        else if (o.position < 1 || o.position > chain.rules.length)
          refused.push(
            `${where(o)}: iptables refuses it: ${o.chain} has ${chain.rules.length} rules, none numbered ${o.position} ("Index of deletion too big")`,
          );
        else chain.rules.splice(o.position - 1, 1);
        break;
      case 'policy':
        if (!chain || !chain.builtin)
          refused.push(`${where(o)}: iptables refuses it: only built-in chains have a policy`);
        else chain.policy = o.policy;
        break;
      case 'new-chain':
        if (chain) {
          if (o.format === 'commands')
            refused.push(`${where(o)}: iptables refuses it: chain ${o.chain} already exists ("Chain already exists")`);
        } else
          table.chains.push({
            name: o.chain,
            builtin: false,
            policy: null,
            counters: null,
            pos: null,
            rules: [],
          } satisfies Chain);
        break;
      case 'delete-chain':
        if (!chain || chain.builtin) missing();
        else table.chains.splice(table.chains.indexOf(chain), 1);
        break;
      case 'flush':
        for (const c of o.chain === null ? table.chains : chain ? [chain] : []) c.rules.length = 0;
        if (o.chain !== null && !chain) missing();
        break;
    }
  }
  return { dump: out, refused };
}
