// One host's firewall as the dumps given for it show it: an iptables-save per family and the nft
// ruleset. Tables iptables-nft manages appear in both iptables-save and nft; they are counted once:
// their rules from iptables-save (nft's text only translates them, its JSON hides them in `xt`),
// their hooks, priorities and registration order from nft.

import type { Dump, Family, Table } from './dump.js';
import type { NftRuleset, NftTable } from './nft.js';

/** What an input file was recognised as (by content). */
export type HostInputKind = 'iptables-save' | 'ip6tables-save' | 'nft-text' | 'nft-json' | 'listing' | 'empty';

export interface HostInput {
  /** As given (`-` for standard input), or DIR/FILE for a file found in a directory. */
  readonly file: string;
  readonly kind: HostInputKind;
}

export interface Host {
  /** How messages name the host: its directory, or its files. */
  readonly name: string;
  /** Every input read for this host, with what it was; empty files too (they hold no tables). */
  readonly inputs: readonly HostInput[];
  /** The iptables-save (or ip6tables-save) dump of each family; null when none was given. */
  readonly ipv4: Dump | null;
  readonly ipv6: Dump | null;
  /** The nft ruleset (the tables of every nft input, in order); null when none was given. */
  readonly nft: NftRuleset | null;
}

/** The host's iptables dumps, IPv4 first. */
export function hostDumps(host: Host): Dump[] {
  return [host.ipv4, host.ipv6].filter((d): d is Dump => d !== null);
}

/** Names iptables uses for its tables, and the base chains each registers. */
const IPTABLES_CHAINS: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

const familyOf = (t: NftTable): Family | null => (t.family === 'ip' ? 'ipv4' : t.family === 'ip6' ? 'ipv6' : null);

/**
 * Does this nft table look like one iptables-nft made: an iptables table name, and base chains
 * only under iptables' built-in names (or rules holding iptables-nft's xt statements)?
 */
export function looksIptablesNft(t: NftTable): boolean {
  if (familyOf(t) === null) return false;
  if (t.chains.some((c) => c.rules.some((r) => r.statements.some((s) => s.kind === 'xt')))) return true;
  const builtins = IPTABLES_CHAINS[t.name];
  const bases = t.chains.filter((c) => c.base !== null);
  return builtins !== undefined && bases.length > 0 && bases.every((c) => builtins.includes(c.name));
}

/**
 * The iptables-save table holding the rules of an nft table iptables-nft manages; null when
 * iptables-save does not have it.
 */
export function iptablesTableOf(host: Host, t: NftTable): { readonly dump: Dump; readonly table: Table } | null {
  const family = familyOf(t);
  const dump = family === 'ipv4' ? host.ipv4 : family === 'ipv6' ? host.ipv6 : null;
  const table = dump?.tables.find((x) => x.name === t.name);
  return dump && table ? { dump, table } : null;
}

/** The nft tables whose rules are read from nft: all but those iptables-save already holds. */
export function nftOnlyTables(host: Host): NftTable[] {
  return host.nft?.tables.filter((t) => !(t.owner === 'iptables-nft' && iptablesTableOf(host, t))) ?? [];
}

/** The host has no table at all: every input was empty (or held no table). */
export function hostIsEmpty(host: Host): boolean {
  return hostDumps(host).every((d) => d.tables.length === 0) && (host.nft?.tables.length ?? 0) === 0;
}

/**
 * Assembles a host: marks the nft tables iptables-nft manages (seen in its iptables-save, or shaped
 * like one) so that each table is counted once.
 */
export function assembleHost(
  name: string,
  inputs: readonly HostInput[],
  dumps: readonly Dump[],
  nft: readonly NftRuleset[],
): Host {
  const ipv4 = dumps.find((d) => (d.family ?? 'ipv4') === 'ipv4') ?? null;
  const ipv6 = dumps.find((d) => d.family === 'ipv6') ?? null;
  const ruleset: NftRuleset | null =
    nft.length === 0
      ? null
      : nft.length === 1
        ? nft[0]!
        : {
            file: nft.map((r) => r.file).join(' + '),
            syntax: nft[0]!.syntax,
            nftVersion: nft[0]!.nftVersion,
            tables: nft.flatMap((r) => r.tables),
          };
  const host: Host = { name, inputs, ipv4, ipv6, nft: ruleset };
  for (const t of ruleset?.tables ?? []) {
    // A legacy iptables table of the same name is another table; iptables-nft-save says `(nf_tables)`.
    const same = iptablesTableOf(host, t);
    const nftSave = same?.dump.comments.some((c) => c.text.includes('nf_tables')) ?? false;
    if (looksIptablesNft(t) || nftSave) t.owner = 'iptables-nft';
  }
  return host;
}
