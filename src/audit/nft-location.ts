// Where an nft element is, for findings: its line in nft text, or (nft -j prints one line) line 1
// with the element's path. `order` is its place in the listing, the same for text and JSON, so
// findings sort alike whichever form was given.

import { isTextPos, type NftChain, type NftRule, type NftRuleset } from '../model/nft.js';
import { nftRuleText } from '../write/nft-rule.js';
import type { Location } from './types.js';

const orders = new WeakMap<NftRuleset, Map<NftRule | NftChain, number>>();

function orderOf(ruleset: NftRuleset, element: NftRule | NftChain): number {
  let map = orders.get(ruleset);
  if (!map) {
    map = new Map();
    let n = 0;
    for (const t of ruleset.tables) {
      for (const c of t.chains) {
        map.set(c, n++);
        for (const r of c.rules) map.set(r, n++);
      }
    }
    orders.set(ruleset, map);
  }
  return map.get(element) ?? 0;
}

function at(ruleset: NftRuleset, element: NftRule | NftChain, text: string): Location {
  const pos = element.pos;
  const order = orderOf(ruleset, element);
  return isTextPos(pos)
    ? { file: ruleset.file, line: pos.line, col: pos.col, text, order }
    : { file: ruleset.file, line: 1, text: `${pos.path}: ${text}`, order };
}

export function nftRuleLocation(ruleset: NftRuleset, rule: NftRule): Location {
  return at(ruleset, rule, nftRuleText(rule));
}

export function nftChainLocation(ruleset: NftRuleset, chain: NftChain): Location {
  const b = chain.base;
  return at(
    ruleset,
    chain,
    b
      ? `chain ${chain.name} { type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy}; }`
      : `chain ${chain.name}`,
  );
}
