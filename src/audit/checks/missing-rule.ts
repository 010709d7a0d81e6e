// missing-rule: a rule the engine derives for a running network (or libvirt's shared chain
// set-up) is not in the dump — the network does less, or something else, than its definition says.

import type { AuditContext } from '../context.js';
import type { ExpectedRule } from '../expected.js';
import { nftExpectedOf, nftInsertCommand } from '../nft-expected.js';
import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';
import { networkLabel, shellQuote } from '../words.js';
import { groupBy } from '../../model/lists.js';
import type { NetworkInfo } from '../../explain/attribute.js';

export const missingRule = defineCheck({
  id: 'missing-rule',
  severity: 'error',
  summary: 'a rule libvirt or Xen installs for a running network is not in the dump',
  docs: 'docs/checks/missing-rule.md',
  messages: {
    allMissing:
      '{{network}} is running but none of its {{count}} rules ({{eras}}) are in the dump: {{purposes}} — it is stopped, it runs on another host, or its rules were flushed (a firewall reload)',
    ruleMissing: '{{network}} is running but `{{rule}}`{{table}} is missing ({{purpose}}: {{why}})',
    setupMissing:
      "libvirt's shared set-up `{{rule}}`{{table}} is missing ({{why}}); the rules in its private chains are never reached",
    partial:
      "{{network}} has some of libvirt's rules ({{purposes}}) but lacks {{missing}}: a damaged or half-removed network (no definition given, so this is what the dump alone shows)",
    nftAllMissing:
      '{{network}} is running but none of its {{count}} nftables rules ({{era}}) are in {{where}}: it is stopped, it runs on another host, or its rules were flushed (`nft flush ruleset`, a firewall reload)',
    nftRuleMissing:
      '{{network}} is running but `{{rule}}` (table {{family}} libvirt_network, chain {{chain}}) is missing',
    nftJumpMissing:
      "libvirt's `{{rule}}` (table {{family}} libvirt_network, chain {{chain}}) is missing: the rules in chain {{target}} are never reached",
    restartOrInactive:
      'if it runs, restart it so libvirt re-creates its rules: `virsh net-destroy {{name}} && virsh net-start {{name}}`; if it is stopped, give it with --inactive instead of --net',
    restartNetwork:
      'restart the network so libvirt re-creates its rules in order: `virsh net-destroy {{name}} && virsh net-start {{name}}` (by hand: `{{command}}`)',
    restartDaemon:
      "restart libvirt's network daemon (`systemctl restart virtnetworkd` or `libvirtd`), which re-creates its chains and jumps (by hand: `{{command}}`)",
    nftRestartDaemon:
      "restart libvirt's network daemon (`systemctl restart virtnetworkd` or `libvirtd`) (by hand: `{{command}}`)",
    xenRerun:
      "if it runs, re-run Xen's scripts (`/etc/xen/scripts/network-{{mode}} start`, then `xl network-detach`/`network-attach` or restart the guests so vif-* adds its rules again); if it is stopped, give it with --inactive instead of --net",
    xenByHand: "add it as Xen's script does: `{{command}}` ({{adder}})",
    giveDefinition:
      "give the network's XML with --net to see exactly which rules are missing; restarting the network (`virsh net-destroy NAME && virsh net-start NAME`) re-creates them, undefining it and deleting the rest removes them",
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    const expected = ctx.expected();
    // A running network with none of its rules: one finding, not one per rule.
    const whole = new Set<string>();
    const byNetwork = new Map<string | null, { all: ExpectedRule[]; missing: number }>();
    for (const r of expected?.rules ?? []) {
      const entry = byNetwork.get(r.network) ?? { all: [], missing: 0 };
      entry.all.push(r);
      byNetwork.set(r.network, entry);
    }
    for (const r of expected?.missing ?? []) byNetwork.get(r.network)!.missing++;
    for (const n of ctx.networks) {
      if (!ctx.isRunning(n) || !expected) continue;
      const entry = byNetwork.get(n.name);
      if (!entry || entry.missing !== entry.all.length) continue;
      const mine = entry.all;
      whole.add(n.name);
      out.push(
        report(missingRule, {
          network: n.name,
          message: 'allMissing',
          fix: n.owner === 'xen' ? 'xenRerun' : 'restartOrInactive',
          data: {
            network: networkLabel(n),
            count: mine.length,
            eras: expected.eras.join(', '),
            purposes: [...new Set(mine.map((r) => r.purpose))].join(', '),
            name: shellQuote(n.name),
            mode: n.definition?.kind === 'xen' ? n.definition.mode : 'bridge',
          },
          location: ctx.definitionLocation(n),
        }),
      );
    }
    for (const r of expected?.missing ?? []) {
      if (r.network !== null && whole.has(r.network)) continue;
      const network = r.network === null ? null : runningNetwork(ctx, r.network);
      const command = r.argv.map(shellQuote).join(' ');
      const table = r.table === 'filter' ? '' : ` (${r.table} table)`;
      out.push(
        report(missingRule, {
          network: r.network,
          message: network ? 'ruleMissing' : 'setupMissing',
          fix: network?.owner === 'xen' ? 'xenByHand' : network ? 'restartNetwork' : 'restartDaemon',
          data: {
            network: network ? networkLabel(network) : '',
            rule: r.canonical,
            table,
            purpose: r.purpose,
            why: r.why,
            name: network ? shellQuote(network.name) : '',
            command,
            adder:
              r.purpose === 'xen-masquerade'
                ? 'the network-nat script adds it when it starts'
                : 'the vif script adds it when the guest interface comes online',
          },
          location: network ? ctx.definitionLocation(network) : null,
        }),
      );
    }
    out.push(...nftMissing(ctx));
    // Without definitions: a network the dump shows only part of a mode for.
    if (!ctx.given) {
      for (const n of ctx.networks) {
        if (n.owner !== 'libvirt') continue;
        const v = ctx.verdict(n);
        if (v.verdict !== 'partial' || v.missing.length === 0) continue;
        const first = ctx.rulesOf(n.name).find((e) => e.purpose !== null);
        out.push(
          report(missingRule, {
            severity: 'warning',
            network: n.name,
            message: 'partial',
            fix: 'giveDefinition',
            data: { network: networkLabel(n), purposes: v.purposes.join(', '), missing: v.missing.join(', ') },
            location: first ? ctx.location(first.rule) : null,
          }),
        );
      }
    }
    return out;
  },
});

/** libvirt's nftables backend: its rules for the running networks, against `table ip|ip6 libvirt_network`. */
function nftMissing(ctx: AuditContext): Finding[] {
  const expected = nftExpectedOf(ctx);
  if (!expected) return [];
  const out: Finding[] = [];
  const whole = new Set<string>();
  const byNetwork = groupBy(expected.rules, (r) => r.network);
  const missing = new Set(expected.missing);
  for (const n of ctx.networks) {
    if (!ctx.isRunning(n)) continue;
    const mine = byNetwork.get(n.name) ?? [];
    if (mine.length === 0 || !mine.every((r) => missing.has(r))) continue;
    whole.add(n.name);
    out.push(
      report(missingRule, {
        network: n.name,
        message: 'nftAllMissing',
        fix: 'restartOrInactive',
        data: {
          network: networkLabel(n),
          count: mine.length,
          era: expected.era,
          where: expected.tablePresent ? 'table libvirt_network' : 'the nft ruleset (it has no libvirt_network table)',
          name: shellQuote(n.name),
        },
        location: ctx.definitionLocation(n),
      }),
    );
  }
  for (const r of expected.missing) {
    if (r.network !== null && whole.has(r.network)) continue;
    const network = r.network === null ? null : runningNetwork(ctx, r.network);
    out.push(
      report(missingRule, {
        network: r.network,
        message: network ? 'nftRuleMissing' : 'nftJumpMissing',
        fix: network ? 'restartNetwork' : 'nftRestartDaemon',
        data: {
          network: network ? networkLabel(network) : '',
          rule: r.text,
          family: r.family,
          chain: r.chain,
          target: r.text.replace(/^.*jump /, ''),
          name: network ? shellQuote(network.name) : '',
          command: nftInsertCommand(r),
        },
        location: network ? ctx.definitionLocation(network) : null,
      }),
    );
  }
  return out;
}

/** The first running network of a name, from an index made once per context (not a search per missing rule). */
const runningByName = new WeakMap<AuditContext, Map<string, NetworkInfo>>();
function runningNetwork(ctx: AuditContext, name: string): NetworkInfo | null {
  let index = runningByName.get(ctx);
  if (!index) {
    index = new Map();
    for (const n of ctx.networks) if (ctx.isRunning(n) && !index.has(n.name)) index.set(n.name, n);
    runningByName.set(ctx, index);
  }
  return index.get(name) ?? null;
}
