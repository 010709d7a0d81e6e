// rules-not-in-dump: networks run but the dump holds none of their rules. libvirt 10.4+
// with its nftables backend keeps them in the nft table `libvirt_network`, which
// iptables-save never shows; iptables-legacy tables hide from iptables-nft-save the same way.

import type { Check } from '../context.js';
import { finding, type Finding } from '../types.js';
import { NFT_TABLE_NOTE } from '../flavor.js';
import { networkLabel } from '../words.js';
import { installsRules } from '../../model/network.js';

const LEGACY_NOTE = /iptables-legacy tables present/;

export const rulesNotInDump: Check = {
  id: 'rules-not-in-dump',
  severity: 'warning',
  summary: "running networks' rules are somewhere iptables-save does not show (nftables)",
  docs: 'docs/checks/rules-not-in-dump.md',
  run(ctx) {
    const out: Finding[] = [];
    const where = "libvirt 10.4+ with its nftables backend (upstream's first choice; Debian's build prefers iptables; `firewall_backend` in /etc/libvirt/network.conf decides) keeps them in the nft table `libvirt_network`, which iptables-save never shows (and iptables-nft may print nft rules it cannot express wrongly)";
    // Given the nft ruleset, libvirt's table is audited where it is (missing-rule, stale-rules).
    const seen = ctx.nft?.tables.some((t) => t.name === 'libvirt_network') ?? false;
    // Only empty inputs (iptables-save of a host with no iptables table prints nothing): say so.
    const empty = ctx.dumps.length === 0 && !ctx.nft ? ctx.emptyInputs : [];
    if (ctx.flavor.flavor === 'libvirt-nft' && !seen) {
      for (const n of ctx.networks) {
        const def = n.definition;
        if (!ctx.isRunning(n) || def?.kind !== 'libvirt' || !installsRules(def.forward.mode)) continue;
        if (ctx.rulesOf(n.name).some((e) => e.purpose !== null && e.owner === 'libvirt')) continue;
        out.push(
          finding(rulesNotInDump, {
            severity: ctx.flavor.source === 'given' ? 'info' : 'warning',
            network: n.name,
            message: empty.length > 0
              ? `${networkLabel(n)} is running but ${empty.join(', ')} ${empty.length === 1 ? 'is' : 'are'} empty (no iptables table at all), so its rules are elsewhere: ${where}. This audit cannot see them: give \`nft list ruleset\` (or \`nft -j list ruleset\`) with the dumps`
              : `${networkLabel(n)} is running but none of its rules are in this dump: ${where}. This audit cannot see them${ctx.flavor.source === 'given' ? '' : ` (${ctx.flavor.reason})`}`,
            fix: 'audit what nftables holds: `nft list table ip libvirt_network` (or `nft list ruleset`); if the host should use the iptables backend, set `firewall_backend = "iptables"` in /etc/libvirt/network.conf and restart virtnetworkd',
            location: ctx.definitionLocation(n),
          }),
        );
      }
    }
    // Nothing read and nothing given: "no findings" would claim a host virtables never saw.
    if (empty.length > 0 && ctx.networks.length === 0) {
      const files = empty.map((f) => `\`${f}\``).join(', ');
      out.push(
        finding(rulesNotInDump, {
          network: null,
          message: `${files} ${empty.length === 1 ? 'is' : 'are'} empty (no iptables table at all) and no network was given, so there is nothing here to audit. If networks run on this host, their rules are elsewhere: ${where}`,
          fix: 'audit what nftables holds too: `nft list ruleset > host.nft` and `virtables audit DUMP host.nft` (with `--net` for the networks that should run)',
          location: { file: empty[0] === 'standard input' ? '-' : empty[0]!, line: 1, col: 1, text: '' },
        }),
      );
    }
    for (const dump of ctx.dumps) {
      for (const c of dump.comments) {
        const table = NFT_TABLE_NOTE.exec(c.text)?.[1];
        if (table === 'libvirt_network' && out.length === 0 && !seen) {
          out.push(finding(rulesNotInDump, { severity: 'info', network: null, message: `the dump says table \`${table}\` exists but cannot be shown: ${where}`, fix: 'audit it with `nft list table ip libvirt_network`', location: { file: dump.file, line: c.pos.line, col: c.pos.col, text: c.text } }));
        }
        if (LEGACY_NOTE.test(c.text)) {
          out.push(finding(rulesNotInDump, { severity: 'warning', network: null, message: 'iptables-nft-save warns that iptables-legacy tables exist too: their rules (possibly libvirt\'s or Xen\'s) are not in this dump, yet the kernel applies them', fix: 'dump them as well: `iptables-legacy-save` (and audit that file), or move everything to one backend', location: { file: dump.file, line: c.pos.line, col: c.pos.col, text: c.text } }));
        }
      }
    }
    return out;
  },
};
