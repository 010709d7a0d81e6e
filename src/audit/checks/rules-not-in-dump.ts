// rules-not-in-dump: networks run but the dump holds none of their rules. libvirt 10.4+
// with its nftables backend keeps them in the nft table `libvirt_network`, which
// iptables-save never shows; iptables-legacy tables hide from iptables-nft-save the same way.

import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';
import { NFT_TABLE_NOTE } from '../flavor.js';
import { networkLabel } from '../words.js';
import { installsRules } from '../../model/network.js';

const LEGACY_NOTE = /iptables-legacy tables present/;

/** Where the rules are instead, in every message that says they are elsewhere. */
const WHERE =
  "libvirt 10.4+ with its nftables backend (upstream's first choice; Debian's build prefers iptables; `firewall_backend` in /etc/libvirt/network.conf decides) keeps them in the nft table `libvirt_network`, which iptables-save never shows (and iptables-nft may print nft rules it cannot express wrongly)";

export const rulesNotInDump = defineCheck({
  id: 'rules-not-in-dump',
  severity: 'warning',
  summary: "running networks' rules are somewhere iptables-save does not show (nftables)",
  docs: 'docs/checks/rules-not-in-dump.md',
  messages: {
    emptyInputs: `{{network}} is running but {{files}} {{are}} empty (no iptables table at all), so its rules are elsewhere: ${WHERE}. This audit cannot see them: give \`nft list ruleset\` (or \`nft -j list ruleset\`) with the dumps`,
    notInDump: `{{network}} is running but none of its rules are in this dump: ${WHERE}. This audit cannot see them{{reason}}`,
    nothingRead: `{{files}} {{are}} empty (no iptables table at all) and no network was given, so there is nothing here to audit. If networks run on this host, their rules are elsewhere: ${WHERE}`,
    tableNote: `the dump says table \`{{table}}\` exists but cannot be shown: ${WHERE}`,
    legacyNote:
      "iptables-nft-save warns that iptables-legacy tables exist too: their rules (possibly libvirt's or Xen's) are not in this dump, yet the kernel applies them",
    auditNft:
      'audit what nftables holds: `nft list table ip libvirt_network` (or `nft list ruleset`); if the host should use the iptables backend, set `firewall_backend = "iptables"` in /etc/libvirt/network.conf and restart virtnetworkd',
    auditNftToo:
      'audit what nftables holds too: `nft list ruleset > host.nft` and `virtables audit DUMP host.nft` (with `--net` for the networks that should run)',
    auditTable: 'audit it with `nft list table ip libvirt_network`',
    dumpLegacy: 'dump them as well: `iptables-legacy-save` (and audit that file), or move everything to one backend',
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
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
          report(rulesNotInDump, {
            severity: ctx.flavor.source === 'given' ? 'info' : 'warning',
            network: n.name,
            message: empty.length > 0 ? 'emptyInputs' : 'notInDump',
            fix: 'auditNft',
            data: {
              network: networkLabel(n),
              files: empty.join(', '),
              are: empty.length === 1 ? 'is' : 'are',
              reason: ctx.flavor.source === 'given' ? '' : ` (${ctx.flavor.reason})`,
            },
            location: ctx.definitionLocation(n),
          }),
        );
      }
    }
    // Nothing read and nothing given: "no findings" would claim a host virtables never saw.
    if (empty.length > 0 && ctx.networks.length === 0) {
      out.push(
        report(rulesNotInDump, {
          network: null,
          message: 'nothingRead',
          fix: 'auditNftToo',
          data: { files: empty.map((f) => `\`${f}\``).join(', '), are: empty.length === 1 ? 'is' : 'are' },
          location: { file: empty[0] === 'standard input' ? '-' : empty[0]!, line: 1, col: 1, text: '' },
        }),
      );
    }
    for (const dump of ctx.dumps) {
      for (const c of dump.comments) {
        const table = NFT_TABLE_NOTE.exec(c.text)?.[1];
        if (table === 'libvirt_network' && out.length === 0 && !seen) {
          out.push(
            report(rulesNotInDump, {
              severity: 'info',
              network: null,
              message: 'tableNote',
              fix: 'auditTable',
              data: { table },
              location: { file: dump.file, line: c.pos.line, col: c.pos.col, text: c.text },
            }),
          );
        }
        if (LEGACY_NOTE.test(c.text)) {
          out.push(
            report(rulesNotInDump, {
              severity: 'warning',
              network: null,
              message: 'legacyNote',
              fix: 'dumpLegacy',
              location: { file: dump.file, line: c.pos.line, col: c.pos.col, text: c.text },
            }),
          );
        }
      }
    }
    return out;
  },
});
