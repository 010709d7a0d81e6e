// nft rules, statements and expressions in words for traces, findings and "unknown because of …"
// sentences: nft's own spelling, from the canonical printer (src/write/nft-text.ts).

import type { NftExpr, NftFamily, NftRule, NftStatement } from '../model/nft.js';
import { formatExpr, formatNftRule, formatStatement } from './nft-text.js';

export function nftExprText(e: NftExpr, family: NftFamily = 'inet'): string {
  return formatExpr(e, { family, type: null, mapType: null });
}

export function nftStatementText(s: NftStatement, family: NftFamily = 'inet'): string {
  return formatStatement(s, family);
}

/** The rule as nft lists it inside its chain (counters as read). */
export function nftRuleText(rule: NftRule): string {
  return formatNftRule(rule);
}
