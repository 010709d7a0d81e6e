// `--format json` for compile: the program with every command's argv, effect, network,
// purpose and reason (documented in docs/commands/compile.md).

import type { Command, Program } from '../engine/program.js';
import { formatRule } from './save.js';

function effectJson(command: Command) {
  const e = command.effect;
  switch (e.kind) {
    case 'insert':
    case 'append':
      return {
        kind: e.kind,
        family: e.family,
        table: e.table,
        chain: e.chain,
        ...(e.kind === 'insert' ? { position: e.position } : {}),
        rule: formatRule(e.rule, e.family),
      };
    case 'new-chain':
    case 'flush':
      return { kind: e.kind, family: e.family, table: e.table, chain: e.chain };
    case 'policy':
      return { kind: e.kind, family: e.family, table: e.table, chain: e.chain, policy: e.policy };
    case 'refused':
      return { kind: e.kind, reason: e.reason };
    case 'nft-add-table':
      return { kind: e.kind, family: e.family, table: e.table };
    case 'nft-add-chain':
      return { kind: e.kind, family: e.family, table: e.table, chain: e.chain, spec: e.spec };
    case 'nft-insert':
      return { kind: e.kind, family: e.family, table: e.table, chain: e.chain, statement: e.statement.join(' ') };
    case 'none':
      return { kind: e.kind };
  }
}

export function programToJson(program: Program, options: { setup?: boolean } = {}) {
  return {
    flavor: program.flavor,
    era: program.era,
    networks: program.networks,
    notes: program.notes,
    commands: program.commands
      .filter((c) => options.setup === true || !c.setup)
      .map((c) => ({
        network: c.network,
        purpose: c.purpose,
        why: c.why,
        setup: c.setup,
        ignoreErrors: c.ignoreErrors,
        argv: c.argv,
        effect: effectJson(c),
      })),
  };
}
