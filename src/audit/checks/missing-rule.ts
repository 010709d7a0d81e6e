// missing-rule: a rule the engine derives for a running network (or libvirt's shared chain
// set-up) is not in the dump — the network does less, or something else, than its definition says.

import type { AuditContext } from '../context.js';
import type { ExpectedRule } from '../expected.js';
import { nftExpectedOf, nftInsertCommand } from '../nft-expected.js';
import type { Check } from '../context.js';
import { finding, type Finding } from '../types.js';
import { networkLabel, shellQuote } from '../words.js';

export const missingRule: Check = {
  id: 'missing-rule',
  severity: 'error',
  summary: 'a rule libvirt or Xen installs for a running network is not in the dump',
  docs: 'docs/checks/missing-rule.md',
  run(ctx) {
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
        finding(missingRule, {
          network: n.name,
          message: `${networkLabel(n)} is running but none of its ${mine.length} rules (${expected.eras.join(', ')}) are in the dump: ${[...new Set(mine.map((r) => r.purpose))].join(', ')} — it is stopped, it runs on another host, or its rules were flushed (a firewall reload)`,
          fix: n.owner === 'xen'
            ? `if it runs, re-run Xen's scripts (\`/etc/xen/scripts/network-${n.definition?.kind === 'xen' ? n.definition.mode : 'bridge'} start\`, then \`xl network-detach\`/\`network-attach\` or restart the guests so vif-* adds its rules again); if it is stopped, give it with --inactive instead of --net`
            : `if it runs, restart it so libvirt re-creates its rules: \`virsh net-destroy ${shellQuote(n.name)} && virsh net-start ${shellQuote(n.name)}\`; if it is stopped, give it with --inactive instead of --net`,
          location: ctx.definitionLocation(n),
        }),
      );
    }
    for (const r of expected?.missing ?? []) {
      if (r.network !== null && whole.has(r.network)) continue;
      const network = r.network === null ? null : (ctx.networks.find((n) => n.name === r.network && ctx.isRunning(n)) ?? null);
      const command = r.argv.map(shellQuote).join(' ');
      const table = r.table === 'filter' ? '' : ` (${r.table} table)`;
      out.push(
        finding(missingRule, {
          network: r.network,
          message: network
            ? `${networkLabel(network)} is running but \`${r.canonical}\`${table} is missing (${r.purpose}: ${r.why})`
            : `libvirt's shared set-up \`${r.canonical}\`${table} is missing (${r.why}); the rules in its private chains are never reached`,
          fix: network?.owner === 'xen'
            ? `add it as Xen's script does: \`${command}\` (the ${r.purpose === 'xen-masquerade' ? 'network-nat script adds it when it starts' : 'vif script adds it when the guest interface comes online'})`
            : network
            ? `restart the network so libvirt re-creates its rules in order: \`virsh net-destroy ${shellQuote(network.name)} && virsh net-start ${shellQuote(network.name)}\` (by hand: \`${command}\`)`
            : `restart libvirt's network daemon (\`systemctl restart virtnetworkd\` or \`libvirtd\`), which re-creates its chains and jumps (by hand: \`${command}\`)`,
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
          finding(missingRule, {
            severity: 'warning',
            network: n.name,
            message: `${networkLabel(n)} has some of libvirt's rules (${v.purposes.join(', ')}) but lacks ${v.missing.join(', ')}: a damaged or half-removed network (no definition given, so this is what the dump alone shows)`,
            fix: `give the network's XML with --net to see exactly which rules are missing; restarting the network (\`virsh net-destroy NAME && virsh net-start NAME\`) re-creates them, undefining it and deleting the rest removes them`,
            location: first ? ctx.location(first.rule) : null,
          }),
        );
      }
    }
    return out;
  },
};

/** libvirt's nftables backend: its rules for the running networks, against `table ip|ip6 libvirt_network`. */
function nftMissing(ctx: AuditContext): Finding[] {
  const expected = nftExpectedOf(ctx);
  if (!expected) return [];
  const out: Finding[] = [];
  const whole = new Set<string>();
  for (const n of ctx.networks) {
    if (!ctx.isRunning(n)) continue;
    const mine = expected.rules.filter((r) => r.network === n.name);
    if (mine.length === 0 || !mine.every((r) => expected.missing.includes(r))) continue;
    whole.add(n.name);
    out.push(
      finding(missingRule, {
        network: n.name,
        message: `${networkLabel(n)} is running but none of its ${mine.length} nftables rules (${expected.era}) are in ${expected.tablePresent ? 'table libvirt_network' : 'the nft ruleset (it has no libvirt_network table)'}: it is stopped, it runs on another host, or its rules were flushed (\`nft flush ruleset\`, a firewall reload)`,
        fix: `if it runs, restart it so libvirt re-creates its rules: \`virsh net-destroy ${shellQuote(n.name)} && virsh net-start ${shellQuote(n.name)}\`; if it is stopped, give it with --inactive instead of --net`,
        location: ctx.definitionLocation(n),
      }),
    );
  }
  for (const r of expected.missing) {
    if (r.network !== null && whole.has(r.network)) continue;
    const network = r.network === null ? null : (ctx.networks.find((n) => n.name === r.network && ctx.isRunning(n)) ?? null);
    out.push(
      finding(missingRule, {
        network: r.network,
        message: network
          ? `${networkLabel(network)} is running but \`${r.text}\` (table ${r.family} libvirt_network, chain ${r.chain}) is missing`
          : `libvirt's \`${r.text}\` (table ${r.family} libvirt_network, chain ${r.chain}) is missing: the rules in chain ${r.text.replace(/^.*jump /, '')} are never reached`,
        fix: network
          ? `restart the network so libvirt re-creates its rules in order: \`virsh net-destroy ${shellQuote(network.name)} && virsh net-start ${shellQuote(network.name)}\` (by hand: \`${nftInsertCommand(r)}\`)`
          : `restart libvirt's network daemon (\`systemctl restart virtnetworkd\` or \`libvirtd\`) (by hand: \`${nftInsertCommand(r)}\`)`,
        location: network ? ctx.definitionLocation(network) : null,
      }),
    );
  }
  return out;
}
