// Flavour `libvirt`: libvirt 5.1+ with the iptables backend. Rules live in private chains
// (LIBVIRT_INP/OUT/FWO/FWI/FWX and nat/mangle LIBVIRT_PRT) that a one-time set-up creates and
// hooks into the built-in chains (iptablesSetupPrivateChains, network_iptables.c).

import type { Dump, Family, Rule } from '../model/dump.js';
import { findChain, findTable } from '../model/dump.js';
import { installsRules, type Network } from '../model/network.js';
import { command, ruleFromOptions, toolOf } from './iptables.js';
import { networkCommands, type IptablesEra } from './libvirt-iptables.js';
import type { Command } from './program.js';

export const PRIVATE_CHAINS = {
  input: 'LIBVIRT_INP',
  output: 'LIBVIRT_OUT',
  forwardOut: 'LIBVIRT_FWO',
  forwardIn: 'LIBVIRT_FWI',
  forwardCross: 'LIBVIRT_FWX',
  postrouting: 'LIBVIRT_PRT',
} as const;

/** libvirt 5.1.0 … today (test data identical from 7.0.0 to 11.3.0). */
export function privateChainEra(version: string): IptablesEra {
  return {
    label: `libvirt ${version}`,
    chains: PRIVATE_CHAINS,
    wait: true,
    hostOutput: 'full',
    tftp: true,
    ipv6: true,
    dhcpv6: true,
    checksum: 'dhcp',
    masqueradePorts: 'configurable',
    natAddress: true,
    dontMasquerade: true,
    related: 'conntrack',
    negation: 'before',
    networkText: 'prefix',
  };
}

/** Parent → child hooks, in the order libvirt creates them (filter, then nat, then mangle). */
export const HOOKS: ReadonlyArray<{ table: string; parent: string; child: string }> = [
  { table: 'filter', parent: 'INPUT', child: 'LIBVIRT_INP' },
  { table: 'filter', parent: 'OUTPUT', child: 'LIBVIRT_OUT' },
  { table: 'filter', parent: 'FORWARD', child: 'LIBVIRT_FWO' },
  { table: 'filter', parent: 'FORWARD', child: 'LIBVIRT_FWI' },
  { table: 'filter', parent: 'FORWARD', child: 'LIBVIRT_FWX' },
  { table: 'nat', parent: 'POSTROUTING', child: 'LIBVIRT_PRT' },
  { table: 'mangle', parent: 'POSTROUTING', child: 'LIBVIRT_PRT' },
];

/**
 * The one-time set-up for one family, as libvirt decides it: list each table's rules, create
 * each private chain that is missing and add each jump whose `-A PARENT -j CHILD` line is missing.
 */
export function privateChainSetup(family: Family, current: Dump | undefined, network: string): Command[] {
  const tool = toolOf(family);
  const commands: Command[] = [];
  for (const table of ['filter', 'nat', 'mangle']) {
    commands.push(
      command(
        [tool, '-w', '--table', table, '--list-rules'],
        { kind: 'none' },
        { network, purpose: 'probe', context: { table }, setup: true },
      ),
    );
  }
  for (const table of ['filter', 'nat', 'mangle']) {
    const existing = current ? findTable(current, table) : undefined;
    for (const hook of HOOKS.filter((h) => h.table === table)) {
      if (!findChain(existing, hook.child)) {
        commands.push(
          command(
            [tool, '-w', '--table', table, '--new-chain', hook.child],
            { kind: 'new-chain', family, table, chain: hook.child },
            { network, purpose: 'chain-setup', context: { table, chain: hook.child }, setup: true },
          ),
        );
      }
      if (jumpParent(existing, hook.child) !== hook.parent) {
        const options = ['--jump', hook.child];
        const rule = ruleFromOptions(table, hook.parent, options, family);
        commands.push(
          command(
            [tool, '-w', '--table', table, '--insert', hook.parent, ...options],
            { kind: 'insert', family, table, chain: hook.parent, position: 1, rule },
            {
              network,
              purpose: 'chain-setup',
              context: { table, chain: hook.child, parent: hook.parent },
              setup: true,
            },
          ),
        );
      }
    }
  }
  return commands;
}

/** The chain whose `-A X -j CHILD` line --list-rules shows last (libvirt keeps the last one it reads). */
function jumpParent(table: ReturnType<typeof findTable>, child: string): string | undefined {
  let parent: string | undefined;
  for (const chain of table?.chains ?? []) {
    for (const rule of chain.rules) if (isBareJump(rule, child)) parent = chain.name;
  }
  return parent;
}

/** `-j CHILD` and nothing else: no address, interface, protocol, fragment or module match, no goto. */
function isBareJump(rule: Rule, child: string): boolean {
  const t = rule.target;
  const anyProtocol = rule.protocol === null || (rule.protocol.name === 'all' && !rule.protocol.negated);
  return (
    t !== null &&
    t.name === child &&
    !t.goto &&
    t.options.length === 0 &&
    anyProtocol &&
    rule.matches.length === 0 &&
    rule.source === null &&
    rule.destination === null &&
    rule.inInterface === null &&
    rule.outInterface === null &&
    rule.fragment === null
  );
}

/**
 * Set-up (IPv4 then IPv6, once, before the first network that gets rules), then each network's rules: one batch each,
 * made when it is asked for.
 */
export function* libvirtBatches(
  networks: readonly Network[],
  era: IptablesEra,
  state: { ipv4?: Dump; ipv6?: Dump },
  notes: string[],
): Iterable<readonly Command[]> {
  const first = networks.find((n) => installsRules(n.forward.mode));
  if (first)
    yield [...privateChainSetup('ipv4', state.ipv4, first.name), ...privateChainSetup('ipv6', state.ipv6, first.name)];
  for (const n of networks) yield networkCommands(n, era, notes);
}
