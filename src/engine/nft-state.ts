// The nftables state the compile engine builds while it runs libvirt's nft commands: tables of
// chains of rules, each rule kept as the statement words libvirt passed to `nft insert rule`.
// (The nftables model every reader shares is src/model/nft.ts; src/audit/nft-compiled.ts converts.)

import type { NftFamily as NftTableFamily } from '../model/nft.js';

export interface NftState {
  readonly tables: NftStateTable[];
}

export interface NftStateTable {
  readonly family: NftTableFamily;
  readonly name: string;
  /** In creation order, as `nft list ruleset` prints them. */
  readonly chains: NftStateChain[];
}

export interface NftStateChain {
  readonly name: string;
  /** `{ type filter hook forward priority 0; policy accept; }` for base chains, null for regular ones. */
  readonly spec: string | null;
  /** Top to bottom. */
  readonly rules: NftStateRule[];
}

export interface NftStateRule {
  /** The statement as words, e.g. `iif virbr0 counter reject`. */
  readonly statement: readonly string[];
}

export function findNftStateTable(ruleset: NftState, family: NftTableFamily, name: string): NftStateTable | undefined {
  return ruleset.tables.find((t) => t.family === family && t.name === name);
}
