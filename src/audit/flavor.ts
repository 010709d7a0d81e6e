// Which era of libvirt rules a dump holds, when the user does not say: LIBVIRT_* chains mean
// 5.1+ (iptables backend), libvirt's rules in the built-in chains mean the legacy era, and
// none at all while networks run means they live elsewhere (10.4+ nftables backend).

import type { Explained } from '../explain/attribute.js';
import { LIBVIRT_CHAINS } from '../explain/classify.js';
import type { Flavor } from '../engine/program.js';
import type { Dump } from '../model/dump.js';
import type { NftRuleset } from '../model/nft.js';

export interface FlavorInfo {
  /** The libvirt flavour the audit compares against; null when nothing tells (no libvirt rules, no networks). */
  readonly flavor: Extract<Flavor, 'libvirt' | 'libvirt-legacy' | 'libvirt-nft'> | null;
  readonly source: 'given' | 'detected' | 'none';
  /** How it was decided, for people. */
  readonly reason: string;
  /** Both eras' rules are present (a host upgraded across 5.1 without a restart of the networks). */
  readonly mixed: boolean;
}

/** iptables-nft-save's note for a table it cannot show, e.g. libvirt's own nft table. */
export const NFT_TABLE_NOTE = /Table `([^'`]+)' is incompatible, use 'nft' tool/;

export function detectFlavor(
  dumps: readonly Dump[],
  explained: readonly Explained[],
  given: Flavor | undefined,
  runningLibvirt: number,
  nft: NftRuleset | null = null,
  emptyFiles: readonly string[] = [],
): FlavorInfo {
  const privateChains = dumps.some((d) => d.tables.some((t) => t.chains.some((c) => LIBVIRT_CHAINS.has(c.name))));
  let inPrivate = 0;
  let inBuiltin = 0;
  for (let i = 0; i < explained.length; i++) {
    const e = explained[i]!;
    if (e.owner !== 'libvirt' || e.purpose === null || e.purpose === 'chain-setup') continue;
    if (LIBVIRT_CHAINS.has(e.rule.chain)) inPrivate++;
    else inBuiltin++;
  }
  const mixed = inPrivate > 0 && inBuiltin > 0;
  const nftTable = nft?.tables.find((t) => (t.family === 'ip' || t.family === 'ip6') && t.name === 'libvirt_network');
  if (dumps.length === 0 && !nft && emptyFiles.length > 0) {
    const files = `${emptyFiles.join(', ')} ${emptyFiles.length === 1 ? 'is' : 'are'} empty`;
    // Running networks get rules from libvirt: an empty iptables-save means they are elsewhere.
    if (runningLibvirt > 0 && given === undefined) {
      return {
        flavor: 'libvirt-nft',
        source: 'detected',
        reason: `no rules at all while ${runningLibvirt} network(s) that get rules are running: ${files}, so their rules are elsewhere, most likely in libvirt 10.4+'s nftables backend (give \`nft list ruleset\` too, or --flavor to say otherwise)`,
        mixed: false,
      };
    }
    if (given === undefined)
      return {
        flavor: null,
        source: 'none',
        reason: `no rules at all: ${files} (ip6tables-save and iptables-save print nothing while no table is in use)`,
        mixed: false,
      };
  }
  if (dumps.length === 0 && !nft && emptyFiles.length === 0)
    return {
      flavor: null,
      source: 'none',
      reason: 'no dump given: only the network definitions are audited',
      mixed: false,
    };
  if (given === 'libvirt' || given === 'libvirt-legacy' || given === 'libvirt-nft')
    return { flavor: given, source: 'given', reason: `--flavor ${given}`, mixed };
  if (privateChains || inPrivate > 0) {
    return {
      flavor: 'libvirt',
      source: 'detected',
      reason: `LIBVIRT_* chains in the dump: libvirt 5.1+ with the iptables backend${mixed ? ' (legacy rules in the built-in chains too)' : ''}`,
      mixed,
    };
  }
  if (nftTable && inBuiltin === 0) {
    return {
      flavor: 'libvirt-nft',
      source: 'detected',
      reason: `the nft ruleset holds table ${nftTable.family} libvirt_network: libvirt 10.4+ with the nftables backend`,
      mixed,
    };
  }
  if (inBuiltin > 0)
    return {
      flavor: 'libvirt-legacy',
      source: 'detected',
      reason: "libvirt's rules in the built-in chains (INPUT, FORWARD, POSTROUTING): libvirt before 5.1",
      mixed,
    };
  const nftNote = dumps.flatMap((d) => d.comments).find((c) => NFT_TABLE_NOTE.exec(c.text)?.[1] === 'libvirt_network');
  if (nftNote)
    return {
      flavor: 'libvirt-nft',
      source: 'detected',
      reason:
        "iptables-nft-save says table 'libvirt_network' is there but cannot show it: libvirt 10.4+ with the nftables backend",
      mixed,
    };
  if (runningLibvirt > 0) {
    return {
      flavor: 'libvirt-nft',
      source: 'detected',
      reason: `no libvirt rules in the dump while ${runningLibvirt} network(s) that get rules are running: most likely libvirt 10.4+ with the nftables backend (give --flavor to say otherwise)`,
      mixed,
    };
  }
  const empty =
    !(nft && nft.tables.length > 0) &&
    dumps.every((d) => d.tables.every((t) => t.chains.every((c) => c.rules.length === 0)));
  if (empty)
    return {
      flavor: null,
      source: 'none',
      reason:
        'no rules at all: the dump is empty (ip6tables-save and iptables-save print nothing while no table is in use)',
      mixed,
    };
  return {
    flavor: null,
    source: 'none',
    reason: 'no libvirt rules in the dump and no running libvirt networks given',
    mixed,
  };
}
