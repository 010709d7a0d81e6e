// Running a program against a host's firewall state, as the kernel would: --insert puts the
// rule at its position (1 = top, so a later network's rules sit above an earlier one's),
// tables and built-in chains appear on first use, refused commands change nothing.

import { BUILTIN_CHAINS, type Chain, type Dump, type Family, type Table } from '../model/dump.js';
import type { NftState, NftStateTable } from './nft-state.js';
import type { Command, Program } from './program.js';

/** What the firewall holds: both iptables families and the nftables ruleset. */
export interface HostState {
  readonly ipv4: Dump;
  readonly ipv6: Dump;
  readonly nft: NftState;
}

export function emptyDump(family: Family, file = '-'): Dump {
  return { file, family, tables: [], comments: [] };
}

export function emptyHostState(): HostState {
  return { ipv4: emptyDump('ipv4'), ipv6: emptyDump('ipv6'), nft: { tables: [] } };
}

/** Order in which iptables-nft-save lists the tables it finds (the order of its table array). */
const NFT_TABLE_ORDER = ['raw', 'mangle', 'filter', 'security', 'nat'];

/**
 * Where a newly created table goes in the dump. iptables-nft-save prints tables in a fixed
 * order; iptables-legacy-save lists the most recently registered table first.
 */
function legacyDump(dump: Dump): boolean {
  if (dump.tables.length === 0) return false;
  return !dump.comments.some((c) => /nf_tables/.test(c.text));
}

function cloneDump(dump: Dump): Dump {
  return {
    file: dump.file,
    family: dump.family,
    comments: [...dump.comments],
    tables: dump.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: [...c.rules] })) })),
  };
}

function cloneNft(ruleset: NftState): NftState {
  return {
    tables: ruleset.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: [...c.rules] })) })),
  };
}

function tableOf(dump: Dump, name: string, legacy: boolean): Table {
  const found = dump.tables.find((t) => t.name === name);
  if (found) return found;
  const chains: Chain[] = (BUILTIN_CHAINS[name] ?? []).map((chain) => ({
    name: chain,
    builtin: true,
    policy: 'ACCEPT',
    counters: null,
    pos: null,
    rules: [],
  }));
  const table: Table = { name, pos: { line: 0, col: 0 }, chains };
  if (legacy) {
    dump.tables.unshift(table);
  } else {
    const rank = (t: string): number => {
      const i = NFT_TABLE_ORDER.indexOf(t);
      return i < 0 ? NFT_TABLE_ORDER.length : i;
    };
    const at = dump.tables.findIndex((t) => rank(t.name) > rank(name));
    dump.tables.splice(at < 0 ? dump.tables.length : at, 0, table);
  }
  return table;
}

function chainOf(table: Table, name: string, command: Command): Chain {
  const chain = table.chains.find((c) => c.name === name);
  if (!chain)
    throw new Error(
      `'${command.argv.join(' ')}' needs chain '${name}' in table '${table.name}', which does not exist (set-up missing?)`,
    );
  return chain;
}

function nftTableOf(ruleset: NftState, family: NftStateTable['family'], name: string, command: Command): NftStateTable {
  const table = ruleset.tables.find((t) => t.family === family && t.name === name);
  if (!table) throw new Error(`'${command.argv.join(' ')}' needs table ${family} ${name}, which does not exist`);
  return table;
}

/** The state after running every command of `program` (or only those `include` keeps) on `base`. */
export function applyProgram(
  program: Program,
  base: HostState,
  include: (c: Command) => boolean = () => true,
): HostState {
  const state: HostState = { ipv4: cloneDump(base.ipv4), ipv6: cloneDump(base.ipv6), nft: cloneNft(base.nft) };
  const legacy = { ipv4: legacyDump(base.ipv4), ipv6: legacyDump(base.ipv6) };
  for (const command of program.commands) {
    if (!include(command)) continue;
    const effect = command.effect;
    switch (effect.kind) {
      case 'none':
      case 'refused':
        break;
      case 'new-chain': {
        const table = tableOf(state[effect.family], effect.table, legacy[effect.family]);
        if (!table.chains.some((c) => c.name === effect.chain))
          table.chains.push({ name: effect.chain, builtin: false, policy: null, counters: null, pos: null, rules: [] });
        break;
      }
      case 'insert': {
        const chain = chainOf(
          tableOf(state[effect.family], effect.table, legacy[effect.family]),
          effect.chain,
          command,
        );
        chain.rules.splice(Math.min(effect.position - 1, chain.rules.length), 0, effect.rule);
        break;
      }
      case 'append':
        chainOf(tableOf(state[effect.family], effect.table, legacy[effect.family]), effect.chain, command).rules.push(
          effect.rule,
        );
        break;
      case 'policy':
        chainOf(tableOf(state[effect.family], effect.table, legacy[effect.family]), effect.chain, command).policy =
          effect.policy;
        break;
      case 'flush':
        chainOf(
          tableOf(state[effect.family], effect.table, legacy[effect.family]),
          effect.chain,
          command,
        ).rules.length = 0;
        break;
      case 'nft-add-table':
        if (!state.nft.tables.some((t) => t.family === effect.family && t.name === effect.table))
          state.nft.tables.push({ family: effect.family, name: effect.table, chains: [] });
        break;
      case 'nft-add-chain': {
        const table = nftTableOf(state.nft, effect.family, effect.table, command);
        if (!table.chains.some((c) => c.name === effect.chain))
          table.chains.push({ name: effect.chain, spec: effect.spec, rules: [] });
        break;
      }
      case 'nft-insert': {
        const chain = nftTableOf(state.nft, effect.family, effect.table, command).chains.find(
          (c) => c.name === effect.chain,
        );
        if (!chain) throw new Error(`'${command.argv.join(' ')}' needs chain ${effect.chain}, which does not exist`);
        chain.rules.unshift({ statement: effect.statement });
        break;
      }
    }
  }
  return state;
}
