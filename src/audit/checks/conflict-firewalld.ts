// conflict-firewalld: firewalld's zone chains stop traffic a virtual network needs (its bridge
// not in the `libvirt` zone), or a firewalld reload removed libvirt's rules (libvirt before
// 6.4 did not put them back).

import { LIBVIRT_CHAINS } from '../../explain/classify.js';
import { blockedBy, networkLabel } from '../conflict.js';
import { present } from '../outcomes.js';
import { defineCheck } from '../context.js';
import { fill, report, type Finding } from '../types.js';
import { installsRules } from '../../model/network.js';

export const conflictFirewalld = defineCheck({
  id: 'conflict-firewalld',
  severity: 'warning',
  summary: "firewalld's zones stop traffic the virtual networks need, or its reload removed libvirt's rules",
  docs: 'docs/checks/conflict-firewalld.md',
  messages: {
    rulesGone:
      "{{network}} is running, firewalld manages this host's iptables and none of the network's rules{{chains}} are here: a `firewall-cmd --reload` removes them and libvirt before 6.4 does not add them back (or they live in nftables: see rules-not-in-dump)",
    libvirtZone:
      "put the bridge in libvirt's zone: `firewall-cmd --permanent --zone=libvirt --change-interface={{bridge}} && firewall-cmd --reload`",
    restartAfterReload:
      "restart libvirt's network daemon after firewalld reloads (`systemctl restart virtnetworkd` or `libvirtd`), or upgrade to libvirt 6.4+, which re-adds its rules on firewalld reload",
  },
  run(ctx): Finding[] {
    if (!present(ctx, 'firewalld')) return [];
    const out: Finding[] = blockedBy(conflictFirewalld, ctx, 'firewalld', (bridge) =>
      fill(conflictFirewalld.messages.libvirtZone, { bridge }),
    );
    // LIBVIRT_* chains gone (or empty) while networks run: firewalld's reload flushed them.
    if (ctx.flavor.flavor === 'libvirt-nft' && ctx.flavor.source === 'detected') {
      const hasChains = ctx.dumps.some((d) => d.tables.some((t) => t.chains.some((c) => LIBVIRT_CHAINS.has(c.name))));
      for (const n of ctx.networks) {
        if (!ctx.isRunning(n) || n.definition?.kind !== 'libvirt' || !installsRules(n.definition.forward.mode))
          continue;
        // Its rules in libvirt's own nft table: firewalld's reload flushes only firewalld's table.
        if (
          ctx.rulesOf(n.name).some((e) => e.purpose !== null) ||
          ctx.nftRulesOf(n.name).some((e) => e.owner === 'libvirt' && e.purpose !== null)
        )
          continue;
        out.push(
          report(conflictFirewalld, {
            network: n.name,
            message: 'rulesGone',
            fix: 'restartAfterReload',
            data: { network: networkLabel(n), chains: hasChains ? '' : " (nor libvirt's LIBVIRT_* chains)" },
            location: ctx.definitionLocation(n),
          }),
        );
      }
    }
    return out;
  },
});
