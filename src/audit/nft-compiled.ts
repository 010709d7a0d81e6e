// The compile engine's nft state (statement words, src/engine/nft-state.ts) in the nft model every
// reader shares (src/model/nft.ts): through nft's own text, which write/nft.ts prints exactly as
// `nft list ruleset` does. So compiled rules and rules read from a host compare by content.
// (Here, above both engine and write, so neither folder imports the other's way.)

import { parseNftRule, parseNftText } from '../../grammar/nft.js';
import type { NftRule, NftRuleset } from '../model/nft.js';
import { formatNftRuleset, formatNftStatement } from '../write/nft.js';
import type { NftState } from '../engine/nft-state.js';
import type { Command } from '../engine/program.js';

/** The ruleset a compiled program leaves (`applyProgram(…).nft`) as the nft model. */
export function nftModelOf(state: NftState, file = 'compiled'): NftRuleset {
  return parseNftText(formatNftRuleset(state), { file });
}

/** The rule an `nft insert rule` command adds, as the nft model holds it; null for other commands. */
export function nftRuleOf(command: Command): NftRule | null {
  const e = command.effect;
  if (e.kind !== 'nft-insert') return null;
  const rule = parseNftRule(formatNftStatement(e.statement, e.family), e.family, command.argv.join(' '));
  return { ...rule, table: e.table, chain: e.chain };
}
