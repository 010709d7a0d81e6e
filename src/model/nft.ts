// The nftables state libvirt's nftables backend builds: tables of chains of rules, each rule
// kept as the statement words libvirt passed to `nft insert rule`.

export type NftTableFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export interface NftRuleset {
  readonly tables: NftTable[];
}

export interface NftTable {
  readonly family: NftTableFamily;
  readonly name: string;
  /** In creation order, as `nft list ruleset` prints them. */
  readonly chains: NftChain[];
}

export interface NftChain {
  readonly name: string;
  /** `{ type filter hook forward priority 0; policy accept; }` for base chains, null for regular ones. */
  readonly spec: string | null;
  /** Top to bottom. */
  readonly rules: NftRule[];
}

export interface NftRule {
  /** The statement as words, e.g. `iif virbr0 counter reject`. */
  readonly statement: readonly string[];
}

export function findNftTable(ruleset: NftRuleset, family: NftTableFamily, name: string): NftTable | undefined {
  return ruleset.tables.find((t) => t.family === family && t.name === name);
}
